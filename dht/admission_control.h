// AdmissionControl: decides, for each request datagram, whether this node
// will do any work for it.
//
// Use: for each request (responses are RpcClient's to match against what
// was asked), call Decide(source, now) before any other work. Anything but
// kAdmit is dropped silently: no reply, no error, no probe of the source,
// no routing-table change. Replies then go through a ReplyBudget.
//
// A request is admitted if its source address, the prefix around it and
// the node as a whole each have a token left (see dht/source_key.h for
// the /32 and /24, /64 and /56 used, and dht/token_bucket.h for the
// bucket). Tokens are only taken when all three have one, so a request
// dropped by the prefix or global limit costs its source nothing. A
// source that keeps sending far past its own limit is banned for a while:
// every request dropped by its own limit is also counted in an "excess"
// bucket, and when that overflows (ban_after_excess) all its requests are
// dropped unread for ban_duration. Bans are per address, never per
// prefix: sources can be forged, and a forged flood should cost a prefix
// of honest hosts no more than its rate limit does while the flood lasts.
// (A forged flood can still get one address banned for ban_duration;
// hence a short ban.)
//
// Per-source state lives in one SourceTable (dht/source_table.h), shared
// by addresses and prefixes: it starts empty, grows with the sources seen,
// reuses the slots of sources whose buckets have refilled, and holds at
// most max_entries; when it must forget a live source it forgets the one
// holding the least state, which only ever errs towards admitting. A
// source only gets an entry when a request of its is admitted (a dropped
// request needs none, unless it is dropped by the source's own limit,
// whose entry exists already), so a flood of forged sources held back by
// the global limit barely touches the table.
//
// Defaults, and why (OpenDHT answers at most 1,024 requests/s from one IP
// in any one-second window; libtorrent bans an IP for 5 minutes after 50
// requests in 10 s):
//   - per address: 200/s sustained, bursts of 1,000. A lookup asks one
//     node a handful of times, so this is hundreds of concurrent lookups
//     from one host (or one NAT) touching this node; the burst is
//     OpenDHT's per-IP limit.
//   - per prefix: 1,000/s, bursts of 5,000 — five busy hosts in one /24
//     or /56, but not 256 attackers each at the address limit.
//   - global: 10,000/s, bursts of 10,000: about 5 % of one core at the
//     ~207,000 pings/s a node can answer, and 50 times the address limit,
//     so at least 50 flooding addresses are needed before the global
//     limit squeezes honest sources. It is what holds a forged flood from
//     a million sources.
//   - ban after excess: 800 dropped/s sustained, bursts of 8,000 — a
//     source is banned once it sends about 5 times its sustained limit for
//     10 s, or about 9,000 requests at once; for 1 minute (libtorrent's 5
//     minutes is long for an address a forger can choose).
//   - loopback exempt (exempt_loopback): a datagram from 127.0.0.0/8 or
//     ::1 comes from this host (Linux drops such sources arriving from a
//     wire as martians), and local overlays run thousands of nodes on
//     127.0.0.1, all one /32. Exempt requests take no tokens, not even
//     global ones.
//   - max_entries 16,384: a source only holds a live entry while its
//     buckets refill (5 ms per admitted request at the address limit, 1 ms
//     at the prefix limit) or it is banned, so the admitted rate bounds
//     the live entries (about 60 at the global limit), and 16,384 is room
//     for thousands of drained or banned sources at once. Memory is then
//     at most 16,384 slots of 40 B = 640 KiB, however many sources are
//     forged (see MemoryBytes()); a node of a quiet overlay holds a few
//     dozen slots.
//
// Ideas taken, not code: OpenDHT's per-IP limiter in front of a global one
// (network_engine.cpp, rateLimit; its per-IP limit is the global one / 8,
// "global limiting should be triggered by at least 8 different IPs" —
// here / 50), but as a token bucket with one int64 of state instead of a
// queue of one timestamp per request (OpenDHT's map also grows with every
// IP seen until its periodic sweep); libtorrent's
// dos_blocker ban of sources far over a rate, and its fixed bound on the
// sources tracked (it keeps 20 and scans them all), here a
// set-associative table that can hold enough to matter and reads one
// group per lookup.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_ADMISSION_CONTROL_H_
#define KAD_DHT_ADMISSION_CONTROL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/time/time.h"
#include "dht/source_key.h"
#include "dht/source_table.h"
#include "dht/token_bucket.h"
#include "net/endpoint.h"

