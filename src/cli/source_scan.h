// Turning what the user names on `lfbatch enqueue` (paths, directories,
// http(s) URLs, list files, image_ids) into queue jobs: each source is
// checked, bad ones are rejected one by one with a reason and a fix, and the
// accepted jobs are handed on in chunks so a list of millions of sources is
// never held in memory at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "image/preflight.h"
#include "store/job_queue.h"

namespace lf {

struct ScanOptions {
  bool recursive = false;        // walk directories (else a directory is rejected)
  bool auto_rotate = false;      // copied into every job
  std::string tag;               // copied into every job
  std::size_t chunk_size = 50'000;  // one store transaction each (JobQueue batches 50,000)
  // Pre-flight of each file by its headers (a few KiB read, image/preflight.h):
  // a file the API would reject is queued failed, decided locally, never sent.
  bool preflight = true;
  ImageLimits limits;
};

// A source that will not be queued, and why.
struct Rejection {
  std::string source;  // as given, or the path found while walking a directory
  std::string origin;  // where it was named, e.g. "list.txt:12"; empty for an argument
  std::string reason;  // what is wrong and how to fix it
};

struct ScanStats {
  std::int64_t accepted = 0;            // jobs handed to the chunk sink
  std::int64_t failed_preflight = 0;    // of those, failed by pre-flight (never sent)
  std::int64_t rejected = 0;            // Rejections reported
  std::int64_t skipped_non_images = 0;  // files in walked directories without an image extension
  std::int64_t skipped_dir_links = 0;   // symlinks to directories met while walking (not followed)
};

// Streams sources into jobs. Not thread-safe.
class SourceScanner {
 public:
  // Receives accepted jobs, at most `chunk_size` at a time; an error stops
  // the scan and is returned by the add_* call that flushed.
  using ChunkSink = std::function<Status(std::span<const NewJob>)>;
  using RejectSink = std::function<void(const Rejection&)>;

  SourceScanner(ScanOptions options, ChunkSink on_chunk, RejectSink on_reject);

  // A path (file or, with `recursive`, directory) or an http(s) URL.
  // Relative paths are taken relative to the current directory.
  Status add(std::string_view source, std::string_view origin = {});
  // An image_id of an earlier upload (a file_id job).
  Status add_file_id(std::string_view id, std::string_view origin = {});
  // One source per line (see list_entry); `list_name` names the list in
  // rejections ("-" for standard input).
  Status add_list(std::istream& in, std::string_view list_name);
  // Hands on the jobs still buffered. Call once, after the last add.
  Status finish();

  const ScanStats& stats() const { return stats_; }

 private:
  // Where a source was named; formatted only when it is rejected.
  struct Origin {
    std::string_view text;  // an origin as given, or a list's name
    std::int64_t line = 0;  // line in the list, 0: none
  };
  Status add_source(std::string_view source, const Origin& origin);
  Status add_path(std::string_view given, const Origin& origin);
  Status walk(const std::filesystem::path& root, const Origin& origin);
  Status accept(SourceKind kind, std::string source);
  void reject(std::string source, const Origin& origin, std::string reason);
  Status flush();

  ScanOptions options_;
  ChunkSink on_chunk_;
  RejectSink on_reject_;
  std::vector<NewJob> buffer_;
  ScanStats stats_;
};

// True when `source` starts with a URL scheme ("letters://"); such a source
// is never taken as a path.
bool looks_like_url(std::string_view source);

// Why `url` cannot be sent as a file_url (with the fix), or nullopt when it
// is an absolute http:// or https:// URL with a host.
std::optional<std::string> url_problem(std::string_view url);

// True for the image extensions taken from directories: jpg jpeg png gif bmp
// tif tiff, in any case.
bool has_image_extension(const std::filesystem::path& path);

// The source on one line of a list file: surrounding spaces, tabs and a
// trailing CR removed; nullopt for a blank line or a # comment.
std::optional<std::string_view> list_entry(std::string_view line);

// `path` made absolute and lexically normal, without resolving symlinks,
// without a trailing separator.
std::filesystem::path absolute_normal(const std::filesystem::path& path);

// The one stderr line for a rejection: "rejected SOURCE (ORIGIN): REASON".
std::string format_rejection(const Rejection& rejection);

}  // namespace lf
