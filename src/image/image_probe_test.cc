#include "image/image_probe.h"

#include <gtest/gtest.h>

#include <random>

#include "image/synthetic_image.h"

namespace lf {
namespace {

using Verdict = ImageProbe::Verdict;

void expect_ok(const std::string& bytes, ImageFormat f, int w, int h) {
  const ImageProbe p = probe_image(bytes);
  EXPECT_EQ(p.verdict, Verdict::kOk) << p.detail;
  EXPECT_EQ(p.info.format, f);
  EXPECT_EQ(p.info.width, w);
  EXPECT_EQ(p.info.height, h);
  EXPECT_TRUE(p.detail.empty());
}

TEST(ImageProbe, ReadsFormatAndDimensionsOfEveryFormat) {
  for (ImageFormat f : kAllImageFormats) {
    SCOPED_TRACE(std::string(to_string(f)));
    expect_ok(make_image(f, 640, 480), f, 640, 480);
    expect_ok(make_image(f, 9, 4000), f, 9, 4000);
    expect_ok(make_image(f, 4001, 8, "LFEMU:faces=1"), f, 4001, 8);
  }
}

TEST(ImageProbe, ReadsTiffInBothByteOrdersWithShortOrLongDimensions) {
  for (bool big_endian : {false, true}) {
    for (bool long_dims : {false, true}) {
      SCOPED_TRACE(testing::Message() << "big_endian=" << big_endian << " long=" << long_dims);
      expect_ok(make_tiff(300, 17, big_endian, long_dims), ImageFormat::kTiff, 300, 17);
      expect_ok(make_tiff(70000, 1, big_endian, false, "a description"), ImageFormat::kTiff,
                70000, 1);
    }
  }
  EXPECT_EQ(make_tiff(10, 10, true, false).substr(0, 4), std::string("MM\0*", 4));
}

TEST(ImageProbe, ReadsTopDownBmpWithNegativeHeight) {
  expect_ok(make_bmp(33, 21, true), ImageFormat::kBmp, 33, 21);
  expect_ok(make_bmp(33, 21, false), ImageFormat::kBmp, 33, 21);
}

std::string jpeg_segment(unsigned char marker, std::string_view data) {
  std::string s = "\xFF";
  s += static_cast<char>(marker);
  s += static_cast<char>((data.size() + 2) >> 8);
  s += static_cast<char>((data.size() + 2) & 0xFF);
  return s + std::string(data);
}

TEST(ImageProbe, JpegSkipsExifAndOtherAppSegmentsBeforeTheFrameHeader) {
  std::string jpeg = make_image(ImageFormat::kJpeg, 1024, 768);
  // An EXIF APP1 containing bytes that look like an SOF0 marker.
  std::string exif = std::string("Exif\0\0", 6) + "MM" + std::string("\xFF\xC0\x00\x11\x08\x00\x10", 7);
  exif.append(3000, 'x');
  jpeg.insert(2, jpeg_segment(0xE1, exif) + jpeg_segment(0xED, "Photoshop 3.0"));
  expect_ok(jpeg, ImageFormat::kJpeg, 1024, 768);
}

TEST(ImageProbe, JpegReadsProgressiveFrameHeaders) {
  std::string jpeg = make_image(ImageFormat::kJpeg, 100, 50);
  const auto sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 1] = '\xC2';
  expect_ok(jpeg, ImageFormat::kJpeg, 100, 50);
}

TEST(ImageProbe, JpegWithoutEoiIsDamaged) {
  const std::string jpeg = make_image(ImageFormat::kJpeg, 64, 64);
  const ImageProbe p = probe_image(jpeg.substr(0, jpeg.size() - 2));
  EXPECT_EQ(p.verdict, Verdict::kDamaged);
  EXPECT_NE(p.detail.find("EOI"), std::string::npos) << p.detail;
  EXPECT_EQ(p.info.width, 64);  // the header still read
}

TEST(ImageProbe, JpegScanBeforeFrameHeaderIsDamaged) {
  std::string jpeg = "\xFF\xD8" + jpeg_segment(0xDA, std::string("\x01\x01\x00\x00\x3F\x00", 6)) +
                     "\x12\x34\xFF\xD9";
  EXPECT_EQ(probe_image(jpeg).verdict, Verdict::kDamaged);
}

TEST(ImageProbe, JpegSegmentLengthPastTheEndIsDamaged) {
  std::string jpeg = "\xFF\xD8\xFF\xE1\xFF\xF0" + std::string(100, 'a');
  const ImageProbe p = probe_image(jpeg);
  EXPECT_EQ(p.verdict, Verdict::kDamaged);
  EXPECT_NE(p.detail.find("truncated"), std::string::npos) << p.detail;
}

TEST(ImageProbe, PngWithBadIhdrCrcIsDamaged) {
  std::string png = make_image(ImageFormat::kPng, 20, 20);
  png[16] ^= 1;  // first byte of the width
  const ImageProbe p = probe_image(png);
  EXPECT_EQ(p.verdict, Verdict::kDamaged);
  EXPECT_NE(p.detail.find("CRC"), std::string::npos) << p.detail;
}

TEST(ImageProbe, PngWithoutIendIsDamaged) {
  const std::string png = make_image(ImageFormat::kPng, 20, 20);
  const ImageProbe p = probe_image(png.substr(0, png.size() - 12));
  EXPECT_EQ(p.verdict, Verdict::kDamaged);
  EXPECT_NE(p.detail.find("IEND"), std::string::npos) << p.detail;
}

TEST(ImageProbe, PngAncillaryChunkWithBadCrcIsTolerated) {
  std::string png = make_image(ImageFormat::kPng, 20, 20, "LFEMU:faces=2");
  const auto text = png.find("tEXt");
  ASSERT_NE(text, std::string::npos);
  png[text + 6] ^= 1;  // inside the text: its CRC no longer matches
  expect_ok(png, ImageFormat::kPng, 20, 20);
}

TEST(ImageProbe, PngHugeChunkLengthIsDamagedNotARead) {
  std::string png = make_image(ImageFormat::kPng, 20, 20);
  const std::size_t after_ihdr = 8 + 25;
  png[after_ihdr] = '\x7F';
  png[after_ihdr + 1] = png[after_ihdr + 2] = png[after_ihdr + 3] = '\xFF';
  EXPECT_EQ(probe_image(png).verdict, Verdict::kDamaged);
}

TEST(ImageProbe, GifWithoutTrailerOrImageIsDamaged) {
  const std::string gif = make_image(ImageFormat::kGif, 30, 40);
  EXPECT_EQ(probe_image(gif.substr(0, gif.size() - 1)).verdict, Verdict::kDamaged);
  std::string no_image = gif.substr(0, 13 + 6) + ";";
  EXPECT_EQ(probe_image(no_image).verdict, Verdict::kDamaged);
}

TEST(ImageProbe, BmpWithCutPixelDataIsDamaged) {
  const std::string bmp = make_image(ImageFormat::kBmp, 30, 40);
  const ImageProbe p = probe_image(bmp.substr(0, bmp.size() - 1));
  EXPECT_EQ(p.verdict, Verdict::kDamaged);
  EXPECT_EQ(p.info.height, 40);
}

TEST(ImageProbe, TiffWithIfdOrStripOutsideTheFileIsDamaged) {
  std::string tiff = make_tiff(16, 16, false, false);
  EXPECT_EQ(probe_image(tiff.substr(0, tiff.size() - 1)).verdict, Verdict::kDamaged);
  std::string far_ifd = tiff;
  far_ifd[4] = far_ifd[5] = far_ifd[6] = '\xFF';
  EXPECT_EQ(probe_image(far_ifd).verdict, Verdict::kDamaged);
}

// BigTIFF (magic 43, 8-byte offsets) is TIFF to libtiff and Pillow; the probe
// once called it "not an image".
std::string bigtiff(bool big_endian, std::uint64_t width, std::uint16_t strip_bytes) {
  auto put = [&](std::string& s, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
      const int shift = big_endian ? 8 * (n - 1 - i) : 8 * i;
      s += static_cast<char>((v >> shift) & 0xFF);
    }
  };
  std::string s = big_endian ? "MM" : "II";
  put(s, 43, 2);
  put(s, 8, 2);
  put(s, 0, 2);
  put(s, 16, 8);  // IFD0 right after the header
  put(s, 4, 8);   // four entries
  auto entry = [&](int tag, int type, std::uint64_t value) {
    put(s, tag, 2);
    put(s, type, 2);
    put(s, 1, 8);
    put(s, value, type == 3 ? 2 : 8);
    if (type == 3) put(s, 0, 6);
  };
  const std::uint64_t data = 16 + 8 + 4 * 20 + 8;
  entry(256, 16, width);  // LONG8
  entry(257, 3, 9);       // SHORT
  entry(273, 16, data);
  entry(279, 3, strip_bytes);
  put(s, 0, 8);  // no next IFD
  s.append(100, '\x80');
  return s;
}

