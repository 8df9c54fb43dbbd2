// The one-shot commands: keygen, put, get, ping, lookup and stats. Each joins the
// overlay as a read-only node (ping and stats talk to one node directly),
// does one job within --timeout, prints the result (see output.h) and
// returns an exit code (see exit_codes.h).
#ifndef KAD_CLI_CLIENT_COMMANDS_H_
#define KAD_CLI_CLIENT_COMMANDS_H_

#include <string>
#include <vector>

#include "dht/kademlia_parameters.h"

namespace kad::cli {

// Flags every one-shot command takes. Durations and addresses are kept as
// text and parsed by the command, so bad ones are reported uniformly.
struct ClientFlags {
  std::vector<std::string> bootstrap;  // HOST:PORT; else $KAD_BOOTSTRAP.
  std::string timeout = "10s";         // Bounds the whole command.
  bool json = false;                   // One JSON object on stdout.
  std::string log_level = "warn";
  // --disjoint-paths D (put and get only): S/Kademlia's d.
  int disjoint_paths = dht::kDefaultDisjointPaths;
};

// Which kind of record a put or get is about (storage/record.h).
struct RecordKindFlags {
  bool open = false;       // --open: anyone may replace the record.
  bool immutable = false;  // --immutable (put) / --hash (get).
  std::string key_file;    // --key FILE; else $KAD_KEY, ~/.config/kad/key.
};

struct PutFlags {
  ClientFlags client;
  RecordKindFlags kind;
  std::string cas;  // --cas N: store only over seq N. Empty: no CAS.
  std::string key;  // The NAME; with --immutable, the VALUE.
  std::string value;         // Used when value_given and not "-".
  bool value_given = false;  // VALUE was on the command line.
  std::string file;          // --file PATH; empty if not given.
  std::string ttl = "24h";
  std::string seq;  // Empty: the current time in microseconds.
};

struct GetFlags {
  ClientFlags client;
  RecordKindFlags kind;
  std::string key;    // NAME, or a record's address (40 hex digits).
  std::string owner;  // --owner HEX: the public key whose NAME to read.
  std::string hash;   // --hash HEX: an immutable record's address.
};

struct KeygenFlags {
  std::string key_file;  // --key FILE; else $KAD_KEY, ~/.config/kad/key.
  bool force = false;    // Replace an existing key file.
};

struct PingFlags {
  ClientFlags client;  // bootstrap is unused: ping needs no overlay.
  std::string address;
};

struct StatsFlags {
  ClientFlags client;  // bootstrap is unused: stats asks one node directly.
  std::string address;
};

struct LookupFlags {
  ClientFlags client;
  std::string key;  // Exactly one of key and id is set.
  std::string id;   // 40 hex digits.
};

// Writes a new key and prints "public-key HEX"; exits 2 if the file
// exists and --force was not given.
int RunKeygen(const KeygenFlags& flags);
// Signed by default (creating the key on first use); --open, --immutable.
// Exits 5 on a conflict (a newer seq held, or --cas not the seq held).
int RunPut(const PutFlags& flags);
// Returns the value only if it verifies: NAME reads the caller's own
// namespace, --owner HEX another's, a 40-hex ADDRESS or --hash HEX a
// signed or immutable record by address, --open an open record.
int RunGet(const GetFlags& flags);
int RunPing(const PingFlags& flags);
int RunLookup(const LookupFlags& flags);
// Exits 3 if the node does not answer or refuses (we are not on loopback or
// in its --stats-allow subnets).
int RunStats(const StatsFlags& flags);

}  // namespace kad::cli

#endif  // KAD_CLI_CLIENT_COMMANDS_H_
