// The API's image rules applied to bytes or to a file; see preflight.h.
#include "image/preflight.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "image/image_probe.h"

namespace lf {

std::optional<ApiStatus> check_image(std::string_view bytes, const ImageLimits& limits) {
  if (bytes.size() > limits.max_bytes) return ApiStatus::kImageFileSizeTooBig;
  const ImageProbe probe = probe_image(bytes);
  if (probe.verdict != ImageProbe::Verdict::kOk) return ApiStatus::kCorruptImage;
  auto in_range = [&](int v) { return v > limits.min_exclusive && v <= limits.max_inclusive; };
  if (!in_range(probe.info.width) || !in_range(probe.info.height)) {
    return ApiStatus::kInvalidImageFormatOrSize;
  }
  return std::nullopt;
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

}  // namespace lf
