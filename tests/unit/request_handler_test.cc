// RequestHandler's store path: every record kind is verified and checked
// against the version held before it is stored (dht/record_auth.h), and a
// refusal says why, with the held seq on a conflict; store admission
// (dht/store_admission.h) refuses a prefix over its share, and every
// refusal is counted by code.
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
        gate_(std::nullopt, std::nullopt, 0),
        stats_service_({}, kNow, table_, store_, stats_, latency_, gate_),
        admission_(AdmissionWithQuota(kQuotaRecords), 20, table_),
        handler_(20, table_, store_, tokens_, stats_, stats_service_,
                 &admission_) {}

  // One prefix's share of kQuotaRecords: a quarter.
  static constexpr size_t kQuotaRecords = 40;
  static StoreAdmissionOptions AdmissionWithQuota(size_t records) {
    StoreAdmissionOptions options;
    options.max_records = records;
    return options;
  }

  // Sends a store of `record` with a valid token from `from`.
  Body StoreFrom(const net::Endpoint& from, const storage::Record& record) {
    dht::Store store{record, tokens_.Issue(from, kNow)};
    return handler_.Handle(Message{1, NodeId(), store}, from, kNow);
  }

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
  RequestGate gate_;
  StatsService stats_service_;
  StoreAdmission admission_;
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
  EXPECT_EQ(stats_.stores_refused[static_cast<size_t>(ErrorCode::kConflict)],
            1u);
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


TEST_F(RequestHandlerTest, RefusesNewKeysFromAPrefixOverItsShare) {
  const auto open = [](int i) {
    return storage::Record{"k" + std::to_string(i), "v", 1,
                           kNow + absl::Hours(1)};
  };
  const net::Endpoint neighbour = net::Endpoint::Ipv4({198, 51, 100, 8}, 9);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(std::holds_alternative<Stored>(StoreFrom(neighbour, open(i))));
  }
  // kPeer shares neighbour's /24, which now holds its 10 of 40.
  ExpectRefused(Store(open(10)), ErrorCode::kSourceQuota, "share");
  EXPECT_EQ(Held("k10"), "<none>");
  // Another /24 still stores; an update of a held key still goes through.
  const net::Endpoint elsewhere = net::Endpoint::Ipv4({203, 0, 113, 1}, 9);
  EXPECT_TRUE(std::holds_alternative<Stored>(StoreFrom(elsewhere, open(10))));
  storage::Record update = open(3);
  update.seq = 2;
  update.value = "v2";
  EXPECT_TRUE(std::holds_alternative<Stored>(Store(update)));
  EXPECT_EQ(Held("k3"), "v2");
  EXPECT_EQ(
      stats_.stores_refused[static_cast<size_t>(ErrorCode::kSourceQuota)], 1u);
  EXPECT_EQ(stats_.stores_rejected, 1u);
}

TEST_F(RequestHandlerTest, CountsRefusalsByCode) {
  dht::Store bad{storage::Record{"k", "v", 1, kNow + absl::Hours(1)}, "nope"};
  handler_.Handle(Message{1, NodeId(), bad}, kPeer, kNow);
  EXPECT_EQ(stats_.stores_refused[static_cast<size_t>(ErrorCode::kBadToken)],
            1u);
  EXPECT_EQ(stats_.stores_rejected, 1u);
}

}  // namespace
}  // namespace kad::dht
