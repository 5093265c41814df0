// The spec's table of verify_score thresholds and the error rate each
// accepts (0.4 -> 1 in 10, 0.5 -> 1 in 100, ... 0.9 -> 1 in 1,000,000), and
// where a chosen threshold T sits on it.
//
// Between rows the rate is interpolated log-linearly (each 0.1 of
// threshold is a factor of 10 in the table, so log10(rate) is linear in T
// between neighbouring rows); outside 0.4..0.9 the spec gives no figure and
// the placement says only "above" or "below" the table. The description
// always says which of these it did.
#pragma once

#include <optional>
#include <span>
#include <string>

namespace lf {

struct ThresholdRow {
  double threshold;
  double error_rate;        // the spec's 错误率 (error rate), e.g. 1e-4
  long long one_in;         // 1 / error_rate, e.g. 10'000
};

std::span<const ThresholdRow> threshold_table();

struct ThresholdPlacement {
  enum class Kind {
    kExact,         // T is a row of the table
    kInterpolated,  // T lies between two rows
    kBelowTable,    // T < 0.4: more than 1 in 10, the spec gives no figure
    kAboveTable,    // T > 0.9: fewer than 1 in 1,000,000, no figure
  };
  double threshold = 0;
  Kind kind = Kind::kExact;
  std::optional<ThresholdRow> lower;  // the row at or below T
  std::optional<ThresholdRow> upper;  // the row at or above T
  std::optional<double> error_rate;   // exact or interpolated; none outside the table
  std::optional<ThresholdRow> nearest;  // the row closest to T

  // One sentence for the reader, e.g. "threshold 0.75 lies between 0.7
  // (1 in 10,000) and 0.8 (1 in 100,000) on the spec's table; interpolated
  // log-linearly: an error rate of about 1 in 31,623 ...".
  std::string describe() const;
};

// Places `threshold` on the table. Rows compare with a tolerance of 1e-9
// so 0.7 typed on a command line is the 0.7 row.
ThresholdPlacement place_threshold(double threshold);

// "1 in 31,623" for a rate of 3.1623e-5 (rounded to a whole "one in").
std::string describe_rate(double error_rate);

// 1234567 -> "1,234,567".
std::string group_thousands(long long n);

}  // namespace lf
