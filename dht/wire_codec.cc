#include "dht/wire_codec.h"

#include <array>
#include <exception>
#include <limits>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dht/msgpack_cursor.h"
#include "dht/wire_fields.h"

namespace kad::dht {
namespace {

using wire::FieldReader;
using wire::FieldWriter;

constexpr size_t kHeaderFields = 4;
constexpr uint64_t kMaxMessageType =
    static_cast<uint64_t>(MessageType::kOfferReply);
constexpr size_t kBucketFields = 2;
constexpr size_t kLatencyFields = 4;
constexpr uint64_t kMaxUint64 = std::numeric_limits<uint64_t>::max();
// A stats_reply of a node from before the abuse counters has only its
// first 19 fields; it is still read, those counters left at 0.
constexpr size_t kStatsReplyFirstFields = 19;

// Body fields per message type, indexed by the type's wire value.
constexpr std::array<size_t, kMaxMessageType + 1> kBodyFields = {
    0,   // ping
    1,   // pong: observed endpoint
    1,   // find_node: target
    2,   // nodes: closest, token
    1,   // find_value: key
    3,   // value: record or nil, closest, token
    3,   // store: record, token, expected seq or nil
    0,   // stored
    3,   // error: code, reason, held seq or nil
    0,   // stats
    23,  // stats_reply: uptime, buckets, ..., stores_refused
    1,   // offer: summaries
    2,   // offer_reply: wanted, token
};

// Trailing body fields a type may carry beyond kBodyFields (extensions
// that older senders leave out), by wire value.
constexpr std::array<size_t, kMaxMessageType + 1> kOptionalFields = {
    0, 0, 0,
    1,  // nodes: observed endpoint
    0,
    1,  // value: observed endpoint
    0, 0, 0, 0, 0, 0, 0,
};

// Returns how many of its optional trailing fields `body` carries.
size_t OptionalFieldsOf(const Body& body) {
  if (const auto* nodes = std::get_if<Nodes>(&body)) {
    return nodes->observed.has_value() ? 1 : 0;
  }
  if (const auto* value = std::get_if<Value>(&body)) {
    return value->observed.has_value() ? 1 : 0;
  }
  return 0;
}

absl::Status Malformed(std::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed datagram: ", std::string(reason)));
}

// ---------------------------------------------------------------- encoding

void WriteBody(FieldWriter&, const Ping&) {}
void WriteBody(FieldWriter& w, const Pong& pong) { w.Endpoint(pong.observed); }
void WriteBody(FieldWriter& w, const FindNode& find) {
  w.Bin(find.target.span());
}
void WriteBody(FieldWriter& w, const Nodes& nodes) {
  w.Contacts(nodes.closest);
  w.Token(nodes.token);
  w.TrailingEndpoint(nodes.observed);
}
void WriteBody(FieldWriter& w, const FindValue& find) { w.Key(find.key); }
void WriteBody(FieldWriter& w, const Value& value) {
  if (value.record.has_value()) {
    w.Record(*value.record);
  } else {
    w.Nil();
  }
  w.Contacts(value.closest);
  w.Token(value.token);
  w.TrailingEndpoint(value.observed);
}
void WriteBody(FieldWriter& w, const Store& store) {
  w.Record(store.record);
  w.Token(store.token);
  w.OptionalUint(store.expected_seq);
}
void WriteBody(FieldWriter&, const Stored&) {}
void WriteBody(FieldWriter& w, const Error& error) {
  w.Code(error.code);
  w.Reason(error.reason);
  w.OptionalUint(error.held_seq);
}
void WriteBody(FieldWriter&, const Stats&) {}

void WriteBuckets(FieldWriter& w, const std::vector<BucketCount>& buckets) {
  w.BoundedArray("buckets", buckets.size(), kMaxStatsBuckets);
  for (const BucketCount& bucket : buckets) {
    w.Array(kBucketFields);
    w.BoundedUint("prefix_length", bucket.prefix_length, kMaxStatsBuckets - 1);
    w.BoundedUint("contacts", bucket.contacts, kMaxStatsBucketContacts);
  }
}

void WriteCounts(FieldWriter& w, std::string_view field,
                 const std::vector<uint64_t>& counts, size_t max) {
  w.BoundedArray(field, counts.size(), max);
  for (uint64_t count : counts) w.Uint(count);
}

void WriteBody(FieldWriter& w, const StatsReply& stats) {
  w.Uint(stats.uptime_seconds);
  WriteBuckets(w, stats.buckets);
  for (uint64_t counter :
       {stats.records, stats.record_bytes, stats.datagrams_in,
        stats.datagrams_out, stats.bytes_in, stats.bytes_out,
        stats.malformed_in, stats.unmatched_responses}) {
    w.Uint(counter);
  }
  WriteCounts(w, "messages_in", stats.messages_in, kMaxStatsMessageTypes);
  WriteCounts(w, "messages_out", stats.messages_out, kMaxStatsMessageTypes);
  for (uint64_t counter : {stats.rpc_timeouts, stats.rpc_failures,
                           stats.lookups_started, stats.lookups_finished}) {
    w.Uint(counter);
  }
  const LatencyPercentiles& latency = stats.lookup_latency;
  w.Array(kLatencyFields);
  for (uint64_t us :
       {latency.p50_us, latency.p90_us, latency.p99_us, latency.max_us}) {
    w.Uint(us);
  }
  for (uint64_t counter :
       {stats.stores_accepted, stats.stores_rejected, stats.requests_dropped,
        stats.sources_banned, stats.reply_bytes_withheld}) {
    w.Uint(counter);
  }
  WriteCounts(w, "stores_refused", stats.stores_refused, kMaxStatsErrorCodes);
}

void WriteBody(FieldWriter& w, const Offer& offer) {
  w.Summaries(offer.summaries);
}
void WriteBody(FieldWriter& w, const OfferReply& reply) {
  w.Wanted(reply.wanted);
  w.Token(reply.token);
}

absl::StatusOr<std::vector<uint8_t>> EncodeOrFail(const Message& message,
                                                  absl::Time now) {
  // Packed into a buffer kept per thread, then copied out at its size: a
  // fresh reservation of kMaxDatagramBytes per message is a large-bin
  // request to glibc's malloc, which first merges every free small chunk
  // it holds (malloc_consolidate), once per datagram.
  thread_local std::vector<uint8_t> out;
  out.clear();
  out.reserve(kMaxDatagramBytes);
  FieldWriter w(out, now);
  w.Array(kHeaderFields + kBodyFields[message.body.index()] +
          OptionalFieldsOf(message.body));
  w.Uint(kProtocolVersion);
  w.Uint(message.body.index());
  w.Uint(message.transaction_id);
  w.Sender(message.sender);
  std::visit([&w](const auto& body) { WriteBody(w, body); }, message.body);
  if (!w.status().ok()) return w.status();
  if (out.size() > kMaxDatagramBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        MessageTypeName(message.type()), " message is ", out.size(),
        " bytes; the datagram limit is ", kMaxDatagramBytes));
  }
  return std::vector<uint8_t>(out.begin(), out.end());
}

