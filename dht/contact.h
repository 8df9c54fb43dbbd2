// Contact: a node's id and the UDP endpoint it answers on.
//
// Thread-safe: immutable value type.
#ifndef KAD_DHT_CONTACT_H_
#define KAD_DHT_CONTACT_H_

#include <compare>
#include <string>

#include "absl/strings/str_cat.h"
#include "dht/node_id.h"
#include "net/endpoint.h"

namespace kad::dht {

struct Contact {
  NodeId id;
  net::Endpoint endpoint;

  friend auto operator<=>(const Contact&, const Contact&) = default;
  friend bool operator==(const Contact&, const Contact&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const Contact& c) {
    return H::combine(std::move(h), c.id, c.endpoint);
  }
  template <typename Sink>
  friend void AbslStringify(Sink& sink, const Contact& c) {
    sink.Append(absl::StrCat(c.id.ShortHex(), "@", c.endpoint.ToString()));
  }
};

}  // namespace kad::dht

#endif  // KAD_DHT_CONTACT_H_
