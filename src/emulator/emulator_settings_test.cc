// lfemu's config parsing: what is accepted, and errors that name the key.
#include "emulator/emulator_settings.h"

#include <gtest/gtest.h>


namespace lf {
namespace {

TEST(EmulatorSettings, TheExampleConfigParses) {
  auto config = load_lfemu_config(LF_LFEMU_EXAMPLE_CONFIG);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_FALSE(config->emulator.accounts.empty());
}

TEST(EmulatorSettings, ParsesServerServiceDefaultsAndAccounts) {
  auto config = parse_lfemu_config(R"({
    "_comment": "ignored",
    "server": {"host": "0.0.0.0", "port": 0, "threads": 2, "body_limit_bytes": 7000000},
    "service": {"seed": 9, "allow_remote_downloads": true},
    "defaults": {"rps": 10, "fail_rate": 0.1},
    "accounts": [
      {"api_id": "a", "api_secret": "x", "expires_at": "2030-01-02T03:04:05Z", "quota": 5},
      {"api_id": "b", "api_secret": "y", "permission": false, "rps": null}
    ]})");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server.host, "0.0.0.0");
  EXPECT_EQ(config->server.threads, 2);
  EXPECT_EQ(config->server.body_limit_bytes, 7000000u);
  EXPECT_EQ(config->emulator.service.seed, 9u);
  EXPECT_TRUE(config->emulator.service.allow_remote_downloads);
  ASSERT_EQ(config->emulator.accounts.size(), 2u);
  const auto& a = config->emulator.accounts[0];
  EXPECT_EQ(format_iso8601_utc(*a.expires_at), "2030-01-02T03:04:05Z");
  auto knobs = resolve_knobs(merge_knobs(config->emulator.defaults, a.knobs));
  EXPECT_EQ(knobs.quota, 5);
  EXPECT_EQ(knobs.rps, 10);
  EXPECT_EQ(knobs.burst, 1);  // rps/10
  EXPECT_DOUBLE_EQ(knobs.fail_rate, 0.1);
  EXPECT_FALSE(config->emulator.accounts[1].permission);
}

TEST(EmulatorSettings, UnknownKeysAndBadValuesAreNamed) {
  auto typo = parse_lfemu_config(R"({"defaults": {"fial_rate": 0.1}})");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("defaults.fial_rate"), std::string::npos);
  auto range = parse_lfemu_config(R"({"accounts": [{"api_id": "a", "api_secret": "b",
                                      "fail_rate": 2}]})");
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.error().message.find("accounts[0].fail_rate"), std::string::npos);
  auto twice = parse_lfemu_config(R"({"accounts": [{"api_id": "a", "api_secret": "b"},
                                                    {"api_id": "a", "api_secret": "c"}]})");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("twice"), std::string::npos);
  EXPECT_FALSE(parse_lfemu_config("{not json").ok());
}

TEST(EmulatorSettings, ExpiryBeyondWhatTheClockHoldsIsAnError) {
  for (const char* doc : {R"({"accounts": [{"api_id": "a", "api_secret": "b", "expires_at": 83468102400000000}]})",
                          R"({"accounts": [{"api_id": "a", "api_secret": "b", "expires_at": -83468102400000000}]})",
                          R"({"accounts": [{"api_id": "a", "api_secret": "b", "expires_at": 18446744073709551615}]})",
                          R"({"accounts": [{"api_id": "a", "api_secret": "b", "expires_at": "4615-01-01T00:00:00Z"}]})"}) {
    auto config = parse_lfemu_config(doc);
    ASSERT_FALSE(config.ok()) << doc;
    EXPECT_NE(config.error().message.find("accounts[0].expires_at"), std::string::npos)
        << config.error().message;
  }
  auto fine = parse_lfemu_config(R"({"accounts": [{"api_id": "a", "api_secret": "b", "expires_at": 1700000000000}]})");
  ASSERT_TRUE(fine.ok()) << fine.error().message;
}

// Found by fuzzing (tests/fuzz/lfemu_config/regressions): nlohmann throws
// out_of_range, not parse_error, for a number beyond a double.
TEST(EmulatorSettings, ANumberTooLargeForADoubleIsAnErrorNotACrash) {
  auto big = parse_lfemu_config(R"({"defaults": {"fail_rate": 1e999}})");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("not valid JSON"), std::string::npos) << big.error().message;
}

TEST(EmulatorSettings, AccountFlagSplitsAtTheFirstColon) {
  auto a = parse_account_flag("id:se:cret");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->api_id, "id");
  EXPECT_EQ(a->api_secret, "se:cret");
  EXPECT_FALSE(parse_account_flag("nocolon").ok());
  EXPECT_FALSE(parse_account_flag(":secret").ok());
}

TEST(EmulatorSettings, Iso8601WithOffsetAndFraction) {
  auto t = parse_iso8601_utc("2030-01-02T11:04:05.250+08:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_iso8601_utc(*t), "2030-01-02T03:04:05Z");
  EXPECT_FALSE(parse_iso8601_utc("2030-13-02T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601_utc("tomorrow"));
  // Found by fuzzing: beyond system_clock's nanoseconds (about 2262) the
  // conversion overflowed (UB) instead of being refused.
  EXPECT_FALSE(parse_iso8601_utc("9999-12-31T23:59:59Z"));
  EXPECT_TRUE(parse_iso8601_utc("2261-12-31T23:59:59Z"));
}

}  // namespace
}  // namespace lf
