// PgSession against a real server (the CTest fixture's throwaway cluster):
// connecting and what its failures say, parameters and rows, streaming,
// transactions after errors, lost connections.
#include "store/pg_session.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/temp_dir_for_test.h"
#include "store/pg_database_for_test.h"

namespace lf {
namespace {

// The first row's first column as text, or the error.
std::string scalar(PgSession& session, std::string_view sql, const std::vector<SqlParam>& params = {}) {
  std::string value;
  Result<std::int64_t> rows = session.query(sql, params, [&](const SqlRow& row) {
    value = row.is_null(0) ? "NULL" : row.string(0);
    return Status::Ok();
  });
  if (!rows) return "error: " + rows.error().message;
  return value;
}

// `base` (postgresql://USER@HOST:PORT/DB) with USER and an optional password
// put in its user part.
std::string with_user(const std::string& base, const std::string& user_part) {
  const std::size_t start = base.find("://") + 3;
  const std::size_t at = base.find('@', start);
  return base.substr(0, start) + user_part + base.substr(at);
}

// A loopback port that nothing listens on.
int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Peak resident memory of this process so far, KiB (VmHWM).
long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

TEST(PgSession, ConnectsAndNamesTheDatabaseWithoutItsPassword) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  // The cluster trusts local connections: the password is ignored, but it
  // must not show.
  const std::string url =
      with_user(db.base_url(), "postgres:hunter2") + "?sslmode=disable&password=swordfish";
  auto session = PgSession::connect(url);
  ASSERT_TRUE(session.ok()) << session.error().message;
  EXPECT_EQ((*session)->dialect(), SqlDialect::kPostgresql);
  EXPECT_EQ((*session)->name().find("hunter2"), std::string::npos) << (*session)->name();
  EXPECT_EQ((*session)->name().find("swordfish"), std::string::npos) << (*session)->name();
  EXPECT_NE((*session)->name().find("sslmode=disable"), std::string::npos) << (*session)->name();
  EXPECT_EQ(scalar(**session, "SELECT current_database()"), "lfbatch");
  EXPECT_EQ(scalar(**session, "SHOW client_encoding"), "UTF8");
  EXPECT_EQ(scalar(**session, "SHOW application_name"), "lfbatch");
  EXPECT_GT((*session)->backend_pid(), 0);
}

TEST(PgSession, AWrongPasswordSaysWhereToPutItAndNeverShowsIt) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto admin = db.connect();
  ASSERT_TRUE(admin);
  // pg_cluster.sh's pg_hba.conf asks this role (alone) for a password over TCP.
  ASSERT_TRUE(admin->exec("DO $$ BEGIN CREATE ROLE lfbatch_password_test LOGIN; "
                          "EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
                          "ALTER ROLE lfbatch_password_test PASSWORD 'right-one'"));

  auto wrong = PgSession::connect(with_user(db.base_url(), "lfbatch_password_test:wrong-one"));
  ASSERT_FALSE(wrong.ok());
  const std::string& message = wrong.error().message;
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_NE(message.find("~/.pgpass"), std::string::npos) << message;
  EXPECT_NE(message.find(with_user(db.base_url(), "lfbatch_password_test")), std::string::npos)
      << message;
  EXPECT_EQ(message.find("wrong-one"), std::string::npos) << message;

