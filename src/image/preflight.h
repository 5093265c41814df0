// The API's image acceptance rules (format, 8 < w,h <= 4000, <= 5 MB), as a
// pure check shared by lfemu and by the runner's local pre-flight, and a
// header-only variant for judging millions of files on disk cheaply.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/api_status.h"
#include "core/result.h"
#include "image/image_probe.h"

namespace lf {

struct ImageLimits {
  int min_exclusive = 8;     // width and height must be > this
  int max_inclusive = 4000;  // width and height must be <= this
  std::uint64_t max_bytes = 5 * 1024 * 1024;
};

// What pre-flight found: the status the API would answer, or acceptance.
struct PreflightVerdict {
  // kImageFileSizeTooBig, kCorruptImage, kInvalidImageFormatOrSize;
  // nullopt = acceptable.
  std::optional<ApiStatus> rejected;
  // Words for a report, e.g. "PNG 4001x300 px: width over 4000 px",
  // "6291457 bytes: over the 5 MB limit (5242880 bytes)", "not an image:
  // starts with %PDF", "JPEG ends without an EOI marker (truncated)". Empty
  // when acceptable.
  std::string detail;
  std::optional<ImageFormat> format;  // sniffed from magic bytes when known
  int width = 0, height = 0;          // when known (else 0)
  std::uint64_t bytes = 0;            // file size
};

// The API's rules on bytes held in memory (the runner reads a file once,
// checks exactly the bytes it will send, and hashes them). Pure.
// The rules, in the order the API applies them: size over max_bytes
// (kImageFileSizeTooBig, judged before content); not an image
// (kCorruptImage); dimensions out of range whenever the headers that hold
// them read, even if the image is damaged further on
// (kInvalidImageFormatOrSize: servers read the header and check the size
// before decoding); damaged (kCorruptImage).
PreflightVerdict preflight_bytes(std::string_view bytes, const ImageLimits& limits);

// The same rules from a file's headers only, for enqueue of millions of
// files: fstat, then at most FileWindow::kMaxReads (16) pread() calls and
// FileWindow::kMaxBytes (16 KiB) whatever the file's size (see
// probe_image_headers for what is read). Too big is judged from fstat alone.
// An Error only when the file cannot be opened/stat'ed/read, or is a FIFO,
// directory or other non-regular file (never a blocking read); the message
// names the path and the OS reason, e.g. "cannot read /a/b.jpg: Permission
// denied".
// Promise (tested): never stricter than preflight_bytes — whenever this
// rejects a file, preflight_bytes on the whole file rejects it with the same
// status (but for the one JPEG heuristic named at probe_image_headers). It
// may accept files that preflight_bytes rejects (damage in the middle).
Result<PreflightVerdict> preflight_file_headers(const std::string& path, const ImageLimits& limits);

// The status the API would answer for an upload of `bytes`, nullopt when
// acceptable: preflight_bytes(bytes, limits).rejected. Pure.
std::optional<ApiStatus> check_image(std::string_view bytes,
                                     const ImageLimits& limits);

// check_image for a file on disk: size from stat (too big without reading
// it), else the whole file (<= max_bytes) is read and checked. An Error only
// when the file cannot be stat'ed or read (it names the path and why).
Result<std::optional<ApiStatus>> preflight_file(const std::string& path,
                                                const ImageLimits& limits);

// The MIME type for a sniffed format: image/jpeg, image/png, image/gif,
// image/bmp, image/tiff.
std::string_view mime_type_of(ImageFormat format);

// A neutral file name for an upload of that format: "image.jpg",
// "image.png", "image.gif", "image.bmp", "image.tif".
std::string_view neutral_file_name(ImageFormat format);

}  // namespace lf
