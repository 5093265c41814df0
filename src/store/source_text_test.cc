#include "store/source_text.h"

#include <gtest/gtest.h>

#include <string>

namespace lf {
namespace {

using namespace std::string_literals;

TEST(SourceText, ValidUtf8PassesThroughUnchanged) {
  for (const std::string& s : {""s, "/photos/a.jpg"s, "https://example.com/p?x=1"s, "/a/张三,\"5\".jpg"s,
                              "/émoji/\xF0\x9F\x98\x80.jpg"s, "file_3f2a"s}) {
    EXPECT_TRUE(is_storable_text(s)) << s;
    EXPECT_EQ(encode_source_for_text(s), s);
    EXPECT_EQ(decode_stored_source(s), s);
  }
}

TEST(SourceText, InvalidUtf8IsStoredAsLowercaseHex) {
  const std::string latin1 = "/photos/caf\xE9.jpg";  // ISO-8859-1 e acute
  EXPECT_FALSE(is_storable_text(latin1));
  EXPECT_EQ(encode_source_for_text(latin1), "\\x2f70686f746f732f636166e92e6a7067");
  EXPECT_EQ(decode_stored_source(encode_source_for_text(latin1)), latin1);
}

TEST(SourceText, RejectsWhatPostgresqlTextCannotHold) {
  for (const std::string& s : {"a\0b"s,                // NUL
                              "\x80"s,                // a lone continuation byte
                              "\xC0\xAF"s,            // overlong '/'
                              "\xE0\x80\xAF"s,        // overlong, three bytes
                              "\xED\xA0\x80"s,        // a UTF-16 surrogate
                              "\xF4\x90\x80\x80"s,    // above U+10FFFF
                              "\xF5\x80\x80\x80"s,    // no such lead byte
                              "\xE4\xB8"s}) {         // cut short
    EXPECT_FALSE(is_storable_text(s));
    const std::string stored = encode_source_for_text(s);
    EXPECT_TRUE(stored.starts_with("\\x"));
    EXPECT_TRUE(is_storable_text(stored));
    EXPECT_EQ(decode_stored_source(stored), s);
  }
  EXPECT_TRUE(is_storable_text("\xEF\xBF\xBF"s));      // U+FFFF
  EXPECT_TRUE(is_storable_text("\xF4\x8F\xBF\xBF"s));  // U+10FFFF
}

TEST(SourceText, DecodesEitherCaseAndLeavesOtherTextAlone) {
  EXPECT_EQ(decode_stored_source("\\x2F61E9"), "/a\xE9");
  EXPECT_EQ(decode_stored_source("\\x"), "\\x");       // no digits
  EXPECT_EQ(decode_stored_source("\\x2f6"), "\\x2f6");  // an odd count
  EXPECT_EQ(decode_stored_source("\\x2g"), "\\x2g");    // not hex
  EXPECT_EQ(decode_stored_source("x2f61"), "x2f61");
}

}  // namespace
}  // namespace lf