TEST(ImageProbe, ReadsBigTiffInBothByteOrders) {
  for (bool big_endian : {false, true}) {
    expect_ok(bigtiff(big_endian, 4001, 100), ImageFormat::kTiff, 4001, 9);
    const ImageProbe cut = probe_image(bigtiff(big_endian, 4001, 101));
    EXPECT_EQ(cut.verdict, Verdict::kDamaged);
    EXPECT_TRUE(cut.dims_known);
    EXPECT_EQ(cut.info.width, 4001);
    std::string bad_header = bigtiff(big_endian, 20, 100);
    bad_header[big_endian ? 5 : 4] = 4;  // offsets of 4 bytes: not BigTIFF
    EXPECT_EQ(probe_image(bad_header).verdict, Verdict::kDamaged);
  }
}

TEST(ImageProbe, TiffWithoutDimensionsIsDamaged) {
  std::string tiff = make_tiff(16, 16, false, false);
  tiff[10] = '\x99';  // first entry's tag: ImageWidth becomes an unknown tag
  const ImageProbe p = probe_image(tiff);
  EXPECT_EQ(p.verdict, Verdict::kDamaged);
  EXPECT_NE(p.detail.find("ImageWidth"), std::string::npos) << p.detail;
}

TEST(ImageProbe, ContentDecidesTheFormatNotTheName) {
  EXPECT_EQ(probe_image("").verdict, Verdict::kNotAnImage);
  EXPECT_EQ(probe_image("hello, this is text").verdict, Verdict::kNotAnImage);
  EXPECT_EQ(probe_image("%PDF-1.7\n").verdict, Verdict::kNotAnImage);
  EXPECT_EQ(probe_image(std::string("\0\0\0\x18" "ftypheic", 12)).verdict, Verdict::kNotAnImage);
}

