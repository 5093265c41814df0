#include "emulator/face_model.h"

#include <gtest/gtest.h>

#include <string>

#include "image/synthetic_image.h"

namespace lf {
namespace {

TEST(FaceModel, DefaultIsTwoFacesWithAScoreInRange) {
  const FaceVerdict v = judge_faces(make_image(ImageFormat::kJpeg, 640, 480));
  EXPECT_EQ(v.faces, 2);
  EXPECT_GE(v.score, 0.0);
  EXPECT_LT(v.score, 1.0);
}

TEST(FaceModel, SameBytesGiveTheSameVerdict) {
  const std::string image = make_image(ImageFormat::kPng, 100, 100, "id=42");
  const FaceVerdict a = judge_faces(image), b = judge_faces(image);
  EXPECT_EQ(a.faces, b.faces);
  EXPECT_EQ(a.score, b.score);
  EXPECT_NE(judge_faces(make_image(ImageFormat::kPng, 100, 100, "id=43")).score, a.score);
}

TEST(FaceModel, FacesMarkerChoosesTheFaceCount) {
  for (int n : {0, 1, 2, 3, 7}) {
    for (ImageFormat f : kAllImageFormats) {
      const std::string marker = "LFEMU:faces=" + std::to_string(n);
      EXPECT_EQ(judge_faces(make_image(f, 50, 50, marker)).faces, n) << marker;
    }
  }
}

TEST(FaceModel, ScoreMarkerChoosesTheScore) {
  EXPECT_DOUBLE_EQ(judge_faces("xx LFEMU:score=0.8312 yy").score, 0.8312);
  EXPECT_DOUBLE_EQ(judge_faces(make_image(ImageFormat::kJpeg, 50, 50, "LFEMU:score=0.25")).score,
                   0.25);
  EXPECT_DOUBLE_EQ(judge_faces("LFEMU:score=1").score, 1.0);
  EXPECT_DOUBLE_EQ(judge_faces("LFEMU:score=7.5").score, 1.0);  // clamped
}

TEST(FaceModel, BothMarkersTogether) {
  const FaceVerdict v = judge_faces("LFEMU:faces=3 LFEMU:score=0.5");
  EXPECT_EQ(v.faces, 3);
  EXPECT_DOUBLE_EQ(v.score, 0.5);
}

TEST(FaceModel, MalformedMarkersAreIgnored) {
  const std::string plain = "some image bytes";
  const FaceVerdict base = judge_faces(plain);
  EXPECT_EQ(judge_faces("LFEMU:faces=x " + plain).faces, 2);
  const FaceVerdict bad_score = judge_faces("LFEMU:score=abc");
  EXPECT_GE(bad_score.score, 0.0);
  EXPECT_LT(bad_score.score, 1.0);
  EXPECT_EQ(judge_faces("LFEMU:faces=").faces, 2);
  EXPECT_EQ(base.faces, 2);
}

TEST(FaceModel, FirstMarkerWins) {
  EXPECT_EQ(judge_faces("LFEMU:faces=1 LFEMU:faces=3").faces, 1);
}

TEST(FaceModel, DefaultScoresAreMostlyHighWithALowTail) {
  constexpr int kN = 20000;
  int high = 0, very_low = 0;
  double min = 1, max = 0;
  for (int i = 0; i < kN; ++i) {
    const double s = judge_faces("image number " + std::to_string(i)).score;
    ASSERT_GE(s, 0.0);
    ASSERT_LT(s, 0.99);
    if (s >= 0.6) ++high;
    if (s < 0.3) ++very_low;
    min = std::min(min, s);
    max = std::max(max, s);
  }
  EXPECT_NEAR(high / double(kN), 0.80, 0.015);
  EXPECT_NEAR(very_low / double(kN), 0.10, 0.01);
  EXPECT_LT(min, 0.01);
  EXPECT_GT(max, 0.98);
}

TEST(FaceModel, ContentHashSeesEveryByteAndTheLength) {
  const std::string base = make_image(ImageFormat::kPng, 30, 30);
  const std::uint64_t h = content_hash64(base);
  EXPECT_EQ(content_hash64(base), h);
  for (std::size_t i = 0; i < base.size(); ++i) {
    for (int bit : {0, 7}) {
      std::string changed = base;
      changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
      ASSERT_NE(content_hash64(changed), h) << i;
    }
  }
  EXPECT_NE(content_hash64(std::string(40, '\0')), content_hash64(std::string(41, '\0')));
  EXPECT_NE(content_hash64(""), content_hash64(std::string(1, '\0')));
}

TEST(FaceModel, ContentHashIsPinned) {
  // The score of an image must not change between versions: tests, demos
  // and recorded results depend on it.
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += static_cast<char>(i * 37);
  EXPECT_EQ(content_hash64("LinkFace"), 0x4eb23d0e00936e81ull);
  EXPECT_EQ(content_hash64(hundred), 0x309433c3b53314a5ull);
  EXPECT_EQ(content_hash64(""), 0xad9551d5c0b1669dull);
}

TEST(FaceModel, Fnv1aMatchesKnownVectors) {
  EXPECT_EQ(fnv1a64(""), 0xCBF29CE484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xAF63DC4C8601EC8Cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171F73967E8ull);
}

}  // namespace
}  // namespace lf

namespace lf {
namespace {

TEST(JudgeUpload, ImageRulesComeBeforeFaces) {
  EXPECT_EQ(judge_upload(make_image(ImageFormat::kPng, 8, 8, "LFEMU:faces=0")).status,
            ApiStatus::kInvalidImageFormatOrSize);
  EXPECT_EQ(judge_upload(make_corrupt(ImageFormat::kJpeg, 80, 80, "LFEMU:faces=0")).status,
            ApiStatus::kCorruptImage);
  EXPECT_EQ(judge_upload(make_image(ImageFormat::kJpeg, 80, 80, "LFEMU:faces=0", 6 << 20)).status,
            ApiStatus::kImageFileSizeTooBig);
  EXPECT_EQ(judge_upload("not an image").status, ApiStatus::kCorruptImage);
}

TEST(JudgeUpload, FaceCountsGiveTheSpecsReasons) {
  auto judge = [](int faces) {
    return judge_upload(make_image(ImageFormat::kJpeg, 80, 80, "LFEMU:faces=" + std::to_string(faces)));
  };
  EXPECT_EQ(judge(0).status, ApiStatus::kFaceDetectionFailed);
  EXPECT_EQ(judge(0).reason, "no face detected");
  EXPECT_EQ(judge(1).reason, "no two faces detected");
  EXPECT_EQ(judge(3).reason, "too many faces");
  EXPECT_EQ(judge(2).status, ApiStatus::kOk);
  EXPECT_EQ(judge(2).reason, "");
}

TEST(JudgeUpload, OkCarriesTheFaceModelsScore) {
  const std::string image = make_image(ImageFormat::kGif, 80, 80, "LFEMU:score=0.7027237415313721");
  const UploadVerdict v = judge_upload(image);
  EXPECT_EQ(v.status, ApiStatus::kOk);
  EXPECT_DOUBLE_EQ(v.score, 0.7027237415313721);
}

}  // namespace
}  // namespace lf
