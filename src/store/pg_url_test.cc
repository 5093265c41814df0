// PostgreSQL URLs shown without their password.
#include "store/pg_url.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace lf {
namespace {

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

TEST(PgUrl, RecognisesLibpqsTwoSchemes) {
  EXPECT_TRUE(is_postgresql_url("postgresql://h/db"));
  EXPECT_TRUE(is_postgresql_url("postgres://h/db"));
  EXPECT_TRUE(is_postgresql_url("postgresql://"));
  EXPECT_FALSE(is_postgresql_url("host=h password=x"));
  EXPECT_FALSE(is_postgresql_url("POSTGRESQL://h/db"));
  EXPECT_FALSE(is_postgresql_url("archive.db"));
}

TEST(PgUrl, DropsThePasswordOfTheUserPart) {
  EXPECT_EQ(url_without_password("postgresql://u:secret@h:5432/db"), "postgresql://u@h:5432/db");
  EXPECT_EQ(url_without_password("postgres://u:p%40ss@h/db"), "postgres://u@h/db");
  EXPECT_EQ(url_without_password("postgresql://u:@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(url_without_password("postgresql://:secret@h/db"), "postgresql://h/db");
  EXPECT_EQ(url_without_password("postgresql://u:a:b@[::1]:5432/db"), "postgresql://u@[::1]:5432/db");
  EXPECT_EQ(url_without_password("postgresql://u:x@h1:1,h2:2/db"), "postgresql://u@h1:1,h2:2/db");
}

TEST(PgUrl, KeepsAUrlWithoutPasswordAsWritten) {
  for (const char* url : {"postgresql://u@h:5432/db", "postgresql://h/db", "postgresql://",
                          "postgresql:///db?host=/run/postgresql", "postgresql://h/db?user=a@b",
                          "postgresql://h:5432/db@x"}) {
    EXPECT_EQ(url_without_password(url), url);
  }
}

TEST(PgUrl, DropsPasswordParameters) {
  EXPECT_EQ(url_without_password("postgresql://h/db?sslmode=require&password=x&application_name=a"),
            "postgresql://h/db?sslmode=require&application_name=a");
  EXPECT_EQ(url_without_password("postgresql://h/db?password=x"), "postgresql://h/db");
  EXPECT_EQ(url_without_password("postgresql://h/db?pass%77ord=x&sslpassword=y&user=u"),
            "postgresql://h/db?user=u");
  EXPECT_EQ(url_without_password("postgresql://u:p@h/db?password=q&passfile=/p"),
            "postgresql://u@h/db?passfile=/p");
}

TEST(PgUrl, ListsEverySpellingOfThePassword) {
  const auto secrets = url_secrets("postgresql://u:p%40ss@h/db?password=q%26r&sslpassword=k", false);
  EXPECT_TRUE(has(secrets, "p%40ss"));
  EXPECT_TRUE(has(secrets, "p@ss"));
  EXPECT_TRUE(has(secrets, "q%26r"));
  EXPECT_TRUE(has(secrets, "q&r"));
  EXPECT_TRUE(has(secrets, "k"));
  EXPECT_TRUE(url_secrets("postgresql://u@h/db", false).empty());
}

TEST(PgUrl, GuessesThePasswordOfAMistypedUrl) {
  // A '/' in the password ends libpq's user part early: libpq reads it as
  // host u, port se, database cret@h/db.
  const std::string url = "postgresql://u:se/cret@h/db";
  EXPECT_TRUE(has(url_secrets(url, true), "se/cret"));
  EXPECT_EQ(redact(url_without_password(url), url_secrets(url, true)), "postgresql://u:***@h/db");
  // Unparsable (the '?' starts a query without '='): any '@' may end it.
  const std::string unparsable = "postgresql://u:a/b?c@h/db";
  EXPECT_FALSE(has(url_secrets(unparsable, true), "a/b?c"));
  EXPECT_TRUE(has(url_secrets(unparsable, false), "a/b?c"));
}

TEST(PgUrl, RedactQuotedHidesPiecesOfASecretThatLibpqQuotes) {
  const std::vector<std::string> secrets = {"pa?ss/cret"};
  EXPECT_EQ(redact_quoted("missing separator in URI query parameter: \"ss/cret@h/db\"",
                          "postgresql://u:pa?ss/cret@h/db", secrets),
            "missing separator in URI query parameter: \"***\"");
  EXPECT_EQ(redact_quoted("invalid integer value \"pa\" for connection option \"port\"",
                          "postgresql://u:pa?ss/cret@h/db", secrets),
            "invalid integer value \"***\" for connection option \"port\"");
  EXPECT_EQ(redact_quoted("connection to server at \"h\", port 1 failed",
                          "postgresql://u:pw@h:1/db", {"pw"}),
            "connection to server at \"h\", port 1 failed");
}

TEST(PgUrl, AnAtSignInAQueryValueEndsNoPassword) {
  for (const char* url : {"postgresql://h:5432/db?user=a@b", "postgresql://u:pw@h:5432/db?user=a@b"}) {
    for (const std::string& secret : url_secrets(url, true)) {
      EXPECT_TRUE(secret == "pw") << url << ": " << secret;
    }
  }
  EXPECT_EQ(redact(url_without_password("postgresql://h:5432/db?user=a@b"),
                   url_secrets("postgresql://h:5432/db?user=a@b", true)),
            "postgresql://h:5432/db?user=a@b");
}

TEST(PgUrl, RedactReplacesEveryOccurrenceLongestFirst) {
  EXPECT_EQ(redact("a secret and secret2 and secret", {"secret", "secret2"}),
            "a *** and *** and ***");
  EXPECT_EQ(redact("nothing here", {"", "zzz"}), "nothing here");
  EXPECT_EQ(redact("aaaa", {"a"}), "************");
}

}  // namespace
}  // namespace lf
