// Wire fields: the field-level primitives beneath dht/wire_codec.cc.
// Private to the codec: nothing but wire_codec.cc and wire_fields.cc
// includes this header, and the format it implements is documented (and
// only promised) in dht/wire_codec.h and docs/PROTOCOL.md.
//
// FieldWriter packs one protocol field at a time (a contact list, a token, a
// record...) and checks it against the protocol's limits before writing.
// FieldReader does the reverse over the elements of one msgpack array, read
// in place from the datagram by a MsgpackCursor (dht/msgpack_cursor.h): no
// tree of msgpack objects is built, and nothing is allocated but the
// decoded values themselves. The codec composes them into messages: it owns
// the header, the per-type body layout and the datagram-level checks.
//
// What the reader guarantees: it only uses an item's payload after checking
// its type, and never throws for any input. Every problem (a missing
// field, a wrong type, a value out of range, an unknown error code, bytes
// that are not well-formed msgpack) is recorded once, as a short reason, in
// an error string shared by the reader and its nested readers; later reads
// return default values. A malformed item the readers never reach is found
// by the codec, which reads the rest of the datagram through the cursor
// before it trusts a result (MsgpackCursor::SkipRest), and reports it
// before any field error. DecodeMessage turns the reason into
// InvalidArgument, and catches anything else (allocation failure), so every
// decoding failure reaches the caller as an InvalidArgument and no
// exception escapes.
//
// What the writer guarantees: the first field that breaks a limit sets
// status() to InvalidArgument naming it, and nothing is written after that.
//
// Not thread-safe per object; the classes hold no global state, so separate
// objects may be used concurrently.
#ifndef KAD_DHT_WIRE_FIELDS_H_
#define KAD_DHT_WIRE_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <msgpack.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dht/contact.h"
#include "dht/message.h"
#include "dht/msgpack_cursor.h"
#include "dht/node_id.h"
#include "net/endpoint.h"
#include "storage/record.h"

namespace kad::dht::wire {

// The Stream msgpack::packer writes to: appends to a byte vector.
struct VectorStream {
  std::vector<uint8_t>* out;
  void write(const char* data, size_t size) {
    out->insert(out->end(), data, data + size);
  }
};

// Packs protocol fields into `out`, checking each against the protocol's
// limits first. The first violation sticks in status() and nothing more is
// written once it is set. `out` must outlive the writer.
class FieldWriter {
 public:
  FieldWriter(std::vector<uint8_t>& out, absl::Time now)
      : stream_{&out}, packer_(stream_), now_(now) {}

  const absl::Status& status() const { return status_; }

  // Packs the header of an array of `count` elements.
  void Array(size_t count);
  // Packs an array header; fails, naming `field`, if `count` exceeds `max`.
  void BoundedArray(std::string_view field, size_t count, size_t max);
  void Uint(uint64_t value);
  // Packs `value`; fails, naming `field`, if it exceeds `max`.
  void BoundedUint(std::string_view field, uint64_t value, uint64_t max);
  void Bin(std::span<const uint8_t> bytes);
  void Bin(std::string_view bytes);
  void Nil();
  // Packs the sender's id, or nil for a read-only client.
  void Sender(const std::optional<NodeId>& sender);

  void Endpoint(const net::Endpoint& endpoint);
  // Packs `endpoint` if set, else nothing: a trailing field.
  void TrailingEndpoint(const std::optional<net::Endpoint>& endpoint);
  // Fails if there are more than kMaxContactsPerMessage.
  void Contacts(const std::vector<Contact>& contacts);
  // Fails if longer than kMaxTokenBytes.
  void Token(const std::string& token);
  // Fails if storage::ValidateRecordSize refuses the key.
  void Key(const std::string& key);
  // Packs the record with expires turned into a TTL relative to `now`,
  // clamped to [0, storage::kMaxTtl]. Fails if storage::ValidateRecordSize
  // refuses it.
  void Record(const storage::Record& record);
  // Packs `value`, or nil.
  void OptionalUint(const std::optional<uint64_t>& value);
  // Fails if `code` is not an ErrorCode.
  void Code(ErrorCode code);
  // Packs `reason` as a str. Fails if longer than kMaxErrorReasonBytes.
  void Reason(const std::string& reason);
  // Packs an offer's summaries. Fails if there are more than
  // kMaxOfferSummaries or a key is refused by storage::ValidateRecordSize.
  void Summaries(const std::vector<RecordSummary>& summaries);
  // Packs an offer reply's indices. Fails unless they are strictly
  // ascending, below kMaxOfferSummaries (and so at most that many).
  void Wanted(const std::vector<uint32_t>& wanted);

 private:
  void Fail(const std::string& reason);

  VectorStream stream_;
  msgpack::packer<VectorStream> packer_;
  absl::Time now_;
  absl::Status status_;
};

// Reads the elements of one msgpack array in order, checking each against
// the protocol. The first problem is recorded in the shared `*error`; after
// that every read returns a default value, so a decoder reads all its
// fields unconditionally and checks ok() once. Elements a nested reader
// leaves unread are skipped (still checked as msgpack) when its parent reads
// on. `cursor` and `error` must outlive the reader; the values it returns
// hold no reference to them (BinView's hold one to the datagram).
class FieldReader {
 public:
  // Reads the `count` elements of the array whose header `cursor` has just
  // read (the top-level array, for the codec).
  FieldReader(MsgpackCursor& cursor, size_t count, absl::Time now,
              std::string* error)
      : cursor_(&cursor),
        size_(count),
        depth_(cursor.depth()),
        now_(now),
        error_(error) {}

