// Writers for minimal valid images; see synthetic_image.h. Pixels are a flat
// mid-gray: the content that matters to lfemu is the headers and markers.
#include "image/synthetic_image.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "image/checksums.h"

namespace lf {
namespace {

void put_be16(std::string& out, std::uint32_t v) {
  out += static_cast<char>((v >> 8) & 0xFF);
  out += static_cast<char>(v & 0xFF);
}
void put_be32(std::string& out, std::uint32_t v) {
  put_be16(out, v >> 16);
  put_be16(out, v & 0xFFFF);
}
void put_le16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void put_le32(std::string& out, std::uint32_t v) {
  put_le16(out, v & 0xFFFF);
  put_le16(out, v >> 16);
}

std::size_t pad_needed(std::size_t natural, std::size_t pad_to) {
  return pad_to > natural ? pad_to - natural : 0;
}

// Deterministic filler that cannot spell a marker.
std::string filler(std::size_t n) {
  std::string period(128, '\0');
  for (std::size_t i = 0; i < period.size(); ++i) period[i] = static_cast<char>((i * 7) & 0x7F);
  std::string s;
  s.reserve(n);
  while (s.size() + period.size() <= n) s += period;
  s.append(period, 0, n - s.size());
  return s;
}

// ---- PNG -----------------------------------------------------------------

void png_chunk(std::string& out, std::string_view type, std::string_view data) {
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out += type;
  out += data;
  put_be32(out, crc32(std::string_view(out).substr(start)));
}

std::string make_png(int width, int height, std::string_view marker, std::size_t pad_to) {
  const auto w = static_cast<std::size_t>(width), h = static_cast<std::size_t>(height);
  // Raw scanlines: filter byte 0, then one 8-bit gray sample per pixel.
  std::string raw;
  raw.reserve((w + 1) * h);
  for (std::size_t y = 0; y < h; ++y) {
    raw += '\0';
    raw.append(w, static_cast<char>(0x80));
  }
  // zlib stream of stored deflate blocks (at most 65535 bytes each).
  std::string z = "\x78\x01";
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(65535, raw.size() - pos);
    z += static_cast<char>(pos + n == raw.size() ? 1 : 0);
    put_le16(z, static_cast<std::uint32_t>(n));
    put_le16(z, static_cast<std::uint32_t>(~n & 0xFFFF));
    z.append(raw, pos, n);
    pos += n;
  } while (pos < raw.size());
  put_be32(z, adler32(raw));

  std::string ihdr;
  put_be32(ihdr, static_cast<std::uint32_t>(width));
  put_be32(ihdr, static_cast<std::uint32_t>(height));
  ihdr += std::string_view("\x08\x00\x00\x00\x00", 5);  // 8-bit gray, no interlace

