// SimNetwork: simulated datagram delivery between SimTransports, in the
// virtual time of a SimClock — the simulator's half of the net/ seams.
//
// Hosts: NewTransport() creates a host at a fresh synthetic address from a
// 24-bit counter: 10.a.b.c:port (IPv4) or [fd6b:6164::a.b.c]:port (IPv6,
// the counter in the last three bytes), so an address maps back to its
// host with no lookup table. Hosts can be added at any time.
//
// A datagram from a live host is, in this order:
//  - dropped if no host was ever at the destination address;
//  - dropped if sender and destination are in different partition groups
//    (checked when sent: a datagram already in flight still arrives);
//  - dropped with probability `loss`, independently per datagram (drawn
//    from a hash of the seed and the datagram's sequence number, so the
//    draws do not depend on anything else in the run);
//  - otherwise copied and delivered after LinkModel::OneWayDelay, unless
//    the destination has crashed, left, been destroyed or detached, or
//    installed no receive handler, by then.
// Every outcome is counted in stats(). Send() reports success for all of
// these, as UDP would; it fails only for a datagram over
// kMaxDatagramBytes (InvalidArgument).
//
// Churn: Crash() and Leave() silence a host for good — it neither sends
// nor receives, and Send() still returns OK (a UDP node that leaves says
// nothing, so the two differ only in the counters). Destroying a
// SimTransport has the same effect.
//
// For tests, two more ways in:
//  - Inject() delivers a datagram from any source endpoint, a host's or
//    one outside the simulation (an attacker, a forged source). It skips
//    the sender checks, partitions and loss, and arrives after the link
//    delay like any other datagram.
//  - Detach() takes a host off the network until Reattach(), as a node
//    whose socket is down and comes back: its Send() fails at once with
//    Unavailable and datagrams reaching it are dropped.
// Neither draws a random number nor touches the loss sequence, so a run
// that does not call them is the same as before they existed.
//
// Determinism: the network holds no hash maps; given the same seed and the
// same calls it produces the same deliveries in the same order.
//
// Memory: a host costs 16 bytes here plus its 64-byte SimTransport (about
// 80 bytes measured with the allocator's overhead); a datagram in flight
// costs a queue entry (net/sim_clock.h), a 24-byte slot and a copy of its
// bytes (an injected one also a map entry holding its source endpoint).
// A datagram's bytes go into a buffer rounded up to 64 bytes (exactly its
// size if over 2048) that goes back to a pool of at most 512 spare
// buffers on delivery, so while traffic is steady datagrams are copied
// without a heap allocation, and the pool never holds more than 1 MiB
// however much was once in flight (a bound proportional to the traffic
// in flight let the pool double a join wave's peak of datagram bytes).
//
// Lanes (net/sim_lanes.h): a network made over SimLanes puts host h in
// lane h % lanes, keeps each lane's datagrams in flight, spare buffers and
// counters apart, and delivers to a host in its lane. While the lanes run
// in windows, a lane's thread may send: a datagram for another lane waits
// in the sending lane's outbox until the window's end, when it is handed
// to its lane in (sending lane, sending order) order. The loss draw of a
// lane's s-th datagram hashes s * lanes + lane (with one lane, the
// sequence number as before). Crash, Leave, Detach, Reattach, SetGroup,
// Inject and new hosts are for the calling thread between runs, or from
// events of a merged run (SimLanes::RunWhile), never while in windows.
//
// Ownership: the clock (or lanes) must outlive the network, and the
// network its transports. Not thread-safe but as above; call from the
// clock's thread.
#ifndef KAD_NET_SIM_NETWORK_H_
#define KAD_NET_SIM_NETWORK_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "net/endpoint.h"
#include "net/link_model.h"
#include "net/sim_clock.h"
#include "net/sim_lanes.h"
#include "net/transport.h"

