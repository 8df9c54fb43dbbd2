#include "cli/client_commands.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/arguments.h"
#include "cli/exit_codes.h"
#include "cli/key_file.h"
#include "cli/logging.h"
#include "cli/output.h"
#include "cli/session.h"
#include "cli/value_input.h"
#include "dht/node.h"
#include "dht/node_id.h"
#include "dht/record_auth.h"
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

absl::StatusOr<std::optional<uint64_t>> CasSeq(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t seq = 0;
  if (!absl::SimpleAtoi(text, &seq)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --cas: '", text, "' (use the seq held, 0 to 2^64-1)"));
  }
  return seq;
}

// Parses 40 hex digits into a 20-byte address.
absl::StatusOr<std::string> AddressFromHex(std::string_view flag,
                                           const std::string& hex) {
  absl::StatusOr<dht::NodeId> id = dht::NodeId::FromHex(hex);
  if (!id.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad ", std::string(flag), " '", hex, "': expected 40 hex digits"));
  }
  return std::string(id->bytes().begin(), id->bytes().end());
}

// What a put publishes: the record, and the CAS it expects.
struct Publication {
  storage::Record record;
  std::optional<uint64_t> expected_seq;
  PutLabels labels;
};

absl::StatusOr<absl::Time> PutExpiry(const PutFlags& flags) {
  absl::StatusOr<absl::Duration> ttl = ParseDurationArg("--ttl", flags.ttl);
  if (!ttl.ok()) return ttl.status();
  if (*ttl > storage::kMaxTtl) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ttl ", flags.ttl, " is longer than the limit of ",
                     absl::FormatDuration(storage::kMaxTtl)));
  }
  return absl::Now() + *ttl;
}

absl::StatusOr<Publication> BuildImmutable(const PutFlags& flags,
                                           absl::Time expires) {
  if (!flags.seq.empty() || !flags.cas.empty()) {
    return absl::InvalidArgumentError(
        "an immutable record has no --seq or --cas: it never changes");
  }
  PutFlags value_flags = flags;  // VALUE is the first positional argument.
  value_flags.value = flags.key;
  value_flags.value_given = !flags.key.empty();
  absl::StatusOr<std::string> value = PutValue(value_flags);
  if (!value.ok()) return value.status();
  absl::StatusOr<storage::Record> record =
      dht::MakeImmutableRecord(*std::move(value), expires);
  if (!record.ok()) return record.status();
  const std::string hash = absl::BytesToHexString(record->key);
  return Publication{*std::move(record), std::nullopt,
                     PutLabels{"immutable record", "hash", hash, ""}};
}

absl::StatusOr<Publication> BuildSigned(const PutFlags& flags,
                                        absl::Time expires,
                                        std::optional<uint64_t> cas) {
  absl::StatusOr<std::string> path = KeyPath(flags.kind.key_file);
  if (!path.ok()) return path.status();
  absl::StatusOr<uint64_t> seq = PutSeq(flags.seq);
  if (!seq.ok()) return seq.status();
  if (cas && flags.seq.empty() && *seq <= *cas) *seq = *cas + 1;
  absl::StatusOr<std::string> value = PutValue(flags);
  if (!value.ok()) return value.status();
  // Checked before a key is made: a refused put creates nothing.
  if (absl::Status size = storage::ValidateValueSize(
          storage::RecordKind::kSigned, value->size());
      !size.ok()) {
    return size;
  }
  absl::StatusOr<dht::KeyPair> owner = ReadOrCreateKey(*path);
  if (!owner.ok()) return owner.status();
  absl::StatusOr<storage::Record> record = dht::MakeSignedRecord(
      *owner, flags.key, *std::move(value), *seq, expires);
  dht::Wipe(owner->secret_key);
  if (!record.ok()) return record.status();
  const std::string address = absl::BytesToHexString(record->key);
  return Publication{
      *std::move(record), cas,
      PutLabels{"", "address", address,
                absl::BytesToHexString(owner->public_key)}};
}

// Builds the record to publish from the flags, checking every limit.
absl::StatusOr<Publication> BuildPublication(const PutFlags& flags) {
  absl::StatusOr<absl::Time> expires = PutExpiry(flags);
  if (!expires.ok()) return expires.status();
  absl::StatusOr<std::optional<uint64_t>> cas = CasSeq(flags.cas);
  if (!cas.ok()) return cas.status();
  if (flags.kind.immutable) return BuildImmutable(flags, *expires);
  if (flags.key.empty()) return absl::InvalidArgumentError("put needs a NAME");
  if (!flags.kind.open) return BuildSigned(flags, *expires, *cas);
  absl::StatusOr<uint64_t> seq = PutSeq(flags.seq);
  if (!seq.ok()) return seq.status();
  absl::StatusOr<std::string> value = PutValue(flags);
  if (!value.ok()) return value.status();
  storage::Record record{flags.key, *std::move(value), *seq, *expires};
  if (absl::Status size = storage::ValidateRecordSize(record); !size.ok()) {
    return size;
  }
  return Publication{std::move(record), *cas, PutLabels{}};
}

