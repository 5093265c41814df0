// The strict RFC 4180 reader (see rfc4180_reader.h).
#include "rfc4180_reader.h"

namespace lf::fuzz {

Result<CsvRecords> read_rfc4180(std::string_view text) {
  CsvRecords records;
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (n == 0) return records;
  std::vector<std::string> record;
  while (true) {
    std::string field;
    if (i < n && text[i] == '"') {
      ++i;
      while (true) {
        if (i >= n) return Error{"a quoted field is not closed"};
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(text[i++]);
      }
    } else {
      while (i < n && text[i] != ',' && text[i] != '\r') {
        if (text[i] == '"' || text[i] == '\n') {
          return Error{"a quote or bare LF in an unquoted field at byte " + std::to_string(i)};
        }
        field.push_back(text[i++]);
      }
    }
    record.push_back(std::move(field));
    if (i >= n) break;  // the last record, without CRLF
    if (text[i] == ',') {
      ++i;
      continue;
    }
    if (text[i] != '\r' || i + 1 >= n || text[i + 1] != '\n') {
      return Error{"a field not followed by a comma or CRLF at byte " + std::to_string(i)};
    }
    i += 2;
    records.push_back(std::move(record));
    record.clear();
    if (i >= n) return records;
  }
  records.push_back(std::move(record));
  return records;
}

}  // namespace lf::fuzz
