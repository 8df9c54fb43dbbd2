// Adversaries: the malicious members of a simulated benchmark overlay,
// behind `kad bench lookup --adversary F --attack drop|eclipse`.
//
// A fraction F of the members, chosen from the seed (member 0, the first
// contact every join starts from, is always honest), run a real dht::Node
// behind a HostileTransport: their own requests (joins, refreshes) and
// pings, offers and responses pass through, so they join and stay in
// tables like anyone; but they answer
//  - find_node with the k adversaries closest to the target, never an
//    honest node;
//  - find_value the same way, never with a record;
//  - store with "stored", and drop the record.
// Nothing in dht/ knows: the adversary is a wrapper of the simulated
// host's transport, installed through SimOverlay's MemberHook.
//
// Adversaries are sleepers: until Activate() they behave like honest nodes,
// so the overlay is built as it would be with them in it (hostile from the
// start, an adversary that an honest node happened to bootstrap through
// cut that node off for good: a join attack, which seeds prevent, not the
// lookup attack measured here). The benchmark activates them once the
// overlay is built, before its puts.
//
// Modes:
//  - drop: adversaries have random ids on ordinary (IPv4) simulated hosts,
//    like a botnet of distinct hosts.
//  - eclipse: adversaries place their ids next to the keys the benchmark's
//    gets look up, sybils_per_key to a key (the first keys first), and
//    behave as in drop. With shared_prefix they all sit on simulated IPv6
//    hosts, which share one /64 (net/sim_network.h): one attacker's cheap
//    Sybils, which the per-prefix limits bound. Otherwise they sit on
//    IPv4 hosts, counted as distinct hosts (see SimIpv4Hosts()).
//    Against id binding (`binding` set: the honest nodes enforce it), a
//    Sybil cannot place its id freely: it takes, of the 8 ids' prefixes
//    its address allows (dht/id_binding.h), the one closest to its key,
//    and the key's own bits after it.
//
// Determinism: who is an adversary and where eclipse ids go derive from
// the seed alone; the adversaries' answers from the overlay's state.
//
// Not thread-safe; call from the overlay's loop thread.
#ifndef KAD_BENCH_ADVERSARY_H_
#define KAD_BENCH_ADVERSARY_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/id_index.h"
#include "bench/sim_overlay.h"
#include "dht/contact.h"
#include "dht/id_binding.h"
#include "dht/kademlia_parameters.h"
#include "dht/node_id.h"
#include "net/clock.h"
#include "net/transport.h"

namespace kad::bench {

enum class AttackMode : uint8_t { kNone, kDrop, kEclipse };

// "none", "drop", "eclipse".
const char* AttackModeName(AttackMode mode);
// Parses AttackModeName's names; InvalidArgument otherwise.
absl::StatusOr<AttackMode> ParseAttackMode(std::string_view text);

struct AdversaryOptions {
  double fraction = 0;  // Of the members, in [0, 1].
  AttackMode attack = AttackMode::kNone;
  // Eclipse: Sybils per attacked key (default Kademlia's k: the whole
  // neighbourhood of the key).
  int sybils_per_key = dht::kDefaultBucketSize;
  // Eclipse: all Sybils in one /64 (simulated IPv6 hosts) rather than on
  // distinct IPv4 hosts.
  bool shared_prefix = true;
  int bucket_size = dht::kDefaultBucketSize;  // How many an answer lists.
  // Members below this index are honest (member 0 always is). Tests set
  // it with fraction 1 to add Sybils after an honest overlay.
  size_t honest_first = 1;
  // Eclipse: the id binding the honest nodes enforce, which the Sybils'
  // ids must then satisfy; nullopt: ids placed freely.
  std::optional<dht::IdBindingOptions> binding;
};

// Returns the id bound to `address` (under `binding`) closest to `target`:
// the best an attacker at that address can do next to `target`.
dht::NodeId ClosestBoundId(const dht::NodeId& target,
                           const net::Endpoint& address,
                           const dht::IdBindingOptions& binding);

class Adversaries final : public MemberHook {
 public:
  // `eclipse_targets`: the ids to eclipse, most important first (the
  // keys of the benchmark's gets, in the order they are read).
  Adversaries(AdversaryOptions options, uint64_t seed, net::Clock& clock,
              std::vector<dht::NodeId> eclipse_targets);

  // MemberHook.
  net::Family FamilyOf(size_t index) override;
  Plan PlanMember(size_t index, net::SimTransport& transport) override;
  void Made(size_t index, SimMember& member) override;

  // Returns whether member `index` is (or will be) an adversary.
  bool IsAdversary(size_t index) const;
  size_t count() const { return contacts_.size(); }
  // Returns how many of the eclipse targets have Sybils placed next to
  // them (the first eclipsed_targets() of the list given).
  size_t eclipsed_targets() const;
  // Returns the up to `count` adversaries closest to `target`.
  std::vector<dht::Contact> Closest(const dht::NodeId& target,
                                    size_t count) const;

  const AdversaryOptions& options() const { return options_; }
  uint64_t stores_dropped() const { return stores_dropped_; }
  uint64_t finds_answered() const { return finds_answered_; }
  void CountStoreDropped() { ++stores_dropped_; }
  void CountFindAnswered() { ++finds_answered_; }
  net::Clock& clock() { return clock_; }
  // Turns every adversary hostile, from now on.
  void Activate() { active_ = true; }
  bool active() const { return active_; }

 private:
  AdversaryOptions options_;
  uint64_t seed_;
  net::Clock& clock_;
  std::vector<dht::NodeId> eclipse_targets_;
  size_t planned_ = 0;  // Adversaries planned so far (eclipse ids given).
  std::vector<dht::Contact> contacts_;  // By order of making.
  IdIndex index_;                       // Id -> position in contacts_.
  uint64_t stores_dropped_ = 0;
  uint64_t finds_answered_ = 0;
  bool active_ = false;
};

// The transport of one adversary: answers find_node, find_value and store
// itself (see above) and hands everything else to its node.
class HostileTransport final : public net::Transport {
 public:
  // `inner` and `crew` are borrowed and must outlive this transport.
  HostileTransport(net::Transport& inner, Adversaries& crew);

  // The id the node behind it answers as; set once the node exists.
  void set_id(const dht::NodeId& id) { id_ = id; }

  absl::Status Send(const net::Endpoint& to,
                    std::span<const uint8_t> datagram) override {
    return inner_.Send(to, datagram);
  }
  void SetReceiveHandler(ReceiveHandler handler) override;
  net::Endpoint local_endpoint() const override {
    return inner_.local_endpoint();
  }

 private:
  void OnDatagram(const net::Endpoint& from, std::span<const uint8_t> bytes);

  net::Transport& inner_;
  Adversaries& crew_;
  dht::NodeId id_;
  ReceiveHandler node_handler_;
};

}  // namespace kad::bench

#endif  // KAD_BENCH_ADVERSARY_H_
