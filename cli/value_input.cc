#include "cli/value_input.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "storage/record.h"

namespace kad::cli {
namespace {

// Reads `file` to its end; `name` names it in errors.
absl::StatusOr<std::string> ReadAll(std::FILE* file, const std::string& name) {
  std::string bytes;
  char buffer[8192];
  while (bytes.size() <= kMaxInputBytes) {
    size_t n = std::fread(buffer, 1, sizeof(buffer), file);
    bytes.append(buffer, n);
    if (n < sizeof(buffer)) break;
  }
  if (std::ferror(file)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", name, ": ", std::strerror(errno)));
  }
  if (bytes.size() > kMaxInputBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is more than ", kMaxInputBytes,
                     " bytes; the limit is ", storage::kMaxValueBytes));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::string> ReadValueFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  absl::StatusOr<std::string> bytes = ReadAll(file, path);
  std::fclose(file);
  return bytes;
}

absl::StatusOr<std::string> ReadValueStdin() { return ReadAll(stdin, "stdin"); }

}  // namespace kad::cli
