// Prepared statements and transactions over the SQLite C API.
#include "store/statement.h"

#include <utility>

#include "store/database.h"

namespace lf {

Error sqlite_error(sqlite3* db, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db ? sqlite3_errmsg(db) : "out of memory";
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  if (file && *file) {
    message += " (database ";
    message += file;
    message += ")";
    if (db) message += sqlite_failure_fix(sqlite3_extended_errcode(db), file);
  }
  return Error{std::move(message)};
}

Status exec_sql(sqlite3* db, std::string_view sql) {
  std::string text(sql);
  if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return sqlite_error(db, "SQL failed");
  }
  return Status::Ok();
}

Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqlite_error(db, "preparing \"" + std::string(sql.substr(0, 60)) + "...\"");
  }
  return Statement(stmt);
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::note_bind(int rc) {
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

Statement& Statement::bind_int64(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind_double(int index, double value) {
  note_bind(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  note_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind_null(int index) {
  note_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Statement& Statement::bind_text_or_null(int index, std::string_view value) {
  return value.empty() ? bind_null(index) : bind_text(index, value);
}

Statement& Statement::bind_optional(int index, const std::optional<double>& value) {
  return value ? bind_double(index, *value) : bind_null(index);
}

Statement& Statement::bind_optional(int index, const std::optional<std::int64_t>& value) {
  return value ? bind_int64(index, *value) : bind_null(index);
}

Result<bool> Statement::step() {
  sqlite3* db = sqlite3_db_handle(stmt_);
  if (bind_error_ != SQLITE_OK) {
    return Error{std::string("binding a parameter of \"") + sqlite3_sql(stmt_) +
                 "\": " + sqlite3_errstr(bind_error_)};
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string what = "running \"";
  what += std::string_view(sqlite3_sql(stmt_)).substr(0, 60);
  what += "...\"";
  Error error = sqlite_error(db, what);
  sqlite3_reset(stmt_);
  return error;
}

Status Statement::run() {
  for (;;) {
    Result<bool> row = step();
    if (!row) return row.error();
    if (!*row) return Status::Ok();
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

bool Statement::column_is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::column_double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::column_text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return column_int64(column);
}

std::optional<double> Statement::column_optional_double(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return column_double(column);
}

Result<Transaction> Transaction::begin(sqlite3* db, Mode mode) {
  const bool nested = sqlite3_get_autocommit(db) == 0;
  const char* sql = nested ? "SAVEPOINT lf_store"
                    : mode == Mode::kWrite ? "BEGIN IMMEDIATE"
                                           : "BEGIN DEFERRED";
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return sqlite_error(db, nested ? "starting a savepoint" : "starting a transaction");
  }
  return Transaction(db, nested);
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), savepoint_(other.savepoint_) {}

Transaction::~Transaction() { roll_back(); }

Status Transaction::commit() {
  if (!db_) return Error{"commit of a transaction that already ended"};
  const char* sql = savepoint_ ? "RELEASE lf_store" : "COMMIT";
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    Error error = sqlite_error(db_, "committing");
    roll_back();
    return error;
  }
  db_ = nullptr;
  return Status::Ok();
}

void Transaction::roll_back() {
  if (!db_) return;
  if (savepoint_) {
    sqlite3_exec(db_, "ROLLBACK TO lf_store; RELEASE lf_store", nullptr, nullptr, nullptr);
  } else if (sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  db_ = nullptr;
}

}  // namespace lf
