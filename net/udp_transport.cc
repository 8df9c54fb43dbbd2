#include "net/udp_transport.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace kad::net {
namespace {

// libuv reads at most this many datagrams per recvmmsg call, each into its
// own 64 KiB slot of the buffer returned by the alloc callback.
constexpr size_t kMaxReceiveBatch = 20;
constexpr size_t kReceiveSlotBytes = 64 * 1024;

// Every transport on a thread receives into one buffer: libuv fills it and
// hands each datagram to the receive callback, which consumes it before the
// loop polls again, so transports never hold it across calls. One buffer per
// thread instead of one per socket keeps an overlay of thousands of nodes in
// one process from spending a MiB of memory on each.
std::span<char> SharedReceiveBuffer(size_t bytes) {
  thread_local std::vector<char> buffer;
  if (buffer.size() < bytes) buffer.resize(bytes);
  return {buffer.data(), bytes};
}

constexpr uint8_t kIpv4MappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                           0, 0, 0, 0, 0xff, 0xff};

// Writes `endpoint` into `out`. With `ipv4_mapped`, an IPv4 endpoint
// becomes ::ffff:a.b.c.d, for a dual-stack IPv6 socket.
void ToSockaddr(const Endpoint& endpoint, bool ipv4_mapped,
                sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  std::span<const uint8_t> address = endpoint.address();
  if (endpoint.family() == Family::kIpv4 && !ipv4_mapped) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(endpoint.port());
    std::memcpy(&sin->sin_addr, address.data(), address.size());
    return;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(endpoint.port());
  auto* bytes = reinterpret_cast<uint8_t*>(&sin6->sin6_addr);
  if (endpoint.family() == Family::kIpv4) {
    std::memcpy(bytes, kIpv4MappedPrefix, sizeof(kIpv4MappedPrefix));
    bytes += sizeof(kIpv4MappedPrefix);
  }
  std::memcpy(bytes, address.data(), address.size());
}

// Returns the endpoint for `addr`, turning IPv4-mapped IPv6 addresses back
// into IPv4; nullopt for families other than IPv4 and IPv6.
std::optional<Endpoint> FromSockaddr(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(addr);
    const auto* bytes = reinterpret_cast<const uint8_t*>(&sin->sin_addr);
    return *Endpoint::FromBytes({bytes, Endpoint::kIpv4Bytes},
                                ntohs(sin->sin_port));
  }
  if (addr->sa_family != AF_INET6) return std::nullopt;
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(addr);
  const auto* bytes = reinterpret_cast<const uint8_t*>(&sin6->sin6_addr);
  uint16_t port = ntohs(sin6->sin6_port);
  if (std::equal(std::begin(kIpv4MappedPrefix), std::end(kIpv4MappedPrefix),
                 bytes)) {
    return *Endpoint::FromBytes(
        {bytes + sizeof(kIpv4MappedPrefix), Endpoint::kIpv4Bytes}, port);
  }
  return *Endpoint::FromBytes({bytes, Endpoint::kIpv6Bytes}, port);
}

// Returns whether the IPv6 socket under `handle` refuses IPv4 traffic.
bool IsIpv6Only(uv_udp_t* handle) {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(handle), &fd) != 0) return true;
  int value = 1;
  socklen_t length = sizeof(value);
  if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &value, &length) != 0) {
    return true;
  }
  return value != 0;
}

// A datagram queued in libuv; owns its copy of the bytes.
struct PendingSend {
  uv_udp_send_t request;
  std::unique_ptr<char[]> bytes;
  size_t size;
};

}  // namespace

// Datagrams sent from inside a recvmmsg batch's receive callbacks, held
// until the batch ends and then sent with one sendmmsg. One per thread, as
// the receive buffer is: only one transport's batch is delivered at a
// time, so only that transport fills it; a send by another transport
// meanwhile flushes it first.
struct UdpTransport::SendBatch {
  static constexpr size_t kMaxDatagrams = 64;
  static constexpr size_t kArenaBytes = kReceiveSlotBytes;

  UdpTransport* owner = nullptr;  // Whose datagrams it holds, if any.
  size_t count = 0;
  size_t arena_used = 0;
  std::array<sockaddr_storage, kMaxDatagrams> addresses;
  std::array<iovec, kMaxDatagrams> iovecs;
  std::array<mmsghdr, kMaxDatagrams> messages;
  std::vector<char> arena = std::vector<char>(kArenaBytes);

