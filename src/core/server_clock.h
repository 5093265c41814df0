// The database server's clock seen from one runner's steady clock: the
// account's row keeps its times (pauses, the quota flag, the last decrease)
// in the server's milliseconds so that runners on hosts whose clocks
// disagree agree on them. Each round trip that reads the server's time
// refreshes the offset (taken at the round trip's midpoint: off by at most
// half a round trip).
//
// Pure. Not thread-safe: the owner serialises calls.
#pragma once

#include <chrono>
#include <cstdint>

namespace lf {

class ServerClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // The server said `server_ms` (ms since the Unix epoch) during the round
  // trip from `sent` to `received` (local steady times).
  void observe(TimePoint sent, TimePoint received, std::int64_t server_ms);

  bool known() const { return known_; }
  // REQUIRES: known().
  std::int64_t to_server_ms(TimePoint local) const;
  TimePoint to_local(std::int64_t server_ms) const;

 private:
  bool known_ = false;
  TimePoint local_at_{};        // a local time ...
  std::int64_t server_at_ = 0;  // ... and the server's at that moment
};

}  // namespace lf
