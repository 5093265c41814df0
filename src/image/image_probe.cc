// Header parsers for JPEG, PNG, GIF, BMP and TIFF. Every read goes through
// Bytes, which checks bounds, so hostile input can only yield kDamaged.
#include "image/image_probe.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <utility>

#include "image/checksums.h"

namespace lf {
namespace {

using Verdict = ImageProbe::Verdict;

// Thrown by a windowed Bytes when the FileWindow cannot give a byte (out of
// budget or a read error); caught in probe_image_headers, never leaves this file.
struct WindowExhausted {};

// Bounds-checked little/big-endian reads over the input: bytes in memory, or
// a file through a FileWindow (then any read may throw WindowExhausted).
// has() is arithmetic on the size and never reads.
class Bytes {
 public:
  explicit Bytes(std::string_view s) : s_(s), size_(s.size()) {}
  explicit Bytes(FileWindow& w) : w_(&w), size_(static_cast<std::size_t>(w.size())) {}
  std::size_t size() const { return size_; }
  bool windowed() const { return w_ != nullptr; }
  bool has(std::uint64_t off, std::uint64_t n) const {
    return off <= size_ && n <= size_ - off;
  }
  std::uint32_t u8(std::size_t off) const {
    return static_cast<unsigned char>(w_ ? view(off, 1)[0] : s_[off]);
  }
  std::uint32_t be16(std::size_t off) const { return u8(off) << 8 | u8(off + 1); }
  std::uint32_t le16(std::size_t off) const { return u8(off) | u8(off + 1) << 8; }
  std::uint32_t be32(std::size_t off) const { return be16(off) << 16 | be16(off + 2); }
  std::uint32_t le32(std::size_t off) const { return le16(off) | le16(off + 2) << 16; }
  // REQUIRES: has(off, n).
  std::string_view view(std::size_t off, std::size_t n) const {
    if (!w_) return s_.substr(off, n);
    auto v = w_->read(off, n);
    if (!v) throw WindowExhausted{};
    return *v;
  }
  // Whether view(off, n) is cheap enough for a header-only probe.
  bool cheap(std::size_t off, std::size_t n) const {
    return !w_ || n <= FileWindow::kReadAhead || w_->holds(off, n);
  }
  // Offset of the next 0xFF byte at or after `off`, or size(). In memory only:
  // scan data is not headers.
  std::size_t find_ff(std::size_t off) const {
    if (w_) throw WindowExhausted{};
    const auto at = s_.find('\xFF', off);
    return at == std::string_view::npos ? s_.size() : at;
  }
  // The parsers note the dimensions once every later failure would report
  // them, so a windowed probe that runs out of window still knows them.
  void note_dims(std::int64_t w, std::int64_t h) const { noted_ = {w, h}; }
  const std::optional<std::pair<std::int64_t, std::int64_t>>& noted_dims() const { return noted_; }

