// A strict RFC 4180 reader, for tests only: what the CSV writer's output
// must parse as. Records end with CRLF (the last may end without); fields
// are separated by commas; a field is either quoted ("" stands for ") or
// holds no quote, CR or LF at all. Anything else is an Error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace lf::fuzz {

using CsvRecords = std::vector<std::vector<std::string>>;

// An empty text is no record; an empty line is a record of one empty field.
Result<CsvRecords> read_rfc4180(std::string_view text);

}  // namespace lf::fuzz
