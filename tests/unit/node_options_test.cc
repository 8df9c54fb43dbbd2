#include "dht/node_options.h"

#include "gtest/gtest.h"

namespace kad::dht {
namespace {

TEST(NodeOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateNodeOptions(NodeOptions{}).ok());
}

TEST(NodeOptionsTest, BucketSizeIsLimitedByWhatOneAnswerCarries) {
  NodeOptions options;
  options.bucket_size = static_cast<int>(kMaxContactsPerMessage);
  EXPECT_TRUE(ValidateNodeOptions(options).ok());
  options.bucket_size = static_cast<int>(kMaxContactsPerMessage) + 1;
  absl::Status status = ValidateNodeOptions(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("bucket_size"), std::string::npos);
  options.bucket_size = 0;
  EXPECT_FALSE(ValidateNodeOptions(options).ok());
}

TEST(NodeOptionsTest, ParallelismMustBeBetweenOneAndK) {
  NodeOptions options;
  options.parallelism = 0;
  EXPECT_FALSE(ValidateNodeOptions(options).ok());
  options.parallelism = kMaxParallelism + 1;
  EXPECT_FALSE(ValidateNodeOptions(options).ok());
  options.parallelism = kMaxParallelism;
  EXPECT_TRUE(ValidateNodeOptions(options).ok());
}

TEST(NodeOptionsTest, DisjointPathsAreBetweenOneAndTheirLimitAndAtMostK) {
  NodeOptions options;
  options.disjoint_paths = 0;
  EXPECT_FALSE(ValidateNodeOptions(options).ok());
  options.disjoint_paths = kMaxDisjointPaths;
  EXPECT_TRUE(ValidateNodeOptions(options).ok());
  options.disjoint_paths = kMaxDisjointPaths + 1;
  absl::Status status = ValidateNodeOptions(options);
  EXPECT_NE(status.message().find("disjoint_paths"), std::string::npos);
  options.bucket_size = 4;  // Every path needs a share of the k seeds.
  options.lookup_max_requests = 100;
  options.disjoint_paths = 5;
  EXPECT_FALSE(ValidateNodeOptions(options).ok());
  options.disjoint_paths = 4;
  EXPECT_TRUE(ValidateNodeOptions(options).ok());
}

TEST(NodeOptionsTest, PerSubnetLimitsMustBePositive) {
  for (int NodeOptions::*field :
       {&NodeOptions::max_per_subnet_in_bucket,
        &NodeOptions::max_per_subnet_in_table,
        &NodeOptions::lookup_max_per_subnet}) {
    NodeOptions options;
    options.*field = 0;
    EXPECT_FALSE(ValidateNodeOptions(options).ok());
    options.*field = 1;
    EXPECT_TRUE(ValidateNodeOptions(options).ok());
  }
}

TEST(NodeOptionsTest, ExemptionDefaultsToLoopbackOnly) {
  NodeOptions options;
  EXPECT_TRUE(net::AnyContains(options.prefix_limit_exempt,
                               *net::Endpoint::Parse("127.0.0.1:1")));
  EXPECT_TRUE(net::AnyContains(options.prefix_limit_exempt,
                               *net::Endpoint::Parse("[::1]:1")));
  EXPECT_FALSE(net::AnyContains(options.prefix_limit_exempt,
                                *net::Endpoint::Parse("10.0.0.1:1")));
  EXPECT_FALSE(net::AnyContains(options.prefix_limit_exempt,
                                *net::Endpoint::Parse("192.168.1.1:1")));
}

TEST(NodeOptionsTest, LookupBoundsLetTheKClosestBeAskedAndTimeRun) {
  NodeOptions options;
  options.lookup_max_requests = options.bucket_size - 1;
  absl::Status status = ValidateNodeOptions(options);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("lookup_max_requests"), std::string::npos);
  options.lookup_max_requests = options.bucket_size;
  EXPECT_TRUE(ValidateNodeOptions(options).ok());
  options.lookup_deadline = absl::ZeroDuration();
  EXPECT_FALSE(ValidateNodeOptions(options).ok());
}

TEST(NodeOptionsTest, TimeoutsMustBeOrdered) {
  NodeOptions options;
  options.min_rpc_timeout = absl::Seconds(3);  // Above initial and max.
  EXPECT_FALSE(ValidateNodeOptions(options).ok());
  options = NodeOptions{};
  options.rpc_give_up_after_timeouts = 0;
  EXPECT_FALSE(ValidateNodeOptions(options).ok());
}

TEST(NodeOptionsTest, OptionalMaintenanceMayBeOffButNotZero) {
  NodeOptions options;
  options.republish_interval = absl::InfiniteDuration();
  options.replicate_interval = absl::InfiniteDuration();
  options.handoff_delay = absl::InfiniteDuration();
  EXPECT_TRUE(ValidateNodeOptions(options).ok());
  options.republish_interval = absl::ZeroDuration();  // Would spin.
  EXPECT_FALSE(ValidateNodeOptions(options).ok());
}


TEST(NodeOptionsTest, StoreAdmissionSharesAQuarterOfTheStoreQuotas) {
  NodeOptions options;
  ASSERT_TRUE(options.store_admission.has_value());
  EXPECT_EQ(options.store_admission->prefix_share_divisor, 4);
  EXPECT_EQ(options.store_admission->closeness_slack, options.bucket_size);
  EXPECT_EQ(options.store_admission->max_records,
            storage::MemoryStoreOptions{}.max_records);
  options.store_admission->prefix_share_divisor = 0;
  EXPECT_EQ(ValidateNodeOptions(options).code(),
            absl::StatusCode::kInvalidArgument);
  options.store_admission->prefix_share_divisor = 1;
  options.store_admission->closeness_slack = -1;
  EXPECT_EQ(ValidateNodeOptions(options).code(),
            absl::StatusCode::kInvalidArgument);
  options.store_admission.reset();  // Off is valid.
  EXPECT_TRUE(ValidateNodeOptions(options).ok());
}

}  // namespace
}  // namespace kad::dht
