// Image format and dimensions from a file's bytes alone (magic bytes and
// headers, no pixel decoding), and whether the file is damaged: what the API
// needs to decide CORRUPT_IMAGE and INVALID_IMAGE_FORMAT_OR_SIZE.
#pragma once

#include <string>
#include <string_view>

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
  ImageInfo info;      // format valid unless kNotAnImage; dims valid when kOk
  std::string detail;  // why, for kNotAnImage / kDamaged (empty when kOk)
};

// Identifies `bytes` by content and reads its dimensions from the headers:
// JPEG (segments walked to SOFn, APPn/EXIF/COM skipped, EOI required), PNG
// (IHDR with CRC check, IEND required), GIF (logical screen), BMP (negative
// height = top-down), TIFF (both byte orders, IFD0 ImageWidth/ImageLength as
// SHORT or LONG). Pure; never reads outside `bytes`, whatever they contain.
ImageProbe probe_image(std::string_view bytes);

}  // namespace lf
