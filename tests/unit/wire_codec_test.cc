#include "dht/wire_codec.h"

#include <array>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "dht/record_auth.h"

namespace kad::dht {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

// Returns the id whose bytes are first, first+1, ..., first+19.
NodeId Id(uint8_t first) {
  std::array<uint8_t, NodeId::kBytes> bytes;
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(first + i);
  }
  return NodeId(bytes);
}

// Raw IPv4 address bytes for hand-made endpoints (embedded NULs, hence the
// explicit length).
const std::string_view kLoopback("\x7f\0\0\x01", 4);

const net::Endpoint kV4 = net::Endpoint::Ipv4({198, 51, 100, 1}, 4222);
const net::Endpoint kV6 = net::Endpoint::Ipv6(
    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 4223);

storage::Record HelloRecord() {
  return storage::Record{.key = "hello",
                         .value = "world",
                         .seq = 1'700'000'000'000'000,
                         .expires = kNow + absl::Hours(1)};
}

storage::Record LargestRecord() {
  return storage::Record{.key = std::string(storage::kMaxKeyBytes, 'k'),
                         .value = std::string(storage::kMaxValueBytes, 'v'),
                         .seq = std::numeric_limits<uint64_t>::max(),
                         .expires = kNow + storage::kMaxTtl};
}

// A fixed owner, so that signed goldens are reproducible (ed25519
// signatures are deterministic).
KeyPair GoldenOwner() {
  return *KeyPairFromSeed(std::string(32, '\x07'));
}

storage::Record LargestSignedRecord() {
  return *MakeSignedRecord(GoldenOwner(), std::string(storage::kMaxNameBytes, 'n'),
                           std::string(storage::kMaxSignedValueBytes, 'v'),
                           std::numeric_limits<uint64_t>::max(),
                           kNow + storage::kMaxTtl);
}

storage::Record LargestImmutableRecord() {
  return *MakeImmutableRecord(std::string(storage::kMaxValueBytes, 'v'),
                              kNow + storage::kMaxTtl);
}

std::vector<Contact> Ipv6Contacts(size_t count) {
  std::vector<Contact> contacts;
  for (size_t i = 0; i < count; ++i) {
    contacts.push_back(Contact{Id(static_cast<uint8_t>(i * 20)), kV6});
  }
  return contacts;
}

// The summaries of the offer golden example: the hello record, with its
// real XXH3-128 digest, and a made-up one with a digest easy to read.
std::vector<RecordSummary> GoldenSummaries() {
  return {RecordSummary{"hello", HelloRecord().seq,
                        storage::DigestOf(HelloRecord())},
          RecordSummary{"k2", 7, {0x0123456789abcdef, 0xfedcba9876543210}}};
}

// An offer of kMaxOfferSummaries summaries, each `key_bytes` long (the
// byte after 'a' + i, so keys differ), every seq 2^64-1.
Offer LargestOffer(size_t key_bytes) {
  Offer offer;
  for (size_t i = 0; i < kMaxOfferSummaries; ++i) {
    std::string key(key_bytes, static_cast<char>('a' + i));
    offer.summaries.push_back(RecordSummary{
        key, std::numeric_limits<uint64_t>::max(), {~0ull, ~0ull}});
  }
  return offer;
}

// The counters of the stats_reply golden example.
StatsReply GoldenStatsReply() {
  StatsReply stats;
  stats.uptime_seconds = 3725;
  stats.buckets = {{0, 20}, {1, 9}, {2, 3}};
  stats.records = 12;
  stats.record_bytes = 4096;
  stats.datagrams_in = 1500;
  stats.datagrams_out = 1400;
  stats.bytes_in = 150000;
  stats.bytes_out = 140000;
  stats.malformed_in = 2;
  stats.unmatched_responses = 1;
  stats.messages_in = {30, 25, 600, 400, 120, 80, 50, 45, 5, 1, 0, 12, 9};
  stats.messages_out = {25, 30, 400, 600, 80, 120, 45, 50, 5, 0, 0, 9, 12};
  stats.rpc_timeouts = 7;
  stats.rpc_failures = 3;
  stats.lookups_started = 40;
  stats.lookups_finished = 39;
  stats.lookup_latency = {12000, 45000, 120000, 250000};
  stats.stores_accepted = 45;
  stats.stores_rejected = 5;
  stats.requests_dropped = 1200;
  stats.sources_banned = 1;
  stats.reply_bytes_withheld = 65536;
  // bad token 1, conflict 1, not closest 1, source quota 2.
  stats.stores_refused = {0, 1, 0, 0, 0, 0, 0, 1, 1, 2};
  return stats;
}

// A stats reply with every field at its largest: 160 buckets of 255
// contacts, every counter 2^64-1.
StatsReply LargestStatsReply() {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  StatsReply stats;
  for (uint32_t i = 0; i < kMaxStatsBuckets; ++i) {
    stats.buckets.push_back({i, kMaxStatsBucketContacts});
  }
  for (uint64_t* counter :
       {&stats.uptime_seconds, &stats.records, &stats.record_bytes,
        &stats.datagrams_in, &stats.datagrams_out, &stats.bytes_in,
        &stats.bytes_out, &stats.malformed_in, &stats.unmatched_responses,
        &stats.rpc_timeouts, &stats.rpc_failures, &stats.lookups_started,
        &stats.lookups_finished, &stats.lookup_latency.p50_us,
        &stats.lookup_latency.p90_us, &stats.lookup_latency.p99_us,
        &stats.lookup_latency.max_us, &stats.stores_accepted,
        &stats.stores_rejected, &stats.requests_dropped, &stats.sources_banned,
        &stats.reply_bytes_withheld}) {
    *counter = kMax;
  }
  stats.messages_in.assign(kMessageTypeCount, kMax);
  stats.messages_out.assign(kMessageTypeCount, kMax);
  stats.stores_refused.assign(kErrorCodeCount, kMax);
  return stats;
}

Message Make(TransactionId id, std::optional<NodeId> sender, Body body) {
  return Message{
      .transaction_id = id, .sender = sender, .body = std::move(body)};
}

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::string bytes = absl::HexStringToBytes(std::string(hex));
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

