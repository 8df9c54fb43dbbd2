#include "bench/rpc_load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bench/cpu_pinning.h"
#include "bench/udp_socket.h"
#include "dht/wire_codec.h"

namespace kad::bench {
namespace {

constexpr size_t kMaxWindow = 4096;
constexpr int kSlotBits = 12;  // log2(kMaxWindow)
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
constexpr uint32_t kIdMarker = 0x80000000u;  // Forces a uint32 encoding.
constexpr uint32_t kGenerationMask = (kIdMarker - 1) >> kSlotBits;
constexpr size_t kMaxBatch = 1024;
constexpr size_t kReceiveSlotBytes = 2048;  // Beyond any kad datagram.
constexpr uint8_t kUint32Marker = 0xce;  // MessagePack uint32.
constexpr size_t kTypeOffset = 2;        // [fixarray, version, type, ...]

int64_t ClockNs(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

int64_t NowNs() { return ClockNs(CLOCK_MONOTONIC); }

// CPU time of the client thread and, if known, the server thread.
struct CpuTimes {
  int64_t client = 0;
  int64_t server = 0;
};

void PutId(uint8_t* at, uint32_t id) {
  at[0] = static_cast<uint8_t>(id >> 24);
  at[1] = static_cast<uint8_t>(id >> 16);
  at[2] = static_cast<uint8_t>(id >> 8);
  at[3] = static_cast<uint8_t>(id);
}

uint32_t GetId(const uint8_t* at) {
  return (uint32_t{at[0]} << 24) | (uint32_t{at[1]} << 16) |
         (uint32_t{at[2]} << 8) | uint32_t{at[3]};
}

// A connected, non-blocking UDP socket on 127.0.0.1 aimed at `server`.
absl::StatusOr<int> OpenClientSocket(const net::Endpoint& server) {
  if (server.family() != net::Family::kIpv4) {
    return absl::InvalidArgumentError("the load generator speaks IPv4 only");
  }
  absl::StatusOr<int> opened = OpenBufferedUdpSocket();
  if (!opened.ok()) return opened.status();
  const int fd = *opened;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server.port());
  std::memcpy(&address.sin_addr, server.address().data(), 4);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat(
        "cannot connect to ", server.ToString(), ": ", std::strerror(errno)));
  }
  return fd;
}

// The window: slots of outstanding requests, each with its own copy of the
// template to patch.
class Window {
 public:
  Window(const RequestTemplate& request, size_t size)
      : length_(request.bytes.size()),
        offset_(request.id_offset + 1),
        slots_(size),
        bytes_(size * length_) {
    free_.reserve(size);
    for (size_t i = size; i-- > 0;) {
      std::copy(request.bytes.begin(), request.bytes.end(),
                bytes_.begin() + i * length_);
      free_.push_back(static_cast<uint32_t>(i));
    }
  }

  size_t free() const { return free_.size(); }
  size_t length() const { return length_; }

  // Takes a free slot for a request sent at `now_ns`; returns its bytes.
  uint8_t* Take(int64_t now_ns, uint32_t& slot_out) {
    uint32_t slot = free_.back();
    free_.pop_back();
    Slot& s = slots_[slot];
    s.generation = (s.generation + 1) & kGenerationMask;
    s.id = kIdMarker | (s.generation << kSlotBits) | slot;
    s.sent_ns = now_ns;
    s.busy = true;
    uint8_t* bytes = &bytes_[slot * length_];
    PutId(bytes + offset_, s.id);
    slot_out = slot;
    return bytes;
  }
  // Returns a slot taken but not sent.
  void Untake(uint32_t slot) {
    slots_[slot].busy = false;
    free_.push_back(slot);
  }
  // Frees the slot of `id` if it is outstanding; returns its send time,
  // or -1.
  int64_t Complete(uint32_t id) {
    uint32_t slot = id & kSlotMask;
    if (slot >= slots_.size()) return -1;
    Slot& s = slots_[slot];
    if (!s.busy || s.id != id) return -1;
    s.busy = false;
    free_.push_back(slot);
    return s.sent_ns;
  }
  // Gives up on requests sent before `deadline_ns`; returns how many.
  size_t Expire(int64_t deadline_ns) {
    size_t expired = 0;
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].busy && slots_[i].sent_ns < deadline_ns) {
        slots_[i].busy = false;
        free_.push_back(i);
        ++expired;
      }
    }
    return expired;
  }

 private:
  struct Slot {
    int64_t sent_ns = 0;
    uint32_t id = 0;
    uint32_t generation = 0;
    bool busy = false;
  };
  size_t length_;
  size_t offset_;  // Of the id's first byte.
  std::vector<Slot> slots_;
  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> free_;
};