TEST(ImageProbe, EveryTruncationOfSmallImagesIsDamagedOrNotAnImage) {
  std::vector<std::string> images;
  for (ImageFormat f : kAllImageFormats) images.push_back(make_image(f, 17, 9));
  images.push_back(make_tiff(12, 10, true, true));
  images.push_back(make_bmp(12, 10, true));
  for (const std::string& image : images) {
    ASSERT_EQ(probe_image(image).verdict, Verdict::kOk);
    for (std::size_t n = 0; n < image.size(); ++n) {
      const ImageProbe p = probe_image(std::string_view(image).substr(0, n));
      ASSERT_NE(p.verdict, Verdict::kOk) << to_string(p.info.format) << " cut at " << n;
      if (p.verdict == Verdict::kDamaged) {
        EXPECT_FALSE(p.detail.empty());
      }
    }
  }
}

TEST(ImageProbe, RandomCorruptionNeverCrashes) {
  std::mt19937_64 rng(12345);
  for (ImageFormat f : kAllImageFormats) {
    const std::string image = make_image(f, 40, 30, "LFEMU:score=0.5");
    for (int round = 0; round < 2000; ++round) {
      std::string bad = image;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < flips; ++i) bad[rng() % bad.size()] = static_cast<char>(rng());
      bad.resize(rng() % (bad.size() + 1));
      // The heap copy lets ASan catch any read past the end.
      const std::unique_ptr<char[]> exact(new char[bad.size() + 1]);
      std::copy(bad.begin(), bad.end(), exact.get());
      const ImageProbe p = probe_image(std::string_view(exact.get(), bad.size()));
      if (p.verdict == Verdict::kOk) {
        EXPECT_GE(p.info.width, 0);
        EXPECT_GE(p.info.height, 0);
      }
    }
  }
}

TEST(ImageProbe, FormatNames) {
  EXPECT_EQ(to_string(ImageFormat::kJpeg), "jpeg");
  EXPECT_EQ(to_string(ImageFormat::kTiff), "tiff");
}

}  // namespace
}  // namespace lf
