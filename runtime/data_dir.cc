#include "runtime/data_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "runtime/contacts_file.h"
#include "storage/state_file.h"

namespace kad::runtime {
namespace {

constexpr char kIdFile[] = "node_id";

// Creates `path` (one level) unless it exists.
absl::Status MakeDirectory(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0 || errno == EEXIST)
    return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("cannot create data dir ", path,
                                             ": ", std::strerror(errno)));
}

// Gives a data-dir failure one of the codes the class comment promises,
// keeping its message.
absl::Status DataDirError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kDataLoss:
      return status;
    default:
      return absl::FailedPreconditionError(status.message());
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<DataDir>> DataDir::Open(
    const std::string& path, storage::LmdbStoreOptions options) {
  if (absl::Status made = MakeDirectory(path); !made.ok()) {
    return DataDirError(made);
  }
  auto store = storage::LmdbStore::Open(path, options);
  if (!store.ok()) return DataDirError(store.status());
  return std::unique_ptr<DataDir>(new DataDir(path, *std::move(store)));
}

absl::StatusOr<std::optional<dht::NodeId>> DataDir::LoadId() const {
  auto text = storage::ReadStateFile(absl::StrCat(path_, "/", kIdFile));
  if (absl::IsNotFound(text.status())) return std::optional<dht::NodeId>();
  if (!text.ok()) return DataDirError(text.status());
  auto id =
      dht::NodeId::FromHex(std::string(absl::StripAsciiWhitespace(*text)));
  if (!id.ok()) {
    return absl::DataLossError(
        absl::StrCat(path_, "/", kIdFile, " does not hold a node id"));
  }
  return std::optional<dht::NodeId>(*id);
}

absl::Status DataDir::SaveId(const dht::NodeId& id) const {
  return DataDirError(storage::WriteStateFile(absl::StrCat(path_, "/", kIdFile),
                                              id.ToHex() + "\n"));
}

absl::StatusOr<std::vector<net::Endpoint>> DataDir::LoadContacts() const {
  auto contacts = LoadContactsFile(absl::StrCat(path_, "/", kContactsFileName));
  if (!contacts.ok()) return DataDirError(contacts.status());
  return contacts;
}

absl::Status DataDir::SaveContacts(
    const std::vector<dht::Contact>& contacts) const {
  return DataDirError(
      SaveContactsFile(absl::StrCat(path_, "/", kContactsFileName), contacts));
}

}  // namespace kad::runtime
