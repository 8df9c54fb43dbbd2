// ScratchDir: a fresh temporary directory for one test, removed with
// everything in it when the ScratchDir goes. Destroy whatever has files
// open in it (stores, nodes) first.
#ifndef KAD_TESTS_TESTING_SCRATCH_DIR_H_
#define KAD_TESTS_TESTING_SCRATCH_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace kad::testing {

class ScratchDir {
 public:
  // Creates TMPDIR/<prefix>-XXXXXX; a failure fails the test.
  explicit ScratchDir(const std::string& prefix) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX"))
            .string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    EXPECT_FALSE(path_.empty()) << "cannot create a temporary directory";
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace kad::testing

#endif  // KAD_TESTS_TESTING_SCRATCH_DIR_H_