  auto none = PgSession::connect(with_user(db.base_url(), "lfbatch_password_test"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("~/.pgpass"), std::string::npos) << none.error().message;

  // In the URL, percent-encoded or not, and in PGPASSFILE: each works.
  auto in_url = PgSession::connect(with_user(db.base_url(), "lfbatch_password_test:right%2Done"));
  ASSERT_TRUE(in_url.ok()) << in_url.error().message;
  EXPECT_EQ(scalar(**in_url, "SELECT current_user"), "lfbatch_password_test");
  EXPECT_EQ((*in_url)->name().find("right"), std::string::npos) << (*in_url)->name();

  TempDirForTest dir;
  const std::string passfile = dir.write("pgpass", "*:*:*:lfbatch_password_test:right-one\n");
  ASSERT_EQ(chmod(passfile.c_str(), 0600), 0);
  setenv("PGPASSFILE", passfile.c_str(), 1);
  auto from_file = PgSession::connect(with_user(db.base_url(), "lfbatch_password_test"));
  unsetenv("PGPASSFILE");
  ASSERT_TRUE(from_file.ok()) << from_file.error().message;
  EXPECT_EQ(scalar(**from_file, "SELECT current_user"), "lfbatch_password_test");
}

TEST(PgSession, NoServerSaysToStartItAndNeverShowsThePassword) {
  const std::string url =
      "postgresql://someone:s3cr3t-pw@127.0.0.1:" + std::to_string(closed_port()) + "/lfbatch";
  auto session = PgSession::connect(url);
  ASSERT_FALSE(session.ok());
  const std::string& message = session.error().message;
  EXPECT_NE(message.find("postgresql://someone@127.0.0.1:"), std::string::npos) << message;
  EXPECT_NE(message.find("is the server running? start it or fix the host/port in --db"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("s3cr3t-pw"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(PgSession, AMissingDatabaseSaysToCreateIt) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  std::string url = db.base_url();
  url.replace(url.rfind("/lfbatch"), 8, "/no_such_db");
  auto session = PgSession::connect(url);
  ASSERT_FALSE(session.ok());
  EXPECT_NE(session.error().message.find("does not exist"), std::string::npos)
      << session.error().message;
  EXPECT_NE(session.error().message.find("createdb"), std::string::npos) << session.error().message;
}

TEST(PgSession, AMalformedUrlIsRefusedWithoutShowingThePassword) {
  // libpq's own message quotes the part it could not read.
  for (const std::string url : {"postgresql://u:se/cret@127.0.0.1:1/db",
                                "postgresql://u:pa?ss/cret@127.0.0.1:1/db",
                                "postgresql://u:bad%zzsecret@127.0.0.1:1/db",
                                "postgresql://u@127.0.0.1:1/db?password=bad%zzsecret",
                                "postgresql://u:se cret@127.0.0.1:notaport/db"}) {
    auto session = PgSession::connect(url);
    ASSERT_FALSE(session.ok()) << url;
    const std::string& message = session.error().message;
    EXPECT_EQ(message.find("secret"), std::string::npos) << message;
    EXPECT_EQ(message.find("cret"), std::string::npos) << message;
  }
  auto keywords = PgSession::connect("host=127.0.0.1 password=topsecret dbname=lfbatch");
  ASSERT_FALSE(keywords.ok());
  EXPECT_EQ(keywords.error().message.find("topsecret"), std::string::npos)
      << keywords.error().message;
  EXPECT_NE(keywords.error().message.find("postgresql://"), std::string::npos);
}

TEST(PgSession, ParametersRoundTripExactly) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->exec("CREATE TABLE v (i BIGINT, r DOUBLE PRECISION, t TEXT)"));
  const std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  const std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  const std::vector<double> reals = {0.1,
                                     1e-300,
                                     -2.5,
                                     1.0 / 3.0,
                                     5e-324,  // the smallest denormal
                                     std::numeric_limits<double>::max(),
                                     std::numeric_limits<double>::infinity(),
                                     -std::numeric_limits<double>::infinity()};
  const std::vector<std::string> texts = {"plain", "", "日本語の名前 ✓ é", "quote ' and \\ and ?1",
                                          std::string(100000, 'x')};
  std::int64_t id = 0;
  for (std::int64_t integer : {kMin, kMax, std::int64_t{0}, std::int64_t{-1}}) {
    Result<std::int64_t> added =
        session->run("INSERT INTO v VALUES (?1, ?2, ?3)", {integer, 0.0, std::string("i")});
    ASSERT_TRUE(added.ok()) << added.error().message;
    EXPECT_EQ(*added, 1);
  }
  for (double real : reals) {
    ASSERT_TRUE(session->run("INSERT INTO v VALUES (?1, ?2, ?3)", {++id, real, std::string("r")}).ok());
  }
  for (const std::string& text : texts) {
    ASSERT_TRUE(session->run("INSERT INTO v VALUES (?1, ?2, ?3)", {++id, 0.0, text}).ok());
  }

  std::vector<std::int64_t> integers;
  std::vector<double> got_reals;
  std::vector<std::string> got_texts;
  Result<std::int64_t> rows = session->query(
      "SELECT i, r, t FROM v ORDER BY t, i", {}, [&](const SqlRow& row) {
        EXPECT_EQ(row.columns(), 3);
        if (row.text(2) == "i") integers.push_back(row.integer(0));
        else if (row.text(2) == "r") got_reals.push_back(row.real(1));
        else got_texts.push_back(row.string(2));
        return Status::Ok();
      });
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(*rows, 4 + static_cast<std::int64_t>(reals.size() + texts.size()));
  EXPECT_EQ(integers, (std::vector<std::int64_t>{kMin, -1, 0, kMax}));
  EXPECT_EQ(got_reals, reals);  // exactly: ordered by i, as inserted
  std::vector<std::string> sorted_texts;
  Result<std::int64_t> again = session->query(
      "SELECT t FROM v WHERE t NOT IN ('i', 'r') ORDER BY i", {}, [&](const SqlRow& row) {
        sorted_texts.push_back(row.string(0));
        return Status::Ok();
      });
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(sorted_texts, texts);

  // NaN, and values the server computes.
  EXPECT_TRUE(std::isnan(std::strtod(scalar(*session, "SELECT ?1::float8",
                                            {std::numeric_limits<double>::quiet_NaN()}).c_str(),
                                     nullptr)));
  EXPECT_EQ(scalar(*session, "SELECT ?1::bigint + 1", {std::int64_t{41}}), "42");
  EXPECT_EQ(scalar(*session, "SELECT ?1::float8 = 0.1::float8", {0.1}), "t");
}

TEST(PgSession, NullsInAndOut) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  int seen = 0;
  Result<std::int64_t> rows = session->query(
      "SELECT ?1::bigint, ?2::text, ?3::float8, ''::text, ?1::bigint IS NULL",
      {std::monostate{}, std::monostate{}, std::monostate{}}, [&](const SqlRow& row) {
        ++seen;
        for (int column = 0; column < 3; ++column) {
          EXPECT_TRUE(row.is_null(column)) << column;
          EXPECT_EQ(row.integer(column), 0);
          EXPECT_EQ(row.real(column), 0.0);
          EXPECT_EQ(row.text(column), "");
        }
        EXPECT_FALSE(row.optional_integer(0).has_value());
        EXPECT_FALSE(row.optional_real(2).has_value());
        EXPECT_FALSE(row.is_null(3));  // the empty string is not NULL
        EXPECT_EQ(row.integer(4), 1);   // true
        return Status::Ok();
      });
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(seen, 1);
}

TEST(PgSession, RowsReadBooleansNumericsAndSpecialFloats) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  Result<std::int64_t> rows = session->query(
      "SELECT true, false, 12.50::numeric, 'Infinity'::float8, '-Infinity'::float8, "
      "'NaN'::float8, 7::smallint, sum(x) FROM (VALUES (1::bigint), (2)) AS t(x)",
      {}, [&](const SqlRow& row) {
        EXPECT_EQ(row.integer(0), 1);
        EXPECT_EQ(row.integer(1), 0);
        EXPECT_EQ(row.real(2), 12.5);
        EXPECT_EQ(row.real(3), std::numeric_limits<double>::infinity());
        EXPECT_EQ(row.real(4), -std::numeric_limits<double>::infinity());
        EXPECT_TRUE(std::isnan(row.real(5)));
        EXPECT_EQ(row.integer(6), 7);
        EXPECT_EQ(row.integer(7), 3);  // sum(bigint) is numeric
        EXPECT_EQ(row.text(99), "");   // no such column
        return Status::Ok();
      });
  ASSERT_TRUE(rows.ok()) << rows.error().message;
}

