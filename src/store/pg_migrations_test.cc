// The PostgreSQL migrations against a real server: fresh, again, at once
// from two sessions, and the databases lfbatch refuses.
#include "store/pg_migrations.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/pg_database_for_test.h"
#include "store/pg_session.h"

namespace lf {
namespace {

std::int64_t count(PgSession& session, const std::string& sql) {
  std::int64_t value = -1;
  Result<std::int64_t> rows = session.query(sql, {}, [&](const SqlRow& row) {
    value = row.integer(0);
    return Status::Ok();
  });
  EXPECT_TRUE(rows.ok()) << rows.error().message;
  return value;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Small migrations of our own, so these tests do not depend on the real
// schema; the first one is slow, to make two migrators overlap.
constexpr Migration kTestMigrations[] = {
    {1, "001_a", "CREATE TABLE a (x INT); SELECT pg_sleep(0.3);"},
    {2, "002_b", "CREATE TABLE b (y INT); INSERT INTO a VALUES (1);"},
    {3, "003_c", "CREATE FUNCTION c() RETURNS int LANGUAGE sql AS $$ SELECT 3 $$;"},
};

TEST(PgMigrations, EmbedsEverySchemaFileVerbatimInOrder) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(LF_PG_SCHEMA_DIR)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  auto migrations = embedded_postgresql_migrations();
  ASSERT_EQ(migrations.size(), files.size());
  ASSERT_GE(migrations.size(), 1u);
  EXPECT_EQ(latest_postgresql_schema_version(), static_cast<int>(files.size()));
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i + 1));
    EXPECT_EQ(std::string(migrations[i].name) + ".sql", files[i].filename().string());
    EXPECT_EQ(migrations[i].sql, read_file(files[i]));
  }
}

TEST(PgMigrations, AFreshDatabaseGetsEveryEmbeddedMigration) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  int version = -1;
  Status migrated = migrate_postgresql(*session, &version);
  ASSERT_TRUE(migrated) << migrated.message();
  EXPECT_EQ(version, latest_postgresql_schema_version());
  EXPECT_EQ(count(*session, "SELECT max(version) FROM lfbatch_schema"),
            latest_postgresql_schema_version());
  EXPECT_EQ(count(*session, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                            " AND tablename IN ('jobs', 'attempts', 'runs')"),
            3);
  // applied_at is the server's clock in ms.
  EXPECT_LE(count(*session, "SELECT abs(max(applied_at) - extract(epoch FROM now()) * 1000)::bigint"
                            " FROM lfbatch_schema"),
            60000);
}

TEST(PgMigrations, MigratingTwiceChangesNothing) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  int version = -1;
  ASSERT_TRUE(migrate_postgresql(*session, kTestMigrations, &version));
  EXPECT_EQ(version, 3);
  const std::int64_t applied = count(*session, "SELECT sum(applied_at) FROM lfbatch_schema");
  ASSERT_TRUE(migrate_postgresql(*session, kTestMigrations, &version));
  EXPECT_EQ(version, 3);
  EXPECT_EQ(count(*session, "SELECT count(*) FROM lfbatch_schema"), 3);
  EXPECT_EQ(count(*session, "SELECT sum(applied_at) FROM lfbatch_schema"), applied);
  EXPECT_EQ(count(*session, "SELECT count(*) FROM a"), 1);
  // And the real schema, twice.
  PgDatabaseForTest real;
  ASSERT_TRUE(real.ok());
  auto other = real.connect();
  ASSERT_TRUE(other);
  ASSERT_TRUE(migrate_postgresql(*other, &version));
  Status again = migrate_postgresql(*other, &version);
  ASSERT_TRUE(again) << again.message();
  EXPECT_EQ(version, latest_postgresql_schema_version());
}

