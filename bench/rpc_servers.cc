#include "bench/rpc_servers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/cpu_pinning.h"
#include "bench/udp_socket.h"
#include "dht/contact.h"
#include "dht/node.h"
#include "net/udp_transport.h"
#include "net/uv_clock.h"
#include "net/uv_loop.h"
#include "storage/memory_store.h"

namespace kad::bench {
namespace {

constexpr size_t kRawSlotBytes = 2048;  // Beyond any kad datagram (1,280).
// libuv reads each datagram of a recvmmsg batch into its own 64 KiB slot.
constexpr size_t kUvSlotBytes = 64 * 1024;
constexpr int kPollMs = 10;

using Shared = BenchServer::Shared;

const net::Endpoint kBind = net::Endpoint::Ipv4({127, 0, 0, 1}, 0);

// Opens a non-blocking UDP socket on 127.0.0.1:0 with large buffers.
absl::StatusOr<int> OpenRawSocket(net::Endpoint& bound) {
  absl::StatusOr<int> opened = OpenBufferedUdpSocket();
  if (!opened.ok()) return opened.status();
  const int fd = *opened;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot bind 127.0.0.1:0: ", std::strerror(errno)));
  }
  bound = kBind.WithPort(ntohs(address.sin_port));
  return fd;
}

// The machine's limit: recvmmsg a batch, sendmmsg it straight back.
void RunRawEcho(const ServerSpec& spec, Shared& shared) {
  net::Endpoint bound;
  absl::StatusOr<int> fd = OpenRawSocket(bound);
  if (!fd.ok()) return shared.ready.set_value(fd.status());
  shared.ready.set_value(bound);
  const size_t batch = spec.receive_batch;
  std::vector<char> buffers(batch * kRawSlotBytes);
  std::vector<mmsghdr> messages(batch);
  std::vector<iovec> iovecs(batch);
  std::vector<sockaddr_in> peers(batch);
  while (!shared.stop.load(std::memory_order_relaxed)) {
    for (size_t i = 0; i < batch; ++i) {
      iovecs[i] = {&buffers[i * kRawSlotBytes], kRawSlotBytes};
      messages[i].msg_hdr = {};
      messages[i].msg_hdr.msg_name = &peers[i];
      messages[i].msg_hdr.msg_namelen = sizeof(peers[i]);
      messages[i].msg_hdr.msg_iov = &iovecs[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(*fd, messages.data(), static_cast<unsigned>(batch),
                     MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      pollfd waiting{*fd, POLLIN, 0};
      poll(&waiting, 1, kPollMs);
      continue;
    }
    shared.counts.datagrams_received += n;
    for (int i = 0; i < n; ++i) iovecs[i].iov_len = messages[i].msg_len;
    for (int sent = 0; sent < n;) {
      int r = sendmmsg(*fd, messages.data() + sent,
                       static_cast<unsigned>(n - sent), 0);
      if (r <= 0) {
        shared.counts.send_errors += n - sent;
        break;
      }
      sent += r;
      shared.counts.datagrams_sent += r;
    }
  }
  close(*fd);
}

// A bare libuv echo, read as net::UdpTransport reads.
struct LibuvEcho {
  uv_udp_t udp;
  std::vector<char> buffer;
  ServerCounts* counts;
};

void OnEchoAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* echo = static_cast<LibuvEcho*>(handle->data);
  *buf = uv_buf_init(echo->buffer.data(),
                     static_cast<unsigned>(echo->buffer.size()));
}

void OnEchoReceive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                   const sockaddr* from, unsigned flags) {
  if ((flags & UV_UDP_MMSG_FREE) || nread < 0 || from == nullptr) return;
  auto* echo = static_cast<LibuvEcho*>(handle->data);
  ++echo->counts->datagrams_received;
  uv_buf_t reply = uv_buf_init(buf->base, static_cast<unsigned>(nread));
  if (uv_udp_try_send(handle, &reply, 1, from) >= 0) {
    ++echo->counts->datagrams_sent;
  } else {
    ++echo->counts->send_errors;
  }
}

void RunLibuvEcho(const ServerSpec& spec, Shared& shared) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  LibuvEcho echo{{}, std::vector<char>(spec.receive_batch * kUvSlotBytes),
                 &shared.counts};
  uv_udp_init_ex(&loop, &echo.udp, AF_INET | UV_UDP_RECVMMSG);
  echo.udp.data = &echo;
  sockaddr_in address{};
  uv_ip4_addr("127.0.0.1", 0, &address);
  sockaddr_in bound{};
  int length = sizeof(bound);
  int rc = uv_udp_bind(&echo.udp, reinterpret_cast<sockaddr*>(&address), 0);
  if (rc == 0) {
    rc = uv_udp_getsockname(&echo.udp, reinterpret_cast<sockaddr*>(&bound),
                            &length);
  }
  uv_async_t wake;
  uv_async_init(&loop, &wake, [](uv_async_t* a) { uv_stop(a->loop); });
  if (rc == 0) {
    int size = kSocketBufferBytes;
    uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(&echo.udp), &size);
    size = kSocketBufferBytes;
    uv_send_buffer_size(reinterpret_cast<uv_handle_t*>(&echo.udp), &size);
    rc = uv_udp_recv_start(&echo.udp, OnEchoAlloc, OnEchoReceive);
  }
  if (rc != 0) {
    shared.ready.set_value(absl::UnavailableError(
        absl::StrCat("libuv echo: ", uv_strerror(rc))));
  } else {
    shared.counts.recvmmsg = uv_udp_using_recvmmsg(&echo.udp) != 0;
    shared.wake.store(&wake);
    shared.ready.set_value(kBind.WithPort(ntohs(bound.sin_port)));
    while (!shared.stop.load()) uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&echo.udp), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&wake), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