// Joins the overlay through the command's bootstrap nodes as a read-only
// client and runs one node operation, `ask`, all within `timeout`.
template <typename T>
absl::StatusOr<T> AskOverlay(
    const ClientFlags& flags, absl::Duration timeout,
    absl::FunctionRef<void(dht::Node&, dht::Node::Callback<T>)> ask) {
  Budget budget = Budget::Starting(timeout);
  absl::StatusOr<std::unique_ptr<Session>> session = JoinAsClient(
      BootstrapTexts(flags.bootstrap), budget, flags.disjoint_paths);
  if (!session.ok()) return session.status();
  dht::Node& node = (*session)->node();
  return (*session)->Await<T>(
      budget, [&](dht::Node::Callback<T> done) { ask(node, std::move(done)); });
}

absl::Status Put(const PutFlags& flags) {
  absl::StatusOr<absl::Duration> timeout = Begin(flags.client);
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<Publication> publication = BuildPublication(flags);
  if (!publication.ok()) return publication.status();
  const std::string what = flags.kind.immutable
                               ? publication->labels.address
                               : flags.key;
  absl::StatusOr<dht::PutResult> result = AskOverlay<dht::PutResult>(
      flags.client, *timeout,
      [&](dht::Node& node, dht::Node::Callback<dht::PutResult> done) {
        node.Put(std::move(publication->record), publication->expected_seq,
                 std::move(done));
      });
  if (!result.ok()) {
    return Annotate(result.status(), absl::StrCat("put ", Quoted(what)));
  }
  PrintPut(what, *result, flags.client.json, publication->labels);
  return absl::OkStatus();
}

// What a get asks for: a key, whether only proven records count, and how
// to name it in messages.
struct Query {
  std::string key;
  bool proven = true;
  std::string what;
};

absl::StatusOr<Query> BuildQuery(const GetFlags& flags) {
  if (!flags.hash.empty()) {
    absl::StatusOr<std::string> address = AddressFromHex("--hash", flags.hash);
    if (!address.ok()) return address.status();
    return Query{*address, true, absl::StrCat("immutable record ", flags.hash)};
  }
  if (flags.key.empty()) {
    return absl::InvalidArgumentError("get needs a NAME, an ADDRESS or --hash");
  }
  // A name is limited like a key, whatever the kind.
  if (absl::Status key = ValidateKey(flags.key); !key.ok()) return key;
  if (flags.kind.open) {
    return Query{flags.key, false, absl::StrCat("key ", Quoted(flags.key))};
  }
  if (!flags.owner.empty()) {
    const std::string owner = absl::HexStringToBytes(flags.owner);
    if (flags.owner.size() != 2 * storage::kPublicKeyBytes ||
        absl::BytesToHexString(owner) != absl::AsciiStrToLower(flags.owner)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad --owner '", flags.owner, "': expected 64 hex digits"));
    }
    return Query{dht::SignedAddress(owner, flags.key), true,
                 absl::StrCat(Quoted(flags.key), " of ", flags.owner)};
  }
  if (flags.key.size() == 2 * storage::kAddressBytes) {
    if (auto address = AddressFromHex("ADDRESS", flags.key); address.ok()) {
      return Query{*address, true, absl::StrCat("record ", flags.key)};
    }
  }
  absl::StatusOr<std::string> path = KeyPath(flags.kind.key_file);
  if (!path.ok()) return path.status();
  absl::StatusOr<dht::KeyPair> self = ReadKey(*path);
  if (absl::IsNotFound(self.status())) {
    // Without a key nothing of ours exists; still ask the overlay (where
    // the join's own errors come first), at an address no key reaches.
    return Query{std::string(storage::kAddressBytes, '\0'), true,
                 absl::StrCat("key ", Quoted(flags.key), " (you have no key at ",
                              *path, "; name the owner with --owner HEX, or "
                              "use --open)")};
  }
  if (!self.ok()) return self.status();
  dht::Wipe(self->secret_key);
  return Query{dht::SignedAddress(self->public_key, flags.key), true,
               absl::StrCat("key ", Quoted(flags.key))};
}

absl::Status Get(const GetFlags& flags) {
  absl::StatusOr<absl::Duration> timeout = Begin(flags.client);
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<Query> query = BuildQuery(flags);
  if (!query.ok()) return query.status();
  absl::StatusOr<dht::GetResult> result = AskOverlay<dht::GetResult>(
      flags.client, *timeout,
      [&](dht::Node& node, dht::Node::Callback<dht::GetResult> done) {
        if (query->proven) {
          node.GetProven(query->key, std::move(done));
        } else {
          node.Get(query->key, std::move(done));
        }
      });
  if (absl::IsNotFound(result.status())) {
    return absl::NotFoundError(absl::StrCat(
        query->what, " not found (or no replica had a copy that verifies)"));
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

absl::Status Keygen(const KeygenFlags& flags) {
  absl::StatusOr<std::string> path = KeyPath(flags.key_file);
  if (!path.ok()) return path.status();
  absl::StatusOr<dht::KeyPair> pair = WriteNewKey(*path, flags.force);
  if (!pair.ok()) return pair.status();
  PrintText(absl::StrCat("public-key ", absl::BytesToHexString(pair->public_key),
                         "\n"));
  return absl::OkStatus();
}

}  // namespace

int RunKeygen(const KeygenFlags& flags) { return Finish(Keygen(flags)); }
int RunPut(const PutFlags& flags) { return Finish(Put(flags)); }
int RunGet(const GetFlags& flags) { return Finish(Get(flags)); }
int RunPing(const PingFlags& flags) { return Finish(Ping(flags)); }
int RunLookup(const LookupFlags& flags) { return Finish(Lookup(flags)); }
int RunStats(const StatsFlags& flags) { return Finish(Stats(flags)); }

}  // namespace kad::cli