 private:
  std::string_view s_;
  FileWindow* w_ = nullptr;
  std::size_t size_ = 0;
  mutable std::optional<std::pair<std::int64_t, std::int64_t>> noted_;
};

ImageProbe ok(ImageFormat f, std::int64_t w, std::int64_t h) {
  auto clamp = [](std::int64_t v) { return static_cast<int>(v > INT_MAX ? INT_MAX : v); };
  return {Verdict::kOk, {f, clamp(w), clamp(h)}, true, {}};
}

ImageProbe damaged(ImageFormat f, std::string detail) {
  return {Verdict::kDamaged, {f, 0, 0}, false, std::move(detail)};
}

ImageProbe damaged_with_dims(ImageFormat f, std::int64_t w, std::int64_t h, std::string detail) {
  ImageProbe p = ok(f, w, h);
  p.verdict = Verdict::kDamaged;
  p.detail = std::move(detail);
  return p;
}

// ---- JPEG ----------------------------------------------------------------

bool is_sof(std::uint32_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

// Offset just past the marker that ends the entropy-coded data starting at
// `pos` (RSTn and stuffed 0xFF00 belong to the data), with the marker code;
// nullopt when the data runs to the end of the file.
std::optional<std::pair<std::size_t, std::uint32_t>> skip_entropy_data(const Bytes& b,
                                                                      std::size_t pos) {
  while (pos + 1 < b.size()) {
    pos = b.find_ff(pos);
    if (pos + 1 >= b.size()) break;
    const std::uint32_t m = b.u8(pos + 1);
    if (m == 0x00 || (m >= 0xD0 && m <= 0xD7)) { pos += 2; continue; }
    if (m == 0xFF) { ++pos; continue; }  // fill byte
    return std::pair{pos + 2, m};
  }
  return std::nullopt;
}

// A windowed probe at the first scan, which starts at `scan`: judges the
// file's end from its last bytes instead of reading the scan data. Truncated
// only when those bytes are what skip_entropy_data would run off the end of:
// no marker but RSTn (no EOI), and either they reach back to `scan` (exact)
// or hold at least kMinStuffedBytes stuffed 0xFF00 pairs (scan data, not the
// text, padding or video that some files carry after their EOI; see the
// promise in image_probe.h).
ImageProbe jpeg_end_from_tail(const Bytes& b, std::size_t scan, std::uint32_t w, std::uint32_t h) {
  constexpr auto F = ImageFormat::kJpeg;
  if (b.size() >= 2 && b.be16(b.size() - 2) == 0xFFD9) return ok(F, w, h);
  const std::size_t start = std::max(scan, b.size() - std::min(b.size(), FileWindow::kEdgeBytes));
  const std::string_view tail = b.view(start, b.size() - start);
  if (start > scan && !tail.empty() && static_cast<unsigned char>(tail[0]) == 0xD9) {
    return ok(F, w, h);  // perhaps the second half of an EOI
  }
  int stuffed = 0;
  for (std::size_t i = 0; i + 1 < tail.size(); ++i) {
    if (static_cast<unsigned char>(tail[i]) != 0xFF) continue;
    const auto m = static_cast<unsigned char>(tail[i + 1]);
    if (m == 0x00) {
      ++stuffed;
      ++i;
    } else if (m != 0xFF && (m < 0xD0 || m > 0xD7)) {
      return ok(F, w, h);  // a marker: the end cannot be judged from here
    }
  }
  if (start == scan || stuffed >= kMinStuffedBytes) {
    return damaged_with_dims(F, w, h, "JPEG ends inside scan data without an EOI marker (truncated)");
  }
  return ok(F, w, h);
}

ImageProbe probe_jpeg(const Bytes& b) {
  constexpr auto F = ImageFormat::kJpeg;
  std::size_t pos = 2;  // after SOI
  std::optional<std::pair<std::uint32_t, std::uint32_t>> dims;  // width, height
  auto fail = [&](std::string why) {
    return dims ? damaged_with_dims(F, dims->first, dims->second, std::move(why))
                : damaged(F, std::move(why));
  };
  while (true) {
    // Find the next marker; like libjpeg, skip stray bytes between segments.
    while (pos < b.size() && b.u8(pos) != 0xFF) ++pos;
    while (pos < b.size() && b.u8(pos) == 0xFF) ++pos;
    if (pos >= b.size()) {
      return fail(dims ? "JPEG ends without an EOI marker (truncated)"
                       : "JPEG ends before its frame header (SOF)");
    }
    const std::uint32_t marker = b.u8(pos++);
    if (marker == 0xD9) {  // EOI
      if (!dims) return fail("JPEG has no frame header (SOF) before EOI");
      return ok(F, dims->first, dims->second);
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (marker == 0xD8) return fail("JPEG has a second SOI marker");
    if (!b.has(pos, 2)) return fail("JPEG segment length truncated");
    const std::uint32_t len = b.be16(pos);
    if (len < 2) return fail("JPEG segment with invalid length " + std::to_string(len));
    if (!b.has(pos, len)) return fail("JPEG segment truncated (file ends inside a segment)");
    if (is_sof(marker)) {
      if (len < 8) return fail("JPEG frame header (SOF) too short");
      if (dims) return fail("JPEG has two frame headers (SOF)");
      const std::uint32_t ncomp = b.u8(pos + 7);
      if (ncomp == 0 || len != 8 + 3 * ncomp) return fail("JPEG frame header (SOF) inconsistent");
      dims = std::pair{b.be16(pos + 5), b.be16(pos + 3)};
      b.note_dims(dims->first, dims->second);
    }
    const bool sos = marker == 0xDA;
    if (sos && !dims) return fail("JPEG scan (SOS) before the frame header (SOF)");
    pos += len;
    if (sos && b.windowed()) return jpeg_end_from_tail(b, pos, dims->first, dims->second);
    if (sos) {
      auto end = skip_entropy_data(b, pos);
      if (!end) return fail("JPEG ends inside scan data without an EOI marker (truncated)");
      pos = end->first - 2;  // let the loop read this marker
    }
  }
}

// ---- PNG -----------------------------------------------------------------

bool valid_png_depth(std::uint32_t color, std::uint32_t depth) {
  switch (color) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2: case 4: case 6: return depth == 8 || depth == 16;
    default: return false;
  }
}

ImageProbe probe_png(const Bytes& b) {
  constexpr auto F = ImageFormat::kPng;
  std::size_t pos = 8;
  std::uint32_t width = 0, height = 0;
  bool seen_ihdr = false, seen_idat = false;
  while (true) {
    auto fail = [&](std::string why) {
      return seen_ihdr ? damaged_with_dims(F, width, height, std::move(why))
                       : damaged(F, std::move(why));
    };
    if (!b.has(pos, 8)) return fail("PNG ends without an IEND chunk (truncated)");
    const std::uint32_t len = b.be32(pos);
    const std::string_view type = b.view(pos + 4, 4);
    if (len > 0x7FFFFFFFu) return fail("PNG chunk length out of range");
    if (!b.has(pos + 8, std::uint64_t{len} + 4)) {
      return fail("PNG chunk '" + std::string(type) + "' truncated");
    }
    for (char c : type) {
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return fail("PNG chunk type invalid");
    }
    const bool critical = type[0] >= 'A' && type[0] <= 'Z';
    // Like libpng: a bad CRC on a critical chunk is an error, on an
    // ancillary chunk the chunk is merely ignored.
    if (critical && b.cheap(pos + 4, 4 + std::size_t{len}) && crc32(b.view(pos + 4, 4 + std::size_t{len})) != b.be32(pos + 8 + len)) {
      return fail("PNG chunk '" + std::string(type) + "' has a bad CRC");
    }
    if (!seen_ihdr) {
      if (type != "IHDR" || len != 13) return fail("PNG does not start with an IHDR chunk");
      width = b.be32(pos + 8);
      height = b.be32(pos + 12);
      seen_ihdr = true;
      if (width == 0 || height == 0 || width > 0x7FFFFFFFu || height > 0x7FFFFFFFu) {
        return damaged(F, "PNG IHDR has invalid dimensions");
      }
      b.note_dims(width, height);
      if (!valid_png_depth(b.u8(pos + 17), b.u8(pos + 16)) || b.u8(pos + 18) != 0 ||
          b.u8(pos + 19) != 0 || b.u8(pos + 20) > 1) {
        return fail("PNG IHDR has an invalid bit depth, color type or method");
      }
      // A windowed probe takes a file ending in IEND for complete.
      if (b.windowed() && b.size() >= pos + 25 + 12 &&
          b.view(b.size() - 12, 12) == std::string_view("\0\0\0\0IEND\xAE\x42\x60\x82", 12)) {
        return ok(F, width, height);
      }
    } else if (type == "IHDR") {
      return fail("PNG has a second IHDR chunk");
    } else if (type == "IDAT") {
      seen_idat = true;
    } else if (type == "IEND") {
      if (!seen_idat) return fail("PNG has no image data (IDAT)");
      return ok(F, width, height);
    }
    pos += 12 + std::size_t{len};
  }
}

// ---- GIF -----------------------------------------------------------------

// Offset after a chain of data sub-blocks starting at `pos`; nullopt if cut.
std::optional<std::size_t> skip_sub_blocks(const Bytes& b, std::size_t pos) {
  while (true) {
    if (!b.has(pos, 1)) return std::nullopt;
    const std::uint32_t n = b.u8(pos);
    if (n == 0) return pos + 1;
    if (!b.has(pos + 1, n)) return std::nullopt;
    pos += 1 + n;
  }
}

ImageProbe probe_gif(const Bytes& b) {
  constexpr auto F = ImageFormat::kGif;
  if (!b.has(0, 13)) return damaged(F, "GIF header truncated");
  const std::uint32_t width = b.le16(6), height = b.le16(8);
  auto fail = [&](std::string why) { return damaged_with_dims(F, width, height, std::move(why)); };
  b.note_dims(width, height);
  // A windowed probe takes a file ending in the trailer for complete.
  if (b.windowed() && b.u8(b.size() - 1) == 0x3B) return ok(F, width, height);
  std::size_t pos = 13;
  const std::uint32_t packed = b.u8(10);
  if (packed & 0x80) pos += 3u * (2u << (packed & 7));
  bool seen_image = false;
  while (true) {
    if (!b.has(pos, 1)) return fail("GIF ends without a trailer (truncated)");
    const std::uint32_t block = b.u8(pos);
    if (block == 0x3B) {
      if (!seen_image) return fail("GIF has no image");
      return ok(F, width, height);
    }
    if (block == 0x21) {  // extension: label, then sub-blocks
      if (!b.has(pos, 2)) return fail("GIF extension truncated");
      auto end = skip_sub_blocks(b, pos + 2);
      if (!end) return fail("GIF extension truncated");
      pos = *end;
    } else if (block == 0x2C) {  // image descriptor, table, LZW data
      if (!b.has(pos, 11)) return fail("GIF image descriptor truncated");
      const std::uint32_t ipacked = b.u8(pos + 9);
      pos += 10;
      if (ipacked & 0x80) pos += 3u * (2u << (ipacked & 7));
      if (!b.has(pos, 1)) return fail("GIF image data truncated");
      const std::uint32_t min_code = b.u8(pos);
      if (min_code < 2 || min_code > 11) return fail("GIF image has an invalid LZW code size");
      auto end = skip_sub_blocks(b, pos + 1);
      if (!end) return fail("GIF image data truncated");
      pos = *end;
      seen_image = true;
    } else {
      return fail("GIF has an unknown block type");
    }
  }
}

// ---- BMP -----------------------------------------------------------------

ImageProbe probe_bmp(const Bytes& b) {
  constexpr auto F = ImageFormat::kBmp;
  if (!b.has(0, 18)) return damaged(F, "BMP header truncated");
  const std::uint32_t data_offset = b.le32(10);
  const std::uint32_t dib = b.le32(14);
  std::int64_t width = 0, height = 0;
  std::uint32_t bpp = 0, compression = 0;
  if (dib == 12) {  // BITMAPCOREHEADER (OS/2 1.x)
    if (!b.has(14, 12)) return damaged(F, "BMP header truncated");
    width = b.le16(18);
    height = b.le16(20);
    bpp = b.le16(24);
  } else if (dib >= 16 && dib <= 124) {
    if (!b.has(14, std::max<std::uint32_t>(dib, 20))) return damaged(F, "BMP header truncated");
    width = static_cast<std::int32_t>(b.le32(18));
    height = static_cast<std::int32_t>(b.le32(22));
    bpp = b.le16(28);
    if (dib >= 20) compression = b.le32(30);
    if (height < 0) height = -height;  // top-down rows
  } else {
    return damaged(F, "BMP has an unknown header size " + std::to_string(dib));
  }
  if (width < 0 || height > INT_MAX) return damaged(F, "BMP has invalid dimensions");
  b.note_dims(width, height);
  auto fail = [&](std::string why) { return damaged_with_dims(F, width, height, std::move(why)); };
  if (data_offset < 14 + dib || data_offset > b.size()) {
    return fail("BMP pixel data offset lies outside the file (truncated)");
  }
  if (compression == 0 || compression == 3 || compression == 6) {  // uncompressed rows
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) {
      return fail("BMP has an invalid bit count " + std::to_string(bpp));
    }
    const std::uint64_t stride = (static_cast<std::uint64_t>(width) * bpp + 31) / 32 * 4;
    const std::uint64_t need = stride * static_cast<std::uint64_t>(height);
    if (!b.has(data_offset, need)) return fail("BMP pixel data truncated");
  } else if (compression > 6) {
    return fail("BMP has an unknown compression " + std::to_string(compression));
  } else if (data_offset == b.size()) {
    return fail("BMP has no pixel data");
  }
  return ok(F, width, height);
}

// ---- TIFF ----------------------------------------------------------------

// Classic TIFF (magic 42: 4-byte offsets, 12-byte IFD entries) and BigTIFF
// (magic 43: 8-byte offsets and counts, 20-byte entries, LONG8 values), which
// libtiff reads alike; only IFD0, the first page, is read.
ImageProbe probe_tiff(const Bytes& b, bool le) {
  constexpr auto F = ImageFormat::kTiff;
  auto u16 = [&](std::size_t off) -> std::uint64_t { return le ? b.le16(off) : b.be16(off); };
  auto u32 = [&](std::size_t off) -> std::uint64_t { return le ? b.le32(off) : b.be32(off); };
  auto u64 = [&](std::size_t off) -> std::uint64_t {
    return le ? u32(off) | u32(off + 4) << 32 : u32(off) << 32 | u32(off + 4);
  };
  if (!b.has(0, 8)) return damaged(F, "TIFF header truncated");
  const bool big = u16(2) == 43;
  if (big && (!b.has(0, 16) || u16(4) != 8 || u16(6) != 0)) {
    return damaged(F, "BigTIFF header truncated or invalid");
  }
  const std::size_t offset_size = big ? 8 : 4;   // of offsets, counts and entry values
  const std::size_t entry_size = big ? 20 : 12;
  auto offset = [&](std::size_t off) { return big ? u64(off) : u32(off); };
  const std::uint64_t ifd = big ? u64(8) : u32(4);
  if (ifd < (big ? 16u : 8u) || !b.has(ifd, offset_size == 8 ? 8 : 2)) {
    return damaged(F, "TIFF first IFD lies outside the file (truncated)");
  }
  const std::uint64_t count = big ? u64(ifd) : u16(ifd);
  const std::uint64_t entries = ifd + (big ? 8 : 2);
  if (count == 0 || count > 0xFFFF || !b.has(entries, count * entry_size)) {
    return damaged(F, "TIFF first IFD truncated");
  }
  std::optional<std::uint64_t> width, height;
  struct Array { std::uint32_t type = 0; std::uint64_t count = 0, value_off = 0; bool present = false; };
  Array offsets, byte_counts;
  auto type_size = [](std::uint32_t type) -> std::size_t {
    return type == 3 ? 2 : type == 4 ? 4 : type == 16 ? 8 : 0;  // SHORT, LONG, LONG8
  };
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t e = entries + i * entry_size;
    const std::uint32_t tag = static_cast<std::uint32_t>(u16(e));
    const std::uint32_t type = static_cast<std::uint32_t>(u16(e + 2));
    const std::uint64_t n = offset(e + 4);
    const std::size_t value = e + 4 + offset_size;
    auto scalar = [&]() -> std::optional<std::uint64_t> {
      if (n < 1) return std::nullopt;
      if (type == 3) return u16(value);
      if (type == 4) return u32(value);
      if (type == 16 && big) return u64(value);
      return std::nullopt;
    };
    if (tag == 256) width = scalar();
    if (tag == 257) height = scalar();
    if (tag == 273 || tag == 324 || tag == 279 || tag == 325) {
      Array& a = (tag == 273 || tag == 324) ? offsets : byte_counts;
      const std::size_t size = type_size(type);
      if (size == 0 || (size == 8 && !big)) {
        return damaged(F, "TIFF strip/tile table has an invalid type");
      }
      if (n > b.size()) return damaged(F, "TIFF strip/tile table lies outside the file");
      const std::uint64_t bytes = n * size;
      a = {type, n, bytes <= offset_size ? value : offset(value), true};
      if (!b.has(a.value_off, bytes)) return damaged(F, "TIFF strip/tile table lies outside the file");
    }
  }
  if (!width || !height) return damaged(F, "TIFF first IFD has no ImageWidth/ImageLength");
  const auto w = static_cast<std::int64_t>(std::min<std::uint64_t>(*width, INT_MAX));
  const auto h = static_cast<std::int64_t>(std::min<std::uint64_t>(*height, INT_MAX));
  b.note_dims(w, h);
  auto fail = [&](std::string why) { return damaged_with_dims(F, w, h, std::move(why)); };
  if (!offsets.present || !byte_counts.present || offsets.count == 0 ||
      offsets.count != byte_counts.count) {
    return fail("TIFF has no consistent strip or tile table");
  }
  auto element = [&](const Array& a, std::uint64_t i) -> std::uint64_t {
    const std::size_t at = a.value_off + i * type_size(a.type);
    return a.type == 3 ? u16(at) : a.type == 4 ? u32(at) : u64(at);
  };
  for (std::uint64_t i = 0; i < offsets.count; ++i) {
    if (!b.has(element(offsets, i), element(byte_counts, i))) {
      return fail("TIFF image data lies outside the file (truncated)");
    }
  }
  return ok(F, w, h);
}

}  // namespace

