// Checking and expanding enqueue sources into jobs, streamed in chunks.
#include "cli/source_scan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <boost/url/parse.hpp>
#include <fmt/format.h>

namespace lf {
namespace {

namespace fs = std::filesystem;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Why the regular file `path` cannot be read by us, or nullopt.
std::optional<std::string> unreadable(const fs::path& path) {
  if (::access(path.c_str(), R_OK) == 0) return std::nullopt;
  return fmt::format("not readable ({}); make it readable (chmod u+r) or run lfbatch as a user "
                     "who can read it",
                     std::strerror(errno));
}

std::string_view file_type_name(fs::file_type type) {
  switch (type) {
    case fs::file_type::block: return "a block device";
    case fs::file_type::character: return "a character device";
    case fs::file_type::fifo: return "a named pipe";
    case fs::file_type::socket: return "a socket";
    default: return "not a regular file";
  }
}

}  // namespace

bool looks_like_url(std::string_view source) {
  const std::size_t colon = source.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  const char first = ascii_lower(source[0]);
  if (first < 'a' || first > 'z') return false;
  return std::all_of(source.begin(), source.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
    c = ascii_lower(c);
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
  });
}

std::optional<std::string> url_problem(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return fmt::format("not a valid URL ({}); percent-encode spaces and other special characters",
                       parsed.error().message());
  }
  const auto scheme = parsed->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) {
    return fmt::format("URL scheme \"{}\" is not supported: the API fetches only http:// and "
                       "https:// URLs (download the file and enqueue its local path instead)",
                       std::string_view(parsed->scheme()));
  }
  if (!parsed->has_authority() || parsed->encoded_host().empty()) {
    return std::string("URL has no host; write it as http://HOST/PATH");
  }
  return std::nullopt;
}

bool has_image_extension(const fs::path& path) {
  static constexpr std::array<std::string_view, 7> kExtensions = {".jpg", ".jpeg", ".png", ".gif",
                                                                  ".bmp", ".tif",  ".tiff"};
  const std::string ext = path.extension().string();
  if (ext.size() > 5) return false;
  std::string lower(ext.size(), '\0');
  std::transform(ext.begin(), ext.end(), lower.begin(), ascii_lower);
  return std::find(kExtensions.begin(), kExtensions.end(), lower) != kExtensions.end();
}

std::optional<std::string_view> list_entry(std::string_view line) {
  while (!line.empty() && is_blank(line.front())) line.remove_prefix(1);
  while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return std::nullopt;
  return line;
}

fs::path absolute_normal(const fs::path& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = path;
  abs = abs.lexically_normal();
  if (!abs.has_filename() && abs.has_relative_path()) abs = abs.parent_path();
  return abs;
}

std::string format_rejection(const Rejection& rejection) {
  if (rejection.origin.empty()) {
    return fmt::format("rejected {}: {}", rejection.source, rejection.reason);
  }
  return fmt::format("rejected {} ({}): {}", rejection.source, rejection.origin, rejection.reason);
}

SourceScanner::SourceScanner(ScanOptions options, ChunkSink on_chunk, RejectSink on_reject)
    : options_(std::move(options)), on_chunk_(std::move(on_chunk)), on_reject_(std::move(on_reject)) {
  if (options_.chunk_size == 0) options_.chunk_size = 1;
  buffer_.reserve(options_.chunk_size);
}

Status SourceScanner::accept(SourceKind kind, std::string source) {
  NewJob job;
  job.kind = kind;
  job.source = std::move(source);
  job.auto_rotate = options_.auto_rotate;
  job.tag = options_.tag;
  if (kind == SourceKind::kPath && options_.preflight) {
    Result<PreflightVerdict> verdict = preflight_file_headers(job.source, options_.limits);
    // A file that cannot be read now was readable a moment ago (add_path
    // checked): queue it, and the run will say what became of it.
    if (verdict && verdict->rejected) {
      job.rejected = LocalVerdict{*verdict->rejected,
                                  verdict->detail + " (decided locally, nothing sent)"};
      ++stats_.failed_preflight;
    }
  }
  buffer_.push_back(std::move(job));
  ++stats_.accepted;
  if (buffer_.size() >= options_.chunk_size) return flush();
  return {};
}

void SourceScanner::reject(std::string source, const Origin& origin, std::string reason) {
  ++stats_.rejected;
  std::string where = origin.line > 0 ? fmt::format("{}:{}", origin.text, origin.line)
                                      : std::string(origin.text);
  on_reject_(Rejection{std::move(source), std::move(where), std::move(reason)});
}

Status SourceScanner::flush() {
  if (buffer_.empty()) return {};
  Status s = on_chunk_(std::span<const NewJob>(buffer_));
  buffer_.clear();
  return s;
}

Status SourceScanner::finish() { return flush(); }

Status SourceScanner::add(std::string_view source, std::string_view origin) {
  return add_source(source, Origin{origin});
}

