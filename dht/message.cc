#include "dht/message.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

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

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformed: return "malformed";
    case ErrorCode::kBadToken: return "bad_token";
    case ErrorCode::kRecordRejected: return "record_rejected";
    case ErrorCode::kStoreFull: return "store_full";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kNotClosest: return "not_closest";
    case ErrorCode::kSourceQuota: return "source_quota";
  }
  return "unknown";
}

std::string RefusalCountsText(std::span<const int> by_code) {
  std::vector<std::pair<int, size_t>> counts;  // (count, code)
  for (size_t code = 0; code < by_code.size(); ++code) {
    if (by_code[code] > 0) counts.emplace_back(by_code[code], code);
  }
  std::stable_sort(counts.begin(), counts.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string text;
  for (const auto& [count, code] : counts) {
    absl::StrAppend(&text, text.empty() ? "" : ", ",
                    code < kErrorCodeCount
                        ? ErrorCodeName(static_cast<ErrorCode>(code))
                        : absl::StrCat("code_", code),
                    " ", count);
  }
  return text;
}

}  // namespace kad::dht
