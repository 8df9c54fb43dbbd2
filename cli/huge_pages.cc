#include "cli/huge_pages.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "spdlog/spdlog.h"

namespace kad::cli {
namespace {

constexpr absl::string_view kHugePageTunable = "glibc.malloc.hugetlb";

absl::string_view CurrentTunables() {
  const char* value = std::getenv("GLIBC_TUNABLES");
  return value == nullptr ? absl::string_view() : absl::string_view(value);
}

// The value `tunables` (name=value pairs separated by colons) gives the
// huge page tunable, if it names it.
std::optional<absl::string_view> HugePageSetting(absl::string_view tunables) {
  for (absl::string_view pair : absl::StrSplit(tunables, ':')) {
    std::pair<absl::string_view, absl::string_view> setting =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (setting.first == kHugePageTunable) return setting.second;
  }
  return std::nullopt;
}

// Exec'ing /proc/self/exe names the process "exe" in ps, top and pgrep:
// the restarted program takes its own name back.
void TakeBackName(const char* argv0) {
  char name[16] = {};
  if (prctl(PR_GET_NAME, name) != 0 || std::strcmp(name, "exe") != 0) return;
  const char* slash = std::strrchr(argv0, '/');
  prctl(PR_SET_NAME, slash == nullptr ? argv0 : slash + 1);
}

}  // namespace

std::optional<std::string> WithHugePageTunable(std::string_view value) {
  const absl::string_view tunables(value.data(), value.size());
  if (HugePageSetting(tunables).has_value()) return std::nullopt;
  std::string added = absl::StrCat(kHugePageTunable, "=1");
  if (tunables.empty()) return added;
  return absl::StrCat(tunables, ":", added);
}

bool HeapOnHugePages() {
  return HugePageSetting(CurrentTunables()) == absl::string_view("1");
}

void RestartWithHugePageHeap(char** argv) {
  const std::string before(CurrentTunables());
  std::optional<std::string> tunables = WithHugePageTunable(before);
  if (!tunables.has_value()) return TakeBackName(argv[0]);
  if (setenv("GLIBC_TUNABLES", tunables->c_str(), /*overwrite=*/1) != 0) {
    return;
  }
  execv("/proc/self/exe", argv);
  // Still here: no exec. Put the environment back as it was found, so that
  // HeapOnHugePages tells the truth.
  spdlog::debug("could not restart with a huge-page heap: {}",
                std::strerror(errno));
  if (before.empty()) {
    unsetenv("GLIBC_TUNABLES");
  } else {
    setenv("GLIBC_TUNABLES", before.c_str(), /*overwrite=*/1);
  }
}

}  // namespace kad::cli
