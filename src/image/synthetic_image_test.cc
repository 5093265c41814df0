#include "image/synthetic_image.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lf {
namespace {

TEST(SyntheticImage, ProbeAgreesWithTheRequestedFormatAndDimensions) {
  for (ImageFormat f : kAllImageFormats) {
    for (auto [w, h] : {std::pair{9, 9}, {1, 1}, {640, 480}, {17, 1000}, {4000, 9}}) {
      const ImageProbe p = probe_image(make_image(f, w, h, "LFEMU:faces=2"));
      EXPECT_EQ(p.verdict, ImageProbe::Verdict::kOk) << to_string(f) << " " << p.detail;
      EXPECT_EQ(p.info.format, f);
      EXPECT_EQ(p.info.width, w);
      EXPECT_EQ(p.info.height, h);
    }
  }
}

TEST(SyntheticImage, CarriesTheMarkerAsText) {
  for (ImageFormat f : kAllImageFormats) {
    const std::string image = make_image(f, 20, 20, "LFEMU:score=0.8312");
    EXPECT_NE(image.find("LFEMU:score=0.8312"), std::string::npos) << to_string(f);
  }
  EXPECT_EQ(make_image(ImageFormat::kJpeg, 20, 20).find("LFEMU"), std::string::npos);
}

TEST(SyntheticImage, PadsToExactlyTheRequestedSize) {
  for (ImageFormat f : kAllImageFormats) {
    const std::size_t natural = make_image(f, 30, 30, "m").size();
    for (std::size_t extra : {0, 1, 2, 3, 4, 5, 11, 12, 13, 100, 65537, 65538, 65541, 300000}) {
      const std::size_t want = natural + extra;
      const std::string image = make_image(f, 30, 30, "m", want);
      // Tiny paddings may not fit a padding structure; then it is "at least".
      if (extra == 0 || extra >= 12) {
        EXPECT_EQ(image.size(), want) << to_string(f) << " +" << extra;
      } else {
        EXPECT_GE(image.size(), want) << to_string(f) << " +" << extra;
      }
      EXPECT_EQ(probe_image(image).verdict, ImageProbe::Verdict::kOk)
          << to_string(f) << " +" << extra << " " << probe_image(image).detail;
    }
  }
}

TEST(SyntheticImage, DifferentMarkersGiveDifferentBytes) {
  EXPECT_NE(make_image(ImageFormat::kPng, 20, 20, "a"), make_image(ImageFormat::kPng, 20, 20, "b"));
  EXPECT_EQ(make_image(ImageFormat::kGif, 20, 20, "a"), make_image(ImageFormat::kGif, 20, 20, "a"));
}

TEST(SyntheticImage, CorruptVersionsAreDamagedButStillIdentified) {
  for (ImageFormat f : kAllImageFormats) {
    const ImageProbe p = probe_image(make_corrupt(f, 100, 100, "LFEMU:faces=2"));
    EXPECT_EQ(p.verdict, ImageProbe::Verdict::kDamaged) << to_string(f);
    EXPECT_EQ(p.info.format, f);
  }
  EXPECT_EQ(truncate_image("abcdef", 3), "abc");
  EXPECT_EQ(truncate_image("abc", 10), "abc");
}

// Proves the images are real, not just probe-shaped: Pillow (Debian's
// python3-pil) decodes every pixel. Skipped where Pillow is not installed.
std::string python_with_pillow() {
  for (const char* py : {"/usr/bin/python3", "python3"}) {
    const std::string cmd = std::string(py) + " -c 'import PIL' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return py;
  }
  return {};
}

// Each file's "WxH gray" (gray: the center pixel) as Pillow decodes it, or
// "error" when Pillow refuses it.
std::string decode_with_pillow(const std::string& py, const std::vector<std::string>& files) {
  std::string cmd = py + " -c '\nimport sys\nfrom PIL import Image\nfor p in sys.argv[1:]:\n"
                         "    try:\n        im = Image.open(p)\n        im.load()\n"
                         "    except Exception:\n        print(\"error\")\n        continue\n"
                         "    g = im.convert(\"L\")\n"
                         "    print(\"%dx%d %d\" % (im.size[0], im.size[1],"
                         " g.getpixel((im.size[0]//2, im.size[1]//2))))\n' 2>&1";
  for (const auto& f : files) cmd += " " + f;
  std::string out;
  if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, pipe)) out += buf;
    EXPECT_EQ(::pclose(pipe), 0) << out;
  }
  return out;
}

class Pillow : public testing::Test {
 protected:
  void SetUp() override {
    py_ = python_with_pillow();
    if (py_.empty()) GTEST_SKIP() << "python3-pil not installed";
    dir_ = std::filesystem::temp_directory_path() /
           ("lf_synthetic_" + std::to_string(::getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& bytes) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
  }
  std::string py_;
  std::filesystem::path dir_;
};

TEST_F(Pillow, DecodesEveryFormat) {
  std::ostringstream expected;
  std::vector<std::string> files;
  int i = 0;
  for (ImageFormat f : kAllImageFormats) {
    for (auto [w, h] : {std::pair{9, 9}, {333, 77}, {64, 2000}}) {
      files.push_back(write("img" + std::to_string(i++) + "." + std::string(to_string(f)),
                            make_image(f, w, h, "LFEMU:faces=2", 70000)));
      expected << w << "x" << h << " 128\n";
    }
  }
  for (bool be : {false, true}) {
    files.push_back(write("tiff_" + std::to_string(be) + ".tif", make_tiff(40, 30, be, true, "m")));
    expected << "40x30 128\n";
  }
  files.push_back(write("topdown.bmp", make_bmp(40, 30, true)));
  expected << "40x30 128\n";
  EXPECT_EQ(decode_with_pillow(py_, files), expected.str());
}

TEST_F(Pillow, RefusesEveryCorruptImage) {
  std::vector<std::string> files;
  std::string expected;
  for (ImageFormat f : kAllImageFormats) {
    for (auto [w, h] : {std::pair{9, 9}, {100, 80}}) {
      files.push_back(write(std::string(to_string(f)) + std::to_string(w) + ".img",
                            make_corrupt(f, w, h, "LFEMU:faces=2")));
      expected += "error\n";
    }
  }
  EXPECT_EQ(decode_with_pillow(py_, files), expected);
}

}  // namespace
}  // namespace lf
