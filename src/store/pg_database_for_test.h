// For pg_store_test: a schema of its own, fresh for one test, in the
// throwaway cluster the CTest fixture "pg" starts (pg_cluster_start,
// scripts/pg_cluster.sh). CTest runs each test as a process of its own, in
// parallel, against that one cluster: a schema per test keeps them apart.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "store/pg_session.h"

namespace lf {

class PgDatabaseForTest {
 public:
  // Fails the test (and ok() is false) without a cluster to use.
  PgDatabaseForTest() {
    const char* file = std::getenv("LF_TEST_PG_URL_FILE");
    if (file == nullptr) {
      ADD_FAILURE() << "LF_TEST_PG_URL_FILE is not set: run these tests through ctest "
                       "(ctest -R Pg starts the cluster), or start one with "
                       "`scripts/pg_cluster.sh start DIR` and set LF_TEST_PG_URL_FILE=DIR/url";
      return;
    }
    std::ifstream in(file);
    std::getline(in, base_url_);
    if (base_url_.empty()) {
      ADD_FAILURE() << file << " holds no URL: did the test pg_cluster_start fail?";
      return;
    }
    static std::atomic<int> counter{0};
    schema_ = "lf_test_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    auto admin = PgSession::connect(base_url_);
    if (!admin.ok()) {
      ADD_FAILURE() << admin.error().message;
      return;
    }
    Status created = (*admin)->exec("CREATE SCHEMA " + schema_);
    if (!created) {
      ADD_FAILURE() << created.message();
      return;
    }
    ok_ = true;
  }
  ~PgDatabaseForTest() {
    if (!ok_) return;
    auto admin = PgSession::connect(base_url_);
    if (admin.ok()) (void)(*admin)->exec("DROP SCHEMA " + schema_ + " CASCADE");
  }
  PgDatabaseForTest(const PgDatabaseForTest&) = delete;
  PgDatabaseForTest& operator=(const PgDatabaseForTest&) = delete;

  bool ok() const { return ok_; }
  // The cluster's database lfbatch, e.g. postgresql://postgres@127.0.0.1:PORT/lfbatch.
  const std::string& base_url() const { return base_url_; }
  const std::string& schema() const { return schema_; }
  // base_url() with the test's schema first in search_path (kept across
  // reconnect(), unlike a SET).
  std::string url() const { return base_url_ + "?options=-csearch_path%3D" + schema_; }

  // A session in the test's schema; null (and the test failed) if it fails.
  std::unique_ptr<PgSession> connect() const {
    auto session = PgSession::connect(url());
    if (!session.ok()) {
      ADD_FAILURE() << session.error().message;
      return nullptr;
    }
    return std::move(*session);
  }

 private:
  std::string base_url_;
  std::string schema_;
  bool ok_ = false;
};

}  // namespace lf
