#include "dht/msgpack_cursor.h"

namespace kad::dht::wire {

const char* TypeName(Kind kind) {
  switch (kind) {
    case Kind::kNil:
      return "nil";
    case Kind::kBool:
      return "bool";
    case Kind::kUint:
      return "uint";
    case Kind::kNegativeInt:
      return "negative int";
    case Kind::kFloat:
      return "float";
    case Kind::kStr:
      return "str";
    case Kind::kBin:
      return "bin";
    case Kind::kArray:
      return "array";
    case Kind::kMap:
      return "map";
    case Kind::kExt:
      return "ext";
  }
  return "unknown";
}

bool MsgpackCursor::SkipRest() {
  Item item;
  while (!complete_) {
    if (!Next(&item)) return false;
  }
  return ok();
}

bool MsgpackCursor::SkipDeeper(size_t depth) {
  Item item;
  while (depth_ > depth) {
    if (!Next(&item)) return false;
  }
  return true;
}

bool MsgpackCursor::BigEndian(size_t width, uint64_t* value) {
  if (remaining_bytes() < width) return Fail(kTruncated);
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v = (v << 8) | next_[i];
  next_ += width;
  *value = v;
  return true;
}

bool MsgpackCursor::Bytes(Kind kind, uint64_t size, Item* item) {
  if (remaining_bytes() < size) return Fail(kTruncated);
  item->kind = kind;
  item->size = static_cast<uint32_t>(size);
  item->bytes = reinterpret_cast<const char*>(next_);
  next_ += size;
  return EndItem();
}

bool MsgpackCursor::Ext(uint64_t size) {
  // The payload is a type byte and `size` bytes; msgpack-c checks its
  // (zero) ext limit only once they are all there.
  if (remaining_bytes() < size + 1) return Fail(kTruncated);
  return Fail("invalid msgpack (ext size overflow)");
}

bool MsgpackCursor::StartArray(uint64_t count, Item* item) {
  if (count > kMaxArrayElements) {
    return Fail("invalid msgpack (array size overflow)");
  }
  if (depth_ >= kMaxDepth) return Fail("invalid msgpack (depth size overflow)");
  item->kind = Kind::kArray;
  item->size = static_cast<uint32_t>(count);
  if (count == 0) return EndItem();
  open_[depth_++] = static_cast<uint32_t>(count);
  return true;
}

bool MsgpackCursor::StartMap(uint64_t count, Item* item) {
  if (count > 0) return Fail("invalid msgpack (map size overflow)");
  if (depth_ >= kMaxDepth) return Fail("invalid msgpack (depth size overflow)");
  item->kind = Kind::kMap;
  return EndItem();
}

bool MsgpackCursor::NextSlow(Item* item) {
  const uint8_t tag = *next_++;
  uint64_t value = 0;
  if (tag >= 0xe0) {  // negative fixint
    item->kind = Kind::kNegativeInt;
    return EndItem();
  }
  if (tag >= 0xa0 && tag <= 0xbf) return Bytes(Kind::kStr, tag & 0x1f, item);
  if (tag >= 0x90 && tag <= 0x9f) return StartArray(tag & 0x0f, item);
  if (tag >= 0x80 && tag <= 0x8f) return StartMap(tag & 0x0f, item);
  switch (tag) {
    case 0xc0:
      item->kind = Kind::kNil;
      return EndItem();
    case 0xc2:
    case 0xc3:
      item->kind = Kind::kBool;
      return EndItem();
    case 0xc4:
    case 0xc5:
    case 0xc6:  // bin 8, 16, 32
      return BigEndian(size_t{1} << (tag - 0xc4), &value) &&
             Bytes(Kind::kBin, value, item);
    case 0xc7:
    case 0xc8:
    case 0xc9:  // ext 8, 16, 32
      return BigEndian(size_t{1} << (tag - 0xc7), &value) && Ext(value);
    case 0xca:
    case 0xcb:  // float 32, 64
      if (!BigEndian(size_t{4} << (tag - 0xca), &value)) return false;
      item->kind = Kind::kFloat;
      return EndItem();
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:  // uint 8, 16, 32, 64
      if (!BigEndian(size_t{1} << (tag - 0xcc), &value)) return false;
      item->kind = Kind::kUint;
      item->uint = value;
      return EndItem();
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {  // int 8, 16, 32, 64: read as a uint when not negative
      const size_t width = size_t{1} << (tag - 0xd0);
      if (!BigEndian(width, &value)) return false;
      const bool negative = (value >> (8 * width - 1)) != 0;
      item->kind = negative ? Kind::kNegativeInt : Kind::kUint;
      item->uint = negative ? 0 : value;
      return EndItem();
    }
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:  // fixext 1, 2, 4, 8, 16
      return Ext(uint64_t{1} << (tag - 0xd4));
    case 0xd9:
    case 0xda:
    case 0xdb:  // str 8, 16, 32
      return BigEndian(size_t{1} << (tag - 0xd9), &value) &&
             Bytes(Kind::kStr, value, item);
    case 0xdc:
    case 0xdd:  // array 16, 32
      return BigEndian(size_t{2} << (tag - 0xdc), &value) &&
             StartArray(value, item);
    case 0xde:
    case 0xdf:  // map 16, 32
      return BigEndian(size_t{2} << (tag - 0xde), &value) &&
             StartMap(value, item);
    default:  // 0xc1, never used
      return Fail("invalid msgpack (parse error)");
  }
}

}  // namespace kad::dht::wire
