#include "image/content_hash.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(ContentHash, IsSha256InLowercaseHex) {
  // FIPS 180-2's test vectors.
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ContentHash, OneByteApartIsAnotherHash) {
  std::string a(100'000, 'x');
  std::string b = a;
  b[50'000] = 'y';
  EXPECT_NE(sha256_hex(a), sha256_hex(b));
  EXPECT_EQ(sha256_hex(a), sha256_hex(std::string(100'000, 'x')));
}

}  // namespace
}  // namespace lf
