// Table-driven CRC-32 and blockwise Adler-32; see checksums.h.
#include "image/checksums.h"

#include <array>

namespace lf {
namespace {

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

constexpr auto kCrcTable = make_crc_table();

}  // namespace

std::uint32_t crc32(std::string_view bytes, std::uint32_t crc) {
  std::uint32_t c = crc ^ 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::uint32_t adler32(std::string_view bytes, std::uint32_t adler) {
  constexpr std::uint32_t kMod = 65521;
  constexpr std::size_t kBlock = 5552;  // largest run without overflow
  std::uint32_t a = adler & 0xFFFF, b = adler >> 16;
  while (!bytes.empty()) {
    const std::size_t n = bytes.size() < kBlock ? bytes.size() : kBlock;
    for (std::size_t i = 0; i < n; ++i) {
      a += static_cast<unsigned char>(bytes[i]);
      b += a;
    }
    a %= kMod;
    b %= kMod;
    bytes.remove_prefix(n);
  }
  return (b << 16) | a;
}

}  // namespace lf
