// The API's image acceptance rules (format, 8 < w,h <= 4000, <= 5 MB), as a
// pure check shared by lfemu and by the runner's local pre-flight.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/api_status.h"
#include "core/result.h"

namespace lf {

struct ImageLimits {
  int min_exclusive = 8;     // width and height must be > this
  int max_inclusive = 4000;  // width and height must be <= this
  std::uint64_t max_bytes = 5 * 1024 * 1024;
};

// The status the API would answer for an upload of `bytes`:
// kImageFileSizeTooBig (over max_bytes), kCorruptImage (not an image or
// damaged), kInvalidImageFormatOrSize (dimensions out of range); nullopt when
// the image is acceptable. Pure.
std::optional<ApiStatus> check_image(std::string_view bytes,
                                     const ImageLimits& limits);

// check_image for a file on disk: size from stat (too big without reading
// it), else the whole file (<= max_bytes) is read and checked. An Error only
// when the file cannot be stat'ed or read (it names the path and why).
Result<std::optional<ApiStatus>> preflight_file(const std::string& path,
                                                const ImageLimits& limits);

}  // namespace lf
