// Opening databases: migrations, pragmas, and the files lfbatch refuses.
#include "store/database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/migrations.h"
#include "store/statement.h"
#include "core/temp_dir_for_test.h"

namespace lf {
namespace {

std::int64_t query_int(Database& db, const std::string& sql) {
  Result<Statement> statement = Statement::prepare(db.handle(), sql);
  EXPECT_TRUE(statement.ok()) << statement.error().message;
  Result<bool> row = statement->step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return statement->column_int64(0);
}

std::string query_text(Database& db, const std::string& sql) {
  Result<Statement> statement = Statement::prepare(db.handle(), sql);
  EXPECT_TRUE(statement.ok()) << statement.error().message;
  Result<bool> row = statement->step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return statement->column_text(0);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Database, FreshFileGetsEveryMigrationAndRecordsTheVersion) {
  TempDirForTest dir;
  auto db = Database::open(dir.file("q.db"));
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_GE(Database::latest_schema_version(), 1);
  EXPECT_EQ((*db)->schema_version(), Database::latest_schema_version());
  EXPECT_EQ(query_int(**db, "PRAGMA user_version"), Database::latest_schema_version());
  EXPECT_EQ(query_int(**db, "PRAGMA application_id"), Database::kApplicationId);
  EXPECT_EQ(query_int(**db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                            "('runs', 'jobs', 'attempts')"),
            3);
  EXPECT_EQ(query_int(**db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = "
                            "'jobs_due'"),
            1);
}

TEST(Database, EmbedsEverySchemaFileVerbatimInOrder) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(LF_SCHEMA_DIR)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  auto migrations = embedded_migrations();
  ASSERT_EQ(migrations.size(), files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i + 1));
    EXPECT_EQ(std::string(migrations[i].name) + ".sql", files[i].filename().string());
    EXPECT_EQ(migrations[i].sql, read_file(files[i]));
  }
}

