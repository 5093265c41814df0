// Pre-flight on real files made by real encoders (tests/images, see its
// README.md): the verdicts of preflight_bytes and preflight_file_headers and
// check_image's status for each, the 5 MB edge, and the promise that the
// header-only check is never stricter than the full one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "core/temp_dir_for_test.h"
#include "image/file_window.h"
#include "image/image_probe.h"
#include "image/preflight.h"

#ifndef LF_IMAGE_CORPUS_DIR
#error "LF_IMAGE_CORPUS_DIR must name tests/images"
#endif

namespace lf {
namespace {

namespace fs = std::filesystem;

const ImageLimits kApi{};
constexpr std::optional<ApiStatus> kAccepted = std::nullopt;
constexpr auto kCorrupt = ApiStatus::kCorruptImage;
constexpr auto kBadSize = ApiStatus::kInvalidImageFormatOrSize;
constexpr auto kTooBig = ApiStatus::kImageFileSizeTooBig;

struct Expected {
  const char* file;
  std::optional<ApiStatus> bytes;    // preflight_bytes and check_image
  std::optional<ApiStatus> headers;  // preflight_file_headers
  std::optional<ImageFormat> format;
  int width = 0, height = 0;         // 0: unknown
};

constexpr auto kJpeg = ImageFormat::kJpeg;
constexpr auto kPng = ImageFormat::kPng;
constexpr auto kGif = ImageFormat::kGif;
constexpr auto kBmp = ImageFormat::kBmp;
constexpr auto kTiff = ImageFormat::kTiff;

const Expected kCorpus[] = {
    {"jpeg_baseline_320x240.jpg", kAccepted, kAccepted, kJpeg, 320, 240},
    {"jpeg_progressive_320x240.jpg", kAccepted, kAccepted, kJpeg, 320, 240},
    {"jpeg_cmyk_64x48.jpg", kAccepted, kAccepted, kJpeg, 64, 48},
    {"jpeg_grey_64x48.jpg", kAccepted, kAccepted, kJpeg, 64, 48},
    {"jpeg_restart_64x48.jpg", kAccepted, kAccepted, kJpeg, 64, 48},
    {"jpeg_arithmetic_64x48.jpg", kAccepted, kAccepted, kJpeg, 64, 48},
    {"jpeg_exif_320x240.jpg", kAccepted, kAccepted, kJpeg, 320, 240},
    {"jpeg_trailer_video_320x240.jpg", kAccepted, kAccepted, kJpeg, 320, 240},
    {"jpeg_trailer_text_64x48.jpg", kAccepted, kAccepted, kJpeg, 64, 48},
    {"png_truecolor_120x90.png", kAccepted, kAccepted, kPng, 120, 90},
    {"png_trailer_120x90.png", kAccepted, kAccepted, kPng, 120, 90},
    {"png_palette_64x48.png", kAccepted, kAccepted, kPng, 64, 48},
    {"png_16bit_64x48.png", kAccepted, kAccepted, kPng, 64, 48},
    {"png_interlaced_64x48.png", kAccepted, kAccepted, kPng, 64, 48},
    {"png_alpha_64x48.png", kAccepted, kAccepted, kPng, 64, 48},
    {"gif_still_64x48.gif", kAccepted, kAccepted, kGif, 64, 48},
    {"gif_still_120x90.gif", kAccepted, kAccepted, kGif, 120, 90},
    {"gif_animated_64x48.gif", kAccepted, kAccepted, kGif, 64, 48},
    {"bmp_24bit_64x48.bmp", kAccepted, kAccepted, kBmp, 64, 48},
    {"bmp_32bit_64x48.bmp", kAccepted, kAccepted, kBmp, 64, 48},
    {"bmp_rle8_64x48.bmp", kAccepted, kAccepted, kBmp, 64, 48},
    {"bmp_topdown_64x48.bmp", kAccepted, kAccepted, kBmp, 64, 48},
    {"tiff_le_64x48.tif", kAccepted, kAccepted, kTiff, 64, 48},
    {"tiff_be_64x48.tif", kAccepted, kAccepted, kTiff, 64, 48},
    {"tiff_multipage_64x48.tif", kAccepted, kAccepted, kTiff, 64, 48},
    {"tiff_lzw_64x48.tif", kAccepted, kAccepted, kTiff, 64, 48},
    {"tiff_tiled_64x48.tif", kAccepted, kAccepted, kTiff, 64, 48},
    {"tiff_bigtiff_64x48.tif", kAccepted, kAccepted, kTiff, 64, 48},
    {"tiff_wide_70000x9.tif", kBadSize, kBadSize, kTiff, 70000, 9},
    {"edge_8x100.png", kBadSize, kBadSize, kPng, 8, 100},
    {"edge_9x9.jpg", kAccepted, kAccepted, kJpeg, 9, 9},
    {"edge_4000x10.jpg", kAccepted, kAccepted, kJpeg, 4000, 10},
    {"edge_4001x10.jpg", kBadSize, kBadSize, kJpeg, 4001, 10},
    {"edge_10x4001.png", kBadSize, kBadSize, kPng, 10, 4001},
    {"trunc_jpeg_half.jpg", kCorrupt, kCorrupt, kJpeg, 320, 240},
    {"trunc_jpeg_in_headers.jpg", kCorrupt, kCorrupt, kJpeg, 320, 240},
    {"trunc_png_no_iend.png", kCorrupt, kCorrupt, kPng, 120, 90},
    {"lie_png_named.jpg", kAccepted, kAccepted, kPng, 64, 48},
    {"not_text.txt", kCorrupt, kCorrupt, std::nullopt},
    {"not_pdf.pdf", kCorrupt, kCorrupt, std::nullopt},
    {"not_zip.zip", kCorrupt, kCorrupt, std::nullopt},
    {"not_empty.jpg", kCorrupt, kCorrupt, std::nullopt},
    {"not_three_bytes.jpg", kCorrupt, kCorrupt, kJpeg},
};

std::string corpus_path(const std::string& name) { return LF_IMAGE_CORPUS_DIR "/" + name; }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string status_name(const std::optional<ApiStatus>& s) {
  return s ? std::string(to_string(*s)) : "accepted";
}

void expect_verdict(const PreflightVerdict& v, const Expected& e, std::optional<ApiStatus> status,
                    std::uint64_t size) {
  EXPECT_EQ(status_name(v.rejected), status_name(status)) << v.detail;
  EXPECT_EQ(v.detail.empty(), !status) << v.detail;
  EXPECT_EQ(v.format, e.format);
  EXPECT_EQ(v.width, e.width);
  EXPECT_EQ(v.height, e.height);
  EXPECT_EQ(v.bytes, size);
}

TEST(PreflightCorpus, EveryFileGetsTheVerdictOfItsKind) {
  for (const Expected& e : kCorpus) {
    SCOPED_TRACE(e.file);
    const std::string path = corpus_path(e.file);
    const std::string bytes = read_all(path);
    ASSERT_TRUE(fs::exists(path));
    expect_verdict(preflight_bytes(bytes, kApi), e, e.bytes, bytes.size());
    EXPECT_EQ(status_name(check_image(bytes, kApi)), status_name(e.bytes));
    auto headers = preflight_file_headers(path, kApi);
    ASSERT_TRUE(headers.ok()) << headers.error().message;
    expect_verdict(*headers, e, e.headers, bytes.size());
    auto file = preflight_file(path, kApi);
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_EQ(status_name(*file), status_name(e.bytes));
  }
}

TEST(PreflightCorpus, EveryFileOfTheCorpusIsListed) {
  std::size_t images = 0;
  for (const auto& entry : fs::directory_iterator(LF_IMAGE_CORPUS_DIR)) {
    const std::string name = entry.path().filename().string();
    if (name == "README.md" || name == "make_corpus.sh") continue;
    ++images;
    bool listed = false;
    for (const Expected& e : kCorpus) listed = listed || name == e.file;
    EXPECT_TRUE(listed) << name << " has no expected verdict";
  }
  EXPECT_EQ(images, std::size(kCorpus));
}

TEST(PreflightCorpus, DetailsSayWhyInWordsForAReport) {
  auto words = [](const char* file) {
    return preflight_bytes(read_all(corpus_path(file)), kApi).detail;
  };
  EXPECT_EQ(words("edge_8x100.png"), "PNG 8x100 px: width not over 8 px");
  EXPECT_EQ(words("edge_4001x10.jpg"), "JPEG 4001x10 px: width over 4000 px");
  EXPECT_EQ(words("edge_10x4001.png"), "PNG 10x4001 px: height over 4000 px");
  EXPECT_EQ(words("not_pdf.pdf"), "not an image: starts with %PDF");
  EXPECT_EQ(words("not_zip.zip"), "not an image: starts with PK\\x03\\x04");
  EXPECT_EQ(words("not_empty.jpg"), "not an image: empty file");
  EXPECT_NE(words("trunc_jpeg_half.jpg").find("EOI"), std::string::npos);
  EXPECT_NE(words("trunc_png_no_iend.png").find("IEND"), std::string::npos);
  EXPECT_EQ(words("jpeg_exif_320x240.jpg"), "");
}

class CorpusTemp : public testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    return tmp_.write(name, bytes);
  }
  TempDirForTest tmp_;
  const fs::path& dir_ = tmp_.path();
};

