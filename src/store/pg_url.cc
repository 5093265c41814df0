// Finding the password in a PostgreSQL URL by libpq's rules (libpq's
// conninfo_uri_parse_options: the user part ends at the first '@' found
// before a '/'; parameters after '?' are key=value pairs joined by '&').
#include "store/pg_url.h"

#include <algorithm>
#include <cstddef>

namespace lf {
namespace {

constexpr std::string_view kSchemes[] = {"postgresql://", "postgres://"};

std::size_t scheme_length(std::string_view url) {
  for (std::string_view scheme : kSchemes) {
    if (url.substr(0, scheme.size()) == scheme) return scheme.size();
  }
  return 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoded; a '%' not followed by two hex digits kept as it is.
std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool is_secret_key(std::string_view key) {
  const std::string decoded = percent_decode(key);
  return decoded == "password" || decoded == "sslpassword";
}

// The URL split where libpq splits it.
struct UrlParts {
  std::string_view scheme;    // "postgresql://"
  std::string_view user;      // before the ':' of the user part
  std::string_view password;  // after it; empty without one
  bool has_user_part = false;
  std::string_view location;  // host, port and database
  std::string_view query;     // after '?', without it; empty without one
  bool has_query = false;
};

UrlParts split(std::string_view url) {
  UrlParts parts;
  const std::size_t start = scheme_length(url);
  parts.scheme = url.substr(0, start);
  std::string_view rest = url.substr(start);
  const std::size_t stop = rest.find_first_of("@/");
  if (stop != std::string_view::npos && rest[stop] == '@') {
    const std::string_view user_part = rest.substr(0, stop);
    const std::size_t colon = user_part.find(':');
    parts.has_user_part = true;
    parts.user = user_part.substr(0, colon);
    if (colon != std::string_view::npos) parts.password = user_part.substr(colon + 1);
    rest = rest.substr(stop + 1);
  }
  const std::size_t question = rest.find('?');
  parts.location = rest.substr(0, question);
  if (question != std::string_view::npos) {
    parts.has_query = true;
    parts.query = rest.substr(question + 1);
  }
  return parts;
}

// Calls on_param(key, value, whole) for each key=value of `query`.
template <typename F>
void for_each_param(std::string_view query, F on_param) {
  while (true) {
    const std::size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    const std::size_t eq = param.find('=');
    on_param(param.substr(0, eq),
             eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1), param);
    if (amp == std::string_view::npos) return;
    query = query.substr(amp + 1);
  }
}

void add_spellings(std::vector<std::string>& out, std::string_view secret) {
  if (secret.empty()) return;
  out.emplace_back(secret);
  std::string decoded = percent_decode(secret);
  if (decoded != secret) out.push_back(std::move(decoded));
}

}  // namespace

bool is_postgresql_url(std::string_view text) { return scheme_length(text) > 0; }

std::string url_without_password(std::string_view url) {
  const UrlParts parts = split(url);
  std::string out(parts.scheme);
  if (!parts.user.empty()) {
    out += parts.user;
    out += '@';
  }
  out += parts.location;
  if (parts.has_query) {
    std::string kept;
    for_each_param(parts.query, [&](std::string_view key, std::string_view, std::string_view whole) {
      if (is_secret_key(key) || whole.empty()) return;
      if (!kept.empty()) kept += '&';
      kept += whole;
    });
    if (!kept.empty()) out += '?' + kept;
  }
  return out;
}

std::vector<std::string> url_secrets(std::string_view url, bool parsed) {
  std::vector<std::string> secrets;
  const UrlParts parts = split(url);
  add_spellings(secrets, parts.password);
  if (parts.has_query) {
    for_each_param(parts.query, [&](std::string_view key, std::string_view value, std::string_view) {
      if (is_secret_key(key)) add_spellings(secrets, value);
    });
  }
  // The guesses: '@' signs in the database name (libpq parsed the URL) or
  // anywhere (it could not).
  const std::size_t start = parts.scheme.size();
  const std::size_t colon = url.find(':', start);
  if (colon == std::string_view::npos) return secrets;
  std::size_t end = url.size();
  if (parsed) {
    if (parts.has_user_part) return secrets;  // libpq's reading is the only one
    const std::size_t slash = url.find('/', start);
    if (slash == std::string_view::npos) return secrets;
    end = std::min(end, url.find('?', slash));
  }
  for (std::size_t at = url.find('@', colon); at < end; at = url.find('@', at + 1)) {
    add_spellings(secrets, url.substr(colon + 1, at - colon - 1));
  }
  return secrets;
}

std::string redact(std::string text, std::vector<std::string> secrets) {
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

std::string redact_quoted(std::string message, std::string_view url,
                          const std::vector<std::string>& secrets) {
  // Where the secrets sit in the URL, as [begin, end) ranges.
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = url.find(secret); at != std::string_view::npos;
         at = url.find(secret, at + 1)) {
      ranges.emplace_back(at, at + secret.size());
    }
  }
  auto holds_secret = [&](std::string_view piece) {
    for (const std::string& secret : secrets) {
      if (!secret.empty() && secret.find(piece) != std::string::npos) return true;
    }
    for (std::size_t at = url.find(piece); at != std::string_view::npos;
         at = url.find(piece, at + 1)) {
      for (const auto& [begin, end] : ranges) {
        if (at < end && begin < at + piece.size()) return true;
      }
    }
    return false;
  };
  std::string out;
  std::size_t i = 0;
  while (i < message.size()) {
    const std::size_t open = message.find('"', i);
    const std::size_t close = open == std::string::npos ? open : message.find('"', open + 1);
    if (close == std::string::npos) break;
    const std::string_view piece = std::string_view(message).substr(open + 1, close - open - 1);
    out.append(message, i, open + 1 - i);
    out += !piece.empty() && holds_secret(piece) ? std::string("***") : std::string(piece);
    out += '"';
    i = close + 1;
  }
  out.append(message, i, std::string::npos);
  return out;
}

}  // namespace lf