TEST(Database, MigrationThreeCountsTheJobsAlreadyThere) {
  TempDirForTest dir;
  const std::string path = dir.file("q.db");
  {
    // A database of schema 2, with jobs, written before job_counts existed.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    std::string sql = "PRAGMA application_id = " + std::to_string(Database::kApplicationId) + ";";
    for (const Migration& m : embedded_migrations()) {
      if (m.version <= 2) sql += std::string(m.sql) + ";";
    }
    sql += "PRAGMA user_version = 2;"
           "INSERT INTO jobs (source_kind, source, state, api_status, created_at, updated_at)"
           " VALUES ('url', 'a', 'pending', NULL, 1, 1), ('url', 'b', 'pending', 'X', 1, 1),"
           " ('url', 'c', 'leased', NULL, 1, 1), ('url', 'd', 'done', 'OK', 1, 1),"
           " ('url', 'e', 'done', 'OK', 1, 1), ('url', 'f', 'failed', NULL, 1, 1);";
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  auto db = Database::open(path, /*create=*/false);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(query_text(**db, "SELECT group_concat(state || ':' || api_status || ':' || n, ' ')"
                             " FROM (SELECT * FROM job_counts ORDER BY 1, 2)"),
            "done:OK:2 failed::1 leased::1 pending::2");
}

TEST(Database, TheSchemaRefusesUnknownStatesAndSourceKinds) {
  TempDirForTest dir;
  auto db = Database::open(dir.file("q.db"));
  ASSERT_TRUE(db.ok()) << db.error().message;
  const std::string insert =
      "INSERT INTO jobs (source_kind, source, state, created_at, updated_at) VALUES ";
  EXPECT_TRUE((*db)->exec(insert + "('url', 'a', 'pending', 1, 1)").ok());
  EXPECT_FALSE((*db)->exec(insert + "('url', 'b', 'bogus', 1, 1)").ok());
  EXPECT_FALSE((*db)->exec(insert + "('ftp', 'c', 'pending', 1, 1)").ok());
  EXPECT_FALSE((*db)->exec("UPDATE jobs SET state = 'Done'").ok());
}

TEST(Database, OpensWithWalForeignKeysAndFullSync) {
  TempDirForTest dir;
  auto db = Database::open(dir.file("q.db"));
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(query_text(**db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_int(**db, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(query_int(**db, "PRAGMA synchronous"), 2);  // FULL: commits survive a power loss
}

TEST(Database, ADatabaseOfSchema1KeepsItsAttemptsWhenMigrated) {
  TempDirForTest dir;
  const std::string path = dir.file("v1.db");
  {
    // A database as lfbatch 0.1 (schema 1) left it.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    const std::string v1 = read_file(std::filesystem::path(LF_SCHEMA_DIR) / "001_init.sql");
    ASSERT_EQ(sqlite3_exec(raw, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    const std::string rows =
        "PRAGMA application_id = " + std::to_string(Database::kApplicationId) +
        "; PRAGMA user_version = 1;"
        "INSERT INTO runs (id, started_at) VALUES (1, 10);"
        "INSERT INTO jobs (id, source_kind, source, state, created_at, updated_at)"
        " VALUES (7, 'file_id', 'abc', 'done', 10, 20);"
        "INSERT INTO attempts (job_id, run_id, started_at, finished_at, api_status, request_id,"
        " verify_score, latency_ms, disposition)"
        " VALUES (7, 1, 11, 19, 'OK', 'TID1', 0.75, 8, 'done');";
    ASSERT_EQ(sqlite3_exec(raw, rows.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  auto db = Database::open(path, /*create=*/false);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ((*db)->schema_version(), Database::latest_schema_version());
  EXPECT_EQ(query_text(**db, "SELECT job_id || '|' || run_id || '|' || started_at || '|' || "
                             "finished_at || '|' || api_status || '|' || request_id || '|' || "
                             "verify_score || '|' || disposition FROM attempts"),
            "7|1|11|19|OK|TID1|0.75|done");
  // An attempt may now be on record before its answer.
  EXPECT_TRUE((*db)->exec("INSERT INTO attempts (job_id, run_id, started_at, disposition) "
                          "VALUES (7, 1, 30, 'sent')")
                  .ok());
  EXPECT_EQ(query_int(**db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
  EXPECT_EQ(query_int(**db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                            "tbl_name = 'attempts'"),
            4);  // job, run, unanswered (002), started (004)
}

TEST(Database, ReopeningKeepsTheDataAndTheVersion) {
  TempDirForTest dir;
  {
    auto db = Database::open(dir.file("q.db"));
    ASSERT_TRUE(db.ok()) << db.error().message;
    ASSERT_TRUE((*db)->exec("INSERT INTO runs (started_at) VALUES (42)").ok());
  }
  auto db = Database::open(dir.file("q.db"), /*create=*/false);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ((*db)->schema_version(), Database::latest_schema_version());
  EXPECT_EQ(query_int(**db, "SELECT started_at FROM runs"), 42);
}

TEST(Database, RefusesADatabaseWrittenByANewerLfbatch) {
  TempDirForTest dir;
  const std::string path = dir.file("q.db");
  const int newer = Database::latest_schema_version() + 3;
  {
    auto db = Database::open(path);
    ASSERT_TRUE(db.ok()) << db.error().message;
    ASSERT_TRUE((*db)->exec("PRAGMA user_version = " + std::to_string(newer)).ok());
  }
  auto db = Database::open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().message,
            path + " was written by a newer lfbatch (schema " + std::to_string(newer) +
                ", this binary knows " + std::to_string(Database::latest_schema_version()) +
                "); upgrade lfbatch");
}

TEST(Database, RefusesAFileThatIsNotSqliteNamingIt) {
  TempDirForTest dir;
  const std::string path = dir.file("photos.db");
  std::ofstream(path) << std::string(8192, 'x');
  auto db = Database::open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find(path), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find("not a linkface-batch database"), std::string::npos)
      << db.error().message;
  EXPECT_EQ(read_file(path), std::string(8192, 'x')) << "the file must be left alone";
}

TEST(Database, RefusesAnSqliteDatabaseOfAnotherApplication) {
  TempDirForTest dir;
  const std::string path = dir.file("other.db");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE customers (id INTEGER)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto db = Database::open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find(path), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find("another application"), std::string::npos)
      << db.error().message;
}

TEST(Database, RefusesAMissingFileWhenNotCreatingAndSaysHowToCreateIt) {
  TempDirForTest dir;
  const std::string path = dir.file("missing.db");
  auto db = Database::open(path, /*create=*/false);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find("no database at " + path), std::string::npos)
      << db.error().message;
  EXPECT_NE(db.error().message.find("lfbatch init"), std::string::npos) << db.error().message;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Database, RefusesAPathInAMissingDirectoryNamingIt) {
  TempDirForTest dir;
  const std::string path = dir.file("no/such/dir/q.db");
  auto db = Database::open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find(path), std::string::npos) << db.error().message;
}

TEST(SqliteFailureFix, NamesTheWalFilesForAReadOnlyPlaceAndTheDiskForIoErrors) {
  EXPECT_NE(sqlite_failure_fix(SQLITE_CANTOPEN, "/ro/q.db").find("/ro/q.db-shm"), std::string::npos);
  EXPECT_NE(sqlite_failure_fix(SQLITE_READONLY_DIRECTORY, "/ro/q.db").find("read-write"),
            std::string::npos);
  EXPECT_NE(sqlite_failure_fix(SQLITE_IOERR_SHMSIZE, "q.db").find("free space"), std::string::npos);
  EXPECT_NE(sqlite_failure_fix(SQLITE_FULL, "q.db").find("free space"), std::string::npos);
  EXPECT_EQ(sqlite_failure_fix(SQLITE_CORRUPT, "q.db"), "");
}

}  // namespace
}  // namespace lf
