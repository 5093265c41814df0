// Tests of the multipart/form-data layout and the streaming Beast body.
#include "api/multipart_body.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/message.hpp>
#include <gtest/gtest.h>

#include "api/multipart_body_beast.h"

namespace lf {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "lf_multipart_XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path path() const { return path_; }

 private:
  fs::path path_;
};

std::string write_file(const fs::path& path, std::size_t size) {
  std::string content(size, '\0');
  for (std::size_t i = 0; i < size; ++i) content[i] = static_cast<char>((i * 131 + 7) % 256);
  std::ofstream(path, std::ios::binary).write(content.data(),
                                              static_cast<std::streamsize>(content.size()));
  return content;
}

Job path_job(const fs::path& path, bool auto_rotate = false) {
  Job job;
  job.id = 1;
  job.kind = SourceKind::kPath;
  job.source = path.string();
  job.auto_rotate = auto_rotate;
  return job;
}

// Drives the body writer as Beast's serializer does; records each buffer.
struct Drained {
  std::string bytes;
  std::vector<std::size_t> buffer_sizes;
  boost::beast::error_code ec;
};

Drained drain(MultipartBody::value_type& body) {
  Drained out;
  http::request<MultipartBody> unused_header;
  MultipartBody::writer writer(unused_header.base(), body);
  writer.init(out.ec);
  if (out.ec) return out;
  for (;;) {
    auto result = writer.get(out.ec);
    if (out.ec || !result) break;
    const auto& buffer = result->first;
    out.buffer_sizes.push_back(buffer.size());
    out.bytes.append(static_cast<const char*>(buffer.data()), buffer.size());
    if (!result->second) break;
  }
  return out;
}

// One part of a multipart body, split by a parser independent of the
// builder: headers and content.
struct Part {
  std::string headers;
  std::string content;
};

// Parses `body` per RFC 7578 / RFC 2046: parts between "--boundary\r\n"
// delimiters, closed by "--boundary--\r\n". Fails the test when the framing
// is wrong.
std::vector<Part> parse_multipart(const std::string& body, const std::string& boundary) {
  std::vector<Part> parts;
  const std::string first = "--" + boundary + "\r\n";
  const std::string delimiter = "\r\n--" + boundary;
  EXPECT_EQ(body.compare(0, first.size(), first), 0) << "body must start with the boundary";
  std::size_t pos = first.size();
  for (;;) {
    const std::size_t end = body.find(delimiter, pos);
    if (end == std::string::npos) {
      ADD_FAILURE() << "unterminated part";
      return parts;
    }
    const std::string part = body.substr(pos, end - pos);
    const std::size_t split = part.find("\r\n\r\n");
    EXPECT_NE(split, std::string::npos) << "part without a blank line after its headers";
    parts.push_back({part.substr(0, split), part.substr(split + 4)});
    pos = end + delimiter.size();
    if (body.compare(pos, 4, "--\r\n") == 0) {
      EXPECT_EQ(pos + 4, body.size()) << "bytes after the closing boundary";
      return parts;
    }
    EXPECT_EQ(body.compare(pos, 2, "\r\n"), 0);
    pos += 2;
  }
}

TEST(RandomMultipartBoundary, IsLongTokenAndDiffersEachTime) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string b = random_multipart_boundary();
    EXPECT_EQ(b.size(), 40u);
    for (char c : b) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-');
    seen.insert(b);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(ContentTypeForFile, ByExtensionCaseInsensitive) {
  EXPECT_EQ(content_type_for_file("a.JPG"), "image/jpeg");
  EXPECT_EQ(content_type_for_file("a.jpeg"), "image/jpeg");
  EXPECT_EQ(content_type_for_file("a.png"), "image/png");
  EXPECT_EQ(content_type_for_file("a.bmp"), "image/bmp");
  EXPECT_EQ(content_type_for_file("a.gif"), "image/gif");
  EXPECT_EQ(content_type_for_file("a.tif"), "image/tiff");
  EXPECT_EQ(content_type_for_file("a.TIFF"), "image/tiff");
  EXPECT_EQ(content_type_for_file("a.heic"), "application/octet-stream");
  EXPECT_EQ(content_type_for_file("noext"), "application/octet-stream");
}

TEST(BuildMultipartForm, FileJobMatchesHandComputedLayout) {
  TempDir dir;
  const std::string content = "JPEGDATA\r\n--not-the-boundary";
  std::ofstream(dir.path() / "photo 1.jpg", std::ios::binary) << content;
  auto form = build_multipart_form(path_job(dir.path() / "photo 1.jpg", true), "my-id",
                                   "my-secret", "BOUNDARY");
  ASSERT_TRUE(form.ok()) << form.error().message;
  const std::string expected =
      "--BOUNDARY\r\n"
      "Content-Disposition: form-data; name=\"api_id\"\r\n\r\n"
      "my-id\r\n"
      "--BOUNDARY\r\n"
      "Content-Disposition: form-data; name=\"api_secret\"\r\n\r\n"
      "my-secret\r\n"
      "--BOUNDARY\r\n"
      "Content-Disposition: form-data; name=\"auto_rotate\"\r\n\r\n"
      "true\r\n"
      "--BOUNDARY\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"photo 1.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n" +
      content +
      "\r\n"
      "--BOUNDARY--\r\n";
  MultipartBody::value_type body{form.value(), {}};
  const Drained drained = drain(body);
  ASSERT_FALSE(drained.ec) << drained.ec.message();
  EXPECT_EQ(drained.bytes, expected);
  EXPECT_EQ(form->content_length(), expected.size());
  EXPECT_EQ(form->content_type(), "multipart/form-data; boundary=BOUNDARY");
}