std::string ToHex(const std::vector<uint8_t>& bytes) {
  return absl::BytesToHexString(
      std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::vector<uint8_t> Encode(const Message& message) {
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeMessage(message, kNow);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

// A msgpack writer independent of the codec, for hand-made datagrams.
// Integers and array lengths take the shortest form; bin and str always
// carry an explicit 8- or 16-bit length.
class Raw {
 public:
  Raw& Array(size_t count) {
    if (count < 16) return Byte(0x90 | count);
    return Byte(0xdc).BigEndian(count, 2);
  }
  Raw& Uint(uint64_t value) {
    if (value < 128) return Byte(value);
    if (value <= 0xff) return Byte(0xcc).BigEndian(value, 1);
    if (value <= 0xffff) return Byte(0xcd).BigEndian(value, 2);
    if (value <= 0xffffffff) return Byte(0xce).BigEndian(value, 4);
    return Byte(0xcf).BigEndian(value, 8);
  }
  Raw& Int8(int8_t value) {
    return Byte(0xd0).Byte(static_cast<uint8_t>(value));
  }
  Raw& Bin(std::string_view bytes) {
    if (bytes.size() <= 0xff) {
      Byte(0xc4).BigEndian(bytes.size(), 1);
    } else {
      Byte(0xc5).BigEndian(bytes.size(), 2);
    }
    return Append(bytes);
  }
  Raw& Str(std::string_view text) {
    if (text.size() <= 0xff) {
      Byte(0xd9).BigEndian(text.size(), 1);
    } else {
      Byte(0xda).BigEndian(text.size(), 2);
    }
    return Append(text);
  }
  Raw& Nil() { return Byte(0xc0); }
  Raw& Id(const NodeId& id) {
    return Bin(std::string(id.bytes().begin(), id.bytes().end()));
  }
  Raw& Header(MessageType type, size_t body_fields) {
    return Array(4 + body_fields)
        .Uint(kProtocolVersion)
        .Uint(static_cast<uint64_t>(type))
        .Uint(7)
        .Id(dht::Id(1));
  }
  Raw& Endpoint(uint64_t family, std::string_view address, uint64_t port) {
    return Array(3).Uint(family).Bin(address).Uint(port);
  }
  Raw& Byte(uint64_t byte) {
    bytes_.push_back(static_cast<uint8_t>(byte));
    return *this;
  }
  Raw& BigEndian(uint64_t value, int width) {
    for (int shift = 8 * (width - 1); shift >= 0; shift -= 8) {
      Byte(value >> shift);
    }
    return *this;
  }
  Raw& Append(std::string_view bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

void ExpectRejected(const std::vector<uint8_t>& datagram,
                    std::string_view reason) {
  absl::StatusOr<Message> decoded = DecodeMessage(datagram, kNow);
  ASSERT_FALSE(decoded.ok()) << ToHex(datagram);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(decoded.status().message()),
              HasSubstr(std::string(reason)));
}

// One message per type, with the bytes that pin its encoding at kNow. The
// same hex strings appear in docs/PROTOCOL.md and, as binary files, in
// tests/fuzz/corpus/.
struct Golden {
  const char* name;
  Message message;
  const char* hex;
};

std::vector<Golden> Goldens() {
  const std::string token = "tok-0123";
  return {
      {"ping", Make(1, std::nullopt, Ping{}),
       "94"    // array of 4
       "0100"  // version 1, type 0 (ping)
       "01"    // transaction id 1
       "c0"},  // sender: nil (a read-only client)
      {"pong", Make(1, Id(0xa0), Pong{kV4}),
       "95"                                            // array of 5
       "0101"                                          // version 1, type 1
       "01"                                            // transaction id 1
       "c414a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"  // sender: bin 20
       "9304c404c6336401cd107e"},  // observed: [4, 198.51.100.1, 4222]
      {"find_node", Make(300, Id(0x01), FindNode{Id(0xa0)}),
       "95"                                              // array of 5
       "0102"                                            // version 1, type 2
       "cd012c"                                          // transaction id 300
       "c4140102030405060708090a0b0c0d0e0f1011121314"    // sender
       "c414a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"},  // target
      {"nodes",
       Make(300, Id(0xa0),
            Nodes{{Contact{Id(0xc0), kV4}, Contact{Id(0xe0), kV6}}, token}),
       "96"                                              // array of 6
       "0103"                                            // version 1, type 3
       "cd012c"                                          // transaction id 300
       "c414a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"    // sender
       "92"                                              // closest: 2 contacts
       "92c414c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3"  // [id,
       "9304c404c6336401cd107e"                          //  [4, addr, 4222]]
       "92c414e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3"  // [id,
       "9306c41020010db8000000000000000000000001cd107f"  //  [6, addr, 4223]]
       "c408746f6b2d30313233"},  // token: bin "tok-0123"
      {"find_value", Make(70000, Id(0x01), FindValue{"hello"}),
       "95"                                            // array of 5
       "0104"                                          // version 1, type 4
       "ce00011170"                                    // transaction id 70000
       "c4140102030405060708090a0b0c0d0e0f1011121314"  // sender
       "c40568656c6c6f"},                              // key: bin "hello"
      {"value", Make(70000, Id(0xa0), Value{HelloRecord(), {}, token}),
       "97"                                            // array of 7
       "0105"                                          // version 1, type 5
       "ce00011170"                                    // transaction id 70000
       "c414a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"  // sender
       "94"                                            // record: array of 4
       "c40568656c6c6f"                                // key "hello"
       "c405776f726c64"                                // value "world"
       "cf00060a24181e4000"                            // seq 1700000000000000
       "cd0e10"                                        // ttl 3600 s
       "90"                                            // closest: none
       "c408746f6b2d30313233"},                        // token
      {"store", Make(0xffffffff, Id(0x01), Store{HelloRecord(), token}),
       "97"                                            // array of 7
       "0106"                                          // version 1, type 6
       "ceffffffff"                                    // transaction id 2^32-1
       "c4140102030405060708090a0b0c0d0e0f1011121314"  // sender
       "94c40568656c6c6fc405776f726c64cf00060a24181e4000cd0e10"  // record
       "c408746f6b2d30313233"                                    // token
       "c0"},                                   // expected seq: nil (no CAS)
      {"stored", Make(0xffffffff, Id(0xa0), Stored{}),
       "94"                                              // array of 4
       "0107"                                            // version 1, type 7
       "ceffffffff"                                      // transaction id
       "c414a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"},  // sender
      {"error",
       Make(0xffffffff, Id(0xa0), Error{ErrorCode::kBadToken, "token expired"}),
       "97"                                            // array of 7
       "0108"                                          // version 1, type 8
       "ceffffffff"                                    // transaction id
       "c414a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"  // sender
       "02"                                            // code 2 (bad token)
       "ad746f6b656e2065787069726564"  // reason: str "token expired"
       "c0"},                          // held seq: nil (not a conflict)
      {"stats", Make(5, std::nullopt, Stats{}),
       "94"    // array of 4
       "0109"  // version 1, type 9 (stats)
       "05"    // transaction id 5
       "c0"},  // sender: nil (a read-only client)
      {"stats_reply", Make(5, Id(0xa0), GoldenStatsReply()),
       "dc001b"                                        // array of 27
       "010a"                                          // version 1, type 10
       "05"                                            // transaction id 5
       "c414a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"  // sender
       "cd0e8d"                                        // uptime 3725 s
       "93"                                            // buckets: 3
       "920014920109920203"                  // [0, 20], [1, 9], [2, 3]
       "0c"                                  // records 12
       "cd1000"                              // record_bytes 4096
       "cd05dc"                              // datagrams_in 1500
       "cd0578"                              // datagrams_out 1400
       "ce000249f0"                          // bytes_in 150000
       "ce000222e0"                          // bytes_out 140000
       "02"                                  // malformed_in 2
       "01"                                  // unmatched_responses 1
       "9d1e19cd0258cd01907850322d0501000c09"  // messages_in: 13 counts
       "9d191ecd0190cd025850782d32050000090c"  // messages_out: 13 counts
       "07"                                  // rpc_timeouts 7
       "03"                                  // rpc_failures 3
       "28"                                  // lookups_started 40
       "27"                                  // lookups_finished 39
       "94cd2ee0cdafc8ce0001d4c0ce0003d090"  // latency p50 p90 p99 max (us)
       "2d"                                  // stores_accepted 45
       "05"                                  // stores_rejected 5
       "cd04b0"                              // requests_dropped 1200
       "01"                                  // sources_banned 1
       "ce00010000"                          // reply_bytes_withheld 65536
       "9a00010000000000010102"},            // stores_refused: 10 counts
      {"offer", Make(42, Id(0x01), Offer{GoldenSummaries()}),
       "95"                                            // array of 5
       "010b"                                          // version 1, type 11
       "2a"                                            // transaction id 42
       "c4140102030405060708090a0b0c0d0e0f1011121314"  // sender
       "92"                                            // summaries: 2
       "93c40568656c6c6f"                              // [key "hello",
       "cf00060a24181e4000"                            //  seq, digest:
       "c410fa0d38a9b38280d0891e4985bdb2583e"          //  bin 16]
       "93c4026b3207"                                  // [key "k2", seq 7,
       "c4100123456789abcdeffedcba9876543210"},        //  digest: bin 16]
      {"offer_reply", Make(42, Id(0xa0), OfferReply{{1}, token}),
       "96"                                            // array of 6
       "010c"                                          // version 1, type 12
       "2a"                                            // transaction id 42
       "c414a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"  // sender
       "9101"                                          // wanted: [1]
       "c408746f6b2d30313233"},                        // token
  };
}

// The record kinds beyond open, and the conflict error, each pinned the
// same way (docs/PROTOCOL.md, "Records"; tests/fuzz/corpus/<name>).
std::vector<Golden> RecordGoldens() {
  const std::string token = "tok-0123";
  return {
      {"store_signed",
       Make(9, Id(0x01),
            Store{*MakeSignedRecord(GoldenOwner(), "hi", "v2", 2,
                                    kNow + absl::Hours(1)),
                  token, 1}),
       nullptr},
      {"store_immutable",
       Make(9, Id(0x01),
            Store{*MakeImmutableRecord("world", kNow + absl::Hours(1)), token}),
       nullptr},
      {"error_conflict",
       Make(9, Id(0xa0),
            Error{ErrorCode::kConflict, "conflict: seq 1 is older; seq 2 is held", 2}),
       nullptr},
  };
}

TEST(WireCodecTest, GoldenBytesPinTheFormat) {
  for (const Golden& golden : Goldens()) {
    SCOPED_TRACE(golden.name);
    EXPECT_EQ(ToHex(Encode(golden.message)), golden.hex);
    absl::StatusOr<Message> decoded = DecodeMessage(FromHex(golden.hex), kNow);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, golden.message);
  }
}

// Returns the contents of a file in the source tree ("" if it is missing).
std::string ReadSourceFile(const std::string& relative_path) {
  std::ifstream in(std::string(KAD_SOURCE_DIR) + "/" + relative_path,
                   std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(WireCodecTest, ProtocolDocAndFuzzCorpusCarryTheGoldenBytes) {
  const std::string doc = ReadSourceFile("docs/PROTOCOL.md");
  ASSERT_FALSE(doc.empty());
  for (const Golden& golden : Goldens()) {
    SCOPED_TRACE(golden.name);
    EXPECT_THAT(doc, HasSubstr(golden.hex));
    std::vector<uint8_t> bytes = FromHex(golden.hex);
    EXPECT_EQ(ReadSourceFile(absl::StrCat("tests/fuzz/corpus/", golden.name)),
              std::string(bytes.begin(), bytes.end()));
  }
}

TEST(WireCodecTest, RecordGoldensRoundTripAndAreInTheDocAndCorpus) {
  const std::string doc = ReadSourceFile("docs/PROTOCOL.md");
  for (const Golden& golden : RecordGoldens()) {
    SCOPED_TRACE(golden.name);
    std::vector<uint8_t> bytes = Encode(golden.message);
    absl::StatusOr<Message> decoded = DecodeMessage(bytes, kNow);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, golden.message);
    EXPECT_THAT(doc, HasSubstr(ToHex(bytes)));
    EXPECT_EQ(ReadSourceFile(absl::StrCat("tests/fuzz/corpus/", golden.name)),
              std::string(bytes.begin(), bytes.end()));
  }
}

// A nodes answer with the trailing observed field (an extension: the
// "nodes" golden above, without it, is what older nodes send and still
// decodes, with observed unset).
const char kNodesObservedHex[] =
    "97"                                              // array of 7
    "0103"                                            // version 1, type 3
    "cd012c"                                          // transaction id 300
    "c414a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"    // sender
    "91"                                              // closest: 1 contact
    "92c414c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3"  // [id,
    "9304c404c6336401cd107e"                          //  [4, addr, 4222]]
    "c408746f6b2d30313233"                            // token
    "9304c404cb00710dcdc350";  // observed: [4, 203.0.113.13, 50000]

TEST(WireCodecTest, NodesObservedGoldenPinsTheExtension) {
  const Message message =
      Make(300, Id(0xa0),
           Nodes{{Contact{Id(0xc0), kV4}},
                 "tok-0123",
                 net::Endpoint::Ipv4({203, 0, 113, 13}, 50000)});
  std::vector<uint8_t> bytes = Encode(message);
  EXPECT_EQ(ToHex(bytes), kNodesObservedHex);
  absl::StatusOr<Message> decoded = DecodeMessage(bytes, kNow);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, message);
  EXPECT_THAT(ReadSourceFile("docs/PROTOCOL.md"), HasSubstr(ToHex(bytes)));
  EXPECT_EQ(ReadSourceFile("tests/fuzz/corpus/nodes_observed"),
            std::string(bytes.begin(), bytes.end()));
}

TEST(WireCodecTest, AnswersWithoutObservedStillDecode) {
  for (const Golden& golden : Goldens()) {
    if (golden.name != std::string("nodes") &&
        golden.name != std::string("value")) {
      continue;
    }
    SCOPED_TRACE(golden.name);
    absl::StatusOr<Message> decoded = DecodeMessage(FromHex(golden.hex), kNow);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    const Body& body = decoded->body;
    if (const auto* nodes = std::get_if<Nodes>(&body)) {
      EXPECT_EQ(nodes->observed, std::nullopt);
    } else {
      EXPECT_EQ(std::get<Value>(body).observed, std::nullopt);
    }
  }
}

TEST(WireCodecTest, ValueCarriesObservedAndNothingMoreTrails) {
  Value value{std::nullopt, {}, "t", net::Endpoint::Ipv4({203, 0, 113, 13}, 1)};
  std::vector<uint8_t> bytes = Encode(Make(1, Id(1), value));
  absl::StatusOr<Message> decoded = DecodeMessage(bytes, kNow);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(std::get<Value>(decoded->body), value);
  // One more trailing element than the extension allows is refused.
  ++bytes[0];  // fixarray 8 -> 9
  for (uint8_t b : FromHex("9304c404cb00710d01")) bytes.push_back(b);
  ExpectRejected(bytes, "value has 9 fields; expected 7 to 8");
}

TEST(WireCodecTest, SignedRecordKeyIsDerivedNotSent) {
  // The address of a signed record is not on the wire: the receiver
  // derives it, so no sender can pair a record with another address.
  storage::Record record = *MakeSignedRecord(GoldenOwner(), "hi", "v", 1,
                                             kNow + absl::Hours(1));
  storage::Record moved = record;
  moved.key = std::string(storage::kAddressBytes, 'x');
  absl::StatusOr<Message> decoded =
      DecodeMessage(Encode(Make(1, Id(1), Store{moved, ""})), kNow);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(std::get<Store>(decoded->body).record.key, record.key);
}

TEST(WireCodecTest, GoldensCoverEveryMessageType) {
  std::vector<Golden> goldens = Goldens();
  ASSERT_EQ(goldens.size(), std::variant_size_v<Body>);
  for (size_t i = 0; i < goldens.size(); ++i) {
    EXPECT_EQ(goldens[i].message.body.index(), i);
    EXPECT_STREQ(goldens[i].name, MessageTypeName(goldens[i].message.type()));
  }
}

TEST(WireCodecTest, EveryMessageTypeRoundTrips) {
  std::vector<Message> messages = {
      Make(0, std::nullopt, Ping{}),
      Make(1, Id(3), Pong{kV6}),
      Make(2, std::nullopt, FindNode{Id(9)}),
      Make(3, Id(3), Nodes{}),
      Make(4, Id(3),
           Nodes{Ipv6Contacts(kMaxContactsPerMessage),
                 std::string(kMaxTokenBytes, 't')}),
      Make(5, std::nullopt, FindValue{std::string(storage::kMaxKeyBytes, 'k')}),
      Make(6, Id(3), Value{std::nullopt, {Contact{Id(4), kV4}}, "t"}),
      Make(7, Id(3), Value{LargestRecord(), {}, ""}),
      Make(8, std::nullopt, Store{LargestRecord(), "t"}),
      Make(9, Id(3),
           Store{{.key = "k", .value = "", .seq = 0, .expires = kNow}, ""}),
      Make(10, Id(3), Stored{}),
      Make(0xffffffff, Id(3), Error{ErrorCode::kMalformed, ""}),
      Make(12, Id(3),
           Error{ErrorCode::kInternal, std::string(kMaxErrorReasonBytes, 'r')}),
      Make(13, Id(3), Error{ErrorCode::kForbidden, "no"}),
      Make(14, Id(3), Stats{}),
      Make(15, Id(3), StatsReply{}),
      Make(16, Id(3), LargestStatsReply()),
      Make(17, Id(3), Offer{}),
      Make(18, Id(3), LargestOffer(1)),
      Make(19, std::nullopt, Offer{GoldenSummaries()}),
      Make(20, Id(3), OfferReply{}),
      Make(21, Id(3), OfferReply{{0, 5, kMaxOfferSummaries - 1}, "t"}),
  };
  for (const Message& message : messages) {
    SCOPED_TRACE(MessageTypeName(message.type()));
    absl::StatusOr<Message> decoded = DecodeMessage(Encode(message), kNow);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, message);
  }
}

TEST(WireCodecTest, AContactAddsAtMostMaxContactBytes) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  auto size_with = [&](std::vector<Contact> contacts) {
    return EncodeMessage(Make(1, Id(1), Nodes{std::move(contacts), ""}), now)
        .value()
        .size();
  };
  EXPECT_EQ(size_with(Ipv6Contacts(2)) - size_with(Ipv6Contacts(1)),
            kMaxContactBytes);
  std::vector<Contact> ipv4 = {{Id(2), kV4}};
  EXPECT_EQ(size_with(ipv4) - size_with({}), kMaxContactBytes - 12);
}

TEST(WireCodecTest, LargestMessagesFitOneDatagram) {
  const std::string token(kMaxTokenBytes, 't');
  struct Case {
    Message message;
    size_t size;
  };
  std::vector<Case> cases = {
      {Make(0xffffffff, Id(1), Store{LargestRecord(), token}), 1213},
      {Make(0xffffffff, Id(1),
            Store{LargestRecord(), token, std::numeric_limits<uint64_t>::max()}),
       1221},
      {Make(0xffffffff, Id(1),
            Store{LargestSignedRecord(), token,
                  std::numeric_limits<uint64_t>::max()}),
       1271},
      {Make(0xffffffff, Id(1), Value{LargestSignedRecord(), {}, token}), 1263},
      {Make(0xffffffff, Id(1), Store{LargestImmutableRecord(), token,
                                     std::numeric_limits<uint64_t>::max()}),
       1082},
      {Make(0xffffffff, Id(1), Value{LargestRecord(), {}, token}), 1213},
      {Make(0xffffffff, Id(1),
            Nodes{Ipv6Contacts(kMaxContactsPerMessage), token}),
       987},
      {Make(0xffffffff, Id(1),
            Nodes{Ipv6Contacts(kMaxContactsPerMessage), token,
                  Ipv6Contacts(1)[0].endpoint}),
       1010},
      {Make(0xffffffff, Id(1),
            Value{std::nullopt, Ipv6Contacts(kMaxContactsPerMessage), token}),
       988},
      {Make(
           0xffffffff, Id(1),
           Error{ErrorCode::kConflict, std::string(kMaxErrorReasonBytes, 'r'),
                 std::numeric_limits<uint64_t>::max()}),
       242},
      {Make(0xffffffff, Id(1),
            FindValue{std::string(storage::kMaxKeyBytes, 'k')}),
       160},
      {Make(0xffffffff, Id(1), LargestStatsReply()), 1233},
      {Make(0xffffffff, Id(1), LargestOffer(1)), 1273},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(MessageTypeName(c.message.type()));
    std::vector<uint8_t> bytes = Encode(c.message);
    EXPECT_LE(bytes.size(), kMaxDatagramBytes);
    EXPECT_EQ(bytes.size(), c.size);
  }
}

TEST(WireCodecTest, RecordTtlIsRelativeClampedAndFloored) {
  auto ttl_after_round_trip = [](absl::Duration remaining) {
    storage::Record record = HelloRecord();
    record.expires = kNow + remaining;
    absl::StatusOr<std::vector<uint8_t>> bytes =
        EncodeMessage(Make(1, Id(1), Store{record, ""}), kNow);
    EXPECT_TRUE(bytes.ok());
    // Decoded an hour later: expiry moves with the receiver's clock.
    absl::StatusOr<Message> decoded =
        DecodeMessage(*bytes, kNow + absl::Hours(1));
    EXPECT_TRUE(decoded.ok());
    return std::get<Store>(decoded->body).record.expires -
           (kNow + absl::Hours(1));
  };
  EXPECT_EQ(ttl_after_round_trip(absl::Seconds(90)), absl::Seconds(90));
  EXPECT_EQ(ttl_after_round_trip(absl::Milliseconds(10900)), absl::Seconds(10));
  EXPECT_EQ(ttl_after_round_trip(-absl::Hours(2)), absl::ZeroDuration());
  EXPECT_EQ(ttl_after_round_trip(storage::kMaxTtl + absl::Hours(1)),
            storage::kMaxTtl);
  EXPECT_EQ(ttl_after_round_trip(absl::InfiniteDuration()), storage::kMaxTtl);
}

TEST(WireCodecTest, DecodingCapsTtlAtTheMaximum) {
  auto datagram = Raw()
                      .Header(MessageType::kStore, 3)
                      .Array(4)
                      .Bin("k")
                      .Bin("v")
                      .Uint(1)
                      .Uint(0xffffffff)
                      .Bin("")
                      .Nil().bytes();
  absl::StatusOr<Message> decoded = DecodeMessage(datagram, kNow);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(std::get<Store>(decoded->body).record.expires,
            kNow + storage::kMaxTtl);
}

TEST(WireCodecTest, AcceptsHandWrittenMessage) {
  // Guards the rejection tests below: the same builder makes valid input.
  auto datagram = Raw()
                      .Header(MessageType::kNodes, 2)
                      .Array(1)
                      .Array(2)
                      .Id(Id(5))
                      .Endpoint(4, kLoopback, 80)
                      .Bin("tok")
                      .bytes();
  absl::StatusOr<Message> decoded = DecodeMessage(datagram, kNow);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(
      *decoded,
      Make(7, Id(1),
           Nodes{{Contact{Id(5), net::Endpoint::Ipv4({127, 0, 0, 1}, 80)}},
                 "tok"}));
}

TEST(WireCodecTest, AcceptsAnyIntegerFormWithAnInRangeValue) {
  // Version 1 as int8, type 0 as uint64, transaction id 7 as uint32.
  auto datagram = Raw()
                      .Array(4)
                      .Int8(1)
                      .Byte(0xcf)
                      .BigEndian(0, 8)
                      .Byte(0xce)
                      .BigEndian(7, 4)
                      .Nil()
                      .bytes();
  absl::StatusOr<Message> decoded = DecodeMessage(datagram, kNow);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, Make(7, std::nullopt, Ping{}));
  // Re-encoding uses the shortest forms.
  EXPECT_EQ(ToHex(Encode(*decoded)), "94010007c0");
}

