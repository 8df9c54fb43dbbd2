#include "runtime/contacts_file.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "storage/state_file.h"

namespace kad::runtime {

std::string EncodeContacts(const std::vector<dht::Contact>& contacts) {
  std::string text;
  for (const dht::Contact& contact : contacts) {
    absl::StrAppend(&text, contact.id.ToHex(), " ", contact.endpoint.ToString(),
                    "\n");
  }
  return text;
}

std::vector<net::Endpoint> DecodeContacts(std::string_view contents) {
  std::vector<net::Endpoint> endpoints;
  // Abseil's string_view is not std::string_view in Debian's build.
  const absl::string_view text(contents.data(), contents.size());
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() != 2) continue;
    if (auto endpoint = net::Endpoint::Parse(
            std::string_view(fields[1].data(), fields[1].size()));
        endpoint.ok()) {
      endpoints.push_back(*endpoint);
    }
  }
  return endpoints;
}

absl::Status SaveContactsFile(const std::string& path,
                              const std::vector<dht::Contact>& contacts) {
  return storage::WriteStateFile(path, EncodeContacts(contacts));
}

absl::StatusOr<std::vector<net::Endpoint>> LoadContactsFile(
    const std::string& path) {
  absl::StatusOr<std::string> text = storage::ReadStateFile(path);
  if (absl::IsNotFound(text.status())) return std::vector<net::Endpoint>();
  if (!text.ok()) return text.status();
  return DecodeContacts(*text);
}

}  // namespace kad::runtime
