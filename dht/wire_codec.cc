#include "dht/wire_codec.h"

#include <algorithm>
#include <array>
#include <exception>
#include <limits>
#include <msgpack.hpp>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kad::dht {
namespace {

using ObjectType = msgpack::type::object_type;

constexpr size_t kHeaderFields = 4;
constexpr size_t kEndpointFields = 3;
constexpr size_t kContactFields = 2;
constexpr size_t kRecordFields = 4;
constexpr uint64_t kMaxMessageType = static_cast<uint64_t>(MessageType::kError);

// Body fields per message type, indexed by the type's wire value.
constexpr std::array<size_t, kMaxMessageType + 1> kBodyFields = {
    0,  // ping
    1,  // pong: observed endpoint
    1,  // find_node: target
    2,  // nodes: closest, token
    1,  // find_value: key
    3,  // value: record or nil, closest, token
    2,  // store: record, token
    0,  // stored
    2,  // error: code, reason
};

// Parser limits. They bound what msgpack::unpack allocates for a hostile
// datagram before any field is checked: no legitimate array has more than
// kMaxContactsPerMessage elements (so 32 leaves room for the precise
// "too many contacts" check), nothing nests deeper than
// message > contacts > contact > endpoint, and maps and ext never appear.
constexpr size_t kMaxArrayElements = 32;
constexpr size_t kMaxDepth = 4;
msgpack::unpack_limit UnpackLimit() {
  return msgpack::unpack_limit(
      /*array=*/kMaxArrayElements, /*map=*/0, /*str=*/kMaxDatagramBytes,
      /*bin=*/kMaxDatagramBytes, /*ext=*/0, /*depth=*/kMaxDepth);
}

int64_t MaxTtlSeconds() { return absl::ToInt64Seconds(storage::kMaxTtl); }

// Returns true if `code` is the wire value of an ErrorCode.
bool IsKnownErrorCode(uint64_t code) {
  if (code > std::numeric_limits<std::underlying_type_t<ErrorCode>>::max()) {
    return false;
  }
  // No default: -Wswitch flags an ErrorCode added without a case here.
  switch (static_cast<ErrorCode>(code)) {
    case ErrorCode::kMalformed:
    case ErrorCode::kBadToken:
    case ErrorCode::kRecordRejected:
    case ErrorCode::kStoreFull:
    case ErrorCode::kInternal:
      return true;
  }
  return false;
}

absl::Status Malformed(std::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed datagram: ", std::string(reason)));
}

// ---------------------------------------------------------------- encoding

// The Stream msgpack::packer writes to: appends to a byte vector.
struct VectorStream {
  std::vector<uint8_t>* out;
  void write(const char* data, size_t size) {
    out->insert(out->end(), data, data + size);
  }
};

// Packs protocol fields into `out`, checking each against the protocol's
// limits first. The first violation sticks in status() and nothing more is
// written once it is set.
class FieldWriter {
 public:
  FieldWriter(std::vector<uint8_t>& out, absl::Time now)
      : stream_{&out}, packer_(stream_), now_(now) {}

  const absl::Status& status() const { return status_; }

  void Array(size_t count) {
    if (status_.ok()) packer_.pack_array(static_cast<uint32_t>(count));
  }
  void Uint(uint64_t value) {
    if (status_.ok()) packer_.pack_uint64(value);
  }
  void Bin(std::span<const uint8_t> bytes) {
    if (!status_.ok()) return;
    packer_.pack_bin(static_cast<uint32_t>(bytes.size()));
    packer_.pack_bin_body(reinterpret_cast<const char*>(bytes.data()),
                          static_cast<uint32_t>(bytes.size()));
  }
  void Bin(std::string_view bytes) {
    Bin(std::span(reinterpret_cast<const uint8_t*>(bytes.data()),
                  bytes.size()));
  }
  void Nil() {
    if (status_.ok()) packer_.pack_nil();
  }
  void Sender(const std::optional<NodeId>& sender) {
    if (sender.has_value()) {
      Bin(sender->span());
    } else {
      Nil();
    }
  }

