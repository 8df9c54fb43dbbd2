#include "cli/client_commands.h"

#include <cstdint>
#include <memory>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/arguments.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/output.h"
#include "cli/session.h"
#include "cli/value_input.h"
#include "dht/node.h"
#include "dht/node_id.h"
#include "storage/record.h"

namespace kad::cli {
namespace {

// Applies --log-level and parses --timeout, the start of every command.
absl::StatusOr<absl::Duration> Begin(const ClientFlags& flags) {
  SetLogLevel(flags.log_level);
  return ParseDurationArg("--timeout", flags.timeout);
}

int Finish(const absl::Status& status) {
  return status.ok() ? kExitOk : ReportFailure(status);
}

// "KEY" with non-printable bytes escaped, for messages.
std::string Quoted(const std::string& key) {
  return absl::StrCat("\"", absl::CHexEscape(key), "\"");
}

absl::Status ValidateKey(const std::string& key) {
  storage::Record record;
  record.key = key;
  return storage::ValidateRecordSize(record);
}

absl::StatusOr<std::string> PutValue(const PutFlags& flags) {
  if (!flags.file.empty()) return ReadValueFile(flags.file);
  if (flags.value_given && flags.value != "-") return flags.value;
  return ReadValueStdin();
}

absl::StatusOr<uint64_t> PutSeq(const std::string& text) {
  if (text.empty()) {
    return static_cast<uint64_t>(absl::ToUnixMicros(absl::Now()));
  }
  uint64_t seq = 0;
  if (!absl::SimpleAtoi(text, &seq)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --seq: '", text, "' (use an integer from 0 to 2^64-1)"));
  }
  return seq;
}

// Builds the record to publish from the flags, checking every limit.
absl::StatusOr<storage::Record> BuildRecord(const PutFlags& flags) {
  absl::StatusOr<absl::Duration> ttl = ParseDurationArg("--ttl", flags.ttl);
  if (!ttl.ok()) return ttl.status();
  if (*ttl > storage::kMaxTtl) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ttl ", flags.ttl, " is longer than the limit of ",
                     absl::FormatDuration(storage::kMaxTtl)));
  }
  absl::StatusOr<uint64_t> seq = PutSeq(flags.seq);
  if (!seq.ok()) return seq.status();
  absl::StatusOr<std::string> value = PutValue(flags);
  if (!value.ok()) return value.status();
  storage::Record record{flags.key, *std::move(value), *seq,
                         absl::Now() + *ttl};
  if (absl::Status size = storage::ValidateRecordSize(record); !size.ok()) {
    return size;
  }
  return record;
}

// Joins the overlay through the command's bootstrap nodes as a read-only
// client and runs one node operation, `ask`, all within `timeout`.
template <typename T>
absl::StatusOr<T> AskOverlay(
    const ClientFlags& flags, absl::Duration timeout,
    absl::FunctionRef<void(dht::Node&, dht::Node::Callback<T>)> ask) {
  Budget budget = Budget::Starting(timeout);
  absl::StatusOr<std::unique_ptr<Session>> session =
      JoinAsClient(BootstrapTexts(flags.bootstrap), budget);
  if (!session.ok()) return session.status();
  dht::Node& node = (*session)->node();
  return (*session)->Await<T>(
      budget, [&](dht::Node::Callback<T> done) { ask(node, std::move(done)); });
}

absl::Status Put(const PutFlags& flags) {
  absl::StatusOr<absl::Duration> timeout = Begin(flags.client);
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<storage::Record> record = BuildRecord(flags);
  if (!record.ok()) return record.status();
  absl::StatusOr<dht::PutResult> result = AskOverlay<dht::PutResult>(
      flags.client, *timeout,
      [&](dht::Node& node, dht::Node::Callback<dht::PutResult> done) {
        node.Put(*std::move(record), std::move(done));
      });
  if (!result.ok()) {
    return Annotate(result.status(), absl::StrCat("put ", Quoted(flags.key)));
  }
  PrintPut(flags.key, *result, flags.client.json);
  return absl::OkStatus();
}

absl::Status Get(const GetFlags& flags) {
  absl::StatusOr<absl::Duration> timeout = Begin(flags.client);
  if (!timeout.ok()) return timeout.status();
  if (absl::Status key = ValidateKey(flags.key); !key.ok()) return key;
  absl::StatusOr<dht::GetResult> result = AskOverlay<dht::GetResult>(
      flags.client, *timeout,
      [&](dht::Node& node, dht::Node::Callback<dht::GetResult> done) {
        node.Get(flags.key, std::move(done));
      });
  if (absl::IsNotFound(result.status())) {
    return absl::NotFoundError(
        absl::StrCat("key ", Quoted(flags.key), " not found"));
  }
  if (!result.ok()) {
    return Annotate(result.status(), absl::StrCat("get ", Quoted(flags.key)));
  }
  PrintGet(flags.key, *result, flags.client.json);
  return absl::OkStatus();
}

