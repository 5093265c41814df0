// The server's clock from a runner's steady clock (see server_clock.h).
#include "core/server_clock.h"

namespace lf {

void ServerClock::observe(TimePoint sent, TimePoint received, std::int64_t server_ms) {
  local_at_ = sent + (received - sent) / 2;
  server_at_ = server_ms;
  known_ = true;
}

std::int64_t ServerClock::to_server_ms(TimePoint local) const {
  return server_at_ +
         std::chrono::duration_cast<std::chrono::milliseconds>(local - local_at_).count();
}

ServerClock::TimePoint ServerClock::to_local(std::int64_t server_ms) const {
  return local_at_ + std::chrono::milliseconds(server_ms - server_at_);
}

}  // namespace lf
