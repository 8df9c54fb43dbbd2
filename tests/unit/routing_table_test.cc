#include "dht/routing_table.h"

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace kad::dht {
namespace {

using Kind = RoutingTable::Update::Kind;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

net::Endpoint Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return net::Endpoint::Ipv4({a, b, c, d}, 4222);
}

// A global IPv6 endpoint (subnet limits apply): host `host` of the /64
// 2001:db8:SSSS:SSSS::/64 numbered `subnet`.
net::Endpoint Ipv6(uint32_t subnet, uint64_t host, uint16_t port = 4222) {
  std::array<uint8_t, 16> address = {0x20, 0x01, 0x0d, 0xb8};
  for (int i = 0; i < 4; ++i) {
    address[4 + i] = static_cast<uint8_t>(subnet >> (24 - 8 * i));
  }
  for (int i = 0; i < 8; ++i) {
    address[8 + i] = static_cast<uint8_t>(host >> (56 - 8 * i));
  }
  return net::Endpoint::Ipv6(address, port);
}

// Options that hand out the least-recently-seen entry of a full bucket
// for pinging however recently it was seen, so that eviction can be tested
// on the harness's one-second ticks.
RoutingTableOptions EagerPings(RoutingTableOptions options = {}) {
  options.presumed_alive_for = absl::ZeroDuration();
  return options;
}

// A table with a clock that ticks one second per contact it makes, and
// contacts on distinct loopback endpoints (exempt from subnet limits).
struct Harness {
  explicit Harness(RoutingTableOptions options = EagerPings(),
                   uint64_t seed = 7)
      : gen(seed), self(NodeId::Random(gen)), table(self, options, kStart) {}

  Contact At(int cpl, net::Endpoint endpoint) {
    return {NodeId::RandomWithPrefix(self, cpl, gen), endpoint};
  }
  Contact Local(int cpl) {
    ++next_port;
    return At(cpl, net::Endpoint::Ipv4({127, 0, 0, 1}, next_port));
  }
  RoutingTable::Update Answer(const Contact& c) {
    now += absl::Seconds(1);
    return table.OnResponse(c, now);
  }
  // Leaves bucket 0 full (k contacts with CPL 0, returned least recently
  // seen first) and unable to split: a CPL-1 contact opens bucket 1.
  std::vector<Contact> FillFarBucket() {
    std::vector<Contact> far;
    for (int i = 0; i < 20; ++i) {
      far.push_back(Local(0));
      EXPECT_EQ(Answer(far.back()).kind, Kind::kAdded);
    }
    EXPECT_EQ(Answer(Local(1)).kind, Kind::kAdded);
    EXPECT_EQ(table.Buckets().size(), 2u);
    return far;
  }

  std::mt19937_64 gen;
  NodeId self;
  RoutingTable table;
  absl::Time now = kStart;
  uint16_t next_port = 1000;
};

TEST(RoutingTableTest, NeverAddsSelf) {
  Harness h;
  Contact me{h.self, Ipv4(127, 0, 0, 1)};
  EXPECT_EQ(h.Answer(me).kind, Kind::kRejected);
  EXPECT_FALSE(h.table.WouldAdmit(h.self));
  EXPECT_EQ(h.table.size(), 0u);
  EXPECT_FALSE(h.table.Find(h.self).has_value());
}

TEST(RoutingTableTest, RequestsNeverAddButRefreshKnownContacts) {
  Harness h;
  Contact c = h.Local(0);
  EXPECT_FALSE(h.table.OnRequest(c, kStart));
  EXPECT_EQ(h.table.size(), 0u);
  EXPECT_TRUE(h.table.WouldAdmit(c.id));

  EXPECT_EQ(h.Answer(c).kind, Kind::kAdded);
  absl::Time later = h.now + absl::Minutes(5);
  EXPECT_FALSE(h.table.OnRequest({c.id, Ipv4(127, 0, 0, 2)}, later));
  EXPECT_EQ(h.table.Find(c.id)->last_seen, h.now);
  EXPECT_TRUE(h.table.OnRequest(c, later));
  EXPECT_EQ(h.table.Find(c.id)->last_seen, later);
}

TEST(RoutingTableTest, SplitsOnlyTheBucketHoldingOwnId) {
  Harness h;
  h.FillFarBucket();
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(h.Answer(h.Local(0)).kind, Kind::kCached);
  }
  EXPECT_EQ(h.table.Buckets().size(), 2u);
  EXPECT_EQ(h.table.Buckets()[0].size, 20u);
  // The last bucket, which holds our id, keeps splitting as contacts nearer
  // to us arrive.
  for (int cpl = 2; cpl <= 10; ++cpl) {
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(h.Answer(h.Local(cpl)).kind, Kind::kAdded);
    }
  }
  EXPECT_EQ(h.table.Buckets().size(), 11u);
  EXPECT_EQ(h.table.size(), 20u + 1 + 9 * 20);
}

TEST(RoutingTableTest, SplitsRepeatedlyUntilNewContactFits) {
  Harness h;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(h.Answer(h.Local(3)).kind, Kind::kAdded);
  }
  EXPECT_EQ(h.table.Buckets().size(), 1u);
  EXPECT_EQ(h.Answer(h.Local(6)).kind, Kind::kAdded);
  // Bucket 3 keeps the twenty CPL-3 contacts; the newcomer opens bucket 4.
  std::vector<BucketInfo> buckets = h.table.Buckets();
  ASSERT_EQ(buckets.size(), 5u);
  EXPECT_EQ(buckets[3].size, 20u);
  EXPECT_EQ(buckets[4].size, 1u);
}

