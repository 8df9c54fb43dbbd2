// The raw UDP sockets of `kad bench rpc`'s load generator and echo servers:
// non-blocking, with buffers large enough that a burst of a window's
// requests or replies is not dropped by the kernel.
//
// Thread-safe: each call opens its own socket.
#ifndef KAD_BENCH_UDP_SOCKET_H_
#define KAD_BENCH_UDP_SOCKET_H_

#include <sys/socket.h>

#include "absl/status/statusor.h"

namespace kad::bench {

// Send and receive buffer of every benchmark socket.
inline constexpr int kSocketBufferBytes = 4 << 20;

// Opens a non-blocking, close-on-exec IPv4 UDP socket with
// kSocketBufferBytes buffers; the caller binds or connects it and closes it.
inline absl::StatusOr<int> OpenBufferedUdpSocket() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("cannot open a UDP socket");
  int size = kSocketBufferBytes;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  return fd;
}

}  // namespace kad::bench

#endif  // KAD_BENCH_UDP_SOCKET_H_
