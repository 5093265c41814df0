// Sample mix and per-sample specs; see sample_plan.h. Uses mt19937_64 (whose
// sequence the standard fixes) with our own range mapping, so archives are
// identical on every platform.
#include "emulator/sample_plan.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>

#include "image/synthetic_image.h"

namespace lf {
namespace {

std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) { return n == 0 ? 0 : rng() % n; }
int between(std::mt19937_64& rng, int lo, int hi) {  // inclusive
  return lo + static_cast<int>(below(rng, static_cast<std::uint64_t>(hi - lo + 1)));
}

std::size_t share(std::size_t count, double fraction) {
  return static_cast<std::size_t>(std::llround(static_cast<double>(count) * fraction));
}

ImageFormat pick_format(std::mt19937_64& rng) {
  const auto r = below(rng, 100);
  if (r < 70) return ImageFormat::kJpeg;
  if (r < 82) return ImageFormat::kPng;
  if (r < 88) return ImageFormat::kBmp;
  if (r < 94) return ImageFormat::kGif;
  return ImageFormat::kTiff;
}

// Plausible sizes, kept small for the formats we store uncompressed.
std::pair<int, int> pick_dims(std::mt19937_64& rng, ImageFormat f) {
  int lo = 64, hi = 400;
  if (f == ImageFormat::kJpeg) { lo = 480; hi = 3000; }
  if (f == ImageFormat::kGif) hi = 800;
  if (f == ImageFormat::kTiff) hi = 300;
  const int w = between(rng, lo, hi);
  // Phones shoot 4:3 or 3:4, sometimes 16:9.
  const int shape = between(rng, 0, 2);
  int h = shape == 0 ? w * 3 / 4 : shape == 1 ? w * 4 / 3 : w * 9 / 16;
  h = std::clamp(h, 9, 4000);
  return {w, h};
}

}  // namespace

std::string_view to_string(SampleKind kind) {
  switch (kind) {
    case SampleKind::kOk: return "ok";
    case SampleKind::kNoFace: return "no_face";
    case SampleKind::kOneFace: return "one_face";
    case SampleKind::kThreeFaces: return "three_faces";
    case SampleKind::kCorrupt: return "corrupt";
    case SampleKind::kBadSize: return "bad_size";
    case SampleKind::kTooBig: return "too_big";
  }
  return "unknown";
}

std::string_view file_extension(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return ".jpg";
    case ImageFormat::kPng: return ".png";
    case ImageFormat::kGif: return ".gif";
    case ImageFormat::kBmp: return ".bmp";
    case ImageFormat::kTiff: return ".tif";
  }
  return ".bin";
}

std::vector<SampleKind> plan_kinds(std::size_t count, SampleMix mix, std::uint64_t seed) {
  std::vector<SampleKind> kinds;
  kinds.reserve(count);
  if (mix == SampleMix::kRealistic) {
    auto add = [&](SampleKind k, std::size_t n) {
      n = std::min(n, count - kinds.size());
      kinds.insert(kinds.end(), n, k);
    };
    add(SampleKind::kNoFace, share(count, 0.03));
    add(SampleKind::kOneFace, share(count, 0.02));
    add(SampleKind::kThreeFaces, share(count, 0.01));
    add(SampleKind::kCorrupt, share(count, 0.01));
    add(SampleKind::kBadSize, share(count, 0.01));
    add(SampleKind::kTooBig, std::min<std::size_t>(5, count / 100));  // a few: they are 5 MB each
  }
  kinds.resize(count, SampleKind::kOk);
  std::mt19937_64 rng(seed ^ 0x5EED5A3B1E5ull);
  for (std::size_t i = count; i > 1; --i) std::swap(kinds[i - 1], kinds[below(rng, i)]);
  return kinds;
}

SampleSpec make_sample_spec(std::size_t index, SampleKind kind, std::uint64_t seed,
                            std::size_t min_bytes) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + index);
  SampleSpec s;
  s.index = index;
  s.kind = kind;
  s.format = pick_format(rng);
  std::tie(s.width, s.height) = pick_dims(rng, s.format);
  s.marker = "lfsamples seed=" + std::to_string(seed) + " index=" + std::to_string(index);
  switch (kind) {
    case SampleKind::kOk: s.pad_to = min_bytes; break;
    case SampleKind::kNoFace: s.marker += " LFEMU:faces=0"; break;
    case SampleKind::kOneFace: s.marker += " LFEMU:faces=1"; break;
    case SampleKind::kThreeFaces: s.marker += " LFEMU:faces=3"; break;
    case SampleKind::kCorrupt: break;
    case SampleKind::kBadSize:
      switch (below(rng, 4)) {
        case 0: s.width = s.height = 8; break;
        case 1: s.height = between(rng, 1, 8); break;
        case 2: s.width = between(rng, 1, 8); break;
        default:  // too large a side: JPEG stays small at any size
          s.format = ImageFormat::kJpeg;
          s.width = between(rng, 4001, 6000);
          s.height = between(rng, 600, 4000);
      }
      break;
    case SampleKind::kTooBig:
      s.format = ImageFormat::kJpeg;
      s.pad_to = 5 * 1024 * 1024 + 1 + below(rng, 1024 * 1024);
      break;
  }
  return s;
}

std::string render_sample(const SampleSpec& s) {
  if (s.kind == SampleKind::kCorrupt) {
    std::mt19937_64 rng(s.index);
    const std::string whole = make_image(s.format, s.width, s.height, s.marker);
    // Half lose their ending (interrupted upload), half are cut mid-file.
    if (below(rng, 2) == 0) return make_corrupt(s.format, s.width, s.height, s.marker);
    return truncate_image(whole, whole.size() / 2 + below(rng, whole.size() / 4));
  }
  return make_image(s.format, s.width, s.height, s.marker, s.pad_to);
}

}  // namespace lf