namespace kad::dht {

struct AdmissionOptions {
  // Requests from one /32 (IPv4) or /64 (IPv6); nullopt: no limit.
  std::optional<RateLimit> per_address = RateLimit{200, 1'000};
  // Requests from one /24 (IPv4) or /56 (IPv6); nullopt: no limit.
  std::optional<RateLimit> per_prefix = RateLimit{1'000, 5'000};
  // Requests from anyone; nullopt: no limit.
  std::optional<RateLimit> global = RateLimit{10'000, 10'000};
  // Requests of one address dropped by its per_address limit, beyond which
  // it is banned; nullopt: never ban.
  std::optional<RateLimit> ban_after_excess = RateLimit{800, 8'000};
  absl::Duration ban_duration = absl::Minutes(1);
  // Admits loopback sources without counting them against any limit.
  bool exempt_loopback = true;
  // Addresses and prefixes tracked at once (rounded up to a power of two).
  size_t max_entries = 16'384;
  // Seeds the table's hash; a real node passes a secret random value, so
  // that nobody can aim forged sources at one group of the table.
  uint64_t table_seed = 0;
};

enum class Admission : uint8_t {
  kAdmit,
  kDropAddressLimit,  // the source address is over its limit
  kDropPrefixLimit,   // its /24 or /56 is over its limit
  kDropGlobalLimit,   // the node is over its global limit
  kDropBanned,        // the source address is banned
};

// Returns "admit", "drop_address_limit", ...
std::string_view AdmissionName(Admission admission);

// What was admitted and dropped, and why, since construction.
struct AdmissionStats {
  uint64_t admitted = 0;  // includes admitted_exempt
  uint64_t admitted_exempt = 0;
  uint64_t dropped_address_limit = 0;
  uint64_t dropped_prefix_limit = 0;
  uint64_t dropped_global_limit = 0;
  uint64_t dropped_banned = 0;
  uint64_t bans = 0;  // addresses banned (a ban, not its requests)
  // Sources whose state was forgotten before their buckets refilled,
  // because their group of the table was full (many: max_entries is too
  // small).
  uint64_t live_evictions = 0;

  uint64_t dropped() const {
    return dropped_address_limit + dropped_prefix_limit + dropped_global_limit +
           dropped_banned;
  }
};

class AdmissionControl {
 public:
  explicit AdmissionControl(const AdmissionOptions& options = {});

  // Decides whether to serve a request from `source` arriving at `now`, and
  // counts it. `now` must not go backwards.
  Admission Decide(const net::Endpoint& source, absl::Time now);

  AdmissionStats stats() const;
  // Addresses and prefixes tracked (idle ones not yet reused included).
  size_t tracked() const { return table_.size(); }
  // Returns the heap held for tracked sources, in bytes.
  size_t MemoryBytes() const { return table_.MemoryBytes(); }

 private:
  struct Entry {
    int64_t ready_ns = TokenBucket::kFull;         // the request bucket
    int64_t excess_ready_ns = TokenBucket::kFull;  // ban_after_excess's
    int64_t banned_until_ns = TokenBucket::kFull;  // banned before this
    // The entry is idle (both buckets full, no ban) from this time on.
    int64_t IdleAt() const {
      return std::max({ready_ns, excess_ready_ns, banned_until_ns});
    }
  };
  using Table = SourceTable<Entry>;

  Admission DropByAddressLimit(Entry& entry, int64_t now_ns);
  // Adds an entry for `key`, absent, with a request bucket ready at
  // `ready_ns`, never forgetting `keep`'s.
  void Store(const SourceKey& key, int64_t ready_ns, int64_t now_ns,
             const SourceKey* keep);
  Admission Count(Admission admission);

  TokenBucket address_bucket_;
  TokenBucket prefix_bucket_;
  TokenBucket global_bucket_;
  TokenBucket excess_bucket_;
  bool ban_enabled_;
  int64_t ban_ns_;
  bool exempt_loopback_;
  int64_t global_ready_ns_ = TokenBucket::kFull;
  AdmissionStats stats_;
  Table table_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_ADMISSION_CONTROL_H_
