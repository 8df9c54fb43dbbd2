#include "dht/replicator.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dht/wire_codec.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
// QueueHandoff's `holding`: the node holds records, or nothing.
bool Holding() { return true; }
bool HoldingNothing() { return false; }
constexpr int kReplicas = 4;  // A small k keeps "closest" selective.

// A node's routing table with `contacts` contacts on distinct loopback
// endpoints (exempt from subnet limits), and a replicator for it.
struct Harness {
  explicit Harness(int contacts, uint64_t seed = 3)
      : gen(seed),
        self(NodeId::Random(gen)),
        table(self, RoutingTableOptions{}, kStart),
        replicator(self, kReplicas) {
    for (int i = 0; i < contacts; ++i) Admit();
  }

  Contact Admit() { return Admit(NodeId::Random(gen)); }
  Contact Admit(const NodeId& id, absl::Time when = kStart) {
    Contact contact{id, net::Endpoint::Ipv4({127, 0, 0, 1}, next_port++)};
    table.OnResponse(contact, when);
    return contact;
  }

  // The k closest to `key` among the table and self, without self: what a
  // round must offer `key` to, computed without the replicator.
  std::set<NodeId> ExpectedReplicas(const std::string& key) const {
    const NodeId key_id = NodeId::ForKey(key);
    std::vector<NodeId> ids = {self};
    for (const Contact& c : table.AllContacts()) ids.push_back(c.id);
    std::sort(ids.begin(), ids.end(), CloserTo{key_id});
    ids.resize(std::min<size_t>(ids.size(), kReplicas));
    std::set<NodeId> expected(ids.begin(), ids.end());
    expected.erase(self);
    return expected;
  }

  std::mt19937_64 gen;
  NodeId self;
  RoutingTable table;
  Replicator replicator;
  uint16_t next_port = 1000;
};

