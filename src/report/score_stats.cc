// ScoreStats: fine-binned counts, quantiles by interpolation inside a bin.
#include "report/score_stats.h"

#include <algorithm>
#include <cmath>

namespace lf {

ScoreStats::ScoreStats() : fine_(kFineBins, 0) {}

int ScoreStats::fine_bin_of(double score) {
  if (!(score > 0)) return 0;  // also NaN
  if (score >= 1) return kFineBins - 1;
  // Round first so that e.g. 0.7 (0.69999..97 in binary) lands in bin 7000.
  const double scaled = std::floor(score * kFineBins + 1e-9);
  return std::clamp(static_cast<int>(scaled), 0, kFineBins - 1);
}

void ScoreStats::add(double score) {
  if (std::isnan(score) || score < 0 || score > 1) ++out_of_range_;
  const int bin = fine_bin_of(score);
  ++fine_[static_cast<std::size_t>(bin)];
  const double clamped = std::isnan(score) ? 0 : std::clamp(score, 0.0, 1.0);
  if (count_ == 0 || clamped < min_) min_ = clamped;
  if (count_ == 0 || clamped > max_) max_ = clamped;
  sum_ += clamped;
  ++count_;
}

void ScoreStats::add_fine_bin(int fine_bin, std::int64_t count) {
  if (count <= 0) return;
  fine_bin = std::clamp(fine_bin, 0, kFineBins - 1);
  fine_[static_cast<std::size_t>(fine_bin)] += count;
  const double lower = static_cast<double>(fine_bin) / kFineBins;
  const double mid = (fine_bin + 0.5) / kFineBins;
  if (count_ == 0 || lower < min_) min_ = lower;
  if (count_ == 0 || lower > max_) max_ = lower;
  sum_ += mid * static_cast<double>(count);
  count_ += count;
  exact_extremes_ = false;
}

std::optional<double> ScoreStats::min() const {
  if (count_ == 0) return std::nullopt;
  return min_;
}

std::optional<double> ScoreStats::max() const {
  if (count_ == 0) return std::nullopt;
  return max_;
}

std::optional<double> ScoreStats::mean() const {
  if (count_ == 0) return std::nullopt;
  return sum_ / static_cast<double>(count_);
}

std::int64_t ScoreStats::count_at_least(double threshold) const {
  const int from = fine_bin_of(threshold);
  std::int64_t n = 0;
  for (int i = from; i < kFineBins; ++i) n += fine_[static_cast<std::size_t>(i)];
  return n;
}

std::optional<double> ScoreStats::quantile(double q) const {
  if (count_ == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  // The rank (0-based, fractional) of the quantile among count_ scores.
  const double rank = q * static_cast<double>(count_ - 1);
  std::int64_t seen = 0;
  for (int i = 0; i < kFineBins; ++i) {
    const std::int64_t c = fine_[static_cast<std::size_t>(i)];
    if (c == 0) continue;
    if (rank < static_cast<double>(seen + c)) {
      // Spread the bin's c scores evenly over it.
      const double within = (rank - static_cast<double>(seen) + 0.5) / static_cast<double>(c);
      double v = (i + within) / kFineBins;
      if (exact_extremes_) v = std::clamp(v, min_, max_);
      return v;
    }
    seen += c;
  }
  return exact_extremes_ ? max_ : 1.0;
}

std::vector<double> ScoreStats::deciles() const {
  std::vector<double> out;
  if (count_ == 0) return out;
  for (int d = 1; d <= 9; ++d) out.push_back(*quantile(d / 10.0));
  return out;
}

std::vector<HistogramBin> ScoreStats::histogram(double width) const {
  int per_bin = static_cast<int>(std::lround(width * kFineBins));
  per_bin = std::clamp(per_bin, 1, kFineBins);
  std::vector<HistogramBin> bins;
  for (int start = 0; start < kFineBins; start += per_bin) {
    const int end = std::min(start + per_bin, kFineBins);
    HistogramBin bin;
    bin.lower = static_cast<double>(start) / kFineBins;
    bin.upper = static_cast<double>(end) / kFineBins;
    for (int i = start; i < end; ++i) bin.count += fine_[static_cast<std::size_t>(i)];
    bins.push_back(bin);
  }
  return bins;
}

}  // namespace lf
