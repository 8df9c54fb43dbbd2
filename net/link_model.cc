#include "net/link_model.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kad::net {
namespace {

constexpr size_t kEndpointKeyBytes = 19;  // Family, 16 address bytes, port.
constexpr uint64_t kNodeSalt = 0x6e6f64652d72747;  // "node-rtt"

using EndpointKey = std::array<uint8_t, kEndpointKeyBytes>;

EndpointKey KeyOf(const Endpoint& e) {
  EndpointKey key{};
  key[0] = static_cast<uint8_t>(e.family());
  std::copy(e.address().begin(), e.address().end(), key.begin() + 1);
  key[17] = static_cast<uint8_t>(e.port() >> 8);
  key[18] = static_cast<uint8_t>(e.port());
  return key;
}

// Hashes the unordered pair {a, b}.
uint64_t PairHash(const Endpoint& a, const Endpoint& b, uint64_t seed) {
  const bool ordered = a < b;
  std::array<uint8_t, 2 * kEndpointKeyBytes> bytes;
  const EndpointKey lo = KeyOf(ordered ? a : b);
  const EndpointKey hi = KeyOf(ordered ? b : a);
  std::copy(lo.begin(), lo.end(), bytes.begin());
  std::copy(hi.begin(), hi.end(), bytes.begin() + kEndpointKeyBytes);
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

uint64_t NodeHash(const Endpoint& e, uint64_t seed) {
  const EndpointKey key = KeyOf(e);
  return XXH3_64bits_withSeed(key.data(), key.size(), seed ^ kNodeSalt);
}

// Maps a hash to a standard normal variate (Box-Muller on its two halves).
double StandardNormal(uint64_t hash) {
  const double u1 = (static_cast<double>(hash >> 32) + 0.5) / 4294967296.0;
  const double u2 =
      (static_cast<double>(hash & 0xffffffffu) + 0.5) / 4294967296.0;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad link model: ", std::string(what)));
}

absl::StatusOr<absl::Duration> ParseDurationField(std::string_view text) {
  absl::Duration d;
  if (!absl::ParseDuration(std::string(text), &d)) {
    return Invalid(absl::StrCat("'", std::string(text), "' is not a duration"));
  }
  return d;
}

}  // namespace

absl::Status ValidateLinkModel(const LinkModelOptions& o) {
  const absl::Duration zero = absl::ZeroDuration();
  if (o.constant_rtt < zero) return Invalid("constant_rtt is negative");
  if (o.uniform_min < zero) return Invalid("uniform_min is negative");
  if (o.uniform_min > o.uniform_max) {
    return Invalid("uniform_min exceeds uniform_max");
  }
  if (!(o.sigma >= 0)) return Invalid("sigma must be at least 0");
  if (!(o.node_share >= 0 && o.node_share <= 1)) {
    return Invalid("node_share must be within [0, 1]");
  }
  if (o.min_rtt <= zero) return Invalid("min_rtt must be positive");
  if (o.min_rtt > o.median_rtt || o.median_rtt > o.max_rtt) {
    return Invalid("need min_rtt <= median_rtt <= max_rtt");
  }
  return absl::OkStatus();
}

absl::StatusOr<LinkModelOptions> ParseLinkModel(std::string_view text) {
  const std::vector<std::string> parts = absl::StrSplit(std::string(text), ':');
  LinkModelOptions options;
  const std::string& kind = parts[0];
  absl::StatusOr<absl::Duration> first = absl::ZeroDuration();
  if (parts.size() > 1) first = ParseDurationField(parts[1]);
  if (!first.ok()) return first.status();
  if (kind == "constant" && parts.size() == 2) {
    options.distribution = RttDistribution::kConstant;
    options.constant_rtt = *first;
  } else if (kind == "uniform" && parts.size() == 3) {
    auto second = ParseDurationField(parts[2]);
    if (!second.ok()) return second.status();
    options.distribution = RttDistribution::kUniform;
    options.uniform_min = *first;
    options.uniform_max = *second;
  } else if (kind == "lognormal" && parts.size() <= 3) {
    if (parts.size() > 1) options.median_rtt = *first;
    if (parts.size() > 2 && !absl::SimpleAtod(parts[2], &options.sigma)) {
      return Invalid(absl::StrCat("'", parts[2], "' is not a number"));
    }
  } else {
    return Invalid(absl::StrCat("'", std::string(text),
                                "' (want constant:RTT, uniform:MIN:MAX or "
                                "lognormal[:MEDIAN[:SIGMA]])"));
  }
  if (absl::Status valid = ValidateLinkModel(options); !valid.ok()) {
    return valid;
  }
  return options;
}

LinkModel::LinkModel(LinkModelOptions options)
    : options_(options),
      log_median_(std::log(absl::ToDoubleMilliseconds(options.median_rtt))),
      pair_sigma_(options.sigma * std::sqrt(1 - options.node_share)),
      node_sigma_(options.sigma * std::sqrt(options.node_share / 2)) {
  assert(ValidateLinkModel(options_).ok());
}

absl::Duration LinkModel::Rtt(const Endpoint& a, const Endpoint& b) const {
  switch (options_.distribution) {
    case RttDistribution::kConstant:
      return options_.constant_rtt;
    case RttDistribution::kUniform: {
      const uint64_t lo = absl::ToInt64Nanoseconds(options_.uniform_min);
      const uint64_t span =
          absl::ToInt64Nanoseconds(options_.uniform_max) - lo + 1;
      const uint64_t h = PairHash(a, b, options_.seed);
      const uint64_t offset = static_cast<uint64_t>(
          (static_cast<unsigned __int128>(h) * span) >> 64);
      return absl::Nanoseconds(lo + offset);
    }
    case RttDistribution::kLogNormal:
      return LogNormalRtt(a, b);
  }
  return options_.constant_rtt;
}

absl::Duration LinkModel::MinOneWayDelay() const {
  switch (options_.distribution) {
    case RttDistribution::kConstant:
      return options_.constant_rtt / 2;
    case RttDistribution::kUniform:
      return options_.uniform_min / 2;
    case RttDistribution::kLogNormal:
      return options_.min_rtt / 2;  // LogNormalRtt clamps to min_rtt.
  }
  return absl::ZeroDuration();
}

absl::Duration LinkModel::LogNormalRtt(const Endpoint& a,
                                       const Endpoint& b) const {
  const uint64_t seed = options_.seed;
  const double z_pair = StandardNormal(PairHash(a, b, seed));
  const double z_nodes =
      StandardNormal(NodeHash(a, seed)) + StandardNormal(NodeHash(b, seed));
  const double ms = std::clamp(
      std::exp(log_median_ + pair_sigma_ * z_pair + node_sigma_ * z_nodes),
      absl::ToDoubleMilliseconds(options_.min_rtt),
      absl::ToDoubleMilliseconds(options_.max_rtt));
  return std::clamp(absl::Microseconds(std::llround(ms * 1000)),
                    options_.min_rtt, options_.max_rtt);
}

}  // namespace kad::net