// ---------------------------------------------------------------- decoding

std::vector<BucketCount> ReadBuckets(FieldReader& r) {
  size_t count = 0;
  FieldReader list = r.List("buckets", kMaxStatsBuckets, &count);
  std::vector<BucketCount> buckets(count);
  for (BucketCount& bucket : buckets) {
    FieldReader fields = list.Nested("bucket", kBucketFields);
    bucket.prefix_length = static_cast<uint32_t>(
        fields.Uint("prefix_length", kMaxStatsBuckets - 1));
    bucket.contacts =
        static_cast<uint32_t>(fields.Uint("contacts", kMaxStatsBucketContacts));
  }
  return buckets;
}

std::vector<uint64_t> ReadCounts(FieldReader& r, std::string_view field,
                                 size_t max) {
  size_t size = 0;
  FieldReader list = r.List(field, max, &size);
  std::vector<uint64_t> counts(size);
  for (uint64_t& count : counts) count = list.Uint(field, kMaxUint64);
  return counts;
}

LatencyPercentiles ReadLatency(FieldReader& r) {
  FieldReader fields = r.Nested("lookup_latency", kLatencyFields);
  LatencyPercentiles latency;
  latency.p50_us = fields.Uint("p50", kMaxUint64);
  latency.p90_us = fields.Uint("p90", kMaxUint64);
  latency.p99_us = fields.Uint("p99", kMaxUint64);
  latency.max_us = fields.Uint("max", kMaxUint64);
  return latency;
}

