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

TEST(SyntheticImage, PillowDecodesEveryFormat) {
  const std::string py = python_with_pillow();
  if (py.empty()) GTEST_SKIP() << "python3-pil not installed";
  const auto dir = std::filesystem::temp_directory_path() /
                   ("lf_synthetic_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ostringstream expected;
  std::vector<std::string> files;
  int i = 0;
  for (ImageFormat f : kAllImageFormats) {
    for (auto [w, h] : {std::pair{9, 9}, {333, 77}, {64, 2000}}) {
      const auto path = dir / ("img" + std::to_string(i++) + "." + std::string(to_string(f)));
      std::ofstream(path, std::ios::binary) << make_image(f, w, h, "LFEMU:faces=2", 70000);
      files.push_back(path.string());
      expected << w << "x" << h << " " << 128 << "\n";
    }
  }
  for (bool be : {false, true}) {
    const auto path = dir / ("tiff_" + std::to_string(be) + ".tif");
    std::ofstream(path, std::ios::binary) << make_tiff(40, 30, be, true, "LFEMU:faces=1");
    files.push_back(path.string());
    expected << "40x30 128\n";
  }
  const auto bmp = dir / "topdown.bmp";
  std::ofstream(bmp, std::ios::binary) << make_bmp(40, 30, true);
  files.push_back(bmp.string());
  expected << "40x30 128\n";

  // Prints "WxH gray" per file, gray being the value of the center pixel.
  std::string cmd = py + " -c '\nimport sys\nfrom PIL import Image\nfor p in sys.argv[1:]:\n"
                         "    im = Image.open(p)\n    im.load()\n    g = im.convert(\"L\")\n"
                         "    print(\"%dx%d %d\" % (im.size[0], im.size[1],"
                         " g.getpixel((im.size[0]//2, im.size[1]//2))))\n' 2>&1";
  for (const auto& f : files) cmd += " " + f;
  std::string out;
  if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, pipe)) out += buf;
    EXPECT_EQ(::pclose(pipe), 0) << out;
  }
  std::filesystem::remove_all(dir);
  EXPECT_EQ(out, expected.str());
}

}  // namespace
}  // namespace lf
