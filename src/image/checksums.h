// CRC-32 (PNG, zlib) and Adler-32 (zlib), for checking and writing images.
#pragma once

#include <cstdint>
#include <string_view>

namespace lf {

// CRC-32/ISO-HDLC as PNG uses it; `crc` continues a previous value.
std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0);

// Adler-32 as zlib uses it; `adler` continues a previous value.
std::uint32_t adler32(std::string_view bytes, std::uint32_t adler = 1);

}  // namespace lf
