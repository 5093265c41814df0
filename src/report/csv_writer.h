// A streaming CSV writer (RFC 4180) for auditors' exports: quoting, an
// optional UTF-8 byte order mark for Excel, and neutralisation of cells a
// spreadsheet would run as a formula.
//
// Formula injection: a text cell that begins with = + - @ TAB or CR is
// written with a leading single quote ('=1+1 shows as =1+1 and is not
// evaluated), as OWASP recommends. Decision: a text cell that is wholly a
// plain decimal number ("-0.5", "+3", "1e-7") is left as it is: no
// spreadsheet evaluates it as a formula, and prefixing would turn numbers
// into text. (Scores are never negative, so this never matters for them;
// it keeps other numeric text, e.g. tags like "-1", exact.) Cells written
// with number()/integer() are never touched.
//
// Rows end with CRLF as RFC 4180 says. Output is gathered in a large
// buffer and written to the stream in big chunks. Not thread-safe.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "core/result.h"

namespace lf {

struct CsvOptions {
  bool bom = false;                  // write EF BB BF first (Excel reads UTF-8 then)
  bool neutralise_formulas = true;
  std::size_t buffer_bytes = 1 << 20;
};

class CsvWriter {
 public:
  // `out` must outlive the writer. The BOM, if asked for, is written at once.
  explicit CsvWriter(std::ostream& out, CsvOptions options = {});
  // Flushes what is buffered (errors are lost: call flush() to see them).
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  // Appends one cell to the current row.
  void text(std::string_view cell);   // quoted when needed, neutralised
  void number(double value);          // shortest text that reads back as `value`
  void integer(std::int64_t value);
  void empty();
  // Ends the current row.
  void end_row();

  // Writes everything buffered to the stream; fails if the stream did.
  Status flush();

  std::int64_t rows() const { return rows_; }

 private:
  void separate();
  void maybe_drain();

  std::ostream& out_;
  CsvOptions options_;
  std::string buffer_;
  bool row_started_ = false;
  std::int64_t rows_ = 0;
};

// True when `cell` would be neutralised by a CsvWriter (exposed for tests
// and for other writers that share the rule).
bool csv_cell_needs_neutralising(std::string_view cell);

}  // namespace lf
