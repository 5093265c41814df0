// A job's source as PostgreSQL's jobs.source holds it. PostgreSQL text must
// be valid UTF-8 without NUL bytes, but a file name on Linux is any bytes
// but '/' and NUL: such a source is stored as "\x" and the lowercase hex of
// its bytes (schema/postgresql/001_init.sql). SQLite stores the raw bytes,
// so neither function is needed there. Pure.
#pragma once

#include <string>
#include <string_view>

namespace lf {

// True when `bytes` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) and holds no NUL byte: text that
// PostgreSQL accepts as it is.
bool is_storable_text(std::string_view bytes);

// The text to store for the source `bytes`: `bytes` unchanged when
// is_storable_text(bytes), else "\x" followed by two lowercase hex digits
// per byte.
std::string encode_source_for_text(std::string_view bytes);

// The inverse: a stored text of "\x" and one or more pairs of hex digits
// (either case) is decoded to its bytes; any other text is returned as it
// is. decode_stored_source(encode_source_for_text(s)) == s for every source
// that does not itself start with "\x" followed by hex digits, i.e. every
// real one (absolute paths start with '/', URLs with a scheme, image ids
// with a letter or digit).
std::string decode_stored_source(std::string_view stored);

}  // namespace lf