  void Endpoint(const net::Endpoint& endpoint) {
    Array(kEndpointFields);
    Uint(static_cast<uint64_t>(endpoint.family()));
    Bin(endpoint.address());
    Uint(endpoint.port());
  }

  void Contacts(const std::vector<Contact>& contacts) {
    if (contacts.size() > kMaxContactsPerMessage) {
      return Fail(absl::StrCat(contacts.size(), " contacts; the limit is ",
                               kMaxContactsPerMessage));
    }
    Array(contacts.size());
    for (const Contact& contact : contacts) {
      Array(kContactFields);
      Bin(contact.id.span());
      Endpoint(contact.endpoint);
    }
  }

  void Token(const std::string& token) {
    if (token.size() > kMaxTokenBytes) {
      return Fail(absl::StrCat("token is ", token.size(),
                               " bytes; the limit is ", kMaxTokenBytes));
    }
    Bin(token);
  }

  void Key(const std::string& key) {
    storage::Record probe;
    probe.key = key;
    absl::Status valid = storage::ValidateRecordSize(probe);
    if (!valid.ok()) return Fail(std::string(valid.message()));
    Bin(key);
  }

  // Packs the record with expires turned into a TTL relative to `now_`.
  void Record(const storage::Record& record) {
    absl::Status valid = storage::ValidateRecordSize(record);
    if (!valid.ok()) return Fail(std::string(valid.message()));
    int64_t ttl = absl::ToInt64Seconds(
        absl::Floor(record.expires - now_, absl::Seconds(1)));
    ttl = std::clamp<int64_t>(ttl, 0, MaxTtlSeconds());
    Array(kRecordFields);
    Bin(record.key);
    Bin(record.value);
    Uint(record.seq);
    Uint(static_cast<uint64_t>(ttl));
  }

  void Code(ErrorCode code) {
    if (!IsKnownErrorCode(static_cast<uint64_t>(code))) {
      return Fail(
          absl::StrCat("unknown error code ", static_cast<uint64_t>(code)));
    }
    Uint(static_cast<uint64_t>(code));
  }

  void Reason(const std::string& reason) {
    if (reason.size() > kMaxErrorReasonBytes) {
      return Fail(absl::StrCat("error reason is ", reason.size(),
                               " bytes; the limit is ", kMaxErrorReasonBytes));
    }
    if (!status_.ok()) return;
    packer_.pack_str(static_cast<uint32_t>(reason.size()));
    packer_.pack_str_body(reason.data(), static_cast<uint32_t>(reason.size()));
  }

 private:
  void Fail(const std::string& reason) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(reason);
  }

  VectorStream stream_;
  msgpack::packer<VectorStream> packer_;
  absl::Time now_;
  absl::Status status_;
};

void WriteBody(FieldWriter&, const Ping&) {}
void WriteBody(FieldWriter& w, const Pong& pong) { w.Endpoint(pong.observed); }
void WriteBody(FieldWriter& w, const FindNode& find) {
  w.Bin(find.target.span());
}
void WriteBody(FieldWriter& w, const Nodes& nodes) {
  w.Contacts(nodes.closest);
  w.Token(nodes.token);
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
}
void WriteBody(FieldWriter& w, const Store& store) {
  w.Record(store.record);
  w.Token(store.token);
}
void WriteBody(FieldWriter&, const Stored&) {}
void WriteBody(FieldWriter& w, const Error& error) {
  w.Code(error.code);
  w.Reason(error.reason);
}

absl::StatusOr<std::vector<uint8_t>> EncodeOrFail(const Message& message,
                                                  absl::Time now) {
  std::vector<uint8_t> out;
  out.reserve(kMaxDatagramBytes);
  FieldWriter w(out, now);
  w.Array(kHeaderFields + kBodyFields[message.body.index()]);
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
  return out;
}

// ---------------------------------------------------------------- decoding

