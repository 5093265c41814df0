// lfemu's stand-in for face detection and comparison: deterministic from the
// image bytes, so tests can predict every answer.
//
// Control markers (ASCII, anywhere in the bytes; test images put them in a
// JPEG COM segment, a PNG tEXt chunk, or anywhere else):
//   LFEMU:faces=N      N in 0..9: the number of faces "detected". 0 answers
//                      FACE_DETECTION_FAILED "no face detected", 1 "no two
//                      faces detected", 3 or more "too many faces".
//   LFEMU:score=0.8312 the verify_score to answer (clamped to [0,1]).
// The first occurrence of each marker counts; a malformed value is ignored.
//
// Without markers: 2 faces, and a score from the FNV-1a 64-bit hash of the
// bytes, mapped to a realistic distribution: 80% of images uniformly in
// [0.60, 0.99) (the same person), 20% uniformly in [0.0, 0.60) (doubtful).
// The same bytes always give the same verdict.
#pragma once

#include <cstdint>
#include <string_view>

namespace lf {

struct FaceVerdict {
  int faces = 2;
  double score = 0.0;  // in [0,1]; meaningful only when faces == 2
};

FaceVerdict judge_faces(std::string_view image_bytes);

// 64-bit FNV-1a of `bytes` (exposed for tests and content ids).
std::uint64_t fnv1a64(std::string_view bytes);

}  // namespace lf
