#include "cli/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kad::cli {
namespace {

constexpr size_t kSeedBytes = 32;

absl::Status WriteAll(int fd, const std::string& text,
                      const std::string& path) {
  if (::write(fd, text.data(), text.size()) !=
      static_cast<ssize_t>(text.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write key file ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> KeyPath(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("KAD_KEY"); env != nullptr && *env) {
    return std::string(env);
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    return absl::InvalidArgumentError(
        "no key file: set $KAD_KEY or $HOME, or pass --key FILE");
  }
  return absl::StrCat(home, "/.config/kad/key");
}

absl::StatusOr<dht::KeyPair> WriteNewKey(const std::string& path, bool force) {
  std::error_code ignored;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ignored)) {
    std::filesystem::create_directories(parent, ignored);
    ::chmod(parent.c_str(), 0700);
  }
  if (!force && std::filesystem::exists(path, ignored)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key file ", path, " exists; use --force to replace it"));
  }
  std::string seed = dht::RandomSeed();
  // Written beside the target and renamed over it: never half a key.
  const std::string temp = absl::StrCat(path, ".new");
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create key file ", path, ": ", strerror(errno)));
  }
  absl::Status written =
      WriteAll(fd, absl::StrCat(absl::BytesToHexString(seed), "\n"), path);
  ::fsync(fd);
  ::close(fd);
  if (written.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    written = absl::InvalidArgumentError(
        absl::StrCat("cannot write key file ", path, ": ", strerror(errno)));
  }
  absl::StatusOr<dht::KeyPair> pair = dht::KeyPairFromSeed(seed);
  dht::Wipe(seed);
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  return pair;
}

absl::StatusOr<dht::KeyPair> ReadKey(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("no key file at ", path));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read key file ", path, ": ", strerror(errno)));
  }
  if ((info.st_mode & 077) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "key file %s is readable by group or others (mode %04o); "
        "run chmod 600 %s",
        path, info.st_mode & 07777, path));
  }
  std::ifstream in(path);
  std::string text(std::istreambuf_iterator<char>(in), {});
  const std::string hex(absl::StripAsciiWhitespace(text));
  std::string seed = absl::HexStringToBytes(hex);
  if (hex.size() != 2 * kSeedBytes || absl::BytesToHexString(seed) !=
                                          absl::AsciiStrToLower(hex)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key file ", path, " does not hold a key (64 hex digits)"));
  }
  absl::StatusOr<dht::KeyPair> pair = dht::KeyPairFromSeed(seed);
  dht::Wipe(seed);
  return pair;
}

absl::StatusOr<dht::KeyPair> ReadOrCreateKey(const std::string& path) {
  absl::StatusOr<dht::KeyPair> pair = ReadKey(path);
  if (!absl::IsNotFound(pair.status())) return pair;
  pair = WriteNewKey(path, /*force=*/false);
  if (pair.ok()) {
    std::fprintf(stderr, "kad: created a new key in %s (public-key %s)\n",
                 path.c_str(), absl::BytesToHexString(pair->public_key).c_str());
  }
  return pair;
}

}  // namespace kad::cli