TEST(PgSession, InvalidUtf8FailsNamingTheParameterAndTheSessionGoesOn) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->exec("CREATE TABLE names (id BIGINT, source TEXT)"));
  // A Latin-1 file name: "café" with é as the single byte 0xe9.
  Result<std::int64_t> added = session->run("INSERT INTO names VALUES (?1, ?2)",
                                            {std::int64_t{1}, std::string("/data/caf\xe9.jpg")});
  ASSERT_FALSE(added.ok());
  const std::string& message = added.error().message;
  EXPECT_NE(message.find("parameter ?2 is not valid UTF-8 (byte 0xe9 at offset 9)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("invalid byte sequence"), std::string::npos) << message;
  EXPECT_EQ(session->last_sqlstate(), "22021");
  EXPECT_FALSE(session->connection_lost());

  Result<std::int64_t> nul = session->run("INSERT INTO names VALUES (?1, ?2)",
                                          {std::int64_t{2}, std::string("a\0b", 3)});
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.error().message.find("parameter ?2 holds a NUL byte"), std::string::npos)
      << nul.error().message;

  ASSERT_TRUE(session->run("INSERT INTO names VALUES (?1, ?2)",
                           {std::int64_t{3}, std::string("/data/caf\xc3\xa9.jpg")}).ok());
  EXPECT_EQ(session->last_sqlstate(), "");
  EXPECT_EQ(scalar(*session, "SELECT count(*) FROM names"), "1");
}