TEST(WireCodecTest, RejectsEveryTruncation) {
  for (const Golden& golden : Goldens()) {
    std::vector<uint8_t> bytes = FromHex(golden.hex);
    for (size_t size = 0; size < bytes.size(); ++size) {
      SCOPED_TRACE(absl::StrCat(golden.name, " cut to ", size));
      ExpectRejected({bytes.begin(), bytes.begin() + size}, "truncated");
    }
  }
}

TEST(WireCodecTest, RejectsTrailingBytes) {
  for (const Golden& golden : Goldens()) {
    SCOPED_TRACE(golden.name);
    std::vector<uint8_t> bytes = FromHex(golden.hex);
    bytes.push_back(0xc0);
    ExpectRejected(bytes, "trailing");
  }
}

TEST(WireCodecTest, RejectsOtherProtocolVersions) {
  ExpectRejected(Raw().Array(4).Uint(2).Uint(0).Uint(1).Nil().bytes(),
                 "version 2");
  ExpectRejected(Raw().Array(4).Uint(0).Uint(0).Uint(1).Nil().bytes(),
                 "version 0");
  // The version is checked before the layout, which a new version may change.
  ExpectRejected(Raw().Array(2).Uint(2).Str("hi").bytes(), "version 2");
  ExpectRejected(Raw().Array(4).Str("1").Uint(0).Uint(1).Nil().bytes(),
                 "version: expected uint, got str");
}