namespace kad::net {

class SimNetwork;

struct SimNetworkOptions {
  LinkModelOptions link;  // Round-trip times (the model has its own seed).
  double loss = 0.0;      // Probability of dropping each datagram.
  uint64_t seed = 1;      // Seeds the loss draws.
  uint16_t port = 4222;   // Port of every host.
};

struct SimNetworkStats {
  uint64_t datagrams_sent = 0;  // Send() calls from live hosts.
  uint64_t bytes_sent = 0;
  uint64_t datagrams_delivered = 0;  // Handed to a receive handler.
  uint64_t bytes_delivered = 0;
  uint64_t dropped_loss = 0;
  uint64_t dropped_partition = 0;
  uint64_t dropped_unknown_destination = 0;  // No host at that address.
  // Crashed, left, destroyed, detached, or no handler.
  uint64_t dropped_receiver_down = 0;
  uint64_t dropped_sender_down = 0;  // Sent by a crashed or departed host.
  uint64_t refused_detached = 0;     // Send() calls of detached hosts.
  uint64_t datagrams_injected = 0;   // Inject() calls.
  uint64_t crashes = 0;
  uint64_t leaves = 0;
  friend bool operator==(const SimNetworkStats&,
                         const SimNetworkStats&) = default;
};

class SimTransport final : public Transport {
 public:
  ~SimTransport() override;
  SimTransport(const SimTransport&) = delete;
  SimTransport& operator=(const SimTransport&) = delete;

  absl::Status Send(const Endpoint& to,
                    std::span<const uint8_t> datagram) override;
  void SetReceiveHandler(ReceiveHandler handler) override {
    handler_ = std::move(handler);
  }
  Endpoint local_endpoint() const override;

 private:
  friend class SimNetwork;
  SimTransport(SimNetwork& network, uint32_t host)
      : network_(network), host_(host) {}

  SimNetwork& network_;
  uint32_t host_;
  ReceiveHandler handler_;
};

class SimNetwork : private SimLanes::WindowListener {
 public:
  static constexpr size_t kMaxDatagramBytes = 65'507;  // As IPv4 UDP.
  static constexpr uint32_t kMaxHosts = (1u << 24) - 2;

  SimNetwork(SimClock& clock, SimNetworkOptions options);
  // Over several lanes; with SimLanes(1) the same as over its one clock.
  SimNetwork(SimLanes& lanes, SimNetworkOptions options);
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // Creates a live host at the next synthetic address. At most kMaxHosts
  // hosts per network (asserted).
  std::unique_ptr<SimTransport> NewTransport(Family family = Family::kIpv4);

  // Silences the host at `endpoint` for good; no-op for unknown endpoints.
  void Crash(const Endpoint& endpoint);
  void Leave(const Endpoint& endpoint);
  // Returns true if a live, undestroyed, attached host is at `endpoint`.
  bool IsUp(const Endpoint& endpoint) const;

  // Takes the live host at `endpoint` off the network until Reattach():
  // its Send() returns Unavailable and datagrams that reach it meanwhile
  // are dropped (those in flight still arrive if it is back in time).
  // No-op unless the host is up. Crash() and Leave() still apply.
  void Detach(const Endpoint& endpoint);
  // Puts a detached host back on the network; no-op unless detached.
  void Reattach(const Endpoint& endpoint);

  // Sends `datagram` to `to` as if `from` had sent it; `from` may be any
  // endpoint. The datagram is counted in datagrams_injected (not
  // datagrams_sent), is never lost or partitioned, and arrives after
  // LinkModel::OneWayDelay(from, to) unless `to` is no host or is down by
  // then. Fails only for a datagram over kMaxDatagramBytes
  // (InvalidArgument).
  absl::Status Inject(const Endpoint& from, const Endpoint& to,
                      std::span<const uint8_t> datagram);

  // Puts the host in partition `group`; hosts start in group 0. Datagrams
  // between different groups are dropped. No-op for unknown endpoints.
  void SetGroup(const Endpoint& endpoint, uint16_t group);
  // Puts every host back in group 0.
  void HealPartitions();

  void set_loss(double loss) { options_.loss = loss; }
  // The lanes' counters summed.
  SimNetworkStats stats() const;
  size_t hosts() const { return hosts_.size(); }
  size_t in_flight() const;
  const LinkModel& link_model() const { return link_; }
  // Lane 0's clock (the only one without lanes).
  SimClock& clock() { return *lanes_[0]->clock; }
  // The clock of `transport`'s lane: the one its node must use.
  SimClock& clock_of(const SimTransport& transport) {
    return *LaneOf(transport.host_).clock;
  }

