#include "emulator/sample_plan.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "emulator/face_model.h"

namespace lf {
namespace {

std::map<SampleKind, std::size_t> tally(const std::vector<SampleKind>& kinds) {
  std::map<SampleKind, std::size_t> m;
  for (SampleKind k : kinds) ++m[k];
  return m;
}

TEST(SamplePlan, RealisticMixHasTheRequestedShares) {
  const auto m = tally(plan_kinds(10000, SampleMix::kRealistic, 7));
  EXPECT_EQ(m.at(SampleKind::kNoFace), 300u);
  EXPECT_EQ(m.at(SampleKind::kOneFace), 200u);
  EXPECT_EQ(m.at(SampleKind::kThreeFaces), 100u);
  EXPECT_EQ(m.at(SampleKind::kCorrupt), 100u);
  EXPECT_EQ(m.at(SampleKind::kBadSize), 100u);
  EXPECT_EQ(m.at(SampleKind::kTooBig), 5u);
  EXPECT_EQ(m.at(SampleKind::kOk), 10000u - 805u);
}

TEST(SamplePlan, SmallArchivesAreAllOkAndOkMixIsOnlyOk) {
  EXPECT_EQ(tally(plan_kinds(10, SampleMix::kRealistic, 1)).at(SampleKind::kOk), 10u);
  EXPECT_EQ(tally(plan_kinds(5000, SampleMix::kOk, 1)).at(SampleKind::kOk), 5000u);
  EXPECT_TRUE(plan_kinds(0, SampleMix::kRealistic, 1).empty());
}

TEST(SamplePlan, SameSeedSameOrderOtherSeedOtherOrder) {
  EXPECT_EQ(plan_kinds(500, SampleMix::kRealistic, 3), plan_kinds(500, SampleMix::kRealistic, 3));
  EXPECT_NE(plan_kinds(500, SampleMix::kRealistic, 3), plan_kinds(500, SampleMix::kRealistic, 4));
}

TEST(SamplePlan, EveryKindRendersToTheAnswerItStandsFor) {
  const std::map<SampleKind, ApiStatus> expected = {
      {SampleKind::kOk, ApiStatus::kOk},
      {SampleKind::kNoFace, ApiStatus::kFaceDetectionFailed},
      {SampleKind::kOneFace, ApiStatus::kFaceDetectionFailed},
      {SampleKind::kThreeFaces, ApiStatus::kFaceDetectionFailed},
      {SampleKind::kCorrupt, ApiStatus::kCorruptImage},
      {SampleKind::kBadSize, ApiStatus::kInvalidImageFormatOrSize},
      {SampleKind::kTooBig, ApiStatus::kImageFileSizeTooBig}};
  for (SampleKind kind : kAllSampleKinds) {
    const std::size_t n = kind == SampleKind::kTooBig ? 2 : 25;
    for (std::size_t i = 0; i < n; ++i) {
      const SampleSpec spec = make_sample_spec(i, kind, 11);
      const UploadVerdict v = judge_upload(render_sample(spec));
      EXPECT_EQ(v.status, expected.at(kind))
          << to_string(kind) << " #" << i << " " << to_string(spec.format) << " " << spec.width
          << "x" << spec.height;
    }
  }
  EXPECT_EQ(judge_upload(render_sample(make_sample_spec(0, SampleKind::kOneFace, 1))).reason,
            "no two faces detected");
}

TEST(SamplePlan, SamplesAreUniqueAndReproducible) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < 100; ++i) {
    const std::string bytes = render_sample(make_sample_spec(i, SampleKind::kOk, 5));
    EXPECT_TRUE(seen.insert(bytes).second) << i;
    EXPECT_EQ(bytes, render_sample(make_sample_spec(i, SampleKind::kOk, 5)));
  }
  EXPECT_NE(render_sample(make_sample_spec(0, SampleKind::kOk, 5)),
            render_sample(make_sample_spec(0, SampleKind::kOk, 6)));
}

TEST(SamplePlan, OkScoresVary) {
  int high = 0;
  for (std::size_t i = 0; i < 200; ++i) {
    const UploadVerdict v = judge_upload(render_sample(make_sample_spec(i, SampleKind::kOk, 9)));
    ASSERT_EQ(v.status, ApiStatus::kOk);
    if (v.score >= 0.6) ++high;
  }
  EXPECT_GT(high, 140);  // 80% of 200, +-3.5 sd
  EXPECT_LT(high, 180);
}

TEST(SamplePlan, MinBytesPadsOkImages) {
  const std::string bytes = render_sample(make_sample_spec(3, SampleKind::kOk, 1, 200000));
  EXPECT_GE(bytes.size(), 200000u);
  EXPECT_EQ(judge_upload(bytes).status, ApiStatus::kOk);
}

}  // namespace
}  // namespace lf