TEST(WireCodecTest, RejectsUnknownMessageType) {
  ExpectRejected(Raw().Array(4).Uint(1).Uint(13).Uint(1).Nil().bytes(),
                 "unknown message type 13");
  ExpectRejected(Raw().Array(4).Uint(1).Uint(256).Uint(1).Nil().bytes(),
                 "unknown message type 256");
}

TEST(WireCodecTest, RejectsWrongElementCount) {
  ExpectRejected(Raw().Array(0).bytes(), "version: missing");
  ExpectRejected(Raw().Array(3).Uint(1).Uint(0).Uint(1).bytes(),
                 "header has 3 fields");
  ExpectRejected(Raw().Header(MessageType::kPing, 1).Nil().bytes(),
                 "ping has 5 fields; expected 4");
  ExpectRejected(Raw().Header(MessageType::kFindNode, 0).bytes(),
                 "find_node has 4 fields; expected 5");
  ExpectRejected(Raw()
                     .Header(MessageType::kPong, 1)
                     .Array(2)
                     .Uint(4)
                     .Bin(kLoopback)
                     .bytes(),
                 "observed: expected 3 elements, got 2");
  ExpectRejected(Raw()
                     .Header(MessageType::kStore, 3)
                     .Array(3)
                     .Bin("k")
                     .Bin("v")
                     .Uint(1)
                     .Bin("")
                     .Nil().bytes(),
                 "record: expected 2, 4 or 6 elements, got 3");
}

