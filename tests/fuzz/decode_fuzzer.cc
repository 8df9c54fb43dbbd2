// libFuzzer target for the datagram decoder (dht/wire_codec.h): the one
// function that reads bytes from the network before anything is trusted.
//
// Checks, beyond "no crash, no sanitizer report":
//   - a rejected datagram is rejected with InvalidArgument;
//   - an accepted datagram re-encodes, no longer than it arrived (the encoder
//     writes the shortest form, so it always stays within the datagram
//     budget), and decodes back to the same message;
//   - the decoder's msgpack reader (dht/msgpack_cursor.h) accepts what
//     msgpack::unpack accepts with the same limits, ending at the same byte,
//     and refuses the rest with the reason msgpack::unpack gives.
// Any violation aborts, which libFuzzer reports as a crash with a reproducer.
//
// Run through scripts/fuzz.sh; seeds are in tests/fuzz/corpus/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <msgpack.hpp>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "dht/msgpack_cursor.h"
#include "dht/wire_codec.h"

namespace {

// Any fixed time works: decode and re-encode use the same one.
constexpr absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "decode_fuzzer: %s\n", what);
  std::abort();
}

// Returns how msgpack::unpack, given the decoder's limits, reads the first
// item of `bytes`: the error the decoder would report, or "" and the
// item's end in `*end`.
std::string Unpack(std::span<const uint8_t> bytes, size_t* end) {
  using kad::dht::kMaxDatagramBytes;
  namespace wire = kad::dht::wire;
  msgpack::unpack_limit limit(/*array=*/wire::kMaxArrayElements, /*map=*/0,
                              /*str=*/kMaxDatagramBytes,
                              /*bin=*/kMaxDatagramBytes, /*ext=*/0,
                              /*depth=*/wire::kMaxDepth);
  msgpack::zone zone;
  *end = 0;
  try {
    msgpack::unpack(zone, reinterpret_cast<const char*>(bytes.data()),
                    bytes.size(), *end, nullptr, nullptr, limit);
  } catch (const msgpack::insufficient_bytes&) {
    return "truncated";
  } catch (const msgpack::unpack_error& e) {
    return absl::StrCat("invalid msgpack (", e.what(), ")");
  }
  return "";
}

// Aborts unless the cursor reads `bytes` as msgpack::unpack does.
void CheckCursorAgreesWithUnpack(std::span<const uint8_t> bytes) {
  size_t end = 0;
  const std::string expected = Unpack(bytes, &end);
  kad::dht::wire::MsgpackCursor cursor(bytes);
  if (!cursor.SkipRest()) {
    if (cursor.error() != expected) Fail("cursor and unpack disagree");
  } else if (!expected.empty() ||
             cursor.remaining_bytes() != bytes.size() - end) {
    Fail("cursor and unpack disagree");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kad::dht::DecodeMessage;
  using kad::dht::EncodeMessage;
  std::span<const uint8_t> datagram(data, size);
  // The decoder refuses larger datagrams before it reads them.
  if (size <= kad::dht::kMaxDatagramBytes) {
    CheckCursorAgreesWithUnpack(datagram);
  }
  auto decoded = DecodeMessage(datagram, kNow);
  if (!decoded.ok()) {
    if (decoded.status().code() != absl::StatusCode::kInvalidArgument) {
      Fail("rejection is not InvalidArgument");
    }
    return 0;
  }
  auto encoded = EncodeMessage(*decoded, kNow);
  if (!encoded.ok()) Fail("an accepted message does not re-encode");
  if (encoded->size() > size) Fail("re-encoding is longer than the input");
  auto again = DecodeMessage(*encoded, kNow);
  if (!again.ok()) Fail("a re-encoded message does not decode");
  if (!(*again == *decoded)) Fail("decode(encode(m)) != m");
  return 0;
}
