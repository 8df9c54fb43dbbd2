// Message: the protocol's messages as plain values, independent of their
// encoding (dht/wire_codec.h turns them into bytes and back; the wire
// format is documented in docs/PROTOCOL.md).
//
// Every datagram carries one Message: a header (version, type, transaction
// id, sender id) and a body whose alternative determines the type.
//
//   request                 response
//   Ping                    Pong
//   FindNode(target)        Nodes(closest contacts, write token)
//   FindValue(key)          Value(record?, closest contacts, write token)
//   Store(record, token)    Stored
//   Stats                   StatsReply(the responder's counters)
//   Offer(record summaries) OfferReply(which ones it wants, write token)
//   any of the above        Error(code, reason)
//
// Offer is replication's digest-first step (dht/replicator.h): a holder
// lists (key, seq, digest) of records, the peer names those it lacks or
// holds older, and only those then travel, as Store.
//
// A sender id of nullopt marks a read-only client (a one-shot CLI command):
// the receiver answers it but never adds it to its routing table.
#ifndef KAD_DHT_MESSAGE_H_
#define KAD_DHT_MESSAGE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "dht/contact.h"
#include "dht/node_id.h"
#include "dht/node_stats.h"
#include "storage/record.h"

namespace kad::dht {

inline constexpr uint8_t kProtocolVersion = 1;
// No encoded datagram exceeds this: it crosses any IPv6 path unfragmented.
inline constexpr size_t kMaxDatagramBytes = 1280;
// At most this many contacts travel in one Nodes/Value response.
inline constexpr size_t kMaxContactsPerMessage = 20;
// Write tokens are opaque to everyone but their issuer; at most this long.
inline constexpr size_t kMaxTokenBytes = 32;
inline constexpr size_t kMaxErrorReasonBytes = 200;
// A StatsReply lists at most this many buckets (a routing table's most)...
inline constexpr size_t kMaxStatsBuckets = NodeId::kBits;
// ...each with a prefix length below kMaxStatsBuckets and at most this many
// contacts (a bucket holds at most kMaxContactsPerMessage), so that the
// largest reply still fits one datagram.
inline constexpr uint32_t kMaxStatsBucketContacts = 255;
// A StatsReply counts messages for at most this many types (one per type
// its sender knows; kMessageTypeCount for this version).
inline constexpr size_t kMaxStatsMessageTypes = 64;
// A StatsReply counts refused stores for at most this many error codes (one
// per code its sender knows; kErrorCodeCount for this version).
inline constexpr size_t kMaxStatsErrorCodes = 32;
// At most this many record summaries travel in one Offer (and so at most
// this many indices in an OfferReply); 40 summaries of 1-byte keys are the
// most that fit one datagram.
inline constexpr size_t kMaxOfferSummaries = 40;

using TransactionId = uint32_t;

// Wire values of the message types; never renumber.
enum class MessageType : uint8_t {
  kPing = 0,
  kPong = 1,
  kFindNode = 2,
  kNodes = 3,
  kFindValue = 4,
  kValue = 5,
  kStore = 6,
  kStored = 7,
  kError = 8,
  kStats = 9,
  kStatsReply = 10,
  kOffer = 11,
  kOfferReply = 12,
};

// Wire values of error codes; never renumber.
enum class ErrorCode : uint8_t {
  kMalformed = 1,       // The request could not be decoded.
  kBadToken = 2,        // Store with a missing, expired or foreign token.
  kRecordRejected = 3,  // Store of an invalid record (too large, expired).
  kStoreFull = 4,       // The storing node's quota is exhausted.
  kInternal = 5,
  kForbidden = 6,       // The requester may not see this (stats access).
  // Store refused: the node holds a newer version, the same seq with
  // another value, a proven record where an open one was offered, or
  // another seq than the compare-and-swap expected. Carries the held seq.
  kConflict = 7,
  // Store of a key this node does not hold, refused because the node knows
  // at least k + slack contacts closer to it (dht/store_admission.h).
  kNotClosest = 8,
  // Store of a key this node does not hold, refused because the source's
  // /24 (IPv4) or /64 (IPv6) already holds its share of the store.
  kSourceQuota = 9,
};
static_assert(static_cast<size_t>(ErrorCode::kSourceQuota) + 1 ==
              kErrorCodeCount);

struct Ping {
  friend bool operator==(const Ping&, const Ping&) = default;
};
struct Pong {
  // The address the request came from, as the responder saw it.
  net::Endpoint observed;
  friend bool operator==(const Pong&, const Pong&) = default;
};
struct FindNode {
  NodeId target;
  friend bool operator==(const FindNode&, const FindNode&) = default;
};
struct Nodes {
  std::vector<Contact> closest;
  std::string token;
  // The address the request came from, as the responder saw it (a
  // trailing extension: absent in answers from nodes that predate it).
  std::optional<net::Endpoint> observed{};
  friend bool operator==(const Nodes&, const Nodes&) = default;
};
// Carries the key itself, not just its id (a departure from the paper's
// find_value(key_id)): the responder looks the record up by key with no
// second index, and computes the key id for the closest nodes. Keys are at
// most storage::kMaxKeyBytes, so this always fits the datagram.
struct FindValue {
  std::string key;
  friend bool operator==(const FindValue&, const FindValue&) = default;
};
struct Value {
  std::optional<storage::Record> record;  // Present if the responder has it.
  // With a record, as many as fit in the datagram beside it.
  std::vector<Contact> closest;
  std::string token;
  std::optional<net::Endpoint> observed{};  // As in Nodes.
  friend bool operator==(const Value&, const Value&) = default;
};
struct Store {
  storage::Record record;
  std::string token;
  // Compare-and-swap: store only if the node holds no record for the key
  // or holds exactly this seq.
  std::optional<uint64_t> expected_seq{};
  friend bool operator==(const Store&, const Store&) = default;
};
struct Stored {
  friend bool operator==(const Stored&, const Stored&) = default;
};
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string reason;
  std::optional<uint64_t> held_seq{};  // With kConflict: the seq held.
  friend bool operator==(const Error&, const Error&) = default;
};

