#include "image/preflight.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "image/synthetic_image.h"

namespace lf {
namespace {

const ImageLimits kApi{};

TEST(CheckImage, AcceptsValidImagesOfEveryFormat) {
  for (ImageFormat f : kAllImageFormats) {
    EXPECT_EQ(check_image(make_image(f, 200, 100), kApi), std::nullopt) << to_string(f);
  }
}

TEST(CheckImage, DimensionsMustBeAbove8AndAtMost4000) {
  for (ImageFormat f : kAllImageFormats) {
    SCOPED_TRACE(std::string(to_string(f)));
    EXPECT_EQ(check_image(make_image(f, 8, 100), kApi), ApiStatus::kInvalidImageFormatOrSize);
    EXPECT_EQ(check_image(make_image(f, 100, 8), kApi), ApiStatus::kInvalidImageFormatOrSize);
    EXPECT_EQ(check_image(make_image(f, 9, 9), kApi), std::nullopt);
    EXPECT_EQ(check_image(make_image(f, 4000, 9), kApi), std::nullopt);
    EXPECT_EQ(check_image(make_image(f, 9, 4000), kApi), std::nullopt);
    EXPECT_EQ(check_image(make_image(f, 4001, 9), kApi), ApiStatus::kInvalidImageFormatOrSize);
    EXPECT_EQ(check_image(make_image(f, 9, 4001), kApi), ApiStatus::kInvalidImageFormatOrSize);
  }
}

TEST(CheckImage, SizeLimitIsFiveMebibytesInclusive) {
  for (ImageFormat f : kAllImageFormats) {
    SCOPED_TRACE(std::string(to_string(f)));
    const std::string at_limit = make_image(f, 64, 64, {}, kApi.max_bytes);
    ASSERT_EQ(at_limit.size(), kApi.max_bytes);
    EXPECT_EQ(check_image(at_limit, kApi), std::nullopt);
    EXPECT_EQ(check_image(make_image(f, 64, 64, {}, kApi.max_bytes + 1), kApi),
              ApiStatus::kImageFileSizeTooBig);
  }
}

TEST(CheckImage, SizeIsCheckedBeforeContent) {
  EXPECT_EQ(check_image(std::string(kApi.max_bytes + 1, 'x'), kApi),
            ApiStatus::kImageFileSizeTooBig);
}

TEST(CheckImage, NotAnImageOrDamagedIsCorrupt) {
  EXPECT_EQ(check_image("plain text", kApi), ApiStatus::kCorruptImage);
  EXPECT_EQ(check_image("", kApi), ApiStatus::kCorruptImage);
  for (ImageFormat f : kAllImageFormats) {
    EXPECT_EQ(check_image(make_corrupt(f, 100, 100), kApi), ApiStatus::kCorruptImage)
        << to_string(f);
  }
}

TEST(CheckImage, HonoursCustomLimits) {
  const ImageLimits tight{.min_exclusive = 50, .max_inclusive = 60, .max_bytes = 100000};
  EXPECT_EQ(check_image(make_image(ImageFormat::kPng, 55, 60), tight), std::nullopt);
  EXPECT_EQ(check_image(make_image(ImageFormat::kPng, 50, 55), tight),
            ApiStatus::kInvalidImageFormatOrSize);
  EXPECT_EQ(check_image(make_image(ImageFormat::kPng, 55, 55, {}, 100001), tight),
            ApiStatus::kImageFileSizeTooBig);
}

TEST(CheckImage, DimensionsOutOfRangeWinOverLaterDamage) {
  // The headers still read (the probe knows the dimensions), the rest is
  // damaged: a server that reads the header and checks the size before
  // decoding says INVALID_IMAGE_FORMAT_OR_SIZE, and so must a header-only
  // pre-flight, which cannot see the damage.
  for (ImageFormat f : kAllImageFormats) {
    SCOPED_TRACE(std::string(to_string(f)));
    EXPECT_EQ(check_image(make_corrupt(f, 4001, 20), kApi), ApiStatus::kInvalidImageFormatOrSize);
    EXPECT_EQ(check_image(make_corrupt(f, 20, 8), kApi), ApiStatus::kInvalidImageFormatOrSize);
    EXPECT_EQ(check_image(make_corrupt(f, 20, 20), kApi), ApiStatus::kCorruptImage);
  }
}

TEST(PreflightBytes, VerdictCarriesFormatDimensionsSizeAndWords) {
  const std::string png = make_image(ImageFormat::kPng, 4001, 300);
  const PreflightVerdict v = preflight_bytes(png, kApi);
  EXPECT_EQ(v.rejected, ApiStatus::kInvalidImageFormatOrSize);
  EXPECT_EQ(v.detail, "PNG 4001x300 px: width over 4000 px");
  EXPECT_EQ(v.format, ImageFormat::kPng);
  EXPECT_EQ(v.width, 4001);
  EXPECT_EQ(v.height, 300);
  EXPECT_EQ(v.bytes, png.size());

  const PreflightVerdict both = preflight_bytes(make_image(ImageFormat::kGif, 5, 4001), kApi);
  EXPECT_EQ(both.detail, "GIF 5x4001 px: width not over 8 px, height over 4000 px");

  const PreflightVerdict good = preflight_bytes(make_image(ImageFormat::kTiff, 640, 480), kApi);
  EXPECT_EQ(good.rejected, std::nullopt);
  EXPECT_EQ(good.detail, "");
  EXPECT_EQ(good.format, ImageFormat::kTiff);
  EXPECT_EQ(good.width, 640);

  const PreflightVerdict big =
      preflight_bytes(make_image(ImageFormat::kJpeg, 64, 64, {}, 6291457), kApi);
  EXPECT_EQ(big.rejected, ApiStatus::kImageFileSizeTooBig);
  EXPECT_EQ(big.detail, "6291457 bytes: over the 5 MB limit (5242880 bytes)");
  EXPECT_EQ(big.format, ImageFormat::kJpeg);  // sniffed; the content is not judged

  const ImageLimits odd{.max_bytes = 1000};
  EXPECT_EQ(preflight_bytes(std::string(1001, 'x'), odd).detail,
            "1001 bytes: over the limit (1000 bytes)");

  const PreflightVerdict cut =
      preflight_bytes(truncate_image(make_image(ImageFormat::kJpeg, 64, 64), 200), kApi);
  EXPECT_EQ(cut.rejected, ApiStatus::kCorruptImage);
  EXPECT_NE(cut.detail.find("JPEG"), std::string::npos) << cut.detail;

  const PreflightVerdict text = preflight_bytes("\x01\x02hello", kApi);
  EXPECT_EQ(text.detail, "not an image: starts with \\x01\\x02he");
  EXPECT_EQ(text.format, std::nullopt);
}

TEST(PreflightNames, MimeTypeAndNeutralFileNamePerFormat) {
  EXPECT_EQ(mime_type_of(ImageFormat::kJpeg), "image/jpeg");
  EXPECT_EQ(mime_type_of(ImageFormat::kPng), "image/png");
  EXPECT_EQ(mime_type_of(ImageFormat::kGif), "image/gif");
  EXPECT_EQ(mime_type_of(ImageFormat::kBmp), "image/bmp");
  EXPECT_EQ(mime_type_of(ImageFormat::kTiff), "image/tiff");
  EXPECT_EQ(neutral_file_name(ImageFormat::kJpeg), "image.jpg");
  EXPECT_EQ(neutral_file_name(ImageFormat::kPng), "image.png");
  EXPECT_EQ(neutral_file_name(ImageFormat::kGif), "image.gif");
  EXPECT_EQ(neutral_file_name(ImageFormat::kBmp), "image.bmp");
  EXPECT_EQ(neutral_file_name(ImageFormat::kTiff), "image.tif");
}

class PreflightFile : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("lf_preflight_" + std::to_string(::getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(PreflightFile, ChecksAFileLikeTheApi) {
  auto good = preflight_file(write("a.jpg", make_image(ImageFormat::kJpeg, 800, 600)), kApi);
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(*good, std::nullopt);
  auto small = preflight_file(write("b.png", make_image(ImageFormat::kPng, 8, 8)), kApi);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(*small, ApiStatus::kInvalidImageFormatOrSize);
  auto corrupt = preflight_file(write("c.jpg", make_corrupt(ImageFormat::kJpeg, 80, 80)), kApi);
  ASSERT_TRUE(corrupt.ok());
  EXPECT_EQ(*corrupt, ApiStatus::kCorruptImage);
}

TEST_F(PreflightFile, TooBigFileIsJudgedByItsSizeAlone) {
  // A sparse 1 GiB file: reading it would be slow, stat is instant.
  const std::string path = write("huge.jpg", "");
  std::filesystem::resize_file(path, std::uint64_t{1} << 30);
  auto r = preflight_file(path, kApi);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, ApiStatus::kImageFileSizeTooBig);
}

TEST_F(PreflightFile, MissingFileOrDirectoryIsAnErrorNamingThePath) {
  const std::string missing = (dir_ / "nope.jpg").string();
  auto r = preflight_file(missing, kApi);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(missing), std::string::npos) << r.error().message;
  auto d = preflight_file(dir_.string(), kApi);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("not a regular file"), std::string::npos);
}

TEST_F(PreflightFile, HeadersOfAFileGiveTheVerdictOfItsBytes) {
  // Large enough (padded) to be judged through the window, not read whole.
  for (ImageFormat f : kAllImageFormats) {
    SCOPED_TRACE(std::string(to_string(f)));
    for (auto [w, h] : {std::pair{640, 480}, std::pair{4001, 30}, std::pair{30, 8}}) {
      const std::string image = make_image(f, w, h, "LFEMU:faces=2", 100000);
      auto v = preflight_file_headers(write("a", image), kApi);
      ASSERT_TRUE(v.ok()) << v.error().message;
      const PreflightVerdict b = preflight_bytes(image, kApi);
      EXPECT_EQ(v->rejected, b.rejected) << v->detail;
      EXPECT_EQ(v->detail, b.detail);
      EXPECT_EQ(v->format, f);
      EXPECT_EQ(v->bytes, image.size());
    }
  }
}

TEST_F(PreflightFile, HeadersErrorsNameThePathAndTheReason) {
  const std::string missing = (dir_ / "nope.jpg").string();
  auto r = preflight_file_headers(missing, kApi);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot read " + missing + ": No such file or directory");
  auto d = preflight_file_headers(dir_.string(), kApi);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("not a regular file"), std::string::npos);
  const std::string fifo = (dir_ / "pipe.jpg").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto p = preflight_file_headers(fifo, kApi);  // must not block waiting for a writer
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("FIFO"), std::string::npos) << p.error().message;
}

}  // namespace
}  // namespace lf
