// The routing table's preference for contacts whose ids are bound to their
// addresses (dht/id_binding.h), and its refusal of the others when id
// binding is enforced.
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dht/id_binding.h"
#include "dht/routing_table.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

using Kind = RoutingTable::Update::Kind;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

// A table with bucket size 4, and contacts on public addresses, each on a
// /24 of its own (198.51.N.7) so that per-prefix limits never bind.
struct Harness {
  explicit Harness(bool enforce) : gen(11), self(NodeId::Random(gen)) {
    RoutingTableOptions options;
    options.bucket_size = 4;
    options.presumed_alive_for = absl::ZeroDuration();  // Eager pings.
    options.id_binding.enforce = enforce;
    table.emplace(self, options, kStart);
  }

  net::Endpoint NextAddress() {
    ++subnet;
    return *net::Endpoint::Parse(absl::StrCat(
        subnet / 250, ".51.", subnet % 250, ".7:4222"));
  }
  // An unbound contact whose id shares exactly `cpl` bits with ours.
  Contact Unbound(int cpl) {
    return {NodeId::RandomWithPrefix(self, cpl, gen), NextAddress()};
  }
  // A bound contact whose id differs from ours in its first bit.
  Contact BoundFar() {
    for (;;) {
      net::Endpoint address = NextAddress();
      NodeId id = RandomBoundId(address, {}, gen);
      if (self.CommonPrefixLength(id) == 0) return {id, address};
    }
  }
  RoutingTable::Update Answer(const Contact& c) {
    now += absl::Seconds(1);
    return table->OnResponse(c, now);
  }
  bool Holds(const Contact& c) const {
    std::optional<RoutingEntry> entry = table->Find(c.id);
    return entry.has_value() && entry->contact == c;
  }
  // Fills the far bucket (CPL 0) with `far`, then splits off bucket 1.
  void FillFar(const std::vector<Contact>& far) {
    for (const Contact& c : far) ASSERT_EQ(Answer(c).kind, Kind::kAdded);
    ASSERT_EQ(Answer(Unbound(1)).kind, Kind::kAdded);
    ASSERT_EQ(table->Buckets().size(), 2u);
  }

  std::mt19937_64 gen;
  NodeId self;
  std::optional<RoutingTable> table;
  absl::Time now = kStart;
  int subnet = 300;  // From 1.51.50.7 on: public addresses.
};

TEST(RoutingTableBindingTest, EnforcedBindingAdmitsNoUnboundContact) {
  Harness h(/*enforce=*/true);
  const Contact unbound = h.Unbound(0);
  EXPECT_EQ(h.Answer(unbound).kind, Kind::kRejected);
  EXPECT_FALSE(h.table->Find(unbound.id).has_value());
  const Contact bound = h.BoundFar();
  EXPECT_EQ(h.Answer(bound).kind, Kind::kAdded);
  // Loopback cannot be verified: exempt, admitted.
  const Contact local{NodeId::Random(h.gen),
                      net::Endpoint::Ipv4({127, 0, 0, 1}, 5000)};
  EXPECT_EQ(h.Answer(local).kind, Kind::kAdded);
}

TEST(RoutingTableBindingTest, WithoutEnforcementUnboundContactsEnter) {
  Harness h(/*enforce=*/false);
  const Contact unbound = h.Unbound(0);
  EXPECT_EQ(h.Answer(unbound).kind, Kind::kAdded);
  EXPECT_TRUE(h.Holds(unbound));
}

TEST(RoutingTableBindingTest, BoundNewcomerTakesTheOldestUnboundPlace) {
  Harness h(/*enforce=*/false);
  const std::vector<Contact> far = {h.Unbound(0), h.BoundFar(), h.Unbound(0),
                                    h.Unbound(0)};
  h.FillFar(far);
  const Contact bound = h.BoundFar();
  EXPECT_EQ(h.Answer(bound).kind, Kind::kAdded);
  EXPECT_TRUE(h.Holds(bound));
  EXPECT_FALSE(h.Holds(far[0]));  // The least recently seen unbound one.
  EXPECT_TRUE(h.Holds(far[1]));
  EXPECT_TRUE(h.Holds(far[2]));
}

TEST(RoutingTableBindingTest, UnboundNewcomerNeverReplacesABoundEntry) {
  Harness h(/*enforce=*/false);
  const std::vector<Contact> far = {h.BoundFar(), h.BoundFar(), h.BoundFar(),
                                    h.BoundFar()};
  h.FillFar(far);
  const Contact unbound = h.Unbound(0);
  RoutingTable::Update update = h.Answer(unbound);
  EXPECT_EQ(update.kind, Kind::kCached);
  EXPECT_FALSE(update.ping_to_evict.has_value());  // Nobody questioned.
  for (const Contact& c : far) EXPECT_TRUE(h.Holds(c));
  // A bound newcomer with all entries bound waits its turn as usual.
  update = h.Answer(h.BoundFar());
  EXPECT_EQ(update.kind, Kind::kCached);
  EXPECT_EQ(update.ping_to_evict, far[0]);
}

TEST(RoutingTableBindingTest, ReplacementCachePromotesBoundCandidatesFirst) {
  Harness h(/*enforce=*/false);
  const std::vector<Contact> far = {h.BoundFar(), h.BoundFar(), h.BoundFar(),
                                    h.BoundFar()};
  h.FillFar(far);
  const Contact bound = h.BoundFar();
  ASSERT_EQ(h.Answer(bound).kind, Kind::kCached);
  const Contact unbound = h.Unbound(0);  // Newer, but unbound.
  ASSERT_EQ(h.Answer(unbound).kind, Kind::kCached);
  h.table->OnFailure(far[0].id, h.now);  // Dropped: a candidate waits.
  EXPECT_FALSE(h.Holds(far[0]));
  EXPECT_TRUE(h.Holds(bound));
  EXPECT_FALSE(h.Holds(unbound));
}

}  // namespace
}  // namespace kad::dht
