// Resolve: turns "host:port" text into endpoints, resolving host names.
//
// Blocking (getaddrinfo); meant for start-up and one-shot CLI commands,
// never for the event loop's hot path.
#ifndef KAD_NET_RESOLVE_H_
#define KAD_NET_RESOLVE_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "net/endpoint.h"

namespace kad::net {

// Parses "A.B.C.D:PORT", "[V6]:PORT" or "NAME:PORT". Numeric forms are
// parsed without any lookup; a name is resolved to all of its UDP
// addresses. Errors: InvalidArgument for malformed text, NotFound when a
// name does not resolve.
absl::StatusOr<std::vector<Endpoint>> Resolve(std::string_view host_port);

}  // namespace kad::net

#endif  // KAD_NET_RESOLVE_H_
