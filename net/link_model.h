// LinkModel: the round-trip time between two simulated endpoints.
//
// The RTT of a pair is a pure function of the two endpoints (in either
// order: it is symmetric) and the seed, computed from XXH3 hashes on every
// call, so it costs no per-pair memory and a seed reproduces it exactly.
// The simulator delays each datagram by half the pair's RTT; every datagram
// of a pair sees the same delay (no jitter), so a pair's datagrams arrive
// in the order sent.
//
// Distributions:
//  - kConstant: every pair has `constant_rtt`.
//  - kUniform: uniform in [uniform_min, uniform_max], to the nanosecond.
//  - kLogNormal, the internet-like default. Across pairs, RTT is
//    log-normal with median `median_rtt` and log-space standard deviation
//    `sigma`:
//        ln RTT(a,b) = ln median + s_pair * Z(a,b) + s_node * (Z(a) + Z(b))
//    with independent standard normals Z drawn from hashes of the pair and
//    of each endpoint, s_pair = sigma * sqrt(1 - node_share) and
//    s_node = sigma * sqrt(node_share / 2). The per-endpoint terms model
//    access links (a host on a slow link is slow to everyone), so RTTs are
//    correlated the way real ones are and RTT estimators keyed by peer see
//    consistent peers; the sum stays exactly log-normal with the configured
//    median and sigma, which keeps the model easy to state and to check.
//    Values are clamped to [min_rtt, max_rtt] and rounded to microseconds.
//    Defaults: median 80 ms, sigma 0.6 (p10 37 ms, p90 173 ms, p99 323 ms),
//    node_share 0.5. These are chosen, not fitted: all-pairs measurements
//    between Internet hosts (the King data set of DNS servers, Gummadi,
//    Saroiu and Gribble, "King: estimating latency between arbitrary
//    Internet end hosts", IMW 2002, used to evaluate Vivaldi and DHTs; and
//    PlanetLab all-pairs pings) show medians of roughly 50-100 ms and a
//    right tail reaching several hundred ms, which a log-normal with
//    sigma around 0.5-0.7 reproduces. The model has no geography, so it
//    does not obey the triangle inequality in general.
//
// Thread-safe: immutable after construction.
#ifndef KAD_NET_LINK_MODEL_H_
#define KAD_NET_LINK_MODEL_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/endpoint.h"

namespace kad::net {

enum class RttDistribution : uint8_t { kConstant, kUniform, kLogNormal };

struct LinkModelOptions {
  RttDistribution distribution = RttDistribution::kLogNormal;
  absl::Duration constant_rtt = absl::Milliseconds(80);  // kConstant
  absl::Duration uniform_min = absl::Milliseconds(20);   // kUniform
  absl::Duration uniform_max = absl::Milliseconds(200);  // kUniform
  absl::Duration median_rtt = absl::Milliseconds(80);    // kLogNormal
  double sigma = 0.6;       // kLogNormal: standard deviation of ln RTT.
  double node_share = 0.5;  // kLogNormal: share of ln-variance per endpoint.
  absl::Duration min_rtt = absl::Milliseconds(1);  // kLogNormal clamp.
  absl::Duration max_rtt = absl::Seconds(5);       // kLogNormal clamp.
  uint64_t seed = 1;  // Picks which pairs are fast and which are slow.
};

// Returns InvalidArgument naming the field if `options` is inconsistent
// (negative durations, uniform_min > uniform_max, sigma < 0, node_share
// outside [0, 1], min_rtt > median_rtt or median_rtt > max_rtt).
absl::Status ValidateLinkModel(const LinkModelOptions& options);

// Parses a command-line model: "constant:50ms", "uniform:20ms:200ms",
// "lognormal" (defaults), "lognormal:80ms" or "lognormal:80ms:0.6"
// (median, sigma). Durations use absl::ParseDuration syntax. The seed and
// the fields the text does not name keep their defaults. Returns
// InvalidArgument naming the text on failure.
absl::StatusOr<LinkModelOptions> ParseLinkModel(std::string_view text);

class LinkModel {
 public:
  // `options` must pass ValidateLinkModel (asserted).
  explicit LinkModel(LinkModelOptions options);

  // Returns the pair's round-trip time; Rtt(a, b) == Rtt(b, a).
  absl::Duration Rtt(const Endpoint& a, const Endpoint& b) const;
  // Returns the delay of one datagram between them: half the RTT.
  absl::Duration OneWayDelay(const Endpoint& a, const Endpoint& b) const {
    return Rtt(a, b) / 2;
  }
  // The least OneWayDelay of any pair: the lookahead of a parallel
  // simulation (net/sim_lanes.h).
  absl::Duration MinOneWayDelay() const;
  const LinkModelOptions& options() const { return options_; }

 private:
  absl::Duration LogNormalRtt(const Endpoint& a, const Endpoint& b) const;

  LinkModelOptions options_;
  double log_median_;  // ln of median_rtt in milliseconds.
  double pair_sigma_;
  double node_sigma_;
};

}  // namespace kad::net

#endif  // KAD_NET_LINK_MODEL_H_