TEST(PgMigrations, TwoSessionsMigratingAtOnceApplyEachMigrationOnce) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto first = db.connect();
  auto second = db.connect();
  ASSERT_TRUE(first && second);
  Status first_status;
  Status second_status;
  int first_version = -1;
  int second_version = -1;
  std::thread one([&] { first_status = migrate_postgresql(*first, kTestMigrations, &first_version); });
  std::thread two([&] { second_status = migrate_postgresql(*second, kTestMigrations, &second_version); });
  one.join();
  two.join();
  ASSERT_TRUE(first_status) << first_status.message();
  ASSERT_TRUE(second_status) << second_status.message();
  EXPECT_EQ(first_version, 3);
  EXPECT_EQ(second_version, 3);
  EXPECT_EQ(count(*first, "SELECT count(*) FROM lfbatch_schema"), 3);
  EXPECT_EQ(count(*first, "SELECT count(*) FROM a"), 1);  // 002 ran once
}

TEST(PgMigrations, TheRealSchemaMigratesAtOnceFromTwoSessions) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto first = db.connect();
  auto second = db.connect();
  ASSERT_TRUE(first && second);
  Status first_status;
  Status second_status;
  int first_version = -1;
  int second_version = -1;
  std::thread one([&] { first_status = migrate_postgresql(*first, &first_version); });
  std::thread two([&] { second_status = migrate_postgresql(*second, &second_version); });
  one.join();
  two.join();
  ASSERT_TRUE(first_status) << first_status.message();
  ASSERT_TRUE(second_status) << second_status.message();
  EXPECT_EQ(first_version, latest_postgresql_schema_version());
  EXPECT_EQ(second_version, latest_postgresql_schema_version());
}

TEST(PgMigrations, ADatabaseOfANewerLfbatchIsRefused) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE(migrate_postgresql(*session, kTestMigrations, nullptr));
  int version = -1;
  Status older = migrate_postgresql(*session, std::span(kTestMigrations).first(2), &version);
  ASSERT_FALSE(older);
  EXPECT_NE(older.message().find(session->name()), std::string::npos) << older.message();
  EXPECT_NE(older.message().find("newer lfbatch (schema 3, this binary knows 2)"), std::string::npos)
      << older.message();
  EXPECT_NE(older.message().find("upgrade lfbatch"), std::string::npos) << older.message();
  EXPECT_EQ(version, 3);
  EXPECT_EQ(count(*session, "SELECT count(*) FROM lfbatch_schema"), 3);
}

TEST(PgMigrations, ADatabaseWithOtherTablesIsRefused) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->exec("CREATE TABLE customers (id INT); CREATE TABLE orders (id INT)"));
  Status refused = migrate_postgresql(*session, kTestMigrations, nullptr);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find(session->name() + " is not a linkface-batch database"),
            std::string::npos)
      << refused.message();
  EXPECT_NE(refused.message().find("customers, orders"), std::string::npos) << refused.message();
  EXPECT_EQ(count(*session, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"), 2);
}

TEST(PgMigrations, AFailedMigrationKeepsTheOnesBeforeItAndSaysWhich) {
  PgDatabaseForTest db;
  ASSERT_TRUE(db.ok());
  auto session = db.connect();
  ASSERT_TRUE(session);
  const Migration broken[] = {
      kTestMigrations[0],
      {2, "002_broken", "CREATE TABLE b (y INT); INSERT INTO no_such_table VALUES (1);"},
  };
  int version = -1;
  Status failed = migrate_postgresql(*session, broken, &version);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.message().find("cannot migrate to schema 2 (002_broken)"), std::string::npos)
      << failed.message();
  EXPECT_NE(failed.message().find("no_such_table"), std::string::npos) << failed.message();
  EXPECT_EQ(version, 1);
  EXPECT_EQ(count(*session, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                            " AND tablename = 'b'"),
            0);
  ASSERT_TRUE(migrate_postgresql(*session, kTestMigrations, &version));
  EXPECT_EQ(version, 3);
}

}  // namespace
}  // namespace lf
