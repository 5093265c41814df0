// Config precedence (flags are applied by the caller; here file, environment,
// defaults), config errors, and the credentials' sources and permissions.
#include "cli/config.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/logging.h"

namespace lf {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kVariables[] = {"LFBATCH_ENDPOINT", "LFBATCH_DB",          "LFBATCH_CONCURRENCY",
                                      "LFBATCH_RATE",     "LFBATCH_CONFIG",      "LINKFACE_API_ID",
                                      "LINKFACE_API_SECRET"};

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kVariables) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      ::unsetenv(name);
    }
    std::string tmpl = (fs::temp_directory_path() / "lf_config_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const char* name : kVariables) ::unsetenv(name);
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
    fs::remove_all(dir_);
    clear_registered_secrets();
  }
  std::string write(const std::string& name, const std::string& text, fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    fs::permissions(path, perms);
    return path.string();
  }

  fs::path dir_;
  std::map<std::string, std::string> saved_;
};

TEST_F(ConfigTest, NoFileAndNoEnvironmentGivesDefaults) {
  auto config = load_config("");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->endpoint, kDefaultEndpoint);
  EXPECT_EQ(config->database, "lfbatch.db");
  EXPECT_EQ(config->concurrency, 16);
  EXPECT_EQ(config->retry.max_attempts, 5);
}

TEST_F(ConfigTest, FileValuesOverrideDefaults) {
  const auto path = write("c.json", R"({
    "endpoint": "http://127.0.0.1:8080/identity/handhold_idcard_verification",
    "database": "/var/lib/lf/q.db", "concurrency": 4, "rate": 2.5, "burst": 5,
    "retry": {"max_attempts": 3, "base_delay_ms": 100, "max_delay_ms": 1000},
    "timeouts": {"connect_ms": 500, "request_ms": 9000},
    "auto_rotate": true, "threshold": 0.8, "lease_seconds": 30, "insecure": true,
    "ca_file": "/etc/ssl/corp.pem", "secrets_file": "/etc/lf/secrets.json"})");
  auto config = load_config(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->endpoint, "http://127.0.0.1:8080/identity/handhold_idcard_verification");
  EXPECT_EQ(config->database, "/var/lib/lf/q.db");
  EXPECT_EQ(config->concurrency, 4);
  EXPECT_DOUBLE_EQ(config->rate, 2.5);
  EXPECT_DOUBLE_EQ(config->burst, 5);
  EXPECT_EQ(config->retry.max_attempts, 3);
  EXPECT_EQ(config->retry.base_delay_ms, 100);
  EXPECT_EQ(config->retry.max_delay_ms, 1000);
  EXPECT_EQ(config->timeouts.connect_ms, 500);
  EXPECT_EQ(config->timeouts.request_ms, 9000);
  EXPECT_TRUE(config->auto_rotate);
  EXPECT_DOUBLE_EQ(config->threshold, 0.8);
  EXPECT_EQ(config->lease_seconds, 30);
  EXPECT_TRUE(config->insecure);
  EXPECT_EQ(config->ca_file, "/etc/ssl/corp.pem");
  EXPECT_EQ(config->secrets_file, "/etc/lf/secrets.json");
}

TEST_F(ConfigTest, EnvironmentOverridesFile) {
  const auto path = write("c.json", R"({"endpoint": "http://a.example/x", "database": "/a.db",
                                       "concurrency": 4, "rate": 1})");
  ::setenv("LFBATCH_ENDPOINT", "https://b.example/y", 1);
  ::setenv("LFBATCH_DB", "/b.db", 1);
  ::setenv("LFBATCH_CONCURRENCY", "32", 1);
  ::setenv("LFBATCH_RATE", "7.5", 1);
  auto config = load_config(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->endpoint, "https://b.example/y");
  EXPECT_EQ(config->database, "/b.db");
  EXPECT_EQ(config->concurrency, 32);
  EXPECT_DOUBLE_EQ(config->rate, 7.5);
}

TEST_F(ConfigTest, LfbatchConfigNamesTheFileWhenNoPathIsGiven) {
  const auto from_env = write("env.json", R"({"concurrency": 3})");
  const auto given = write("given.json", R"({"concurrency": 5})");
  ::setenv("LFBATCH_CONFIG", from_env.c_str(), 1);
  auto config = load_config("");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->concurrency, 3);
  auto explicit_config = load_config(given);
  ASSERT_TRUE(explicit_config.ok());
  EXPECT_EQ(explicit_config->concurrency, 5);
}

