// MsgpackCursor: reads the MessagePack items of one datagram in place, in
// the order they are written, for the field readers of dht/wire_fields.h.
// Private to the codec, like wire_fields.h.
//
// Nothing is built and nothing is allocated: Next() decodes one item (a
// scalar, or the header of an array) and leaves the cursor on the item
// after it; str and bin items are views into the datagram. The cursor
// keeps one counter per open array, so it knows when the top-level item
// is complete and can skip what a reader leaves unread.
//
// What it accepts is what msgpack::unpack accepted with the limits the
// decoder used to give it, and it refuses the rest with the same reason,
// at the same item (the first bad one in the bytes):
//   - every MessagePack format is recognised; 0xc1 is a parse error;
//   - an array may announce at most kMaxArrayElements elements, and at
//     most kMaxDepth arrays and maps may be open at once (the element count
//     is checked first): a hostile datagram cannot make the reader recurse
//     or keep more than kMaxDepth counters;
//   - a map must be empty and an ext value is always refused (maps and ext
//     never appear in the protocol), an ext once its bytes are present;
//   - an item whose bytes run past the end is "truncated".
// A str or bin longer than the datagram is necessarily truncated, so no
// separate limit applies to them.
//
// After the first failure every call fails and error() names it.
// Not thread-safe; the datagram must outlive the cursor and the views it
// returns.
#ifndef KAD_DHT_MSGPACK_CURSOR_H_
#define KAD_DHT_MSGPACK_CURSOR_H_

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dht/message.h"

namespace kad::dht::wire {

// No legitimate array has more than kMaxStatsBuckets elements (a stats
// reply's bucket list; it also leaves room for the precise "too many
// contacts" check), and nothing nests deeper than message > contacts >
// contact > endpoint.
inline constexpr size_t kMaxArrayElements = kMaxStatsBuckets;
inline constexpr size_t kMaxDepth = 4;

// A MessagePack item's type, as the protocol tells them apart. int 8..64
// items that are not negative read as kUint, as msgpack-c reads them.
enum class Kind : uint8_t {
  kNil,
  kBool,
  kUint,
  kNegativeInt,
  kFloat,
  kStr,
  kBin,
  kArray,
  kMap,
  kExt,
};

// Returns a short name for `kind` ("bin", "array"...), for errors.
const char* TypeName(Kind kind);

// One decoded item. Only the members its kind names are set.
struct Item {
  Kind kind = Kind::kNil;
  uint64_t uint = 0;            // kUint: the value.
  uint32_t size = 0;            // kStr, kBin: bytes; kArray: elements.
  const char* bytes = nullptr;  // kStr, kBin: the bytes, in the datagram.
};

class MsgpackCursor {
 public:
  explicit MsgpackCursor(std::span<const uint8_t> datagram)
      : next_(datagram.data()), end_(datagram.data() + datagram.size()) {}

  MsgpackCursor(const MsgpackCursor&) = delete;
  MsgpackCursor& operator=(const MsgpackCursor&) = delete;

  bool ok() const { return error_ == nullptr; }
  // Returns why the bytes are refused ("truncated", "invalid msgpack
  // (...)"), or "" while ok().
  std::string_view error() const { return error_ == nullptr ? "" : error_; }

  // Returns the number of arrays open at the cursor: the elements of an
  // array whose header left it at depth d are read at depth d.
  size_t depth() const { return depth_; }
  // Returns true once the top-level item has been read to its end.
  bool complete() const { return complete_; }
  // Returns the bytes after the cursor.
  size_t remaining_bytes() const { return static_cast<size_t>(end_ - next_); }

  // Reads the next item into `*item`. Must not be called once complete().
  bool Next(Item* item) {
    assert(!complete_);
    if (error_ != nullptr) return false;
    if (next_ == end_) return Fail(kTruncated);
    // The forms the encoder writes most (uints below 2^16, short arrays,
    // bin 8) are read here; NextSlow reads every form.
    const uint8_t tag = *next_;
    if (tag <= 0x7f) {  // positive fixint
      ++next_;
      item->kind = Kind::kUint;
      item->uint = tag;
      return EndItem();
    }
    if (tag == 0xcc || tag == 0xcd) {  // uint 8, 16 (ports)
      const size_t width = tag == 0xcc ? 1 : 2;
      if (static_cast<size_t>(end_ - next_) <= width) return Fail(kTruncated);
      item->kind = Kind::kUint;
      item->uint = width == 1 ? next_[1] : (next_[1] << 8 | next_[2]);
      next_ += 1 + width;
      return EndItem();
    }
    if (tag >= 0x91 && tag <= 0x9f && depth_ < kMaxDepth) {  // fixarray
      ++next_;
      item->kind = Kind::kArray;
      item->size = tag & 0x0f;
      open_[depth_++] = item->size;
      return true;
    }
    if (tag == 0xc4 && end_ - next_ >= 2 && end_ - next_ - 2 >= next_[1]) {
      item->kind = Kind::kBin;  // bin 8, complete
      item->size = next_[1];
      item->bytes = reinterpret_cast<const char*>(next_ + 2);
      next_ += 2 + item->size;
      return EndItem();
    }
    return NextSlow(item);
  }

  // Consumes the next item and returns true if it is nil.
  bool ConsumeNil() {
    if (error_ != nullptr || next_ == end_ || *next_ != 0xc0) return false;
    ++next_;
    return EndItem();
  }

  // Reads and drops items until the cursor is at `depth` or shallower,
  // that is past the unread elements of arrays nested deeper.
  bool SkipTo(size_t depth) {
    return depth_ <= depth ? ok() : SkipDeeper(depth);
  }

  // Reads and drops items until the top-level item is complete.
  bool SkipRest();

 private:
  static constexpr const char* kTruncated = "truncated";

  bool NextSlow(Item* item);
  bool SkipDeeper(size_t depth);
  // Sets `*value` to the next `width` bytes, big-endian.
  bool BigEndian(size_t width, uint64_t* value);
  // Takes `size` bytes as the payload of a str or bin.
  bool Bytes(Kind kind, uint64_t size, Item* item);
  bool Ext(uint64_t size);
  bool StartArray(uint64_t count, Item* item);
  bool StartMap(uint64_t count, Item* item);
  // Counts one item read in the innermost open array, closing the arrays
  // it completes.
  bool EndItem() {
    while (depth_ > 0) {
      if (--open_[depth_ - 1] != 0) return true;
      --depth_;
    }
    complete_ = true;
    return true;
  }
  bool Fail(const char* reason) {
    if (error_ == nullptr) error_ = reason;
    return false;
  }

  const uint8_t* next_;
  const uint8_t* end_;
  const char* error_ = nullptr;  // A string literal.
  // Elements still to read in each open array, outermost first.
  std::array<uint32_t, kMaxDepth> open_{};
  size_t depth_ = 0;
  bool complete_ = false;
};

}  // namespace kad::dht::wire

#endif  // KAD_DHT_MSGPACK_CURSOR_H_
