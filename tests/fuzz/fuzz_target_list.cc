// The table of fuzz targets, for the replay test (kept out of
// fuzz_support.cc so that each fuzz executable links only its own target).
#include "fuzz_targets.h"

namespace lf::fuzz {

std::span<const FuzzTarget> all_fuzz_targets() {
  static constexpr FuzzTarget kTargets[] = {
      {"multipart_parser", multipart_parser, ""},
      {"response_parser", response_parser, ""},
      {"image_probe", image_probe, "tests/images"},
      {"csv_writer", csv_writer, ""},
      {"config", config, ""},
      {"lfemu_config", lfemu_config, ""},
      {"endpoint", endpoint, ""},
  };
  return kTargets;
}

}  // namespace lf::fuzz