std::string_view to_string(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "jpeg";
    case ImageFormat::kPng: return "png";
    case ImageFormat::kGif: return "gif";
    case ImageFormat::kBmp: return "bmp";
    case ImageFormat::kTiff: return "tiff";
  }
  return "unknown";
}

namespace {

std::optional<ImageFormat> sniff(const Bytes& b) {
  const std::string_view head = b.view(0, std::min<std::size_t>(b.size(), 8));
  auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
  if (starts("\xFF\xD8\xFF")) return ImageFormat::kJpeg;
  if (starts("\x89PNG\r\n\x1A\n")) return ImageFormat::kPng;
  if (starts("GIF87a") || starts("GIF89a")) return ImageFormat::kGif;
  if (starts("BM")) return ImageFormat::kBmp;
  if (starts(std::string_view("II*\0", 4)) || starts(std::string_view("MM\0*", 4)) ||
      starts(std::string_view("II+\0", 4)) || starts(std::string_view("MM\0+", 4))) {  // BigTIFF
    return ImageFormat::kTiff;
  }
  return std::nullopt;
}

ImageProbe probe(const Bytes& b) {
  const auto format = sniff(b);
  if (!format) return {Verdict::kNotAnImage, {}, false, "not a JPEG, PNG, GIF, BMP or TIFF file"};
  switch (*format) {
    case ImageFormat::kJpeg: return probe_jpeg(b);
    case ImageFormat::kPng: return probe_png(b);
    case ImageFormat::kGif: return probe_gif(b);
    case ImageFormat::kBmp: return probe_bmp(b);
    case ImageFormat::kTiff: return probe_tiff(b, b.u8(0) == 'I');
  }
  return {};
}

}  // namespace

std::optional<ImageFormat> sniff_format(std::string_view head) { return sniff(Bytes(head)); }

ImageProbe probe_image(std::string_view bytes) { return probe(Bytes(bytes)); }

ImageProbe probe_image_headers(FileWindow& window) {
  if (window.size() <= 2 * FileWindow::kEdgeBytes) {
    const auto whole = window.whole();
    return whole ? probe_image(*whole) : ImageProbe{};
  }
  const Bytes b(window);
  std::optional<ImageFormat> format;
  try {
    format = sniff(b);
    return probe(b);
  } catch (const WindowExhausted&) {
    // Nothing wrong found in what the window allowed.
    ImageProbe p{Verdict::kOk, {}, false, {}};
    if (format) p.info.format = *format;
    if (const auto& dims = b.noted_dims()) {
      p = ok(p.info.format, dims->first, dims->second);
    }
    return p;
  }
}

}  // namespace lf