TEST(RoutingTableTest, WouldAdmitPredictsSplits) {
  Harness h;
  for (int i = 0; i < 20; ++i) h.Answer(h.Local(3));
  Contact same_level = h.Local(3);
  Contact farther = h.Local(0);
  Contact nearer = h.Local(9);
  EXPECT_FALSE(h.table.WouldAdmit(same_level.id));
  EXPECT_TRUE(h.table.WouldAdmit(farther.id));
  EXPECT_TRUE(h.table.WouldAdmit(nearer.id));
  EXPECT_EQ(h.Answer(same_level).kind, Kind::kCached);
  EXPECT_EQ(h.Answer(farther).kind, Kind::kAdded);
  EXPECT_EQ(h.Answer(nearer).kind, Kind::kAdded);
}

TEST(RoutingTableTest, KeepsLiveContactWhenBucketIsFull) {
  Harness h;
  std::vector<Contact> far = h.FillFarBucket();
  Contact newcomer = h.Local(0);
  EXPECT_FALSE(h.table.WouldAdmit(newcomer.id));
  RoutingTable::Update update = h.Answer(newcomer);
  EXPECT_EQ(update.kind, Kind::kCached);
  EXPECT_EQ(update.ping_to_evict, far[0]);  // Least recently seen.
  EXPECT_FALSE(h.table.Find(newcomer.id).has_value());
  for (const Contact& c : far) EXPECT_TRUE(h.table.Find(c.id).has_value());
  EXPECT_EQ(h.table.Buckets()[0].replacements, 1u);
  // It answered the ping: it stays, and the newcomer stays a candidate.
  EXPECT_EQ(h.Answer(far[0]).kind, Kind::kRefreshed);
  EXPECT_TRUE(h.table.Find(far[0].id).has_value());
  EXPECT_FALSE(h.table.Find(newcomer.id).has_value());
}

TEST(RoutingTableTest, DoesNotAskToPingAnEntrySeenRecently) {
  Harness h{RoutingTableOptions{}};  // Presumed alive for 15 minutes.
  std::vector<Contact> far = h.FillFarBucket();
  RoutingTable::Update update = h.Answer(h.Local(0));
  EXPECT_EQ(update.kind, Kind::kCached);
  EXPECT_FALSE(update.ping_to_evict.has_value());
  EXPECT_EQ(h.table.Buckets()[0].replacements, 1u);
  // Silent for a second short of 15 minutes: still presumed alive.
  h.now = h.table.Find(far[0].id)->last_seen + absl::Minutes(15) -
          absl::Seconds(2);  // Answer() ticks one second.
  EXPECT_FALSE(h.Answer(h.Local(0)).ping_to_evict.has_value());
  // Silent for 15 minutes: questioned.
  EXPECT_EQ(h.Answer(h.Local(0)).ping_to_evict, far[0]);
}

TEST(RoutingTableTest, DoesNotAskToPingTheSameContactTwice) {
  Harness h;
  std::vector<Contact> far = h.FillFarBucket();
  EXPECT_EQ(h.Answer(h.Local(0)).ping_to_evict, far[0]);
  EXPECT_EQ(h.Answer(h.Local(0)).ping_to_evict, far[1]);
  h.Answer(far[0]);  // Verdict in; far[0] is now the most recently seen.
  EXPECT_EQ(h.Answer(h.Local(0)).ping_to_evict, far[2]);
  // Once every other entry has answered too, far[0] is the oldest again and
  // may be questioned anew.
  for (int i = 1; i < 20; ++i) h.Answer(far[i]);
  EXPECT_EQ(h.Answer(h.Local(0)).ping_to_evict, far[0]);
}

TEST(RoutingTableTest, PromotedCandidateIsOrderedByWhenItWasSeen) {
  Harness h;
  std::vector<Contact> far = h.FillFarBucket();
  Contact candidate = h.Local(0);
  absl::Time cached_at = h.now + absl::Seconds(1);
  h.Answer(candidate);
  for (int i = 1; i < 20; ++i) h.Answer(far[i]);  // All seen after it.
  h.table.OnFailure(far[0].id, h.now);
  EXPECT_EQ(h.table.Find(candidate.id)->last_seen, cached_at);
  // The candidate is now the least recently seen entry.
  EXPECT_EQ(h.Answer(h.Local(0)).ping_to_evict, candidate);
}

TEST(RoutingTableTest, PromotesReplacementWhenEvictedContactFails) {
  Harness h;
  std::vector<Contact> far = h.FillFarBucket();
  Contact newcomer = h.Local(0);
  RoutingTable::Update update = h.Answer(newcomer);
  ASSERT_TRUE(update.ping_to_evict.has_value());
  h.table.OnFailure(update.ping_to_evict->id, h.now);
  EXPECT_FALSE(h.table.Find(far[0].id).has_value());
  ASSERT_TRUE(h.table.Find(newcomer.id).has_value());
  EXPECT_EQ(h.table.Find(newcomer.id)->contact, newcomer);
  EXPECT_EQ(h.table.Buckets()[0].size, 20u);
  EXPECT_EQ(h.table.Buckets()[0].replacements, 0u);
}

