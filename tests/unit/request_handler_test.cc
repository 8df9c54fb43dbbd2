// RequestHandler's store path: every record kind is verified and checked
// against the version held before it is stored (dht/record_auth.h), and a
// refusal says why, with the held seq on a conflict.
#include "dht/request_handler.h"

#include <optional>
#include <string>

#include "dht/latency_window.h"
#include "dht/record_auth.h"
#include "dht/split_mix64.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace kad::dht {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
const net::Endpoint kPeer = net::Endpoint::Ipv4({198, 51, 100, 7}, 4222);

class RequestHandlerTest : public ::testing::Test {
 protected:
  RequestHandlerTest()
      : gen_(1),
        table_(NodeId(), RoutingTableOptions{}, kNow),
        tokens_(gen_, absl::Minutes(5), kNow),
        stats_service_({}, kNow, table_, store_, stats_, latency_),
        handler_(20, table_, store_, tokens_, stats_, stats_service_) {}

  // Sends a store of `record` with a valid token; returns the answer.
  Body Store(const storage::Record& record,
             std::optional<uint64_t> expected_seq = std::nullopt) {
    dht::Store store{record, tokens_.Issue(kPeer, kNow), expected_seq};
    return handler_.Handle(Message{1, NodeId(), store}, kPeer, kNow);
  }

  storage::Record Signed(const KeyPair& owner, uint64_t seq,
                         std::string value, std::string name = "alice-key") {
    return *MakeSignedRecord(owner, std::move(name), std::move(value), seq,
                             kNow + absl::Hours(1));
  }

  static void ExpectRefused(const Body& answer, ErrorCode code,
                            std::string_view reason,
                            std::optional<uint64_t> held_seq = std::nullopt) {
    const auto* error = std::get_if<Error>(&answer);
    ASSERT_NE(error, nullptr) << "stored, but should have been refused";
    EXPECT_EQ(error->code, code);
    EXPECT_THAT(error->reason, HasSubstr(std::string(reason)));
    EXPECT_EQ(error->held_seq, held_seq);
  }

  std::string Held(const std::string& key) {
    auto record = store_.Get(key, kNow);
    return record.ok() ? record->value : "<none>";
  }

  KeyPair alice_ = GenerateKeyPair();
  KeyPair mallory_ = GenerateKeyPair();
  SplitMix64 gen_;
  RoutingTable table_;
  storage::MemoryStore store_;
  TokenIssuer tokens_;
  NodeStats stats_;
  LatencyWindow latency_;
  StatsService stats_service_;
  RequestHandler handler_;
};

TEST_F(RequestHandlerTest, StoresAValidSignedRecordAndItsNextSeq) {
  ASSERT_TRUE(std::holds_alternative<Stored>(Store(Signed(alice_, 1, "v1"))));
  ASSERT_TRUE(std::holds_alternative<Stored>(Store(Signed(alice_, 2, "v2"))));
  EXPECT_EQ(Held(Signed(alice_, 2, "v2").key), "v2");
  EXPECT_EQ(stats_.stores_accepted, 2u);
}

TEST_F(RequestHandlerTest, RefusesAForgedSignature) {
  storage::Record forged = Signed(alice_, 5, "alice-v1");
  forged.value = "mallory-was-here";  // Signature over another value.
  ExpectRefused(Store(forged), ErrorCode::kRecordRejected,
                "signature does not verify");
  // Mallory signing with her key, but claiming Alice's public key.
  storage::Record claimed = Signed(mallory_, 5, "mallory-was-here");
  claimed.public_key = alice_.public_key;
  claimed.key = Signed(alice_, 5, "x").key;
  ExpectRefused(Store(claimed), ErrorCode::kRecordRejected,
                "signature does not verify");
  EXPECT_EQ(Held(claimed.key), "<none>");
  EXPECT_EQ(stats_.stores_rejected, 2u);
}

