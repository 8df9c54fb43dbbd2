// libFuzzer target for the datagram decoder (dht/wire_codec.h): the one
// function that reads bytes from the network before anything is trusted.
//
// Checks, beyond "no crash, no sanitizer report":
//   - a rejected datagram is rejected with InvalidArgument;
//   - an accepted datagram re-encodes, no longer than it arrived (the encoder
//     writes the shortest form, so it always stays within the datagram
//     budget), and decodes back to the same message.
// Any violation aborts, which libFuzzer reports as a crash with a reproducer.
//
// Run through scripts/fuzz.sh; seeds are in tests/fuzz/corpus/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dht/wire_codec.h"

namespace {

// Any fixed time works: decode and re-encode use the same one.
constexpr absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "decode_fuzzer: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kad::dht::DecodeMessage;
  using kad::dht::EncodeMessage;
  std::span<const uint8_t> datagram(data, size);
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