// A real JPEG grown to exactly `size` bytes by COM segments of filler
// inserted before its first scan (each segment at most 65535 + 2 bytes).
std::string jpeg_of_size(std::size_t size) {
  std::string jpeg = read_all(corpus_path("jpeg_baseline_320x240.jpg"));
  const std::size_t sos = jpeg.find("\xFF\xDA");
  EXPECT_NE(sos, std::string::npos);
  std::size_t need = size - jpeg.size();
  std::string filler;
  while (need > 0) {
    std::size_t seg = std::min<std::size_t>(need, 2 + 65535);
    if (need - seg > 0 && need - seg < 4) seg -= 4;  // leave room for one more segment
    const std::size_t len = seg - 2;
    filler += "\xFF\xFE";
    filler += static_cast<char>(len >> 8);
    filler += static_cast<char>(len & 0xFF);
    filler.append(seg - 4, 'x');
    need -= seg;
  }
  jpeg.insert(sos, filler);
  EXPECT_EQ(jpeg.size(), size);
  return jpeg;
}

TEST_F(CorpusTemp, FiveMebibytesIsAcceptedOneByteMoreIsTooBig) {
  const std::string at_limit = jpeg_of_size(kApi.max_bytes);
  const std::string over = jpeg_of_size(kApi.max_bytes + 1);
  ASSERT_EQ(at_limit.size(), 5u * 1024 * 1024);

  EXPECT_EQ(preflight_bytes(at_limit, kApi).rejected, kAccepted);
  EXPECT_EQ(check_image(at_limit, kApi), kAccepted);
  const std::string at_path = write("at_limit.jpg", at_limit);
  auto at = preflight_file_headers(at_path, kApi);
  ASSERT_TRUE(at.ok()) << at.error().message;
  EXPECT_EQ(at->rejected, kAccepted) << at->detail;
  EXPECT_EQ(at->width, 320);  // the frame header lies before the filler
  EXPECT_EQ(at->height, 240);

  const PreflightVerdict b = preflight_bytes(over, kApi);
  EXPECT_EQ(b.rejected, kTooBig);
  EXPECT_EQ(b.detail, "5242881 bytes: over the 5 MB limit (5242880 bytes)");
  EXPECT_EQ(check_image(over, kApi), kTooBig);
  auto h = preflight_file_headers(write("over.jpg", over), kApi);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->rejected, kTooBig);
  EXPECT_EQ(h->detail, b.detail);
  EXPECT_EQ(h->bytes, kApi.max_bytes + 1);
  EXPECT_EQ(h->format, std::nullopt);  // judged from fstat alone: nothing read
}