TEST(WireCodecTest, RejectsStrWhereBinExpected) {
  ExpectRejected(Raw()
                     .Header(MessageType::kFindNode, 1)
                     .Str(std::string(NodeId::kBytes, 'x'))
                     .bytes(),
                 "target: expected bin, got str");
  ExpectRejected(Raw().Header(MessageType::kFindValue, 1).Str("hello").bytes(),
                 "key: expected bin, got str");
  ExpectRejected(Raw()
                     .Array(4)
                     .Uint(1)
                     .Uint(0)
                     .Uint(1)
                     .Str(std::string(NodeId::kBytes, 'x'))
                     .bytes(),
                 "sender: expected bin, got str");
  // And the reverse: the error reason is text.
  ExpectRejected(Raw().Header(MessageType::kError, 3).Uint(1).Bin("r").Nil().bytes(),
                 "reason: expected str, got bin");
}

TEST(WireCodecTest, RejectsIdsOfTheWrongLength) {
  for (size_t size : {0, 19, 21}) {
    SCOPED_TRACE(size);
    ExpectRejected(Raw()
                       .Array(4)
                       .Uint(1)
                       .Uint(0)
                       .Uint(1)
                       .Bin(std::string(size, 'x'))
                       .bytes(),
                   "sender: expected 20 bytes");
    ExpectRejected(Raw()
                       .Header(MessageType::kFindNode, 1)
                       .Bin(std::string(size, 'x'))
                       .bytes(),
                   "target: expected 20 bytes");
  }
}

TEST(WireCodecTest, RejectsOversizedDatagram) {
  // Well-formed msgpack, but one byte over the datagram limit.
  Raw raw;
  raw.Header(MessageType::kError, 3).Uint(1);
  raw.Byte(0xda).BigEndian(kMaxDatagramBytes, 2);
  raw.Append(std::string(kMaxDatagramBytes - raw.bytes().size(), 'r'));
  raw.Nil();
  ASSERT_EQ(raw.bytes().size(), kMaxDatagramBytes + 1);
  ExpectRejected(raw.bytes(), "1281 bytes; the limit is 1280");
}

TEST(WireCodecTest, RejectsTooManyContacts) {
  Raw raw;
  raw.Header(MessageType::kNodes, 2).Array(kMaxContactsPerMessage + 1);
  for (size_t i = 0; i <= kMaxContactsPerMessage; ++i) {
    raw.Array(2).Id(Id(static_cast<uint8_t>(i))).Endpoint(4, kLoopback, 80);
  }
  raw.Bin("");
  ASSERT_LE(raw.bytes().size(), kMaxDatagramBytes);
  ExpectRejected(raw.bytes(), "21 contacts; the limit is 20");
}

TEST(WireCodecTest, RejectsOutOfRangeIntegers) {
  ExpectRejected(Raw().Array(4).Uint(1).Uint(0).Uint(1ull << 32).Nil().bytes(),
                 "transaction_id: 4294967296 is out of range");
  ExpectRejected(Raw().Array(4).Uint(1).Uint(0).Int8(-1).Nil().bytes(),
                 "transaction_id: expected uint, got negative int");
  ExpectRejected(
      Raw().Header(MessageType::kPong, 1).Endpoint(4, kLoopback, 65536).bytes(),
      "port: 65536 is out of range");
  ExpectRejected(Raw()
                     .Header(MessageType::kStore, 3)
                     .Array(4)
                     .Bin("k")
                     .Bin("v")
                     .Uint(1)
                     .Uint(1ull << 32)
                     .Bin("")
                     .Nil().bytes(),
                 "ttl: 4294967296 is out of range");
}

TEST(WireCodecTest, RejectsBadEndpoints) {
  ExpectRejected(
      Raw().Header(MessageType::kPong, 1).Endpoint(5, kLoopback, 80).bytes(),
      "family 5");
  ExpectRejected(
      Raw().Header(MessageType::kPong, 1).Endpoint(6, kLoopback, 80).bytes(),
      "family 6 with a 4-byte address");
  ExpectRejected(Raw()
                     .Header(MessageType::kPong, 1)
                     .Endpoint(4, std::string(16, '\0'), 80)
                     .bytes(),
                 "family 4 with a 16-byte address");
  ExpectRejected(Raw()
                     .Header(MessageType::kPong, 1)
                     .Endpoint(4, kLoopback.substr(0, 3), 80)
                     .bytes(),
                 "address: expected 4..16 bytes, got 3");
}

TEST(WireCodecTest, RejectsBadRecordsTokensAndErrors) {
  auto store = [](std::string_view key, std::string_view value,
                  std::string_view token) {
    return Raw()
        .Header(MessageType::kStore, 3)
        .Array(4)
        .Bin(key)
        .Bin(value)
        .Uint(1)
        .Uint(60)
        .Bin(token)
        .Nil().bytes();
  };
  ExpectRejected(store("", "v", ""), "key: expected 1..128 bytes, got 0");
  ExpectRejected(store(std::string(129, 'k'), "v", ""), "got 129");
  ExpectRejected(store("k", std::string(1001, 'v'), ""), "got 1001");
  ExpectRejected(store("k", "v", std::string(33, 't')),
                 "token: expected 0..32 bytes, got 33");
  ExpectRejected(Raw().Header(MessageType::kStore, 3).Nil().Bin("").Nil().bytes(),
                 "record: expected array, got nil");
  ExpectRejected(Raw().Header(MessageType::kFindValue, 1).Bin("").bytes(),
                 "key: expected 1..128 bytes, got 0");
  ExpectRejected(Raw().Header(MessageType::kError, 3).Uint(0).Str("").Nil().bytes(),
                 "unknown error code 0");
  ExpectRejected(Raw().Header(MessageType::kError, 3).Uint(10).Str("").Nil().bytes(),
                 "unknown error code 10");
  ExpectRejected(Raw().Header(MessageType::kError, 3).Uint(257).Str("").Nil().bytes(),
                 "unknown error code 257");
  ExpectRejected(Raw()
                     .Header(MessageType::kError, 3)
                     .Uint(1)
                     .Str(std::string(kMaxErrorReasonBytes + 1, 'r'))
                     .Nil().bytes(),
                 "reason: 201 bytes; the limit is 200");
}

// Writes a stats_reply body whose parts can be replaced by malformed ones.
struct RawStatsReply {
  std::function<void(Raw&)> buckets = [](Raw& raw) {
    raw.Array(1).Array(2).Uint(0).Uint(20);
  };
  size_t per_type = kMessageTypeCount;
  bool per_type_nil = false;
  size_t latency_fields = 4;