TEST_F(ConfigTest, RelativePathsInTheFileAreRelativeToItsDirectory) {
  const auto path = write("c.json", R"({"database": "q.db", "secrets_file": "sub/s.json"})");
  auto config = load_config(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->database, (fs::absolute(dir_) / "q.db").string());
  EXPECT_EQ(config->secrets_file, (fs::absolute(dir_) / "sub/s.json").string());
}

TEST_F(ConfigTest, APostgresqlUrlIsTakenAsItIsNotAsARelativePath) {
  const auto path =
      write("c.json", R"({"database": "postgresql://batch@db.example.com:5433/lfbatch"})");
  auto config = load_config(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->database, "postgresql://batch@db.example.com:5433/lfbatch");
}

TEST_F(ConfigTest, UnknownKeyIsAnErrorNamingTheKeyAndFile) {
  const auto path = write("c.json", R"({"concurency": 4})");
  auto config = load_config(path);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message, HasSubstr("unknown key \"concurency\""));
  EXPECT_THAT(config.error().message, HasSubstr(path));
}

TEST_F(ConfigTest, UnknownNestedKeyIsNamedWithItsParent) {
  const auto path = write("c.json", R"({"retry": {"max_attempt": 4}})");
  auto config = load_config(path);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message, HasSubstr("\"retry.max_attempt\""));
}

TEST_F(ConfigTest, WrongTypeNamesKeyAndExpectedType) {
  struct Case {
    const char* json;
    const char* key;
    const char* expected;
  };
  for (const Case& c : {Case{R"({"concurrency": "16"})", "\"concurrency\"", "an integer"},
                        Case{R"({"concurrency": 1.5})", "\"concurrency\"", "an integer"},
                        Case{R"({"auto_rotate": "yes"})", "\"auto_rotate\"", "true or false"},
                        Case{R"({"endpoint": 5})", "\"endpoint\"", "a string"},
                        Case{R"({"rate": "fast"})", "\"rate\"", "a number"},
                        Case{R"({"timeouts": 5})", "\"timeouts\"", "an object"},
                        Case{R"({"timeouts": {"connect_ms": null}})", "\"timeouts.connect_ms\"", "an integer"}}) {
    const auto path = write("c.json", c.json);
    auto config = load_config(path);
    ASSERT_FALSE(config.ok()) << c.json;
    EXPECT_THAT(config.error().message, HasSubstr(c.key)) << c.json;
    EXPECT_THAT(config.error().message, HasSubstr(c.expected)) << c.json;
  }
}

TEST_F(ConfigTest, OutOfRangeValuesAreErrors) {
  for (const char* json : {R"({"concurrency": 0})", R"({"threshold": 1.5})", R"({"rate": -1})",
                           R"({"retry": {"max_attempts": 0}})", R"({"concurrency": 99999999999})",
                           R"({"retry": {"base_delay_ms": 5000, "max_delay_ms": 10}})"}) {
    const auto path = write("c.json", json);
    EXPECT_FALSE(load_config(path).ok()) << json;
  }
}

TEST_F(ConfigTest, InvalidJsonAndMissingFileNameTheFile) {
  const auto bad = write("bad.json", "{\"concurrency\": 4,");
  auto config = load_config(bad);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message, HasSubstr(bad));
  EXPECT_THAT(config.error().message, HasSubstr("not valid JSON"));
  // nlohmann throws out_of_range, not parse_error, for a number beyond a double.
  const auto huge = write("huge.json", R"({"rate": 1e999})");
  auto overflow = load_config(huge);
  ASSERT_FALSE(overflow.ok());
  EXPECT_THAT(overflow.error().message, HasSubstr("not valid JSON"));
  EXPECT_THAT(overflow.error().message, HasSubstr(huge));
  const std::string missing = (dir_ / "nope.json").string();
  auto none = load_config(missing);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().message, HasSubstr(missing));
}

TEST_F(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  ::setenv("LFBATCH_CONCURRENCY", "lots", 1);
  auto config = load_config("");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message, HasSubstr("LFBATCH_CONCURRENCY"));
  ::unsetenv("LFBATCH_CONCURRENCY");
  ::setenv("LFBATCH_RATE", "5/s", 1);
  config = load_config("");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message, HasSubstr("LFBATCH_RATE"));
}

TEST_F(ConfigTest, EndpointMustBeHttpOrHttps) {
  ::setenv("LFBATCH_ENDPOINT", "ftp://example.com/x", 1);
  auto config = load_config("");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message, HasSubstr("endpoint"));
}