// Batched socket I/O over fixed arrays.
class Batches {
 public:
  explicit Batches(size_t batch)
      : send_(batch), send_iov_(batch), receive_(batch),
        receive_iov_(batch), buffers_(batch * kReceiveSlotBytes) {}

  // Sends the first `count` datagrams set with SetSend; returns how many
  // were sent, or -1 (errno says why).
  int Send(int fd, size_t count) {
    return sendmmsg(fd, send_.data(), static_cast<unsigned>(count),
                    MSG_DONTWAIT);
  }
  void SetSend(size_t i, uint8_t* bytes, size_t length) {
    send_iov_[i] = {bytes, length};
    send_[i].msg_hdr = {};
    send_[i].msg_hdr.msg_iov = &send_iov_[i];
    send_[i].msg_hdr.msg_iovlen = 1;
  }
  int Receive(int fd) {
    for (size_t i = 0; i < receive_.size(); ++i) {
      receive_iov_[i] = {&buffers_[i * kReceiveSlotBytes], kReceiveSlotBytes};
      receive_[i].msg_hdr = {};
      receive_[i].msg_hdr.msg_iov = &receive_iov_[i];
      receive_[i].msg_hdr.msg_iovlen = 1;
    }
    return recvmmsg(fd, receive_.data(),
                    static_cast<unsigned>(receive_.size()), MSG_DONTWAIT,
                    nullptr);
  }
  std::span<const uint8_t> Received(size_t i) const {
    return {&buffers_[i * kReceiveSlotBytes], receive_[i].msg_len};
  }

 private:
  std::vector<mmsghdr> send_;
  std::vector<iovec> send_iov_;
  std::vector<mmsghdr> receive_;
  std::vector<iovec> receive_iov_;
  std::vector<uint8_t> buffers_;
};

// One run of the load: sends while the window has room, receives what
// came, gives up on requests past the timeout, until the end.
class LoadGenerator {
 public:
  LoadGenerator(int fd, const RequestTemplate& request,
                const LoadOptions& options,
                const std::function<int64_t()>& server_cpu_ns)
      : fd_(fd),
        request_(request),
        options_(options),
        server_cpu_ns_(server_cpu_ns),
        window_(request, options.window),
        io_(options.batch),
        sending_(options.batch),
        timeout_ns_(absl::ToInt64Nanoseconds(options.timeout)),
        expiry_period_ns_(
            std::clamp<int64_t>(timeout_ns_ / 4, 100'000, 5'000'000)) {}

  LoadResult Run() {
    const int64_t start = NowNs();
    count_from_ = start + absl::ToInt64Nanoseconds(options_.warmup);
    end_ = count_from_ + absl::ToInt64Nanoseconds(options_.duration);
    int64_t next_expiry = start + expiry_period_ns_;
    int64_t now = start;
    std::optional<CpuTimes> cpu_from;
    while ((now = NowNs()) < end_) {
      const bool counting = now >= count_from_;
      if (counting && !cpu_from) cpu_from = CpuNow();
      const int sent = SendSome(now, counting);
      const int received = ReceiveSome();
      if (sent == 0 && received <= 0) {
        pollfd waiting{fd_, POLLIN, 0};
        poll(&waiting, 1, 1);
      }
      if (now >= next_expiry) {
        size_t expired = window_.Expire(now - timeout_ns_);
        if (counting) result_.timeouts += expired;
        next_expiry = now + expiry_period_ns_;
      }
    }
    const CpuTimes cpu_to = CpuNow();
    if (cpu_from) {
      result_.client_cpu_seconds =
          static_cast<double>(cpu_to.client - cpu_from->client) / 1e9;
      result_.server_cpu_seconds =
          static_cast<double>(cpu_to.server - cpu_from->server) / 1e9;
    }
    result_.seconds = static_cast<double>(now - count_from_) / 1e9;
    result_.latency_us = Summarize(std::move(latencies_us_));
    return std::move(result_);
  }

 private:
  CpuTimes CpuNow() const {
    return CpuTimes{ClockNs(CLOCK_THREAD_CPUTIME_ID),
                    server_cpu_ns_ ? server_cpu_ns_() : 0};
  }

  // Sends a batch of requests if the window has room; returns how many.
  int SendSome(int64_t now, bool counting) {
    const size_t to_send = std::min(options_.batch, window_.free());
    if (to_send == 0) return 0;
    for (size_t i = 0; i < to_send; ++i) {
      io_.SetSend(i, window_.Take(now, sending_[i]), window_.length());
    }
    int sent = io_.Send(fd_, to_send);
    if (sent < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && counting) {
        ++result_.send_errors;
      }
      sent = 0;
    }
    for (size_t i = static_cast<size_t>(sent); i < to_send; ++i) {
      window_.Untake(sending_[i]);
    }
    if (counting) result_.sent += static_cast<uint64_t>(sent);
    return sent;
  }

  // Receives a batch of replies, if any came; returns how many.
  int ReceiveSome() {
    const int received = io_.Receive(fd_);
    if (received <= 0) return received;
    const int64_t arrived = NowNs();
    const bool counted = arrived >= count_from_ && arrived < end_;
    for (int i = 0; i < received; ++i) {
      Match(io_.Received(static_cast<size_t>(i)), arrived, counted);
    }
    return received;
  }

  void Match(std::span<const uint8_t> reply, int64_t arrived, bool counted) {
    const size_t at = request_.id_offset;
    if (reply.size() < at + 5 || reply[at] != kUint32Marker ||
        reply[kTypeOffset] != request_.reply_type) {
      result_.mismatched += counted;
      return;
    }
    const int64_t sent_at = window_.Complete(GetId(&reply[at + 1]));
    if (!counted) return;
    if (sent_at < 0) {
      ++result_.stale;
      return;
    }
    ++result_.replies;
    result_.reply_bytes += reply.size();
    latencies_us_.push_back(static_cast<double>(arrived - sent_at) / 1e3);
    if (result_.first_reply.empty()) {
      result_.first_reply.assign(reply.begin(), reply.end());
    }
  }

  int fd_;
  const RequestTemplate& request_;
  const LoadOptions& options_;
  const std::function<int64_t()>& server_cpu_ns_;
  Window window_;
  Batches io_;
  std::vector<uint32_t> sending_;  // Slots of the batch being sent.
  const int64_t timeout_ns_;
  const int64_t expiry_period_ns_;
  int64_t count_from_ = 0;
  int64_t end_ = 0;
  std::vector<double> latencies_us_;
  LoadResult result_;
};

}  // namespace

