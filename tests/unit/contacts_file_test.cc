// Pins the contacts file format (runtime/contacts_file.h).
#include "runtime/contacts_file.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kad::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;

dht::Contact MakeContact(const std::string& hex, net::Endpoint endpoint) {
  return dht::Contact{dht::NodeId::FromHex(hex).value(), endpoint};
}

const net::Endpoint kV4 = net::Endpoint::Ipv4({192, 0, 2, 1}, 4222);
const net::Endpoint kV6 = net::Endpoint::Ipv6(
    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 4223);

TEST(ContactsFileTest, EncodesOneContactALine) {
  const std::vector<dht::Contact> contacts = {
      MakeContact("00112233445566778899aabbccddeeff00112233", kV4),
      MakeContact("FFEEDDCCBBAA99887766554433221100FFEEDDCC", kV6)};
  EXPECT_EQ(EncodeContacts(contacts),
            "00112233445566778899aabbccddeeff00112233 192.0.2.1:4222\n"
            "ffeeddccbbaa99887766554433221100ffeeddcc [2001:db8::1]:4223\n");
  EXPECT_EQ(EncodeContacts({}), "");
}

TEST(ContactsFileTest, DecodingKeepsTheAddressesInOrder) {
  EXPECT_THAT(
      DecodeContacts(
          "00112233445566778899aabbccddeeff00112233 192.0.2.1:4222\n"
          "ffeeddccbbaa99887766554433221100ffeeddcc [2001:db8::1]:4223\n"),
      ElementsAre(kV4, kV6));
}

TEST(ContactsFileTest, DecodingSkipsMalformedLinesAndKeepsTheRest) {
  EXPECT_THAT(DecodeContacts("\n"
                             "no-address\n"
                             "id 192.0.2.1:4222 extra\n"
                             "id not-an-address\n"
                             "id 192.0.2.1\n"
                             "any-id-at-all 192.0.2.1:4222\n"
                             "last-line-without-newline [2001:db8::1]:4223"),
              ElementsAre(kV4, kV6));
  EXPECT_THAT(DecodeContacts(""), IsEmpty());
}

class ContactsFileOnDiskTest : public ::testing::Test {
 protected:
  ContactsFileOnDiskTest() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kad-contacts-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
    EXPECT_FALSE(dir_.empty());
  }
  ~ContactsFileOnDiskTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string path() const { return dir_ + "/" + kContactsFileName; }

  std::string dir_;
};

TEST_F(ContactsFileOnDiskTest, SavedContactsLoadBack) {
  const std::vector<dht::Contact> contacts = {
      MakeContact("00112233445566778899aabbccddeeff00112233", kV4),
      MakeContact("ffeeddccbbaa99887766554433221100ffeeddcc", kV6)};
  ASSERT_TRUE(SaveContactsFile(path(), contacts).ok());
  EXPECT_THAT(LoadContactsFile(path()).value(), ElementsAre(kV4, kV6));
  // A state file: the checksummed header, then the contents.
  std::ifstream file(path());
  std::string header;
  std::getline(file, header);
  EXPECT_THAT(header, StartsWith("kad-state 1 "));
}

TEST_F(ContactsFileOnDiskTest, NoFileMeansNoContacts) {
  EXPECT_THAT(LoadContactsFile(path()).value(), IsEmpty());
}

TEST_F(ContactsFileOnDiskTest, ADamagedFileIsDataLoss) {
  ASSERT_TRUE(SaveContactsFile(
                  path(), {MakeContact(
                              "00112233445566778899aabbccddeeff00112233", kV4)})
                  .ok());
  std::ofstream(path(), std::ios::app) << "appended by hand\n";
  EXPECT_EQ(LoadContactsFile(path()).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace kad::runtime
