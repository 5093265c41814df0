// Deterministic faces and scores from image bytes; see face_model.h for the
// marker convention and the default distribution.
#include "emulator/face_model.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

namespace lf {
namespace {

constexpr std::string_view kFacesMarker = "LFEMU:faces=";
constexpr std::string_view kScoreMarker = "LFEMU:score=";

// SplitMix64 finaliser: spreads FNV's weaker low bits over the whole word.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::optional<int> faces_marker(std::string_view bytes) {
  const auto at = bytes.find(kFacesMarker);
  if (at == std::string_view::npos) return std::nullopt;
  const auto pos = at + kFacesMarker.size();
  if (pos >= bytes.size() || bytes[pos] < '0' || bytes[pos] > '9') return std::nullopt;
  return bytes[pos] - '0';
}

std::optional<double> score_marker(std::string_view bytes) {
  const auto at = bytes.find(kScoreMarker);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view rest = bytes.substr(at + kScoreMarker.size(), 32);
  double value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value,
                                         std::chars_format::fixed);
  if (ec != std::errc() || !std::isfinite(value)) return std::nullopt;
  return std::clamp(value, 0.0, 1.0);
}

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

FaceVerdict judge_faces(std::string_view image_bytes) {
  FaceVerdict v;
  if (auto faces = faces_marker(image_bytes)) v.faces = *faces;
  if (auto score = score_marker(image_bytes)) {
    v.score = *score;
    return v;
  }
  const std::uint64_t h = mix(fnv1a64(image_bytes));
  const double pick = static_cast<double>(h >> 40) / static_cast<double>(1ull << 24);
  const double within = static_cast<double>(h & 0xFFFFFFFFull) / 4294967296.0;
  v.score = pick < 0.8 ? 0.60 + 0.39 * within : 0.60 * within;
  return v;
}

std::string_view face_failure_reason(int faces) {
  if (faces == 0) return "no face detected";
  if (faces == 1) return "no two faces detected";
  if (faces >= 3) return "too many faces";
  return {};
}

UploadVerdict judge_upload(std::string_view image_bytes, const ImageLimits& limits) {
  if (auto status = check_image(image_bytes, limits)) return {*status, {}, 0.0};
  const FaceVerdict faces = judge_faces(image_bytes);
  if (faces.faces != 2) return {ApiStatus::kFaceDetectionFailed, face_failure_reason(faces.faces), 0.0};
  return {ApiStatus::kOk, {}, faces.score};
}

}  // namespace lf
