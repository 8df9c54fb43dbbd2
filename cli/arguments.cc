#include "cli/arguments.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "net/resolve.h"

namespace kad::cli {

absl::StatusOr<absl::Duration> ParseDurationArg(const std::string& flag,
                                                const std::string& text) {
  absl::Duration duration;
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    duration = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &duration)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad duration for ", flag, ": '", text,
                     "' (use e.g. 90s, 5m, 24h, or a number of seconds)"));
  }
  if (duration <= absl::ZeroDuration() ||
      duration == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad duration for ", flag, ": '", text,
                     "' must be positive and finite"));
  }
  return duration;
}

absl::StatusOr<std::optional<double>> ParseRateArg(const std::string& flag,
                                                   const std::string& text) {
  if (text == "off") return std::nullopt;
  absl::string_view number = text;
  absl::ConsumeSuffix(&number, "/s");
  double rate = 0;
  if (!absl::SimpleAtod(number, &rate) || !(rate > 0) || rate > 1e9) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad rate for ", flag, ": '", text,
                     "' (use a positive number per second, e.g. 200/s, or "
                     "off)"));
  }
  return rate;
}

namespace {

// Resolves `text`, reporting a name that does not resolve as a bad address.
absl::StatusOr<std::vector<net::Endpoint>> ResolveText(
    const std::string& text) {
  absl::StatusOr<std::vector<net::Endpoint>> endpoints = net::Resolve(text);
  if (endpoints.status().code() == absl::StatusCode::kNotFound) {
    return absl::InvalidArgumentError(endpoints.status().message());
  }
  return endpoints;
}

}  // namespace

absl::StatusOr<net::Endpoint> ResolveAddress(const std::string& text) {
  absl::StatusOr<std::vector<net::Endpoint>> endpoints = ResolveText(text);
  if (!endpoints.ok()) return endpoints.status();
  return endpoints->front();
}

absl::StatusOr<std::vector<net::Endpoint>> ResolveAll(
    const std::vector<std::string>& texts) {
  std::vector<net::Endpoint> all;
  for (const std::string& text : texts) {
    absl::StatusOr<std::vector<net::Endpoint>> endpoints = ResolveText(text);
    if (!endpoints.ok()) return endpoints.status();
    all.insert(all.end(), endpoints->begin(), endpoints->end());
  }
  return all;
}

std::vector<std::string> BootstrapTexts(const std::vector<std::string>& flags) {
  if (!flags.empty()) return flags;
  const char* env = std::getenv(kBootstrapEnv);
  std::vector<std::string> texts;
  if (env == nullptr) return texts;
  for (absl::string_view entry : absl::StrSplit(env, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (!entry.empty()) texts.emplace_back(entry);
  }
  return texts;
}

}  // namespace kad::cli
