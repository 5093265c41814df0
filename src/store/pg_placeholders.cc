// ?N -> $N outside quotes and comments, by a single left-to-right scan.
#include "store/pg_placeholders.h"

#include <cstddef>

namespace lf {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// PostgreSQL's identifier characters: letters, digits, '_', '$' and any
// byte of a multibyte character.
bool is_identifier_char(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || is_digit(c) || c == '_' || c == '$' ||
         u >= 0x80;
}

// The first character of a dollar-quote tag: an identifier start.
bool is_tag_start(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || c == '_' || u >= 0x80;
}

// Each returns the index just past the construct that starts at `i`, or
// sql.size() when it is not closed.

std::size_t end_of_quoted(std::string_view sql, std::size_t i, char quote, bool backslash_escapes) {
  std::size_t j = i + 1;
  while (j < sql.size()) {
    const char c = sql[j];
    if (backslash_escapes && c == '\\') {
      j += 2;
      continue;
    }
    if (c == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) {  // '' or "" stands for one
        j += 2;
        continue;
      }
      return j + 1;
    }
    ++j;
  }
  return sql.size();
}

std::size_t end_of_line_comment(std::string_view sql, std::size_t i) {
  const std::size_t newline = sql.find('\n', i);
  return newline == std::string_view::npos ? sql.size() : newline + 1;
}

std::size_t end_of_block_comment(std::string_view sql, std::size_t i) {
  int depth = 0;
  std::size_t j = i;
  while (j + 1 < sql.size()) {
    if (sql[j] == '/' && sql[j + 1] == '*') {
      ++depth;
      j += 2;
    } else if (sql[j] == '*' && sql[j + 1] == '/') {
      j += 2;
      if (--depth == 0) return j;
    } else {
      ++j;
    }
  }
  return sql.size();
}

// The length of the tag ($$ or $name$) at `i`, or 0 when `i` starts none.
std::size_t dollar_tag_length(std::string_view sql, std::size_t i) {
  std::size_t j = i + 1;
  if (j < sql.size() && is_tag_start(sql[j])) {
    while (j < sql.size() && is_identifier_char(sql[j]) && sql[j] != '$') ++j;
  }
  if (j < sql.size() && sql[j] == '$') return j - i + 1;
  return 0;
}

}  // namespace

std::string rewrite_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  std::size_t i = 0;
  auto copy_to = [&](std::size_t end) {
    out.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < sql.size()) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    const bool after_identifier = i > 0 && is_identifier_char(sql[i - 1]);
    if (c == '\'') {
      const bool escape_string = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                                 !(i > 1 && is_identifier_char(sql[i - 2]));
      copy_to(end_of_quoted(sql, i, '\'', escape_string));
    } else if (c == '"') {
      copy_to(end_of_quoted(sql, i, '"', false));
    } else if (c == '-' && next == '-') {
      copy_to(end_of_line_comment(sql, i));
    } else if (c == '/' && next == '*') {
      copy_to(end_of_block_comment(sql, i));
    } else if (c == '$' && !after_identifier && dollar_tag_length(sql, i) > 0) {
      const std::size_t tag_length = dollar_tag_length(sql, i);
      const std::size_t close = sql.find(sql.substr(i, tag_length), i + tag_length);
      copy_to(close == std::string_view::npos ? sql.size() : close + tag_length);
    } else if (c == '?' && is_digit(next)) {
      out += '$';  // the digits follow as ordinary characters
      ++i;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace lf
