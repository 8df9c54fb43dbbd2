#include "cli/metrics_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/arguments.h"

namespace kad::cli {
namespace {

constexpr char kPath[] = "/metrics";
constexpr size_t kMaxRequestBody = 1024;

bool IsBarePort(const std::string& text) {
  return !text.empty() && text.size() <= 5 &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

}  // namespace

absl::StatusOr<net::Endpoint> ParseMetricsAddress(const std::string& text) {
  const std::string address =
      IsBarePort(text) ? absl::StrCat("127.0.0.1:", text) : text;
  absl::StatusOr<net::Endpoint> endpoint = ResolveAddress(address);
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --metrics '", text, "': expected HOST:PORT or PORT"));
  }
  return endpoint;
}

MetricsServer::MetricsServer(net::Endpoint endpoint)
    : endpoint_(std::move(endpoint)),
      server_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const net::Endpoint& bind) {
  auto metrics = std::unique_ptr<MetricsServer>(new MetricsServer(bind));
  httplib::Server& server = *metrics->server_;
  server.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  const time_t timeout = absl::ToInt64Seconds(kIoTimeout);
  server.set_read_timeout(timeout).set_write_timeout(timeout);
  server.set_keep_alive_timeout(timeout);
  server.set_payload_max_length(kMaxRequestBody);
  // httplib's default also sets SO_REUSEPORT, which lets a second node
  // bind the same port and take half the scrapes. SO_REUSEADDR alone
  // still allows a restart while old connections are in TIME_WAIT.
  server.set_socket_options([](socket_t socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  MetricsServer* self = metrics.get();
  server.Get(kPath, [self](const httplib::Request&, httplib::Response& res) {
    std::optional<std::string> text = self->Exposition();
    if (!text.has_value()) {
      res.status = 503;
      res.set_content("no metrics yet\n", "text/plain");
      return;
    }
    res.set_content(*std::move(text), runtime::kPrometheusContentType);
  });
  // Other methods on the metrics path: 405 rather than httplib's 404.
  auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
  };
  server.Post(kPath, not_allowed);
  server.Put(kPath, not_allowed);
  server.Delete(kPath, not_allowed);
  server.Patch(kPath, not_allowed);

  const std::string host = bind.AddressString();
  int port = bind.port();
  if (port == 0) {
    port = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    port = -1;
  }
  if (port < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind metrics address ", bind.ToString()));
  }
  metrics->endpoint_ = bind.WithPort(static_cast<uint16_t>(port));
  metrics->listener_ = std::thread([self] {
    self->server_->listen_after_bind();
    self->listener_done_ = true;
  });
  // stop() only stops a server that is running: wait until it is, so a
  // node stopped at once still joins its listener.
  while (!server.is_running() && !self->listener_done_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return metrics;
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (listener_.joinable()) listener_.join();
}

void MetricsServer::Publish(runtime::MetricsSnapshot snapshot) {
  std::lock_guard<std::mutex> lock(mutex_);
  snapshot_ = std::move(snapshot);
}

std::optional<std::string> MetricsServer::Exposition() const {
  std::optional<runtime::MetricsSnapshot> snapshot;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    snapshot = snapshot_;
  }
  if (!snapshot.has_value()) return std::nullopt;
  return runtime::FormatPrometheus(*snapshot);
}

}  // namespace kad::cli
