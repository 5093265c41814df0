// Limits and faults that change over time: a schedule of phases, each a set
// of knobs (emulator_settings.h) in force from `after_seconds` after the
// schedule was set until the next phase. It is how lfemu plays an account
// whose limit moves (50 -> 20 -> 50 req/s), a gateway outage of 30 s in the
// middle of a run, or a quota that appears. Pure data and lookup.
#pragma once

#include <chrono>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/result.h"
#include "emulator/emulator_settings.h"

namespace lf {

struct KnobSchedule {
  std::vector<SchedulePhase> phases;  // ascending after_seconds
  std::chrono::steady_clock::time_point start{};

  bool empty() const { return phases.empty(); }
};

// Parses [{"after_s": 0, "rps": 50}, {"after_s": 20, "rps": 20}, ...]: every
// key but after_s is a knob. Phases must be in ascending order. Errors name
// `where` and the phase.
Result<std::vector<SchedulePhase>> parse_schedule(const nlohmann::json& j, std::string_view where);

nlohmann::json schedule_to_json(const std::vector<SchedulePhase>& phases);

// The knobs of the phase in force at `now` (the defaults merged under them
// by the caller); nullptr before the first phase or with no schedule.
const Knobs* phase_at(const KnobSchedule& schedule, std::chrono::steady_clock::time_point now);

}  // namespace lf