  std::vector<uint8_t> bytes() const {
    Raw raw;
    raw.Header(MessageType::kStatsReply, 19).Uint(60);
    buckets(raw);
    for (int i = 0; i < 8; ++i) raw.Uint(i);
    for (int list = 0; list < 2; ++list) {
      if (per_type_nil) {
        raw.Nil();
        continue;
      }
      raw.Array(per_type);
      for (size_t i = 0; i < per_type; ++i) raw.Uint(i);
    }
    for (int i = 0; i < 4; ++i) raw.Uint(i);
    raw.Array(latency_fields);
    for (size_t i = 0; i < latency_fields; ++i) raw.Uint(1000 * i);
    return raw.Uint(1).Uint(2).bytes();
  }
};

TEST(WireCodecTest, AcceptsHandWrittenStatsReply) {
  // Guards the rejection tests below: the same builder makes valid input.
  absl::StatusOr<Message> decoded =
      DecodeMessage(RawStatsReply{}.bytes(), kNow);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& stats = std::get<StatsReply>(decoded->body);
  EXPECT_EQ(stats.uptime_seconds, 60u);
  EXPECT_EQ(stats.buckets, (std::vector<BucketCount>{{0, 20}}));
  EXPECT_EQ(stats.unmatched_responses, 7u);
  EXPECT_EQ(stats.messages_out[10], 10u);
  EXPECT_EQ(stats.lookup_latency.max_us, 3000u);
  EXPECT_EQ(stats.stores_rejected, 2u);
}

TEST(WireCodecTest, ReadsTheStatsReplyOfANodeFromBeforeTheAbuseCounters) {
  // RawStatsReply writes the first 19 fields only.
  absl::StatusOr<Message> decoded =
      DecodeMessage(RawStatsReply{}.bytes(), kNow);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& stats = std::get<StatsReply>(decoded->body);
  EXPECT_EQ(stats.requests_dropped, 0u);
  EXPECT_EQ(stats.sources_banned, 0u);
  EXPECT_TRUE(stats.stores_refused.empty());
  // Any count between the two forms is malformed.
  Raw between;
  between.Header(MessageType::kStatsReply, 20);
  for (int i = 0; i < 20; ++i) between.Uint(0);
  ExpectRejected(between.bytes(), "stats_reply has 24 fields; expected 27");
}

TEST(WireCodecTest, AcceptsStatsFromPeersKnowingMoreOrFewerTypes) {
  // An older peer counts 11 types, a newer one more: both are fine.
  for (size_t per_type : {size_t{0}, size_t{11}, kMaxStatsMessageTypes}) {
    SCOPED_TRACE(per_type);
    RawStatsReply other_version;
    other_version.per_type = per_type;
    absl::StatusOr<Message> decoded =
        DecodeMessage(other_version.bytes(), kNow);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    const auto& stats = std::get<StatsReply>(decoded->body);
    EXPECT_EQ(stats.messages_in.size(), per_type);
    EXPECT_EQ(stats.messages_out.size(), per_type);
  }
}

// Writes an offer from summaries [key, seq, digest] the test controls.
Raw RawOffer(size_t count) {
  Raw raw;
  raw.Header(MessageType::kOffer, 1).Array(count);
  return raw;
}

TEST(WireCodecTest, AcceptsHandWrittenOffer) {
  // Guards the rejection tests below: the same builder makes valid input.
  Raw raw = RawOffer(1);
  raw.Array(3).Bin("k").Uint(9).Bin(std::string(16, '\x01'));
  absl::StatusOr<Message> decoded = DecodeMessage(raw.bytes(), kNow);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded,
            Make(7, Id(1),
                 Offer{{RecordSummary{
                     "k", 9, {0x0101010101010101, 0x0101010101010101}}}}));
}

TEST(WireCodecTest, RejectsMalformedOffers) {
  auto one = [](std::string_view key, std::string_view digest) {
    Raw raw = RawOffer(1);
    return raw.Array(3).Bin(key).Uint(1).Bin(digest).bytes();
  };
  const std::string digest(16, 'd');
  ExpectRejected(one("", digest), "key: expected 1..128 bytes, got 0");
  ExpectRejected(one(std::string(129, 'k'), digest), "got 129");
  ExpectRejected(one("k", std::string(15, 'd')),
                 "digest: expected 16 bytes, got 15");
  ExpectRejected(one("k", std::string(17, 'd')),
                 "digest: expected 16 bytes, got 17");
  Raw short_summary = RawOffer(1);
  short_summary.Array(2).Bin("k").Uint(1);
  ExpectRejected(short_summary.bytes(), "summary: expected 3 elements, got 2");
  Raw str_digest = RawOffer(1);
  str_digest.Array(3).Bin("k").Uint(1).Str(digest);
  ExpectRejected(str_digest.bytes(), "digest: expected bin, got str");
  Raw too_many = RawOffer(kMaxOfferSummaries + 1);
  for (size_t i = 0; i <= kMaxOfferSummaries; ++i) {
    too_many.Array(3).Bin("k").Uint(1).Bin(digest);
  }
  ExpectRejected(too_many.bytes(), "summaries: 41 elements; the limit is 40");
  ExpectRejected(Raw().Header(MessageType::kOffer, 1).Nil().bytes(),
                 "summaries: expected array, got nil");
  ExpectRejected(Raw().Header(MessageType::kOffer, 0).bytes(),
                 "offer has 4 fields; expected 5");
}

TEST(WireCodecTest, RejectsMalformedOfferReplies) {
  auto reply = [](std::vector<uint64_t> wanted) {
    Raw raw;
    raw.Header(MessageType::kOfferReply, 2).Array(wanted.size());
    for (uint64_t index : wanted) raw.Uint(index);
    return raw.Bin("tok").bytes();
  };
  ASSERT_TRUE(DecodeMessage(reply({0, 3, 39}), kNow).ok());
  ExpectRejected(reply({40}), "wanted: 40 is out of range (max 39)");
  ExpectRejected(reply({3, 3}), "index 3 after 3; indices must ascend");
  ExpectRejected(reply({4, 2}), "index 2 after 4; indices must ascend");
  ExpectRejected(Raw()
                     .Header(MessageType::kOfferReply, 2)
                     .Array(1)
                     .Int8(-1)
                     .Bin("")
                     .bytes(),
                 "wanted: expected uint, got negative int");
  ExpectRejected(Raw()
                     .Header(MessageType::kOfferReply, 2)
                     .Array(0)
                     .Bin(std::string(kMaxTokenBytes + 1, 't'))
                     .bytes(),
                 "token: expected 0..32 bytes, got 33");
  ExpectRejected(Raw().Header(MessageType::kOfferReply, 1).Array(0).bytes(),
                 "offer_reply has 5 fields; expected 6");
}

TEST(WireCodecTest, OffersPackedWithinTheBudgetFit) {
  // What the replicator relies on: summaries whose OfferSummaryBytes sum to
  // at most kOfferSummaryBudget fit one datagram, whatever their keys.
  for (size_t key_bytes : {size_t{1}, size_t{20}, storage::kMaxKeyBytes}) {
    SCOPED_TRACE(key_bytes);
    Offer offer;
    size_t budget = 0;
    for (size_t i = 0; i < kMaxOfferSummaries; ++i) {
      RecordSummary summary{std::string(key_bytes, static_cast<char>('a' + i)),
                            std::numeric_limits<uint64_t>::max(),
                            {~0ull, ~0ull}};
      if (budget + OfferSummaryBytes(summary) > kOfferSummaryBudget) break;
      budget += OfferSummaryBytes(summary);
      offer.summaries.push_back(summary);
    }
    std::vector<uint8_t> bytes = Encode(Make(0xffffffff, Id(1), offer));
    EXPECT_LE(bytes.size(), kMaxDatagramBytes);
    EXPECT_GE(bytes.size() + OfferSummaryBytes(offer.summaries.back()),
              kMaxDatagramBytes - 33)
        << "the budget should not waste a summary's room";
  }
}

