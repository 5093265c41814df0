// Fuzz target: judging images by their bytes (probe_image, preflight_bytes)
// and by their headers on disk (probe_image_headers, preflight_file_headers),
// with the promises of image_probe.h and preflight.h: the header-only
// variants stay within FileWindow's bounds and are never stricter than the
// whole-file ones (but for the one documented JPEG heuristic).
#include <string>

#include "fuzz_targets.h"
#include "image/file_window.h"
#include "image/image_probe.h"
#include "image/preflight.h"

namespace lf::fuzz {
namespace {

using Verdict = ImageProbe::Verdict;

// The documented exception (image_probe.h, probe_image_headers): a JPEG
// whose last bytes look like cut scan data is reported truncated.
bool is_jpeg_tail_heuristic(const ImageProbe& p) {
  return p.verdict == Verdict::kDamaged && p.info.format == ImageFormat::kJpeg &&
         p.detail.find("ends inside scan data") != std::string::npos;
}

}  // namespace

int image_probe(const std::uint8_t* data, std::size_t size) {
  const ExactBytes file(std::string_view(reinterpret_cast<const char*>(data), size));
  const std::string_view bytes = file.view();

  const ImageProbe whole = probe_image(bytes);
  fuzz_check(whole.verdict != Verdict::kOk || whole.dims_known, "probe_image: kOk without dimensions");
  fuzz_check((whole.verdict == Verdict::kOk) == whole.detail.empty(),
             "probe_image: a detail exactly when not kOk");
  const ImageLimits limits;
  const PreflightVerdict from_bytes = preflight_bytes(bytes, limits);
  fuzz_check(from_bytes.rejected.has_value() != from_bytes.detail.empty(),
             "preflight_bytes: a detail exactly when rejected");

  const std::string& path = write_scratch_file(bytes);
  auto window = FileWindow::open(path);
  fuzz_check(window.ok(), "FileWindow::open failed on the scratch file");
  const ImageProbe heads = probe_image_headers(*window);
  fuzz_check(!window->error().has_value(), "FileWindow: a read failed on the scratch file");
  fuzz_check(window->reads() <= FileWindow::kMaxReads, "FileWindow: more than kMaxReads reads");
  fuzz_check(window->bytes_read() <= FileWindow::kMaxBytes, "FileWindow: more than kMaxBytes read");

  const bool heuristic = is_jpeg_tail_heuristic(heads);
  if (heads.verdict == Verdict::kNotAnImage) {
    fuzz_check(whole.verdict == Verdict::kNotAnImage,
               "probe_image_headers says not an image, probe_image disagrees");
  } else {
    fuzz_check(whole.verdict != Verdict::kNotAnImage && whole.info.format == heads.info.format,
               "probe_image_headers and probe_image name different formats");
  }
  if (heads.verdict == Verdict::kDamaged && !heuristic) {
    fuzz_check(whole.verdict == Verdict::kDamaged,
               "probe_image_headers says damaged, probe_image does not (stricter)");
  }
  if (heads.dims_known && whole.dims_known) {
    fuzz_check(heads.info.width == whole.info.width && heads.info.height == whole.info.height,
               "probe_image_headers and probe_image read different dimensions");
  }

  auto from_headers = preflight_file_headers(path, limits);
  fuzz_check(from_headers.ok(), "preflight_file_headers failed on the scratch file");
  fuzz_check(from_headers->bytes == size, "preflight_file_headers: wrong file size");
  if (from_headers->rejected && !heuristic) {
    fuzz_check(from_bytes.rejected == from_headers->rejected,
               "preflight_file_headers rejects, preflight_bytes does not or otherwise (stricter)");
  }
  return 0;
}

}  // namespace lf::fuzz
