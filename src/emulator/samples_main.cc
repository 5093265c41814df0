// lfsamples: writes an archive of synthetic hand-held ID photos (and
// optionally a manifest of the answers lfemu will give) for the demo, the
// end-to-end tests and the benchmarks.
#include <CLI/CLI.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "emulator/face_model.h"
#include "emulator/sample_plan.h"

namespace {

namespace fs = std::filesystem;

std::string format_score(double score) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), score);
  return ec == std::errc() ? std::string(buf.data(), end) : std::string();
}

// Values here never contain commas or quotes except paths; quote those.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lfsamples: write synthetic hand-held ID card photos for lfemu"};
  std::string out_dir, manifest_path, mix_name = "realistic";
  std::size_t count = 100, min_bytes = 0;
  std::uint64_t seed = 1;
  bool quiet = false;
  app.add_option("--out", out_dir, "directory to write the images into (created)")->required();
  app.add_option("--count", count, "number of images")->check(CLI::Range(std::size_t{0}, std::size_t{100'000'000}));
  app.add_option("--seed", seed, "seed: the same seed and count give the same files");
  app.add_option("--mix", mix_name,
                 "realistic: ~90% OK, 3% no face, 2% one face, 1% three faces, 1% corrupt, "
                 "1% bad size, up to 5 over 5 MB; ok: every image OK")
      ->check(CLI::IsMember({"realistic", "ok"}));
  app.add_option("--manifest", manifest_path,
                 "write a CSV: file,kind,format,width,height,bytes,expected_status,"
                 "expected_reason,expected_score");
  app.add_option("--min-bytes", min_bytes, "pad OK images to at least this size (e.g. 200000)");
  app.add_flag("--quiet", quiet, "print nothing but errors");
  CLI11_PARSE(app, argc, argv);

  const auto started = std::chrono::steady_clock::now();
  const lf::SampleMix mix = mix_name == "ok" ? lf::SampleMix::kOk : lf::SampleMix::kRealistic;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    std::cerr << "lfsamples: cannot create --out " << out_dir << ": " << ec.message() << "\n";
    return 1;
  }
  std::ofstream manifest;
  if (!manifest_path.empty()) {
    manifest.open(manifest_path, std::ios::trunc);
    if (!manifest) {
      std::cerr << "lfsamples: cannot write --manifest " << manifest_path << "\n";
      return 1;
    }
    manifest << "file,kind,format,width,height,bytes,expected_status,expected_reason,"
                "expected_score\n";
  }

  const fs::path root = fs::absolute(out_dir);
  const bool subdirs = count > 10000;  // keep directories to 1000 entries
  const auto kinds = lf::plan_kinds(count, mix, seed);
  std::map<std::string, std::size_t> by_kind, by_format, by_status;
  std::uint64_t total_bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const lf::SampleSpec spec = lf::make_sample_spec(i, kinds[i], seed, min_bytes);
    const std::string bytes = lf::render_sample(spec);
    char name[64];
    std::snprintf(name, sizeof name, "img_%07zu%s", i,
                  std::string(lf::file_extension(spec.format)).c_str());
    fs::path path = root;
    if (subdirs) {
      char dir[32];
      std::snprintf(dir, sizeof dir, "d%04zu", i / 1000);
      path /= dir;
      if (i % 1000 == 0) fs::create_directories(path, ec);
    }
    path /= name;
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!file.flush()) {
      std::cerr << "lfsamples: cannot write " << path.string() << "\n";
      return 1;
    }
    const lf::UploadVerdict verdict = lf::judge_upload(bytes);
    if (manifest.is_open()) {
      manifest << csv_field(path.string()) << ',' << lf::to_string(spec.kind) << ','
               << lf::to_string(spec.format) << ',' << spec.width << ',' << spec.height << ','
               << bytes.size() << ',' << lf::to_string(verdict.status) << ',' << verdict.reason
               << ','
               << (verdict.status == lf::ApiStatus::kOk ? format_score(verdict.score) : "")
               << '\n';
    }
    ++by_kind[std::string(lf::to_string(spec.kind))];
    ++by_format[std::string(lf::to_string(spec.format))];
    ++by_status[std::string(lf::to_string(verdict.status))];
    total_bytes += bytes.size();
  }
  if (manifest.is_open() && !manifest.flush()) {
    std::cerr << "lfsamples: cannot write --manifest " << manifest_path << "\n";
    return 1;
  }

  if (!quiet) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("lfsamples: wrote %zu images (%.1f MB) to %s in %.2f s (seed %llu, mix %s)\n",
                count, static_cast<double>(total_bytes) / 1e6, root.string().c_str(), secs,
                static_cast<unsigned long long>(seed), mix_name.c_str());
    auto print = [](const char* title, const std::map<std::string, std::size_t>& m) {
      std::printf("  %-16s", title);
      for (const auto& [k, n] : m) std::printf(" %s=%zu", k.c_str(), n);
      std::printf("\n");
    };
    print("by kind:", by_kind);
    print("by format:", by_format);
    print("expected status:", by_status);
    if (!manifest_path.empty()) std::printf("  manifest: %s\n", manifest_path.c_str());
  }
  return 0;
}
