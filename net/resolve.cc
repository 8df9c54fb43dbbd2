#include "net/resolve.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kad::net {

absl::StatusOr<std::vector<Endpoint>> Resolve(std::string_view host_port) {
  if (auto numeric = Endpoint::Parse(host_port); numeric.ok()) {
    return std::vector<Endpoint>{*numeric};
  }
  size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos || colon == 0 ||
      host_port.front() == '[') {
    return Endpoint::Parse(host_port).status();
  }
  std::string host(host_port.substr(0, colon));
  std::string port(host_port.substr(colon + 1));
  // Validate the port with the numeric parser's rules.
  if (auto probe = Endpoint::Parse(absl::StrCat("0.0.0.0:", port));
      !probe.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad address '", std::string(host_port), "': port must be a number from 0 to 65535"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* results = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &results);
  if (rc != 0) {
    return absl::NotFoundError(absl::StrCat("cannot resolve '", host, "': ",
                                            gai_strerror(rc)));
  }
  std::vector<Endpoint> endpoints;
  for (addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      const auto* bytes = reinterpret_cast<const uint8_t*>(&sin->sin_addr);
      endpoints.push_back(
          *Endpoint::FromBytes({bytes, 4}, ntohs(sin->sin_port)));
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      const auto* bytes = reinterpret_cast<const uint8_t*>(&sin6->sin6_addr);
      endpoints.push_back(
          *Endpoint::FromBytes({bytes, 16}, ntohs(sin6->sin6_port)));
    }
  }
  freeaddrinfo(results);
  std::sort(endpoints.begin(), endpoints.end());
  endpoints.erase(std::unique(endpoints.begin(), endpoints.end()),
                  endpoints.end());
  if (endpoints.empty()) {
    return absl::NotFoundError(
        absl::StrCat("'", host, "' has no IPv4 or IPv6 address"));
  }
  return endpoints;
}

}  // namespace kad::net
