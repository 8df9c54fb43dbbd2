#include "bench/rpc_bench.h"

#include <pthread.h>

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "dht/wire_codec.h"

namespace kad::bench {
namespace {

constexpr RpcRequest kAllRequests[] = {
    RpcRequest::kPing, RpcRequest::kFindNode, RpcRequest::kFindValueAbsent,
    RpcRequest::kFindValuePresent};
constexpr RpcGate kAllGates[] = {RpcGate::kOff, RpcGate::kExempt,
                                 RpcGate::kRaised, RpcGate::kDefault};

constexpr std::string_view kPresentKey = "kad-bench-rpc-present";
constexpr std::string_view kAbsentKey = "kad-bench-rpc-absent";
// "Raised": far beyond what one core can answer (RateLimit's maximum).
constexpr dht::RateLimit kRaised{1e9, 1e9};

dht::NodeOptions NodeOptionsFor(RpcGate gate) {
  dht::NodeOptions node;  // kad node's defaults.
  node.seed = 1;
  node.secrets = dht::NodeOptions::SecretSource::kCsprng;
  switch (gate) {
    case RpcGate::kOff:
      node.admission.reset();
      node.reply_budget.reset();
      break;
    case RpcGate::kExempt:
      break;
    case RpcGate::kRaised:
      node.admission->per_address = kRaised;
      node.admission->per_prefix = kRaised;
      node.admission->global = kRaised;
      node.reply_budget->per_address = kRaised;
      node.reply_budget->per_prefix = kRaised;
      [[fallthrough]];
    case RpcGate::kDefault:
      node.admission->exempt_loopback = false;
      node.reply_budget->exempt_loopback = false;
      break;
  }
  return node;
}

dht::Body BodyOf(RpcRequest request) {
  switch (request) {
    case RpcRequest::kPing:
      return dht::Ping{};
    case RpcRequest::kFindNode:
      return dht::FindNode{dht::NodeId::ForKey("kad-bench-rpc-target")};
    case RpcRequest::kFindValueAbsent:
      return dht::FindValue{std::string(kAbsentKey)};
    case RpcRequest::kFindValuePresent:
      return dht::FindValue{std::string(kPresentKey)};
  }
  return dht::Ping{};
}

storage::Record PresentRecord(size_t value_bytes) {
  storage::Record record;
  record.key = std::string(kPresentKey);
  record.value = std::string(value_bytes, 'v');
  record.seq = 1;
  record.expires = absl::Now() + absl::Hours(24);
  return record;
}

// Notes what the first reply of a node phase held.
void Inspect(RpcPhase& phase) {
  if (phase.load.first_reply.empty()) return;
  absl::StatusOr<dht::Message> reply =
      dht::DecodeMessage(phase.load.first_reply, absl::Now());
  if (!reply.ok()) return;
  if (const auto* nodes = std::get_if<dht::Nodes>(&reply->body)) {
    phase.reply_contacts = nodes->closest.size();
  } else if (const auto* value = std::get_if<dht::Value>(&reply->body)) {
    phase.reply_contacts = value->closest.size();
    phase.reply_has_record = value->record.has_value();
  }
}

absl::StatusOr<RpcPhase> RunPhase(const RpcBenchOptions& options,
                                  ServerKind server, RpcGate gate,
                                  RpcRequest request, int round) {
  RpcPhase phase;
  phase.server = server;
  phase.gate = gate;
  phase.request = request;
  phase.round = round;
  const bool echo = server != ServerKind::kNode;
  absl::StatusOr<RequestTemplate> datagram =
      MakeRequestTemplate(BodyOf(request), echo);
  if (!datagram.ok()) return datagram.status();
  phase.request_bytes = datagram->bytes.size();
  ServerSpec spec;
  spec.kind = server;
  spec.cpu = options.server_cpu;
  spec.receive_batch = options.receive_batch;
  spec.node = NodeOptionsFor(gate);
  spec.contacts = options.contacts;
  spec.record = PresentRecord(options.value_bytes);
  absl::StatusOr<std::unique_ptr<BenchServer>> running =
      BenchServer::Start(std::move(spec));
  if (!running.ok()) return running.status();
  // The client runs on its own thread so that pinning it leaves the
  // caller's affinity alone.
  absl::StatusOr<LoadResult> load = absl::UnknownError("not run");
  LoadOptions load_options = options.load;
  load_options.cpu = options.client_cpu;
  std::thread client([&] {
    pthread_setname_np(pthread_self(), "kad-bench-cli");  // For profilers.
    load = RunLoad((*running)->endpoint(), *datagram, load_options,
                   [server = running->get()] { return server->CpuNanos(); });
  });
  client.join();
  phase.counts = (*running)->Stop();
  if (!load.ok()) return load.status();
  phase.load = *std::move(load);
  if (!echo) Inspect(phase);
  return phase;
}

}  // namespace

const char* RpcRequestName(RpcRequest request) {
  switch (request) {
    case RpcRequest::kPing:
      return "ping";
    case RpcRequest::kFindNode:
      return "find_node";
    case RpcRequest::kFindValueAbsent:
      return "find_value_absent";
    case RpcRequest::kFindValuePresent:
      return "find_value_present";
  }
  return "unknown";
}

const char* RpcGateName(RpcGate gate) {
  switch (gate) {
    case RpcGate::kOff:
      return "off";
    case RpcGate::kExempt:
      return "exempt";
    case RpcGate::kRaised:
      return "raised";
    case RpcGate::kDefault:
      return "default";
  }
  return "unknown";
}

absl::StatusOr<RpcRequest> ParseRpcRequest(std::string_view name) {
  for (RpcRequest request : kAllRequests) {
    if (RpcRequestName(request) == name) return request;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown request '", std::string(name),
      "' (ping, find_node, find_value_absent, find_value_present)"));
}