TEST_F(RequestHandlerTest, RefusesAWrongKeyId) {
  storage::Record record = Signed(alice_, 1, "v1");
  record.key = Signed(alice_, 1, "v1", "another-name").key;
  ExpectRefused(Store(record), ErrorCode::kRecordRejected,
                "not the address of this public key and name");
}

TEST_F(RequestHandlerTest, RefusesALowerSeqWithTheHeldSeq) {
  ASSERT_TRUE(std::holds_alternative<Stored>(Store(Signed(alice_, 7, "v7"))));
  ExpectRefused(Store(Signed(alice_, 6, "v6")), ErrorCode::kConflict,
                "seq 7 is held", 7);
  EXPECT_EQ(Held(Signed(alice_, 7, "v7").key), "v7");
  EXPECT_EQ(stats_.stores_conflicted, 1u);
}

TEST_F(RequestHandlerTest, RefusesAnEqualSeqWithAnotherValue) {
  ASSERT_TRUE(std::holds_alternative<Stored>(Store(Signed(alice_, 7, "v7"))));
  ExpectRefused(Store(Signed(alice_, 7, "other")), ErrorCode::kConflict,
                "held with another value", 7);
  // The same version again (a republish) is fine.
  EXPECT_TRUE(std::holds_alternative<Stored>(Store(Signed(alice_, 7, "v7"))));
}

TEST_F(RequestHandlerTest, CompareAndSwapNamesTheHeldSeq) {
  ASSERT_TRUE(std::holds_alternative<Stored>(Store(Signed(alice_, 7, "v7"))));
  ExpectRefused(Store(Signed(alice_, 9, "v9"), 8), ErrorCode::kConflict,
                "expected seq 8", 7);
  EXPECT_TRUE(
      std::holds_alternative<Stored>(Store(Signed(alice_, 9, "v9"), 7)));
  EXPECT_EQ(Held(Signed(alice_, 9, "v9").key), "v9");
}

TEST_F(RequestHandlerTest, RefusesATamperedImmutableValue) {
  storage::Record record = *MakeImmutableRecord("genuine", kNow + absl::Hours(1));
  storage::Record tampered = record;
  tampered.value = "tampered";
  ExpectRefused(Store(tampered), ErrorCode::kRecordRejected,
                "does not hash to the immutable record's address");
  EXPECT_TRUE(std::holds_alternative<Stored>(Store(record)));
  EXPECT_EQ(Held(record.key), "genuine");
}

TEST_F(RequestHandlerTest, AnOpenRecordNeverDisplacesAProvenOne) {
  storage::Record proven = Signed(alice_, 1, "v1");
  ASSERT_TRUE(std::holds_alternative<Stored>(Store(proven)));
  storage::Record open{proven.key, "squat", 99, kNow + absl::Hours(1)};
  ExpectRefused(Store(open), ErrorCode::kConflict, "a signed record holds", 1);
  EXPECT_EQ(Held(proven.key), "v1");
}

TEST_F(RequestHandlerTest, AProvenRecordReplacesAnOpenSquatter) {
  storage::Record proven = Signed(alice_, 1, "v1");
  storage::Record open{proven.key, "squat", 99, kNow + absl::Hours(1)};
  ASSERT_TRUE(std::holds_alternative<Stored>(Store(open)));
  EXPECT_TRUE(std::holds_alternative<Stored>(Store(proven)));
  EXPECT_EQ(Held(proven.key), "v1");
}

TEST_F(RequestHandlerTest, OpenRecordsStillTakeTheHighestSeqAndSayWhenNot) {
  storage::Record v2{"k", "v2", 2, kNow + absl::Hours(1)};
  storage::Record v1{"k", "v1", 1, kNow + absl::Hours(1)};
  ASSERT_TRUE(std::holds_alternative<Stored>(Store(v2)));
  ExpectRefused(Store(v1), ErrorCode::kConflict, "seq 2 is held", 2);
}

}  // namespace
}  // namespace kad::dht
