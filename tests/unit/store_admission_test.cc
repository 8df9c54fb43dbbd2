// StoreAdmission: a newcomer key is stored only by a node plausibly among
// its k closest, and no source prefix holds more than its share.
#include "dht/store_admission.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace kad::dht {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
constexpr int kK = 20;

net::Endpoint V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return net::Endpoint::Ipv4({a, b, c, d}, 4222);
}

storage::Record Open(const std::string& key, size_t value_bytes = 10,
                     absl::Duration ttl = absl::Hours(1)) {
  return storage::Record{key, std::string(value_bytes, 'v'), 1, kNow + ttl};
}

// Options with a record quota of `records` (a prefix's share: a quarter).
StoreAdmissionOptions Quota(size_t records, size_t bytes = size_t{1} << 30) {
  StoreAdmissionOptions options;
  options.max_records = records;
  options.max_bytes = bytes;
  return options;
}

// Returns how many of `table`'s contacts are closer to `key` than self.
size_t CloserThanSelf(const RoutingTable& table, const std::string& key) {
  const NodeId key_id = NodeId::ForKey(key);
  size_t closer = 0;
  for (const Contact& contact : table.AllContacts()) {
    closer += CloserTo{key_id}(contact.id, table.self());
  }
  return closer;
}

TEST(StoreAdmissionTest, ASparseTableAcceptsEveryKey) {
  RoutingTable table(NodeId::ForKey("self"), RoutingTableOptions{}, kNow);
  std::mt19937_64 gen(1);
  for (int i = 0; i < 2 * kK - 1; ++i) {  // One short of 2k contacts.
    table.OnResponse({NodeId::Random(gen), V4(10, 0, i, 1)}, kNow);
  }
  ASSERT_EQ(table.size(), size_t{2 * kK - 1});
  StoreAdmission admission(Quota(1000), kK, table);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(admission.Check(Open("key" + std::to_string(i)), false,
                              V4(192, 0, 2, 1), kNow),
              StoreRefusal::kNone);
  }
}

