#include "bench/adversary.h"

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dht/message.h"
#include "dht/wire_codec.h"

namespace kad::bench {
namespace {

// The token adversaries hand out; any store is "accepted" anyway.
constexpr char kToken[] = "sybil";

// SplitMix64's finalizer: a well-mixed 64-bit hash of `x`.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

// A Sybil's id next to `target`: sharing its first 32 to 63 bits, closer
// than any honest node of an overlay below billions of nodes.
dht::NodeId NextTo(const dht::NodeId& target, uint64_t draw) {
  std::mt19937_64 gen(draw);
  return dht::NodeId::RandomWithPrefix(target, 32 + static_cast<int>(draw % 32),
                                       gen);
}

}  // namespace

dht::NodeId ClosestBoundId(const dht::NodeId& target,
                           const net::Endpoint& address,
                           const dht::IdBindingOptions& binding) {
  dht::NodeId best;
  for (uint8_t r = 0; r < (1 << dht::kRandomBits); ++r) {
    const dht::NodeId candidate = dht::BindTo(target, address, r, binding);
    if (r == 0 || dht::CloserTo{target}(candidate, best)) best = candidate;
  }
  return best;
}

const char* AttackModeName(AttackMode mode) {
  switch (mode) {
    case AttackMode::kNone:
      return "none";
    case AttackMode::kDrop:
      return "drop";
    case AttackMode::kEclipse:
      return "eclipse";
  }
  return "none";
}

absl::StatusOr<AttackMode> ParseAttackMode(std::string_view text) {
  for (AttackMode mode :
       {AttackMode::kNone, AttackMode::kDrop, AttackMode::kEclipse}) {
    if (text == AttackModeName(mode)) return mode;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown attack '", std::string(text), "' (none, drop or eclipse)"));
}

Adversaries::Adversaries(AdversaryOptions options, uint64_t seed,
                         net::Clock& clock,
                         std::vector<dht::NodeId> eclipse_targets)
    : options_(options),
      seed_(seed),
      clock_(clock),
      eclipse_targets_(std::move(eclipse_targets)) {}

bool Adversaries::IsAdversary(size_t index) const {
  if (index == 0 || index < options_.honest_first ||
      options_.attack == AttackMode::kNone) {
    return false;
  }
  const uint64_t draw = Mix(seed_ ^ Mix(0x616476 + index));  // "adv"
  // The top 53 bits as a uniform double in [0, 1).
  return static_cast<double>(draw >> 11) * 0x1.0p-53 < options_.fraction;
}

size_t Adversaries::eclipsed_targets() const {
  if (options_.attack != AttackMode::kEclipse) return 0;
  const auto per_key = static_cast<size_t>(options_.sybils_per_key);
  return std::min(eclipse_targets_.size(), (planned_ + per_key - 1) / per_key);
}

net::Family Adversaries::FamilyOf(size_t index) {
  const bool shared = options_.attack == AttackMode::kEclipse &&
                      options_.shared_prefix && IsAdversary(index);
  return shared ? net::Family::kIpv6 : net::Family::kIpv4;
}

MemberHook::Plan Adversaries::PlanMember(size_t index,
                                         net::SimTransport& transport) {
  Plan plan;
  if (!IsAdversary(index)) return plan;
  const size_t sybil = planned_++;
  if (options_.attack == AttackMode::kEclipse) {
    const size_t target = sybil / static_cast<size_t>(options_.sybils_per_key);
    if (target < eclipse_targets_.size()) {
      plan.id = NextTo(eclipse_targets_[target], Mix(seed_ ^ Mix(index)));
      if (options_.binding) {
        plan.id = ClosestBoundId(*plan.id, transport.local_endpoint(),
                                 *options_.binding);
      }
    }
  }
  plan.wrapper = std::make_unique<HostileTransport>(transport, *this);
  return plan;
}

void Adversaries::Made(size_t index, SimMember& member) {
  if (!IsAdversary(index)) return;
  static_cast<HostileTransport&>(*member.wrapper).set_id(member.node->id());
  index_.Add(member.node->id(), contacts_.size());
  contacts_.push_back({member.node->id(), member.node->endpoint()});
}

std::vector<dht::Contact> Adversaries::Closest(const dht::NodeId& target,
                                               size_t count) const {
  std::vector<dht::Contact> closest;
  for (size_t i : index_.Closest(target, count)) {
    closest.push_back(contacts_[i]);
  }
  return closest;
}

HostileTransport::HostileTransport(net::Transport& inner, Adversaries& crew)
    : inner_(inner), crew_(crew) {}

void HostileTransport::SetReceiveHandler(ReceiveHandler handler) {
  node_handler_ = std::move(handler);
  inner_.SetReceiveHandler(
      [this](const net::Endpoint& from, std::span<const uint8_t> bytes) {
        OnDatagram(from, bytes);
      });
}

void HostileTransport::OnDatagram(const net::Endpoint& from,
                                  std::span<const uint8_t> bytes) {
  const absl::Time now = crew_.clock().Now();
  absl::StatusOr<dht::Message> request = dht::DecodeMessage(bytes, now);
  if (!crew_.active() || !request.ok() || !request->is_request()) {
    if (node_handler_) node_handler_(from, bytes);
    return;
  }
  const auto k = static_cast<size_t>(crew_.options().bucket_size);
  dht::Body reply;
  if (const auto* find = std::get_if<dht::FindNode>(&request->body)) {
    reply = dht::Nodes{crew_.Closest(find->target, k), kToken};
    crew_.CountFindAnswered();
  } else if (const auto* find = std::get_if<dht::FindValue>(&request->body)) {
    dht::Value value;
    value.closest = crew_.Closest(dht::NodeId::ForKey(find->key), k);
    value.token = kToken;
    reply = std::move(value);
    crew_.CountFindAnswered();
  } else if (std::holds_alternative<dht::Store>(request->body)) {
    reply = dht::Stored{};
    crew_.CountStoreDropped();
  } else {
    if (node_handler_) node_handler_(from, bytes);
    return;
  }
  absl::StatusOr<std::vector<uint8_t>> encoded = dht::EncodeMessage(
      dht::Message{request->transaction_id, id_, std::move(reply)}, now);
  if (encoded.ok()) inner_.Send(from, *encoded).IgnoreError();
}

}  // namespace kad::bench