// `fields`: the body's field count, kStatsReplyFirstFields or all.
StatsReply ReadStatsReply(FieldReader& r, size_t fields) {
  StatsReply stats;
  stats.uptime_seconds = r.Uint("uptime_seconds", kMaxUint64);
  stats.buckets = ReadBuckets(r);
  stats.records = r.Uint("records", kMaxUint64);
  stats.record_bytes = r.Uint("record_bytes", kMaxUint64);
  stats.datagrams_in = r.Uint("datagrams_in", kMaxUint64);
  stats.datagrams_out = r.Uint("datagrams_out", kMaxUint64);
  stats.bytes_in = r.Uint("bytes_in", kMaxUint64);
  stats.bytes_out = r.Uint("bytes_out", kMaxUint64);
  stats.malformed_in = r.Uint("malformed_in", kMaxUint64);
  stats.unmatched_responses = r.Uint("unmatched_responses", kMaxUint64);
  stats.messages_in = ReadCounts(r, "messages_in", kMaxStatsMessageTypes);
  stats.messages_out = ReadCounts(r, "messages_out", kMaxStatsMessageTypes);
  stats.rpc_timeouts = r.Uint("rpc_timeouts", kMaxUint64);
  stats.rpc_failures = r.Uint("rpc_failures", kMaxUint64);
  stats.lookups_started = r.Uint("lookups_started", kMaxUint64);
  stats.lookups_finished = r.Uint("lookups_finished", kMaxUint64);
  stats.lookup_latency = ReadLatency(r);
  stats.stores_accepted = r.Uint("stores_accepted", kMaxUint64);
  stats.stores_rejected = r.Uint("stores_rejected", kMaxUint64);
  if (fields == kStatsReplyFirstFields) return stats;
  stats.requests_dropped = r.Uint("requests_dropped", kMaxUint64);
  stats.sources_banned = r.Uint("sources_banned", kMaxUint64);
  stats.reply_bytes_withheld = r.Uint("reply_bytes_withheld", kMaxUint64);
  stats.stores_refused = ReadCounts(r, "stores_refused", kMaxStatsErrorCodes);
  return stats;
}

// `fields`: the body's field count, checked by the caller.
Body ReadBody(MessageType type, FieldReader& r, size_t fields) {
  switch (type) {
    case MessageType::kPing:
      return Ping{};
    case MessageType::kPong:
      return Pong{r.Endpoint("observed")};
    case MessageType::kFindNode:
      return FindNode{r.Id("target")};
    case MessageType::kNodes: {
      Nodes nodes;
      nodes.closest = r.Contacts();
      nodes.token = r.Token();
      nodes.observed = r.TrailingEndpoint("observed");
      return nodes;
    }
    case MessageType::kFindValue:
      return FindValue{r.Key()};
    case MessageType::kValue: {
      Value value;
      value.record = r.OptionalRecord();
      value.closest = r.Contacts();
      value.token = r.Token();
      value.observed = r.TrailingEndpoint("observed");
      return value;
    }
    case MessageType::kStore: {
      Store store;
      store.record = r.Record();
      store.token = r.Token();
      store.expected_seq = r.OptionalUint("expected_seq");
      return store;
    }
    case MessageType::kStored:
      return Stored{};
    case MessageType::kError: {
      Error error;
      error.code = r.Code();
      error.reason = r.Reason();
      error.held_seq = r.OptionalUint("held_seq");
      return error;
    }
    case MessageType::kStats:
      return Stats{};
    case MessageType::kStatsReply:
      return ReadStatsReply(r, fields);
    case MessageType::kOffer:
      return Offer{r.Summaries()};
    case MessageType::kOfferReply: {
      OfferReply reply;
      reply.wanted = r.Wanted();
      reply.token = r.Token();
      return reply;
    }
  }
  return Ping{};  // Unreachable: the caller checked the type.
}

