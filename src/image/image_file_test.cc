#include "image/image_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/temp_dir_for_test.h"
#include "image/content_hash.h"
#include "image/synthetic_image.h"

namespace lf {
namespace {

class ImageFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    return tmp_.write(name, bytes);
  }
  TempDirForTest tmp_;
  const std::filesystem::path& dir_ = tmp_.path();
};

TEST_F(ImageFileTest, ReadsTheWholeFileHashesItAndJudgesThoseBytes) {
  const std::string png = make_image(ImageFormat::kPng, 640, 480);
  Result<ImageFile> file = read_image_file(write("a.jpg", png), ImageLimits{});
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_NE(file->bytes, nullptr);
  EXPECT_EQ(*file->bytes, png);
  EXPECT_EQ(file->sha256, sha256_hex(png));
  EXPECT_FALSE(file->verdict.rejected);
  // The extension lies; the content decides.
  EXPECT_EQ(file->verdict.format, ImageFormat::kPng);
  EXPECT_EQ(file->verdict.width, 640);
}

TEST_F(ImageFileTest, AFileOverTheLimitIsJudgedByItsSizeWithoutBeingRead) {
  ImageLimits limits;
  limits.max_bytes = 1000;
  Result<ImageFile> file = read_image_file(write("big.png", std::string(1001, 'x')), limits);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->bytes, nullptr);
  EXPECT_EQ(file->verdict.rejected, ApiStatus::kImageFileSizeTooBig);
  EXPECT_EQ(file->verdict.bytes, 1001u);
  EXPECT_NE(file->verdict.detail.find("1001 bytes"), std::string::npos);
}

TEST_F(ImageFileTest, NotAnImageIsCorruptWithTheBytesStillHashed) {
  Result<ImageFile> file = read_image_file(write("notes.jpg", "hello, world\n"), ImageLimits{});
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->verdict.rejected, ApiStatus::kCorruptImage);
  EXPECT_EQ(file->sha256, sha256_hex("hello, world\n"));
}

TEST_F(ImageFileTest, MissingFileFifoAndDirectoryAreErrorsNamingThePath) {
  const std::string missing = (dir_ / "missing.jpg").string();
  Result<ImageFile> file = read_image_file(missing, ImageLimits{});
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find(missing), std::string::npos);
  EXPECT_NE(file.error().message.find("No such file"), std::string::npos);

  const std::string fifo = (dir_ / "pipe.jpg").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  file = read_image_file(fifo, ImageLimits{});  // must not block waiting for a writer
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("not a regular file"), std::string::npos);

  file = read_image_file(dir_.string(), ImageLimits{});
  ASSERT_FALSE(file.ok());
}

TEST_F(ImageFileTest, AnUnreadableFileIsAnErrorNamingTheReason) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  const std::string path = write("secret.jpg", make_image(ImageFormat::kJpeg, 64, 64));
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  Result<ImageFile> file = read_image_file(path, ImageLimits{});
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("Permission denied"), std::string::npos);
}

}  // namespace
}  // namespace lf
