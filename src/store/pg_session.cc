// PgSession over libpq: connecting with the password kept out of messages,
// prepared statements cached per SQL text, rows streamed in single-row mode.
#include "store/pg_session.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>

#include "store/pg_placeholders.h"
#include "store/pg_url.h"

namespace lf {
namespace {

struct ResultCloser {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultCloser>;

// libpq's messages span lines ("...failed: Connection refused\n\tIs the
// server running...?\n"): one line, single spaces.
std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// What to do about a failed connection, from libpq's (English) message.
std::string connect_fix(const std::string& message) {
  const std::string m = lowercase(message);
  if (contains(m, "password authentication failed") || contains(m, "no password supplied") ||
      contains(m, "authentication failed")) {
    return "put the password in ~/.pgpass or the file PGPASSFILE names "
           "(HOST:PORT:DATABASE:USER:PASSWORD, mode 0600), or check the user in --db";
  }
  if (contains(m, "no pg_hba.conf entry")) {
    return "allow this host, user and database in the server's pg_hba.conf, or fix the user and "
           "database in --db";
  }
  if (contains(m, "database") && contains(m, "does not exist")) {
    return "create the database (createdb NAME) or fix its name in --db";
  }
  if (contains(m, "role") && contains(m, "does not exist")) {
    return "create the role (createuser NAME) or fix the user in --db";
  }
  if (contains(m, "ssl") || contains(m, "certificate")) {
    return "check sslmode in --db or PGSSLMODE, and the server's certificate";
  }
  if (contains(m, "too many") || contains(m, "starting up") || contains(m, "shutting down") ||
      contains(m, "recovery")) {
    return "the server is busy or restarting: try again later";
  }
  return "is the server running? start it or fix the host/port in --db";
}

// libpq's connection failure, one line per address tried, each followed by
// a tab-indented hint ("\tIs the server running on that host...?") that
// connect_fix says better: the lines joined by "; ", without the hints.
std::string connect_reason(std::string_view message) {
  std::string reason;
  while (!message.empty()) {
    const std::size_t newline = message.find('\n');
    const std::string_view line = message.substr(0, newline);
    message = newline == std::string_view::npos ? std::string_view() : message.substr(newline + 1);
    if (line.empty() || line.front() == '\t') continue;
    if (!reason.empty()) reason += "; ";
    reason += one_line(line);
  }
  return reason;
}

Error connect_error(const std::string& name, const std::string& url,
                    const std::string& libpq_message, const std::vector<std::string>& secrets) {
  const std::string reason =
      redact(redact_quoted(connect_reason(libpq_message), url, secrets), secrets);
  return Error{"cannot connect to the PostgreSQL database " + name + ": " + reason + "; " +
               connect_fix(reason)};
}

void ignore_notice(void*, const char*) {
  // NOTICEs and WARNINGs ("there is no transaction in progress", "table
  // ... does not exist, skipping") would go to stderr by default, between
  // lfbatch's own lines. Every failure that matters comes as an error.
}

std::string excerpt(std::string_view sql) {
  std::string text = one_line(sql.substr(0, 200));
  if (text.size() > 60) text = text.substr(0, 60) + "...";
  return "\"" + text + "\"";
}

// The offset of the first byte that does not belong to a valid UTF-8
// sequence (overlong forms, surrogates and code points over U+10FFFF are
// invalid, as PostgreSQL has them), or npos.
std::size_t invalid_utf8_at(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    unsigned min = 0;
    unsigned code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      length = 2, min = 0x80, code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3, min = 0x800, code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4, min = 0x10000, code = c & 0x07;
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    for (std::size_t k = 1; k < length; ++k) {
      const unsigned char cont = static_cast<unsigned char>(text[i + k]);
      if ((cont & 0xc0) != 0x80) return i;
      code = (code << 6) | (cont & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += length;
  }
  return std::string_view::npos;
}

std::string hex_byte(unsigned char byte) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[byte >> 4] + kDigits[byte & 0xf];
}

// A double as text that float8in reads back as the same double.
std::string double_text(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

// The server's words for a failed result: message, detail and hint.
std::string result_message(const PGresult* result, PGconn* conn) {
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (primary == nullptr) {
    const char* whole = result ? PQresultErrorMessage(result) : "";
    if (whole == nullptr || *whole == '\0') whole = PQerrorMessage(conn);
    return one_line(whole);
  }
  std::string message = one_line(primary);
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
    message += " (" + one_line(detail) + ")";
  }
  if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) {
    message += "; " + one_line(hint);
  }
  return message;
}

std::string result_sqlstate(const PGresult* result) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state ? state : "";
}

// Row `row` of a result; the result outlives it.
class PgRow : public SqlRow {
 public:
  PgRow(const PGresult* result, int row) : result_(result), row_(row) {}

