// Requester: sends this node's requests and keeps the routing table in
// step with their outcomes.
//
// Every request the node makes (lookups, stores, pings, offers) goes
// through here, so the table learns from all of them alike: an answer
// admits or refreshes its sender (a node enters the table only after it
// has answered us), a failure charges the node the request expected, and
// when a full bucket wants its oldest entry checked, that ping is sent.
//
// It also hears, from every answer that carries one, the address the
// responder saw us at (dht/public_address.h), and applies id binding
// (dht/id_binding.h): with enforcement on, an answer whose sender's id
// does not verify from its address reaches `on_done` as a failure
// (PermissionDenied), and contacts whose ids do not verify from theirs
// are removed from the closest lists of find_node and find_value
// answers, so no lookup uses them.
//
// Handlers follow RpcClient's contract (dht/rpc_client.h); the table is
// updated just before `on_done` runs.
//
// Ownership: every collaborator is borrowed and must outlive the
// requester. Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_REQUESTER_H_
#define KAD_DHT_REQUESTER_H_

#include <optional>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "dht/contact.h"
#include "dht/id_binding.h"
#include "dht/message.h"
#include "dht/public_address.h"
#include "dht/routing_table.h"
#include "dht/rpc_client.h"
#include "net/clock.h"
#include "net/endpoint.h"

namespace kad::dht {

class Requester {
 public:
  Requester(const NodeId& self, RpcClient& rpc, RoutingTable& routing_table,
            net::Clock& clock)
      : self_(self), rpc_(rpc), routing_table_(routing_table), clock_(clock) {}
  Requester(const Requester&) = delete;
  Requester& operator=(const Requester&) = delete;

  // Sends `body` to `to`. `expected`, if set, is the node id that must
  // answer, and the one charged if the request fails.
  void Send(const net::Endpoint& to, std::optional<NodeId> expected,
            Body body, RpcHandlers handlers);

  // Sets the id binding to apply and where observed addresses go (see
  // the class comment); both borrowed, and must outlive the requester.
  // Until set: no binding enforced, observed addresses ignored.
  void set_id_binding(const IdBindingOptions& id_binding,
                      PublicAddress& public_address) {
    id_binding_ = &id_binding;
    public_address_ = &public_address;
  }

  // Sets what runs when an answer brings a new contact into the table
  // (replication hands records to it).
  void set_on_contact_added(absl::AnyInvocable<void(const Contact&)> fn) {
    on_contact_added_ = std::move(fn);
  }

 private:
  // Reports the observed address `outcome` carries, and applies id
  // binding to it (see the class comment).
  void Screen(const net::Endpoint& to, absl::StatusOr<Message>& outcome);
  void NoteOutcome(const net::Endpoint& to,
                   const std::optional<NodeId>& expected,
                   const absl::StatusOr<Message>& outcome);

  const NodeId& self_;
  RpcClient& rpc_;
  RoutingTable& routing_table_;
  net::Clock& clock_;
  const IdBindingOptions* id_binding_ = nullptr;
  PublicAddress* public_address_ = nullptr;
  absl::AnyInvocable<void(const Contact&)> on_contact_added_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_REQUESTER_H_