// Asks a node for its counters. A node answers it only to loopback and to
// the subnets of NodeOptions::stats_allow; others get Error{kForbidden}.
struct Stats {
  friend bool operator==(const Stats&, const Stats&) = default;
};
struct BucketCount {
  uint32_t prefix_length = 0;  // The bucket's CPL (the minimum, for the last).
  uint32_t contacts = 0;
  friend bool operator==(const BucketCount&, const BucketCount&) = default;
};
// Lookup durations in microseconds, over the responder's recent lookups.
struct LatencyPercentiles {
  uint64_t p50_us = 0;
  uint64_t p90_us = 0;
  uint64_t p99_us = 0;
  uint64_t max_us = 0;
  friend bool operator==(const LatencyPercentiles&,
                         const LatencyPercentiles&) = default;
};
// The responder's counters (its id is the message's sender). The counter
// fields mean what their namesakes in NodeStats mean.
struct StatsReply {
  uint64_t uptime_seconds = 0;
  std::vector<BucketCount> buckets;  // In bucket order.
  uint64_t records = 0;              // Live records held...
  uint64_t record_bytes = 0;         // ...and their footprint.
  uint64_t datagrams_in = 0;
  uint64_t datagrams_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t malformed_in = 0;
  uint64_t unmatched_responses = 0;
  // Indexed by MessageType value, one count per type the sender knows
  // (kMessageTypeCount here; a peer of another version may send more or
  // fewer, at most kMaxStatsMessageTypes).
  std::vector<uint64_t> messages_in;
  std::vector<uint64_t> messages_out;
  uint64_t rpc_timeouts = 0;
  uint64_t rpc_failures = 0;
  uint64_t lookups_started = 0;
  uint64_t lookups_finished = 0;
  LatencyPercentiles lookup_latency;
  uint64_t stores_accepted = 0;
  uint64_t stores_rejected = 0;
  // Added after the first 19 fields; 0 from a peer that sends only those.
  uint64_t requests_dropped = 0;      // NodeStats::requests_refused
  uint64_t sources_banned = 0;        // AdmissionStats::bans
  uint64_t reply_bytes_withheld = 0;  // NodeStats::reply_bytes_withheld
  // Refused stores by ErrorCode value (NodeStats::stores_refused), one per
  // code the sender knows (kErrorCodeCount here), at most
  // kMaxStatsErrorCodes.
  std::vector<uint64_t> stores_refused;
  friend bool operator==(const StatsReply&, const StatsReply&) = default;
};

// What an Offer says about one record: enough to decide, without the
// value, whether the receiver lacks it or holds an older version.
struct RecordSummary {
  std::string key;
  uint64_t seq = 0;
  storage::RecordDigest digest;  // storage::DigestOf the value.
  friend bool operator==(const RecordSummary&, const RecordSummary&) = default;
};
// Replication's first step: "I hold these records; which do you want?"
struct Offer {
  std::vector<RecordSummary> summaries;  // At most kMaxOfferSummaries.
  friend bool operator==(const Offer&, const Offer&) = default;
};
// The records the responder lacks or holds an older version of, as
// strictly ascending indices into the offer's summaries, and a write token
// for the Stores that bring them (empty when nothing is wanted).
struct OfferReply {
  std::vector<uint32_t> wanted;
  std::string token;
  friend bool operator==(const OfferReply&, const OfferReply&) = default;
};

// Alternatives in MessageType order: body.index() is the wire type.
using Body = std::variant<Ping, Pong, FindNode, Nodes, FindValue, Value, Store,
                          Stored, Error, Stats, StatsReply, Offer, OfferReply>;
static_assert(std::variant_size_v<Body> == kMessageTypeCount);

struct Message {
  TransactionId transaction_id = 0;
  std::optional<NodeId> sender;  // nullopt: read-only client.
  Body body;

  MessageType type() const { return static_cast<MessageType>(body.index()); }
  bool is_request() const {
    auto t = type();
    return t == MessageType::kPing || t == MessageType::kFindNode ||
           t == MessageType::kFindValue || t == MessageType::kStore ||
           t == MessageType::kStats || t == MessageType::kOffer;
  }
  friend bool operator==(const Message&, const Message&) = default;
};

// Returns "ping", "find_node", ... for logs and stats.
const char* MessageTypeName(MessageType type);
// Returns "malformed", "bad_token", ..., "source_quota": the code's name in
// stats and `kad put` output; "code_<n>" is the caller's for unknown ones.
const char* ErrorCodeName(ErrorCode code);
// Returns "source_quota 3, not_closest 1": the non-zero counts of
// `by_code` (indexed by ErrorCode wire value) by name, largest first;
// empty if all are zero.
std::string RefusalCountsText(std::span<const int> by_code);

}  // namespace kad::dht

#endif  // KAD_DHT_MESSAGE_H_
