// libFuzzer's entry for one target, named by LF_FUZZ_ENTRY at compile time
// (tests/fuzz/CMakeLists.txt builds one executable per target from this file).
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lf::fuzz::LF_FUZZ_ENTRY(data, size);
}