// Made-up contacts on 127.0.0.2 (nothing listens there; nothing is sent
// to them while the benchmark runs), so find_node replies carry k.
std::vector<dht::Contact> MadeUpContacts(size_t count) {
  std::mt19937_64 gen(0x6b61642d72706321);  // Any fixed seed.
  std::vector<dht::Contact> contacts;
  contacts.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    contacts.push_back(
        {dht::NodeId::Random(gen),
         net::Endpoint::Ipv4({127, 0, 0, 2},
                             static_cast<uint16_t>(20000 + i % 40000))});
  }
  return contacts;
}

void RunNode(ServerSpec spec, Shared& shared) {
  // Declared first, destroyed last: ~UvLoop closes it.
  uv_async_t wake;
  absl::StatusOr<std::unique_ptr<net::UvLoop>> loop = net::UvLoop::Create();
  if (!loop.ok()) return shared.ready.set_value(loop.status());
  uv_async_init((*loop)->raw(), &wake, [](uv_async_t* a) {
    static_cast<net::UvLoop*>(a->data)->Stop();
  });
  wake.data = loop->get();
  net::UvClock clock((*loop)->raw());
  net::UdpOptions udp;
  udp.receive_batch = spec.receive_batch;
  auto transport = net::UdpTransport::Create((*loop)->raw(), kBind, udp);
  if (!transport.ok()) return shared.ready.set_value(transport.status());
  storage::MemoryStore store;
  if (spec.record) {
    if (auto put = store.Put(*spec.record, clock.Now()); !put.ok()) {
      return shared.ready.set_value(put.status());
    }
  }
  if (absl::Status valid = dht::ValidateNodeOptions(spec.node); !valid.ok()) {
    return shared.ready.set_value(valid);
  }
  dht::Node node(spec.node, **transport, clock, store);
  node.Start();
  std::vector<dht::Contact> contacts = MadeUpContacts(spec.contacts);
  node.AdoptContacts(contacts);
  shared.wake.store(&wake);
  shared.ready.set_value((*transport)->local_endpoint());
  while (!shared.stop.load()) (*loop)->Run();
  const net::UdpCounters& udp_counts = (*transport)->counters();
  shared.counts.datagrams_received = udp_counts.datagrams_received;
  shared.counts.datagrams_sent = udp_counts.datagrams_sent;
  shared.counts.send_errors = udp_counts.send_errors;
  shared.counts.gate = node.gate_stats();
}

}  // namespace

absl::StatusOr<std::unique_ptr<BenchServer>> BenchServer::Start(
    ServerSpec spec) {
  if (spec.receive_batch < 1 || spec.receive_batch > 20) {
    return absl::InvalidArgumentError("receive batch must be 1 to 20");
  }
  std::unique_ptr<BenchServer> server(new BenchServer());
  std::future<absl::StatusOr<net::Endpoint>> ready =
      server->shared_.ready.get_future();
  Shared& shared = server->shared_;
  server->thread_ = std::thread([spec = std::move(spec), &shared]() mutable {
    pthread_setname_np(pthread_self(), "kad-bench-srv");  // For profilers.
    if (absl::Status pinned = PinThisThread(spec.cpu); !pinned.ok()) {
      return shared.ready.set_value(pinned);
    }
    switch (spec.kind) {
      case ServerKind::kRawEcho:
        return RunRawEcho(spec, shared);
      case ServerKind::kLibuvEcho:
        return RunLibuvEcho(spec, shared);
      case ServerKind::kNode:
        return RunNode(std::move(spec), shared);
    }
  });
  absl::StatusOr<net::Endpoint> endpoint = ready.get();
  if (!endpoint.ok()) {
    server->thread_.join();
    server->stopped_ = true;
    return endpoint.status();
  }
  server->endpoint_ = *endpoint;
  return server;
}

int64_t BenchServer::CpuNanos() {
  clockid_t clock;
  timespec t;
  if (pthread_getcpuclockid(thread_.native_handle(), &clock) != 0 ||
      clock_gettime(clock, &t) != 0) {
    return 0;
  }
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

BenchServer::~BenchServer() {
  if (!stopped_) Stop();
}

ServerCounts BenchServer::Stop() {
  stopped_ = true;
  shared_.stop.store(true);
  if (void* wake = shared_.wake.load()) {
    uv_async_send(static_cast<uv_async_t*>(wake));
  }
  thread_.join();
  return shared_.counts;
}

}  // namespace kad::bench
