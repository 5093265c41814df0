#include "store/sqlite_session.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/temp_dir_for_test.h"
#include "store/database.h"

namespace lf {
namespace {

class SqliteSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::open(dir_.file("q.db"));
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    session_ = std::make_unique<SqliteSession>(*db_);
    ASSERT_TRUE(session_->exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT)").ok());
  }

  // Every row of `sql` as "i|r|s" lines, NULL as "-".
  std::vector<std::string> rows(const std::string& sql, const std::vector<SqlParam>& params = {}) {
    std::vector<std::string> out;
    auto n = session_->query(sql, params, [&](const SqlRow& row) {
      std::string line;
      for (int c = 0; c < row.columns(); ++c) {
        if (c > 0) line += "|";
        line += row.is_null(c) ? std::string("-") : row.string(c);
      }
      out.push_back(line);
      return Status::Ok();
    });
    EXPECT_TRUE(n.ok()) << n.error().message;
    if (n.ok()) {
      EXPECT_EQ(*n, static_cast<std::int64_t>(out.size()));
    }
    return out;
  }

  TempDirForTest dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqliteSession> session_;
};

using Lines = std::vector<std::string>;

TEST_F(SqliteSessionTest, BindsEachKindOfParameterByNumber) {
  auto n = session_->run("INSERT INTO t VALUES (?1, ?2, ?3), (?4, ?4, ?3)",
                         {std::int64_t{7}, 0.5, std::string("a'b"), std::monostate{}});
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 2);  // rows changed
  EXPECT_EQ(rows("SELECT i, r, s, typeof(i), typeof(r), typeof(s) FROM t ORDER BY rowid"),
            (Lines{"7|0.5|a'b|integer|real|text", "-|-|a'b|null|null|text"}));
  EXPECT_EQ(rows("SELECT s FROM t WHERE i = ?1", {std::int64_t{7}}), (Lines{"a'b"}));
}

TEST_F(SqliteSessionTest, ReadsColumnsInPlaceWithNullsAsZeroAndEmpty) {
  ASSERT_TRUE(session_->run("INSERT INTO t VALUES (NULL, NULL, NULL), (-3, 2.25, ?1)",
                            {std::string("z\xE9\0y", 4)})
                  .ok());
  std::vector<std::string> seen;
  auto n = session_->query("SELECT i, r, s FROM t ORDER BY rowid", {}, [&](const SqlRow& row) {
    EXPECT_EQ(row.columns(), 3);
    if (row.is_null(0)) {
      EXPECT_EQ(row.integer(0), 0);
      EXPECT_EQ(row.real(1), 0.0);
      EXPECT_EQ(row.text(2), "");
      EXPECT_FALSE(row.optional_integer(0).has_value());
      EXPECT_FALSE(row.optional_real(1).has_value());
    } else {
      EXPECT_EQ(row.optional_integer(0), -3);
      EXPECT_EQ(row.optional_real(1), 2.25);
      seen.push_back(row.string(2));  // bytes as stored, NUL included
    }
    return Status::Ok();
  });
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(seen, (Lines{std::string("z\xE9\0y", 4)}));
}

TEST_F(SqliteSessionTest, ACallbackErrorStopsTheQueryAndIsReturned) {
  ASSERT_TRUE(session_->run("INSERT INTO t (i) VALUES (1), (2), (3)").ok());
  int calls = 0;
  auto n = session_->query("SELECT i FROM t ORDER BY i", {}, [&](const SqlRow&) -> Status {
    if (++calls == 2) return Error{"stop here"};
    return Status::Ok();
  });
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().message, "stop here");
  EXPECT_EQ(calls, 2);
  // The statement was reset: it runs again from the start, and no read is
  // left open (a write transaction can start).
  EXPECT_EQ(rows("SELECT i FROM t ORDER BY i"), (Lines{"1", "2", "3"}));
  ASSERT_TRUE(session_->begin_write().ok());
  ASSERT_TRUE(session_->commit().ok());
}

