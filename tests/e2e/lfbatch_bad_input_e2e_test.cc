// Hostile and broken input, one table (issue 11): each row gives lfbatch (or
// lfemu) one bad input — a flag, a config, a source, an image, a database, a
// server — through the real binaries, real files and real loopback sockets,
// and asserts
//   (a) what the user sees names the input and the fix (`says`),
//   (b) the exit code (for lfemu rows: the HTTP status),
//   (c) nothing else was harmed: a good job queued first (or beside the bad
//       source) still ends done with its score after a clean run against
//       lfemu, every other file in the scene is byte for byte the same, the
//       database opens and `lfbatch status` works.
// The expected codes and messages are plain data in kRows, so a change of
// behaviour is a change of one row. The page tests/e2e/bad_inputs.md is
// generated from the rows (`lfbatch_bad_input_e2e_test --bad-inputs-page`);
// BadInputsPage.MatchesTheRows fails when it drifts.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bad_input_servers.h"
#include "image/synthetic_image.h"
#include "lfbatch_harness.h"
#include "lfemu_harness.h"

namespace lf::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kApiPath = "/identity/handhold_idcard_verification";
constexpr const char* kApiId = "bad-input";
constexpr const char* kSecret = "bad-input-secret-0123";
// The good job's image carries this score for lfemu.
constexpr const char* kGoodMarker = "LFEMU:score=0.8312";
constexpr double kGoodScore = 0.8312;

// ---------------------------------------------------------------------------
// The scene of one row: a temp dir with a database, a good image and a good
// config; lfbatch run in it with the credentials in the environment.

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool sh(const std::string& command) { return std::system(command.c_str()) == 0; }

std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Scene {
  TempDir temp;
  std::string dir = temp.path();
  std::string db = dir + "/q.db";
  std::string good = dir + "/good.png";
  std::string config;                 // a good config: lfemu, the database, short timeouts
  std::uint16_t lfemu_port = 0;
  std::uint16_t port = 0;             // the row's own server, if any ({port})
  std::vector<std::shared_ptr<void>> keep;  // alive until the row's checks end (last out first)

  ~Scene() {
    while (!keep.empty()) keep.pop_back();
  }

  std::string lfemu_url() const { return "http://127.0.0.1:" + std::to_string(lfemu_port) + kApiPath; }
  std::string write(const std::string& name, const std::string& bytes) const {
    const fs::path p = fs::path(dir) / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  void write_config() { config = write_config_as("lfbatch.json"); }
  // The good config with `extra` members, written as `name`.
  std::string write_config_as(const std::string& name, const std::string& extra = "",
                              int request_ms = 1500) const {
    return write(name,
                   "{\"endpoint\": \"" + lfemu_url() + "\", \"database\": \"" + db +
                       "\", \"concurrency\": 2, \"timeouts\": {\"connect_ms\": 300, \"request_ms\": " +
                       std::to_string(request_ms) + "},"
                       " \"retry\": {\"max_attempts\": 2, \"base_delay_ms\": 10, \"max_delay_ms\": 20}" +
                       extra + "}");
  }
  // lfbatch in the scene, with the credentials in the environment.
  ProcessResult lfbatch(const std::vector<std::string>& args, RunOptions options = {}) const {
    if (options.cwd.empty()) options.cwd = dir;
    if (options.timeout == 120s) options.timeout = 30s;
    options.env.emplace("LINKFACE_API_ID", kApiId);
    options.env.emplace("LINKFACE_API_SECRET", kSecret);
    return run_lfbatch(args, options);
  }
  // lfbatch without credentials in the environment (and `env` on top).
  ProcessResult bare(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) const {
    RunOptions o;
    o.cwd = dir;
    o.timeout = 30s;
    o.env = std::move(env);
    return run_lfbatch(args, o);
  }
  // `lfbatch run` with the good config, sent to `endpoint` instead of lfemu.
  ProcessResult run_against(const std::string& endpoint, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"run", "--config", config, "--progress", "none", "--endpoint", endpoint};
    args.insert(args.end(), extra.begin(), extra.end());
    return lfbatch(args);
  }
  ProcessResult enqueue(std::vector<std::string> sources) const {
    std::vector<std::string> args = {"enqueue", "--db", db};
    args.insert(args.end(), sources.begin(), sources.end());
    return lfbatch(args);
  }
};

// A read-only look at a database: rows of text.
std::vector<std::vector<std::string>> query(const std::string& db, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db << ": " << sqlite3_errmsg(handle);
    sqlite3_close(handle);
    return rows;
  }
  sqlite3_busy_timeout(handle, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(handle);
  }
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const unsigned char* t = sqlite3_column_text(st, i);
      row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  sqlite3_close(handle);
  return rows;
}

std::string sql_text(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

// state, api_status (or transport code), verify_score of the job for `source`.
std::vector<std::vector<std::string>> job_of(const std::string& db, const std::string& source) {
  return query(db, "SELECT state, coalesce(api_status, ''), coalesce(verify_score, '') FROM jobs WHERE source = " +
                       sql_text(source));
}

// Every regular file under `dir` (symlinks and special files not followed
// or opened) but the database's own, with its bytes.
std::map<std::string, std::string> snapshot(const std::string& dir, const std::string& db) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const auto status = it->symlink_status(ec);
    if (ec || !fs::is_regular_file(status)) continue;
    const std::string p = it->path().string();
    if (p.rfind(db, 0) == 0) continue;  // q.db, -wal, -shm, .unsaved-results.jsonl
    files[p] = slurp(p);
  }
  return files;
}

// ---------------------------------------------------------------------------
// The table.

enum class Area { kCli, kConfig, kSource, kImage, kDatabase, kNetwork, kEmulator };

const char* area_name(Area a) {
  switch (a) {
    case Area::kCli: return "command line";
    case Area::kConfig: return "config";
    case Area::kSource: return "queue: sources";
    case Area::kImage: return "images";
    case Area::kDatabase: return "database";
    case Area::kNetwork: return "network";
    case Area::kEmulator: return "lfemu";
  }
  return "?";
}

// Where the good job comes from.
enum class Good {
  kQueuedFirst,   // the scene queues it before the row acts
  kQueuedBeside,  // the row's own enqueue names it beside the bad source
};

