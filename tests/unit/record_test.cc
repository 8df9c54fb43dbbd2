#include "storage/record.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kad::storage {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

Record MakeRecord(std::string value, uint64_t seq,
                  absl::Time expires = kNow + absl::Hours(1)) {
  return Record{"key", std::move(value), seq, expires};
}

TEST(RecordTest, DigestIsXxh3Of128BitsOverTheValue) {
  // Pinned: digests cross the wire during replication sync.
  EXPECT_EQ(DigestOf(MakeRecord("", 1)),
            (RecordDigest{0x99aa06d3014798d8, 0x6001c324468d497f}));
}

TEST(RecordTest, DigestDependsOnlyOnTheValue) {
  Record a = MakeRecord("same", 1);
  Record b{"other key", "same", 99, kNow + absl::Hours(7)};
  EXPECT_EQ(DigestOf(a), DigestOf(b));
  EXPECT_NE(DigestOf(a), DigestOf(MakeRecord("Same", 1)));
}

TEST(RecordTest, HigherSeqSupersedesWhateverTheValue) {
  for (const char* value : {"a", "b", "zzzz", ""}) {
    EXPECT_TRUE(Supersedes(MakeRecord(value, 2), MakeRecord("x", 1)));
    EXPECT_FALSE(Supersedes(MakeRecord(value, 1), MakeRecord("x", 2)));
  }
}

TEST(RecordTest, EqualSeqLargerDigestSupersedes) {
  const Record a = MakeRecord("alpha", 5);
  const Record b = MakeRecord("bravo", 5);
  ASSERT_NE(DigestOf(a), DigestOf(b));
  const bool a_larger = DigestOf(a) > DigestOf(b);
  EXPECT_EQ(Supersedes(a, b), a_larger);
  EXPECT_EQ(Supersedes(b, a), !a_larger);
}

TEST(RecordTest, IdenticalVersionsDoNotSupersedeEachOther) {
  const Record a = MakeRecord("v", 5, kNow + absl::Hours(1));
  const Record longer = MakeRecord("v", 5, kNow + absl::Hours(9));
  EXPECT_FALSE(Supersedes(a, a));
  EXPECT_FALSE(Supersedes(longer, a));
  EXPECT_FALSE(Supersedes(a, longer));
}

TEST(RecordTest, FootprintCountsKeyValueAndOverhead) {
  const Record r{"abc", "defgh", 1, kNow};
  EXPECT_EQ(r.footprint(), 3u + 5u + 32u);
}

TEST(RecordTest, ValidateAcceptsRecordsUpToTheLimits) {
  EXPECT_TRUE(ValidateRecordSize(Record{"k", "", 0, kNow}).ok());
  EXPECT_TRUE(
      ValidateRecordSize(Record{std::string(kMaxKeyBytes, 'k'),
                                std::string(kMaxValueBytes, 'v'), 0, kNow})
          .ok());
}

TEST(RecordTest, ValidateRefusesAnEmptyKey) {
  absl::Status status = ValidateRecordSize(Record{"", "v", 0, kNow});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("empty"));
}

TEST(RecordTest, ValidateRefusesALongKeyNamingTheLimit) {
  absl::Status status = ValidateRecordSize(
      Record{std::string(kMaxKeyBytes + 1, 'k'), "v", 0, kNow});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("129 bytes; the limit is 128"));
}

TEST(RecordTest, ValidateRefusesALongValueNamingTheLimit) {
  absl::Status status = ValidateRecordSize(
      Record{"k", std::string(kMaxValueBytes + 1, 'v'), 0, kNow});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("1001 bytes; the limit is 1000"));
}

}  // namespace
}  // namespace kad::storage
