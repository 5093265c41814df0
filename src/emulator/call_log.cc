// lfemu's bounded call log; see call_log.h.
#include "emulator/call_log.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

namespace lf {

std::string to_json_line(const CallRecord& r) {
  using Json = nlohmann::ordered_json;
  auto or_null = [](const std::string& v) { return v.empty() ? Json(nullptr) : Json(v); };
  Json j;
  j["seq"] = r.seq;
  j["at_ms"] = r.at_ms;
  j["request_id"] = r.request_id;
  j["account"] = or_null(r.account);
  if (r.has_file) {
    j["source"] = "file";
    j["file_name"] = or_null(r.file_name);
    j["file_content_type"] = or_null(r.file_content_type);
  } else if (!r.file_url.empty()) {
    j["source"] = "file_url";
    j["file_url"] = r.file_url;
  } else if (!r.file_id.empty()) {
    j["source"] = "file_id";
    j["file_id"] = r.file_id;
  } else {
    j["source"] = nullptr;
  }
  j["sha256"] = or_null(r.sha256);
  j["bytes"] = r.bytes;
  j["http_status"] = r.http_status;
  j["api_status"] = r.api_status;
  j["billed"] = r.billed;
  j["faults"] = r.faults;
  j["delay_ms"] = r.delay_ms;
  // A URL or id may carry any bytes: never let them make the line invalid.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string to_json_lines(const std::vector<CallRecord>& records) {
  std::string out;
  out.reserve(records.size() * 320);
  for (const auto& r : records) {
    out += to_json_line(r);
    out.push_back('\n');
  }
  return out;
}

Result<CallQuery> parse_call_query(std::string_view query) {
  CallQuery q;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    bool number = !value.empty() && ec == std::errc{} && end == value.data() + value.size();
    if (key == "since" || key == "limit") {
      if (!number) {
        return Error{std::string(key) + " must be a non-negative integer, got \"" +
                     std::string(value) + "\""};
      }
      if (key == "since") {
        q.since = n;
      } else {
        q.limit = static_cast<std::size_t>(n);
      }
    } else {
      return Error{"unknown parameter " + std::string(key) + " (since=N, limit=M)"};
    }
  }
  return q;
}

std::uint64_t CallLog::append(CallRecord record) {
  if (!enabled()) return 0;
  record.seq = next_seq_++;
  if (records_.size() == capacity_) records_.pop_front();
  records_.push_back(std::move(record));
  return records_.back().seq;
}

std::vector<CallRecord> CallLog::since(std::uint64_t since, std::size_t limit) const {
  std::vector<CallRecord> out;
  if (records_.empty() || limit == 0) return out;
  // Sequence numbers are consecutive: the first wanted record is found by
  // arithmetic.
  std::uint64_t first = records_.front().seq;
  std::size_t skip = since < first ? 0 : static_cast<std::size_t>(since - first + 1);
  if (skip >= records_.size()) return out;
  std::size_t n = std::min(limit, records_.size() - skip);
  out.reserve(n);
  auto begin = records_.begin() + static_cast<std::ptrdiff_t>(skip);
  out.assign(begin, begin + static_cast<std::ptrdiff_t>(n));
  return out;
}

}  // namespace lf
