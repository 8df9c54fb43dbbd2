// Scenario sizes for the sanitized build.
//
// Under ASan+UBSan the simulator runs about twenty times slower. The
// sanitized build is there to catch memory and undefined-behaviour errors,
// which a smaller overlay exercises just as well; the normal build runs the
// full sizes. Tests whose point is scale scale with ForSanitizer().
#ifndef KAD_TESTS_TESTING_SANITIZED_H_
#define KAD_TESTS_TESTING_SANITIZED_H_

namespace kad::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// Returns `full` in a normal build and `sanitized` under ASan.
template <typename T>
constexpr T ForSanitizer(T full, T sanitized) {
  return kSanitized ? sanitized : full;
}

}  // namespace kad::testing

#endif  // KAD_TESTS_TESTING_SANITIZED_H_