TEST(PgSession, StreamsAHundredThousandRowsWithoutHoldingThem) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  // 100,000 rows of 1 KB: about 100 MB held at once if the result were
  // buffered; streamed, one row at a time.
  const long before = peak_rss_kib();
  std::int64_t count = 0;
  std::int64_t sum = 0;
  Result<std::int64_t> rows = session->query(
      "SELECT g, repeat('x', 1000) FROM generate_series(1, ?1::int) AS g",
      {std::int64_t{100000}}, [&](const SqlRow& row) {
        ++count;
        sum += row.integer(0);
        if (row.text(1).size() != 1000) return Status(Error{"short row"});
        return Status::Ok();
      });
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(*rows, 100000);
  EXPECT_EQ(count, 100000);
  EXPECT_EQ(sum, std::int64_t{100000} * 100001 / 2);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's quarantine keeps freed rows resident
  EXPECT_LT(peak_rss_kib() - before, 30 * 1024) << "KiB more at the peak";
#else
  (void)before;
#endif
}

TEST(PgSession, RowsArriveBeforeTheStatementEnds) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  // The statement fails at its last row: a buffered result would hand over
  // nothing but the error.
  std::int64_t count = 0;
  Result<std::int64_t> rows = session->query(
      "SELECT CASE WHEN g < 50000 THEN g ELSE 1 / (g - g) END FROM generate_series(1, 50000) AS g",
      {}, [&](const SqlRow&) {
        ++count;
        return Status::Ok();
      });
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(count, 49999);
  EXPECT_EQ(session->last_sqlstate(), "22012");  // division_by_zero
  EXPECT_NE(rows.error().message.find("division by zero"), std::string::npos);
  EXPECT_EQ(scalar(*session, "SELECT 1"), "1");
}

TEST(PgSession, ReturnsRowsChangedOrRowsHandedOver) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  Result<std::int64_t> created = session->run("CREATE TABLE n (x INT)");
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(*created, 0);
  Result<std::int64_t> inserted = session->run("INSERT INTO n SELECT generate_series(1, 5)");
  ASSERT_TRUE(inserted.ok());
  EXPECT_EQ(*inserted, 5);
  Result<std::int64_t> updated = session->run("UPDATE n SET x = x + 10 WHERE x > ?1", {std::int64_t{2}});
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(*updated, 3);
  int handed = 0;
  Result<std::int64_t> deleted = session->query("DELETE FROM n WHERE x > 10 RETURNING x", {},
                                                [&](const SqlRow&) {
                                                  ++handed;
                                                  return Status::Ok();
                                                });
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(handed, 3);
  Result<std::int64_t> none = session->run("SELECT x FROM n WHERE x > 100");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
}