  int columns() const override { return PQnfields(result_); }
  bool is_null(int column) const override { return PQgetisnull(result_, row_, column) != 0; }
  std::string_view text(int column) const override {
    const char* value = PQgetvalue(result_, row_, column);
    if (value == nullptr) return {};  // no such column
    return std::string_view(value, static_cast<std::size_t>(PQgetlength(result_, row_, column)));
  }
  std::int64_t integer(int column) const override {
    const std::string_view value = text(column);
    if (value == "t") return 1;
    if (value == "f") return 0;
    std::int64_t number = 0;
    std::from_chars(value.data(), value.data() + value.size(), number);
    return number;
  }
  // std::from_chars rather than strtod: the same digits whatever the
  // process's LC_NUMERIC.
  double real(int column) const override {
    std::string_view value = text(column);
    double number = 0;
    if (!value.empty() && value.front() == '+') value.remove_prefix(1);
    std::from_chars(value.data(), value.data() + value.size(), number);
    return number;
  }

 private:
  const PGresult* result_;
  int row_;
};

}  // namespace

void PgSession::Closer::operator()(pg_conn* conn) const { PQfinish(conn); }

PgSession::PgSession(std::unique_ptr<pg_conn, Closer> conn, std::string url, std::string name,
                     std::vector<std::string> secrets)
    : conn_(std::move(conn)),
      url_(std::move(url)),
      name_(std::move(name)),
      secrets_(std::move(secrets)) {}

PgSession::~PgSession() = default;

Result<std::unique_ptr<PgSession>> PgSession::connect(const std::string& url) {
  if (!is_postgresql_url(url)) {
    // Not echoed: a libpq keyword string ("host=... password=...") may
    // carry a password outside any place we know to redact.
    return Error{"the PostgreSQL database is not given as a URL; write it as "
                 "postgresql://USER@HOST:PORT/DATABASE (the password in ~/.pgpass)"};
  }
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error);
  if (options == nullptr) {
    const std::vector<std::string> guesses = url_secrets(url, /*parsed=*/false);
    const std::string reason =
        parse_error ? redact(redact_quoted(one_line(parse_error), url, guesses), guesses)
                    : std::string("out of memory");
    PQfreemem(parse_error);
    return Error{"cannot read the PostgreSQL URL " + redact(url_without_password(url), guesses) +
                 ": " + reason +
                 "; write it as postgresql://USER@HOST:PORT/DATABASE with special characters "
                 "percent-encoded, and the password in ~/.pgpass rather than in the URL"};
  }
  std::vector<std::string> secrets = url_secrets(url, /*parsed=*/true);
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    const std::string_view keyword = option->keyword;
    if ((keyword == "password" || keyword == "sslpassword") && option->val && *option->val) {
      secrets.emplace_back(option->val);
    }
  }
  PQconninfoFree(options);
  std::string name = redact(url_without_password(url), secrets);

  // Keywords in order, later ones winning: defaults the URL may override,
  // the URL (expand_dbname), then what the session's text handling relies
  // on and the URL may not change.
  std::vector<const char*> keywords = {"fallback_application_name"};
  std::vector<const char*> values = {"lfbatch"};
  if (std::getenv("PGCONNECT_TIMEOUT") == nullptr) {
    keywords.push_back("connect_timeout");
    values.push_back("10");
  }
  keywords.push_back("dbname");
  values.push_back(url.c_str());
  keywords.push_back("client_encoding");
  values.push_back("UTF8");
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<pg_conn, Closer> conn(
      PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (!conn) return Error{"cannot connect to the PostgreSQL database " + name + ": out of memory"};
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return connect_error(name, url, PQerrorMessage(conn.get()), secrets);
  }
  PQsetNoticeProcessor(conn.get(), &ignore_notice, nullptr);
  return std::unique_ptr<PgSession>(
      new PgSession(std::move(conn), url, std::move(name), std::move(secrets)));
}

bool PgSession::connection_lost() const { return PQstatus(conn_.get()) == CONNECTION_BAD; }

bool PgSession::in_transaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_.get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

int PgSession::backend_pid() const { return PQbackendPID(conn_.get()); }

