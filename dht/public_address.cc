#include "dht/public_address.h"

#include <algorithm>
#include <cassert>

namespace kad::dht {

PublicAddress::PublicAddress(PublicAddressOptions options,
                             IdBindingOptions binding)
    : options_(options), binding_(binding) {
  assert(options_.min_votes >= 1 && options_.max_votes >= options_.min_votes);
}

void PublicAddress::Report(const net::Endpoint& reporter,
                           const net::Endpoint& observed) {
  if (!Verifiable(observed, binding_)) return;
  const net::Subnet voter = net::Subnet::Of(
      reporter, reporter.family() == net::Family::kIpv4
                    ? net::kSybilPrefixIpv4
                    : net::kSybilPrefixIpv6);
  const Vote vote{voter, observed.WithPort(0), next_order_++};
  auto same = std::find_if(votes_.begin(), votes_.end(),
                           [&](const Vote& v) { return v.voter == voter; });
  if (same != votes_.end()) {
    *same = vote;
    return;
  }
  if (votes_.size() < static_cast<size_t>(options_.max_votes)) {
    votes_.push_back(vote);
    return;
  }
  *std::min_element(votes_.begin(), votes_.end(),
                    [](const Vote& a, const Vote& b) {
                      return a.order < b.order;
                    }) = vote;
}

std::optional<net::Endpoint> PublicAddress::Decided() const {
  // Few votes: count each candidate by a scan rather than build a map.
  const net::Endpoint* best = nullptr;
  int best_count = 0;
  for (const Vote& candidate : votes_) {
    const int count = static_cast<int>(
        std::count_if(votes_.begin(), votes_.end(), [&](const Vote& v) {
          return v.observed == candidate.observed;
        }));
    if (count > best_count ||
        (count == best_count && candidate.observed < *best)) {
      best = &candidate.observed;
      best_count = count;
    }
  }
  if (best == nullptr || best_count < options_.min_votes ||
      2 * static_cast<size_t>(best_count) <= votes_.size()) {
    return std::nullopt;
  }
  return *best;
}

}  // namespace kad::dht
