// What LmdbPublicationStore adds to the PublicationStore contract
// (publication_store_conformance_test.cc): its byte layout
// (storage/lmdb_format.h), persistence across reopening, and its place
// beside the records in one data dir.
#include "storage/lmdb_publication_store.h"

#include <lmdb.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"
#include "storage/lmdb_format.h"
#include "storage/lmdb_store.h"

namespace kad::storage {
namespace {

using namespace std::string_view_literals;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

TEST(LmdbPublicationFormatTest, PublicationValueGoldenBytes) {
  const Publication publication{
      Record{"key", "hi", 0x0102030405060708, absl::FromUnixMicros(0x0a0b0c0d)},
      absl::Microseconds(0x01020304)};
  const std::string encoded = lmdb_format::EncodePublicationValue(publication);
  EXPECT_EQ(encoded,
            "\x01"                              // publication encoding
            "\x00\x00\x00\x00\x01\x02\x03\x04"  // ttl micros
            "\x01"                              // record encoding
            "\x01\x02\x03\x04\x05\x06\x07\x08"  // seq
            "\x00\x00\x00\x00\x0a\x0b\x0c\x0d"  // expires micros
            "hi"sv);
  EXPECT_EQ(lmdb_format::DecodePublication("key", encoded), publication);
}

TEST(LmdbPublicationFormatTest, TtlRoundsUpToTheMicrosecond) {
  const Publication publication{Record{"k", "", 1, absl::FromUnixMicros(5)},
                                absl::Microseconds(7) + absl::Nanoseconds(1)};
  EXPECT_EQ(lmdb_format::DecodePublication(
                "k", lmdb_format::EncodePublicationValue(publication))
                ->ttl,
            absl::Microseconds(8));
}

TEST(LmdbPublicationFormatTest, MalformedValuesDoNotDecode) {
  const std::string good = lmdb_format::EncodePublicationValue(
      Publication{Record{"k", "v", 1, kNow}, absl::Hours(1)});
  EXPECT_FALSE(lmdb_format::DecodePublication("k", "").has_value());
  EXPECT_FALSE(
      lmdb_format::DecodePublication("k", good.substr(0, 12)).has_value());
  std::string wrong_encoding = good;
  wrong_encoding[0] = 2;
  EXPECT_FALSE(lmdb_format::DecodePublication("k", wrong_encoding).has_value());
  std::string wrong_record_encoding = good;
  wrong_record_encoding[9] = 2;
  EXPECT_FALSE(
      lmdb_format::DecodePublication("k", wrong_record_encoding).has_value());
}

class LmdbPublicationStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<LmdbStore> Open() {
    auto store = LmdbStore::Open(dir_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static std::vector<Publication> All(const PublicationStore& store) {
    std::vector<Publication> all;
    store.ForEach([&](const Publication& p) { all.push_back(p); });
    return all;
  }

  testing::ScratchDir scratch_{"kad-lmdb-pub"};
  const std::string& dir_ = scratch_.path();
};

TEST_F(LmdbPublicationStoreTest, PublicationsSurviveReopening) {
  const Publication kept{Record{"kept", "value", 3, kNow + absl::Hours(2)},
                         absl::Hours(2)};
  {
    std::unique_ptr<LmdbStore> store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->publications().Put(kept).ok());
  }
  std::unique_ptr<LmdbStore> reopened = Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->publications().size(), 1u);
  EXPECT_EQ(All(reopened->publications()), std::vector<Publication>{kept});
}

TEST_F(LmdbPublicationStoreTest, PublicationsAndHeldRecordsAreApart) {
  std::unique_ptr<LmdbStore> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->Put(Record{"held", "v", 1, kNow + absl::Hours(1)}, kNow).ok());
  EXPECT_EQ(store->publications().size(), 0u);
  ASSERT_TRUE(
      store->publications()
          .Put({Record{"ours", "v", 1, kNow + absl::Hours(1)}, absl::Hours(1)})
          .ok());
  EXPECT_EQ(store->stats().records, 1u);
  EXPECT_EQ(store->Get("ours", kNow).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LmdbPublicationStoreTest, RefusesAKeyNoRecordCouldHave) {
  std::unique_ptr<LmdbStore> store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->publications()
                .Put({Record{"", "v", 1, kNow}, absl::Hours(1)})
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->publications().size(), 0u);
}

// A data dir written before publications were kept has no "publications"
// database: it opens as it is, with none, and keeps them from then on.
TEST_F(LmdbPublicationStoreTest, OpensADirWrittenBeforePublications) {
  const Record held{"held", "v", 1, kNow + absl::Hours(1)};
  {
    std::unique_ptr<LmdbStore> store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put(held, kNow).ok());
  }
  {  // Drop the database, as if the dir came from an older kad.
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), MDB_SUCCESS);
    ASSERT_EQ(mdb_env_set_maxdbs(env, 4), MDB_SUCCESS);
    ASSERT_EQ(
        mdb_env_open(env, (dir_ + "/records.mdb").c_str(), MDB_NOSUBDIR, 0644),
        MDB_SUCCESS);
    MDB_txn* txn = nullptr;
    MDB_dbi dbi = 0;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), MDB_SUCCESS);
    ASSERT_EQ(mdb_dbi_open(txn, "publications", 0, &dbi), MDB_SUCCESS);
    ASSERT_EQ(mdb_drop(txn, dbi, 1), MDB_SUCCESS);
    ASSERT_EQ(mdb_dbi_open(txn, "publications", 0, &dbi), MDB_NOTFOUND);
    ASSERT_EQ(mdb_txn_commit(txn), MDB_SUCCESS);
    mdb_env_close(env);
  }
  std::unique_ptr<LmdbStore> store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("held", kNow).value(), held);
  EXPECT_EQ(store->publications().size(), 0u);
  EXPECT_TRUE(store->publications().Put({held, absl::Hours(1)}).ok());
  EXPECT_EQ(store->publications().size(), 1u);
}

}  // namespace
}  // namespace kad::storage
