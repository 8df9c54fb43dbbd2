// Pins LmdbStore's on-disk byte layout (storage/lmdb_format.h): a change
// here is a change of kLmdbStoreFormatVersion.
#include "storage/lmdb_format.h"

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kad::storage::lmdb_format {
namespace {

using namespace std::string_view_literals;  // NOLINT

TEST(LmdbFormatTest, FormatVersionIsOne) {
  EXPECT_EQ(kLmdbStoreFormatVersion, 1u);
}

TEST(LmdbFormatTest, RecordValueGoldenBytes) {
  const Record record{"key", "hi", 0x0102030405060708,
                      absl::FromUnixMicros(0x0a0b0c0d)};
  EXPECT_EQ(EncodeRecordValue(record),
            "\x01"
            "\x01\x02\x03\x04\x05\x06\x07\x08"
            "\x00\x00\x00\x00\x0a\x0b\x0c\x0d"
            "hi"sv);
  EXPECT_EQ(DecodeRecord("key", EncodeRecordValue(record)), record);
}

TEST(LmdbFormatTest, ExpiryKeyGoldenBytes) {
  EXPECT_EQ(ExpiryKey(absl::FromUnixMicros(0x0102), "k"),
            "\x80\x00\x00\x00\x00\x00\x01\x02k"sv);
  EXPECT_EQ(ExpiryKey(absl::FromUnixMicros(-1), "k"),
            "\x7f\xff\xff\xff\xff\xff\xff\xffk"sv);
}

TEST(LmdbFormatTest, ExpiryKeysSortLikeTheirTimes) {
  const absl::Time times[] = {absl::FromUnixSeconds(-100),
                              absl::FromUnixMicros(-1),
                              absl::UnixEpoch(),
                              absl::FromUnixMicros(1),
                              absl::FromUnixSeconds(1'700'000'000),
                              absl::InfiniteFuture()};
  for (size_t i = 0; i + 1 < std::size(times); ++i) {
    EXPECT_LT(ExpiryKey(times[i], "z"), ExpiryKey(times[i + 1], "a")) << i;
  }
  for (absl::Time t : times) {
    const std::string key = ExpiryKey(t, "key");
    const std::optional<ExpiryEntry> entry = DecodeExpiryKey(key);
    ASSERT_TRUE(entry.has_value());
    EXPECT_EQ(entry->expires, t);
    EXPECT_EQ(entry->key, "key");
  }
}

TEST(LmdbFormatTest, SubMicrosecondTimesRoundUp) {
  const absl::Time t = absl::FromUnixMicros(5) + absl::Nanoseconds(1);
  const Record record{"k", "", 1, t};
  EXPECT_EQ(DecodeRecord("k", EncodeRecordValue(record))->expires,
            absl::FromUnixMicros(6));
  EXPECT_EQ(DecodeExpiryKey(ExpiryKey(t, "k"))->expires,
            absl::FromUnixMicros(6));
}

TEST(LmdbFormatTest, MalformedBytesDoNotDecode) {
  const std::string good = EncodeRecordValue(Record{"k", "v", 1, {}});
  EXPECT_FALSE(DecodeRecord("k", good.substr(0, 16)).has_value());
  std::string other_encoding = good;
  other_encoding[0] = 2;
  EXPECT_FALSE(DecodeRecord("k", other_encoding).has_value());
  EXPECT_FALSE(DecodeExpiryKey(std::string(8, '\x80')).has_value());
  EXPECT_FALSE(DecodeBigEndian("\x01\x02"sv, 4).has_value());
  EXPECT_EQ(DecodeBigEndian("\x01\x02"sv, 2), 0x0102u);
  EXPECT_EQ(EncodeBigEndian(0x01020304, 4), "\x01\x02\x03\x04"sv);
}

}  // namespace
}  // namespace kad::storage::lmdb_format

namespace kad::storage::lmdb_format {
namespace {

// A record shaped like a signed one (storage checks no signatures).
Record SignedLooking(std::string name) {
  Record record;
  record.kind = RecordKind::kSigned;
  record.key = std::string(kAddressBytes, 'a');
  record.name = std::move(name);
  record.public_key = std::string(kPublicKeyBytes, 'p');
  record.signature = std::string(kSignatureBytes, 's');
  record.expires = absl::FromUnixMicros(3);
  return record;
}

TEST(LmdbFormatTest, ProvenRecordGoldenBytesAndRoundTrip) {
  Record record = SignedLooking("n");
  // Not `= "v"`: GCC 12 at -O3 reports a false -Wrestrict inside
  // std::string's assignment from a literal (GCC bug 105329).
  record.value = std::string(1, 'v');
  record.seq = 2;
  const std::string encoded = EncodeRecordValue(record);
  EXPECT_EQ(encoded.substr(0, 20),
            "\x02"
            "\0\0\0\0\0\0\0\x02"
            "\0\0\0\0\0\0\0\x03"
            "\x01\x01n"sv);
  EXPECT_EQ(encoded.size(), 17u + 1 + 2 + 33 + 65 + 1);
  EXPECT_EQ(DecodeRecord(record.key, encoded), record);

  Record immutable;
  immutable.kind = RecordKind::kImmutable;
  immutable.key = std::string(kAddressBytes, 'b');
  immutable.value = "world";
  immutable.expires = absl::FromUnixMicros(3);
  EXPECT_EQ(DecodeRecord(immutable.key, EncodeRecordValue(immutable)),
            immutable);
}

TEST(LmdbFormatTest, OpenRecordsKeepTheOldEncoding) {
  Record open{"k", "v", 1, absl::FromUnixMicros(3)};
  EXPECT_EQ(EncodeRecordValue(open)[0], '\x01');
}

TEST(LmdbFormatTest, TruncatedProvenRecordsDoNotDecode) {
  Record record = SignedLooking("name");
  const std::string encoded = EncodeRecordValue(record);
  for (size_t size = 17; size < encoded.size(); ++size) {
    EXPECT_FALSE(DecodeRecord(record.key, encoded.substr(0, size)).has_value())
        << size;
  }
  std::string bad_kind = encoded;
  bad_kind[17] = '\x00';
  EXPECT_FALSE(DecodeRecord(record.key, bad_kind).has_value());
}

}  // namespace
}  // namespace kad::storage::lmdb_format
