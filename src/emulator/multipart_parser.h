// multipart/form-data request bodies (RFC 7578) as real clients send them:
// curl, requests, Java HttpClient, LinkFace's mobile SDK.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace lf {

struct FormPart {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // set when the part is a file upload
  std::string content_type;             // as sent; empty when absent
  std::string_view body;                // points into the parsed body
};

// At most this many parts; more is an Error (bounds the work per request).
inline constexpr std::size_t kMaxFormParts = 64;

// Splits `body` by the boundary named in `content_type_header` (the request's
// Content-Type: multipart/form-data; boundary=... quoted or not, other
// params allowed). Tolerates preamble/epilogue, bare LF line ends, header
// names in any case, unquoted parameter values, filename*=, per-part
// Content-Type and Content-Length. An Error (with a precise reason, meant for
// INVALID_ARGUMENT) for: not multipart/form-data, no boundary, no opening or
// closing delimiter, a part without a blank line after its headers, a part
// without Content-Disposition form-data name, more than kMaxFormParts parts.
// Allocates only per part; FormPart::body views stay valid while `body` does.
Result<std::vector<FormPart>> parse_multipart(std::string_view body,
                                              std::string_view content_type_header);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace lf