TEST(BuildMultipartForm, UrlAndFileIdJobsHaveNoFilePart) {
  Job url_job;
  url_job.kind = SourceKind::kUrl;
  url_job.source = "https://img.example.com/a.jpg";
  auto form = build_multipart_form(url_job, "id", "secret", "B");
  ASSERT_TRUE(form.ok());
  MultipartBody::value_type body{form.value(), {}};
  const Drained drained = drain(body);
  const auto parts = parse_multipart(drained.bytes, "B");
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[2].content, "false");
  EXPECT_EQ(parts[3].headers, "Content-Disposition: form-data; name=\"file_url\"");
  EXPECT_EQ(parts[3].content, "https://img.example.com/a.jpg");
  EXPECT_EQ(drained.bytes.size(), form->content_length());

  Job id_job;
  id_job.kind = SourceKind::kFileId;
  id_job.source = "b379f72402624858b895a955ec31ed8f";
  auto id_form = build_multipart_form(id_job, "id", "secret", "B");
  ASSERT_TRUE(id_form.ok());
  MultipartBody::value_type id_body{id_form.value(), {}};
  const auto id_parts = parse_multipart(drain(id_body).bytes, "B");
  ASSERT_EQ(id_parts.size(), 4u);
  EXPECT_EQ(id_parts[3].headers, "Content-Disposition: form-data; name=\"file_id\"");
  EXPECT_EQ(id_parts[3].content, "b379f72402624858b895a955ec31ed8f");
}

TEST(BuildMultipartForm, APreparedImageIsSentFromMemoryUnderItsOwnNameAndType) {
  // The job names a file that does not exist: nothing is read from disk.
  Job job = path_job("/nonexistent/\xd5\xc5\xc8\xfd-110101199003071234.jpg", true);
  PreparedImage image;
  image.bytes = std::make_shared<const std::string>("\x89PNG pretend bytes");
  image.file_name = "image.png";
  image.content_type = "image/png";
  Payload payload;
  payload.image = &image;
  auto form = build_multipart_form(job, payload, "id", "secret", "B");
  ASSERT_TRUE(form.ok()) << form.error().message;
  EXPECT_TRUE(form->file_path.empty());
  MultipartBody::value_type body{form.value(), {}};
  const Drained drained = drain(body);
  const auto parts = parse_multipart(drained.bytes, "B");
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[2].content, "true");
  EXPECT_EQ(parts[3].headers,
            "Content-Disposition: form-data; name=\"file\"; filename=\"image.png\"\r\n"
            "Content-Type: image/png");
  EXPECT_EQ(parts[3].content, *image.bytes);
  EXPECT_EQ(drained.bytes.size(), form->content_length());
  EXPECT_EQ(drained.bytes.find("110101199003071234"), std::string::npos);
}

TEST(BuildMultipartForm, AnImageIdIsSentAsFileIdInsteadOfTheBytes) {
  Job job = path_job("/nonexistent/a.jpg");
  PreparedImage image;
  image.bytes = std::make_shared<const std::string>("bytes that must not be sent");
  Payload payload;
  payload.image = &image;
  payload.image_id = "b379f72402624858b895a955ec31ed8f";
  auto form = build_multipart_form(job, payload, "id", "secret", "B");
  ASSERT_TRUE(form.ok());
  MultipartBody::value_type body{form.value(), {}};
  const Drained drained = drain(body);
  const auto parts = parse_multipart(drained.bytes, "B");
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[3].headers, "Content-Disposition: form-data; name=\"file_id\"");
  EXPECT_EQ(parts[3].content, payload.image_id);
  EXPECT_EQ(drained.bytes.find("must not be sent"), std::string::npos);
}

TEST(BuildMultipartForm, QuoteInFileNameIsEscaped) {
  TempDir dir;
  write_file(dir.path() / "a\"b.png", 3);
  auto form = build_multipart_form(path_job(dir.path() / "a\"b.png"), "i", "s", "B");
  ASSERT_TRUE(form.ok());
  EXPECT_NE(form->prefix.find("filename=\"a%22b.png\""), std::string::npos);
}

TEST(BuildMultipartForm, MissingFileIsAnErrorNamingThePath) {
  auto form = build_multipart_form(path_job("/nonexistent/lf/photo.jpg"), "i", "s", "B");
  ASSERT_FALSE(form.ok());
  EXPECT_NE(form.error().message.find("/nonexistent/lf/photo.jpg"), std::string::npos);
  EXPECT_NE(form.error().message.find("No such file"), std::string::npos);
}

