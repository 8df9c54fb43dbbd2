#include "dht/wire_fields.h"

#include <algorithm>
#include <array>
#include <limits>
#include <new>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dht/record_auth.h"

namespace kad::dht::wire {
namespace {

constexpr size_t kEndpointFields = 3;
constexpr size_t kContactFields = 2;
constexpr size_t kOpenRecordFields = 4;
constexpr size_t kSignedRecordFields = 6;
constexpr size_t kImmutableRecordFields = 2;
constexpr size_t kSummaryFields = 3;
constexpr size_t kDigestBytes = 16;

int64_t MaxTtlSeconds() { return absl::ToInt64Seconds(storage::kMaxTtl); }

// Returns true if `code` is the wire value of an ErrorCode.
// The digest as 16 bytes: the high half, then the low, each big-endian.
std::string DigestBytes(const storage::RecordDigest& digest) {
  std::string bytes(kDigestBytes, '\0');
  for (size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>(digest.high >> (56 - 8 * i));
    bytes[8 + i] = static_cast<char>(digest.low >> (56 - 8 * i));
  }
  return bytes;
}

storage::RecordDigest DigestFromBytes(const std::string& bytes) {
  storage::RecordDigest digest;
  if (bytes.size() != kDigestBytes) return digest;
  for (size_t i = 0; i < 8; ++i) {
    digest.high = (digest.high << 8) | static_cast<uint8_t>(bytes[i]);
    digest.low = (digest.low << 8) | static_cast<uint8_t>(bytes[8 + i]);
  }
  return digest;
}

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
    case ErrorCode::kForbidden:
    case ErrorCode::kConflict:
    case ErrorCode::kNotClosest:
    case ErrorCode::kSourceQuota:
      return true;
  }
  return false;
}

}  // namespace

// ------------------------------------------------------------- FieldWriter

void FieldWriter::Array(size_t count) {
  if (status_.ok()) packer_.pack_array(static_cast<uint32_t>(count));
}

void FieldWriter::BoundedArray(std::string_view field, size_t count,
                               size_t max) {
  if (count > max) {
    return Fail(absl::StrCat(std::string(field), ": ", count,
                             " elements; the limit is ", max));
  }
  Array(count);
}

void FieldWriter::Uint(uint64_t value) {
  if (status_.ok()) packer_.pack_uint64(value);
}

void FieldWriter::BoundedUint(std::string_view field, uint64_t value,
                              uint64_t max) {
  if (value > max) {
    return Fail(absl::StrCat(std::string(field), ": ", value,
                             " is out of range (max ", max, ")"));
  }
  Uint(value);
}

void FieldWriter::Bin(std::span<const uint8_t> bytes) {
  if (!status_.ok()) return;
  packer_.pack_bin(static_cast<uint32_t>(bytes.size()));
  packer_.pack_bin_body(reinterpret_cast<const char*>(bytes.data()),
                        static_cast<uint32_t>(bytes.size()));
}