TEST(PgSession, AFailedStatementAbortsTheTransactionUntilRollback) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->exec("CREATE TABLE t (x INT PRIMARY KEY)"));
  const std::string insert = "INSERT INTO t VALUES (?1)";
  ASSERT_TRUE(session->run(insert, {std::int64_t{1}}).ok());  // prepared outside the transaction

  EXPECT_FALSE(session->in_transaction());
  ASSERT_TRUE(session->begin_write());
  EXPECT_TRUE(session->in_transaction());
  ASSERT_TRUE(session->run(insert, {std::int64_t{2}}).ok());
  Result<std::int64_t> duplicate = session->run(insert, {std::int64_t{1}});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(session->last_sqlstate(), "23505");  // unique_violation
  EXPECT_NE(duplicate.error().message.find("duplicate key"), std::string::npos);
  EXPECT_NE(duplicate.error().message.find(session->name()), std::string::npos);
  // Aborted: everything fails until the rollback, which keeps the SQLSTATE.
  Result<std::int64_t> next = session->run(insert, {std::int64_t{3}});
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(session->last_sqlstate(), "25P02");
  EXPECT_TRUE(session->in_transaction());  // aborted, still open
  session->rollback();
  EXPECT_EQ(session->last_sqlstate(), "25P02");
  EXPECT_FALSE(session->in_transaction());

  // Usable again, the prepared statement included; the transaction's row is gone.
  ASSERT_TRUE(session->run(insert, {std::int64_t{4}}).ok());
  EXPECT_EQ(scalar(*session, "SELECT string_agg(x::text, ',' ORDER BY x) FROM t"), "1,4");

  // commit() of an aborted transaction fails: the server rolled it back.
  ASSERT_TRUE(session->begin_write());
  ASSERT_TRUE(session->run(insert, {std::int64_t{5}}).ok());
  ASSERT_FALSE(session->run(insert, {std::int64_t{5}}).ok());
  Status committed = session->commit();
  ASSERT_FALSE(committed);
  EXPECT_NE(committed.message().find("rolled back"), std::string::npos) << committed.message();
  EXPECT_EQ(scalar(*session, "SELECT count(*) FROM t"), "2");

  // SqlTransaction rolls back when it goes out of scope uncommitted.
  {
    auto transaction = SqlTransaction::begin(*session, SqlTransaction::Mode::kWrite);
    ASSERT_TRUE(transaction.ok());
    ASSERT_TRUE(session->run(insert, {std::int64_t{6}}).ok());
    ASSERT_FALSE(session->run("SELECT no_such_column FROM t").ok());
  }
  EXPECT_EQ(scalar(*session, "SELECT count(*) FROM t"), "2");
  {
    auto transaction = SqlTransaction::begin(*session, SqlTransaction::Mode::kWrite);
    ASSERT_TRUE(transaction.ok());
    ASSERT_TRUE(session->run(insert, {std::int64_t{7}}).ok());
    ASSERT_TRUE(transaction->commit());
  }
  EXPECT_EQ(scalar(*session, "SELECT count(*) FROM t"), "3");
}

TEST(PgSession, TransactionsRefuseNestingAndCommitWithoutBegin) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  EXPECT_FALSE(session->commit());
  session->rollback();  // nothing to roll back: fine
  ASSERT_TRUE(session->begin_write());
  EXPECT_FALSE(session->begin_write());
  EXPECT_FALSE(session->begin_read());
  ASSERT_TRUE(session->commit());
}

TEST(PgSession, AReadTransactionIsOneSnapshotAndReadOnly) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto reader = db.connect();
  auto writer = db.connect();
  ASSERT_TRUE(reader && writer);
  ASSERT_TRUE(writer->exec("CREATE TABLE t (x INT); INSERT INTO t VALUES (1)"));
  ASSERT_TRUE(reader->begin_read());
  EXPECT_EQ(scalar(*reader, "SELECT count(*) FROM t"), "1");
  ASSERT_TRUE(writer->run("INSERT INTO t VALUES (2)").ok());
  EXPECT_EQ(scalar(*reader, "SELECT count(*) FROM t"), "1");
  Result<std::int64_t> write = reader->run("INSERT INTO t VALUES (3)");
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(reader->last_sqlstate(), "25006");  // read_only_sql_transaction
  reader->rollback();
  EXPECT_EQ(scalar(*reader, "SELECT count(*) FROM t"), "2");
}

TEST(PgSession, ASerializationFailureReportsSqlstate40001) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto first = db.connect();
  auto second = db.connect();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->exec("CREATE TABLE t (id INT PRIMARY KEY, n INT); INSERT INTO t VALUES (1, 0)"));
  ASSERT_TRUE(first->exec("BEGIN ISOLATION LEVEL REPEATABLE READ"));
  EXPECT_EQ(scalar(*first, "SELECT n FROM t WHERE id = 1"), "0");
  ASSERT_TRUE(second->run("UPDATE t SET n = n + 1 WHERE id = 1").ok());
  Result<std::int64_t> update = first->run("UPDATE t SET n = n + 1 WHERE id = 1");
  ASSERT_FALSE(update.ok());
  EXPECT_EQ(first->last_sqlstate(), "40001");
  EXPECT_FALSE(first->connection_lost());
  first->rollback();
  EXPECT_EQ(first->last_sqlstate(), "40001");
  EXPECT_EQ(scalar(*first, "SELECT n FROM t WHERE id = 1"), "1");
}