absl::StatusOr<RequestTemplate> MakeRequestTemplate(dht::Body body,
                                                    bool echo) {
  constexpr dht::TransactionId kProbeId = 0x89abcdef;
  const auto request_type = static_cast<uint8_t>(body.index());
  dht::Message message{kProbeId, std::nullopt, std::move(body)};
  absl::StatusOr<std::vector<uint8_t>> bytes =
      dht::EncodeMessage(message, absl::Now());
  if (!bytes.ok()) return bytes.status();
  const uint8_t probe[5] = {kUint32Marker, 0x89, 0xab, 0xcd, 0xef};
  auto at = std::search(bytes->begin(), bytes->end(), probe, probe + 5);
  if (at == bytes->end() || bytes->size() <= kTypeOffset ||
      (*bytes)[kTypeOffset] != request_type) {
    return absl::InternalError("unexpected request header");
  }
  RequestTemplate request;
  request.id_offset = static_cast<size_t>(at - bytes->begin());
  request.bytes = *std::move(bytes);
  // A response's type is its request's plus one (ping 0 -> pong 1, ...).
  request.reply_type = echo ? request_type : request_type + 1;
  return request;
}

absl::StatusOr<LoadResult> RunLoad(
    const net::Endpoint& server, const RequestTemplate& request,
    const LoadOptions& options,
    const std::function<int64_t()>& server_cpu_ns) {
  if (options.window < 1 || options.window > kMaxWindow) {
    return absl::InvalidArgumentError(
        absl::StrCat("window must be 1 to ", kMaxWindow));
  }
  if (options.batch < 1 || options.batch > kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch must be 1 to ", kMaxBatch));
  }
  if (absl::Status pinned = PinThisThread(options.cpu); !pinned.ok()) {
    return pinned;
  }
  absl::StatusOr<int> fd = OpenClientSocket(server);
  if (!fd.ok()) return fd.status();
  LoadResult result =
      LoadGenerator(*fd, request, options, server_cpu_ns).Run();
  close(*fd);
  return result;
}

}  // namespace kad::bench
