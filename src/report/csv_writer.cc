// CsvWriter: RFC 4180 quoting and formula neutralisation into a big buffer.
#include "report/csv_writer.h"

#include <charconv>

namespace lf {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// [+-]? digits [. digits]? ([eE] [+-]? digits)?   (or ".5"-style fractions)
bool is_plain_number(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t int_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

}  // namespace

bool csv_cell_needs_neutralising(std::string_view cell) {
  if (cell.empty()) return false;
  switch (cell.front()) {
    case '=':
    case '@':
    case '\t':
    case '\r':
      return true;
    case '+':
    case '-':
      return !is_plain_number(cell);
    default:
      return false;
  }
}

CsvWriter::CsvWriter(std::ostream& out, CsvOptions options) : out_(out), options_(options) {
  buffer_.reserve(options_.buffer_bytes + 4096);
  if (options_.bom) buffer_.append("\xEF\xBB\xBF");
}

CsvWriter::~CsvWriter() { (void)flush(); }

void CsvWriter::separate() {
  if (row_started_) buffer_.push_back(',');
  row_started_ = true;
}

void CsvWriter::maybe_drain() {
  if (buffer_.size() >= options_.buffer_bytes) {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }
}

void CsvWriter::text(std::string_view cell) {
  separate();
  const bool neutralise = options_.neutralise_formulas && csv_cell_needs_neutralising(cell);
  const bool quote = cell.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    if (neutralise) buffer_.push_back('\'');
    buffer_.append(cell);
    return;
  }
  buffer_.push_back('"');
  if (neutralise) buffer_.push_back('\'');
  for (char c : cell) {
    if (c == '"') buffer_.push_back('"');
    buffer_.push_back(c);
  }
  buffer_.push_back('"');
}

void CsvWriter::number(double value) {
  separate();
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec == std::errc()) buffer_.append(buf, end);
}

void CsvWriter::integer(std::int64_t value) {
  separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec == std::errc()) buffer_.append(buf, end);
}

void CsvWriter::empty() { separate(); }

void CsvWriter::end_row() {
  buffer_.append("\r\n");
  row_started_ = false;
  ++rows_;
  maybe_drain();
}

Status CsvWriter::flush() {
  if (!buffer_.empty()) {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }
  out_.flush();
  if (!out_) return Error{"writing the CSV failed (disk full, or the output was closed?)"};
  return {};
}

}  // namespace lf
