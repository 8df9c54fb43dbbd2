// The contract in storage/publication_store.h, checked against every
// publication store.
//
// To add a store: specialize PublicationStoreFactory for it below and add
// it to PublicationStoreTypes. A factory lives as long as the test (so it
// may own a temporary directory) and its Make() returns a new, empty
// store that stays valid as long as the factory.
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"
#include "storage/lmdb_publication_store.h"
#include "storage/lmdb_store.h"
#include "storage/publication_store.h"

namespace kad::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

template <typename Store>
struct PublicationStoreFactory;

template <>
struct PublicationStoreFactory<MemoryPublicationStore> {
  static constexpr char kName[] = "MemoryPublicationStore";
  PublicationStore& Make() {
    return *made.emplace_back(std::make_unique<MemoryPublicationStore>());
  }
  std::vector<std::unique_ptr<MemoryPublicationStore>> made;
};

// Each store is the publications of its own LmdbStore, in its own data
// dir under one temporary directory that goes when the test ends.
template <>
struct PublicationStoreFactory<LmdbPublicationStore> {
  static constexpr char kName[] = "LmdbPublicationStore";
  ~PublicationStoreFactory() { made.clear(); }  // Before the dir goes.
  PublicationStore& Make() {
    auto store = LmdbStore::Open(absl::StrCat(root.path(), "/store", made.size()));
    EXPECT_TRUE(store.ok()) << store.status();
    return made.emplace_back(*std::move(store))->publications();
  }

  kad::testing::ScratchDir root{"kad-publications"};
  std::vector<std::unique_ptr<LmdbStore>> made;
};

using PublicationStoreTypes =
    ::testing::Types<MemoryPublicationStore, LmdbPublicationStore>;

struct StoreNames {
  template <typename Store>
  static std::string GetName(int) {
    return PublicationStoreFactory<Store>::kName;
  }
};

const absl::Time kExpires = absl::FromUnixSeconds(1'700'003'600);

Publication MakePublication(std::string key, std::string value, uint64_t seq,
                            absl::Duration ttl = absl::Hours(1)) {
  return Publication{Record{std::move(key), std::move(value), seq, kExpires},
                     ttl};
}

std::vector<Publication> All(const PublicationStore& store) {
  std::vector<Publication> all;
  store.ForEach([&](const Publication& p) { all.push_back(p); });
  return all;
}

template <typename Store>
class PublicationStoreConformanceTest : public ::testing::Test {
 protected:
  PublicationStore& MakeStore() { return factory_.Make(); }

  PublicationStoreFactory<Store> factory_;
};

TYPED_TEST_SUITE(PublicationStoreConformanceTest, PublicationStoreTypes,
                 StoreNames);

TYPED_TEST(PublicationStoreConformanceTest, StartsEmpty) {
  PublicationStore& store = this->MakeStore();
  EXPECT_EQ(store.size(), 0u);
  EXPECT_THAT(All(store), IsEmpty());
}

TYPED_TEST(PublicationStoreConformanceTest, KeepsRecordAndTtlExactly) {
  PublicationStore& store = this->MakeStore();
  const Publication publication =
      MakePublication("key", std::string("v\0al\xff", 5), 0xfedcba9876543210,
                      absl::Hours(24) + absl::Microseconds(1));
  ASSERT_TRUE(store.Put(publication).ok());
  EXPECT_EQ(store.size(), 1u);
  EXPECT_THAT(All(store), ElementsAre(publication));
}

TYPED_TEST(PublicationStoreConformanceTest, VisitsInAscendingKeyOrder) {
  PublicationStore& store = this->MakeStore();
  for (const char* key : {"b", "a", "c", "\x80", "ab"}) {
    ASSERT_TRUE(store.Put(MakePublication(key, "v", 1)).ok());
  }
  std::vector<std::string> keys;
  store.ForEach([&](const Publication& p) { keys.push_back(p.record.key); });
  EXPECT_THAT(keys, ElementsAre("a", "ab", "b", "c", "\x80"));
  EXPECT_EQ(store.size(), 5u);
}

TYPED_TEST(PublicationStoreConformanceTest,
           APutReplacesThePublicationOfItsKey) {
  PublicationStore& store = this->MakeStore();
  ASSERT_TRUE(store.Put(MakePublication("k", "first", 1)).ok());
  ASSERT_TRUE(store.Put(MakePublication("other", "x", 1)).ok());
  const Publication second =
      MakePublication("k", "second", 2, absl::Minutes(30));
  ASSERT_TRUE(store.Put(second).ok());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_THAT(All(store),
              ElementsAre(second, MakePublication("other", "x", 1)));
}

TYPED_TEST(PublicationStoreConformanceTest, StoresAreIndependent) {
  PublicationStore& a = this->MakeStore();
  PublicationStore& b = this->MakeStore();
  ASSERT_TRUE(a.Put(MakePublication("k", "v", 1)).ok());
  EXPECT_EQ(b.size(), 0u);
}

}  // namespace
}  // namespace kad::storage
