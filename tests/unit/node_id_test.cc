#include "dht/node_id.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

// An id that is zero except for byte `index`, which holds `value`.
NodeId IdWithByte(size_t index, uint8_t value) {
  std::array<uint8_t, NodeId::kBytes> bytes{};
  bytes[index] = value;
  return NodeId(bytes);
}

NodeId IdFilledWith(uint8_t value) {
  std::array<uint8_t, NodeId::kBytes> bytes;
  bytes.fill(value);
  return NodeId(bytes);
}

TEST(NodeIdTest, DefaultIsAllZero) {
  NodeId id;
  for (uint8_t b : id.bytes()) EXPECT_EQ(b, 0);
  EXPECT_EQ(id.ToHex(), std::string(40, '0'));
}

TEST(NodeIdTest, HexRoundTrips) {
  const std::string hex = "0123456789abcdef00112233445566778899aabb";
  auto id = NodeId::FromHex(hex);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->ToHex(), hex);
  EXPECT_EQ(id->bytes()[0], 0x01);
  EXPECT_EQ(id->bytes()[19], 0xbb);
  EXPECT_EQ(id->ShortHex(), "01234567");

  std::mt19937_64 gen(17);
  for (int i = 0; i < 20; ++i) {
    NodeId random = NodeId::Random(gen);
    auto parsed = NodeId::FromHex(random.ToHex());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, random);
  }
}

TEST(NodeIdTest, FromHexAcceptsUpperCaseAndPrintsLowerCase) {
  auto upper = NodeId::FromHex("ABCDEF0123456789ABCDEF0123456789ABCDEF01");
  ASSERT_TRUE(upper.ok()) << upper.status();
  EXPECT_EQ(upper->ToHex(), "abcdef0123456789abcdef0123456789abcdef01");
}

TEST(NodeIdTest, FromHexRejectsWrongLengthNamingTheInput) {
  for (const std::string& bad :
       {std::string(""), std::string("abc"), std::string(39, 'a'),
        std::string(41, 'a'), std::string(80, 'a')}) {
    auto id = NodeId::FromHex(bad);
    ASSERT_FALSE(id.ok()) << "accepted '" << bad << "'";
    EXPECT_TRUE(absl::IsInvalidArgument(id.status())) << id.status();
    EXPECT_NE(std::string(id.status().message()).find("'" + bad + "'"),
              std::string::npos)
        << id.status();
  }
}

TEST(NodeIdTest, FromHexRejectsNonHexDigitsNamingTheInput) {
  for (std::string_view bad :
       {"g123456789abcdef00112233445566778899aabb",
        "0x23456789abcdef00112233445566778899aabb",
        "0123456789abcdef0011223344556677 899aabb",
        "0123456789abcdef00112233445566778899aab-"}) {
    ASSERT_EQ(bad.size(), 40u);
    auto id = NodeId::FromHex(bad);
    ASSERT_FALSE(id.ok()) << "accepted '" << bad << "'";
    EXPECT_TRUE(absl::IsInvalidArgument(id.status())) << id.status();
    EXPECT_NE(std::string(id.status().message()).find(std::string(bad)),
              std::string::npos)
        << id.status();
  }
}

TEST(NodeIdTest, FromBytesRequiresExactlyTwentyBytes) {
  std::vector<uint8_t> bytes(20);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i);
  auto id = NodeId::FromBytes(bytes);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), id->bytes().begin()));

  for (size_t size : {0u, 1u, 19u, 21u, 32u}) {
    std::vector<uint8_t> wrong(size, 0xab);
    auto bad = NodeId::FromBytes(wrong);
    ASSERT_FALSE(bad.ok()) << "accepted " << size << " bytes";
    EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  }
}

TEST(NodeIdTest, DistanceIsTheXorOfTheBytes) {
  std::mt19937_64 gen(3);
  for (int i = 0; i < 20; ++i) {
    NodeId a = NodeId::Random(gen);
    NodeId b = NodeId::Random(gen);
    NodeId d = a.DistanceTo(b);
    for (size_t j = 0; j < NodeId::kBytes; ++j) {
      EXPECT_EQ(d.bytes()[j], a.bytes()[j] ^ b.bytes()[j]);
    }
  }
  EXPECT_EQ(IdFilledWith(0xf0).DistanceTo(IdFilledWith(0x3c)),
            IdFilledWith(0xcc));
}