TEST_F(ConfigTest, CredentialsFromEnvironmentWin) {
  const auto secrets = write("s.json", R"({"api_id": "file-id", "api_secret": "file-secret"})");
  Config config;
  config.secrets_file = secrets;
  ::setenv("LINKFACE_API_ID", "env-id", 1);
  ::setenv("LINKFACE_API_SECRET", "env-secret", 1);
  auto creds = load_credentials(config);
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  EXPECT_EQ(creds->api_id, "env-id");
  EXPECT_EQ(creds->api_secret, "env-secret");
}

TEST_F(ConfigTest, OnlyOneCredentialVariableIsAnError) {
  ::setenv("LINKFACE_API_ID", "env-id", 1);
  auto creds = load_credentials(Config{});
  ASSERT_FALSE(creds.ok());
  EXPECT_THAT(creds.error().message, HasSubstr("LINKFACE_API_SECRET"));
}

TEST_F(ConfigTest, NoCredentialsSaysWhatToSet) {
  auto creds = load_credentials(Config{});
  ASSERT_FALSE(creds.ok());
  EXPECT_THAT(creds.error().message, HasSubstr("LINKFACE_API_ID"));
  EXPECT_THAT(creds.error().message, HasSubstr("secrets_file"));
}

TEST_F(ConfigTest, PrivateSecretsFileIsRead) {
  Config config;
  config.secrets_file = write("s.json", R"({"api_id": "id1", "api_secret": "s3cr3t-value"})");
  auto creds = load_credentials(config);
  ASSERT_TRUE(creds.ok()) << creds.error().message;
  EXPECT_EQ(creds->api_id, "id1");
  EXPECT_EQ(creds->api_secret, "s3cr3t-value");
}

TEST_F(ConfigTest, SecretsFileReadableByOthersIsRefusedWithChmodFix) {
  Config config;
  for (fs::perms extra : {fs::perms::group_read, fs::perms::others_read}) {
    config.secrets_file = write("s.json", R"({"api_id": "id1", "api_secret": "s3cr3t-value"})",
                                fs::perms::owner_read | fs::perms::owner_write | extra);
    auto creds = load_credentials(config);
    ASSERT_FALSE(creds.ok());
    EXPECT_THAT(creds.error().message, HasSubstr("chmod 600 " + config.secrets_file));
  }
}

TEST_F(ConfigTest, SecretsFileErrorsNeverQuoteTheSecret) {
  Config config;
  config.secrets_file = write("s.json", R"({"api_id": "id1", "api_secret": "s3cr3t-value" "oops"})");
  auto creds = load_credentials(config);
  ASSERT_FALSE(creds.ok());
  EXPECT_THAT(creds.error().message, HasSubstr("not valid JSON"));
  EXPECT_EQ(creds.error().message.find("s3cr3t"), std::string::npos) << creds.error().message;
  config.secrets_file = write("s.json", R"({"api_id": "id1", "api_secret": "s3cr3t-value", "n": 1e999})");
  auto overflow = load_credentials(config);
  ASSERT_FALSE(overflow.ok());
  EXPECT_THAT(overflow.error().message, HasSubstr("not valid JSON"));
  EXPECT_EQ(overflow.error().message.find("s3cr3t"), std::string::npos) << overflow.error().message;
}

TEST_F(ConfigTest, SecretsFileWithoutSecretIsAnError) {
  Config config;
  config.secrets_file = write("s.json", R"({"api_id": "id1"})");
  auto creds = load_credentials(config);
  ASSERT_FALSE(creds.ok());
  EXPECT_THAT(creds.error().message, HasSubstr("api_secret"));
}

TEST_F(ConfigTest, LoadedSecretIsRedactedFromLogText) {
  Config config;
  config.secrets_file = write("s.json", R"({"api_id": "id1", "api_secret": "s3cr3t-value"})");
  ASSERT_TRUE(load_credentials(config).ok());
  EXPECT_EQ(redact("sending s3cr3t-value now"), "sending *** now");
}

TEST_F(ConfigTest, MetricsFileIsAPathRelativeToTheConfigFile) {
  const auto path = write("c.json", R"({"metrics_file": "metrics/lfbatch.prom"})");
  auto config = load_config(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->metrics_file, (dir_ / "metrics/lfbatch.prom").string());
  const auto wrong = write("w.json", R"({"metrics_file": 3})");
  auto bad = load_config(wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("\"metrics_file\" must be a string"));
}

}  // namespace
}  // namespace lf