std::vector<RecordSummary> Summaries(int count,
                                     const std::string& prefix = "key-") {
  std::vector<RecordSummary> held;
  for (int i = 0; i < count; ++i) {
    storage::Record record{absl::StrCat(prefix, i), absl::StrCat("value-", i),
                           1, kStart + absl::Hours(1)};
    held.push_back(SummaryOf(record));
  }
  std::sort(held.begin(), held.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  return held;
}

// Key -> the peers a plan offers it to.
std::map<std::string, std::set<NodeId>> Recipients(
    const std::vector<OfferPlan>& plans) {
  std::map<std::string, std::set<NodeId>> recipients;
  for (const OfferPlan& plan : plans) {
    for (const RecordSummary& s : plan.offer.summaries) {
      recipients[s.key].insert(plan.peer.id);
    }
  }
  return recipients;
}

TEST(ReplicatorTest, OffersEachRecordToTheKClosestKnownButNeverItself) {
  Harness h(/*contacts=*/60);
  const std::vector<RecordSummary> held = Summaries(30);
  auto recipients = Recipients(h.replicator.PlanRound(held, h.table));
  ASSERT_EQ(recipients.size(), held.size());
  for (const RecordSummary& s : held) {
    SCOPED_TRACE(s.key);
    EXPECT_EQ(recipients[s.key], h.ExpectedReplicas(s.key));
    EXPECT_FALSE(recipients[s.key].contains(h.self));
    EXPECT_GE(recipients[s.key].size(), size_t{kReplicas - 1});
  }
}

TEST(ReplicatorTest, SummariesCarryTheVersionNotTheValue) {
  storage::Record record{"k", std::string(1000, 'v'), 42, kStart};
  RecordSummary summary = SummaryOf(record);
  EXPECT_EQ(summary.key, "k");
  EXPECT_EQ(summary.seq, 42u);
  EXPECT_EQ(summary.digest, storage::DigestOf(record));
  EXPECT_LT(OfferSummaryBytes(summary), 40u);
}

TEST(ReplicatorTest, BatchesManySummariesPerPeerAndEveryOfferFitsADatagram) {
  Harness h(/*contacts=*/kReplicas - 1);  // Every record goes to every one.
  const std::vector<RecordSummary> held = Summaries(100);
  std::vector<OfferPlan> plans = h.replicator.PlanRound(held, h.table);
  // 100 summaries per peer, at most 40 per offer: 3 offers per peer.
  ASSERT_EQ(plans.size(), 3u * (kReplicas - 1));
  for (size_t i = 0; i < plans.size(); ++i) {
    const OfferPlan& plan = plans[i];
    EXPECT_LE(plan.offer.summaries.size(), kMaxOfferSummaries);
    auto bytes = EncodeMessage(Message{0xffffffff, h.self, plan.offer}, kStart);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_LE(bytes->size(), kMaxDatagramBytes);
    if (i > 0) {
      EXPECT_LE(plans[i - 1].peer.id, plan.peer.id);  // Id order.
    }
  }
  // Each peer receives every summary exactly once, in the order given.
  std::map<NodeId, std::vector<RecordSummary>> per_peer;
  for (const OfferPlan& plan : plans) {
    auto& list = per_peer[plan.peer.id];
    list.insert(list.end(), plan.offer.summaries.begin(),
                plan.offer.summaries.end());
  }
  for (const auto& [peer, list] : per_peer) EXPECT_EQ(list, held);
}

TEST(ReplicatorTest, LongKeysMeanFewerSummariesPerOffer) {
  Harness h(/*contacts=*/1);
  std::vector<RecordSummary> held =
      Summaries(20, std::string(storage::kMaxKeyBytes - 3, 'x'));
  std::vector<OfferPlan> plans = h.replicator.PlanRound(held, h.table);
  ASSERT_EQ(plans.size(), 3u);  // 7 + 7 + 6 summaries of 128-byte keys.
  for (const OfferPlan& plan : plans) {
    auto bytes = EncodeMessage(Message{0xffffffff, h.self, plan.offer}, kStart);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_LE(plan.offer.summaries.size(), 7u);
  }
}

TEST(ReplicatorTest, SkipsRecordsAnotherReplicaOfferedSinceTheLastRound) {
  Harness h(/*contacts=*/20);
  const std::vector<RecordSummary> held = Summaries(3);
  RecordSummary older = held[1];
  older.seq = 0;
  // What we answered: held[0] and older not wanted (we hold them or newer).
  h.replicator.NoteOffered(Offer{{held[0], older}}, OfferReply{});
  auto recipients = Recipients(h.replicator.PlanRound(held, h.table));
  EXPECT_FALSE(recipients.contains(held[0].key));  // Same version: covered.
  EXPECT_TRUE(recipients.contains(held[1].key));   // Older: ours is needed.
  EXPECT_TRUE(recipients.contains(held[2].key));   // Not offered to us.
  // The next round judges by offers received after this one only.
  EXPECT_EQ(Recipients(h.replicator.PlanRound(held, h.table)).size(), 3u);
}

TEST(ReplicatorTest, OffersWeWantedDoNotSilenceOurRound) {
  // A peer claims a newer version, we want it, it never sends it: our
  // round must still offer what we hold.
  Harness h(/*contacts=*/20);
  const std::vector<RecordSummary> held = Summaries(2);
  RecordSummary claimed = held[0];
  claimed.seq = 99;
  h.replicator.NoteOffered(Offer{{claimed, held[1]}}, OfferReply{{0}, "t"});
  auto recipients = Recipients(h.replicator.PlanRound(held, h.table));
  EXPECT_TRUE(recipients.contains(held[0].key));
  EXPECT_FALSE(recipients.contains(held[1].key));
}

TEST(ReplicatorTest, HandsOffOnlyRecordsTheNewContactIsAmongTheClosestFor) {
  Harness h(/*contacts=*/40);
  const std::vector<RecordSummary> held = Summaries(200);
  // Near our id, where buckets never fill: surely admitted.
  const Contact newcomer = h.Admit(NodeId::RandomWithPrefix(h.self, 8, h.gen));
  ASSERT_TRUE(h.table.Find(newcomer.id).has_value());
  EXPECT_TRUE(h.replicator.QueueHandoff(newcomer, kStart, Holding));
  EXPECT_FALSE(
      h.replicator.QueueHandoff(newcomer, kStart, Holding));  // Already queued.
  EXPECT_EQ(h.replicator.queued_handoffs(), 1u);
  std::vector<OfferPlan> plans = h.replicator.PlanHandoffs(held, h.table);
  EXPECT_EQ(h.replicator.queued_handoffs(), 0u);
  std::set<std::string> offered;
  for (const OfferPlan& plan : plans) {
    EXPECT_EQ(plan.peer, newcomer);
    for (const RecordSummary& s : plan.offer.summaries) offered.insert(s.key);
  }
  std::set<std::string> expected;
  for (const RecordSummary& s : held) {
    if (h.ExpectedReplicas(s.key).contains(newcomer.id)) expected.insert(s.key);
  }
  EXPECT_FALSE(expected.empty());
  EXPECT_LT(expected.size(), held.size());
  EXPECT_EQ(offered, expected);
  // The queue was emptied: nothing more to hand off.
  EXPECT_TRUE(h.replicator.PlanHandoffs(held, h.table).empty());
  EXPECT_TRUE(h.replicator.QueueHandoff(newcomer, kStart,
                                        Holding));  // A new batch starts.
}

// Admits two contacts at `when`, near our id where buckets never fill.
std::pair<Contact, Contact> AdmitTwoNearOurId(Harness& h, absl::Time when) {
  return {h.Admit(NodeId::RandomWithPrefix(h.self, 8, h.gen), when),
          h.Admit(NodeId::RandomWithPrefix(h.self, 9, h.gen), when)};
}

TEST(ReplicatorTest, ContactsAdmittedWhileHoldingNothingAreStillHandedOff) {
  // A node holding nothing lists no ids; a record that arrives before the
  // plan still goes to the contacts admitted meanwhile (and only to those
  // of them among its k closest), and to nobody seen only before.
  Harness h(/*contacts=*/40);
  const absl::Time later = kStart + absl::Minutes(5);
  const auto [first, second] = AdmitTwoNearOurId(h, later);
  EXPECT_TRUE(h.replicator.QueueHandoff(first, later, HoldingNothing));
  EXPECT_FALSE(h.replicator.QueueHandoff(second, later, HoldingNothing));
  EXPECT_EQ(h.replicator.queued_handoffs(), 0u);  // Nothing listed.
  const std::vector<RecordSummary> held = Summaries(200);
  std::map<NodeId, std::set<std::string>> offered;
  for (const OfferPlan& plan : h.replicator.PlanHandoffs(held, h.table)) {
    for (const RecordSummary& s : plan.offer.summaries) {
      offered[plan.peer.id].insert(s.key);
    }
  }
  std::map<NodeId, std::set<std::string>> expected;
  for (const RecordSummary& s : held) {
    for (const Contact& c : {first, second}) {
      if (h.ExpectedReplicas(s.key).contains(c.id)) {
        expected[c.id].insert(s.key);
      }
    }
  }
  EXPECT_EQ(expected.size(), 2u);
  EXPECT_EQ(offered, expected);
  // Planned: the next contact starts a new batch.
  EXPECT_TRUE(h.replicator.PlanHandoffs(held, h.table).empty());
  EXPECT_TRUE(h.replicator.QueueHandoff(first, later, HoldingNothing));
}

TEST(ReplicatorTest,
     ContactsAdmittedWhileUnlistedDoNotAskWhetherRecordsAreHeld) {
  // Once a contact came while nothing was held, the plan takes every entry
  // seen since: a later contact is covered, whatever the store holds now,
  // and the store is not asked.
  Harness h(/*contacts=*/40);
  const absl::Time later = kStart + absl::Minutes(5);
  const auto [first, second] = AdmitTwoNearOurId(h, later);
  EXPECT_TRUE(h.replicator.QueueHandoff(first, later, HoldingNothing));
  int asked = 0;
  EXPECT_FALSE(h.replicator.QueueHandoff(second, later, [&asked] {
    ++asked;
    return true;
  }));
  EXPECT_EQ(asked, 0);
  EXPECT_EQ(h.replicator.queued_handoffs(), 0u);
  const std::vector<RecordSummary> held = Summaries(200);
  std::set<NodeId> offered;
  for (const OfferPlan& plan : h.replicator.PlanHandoffs(held, h.table)) {
    offered.insert(plan.peer.id);
  }
  EXPECT_TRUE(offered.contains(second.id));
}

TEST(ReplicatorTest, HandOffQueueIsBounded) {
  Harness h(/*contacts=*/0);
  for (size_t i = 0; i < Replicator::kMaxQueuedHandoffs + 10; ++i) {
    h.replicator.QueueHandoff(h.Admit(), kStart, Holding);
  }
  EXPECT_EQ(h.replicator.queued_handoffs(), Replicator::kMaxQueuedHandoffs);
}

TEST(ReplicatorTest, RoundsAreJitteredSoNodesDoNotPulse) {
  const absl::Duration interval = absl::Hours(1);
  std::mt19937_64 gen(11);
  std::set<absl::Duration> firsts;
  for (int node = 0; node < 50; ++node) {
    Replicator replicator(NodeId::Random(gen), kReplicas);
    const absl::Duration first = replicator.NextRoundDelay(interval, gen);
    EXPECT_GE(first, interval / 2);
    EXPECT_LT(first, interval * 3 / 2);
    firsts.insert(first);
    for (int round = 0; round < 5; ++round) {
      const absl::Duration next = replicator.NextRoundDelay(interval, gen);
      EXPECT_GE(next, interval * 9 / 10);
      EXPECT_LT(next, interval * 11 / 10);
    }
  }
  EXPECT_EQ(firsts.size(), 50u);
}

TEST(ReplicatorTest, TheSameInputsGiveTheSamePlan) {
  Harness a(/*contacts=*/50, /*seed=*/9);
  Harness b(/*contacts=*/50, /*seed=*/9);
  const std::vector<RecordSummary> held = Summaries(80);
  EXPECT_EQ(a.replicator.PlanRound(held, a.table),
            b.replicator.PlanRound(held, b.table));
}

}  // namespace
}  // namespace kad::dht