TEST(RoutingTableTest, ReplacesContactAfterRepeatedFailures) {
  Harness h;
  Contact c = h.Local(0);
  h.Answer(c);
  h.table.OnFailure(c.id, h.now);
  h.table.OnFailure(c.id, h.now);
  ASSERT_TRUE(h.table.Find(c.id).has_value());
  EXPECT_EQ(h.table.Find(c.id)->failures, 2);
  h.table.OnFailure(c.id, h.now);
  EXPECT_FALSE(h.table.Find(c.id).has_value());
  EXPECT_EQ(h.table.size(), 0u);
  // Its endpoint is free again for another id.
  EXPECT_EQ(h.Answer({h.Local(0).id, c.endpoint}).kind, Kind::kAdded);
}

TEST(RoutingTableTest, ResponseResetsFailureCount) {
  Harness h;
  Contact c = h.Local(0);
  h.Answer(c);
  h.table.OnFailure(c.id, h.now);
  h.table.OnFailure(c.id, h.now);
  EXPECT_EQ(h.Answer(c).kind, Kind::kRefreshed);
  EXPECT_EQ(h.table.Find(c.id)->failures, 0);
  h.table.OnFailure(c.id, h.now);
  EXPECT_TRUE(h.table.Find(c.id).has_value());
}

TEST(RoutingTableTest, FailingCandidateLeavesReplacementCache) {
  Harness h;
  h.FillFarBucket();
  Contact candidate = h.Local(0);
  h.Answer(candidate);
  EXPECT_EQ(h.table.Buckets()[0].replacements, 1u);
  h.table.OnFailure(candidate.id, h.now);
  EXPECT_EQ(h.table.Buckets()[0].replacements, 0u);
  EXPECT_EQ(h.table.Buckets()[0].size, 20u);
}

TEST(RoutingTableTest, ReplacementCacheKeepsMostRecentCandidates) {
  Harness h;
  std::vector<Contact> far = h.FillFarBucket();
  std::vector<Contact> candidates;
  for (int i = 0; i < 10; ++i) {
    candidates.push_back(h.Local(0));
    h.Answer(candidates.back());
  }
  h.Answer(candidates[9]);  // A duplicate is not cached twice.
  EXPECT_EQ(h.table.Buckets()[0].replacements, 8u);
  // Each failure promotes the most recent candidate left.
  for (int i = 0; i < 8; ++i) {
    h.table.OnFailure(far[i].id, h.now);
    EXPECT_TRUE(h.table.Find(candidates[9 - i].id).has_value()) << i;
  }
  EXPECT_EQ(h.table.Buckets()[0].replacements, 0u);
  EXPECT_FALSE(h.table.Find(candidates[0].id).has_value());
  EXPECT_FALSE(h.table.Find(candidates[1].id).has_value());
}

// The hijack of issue 12: a node claiming a known id from another endpoint
// must not take the entry over while the real one still answers.
TEST(RoutingTableTest, ResponseFromNewEndpointDoesNotMoveALiveContact) {
  Harness h;
  Contact c = h.Local(0);
  h.Answer(c);
  const absl::Time seen = h.now;
  Contact impostor{c.id, Ipv4(127, 0, 0, 9)};
  RoutingTable::Update update = h.Answer(impostor);
  EXPECT_EQ(update.kind, Kind::kRejected);
  // The caller is asked to check the old endpoint, once.
  ASSERT_TRUE(update.ping_to_evict.has_value());
  EXPECT_EQ(*update.ping_to_evict, c);
  EXPECT_FALSE(h.Answer(impostor).ping_to_evict.has_value());
  EXPECT_EQ(h.table.Find(c.id)->contact.endpoint, c.endpoint);
  EXPECT_EQ(h.table.Find(c.id)->last_seen, seen);
  // The real node answers the check: the impostor is still refused, and
  // its endpoint stays free of the id.
  EXPECT_EQ(h.Answer(c).kind, Kind::kRefreshed);
  EXPECT_EQ(h.Answer(impostor).kind, Kind::kRejected);
  EXPECT_EQ(h.table.Find(c.id)->contact, c);
  EXPECT_EQ(h.table.size(), 1u);
}

TEST(RoutingTableTest, IdMovesOnlyAfterItsOldEndpointFailed) {
  Harness h;
  Contact c = h.Local(0);
  h.Answer(c);
  Contact moved{c.id, Ipv4(127, 0, 0, 9)};
  EXPECT_EQ(h.Answer(moved).kind, Kind::kRejected);
  h.table.OnFailure(c, h.now);  // The old endpoint did not answer.
  EXPECT_EQ(h.Answer(moved).kind, Kind::kRefreshed);
  EXPECT_EQ(h.table.Find(c.id)->contact.endpoint, moved.endpoint);
  EXPECT_EQ(h.table.Find(c.id)->failures, 0);
  // The old endpoint is free for another id; the new one is taken.
  EXPECT_EQ(h.Answer({h.Local(0).id, c.endpoint}).kind, Kind::kAdded);
  EXPECT_EQ(h.Answer({h.Local(0).id, moved.endpoint}).kind, Kind::kRejected);
}

TEST(RoutingTableTest, FailureAtAnotherEndpointIsNotChargedToTheEntry) {
  RoutingTableOptions options = EagerPings();
  options.max_failures = 1;
  Harness h(options);
  Contact c = h.Local(0);
  h.Answer(c);
  // Requests to an address a stranger gave for this id went unanswered.
  h.table.OnFailure(Contact{c.id, Ipv4(127, 0, 0, 9)}, h.now);
  ASSERT_TRUE(h.table.Find(c.id).has_value());
  EXPECT_EQ(h.table.Find(c.id)->failures, 0);
  h.table.OnFailure(c, h.now);
  EXPECT_FALSE(h.table.Find(c.id).has_value());
}

