// Signed records among hostile replicas: nodes that serve tampered or
// stale copies, squat the address with an open record, or acknowledge a
// store and drop it. A get still returns the owner's latest version, and
// counts what it had to ignore.
#include <optional>
#include <vector>

#include "dht/node.h"
#include "dht/record_auth.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_builders.h"

namespace kad::dht {
namespace {

using bench::SimOverlay;
using testing::ByDistance;


TEST(HostileReplicasTest, GetReturnsTheOwnersLatestDespiteForgedAndStaleCopies) {
  SimOverlay overlay{testing::SmallOverlay()};
  overlay.JoinOneByOne(40);
  const KeyPair owner = *KeyPairFromSeed(std::string(32, 'a'));  // Fixed.
  auto signed_record = [&](uint64_t seq, std::string value) {
    return *MakeSignedRecord(owner, "alice-key", std::move(value), seq,
                             overlay.clock().Now() + absl::Hours(1));
  };
  const storage::Record v1 = signed_record(1, "alice-v1");
  const storage::Record v2 = signed_record(2, "alice-v2");
  const size_t publisher = 3;
  for (const storage::Record& record : {v1, v2}) {
    auto put = overlay.Run<PutResult>([&](auto done) {
      overlay.node(publisher).Put(record, std::move(done));
    });
    ASSERT_TRUE(put.ok()) << put.status();
  }

  // The replicas closest to the key, which a get asks first, turn hostile
  // behind everyone's back (writing to their stores directly, unverified).
  const absl::Time now = overlay.clock().Now();
  std::vector<size_t> holders;
  for (size_t i : ByDistance(overlay, NodeId::ForKey(v2.key))) {
    if (i != publisher && overlay.member(i).store->Get(v2.key, now).ok()) {
      holders.push_back(i);
    }
  }
  ASSERT_GE(holders.size(), 12u);
  auto replace = [&](size_t member, const storage::Record& record) {
    storage::MemoryStore& store = *overlay.member(holders[member]).store;
    store.Remove(v2.key);
    ASSERT_TRUE(store.Put(record, now).ok());
  };
  storage::Record tampered = v2;
  tampered.value = "mallory-was-here";
  tampered.seq = 18446744073709551615u;
  storage::Record resigned = *MakeSignedRecord(
      *KeyPairFromSeed(std::string(32, 'm')), "alice-key", "mallory", 99, now + absl::Hours(1));
  resigned.key = v2.key;  // Mallory's record, at Alice's address.
  storage::Record squat{v2.key, "squat", 1000, now + absl::Hours(1)};
  for (size_t i = 0; i < 3; ++i) replace(i, tampered);
  replace(3, resigned);
  replace(4, squat);
  // Stale, but genuine: fewer than get_quorum (3), or they could be all
  // a get hears (a reader can't know of a version nobody shows it).
  for (size_t i = 5; i < 7; ++i) replace(i, v1);
  for (size_t i = 7; i < 10; ++i) {  // Accepted, then dropped.
    overlay.member(holders[i]).store->Remove(v2.key);
  }

  NodeOptions options;
  options.read_only = true;
  Node& client = overlay.AddNode(options);
  ASSERT_TRUE(overlay.Run<int>([&](auto done) {
    client.Bootstrap({overlay.node(0).endpoint()}, std::move(done));
  }).ok());
  auto got = overlay.Run<GetResult>([&](auto done) {
    client.GetProven(v2.key, std::move(done));
  });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record.value, "alice-v2");
  EXPECT_EQ(got->record.seq, 2u);
  EXPECT_GE(client.stats().records_unverified, 1u);

  // Read repair brought the stale and forged replicas it heard back to v2.
  overlay.clock().RunFor(absl::Seconds(5));
  size_t repaired = 0;
  for (size_t i = 0; i < 7; ++i) {
    auto held = overlay.member(holders[i]).store->Get(v2.key,
                                                      overlay.clock().Now());
    if (held.ok() && held->value == "alice-v2") ++repaired;
  }
  EXPECT_GE(repaired, 1u);

  // And an owner's get by name agrees.
  auto by_name = overlay.Run<GetResult>([&](auto done) {
    client.GetSigned(owner.public_key, "alice-key", std::move(done));
  });
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_EQ(by_name->record.value, "alice-v2");
}

TEST(HostileReplicasTest, PutReportsConflictsWithTheHeldSeq) {
  SimOverlay overlay{testing::SmallOverlay()};
  overlay.JoinOneByOne(30);
  const KeyPair owner = *KeyPairFromSeed(std::string(32, 'o'));
  auto put = [&](uint64_t seq, std::optional<uint64_t> expected) {
    storage::Record record =
        *MakeSignedRecord(owner, "n", absl::StrCat("v", seq), seq,
                          overlay.clock().Now() + absl::Hours(1));
    return overlay.Run<PutResult>([&](auto done) {
      overlay.node(2).Put(record, expected, std::move(done));
    });
  };
  ASSERT_TRUE(put(5, std::nullopt).ok());
  auto stale = put(4, std::nullopt);
  ASSERT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  EXPECT_THAT(std::string(stale.status().message()),
              ::testing::HasSubstr("seq 5"));
  auto wrong_cas = put(7, 6);
  ASSERT_TRUE(absl::IsAborted(wrong_cas.status())) << wrong_cas.status();
  EXPECT_THAT(std::string(wrong_cas.status().message()),
              ::testing::HasSubstr("seq 5"));
  auto right_cas = put(7, 5);
  ASSERT_TRUE(right_cas.ok()) << right_cas.status();
  EXPECT_EQ(right_cas->stored, right_cas->attempted);
  EXPECT_EQ(right_cas->conflicts, 0);
}

TEST(HostileReplicasTest, ForgedRecordsAreNotReplicated) {
  SimOverlay overlay{testing::SmallOverlay()};
  overlay.JoinOneByOne(30);
  const KeyPair owner = GenerateKeyPair();
  const absl::Time now = overlay.clock().Now();
  storage::Record forged = *MakeSignedRecord(owner, "name", "genuine", 1,
                                             now + absl::Hours(1));
  forged.value = "forged";
  // One node holds a forged record; its replication offers it to others,
  // who ask for it (they lack it) and refuse the store that brings it.
  const size_t liar = ByDistance(overlay, NodeId::ForKey(forged.key)).front();
  ASSERT_TRUE(overlay.member(liar).store->Put(forged, now).ok());
  overlay.clock().RunFor(absl::Hours(3));
  uint64_t refused = 0;
  for (size_t i = 0; i < overlay.size(); ++i) {
    refused += overlay.node(i).stats().stores_rejected;
  }
  EXPECT_GE(refused, 1u) << "the forged record was never offered";
  for (size_t i = 0; i < overlay.size(); ++i) {
    if (i == liar) continue;
    EXPECT_FALSE(
        overlay.member(i).store->Get(forged.key, overlay.clock().Now()).ok())
        << "node " << i << " accepted a forged record";
  }
}

}  // namespace
}  // namespace kad::dht
