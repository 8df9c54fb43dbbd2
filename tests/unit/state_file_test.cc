#include "storage/state_file.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"

namespace kad::storage {
namespace {

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/kad-state-test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::string command = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(system(command.c_str()), 0);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

TEST_F(StateFileTest, ReadsBackWhatWasWritten) {
  std::string contents("binary\0and text\n", 16);
  ASSERT_TRUE(WriteStateFile(Path("id"), contents).ok());
  auto read = ReadStateFile(Path("id"));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, contents);
}

TEST_F(StateFileTest, ReplacesTheWholeFile) {
  ASSERT_TRUE(WriteStateFile(Path("id"), "a long first version").ok());
  ASSERT_TRUE(WriteStateFile(Path("id"), "short").ok());
  EXPECT_EQ(*ReadStateFile(Path("id")), "short");
  EXPECT_NE(access(Path("id.tmp").c_str(), F_OK), 0) << "temp file left behind";
}

TEST_F(StateFileTest, MissingFileIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(ReadStateFile(Path("none")).status()));
}

TEST_F(StateFileTest, CorruptionIsDetected) {
  ASSERT_TRUE(WriteStateFile(Path("id"), "contents").ok());
  {
    std::fstream file(Path("id"), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-1, std::ios::end);
    file.put('X');
  }
  auto read = ReadStateFile(Path("id"));
  EXPECT_TRUE(absl::IsDataLoss(read.status())) << read.status();
  EXPECT_NE(read.status().message().find("checksum"), std::string::npos);
}

TEST_F(StateFileTest, ForeignFileIsRejected) {
  std::ofstream(Path("foreign")) << "not ours\n";
  EXPECT_TRUE(absl::IsDataLoss(ReadStateFile(Path("foreign")).status()));
}

TEST_F(StateFileTest, UnwritablePlaceIsAnErrorNamingThePath) {
  absl::Status status = WriteStateFile("/dev/null/x/id", "contents");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("/dev/null/x/id"), std::string::npos);
}

}  // namespace
}  // namespace kad::storage