void FieldWriter::Bin(std::string_view bytes) {
  Bin(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

void FieldWriter::Nil() {
  if (status_.ok()) packer_.pack_nil();
}

void FieldWriter::Sender(const std::optional<NodeId>& sender) {
  if (sender.has_value()) {
    Bin(sender->span());
  } else {
    Nil();
  }
}

void FieldWriter::Endpoint(const net::Endpoint& endpoint) {
  Array(kEndpointFields);
  Uint(static_cast<uint64_t>(endpoint.family()));
  Bin(endpoint.address());
  Uint(endpoint.port());
}

void FieldWriter::TrailingEndpoint(
    const std::optional<net::Endpoint>& endpoint) {
  if (endpoint) Endpoint(*endpoint);
}

void FieldWriter::Contacts(const std::vector<Contact>& contacts) {
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

void FieldWriter::Token(const std::string& token) {
  if (token.size() > kMaxTokenBytes) {
    return Fail(absl::StrCat("token is ", token.size(), " bytes; the limit is ",
                             kMaxTokenBytes));
  }
  Bin(token);
}

void FieldWriter::Key(const std::string& key) {
  storage::Record probe;
  probe.key = key;
  absl::Status valid = storage::ValidateRecordSize(probe);
  if (!valid.ok()) return Fail(std::string(valid.message()));
  Bin(key);
}

void FieldWriter::Record(const storage::Record& record) {
  absl::Status valid = storage::ValidateRecordSize(record);
  if (!valid.ok()) return Fail(std::string(valid.message()));
  int64_t ttl = absl::ToInt64Seconds(
      absl::Floor(record.expires - now_, absl::Seconds(1)));
  ttl = std::clamp<int64_t>(ttl, 0, MaxTtlSeconds());
  switch (record.kind) {
    case storage::RecordKind::kOpen:
      Array(kOpenRecordFields);
      Bin(record.key);
      Bin(record.value);
      Uint(record.seq);
      Uint(static_cast<uint64_t>(ttl));
      return;
    case storage::RecordKind::kSigned:
      // The address is not sent: the receiver derives it from the public
      // key and the name (and so can never be told a wrong one).
      Array(kSignedRecordFields);
      Bin(record.name);
      Bin(record.value);
      Uint(record.seq);
      Uint(static_cast<uint64_t>(ttl));
      Bin(record.public_key);
      Bin(record.signature);
      return;
    case storage::RecordKind::kImmutable:
      Array(kImmutableRecordFields);
      Bin(record.value);
      Uint(static_cast<uint64_t>(ttl));
      return;
  }
  Fail("unknown record kind");
}

void FieldWriter::OptionalUint(const std::optional<uint64_t>& value) {
  if (value.has_value()) {
    Uint(*value);
  } else {
    Nil();
  }
}

void FieldWriter::Code(ErrorCode code) {
  if (!IsKnownErrorCode(static_cast<uint64_t>(code))) {
    return Fail(
        absl::StrCat("unknown error code ", static_cast<uint64_t>(code)));
  }
  Uint(static_cast<uint64_t>(code));
}

void FieldWriter::Reason(const std::string& reason) {
  if (reason.size() > kMaxErrorReasonBytes) {
    return Fail(absl::StrCat("error reason is ", reason.size(),
                             " bytes; the limit is ", kMaxErrorReasonBytes));
  }
  if (!status_.ok()) return;
  packer_.pack_str(static_cast<uint32_t>(reason.size()));
  packer_.pack_str_body(reason.data(), static_cast<uint32_t>(reason.size()));
}

void FieldWriter::Summaries(const std::vector<RecordSummary>& summaries) {
  BoundedArray("summaries", summaries.size(), kMaxOfferSummaries);
  for (const RecordSummary& summary : summaries) {
    Array(kSummaryFields);
    Key(summary.key);
    Uint(summary.seq);
    Bin(DigestBytes(summary.digest));
  }
}

void FieldWriter::Wanted(const std::vector<uint32_t>& wanted) {
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i] >= kMaxOfferSummaries ||
        (i > 0 && wanted[i] <= wanted[i - 1])) {
      return Fail(absl::StrCat("wanted: index ", wanted[i],
                               " is out of order or not below ",
                               kMaxOfferSummaries));
    }
  }
  Array(wanted.size());
  for (uint32_t index : wanted) Uint(index);
}

void FieldWriter::Fail(const std::string& reason) {
  if (status_.ok()) status_ = absl::InvalidArgumentError(reason);
}

// ------------------------------------------------------------- FieldReader

void FieldReader::FailNext(Kind kind, std::string_view field,
                           const Item& item) {
  if (next_ >= size_) {
    Fail(absl::StrCat(std::string(field), ": missing"));
  } else if (!cursor_->ok()) {
    Fail(std::string(cursor_->error()));
  } else {
    Fail(absl::StrCat(std::string(field), ": expected ", TypeName(kind),
                      ", got ", TypeName(item.kind)));
  }
}

void FieldReader::FailRange(std::string_view field, uint64_t value,
                            uint64_t max) {
  Fail(absl::StrCat(std::string(field), ": ", value, " is out of range (max ",
                    max, ")"));
}

void FieldReader::FailSize(std::string_view field, size_t size, size_t min,
                           size_t max) {
  std::string expected =
      min == max ? absl::StrCat(min) : absl::StrCat(min, "..", max);
  Fail(absl::StrCat(std::string(field), ": expected ", expected, " bytes, got ",
                    size));
}

void FieldReader::FailCount(std::string_view field, size_t size,
                            size_t count) {
  Fail(absl::StrCat(std::string(field), ": expected ", count, " elements, got ",
                    size));
}

std::string FieldReader::Bin(std::string_view field, size_t min, size_t max) {
  return std::string(BinView(field, min, max));
}

