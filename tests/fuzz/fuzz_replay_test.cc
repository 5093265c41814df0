// Every file of each fuzz target's corpus (tests/fuzz/<target>/, its
// regressions/ with it, and the target's extra seeds) run through the
// target's entry, in every build tree: a crash found once by libFuzzer stays
// fixed without clang. A finding aborts the test binary; the last
// "replaying" line on stdout names the input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include "fuzz_targets.h"

namespace lf::fuzz {

// Names the parameter in test names (else gtest prints its bytes); found by ADL.
void PrintTo(const FuzzTarget& target, std::ostream* os) { *os << target.name; }

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class FuzzReplay : public testing::TestWithParam<FuzzTarget> {};

TEST_P(FuzzReplay, EveryCorpusFileRunsWithoutFinding) {
  const FuzzTarget& target = GetParam();
  const fs::path source(LF_SOURCE_DIR);
  std::vector<fs::path> dirs{source / "tests/fuzz" / std::string(target.name)};
  if (!target.extra_seeds.empty()) dirs.push_back(source / std::string(target.extra_seeds));
  std::size_t replayed = 0;
  for (const fs::path& dir : dirs) {
    ASSERT_TRUE(fs::is_directory(dir)) << dir << " is missing";
    for (const fs::path& file : files_under(dir)) {
      std::printf("replaying %s\n", file.c_str());
      std::fflush(stdout);
      const std::string bytes = read_all(file);
      EXPECT_EQ(target.entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0)
          << file;
      ++replayed;
    }
  }
  // A corpus that went missing would replay nothing and pass.
  EXPECT_GE(replayed, 3u) << "too few seeds for " << target.name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, FuzzReplay, testing::ValuesIn(all_fuzz_targets().begin(), all_fuzz_targets().end()),
                         [](const testing::TestParamInfo<FuzzTarget>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace lf::fuzz