TEST(RoutingTableTest, KeepsLastSeenInWholeSecondsSinceTheTableWasMade) {
  Harness h;
  Contact c = h.Local(0);
  h.table.OnResponse(c, kStart + absl::Milliseconds(2999));
  EXPECT_EQ(h.table.Find(c.id)->last_seen, kStart + absl::Seconds(2));
  // Times before the table was made count as that moment.
  h.table.OnRequest(c, kStart - absl::Hours(1));
  EXPECT_EQ(h.table.Find(c.id)->last_seen, kStart);
}

TEST(RoutingTableTest, EndpointFreedByADroppedContactCanBeReused) {
  RoutingTableOptions options;
  options.max_failures = 1;
  Harness h(options);
  Contact a = h.Local(0);
  h.Answer(a);
  h.table.OnFailure(a.id, h.now);
  ASSERT_FALSE(h.table.Find(a.id).has_value());
  Contact b{h.Local(0).id, a.endpoint};
  EXPECT_EQ(h.Answer(b).kind, Kind::kAdded);
}

TEST(RoutingTableTest, RejectsEndpointOwnedByAnotherId) {
  Harness h;
  Contact a = h.Local(0);
  Contact b = h.Local(1);
  h.Answer(a);
  h.Answer(b);
  EXPECT_EQ(h.Answer({h.Local(0).id, a.endpoint}).kind, Kind::kRejected);
  EXPECT_EQ(h.Answer({b.id, a.endpoint}).kind, Kind::kRejected);
  EXPECT_EQ(h.table.Find(b.id)->contact.endpoint, b.endpoint);
  EXPECT_EQ(h.table.size(), 2u);
}

TEST(RoutingTableTest, RejectsEveryTakenEndpointInEveryBucket) {
  // EndpointTaken skips buckets by a 64-bit filter of their endpoints: a
  // full table, IPv4 and IPv6, with entries dropped along the way, must
  // still refuse each live entry's endpoint to a newcomer, and free each
  // dropped one.
  RoutingTableOptions options;
  options.max_failures = 1;
  options.prefix_limit_exempt = {};  // Ipv6() hosts: each in its own /64.
  Harness h(options, 99);
  std::uniform_int_distribution<int> cpl(0, 12);
  for (uint64_t i = 0; i < 400; ++i) {
    Contact c = i % 3 == 0 ? h.At(cpl(h.gen), Ipv6(static_cast<uint32_t>(i), 1))
                           : h.Local(cpl(h.gen));
    h.Answer(c);
  }
  auto expect_all_taken = [&h] {
    const std::vector<Contact> live = h.table.AllContacts();
    for (const Contact& entry : live) {
      // Deep in our own range: a bucket with room, so only the endpoint
      // check can refuse it.
      Contact newcomer{NodeId::RandomWithPrefix(h.self, 40, h.gen),
                       entry.endpoint};
      ASSERT_TRUE(h.table.WouldAdmit(newcomer.id));
      EXPECT_EQ(h.Answer(newcomer).kind, Kind::kRejected)
          << entry.endpoint.ToString();
    }
    EXPECT_EQ(h.table.AllContacts(), live);
  };
  std::vector<Contact> entries = h.table.AllContacts();
  ASSERT_GT(entries.size(), 100u);
  expect_all_taken();
  std::vector<Contact> dropped;
  for (size_t i = 0; i < entries.size(); i += 4) {
    h.table.OnFailure(entries[i].id, h.now);
    if (!h.table.Find(entries[i].id)) dropped.push_back(entries[i]);
  }
  ASSERT_GT(dropped.size(), 20u);
  expect_all_taken();
  int reused = 0;
  for (const Contact& gone : dropped) {
    Contact newcomer{NodeId::RandomWithPrefix(h.self, 40 + reused, h.gen),
                     gone.endpoint};
    if (!h.table.WouldAdmit(newcomer.id)) break;
    EXPECT_EQ(h.Answer(newcomer).kind, Kind::kAdded)
        << gone.endpoint.ToString();
    ++reused;
  }
  EXPECT_GT(reused, 5);
}

TEST(RoutingTableTest, RejectsThirdContactFromSameSlash24) {
  Harness h;
  EXPECT_EQ(h.Answer(h.At(0, Ipv4(203, 0, 113, 1))).kind, Kind::kAdded);
  EXPECT_EQ(h.Answer(h.At(0, Ipv4(203, 0, 113, 2))).kind, Kind::kAdded);
  EXPECT_EQ(h.Answer(h.At(0, Ipv4(203, 0, 113, 3))).kind, Kind::kRejected);
  EXPECT_EQ(h.Answer(h.At(0, Ipv4(203, 0, 114, 3))).kind, Kind::kAdded);
  EXPECT_EQ(h.table.size(), 3u);
}

TEST(RoutingTableTest, RejectsThirdContactFromSameSlash64) {
  Harness h;
  auto v6 = [](uint8_t subnet, uint8_t host) {
    return net::Endpoint::Ipv6(
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, subnet, 0, 0, 0, 0, 0, 0, 0, host},
        4222);
  };
  EXPECT_EQ(h.Answer(h.At(0, v6(1, 1))).kind, Kind::kAdded);
  EXPECT_EQ(h.Answer(h.At(0, v6(1, 2))).kind, Kind::kAdded);
  EXPECT_EQ(h.Answer(h.At(0, v6(1, 3))).kind, Kind::kRejected);
  EXPECT_EQ(h.Answer(h.At(0, v6(2, 3))).kind, Kind::kAdded);
}

