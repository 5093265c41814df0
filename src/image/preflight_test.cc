#include "image/preflight.h"

#include <gtest/gtest.h>
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

}  // namespace
}  // namespace lf
