// Parsing and looking up lfemu's schedule of knobs (see knob_schedule.h).
#include "emulator/knob_schedule.h"

#include <string>

#include <nlohmann/json.hpp>

namespace lf {

Result<std::vector<SchedulePhase>> parse_schedule(const nlohmann::json& j, std::string_view where) {
  if (!j.is_array()) {
    return Error{std::string(where) + " must be an array of phases, e.g. [{\"after_s\": 0, "
                 "\"rps\": 50}, {\"after_s\": 20, \"rps\": 20}]"};
  }
  std::vector<SchedulePhase> phases;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string name = std::string(where) + "[" + std::to_string(i) + "]";
    const nlohmann::json& phase = j[i];
    if (!phase.is_object()) return Error{name + " must be an object"};
    SchedulePhase out;
    const auto after = phase.find("after_s");
    if (after == phase.end() || !after->is_number() || after->get<double>() < 0) {
      return Error{name + ".after_s must be a number of seconds >= 0"};
    }
    out.after_seconds = after->get<double>();
    if (!phases.empty() && out.after_seconds <= phases.back().after_seconds) {
      return Error{name + ".after_s must be later than the phase before it"};
    }
    nlohmann::json knobs = phase;
    knobs.erase("after_s");
    if (Status s = apply_knobs_json(knobs, name, out.knobs, false); !s) return s.error();
    phases.push_back(std::move(out));
  }
  return phases;
}

nlohmann::json schedule_to_json(const std::vector<SchedulePhase>& phases) {
  nlohmann::json out = nlohmann::json::array();
  for (const SchedulePhase& phase : phases) {
    nlohmann::json j = knobs_to_json(phase.knobs);
    j["after_s"] = phase.after_seconds;
    out.push_back(std::move(j));
  }
  return out;
}

const Knobs* phase_at(const KnobSchedule& schedule, std::chrono::steady_clock::time_point now) {
  const double elapsed = std::chrono::duration<double>(now - schedule.start).count();
  const Knobs* in_force = nullptr;
  for (const SchedulePhase& phase : schedule.phases) {
    if (phase.after_seconds > elapsed) break;
    in_force = &phase.knobs;
  }
  return in_force;
}

}  // namespace lf
