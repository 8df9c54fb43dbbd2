#include "cli/kademlia_flags.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "dht/node_options.h"

namespace kad::cli {
namespace {

// Checks one integer field of dht::NodeOptions the way the node will.
CLI::Validator NodeOptionCheck(int dht::NodeOptions::*field) {
  return CLI::Validator(
      [field](std::string& text) -> std::string {
        int value = 0;
        if (!absl::SimpleAtoi(text, &value)) return "not a whole number";
        dht::NodeOptions options;
        options.*field = value;
        absl::Status valid = dht::ValidateNodeOptions(options);
        return valid.ok() ? "" : std::string(valid.message());
      },
      "");
}

}  // namespace

void AddKademliaFlags(CLI::App& command, int& k, int& alpha) {
  command
      .add_option("--k", k,
                  absl::StrCat("bucket size and replica count (1-",
                               dht::kMaxBucketSize, ")"))
      ->check(NodeOptionCheck(&dht::NodeOptions::bucket_size))
      ->capture_default_str();
  command
      .add_option("--alpha", alpha,
                  absl::StrCat("lookup requests in flight (1-",
                               dht::kMaxParallelism, ")"))
      ->check(NodeOptionCheck(&dht::NodeOptions::parallelism))
      ->capture_default_str();
}

void AddDisjointPathsFlag(CLI::App& command, int& paths) {
  command
      .add_option("--disjoint-paths", paths,
                  absl::StrCat("get and put look the key up over this many "
                               "disjoint paths (S/Kademlia's d, 1-",
                               dht::kMaxDisjointPaths, ", at most k)"))
      ->type_name("D")
      ->check(NodeOptionCheck(&dht::NodeOptions::disjoint_paths))
      ->capture_default_str();
}

}  // namespace kad::cli