Status PgSession::reconnect() {
  PQreset(conn_.get());
  prepared_.clear();
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    return connect_error(name_, url_, PQerrorMessage(conn_.get()), secrets_);
  }
  return Status::Ok();
}

Error PgSession::failure(std::string_view what, const std::string& message,
                         const std::string& sqlstate) {
  last_sqlstate_ = sqlstate;
  std::string text = std::string(what) + " on " + name_ + ": " + message;
  if (connection_lost()) {
    if (last_sqlstate_.empty()) last_sqlstate_ = "08006";  // connection_failure
    text += " (the connection to the server is lost: reconnect, and if that fails, check that "
            "the server is running)";
  }
  return Error{std::move(text)};
}

Result<std::string> PgSession::simple(std::string_view sql, std::string_view what) {
  last_sqlstate_.clear();
  const std::string text(sql);
  PgResult result(PQexec(conn_.get(), text.c_str()));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    return failure(what, result_message(result.get(), conn_.get()), result_sqlstate(result.get()));
  }
  return std::string(PQcmdStatus(result.get()));
}

Status PgSession::exec(std::string_view sql) {
  Result<std::string> tag = simple(sql, "running " + excerpt(sql));
  if (!tag) return tag.error();
  return Status::Ok();
}

Status PgSession::begin_read() {
  if (in_transaction()) {
    return Error{"a transaction is already open on " + name_ + " (begin_read without commit or rollback)"};
  }
  Result<std::string> tag =
      simple("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "starting a read transaction");
  if (!tag) return tag.error();
  return Status::Ok();
}

Status PgSession::begin_write() {
  if (in_transaction()) {
    return Error{"a transaction is already open on " + name_ + " (begin_write without commit or rollback)"};
  }
  Result<std::string> tag = simple("BEGIN", "starting a write transaction");
  if (!tag) return tag.error();
  return Status::Ok();
}

Status PgSession::commit() {
  if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) {
    return Error{"no transaction is open on " + name_ + " to commit"};
  }
  Result<std::string> tag = simple("COMMIT", "committing");
  if (!tag) return tag.error();
  // COMMIT of an aborted transaction succeeds, as a ROLLBACK.
  if (*tag == "ROLLBACK") {
    return failure("committing",
                   "the transaction was rolled back, not committed: a statement in it failed",
                   "25P02");  // in_failed_sql_transaction
  }
  return Status::Ok();
}

void PgSession::rollback() {
  if (connection_lost() || PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) return;
  PgResult result(PQexec(conn_.get(), "ROLLBACK"));
}

Result<std::string> PgSession::prepared_name(std::string_view sql) {
  if (auto found = prepared_.find(sql); found != prepared_.end()) return found->second;
  if (prepared_.size() >= kMaxPrepared) return std::string();
  std::string name = "lf_" + std::to_string(next_statement_++);
  const std::string text = rewrite_placeholders(sql);
  PgResult result(PQprepare(conn_.get(), name.c_str(), text.c_str(), 0, nullptr));
  if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return failure("preparing " + excerpt(sql), result_message(result.get(), conn_.get()),
                   result_sqlstate(result.get()));
  }
  prepared_.emplace(std::string(sql), name);
  return name;
}

Result<std::int64_t> PgSession::query(std::string_view sql, const std::vector<SqlParam>& params,
                                      const SqlRowCallback& on_row) {
  last_sqlstate_.clear();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::string* text = std::get_if<std::string>(&params[i]);
    if (text && text->find('\0') != std::string::npos) {
      return failure("running " + excerpt(sql),
                     "parameter ?" + std::to_string(i + 1) +
                         " holds a NUL byte, which PostgreSQL text cannot store; encode the "
                         "value before binding it",
                     "22021");  // character_not_in_repertoire, as the server says of 0x00
    }
  }
  bool plan_changed = false;
  Result<std::int64_t> rows = run_streamed(sql, params, on_row, &plan_changed);
  // The statement failed before its first row, and outside a transaction
  // nothing is lost by running it again, prepared afresh.
  if (!rows && plan_changed && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) {
    rows = run_streamed(sql, params, on_row, &plan_changed);
  }
  return rows;
}

