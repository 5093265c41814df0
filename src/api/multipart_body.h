// The multipart/form-data body of one verification request, laid out so that
// the photo can be streamed from disk: everything before the file's bytes
// (prefix), the file (by path and size), everything after it (suffix).
// Memory per request is the prefix, suffix and one read chunk, whatever the
// file's size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/job.h"
#include "core/result.h"

namespace lf {

// Bytes read from the file per chunk while sending.
inline constexpr std::size_t kMultipartChunkSize = 64 * 1024;

// A path job's image as the runner read and checked it before sending (off
// the network thread): the exact bytes judged and hashed are the bytes sent,
// however the file changes afterwards.
struct PreparedImage {
  std::shared_ptr<const std::string> bytes;  // the whole file; never null
  std::string file_name;     // the part's filename: neutral ("image.jpg") unless the
                             // user chose to send local names
  std::string content_type;  // from the sniffed format, never from the extension
};

// What one request sends for a job, when not the job's source as it stands
// (a path streamed from disk with its base name, a file_url, a file_id).
struct Payload {
  const PreparedImage* image = nullptr;  // a path job's prepared bytes
  std::string image_id;  // non-empty: file_id=image_id (an earlier upload of the same
                         // content) instead of the bytes
};

// A request body. Holds api_secret inside `prefix`: never log a
// MultipartForm or its prefix.
struct MultipartForm {
  std::string boundary;
  std::string prefix;        // api_id, api_secret, auto_rotate and the source part's head
  std::string file_path;     // the file streamed after `prefix`; empty when none
  std::uint64_t file_size = 0;  // size of the file part (streamed or in memory)
  // The file part's bytes when held in memory (a PreparedImage); then
  // file_path is empty and nothing is read from disk while sending.
  std::shared_ptr<const std::string> file_bytes;
  std::string suffix;        // end of the source part and the closing boundary

  std::uint64_t content_length() const { return prefix.size() + file_size + suffix.size(); }
  std::string content_type() const { return "multipart/form-data; boundary=" + boundary; }
};

// A boundary of 32 random alphanumerics after a fixed "lfbatch-" tag; the
// chance that it occurs in a photo is negligible.
std::string random_multipart_boundary();

// The Content-Type of a file part from the file name's extension (jpg/jpeg,
// png, bmp, gif, tif/tiff, webp; case-insensitive); application/octet-stream
// otherwise.
std::string_view content_type_for_file(std::string_view file_name);

// Lays out the form for `job`: parts api_id, api_secret, auto_rotate
// ("true"/"false"), then file (path jobs: filename is the base name, the
// file is stat'ed for its size), file_url (url jobs) or file_id (file_id
// jobs). Errors (file missing, not a regular file, unreadable) name the path.
Result<MultipartForm> build_multipart_form(const Job& job, std::string_view api_id,
                                           std::string_view api_secret,
                                           std::string boundary);

// The form for `job` sending `payload`: file_id = payload.image_id when set;
// else the prepared image's bytes with its file_name and content_type when
// set; else as build_multipart_form. Never touches the disk for a payload.
Result<MultipartForm> build_multipart_form(const Job& job, const Payload& payload,
                                           std::string_view api_id,
                                           std::string_view api_secret,
                                           std::string boundary);

}  // namespace lf
