// Fuzz target: lfemu's multipart/form-data parser, and its UTF-8 check
// against a reference decoder written from RFC 3629 here.
#include <cstdint>

#include "emulator/multipart_parser.h"
#include "fuzz_targets.h"

namespace lf::fuzz {
namespace {

// RFC 3629: the shortest form only, no surrogates, nothing above U+10FFFF.
bool reference_is_utf8(std::string_view s) {
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (s.size() - i < static_cast<std::size_t>(len)) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace

int multipart_parser(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  const ExactBytes content_type(in.line());
  const ExactBytes body(in.rest());
  const std::string_view b = body.view();

  auto parts = parse_multipart(b, content_type.view());
  if (parts.ok()) {
    fuzz_check(parts->size() <= kMaxFormParts, "more than kMaxFormParts parts accepted");
    for (const FormPart& p : *parts) {
      fuzz_check(p.body.empty() ||
                     (p.body.data() >= b.data() && p.body.data() + p.body.size() <= b.data() + b.size()),
                 "a part's body points outside the request body");
    }
  } else {
    fuzz_check(!parts.error().message.empty(), "an Error without a reason");
  }
  fuzz_check(is_valid_utf8(b) == reference_is_utf8(b),
             "is_valid_utf8 disagrees with the RFC 3629 reference decoder");
  return 0;
}

}  // namespace lf::fuzz
