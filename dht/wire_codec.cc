#include "dht/wire_codec.h"

#include <array>
#include <exception>
#include <limits>
#include <msgpack.hpp>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dht/wire_fields.h"

namespace kad::dht {
namespace {

using wire::FieldReader;
using wire::FieldWriter;
using wire::ObjectType;

constexpr size_t kHeaderFields = 4;
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
        absl::StrCat("expected an array, got ", wire::TypeName(root.type)));
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
                             nullptr, wire::UnpackLimit());
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