 private:
  friend class SimTransport;
  enum class HostState : uint8_t {
    kUp,
    kDetached,
    kCrashed,
    kLeft,
    kDestroyed
  };
  struct Host {
    SimTransport* transport = nullptr;
    uint16_t group = 0;
    HostState state = HostState::kUp;
    Family family = Family::kIpv4;
  };
  // Spare datagram buffers by size class.
  class BufferPool {
   public:
    // Returns a buffer of at least `size` bytes.
    std::unique_ptr<uint8_t[]> Take(size_t size);
    // Returns a buffer (from Take) holding a copy of `bytes`.
    std::unique_ptr<uint8_t[]> Copy(std::span<const uint8_t> bytes);
    // Takes back a buffer that held `size` bytes: keeps it for Take()
    // unless kMaxSpareBuffers are spare already.
    void Give(std::unique_ptr<uint8_t[]> buffer, size_t size);

   private:
    static constexpr size_t kMaxSpareBuffers = 512;
    static constexpr size_t kClassBytes = 64;  // Class c: (c + 1) * 64.
    static constexpr size_t kClasses = 32;     // Up to 2048 bytes.
    static size_t ClassOf(size_t size);        // kClasses if larger.
    std::array<std::vector<std::unique_ptr<uint8_t[]>>, kClasses> spare_;
    size_t spare_count_ = 0;
  };
  struct InFlight {
    std::unique_ptr<uint8_t[]> bytes;  // Null while the slot is free.
    uint32_t size = 0;
    uint32_t from = 0;  // A host, or kForeignSource (see injected_from).
    uint32_t to = 0;
    uint32_t next_free = 0;
  };
  // A datagram for another lane, sent while the lanes run in windows.
  struct Crossing {
    absl::Time due;
    std::unique_ptr<uint8_t[]> bytes;
    uint32_t size;
    uint32_t from;
    uint32_t to;
  };
  // A lane's share of the network: what only its own thread touches.
  struct Lane final : SimClock::EventSink {
    Lane(SimNetwork& network, SimClock& clock, uint32_t index, size_t lanes);
    void OnEvent(uint32_t token) override { network.OnEvent(*this, token); }

    SimNetwork& network;
    SimClock* clock;
    const uint32_t index;
    SimClock::SinkId sink;
    SimNetworkStats stats;
    std::vector<InFlight> in_flight;  // Slab; free slots chained.
    uint32_t free_head;
    size_t in_flight_count = 0;
    BufferPool buffers;
    // Source endpoints of injected datagrams in flight, by slot.
    std::map<uint32_t, Endpoint> injected_from;
    std::vector<std::vector<Crossing>> outbox;  // By destination lane.
  };

  Lane& LaneOf(uint32_t host) {
    return *lanes_[lanes_.size() == 1 ? 0 : host % lanes_.size()];
  }
  Endpoint EndpointOf(uint32_t host) const;
  std::optional<uint32_t> HostAt(const Endpoint& endpoint) const;
  static absl::Status TooBig(size_t bytes);  // InvalidArgument.
  absl::Status Send(uint32_t from, const Endpoint& to,
                    std::span<const uint8_t> datagram);
  // Returns true if this datagram is lost (the `sequence`-th one sent in
  // lane `lane`).
  bool Lost(uint64_t sequence, uint32_t lane) const;
  // Takes a free slot of `lane` for a datagram with these bytes.
  uint32_t Park(Lane& lane, uint32_t from, uint32_t to,
                std::unique_ptr<uint8_t[]> bytes, uint32_t size);
  // Puts a delivered datagram's slot back on the free list.
  void Release(Lane& lane, uint32_t slot);
  void Enqueue(Lane& sender, uint32_t from, uint32_t to,
               std::span<const uint8_t> datagram);
  void OnEvent(Lane& lane, uint32_t token);
  // SimLanes::WindowListener: hands the outboxes to their lanes.
  void AtWindowEnd() override;
  void OnDestroyed(uint32_t host);
  void SetState(const Endpoint& endpoint, HostState state);

  SimLanes* sim_lanes_;  // Null over a single clock.
  SimNetworkOptions options_;
  LinkModel link_;
  std::vector<Host> hosts_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  uint64_t crashes_ = 0;
  uint64_t leaves_ = 0;
};

}  // namespace kad::net

#endif  // KAD_NET_SIM_NETWORK_H_