TEST(RoutingTableTest, SubnetLimitIsPerBucket) {
  Harness h;
  for (int i = 0; i < 20; ++i) h.Answer(h.Local(5));
  h.Answer(h.Local(6));  // Splits: buckets 0 to 4 are empty.
  ASSERT_EQ(h.table.Buckets().size(), 7u);
  for (int cpl = 0; cpl < 3; ++cpl) {
    for (uint8_t host = 1; host <= 2; ++host) {
      uint8_t last = static_cast<uint8_t>(10 * cpl + host);
      EXPECT_EQ(h.Answer(h.At(cpl, Ipv4(203, 0, 113, last))).kind,
                Kind::kAdded);
    }
  }
  EXPECT_EQ(h.Answer(h.At(0, Ipv4(203, 0, 113, 99))).kind, Kind::kRejected);
  EXPECT_EQ(h.table.size(), 21u + 6);
}

TEST(RoutingTableTest, LoopbackIsExemptFromSubnetLimit) {
  Harness h;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(h.Answer(h.Local(0)).kind, Kind::kAdded);
  }
  EXPECT_EQ(h.table.size(), 10u);
}

TEST(RoutingTableTest, PrivateRangesAreLimitedUnlessTheDeploymentExemptsThem) {
  Harness limited;
  for (uint8_t host = 1; host <= 5; ++host) {
    limited.Answer(limited.At(0, Ipv4(192, 168, 1, host)));
  }
  EXPECT_EQ(limited.table.size(), 2u);
  RoutingTableOptions options = EagerPings();
  options.prefix_limit_exempt = net::PrivateSubnets();
  Harness exempt(options);
  for (uint8_t host = 1; host <= 5; ++host) {
    EXPECT_EQ(exempt.Answer(exempt.At(0, Ipv4(192, 168, 1, host))).kind,
              Kind::kAdded);
  }
  EXPECT_EQ(exempt.table.size(), 5u);
  // Public ranges stay limited.
  for (uint8_t host = 1; host <= 3; ++host) {
    exempt.Answer(exempt.At(0, Ipv4(203, 0, 113, host)));
  }
  EXPECT_EQ(exempt.table.size(), 7u);
}

TEST(RoutingTableTest, SubnetLimitAppliesToTheWholeTable) {
  Harness h;
  for (int i = 0; i < 20; ++i) h.Answer(h.Local(12));
  h.Answer(h.Local(13));  // Splits: buckets 0 to 11 exist, one per CPL.
  ASSERT_GE(h.table.Buckets().size(), 12u);
  // Two per bucket from one /24 would be 24 in buckets 0-11; the table
  // takes kDefaultMaxPerSubnetInTable of them.
  int added = 0;
  for (int cpl = 0; cpl < 12; ++cpl) {
    for (int host = 1; host <= 2; ++host) {
      const auto last = static_cast<uint8_t>(10 * cpl + host);
      if (h.Answer(h.At(cpl, Ipv4(203, 0, 113, last))).kind == Kind::kAdded) {
        ++added;
      }
    }
  }
  EXPECT_EQ(added, kDefaultMaxPerSubnetInTable);
  // Another /24 is not affected.
  EXPECT_EQ(h.Answer(h.At(11, Ipv4(203, 0, 114, 1))).kind, Kind::kAdded);
}

std::vector<Contact> BruteForceClosest(std::vector<Contact> all,
                                       const NodeId& target, size_t count) {
  std::sort(all.begin(), all.end(), [&](const Contact& a, const Contact& b) {
    return a.id.DistanceTo(target) < b.id.DistanceTo(target);
  });
  all.resize(std::min(count, all.size()));
  return all;
}

// Answers 2,000 nodes with common prefixes of 0 to 12 bits: a table of
// many buckets. Returns its entries.
std::vector<Contact> FillManyBuckets(Harness& h) {
  std::uniform_int_distribution<int> cpl(0, 12);
  for (int i = 0; i < 2000; ++i) h.Answer(h.Local(cpl(h.gen)));
  return h.table.AllContacts();
}

TEST(RoutingTableTest, ClosestReturnsGlobalXorOrder) {
  Harness h;
  std::vector<Contact> all = FillManyBuckets(h);
  ASSERT_GT(all.size(), 150u);
  std::uniform_int_distribution<int> cpl(0, 12);
  std::vector<NodeId> targets = {h.self, all.front().id, all.back().id};
  for (int i = 0; i < 50; ++i) targets.push_back(NodeId::Random(h.gen));
  for (int i = 0; i < 50; ++i) targets.push_back(h.Local(cpl(h.gen)).id);
  for (const NodeId& target : targets) {
    for (size_t count : {size_t{0}, size_t{1}, size_t{8}, size_t{20},
                         size_t{45}, all.size() + 10}) {
      EXPECT_EQ(h.table.Closest(target, count),
                BruteForceClosest(all, target, count))
          << target.ToHex() << " count " << count;
    }
  }
}

