// FloodingOverlay: the baseline of `kad bench lookup --baseline flooding` —
// a Gnutella-style flooding search over an unstructured random overlay, on
// the same simulator (SimClock, SimNetwork, LinkModel, loss) as the
// Kademlia overlay, so messages and latency compare directly.
//
// The overlay
// -----------
// Peer i is simulated host i. Links are undirected; `degree` is the
// average number of neighbours per peer: Build(n) draws n*degree/2 links,
// peer (link number mod n) opening each one to a uniformly random other
// peer, then drops self-links and merges duplicates. So every peer has at
// least floor(degree/2) neighbours and on average just under `degree`
// (a duplicate is drawn with probability about degree/n per link).
// Neighbour lists are one flat array, each peer's slice sorted by index.
//
// The search (as Gnutella 0.4's Query / QueryHit)
// ----------------------------------------------
// The origin sends the query to all its neighbours with hops_left =
// hop_limit and hops = 0. A peer receiving a query it has not seen
// remembers the neighbour it came from (its upstream); then
//  - if it holds the item, it answers its upstream and forwards no further;
//  - otherwise, if hops_left - 1 > 0, it forwards the query to every
//    neighbour but its upstream, with hops_left - 1 and hops + 1.
// A query a peer has already seen is dropped (duplicate suppression): each
// peer forwards a query at most once. An answer travels back hop by hop
// along the upstream links; every answer is relayed, not only the first.
// Nothing is retransmitted: a lost query or answer is simply lost.
//
// What Search() reports (a LookupSample):
//   success   an answer reached the origin.
//   hops      the path length (in overlay links) of the first answer to
//             arrive. Its latency spans that many links out and back, so
//             it compares with Kademlia's hops counted as round trips.
//             That path is the fastest, not always the shortest: with
//             uneven delays it is often a few links longer.
//   messages  every datagram the search caused — queries, including those
//             that arrive as duplicates or are lost, and answers at every
//             relay — counted until the flood has died out, not only
//             until the first answer.
//   bytes     their payload bytes.
//   latency   virtual time from the origin's first send to the arrival of
//             the first answer at the origin.
// An origin that itself holds the item succeeds at once: 0 hops, 0
// messages, zero latency.
//
// Wire format (fixed layout, integers big-endian):
//   query  (31 bytes): type=1 u8, query id u64, hops_left u8, hops u8,
//                      key 20 bytes (the item sought)
//   answer (10 bytes): type=2 u8, query id u64, hops u8 (the holder's
//                      distance from the origin)
// Any other length or type is malformed: dropped and counted. The key's
// bytes are drawn per search; which peers hold the item is the caller's
// choice (`holders`), so the key only makes a query as large as a real one.
//
// Where this is generous to flooding (so it is no strawman): holders do
// not forward; answers carry no value or address; no connection upkeep
// (Gnutella's ping/pong) is counted; the default hop limit is just large
// enough to reach almost every peer, not Gnutella's fixed 7.
//
// Memory: per peer a SimTransport (~80 bytes with the network's share),
// `degree` neighbour indices (4 bytes each, flat) and a 24-byte search
// state (the ids of the last query seen and of the query it can answer:
// generation stamps, so nothing is cleared between searches); per search
// nothing beyond the datagrams in flight. Measured peak: 476 MB for
// 1,000,000 peers, mostly a flood's datagrams in flight.
//
// Determinism: the graph, the keys and (derived as SimOverlay derives
// them) the loss and link-model seeds come from `seed`; with SimOverlay's
// seed, peer i has the address, and so the RTTs, of the Kademlia overlay's
// node i. One seed reproduces every sample.
//
// Not thread-safe.
#ifndef KAD_BENCH_FLOODING_H_
#define KAD_BENCH_FLOODING_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "bench/lookup_sample.h"
#include "net/endpoint.h"
#include "net/sim_clock.h"
#include "net/sim_network.h"