  bool Fits(size_t bytes) const {
    return count < kMaxDatagrams && arena_used + bytes <= kArenaBytes;
  }
  // Adds a copy of `datagram` for `address`; Fits() must hold.
  void Add(const sockaddr_storage& address, std::span<const uint8_t> datagram) {
    char* bytes = arena.data() + arena_used;
    std::copy(datagram.begin(), datagram.end(), bytes);
    arena_used += datagram.size();
    addresses[count] = address;
    iovecs[count] = {bytes, datagram.size()};
    mmsghdr& message = messages[count];
    message = {};
    message.msg_hdr.msg_name = &addresses[count];
    message.msg_hdr.msg_namelen = address.ss_family == AF_INET
                                      ? sizeof(sockaddr_in)
                                      : sizeof(sockaddr_in6);
    message.msg_hdr.msg_iov = &iovecs[count];
    message.msg_hdr.msg_iovlen = 1;
    ++count;
  }
  void Clear() {
    owner = nullptr;
    count = 0;
    arena_used = 0;
  }
};

UdpTransport::SendBatch& UdpTransport::ThreadSendBatch() {
  thread_local SendBatch batch;
  return batch;
}

absl::StatusOr<std::unique_ptr<UdpTransport>> UdpTransport::Create(
    uv_loop_t* loop, const Endpoint& bind, UdpOptions options) {
  if (options.receive_batch < 1 || options.receive_batch > kMaxReceiveBatch ||
      options.max_datagram_bytes < 1 ||
      options.max_datagram_bytes > kReceiveSlotBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad UDP options: receive_batch must be 1 to ", kMaxReceiveBatch,
        ", max_datagram_bytes 1 to ", kReceiveSlotBytes));
  }
  auto* handle = new uv_udp_t;
  int domain = bind.family() == Family::kIpv4 ? AF_INET : AF_INET6;
  if (int rc = uv_udp_init_ex(loop, handle, domain | UV_UDP_RECVMMSG);
      rc != 0) {
    delete handle;  // Not registered with the loop on failure.
    return absl::UnavailableError(
        absl::StrCat("cannot create a UDP socket for ", bind.ToString(), ": ",
                     uv_strerror(rc)));
  }
  // From here on the transport owns the handle and closes it on failure.
  auto transport =
      std::unique_ptr<UdpTransport>(new UdpTransport(handle, options));
  if (absl::Status status = transport->Bind(bind); !status.ok()) {
    return status;
  }
  transport->ApplyBufferSizes();
  if (int rc = uv_udp_recv_start(handle, &UdpTransport::OnAlloc,
                                 &UdpTransport::OnReceive);
      rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot receive on ",
                                               transport->local_.ToString(),
                                               ": ", uv_strerror(rc)));
  }
  return transport;
}

UdpTransport::UdpTransport(uv_udp_t* handle, const UdpOptions& options)
    : handle_(handle),
      options_(options),
      receive_buffer_bytes_(options.receive_batch * kReceiveSlotBytes) {
  handle_->data = this;
}

UdpTransport::~UdpTransport() { Close(); }

absl::Status UdpTransport::Bind(const Endpoint& bind) {
  sockaddr_storage address;
  ToSockaddr(bind, /*ipv4_mapped=*/false, &address);
  unsigned flags = 0;
  if (bind.family() == Family::kIpv6 && options_.ipv6_only) {
    flags |= UV_UDP_IPV6ONLY;
  }
  if (int rc =
          uv_udp_bind(handle_, reinterpret_cast<sockaddr*>(&address), flags);
      rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind ", bind.ToString(), ": ", uv_strerror(rc)));
  }
  sockaddr_storage name;
  int length = sizeof(name);
  int rc =
      uv_udp_getsockname(handle_, reinterpret_cast<sockaddr*>(&name), &length);
  std::optional<Endpoint> local =
      rc == 0 ? FromSockaddr(reinterpret_cast<sockaddr*>(&name)) : std::nullopt;
  if (!local) {
    return absl::UnavailableError(absl::StrCat(
        "cannot read the address bound for ", bind.ToString(), ": ",
        rc != 0 ? uv_strerror(rc) : "unknown address family"));
  }
  local_ = *local;
  if (bind.family() == Family::kIpv6) {
    reaches_ipv6_ = true;
    reaches_ipv4_ = !IsIpv6Only(handle_);
  }
  return absl::OkStatus();
}

