// The "\x" + hex form of sources that PostgreSQL text cannot hold.
#include "store/source_text.h"

namespace lf {
namespace {

constexpr std::string_view kHexPrefix = "\\x";

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

bool is_storable_text(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char lead = p[i];
    if (lead == 0) return false;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The length of the sequence and the range of its second byte, which
    // rules out overlong forms (E0, F0), surrogates (ED) and code points
    // above U+10FFFF (F4) (RFC 3629, section 4).
    std::size_t length = 0;
    unsigned char second_min = 0x80, second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) second_min = 0xA0;
      if (lead == 0xED) second_max = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) second_min = 0x90;
      if (lead == 0xF4) second_max = 0x8F;
    } else {
      return false;  // a continuation byte, C0, C1 or F5..FF as a lead
    }
    if (n - i < length) return false;
    if (p[i + 1] < second_min || p[i + 1] > second_max) return false;
    for (std::size_t k = 2; k < length; ++k) {
      if (!is_continuation(p[i + k])) return false;
    }
    i += length;
  }
  return true;
}

std::string encode_source_for_text(std::string_view bytes) {
  if (is_storable_text(bytes)) return std::string(bytes);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(kHexPrefix);
  out.reserve(kHexPrefix.size() + 2 * bytes.size());
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0x0F];
  }
  return out;
}

std::string decode_stored_source(std::string_view stored) {
  if (!stored.starts_with(kHexPrefix)) return std::string(stored);
  const std::string_view hex = stored.substr(kHexPrefix.size());
  if (hex.empty() || hex.size() % 2 != 0) return std::string(stored);
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = hex_digit_value(hex[i]);
    const int low = hex_digit_value(hex[i + 1]);
    if (high < 0 || low < 0) return std::string(stored);
    out += static_cast<char>(high * 16 + low);
  }
  return out;
}

}  // namespace lf
