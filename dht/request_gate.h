// RequestGate: what a stranger can make this node do — whether a request
// is served at all (AdmissionControl: per-source, per-prefix and global
// rate limits, temporary bans) and whether its reply may go out
// (ReplyBudget: bytes per destination per second, so a forged source
// address cannot turn the node into a flood aimed at a victim).
//
// Both halves are optional (NodeOptions::admission, ::reply_budget); a
// half that is off costs nothing but a null pointer, so simulated nodes by
// the million can run without them. Loopback is exempt from both by
// default: local overlays run thousands of nodes behind 127.0.0.1.
//
// The node asks Admit() for every request before any other work, and
// MayReply() for every reply (and for the pings it sends to strangers
// because they asked it something). What is refused is dropped silently:
// an error reply would itself be traffic for the attacker.
//
// Not thread-safe; call from the loop thread. Pure: time comes in.
#ifndef KAD_DHT_REQUEST_GATE_H_
#define KAD_DHT_REQUEST_GATE_H_

#include <cstddef>
#include <memory>
#include <optional>

#include "absl/time/time.h"
#include "dht/admission_control.h"
#include "dht/reply_budget.h"
#include "net/endpoint.h"

namespace kad::dht {

struct RequestGateStats {
  AdmissionStats admission;
  ReplyBudgetStats replies;
};

class RequestGate {
 public:
  // `table_seed` keys both tables' hashes: a real node passes a secret.
  RequestGate(const std::optional<AdmissionOptions>& admission,
              const std::optional<ReplyBudgetOptions>& reply_budget,
              uint64_t table_seed);

  // Returns whether a request from `source` is to be served.
  bool Admit(const net::Endpoint& source, absl::Time now);

  // Returns whether a reply of `reply_bytes` to a request of
  // `request_bytes` may be sent to `destination`, taking it from the
  // budget if so. `proven`: the destination has shown it receives at its
  // address (it answered us).
  bool MayReply(const net::Endpoint& destination, size_t request_bytes,
                size_t reply_bytes, bool proven, absl::Time now);

  // Returns whether MayReply looks at `proven` (the reply budget's cap on
  // amplification to unproven destinations is on), so the node can skip
  // working it out.
  bool needs_proof() const { return needs_proof_; }

  RequestGateStats stats() const;

 private:
  bool needs_proof_;
  std::unique_ptr<AdmissionControl> admission_;  // Null: no limits.
  std::unique_ptr<ReplyBudget> replies_;         // Null: no budget.
};

}  // namespace kad::dht

#endif  // KAD_DHT_REQUEST_GATE_H_
