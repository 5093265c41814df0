// The redactor: registered secrets and api_secret parameters never survive.
#include "cli/logging.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

class RedactTest : public ::testing::Test {
 protected:
  void TearDown() override { clear_registered_secrets(); }
};

TEST_F(RedactTest, RegisteredSecretIsMaskedEverywhereItAppears) {
  register_secret("hunter2-secret");
  EXPECT_EQ(redact("a hunter2-secret b hunter2-secret"), "a *** b ***");
}

TEST_F(RedactTest, TextWithoutSecretsIsUnchanged) {
  register_secret("hunter2-secret");
  EXPECT_EQ(redact("job 12 done: OK 0.93"), "job 12 done: OK 0.93");
}

TEST_F(RedactTest, ShortSecretsAreNotRegistered) {
  register_secret("ab");
  EXPECT_EQ(redact("abc"), "abc");
}

TEST_F(RedactTest, ApiSecretQueryAndFormParametersAreMasked) {
  EXPECT_EQ(redact("POST /x?api_id=ID&api_secret=abc123&x=1"), "POST /x?api_id=ID&api_secret=***&x=1");
  EXPECT_EQ(redact("api_secret=tail"), "api_secret=***");
}

TEST_F(RedactTest, ApiSecretJsonMemberIsMasked) {
  EXPECT_EQ(redact(R"({"api_id": "ID", "api_secret": "abc\"123", "n": 1})"),
            R"({"api_id": "ID", "api_secret": "***", "n": 1})");
}

}  // namespace
}  // namespace lf