TEST(NodeIdTest, DistanceIsSymmetricAndZeroToSelf) {
  std::mt19937_64 gen(4);
  for (int i = 0; i < 20; ++i) {
    NodeId a = NodeId::Random(gen);
    NodeId b = NodeId::Random(gen);
    EXPECT_EQ(a.DistanceTo(b), b.DistanceTo(a));
    EXPECT_EQ(a.DistanceTo(a), NodeId());
    EXPECT_NE(a.DistanceTo(b), NodeId());
  }
}

TEST(NodeIdTest, CommonPrefixLengthOfCraftedIds) {
  const NodeId zero;
  EXPECT_EQ(zero.CommonPrefixLength(IdWithByte(0, 0x80)), 0);
  EXPECT_EQ(zero.CommonPrefixLength(IdWithByte(0, 0x40)), 1);
  EXPECT_EQ(zero.CommonPrefixLength(IdWithByte(0, 0x01)), 7);
  EXPECT_EQ(zero.CommonPrefixLength(IdWithByte(1, 0x80)), 8);
  EXPECT_EQ(zero.CommonPrefixLength(IdWithByte(1, 0xff)), 8);
  EXPECT_EQ(zero.CommonPrefixLength(IdWithByte(12, 0x08)), 100);
  EXPECT_EQ(zero.CommonPrefixLength(IdWithByte(19, 0x01)), 159);
  // Only the first differing bit counts, not the later ones.
  EXPECT_EQ(IdFilledWith(0xff).CommonPrefixLength(IdFilledWith(0x7f)), 0);
  EXPECT_EQ(IdFilledWith(0xaa).CommonPrefixLength(IdFilledWith(0xab)), 7);
}

TEST(NodeIdTest, CommonPrefixLengthIsZeroWhenTheFirstBitDiffers) {
  std::mt19937_64 gen(5);
  for (int i = 0; i < 20; ++i) {
    NodeId a = NodeId::Random(gen);
    std::array<uint8_t, NodeId::kBytes> flipped = a.bytes();
    flipped[0] ^= 0x80;
    EXPECT_EQ(a.CommonPrefixLength(NodeId(flipped)), 0);
  }
}

TEST(NodeIdTest, CommonPrefixLengthIs160ForEqualIds) {
  std::mt19937_64 gen(6);
  NodeId a = NodeId::Random(gen);
  EXPECT_EQ(a.CommonPrefixLength(a), NodeId::kBits);
  EXPECT_EQ(NodeId().CommonPrefixLength(NodeId()), 160);
}

TEST(NodeIdTest, CommonPrefixLengthIsSymmetric) {
  std::mt19937_64 gen(7);
  for (int i = 0; i < 20; ++i) {
    NodeId a = NodeId::Random(gen);
    NodeId b = NodeId::Random(gen);
    EXPECT_EQ(a.CommonPrefixLength(b), b.CommonPrefixLength(a));
  }
}

TEST(NodeIdTest, BitCountsFromTheMostSignificantBit) {
  NodeId id = IdWithByte(0, 0x80);
  EXPECT_TRUE(id.Bit(0));
  EXPECT_FALSE(id.Bit(1));
  NodeId last = IdWithByte(19, 0x01);
  EXPECT_TRUE(last.Bit(159));
  EXPECT_FALSE(last.Bit(158));
}

TEST(NodeIdTest, OrdersAsBigEndianUnsignedIntegers) {
  EXPECT_LT(IdWithByte(19, 0xff), IdWithByte(0, 0x01));
  EXPECT_LT(IdWithByte(1, 0x01), IdWithByte(1, 0x02));
  EXPECT_LT(NodeId(), IdWithByte(19, 0x01));
}

TEST(NodeIdTest, OrderMatchesByteWiseComparisonForRandomIds) {
  std::mt19937_64 gen(21);
  for (int i = 0; i < 10'000; ++i) {
    const NodeId a = NodeId::Random(gen);
    // A random-length shared prefix, so the first difference falls in
    // every word, and sometimes nowhere.
    const int shared = static_cast<int>(gen() % (NodeId::kBits + 1));
    const NodeId b = NodeId::RandomWithPrefix(a, shared, gen);
    const auto bytes = a.bytes() <=> b.bytes();
    EXPECT_EQ(a <=> b, bytes) << a.ToHex() << " " << b.ToHex();
    EXPECT_EQ(a < b, a.bytes() < b.bytes());
  }
}

