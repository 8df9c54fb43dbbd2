#include "storage/state_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kad::storage {
namespace {

constexpr char kMagic[] = "kad-state 1 ";

absl::Status IoError(const std::string& what, const std::string& path) {
  const int error = errno;
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(error));
  if (error == ENOSPC || error == EDQUOT) {
    return absl::ResourceExhaustedError(absl::StrCat("disk full: ", message));
  }
  return absl::UnavailableError(message);
}

std::string Checksum(std::string_view contents) {
  return absl::StrFormat("%016x", XXH3_64bits(contents.data(), contents.size()));
}

// Writes all of `data` to `fd`, retrying short writes.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::Status WriteStateFile(const std::string& path, std::string_view contents) {
  const std::string temp = path + ".tmp";
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create", temp);
  const std::string header = absl::StrCat(kMagic, Checksum(contents), "\n");
  if (!WriteAll(fd, header) || !WriteAll(fd, contents) || fsync(fd) != 0) {
    absl::Status error = IoError("cannot write", temp);
    close(fd);
    unlink(temp.c_str());
    return error;
  }
  close(fd);
  if (rename(temp.c_str(), path.c_str()) != 0) {
    absl::Status error = IoError("cannot replace", path);
    unlink(temp.c_str());
    return error;
  }
  // Make the rename itself durable.
  int dir = open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadStateFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
    return IoError("cannot read", path);
  }
  std::string header;
  std::getline(file, header);
  std::stringstream rest;
  rest << file.rdbuf();
  std::string contents = rest.str();
  const std::string expected = absl::StrCat(kMagic, Checksum(contents));
  if (header.rfind(kMagic, 0) != 0) {
    return absl::DataLossError(absl::StrCat(path, " is not a kad state file"));
  }
  if (header != expected) {
    return absl::DataLossError(absl::StrCat(path, " is corrupt (checksum mismatch)"));
  }
  return contents;
}

}  // namespace kad::storage
