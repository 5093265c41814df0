// The fuzz targets: one entry function per parser of hostile input. Each
// takes any bytes, returns 0, and aborts (fuzz_check) when a property the
// code promises does not hold; sanitizers catch the rest. libFuzzer drives
// them in build-fuzz/ (fuzz_main.cc, scripts/fuzz.sh); fuzz_replay_test runs
// every file of their corpora through them in every tree, GCC included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace lf::fuzz {

// lfemu's multipart/form-data parser (src/emulator/multipart_parser.h).
// Input: the Content-Type header's value, "\n", then the body.
int multipart_parser(const std::uint8_t* data, std::size_t size);

// parse_api_response and parse_retry_after (src/api/response_parser.h).
// Input: "HTTP_STATUS [NOW_MS]\n", "Retry-After: VALUE\n" (any other line:
// no header), then the body.
int response_parser(const std::uint8_t* data, std::size_t size);

// probe_image, probe_image_headers, preflight_bytes and
// preflight_file_headers (src/image/), and the promise that the header-only
// variants are never stricter than the whole-file ones. Input: a file's bytes.
int image_probe(const std::uint8_t* data, std::size_t size);

// CsvWriter (src/report/csv_writer.h): what it writes reads back, with a
// strict RFC 4180 reader, as the cells written. Input: a program of cells.
int csv_writer(const std::uint8_t* data, std::size_t size);

// lfbatch's load_config (src/cli/config.h). Input: the config file.
int config(const std::uint8_t* data, std::size_t size);

// lfemu's parse_lfemu_config (src/emulator/emulator_settings.h). Input: the
// config file.
int lfemu_config(const std::uint8_t* data, std::size_t size);

// parse_endpoint, parse_proxy_url, no_proxy_matches and select_proxy
// (src/api/endpoint.h). Input: lines "URL\nPROXY_URL\nNO_PROXY\nHOST".
int endpoint(const std::uint8_t* data, std::size_t size);

using FuzzEntry = int (*)(const std::uint8_t*, std::size_t);

struct FuzzTarget {
  std::string_view name;         // scripts/fuzz.sh's name, and tests/fuzz/<name>/
  FuzzEntry entry;
  std::string_view extra_seeds;  // another seed directory, relative to the source tree; or ""
};

// Every target, in the order scripts/fuzz.sh all runs them.
std::span<const FuzzTarget> all_fuzz_targets();

// A finding: prints `what` and aborts when !ok.
void fuzz_check(bool ok, const char* what);

// A copy of some input bytes in a heap block of exactly their size, so that
// ASan sees any read past their end.
class ExactBytes {
 public:
  explicit ExactBytes(std::string_view bytes);
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_;
};

// Reads a fuzz input as newline-separated fields.
class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}
  // The bytes up to the next "\n" (consumed, not returned), or all the rest.
  std::string_view line();
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

// A file of this process's own in /dev/shm, else $TMPDIR (removed at exit), holding
// `bytes`; for the code that reads files. Aborts when it cannot be written.
const std::string& write_scratch_file(std::string_view bytes);

}  // namespace lf::fuzz