absl::StatusOr<RpcGate> ParseRpcGate(std::string_view name) {
  for (RpcGate gate : kAllGates) {
    if (RpcGateName(gate) == name) return gate;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown gate '", std::string(name), "' (off, exempt, raised, default)"));
}

absl::Status ValidateRpcBench(const RpcBenchOptions& options) {
  if (options.repeat < 1) {
    return absl::InvalidArgumentError("--repeat must be at least 1");
  }
  if (options.receive_batch < 1 || options.receive_batch > 20) {
    return absl::InvalidArgumentError("--receive-batch must be 1 to 20");
  }
  if (options.value_bytes > storage::kMaxValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--value-bytes must be at most ", storage::kMaxValueBytes));
  }
  if (options.load.duration <= absl::ZeroDuration() ||
      options.load.warmup < absl::ZeroDuration() ||
      options.load.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--duration and --timeout must be positive, --warmup not negative");
  }
  if (options.load.window < 1 || options.load.window > 4096 ||
      options.load.batch < 1 || options.load.batch > 1024) {
    return absl::InvalidArgumentError(
        "--window must be 1 to 4096 and --batch 1 to 1024");
  }
  return absl::OkStatus();
}

absl::StatusOr<RpcBenchReport> RunRpcBench(const RpcBenchOptions& options,
                                           const std::atomic<bool>* stop) {
  if (absl::Status valid = ValidateRpcBench(options); !valid.ok()) {
    return valid;
  }
  RpcBenchReport report;
  report.options = options;
  struct Target {
    ServerKind server;
    RpcGate gate;
  };
  std::vector<Target> targets;
  if (options.raw_echo) targets.push_back({ServerKind::kRawEcho, {}});
  if (options.libuv_echo) targets.push_back({ServerKind::kLibuvEcho, {}});
  for (RpcGate gate : options.gates) {
    targets.push_back({ServerKind::kNode, gate});
  }
  for (int round = 0; round < options.repeat; ++round) {
    for (const Target& target : targets) {
      for (RpcRequest request : options.requests) {
        // An echo answers any datagram alike: it is measured with pings.
        if (target.server != ServerKind::kNode &&
            request != RpcRequest::kPing) {
          continue;
        }
        if (stop != nullptr && stop->load()) {
          report.interrupted = true;
          return report;
        }
        absl::StatusOr<RpcPhase> phase =
            RunPhase(options, target.server, target.gate, request, round);
        if (!phase.ok()) return phase.status();
        report.phases.push_back(*std::move(phase));
      }
    }
  }
  return report;
}

}  // namespace kad::bench