TEST_F(CorpusTemp, TooBigFromStatAloneEvenForAHugeSparseFile) {
  const std::string path = write("huge.jpg", "");
  fs::resize_file(path, std::uint64_t{1} << 34);
  auto h = preflight_file_headers(path, kApi);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->rejected, kTooBig);
}

// What probe_image_headers reads stays within FileWindow's bounds, for every
// corpus file and for the 5 MiB JPEG whose filler it must not read.
TEST_F(CorpusTemp, HeaderProbeReadsAtMostTheBoundWhateverTheSize) {
  std::vector<std::string> paths;
  for (const Expected& e : kCorpus) paths.push_back(corpus_path(e.file));
  paths.push_back(write("at_limit.jpg", jpeg_of_size(kApi.max_bytes)));
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    auto window = FileWindow::open(path);
    ASSERT_TRUE(window.ok()) << window.error().message;
    (void)probe_image_headers(*window);
    EXPECT_FALSE(window->error());
    EXPECT_LE(window->reads(), FileWindow::kMaxReads);
    EXPECT_LE(window->bytes_read(), FileWindow::kMaxBytes);
  }
}

// The promise of preflight_file_headers, on every corpus file cut at a
// handful of lengths: it never rejects what preflight_bytes accepts, and when
// both reject they give the same status.
TEST_F(CorpusTemp, HeadersAreNeverStricterThanBytesOnAnyTruncation) {
  int checked = 0;
  for (const Expected& e : kCorpus) {
    const std::string whole = read_all(corpus_path(e.file));
    std::vector<std::size_t> lengths{0, 1, 8, 50, whole.size() / 2, whole.size()};
    if (!whole.empty()) lengths.push_back(whole.size() - 1);
    for (std::size_t n : lengths) {
      if (n > whole.size()) continue;
      SCOPED_TRACE(std::string(e.file) + " cut at " + std::to_string(n));
      const std::string cut = whole.substr(0, n);
      const PreflightVerdict b = preflight_bytes(cut, kApi);
      auto h = preflight_file_headers(write("cut", cut), kApi);
      ASSERT_TRUE(h.ok()) << h.error().message;
      if (h->rejected) {
        EXPECT_EQ(status_name(b.rejected), status_name(h->rejected))
            << "headers: " << h->detail << "; bytes: " << b.detail;
      }
      if (h->width != 0) {  // dimensions the header probe knows are the true ones
        EXPECT_EQ(h->width, b.width);
        EXPECT_EQ(h->height, b.height);
      }
      EXPECT_EQ(h->format, b.format);
      ++checked;
    }
  }
  EXPECT_GT(checked, 200);
}

}  // namespace
}  // namespace lf

