#include "dht/message.h"

namespace kad::dht {

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kPing: return "ping";
    case MessageType::kPong: return "pong";
    case MessageType::kFindNode: return "find_node";
    case MessageType::kNodes: return "nodes";
    case MessageType::kFindValue: return "find_value";
    case MessageType::kValue: return "value";
    case MessageType::kStore: return "store";
    case MessageType::kStored: return "stored";
    case MessageType::kError: return "error";
    case MessageType::kStats: return "stats";
    case MessageType::kStatsReply: return "stats_reply";
    case MessageType::kOffer: return "offer";
    case MessageType::kOfferReply: return "offer_reply";
  }
  return "unknown";
}

}  // namespace kad::dht
