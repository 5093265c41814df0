// ?N -> $N: rewritten where it is SQL, left alone inside quotes and comments.
#include "store/pg_placeholders.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(PgPlaceholders, RewritesNumberedParameters) {
  EXPECT_EQ(rewrite_placeholders("SELECT ?1, ?2 + ?10 FROM t WHERE a=?3"),
            "SELECT $1, $2 + $10 FROM t WHERE a=$3");
  EXPECT_EQ(rewrite_placeholders("VALUES(?1,?2)"), "VALUES($1,$2)");
  EXPECT_EQ(rewrite_placeholders("?1"), "$1");
  EXPECT_EQ(rewrite_placeholders(""), "");
}

TEST(PgPlaceholders, LeavesStringConstantsAlone) {
  EXPECT_EQ(rewrite_placeholders("SELECT '?1', ?2"), "SELECT '?1', $2");
  EXPECT_EQ(rewrite_placeholders("SELECT 'it''s ?1' || ?2"), "SELECT 'it''s ?1' || $2");
  // standard_conforming_strings: the backslash is a character, the string ends at the quote.
  EXPECT_EQ(rewrite_placeholders(R"(SELECT '\' || ?1)"), R"(SELECT '\' || $1)");
  // E'' strings take backslash escapes: \' does not end them.
  EXPECT_EQ(rewrite_placeholders(R"(SELECT E'\' ?1' || ?2)"), R"(SELECT E'\' ?1' || $2)");
  EXPECT_EQ(rewrite_placeholders(R"(SELECT e'\\' || ?1)"), R"(SELECT e'\\' || $1)");
  // An E that ends a word is not the E prefix.
  EXPECT_EQ(rewrite_placeholders(R"(SELECT x FROM t WHERE name='\' AND ?1)"),
            R"(SELECT x FROM t WHERE name='\' AND $1)");
  EXPECT_EQ(rewrite_placeholders("SELECT B'101', X'1F', U&'?1', ?2"),
            "SELECT B'101', X'1F', U&'?1', $2");
}

TEST(PgPlaceholders, LeavesQuotedIdentifiersAlone) {
  EXPECT_EQ(rewrite_placeholders(R"(SELECT "a?1" FROM "t""?2" WHERE x = ?3)"),
            R"(SELECT "a?1" FROM "t""?2" WHERE x = $3)");
  EXPECT_EQ(rewrite_placeholders(R"(SELECT "it's" , ?1)"), R"(SELECT "it's" , $1)");
}

TEST(PgPlaceholders, LeavesCommentsAlone) {
  EXPECT_EQ(rewrite_placeholders("SELECT ?1 -- why ?2\n, ?3"), "SELECT $1 -- why ?2\n, $3");
  EXPECT_EQ(rewrite_placeholders("SELECT 1 -- ?1 to the end"), "SELECT 1 -- ?1 to the end");
  EXPECT_EQ(rewrite_placeholders("SELECT /* ?1 */ ?2"), "SELECT /* ?1 */ $2");
  // PostgreSQL nests block comments.
  EXPECT_EQ(rewrite_placeholders("/* a /* ?1 */ ?2 */ ?3"), "/* a /* ?1 */ ?2 */ $3");
  // A quote inside a comment opens nothing.
  EXPECT_EQ(rewrite_placeholders("-- it's\nSELECT ?1"), "-- it's\nSELECT $1");
  EXPECT_EQ(rewrite_placeholders("SELECT 5-?1, 6/?2"), "SELECT 5-$1, 6/$2");
}

TEST(PgPlaceholders, LeavesDollarQuotedBodiesAlone) {
  EXPECT_EQ(rewrite_placeholders("SELECT $$ ?1 ' $$, ?2"), "SELECT $$ ?1 ' $$, $2");
  EXPECT_EQ(rewrite_placeholders("DO $fn$ BEGIN PERFORM ?1; $$ ?2 $$; END $fn$; SELECT ?3"),
            "DO $fn$ BEGIN PERFORM ?1; $$ ?2 $$; END $fn$; SELECT $3");
  // $1 is a parameter, not a tag; a$b$ is one identifier.
  EXPECT_EQ(rewrite_placeholders("SELECT $1, ?2"), "SELECT $1, $2");
  EXPECT_EQ(rewrite_placeholders("SELECT a$b$ + ?1"), "SELECT a$b$ + $1");
}

TEST(PgPlaceholders, LeavesJsonbQuestionMarkOperatorsAlone) {
  EXPECT_EQ(rewrite_placeholders("SELECT d ? 'k', d ?| array['a'], d ?& ?1 FROM t"),
            "SELECT d ? 'k', d ?| array['a'], d ?& $1 FROM t");
}

TEST(PgPlaceholders, CopiesUnterminatedQuotesAndCommentsUnchanged) {
  EXPECT_EQ(rewrite_placeholders("SELECT ?1, 'abc ?2"), "SELECT $1, 'abc ?2");
  EXPECT_EQ(rewrite_placeholders("SELECT ?1, \"abc ?2"), "SELECT $1, \"abc ?2");
  EXPECT_EQ(rewrite_placeholders("SELECT ?1 /* ?2"), "SELECT $1 /* ?2");
  EXPECT_EQ(rewrite_placeholders("SELECT ?1, $q$ ?2"), "SELECT $1, $q$ ?2");
  EXPECT_EQ(rewrite_placeholders("SELECT E'\\"), "SELECT E'\\");
}

}  // namespace
}  // namespace lf
