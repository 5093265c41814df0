// The spec's threshold table as data, and placing a threshold on it.
#include "report/threshold_table.h"

#include <array>
#include <cmath>

#include <fmt/format.h>

namespace lf {
namespace {

constexpr double kTolerance = 1e-9;

// 置信度阈值与错误率对应关系 (the spec, section 3).
constexpr std::array<ThresholdRow, 6> kTable = {{
    {0.4, 1e-1, 10},
    {0.5, 1e-2, 100},
    {0.6, 1e-3, 1'000},
    {0.7, 1e-4, 10'000},
    {0.8, 1e-5, 100'000},
    {0.9, 1e-6, 1'000'000},
}};

std::string row_text(const ThresholdRow& row) {
  return fmt::format("{:g} (1 in {})", row.threshold, group_thousands(row.one_in));
}

}  // namespace

std::span<const ThresholdRow> threshold_table() { return kTable; }

std::string group_thousands(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

std::string describe_rate(double error_rate) {
  if (!(error_rate > 0)) return "none";
  return "1 in " + group_thousands(std::llround(1.0 / error_rate));
}

ThresholdPlacement place_threshold(double threshold) {
  ThresholdPlacement p;
  p.threshold = threshold;
  const ThresholdRow* nearest = &kTable.front();
  for (const ThresholdRow& row : kTable) {
    if (std::abs(row.threshold - threshold) < std::abs(nearest->threshold - threshold)) nearest = &row;
  }
  p.nearest = *nearest;
  if (threshold < kTable.front().threshold - kTolerance) {
    p.kind = ThresholdPlacement::Kind::kBelowTable;
    p.upper = kTable.front();
    return p;
  }
  if (threshold > kTable.back().threshold + kTolerance) {
    p.kind = ThresholdPlacement::Kind::kAboveTable;
    p.lower = kTable.back();
    return p;
  }
  for (const ThresholdRow& row : kTable) {
    if (std::abs(row.threshold - threshold) <= kTolerance) {
      p.kind = ThresholdPlacement::Kind::kExact;
      p.lower = p.upper = row;
      p.error_rate = row.error_rate;
      return p;
    }
  }
  for (std::size_t i = 0; i + 1 < kTable.size(); ++i) {
    const ThresholdRow& lo = kTable[i];
    const ThresholdRow& hi = kTable[i + 1];
    if (threshold > lo.threshold && threshold < hi.threshold) {
      p.kind = ThresholdPlacement::Kind::kInterpolated;
      p.lower = lo;
      p.upper = hi;
      const double f = (threshold - lo.threshold) / (hi.threshold - lo.threshold);
      p.error_rate = std::pow(10.0, std::log10(lo.error_rate) +
                                        f * (std::log10(hi.error_rate) - std::log10(lo.error_rate)));
      return p;
    }
  }
  return p;  // unreachable: the cases above cover every finite threshold
}

std::string ThresholdPlacement::describe() const {
  switch (kind) {
    case Kind::kExact:
      return fmt::format(
          "threshold {:g} is a row of the spec's table: an error rate of {}",
          threshold, describe_rate(*error_rate));
    case Kind::kInterpolated:
      return fmt::format(
          "threshold {:g} lies between {} and {} on the spec's table; interpolated "
          "log-linearly: an error rate of about {} (nearest row: {})",
          threshold, row_text(*lower), row_text(*upper), describe_rate(*error_rate),
          row_text(*nearest));
    case Kind::kBelowTable:
      return fmt::format(
          "threshold {:g} is below the spec's table, which starts at {}: an error rate above 1 in 10; "
          "the spec gives no figure",
          threshold, row_text(*upper));
    case Kind::kAboveTable:
      return fmt::format(
          "threshold {:g} is above the spec's table, which ends at {}: an error rate below 1 in "
          "1,000,000; the spec gives no figure",
          threshold, row_text(*lower));
  }
  return {};
}

}  // namespace lf