TEST(StoreAdmissionTest, RefusesKeysWithTwiceKContactsCloser) {
  RoutingTable table(NodeId::ForKey("self"), RoutingTableOptions{}, kNow);
  std::mt19937_64 gen(2);
  for (int i = 0; i < 2000; ++i) {  // Distinct /24s: no subnet limit.
    table.OnResponse({NodeId::Random(gen), V4(10, i / 250, i % 250, 1)}, kNow);
  }
  ASSERT_GT(table.size(), size_t{3 * kK});
  StoreAdmission admission(Quota(100'000), kK, table);
  int refused = 0;
  int accepted = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "key" + std::to_string(i);
    const bool far = CloserThanSelf(table, key) >= 2 * kK;
    StoreRefusal verdict = admission.Check(Open(key), false, V4(192, 0, 2, 1),
                                           kNow);
    EXPECT_EQ(verdict,
              far ? StoreRefusal::kNotClosest : StoreRefusal::kNone)
        << key;
    EXPECT_EQ(admission.CheckOffered(key, V4(192, 0, 2, 1), kNow), verdict);
    (far ? refused : accepted)++;
  }
  EXPECT_GT(refused, 0);
  // The key at our own id: no contact is closer.
  EXPECT_EQ(admission.Check(Open("self"), false, V4(192, 0, 2, 1), kNow),
            StoreRefusal::kNone);
  // A key held is an update: never refused, however far.
  EXPECT_EQ(admission.Check(Open("key0"), true, V4(192, 0, 2, 1), kNow),
            StoreRefusal::kNone);
}

TEST(StoreAdmissionTest, OnePrefixHoldsAtMostAQuarterOfTheRecordQuota) {
  RoutingTable table(NodeId::ForKey("self"), RoutingTableOptions{}, kNow);
  StoreAdmission admission(Quota(40), kK, table);
  EXPECT_EQ(admission.prefixes(), 0u);  // Empty until something is stored.
  int stored = 0;
  for (int i = 0; i < 30; ++i) {
    // Every host of 198.51.100.0/24 counts as one source.
    const net::Endpoint source = V4(198, 51, 100, 1 + i);
    storage::Record record = Open("attack" + std::to_string(i));
    if (admission.Check(record, false, source, kNow) != StoreRefusal::kNone) {
      EXPECT_EQ(admission.Check(record, false, source, kNow),
                StoreRefusal::kSourceQuota);
      continue;
    }
    admission.OnStored(record, source, kNow);
    ++stored;
  }
  EXPECT_EQ(stored, 10);
  EXPECT_EQ(admission.UsageOf(V4(198, 51, 100, 200)).records, 10u);
  // Another /24 stores; loopback is exempt and uncharged.
  EXPECT_EQ(admission.Check(Open("honest"), false, V4(198, 51, 101, 1), kNow),
            StoreRefusal::kNone);
  for (int i = 0; i < 20; ++i) {
    storage::Record record = Open("local" + std::to_string(i));
    ASSERT_EQ(admission.Check(record, false, V4(127, 0, 0, 1), kNow),
              StoreRefusal::kNone);
    admission.OnStored(record, V4(127, 0, 0, 1), kNow);
  }
  EXPECT_EQ(admission.prefixes(), 1u);
  EXPECT_EQ(admission.charged(), 10u);
}

TEST(StoreAdmissionTest, OnePrefixHoldsAtMostAQuarterOfTheByteQuota) {
  RoutingTable table(NodeId::ForKey("self"), RoutingTableOptions{}, kNow);
  const size_t footprint = Open("b00", 500).footprint();
  StoreAdmission admission(Quota(1000, 4 * 3 * footprint), kK, table);
  const net::Endpoint source = V4(198, 51, 100, 1);
  for (int i = 0; i < 3; ++i) {
    storage::Record record = Open("b0" + std::to_string(i), 500);
    ASSERT_EQ(admission.Check(record, false, source, kNow),
              StoreRefusal::kNone);
    admission.OnStored(record, source, kNow);
  }
  EXPECT_EQ(admission.Check(Open("b03", 500), false, source, kNow),
            StoreRefusal::kSourceQuota);
  EXPECT_EQ(admission.UsageOf(source).bytes, 3 * footprint);
}

TEST(StoreAdmissionTest, IPv6SourcesAreCountedByTheir64) {
  RoutingTable table(NodeId::ForKey("self"), RoutingTableOptions{}, kNow);
  StoreAdmission admission(Quota(4), kK, table);  // One record per prefix.
  const net::Endpoint a = *net::Endpoint::Parse("[2001:db8:1:2::1]:4222");
  const net::Endpoint same_64 = *net::Endpoint::Parse("[2001:db8:1:2::99]:1");
  const net::Endpoint other_64 = *net::Endpoint::Parse("[2001:db8:1:3::1]:1");
  admission.OnStored(Open("first"), a, kNow);
  EXPECT_EQ(admission.Check(Open("second"), false, same_64, kNow),
            StoreRefusal::kSourceQuota);
  EXPECT_EQ(admission.Check(Open("second"), false, other_64, kNow),
            StoreRefusal::kNone);
}

TEST(StoreAdmissionTest, ChargesLeaveWithTheRecords) {
  RoutingTable table(NodeId::ForKey("self"), RoutingTableOptions{}, kNow);
  StoreAdmission admission(Quota(8), kK, table);  // Two per prefix.
  const net::Endpoint source = V4(198, 51, 100, 1);
  admission.OnStored(Open("short", 10, absl::Minutes(1)), source, kNow);
  admission.OnStored(Open("long", 10, absl::Hours(1)), source, kNow);
  EXPECT_EQ(admission.Check(Open("third"), false, source, kNow),
            StoreRefusal::kSourceQuota);
  // Once "short" has expired, its place is free again.
  const absl::Time later = kNow + absl::Minutes(2);
  storage::Record third{"third", "v", 1, later + absl::Hours(1)};
  EXPECT_EQ(admission.Check(third, false, source, later), StoreRefusal::kNone);
  EXPECT_EQ(admission.UsageOf(source).records, 1u);
  // So is a record the store no longer holds (a Check of it says so).
  EXPECT_EQ(admission.Check(Open("long"), false, source, later),
            StoreRefusal::kNone);
  EXPECT_EQ(admission.UsageOf(source).records, 0u);
  EXPECT_EQ(admission.prefixes(), 0u);
  EXPECT_EQ(admission.charged(), 0u);
}

TEST(StoreAdmissionTest, TheChargeFollowsTheLatestWriter) {
  RoutingTable table(NodeId::ForKey("self"), RoutingTableOptions{}, kNow);
  StoreAdmission admission(Quota(8), kK, table);
  const net::Endpoint first = V4(198, 51, 100, 1);
  const net::Endpoint owner_moved = V4(203, 0, 113, 5);
  admission.OnStored(Open("k"), first, kNow);
  admission.OnStored(Open("k2"), first, kNow);
  // The owner updates from elsewhere: not refused (the key is held), and
  // the record is now charged there.
  storage::Record update = Open("k", 40);
  update.seq = 2;
  ASSERT_EQ(admission.Check(update, true, owner_moved, kNow),
            StoreRefusal::kNone);
  admission.OnStored(update, owner_moved, kNow);
  EXPECT_EQ(admission.UsageOf(first).records, 1u);
  EXPECT_EQ(admission.UsageOf(owner_moved).records, 1u);
  EXPECT_EQ(admission.UsageOf(owner_moved).bytes, update.footprint());
  EXPECT_EQ(admission.charged(), 2u);
}

}  // namespace
}  // namespace kad::dht