  // Returns true if no read (by this reader or one sharing its error) failed.
  bool ok() const { return error_->empty(); }
  // Returns the array's element count.
  size_t size() const { return size_; }

  // Reads the next element into `*item` if it has kind `kind`; else
  // records an error and returns false.
  bool Next(Kind kind, std::string_view field, Item* item) {
    if (!ok()) return false;
    if (next_ < size_ && cursor_->SkipTo(depth_) && cursor_->Next(item) &&
        item->kind == kind) {
      ++next_;
      return true;
    }
    FailNext(kind, field, *item);
    return false;
  }

  // Returns the next element's value if it is a uint no larger than `max`.
  uint64_t Uint(std::string_view field, uint64_t max) {
    Item item;
    if (!Next(Kind::kUint, field, &item)) return 0;
    if (item.uint <= max) return item.uint;
    FailRange(field, item.uint, max);
    return 0;
  }

  // Returns the next element's bytes if it is a bin of min..max bytes.
  std::string Bin(std::string_view field, size_t min, size_t max);
  // As Bin, without a copy: the bytes lie in the datagram being decoded
  // and are valid as long as it is (empty on failure).
  std::string_view BinView(std::string_view field, size_t min, size_t max) {
    Item item;
    if (!Next(Kind::kBin, field, &item)) return {};
    if (item.size >= min && item.size <= max) return {item.bytes, item.size};
    FailSize(field, item.size, min, max);
    return {};
  }

  // Reads a bin of exactly NodeId::kBytes.
  NodeId Id(std::string_view field);
  // Reads a sender id, or nil for a read-only client.
  std::optional<NodeId> Sender();
  // Reads an endpoint array whose family and address length agree.
  net::Endpoint Endpoint(std::string_view field);
  // Reads an endpoint if an element is left, else returns nullopt: a
  // trailing field that older senders leave out.
  std::optional<net::Endpoint> TrailingEndpoint(std::string_view field);
  // Reads the "closest" array of at most kMaxContactsPerMessage contacts.
  std::vector<Contact> Contacts();
  std::string Token();
  std::string Key();
  // Reads a record of any kind (by its element count), turning its TTL
  // into an absolute expiry after `now` (the TTL capped at
  // storage::kMaxTtl). A signed or immutable record's key is derived from
  // what it carries (dht/record_auth.h); nothing is verified here.
  storage::Record Record();
  // Reads a record, or nil.
  std::optional<storage::Record> OptionalRecord();
  // Reads a uint, or nil.
  std::optional<uint64_t> OptionalUint(std::string_view field);
  // Reads a uint that must be an ErrorCode's wire value.
  ErrorCode Code();
  // Reads a str of at most kMaxErrorReasonBytes.
  std::string Reason();
  // Reads an offer's summaries: at most kMaxOfferSummaries
  // [key, seq, digest bin16].
  std::vector<RecordSummary> Summaries();
  // Reads an offer reply's indices: strictly ascending uints below
  // kMaxOfferSummaries.
  std::vector<uint32_t> Wanted();

  // Returns a reader over the next element, which must be an array of
  // exactly `count` elements; on error, a reader whose reads all fail.
  FieldReader Nested(std::string_view field, size_t count) {
    Item array;
    if (Next(Kind::kArray, field, &array) && array.size != count) {
      FailCount(field, array.size, count);
    }
    return Elements(array);
  }
  // Returns a reader over the next element, which must be an array of at
  // most `max` elements, and sets `*count` to its size (0 on error).
  FieldReader List(std::string_view field, size_t max, size_t* count);

 private:
  // Returns a reader over the elements of `array`, just read (none if it
  // is not an array: after an error).
  FieldReader Elements(const Item& array) {
    return FieldReader(*cursor_, ok() ? array.size : 0, now_, error_);
  }

  // As Id and Endpoint, into `*id` and `*endpoint` (left as they were on
  // failure).
  void ReadId(std::string_view field, NodeId* id);
  void ReadEndpoint(std::string_view field, net::Endpoint* endpoint);

  // Consumes the next element and returns true if it is nil.
  bool PeekNil();

  // Records why Next failed.
  void FailNext(Kind kind, std::string_view field, const Item& item);
  // Records that `field`'s `value` is above `max`.
  void FailRange(std::string_view field, uint64_t value, uint64_t max);
  // Records that `field` has `size` bytes, not min..max.
  void FailSize(std::string_view field, size_t size, size_t min, size_t max);
  // Records that `field` has `size` elements, not `count`.
  void FailCount(std::string_view field, size_t size, size_t count);
  void Fail(std::string reason);

  MsgpackCursor* cursor_;  // Not owned; shared by nested readers.
  size_t size_;
  size_t next_ = 0;
  size_t depth_;  // The cursor's depth at this array's elements.
  absl::Time now_;
  std::string* error_;  // Not owned; shared by nested readers.
};

}  // namespace kad::dht::wire

#endif  // KAD_DHT_WIRE_FIELDS_H_
