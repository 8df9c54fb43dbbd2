#include "cli/data_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "storage/state_file.h"

namespace kad::cli {
namespace {

constexpr char kIdFile[] = "node_id";
constexpr char kContactsFile[] = "contacts";

// Creates `path` (one level) unless it exists.
absl::Status MakeDirectory(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "cannot create data dir ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DataDir>> DataDir::Open(const std::string& path) {
  if (absl::Status made = MakeDirectory(path); !made.ok()) return made;
  auto store = storage::LmdbStore::Open(path);
  if (!store.ok()) return store.status();
  return std::unique_ptr<DataDir>(new DataDir(path, *std::move(store)));
}

std::unique_ptr<storage::RecordStore> DataDir::TakeStore() {
  return std::move(store_);
}

absl::StatusOr<std::optional<dht::NodeId>> DataDir::LoadId() const {
  auto text = storage::ReadStateFile(absl::StrCat(path_, "/", kIdFile));
  if (absl::IsNotFound(text.status())) return std::optional<dht::NodeId>();
  if (!text.ok()) return text.status();
  auto id = dht::NodeId::FromHex(std::string(absl::StripAsciiWhitespace(*text)));
  if (!id.ok()) {
    return absl::DataLossError(
        absl::StrCat(path_, "/", kIdFile, " does not hold a node id"));
  }
  return std::optional<dht::NodeId>(*id);
}

absl::Status DataDir::SaveId(const dht::NodeId& id) const {
  return storage::WriteStateFile(absl::StrCat(path_, "/", kIdFile),
                                 id.ToHex() + "\n");
}

absl::StatusOr<std::vector<net::Endpoint>> DataDir::LoadContacts() const {
  auto text = storage::ReadStateFile(absl::StrCat(path_, "/", kContactsFile));
  if (absl::IsNotFound(text.status())) return std::vector<net::Endpoint>();
  if (!text.ok()) return text.status();
  std::vector<net::Endpoint> endpoints;
  // One contact a line: "<id hex> <address>". Ids are informational: a
  // contact that changed id still answers a bootstrap ping.
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() != 2) continue;
    if (auto endpoint = net::Endpoint::Parse(fields[1]); endpoint.ok()) {
      endpoints.push_back(*endpoint);
    }
  }
  return endpoints;
}

absl::Status DataDir::SaveContacts(
    const std::vector<dht::Contact>& contacts) const {
  std::string text;
  for (const dht::Contact& contact : contacts) {
    absl::StrAppend(&text, contact.id.ToHex(), " ",
                    contact.endpoint.ToString(), "\n");
  }
  return storage::WriteStateFile(absl::StrCat(path_, "/", kContactsFile), text);
}

}  // namespace kad::cli