TEST_F(SqliteSessionTest, KeepsOneStatementPerTextAndNestedQueriesGetTheirOwn) {
  ASSERT_TRUE(session_->run("INSERT INTO t (i) VALUES (1), (2)").ok());
  const std::size_t before = session_->cached_statements();
  EXPECT_EQ(rows("SELECT i FROM t WHERE i >= ?1 ORDER BY i", {std::int64_t{1}}), (Lines{"1", "2"}));
  EXPECT_EQ(rows("SELECT i FROM t WHERE i >= ?1 ORDER BY i", {std::int64_t{2}}), (Lines{"2"}));
  EXPECT_EQ(session_->cached_statements(), before + 1);

  // The same text inside its own callback: the inner run must not reset
  // the outer one.
  Lines pairs;
  const std::string sql = "SELECT i FROM t WHERE i >= ?1 ORDER BY i";
  auto n = session_->query(sql, {std::int64_t{1}}, [&](const SqlRow& outer) {
    const std::int64_t i = outer.integer(0);
    return session_
        ->query(sql, {i}, [&](const SqlRow& inner) {
          pairs.push_back(std::to_string(i) + "," + std::to_string(inner.integer(0)));
          return Status::Ok();
        })
        .ok()
        ? Status::Ok()
        : Status(Error{"inner query failed"});
  });
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(pairs, (Lines{"1,1", "1,2", "2,2"}));
  EXPECT_EQ(session_->cached_statements(), before + 1);
}

TEST_F(SqliteSessionTest, RefusesWhatThePostgresqlSessionCouldNotRun) {
  auto bare = session_->run("SELECT i FROM t WHERE i = ?", {std::int64_t{1}});
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().message.find("write ?1, ?2"), std::string::npos) << bare.error().message;
  auto named = session_->run("SELECT i FROM t WHERE i = :i", {std::int64_t{1}});
  ASSERT_FALSE(named.ok());
  auto too_few = session_->run("SELECT i FROM t WHERE i = ?1 OR i = ?2", {std::int64_t{1}});
  ASSERT_FALSE(too_few.ok());
  EXPECT_NE(too_few.error().message.find("takes 2 parameters, 1 given"), std::string::npos)
      << too_few.error().message;
  auto two = session_->run("SELECT 1; SELECT 2");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().message.find("more than one statement"), std::string::npos);
  EXPECT_TRUE(session_->run("SELECT 1; -- a comment after it").ok());
}

TEST_F(SqliteSessionTest, ErrorsNameTheDatabaseFile) {
  auto n = session_->run("SELECT nope FROM t");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("no such column: nope"), std::string::npos) << n.error().message;
  EXPECT_NE(n.error().message.find("(database " + db_->path() + ")"), std::string::npos) << n.error().message;
  auto constraint = session_->exec("CREATE TABLE u (k INTEGER PRIMARY KEY); INSERT INTO u VALUES (1)");
  ASSERT_TRUE(constraint.ok());
  auto dup = session_->run("INSERT INTO u VALUES (?1)", {std::int64_t{1}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("UNIQUE constraint failed"), std::string::npos) << dup.error().message;
  EXPECT_NE(dup.error().message.find(db_->path()), std::string::npos);
  EXPECT_EQ(session_->name(), db_->path());
  EXPECT_EQ(session_->dialect(), SqlDialect::kSqlite);
}

TEST_F(SqliteSessionTest, TransactionsCommitOrRollBack) {
  {
    auto tx = SqlTransaction::begin(*session_, SqlTransaction::Mode::kWrite);
    ASSERT_TRUE(tx.ok()) << tx.error().message;
    ASSERT_TRUE(session_->run("INSERT INTO t (i) VALUES (1)").ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  {
    auto tx = SqlTransaction::begin(*session_, SqlTransaction::Mode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(session_->run("INSERT INTO t (i) VALUES (2)").ok());
  }  // rolled back
  {
    auto tx = SqlTransaction::begin(*session_, SqlTransaction::Mode::kRead);
    ASSERT_TRUE(tx.ok());
    EXPECT_EQ(rows("SELECT i FROM t"), (Lines{"1"}));
    ASSERT_TRUE(tx->commit().ok());
  }
  session_->rollback();  // outside a transaction: nothing to do
  ASSERT_TRUE(session_->begin_read().ok());
  EXPECT_FALSE(session_->begin_read().ok());  // SQLite does not nest BEGIN
  session_->rollback();
}

}  // namespace
}  // namespace lf
