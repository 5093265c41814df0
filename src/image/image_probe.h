// Image format and dimensions from a file's bytes alone (magic bytes and
// headers, no pixel decoding), and whether the file is damaged: what the API
// needs to decide CORRUPT_IMAGE and INVALID_IMAGE_FORMAT_OR_SIZE.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "image/file_window.h"

namespace lf {

enum class ImageFormat { kJpeg, kPng, kGif, kBmp, kTiff };

inline constexpr ImageFormat kAllImageFormats[] = {
    ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kGif,
    ImageFormat::kBmp, ImageFormat::kTiff};

// "jpeg", "png", "gif", "bmp", "tiff".
std::string_view to_string(ImageFormat format);

struct ImageInfo {
  ImageFormat format = ImageFormat::kJpeg;
  int width = 0;
  int height = 0;
};

struct ImageProbe {
  enum class Verdict {
    kOk,          // format recognised, headers consistent, dimensions known
    kNotAnImage,  // no known magic bytes
    kDamaged,     // a known format, but truncated or inconsistent
  } verdict = Verdict::kNotAnImage;
  ImageInfo info;      // format valid unless kNotAnImage; dims valid when dims_known
  bool dims_known = false;  // always when kOk from probe_image; for kDamaged when
                            // the headers that hold them still read
  std::string detail;  // why, for kNotAnImage / kDamaged (empty when kOk)
};

// The format named by the magic bytes at the start of `head` (its first 8
// bytes suffice), nullopt when none is known. Pure.
std::optional<ImageFormat> sniff_format(std::string_view head);

// Identifies `bytes` by content and reads its dimensions from the headers:
// JPEG (segments walked to SOFn, APPn/EXIF/COM skipped, EOI required), PNG
// (IHDR with CRC check, IEND required), GIF (logical screen), BMP (negative
// height = top-down), TIFF (both byte orders, classic or BigTIFF, IFD0 only,
// ImageWidth/ImageLength as SHORT, LONG or LONG8). Pure; never reads outside
// `bytes`, whatever they contain.
//
// Decoders differ at the end of an image. A file cut before JPEG EOI, PNG
// IEND or the GIF trailer is damaged: Pillow refuses a cut JPEG, giflib's
// DGifSlurp and libpng's png_read_end (which OpenCV calls) fail at the
// missing end; libjpeg alone only warns, and Pillow does decode a PNG that
// lacks nothing but IEND. Bytes after those ends are
// accepted, as every decoder stops there and never looks further: camera
// padding, Samsung trailers, the video of a "motion photo".
ImageProbe probe_image(std::string_view bytes);

// Stuffed 0xFF00 pairs that make a JPEG's last bytes "cut scan data" (below):
// a cut scan holds about one per 256 bytes, text and zero padding none.
inline constexpr int kMinStuffedBytes = 4;

// The same parsers on a file, reading only what `window` allows (see
// FileWindow's bounds): JPEG segment headers walked by their lengths up to
// the first scan, never a segment body but the frame header's; PNG chunk
// headers by their lengths (CRCs only of chunks of at most
// FileWindow::kReadAhead bytes); GIF blocks; the BMP header; TIFF's IFD0 and
// its strip/tile table; and the last FileWindow::kEdgeBytes: a file ending in
// JPEG EOI, PNG IEND or the GIF trailer is taken as complete, and a JPEG
// ending in cut scan data as truncated (below). A file of at most
// 2 * kEdgeBytes is probed whole, exactly as probe_image does.
//
// Promise: never stricter than probe_image on the whole file. kNotAnImage
// and kDamaged are what probe_image says too, and whenever dims_known the
// dimensions are those probe_image reports (kOk or kDamaged). kOk means
// nothing wrong was found in what was read (dims_known may be false when the
// window ran out first). One heuristic, the only exception: a JPEG whose last
// kEdgeBytes look like cut scan data (no EOI, no marker but RSTn, at least
// kMinStuffedBytes stuffed 0xFF00 pairs) is reported truncated; probe_image
// would accept it only if a complete JPEG ended earlier and was followed by
// more than kEdgeBytes of what looks like scan data without an EOI (say, a
// cut second image of an MPO file).
// When window.error() is set afterwards, the result means nothing.
ImageProbe probe_image_headers(FileWindow& window);

}  // namespace lf
