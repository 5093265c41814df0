// The call log on its own: numbering, bounds, paging and its JSON Lines.
#include "emulator/call_log.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace lf {
namespace {

using nlohmann::json;

CallRecord record(std::string request_id) {
  CallRecord r;
  r.request_id = std::move(request_id);
  return r;
}

TEST(CallLog, OffRecordsNothing) {
  CallLog log(0);
  EXPECT_FALSE(log.enabled());
  EXPECT_EQ(log.append(record("TID1")), 0u);
  EXPECT_EQ(log.size(), 0u);
  EXPECT_TRUE(log.since(0, SIZE_MAX).empty());
}

TEST(CallLog, NumbersRecordsFromOneInOrder) {
  CallLog log(10);
  EXPECT_EQ(log.append(record("TID1")), 1u);
  EXPECT_EQ(log.append(record("TID2")), 2u);
  auto all = log.since(0, SIZE_MAX);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].seq, 1u);
  EXPECT_EQ(all[0].request_id, "TID1");
  EXPECT_EQ(all[1].seq, 2u);
  EXPECT_EQ(log.last_seq(), 2u);
  EXPECT_EQ(log.dropped(), 0u);
}

TEST(CallLog, KeepsTheNewestCapacityRecordsAndCountsTheDropped) {
  CallLog log(3);
  for (int i = 1; i <= 5; ++i) log.append(record("TID" + std::to_string(i)));
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.recorded(), 5u);
  EXPECT_EQ(log.dropped(), 2u);
  auto all = log.since(0, SIZE_MAX);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.front().seq, 3u);
  EXPECT_EQ(all.back().request_id, "TID5");
}

TEST(CallLog, SinceReturnsOnlyLaterRecordsUpToTheLimit) {
  CallLog log(100);
  for (int i = 1; i <= 10; ++i) log.append(record("TID" + std::to_string(i)));
  auto later = log.since(7, SIZE_MAX);
  ASSERT_EQ(later.size(), 3u);
  EXPECT_EQ(later.front().seq, 8u);
  auto page = log.since(2, 4);
  ASSERT_EQ(page.size(), 4u);
  EXPECT_EQ(page.front().seq, 3u);
  EXPECT_EQ(page.back().seq, 6u);
  EXPECT_TRUE(log.since(10, SIZE_MAX).empty());
  EXPECT_TRUE(log.since(99, SIZE_MAX).empty());
  EXPECT_TRUE(log.since(0, 0).empty());
}

TEST(CallLog, SinceBeforeTheOldestKeptStartsAtTheOldestKept) {
  CallLog log(2);
  for (int i = 1; i <= 5; ++i) log.append(record("TID" + std::to_string(i)));
  auto all = log.since(1, SIZE_MAX);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.front().seq, 4u);
}

TEST(CallLog, Sha256HexMatchesTheKnownVector) {
  EXPECT_EQ(sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(CallLog, JsonLineCarriesEveryFieldAndNamesTheSource) {
  CallRecord r;
  r.seq = 7;
  r.at_ms = 1'800'000'000'000;
  r.request_id = "TIDabc";
  r.account = "acc";
  r.has_file = true;
  r.sha256 = sha256_hex("x");
  r.bytes = 1;
  r.http_status = 500;
  r.api_status = "INTERNAL_ERROR";
  r.billed = false;
  r.faults = {"internal_error", "reset"};
  r.delay_ms = 20;
  std::string line = to_json_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  json j = json::parse(line);
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["at_ms"], 1'800'000'000'000);
  EXPECT_EQ(j["request_id"], "TIDabc");
  EXPECT_EQ(j["account"], "acc");
  EXPECT_EQ(j["source"], "file");
  EXPECT_EQ(j["sha256"], sha256_hex("x"));
  EXPECT_EQ(j["bytes"], 1);
  EXPECT_EQ(j["http_status"], 500);
  EXPECT_EQ(j["api_status"], "INTERNAL_ERROR");
  EXPECT_EQ(j["billed"], false);
  EXPECT_EQ(j["faults"], json::array({"internal_error", "reset"}));
  EXPECT_EQ(j["delay_ms"], 20);

  CallRecord u;
  u.file_url = "http://127.0.0.1/\xff.png";  // not UTF-8: still valid JSON
  json ju = json::parse(to_json_line(u));
  EXPECT_EQ(ju["source"], "file_url");
  EXPECT_TRUE(ju["account"].is_null());
  EXPECT_TRUE(ju["sha256"].is_null());
  EXPECT_EQ(ju["faults"], json::array());
  CallRecord id;
  id.file_id = "b379f724";
  EXPECT_EQ(json::parse(to_json_line(id))["file_id"], "b379f724");
}

TEST(CallLog, JsonLinesEndEveryRecordWithANewline) {
  EXPECT_EQ(to_json_lines({}), "");
  std::string lines = to_json_lines({record("TID1"), record("TID2")});
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2);
  EXPECT_EQ(lines.back(), '\n');
}

TEST(CallLog, QueryTakesSinceAndLimitAndRejectsTheRest) {
  auto none = parse_call_query("");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->since, 0u);
  EXPECT_EQ(none->limit, SIZE_MAX);
  auto both = parse_call_query("since=42&limit=10");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->since, 42u);
  EXPECT_EQ(both->limit, 10u);
  EXPECT_FALSE(parse_call_query("since=-1"));
  EXPECT_FALSE(parse_call_query("since="));
  EXPECT_FALSE(parse_call_query("limit=1x"));
  auto unknown = parse_call_query("after=3");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("after"), std::string::npos);
}

}  // namespace
}  // namespace lf
