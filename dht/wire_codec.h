// Wire codec: the only code that turns a Message into datagram bytes and
// back. docs/PROTOCOL.md documents the same format with a golden example per
// message type; tests/unit/wire_codec_test.cc pins those bytes.
//
// Format
// ------
// A datagram holds exactly one MessagePack array, nothing before or after
// it. Fields are positional; the header and the body share the array:
//
//   [version, type, transaction_id, sender, body fields...]
//
//   version         uint, kProtocolVersion (1); any other value is rejected.
//   type            uint, a MessageType wire value (0..12).
//   transaction_id  uint <= 2^32-1, echoed by the response.
//   sender          bin of exactly 20 bytes (a NodeId), or nil for a
//                   read-only client.
//
// Body fields by type (the element count is exact: 4 + body fields, plus
// the optional trailing fields a type lists, which older senders leave
// out; a decoder that predates one rejects it):
//
//   0 ping          (none)
//   1 pong          endpoint                      observed address
//   2 find_node     bin20                         target
//   3 nodes         array of contact, bin         closest, token
//                   [+ endpoint]                  [observed address]
//   4 find_value    bin                           key (the key itself)
//   5 value         record or nil, array of contact, bin
//                                                 record, closest, token
//                   [+ endpoint]                  [observed address]
//   6 store         record, bin, uint64 or nil    record, token, expected
//                                                 seq (compare-and-swap)
//   7 stored        (none)
//   8 error         uint, str, uint64 or nil      ErrorCode (1..9), reason, held
//                                                 seq (with kConflict)
//   9 stats         (none)
//  10 stats_reply   23 fields: uptime_seconds, buckets, records,
//                   record_bytes, datagrams_in, datagrams_out, bytes_in,
//                   bytes_out, malformed_in, unmatched_responses,
//                   messages_in, messages_out, rpc_timeouts, rpc_failures,
//                   lookups_started, lookups_finished, lookup_latency,
//                   stores_accepted, stores_rejected, requests_dropped,
//                   sources_banned, reply_bytes_withheld, stores_refused
//                   (all uint64 but:)
//                     buckets         array of at most kMaxStatsBuckets
//                                     [prefix_length uint < 160,
//                                      contacts uint <= 255]
//                     messages_in/out array of at most
//                                     kMaxStatsMessageTypes uint64, one per
//                                     type the sender knows, by MessageType
//                     lookup_latency  [p50, p90, p99, max] in microseconds
//                     stores_refused  array of at most kMaxStatsErrorCodes
//                                     uint64, one per error code the
//                                     sender knows, by ErrorCode value
//                   A stats_reply of only the first 19 fields (a node from
//                   before the last four) is also accepted.
//  11 offer         array of summary              summaries (at most
//                                                 kMaxOfferSummaries)
//  12 offer_reply   array of uint, bin            wanted, token: indices
//                                                 into the offer's
//                                                 summaries, strictly
//                                                 ascending, each below
//                                                 kMaxOfferSummaries
//
//   endpoint  [family uint (4 or 6), address bin (4 or 16 bytes), port uint16]
//   contact   [id bin20, endpoint]
//   record    by kind, told apart by its element count:
//             open       [key bin, value bin, seq uint64, ttl_seconds uint32]
//             signed     [name bin, value bin (<= 950), seq, ttl_seconds,
//                         public_key bin32, signature bin64]
//             immutable  [value bin, ttl_seconds]
//             A signed or immutable record's key (its address) is not sent:
//             the decoder derives it (dht/record_auth.h); nothing is
//             verified here.
//   summary   [key bin, seq uint64, digest bin16]  digest: storage::DigestOf
//             (XXH3-128 of the value; of kind, public key, signature and
//             value for signed and immutable records), high half then low,
//             big-endian
//
// Limits: at most kMaxContactsPerMessage contacts, tokens of at most
// kMaxTokenBytes, reasons of at most kMaxErrorReasonBytes, keys of 1 to
// storage::kMaxKeyBytes and values of at most storage::kMaxValueBytes, and
// the whole datagram at most kMaxDatagramBytes (1,280: it crosses any IPv6
// path unfragmented). The largest messages (store or value with a maximal
// record and token, nodes with 20 IPv6 contacts, stats_reply with 160 full
// buckets and every counter at 2^64-1, offer with 40 summaries) fit; a
// test pins their sizes. Offers are packed with OfferSummaryBytes below.
//
// A record travels with a relative TTL, not an absolute expiry, so clocks
// need not agree: the encoder sends floor(expires - now) in seconds clamped
// to [0, storage::kMaxTtl]; the decoder sets expires = now + min(ttl,
// storage::kMaxTtl).
//
// Integers are encoded in their shortest MessagePack form; the decoder
// accepts any integer form whose value is in range, but nothing else: bytes
// must be bin (never str), text must be str, and maps, floats, booleans and
// ext values never appear.
//
// Thread-safe: both functions are pure.
#ifndef KAD_DHT_WIRE_CODEC_H_
#define KAD_DHT_WIRE_CODEC_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dht/message.h"

namespace kad::dht {

// Returns an upper bound on the bytes `summary` adds to an encoded Offer.
// An Offer of at most kMaxOfferSummaries summaries whose bounds sum to at
// most kOfferSummaryBudget always fits one datagram (the rest of the
// datagram, header included, takes at most 33 bytes).
size_t OfferSummaryBytes(const RecordSummary& summary);
inline constexpr size_t kOfferSummaryBudget = kMaxDatagramBytes - 33;

// The most bytes one contact adds to an encoded contact list: an IPv6
// contact, [id, [family, address, port]] = 1 + 22 + 1 + 1 + 18 + 3. An
// IPv4 contact takes 12 fewer.
inline constexpr size_t kMaxContactBytes = 46;

// Encodes `message` as one datagram; `now` turns record expiry into a
// relative TTL. Returns InvalidArgument, naming the field, if a field is out
// of range (more than kMaxContactsPerMessage contacts, a token longer than
// kMaxTokenBytes, a record, find_value or summary key refused by
// storage::ValidateRecordSize, a reason longer than kMaxErrorReasonBytes, an
// error code that is not an ErrorCode, more than kMaxOfferSummaries
// summaries, offer_reply indices out of order or range, more than
// kMaxStatsMessageTypes per-type counts) or if the result would exceed
// kMaxDatagramBytes (a value response carrying both a large record and many
// contacts).
absl::StatusOr<std::vector<uint8_t>> EncodeMessage(const Message& message,
                                                   absl::Time now);

// Decodes one datagram; `now` turns a record's TTL into an absolute expiry.
// Total: any input that is not exactly one well-formed message (truncated,
// oversized, wrongly typed, out of range, unknown type or error code,
// trailing bytes) returns InvalidArgument with a short reason. Never throws.
// The result holds no reference to `datagram`. Every message it returns
// re-encodes successfully and decodes back to itself.
absl::StatusOr<Message> DecodeMessage(std::span<const uint8_t> datagram,
                                      absl::Time now);

}  // namespace kad::dht

#endif  // KAD_DHT_WIRE_CODEC_H_