namespace lf {
namespace {

// The same promise on damaged copies: random bytes overwritten in the
// headers (the first and last KiB, where both probes look) and anywhere.
TEST_F(CorpusTemp, HeadersAreNeverStricterThanBytesOnRandomDamage) {
  std::mt19937_64 rng(2026);
  const int rounds = std::getenv("LF_FUZZ_ROUNDS") ? std::atoi(std::getenv("LF_FUZZ_ROUNDS")) : 12;
  for (const Expected& e : kCorpus) {
    const std::string whole = read_all(corpus_path(e.file));
    if (whole.size() < 16) continue;
    for (int round = 0; round < rounds; ++round) {
      std::string bad = whole;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) {
        const std::size_t span = std::min<std::size_t>(bad.size(), 1024);
        std::size_t at = rng() % bad.size();
        if (round % 3 == 0) at = rng() % span;
        if (round % 3 == 1) at = bad.size() - 1 - rng() % span;
        bad[at] = static_cast<char>(rng());
      }
      if (round % 4 == 3) bad.resize(bad.size() - rng() % (bad.size() / 2));
      SCOPED_TRACE(std::string(e.file) + " round " + std::to_string(round));
      const PreflightVerdict b = preflight_bytes(bad, kApi);
      auto h = preflight_file_headers(write("bad", bad), kApi);
      ASSERT_TRUE(h.ok()) << h.error().message;
      if (h->rejected) {
        ASSERT_EQ(status_name(b.rejected), status_name(h->rejected))
            << "headers: " << h->detail << "; bytes: " << b.detail;
      }
      if (h->width != 0 || h->height != 0) {
        ASSERT_EQ(h->width, b.width);
        ASSERT_EQ(h->height, b.height);
      }
    }
  }
}

}  // namespace
}  // namespace lf

