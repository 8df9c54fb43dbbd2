// UdpTransport: net::Transport over one libuv UDP socket.
//
// Receives in batches (recvmmsg through UV_UDP_RECVMMSG) into one buffer
// shared by the thread's transports. Datagrams sent from inside the
// receive handler while a recvmmsg batch is being delivered (replies, in
// a node) are copied aside and sent together with one sendmmsg when the
// batch has been delivered; other sends go out at once with
// uv_udp_try_send. Either way, only when the socket buffer is full is a
// heap copy queued with uv_udp_send, and datagrams leave in the order
// they were sent. A batched datagram's Send() returns OK once it is set
// aside; a socket error on it later is only counted (send_errors). An IPv6
// socket that is not IPv6-only also reaches IPv4 peers: it sends to them
// as IPv4-mapped addresses and reports them as plain IPv4 endpoints.
//
// The receive handler must not destroy the transport from inside the
// call; it may Send(), Close() or replace the handler.
//
// Lifetime: `loop` must outlive the transport, and must run again after
// the transport is destroyed (at the latest in ~UvLoop) to free the socket
// handle and any queued sends. Not thread-safe; call from the loop thread.
#ifndef KAD_NET_UDP_TRANSPORT_H_
#define KAD_NET_UDP_TRANSPORT_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "net/endpoint.h"
#include "net/transport.h"

namespace kad::net {

struct UdpOptions {
  // SO_RCVBUF / SO_SNDBUF requests; 0 keeps the OS default. The kernel may
  // cap them (net.core.rmem_max); failing to set them is logged, not fatal.
  int receive_buffer_bytes = 4 << 20;
  int send_buffer_bytes = 4 << 20;
  // Largest datagram sent or accepted. Larger outgoing datagrams are
  // rejected; larger incoming ones are dropped and counted as truncated.
  size_t max_datagram_bytes = 1500;
  // Datagrams read per recvmmsg call, 1 to 20 (libuv's limit). Each needs
  // 64 KiB of receive buffer.
  size_t receive_batch = 16;
  // Datagrams queued in libuv while the socket buffer is full; beyond
  // this Send() fails with ResourceExhausted.
  size_t max_queued_sends = 4096;
  // For an IPv6 bind: refuse IPv4 traffic (IPV6_V6ONLY).
  bool ipv6_only = false;
};

struct UdpCounters {
  uint64_t datagrams_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t datagrams_received = 0;  // Delivered to the handler (or no one).
  uint64_t bytes_received = 0;
  uint64_t send_errors = 0;          // Rejected by the OS or the queue.
  uint64_t receive_errors = 0;       // Socket read errors.
  uint64_t datagrams_truncated = 0;  // Over max_datagram_bytes, dropped.
};

class UdpTransport : public Transport {
 public:
  // Binds a UDP socket to `bind` (port 0 picks a free port) and starts
  // receiving. Returns Unavailable with a message naming the address, e.g.
  // "cannot bind 127.0.0.1:4222: address already in use".
  static absl::StatusOr<std::unique_ptr<UdpTransport>> Create(
      uv_loop_t* loop, const Endpoint& bind, UdpOptions options = {});

  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;
  ~UdpTransport() override;

  // Sends or queues one datagram. Returns InvalidArgument for a family the
  // socket cannot reach or an oversized datagram, Unavailable after
  // Close() or on a socket error, ResourceExhausted if the queue is full.
  absl::Status Send(const Endpoint& to,
                    std::span<const uint8_t> datagram) override;
  void SetReceiveHandler(ReceiveHandler handler) override;
  Endpoint local_endpoint() const override { return local_; }

  // Stops receiving and closes the socket; queued sends are dropped. Later
  // sends return Unavailable. Idempotent.
  void Close();

  const UdpCounters& counters() const { return counters_; }

 private:
  UdpTransport(uv_udp_t* handle, const UdpOptions& options);

  absl::Status Bind(const Endpoint& bind);
  void ApplyBufferSizes();
  struct SendBatch;
  static SendBatch& ThreadSendBatch();
  // Queues a copy of `datagram` in libuv while the socket buffer is full.
  // Returns 0, UV_ENOBUFS if max_queued_sends are queued already (counted
  // as a send error), or libuv's error.
  int QueueSend(const struct sockaddr* address,
                std::span<const uint8_t> datagram);
  // Sends the datagrams this transport set aside during a receive batch.
  void FlushSends();
  void Deliver(const struct sockaddr* from, std::span<const uint8_t> bytes);

  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnReceive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                        const struct sockaddr* from, unsigned flags);
  static void OnSent(uv_udp_send_t* request, int status);

  uv_udp_t* handle_;  // Null after Close(); freed by its close callback.
  UdpOptions options_;
  Endpoint local_;
  bool reaches_ipv4_ = true;  // IPv4 socket, or dual-stack IPv6 socket.
  bool reaches_ipv6_ = false;
  size_t receive_buffer_bytes_;
  ReceiveHandler handler_;
  uint64_t handler_generation_ = 0;  // Bumped by SetReceiveHandler().
  // Delivering a recvmmsg batch: sends wait in the thread's SendBatch.
  bool in_receive_batch_ = false;
  UdpCounters counters_;
};

}  // namespace kad::net

#endif  // KAD_NET_UDP_TRANSPORT_H_