NodeId FieldReader::Id(std::string_view field) {
  NodeId id;
  ReadId(field, &id);
  return id;
}

void FieldReader::ReadId(std::string_view field, NodeId* id) {
  // Read in place: a std::string of 20 bytes is a heap allocation, and a
  // reply carries twenty ids.
  std::string_view bytes = BinView(field, NodeId::kBytes, NodeId::kBytes);
  if (!ok()) return;
  std::array<uint8_t, NodeId::kBytes> copy;
  std::copy(bytes.begin(), bytes.end(), copy.begin());
  *id = NodeId(copy);
}

std::optional<NodeId> FieldReader::Sender() {
  if (PeekNil()) return std::nullopt;
  return Id("sender");
}

net::Endpoint FieldReader::Endpoint(std::string_view field) {
  net::Endpoint endpoint;
  ReadEndpoint(field, &endpoint);
  return endpoint;
}

void FieldReader::ReadEndpoint(std::string_view field,
                               net::Endpoint* endpoint) {
  FieldReader fields = Nested(field, kEndpointFields);
  uint64_t family = fields.Uint("family", 6);
  std::string_view address = fields.BinView(
      "address", net::Endpoint::kIpv4Bytes, net::Endpoint::kIpv6Bytes);
  auto port = static_cast<uint16_t>(
      fields.Uint("port", std::numeric_limits<uint16_t>::max()));
  if (!ok()) return;
  size_t expected = family == 4   ? net::Endpoint::kIpv4Bytes
                    : family == 6 ? net::Endpoint::kIpv6Bytes
                                  : 0;
  if (expected == 0 || address.size() != expected) {
    Fail(absl::StrCat(std::string(field), ": family ", family, " with a ",
                      address.size(), "-byte address"));
    return;
  }
  // Made in place by placement new (Endpoint is trivially destructible)
  // rather than assigned: copying the returned temporary, which Ipv4 stores
  // piecewise, stalled on store forwarding once per contact.
  static_assert(std::is_trivially_destructible_v<net::Endpoint>);
  if (family == 4) {
    std::array<uint8_t, net::Endpoint::kIpv4Bytes> v4;
    std::copy(address.begin(), address.end(), v4.begin());
    new (endpoint) net::Endpoint(net::Endpoint::Ipv4(v4, port));
  } else {
    std::array<uint8_t, net::Endpoint::kIpv6Bytes> v6;
    std::copy(address.begin(), address.end(), v6.begin());
    new (endpoint) net::Endpoint(net::Endpoint::Ipv6(v6, port));
  }
}

std::optional<net::Endpoint> FieldReader::TrailingEndpoint(
    std::string_view field) {
  if (next_ >= size_) return std::nullopt;
  return Endpoint(field);
}

std::vector<Contact> FieldReader::Contacts() {
  Item list;
  if (!Next(Kind::kArray, "closest", &list)) return {};
  if (list.size > kMaxContactsPerMessage) {
    Fail(absl::StrCat(list.size, " contacts; the limit is ",
                      kMaxContactsPerMessage));
    return {};
  }
  FieldReader items = Elements(list);
  std::vector<Contact> contacts(list.size);
  for (Contact& contact : contacts) {
    FieldReader fields = items.Nested("contact", kContactFields);
    fields.ReadId("contact.id", &contact.id);
    fields.ReadEndpoint("contact.endpoint", &contact.endpoint);
  }
  if (!ok()) return {};
  return contacts;
}

std::string FieldReader::Token() { return Bin("token", 0, kMaxTokenBytes); }

std::string FieldReader::Key() { return Bin("key", 1, storage::kMaxKeyBytes); }