TEST(PgSession, AFailingCallbackStopsTheQueryAndTheSessionGoesOn) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  // generate_series in the select list streams (in FROM it is computed whole first).
  const std::string many = "SELECT generate_series(1, 100000000)";
  auto stop_at_3 = [](int* seen) {
    return [seen](const SqlRow&) {
      return ++*seen == 3 ? Status(Error{"the report's disk is full"}) : Status::Ok();
    };
  };

  // Outside a transaction: the statement is cancelled.
  int seen = 0;
  Result<std::int64_t> rows = session->query(many, {}, stop_at_3(&seen));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().message, "the report's disk is full");
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(session->last_sqlstate(), "");
  EXPECT_EQ(scalar(*session, "SELECT 2"), "2");
  EXPECT_FALSE(session->connection_lost());

  // Inside one: the rest of the rows are drained and the transaction stays good.
  ASSERT_TRUE(session->exec("CREATE TABLE t (x INT)"));
  ASSERT_TRUE(session->begin_write());
  ASSERT_TRUE(session->run("INSERT INTO t VALUES (1)").ok());
  seen = 0;
  rows = session->query("SELECT g FROM generate_series(1, 100000) AS g", {}, stop_at_3(&seen));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(seen, 3);
  ASSERT_TRUE(session->run("INSERT INTO t VALUES (2)").ok());
  ASSERT_TRUE(session->commit());
  EXPECT_EQ(scalar(*session, "SELECT count(*) FROM t"), "2");
}

TEST(PgSession, ALostConnectionIsToldApartAndReconnectRestoresIt) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  auto killer = db.connect();
  ASSERT_TRUE(session && killer);
  const std::string statement = "SELECT ?1::int + 1";
  EXPECT_EQ(scalar(*session, statement, {std::int64_t{1}}), "2");  // prepared on the old connection
  EXPECT_FALSE(session->connection_lost());
  const int pid = session->backend_pid();
  // Waits (up to 5 s) until the backend is gone.
  EXPECT_EQ(scalar(*killer, "SELECT pg_terminate_backend(?1, 5000)", {std::int64_t{pid}}), "t");

  Result<std::int64_t> lost = session->run(statement, {std::int64_t{1}});
  ASSERT_FALSE(lost.ok());
  EXPECT_TRUE(session->connection_lost());
  EXPECT_FALSE(session->in_transaction());
  EXPECT_FALSE(session->last_sqlstate().empty());
  EXPECT_NE(lost.error().message.find("connection to the server is lost"), std::string::npos)
      << lost.error().message;
  EXPECT_FALSE(session->begin_write());  // still lost
  session->rollback();                   // harmless

  ASSERT_TRUE(session->reconnect());
  EXPECT_FALSE(session->connection_lost());
  EXPECT_NE(session->backend_pid(), pid);
  EXPECT_EQ(scalar(*session, statement, {std::int64_t{41}}), "42");  // prepared anew
  EXPECT_EQ(scalar(*session, "SELECT current_schema()"), db.schema());
}

TEST(PgSession, AStatementWhoseColumnsChangedIsPreparedAgain) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->exec("CREATE TABLE t (a INT); INSERT INTO t VALUES (1)"));
  const std::string select = "SELECT * FROM t";
  int columns = 0;
  auto count_columns = [&](const SqlRow& row) {
    columns = row.columns();
    return Status::Ok();
  };
  ASSERT_TRUE(session->query(select, {}, count_columns).ok());
  EXPECT_EQ(columns, 1);
  ASSERT_TRUE(session->exec("ALTER TABLE t ADD COLUMN b INT"));
  Result<std::int64_t> rows = session->query(select, {}, count_columns);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(columns, 2);

  // Inside a transaction it fails once (the transaction is aborted), then works.
  ASSERT_TRUE(session->exec("ALTER TABLE t ADD COLUMN c INT"));
  ASSERT_TRUE(session->begin_read());
  EXPECT_FALSE(session->query(select, {}, count_columns).ok());
  session->rollback();
  ASSERT_TRUE(session->query(select, {}, count_columns).ok());
  EXPECT_EQ(columns, 3);
}

TEST(PgSession, MoreDistinctStatementsThanTheCacheHoldsStillRun) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  for (int i = 0; i < static_cast<int>(PgSession::kMaxPrepared) + 50; ++i) {
    const std::string sql = "SELECT ?1::int + " + std::to_string(i);
    ASSERT_EQ(scalar(*session, sql, {std::int64_t{1}}), std::to_string(i + 1));
    ASSERT_EQ(scalar(*session, sql, {std::int64_t{2}}), std::to_string(i + 2));
  }
  // This text finds the cache full: it runs unprepared.
  EXPECT_EQ(scalar(*session, "SELECT count(*) FROM pg_prepared_statements"),
            std::to_string(PgSession::kMaxPrepared));
}

}  // namespace
}  // namespace lf