const char* TypeName(ObjectType type) {
  switch (type) {
    case msgpack::type::NIL:
      return "nil";
    case msgpack::type::BOOLEAN:
      return "bool";
    case msgpack::type::POSITIVE_INTEGER:
      return "uint";
    case msgpack::type::NEGATIVE_INTEGER:
      return "negative int";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return "float";
    case msgpack::type::STR:
      return "str";
    case msgpack::type::BIN:
      return "bin";
    case msgpack::type::ARRAY:
      return "array";
    case msgpack::type::MAP:
      return "map";
    case msgpack::type::EXT:
      return "ext";
  }
  return "unknown";
}

// Reads the elements of one msgpack array in order, checking each against
// the protocol. The first problem is recorded in the shared `*error`; after
// that every read returns a default value, so a decoder reads all its
// fields unconditionally and checks ok() once.
class FieldReader {
 public:
  FieldReader(std::span<const msgpack::object> elements, absl::Time now,
              std::string* error)
      : elements_(elements), now_(now), error_(error) {}

  bool ok() const { return error_->empty(); }

  // Returns the next element if it has type `type`; else records an error.
  const msgpack::object* Next(ObjectType type, std::string_view field) {
    if (!ok()) return nullptr;
    if (next_ >= elements_.size()) {
      Fail(absl::StrCat(std::string(field), ": missing"));
      return nullptr;
    }
    const msgpack::object& element = elements_[next_++];
    if (element.type == type) return &element;
    Fail(absl::StrCat(std::string(field), ": expected ", TypeName(type),
                      ", got ", TypeName(element.type)));
    return nullptr;
  }

  // Returns the next element's value if it is a uint no larger than `max`.
  uint64_t Uint(std::string_view field, uint64_t max) {
    const msgpack::object* element =
        Next(msgpack::type::POSITIVE_INTEGER, field);
    if (element == nullptr) return 0;
    if (element->via.u64 <= max) return element->via.u64;
    Fail(absl::StrCat(std::string(field), ": ", element->via.u64,
                      " is out of range (max ", max, ")"));
    return 0;
  }

  // Returns the next element's bytes if it is a bin of min..max bytes.
  std::string Bin(std::string_view field, size_t min, size_t max) {
    const msgpack::object* element = Next(msgpack::type::BIN, field);
    if (element == nullptr) return {};
    size_t size = element->via.bin.size;
    if (size < min || size > max) {
      std::string expected =
          min == max ? absl::StrCat(min) : absl::StrCat(min, "..", max);
      Fail(absl::StrCat(std::string(field), ": expected ", expected,
                        " bytes, got ", size));
      return {};
    }
    return std::string(element->via.bin.ptr, size);
  }

  NodeId Id(std::string_view field) {
    std::string bytes = Bin(field, NodeId::kBytes, NodeId::kBytes);
    if (!ok()) return NodeId();
    std::array<uint8_t, NodeId::kBytes> id;
    std::copy(bytes.begin(), bytes.end(), id.begin());
    return NodeId(id);
  }

  std::optional<NodeId> Sender() {
    if (PeekNil()) return std::nullopt;
    return Id("sender");
  }

  net::Endpoint Endpoint(std::string_view field) {
    FieldReader fields = Nested(field, kEndpointFields);
    uint64_t family = fields.Uint("family", 6);
    std::string address = fields.Bin("address", net::Endpoint::kIpv4Bytes,
                                     net::Endpoint::kIpv6Bytes);
    auto port = static_cast<uint16_t>(
        fields.Uint("port", std::numeric_limits<uint16_t>::max()));
    if (!ok()) return {};
    size_t expected = family == 4   ? net::Endpoint::kIpv4Bytes
                      : family == 6 ? net::Endpoint::kIpv6Bytes
                                    : 0;
    if (expected == 0 || address.size() != expected) {
      Fail(absl::StrCat(std::string(field), ": family ", family, " with a ",
                        address.size(), "-byte address"));
      return {};
    }
    return *net::Endpoint::FromBytes(
        std::span(reinterpret_cast<const uint8_t*>(address.data()),
                  address.size()),
        port);
  }

