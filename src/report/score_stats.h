// The distribution of verify_score: a histogram at a display bin width and
// quantiles (deciles), accumulated one score at a time in fixed memory.
//
// Scores are counted in 10,000 fine bins over [0, 1]; quantiles are read
// off those bins with linear interpolation inside a bin, so they are within
// 0.0001 of the exact order statistic whatever the number of scores. A
// score outside [0, 1] (the spec says 0..1) is counted in the end bin and
// in out_of_range(). Pure; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace lf {

struct HistogramBin {
  double lower = 0;  // inclusive
  double upper = 0;  // exclusive, except the last bin, which includes 1.0
  std::int64_t count = 0;
};

class ScoreStats {
 public:
  static constexpr int kFineBins = 10'000;

  ScoreStats();

  void add(double score);
  // Adds `count` scores falling in fine bin `fine_bin` (for aggregates
  // computed elsewhere, e.g. by SQL GROUP BY).
  void add_fine_bin(int fine_bin, std::int64_t count);
  static int fine_bin_of(double score);

  std::int64_t count() const { return count_; }
  std::int64_t out_of_range() const { return out_of_range_; }
  std::optional<double> min() const;
  std::optional<double> max() const;
  std::optional<double> mean() const;

  // Scores >= threshold (the pass count at that threshold), exact to the
  // fine bin: exact for thresholds that are multiples of 0.0001.
  std::int64_t count_at_least(double threshold) const;

  // The q-quantile (0 <= q <= 1); nullopt when no scores were added.
  std::optional<double> quantile(double q) const;
  // The 10%, 20%, ..., 90% quantiles; empty when no scores were added.
  std::vector<double> deciles() const;

  // Bins of `width` (e.g. 0.05 or 0.1) covering [0, 1]. `width` must
  // divide 1 into at most kFineBins bins of whole fine bins.
  std::vector<HistogramBin> histogram(double width) const;

 private:
  std::vector<std::int64_t> fine_;
  std::int64_t count_ = 0;
  std::int64_t out_of_range_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
  bool exact_extremes_ = true;  // false once add_fine_bin was used
};

}  // namespace lf
