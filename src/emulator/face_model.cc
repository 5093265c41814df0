// Deterministic faces and scores from image bytes; see face_model.h for the
// marker convention and the default distribution.
#include "emulator/face_model.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
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

std::uint64_t content_hash64(std::string_view bytes) {
  constexpr std::uint64_t kPrime = 0x100000001B3ull;
  // Four independent lanes in locals (not an array the char input could
  // alias), so the multiplies overlap.
  std::uint64_t a = 0xCBF29CE484222325ull, b = 0x84222325CBF29CE4ull;
  std::uint64_t c = 0x9E3779B97F4A7C15ull, d = 0xD6E8FEB86659FD93ull;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  auto load_le64 = [](const unsigned char* q) {
    std::uint64_t w;
    std::memcpy(&w, q, sizeof w);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    return w;
  };
  auto step = [](std::uint64_t h, std::uint64_t w) {
    h = (h ^ w) * kPrime;
    return h ^ (h >> 32);  // let high bits reach the low ones
  };
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a = step(a, load_le64(p + i));
    b = step(b, load_le64(p + i + 8));
    c = step(c, load_le64(p + i + 16));
    d = step(d, load_le64(p + i + 24));
  }
  for (; i < n; ++i) a = (a ^ p[i]) * kPrime;
  return mix(a ^ mix(b ^ mix(c ^ mix(d ^ n))));
}

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
  const std::uint64_t h = content_hash64(image_bytes);
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