  std::vector<Contact> Contacts() {
    const msgpack::object* list = Next(msgpack::type::ARRAY, "closest");
    if (list == nullptr) return {};
    if (list->via.array.size > kMaxContactsPerMessage) {
      Fail(absl::StrCat(list->via.array.size, " contacts; the limit is ",
                        kMaxContactsPerMessage));
      return {};
    }
    FieldReader items(Elements(*list), now_, error_);
    std::vector<Contact> contacts(list->via.array.size);
    for (Contact& contact : contacts) {
      FieldReader fields = items.Nested("contact", kContactFields);
      contact.id = fields.Id("contact.id");
      contact.endpoint = fields.Endpoint("contact.endpoint");
    }
    if (!ok()) return {};
    return contacts;
  }

  std::string Token() { return Bin("token", 0, kMaxTokenBytes); }

  std::string Key() { return Bin("key", 1, storage::kMaxKeyBytes); }

  storage::Record Record() {
    FieldReader fields = Nested("record", kRecordFields);
    storage::Record record;
    record.key = fields.Key();
    record.value = fields.Bin("value", 0, storage::kMaxValueBytes);
    record.seq = fields.Uint("seq", std::numeric_limits<uint64_t>::max());
    uint64_t ttl = fields.Uint("ttl", std::numeric_limits<uint32_t>::max());
    auto capped = std::min<int64_t>(static_cast<int64_t>(ttl), MaxTtlSeconds());
    record.expires = now_ + absl::Seconds(capped);
    return record;
  }

  std::optional<storage::Record> OptionalRecord() {
    if (PeekNil()) return std::nullopt;
    return Record();
  }

  ErrorCode Code() {
    uint64_t code = Uint("code", std::numeric_limits<uint64_t>::max());
    if (!ok()) return ErrorCode::kInternal;
    if (IsKnownErrorCode(code)) return static_cast<ErrorCode>(code);
    Fail(absl::StrCat("unknown error code ", code));
    return ErrorCode::kInternal;
  }

  std::string Reason() {
    const msgpack::object* element = Next(msgpack::type::STR, "reason");
    if (element == nullptr) return {};
    if (element->via.str.size > kMaxErrorReasonBytes) {
      Fail(absl::StrCat("reason: ", element->via.str.size,
                        " bytes; the limit is ", kMaxErrorReasonBytes));
      return {};
    }
    return std::string(element->via.str.ptr, element->via.str.size);
  }

 private:
  static std::span<const msgpack::object> Elements(const msgpack::object& a) {
    return {a.via.array.ptr, a.via.array.size};
  }

  // Returns a reader over the next element, which must be an array of
  // exactly `count` elements; on error, a reader whose reads all fail.
  FieldReader Nested(std::string_view field, size_t count) {
    const msgpack::object* array = Next(msgpack::type::ARRAY, field);
    if (array != nullptr && array->via.array.size != count) {
      Fail(absl::StrCat(std::string(field), ": expected ", count,
                        " elements, got ", array->via.array.size));
    }
    if (!ok()) return FieldReader({}, now_, error_);
    return FieldReader(Elements(*array), now_, error_);
  }

  // Consumes the next element and returns true if it is nil.
  bool PeekNil() {
    if (!ok() || next_ >= elements_.size() ||
        elements_[next_].type != msgpack::type::NIL)
      return false;
    ++next_;
    return true;
  }

  void Fail(std::string reason) {
    if (ok()) *error_ = std::move(reason);
  }

  std::span<const msgpack::object> elements_;
  size_t next_ = 0;
  absl::Time now_;
  std::string* error_;  // Not owned; shared by nested readers.
};