struct Row {
  std::string name;   // the test's name
  Area area;
  std::string input;  // what is wrong (or odd), in words
  int exit_code;      // lfbatch's exit code; for lfemu rows, the HTTP status
  // Fragments of what the user sees (stderr + stdout; for lfemu rows, the
  // answer's body). Placeholders: {dir} the scene, {db} its database,
  // {port} the row's server, {lfemu} lfemu's port.
  std::vector<std::string> says;
  std::function<ProcessResult(Scene&)> act;
  Good good = Good::kQueuedFirst;
  // The good job's state right after the act: "pending", "leased", "done",
  // or "failed:CODE" (then `lfbatch retry --status CODE` re-queues it
  // before the clean run, as its message tells the user).
  std::string good_after = "pending";
  // Runs before the scene is made (e.g. mounts a small disk); a non-empty
  // answer skips the row with that reason.
  std::function<std::string(Scene&)> setup;
  // After the checks of (a) and (b), before the clean run: undo the bad
  // condition (free the disk, stop the other runner).
  std::function<void(Scene&)> heal;
  // Further checks, after the clean run.
  std::function<void(Scene&)> verify;
  std::string also;  // what else is checked, for the page
  std::string good_score = "0.8312";  // the good job's verify_score at the end
  // Whether `lfbatch status` and the good job can be read before heal (not
  // on a read-only file system without the WAL's -shm file).
  bool readable_while_bad = true;
};

// A row with the rest of its members at their defaults.
Row make_row(std::string name, Area area, std::string input, int exit_code, std::vector<std::string> says,
             std::function<ProcessResult(Scene&)> act, Good good = Good::kQueuedFirst,
             std::string good_after = "pending") {
  Row row;
  row.name = std::move(name);
  row.area = area;
  row.input = std::move(input);
  row.exit_code = exit_code;
  row.says = std::move(says);
  row.act = std::move(act);
  row.good = good;
  row.good_after = std::move(good_after);
  return row;
}

std::string expand(std::string text, const Scene& s) {
  const std::pair<std::string, std::string> subst[] = {
      {"{dir}", s.dir}, {"{db}", s.db}, {"{port}", std::to_string(s.port)},
      {"{lfemu}", std::to_string(s.lfemu_port)}};
  for (const auto& [key, value] : subst) {
    for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size())) {
      text.replace(at, key.size(), value);
    }
  }
  return text;
}

ProcessResult http_result(const HttpReply& reply) {
  ProcessResult r;
  r.exit_code = reply.ok ? reply.status : -1;
  r.out = reply.body;
  r.err = reply.error;
  return r;
}

// Helpers for rows.
std::string good_image() { return make_image(ImageFormat::kPng, 40, 30, kGoodMarker); }

std::string mount_tmpfs(Scene& s, const std::string& name, const std::string& size) {
  const std::string where = s.path(name);
  fs::create_directories(where);
  const std::string options = "size=" + size + ",mode=0755";
  if (::mount("tmpfs", where.c_str(), "tmpfs", 0, options.c_str()) != 0) {
    return "cannot mount a tmpfs at " + where + " (" + std::strerror(errno) +
           "): needs root (CAP_SYS_ADMIN), as in CI";
  }
  s.keep.push_back(std::shared_ptr<void>(nullptr, [where](void*) { ::umount2(where.c_str(), MNT_DETACH); }));
  return {};
}

// Fills the file system holding `path` (a new file) until it is full.
void fill_disk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const std::string chunk(64 * 1024, 'f');
  for (int i = 0; i < 4096; ++i) {
    if (::write(fd, chunk.data(), chunk.size()) <= 0) break;
  }
  for (int i = 0; i < 64 * 1024; ++i) {  // the last partial block
    if (::write(fd, "f", 1) <= 0) break;
  }
  ::close(fd);
}

// Certificates made with the openssl CLI in `dir`: a CA, and a leaf for
// 127.0.0.1 signed by it (or self-signed), with `san` and `days` (negative:
// expired).
struct Certs {
  std::string ca, cert, key;
  bool ok = false;
};

Certs make_certs(const std::string& dir, const std::string& san, int days, bool self_signed) {
  Certs c{dir + "/ca.pem", dir + "/leaf.pem", dir + "/leaf.key"};
  const std::string q = " >/dev/null 2>&1";
  const std::string ext = dir + "/ext.cnf";
  std::ofstream(ext) << "subjectAltName=" << san << "\n";
  if (self_signed) {
    c.ok = sh("openssl req -x509 -newkey rsa:2048 -nodes -days " + std::to_string(days) +
              " -subj /CN=127.0.0.1 -addext subjectAltName=" + san + " -keyout " + c.key + " -out " +
              c.cert + q);
    c.ca = c.cert;
    return c;
  }
  c.ok = sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bad-input-test-ca -keyout " + dir +
            "/ca.key -out " + c.ca + q) &&
         sh("openssl req -newkey rsa:2048 -nodes -subj /CN=leaf -keyout " + c.key + " -out " + dir +
            "/leaf.csr" + q) &&
         sh("openssl x509 -req -in " + dir + "/leaf.csr -CA " + c.ca + " -CAkey " + dir +
            "/ca.key -set_serial 7 -days " + std::to_string(days) + " -extfile " + ext + " -out " + c.cert + q);
  return c;
}

// `openssl s_server` with `certs` on a loopback port, kept in the scene.
std::string start_tls_server(Scene& s, const Certs& certs) {
  if (!certs.ok) return "the openssl CLI could not make the certificates";
  s.port = closed_port();
  auto server = std::make_shared<ChildProcess>(std::vector<std::string>{
      "openssl", "s_server", "-quiet", "-www", "-accept", "127.0.0.1:" + std::to_string(s.port), "-cert",
      certs.cert, "-key", certs.key});
  s.keep.push_back(server);
  for (int i = 0; i < 100; ++i) {
    HttpConnection probe(s.port);
    if (probe.connected()) return {};
    std::this_thread::sleep_for(20ms);
  }
  return "openssl s_server did not start";
}

std::string tls_url(const Scene& s) { return "https://127.0.0.1:" + std::to_string(s.port) + kApiPath; }

FakeServer& fake(Scene& s, Misbehaviour m, std::string location = {}) {
  auto server = std::make_shared<FakeServer>(m, std::move(location));
  s.port = server->port();
  s.keep.push_back(server);
  return *server;
}

// A multipart request for lfemu with `file` as the file part.
std::string api_target() { return std::string(kApiPath) + "?api_id=" + kApiId + "&api_secret=" + kSecret; }