Status SourceScanner::add_source(std::string_view source, const Origin& origin) {
  if (source.empty()) {
    reject("\"\"", origin, "empty source; give a path, a directory or an http(s) URL");
    return {};
  }
  if (looks_like_url(source)) {
    if (auto problem = url_problem(source)) {
      reject(std::string(source), origin, std::move(*problem));
      return {};
    }
    return accept(SourceKind::kUrl, std::string(source));
  }
  return add_path(source, origin);
}

Status SourceScanner::add_file_id(std::string_view id, std::string_view origin) {
  const bool bad = id.empty() || std::any_of(id.begin(), id.end(), [](char c) {
                     return static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
                   });
  if (bad) {
    reject(fmt::format("--file-id \"{}\"", id), Origin{origin},
           "an image_id is a non-empty string without spaces or control characters, as the API "
           "returned it");
    return {};
  }
  return accept(SourceKind::kFileId, std::string(id));
}

Status SourceScanner::add_path(std::string_view given, const Origin& origin) {
  const fs::path path = absolute_normal(fs::path(given));
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) {
    const bool dangling = fs::is_symlink(fs::symlink_status(path, ec));
    reject(std::string(given), origin,
           dangling ? "a symbolic link to nothing (its target is missing); fix or remove the link"
                    : "no such file or directory; check the path (relative paths are taken from "
                      "the current directory)");
    return {};
  }
  if (ec) {
    reject(std::string(given), origin,
           fmt::format("cannot be examined ({}); check the permissions of the directories above it",
                       ec.message()));
    return {};
  }
  if (st.type() == fs::file_type::directory) {
    if (!options_.recursive) {
      reject(std::string(given), origin, "is a directory; add --recursive to enqueue the images in it");
      return {};
    }
    return walk(path, origin);
  }
  if (st.type() != fs::file_type::regular) {
    reject(std::string(given), origin,
           fmt::format("is {}, not a regular file; enqueue image files", file_type_name(st.type())));
    return {};
  }
  if (auto problem = unreadable(path)) {
    reject(std::string(given), origin, std::move(*problem));
    return {};
  }
  return accept(SourceKind::kPath, path.string());
}

// Depth-first, streaming: one open directory per level, nothing sorted or
// collected, so a directory of millions of files costs no memory. Symlinks to
// directories are not followed (no loops); symlinks to files are.
Status SourceScanner::walk(const fs::path& root, const Origin& origin) {
  std::vector<fs::directory_iterator> stack;
  std::error_code ec;
  fs::directory_iterator first(root, ec);
  if (ec) {
    reject(root.string(), origin,
           fmt::format("directory cannot be listed ({}); make it readable (chmod u+rx)", ec.message()));
    return {};
  }
  stack.push_back(std::move(first));
  while (!stack.empty()) {
    fs::directory_iterator& it = stack.back();
    if (it == fs::directory_iterator()) {
      stack.pop_back();
      continue;
    }
    const fs::directory_entry entry = *it;
    it.increment(ec);
    if (ec) {
      reject(entry.path().parent_path().string(), origin,
             fmt::format("directory could not be read to the end ({}); the rest of it was skipped",
                         ec.message()));
      stack.pop_back();
      ec.clear();
    }
    const fs::path& path = entry.path();
    std::error_code type_ec;
    const bool is_link = entry.is_symlink(type_ec);
    const fs::file_status st = entry.status(type_ec);
    if (st.type() == fs::file_type::directory) {
      if (is_link) {
        ++stats_.skipped_dir_links;
        continue;
      }
      fs::directory_iterator sub(path, ec);
      if (ec) {
        reject(path.string(), origin,
               fmt::format("directory cannot be listed ({}); make it readable (chmod u+rx)", ec.message()));
        ec.clear();
        continue;
      }
      stack.push_back(std::move(sub));
      continue;
    }
    if (!has_image_extension(path)) {
      ++stats_.skipped_non_images;
      continue;
    }
    if (st.type() == fs::file_type::not_found) {
      reject(path.string(), origin, "a symbolic link to nothing (its target is missing); fix or remove the link");
      continue;
    }
    if (st.type() != fs::file_type::regular) {
      reject(path.string(), origin,
             fmt::format("is {}, not a regular file; enqueue image files", file_type_name(st.type())));
      continue;
    }
    if (auto problem = unreadable(path)) {
      reject(path.string(), origin, std::move(*problem));
      continue;
    }
    if (Status s = accept(SourceKind::kPath, path.string()); !s) return s;
  }
  return {};
}

Status SourceScanner::add_list(std::istream& in, std::string_view list_name) {
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view view(line);
    if (number == 1 && view.starts_with("\xEF\xBB\xBF")) view.remove_prefix(3);  // UTF-8 BOM
    const auto source = list_entry(view);
    if (!source) continue;
    if (Status s = add_source(*source, Origin{list_name, number}); !s) return s;
  }
  if (in.bad()) {
    return Error{fmt::format("reading list {} failed at line {}: {}", list_name, number + 1,
                             std::strerror(errno))};
  }
  return {};
}

}  // namespace lf