Body ReadBody(MessageType type, FieldReader& r) {
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
      return nodes;
    }
    case MessageType::kFindValue:
      return FindValue{r.Key()};
    case MessageType::kValue: {
      Value value;
      value.record = r.OptionalRecord();
      value.closest = r.Contacts();
      value.token = r.Token();
      return value;
    }
    case MessageType::kStore: {
      Store store;
      store.record = r.Record();
      store.token = r.Token();
      return store;
    }
    case MessageType::kStored:
      return Stored{};
    case MessageType::kError: {
      Error error;
      error.code = r.Code();
      error.reason = r.Reason();
      return error;
    }
  }
  return Ping{};  // Unreachable: the caller checked the type.
}

// Decodes the top-level array. The version is checked before the element
// count so that a future version's different layout is reported as such.
absl::StatusOr<Message> ReadMessage(const msgpack::object& root,
                                    absl::Time now) {
  if (root.type != msgpack::type::ARRAY) {
    return Malformed(
        absl::StrCat("expected an array, got ", TypeName(root.type)));
  }
  std::span<const msgpack::object> fields(root.via.array.ptr,
                                          root.via.array.size);
  std::string error;
  FieldReader r(fields, now, &error);
  uint64_t version = r.Uint("version", std::numeric_limits<uint64_t>::max());
  if (r.ok() && version != kProtocolVersion) {
    return Malformed(absl::StrCat("unsupported protocol version ", version,
                                  " (expected ", kProtocolVersion, ")"));
  }
  if (r.ok() && fields.size() < kHeaderFields) {
    return Malformed(absl::StrCat("header has ", fields.size(),
                                  " fields; expected ", kHeaderFields));
  }
  uint64_t type = r.Uint("type", std::numeric_limits<uint64_t>::max());
  if (r.ok() && type > kMaxMessageType) {
    return Malformed(absl::StrCat("unknown message type ", type));
  }
  if (!r.ok()) return Malformed(error);
  auto message_type = static_cast<MessageType>(type);
  if (size_t expected = kHeaderFields + kBodyFields[type];
      fields.size() != expected) {
    return Malformed(absl::StrCat(MessageTypeName(message_type), " has ",
                                  fields.size(), " fields; expected ",
                                  expected));
  }
  Message message;
  message.transaction_id = static_cast<TransactionId>(
      r.Uint("transaction_id", std::numeric_limits<TransactionId>::max()));
  message.sender = r.Sender();
  message.body = ReadBody(message_type, r);
  if (!r.ok()) return Malformed(error);
  return message;
}

// Makes msgpack::unpack point str and bin objects into the datagram instead
// of copying them: the datagram outlives the parsed object.
bool ReferenceDatagram(ObjectType, size_t, void*) { return true; }

absl::StatusOr<Message> DecodeOrFail(std::span<const uint8_t> datagram,
                                     absl::Time now) {
  if (datagram.size() > kMaxDatagramBytes) {
    return Malformed(absl::StrCat(datagram.size(), " bytes; the limit is ",
                                  kMaxDatagramBytes));
  }
  size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(reinterpret_cast<const char*>(datagram.data()),
                             datagram.size(), offset, ReferenceDatagram,
                             nullptr, UnpackLimit());
  } catch (const msgpack::insufficient_bytes&) {
    return Malformed("truncated");
  } catch (const msgpack::unpack_error& e) {
    return Malformed(absl::StrCat("invalid msgpack (", e.what(), ")"));
  }
  if (offset != datagram.size()) {
    return Malformed(absl::StrCat(datagram.size() - offset,
                                  " trailing bytes after the message"));
  }
  return ReadMessage(handle.get(), now);
}

}  // namespace

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
  // msgpack reports malformed input by throwing; DecodeOrFail turns those
  // exceptions into statuses. This catches whatever else might escape
  // (allocation failure, an exception type msgpack adds later).
  try {
    return DecodeOrFail(datagram, now);
  } catch (const std::exception& e) {
    return Malformed(absl::StrCat("decoder failed (", e.what(), ")"));
  } catch (...) {
    return Malformed("decoder failed");
  }
}

}  // namespace kad::dht