TEST(RoutingTableTest, ClosestLeavesOutTheEntryExceptedAndStillFillsCount) {
  Harness h;
  std::vector<Contact> all = FillManyBuckets(h);
  ASSERT_GT(all.size(), 150u);
  for (int i = 0; i < 50; ++i) {
    const NodeId target = NodeId::Random(h.gen);
    // The requester is often among the closest to what it asks for.
    const Contact except = BruteForceClosest(all, target, 20)[i % 20];
    std::vector<Contact> others = all;
    std::erase(others, except);
    for (size_t count : {size_t{1}, size_t{20}, all.size()}) {
      EXPECT_EQ(h.table.Closest(target, count, except.id),
                BruteForceClosest(others, target, count))
          << target.ToHex() << " count " << count;
    }
    // An id not in the table leaves out nothing.
    EXPECT_EQ(h.table.Closest(target, 20, NodeId::Random(h.gen)),
              BruteForceClosest(all, target, 20));
  }
}

TEST(RoutingTableTest, RefreshTargetsFallInsideStaleBuckets) {
  Harness h;
  h.FillFarBucket();
  for (int cpl = 2; cpl < 5; ++cpl) h.Answer(h.Local(cpl));
  ASSERT_EQ(h.table.Buckets().size(), 2u);
  for (int i = 0; i < 20; ++i) h.Answer(h.Local(1));
  for (int i = 0; i < 20; ++i) h.Answer(h.Local(3));
  const size_t buckets = h.table.Buckets().size();
  ASSERT_GE(buckets, 4u);
  EXPECT_TRUE(
      h.table.TargetsToRefresh(kStart + absl::Minutes(59), h.gen).empty());
  NodeId touched = h.Local(1).id;
  h.table.Touch(touched, kStart + absl::Minutes(30));

  absl::Time later = kStart + absl::Hours(1);
  std::vector<NodeId> targets = h.table.TargetsToRefresh(later, h.gen);
  ASSERT_EQ(targets.size(), buckets - 1);
  std::set<size_t> seen;
  for (const NodeId& t : targets) {
    size_t bucket = std::min<size_t>(h.self.CommonPrefixLength(t), buckets - 1);
    EXPECT_NE(bucket, 1u) << "bucket 1 was touched";
    seen.insert(bucket);
  }
  EXPECT_EQ(seen.size(), targets.size());  // One target per stale bucket.
  EXPECT_TRUE(h.table.TargetsToRefresh(later, h.gen).empty());
  EXPECT_EQ(h.table.TargetsToRefresh(kStart + absl::Minutes(90), h.gen).size(),
            1u);
}

TEST(RoutingTableTest, TargetsCoverTheEmptyRangesFartherThanTheNearest) {
  Harness h;
  EXPECT_TRUE(h.table.TargetsInEmptyFartherRanges(h.gen).empty());
  for (int i = 0; i < 20; ++i) h.Answer(h.Local(0));
  h.Answer(h.Local(2));
  for (int i = 0; i < 5; ++i) h.Answer(h.Local(4));
  h.Answer(h.Local(6));
  // Two buckets: 0 (full) and the last, which holds CPLs 2, 4 and 6 and
  // has never split: ranges 1, 3 and 5 are empty, all inside it.
  ASSERT_EQ(h.table.Buckets().size(), 2u);
  std::vector<NodeId> targets = h.table.TargetsInEmptyFartherRanges(h.gen);
  ASSERT_EQ(targets.size(), 3u);
  const int expected[] = {1, 3, 5};
  for (size_t i = 0; i < targets.size(); ++i) {
    EXPECT_EQ(h.self.CommonPrefixLength(targets[i]), expected[i]);
  }
}

// Returns whether `a` and `b` share a /24 (IPv4) or a /64 (IPv6).
bool SameSubnet(const net::Endpoint& a, const net::Endpoint& b) {
  size_t prefix_bytes = a.family() == net::Family::kIpv4 ? 3 : 8;
  return a.family() == b.family() &&
         std::equal(a.address().begin(), a.address().begin() + prefix_bytes,
                    b.address().begin());
}

// Checks every documented invariant through the public API.
void ExpectInvariants(const Harness& h, const RoutingTableOptions& options) {
  std::vector<BucketInfo> buckets = h.table.Buckets();
  std::vector<Contact> all = h.table.AllContacts();
  ASSERT_EQ(all.size(), h.table.size());
  std::set<NodeId> ids;
  std::set<net::Endpoint> endpoints;
  size_t next = 0;
  for (size_t b = 0; b < buckets.size(); ++b) {
    ASSERT_LE(buckets[b].size, static_cast<size_t>(options.bucket_size));
    ASSERT_LE(buckets[b].replacements,
              static_cast<size_t>(options.replacement_cache_size));
    if (buckets[b].size < static_cast<size_t>(options.bucket_size)) {
      ASSERT_EQ(buckets[b].replacements, 0u) << "bucket " << b;
    }
    std::vector<Contact> in_bucket(all.begin() + next,
                                   all.begin() + next + buckets[b].size);
    next += buckets[b].size;
    ASSERT_TRUE(std::is_sorted(in_bucket.begin(), in_bucket.end()));
    for (const Contact& c : in_bucket) {
      int cpl = h.self.CommonPrefixLength(c.id);
      if (b + 1 < buckets.size()) {
        ASSERT_EQ(cpl, static_cast<int>(b));
      }
      ASSERT_GE(cpl, static_cast<int>(b));
      ASSERT_NE(c.id, h.self);
      ASSERT_TRUE(ids.insert(c.id).second) << "duplicate id";
      ASSERT_TRUE(endpoints.insert(c.endpoint).second) << "duplicate endpoint";
      ASSERT_EQ(h.table.Find(c.id)->contact, c);
      if (c.endpoint.is_loopback()) continue;
      ASSERT_LE(std::count_if(in_bucket.begin(), in_bucket.end(),
                              [&](const Contact& o) {
                                return SameSubnet(o.endpoint, c.endpoint);
                              }),
                options.max_per_subnet);
      ASSERT_LE(std::count_if(all.begin(), all.end(),
                              [&](const Contact& o) {
                                return SameSubnet(o.endpoint, c.endpoint);
                              }),
                options.max_per_subnet_in_table);
    }
  }
}

