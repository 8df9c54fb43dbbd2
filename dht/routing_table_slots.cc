// RoutingTable's slot encoding: how a Contact becomes a 32-byte Slot and
// back, last-seen times in seconds, the per-table pool of IPv6 addresses,
// and the endpoint bits of Bucket::endpoints (dht/routing_table.h,
// "Memory"). The table's rules are in routing_table.cc.
#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "dht/routing_table.h"

namespace kad::dht {

size_t RoutingTable::Ipv6PoolLimit(size_t used) { return 2 * used + 16; }

uint32_t RoutingTable::SecondsOf(absl::Time time) const {
  if (time <= epoch_) return 0;
  return static_cast<uint32_t>(
      std::min<int64_t>(absl::ToInt64Seconds(time - epoch_),
                        std::numeric_limits<uint32_t>::max()));
}

int64_t RoutingTable::NanosecondsOf(absl::Time time) const {
  return absl::ToInt64Nanoseconds(time - epoch_);
}

RoutingEntry RoutingTable::EntryOf(const Slot& slot) const {
  return {ContactOf(slot), epoch_ + absl::Seconds(slot.seen), slot.failures};
}

RoutingTable::Slot RoutingTable::MakeSlot(const Contact& contact,
                                          uint32_t seen) {
  Slot slot{.id = contact.id, .seen = seen, .port = contact.endpoint.port()};
  slot.verified = Verified(contact);
  std::span<const uint8_t> address = contact.endpoint.address();
  if (contact.endpoint.family() == net::Family::kIpv6) {
    slot.ipv6 = true;
    slot.address = InternIpv6(address);
  } else {
    std::memcpy(&slot.address, address.data(), sizeof slot.address);
  }
  return slot;
}

uint32_t RoutingTable::InternIpv6(std::span<const uint8_t> address) {
  if (ipv6_pool_.size() >= ipv6_pool_limit_) CompactIpv6Pool();
  std::array<uint8_t, net::Endpoint::kIpv6Bytes>& stored =
      ipv6_pool_.emplace_back();
  std::copy(address.begin(), address.end(), stored.begin());
  return static_cast<uint32_t>(ipv6_pool_.size() - 1);
}

void RoutingTable::CompactIpv6Pool() {
  auto for_each_ipv6_slot = [&](auto visit) {
    for (Bucket& bucket : buckets_) {
      for (std::vector<Slot>* slots : {&bucket.live, &bucket.replacements}) {
        for (Slot& slot : *slots) {
          if (slot.ipv6) visit(slot);
        }
      }
    }
  };
  size_t used = 0;
  for_each_ipv6_slot([&](Slot&) { ++used; });
  ipv6_pool_limit_ = Ipv6PoolLimit(used);
  // Sized for everything added until the next compaction, so the pool
  // never holds more than ipv6_pool_limit_ addresses' worth of memory.
  std::vector<std::array<uint8_t, net::Endpoint::kIpv6Bytes>> kept;
  kept.reserve(ipv6_pool_limit_);
  for_each_ipv6_slot([&](Slot& slot) {
    kept.push_back(ipv6_pool_[slot.address]);
    slot.address = static_cast<uint32_t>(kept.size() - 1);
  });
  ipv6_pool_ = std::move(kept);
}

std::span<const uint8_t> RoutingTable::AddressOf(const Slot& slot) const {
  if (slot.ipv6) return ipv6_pool_[slot.address];
  return {reinterpret_cast<const uint8_t*>(&slot.address),
          net::Endpoint::kIpv4Bytes};
}

uint64_t RoutingTable::EndpointBit(std::span<const uint8_t> address,
                                   uint16_t port) {
  uint64_t h = port;
  for (size_t i = 0; i + 4 <= address.size(); i += 4) {
    uint32_t word;
    std::memcpy(&word, address.data() + i, sizeof word);
    h = (h ^ word) * 0x9e3779b97f4a7c15;
  }
  return uint64_t{1} << (h >> 58);
}

uint64_t RoutingTable::EndpointBitOf(const Slot& slot) const {
  return EndpointBit(AddressOf(slot), slot.port);
}

void RoutingTable::RebuildEndpoints(Bucket& bucket) const {
  bucket.endpoints = 0;
  for (const Slot& slot : bucket.live) bucket.endpoints |= EndpointBitOf(slot);
}

net::Endpoint RoutingTable::EndpointOf(const Slot& slot) const {
  if (slot.ipv6) {
    return net::Endpoint::Ipv6(ipv6_pool_[slot.address], slot.port);
  }
  std::array<uint8_t, net::Endpoint::kIpv4Bytes> address;
  std::memcpy(address.data(), &slot.address, address.size());
  return net::Endpoint::Ipv4(address, slot.port);
}

Contact RoutingTable::ContactOf(const Slot& slot) const {
  return {slot.id, EndpointOf(slot)};
}

bool RoutingTable::HasEndpoint(const Slot& slot,
                               const net::Endpoint& endpoint) const {
  if (slot.port != endpoint.port() ||
      slot.ipv6 != (endpoint.family() == net::Family::kIpv6)) {
    return false;
  }
  if (slot.ipv6) {
    return std::ranges::equal(ipv6_pool_[slot.address], endpoint.address());
  }
  // One 32-bit comparison: EndpointTaken runs this over every entry.
  return std::memcmp(&slot.address, endpoint.address().data(),
                     sizeof slot.address) == 0;
}

}  // namespace kad::dht