// The CSV row cells of `source` in `lfbatch report --columns source,state`.
std::string report_csv(const Scene& s) {
  const auto r = s.lfbatch({"report", "--db", s.db, "--columns", "source,state,verify_score"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// A row for a good path with odd bytes in its name: queued, verified and
// reported exactly as named.
Row odd_name_row(const std::string& name, const std::string& input, const std::string& file_name,
                 const std::string& csv_cell) {
  Row row = make_row(name, Area::kSource, input, 0, {"added 1, already queued/done/failed 0/0/0, rejected 0"},
          [file_name](Scene& s) {
            s.write(file_name, make_image(ImageFormat::kPng, 33, 27, kGoodMarker));
            return s.enqueue({s.path(file_name)});
          });
  row.verify = [file_name, csv_cell](Scene& s) {
    const auto job = job_of(s.db, s.path(file_name));
    ASSERT_EQ(job.size(), 1u) << "the source must be stored byte for byte";
    EXPECT_EQ(job[0][0], "done");
    EXPECT_EQ(job[0][2], "0.8312");
    const std::string cell = expand(csv_cell, s);
    EXPECT_NE(report_csv(s).find(cell + ",done,0.8312"), std::string::npos) << "CSV cell " << cell;
  };
  row.also = "queued, done with its score, the CSV report shows the name byte for byte (RFC 4180 quoting)";
  return row;
}

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = [] {
    std::vector<Row> t;

    // --- command line --------------------------------------------------
    t.push_back(make_row("UnknownFlag", Area::kCli, "`lfbatch enqueue --recursiv photos` (a misspelt flag)", 2,
                 {"--recursiv", "--help"},
                 [](Scene& s) { return s.lfbatch({"enqueue", "--db", s.db, "--recursiv", "photos"}); }));
    t.push_back(make_row("UnknownSubcommand", Area::kCli, "`lfbatch enqeue a.jpg` (a misspelt subcommand)", 2,
                 {"unknown subcommand \"enqeue\"", "init, enqueue, status, run", "lfbatch --help"}, [](Scene& s) { return s.lfbatch({"enqeue", "a.jpg"}); }));
    t.push_back(make_row("ConcurrencyZero", Area::kCli, "`lfbatch run --concurrency 0`", 2,
                 {"--concurrency 0", "give 1..4096"},
                 [](Scene& s) { return s.lfbatch({"run", "--config", s.config, "--concurrency", "0"}); }));
    t.push_back(make_row("UntilNotATime", Area::kCli, "`lfbatch run --until 25:00`", 2, {"--until", "25:00"},
                 [](Scene& s) { return s.lfbatch({"run", "--config", s.config, "--until", "25:00"}); }));
    t.push_back(make_row("NoDatabaseGiven", Area::kCli,
                 "`lfbatch status` with no --db, LFBATCH_DB or config (and no lfbatch.db here)", 3,
                 {"no database at lfbatch.db", "lfbatch init --db lfbatch.db", "--db / LFBATCH_DB"}, [](Scene& s) { return s.bare({"status"}); }));

    // --- config --------------------------------------------------------
    t.push_back(make_row("ConfigNotJson", Area::kConfig, "a config file that is not valid JSON (a trailing comma)", 2,
                 {"{dir}/bad.json", "is not valid JSON"},
                 [](Scene& s) {
                   return s.lfbatch({"status", "--config", s.write("bad.json", "{\"concurrency\": 4,}")});
                 }));
    t.push_back(make_row("ConfigUnknownKey", Area::kConfig, "a config key misspelt (`concurrence`)", 2,
                 {"{dir}/bad.json", "unknown key \"concurrence\"", "check the spelling"},
                 [](Scene& s) {
                   return s.lfbatch({"status", "--config", s.write("bad.json", "{\"concurrence\": 4}")});
                 }));
    t.push_back(make_row("ConfigWrongType", Area::kConfig, "a config value of the wrong type (`\"concurrency\": \"8\"`)",
                 2, {"{dir}/bad.json", "key \"concurrency\" must be", "\"8\""},
                 [](Scene& s) {
                   return s.lfbatch({"status", "--config", s.write("bad.json", "{\"concurrency\": \"8\"}")});
                 }));
    t.push_back(make_row("ConfigMissing", Area::kConfig, "`--config` naming a file that does not exist", 2,
                 {"{dir}/nope.json", "check the path given by --config"},
                 [](Scene& s) { return s.lfbatch({"status", "--config", s.path("nope.json")}); }));
    t.push_back(make_row("EndpointNotAUrl", Area::kConfig, "the config's endpoint without a scheme (`cloudapi.linkface.cn`)", 2,
                 {"endpoint \"cloudapi.linkface.cn\"", "http:// or https://"},
                 [](Scene& s) {
                   const auto cfg = s.write("bad.json", "{\"endpoint\": \"cloudapi.linkface.cn\", \"database\": \"" +
                                                            s.db + "\"}");
                   return s.lfbatch({"run", "--config", cfg});
                 }));
    t.push_back(make_row("EnvConcurrencyNotANumber", Area::kConfig, "`LFBATCH_CONCURRENCY=lots`", 2,
                 {"LFBATCH_CONCURRENCY=\"lots\"", "whole number"},
                 [](Scene& s) {
                   RunOptions o;
                   o.env = {{"LFBATCH_CONCURRENCY", "lots"}};
                   return s.lfbatch({"status", "--db", s.db}, o);
                 }));
    t.push_back(make_row("MissingCredentials", Area::kConfig, "`lfbatch run` with no credentials anywhere", 78,
                 {"no API credentials", "LINKFACE_API_ID and LINKFACE_API_SECRET", "secrets_file"},
                 [](Scene& s) { return s.bare({"run", "--config", s.config}); }));
    t.push_back(make_row("HalfTheCredentials", Area::kConfig, "LINKFACE_API_ID set, LINKFACE_API_SECRET not", 78,
                 {"LINKFACE_API_ID is set but LINKFACE_API_SECRET is not", "set both"},
                 [](Scene& s) { return s.bare({"run", "--config", s.config}, {{"LINKFACE_API_ID", kApiId}}); }));
    {
      Row row = make_row("WorldReadableSecrets", Area::kConfig, "a secrets file readable by others (mode 0644)", 78,
              {"{dir}/secrets.json", "mode 0644", "chmod 600 {dir}/secrets.json"},
              [](Scene& s) {
                const auto secrets = s.write("secrets.json", std::string("{\"api_id\": \"") + kApiId +
                                                                 "\", \"api_secret\": \"" + kSecret + "\"}");
                ::chmod(secrets.c_str(), 0644);
                return s.bare({"run", "--config", s.write_config_as("bad.json", ",\"secrets_file\": \"" + secrets + "\"")});
              });
      row.also = "the secret is in no output";
      t.push_back(row);
    }
    t.push_back(make_row("SecretsNotJson", Area::kConfig, "a secrets file that is not JSON", 78,
                 {"secrets file {dir}/secrets.json is not valid JSON", "it must be"},
                 [](Scene& s) {
                   const auto secrets = s.write("secrets.json", "api_id=x\napi_secret=y\n");
                   ::chmod(secrets.c_str(), 0600);
                   return s.bare({"run", "--config", s.write_config_as("bad.json", ",\"secrets_file\": \"" + secrets + "\"")});
                 }));

    // --- sources -------------------------------------------------------
    t.push_back(make_row("MissingFile", Area::kSource, "a path that does not exist", 1,
                 {"rejected {dir}/missing.jpg: no such file or directory", "check the path"},
                 [](Scene& s) { return s.enqueue({s.good, s.path("missing.jpg")}); }, Good::kQueuedBeside));
    t.push_back(make_row("DirectoryWithoutRecursive", Area::kSource, "a directory without --recursive", 1,
                 {"rejected photos: is a directory", "add --recursive"},
                 [](Scene& s) {
                   s.write("photos/a.png", good_image());
                   return s.enqueue({s.good, "photos"});
                 },
                 Good::kQueuedBeside));
    {
      Row row = make_row("PermissionDenied", Area::kSource,
              "a file its reader may not read (mode 0600, another owner; lfbatch run as `nobody` through "
              "setpriv, since root reads anything)",
              1, {"rejected {dir}/secret.jpg: not readable", "chmod u+r"},
              [](Scene& s) {
                const auto secret = s.write("secret.jpg", good_image());
                ::chmod(secret.c_str(), 0600);
                sh("chown -R 65534:65534 " + shell_quoted(s.dir) + " && chown 0:0 " + shell_quoted(secret));
                RunOptions o;
                o.prefix = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
                return s.lfbatch({"enqueue", "--db", s.db, s.good, secret}, o);
              },
              Good::kQueuedBeside);
      row.setup = [](Scene&) -> std::string {
        if (::geteuid() != 0) return "needs root to run lfbatch as another user";
        if (!fs::exists("/usr/bin/setpriv")) return "no /usr/bin/setpriv (util-linux)";
        return {};
      };
      t.push_back(row);
    }
    t.push_back(make_row("Fifo", Area::kSource, "a named pipe (FIFO) with no writer", 1,
                 {"rejected {dir}/pipe.jpg: is a named pipe, not a regular file"},
                 [](Scene& s) {
                   ::mkfifo(s.path("pipe.jpg").c_str(), 0600);
                   return s.enqueue({s.good, s.path("pipe.jpg")});
                 },
                 Good::kQueuedBeside));
    t.push_back(make_row("SymlinkLoop", Area::kSource, "a symbolic link loop (a -> b -> a)", 1,
                 {"rejected {dir}/loop-a.jpg", "symbolic link", "loop"},
                 [](Scene& s) {
                   fs::create_symlink(s.path("loop-b.jpg"), s.path("loop-a.jpg"));
                   fs::create_symlink(s.path("loop-a.jpg"), s.path("loop-b.jpg"));
                   return s.enqueue({s.good, s.path("loop-a.jpg")});
                 },
                 Good::kQueuedBeside));
    t.push_back(make_row("DanglingSymlink", Area::kSource, "a symbolic link to nothing", 1,
                 {"rejected {dir}/dangling.jpg: a symbolic link to nothing", "fix or remove the link"},
                 [](Scene& s) {
                   fs::create_symlink(s.path("gone.jpg"), s.path("dangling.jpg"));
                   return s.enqueue({s.good, s.path("dangling.jpg")});
                 },
                 Good::kQueuedBeside));
    t.push_back(make_row("EmptySource", Area::kSource, "an empty argument (`\"\"`)", 1,
                 {"rejected \"\": empty source", "give a path"},
                 [](Scene& s) { return s.enqueue({s.good, ""}); }, Good::kQueuedBeside));
    t.push_back(odd_name_row("NameWithSpaces", "a good file whose name has spaces", "my photos/a b  c.png",
                             "{dir}/my photos/a b  c.png"));
    t.push_back(odd_name_row("NameWithNewline", "a good file whose name has a newline", "line\nbreak.png",
                             "\"{dir}/line\nbreak.png\""));
    t.push_back(odd_name_row("NameWithQuotes", "a good file whose name has quotes", "say \"cheese\" 'now'.png",
                             "\"{dir}/say \"\"cheese\"\" 'now'.png\""));
    t.push_back(odd_name_row("NameNotUtf8", "a good file whose name is not UTF-8 (GBK bytes)",
                             "\xd5\xc5\xc8\xfd.png", "{dir}/\xd5\xc5\xc8\xfd.png"));
    {
      Row row = make_row("ListWithBomAndCrlf", Area::kSource,
              "a list file (`--from-file`) with a UTF-8 BOM, CRLF line ends, a comment and a missing entry", 1,
              {"rejected {dir}/gone.jpg (list.txt:3): no such file or directory",
               "added 1, already queued/done/failed 0/0/0, rejected 1"},
              [](Scene& s) {
                s.write("list.txt", "\xEF\xBB\xBF" + s.good + "\r\n# a comment\r\n" + s.path("gone.jpg") + "\r\n\r\n");
                return s.lfbatch({"enqueue", "--db", s.db, "--from-file", "list.txt"});
              },
              Good::kQueuedBeside);
      row.also = "the BOM and CR are not part of the stored path";
      t.push_back(row);
    }
    t.push_back(make_row("ListFileMissing", Area::kSource, "`--from-file` naming a list that does not exist", 1,
                 {"rejected --from-file nope.txt: cannot open the list (No such file or directory)", "check the path"},
                 [](Scene& s) { return s.lfbatch({"enqueue", "--db", s.db, s.good, "--from-file", "nope.txt"}); },
                 Good::kQueuedBeside));
    t.push_back(make_row("MalformedUrl", Area::kSource, "a URL with a space in its host (`http://exa mple.com/a.jpg`)", 1,
                 {"rejected http://exa mple.com/a.jpg: not a valid URL", "percent-encode"},
                 [](Scene& s) { return s.enqueue({s.good, "http://exa mple.com/a.jpg"}); }, Good::kQueuedBeside));
    t.push_back(make_row("FtpUrl", Area::kSource, "an ftp:// URL", 1,
                 {"rejected ftp://127.0.0.1/a.jpg: URL scheme \"ftp\" is not supported",
                  "enqueue its local path instead"},
                 [](Scene& s) { return s.enqueue({s.good, "ftp://127.0.0.1/a.jpg"}); }, Good::kQueuedBeside));
    t.push_back(make_row("UrlWithoutHost", Area::kSource, "`http:///a.jpg` (no host)", 1,
                 {"rejected http:///a.jpg: URL has no host", "http://HOST/PATH"},
                 [](Scene& s) { return s.enqueue({s.good, "http:///a.jpg"}); }, Good::kQueuedBeside));
    t.push_back(make_row("FileIdWithSpace", Area::kSource, "`--file-id \"a b\"`", 1,
                 {"rejected --file-id \"a b\"", "as the API returned it"},
                 [](Scene& s) { return s.lfbatch({"enqueue", "--db", s.db, s.good, "--file-id", "a b"}); },
                 Good::kQueuedBeside));

    // --- images --------------------------------------------------------
    const auto preflight_row = [](std::string name, std::string input, std::string file, std::string bytes,
                                  std::string status, std::string reason) {
      Row row = make_row(std::move(name), Area::kImage, std::move(input), 0,
              {"added 2 (1 failed pre-flight"},
              [file, bytes](Scene& s) { return s.enqueue({s.good, s.write(file, bytes)}); }, Good::kQueuedBeside);
      row.verify = [file, status, reason](Scene& s) {
        const auto job = job_of(s.db, s.path(file));
        ASSERT_EQ(job.size(), 1u);
        EXPECT_EQ(job[0][0], "failed");
        EXPECT_EQ(job[0][1], status);
        const auto why = query(s.db, "SELECT reason, decided_by FROM jobs WHERE source = " + sql_text(s.path(file)));
        ASSERT_EQ(why.size(), 1u);
        EXPECT_NE(why[0][0].find(reason), std::string::npos) << why[0][0];
        EXPECT_EQ(why[0][1], "preflight");
      };
      row.also = "the job is failed " + status + " by pre-flight (\"" + reason + "\"), nothing sent";
      return row;
    };
    t.push_back(preflight_row("ZeroBytes", "a 0-byte file", "empty.jpg", "", "CORRUPT_IMAGE", "empty"));
    t.push_back(preflight_row("TruncatedJpeg", "a JPEG cut in half", "cut.jpg",
                              truncate_image(make_image(ImageFormat::kJpeg, 64, 48), 200), "CORRUPT_IMAGE",
                              "JPEG"));
    t.push_back(preflight_row("TextNamedJpg", "a text file named .jpg", "notes.jpg", "just some notes\n",
                              "CORRUPT_IMAGE", "not"));
    t.push_back(preflight_row("TooWide", "a PNG 4001 px wide", "wide.png", make_image(ImageFormat::kPng, 4001, 30),
                              "INVALID_IMAGE_FORMAT_OR_SIZE", "width over 4000 px"));
    t.push_back(preflight_row("OverFiveMegabytes", "a 6 MB JPEG", "big.jpg",
                              make_image(ImageFormat::kJpeg, 64, 48, "", 6 * 1024 * 1024),
                              "IMAGE_FILE_SIZE_TOO_BIG", "5 MB"));
    {
      Row row = make_row("FileGoneBeforeRun", Area::kImage, "a queued file deleted before `lfbatch run`", 0,
              {"{dir}/gone.png"},
              [](Scene& s) {
                const auto gone = s.write("gone.png", make_image(ImageFormat::kPng, 31, 31, kGoodMarker));
                s.enqueue({gone});
                fs::remove(gone);
                return s.lfbatch({"run", "--config", s.config, "--progress", "none", "-v"});
              },
              Good::kQueuedFirst, "done");
      row.verify = [](Scene& s) {
        const auto job = job_of(s.db, s.path("gone.png"));
        ASSERT_EQ(job.size(), 1u);
        EXPECT_EQ(job[0][0], "failed");
        EXPECT_EQ(job[0][1], "LOCAL_FILE_ERROR");
      };
      row.also = "the job is failed LOCAL_FILE_ERROR, nothing sent; the good job is done in the same run";
      t.push_back(row);
    }
    {
      Row row = make_row("FileReplacedByFifo", Area::kImage, "a queued file replaced by a FIFO before `lfbatch run`", 0,
              {},
              [](Scene& s) {
                const auto pipe = s.write("pipe.png", make_image(ImageFormat::kPng, 31, 31, kGoodMarker));
                s.enqueue({pipe});
                fs::remove(pipe);
                ::mkfifo(pipe.c_str(), 0600);
                return s.lfbatch({"run", "--config", s.config, "--progress", "none"});
              },
              Good::kQueuedFirst, "done");
      row.verify = [](Scene& s) {
        const auto job = query(s.db, "SELECT state, api_status, reason FROM jobs WHERE source = " +
                                         sql_text(s.path("pipe.png")));
        ASSERT_EQ(job.size(), 1u);
        EXPECT_EQ(job[0][0], "failed");
        EXPECT_EQ(job[0][1], "LOCAL_FILE_ERROR");
        EXPECT_NE(job[0][2].find("not a regular file"), std::string::npos) << job[0][2];
      };
      row.also = "the run does not hang on it: the job is failed LOCAL_FILE_ERROR (\"not a regular file\")";
      t.push_back(row);
    }

    // --- database ------------------------------------------------------
    t.push_back(make_row("DatabaseMissing", Area::kDatabase, "`--db` naming a database that does not exist", 3,
                 {"no database at {dir}/other.db", "lfbatch init --db {dir}/other.db"},
                 [](Scene& s) { return s.lfbatch({"status", "--db", s.path("other.db")}); }));
    t.push_back(make_row("DatabaseNotSqlite", Area::kDatabase, "`--db` naming a file that is not SQLite (a JPEG)", 3,
                 {"{dir}/photo.db is not a linkface-batch database"},
                 [](Scene& s) {
                   return s.lfbatch({"enqueue", "--db", s.write("photo.db", good_image()), s.good});
                 }));
    t.push_back(make_row("DatabaseOfAnotherApp", Area::kDatabase, "`--db` naming another application's SQLite database",
                 3, {"{dir}/other.db is an SQLite database", "another application"},
                 [](Scene& s) {
                   sh("sqlite3 " + shell_quoted(s.path("other.db")) + " 'CREATE TABLE songs(title TEXT);'");
                   return s.lfbatch({"status", "--db", s.path("other.db")});
                 }));
    t.push_back(make_row("DatabaseFromTheFuture", Area::kDatabase,
                 "a database whose schema version is above what this lfbatch knows", 3,
                 {"{dir}/future.db was written by a newer lfbatch", "upgrade"},
                 [](Scene& s) {
                   fs::copy_file(s.db, s.path("future.db"));
                   sh("sqlite3 " + shell_quoted(s.path("future.db")) + " 'PRAGMA user_version = 999;'");
                   return s.lfbatch({"status", "--db", s.path("future.db")});
                 }));
    t.push_back(make_row("DirectoryAtDatabasePath", Area::kDatabase, "`--db` naming a directory", 3,
                 {"{dir}/adir"},
                 [](Scene& s) {
                   fs::create_directories(s.path("adir"));
                   return s.lfbatch({"init", "--db", s.path("adir")});
                 }));
    {
      Row row = make_row("DatabaseHeldByAnotherRunner", Area::kDatabase,
              "`lfbatch run` while another `lfbatch run` works on the same database", 69,
              {"another lfbatch run (pid", "is working on {db}"},
              [](Scene& s) {
                // The first runner waits on a server that never answers.
                FakeServer& silent = fake(s, Misbehaviour::kNeverAnswers);
                const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + kApiPath;
                auto first = std::make_shared<ChildProcess>(
                    std::vector<std::string>{lfbatch_binary(), "run", "--config",
                                             s.write_config_as("slow.json", "", 30'000), "--progress", "none",
                                             "--endpoint", url},
                    s.db + ".first-run.log",
                    std::map<std::string, std::string>{{"LINKFACE_API_ID", kApiId}, {"LINKFACE_API_SECRET", kSecret}});
                s.keep.push_back(first);
                for (int i = 0; i < 500 && silent.connections() == 0; ++i) std::this_thread::sleep_for(10ms);
                return s.lfbatch({"run", "--config", s.config, "--progress", "none"});
              },
              Good::kQueuedFirst, "leased");
      // SIGKILLs the first runner (and stops its server); the clean run
      // recovers its lease.
      row.heal = [](Scene& s) { s.keep.clear(); };
      row.also = "the first runner is then SIGKILLed; the clean run takes its job back";
      t.push_back(row);
    }
    {
      Row row = make_row("DiskFull", Area::kDatabase, "the database's disk is full (a 1 MB tmpfs) during `lfbatch enqueue`", 3,
              {"{db}", "database or disk is full", "free space (df)"},
              [](Scene& s) {
                // Another reader holds the database open (its -wal and -shm
                // stay), as when the disk fills while it is in use.
                sqlite3* reader = nullptr;
                sqlite3_open_v2(s.db.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr);
                sqlite3_exec(reader, "SELECT count(*) FROM jobs", nullptr, nullptr, nullptr);
                s.keep.push_back(std::shared_ptr<sqlite3>(reader, sqlite3_close));
                fill_disk(s.db + ".filler");  // beside the database: not a scene file
                return s.lfbatch({"enqueue", "--db", s.db, "--from-file", s.path("urls.txt")});
              });
      row.setup = [](Scene& s) {
        std::string list;
        for (int i = 0; i < 20000; ++i) list += "http://127.0.0.1:9/photo-" + std::to_string(i) + ".jpg\n";
        s.write("urls.txt", list);
        auto why = mount_tmpfs(s, "disk", "1m");
        s.db = s.path("disk/q.db");
        return why;
      };
      row.heal = [](Scene& s) { fs::remove(s.db + ".filler"); };
      row.also = "`lfbatch status` still works on the full disk; none of the 20,000 URLs is half-queued";
      row.verify = [](Scene& s) {
        EXPECT_EQ(query(s.db, "SELECT count(*) FROM jobs")[0][0], "1") << "the failed enqueue left jobs behind";
      };
      t.push_back(row);
    }
    {
      Row row = make_row("DatabaseReadOnly", Area::kDatabase, "the database on a read-only file system", 3,
              {"{db}", "{db}-shm", "remount a read-only file system read-write"},
              [](Scene& s) {
                sh("mount -o remount,ro " + shell_quoted(s.path("ro")));
                return s.enqueue({s.path("another.png")});
              });
      row.setup = [](Scene& s) {
        s.write("another.png", make_image(ImageFormat::kPng, 35, 35));
        auto why = mount_tmpfs(s, "ro", "4m");
        s.db = s.path("ro/q.db");
        return why;
      };
      row.heal = [](Scene& s) { sh("mount -o remount,rw " + shell_quoted(s.path("ro"))); };
      row.readable_while_bad = false;
      row.also = "not readable either while read-only (SQLite's WAL needs its -shm file): `status` and the "
                 "good job are checked after remounting read-write";
      t.push_back(row);
    }

    // --- the runner meets a bad endpoint ----------------------------------
    t.push_back(make_row("EndpointUrlDoesNotParse", Area::kNetwork, "`--endpoint http://[::1` (does not parse)", 78,
                 {"http://[::1", "endpoint"},
                 [](Scene& s) { return s.run_against("http://[::1"); }));
    t.push_back(make_row("FtpEndpoint", Area::kNetwork, "`--endpoint ftp://127.0.0.1/x`", 78,
                 {"ftp://127.0.0.1/x", "only http and https are supported"},
                 [](Scene& s) { return s.run_against("ftp://127.0.0.1/x"); }));
    // An outage: the circuit opens after 8 failures in a row, probes, and
    // gives up after --outage-limit (1 s here, 30 min by default).
    t.push_back(make_row("RefusedConnection", Area::kNetwork,
                 "an endpoint whose port refuses connections (`--outage-limit 1s`)", 75,
                 {"could not be reached for 1s (--outage-limit; last: CONNECT_FAILED: cannot connect to 127.0.0.1:{port}: Connection refused)",
                  "jobs stay queued"},
                 [](Scene& s) {
                   s.port = closed_port();
                   return s.run_against("http://127.0.0.1:" + std::to_string(s.port) + kApiPath,
                                        {"--outage-limit", "1s", "--max-attempts", "20"});
                 }));
    t.push_back(make_row("UnreachableHost", Area::kNetwork,
                 "a host that drops every SYN (a loopback listener with a full accept queue; `--outage-limit 1s`)", 75,
                 {"could not be reached for 1s (--outage-limit; last: TIMEOUT: connecting to 127.0.0.1:{port} timed out after 300 ms)",
                  "jobs stay queued"},
                 [](Scene& s) {
                   fake(s, Misbehaviour::kFullBacklog);
                   return s.run_against("http://127.0.0.1:" + std::to_string(s.port) + kApiPath,
                                        {"--outage-limit", "1s", "--max-attempts", "20"});
                 }));
    {
      Row row = make_row("TlsCertificateForAnotherHost", Area::kNetwork,
              "an https endpoint whose certificate names another host (trusted CA, SAN other.example)", 78,
              {"TLS certificate of 127.0.0.1:{port} rejected (IP address mismatch)", "retrying cannot help",
               "the certificate is for another host"},
              [](Scene& s) { return s.run_against(tls_url(s), {"--ca-file", s.path("tls/ca.pem")}); });
      row.setup = [](Scene& s) {
        fs::create_directories(s.path("tls"));
        return start_tls_server(s, make_certs(s.path("tls"), "DNS:other.example", 2, false));
      };
      t.push_back(row);
    }
    {
      Row row = make_row("TlsCertificateExpired", Area::kNetwork, "an https endpoint whose certificate has expired", 78,
              {"TLS certificate of 127.0.0.1:{port} rejected (certificate has expired)", "renew"},
              [](Scene& s) { return s.run_against(tls_url(s), {"--ca-file", s.path("tls/ca.pem")}); });
      row.setup = [](Scene& s) {
        fs::create_directories(s.path("tls"));
        return start_tls_server(s, make_certs(s.path("tls"), "IP:127.0.0.1", -1, false));
      };
      t.push_back(row);
    }
    {
      Row row = make_row("TlsSelfSignedWithoutCaFile", Area::kNetwork, "an https endpoint with a self-signed certificate, no --ca-file",
              78, {"TLS certificate of 127.0.0.1:{port} rejected (self-signed certificate)", "--ca-file FILE or the config's \"ca_file\""},
              [](Scene& s) { return s.run_against(tls_url(s)); });
      row.setup = [](Scene& s) {
        fs::create_directories(s.path("tls"));
        return start_tls_server(s, make_certs(s.path("tls"), "IP:127.0.0.1", 2, true));
      };
      t.push_back(row);
    }
    t.push_back(make_row("ServerNeverAnswers", Area::kNetwork,
                 "a server that accepts, reads the request and never answers (request_ms 300, `--outage-limit 1s`)", 75,
                 {"could not be reached for 1s (--outage-limit; last: TIMEOUT: no complete response from 127.0.0.1:{port} within 300 ms)",
                  "jobs stay queued"},
                 [](Scene& s) {
                   fake(s, Misbehaviour::kNeverAnswers);
                   const std::string url = "http://127.0.0.1:" + std::to_string(s.port) + kApiPath;
                   return s.lfbatch({"run", "--config", s.write_config_as("short.json", "", 300), "--progress", "none",
                                     "--endpoint", url, "--outage-limit", "1s", "--max-attempts", "20"});
                 }));
    {
      Row row = make_row("Http10WithoutContentLength", Area::kNetwork,
              "a server answering HTTP/1.0 without Content-Length (the body ends at close)", 0,
              {"1 done, 0 failed"},
              [](Scene& s) {
                fake(s, Misbehaviour::kHttp10NoLength);
                return s.run_against("http://127.0.0.1:" + std::to_string(s.port) + kApiPath);
              },
              Good::kQueuedFirst, "done");
      row.good_score = "0.9125";
      row.also = "the answer read to the close is stored: the job is done with its score 0.9125";
      t.push_back(row);
    }
    t.push_back(make_row("Redirect", Area::kNetwork, "a server answering 307 with a Location (to lfemu)", 78,
                 {"REDIRECTED: from 127.0.0.1:{port}: HTTP 307 redirect to http://127.0.0.1:{lfemu}/identity/handhold_idcard_verification (query left out)",
                  "never follows redirects", "set --endpoint"},
                 [](Scene& s) {
                   // The Location echoes the query, secret and all, as an http -> https
                   // redirect does: the message must leave it out.
                   fake(s, Misbehaviour::kRedirect, s.lfemu_url() + "?api_id=" + kApiId + "&api_secret=" + kSecret);
                   return s.run_against("http://127.0.0.1:" + std::to_string(s.port) + kApiPath);
                 }));
    {
      Row row = make_row("AnswerOf100Megabytes", Area::kNetwork, "a server answering with a 100 MB body", 0,
              {"the answer from 127.0.0.1:{port} is longer than 1 MB", "check the endpoint"},
              [](Scene& s) {
                FakeServer& huge = fake(s, Misbehaviour::kHugeBody);
                auto r = s.run_against("http://127.0.0.1:" + std::to_string(s.port) + kApiPath, {"-v"});
                EXPECT_LT(huge.body_bytes_sent(), 50ull * 1024 * 1024) << "lfbatch read on past any sane answer";
                return r;
              },
              Good::kQueuedFirst, "failed:MALFORMED_RESPONSE");
      row.also = "lfbatch stops reading long before 100 MB";
      t.push_back(row);
    }

    // --- lfemu meets a bad client ------------------------------------------
    t.push_back(make_row("LfemuSixMegabyteUpload", Area::kEmulator, "a 6 MB file part sent to lfemu", 400,
                 {"IMAGE_FILE_SIZE_TOO_BIG"},
                 [](Scene& s) {
                   std::string content_type;
                   const auto body = multipart_body(
                       {{"file", make_image(ImageFormat::kJpeg, 64, 48, "", 6 * 1024 * 1024), "big.jpg", "image/jpeg"}},
                       &content_type);
                   return http_result(http_request(s.lfemu_port, "POST", api_target(), content_type, body));
                 }));
    t.push_back(make_row("LfemuMultipartWithoutFinalBoundary", Area::kEmulator,
                 "a multipart body with no final boundary sent to lfemu", 400,
                 {"INVALID_ARGUMENT", "body ends without the closing delimiter"},
                 [](Scene& s) {
                   std::string content_type;
                   std::string body = multipart_body({{"file", good_image(), "a.png", "image/png"}}, &content_type);
                   body.resize(body.rfind("\r\n--"));
                   return http_result(http_request(s.lfemu_port, "POST", api_target(), content_type, body));
                 }));
    {
      Row row = make_row("Lfemu10000IdleConnections", Area::kEmulator,
              "10,000 idle connections held open to lfemu, then a real request", 200,
              {"\"status\":\"OK\""},
              [](Scene& s) {
                rlimit limit{};
                ::getrlimit(RLIMIT_NOFILE, &limit);
                if (limit.rlim_cur < 10'500 && limit.rlim_max >= 10'500) {
                  limit.rlim_cur = limit.rlim_max;
                  ::setrlimit(RLIMIT_NOFILE, &limit);
                }
                auto idle = std::make_shared<std::vector<std::unique_ptr<HttpConnection>>>();
                s.keep.push_back(idle);
                for (int i = 0; i < 10'000; ++i) {
                  auto c = std::make_unique<HttpConnection>(s.lfemu_port);
                  if (!c->connected()) break;
                  idle->push_back(std::move(c));
                }
                EXPECT_EQ(idle->size(), 10'000u) << "could not open 10,000 connections (RLIMIT_NOFILE?)";
                std::string content_type;
                const auto body = multipart_body({{"file", good_image(), "a.png", "image/png"}}, &content_type);
                const auto started = std::chrono::steady_clock::now();
                auto r = http_result(http_request(s.lfemu_port, "POST", api_target(), content_type, body));
                EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "lfemu answered slowly";
                return r;
              });
      row.also = "lfemu answers within 2 s, and the clean run (while the 10,000 are still open) finishes";
      t.push_back(row);
    }
    return t;
  }();
  return kRows;
}

// ---------------------------------------------------------------------------
// One row.

// One lfemu for every row, started at the first row that needs it and
// stopped when the test program ends (its output must not outlive us).
class LfemuForRows : public ::testing::Environment {
 public:
  static LfemuProcess& get() {
    if (!lfemu_) {
      lfemu_ = std::make_unique<LfemuProcess>(
          std::vector<std::string>{"--account", std::string(kApiId) + ":" + kSecret, "--log-level", "error"});
    }
    return *lfemu_;
  }
  void TearDown() override { lfemu_.reset(); }

 private:
  static inline std::unique_ptr<LfemuProcess> lfemu_;
};

class BadInput : public ::testing::TestWithParam<std::size_t> {};

TEST_P(BadInput, NamesTheInputAndTheFixAndHarmsNothingElse) {
  const Row& row = rows()[GetParam()];
  LfemuProcess& lfemu = LfemuForRows::get();
  ASSERT_TRUE(lfemu.started()) << "lfemu did not start: " << lfemu_binary();

  Scene s;
  s.lfemu_port = lfemu.port();
  if (row.setup) {
    const std::string why = row.setup(s);
    if (!why.empty()) GTEST_SKIP() << why;
  }
  s.write_config();
  s.write("good.png", good_image());
  {
    const auto init = s.lfbatch({"init", "--db", s.db});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }
  if (row.good == Good::kQueuedFirst) {
    const auto q = s.enqueue({s.good});
    ASSERT_EQ(q.exit_code, 0) << q.err;
  }
  const auto before = snapshot(s.dir, s.db);

  const auto started = std::chrono::steady_clock::now();
  const ProcessResult r = row.act(s);
  const auto took = std::chrono::steady_clock::now() - started;
  const std::string seen = r.err + r.out;

  // (a) and (b): the message and the exit code.
  EXPECT_EQ(r.exit_code, row.exit_code) << seen;
  for (const auto& fragment : row.says) {
    EXPECT_NE(seen.find(expand(fragment, s)), std::string::npos)
        << "missing \"" << expand(fragment, s) << "\" in:\n" << seen;
  }
  EXPECT_EQ(seen.find(kSecret), std::string::npos) << "the secret reached the output:\n" << seen;
  EXPECT_LT(took, 20s) << "the row took " << std::chrono::duration<double>(took).count() << " s";

  // (c): nothing else harmed.
  if (row.area != Area::kEmulator) {
    const auto after = snapshot(s.dir, s.db);
    for (const auto& [path, bytes] : before) {
      auto it = after.find(path);
      if (it == after.end()) {
        ADD_FAILURE() << path << " disappeared";
      } else if (it->second != bytes) {
        ADD_FAILURE() << path << " changed";
      }
    }
  }
  if (!row.readable_while_bad && row.heal) row.heal(s);
  const auto status = s.lfbatch({"status", "--db", s.db, "--json"});
  EXPECT_EQ(status.exit_code, 0) << "lfbatch status after the row: " << status.err;
  const auto job = job_of(s.db, s.good);
  ASSERT_EQ(job.size(), 1u) << "the good job must be queued exactly once";
  const std::string good_after = row.good_after;
  const auto colon = good_after.find(':');
  EXPECT_EQ(job[0][0], good_after.substr(0, colon)) << "the good job right after the row";
  if (colon != std::string::npos) {
    EXPECT_EQ(job[0][1], good_after.substr(colon + 1));
  }

  if (row.readable_while_bad && row.heal) row.heal(s);
  if (colon != std::string::npos) {
    const auto retry = s.lfbatch({"retry", "--db", s.db, "--status", good_after.substr(colon + 1)});
    EXPECT_EQ(retry.exit_code, 0) << retry.err;
  }
  const auto clean = s.lfbatch({"run", "--config", s.config, "--progress", "none"});
  EXPECT_EQ(clean.exit_code, 0) << "the clean run: " << clean.err;
  const auto done = job_of(s.db, s.good);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0][0], "done") << clean.err;
  EXPECT_EQ(done[0][2], row.good_score) << "the good job's score";
  if (row.verify) row.verify(s);
  const auto status_after = s.lfbatch({"status", "--db", s.db});
  EXPECT_EQ(status_after.exit_code, 0) << status_after.err;
}

std::string row_name(const ::testing::TestParamInfo<std::size_t>& info) { return rows()[info.param].name; }

INSTANTIATE_TEST_SUITE_P(Rows, BadInput, ::testing::Range<std::size_t>(0, rows().size()), row_name);

// ---------------------------------------------------------------------------
// The page.

std::string cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

std::string code_span(const std::string& text) {
  // Non-UTF-8 bytes shown as \xNN, so the page stays valid UTF-8.
  std::string shown;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      shown += hex;
    } else {
      shown += text[i];
    }
  }
  const std::string fence = shown.find('`') != std::string::npos ? "`` " : "`";
  const std::string close = fence == "`` " ? " ``" : "`";
  return fence + cell(shown) + close;
}

