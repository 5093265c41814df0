// lfemu's call log: the API calls it answered, newest last, so a test or the
// chaos script can tell what the server saw (and billed) beside what the
// client recorded. Off unless asked for (`--call-log N`): a service without
// it records nothing and hashes nothing.
//
// One record per API request that reached the handler in full, whatever the
// answer: billed or not, delivered or reset, 500 or garbage. The answer is
// recorded as decided; a fault in `faults` says the client did not see it as
// such (reset: nothing; stall/truncate: an incomplete answer; bad_json: a
// 200 with HTML). Admin requests are not recorded.
//
// Bounded: at most `capacity` records are kept; older ones are dropped and
// counted, so a reader can tell a complete log from a truncated one.
//
// Not thread-safe: the owner (VerificationService) serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "image/content_hash.h"  // sha256_hex, for the records' sha256

#include "core/result.h"

namespace lf {

// One API call as lfemu answered it.
struct CallRecord {
  std::uint64_t seq = 0;        // 1, 2, 3, ... in the order answers were decided
  std::int64_t at_ms = 0;       // wall time of the answer, ms since the Unix epoch
  std::string request_id;       // the answer's request_id (also for faults)
  std::string account;          // api_id once authenticated, else empty
  // What was sent: at most one of these is set for a well-formed request.
  bool has_file = false;        // a `file` part
  // The file part's `filename` and Content-Type as sent (empty: none), so a
  // test can tell what a client disclosed about the file besides its bytes.
  std::string file_name;
  std::string file_content_type;
  std::string file_url;
  std::string file_id;
  // SHA-256 (hex) of the image bytes lfemu judged: the upload, the downloaded
  // file_url, or the stored image of a file_id; empty when there were none.
  std::string sha256;
  std::uint64_t bytes = 0;      // size of those bytes
  int http_status = 0;          // as decided (bad_json: the 200 it sent instead)
  std::string api_status;       // the API status decided, e.g. OK, INTERNAL_ERROR
  bool billed = false;          // counted against the account's quota
  // Injected faults, in the order applied: "internal_error" (the 500 of
  // --fail-rate), then at most one of "reset", "stall", "truncate", "bad_json".
  std::vector<std::string> faults;
  std::int64_t delay_ms = 0;    // latency added before the answer
};

// One record as a JSON object on one line, without the newline.
std::string to_json_line(const CallRecord& record);

// The records as JSON Lines: one to_json_line per record, each ending in \n.
std::string to_json_lines(const std::vector<CallRecord>& records);

// The query of GET /_admin/calls: `since=N` (records with seq > N; default 0)
// and `limit=M` (at most M records; default all). Unknown keys are an Error.
struct CallQuery {
  std::uint64_t since = 0;
  std::size_t limit = SIZE_MAX;
};
Result<CallQuery> parse_call_query(std::string_view query);

class CallLog {
 public:
  // `capacity` records are kept; 0 disables the log (append does nothing).
  explicit CallLog(std::size_t capacity) : capacity_(capacity) {}

  bool enabled() const { return capacity_ > 0; }

  // Gives `record` the next sequence number and keeps it, dropping the
  // oldest record when full. Returns the sequence number (0 when disabled).
  std::uint64_t append(CallRecord record);

  // Copies of the kept records with seq > `since`, oldest first, at most
  // `limit` of them.
  std::vector<CallRecord> since(std::uint64_t since, std::size_t limit) const;

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return records_.size(); }
  std::uint64_t recorded() const { return next_seq_ - 1; }  // appended ever
  std::uint64_t dropped() const { return recorded() - records_.size(); }
  std::uint64_t last_seq() const { return next_seq_ - 1; }

 private:
  std::size_t capacity_;
  std::uint64_t next_seq_ = 1;
  std::deque<CallRecord> records_;  // seq ascending, consecutive
};

}  // namespace lf