void UdpTransport::ApplyBufferSizes() {
  auto* handle = reinterpret_cast<uv_handle_t*>(handle_);
  if (int value = options_.receive_buffer_bytes; value > 0) {
    if (int rc = uv_recv_buffer_size(handle, &value); rc != 0) {
      spdlog::warn("{}: cannot set the receive buffer to {} bytes: {}",
                   local_.ToString(), options_.receive_buffer_bytes,
                   uv_strerror(rc));
    }
  }
  if (int value = options_.send_buffer_bytes; value > 0) {
    if (int rc = uv_send_buffer_size(handle, &value); rc != 0) {
      spdlog::warn("{}: cannot set the send buffer to {} bytes: {}",
                   local_.ToString(), options_.send_buffer_bytes,
                   uv_strerror(rc));
    }
  }
}

absl::Status UdpTransport::Send(const Endpoint& to,
                                std::span<const uint8_t> datagram) {
  if (handle_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot send to ", to.ToString(),
                                               ": socket ", local_.ToString(),
                                               " is closed"));
  }
  if (datagram.size() > options_.max_datagram_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot send ", datagram.size(), " bytes to ", to.ToString(),
        ": datagrams are limited to ", options_.max_datagram_bytes, " bytes"));
  }
  bool ipv4 = to.family() == Family::kIpv4;
  if (ipv4 ? !reaches_ipv4_ : !reaches_ipv6_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot send to ", to.ToString(), " from ", local_.ToString(),
        ": address family not supported by the socket"));
  }
  sockaddr_storage storage;
  ToSockaddr(to, ipv4 && reaches_ipv6_, &storage);
  SendBatch& batch = ThreadSendBatch();
  if (batch.owner != nullptr && batch.owner != this) batch.owner->FlushSends();
  if (in_receive_batch_) {
    if (!batch.Fits(datagram.size())) FlushSends();
    if (batch.Fits(datagram.size())) {
      batch.owner = this;
      batch.Add(storage, datagram);
      return absl::OkStatus();
    }
  } else if (batch.owner == this) {
    FlushSends();  // Keeps datagrams in the order they were sent.
  }
  const auto* address = reinterpret_cast<const sockaddr*>(&storage);
  uv_buf_t buf = uv_buf_init(
      const_cast<char*>(reinterpret_cast<const char*>(datagram.data())),
      static_cast<unsigned>(datagram.size()));
  int rc = uv_udp_try_send(handle_, &buf, 1, address);
  if (rc >= 0) {
    ++counters_.datagrams_sent;
    counters_.bytes_sent += datagram.size();
    return absl::OkStatus();
  }
  if (rc == UV_EAGAIN) rc = QueueSend(address, datagram);
  if (rc == 0) return absl::OkStatus();
  if (rc == UV_ENOBUFS) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot send to ", to.ToString(), ": ",
                     options_.max_queued_sends, " datagrams already queued"));
  }
  ++counters_.send_errors;
  return absl::UnavailableError(
      absl::StrCat("cannot send to ", to.ToString(), ": ", uv_strerror(rc)));
}

int UdpTransport::QueueSend(const sockaddr* address,
                            std::span<const uint8_t> datagram) {
  if (uv_udp_get_send_queue_count(handle_) >= options_.max_queued_sends) {
    ++counters_.send_errors;
    return UV_ENOBUFS;
  }
  auto* pending = new PendingSend{
      {}, std::make_unique<char[]>(datagram.size()), datagram.size()};
  std::copy(datagram.begin(), datagram.end(), pending->bytes.get());
  uv_buf_t buf =
      uv_buf_init(pending->bytes.get(), static_cast<unsigned>(pending->size));
  if (int rc = uv_udp_send(&pending->request, handle_, &buf, 1, address,
                           &UdpTransport::OnSent);
      rc != 0) {
    delete pending;
    return rc;
  }
  // Set after the call: libuv runs send callbacks on a later iteration.
  pending->request.data = pending;
  return 0;
}