TEST(WireCodecTest, RejectsMalformedStats) {
  ExpectRejected(Raw().Header(MessageType::kStats, 1).Nil().bytes(),
                 "stats has 5 fields; expected 4");
  Raw short_reply;
  short_reply.Header(MessageType::kStatsReply, 18);
  for (int i = 0; i < 18; ++i) short_reply.Uint(0);
  ExpectRejected(short_reply.bytes(), "stats_reply has 22 fields; expected 27");
  RawStatsReply too_many;
  too_many.buckets = [](Raw& raw) {
    raw.Array(kMaxStatsBuckets + 1);
    for (size_t i = 0; i <= kMaxStatsBuckets; ++i) raw.Array(0);
  };
  ExpectRejected(too_many.bytes(), "invalid msgpack");
  RawStatsReply over_prefix;
  over_prefix.buckets = [](Raw& raw) {
    raw.Array(1).Array(2).Uint(160).Uint(1);
  };
  ExpectRejected(over_prefix.bytes(), "prefix_length: 160 is out of range");
  RawStatsReply over_contacts;
  over_contacts.buckets = [](Raw& raw) {
    raw.Array(1).Array(2).Uint(1).Uint(256);
  };
  ExpectRejected(over_contacts.bytes(), "contacts: 256 is out of range");
  RawStatsReply short_bucket;
  short_bucket.buckets = [](Raw& raw) { raw.Array(1).Array(1).Uint(1); };
  ExpectRejected(short_bucket.bytes(), "bucket: expected 2 elements, got 1");
  RawStatsReply nil_buckets;
  nil_buckets.buckets = [](Raw& raw) { raw.Nil(); };
  ExpectRejected(nil_buckets.bytes(), "buckets: expected array, got nil");
  RawStatsReply too_many_types;
  too_many_types.per_type = kMaxStatsMessageTypes + 1;
  ExpectRejected(too_many_types.bytes(),
                 "messages_in: 65 elements; the limit is 64");
  RawStatsReply nil_types;
  nil_types.per_type_nil = true;
  ExpectRejected(nil_types.bytes(), "messages_in: expected array, got nil");
  RawStatsReply short_latency;
  short_latency.latency_fields = 3;
  ExpectRejected(short_latency.bytes(),
                 "lookup_latency: expected 4 elements, got 3");
}

TEST(WireCodecTest, RejectsNonArraysMapsFloatsAndDeepNesting) {
  ExpectRejected(Raw().Uint(1).bytes(), "expected an array, got uint");
  ExpectRejected(Raw().Byte(0x80).bytes(), "expected an array, got map");
  ExpectRejected(Raw().Byte(0x81).Uint(1).Uint(1).bytes(), "invalid msgpack");
  ExpectRejected(Raw()
                     .Array(4)
                     .Byte(0xca)
                     .BigEndian(0x3f800000, 4)
                     .Uint(0)
                     .Uint(1)
                     .Nil()
                     .bytes(),
                 "version: expected uint, got float");
  ExpectRejected(Raw().Byte(0xc1).bytes(), "invalid msgpack");
  ExpectRejected(Raw().Byte(0xd4).Byte(1).Byte(0).bytes(), "invalid msgpack");
  ExpectRejected(Raw().Array(161).Append(std::string(161, '\0')).bytes(),
                 "invalid msgpack");
  ExpectRejected(Raw().Array(1).Array(1).Array(1).Array(1).Array(0).bytes(),
                 "invalid msgpack");
}

// What a datagram that is not well-formed msgpack, or breaks the reader's
// limits, is refused with: each reason exactly, as the decoder built on
// msgpack::unpack gave it. Such a fault anywhere in the message is reported
// before a field error met earlier in the bytes, and trailing bytes after
// the message before a field error too.
TEST(WireCodecTest, RefusesMalformedMsgpackWithTheSameReasonsAsBefore) {
  const std::string deep_open(1000, '\x91');
  struct Case {
    const char* what;
    std::vector<uint8_t> datagram;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"empty", {}, "truncated"},
      {"0xc1, never used", Raw().Byte(0xc1).bytes(),
       "invalid msgpack (parse error)"},
      {"array 32 announcing 2^32-1 elements",
       Raw().Byte(0xdd).BigEndian(0xffffffff, 4).bytes(),
       "invalid msgpack (array size overflow)"},
      {"array of 161 elements", Raw().Array(161).bytes(),
       "invalid msgpack (array size overflow)"},
      {"contact list announcing 2^32-1 contacts",
       Raw()
           .Header(MessageType::kNodes, 2)
           .Byte(0xdd)
           .BigEndian(0xffffffff, 4)
           .bytes(),
       "invalid msgpack (array size overflow)"},
      {"arrays nested 5 deep",
       Raw().Array(1).Array(1).Array(1).Array(1).Array(1).Uint(0).bytes(),
       "invalid msgpack (depth size overflow)"},
      {"1,000 nested array headers", Raw().Append(deep_open).bytes(),
       "invalid msgpack (depth size overflow)"},
      {"4 deep is within the limit",
       Raw().Array(1).Array(1).Array(1).Array(0).bytes(),
       "version: expected uint, got array"},
      {"map with an entry", Raw().Byte(0x81).Uint(1).Uint(1).bytes(),
       "invalid msgpack (map size overflow)"},
      {"map 32 announcing 2^32-1 entries",
       Raw().Byte(0xdf).BigEndian(0xffffffff, 4).bytes(),
       "invalid msgpack (map size overflow)"},
      {"empty map where a field is expected",
       Raw().Array(4).Byte(0x80).Uint(0).Uint(1).Nil().bytes(),
       "version: expected uint, got map"},
      {"empty map 5 deep",
       Raw().Array(1).Array(1).Array(1).Array(1).Byte(0x80).bytes(),
       "invalid msgpack (depth size overflow)"},
      {"fixext 1", Raw().Byte(0xd4).Byte(1).Byte(0).bytes(),
       "invalid msgpack (ext size overflow)"},
      {"ext 8 of no bytes", Raw().Byte(0xc7).Byte(0).Byte(5).bytes(),
       "invalid msgpack (ext size overflow)"},
      {"fixext 1 cut short", Raw().Byte(0xd4).Byte(1).bytes(), "truncated"},
      {"ext 32 announcing 2^32-1 bytes",
       Raw().Byte(0xc9).BigEndian(0xffffffff, 4).Byte(0).bytes(), "truncated"},
      {"bin past the end", Raw().Byte(0xc4).Byte(5).Byte(1).bytes(),
       "truncated"},
      {"str 32 announcing 2^32-1 bytes",
       Raw().Byte(0xdb).BigEndian(0xffffffff, 4).bytes(), "truncated"},
      {"uint 64 cut short", Raw().Byte(0xcf).BigEndian(1, 4).bytes(),
       "truncated"},
      {"negative int", Raw().Array(4).Int8(-1).Uint(0).Uint(1).Nil().bytes(),
       "version: expected uint, got negative int"},
      {"negative fixint",
       Raw().Array(4).Byte(0xff).Uint(0).Uint(1).Nil().bytes(),
       "version: expected uint, got negative int"},
      {"float 64",
       Raw().Array(4).Byte(0xcb).BigEndian(0, 8).Uint(0).Uint(1).Nil().bytes(),
       "version: expected uint, got float"},
      {"bool", Raw().Array(4).Byte(0xc3).Uint(0).Uint(1).Nil().bytes(),
       "version: expected uint, got bool"},
      {"a field error, then 0xc1",
       Raw().Array(4).Str("1").Uint(0).Uint(1).Byte(0xc1).bytes(),
       "invalid msgpack (parse error)"},
      {"a field error, then the message cut short",
       Raw().Array(4).Str("1").Uint(0).bytes(), "truncated"},
      {"a field error, then trailing bytes",
       Raw().Array(4).Uint(2).Uint(0).Uint(1).Nil().Nil().bytes(),
       "1 trailing bytes after the message"},
      {"a field error, then unread arrays nested too deep",
       Raw()
           .Array(5)
           .Uint(2)
           .Uint(0)
           .Uint(1)
           .Nil()
           .Array(1)
           .Array(1)
           .Array(1)
           .Array(0)
           .bytes(),
       "invalid msgpack (depth size overflow)"},
      {"a field error, then an unread array of 161 elements",
       Raw().Header(MessageType::kFindNode, 1).Array(161).bytes(),
       "invalid msgpack (array size overflow)"},
      {"a field error, then an unread empty map",
       Raw().Array(4).Uint(2).Uint(0).Uint(1).Byte(0x80).bytes(),
       "unsupported protocol version 2 (expected 1)"},
      {"too many contacts, then an unread ext",
       Raw()
           .Header(MessageType::kNodes, 2)
           .Array(21)
           .Byte(0xd4)
           .Byte(1)
           .Byte(0)
           .bytes(),
       "invalid msgpack (ext size overflow)"},
      {"a scalar, then trailing bytes", Raw().Uint(1).Uint(1).bytes(),
       "1 trailing bytes after the message"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    absl::StatusOr<Message> decoded = DecodeMessage(c.datagram, kNow);
    ASSERT_FALSE(decoded.ok()) << ToHex(c.datagram);
    EXPECT_EQ(decoded.status(), absl::InvalidArgumentError(absl::StrCat(
                                    "malformed datagram: ", c.reason)));
  }
}

