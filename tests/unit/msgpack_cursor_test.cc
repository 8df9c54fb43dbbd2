#include "dht/msgpack_cursor.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "dht/wire_codec.h"
#include "gtest/gtest.h"

// Counts the heap allocations of this test binary, to pin that the cursor
// and the decoder allocate nothing beyond the decoded message. (GCC takes
// the malloc and free inside the replacements for a mismatched pair.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<size_t> allocations{0};
}  // namespace

void* operator new(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace kad::dht::wire {
namespace {

std::vector<uint8_t> Bytes(std::string_view hex) {
  std::string bytes =
      absl::HexStringToBytes(absl::string_view(hex.data(), hex.size()));
  return {bytes.begin(), bytes.end()};
}

// Reads every item of `datagram`; returns the error, or "" if it is one
// well-formed item (trailing bytes are the codec's business).
std::string Skip(const std::vector<uint8_t>& datagram) {
  MsgpackCursor cursor(datagram);
  return cursor.SkipRest() ? "" : std::string(cursor.error());
}

TEST(MsgpackCursorTest, ReadsEveryScalarFormInPlace) {
  // [nil, false, 5, 0xcc ff, 0xcd 1234, 0xce, 0xcf, int8 7, int8 -1,
  //  -1 (fixint), float32, float64, bin8 "ab", fixstr "hi", str8 "", {}]
  const std::vector<uint8_t> datagram = Bytes(
      "9f"
      "c0"
      "c2"
      "05"
      "ccff"
      "cd1234"
      "ce12345678"
      "cf0102030405060708"
      "d007"
      "d0ff"
      "ff"
      "ca3f800000"
      "cb3ff0000000000000"
      "c4026162"
      "a26869"
      "d900");
  MsgpackCursor cursor(datagram);
  Item item;
  ASSERT_TRUE(cursor.Next(&item));
  EXPECT_EQ(item.kind, Kind::kArray);
  EXPECT_EQ(item.size, 15u);
  EXPECT_EQ(cursor.depth(), 1u);
  struct Expected {
    Kind kind;
    uint64_t uint;
  };
  const std::vector<Expected> expected = {
      {Kind::kNil, 0},
      {Kind::kBool, 0},
      {Kind::kUint, 5},
      {Kind::kUint, 0xff},
      {Kind::kUint, 0x1234},
      {Kind::kUint, 0x12345678},
      {Kind::kUint, 0x0102030405060708},
      {Kind::kUint, 7},  // an int form that is not negative reads as uint
      {Kind::kNegativeInt, 0},
      {Kind::kNegativeInt, 0},
      {Kind::kFloat, 0},
      {Kind::kFloat, 0},
  };
  for (const Expected& e : expected) {
    ASSERT_TRUE(cursor.Next(&item));
    EXPECT_EQ(item.kind, e.kind);
    if (e.kind == Kind::kUint) {
      EXPECT_EQ(item.uint, e.uint);
    }
  }
  ASSERT_TRUE(cursor.Next(&item));
  EXPECT_EQ(item.kind, Kind::kBin);
  EXPECT_EQ(std::string_view(item.bytes, item.size), "ab");
  EXPECT_EQ(reinterpret_cast<const uint8_t*>(item.bytes),
            datagram.data() + datagram.size() - 7);  // a view, not a copy
  ASSERT_TRUE(cursor.Next(&item));
  EXPECT_EQ(item.kind, Kind::kStr);
  EXPECT_EQ(std::string_view(item.bytes, item.size), "hi");
  EXPECT_FALSE(cursor.complete());
  ASSERT_TRUE(cursor.Next(&item));
  EXPECT_EQ(item.kind, Kind::kStr);
  EXPECT_EQ(item.size, 0u);
  EXPECT_TRUE(cursor.complete());
  EXPECT_EQ(cursor.depth(), 0u);
  EXPECT_EQ(cursor.remaining_bytes(), 0u);
}

TEST(MsgpackCursorTest, SkipsWhatIsLeftUnreadInNestedArrays) {
  // [[1, [2, 3]], 4] 0xc0: read the outer header, the inner one and its
  // first element, then skip to the outer array's second element.
  const std::vector<uint8_t> datagram = Bytes(
      "929201920203"
      "04"
      "c0");
  MsgpackCursor cursor(datagram);
  Item item;
  ASSERT_TRUE(cursor.Next(&item));
  ASSERT_TRUE(cursor.Next(&item));
  ASSERT_TRUE(cursor.Next(&item));
  EXPECT_EQ(item.uint, 1u);
  EXPECT_EQ(cursor.depth(), 2u);
  ASSERT_TRUE(cursor.SkipTo(1));
  EXPECT_EQ(cursor.depth(), 1u);
  ASSERT_TRUE(cursor.Next(&item));
  EXPECT_EQ(item.uint, 4u);
  EXPECT_TRUE(cursor.complete());
  EXPECT_EQ(cursor.remaining_bytes(), 1u);
}

TEST(MsgpackCursorTest, ConsumesNilOnlyWhenItIsNext) {
  const std::vector<uint8_t> datagram = Bytes("92c001");
  MsgpackCursor cursor(datagram);
  Item item;
  ASSERT_TRUE(cursor.Next(&item));
  EXPECT_TRUE(cursor.ConsumeNil());
  EXPECT_FALSE(cursor.ConsumeNil());
  ASSERT_TRUE(cursor.Next(&item));
  EXPECT_EQ(item.uint, 1u);
  EXPECT_TRUE(cursor.complete());
}

TEST(MsgpackCursorTest, RefusesWhatMsgpackUnpackRefusedWithItsLimits) {
  const std::string bad = "invalid msgpack ";
  EXPECT_EQ(Skip({}), "truncated");
  EXPECT_EQ(Skip(Bytes("c1")), bad + "(parse error)");
  EXPECT_EQ(Skip(Bytes("dc00a0")), "truncated");  // 160 elements: allowed
  EXPECT_EQ(Skip(Bytes("dc00a1")), bad + "(array size overflow)");
  EXPECT_EQ(Skip(Bytes("ddffffffff")), bad + "(array size overflow)");
  EXPECT_EQ(Skip(Bytes("91919190")), "");  // 4 deep: allowed
  EXPECT_EQ(Skip(Bytes("9191919190")), bad + "(depth size overflow)");
  EXPECT_EQ(Skip(Bytes("9191919180")), bad + "(depth size overflow)");
  // The element count is checked before the depth.
  EXPECT_EQ(Skip(Bytes("919191dc00a1")), bad + "(array size overflow)");
  EXPECT_EQ(Skip(Bytes("80")), "");
  EXPECT_EQ(Skip(Bytes("de0000")), "");
  EXPECT_EQ(Skip(Bytes("8101")), bad + "(map size overflow)");
  EXPECT_EQ(Skip(Bytes("dfffffffff")), bad + "(map size overflow)");
  EXPECT_EQ(Skip(Bytes("d40100")), bad + "(ext size overflow)");
  EXPECT_EQ(Skip(Bytes("d401")), "truncated");
  EXPECT_EQ(Skip(Bytes("d8" + std::string(34, '0'))),
            bad + "(ext size overflow)");
  EXPECT_EQ(Skip(Bytes("c70001")), bad + "(ext size overflow)");
  EXPECT_EQ(Skip(Bytes("c700")), "truncated");
  EXPECT_EQ(Skip(Bytes("c9ffffffff01")), "truncated");
  EXPECT_EQ(Skip(Bytes("c402ff")), "truncated");
  EXPECT_EQ(Skip(Bytes("c5")), "truncated");
  EXPECT_EQ(Skip(Bytes("dbffffffff")), "truncated");
  EXPECT_EQ(Skip(Bytes("cd12")), "truncated");
  EXPECT_EQ(Skip(Bytes("d3010203")), "truncated");
  EXPECT_EQ(Skip(Bytes("cb3ff0")), "truncated");
  EXPECT_EQ(Skip(Bytes("9301")), "truncated");
  // The first fault in the bytes is the one reported.
  EXPECT_EQ(Skip(Bytes("93c1d401")), bad + "(parse error)");
  EXPECT_EQ(Skip(Bytes("93d40100c1")), bad + "(ext size overflow)");
}

TEST(MsgpackCursorTest, FailsForGoodOnceFailed) {
  const std::vector<uint8_t> datagram = Bytes("92c101");
  MsgpackCursor cursor(datagram);
  Item item;
  ASSERT_TRUE(cursor.Next(&item));
  EXPECT_FALSE(cursor.Next(&item));
  EXPECT_FALSE(cursor.ok());
  EXPECT_FALSE(cursor.Next(&item));
  EXPECT_FALSE(cursor.ConsumeNil());
  EXPECT_FALSE(cursor.SkipRest());
  EXPECT_EQ(cursor.error(), "invalid msgpack (parse error)");
}

TEST(MsgpackCursorTest, ReadingAllocatesNothing) {
  // A depth bomb, an array announcing 2^32-1 elements, and a full message.
  const std::vector<uint8_t> bomb(1000, 0x91);
  const std::vector<uint8_t> huge = Bytes("ddffffffff");
  // [1, 2, 7, bin20]: a find_node's header.
  const std::vector<uint8_t> message =
      Bytes("94010207c414" + std::string(40, 'a'));
  const size_t before = allocations.load();
  MsgpackCursor bomb_cursor(bomb);
  EXPECT_FALSE(bomb_cursor.SkipRest());
  MsgpackCursor huge_cursor(huge);
  EXPECT_FALSE(huge_cursor.SkipRest());
  MsgpackCursor message_cursor(message);
  EXPECT_TRUE(message_cursor.SkipRest());
  EXPECT_EQ(allocations.load(), before);
}

TEST(MsgpackCursorTest, DecodingANodesReplyAllocatesOnlyItsContactList) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  Nodes nodes;
  for (uint8_t i = 0; i < kMaxContactsPerMessage; ++i) {
    std::array<uint8_t, NodeId::kBytes> id{};
    id[0] = i;
    nodes.closest.push_back(
        {NodeId(id), net::Endpoint::Ipv4({10, 0, i, 1}, 4222)});
  }
  nodes.token = "12345678";  // short enough for std::string's own buffer
  absl::StatusOr<std::vector<uint8_t>> datagram =
      EncodeMessage(Message{42, NodeId(), nodes}, now);
  ASSERT_TRUE(datagram.ok());
  const size_t before = allocations.load();
  absl::StatusOr<Message> decoded = DecodeMessage(*datagram, now);
  EXPECT_EQ(allocations.load(), before + 1);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(std::get<Nodes>(decoded->body), nodes);
}

}  // namespace
}  // namespace kad::dht::wire
