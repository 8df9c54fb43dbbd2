#include "dht/requester.h"

#include <utility>
#include <vector>

namespace kad::dht {

void Requester::Send(const net::Endpoint& to, std::optional<NodeId> expected,
                     Body body, RpcHandlers handlers) {
  handlers.on_done = [this, to, expected, done = std::move(handlers.on_done)](
                         absl::StatusOr<Message> outcome) mutable {
    Screen(to, outcome);
    NoteOutcome(to, expected, outcome);
    if (done) done(std::move(outcome));
  };
  rpc_.Send(to, expected, std::move(body), std::move(handlers));
}

void Requester::Screen(const net::Endpoint& to,
                        absl::StatusOr<Message>& outcome) {
  if (!outcome.ok() || id_binding_ == nullptr) return;
  std::optional<net::Endpoint> observed;
  std::vector<Contact>* closest = nullptr;
  if (auto* pong = std::get_if<Pong>(&outcome->body)) {
    observed = pong->observed;
  } else if (auto* nodes = std::get_if<Nodes>(&outcome->body)) {
    observed = nodes->observed;
    closest = &nodes->closest;
  } else if (auto* value = std::get_if<Value>(&outcome->body)) {
    observed = value->observed;
    closest = &value->closest;
  }
  if (observed) public_address_->Report(to, *observed);
  const IdBindingOptions& binding = *id_binding_;
  if (!binding.enforce) return;
  auto refused = [&](const NodeId& id, const net::Endpoint& at) {
    return !Admissible(CheckId(id, at, binding), binding);
  };
  if (outcome->sender && refused(*outcome->sender, to)) {
    outcome = absl::PermissionDeniedError(
        "the responder's id is not bound to its address");
    return;
  }
  if (closest != nullptr) {
    std::erase_if(*closest, [&](const Contact& c) {
      return refused(c.id, c.endpoint);
    });
  }
}

void Requester::NoteOutcome(const net::Endpoint& to,
                            const std::optional<NodeId>& expected,
                            const absl::StatusOr<Message>& outcome) {
  const absl::Time now = clock_.Now();
  if (!outcome.ok()) {
    // Charged to the entry only if it is at `to`: a stranger naming a
    // known id at its own address cannot wear the real entry down.
    if (expected) routing_table_.OnFailure(Contact{*expected, to}, now);
    return;
  }
  if (!outcome->sender || *outcome->sender == self_) return;
  const Contact sender{*outcome->sender, to};
  RoutingTable::Update update = routing_table_.OnResponse(sender, now);
  if (update.kind == RoutingTable::Update::Kind::kAdded && on_contact_added_) {
    on_contact_added_(sender);
  }
  if (update.ping_to_evict) {
    // Ping-before-evict: the outcome of this ping keeps or replaces it.
    const Contact& stale = *update.ping_to_evict;
    Send(stale.endpoint, stale.id, dht::Ping{}, {});
  }
}

}  // namespace kad::dht
