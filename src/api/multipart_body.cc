// Layout of the multipart/form-data request body.
#include "api/multipart_body.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <random>

namespace lf {
namespace {

// A form field or file name inside a quoted-string of Content-Disposition:
// quotes and line breaks percent-encoded, as browsers do (WHATWG HTML).
std::string quote_escape(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '"') out += "%22";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else out += c;
  }
  return out;
}

void append_field(std::string& out, std::string_view boundary, std::string_view name,
                  std::string_view value) {
  out += "--";
  out += boundary;
  out += "\r\nContent-Disposition: form-data; name=\"";
  out += name;
  out += "\"\r\n\r\n";
  out += value;
  out += "\r\n";
}

std::string base_name(std::string_view path) {
  const auto slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// A form with the parts every request has: api_id, api_secret, auto_rotate.
MultipartForm form_head(const Job& job, std::string_view api_id, std::string_view api_secret,
                        std::string boundary) {
  MultipartForm form;
  form.boundary = std::move(boundary);
  append_field(form.prefix, form.boundary, "api_id", api_id);
  append_field(form.prefix, form.boundary, "api_secret", api_secret);
  append_field(form.prefix, form.boundary, "auto_rotate", job.auto_rotate ? "true" : "false");
  return form;
}

}  // namespace

std::string random_multipart_boundary() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(0, sizeof(kAlphabet) - 2);
  std::string boundary = "lfbatch-";
  for (int i = 0; i < 32; ++i) boundary += kAlphabet[pick(rng)];
  return boundary;
}

std::string_view content_type_for_file(std::string_view file_name) {
  const auto dot = file_name.find_last_of('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string ext(file_name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == "jpg" || ext == "jpeg" || ext == "jpe") return "image/jpeg";
  if (ext == "png") return "image/png";
  if (ext == "bmp") return "image/bmp";
  if (ext == "gif") return "image/gif";
  if (ext == "tif" || ext == "tiff") return "image/tiff";
  if (ext == "webp") return "image/webp";
  return "application/octet-stream";
}

Result<MultipartForm> build_multipart_form(const Job& job, const Payload& payload,
                                           std::string_view api_id,
                                           std::string_view api_secret,
                                           std::string boundary) {
  if (payload.image_id.empty() && payload.image == nullptr) {
    return build_multipart_form(job, api_id, api_secret, std::move(boundary));
  }
  MultipartForm form = form_head(job, api_id, api_secret, std::move(boundary));
  const std::string& b = form.boundary;
  if (!payload.image_id.empty()) {
    append_field(form.prefix, b, "file_id", payload.image_id);
  } else {
    const PreparedImage& image = *payload.image;
    form.file_bytes = image.bytes;
    form.file_size = image.bytes->size();
    form.prefix += "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
                   quote_escape(image.file_name) + "\"\r\nContent-Type: " + image.content_type +
                   "\r\n\r\n";
    form.suffix = "\r\n";
  }
  form.suffix += "--" + b + "--\r\n";
  return form;
}

Result<MultipartForm> build_multipart_form(const Job& job, std::string_view api_id,
                                           std::string_view api_secret,
                                           std::string boundary) {
  MultipartForm form = form_head(job, api_id, api_secret, std::move(boundary));
  const std::string& b = form.boundary;

  switch (job.kind) {
    case SourceKind::kPath: {
      struct stat st {};
      if (::stat(job.source.c_str(), &st) != 0) {
        return Error{"cannot read " + job.source + ": " + std::strerror(errno)};
      }
      if (!S_ISREG(st.st_mode)) {
        return Error{"cannot read " + job.source + ": not a regular file"};
      }
      // Opened once here so that an unreadable file fails before any
      // connection is used; the body writer opens it again to stream it.
      const int fd = ::open(job.source.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return Error{"cannot read " + job.source + ": " + std::strerror(errno)};
      ::close(fd);
      form.file_path = job.source;
      form.file_size = static_cast<std::uint64_t>(st.st_size);
      const std::string name = base_name(job.source);
      form.prefix += "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
                     quote_escape(name) + "\"\r\nContent-Type: " +
                     std::string(content_type_for_file(name)) + "\r\n\r\n";
      form.suffix = "\r\n";
      break;
    }
    case SourceKind::kUrl:
      append_field(form.prefix, b, "file_url", job.source);
      break;
    case SourceKind::kFileId:
      append_field(form.prefix, b, "file_id", job.source);
      break;
  }
  form.suffix += "--" + b + "--\r\n";
  return form;
}

}  // namespace lf