Result<std::int64_t> PgSession::run_streamed(std::string_view sql,
                                             const std::vector<SqlParam>& params,
                                             const SqlRowCallback& on_row, bool* plan_changed) {
  *plan_changed = false;
  Result<std::string> name = prepared_name(sql);
  if (!name) return name.error();

  // Parameters as text; the strings behind `values` live in `texts` or in
  // `params` until the statement is sent.
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (std::size_t i = 0; i < params.size(); ++i) {
    std::visit(
        [&](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::int64_t>) {
            texts[i] = std::to_string(value);
            values[i] = texts[i].c_str();
          } else if constexpr (std::is_same_v<T, double>) {
            texts[i] = double_text(value);
            values[i] = texts[i].c_str();
          } else if constexpr (std::is_same_v<T, std::string>) {
            values[i] = value.c_str();
          }
        },
        params[i]);
  }
  const int count = static_cast<int>(params.size());
  const bool in_transaction = PQtransactionStatus(conn_.get()) != PQTRANS_IDLE;
  int sent = 0;
  if (name->empty()) {
    const std::string text = rewrite_placeholders(sql);
    sent = PQsendQueryParams(conn_.get(), text.c_str(), count, nullptr, values.data(), nullptr,
                             nullptr, 0);
  } else {
    sent = PQsendQueryPrepared(conn_.get(), name->c_str(), count, values.data(), nullptr, nullptr, 0);
  }
  if (!sent) return failure("sending " + excerpt(sql), one_line(PQerrorMessage(conn_.get())), "");
  PQsetSingleRowMode(conn_.get());

  // Every result is read, up to the null that ends the statement, whatever
  // fails on the way: only then can the connection take the next one.
  std::int64_t handed = 0;
  std::int64_t changed = -1;
  std::optional<Error> callback_error;
  // The server's error, turned into an Error once every result is read:
  // only then does libpq know whether the connection survived it.
  std::optional<std::pair<std::string, std::string>> server_error;  // message, SQLSTATE
  while (PGresult* raw = PQgetResult(conn_.get())) {
    PgResult result(raw);
    switch (PQresultStatus(raw)) {
      // One row in single-row mode; the end of the rows (none in it) or,
      // had single-row mode been refused, all of them.
      case PGRES_SINGLE_TUPLE:
      case PGRES_TUPLES_OK: {
        const int rows = PQntuples(raw);
        for (int row = 0; row < rows && !callback_error && !server_error; ++row) {
          ++handed;
          Status status = on_row(PgRow(raw, row));
          if (status) continue;
          callback_error = status.error();
          if (!in_transaction) {
            if (PGcancel* cancel = PQgetCancel(conn_.get())) {
              char ignored[256];
              PQcancel(cancel, ignored, sizeof ignored);
              PQfreeCancel(cancel);
            }
          }
        }
        break;
      }
      case PGRES_COMMAND_OK: {
        const char* tuples = PQcmdTuples(raw);
        changed = 0;
        std::from_chars(tuples, tuples + std::strlen(tuples), changed);
        break;
      }
      case PGRES_EMPTY_QUERY:
        break;
      default: {
        if (callback_error || server_error) break;  // e.g. our cancel's "canceling statement"
        std::string sqlstate = result_sqlstate(raw);
        std::string message = result_message(raw, conn_.get());
        if (sqlstate == "22021") {
          for (std::size_t i = 0; i < params.size(); ++i) {
            const std::string* text = std::get_if<std::string>(&params[i]);
            const std::size_t at = text ? invalid_utf8_at(*text) : std::string_view::npos;
            if (at == std::string_view::npos) continue;
            message = "parameter ?" + std::to_string(i + 1) + " is not valid UTF-8 (byte " +
                      hex_byte(static_cast<unsigned char>((*text)[at])) + " at offset " +
                      std::to_string(at) + "): " + message +
                      "; PostgreSQL text is UTF-8: encode other bytes before binding them";
            break;
          }
        }
        if (sqlstate == "0A000" && !name->empty()) {
          // "cached plan must not change result type": the prepared
          // statement is dead for good. Deallocated when possible; inside a
          // transaction (now aborted) it stays on the server under a name
          // never used again, until the connection closes.
          *plan_changed = true;
          if (auto found = prepared_.find(sql); found != prepared_.end()) prepared_.erase(found);
        }
        server_error.emplace(std::move(message), std::move(sqlstate));
        break;
      }
    }
  }
  if (*plan_changed && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) {
    PgResult result(PQexec(conn_.get(), ("DEALLOCATE " + *name).c_str()));
  }
  if (callback_error) {
    last_sqlstate_.clear();
    return *callback_error;
  }
  if (server_error) {
    return failure("running " + excerpt(sql), server_error->first, server_error->second);
  }
  if (changed >= 0 && handed == 0) return changed;
  return handed;
}

}  // namespace lf