TEST(WireCodecTest, AcceptsAnyArrayForm) {
  // A ping whose top-level array is written as array 16 and as array 32.
  const std::vector<uint8_t> fix =
      Raw().Array(4).Uint(1).Uint(0).Uint(7).Nil().bytes();
  for (const std::vector<uint8_t>& header :
       {Raw().Byte(0xdc).BigEndian(4, 2).bytes(),
        Raw().Byte(0xdd).BigEndian(4, 4).bytes()}) {
    std::vector<uint8_t> datagram = header;
    datagram.insert(datagram.end(), fix.begin() + 1, fix.end());
    absl::StatusOr<Message> decoded = DecodeMessage(datagram, kNow);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, Make(7, std::nullopt, Ping{}));
  }
}

TEST(WireCodecTest, RejectsRandomBytes) {
  std::mt19937_64 gen(20240601);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> bytes(gen() % 80);
    for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(gen());
    absl::StatusOr<Message> decoded = DecodeMessage(bytes, kNow);
    ASSERT_FALSE(decoded.ok()) << ToHex(bytes);
    ASSERT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(WireCodecTest, MutatedGoldensAreRejectedOrRoundTrip) {
  std::mt19937_64 gen(7);
  int accepted = 0;
  for (const Golden& golden : Goldens()) {
    const std::vector<uint8_t> original = FromHex(golden.hex);
    for (int i = 0; i < 2000; ++i) {
      std::vector<uint8_t> bytes = original;
      for (int flips = 1 + gen() % 3; flips > 0; --flips) {
        bytes[gen() % bytes.size()] = static_cast<uint8_t>(gen());
      }
      absl::StatusOr<Message> decoded = DecodeMessage(bytes, kNow);
      if (!decoded.ok()) {
        ASSERT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
        continue;
      }
      ++accepted;
      absl::StatusOr<std::vector<uint8_t>> again =
          EncodeMessage(*decoded, kNow);
      ASSERT_TRUE(again.ok()) << again.status() << " for " << ToHex(bytes);
      absl::StatusOr<Message> redecoded = DecodeMessage(*again, kNow);
      ASSERT_TRUE(redecoded.ok()) << redecoded.status();
      ASSERT_EQ(*redecoded, *decoded) << ToHex(bytes);
    }
  }
  // Most flips land in ids and byte strings, so both outcomes occur.
  EXPECT_GT(accepted, 0);
}

TEST(WireCodecTest, EncodeRefusesOutOfRangeFields) {
  auto expect_refused = [](const Message& message, std::string_view reason) {
    absl::StatusOr<std::vector<uint8_t>> bytes = EncodeMessage(message, kNow);
    ASSERT_FALSE(bytes.ok());
    EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(bytes.status().message()),
                HasSubstr(std::string(reason)));
  };
  storage::Record big_value = HelloRecord();
  big_value.value = std::string(storage::kMaxValueBytes + 1, 'v');
  expect_refused(Make(1, Id(1), Store{big_value, ""}), "value is 1001 bytes");
  storage::Record big_key = HelloRecord();
  big_key.key = std::string(storage::kMaxKeyBytes + 1, 'k');
  expect_refused(Make(1, Id(1), Value{big_key, {}, ""}), "key is 129 bytes");
  expect_refused(Make(1, Id(1), Store{storage::Record{}, ""}), "key is empty");
  expect_refused(Make(1, Id(1), FindValue{""}), "key is empty");
  expect_refused(
      Make(1, Id(1), FindValue{std::string(storage::kMaxKeyBytes + 1, 'k')}),
      "key is 129 bytes");
  expect_refused(
      Make(1, Id(1), Nodes{Ipv6Contacts(kMaxContactsPerMessage + 1), ""}),
      "21 contacts; the limit is 20");
  expect_refused(
      Make(1, Id(1), Nodes{{}, std::string(kMaxTokenBytes + 1, 't')}),
      "token is 33 bytes");
  expect_refused(Make(1, Id(1),
                      Error{ErrorCode::kInternal,
                            std::string(kMaxErrorReasonBytes + 1, 'r')}),
                 "error reason is 201 bytes");
  expect_refused(Make(1, Id(1), Error{static_cast<ErrorCode>(0), "r"}),
                 "unknown error code 0");
  expect_refused(Make(1, Id(1), Error{static_cast<ErrorCode>(10), "r"}),
                 "unknown error code 10");
  storage::Record big_signed = LargestSignedRecord();
  big_signed.value.push_back('v');
  expect_refused(Make(1, Id(1), Store{big_signed, ""}),
                 "value is 951 bytes; the limit is 950 for a signed record");
  StatsReply too_many_buckets = LargestStatsReply();
  too_many_buckets.buckets.push_back({0, 0});
  expect_refused(Make(1, Id(1), too_many_buckets),
                 "buckets: 161 elements; the limit is 160");
  StatsReply bad_bucket;
  bad_bucket.buckets = {{160, 1}};
  expect_refused(Make(1, Id(1), bad_bucket),
                 "prefix_length: 160 is out of range (max 159)");
  bad_bucket.buckets = {{3, 256}};
  expect_refused(Make(1, Id(1), bad_bucket),
                 "contacts: 256 is out of range (max 255)");
  Offer too_many = LargestOffer(1);
  too_many.summaries.push_back(too_many.summaries.front());
  expect_refused(Make(1, Id(1), too_many),
                 "summaries: 41 elements; the limit is 40");
  expect_refused(Make(1, Id(1), Offer{{RecordSummary{"", 1, {}}}}),
                 "key is empty");
  expect_refused(Make(1, Id(1), OfferReply{{2, 1}, ""}),
                 "wanted: index 1 is out of order");
  expect_refused(Make(1, Id(1), OfferReply{{kMaxOfferSummaries}, ""}),
                 "wanted: index 40 is out of order or not below 40");
  StatsReply too_many_types;
  too_many_types.messages_in.assign(kMaxStatsMessageTypes + 1, 0);
  expect_refused(Make(1, Id(1), too_many_types),
                 "messages_in: 65 elements; the limit is 64");
  StatsReply too_many_codes;
  too_many_codes.stores_refused.assign(kMaxStatsErrorCodes + 1, 0);
  expect_refused(Make(1, Id(1), too_many_codes),
                 "stores_refused: 33 elements; the limit is 32");
  // Each field is in range, but together they overflow the datagram.
  expect_refused(Make(1, Id(1), LargestOffer(storage::kMaxKeyBytes)),
                 "the datagram limit is 1280");
  expect_refused(
      Make(1, Id(1),
           Value{LargestRecord(), Ipv6Contacts(kMaxContactsPerMessage), ""}),
      "the datagram limit is 1280");
}

}  // namespace
}  // namespace kad::dht