void UdpTransport::FlushSends() {
  SendBatch& batch = ThreadSendBatch();
  if (batch.owner != this) return;
  size_t next = 0;
  uv_os_fd_t fd = -1;
  // Datagrams libuv already queued go first: the batch waits behind them.
  if (handle_ != nullptr && uv_udp_get_send_queue_count(handle_) == 0 &&
      uv_fileno(reinterpret_cast<uv_handle_t*>(handle_), &fd) == 0) {
    while (next < batch.count) {
      int sent = sendmmsg(fd, &batch.messages[next],
                          static_cast<unsigned>(batch.count - next), 0);
      if (sent > 0) {
        for (int i = 0; i < sent; ++i) {
          counters_.bytes_sent += batch.iovecs[next + i].iov_len;
        }
        counters_.datagrams_sent += static_cast<uint64_t>(sent);
        next += static_cast<size_t>(sent);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;  // Socket buffer full: libuv queues the rest.
      } else if (errno != EINTR) {
        ++counters_.send_errors;  // This datagram is refused; go on.
        ++next;
      }
    }
  }
  for (; handle_ != nullptr && next < batch.count; ++next) {
    const auto* address =
        reinterpret_cast<const sockaddr*>(&batch.addresses[next]);
    const iovec& bytes = batch.iovecs[next];
    if (int rc = QueueSend(address, {static_cast<const uint8_t*>(bytes.iov_base),
                                     bytes.iov_len});
        rc != 0 && rc != UV_ENOBUFS) {
      ++counters_.send_errors;
    }
  }
  batch.Clear();
}

void UdpTransport::OnSent(uv_udp_send_t* request, int status) {
  auto* pending = static_cast<PendingSend*>(request->data);
  // Null once the transport is closed; the request was then cancelled.
  if (auto* self = static_cast<UdpTransport*>(request->handle->data)) {
    if (status < 0) {
      ++self->counters_.send_errors;
    } else {
      ++self->counters_.datagrams_sent;
      self->counters_.bytes_sent += pending->size;
    }
  }
  delete pending;
}

void UdpTransport::SetReceiveHandler(ReceiveHandler handler) {
  handler_ = std::move(handler);
  ++handler_generation_;
}

void UdpTransport::Close() {
  if (handle_ == nullptr) return;
  if (SendBatch& batch = ThreadSendBatch(); batch.owner == this) {
    batch.Clear();  // Dropped, as queued sends are.
  }
  in_receive_batch_ = false;
  uv_udp_recv_stop(handle_);
  handle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* handle) {
    delete reinterpret_cast<uv_udp_t*>(handle);
  });
  handle_ = nullptr;
}

void UdpTransport::OnAlloc(uv_handle_t* handle, size_t /*suggested*/,
                           uv_buf_t* buf) {
  auto* self = static_cast<UdpTransport*>(handle->data);
  if (self == nullptr) {
    *buf = uv_buf_init(nullptr, 0);  // libuv reports UV_ENOBUFS.
    return;
  }
  std::span<char> shared = SharedReceiveBuffer(self->receive_buffer_bytes_);
  *buf = uv_buf_init(shared.data(), static_cast<unsigned>(shared.size()));
}

void UdpTransport::OnReceive(uv_udp_t* handle, ssize_t nread,
                             const uv_buf_t* buf, const sockaddr* from,
                             unsigned flags) {
  auto* self = static_cast<UdpTransport*>(handle->data);
  if (self == nullptr) return;
  // The buffer is the thread's shared one and is reused, so the final
  // UV_UDP_MMSG_FREE call of a batch has nothing to free; it ends the
  // batch, so the replies sent meanwhile go out together.
  if (flags & UV_UDP_MMSG_FREE) {
    self->in_receive_batch_ = false;
    self->FlushSends();
    return;
  }
  if (flags & UV_UDP_MMSG_CHUNK) self->in_receive_batch_ = true;
  if (nread < 0) {
    ++self->counters_.receive_errors;
    spdlog::debug("{}: receive error: {}", self->local_.ToString(),
                  uv_strerror(static_cast<int>(nread)));
    return;
  }
  // No sender means nothing was read (the socket is drained). A datagram
  // with a sender may be empty (nread == 0); it is delivered.
  if (from == nullptr) return;
  auto size = static_cast<size_t>(nread);
  if ((flags & UV_UDP_PARTIAL) || size > self->options_.max_datagram_bytes) {
    ++self->counters_.datagrams_truncated;
    return;
  }
  self->Deliver(from, {reinterpret_cast<const uint8_t*>(buf->base), size});
}

void UdpTransport::Deliver(const sockaddr* from,
                           std::span<const uint8_t> bytes) {
  std::optional<Endpoint> sender = FromSockaddr(from);
  if (!sender) return;
  ++counters_.datagrams_received;
  counters_.bytes_received += bytes.size();
  if (!handler_) return;
  // Called from a local so the handler may replace itself safely; it is
  // put back unless it was replaced.
  ReceiveHandler handler = std::move(handler_);
  uint64_t generation = handler_generation_;
  handler(*sender, bytes);
  if (handler_generation_ == generation) handler_ = std::move(handler);
}

}  // namespace kad::net