// Decodes the top-level array. The version is checked before the element
// count so that a future version's different layout is reported as such.
// A failure here may yet give way to one in the bytes after it (see
// DecodeOrFail).
absl::StatusOr<Message> ReadMessage(wire::MsgpackCursor& cursor,
                                    absl::Time now) {
  wire::Item root;
  if (!cursor.Next(&root)) return Malformed(cursor.error());
  if (root.kind != wire::Kind::kArray) {
    return Malformed(
        absl::StrCat("expected an array, got ", wire::TypeName(root.kind)));
  }
  std::string error;
  FieldReader r(cursor, root.size, now, &error);
  const size_t fields = r.size();
  uint64_t version = r.Uint("version", std::numeric_limits<uint64_t>::max());
  if (r.ok() && version != kProtocolVersion) {
    return Malformed(absl::StrCat("unsupported protocol version ", version,
                                  " (expected ", kProtocolVersion, ")"));
  }
  if (r.ok() && fields < kHeaderFields) {
    return Malformed(absl::StrCat("header has ", fields, " fields; expected ",
                                  kHeaderFields));
  }
  uint64_t type = r.Uint("type", std::numeric_limits<uint64_t>::max());
  if (r.ok() && type > kMaxMessageType) {
    return Malformed(absl::StrCat("unknown message type ", type));
  }
  if (!r.ok()) return Malformed(error);
  auto message_type = static_cast<MessageType>(type);
  const bool older_stats_reply =
      message_type == MessageType::kStatsReply &&
      fields == kHeaderFields + kStatsReplyFirstFields;
  if (size_t expected = kHeaderFields + kBodyFields[type];
      !older_stats_reply &&
      (fields < expected || fields > expected + kOptionalFields[type])) {
    return Malformed(absl::StrCat(
        MessageTypeName(message_type), " has ", fields, " fields; expected ",
        expected,
        kOptionalFields[type] == 0
            ? ""
            : absl::StrCat(" to ", expected + kOptionalFields[type])));
  }
  Message message;
  message.transaction_id = static_cast<TransactionId>(
      r.Uint("transaction_id", std::numeric_limits<TransactionId>::max()));
  message.sender = r.Sender();
  message.body = ReadBody(message_type, r, fields - kHeaderFields);
  if (!r.ok()) return Malformed(error);
  return message;
}

absl::StatusOr<Message> DecodeOrFail(std::span<const uint8_t> datagram,
                                     absl::Time now) {
  if (datagram.size() > kMaxDatagramBytes) {
    return Malformed(absl::StrCat(datagram.size(), " bytes; the limit is ",
                                  kMaxDatagramBytes));
  }
  // One pass over the bytes: the fields are read as the cursor meets them,
  // then the rest of the message is read as plain msgpack. Bytes that are
  // not well-formed msgpack within the cursor's limits, anywhere in the
  // message, are reported first, then trailing bytes, then the first field
  // error: the order in which a parse of the whole datagram into msgpack
  // objects, followed by a walk over them, would find them.
  wire::MsgpackCursor cursor(datagram);
  absl::StatusOr<Message> message = ReadMessage(cursor, now);
  if (!cursor.SkipRest()) return Malformed(cursor.error());
  if (size_t trailing = cursor.remaining_bytes(); trailing != 0) {
    return Malformed(
        absl::StrCat(trailing, " trailing bytes after the message"));
  }
  return message;
}

}  // namespace

size_t OfferSummaryBytes(const RecordSummary& summary) {
  // [key, seq, digest]: array header 1, bin8 header 2 + key, uint64 at
  // most 9, bin8 header 2 + 16.
  return 30 + summary.key.size();
}

absl::StatusOr<std::vector<uint8_t>> EncodeMessage(const Message& message,
                                                   absl::Time now) {
  try {
    return EncodeOrFail(message, now);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory encoding a message");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("encoding failed: ", e.what()));
  }
}

absl::StatusOr<Message> DecodeMessage(std::span<const uint8_t> datagram,
                                      absl::Time now) {
  // DecodeOrFail reports malformed input as a status; this catches what
  // may still escape it (allocation failure).
  try {
    return DecodeOrFail(datagram, now);
  } catch (const std::exception& e) {
    return Malformed(absl::StrCat("decoder failed (", e.what(), ")"));
  } catch (...) {
    return Malformed("decoder failed");
  }
}

}  // namespace kad::dht