storage::Record FieldReader::Record() {
  Item array;
  if (!Next(Kind::kArray, "record", &array)) return {};
  const size_t count = array.size;
  if (count != kOpenRecordFields && count != kSignedRecordFields &&
      count != kImmutableRecordFields) {
    Fail(absl::StrCat("record: expected ", kImmutableRecordFields, ", ",
                      kOpenRecordFields, " or ", kSignedRecordFields,
                      " elements, got ", count));
    return {};
  }
  FieldReader fields = Elements(array);
  storage::Record record;
  auto read_ttl = [&] {
    uint64_t ttl = fields.Uint("ttl", std::numeric_limits<uint32_t>::max());
    auto capped =
        std::min<int64_t>(static_cast<int64_t>(ttl), MaxTtlSeconds());
    record.expires = now_ + absl::Seconds(capped);
  };
  if (count == kImmutableRecordFields) {
    record.kind = storage::RecordKind::kImmutable;
    record.value = fields.Bin("value", 0, storage::kMaxValueBytes);
    read_ttl();
    if (ok()) record.key = ImmutableAddress(record.value);
    return record;
  }
  const bool is_signed = count == kSignedRecordFields;
  if (is_signed) {
    record.kind = storage::RecordKind::kSigned;
    record.name = fields.Bin("name", 1, storage::kMaxNameBytes);
  } else {
    record.key = fields.Key();
  }
  record.value = fields.Bin(
      "value", 0,
      is_signed ? storage::kMaxSignedValueBytes : storage::kMaxValueBytes);
  record.seq = fields.Uint("seq", std::numeric_limits<uint64_t>::max());
  read_ttl();
  if (is_signed) {
    record.public_key = fields.Bin("public_key", storage::kPublicKeyBytes,
                                   storage::kPublicKeyBytes);
    record.signature = fields.Bin("signature", storage::kSignatureBytes,
                                  storage::kSignatureBytes);
    if (ok()) record.key = SignedAddress(record.public_key, record.name);
  }
  return record;
}

std::optional<uint64_t> FieldReader::OptionalUint(std::string_view field) {
  if (PeekNil()) return std::nullopt;
  return Uint(field, std::numeric_limits<uint64_t>::max());
}

std::optional<storage::Record> FieldReader::OptionalRecord() {
  if (PeekNil()) return std::nullopt;
  return Record();
}

ErrorCode FieldReader::Code() {
  uint64_t code = Uint("code", std::numeric_limits<uint64_t>::max());
  if (!ok()) return ErrorCode::kInternal;
  if (IsKnownErrorCode(code)) return static_cast<ErrorCode>(code);
  Fail(absl::StrCat("unknown error code ", code));
  return ErrorCode::kInternal;
}

std::string FieldReader::Reason() {
  Item item;
  if (!Next(Kind::kStr, "reason", &item)) return {};
  if (item.size > kMaxErrorReasonBytes) {
    Fail(absl::StrCat("reason: ", item.size, " bytes; the limit is ",
                      kMaxErrorReasonBytes));
    return {};
  }
  return std::string(item.bytes, item.size);
}

std::vector<RecordSummary> FieldReader::Summaries() {
  size_t count = 0;
  FieldReader list = List("summaries", kMaxOfferSummaries, &count);
  std::vector<RecordSummary> summaries(count);
  for (RecordSummary& summary : summaries) {
    FieldReader fields = list.Nested("summary", kSummaryFields);
    summary.key = fields.Key();
    summary.seq = fields.Uint("seq", std::numeric_limits<uint64_t>::max());
    summary.digest =
        DigestFromBytes(fields.Bin("digest", kDigestBytes, kDigestBytes));
  }
  if (!ok()) return {};
  return summaries;
}

std::vector<uint32_t> FieldReader::Wanted() {
  size_t count = 0;
  FieldReader list = List("wanted", kMaxOfferSummaries, &count);
  std::vector<uint32_t> wanted(count);
  for (size_t i = 0; i < count; ++i) {
    wanted[i] =
        static_cast<uint32_t>(list.Uint("wanted", kMaxOfferSummaries - 1));
    if (list.ok() && i > 0 && wanted[i] <= wanted[i - 1]) {
      Fail(absl::StrCat("wanted: index ", wanted[i], " after ", wanted[i - 1],
                        "; indices must ascend"));
    }
  }
  if (!ok()) return {};
  return wanted;
}

FieldReader FieldReader::List(std::string_view field, size_t max,
                              size_t* count) {
  Item array;
  if (Next(Kind::kArray, field, &array) && array.size > max) {
    Fail(absl::StrCat(std::string(field), ": ", array.size,
                      " elements; the limit is ", max));
  }
  FieldReader list = Elements(array);
  *count = list.size();
  return list;
}

bool FieldReader::PeekNil() {
  if (!ok() || next_ >= size_) return false;
  if (!cursor_->SkipTo(depth_)) {
    Fail(std::string(cursor_->error()));
    return false;
  }
  if (!cursor_->ConsumeNil()) return false;
  ++next_;
  return true;
}

void FieldReader::Fail(std::string reason) {
  if (ok()) *error_ = std::move(reason);
}

}  // namespace kad::dht::wire