// What a node asked directly answered, and where it was asked.
template <typename T>
struct DirectAnswer {
  net::Endpoint address;
  T result;
};

// Asks the node at `address_text` one question with `ask` (Node::Ping,
// Node::Stats) through a read-only session: no overlay to join. The
// node's errors name the address already.
template <typename T>
absl::StatusOr<DirectAnswer<T>> AskDirectly(
    const ClientFlags& flags, const std::string& address_text,
    void (dht::Node::*ask)(const net::Endpoint&, dht::Node::Callback<T>)) {
  absl::StatusOr<absl::Duration> timeout = Begin(flags);
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<net::Endpoint> address = ResolveAddress(address_text);
  if (!address.ok()) return address.status();
  Budget budget = Budget::Starting(*timeout);
  absl::StatusOr<std::unique_ptr<Session>> session =
      ClientSession(address->family());
  if (!session.ok()) return session.status();
  dht::Node& node = (*session)->node();
  absl::StatusOr<T> result =
      (*session)->Await<T>(budget, [&](dht::Node::Callback<T> done) {
        (node.*ask)(*address, std::move(done));
      });
  if (!result.ok()) return result.status();
  return DirectAnswer<T>{*address, *std::move(result)};
}

absl::Status Ping(const PingFlags& flags) {
  absl::StatusOr<DirectAnswer<dht::PingResult>> answer =
      AskDirectly<dht::PingResult>(flags.client, flags.address,
                                   &dht::Node::Ping);
  if (!answer.ok()) return answer.status();
  PrintPing(answer->address, answer->result, flags.client.json);
  return absl::OkStatus();
}

absl::Status Stats(const StatsFlags& flags) {
  absl::StatusOr<DirectAnswer<dht::StatsReport>> answer =
      AskDirectly<dht::StatsReport>(flags.client, flags.address,
                                    &dht::Node::Stats);
  if (absl::IsPermissionDenied(answer.status())) {
    // The node refused us: a network outcome (exit 3), not a local
    // permission problem such as an unusable data dir.
    return absl::UnavailableError(answer.status().message());
  }
  if (absl::IsDeadlineExceeded(answer.status())) {
    // Nodes do not answer stats requests they refuse.
    return absl::DeadlineExceededError(absl::StrCat(
        answer.status().message(),
        " (a node answers stats only to loopback and its --stats-allow "
        "subnets)"));
  }
  if (!answer.ok()) return answer.status();
  PrintStats(answer->result, flags.client.json);
  return absl::OkStatus();
}

// The lookup target: --id as given, or the keyspace position of KEY.
absl::StatusOr<dht::NodeId> LookupTarget(const LookupFlags& flags) {
  if (!flags.id.empty()) {
    absl::StatusOr<dht::NodeId> id = dht::NodeId::FromHex(flags.id);
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad --id '", flags.id, "': expected 40 hex digits"));
    }
    return *id;
  }
  if (flags.key.empty()) {
    return absl::InvalidArgumentError("lookup needs a KEY or --id HEX");
  }
  if (absl::Status key = ValidateKey(flags.key); !key.ok()) return key;
  return dht::NodeId::ForKey(flags.key);
}

absl::Status Lookup(const LookupFlags& flags) {
  absl::StatusOr<absl::Duration> timeout = Begin(flags.client);
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<dht::NodeId> target = LookupTarget(flags);
  if (!target.ok()) return target.status();
  absl::StatusOr<dht::LookupResult> result = AskOverlay<dht::LookupResult>(
      flags.client, *timeout,
      [&](dht::Node& node, dht::Node::Callback<dht::LookupResult> done) {
        node.FindNode(*target, std::move(done));
      });
  if (!result.ok()) {
    return Annotate(result.status(), absl::StrCat("lookup ", target->ToHex()));
  }
  PrintLookup(*target, *result, flags.client.json);
  return absl::OkStatus();
}

}  // namespace

int RunPut(const PutFlags& flags) { return Finish(Put(flags)); }
int RunGet(const GetFlags& flags) { return Finish(Get(flags)); }
int RunPing(const PingFlags& flags) { return Finish(Ping(flags)); }
int RunLookup(const LookupFlags& flags) { return Finish(Lookup(flags)); }
int RunStats(const StatsFlags& flags) { return Finish(Stats(flags)); }

}  // namespace kad::cli