TEST(RoutingTableTest, RandomizedOperationsKeepInvariants) {
  RoutingTableOptions options = EagerPings();
  options.bucket_size = 8;
  options.replacement_cache_size = 4;
  Harness h(options, 2024);
  std::vector<Contact> known;
  std::map<Kind, int> kinds;
  std::uniform_int_distribution<int> op(0, 9), cpl(0, 14), small(0, 3);
  for (int step = 0; step < 20000; ++step) {
    int choice = op(h.gen);
    if (choice < 4 || known.empty()) {
      // Public addresses share four /24s; loopback ones are all distinct.
      Contact c = small(h.gen) == 0
                      ? h.At(cpl(h.gen),
                             Ipv4(198, 51, static_cast<uint8_t>(small(h.gen)),
                                  static_cast<uint8_t>(h.gen())))
                      : h.Local(cpl(h.gen));
      bool predicted = h.table.WouldAdmit(c.id);
      bool endpoint_free = std::ranges::none_of(
          h.table.AllContacts(),
          [&](const Contact& o) { return o.endpoint == c.endpoint; });
      Kind kind = h.Answer(c).kind;
      ++kinds[kind];
      if (c.endpoint.is_loopback() && endpoint_free) {
        ASSERT_EQ(predicted, kind == Kind::kAdded) << "step " << step;
      }
      known.push_back(c);
    } else {
      Contact& c = known[h.gen() % known.size()];
      if (choice == 4) c.endpoint = h.Local(0).endpoint;  // It moved.
      if (choice < 6) ++kinds[h.Answer(c).kind];
      if (choice >= 6 && choice < 9) h.table.OnFailure(c.id, h.now);
      if (choice == 9) h.table.OnRequest(c, h.now);
    }
    if (step % 50 == 0) ExpectInvariants(h, options);
    if (HasFatalFailure()) return;
  }
  for (Kind kind :
       {Kind::kAdded, Kind::kRefreshed, Kind::kCached, Kind::kRejected}) {
    EXPECT_GT(kinds[kind], 100) << static_cast<int>(kind);
  }
  ExpectInvariants(h, options);
  EXPECT_GT(h.table.Buckets().size(), 5u);
  NodeId target = NodeId::Random(h.gen);
  EXPECT_EQ(h.table.Closest(target, 30),
            BruteForceClosest(h.table.AllContacts(), target, 30));
}

TEST(RoutingTableTest, KeepsTouchTimesExactly) {
  Harness h;
  absl::Time touched = kStart + absl::Milliseconds(1500);
  h.table.Touch(h.self, touched);
  EXPECT_EQ(h.table.Buckets()[0].last_touched, touched);
  // Due a refresh exactly refresh_interval after the touch, not before.
  absl::Time due = touched + absl::Hours(1);
  EXPECT_TRUE(
      h.table.TargetsToRefresh(due - absl::Nanoseconds(1), h.gen).empty());
  EXPECT_EQ(h.table.TargetsToRefresh(due, h.gen).size(), 1u);
}

TEST(RoutingTableTest, Ipv6ContactsRoundTripExactly) {
  Harness h;
  std::uniform_int_distribution<int> cpl(0, 12);
  std::map<NodeId, net::Endpoint> added;
  for (uint32_t subnet = 0; subnet < 2000; ++subnet) {
    Contact c =
        h.At(cpl(h.gen), Ipv6(subnet, h.gen(), static_cast<uint16_t>(h.gen())));
    if (h.Answer(c).kind == Kind::kAdded) added[c.id] = c.endpoint;
  }
  std::vector<Contact> all = h.table.AllContacts();
  ASSERT_GT(all.size(), 150u);
  ASSERT_EQ(all.size(), added.size());
  for (const Contact& c : all) {
    ASSERT_TRUE(added.contains(c.id));
    EXPECT_EQ(c.endpoint, added.at(c.id));
    EXPECT_EQ(h.table.Find(c.id)->contact, c);
  }
  for (int i = 0; i < 50; ++i) {
    NodeId target = NodeId::Random(h.gen);
    EXPECT_EQ(h.table.Closest(target, 20), BruteForceClosest(all, target, 20));
  }
}