std::string page() {
  std::ostringstream out;
  out << "# Bad inputs: what lfbatch and lfemu do with them\n\n"
         "Generated from the rows of `tests/e2e/lfbatch_bad_input_e2e_test.cc` by\n"
         "`build/tests/lfbatch_bad_input_e2e_test --bad-inputs-page > tests/e2e/bad_inputs.md`;\n"
         "the test `BadInputsPage.MatchesTheRows` fails when this page and the rows differ.\n\n"
         "Each row runs the real binaries on real files and loopback sockets, and checks that the\n"
         "output contains every fragment shown (`{dir}` is the row's directory, `{db}` its database,\n"
         "`{port}` the row's own server, `{lfemu}` lfemu's port), the exit code (for lfemu rows: the\n"
         "HTTP status), and that nothing else was harmed: a good job queued first (or beside the bad\n"
         "source) ends done with its score after a clean `lfbatch run`, every other file is unchanged,\n"
         "and `lfbatch status` works. \"Good job after\" is that job's state right after the row\n"
         "(`failed:CODE`: the clean run is preceded by `lfbatch retry --status CODE`).\n\n"
         "| area | input | the user sees (fragments) | exit | good job after | also checked |\n"
         "|---|---|---|---|---|---|\n";
  for (const Row& row : rows()) {
    std::string says;
    for (const auto& f : row.says) says += (says.empty() ? "" : "<br>") + code_span(f);
    out << "| " << area_name(row.area) << " | " << cell(row.input) << " | " << says << " | " << row.exit_code
        << " | " << (row.area == Area::kEmulator ? "pending" : row.good_after) << " | " << cell(row.also)
        << " |\n";
  }
  out << "\n" << rows().size() << " rows.\n";
  return out.str();
}

TEST(BadInputsPage, MatchesTheRows) {
  const std::string committed = slurp(LF_BAD_INPUTS_PAGE);
  EXPECT_TRUE(committed == page())
      << LF_BAD_INPUTS_PAGE << " differs from the rows; regenerate it with\n  "
      << "build/tests/lfbatch_bad_input_e2e_test --bad-inputs-page > tests/e2e/bad_inputs.md";
}

TEST(BadInputsPage, HasAtLeastFortyRows) { EXPECT_GE(rows().size(), 40u); }

}  // namespace
}  // namespace lf::e2e

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--bad-inputs-page") {
      std::cout << lf::e2e::page();
      return 0;
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new lf::e2e::LfemuForRows);
  return RUN_ALL_TESTS();
}
