// Small, valid test images of every supported format, built in memory: what
// the tests, lfsamples, the demo and the benchmarks upload.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "image/image_probe.h"

namespace lf {

// A valid image of `format` with the given dimensions (1..65535; BMP/TIFF
// allow more). `marker` is embedded as text (JPEG COM, PNG tEXt, GIF comment
// extension, BMP/TIFF trailing bytes the decoders ignore) — e.g.
// "LFEMU:faces=1". When pad_to_bytes is larger than the natural size the
// file is padded (JPEG COM/APP segments, PNG private chunks, GIF comment
// blocks, BMP/TIFF trailing bytes) to exactly that size where the format
// allows, else to at least it. PNG and JPEG are really decodable (flat gray);
// GIF, BMP and TIFF are minimal valid files.
std::string make_image(ImageFormat format, int width, int height,
                       std::string_view marker = {},
                       std::size_t pad_to_bytes = 0);

// Variants for tests of the probe: TIFF in either byte order with the
// dimensions as SHORT or LONG; BMP stored top-down (negative height).
std::string make_tiff(int width, int height, bool big_endian, bool long_dims,
                      std::string_view marker = {});
std::string make_bmp(int width, int height, bool top_down, std::string_view marker = {});

// `image` cut to its first `keep_bytes` bytes (a damaged upload).
std::string truncate_image(std::string_view image, std::size_t keep_bytes);

// A damaged image whose headers still read (the probe reports kDamaged with
// the dimensions): JPEG without EOI, PNG and GIF cut inside the image data,
// BMP and TIFF with pixel data cut short. Pillow refuses all of them.
std::string make_corrupt(ImageFormat format, int width, int height,
                         std::string_view marker = {});

}  // namespace lf
