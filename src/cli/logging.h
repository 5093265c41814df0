// lfbatch's log lines on stderr (spdlog): readable, coloured lines on a
// terminal, plain timestamped lines otherwise, or one JSON object per line;
// and the redactor that keeps registered secrets out of every line.
#pragma once

#include <string>
#include <string_view>

namespace lf {

struct LogOptions {
  bool json = false;     // one JSON object per line: {"ts","level","msg"}
  bool quiet = false;    // warnings and errors only
  bool verbose = false;  // debug lines too (quiet wins if both are set)
};

// Replaces spdlog's default logger with one writing to stderr as `options`
// says. Safe to call again (the last call wins). Every line passes through
// redact() first.
void setup_logging(const LogOptions& options);

// Adds `secret` to the strings redact() hides. Empty strings and strings
// shorter than 4 characters are ignored (they would redact ordinary words).
// Thread-safe.
void register_secret(const std::string& secret);

// `text` with every registered secret, and the value of any
// `api_secret=...` query or form parameter, replaced by "***". Thread-safe.
std::string redact(std::string_view text);

// Forgets every registered secret (tests).
void clear_registered_secrets();

}  // namespace lf