namespace kad::bench {

struct FloodingOptions {
  uint64_t seed = 1;  // Seeds the graph, the keys and the network.
  int degree = 8;     // Average neighbours per peer (links are undirected).
  int hop_limit = 0;  // Queries' initial hops_left; 0: DefaultHopLimit(n).
  // The loss and link fields are used as given; the seeds are derived
  // from `seed`, as SimOverlay does.
  net::SimNetworkOptions network;
};

// What the last Search() did beyond its LookupSample.
struct FloodStats {
  uint64_t queries = 0;     // Query datagrams sent, duplicates included.
  uint64_t duplicates = 0;  // Queries that reached a peer that had seen it.
  uint64_t answers = 0;     // Answer datagrams sent, relays included.
  uint64_t answers_received = 0;  // Answers that reached the origin.
  uint64_t reached = 0;    // Peers but the origin that received the query.
  uint64_t forwarded = 0;  // Peers that forwarded it (each at most once).
  uint64_t malformed = 0;  // Datagrams dropped as undecodable.
};

class FloodingOverlay {
 public:
  static constexpr int kMaxHopLimit = 255;  // hops_left is one byte.

  explicit FloodingOverlay(FloodingOptions options);
  FloodingOverlay(const FloodingOverlay&) = delete;
  FloodingOverlay& operator=(const FloodingOverlay&) = delete;

  // Returns the smallest h with (degree - 1)^h >= n, plus three, at most
  // kMaxHopLimit: enough for a flood to reach almost every peer even
  // though each peer forwards only the first copy it gets, which with
  // uneven delays often came the long way round (the margin is measured;
  // see flooding.cc).
  static int DefaultHopLimit(size_t n, int degree);

  // Creates n peers and links them at random. Call once.
  void Build(size_t n);
  size_t size() const { return transports_.size(); }

  // Floods a search from peer `origin` for an item held by the peers in
  // `holders`, runs the simulated clock until the flood has died out,
  // and returns what it cost (success = an answer reached origin).
  LookupSample Search(size_t origin, std::span<const size_t> holders);

  // The hop limit searches use (after Build).
  int hop_limit() const { return hop_limit_; }
  // Returns the neighbours of `peer`, ascending.
  std::span<const uint32_t> neighbours(size_t peer) const;
  const FloodStats& last_flood() const { return flood_; }
  net::SimClock& clock() { return clock_; }
  net::SimNetwork& network() { return network_; }

 private:
  static constexpr uint32_t kNoPeer = UINT32_MAX;
  struct PeerState {
    uint64_t query = 0;           // Id of the last query seen (0: none).
    uint64_t holds = 0;           // Id of the query it can answer (0: none).
    uint32_t upstream = kNoPeer;  // Where `query` came from; kNoPeer: we asked.
  };
  struct Query;
  struct Answer;

  void Link();
  void OnDatagram(uint32_t peer, const net::Endpoint& from,
                  std::span<const uint8_t> datagram);
  void OnQuery(uint32_t peer, uint32_t from, const Query& query);
  void OnAnswer(uint32_t peer, const Answer& answer);
  // Sends `query` from peer `from` to each of its neighbours but `except`.
  void SendQueries(uint32_t from, uint32_t except, const Query& query);
  void SendAnswer(uint32_t from, uint32_t to, const Answer& answer);
  void Send(uint32_t from, uint32_t to, std::span<const uint8_t> datagram);
  bool Holds(uint32_t peer, uint64_t query) const;
  // Map peers to their simulated addresses and back (host i is peer i).
  net::Endpoint EndpointOf(uint32_t peer) const;
  uint32_t PeerAt(const net::Endpoint& endpoint) const;

  FloodingOptions options_;
  std::mt19937_64 gen_;
  net::SimClock clock_;
  net::SimNetwork network_;
  int hop_limit_ = 0;
  std::vector<uint32_t> first_neighbour_;  // n + 1 offsets into neighbours_.
  std::vector<uint32_t> neighbours_;
  std::vector<PeerState> peers_;
  uint64_t query_id_ = 0;  // Of the current search; counts searches.
  // The current search, as seen by its origin.
  absl::Time started_;
  bool answered_ = false;
  LookupSample first_answer_;
  FloodStats flood_;
  // Last: transports go before the network.
  std::vector<std::unique_ptr<net::SimTransport>> transports_;
};

}  // namespace kad::bench

#endif  // KAD_BENCH_FLOODING_H_