namespace lf {
namespace {

// preflight_file_headers judges a large JPEG's end from its last
// FileWindow::kEdgeBytes (see probe_image_headers); these pin down what it
// takes for truncated, and the one case where it is stricter than
// preflight_bytes.
class JpegTail : public CorpusTemp {
 protected:
  void SetUp() override {
    CorpusTemp::SetUp();
    jpeg_ = read_all(corpus_path("jpeg_baseline_320x240.jpg"));
    const std::size_t sos = jpeg_.find("\xFF\xDA");
    const std::size_t scan = sos + 2 + 12;  // the baseline's SOS header is 12 bytes
    scan_ = jpeg_.substr(scan, jpeg_.size() - 2 - scan);  // scan data, no EOI
  }
  std::optional<ApiStatus> headers(const std::string& bytes) {
    auto v = preflight_file_headers(write("t.jpg", bytes), kApi);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? v->rejected : std::nullopt;
  }
  std::string jpeg_, scan_;
};

TEST_F(JpegTail, CutInsideScanDataIsCorruptByBoth) {
  for (std::size_t keep : {jpeg_.size() - 2, jpeg_.size() - 1000, std::size_t{12000}}) {
    SCOPED_TRACE(keep);
    const std::string cut = jpeg_.substr(0, keep);
    EXPECT_EQ(preflight_bytes(cut, kApi).rejected, kCorrupt);
    EXPECT_EQ(headers(cut), kCorrupt);
  }
}

TEST_F(JpegTail, LongTrailersAfterEoiAreAcceptedByBoth) {
  // Real decoders stop at EOI; phones append videos, cameras pad, tools add text.
  for (const std::string& trailer :
       {std::string(9000, '\0'), std::string(9000, '\xFF'), std::string(9000, 'a')}) {
    const std::string file = jpeg_ + trailer;
    EXPECT_EQ(preflight_bytes(file, kApi).rejected, kAccepted);
    EXPECT_EQ(headers(file), kAccepted);
  }
}

TEST_F(JpegTail, EoiJustBeforeTheWindowIsNotTakenForACut) {
  // After the EOI, kEdgeBytes - 1 bytes of scan data (stuffed bytes, no
  // marker): the window holds the D9 of the EOI as its first byte, not the FF.
  std::size_t from = 0;
  while (scan_[from + FileWindow::kEdgeBytes - 2] == '\xFF') ++from;
  const std::string file = jpeg_ + scan_.substr(from, FileWindow::kEdgeBytes - 1);
  ASSERT_EQ(file[file.size() - FileWindow::kEdgeBytes], '\xD9');
  EXPECT_EQ(preflight_bytes(file, kApi).rejected, kAccepted);
  EXPECT_EQ(headers(file), kAccepted);
}

TEST_F(JpegTail, KnownGapACompleteJpegFollowedByACutOneIsRejectedByHeadersOnly) {
  // An MPO-like file whose second image lost its end: decoders show the first
  // image, preflight_bytes accepts, the header check sees only cut scan data.
  // The one case where it is stricter (documented at probe_image_headers).
  const std::string file = jpeg_ + jpeg_.substr(0, jpeg_.size() / 2);
  EXPECT_EQ(preflight_bytes(file, kApi).rejected, kAccepted);
  EXPECT_EQ(headers(file), kCorrupt);
}

}  // namespace
}  // namespace lf
