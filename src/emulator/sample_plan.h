// What lfsamples writes: a reproducible archive of synthetic hand-held ID
// photos whose mix of outcomes resembles a real batch. Pure planning and
// rendering; samples_main.cc does the file I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/image_probe.h"

namespace lf {

enum class SampleKind {
  kOk,          // two faces, score from the content hash
  kNoFace,      // LFEMU:faces=0
  kOneFace,     // LFEMU:faces=1
  kThreeFaces,  // LFEMU:faces=3
  kCorrupt,     // damaged file (CORRUPT_IMAGE)
  kBadSize,     // a side <= 8 or > 4000 px (INVALID_IMAGE_FORMAT_OR_SIZE)
  kTooBig,      // over 5 MB (IMAGE_FILE_SIZE_TOO_BIG)
};

inline constexpr SampleKind kAllSampleKinds[] = {
    SampleKind::kOk,      SampleKind::kNoFace,  SampleKind::kOneFace, SampleKind::kThreeFaces,
    SampleKind::kCorrupt, SampleKind::kBadSize, SampleKind::kTooBig};

std::string_view to_string(SampleKind kind);

enum class SampleMix {
  kRealistic,  // ~90% OK, 3% no face, 2% one face, 1% three faces, 1% corrupt,
               // 1% bad size, a few (<= 5) over 5 MB, the rest OK
  kOk,         // every image OK
};

// The kinds of `count` samples in a seeded random order; the counts per kind
// are exact (rounded shares), so small archives are predictable too.
std::vector<SampleKind> plan_kinds(std::size_t count, SampleMix mix, std::uint64_t seed);

struct SampleSpec {
  std::size_t index = 0;
  SampleKind kind = SampleKind::kOk;
  ImageFormat format = ImageFormat::kJpeg;
  int width = 0;
  int height = 0;
  std::string marker;       // LFEMU markers plus a unique sample id
  std::size_t pad_to = 0;   // bytes, 0 for natural size
};

// Format (mostly JPEG), dimensions and markers of sample `index`; the same
// (index, kind, seed) always gives the same spec. Every spec's bytes differ
// from every other's (the marker holds seed and index). OK images are padded
// to at least `min_bytes`.
SampleSpec make_sample_spec(std::size_t index, SampleKind kind, std::uint64_t seed,
                            std::size_t min_bytes = 0);

// The file's bytes.
std::string render_sample(const SampleSpec& spec);

// ".jpg", ".png", ".gif", ".bmp", ".tif".
std::string_view file_extension(ImageFormat format);

}  // namespace lf
