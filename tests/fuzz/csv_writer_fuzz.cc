// Fuzz target: CsvWriter round trip. The input is a program of cells (text,
// number, integer, empty, end of row) and options; what the writer emits
// must read back with the strict RFC 4180 reader (rfc4180_reader.h) as the
// cells written, text neutralised exactly when csv_cell_needs_neutralising
// says so, and numbers as the same values.
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_targets.h"
#include "report/csv_writer.h"
#include "rfc4180_reader.h"

namespace lf::fuzz {
namespace {

struct Cell {
  enum class Kind { kText, kNumber, kInteger } kind = Kind::kText;
  std::string text;  // kText: the expected cell as read back
  double number = 0;
  std::int64_t integer = 0;
};

class Program {
 public:
  Program(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  std::uint8_t byte() { return done() ? 0 : data_[pos_++]; }
  std::string_view bytes(std::size_t n) {
    n = std::min(n, size_ - pos_);
    std::string_view v(reinterpret_cast<const char*>(data_) + pos_, n);
    pos_ += n;
    return v;
  }
  template <typename T>
  T scalar() {
    unsigned char raw[sizeof(T)] = {};
    const std::string_view b = bytes(sizeof(T));
    std::memcpy(raw, b.data(), b.size());
    return std::bit_cast<T>(raw);
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

bool same_number(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

}  // namespace

int csv_writer(const std::uint8_t* data, std::size_t size) {
  Program program(data, size);
  const std::uint8_t flags = program.byte();
  CsvOptions options;
  options.bom = (flags & 1) != 0;
  options.neutralise_formulas = (flags & 2) == 0;
  // Small buffers drain in the middle of rows.
  if (const std::size_t small = flags >> 2; small != 0) options.buffer_bytes = small;

  std::ostringstream out;
  std::vector<std::vector<Cell>> expected;
  std::vector<Cell> row;
  bool row_open = false;
  std::int64_t rows = 0;
  {
    CsvWriter writer(out, options);
    auto end_row = [&] {
      writer.end_row();
      ++rows;
      if (row.empty()) row.push_back(Cell{});  // a row of no cells reads as one empty cell
      expected.push_back(std::move(row));
      row.clear();
      row_open = false;
    };
    while (!program.done()) {
      const std::uint8_t op = program.byte();
      switch (op % 8) {
        case 0:
        case 1:
        case 2: {  // text of up to 63 bytes (or a long one)
          const std::size_t len = (op >> 3) == 31 ? 300 : (op >> 3) * 2;
          const std::string_view text = program.bytes(len);
          writer.text(text);
          Cell c;
          c.text = (options.neutralise_formulas && csv_cell_needs_neutralising(text) ? "'" : "") +
                   std::string(text);
          row.push_back(std::move(c));
          row_open = true;
          break;
        }
        case 3: {
          Cell c;
          c.kind = Cell::Kind::kNumber;
          c.number = program.scalar<double>();
          writer.number(c.number);
          row.push_back(c);
          row_open = true;
          break;
        }
        case 4: {
          Cell c;
          c.kind = Cell::Kind::kInteger;
          c.integer = program.scalar<std::int64_t>();
          writer.integer(c.integer);
          row.push_back(c);
          row_open = true;
          break;
        }
        case 5:
          writer.empty();
          row.push_back(Cell{});
          row_open = true;
          break;
        default:
          end_row();
          break;
      }
    }
    if (row_open) end_row();
    fuzz_check(writer.rows() == rows, "CsvWriter::rows() is not the rows ended");
    fuzz_check(writer.flush().ok(), "flush failed on a string stream");
  }

  std::string text = out.str();
  if (options.bom) {
    fuzz_check(text.starts_with("\xEF\xBB\xBF"), "no BOM though asked for");
    text.erase(0, 3);
  }
  auto records = read_rfc4180(text);
  fuzz_check(records.ok(), "the CSV written is not strict RFC 4180");
  fuzz_check(records->size() == expected.size(), "the CSV reads back as another number of rows");
  for (std::size_t r = 0; r < expected.size(); ++r) {
    const auto& got = (*records)[r];
    fuzz_check(got.size() == expected[r].size(), "a row reads back with another number of cells");
    for (std::size_t c = 0; c < got.size(); ++c) {
      const Cell& want = expected[r][c];
      const std::string& cell = got[c];
      switch (want.kind) {
        case Cell::Kind::kText:
          fuzz_check(cell == want.text, "a text cell reads back changed");
          if (options.neutralise_formulas && !cell.empty()) {
            fuzz_check(std::string_view("=@\t\r").find(cell.front()) == std::string_view::npos,
                       "a text cell reads back starting with = @ TAB or CR");
          }
          break;
        case Cell::Kind::kNumber: {
          double back = 0;
          const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), back);
          fuzz_check(ec == std::errc() && end == cell.data() + cell.size() &&
                         same_number(back, want.number),
                     "a number cell does not read back as the same value");
          break;
        }
        case Cell::Kind::kInteger: {
          std::int64_t back = 0;
          const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), back);
          fuzz_check(ec == std::errc() && end == cell.data() + cell.size() && back == want.integer,
                     "an integer cell does not read back as the same value");
          break;
        }
      }
    }
  }
  return 0;
}

}  // namespace lf::fuzz