TEST(NodeIdTest, CloserToOrdersByXorDistanceNotNumericDistance) {
  const NodeId target = IdWithByte(0, 0x03);
  const NodeId a = IdWithByte(0, 0x01);  // Distance 0x02.
  const NodeId b = IdWithByte(0, 0x02);  // Distance 0x01.
  const NodeId c = IdWithByte(0, 0x04);  // Distance 0x07.
  CloserTo closer{target};
  EXPECT_TRUE(closer(b, a));
  EXPECT_FALSE(closer(a, b));
  EXPECT_TRUE(closer(a, c));
  EXPECT_TRUE(closer(target, b)) << "the target itself is closest";
  EXPECT_FALSE(closer(a, a)) << "irreflexive";

  std::vector<NodeId> ids = {c, a, target, b};
  std::sort(ids.begin(), ids.end(), CloserTo{target});
  EXPECT_EQ(ids, (std::vector<NodeId>{target, b, a, c}));
}

TEST(NodeIdTest, CloserToSortsRandomIdsByDistance) {
  std::mt19937_64 gen(8);
  NodeId target = NodeId::Random(gen);
  std::vector<NodeId> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(NodeId::Random(gen));
  std::sort(ids.begin(), ids.end(), CloserTo{target});
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_LT(ids[i - 1].DistanceTo(target), ids[i].DistanceTo(target));
  }
}

TEST(NodeIdTest, RandomWithPrefixSharesExactlyThePrefix) {
  std::mt19937_64 gen(9);
  for (int trial = 0; trial < 5; ++trial) {
    NodeId base = NodeId::Random(gen);
    for (int prefix : {0, 1, 2, 7, 8, 9, 15, 16, 63, 64, 100, 158, 159}) {
      for (int i = 0; i < 20; ++i) {
        NodeId id = NodeId::RandomWithPrefix(base, prefix, gen);
        EXPECT_EQ(id.CommonPrefixLength(base), prefix)
            << "base " << base.ToHex() << " id " << id.ToHex();
      }
    }
  }
}

TEST(NodeIdTest, RandomWithPrefixVariesTheBitsAfterThePrefix) {
  std::mt19937_64 gen(10);
  NodeId base = NodeId::Random(gen);
  for (int prefix : {0, 8, 100}) {
    NodeId first = NodeId::RandomWithPrefix(base, prefix, gen);
    bool varied = false;
    for (int i = 0; i < 10 && !varied; ++i) {
      varied = NodeId::RandomWithPrefix(base, prefix, gen) != first;
    }
    EXPECT_TRUE(varied) << "prefix " << prefix;
  }
}

TEST(NodeIdTest, RandomWithFullPrefixReturnsBase) {
  std::mt19937_64 gen(11);
  NodeId base = NodeId::Random(gen);
  EXPECT_EQ(NodeId::RandomWithPrefix(base, NodeId::kBits, gen), base);
  EXPECT_EQ(NodeId::RandomWithPrefix(NodeId(), 160, gen), NodeId());
}

TEST(NodeIdTest, RandomIsDeterministicPerSeed) {
  std::mt19937_64 a(1234);
  std::mt19937_64 b(1234);
  std::mt19937_64 other(1235);
  for (int i = 0; i < 10; ++i) {
    NodeId from_a = NodeId::Random(a);
    EXPECT_EQ(from_a, NodeId::Random(b));
    EXPECT_NE(from_a, NodeId::Random(other));
  }
}

TEST(NodeIdTest, RandomIdsDiffer) {
  std::mt19937_64 gen(12);
  NodeId first = NodeId::Random(gen);
  NodeId second = NodeId::Random(gen);
  EXPECT_NE(first, second);
  EXPECT_NE(first, NodeId());
}

TEST(NodeIdTest, ForKeyIsBlake2b160) {
  // hashlib.blake2b(b"hello", digest_size=20).hexdigest()
  EXPECT_EQ(NodeId::ForKey("hello").ToHex(),
            "b5531c7037f06c9f2947132a6a77202c308e8939");
}

TEST(NodeIdTest, ForKeyOfTheEmptyKey) {
  // hashlib.blake2b(b"", digest_size=20).hexdigest()
  EXPECT_EQ(NodeId::ForKey("").ToHex(),
            "3345524abf6bbe1809449224b5972c41790b6cf2");
}

TEST(NodeIdTest, ForKeyIsStableAndSeparatesKeys) {
  EXPECT_EQ(NodeId::ForKey("key"), NodeId::ForKey("key"));
  EXPECT_NE(NodeId::ForKey("key"), NodeId::ForKey("key2"));
  EXPECT_NE(NodeId::ForKey("key"), NodeId::ForKey("Key"));
  // Embedded NUL bytes are part of the key.
  EXPECT_NE(NodeId::ForKey(std::string("a\0b", 3)), NodeId::ForKey("a"));
}

}  // namespace
}  // namespace kad::dht
