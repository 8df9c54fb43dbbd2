// ReplyBudget: bounds what a node sends to any one address in answer to
// requests, so that requests with a forged source address cannot turn the
// node into a flood aimed at that address (reflection).
//
// Two rules, applied to every reply before it is sent:
//   - Amplification: to a destination that has not proven it owns its
//     address, a reply may be at most unproven_max_amplification times the
//     size of the request it answers, both counted as the victim's link
//     carries them: payload plus datagram_overhead_bytes of IP and UDP
//     headers. A forger then gets no more bytes aimed at its victim than
//     it sends itself (times the factor).
//     "Proven" is the caller's judgement, passed in (AddressProof): the
//     address answered a request of ours (so it receives what we send),
//     or presented a write token we handed to that address.
//   - Budget: replies to one /32 or /64 take bytes from a token bucket
//     (per_address), and replies to its /24 or /56 from another
//     (per_prefix), whether or not the destination is proven: a proven
//     address can still be forged by someone else.
// A reply that breaks a rule is withheld (never truncated here) and
// counted. Allowance() tells the caller how large a reply may be sent
// now, so it can trim a list of contacts to fit instead.
//
// Defaults, and why:
//   - per address: 64 KiB/s, bursts of 64 KiB (issue 11's ceiling): ~90
//     full find_node replies a second to one host, more than the
//     AdmissionControl default lets one host ask for (200/s, most of them
//     small), and a victim of N reflecting nodes gets at most N * 64 KiB/s.
//   - per prefix: 256 KiB/s, bursts of 256 KiB, so spreading forged
//     sources over one /24 or /56 multiplies a victim network's share by
//     4, not by 256.
//   - unproven_max_amplification 3: QUIC's choice (RFC 9000 section 8.1)
//     for the same problem. 1 would forbid a pong (41 bytes) to an
//     unproven node's ping (30), so a joining node would never get its
//     first answer. With 3, every ping (even a 9-byte anonymous one),
//     store and error reply goes through, and a find_node reply (52 bytes
//     asked, 723 for 20 contacts) is trimmed to 5 contacts (211 bytes)
//     until the requester is proven.
//   - datagram_overhead_bytes 28: an IPv4 and a UDP header. IPv6 headers
//     are 48 bytes, so the ratio is then a little stricter than stated.
//   - loopback exempt, as in AdmissionControl: local overlays put
//     thousands of nodes behind 127.0.0.1.
//   - max_entries 16,384: as in AdmissionControl, an entry is live only
//     while its bucket refills (about 11 ms per full find_node reply); at
//     most 16,384 slots of 24 B = 384 KiB.
//
// Per-destination state lives in a SourceTable (dht/source_table.h): it
// starts empty, grows with the destinations actually answered, reuses the
// slots of destinations whose buckets have refilled, and holds at most
// max_entries; forgetting a destination's state early (counted in
// live_evictions) errs towards sending.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_REPLY_BUDGET_H_
#define KAD_DHT_REPLY_BUDGET_H_

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

struct ReplyBudgetOptions {
  // Reply bytes to one /32 (IPv4) or /64 (IPv6); nullopt: no limit.
  std::optional<RateLimit> per_address = RateLimit{64 * 1024, 64 * 1024};
  // Reply bytes to one /24 (IPv4) or /56 (IPv6); nullopt: no limit.
  std::optional<RateLimit> per_prefix = RateLimit{256 * 1024, 256 * 1024};
  // Largest reply/request size ratio sent to an unproven destination;
  // nullopt: no such rule.
  std::optional<double> unproven_max_amplification = 3.0;
  // Bytes a datagram carries on the wire beyond its payload, counted on
  // both sides of that ratio.
  size_t datagram_overhead_bytes = 28;
  // Sends to loopback destinations without counting them.
  bool exempt_loopback = true;
  // Destination addresses and prefixes tracked at once (rounded up to a
  // power of two).
  size_t max_entries = 16'384;
  // Seeds the table's hash; a real node passes a secret random value.
  uint64_t table_seed = 0;
};

// Whether a destination has shown it receives what is sent to its address.
enum class AddressProof : uint8_t { kUnproven, kProven };

enum class ReplyDecision : uint8_t {
  kSend,
  kWithholdAmplification,  // too large for an unproven destination
  kWithholdAddressBudget,  // the destination's /32 or /64 is over budget
  kWithholdPrefixBudget,   // its /24 or /56 is over budget
};

// Returns "send", "withhold_amplification", ...
std::string_view ReplyDecisionName(ReplyDecision decision);

// What was sent and withheld, and why, since construction.
struct ReplyBudgetStats {
  uint64_t replies_sent = 0;
  uint64_t bytes_sent = 0;  // including exempt ones
  uint64_t withheld_amplification = 0;
  uint64_t withheld_address_budget = 0;
  uint64_t withheld_prefix_budget = 0;
  uint64_t bytes_withheld = 0;
  // Destinations whose state was forgotten before their buckets refilled,
  // because their group of the table was full.
  uint64_t live_evictions = 0;

  uint64_t withheld() const {
    return withheld_amplification + withheld_address_budget +
           withheld_prefix_budget;
  }
};

class ReplyBudget {
 public:
  explicit ReplyBudget(const ReplyBudgetOptions& options = {});

  // Decides whether a reply of `reply_bytes` answering a request of
  // `request_bytes` may be sent to `destination` at `now`, and if so
  // takes it from the budgets. `now` must not go backwards.
  ReplyDecision Decide(const net::Endpoint& destination, size_t request_bytes,
                       size_t reply_bytes, AddressProof proof, absl::Time now);
  // Returns the largest reply Decide would send now, in bytes, without
  // taking anything (SIZE_MAX when nothing limits it).
  size_t Allowance(const net::Endpoint& destination, size_t request_bytes,
                   AddressProof proof, absl::Time now) const;

  ReplyBudgetStats stats() const;
  // Destination addresses and prefixes tracked (idle ones not yet reused
  // included).
  size_t tracked() const { return table_.size(); }
  // Returns the heap held for tracked destinations, in bytes.
  size_t MemoryBytes() const { return table_.MemoryBytes(); }

 private:
  struct Entry {
    int64_t ready_ns = TokenBucket::kFull;       // the byte bucket
    int64_t IdleAt() const { return ready_ns; }  // full from then on
  };
  using Table = SourceTable<Entry>;

  // Returns the largest reply allowed by the amplification rule.
  size_t AmplificationLimit(size_t request_bytes, AddressProof proof) const;
  // Takes `reply_bytes` from the destination's budgets if both hold them.
  ReplyDecision TakeBudget(const SourceKeys& keys, size_t reply_bytes,
                           int64_t now_ns);
  ReplyDecision Withhold(ReplyDecision decision, size_t reply_bytes);

  TokenBucket address_bucket_;
  TokenBucket prefix_bucket_;
  std::optional<double> max_amplification_;
  int64_t overhead_bytes_;
  bool exempt_loopback_;
  ReplyBudgetStats stats_;
  Table table_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_REPLY_BUDGET_H_
