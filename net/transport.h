// Transport: the datagram seam between the protocol core and the world.
//
// dht/ sends and receives through this interface only; net/ provides the
// libuv UDP implementation (udp_transport.h) and test/simulation fakes.
//
// Contract:
//  - Send() never blocks and never calls the receive handler from inside
//    itself. A returned error is local (bad address family, socket closed,
//    datagram too large); delivery is never guaranteed.
//  - The receive handler is called on the owner's loop thread, once per
//    datagram, with a view valid only for the duration of the call.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_NET_TRANSPORT_H_
#define KAD_NET_TRANSPORT_H_

#include <cstdint>
#include <span>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "net/endpoint.h"

namespace kad::net {

class Transport {
 public:
  using ReceiveHandler =
      absl::AnyInvocable<void(const Endpoint& from,
                              std::span<const uint8_t> datagram)>;

  virtual ~Transport() = default;

  // Queues one datagram for `to`. Returns Unavailable if the socket is
  // closed, InvalidArgument for an address the socket cannot reach.
  virtual absl::Status Send(const Endpoint& to,
                            std::span<const uint8_t> datagram) = 0;

  // Installs the handler for incoming datagrams, replacing any earlier one.
  virtual void SetReceiveHandler(ReceiveHandler handler) = 0;

  // Returns the bound local address (with the OS-chosen port if bound to 0).
  virtual Endpoint local_endpoint() const = 0;
};

}  // namespace kad::net

#endif  // KAD_NET_TRANSPORT_H_