  std::string out = "\x89PNG\r\n\x1A\n";
  png_chunk(out, "IHDR", ihdr);
  if (!marker.empty()) png_chunk(out, "tEXt", std::string("Comment") + '\0' + std::string(marker));
  // Padding goes into private ancillary chunks ("lfPd"), which decoders skip.
  std::size_t pad = pad_needed(out.size() + 12 + z.size() + 12, pad_to);
  while (pad > 0) {
    std::size_t data = std::min<std::size_t>(pad >= 12 ? pad - 12 : 0, 1 << 20);
    if (pad - 12 - data > 0 && pad - 12 - data < 12) data -= 12;  // leave room for one more
    png_chunk(out, "lfPd", filler(data));
    pad = pad > 12 + data ? pad - 12 - data : 0;
  }
  png_chunk(out, "IDAT", z);
  png_chunk(out, "IEND", {});
  return out;
}

// ---- JPEG ----------------------------------------------------------------

// Annex K.3 standard luminance Huffman tables.
constexpr unsigned char kDcBits[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
constexpr unsigned char kDcVals[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
constexpr unsigned char kAcBits[16] = {0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d};
constexpr unsigned char kAcVals[162] = {
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51,
    0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1,
    0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18,
    0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
    0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57,
    0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75,
    0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92,
    0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
    0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2,
    0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};

void jpeg_segment(std::string& out, unsigned char marker, std::string_view data) {
  out += '\xFF';
  out += static_cast<char>(marker);
  put_be16(out, static_cast<std::uint32_t>(data.size() + 2));
  out += data;
}

// Writes bits MSB first with JPEG byte stuffing (0xFF is followed by 0x00).
class BitWriter {
 public:
  explicit BitWriter(std::string& out) : out_(out) {}
  void put(std::uint32_t bits, int n) {
    for (int i = n - 1; i >= 0; --i) {
      acc_ = static_cast<std::uint32_t>(acc_ << 1 | ((bits >> i) & 1));
      if (++count_ == 8) flush_byte();
    }
  }
  void finish() {  // pad the last byte with 1-bits
    while (count_ != 0) put(1, 1);
  }

 private:
  void flush_byte() {
    out_ += static_cast<char>(acc_ & 0xFF);
    if ((acc_ & 0xFF) == 0xFF) out_ += '\0';
    acc_ = 0;
    count_ = 0;
  }
  std::string& out_;
  std::uint32_t acc_ = 0;
  int count_ = 0;
};

std::string make_jpeg(int width, int height, std::string_view marker, std::size_t pad_to) {
  std::string head = "\xFF\xD8";
  jpeg_segment(head, 0xE0, std::string_view("JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00", 14));
  if (!marker.empty()) jpeg_segment(head, 0xFE, marker.substr(0, 65533));

  std::string tail;
  std::string dqt(1, '\0');  // table 0, 8-bit
  dqt.append(64, static_cast<char>(16));
  jpeg_segment(tail, 0xDB, dqt);
  std::string sof = "\x08";  // 8-bit precision
  put_be16(sof, static_cast<std::uint32_t>(height));
  put_be16(sof, static_cast<std::uint32_t>(width));
  sof += std::string_view("\x01\x01\x11\x00", 4);  // 1 component: id 1, 1x1, table 0
  jpeg_segment(tail, 0xC0, sof);
  std::string dht(1, '\x00');  // DC table 0
  dht.append(reinterpret_cast<const char*>(kDcBits), 16);
  dht.append(reinterpret_cast<const char*>(kDcVals), sizeof kDcVals);
  dht += '\x10';  // AC table 0
  dht.append(reinterpret_cast<const char*>(kAcBits), 16);
  dht.append(reinterpret_cast<const char*>(kAcVals), sizeof kAcVals);
  jpeg_segment(tail, 0xC4, dht);
  jpeg_segment(tail, 0xDA, std::string_view("\x01\x01\x00\x00\x3F\x00", 6));
  // Every 8x8 block: DC difference 0 (code 00), then EOB (code 1010): a flat
  // image at the level-shift value 128.
  const std::size_t blocks = ((static_cast<std::size_t>(width) + 7) / 8) *
                             ((static_cast<std::size_t>(height) + 7) / 8);
  // Four blocks are 24 bits: 001010 x4 = 0x28 0xA2 0x8A (no 0xFF to stuff).
  tail.reserve(tail.size() + blocks * 3 / 4 + 8);
  for (std::size_t i = 0; i < blocks / 4; ++i) tail += "\x28\xA2\x8A";
  BitWriter bits(tail);
  for (std::size_t i = 0; i < blocks % 4; ++i) bits.put(0b001010, 6);
  bits.finish();
  tail += "\xFF\xD9";

  // Padding: COM segments (4 bytes of overhead each, at most 65537 in all).
  std::size_t pad = pad_needed(head.size() + tail.size(), pad_to);
  while (pad > 0) {
    std::size_t seg = std::min<std::size_t>(std::max<std::size_t>(pad, 4), 65537);
    if (pad > seg && pad - seg < 4) seg -= 4;
    jpeg_segment(head, 0xFE, filler(seg - 4));
    pad = pad > seg ? pad - seg : 0;
  }
  return head + tail;
}

// ---- GIF -----------------------------------------------------------------

// GIF's variable-width LZW (as giflib writes it) of `pixels` with 2-bit codes.
std::string gif_lzw(std::size_t pixel_count) {
  constexpr int kMinCode = 2;
  constexpr std::uint32_t kClear = 1u << kMinCode, kEoi = kClear + 1;
  std::string out;
  std::uint32_t acc = 0;
  int acc_bits = 0;
  int code_bits = kMinCode + 1;
  std::uint32_t next_code = kEoi + 1;
  std::unordered_map<std::uint32_t, std::uint32_t> dict;  // (prefix << 8 | pixel) -> code
  auto emit = [&](std::uint32_t code) {
    acc |= code << acc_bits;
    acc_bits += code_bits;
    while (acc_bits >= 8) {
      out += static_cast<char>(acc & 0xFF);
      acc >>= 8;
      acc_bits -= 8;
    }
    if (next_code >= (1u << code_bits) && code_bits < 12 && code <= 4095) ++code_bits;
  };
  emit(kClear);
  const std::uint32_t pixel = 0;
  std::uint32_t prefix = pixel;
  for (std::size_t i = 1; i < pixel_count; ++i) {
    const std::uint32_t key = prefix << 8 | pixel;
    auto it = dict.find(key);
    if (it != dict.end()) {
      prefix = it->second;
      continue;
    }
    emit(prefix);
    if (next_code >= 4095) {
      emit(kClear);
      dict.clear();
      next_code = kEoi + 1;
      code_bits = kMinCode + 1;
    } else {
      dict.emplace(key, next_code++);
    }
    prefix = pixel;
  }
  emit(prefix);
  emit(kEoi);
  if (acc_bits > 0) out += static_cast<char>(acc & 0xFF);
  return out;
}

void gif_sub_blocks(std::string& out, std::string_view data) {
  while (!data.empty()) {
    const std::size_t n = std::min<std::size_t>(255, data.size());
    out += static_cast<char>(n);
    out += data.substr(0, n);
    data.remove_prefix(n);
  }
  out += '\0';
}

std::string make_gif(int width, int height, std::string_view marker, std::size_t pad_to) {
  std::string out = "GIF89a";
  put_le16(out, static_cast<std::uint32_t>(width));
  put_le16(out, static_cast<std::uint32_t>(height));
  out += std::string_view("\x80\x00\x00", 3);                  // 2-entry global table
  out += std::string_view("\x80\x80\x80\xFF\xFF\xFF", 6);  // gray, white
  if (!marker.empty()) {
    out += "\x21\xFE";
    gif_sub_blocks(out, marker);
  }
  std::string image = "\x2C";
  put_le32(image, 0);  // left, top
  put_le16(image, static_cast<std::uint32_t>(width));
  put_le16(image, static_cast<std::uint32_t>(height));
  image += '\0';  // no local table, not interlaced
  image += '\x02';
  gif_sub_blocks(image, gif_lzw(static_cast<std::size_t>(width) * static_cast<std::size_t>(height)));
  image += '\x3B';

  // Padding: comment extensions (3 bytes of overhead, sub-blocks of 2..256).
  std::size_t pad = pad_needed(out.size() + image.size(), pad_to);
  if (pad > 0) {
    std::size_t body = pad >= 3 ? pad - 3 : 0;
    out += "\x21\xFE";
    while (body > 0) {
      std::size_t n = std::min<std::size_t>(body, 256);
      if (body > n && body - n == 1) n = 255;  // never leave a 1-byte remainder
      if (n == 1) n = 2;                       // at least: 1 length + 1 data byte
      out += static_cast<char>(n - 1);
      out += filler(n - 1);
      body = body > n ? body - n : 0;
    }
    out += '\0';
  }
  return out + image;
}

// ---- BMP -----------------------------------------------------------------

std::string bmp(int width, int height, bool top_down, std::string_view marker,
                std::size_t pad_to) {
  const std::uint32_t stride = (static_cast<std::uint32_t>(width) + 3) / 4 * 4;  // 8 bpp
  const std::uint32_t offset = 14 + 40 + 256 * 4;
  const std::uint64_t pixels = std::uint64_t{stride} * static_cast<std::uint32_t>(height);
  const std::uint64_t natural = offset + pixels + marker.size();
  const std::uint64_t total = natural + pad_needed(natural, pad_to);
  std::string out = "BM";
  put_le32(out, static_cast<std::uint32_t>(total));
  put_le32(out, 0);
  put_le32(out, offset);
  put_le32(out, 40);
  put_le32(out, static_cast<std::uint32_t>(width));
  put_le32(out, static_cast<std::uint32_t>(top_down ? -height : height));
  put_le16(out, 1);  // planes
  put_le16(out, 8);  // bits per pixel
  put_le32(out, 0);  // BI_RGB
  put_le32(out, static_cast<std::uint32_t>(pixels));
  put_le32(out, 2835);  // 72 dpi
  put_le32(out, 2835);
  put_le32(out, 256);
  put_le32(out, 0);
  for (std::uint32_t i = 0; i < 256; ++i) {  // gray palette: B, G, R, 0
    out += static_cast<char>(i);
    out += static_cast<char>(i);
    out += static_cast<char>(i);
    out += '\0';
  }
  out.append(pixels, static_cast<char>(0x80));
  out += marker;  // after the pixels: decoders never read it
  out += filler(total - natural);
  return out;
}

// ---- TIFF ----------------------------------------------------------------

std::string tiff(int width, int height, bool big_endian, bool long_dims, std::string_view marker,
                 std::size_t pad_to) {
  auto u16 = [&](std::string& o, std::uint32_t v) { big_endian ? put_be16(o, v) : put_le16(o, v); };
  auto u32 = [&](std::string& o, std::uint32_t v) { big_endian ? put_be32(o, v) : put_le32(o, v); };
  const auto w = static_cast<std::uint32_t>(width), h = static_cast<std::uint32_t>(height);
  const bool dims_short = !long_dims && w <= 0xFFFF && h <= 0xFFFF;
  const std::string description = marker.empty() ? std::string() : std::string(marker) + '\0';
  const std::uint32_t entries = description.empty() ? 9 : 10;
  const std::uint32_t ifd_size = 2 + entries * 12 + 4;
  const std::uint32_t desc_off = 8 + ifd_size;
  const std::uint32_t data_off = desc_off + static_cast<std::uint32_t>(description.size());
  const std::uint64_t data_size = std::uint64_t{w} * h;

  std::string out = big_endian ? std::string("MM\0*", 4) : std::string("II*\0", 4);
  u32(out, 8);
  u16(out, entries);
  auto entry = [&](std::uint32_t tag, std::uint32_t type, std::uint32_t count, std::uint32_t v) {
    u16(out, tag);
    u16(out, type);
    u32(out, count);
    if (type == 3 && count == 1) {  // SHORT value, left-justified in the field
      u16(out, v);
      u16(out, 0);
    } else {
      u32(out, v);
    }
  };
  entry(256, dims_short ? 3 : 4, 1, w);  // ImageWidth
  entry(257, dims_short ? 3 : 4, 1, h);  // ImageLength
  entry(258, 3, 1, 8);                   // BitsPerSample
  entry(259, 3, 1, 1);                   // Compression: none
  entry(262, 3, 1, 1);                   // Photometric: BlackIsZero
  if (!description.empty()) {            // ImageDescription (ASCII)
    entry(270, 2, static_cast<std::uint32_t>(description.size()), 0);
    // A value of <= 4 bytes lives in the entry itself, else at desc_off.
    out.resize(out.size() - 4);
    if (description.size() <= 4) {
      out += description;
      out.append(4 - description.size(), '\0');
    } else {
      u32(out, desc_off);
    }
  }
  entry(273, 4, 1, data_off);  // StripOffsets
  entry(277, 3, 1, 1);         // SamplesPerPixel
  entry(278, 4, 1, h);         // RowsPerStrip
  entry(279, 4, 1, static_cast<std::uint32_t>(data_size));  // StripByteCounts
  u32(out, 0);                                               // no next IFD
  if (description.size() > 4) out += description;
  out.resize(data_off, '\0');
  out.append(data_size, static_cast<char>(0x80));
  out += filler(pad_needed(out.size(), pad_to));
  return out;
}

}  // namespace

std::string make_tiff(int width, int height, bool big_endian, bool long_dims,
                      std::string_view marker) {
  return tiff(width, height, big_endian, long_dims, marker, 0);
}

std::string make_bmp(int width, int height, bool top_down, std::string_view marker) {
  return bmp(width, height, top_down, marker, 0);
}

std::string make_image(ImageFormat format, int width, int height, std::string_view marker,
                       std::size_t pad_to_bytes) {
  switch (format) {
    case ImageFormat::kJpeg: return make_jpeg(width, height, marker, pad_to_bytes);
    case ImageFormat::kPng: return make_png(width, height, marker, pad_to_bytes);
    case ImageFormat::kGif: return make_gif(width, height, marker, pad_to_bytes);
    case ImageFormat::kBmp: return bmp(width, height, false, marker, pad_to_bytes);
    case ImageFormat::kTiff: return tiff(width, height, false, false, marker, pad_to_bytes);
  }
  return {};
}

std::string truncate_image(std::string_view image, std::size_t keep_bytes) {
  return std::string(image.substr(0, keep_bytes));
}

std::string make_corrupt(ImageFormat format, int width, int height, std::string_view marker) {
  const std::string image = make_image(format, width, height, marker);
  switch (format) {
    case ImageFormat::kJpeg: return image.substr(0, image.size() - 2);   // no EOI
    // PNG and GIF lose their end and the last bytes of the image data, so
    // that lenient decoders (which accept a missing IEND or trailer) fail too.
    case ImageFormat::kPng:  // IEND, IDAT's CRC and Adler-32, and pixel rows
      return image.substr(0, image.size() - 20 - std::max<std::size_t>(8, image.size() / 8));
    case ImageFormat::kGif: return image.substr(0, image.size() - 1 - std::min<std::size_t>(8, image.size() / 4));
    case ImageFormat::kBmp: {  // a quarter of the pixels (not just row padding)
      const std::size_t pixels = image.size() - marker.size() - (14 + 40 + 256 * 4);
      return image.substr(0, image.size() - marker.size() - std::min(pixels, 16 + pixels / 4));
    }
    case ImageFormat::kTiff: return image.substr(0, image.size() - 1);  // pixels are last
  }
  return image;
}

}  // namespace lf