TEST(RoutingTableTest, TellsIpv4AndIpv6EndpointsApart) {
  Harness h;
  // 32.1.13.184 is 2001:db8::'s first four bytes, on the same port.
  Contact v4 = h.At(0, Ipv4(32, 1, 13, 184));
  Contact v6 = h.At(0, Ipv6(0, 0));
  EXPECT_EQ(h.Answer(v4).kind, Kind::kAdded);
  EXPECT_EQ(h.Answer(v6).kind, Kind::kAdded);
  EXPECT_EQ(h.table.Find(v4.id)->contact, v4);
  EXPECT_EQ(h.table.Find(v6.id)->contact, v6);
  EXPECT_FALSE(h.table.OnRequest({v6.id, v4.endpoint}, h.now));
  EXPECT_FALSE(h.table.OnRequest({v4.id, v6.endpoint}, h.now));
  EXPECT_TRUE(h.table.OnRequest(v6, h.now));
  // Another port of the same address is another endpoint.
  Contact other_port = h.At(1, v6.endpoint.WithPort(4223));
  EXPECT_EQ(h.Answer(other_port).kind, Kind::kAdded);
  EXPECT_EQ(h.table.Find(other_port.id)->contact, other_port);
}

TEST(RoutingTableTest, RejectsIpv6EndpointOwnedByAnotherId) {
  Harness h;
  Contact a = h.At(0, Ipv6(1, 1));
  Contact b = h.At(1, Ipv6(2, 1));
  h.Answer(a);
  h.Answer(b);
  EXPECT_EQ(h.Answer({h.Local(0).id, a.endpoint}).kind, Kind::kRejected);
  EXPECT_EQ(h.Answer({b.id, a.endpoint}).kind, Kind::kRejected);
  EXPECT_EQ(h.table.Find(b.id)->contact, b);
  // A contact moving between families (once its old endpoint has failed)
  // frees the endpoint it leaves.
  Contact moved{a.id, Ipv4(203, 0, 113, 1)};
  h.table.OnFailure(a, h.now);
  EXPECT_EQ(h.Answer(moved).kind, Kind::kRefreshed);
  EXPECT_EQ(h.table.Find(a.id)->contact, moved);
  h.table.OnFailure(b, h.now);
  EXPECT_EQ(h.Answer({b.id, a.endpoint}).kind, Kind::kRefreshed);
  EXPECT_EQ(h.table.Find(b.id)->contact.endpoint, a.endpoint);
}

TEST(RoutingTableTest, ReplacementCacheLimitsEachSlash64) {
  Harness h;
  h.FillFarBucket();
  EXPECT_EQ(h.Answer(h.At(0, Ipv6(7, 1))).kind, Kind::kCached);
  EXPECT_EQ(h.Answer(h.At(0, Ipv6(7, 2))).kind, Kind::kCached);
  EXPECT_EQ(h.Answer(h.At(0, Ipv6(7, 3))).kind, Kind::kRejected);
  EXPECT_EQ(h.Answer(h.At(0, Ipv6(8, 3))).kind, Kind::kCached);
  EXPECT_EQ(h.table.Buckets()[0].replacements, 3u);
}

// Thousands of IPv6 contacts come, move, answer, fail and are promoted from
// replacement caches: every entry keeps the endpoint it last answered from.
TEST(RoutingTableTest, EndpointsStayExactThroughIpv6Churn) {
  RoutingTableOptions options = EagerPings();
  options.bucket_size = 8;
  options.replacement_cache_size = 4;
  Harness h(options, 4096);
  std::map<NodeId, net::Endpoint> answered_from;  // When not rejected.
  std::vector<NodeId> known;
  std::uniform_int_distribution<int> op(0, 9), cpl(0, 12), subnet(0, 255);
  auto fresh_endpoint = [&] {
    if (op(h.gen) == 0) {  // Some IPv4 among them.
      return Ipv4(198, 51, static_cast<uint8_t>(subnet(h.gen)),
                  static_cast<uint8_t>(h.gen()));
    }
    return Ipv6(static_cast<uint32_t>(subnet(h.gen)), h.gen());
  };
  auto answer = [&](const Contact& c) {
    RoutingTable::Update update = h.Answer(c);
    if (update.kind != Kind::kRejected) answered_from[c.id] = c.endpoint;
    if (update.ping_to_evict.has_value()) {
      const Contact& questioned = *update.ping_to_evict;
      ASSERT_EQ(questioned.endpoint, answered_from.at(questioned.id));
    }
  };
  int answers = 0;
  for (int step = 0; step < 20000; ++step) {
    int choice = op(h.gen);
    if (choice < 3 || known.empty()) {
      Contact c = h.At(cpl(h.gen), fresh_endpoint());
      known.push_back(c.id);
      answer(c);
      ++answers;
    } else {
      const NodeId& id = known[h.gen() % known.size()];
      if (choice < 6) {
        // It moved, or answered again from where it was.
        bool moved = choice == 3 || !answered_from.contains(id);
        answer({id, moved ? fresh_endpoint() : answered_from.at(id)});
        ++answers;
      } else if (choice < 9) {
        h.table.OnFailure(id, h.now);
      } else if (answered_from.contains(id)) {
        h.table.OnRequest({id, answered_from.at(id)}, h.now);
      }
    }
    if (HasFatalFailure()) return;
    if (step % 100 == 0) {
      ExpectInvariants(h, options);
      for (const Contact& c : h.table.AllContacts()) {
        ASSERT_EQ(c.endpoint, answered_from.at(c.id)) << "step " << step;
      }
    }
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(answers, 10000);
  EXPECT_GT(h.table.size(), 40u);
  for (const Contact& c : h.table.AllContacts()) {
    EXPECT_EQ(c.endpoint, answered_from.at(c.id));
  }
  NodeId target = NodeId::Random(h.gen);
  EXPECT_EQ(h.table.Closest(target, 30),
            BruteForceClosest(h.table.AllContacts(), target, 30));
}

}  // namespace
}  // namespace kad::dht
