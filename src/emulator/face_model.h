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
// Without markers: 2 faces, and a score from content_hash64 of the bytes,
// mapped to a realistic distribution: 80% of images uniformly in
// [0.60, 0.99) (the same person), 20% uniformly in [0.0, 0.60) (doubtful).
// The same bytes always give the same verdict, on every platform.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/api_status.h"
#include "image/preflight.h"

namespace lf {

struct FaceVerdict {
  int faces = 2;
  double score = 0.0;  // in [0,1]; meaningful only when faces == 2
};

FaceVerdict judge_faces(std::string_view image_bytes);

// The spec's FACE_DETECTION_FAILED reason for a face count: "no face
// detected" (0), "no two faces detected" (1), "too many faces" (3+); empty
// for 2.
std::string_view face_failure_reason(int faces);

// What lfemu answers for an uploaded image before accounts, limits and
// faults: the image rules first (check_image: IMAGE_FILE_SIZE_TOO_BIG,
// CORRUPT_IMAGE, INVALID_IMAGE_FORMAT_OR_SIZE), then the faces
// (FACE_DETECTION_FAILED with reason), else OK with the score. lfsamples'
// manifest uses the same function, so its expectations cannot drift.
struct UploadVerdict {
  ApiStatus status = ApiStatus::kOk;
  std::string_view reason;  // the spec's reason string, or empty
  double score = 0.0;       // verify_score when status is kOk
};
UploadVerdict judge_upload(std::string_view image_bytes, const ImageLimits& limits = {});

// A fast 64-bit hash of `bytes` (several GB/s: 4 lanes of an FNV-style
// multiply over 8-byte little-endian words, SplitMix64 finaliser). Not
// cryptographic; identical on every platform.
std::uint64_t content_hash64(std::string_view bytes);

// 64-bit FNV-1a of `bytes`: simple and well known, but byte-serial
// (~300 MB/s); for short strings such as ids.
std::uint64_t fnv1a64(std::string_view bytes);

}  // namespace lf
