// A tolerant, bounded multipart/form-data parser; see multipart_parser.h.
// Work is linear in the body; allocations are per part and per header field.
#include "emulator/multipart_parser.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace lf {
namespace {

constexpr std::size_t kMaxBoundary = 200;         // RFC 2046 says 70; be lenient
constexpr std::size_t kMaxHeaderSection = 16384;  // per part

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A header value such as `form-data; name="a"; filename=b.jpg`: the leading
// value ("form-data") and the parameters, keys lower-cased, values unquoted.
struct HeaderValue {
  std::string_view leading;
  std::vector<std::pair<std::string, std::string>> params;

  const std::string* param(std::string_view key) const {
    for (const auto& [k, v] : params) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

std::string unquote(std::string_view v) {
  if (v.empty() || v.front() != '"') return std::string(v);
  std::string out;
  for (std::size_t i = 1; i < v.size() && v[i] != '"'; ++i) {
    if (v[i] == '\\' && i + 1 < v.size() && (v[i + 1] == '"' || v[i + 1] == '\\')) ++i;
    out += v[i];
  }
  return out;
}

HeaderValue parse_header_value(std::string_view v) {
  // Split at ';' outside quoted strings.
  std::vector<std::string_view> segments;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (quoted && v[i] == '\\') ++i;
    else if (v[i] == '"') quoted = !quoted;
    else if (v[i] == ';' && !quoted) {
      segments.push_back(v.substr(start, i - start));
      start = i + 1;
    }
  }
  segments.push_back(v.substr(std::min(start, v.size())));

  HeaderValue out;
  for (std::size_t s = 0; s < segments.size(); ++s) {
    const std::string_view seg = trim(segments[s]);
    const auto eq = seg.find('=');
    if (eq == std::string_view::npos) {
      if (s == 0) out.leading = seg;
      continue;  // a bare word among parameters is ignored
    }
    std::string key;
    for (char c : trim(seg.substr(0, eq))) key += lower(c);
    if (!key.empty()) out.params.emplace_back(std::move(key), unquote(trim(seg.substr(eq + 1))));
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 5987 ext-value `charset'lang'percent-encoded`; the charset is not
// converted (clients send UTF-8).
std::string decode_ext_value(std::string_view v) {
  const auto q1 = v.find('\'');
  const auto q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 != std::string_view::npos) v.remove_prefix(q2 + 1);
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && hex_value(v[i + 1]) >= 0 && hex_value(v[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(v[i + 1]) * 16 + hex_value(v[i + 2]));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

struct Delimiter {
  std::size_t next;  // first byte after the delimiter line
  bool closing;      // "--boundary--"
};

// The delimiter line starting at `pos` ("--boundary", optional transport
// padding, then CRLF or LF; or "--boundary--"), or nullopt when the text at
// `pos` only starts like one.
std::optional<Delimiter> delimiter_at(std::string_view body, std::size_t pos,
                                      std::string_view dash_boundary) {
  if (body.substr(pos, dash_boundary.size()) != dash_boundary) return std::nullopt;
  std::size_t i = pos + dash_boundary.size();
  if (body.substr(i, 2) == "--") return Delimiter{i + 2, true};
  while (i < body.size() && (body[i] == ' ' || body[i] == '\t')) ++i;
  if (body.substr(i, 2) == "\r\n") return Delimiter{i + 2, false};
  if (body.substr(i, 1) == "\n") return Delimiter{i + 1, false};
  return std::nullopt;
}

// The next delimiter at or after `from` that starts a line, and where the
// content before it ends (its CRLF/LF belongs to the delimiter).
struct Found {
  std::size_t content_end;
  Delimiter delimiter;
};

std::optional<Found> find_delimiter(std::string_view body, std::size_t from,
                                    std::string_view dash_boundary) {
  for (std::size_t pos = from;; ++pos) {
    pos = body.find(dash_boundary, pos);
    if (pos == std::string_view::npos) return std::nullopt;
    if (pos == 0 || body[pos - 1] != '\n') continue;
    const auto d = delimiter_at(body, pos, dash_boundary);
    if (!d) continue;
    std::size_t end = pos - 1;
    if (end > from && body[end - 1] == '\r') --end;
    return Found{std::max(end, from), *d};
  }
}

Result<std::string> boundary_of(std::string_view content_type) {
  const HeaderValue v = parse_header_value(content_type);
  if (!iequals(v.leading, "multipart/form-data")) {
    return Error{"Content-Type is '" + std::string(content_type.substr(0, 100)) +
                 "', expected multipart/form-data"};
  }
  const std::string* boundary = v.param("boundary");
  if (boundary == nullptr || boundary->empty()) {
    return Error{"Content-Type multipart/form-data has no boundary parameter"};
  }
  if (boundary->size() > kMaxBoundary) {
    return Error{"multipart boundary is longer than " + std::to_string(kMaxBoundary) + " characters"};
  }
  return *boundary;
}

}  // namespace

Result<std::vector<FormPart>> parse_multipart(std::string_view body,
                                              std::string_view content_type_header) {
  auto boundary = boundary_of(content_type_header);
  if (!boundary.ok()) return boundary.error();
  const std::string dash_boundary = "--" + *boundary;

  // The first delimiter: at the very start, or after a preamble.
  std::optional<Delimiter> delim = delimiter_at(body, 0, dash_boundary);
  if (!delim) {
    const auto found = find_delimiter(body, 0, dash_boundary);
    if (!found) return Error{"multipart body does not contain the boundary '" + *boundary + "'"};
    delim = found->delimiter;
  }

  std::vector<FormPart> parts;
  while (!delim->closing) {
    const std::size_t pos = delim->next;  // the part's first header line
    auto part_error = [&](const std::string& why) {
      return Error{"multipart part " + std::to_string(parts.size() + 1) + ": " + why};
    };
    if (parts.size() == kMaxFormParts) {
      return Error{"multipart body has more than " + std::to_string(kMaxFormParts) + " parts"};
    }
    const auto next = find_delimiter(body, pos, dash_boundary);
    if (!next) return part_error("body ends without the closing delimiter '" + dash_boundary + "--'");
    const std::size_t part_end = next->content_end;

    FormPart part;
    bool has_disposition = false;
    std::size_t content_start = 0;
    std::size_t line = pos;
    while (true) {
      if (line >= part_end) {
        if (line == pos) return part_error("part is empty: no headers, no content");
        // The line break before the delimiter ends the headers: empty content.
        if (line == part_end) { content_start = part_end; break; }
        return part_error("header section is not ended by a blank line");
      }
      const std::size_t nl = body.find('\n', line);  // found: the delimiter follows a '\n'
      if (nl - pos > kMaxHeaderSection) {
        return part_error("header section is longer than " + std::to_string(kMaxHeaderSection) +
                          " bytes");
      }
      std::string_view text = body.substr(line, nl - line);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      line = nl + 1;
      if (text.empty()) { content_start = line; break; }
      if (text.front() == ' ' || text.front() == '\t') continue;  // obsolete folding
      const auto colon = text.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        return part_error("malformed header line '" + std::string(text.substr(0, 80)) +
                          "' (is the blank line after the headers missing?)");
      }
      const std::string_view name = trim(text.substr(0, colon));
      const std::string_view value = trim(text.substr(colon + 1));
      if (iequals(name, "Content-Disposition")) {
        const HeaderValue v = parse_header_value(value);
        if (!iequals(v.leading, "form-data")) {
          return part_error("Content-Disposition is '" + std::string(v.leading.substr(0, 40)) +
                            "', expected form-data");
        }
        has_disposition = true;
        if (const std::string* n = v.param("name")) part.name = *n;
        if (const std::string* f = v.param("filename")) {
          part.filename = *f;
        } else if (const std::string* fx = v.param("filename*")) {
          part.filename = decode_ext_value(*fx);
        }
      } else if (iequals(name, "Content-Type")) {
        part.content_type = std::string(value);
      }
      // Other fields (Content-Length, Content-Transfer-Encoding, ...) are
      // ignored, as RFC 7578 says: only the delimiter ends a part.
    }
    if (!has_disposition) return part_error("has no Content-Disposition header");
    if (part.name.empty()) return part_error("Content-Disposition has no name");
    part.body = body.substr(std::min(content_start, part_end),
                            part_end - std::min(content_start, part_end));
    parts.push_back(std::move(part));
    delim = next->delimiter;
  }
  return parts;
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return false;
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace lf
