// Reading a path job's image for upload: the whole file, once, with its
// SHA-256 and the API's rules applied to exactly those bytes. The runner
// calls it on its reader threads, never on the network thread, and sends the
// bytes it returns (so what was checked and hashed is what is sent).
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "image/preflight.h"

namespace lf {

struct ImageFile {
  // The file's bytes; null when the file is over limits.max_bytes (then it
  // is not read: its size decides, verdict says so).
  std::shared_ptr<const std::string> bytes;
  PreflightVerdict verdict;
  std::string sha256;  // of `bytes`, 64 hex digits; empty when bytes is null
};

// Opens, fstats and reads `path` (at most limits.max_bytes + 1 bytes, so a
// file that grew past the limit is still caught). Errors (missing, not a
// regular file, unreadable, a read that fails) name the path and the OS's
// reason. Blocking I/O: call from a thread that may block. Thread-safe.
Result<ImageFile> read_image_file(const std::string& path, const ImageLimits& limits);

}  // namespace lf
