// The API's image rules applied to bytes or to a file; see preflight.h.
#include "image/preflight.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "image/file_window.h"
#include "image/image_probe.h"

namespace lf {
namespace {

std::string_view upper_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kGif: return "GIF";
    case ImageFormat::kBmp: return "BMP";
    case ImageFormat::kTiff: return "TIFF";
  }
  return "image";
}

PreflightVerdict too_big(std::uint64_t size, const ImageLimits& limits) {
  PreflightVerdict v;
  v.rejected = ApiStatus::kImageFileSizeTooBig;
  v.bytes = size;
  constexpr std::uint64_t kMiB = 1024 * 1024;
  v.detail = std::to_string(size) + " bytes: over the ";
  if (limits.max_bytes % kMiB == 0) v.detail += std::to_string(limits.max_bytes / kMiB) + " MB ";
  v.detail += "limit (" + std::to_string(limits.max_bytes) + " bytes)";
  return v;
}

// "%PDF", "PK\x03\x04": the first bytes of a file that is not an image.
std::string describe_start(std::string_view head) {
  if (head.empty()) return "empty file";
  std::string out = "starts with ";
  for (unsigned char c : head.substr(0, 4)) {
    if (c >= 0x21 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Applies the rules (see preflight_bytes) to what a probe found. `head` is
// the file's first bytes, for describing a non-image.
PreflightVerdict judge(const ImageProbe& probe, std::uint64_t size, std::string_view head,
                       const ImageLimits& limits) {
  PreflightVerdict v;
  v.bytes = size;
  if (probe.verdict == ImageProbe::Verdict::kNotAnImage) {
    v.rejected = ApiStatus::kCorruptImage;
    v.detail = "not an image: " + describe_start(head);
    return v;
  }
  v.format = probe.info.format;
  const std::string name(upper_name(probe.info.format));
  if (probe.dims_known) {
    v.width = probe.info.width;
    v.height = probe.info.height;
    std::string why;
    auto check = [&](const char* side, int value) {
      std::string w;
      if (value <= limits.min_exclusive) {
        w = std::string(side) + " not over " + std::to_string(limits.min_exclusive) + " px";
      } else if (value > limits.max_inclusive) {
        w = std::string(side) + " over " + std::to_string(limits.max_inclusive) + " px";
      }
      if (!w.empty()) why += (why.empty() ? "" : ", ") + w;
    };
    check("width", v.width);
    check("height", v.height);
    if (!why.empty()) {
      v.rejected = ApiStatus::kInvalidImageFormatOrSize;
      v.detail = name + " " + std::to_string(v.width) + "x" + std::to_string(v.height) +
                 " px: " + why;
      return v;
    }
  }
  if (probe.verdict == ImageProbe::Verdict::kDamaged) {
    v.rejected = ApiStatus::kCorruptImage;
    v.detail = probe.detail;
  }
  return v;
}

}  // namespace

PreflightVerdict preflight_bytes(std::string_view bytes, const ImageLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    PreflightVerdict v = too_big(bytes.size(), limits);
    v.format = sniff_format(bytes.substr(0, 8));
    return v;
  }
  return judge(probe_image(bytes), bytes.size(), bytes.substr(0, 8), limits);
}

Result<PreflightVerdict> preflight_file_headers(const std::string& path,
                                                const ImageLimits& limits) {
  auto window = FileWindow::open(path);
  if (!window.ok()) return window.error();
  const std::uint64_t size = window->size();
  if (size > limits.max_bytes) return too_big(size, limits);
  const ImageProbe probe = probe_image_headers(*window);
  if (window->error()) return *window->error();
  std::string_view head;
  if (size > 0) {
    auto h = window->read(0, static_cast<std::size_t>(std::min<std::uint64_t>(size, 8)));
    if (!h) return window->error() ? *window->error() : Error{"cannot read " + path};
    head = *h;
  }
  return judge(probe, size, head, limits);
}

std::optional<ApiStatus> check_image(std::string_view bytes, const ImageLimits& limits) {
  return preflight_bytes(bytes, limits).rejected;
}

Result<std::optional<ApiStatus>> preflight_file(const std::string& path,
                                                const ImageLimits& limits) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error{"cannot read image " + path + ": " + std::strerror(errno)};
  }
  if (!S_ISREG(st.st_mode)) return Error{"image " + path + " is not a regular file"};
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > limits.max_bytes) return std::optional<ApiStatus>(ApiStatus::kImageFileSizeTooBig);

  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open image " + path + ": " + std::strerror(errno)};
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (in.bad()) return Error{"cannot read image " + path + ": read failed"};
  bytes.resize(static_cast<std::size_t>(in.gcount()));  // the file may have shrunk
  return check_image(bytes, limits);
}

std::string_view mime_type_of(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "image/jpeg";
    case ImageFormat::kPng: return "image/png";
    case ImageFormat::kGif: return "image/gif";
    case ImageFormat::kBmp: return "image/bmp";
    case ImageFormat::kTiff: return "image/tiff";
  }
  return "application/octet-stream";
}

std::string_view neutral_file_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "image.jpg";
    case ImageFormat::kPng: return "image.png";
    case ImageFormat::kGif: return "image.gif";
    case ImageFormat::kBmp: return "image.bmp";
    case ImageFormat::kTiff: return "image.tif";
  }
  return "image";
}

}  // namespace lf