TEST(BuildMultipartForm, DirectoryIsAnError) {
  TempDir dir;
  auto form = build_multipart_form(path_job(dir.path()), "i", "s", "B");
  ASSERT_FALSE(form.ok());
  EXPECT_NE(form.error().message.find("not a regular file"), std::string::npos);
}

TEST(MultipartBodyWriter, StreamsAFiveMegabyteFileInBoundedChunks) {
  TempDir dir;
  const std::size_t size = 5 * 1024 * 1024 + 123;
  const std::string content = write_file(dir.path() / "big.jpg", size);
  auto form = build_multipart_form(path_job(dir.path() / "big.jpg"), "id", "secret",
                                   random_multipart_boundary());
  ASSERT_TRUE(form.ok());
  const std::string boundary = form->boundary;
  MultipartBody::value_type body{form.value(), {}};
  const Drained drained = drain(body);
  ASSERT_FALSE(drained.ec) << drained.ec.message();

  // prefix + ceil(size / chunk) file chunks + suffix, none larger than a chunk
  // except the prefix and suffix, which are small.
  const std::size_t file_chunks = (size + kMultipartChunkSize - 1) / kMultipartChunkSize;
  ASSERT_EQ(drained.buffer_sizes.size(), file_chunks + 2);
  for (std::size_t i = 1; i + 1 < drained.buffer_sizes.size(); ++i) {
    EXPECT_LE(drained.buffer_sizes[i], kMultipartChunkSize);
  }
  EXPECT_LT(drained.buffer_sizes.front(), 1024u);
  EXPECT_LT(drained.buffer_sizes.back(), 1024u);

  EXPECT_EQ(drained.bytes.size(), body.form.content_length());
  const auto parts = parse_multipart(drained.bytes, boundary);
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[3].content, content);
}

TEST(MultipartBodyWriter, SerializerWritesContentLengthBytesAfterHeaders) {
  TempDir dir;
  write_file(dir.path() / "p.png", 200'000);
  auto form = build_multipart_form(path_job(dir.path() / "p.png"), "id", "secret", "XYZ");
  ASSERT_TRUE(form.ok());
  http::request<MultipartBody> req{http::verb::post, "/x", 11};
  req.set(http::field::content_type, form->content_type());
  req.body().form = form.value();
  req.prepare_payload();
  ASSERT_EQ(req[http::field::content_length], std::to_string(form->content_length()));

  http::request_serializer<MultipartBody> sr{req};
  std::string wire;
  boost::beast::error_code ec;
  do {
    sr.next(ec, [&](boost::beast::error_code&, const auto& buffers) {
      std::size_t n = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
        wire.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      sr.consume(n);
    });
    ASSERT_FALSE(ec) << ec.message();
  } while (!sr.is_done());
  const auto header_end = wire.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos);
  EXPECT_EQ(wire.size() - header_end - 4, form->content_length());
}

TEST(MultipartBodyWriter, FileRemovedAfterLayoutIsALocalFileError) {
  TempDir dir;
  write_file(dir.path() / "gone.jpg", 10);
  auto form = build_multipart_form(path_job(dir.path() / "gone.jpg"), "i", "s", "B");
  ASSERT_TRUE(form.ok());
  fs::remove(dir.path() / "gone.jpg");
  MultipartBody::value_type body{form.value(), {}};
  const Drained drained = drain(body);
  EXPECT_TRUE(is_local_file_error(drained.ec));
  EXPECT_NE(body.error_detail.find((dir.path() / "gone.jpg").string()), std::string::npos);
  EXPECT_EQ(body.error_detail.find("secret"), std::string::npos);
}

TEST(MultipartBodyWriter, FileTruncatedAfterLayoutIsALocalFileError) {
  TempDir dir;
  write_file(dir.path() / "short.jpg", 100'000);
  auto form = build_multipart_form(path_job(dir.path() / "short.jpg"), "i", "s", "B");
  ASSERT_TRUE(form.ok());
  fs::resize_file(dir.path() / "short.jpg", 10);
  MultipartBody::value_type body{form.value(), {}};
  const Drained drained = drain(body);
  EXPECT_EQ(drained.ec, make_error_code(MultipartError::kFileShrank));
  EXPECT_TRUE(is_local_file_error(drained.ec));
}

TEST(MultipartBodyWriter, CanBeWrittenTwiceForARetry) {
  TempDir dir;
  write_file(dir.path() / "r.jpg", 70'000);
  auto form = build_multipart_form(path_job(dir.path() / "r.jpg"), "i", "s", "B");
  ASSERT_TRUE(form.ok());
  MultipartBody::value_type body{form.value(), {}};
  const Drained first = drain(body);
  const Drained second = drain(body);
  EXPECT_EQ(first.bytes, second.bytes);
  EXPECT_EQ(first.bytes.size(), form->content_length());
}

}  // namespace
}  // namespace lf
