#include "emulator/multipart_parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "image/synthetic_image.h"

namespace lf {
namespace {

using namespace std::string_literals;

const FormPart* find(const std::vector<FormPart>& parts, std::string_view name) {
  for (const FormPart& p : parts) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<FormPart> parse_ok(std::string_view body, std::string_view content_type) {
  auto r = parse_multipart(body, content_type);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : std::vector<FormPart>{};
}

std::string parse_error(std::string_view body, std::string_view content_type) {
  auto r = parse_multipart(body, content_type);
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.error().message;
}

// What `curl -F api_id=ID -F file=@face.jpg` sends.
TEST(MultipartParser, ParsesCurlStyle) {
  const std::string jpeg = make_image(ImageFormat::kJpeg, 64, 64);
  const std::string body =
      "--------------------------d74496d66958873e\r\n"
      "Content-Disposition: form-data; name=\"api_id\"\r\n\r\n"
      "ID\r\n"
      "--------------------------d74496d66958873e\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"face.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n" +
      jpeg +
      "\r\n--------------------------d74496d66958873e--\r\n";
  const auto parts =
      parse_ok(body, "multipart/form-data; boundary=------------------------d74496d66958873e");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].name, "api_id");
  EXPECT_EQ(parts[0].body, "ID");
  EXPECT_FALSE(parts[0].filename.has_value());
  EXPECT_EQ(parts[1].name, "file");
  EXPECT_EQ(parts[1].filename, "face.jpg");
  EXPECT_EQ(parts[1].content_type, "image/jpeg");
  EXPECT_EQ(parts[1].body, jpeg);
  // The views point into the body, not into copies.
  EXPECT_GE(parts[1].body.data(), body.data());
  EXPECT_LE(parts[1].body.data() + parts[1].body.size(), body.data() + body.size());
}

// Python requests: files first or data first, filename is the path's base.
TEST(MultipartParser, ParsesRequestsStyle) {
  const std::string body =
      "--3e4e0e6d1bbd44f2a2b1e1b0c8f5b6e2\r\n"
      "Content-Disposition: form-data; name=\"api_id\"\r\n\r\nID\r\n"
      "--3e4e0e6d1bbd44f2a2b1e1b0c8f5b6e2\r\n"
      "Content-Disposition: form-data; name=\"api_secret\"\r\n\r\nSECRET\r\n"
      "--3e4e0e6d1bbd44f2a2b1e1b0c8f5b6e2\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"path\"\r\n\r\n"
      "\x89PNG\r\n\x1a\n binary\r\n"
      "--3e4e0e6d1bbd44f2a2b1e1b0c8f5b6e2--\r\n";
  const auto parts =
      parse_ok(body, "multipart/form-data; boundary=3e4e0e6d1bbd44f2a2b1e1b0c8f5b6e2");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(find(parts, "api_secret")->body, "SECRET");
  EXPECT_EQ(find(parts, "file")->body, "\x89PNG\r\n\x1a\n binary");
  EXPECT_EQ(find(parts, "file")->content_type, "");
}

// Java (Apache HttpClient MultipartEntity): quoted-less boundary with
// '_' and '-', Content-Type with charset, Content-Transfer-Encoding.
TEST(MultipartParser, ParsesJavaHttpClientStyle) {
  const std::string body =
      "--Ab3_Xy-9Zq\r\n"
      "Content-Disposition: form-data; name=\"api_id\"\r\n"
      "Content-Type: text/plain; charset=US-ASCII\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n"
      "ID\r\n"
      "--Ab3_Xy-9Zq\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"face.jpg\"\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: binary\r\n\r\n"
      "JPEGDATA\r\n"
      "--Ab3_Xy-9Zq--\r\n";
  const auto parts = parse_ok(body, "multipart/form-data; boundary=Ab3_Xy-9Zq");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].content_type, "text/plain; charset=US-ASCII");
  EXPECT_EQ(parts[1].content_type, "application/octet-stream");
  EXPECT_EQ(parts[1].body, "JPEGDATA");
}

// LinkFace's mobile SDK: lower-case header names, a per-part Content-Type
// with charset and a per-part Content-Length, the file part named "file".
TEST(MultipartParser, ParsesMobileSdkStyleWithPerPartContentLength) {
  const std::string body =
      "--lfsdk-boundary\r\n"
      "content-disposition: form-data; name=\"api_id\"\r\n"
      "content-type: text/plain; charset=UTF-8\r\n"
      "content-length: 2\r\n\r\n"
      "ID\r\n"
      "--lfsdk-boundary\r\n"
      "CONTENT-DISPOSITION: FORM-DATA; NAME=\"file\"; FILENAME=\"file\"\r\n"
      "Content-Type: image/jpeg\r\n"
      "Content-Length: 5\r\n\r\n"
      "\xFF\xD8\xFF\xD9\x00\r\n"s
      "--lfsdk-boundary--\r\n";
  const auto parts = parse_ok(body, "multipart/form-data; charset=UTF-8; boundary=\"lfsdk-boundary\"");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].body, "ID");
  EXPECT_EQ(parts[0].content_type, "text/plain; charset=UTF-8");
  EXPECT_EQ(parts[1].name, "file");
  EXPECT_EQ(parts[1].filename, "file");
  EXPECT_EQ(parts[1].body, std::string_view("\xFF\xD8\xFF\xD9\x00", 5));
}

TEST(MultipartParser, BoundaryQuotedOrUnquotedAnywhereAmongParameters) {
  const std::string body = "--abc\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--abc--";
  for (const char* ct : {"multipart/form-data; boundary=abc", "multipart/form-data;boundary=\"abc\"",
                         "Multipart/Form-Data; charset=utf-8; BOUNDARY=abc",
                         "multipart/form-data ; boundary = abc ; foo=bar"}) {
    const auto parts = parse_ok(body, ct);
    ASSERT_EQ(parts.size(), 1u) << ct;
    EXPECT_EQ(parts[0].name, "x");
    EXPECT_EQ(parts[0].body, "1");
  }
}

TEST(MultipartParser, UnquotedAndEscapedParameterValues) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=file; filename=a.jpg\r\n\r\nA\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"q\"; filename=\"say \\\"hi\\\";.jpg\"\r\n\r\nB\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"u\"; filename*=UTF-8''%E8%BA%AB%E4%BB%BD.jpg\r\n\r\nC\r\n"
      "--b--\r\n";
  const auto parts = parse_ok(body, "multipart/form-data; boundary=b");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].filename, "a.jpg");
  EXPECT_EQ(parts[1].filename, "say \"hi\";.jpg");
  EXPECT_EQ(parts[2].filename, "\xE8\xBA\xAB\xE4\xBB\xBD.jpg");
}

TEST(MultipartParser, ToleratesBareLineFeeds) {
  const std::string body =
      "--b\nContent-Disposition: form-data; name=\"api_id\"\n\nID\n"
      "--b\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\n\nDATA\n--b--\n";
  const auto parts = parse_ok(body, "multipart/form-data; boundary=b");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].body, "ID");
  EXPECT_EQ(parts[1].body, "DATA");
}

TEST(MultipartParser, IgnoresPreambleEpilogueAndTransportPadding) {
  const std::string body =
      "This is the preamble.\r\nIt is ignored.\r\n"
      "--b  \r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue\r\n"
      "--b--\r\nThis is the epilogue, also ignored. --b\r\n";
  const auto parts = parse_ok(body, "multipart/form-data; boundary=b");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body, "value");
}

TEST(MultipartParser, BinaryContentWithPartialBoundaryIsKept) {
  // Content holding the boundary text in ways that are not delimiters.
  std::string content = "a\r\n--bound";        // at the end: followed by "ary2"
  content += "ary2 and \r\n--boundaryX and --boundary mid-line\r\n--boundar\r\n";
  content += std::string("\0\xFF\r\n-", 5);
  const std::string body = "--boundary\r\nContent-Disposition: form-data; name=\"file\"; "
                           "filename=\"x.bin\"\r\n\r\n" +
                           content + "\r\n--boundary--";
  const auto parts = parse_ok(body, "multipart/form-data; boundary=boundary");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body, content);
}

TEST(MultipartParser, EmptyValuesAndEmptyFiles) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n";
  const auto parts = parse_ok(body, "multipart/form-data; boundary=b");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].body, "");
  EXPECT_EQ(parts[1].filename, "");
  EXPECT_EQ(parts[1].body, "");
}

TEST(MultipartParser, BlankLineSharedWithTheDelimiterMeansEmptyContent) {
  const std::string body = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n--b--";
  const auto parts = parse_ok(body, "multipart/form-data; boundary=b");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body, "");
}

TEST(MultipartParser, NoPartsAtAll) {
  EXPECT_TRUE(parse_ok("--b--\r\n", "multipart/form-data; boundary=b").empty());
}

TEST(MultipartParser, RejectsOtherContentTypes) {
  EXPECT_NE(parse_error("a=b", "application/x-www-form-urlencoded").find("expected multipart/form-data"),
            std::string::npos);
  EXPECT_NE(parse_error("", "").find("expected multipart/form-data"), std::string::npos);
}

TEST(MultipartParser, RejectsMissingBoundaryParameter) {
  EXPECT_NE(parse_error("--b--", "multipart/form-data").find("no boundary"), std::string::npos);
  EXPECT_NE(parse_error("--b--", "multipart/form-data; boundary=\"\"").find("no boundary"),
            std::string::npos);
  EXPECT_NE(parse_error("--b--", "multipart/form-data; boundary=" + std::string(300, 'x'))
                .find("longer than"),
            std::string::npos);
}

TEST(MultipartParser, RejectsBodyWithoutTheBoundary) {
  EXPECT_NE(parse_error("hello", "multipart/form-data; boundary=b").find("does not contain the boundary"),
            std::string::npos);
}

TEST(MultipartParser, RejectsMissingClosingDelimiter) {
  const std::string err = parse_error(
      "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue",
      "multipart/form-data; boundary=b");
  EXPECT_NE(err.find("closing delimiter '--b--'"), std::string::npos) << err;
  EXPECT_NE(err.find("part 1"), std::string::npos) << err;
}

TEST(MultipartParser, RejectsPartWithoutName) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n"
      "--b\r\nContent-Disposition: form-data; filename=\"f.jpg\"\r\n\r\n2\r\n--b--";
  const std::string err = parse_error(body, "multipart/form-data; boundary=b");
  EXPECT_NE(err.find("part 2: Content-Disposition has no name"), std::string::npos) << err;
}

TEST(MultipartParser, RejectsPartWithoutContentDisposition) {
  const std::string err = parse_error("--b\r\nContent-Type: text/plain\r\n\r\n1\r\n--b--",
                                      "multipart/form-data; boundary=b");
  EXPECT_NE(err.find("no Content-Disposition"), std::string::npos) << err;
}

TEST(MultipartParser, RejectsNonFormDataDisposition) {
  const std::string err = parse_error("--b\r\nContent-Disposition: attachment; name=x\r\n\r\n1\r\n--b--",
                                      "multipart/form-data; boundary=b");
  EXPECT_NE(err.find("expected form-data"), std::string::npos) << err;
}

TEST(MultipartParser, RejectsHeaderSectionWithoutBlankLine) {
  const std::string err =
      parse_error("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n--b--",
                  "multipart/form-data; boundary=b");
  EXPECT_NE(err.find("not ended by a blank line"), std::string::npos) << err;
  const std::string err2 =
      parse_error("--b\r\nContent-Disposition: form-data; name=\"x\"\r\nvalue\r\n--b--",
                  "multipart/form-data; boundary=b");
  EXPECT_NE(err2.find("malformed header line 'value'"), std::string::npos) << err2;
}

TEST(MultipartParser, RejectsEmptyPart) {
  const std::string err = parse_error("--b\r\n--b--", "multipart/form-data; boundary=b");
  EXPECT_NE(err.find("part 1: part is empty"), std::string::npos) << err;
}

TEST(MultipartParser, RejectsHugeHeaderSection) {
  const std::string body = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\nX-Long: " +
                           std::string(20000, 'a') + "\r\n\r\n1\r\n--b--";
  EXPECT_NE(parse_error(body, "multipart/form-data; boundary=b").find("header section is longer"),
            std::string::npos);
}

TEST(MultipartParser, CapsTheNumberOfParts) {
  std::string body;
  for (std::size_t i = 0; i <= kMaxFormParts; ++i) {
    body += "--b\r\nContent-Disposition: form-data; name=\"p" + std::to_string(i) + "\"\r\n\r\nv\r\n";
  }
  body += "--b--";
  EXPECT_NE(parse_error(body, "multipart/form-data; boundary=b").find("more than 64 parts"),
            std::string::npos);
  // Exactly the cap is fine.
  std::string ok;
  for (std::size_t i = 0; i < kMaxFormParts; ++i) {
    ok += "--b\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nv\r\n";
  }
  EXPECT_EQ(parse_ok(ok + "--b--", "multipart/form-data; boundary=b").size(), kMaxFormParts);
}

TEST(MultipartParser, EveryTruncationFailsCleanlyOrParsesFewerBytes) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"api_id\"\r\n\r\nID\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n"
      "Content-Type: image/png\r\n\r\n" +
      make_image(ImageFormat::kPng, 10, 10) + "\r\n--b--\r\n";
  for (std::size_t n = 0; n < body.size(); ++n) {
    const std::string cut = body.substr(0, n);
    auto r = parse_multipart(cut, "multipart/form-data; boundary=b");
    if (r.ok()) {
      // Only cuts inside the epilogue or in the final "\r\n" can succeed.
      EXPECT_GE(n, body.size() - 2) << n;
    } else {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

TEST(MultipartParser, RandomMutationsNeverCrashAndViewsStayInside) {
  const std::string body =
      "pre\r\n--xyz\r\nContent-Disposition: form-data; name=\"api_id\"\r\n\r\nID\r\n"
      "--xyz\nContent-Disposition: form-data; name=file; filename*=UTF-8''a%20b\r\n"
      "Content-Type: image/gif\r\n\r\n" +
      make_image(ImageFormat::kGif, 12, 12) + "\r\n--xyz--\r\n";
  const std::string alphabet = "-\r\n\\\";:=xyz ";
  std::mt19937_64 rng(99);
  for (int round = 0; round < 5000; ++round) {
    std::string m = body;
    for (int i = 0, n = 1 + static_cast<int>(rng() % 6); i < n; ++i) {
      const std::size_t at = rng() % m.size();
      switch (rng() % 3) {
        case 0: m[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: m.erase(at, 1 + rng() % 4); break;
        default: m.insert(at, 1, alphabet[rng() % alphabet.size()]);
      }
      if (m.empty()) m = "-";
    }
    // An exact-size heap copy, so that ASan sees any read past the end.
    std::unique_ptr<char[]> exact(new char[m.size()]);
    std::copy(m.begin(), m.end(), exact.get());
    const std::string_view view(exact.get(), m.size());
    auto r = parse_multipart(view, "multipart/form-data; boundary=xyz");
    if (!r.ok()) continue;
    for (const FormPart& p : *r) {
      EXPECT_FALSE(p.name.empty());
      EXPECT_GE(p.body.data(), view.data());
      EXPECT_LE(p.body.data() + p.body.size(), view.data() + view.size());
    }
  }
}

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ASCII"));
  EXPECT_TRUE(is_valid_utf8("\xE8\xBA\xAB\xE4\xBB\xBD\xE8\xAF\x81"));  // 身份证
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));                      // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xC2\x80\xDF\xBF\xEF\xBF\xBF\xF4\x8F\xBF\xBF"));
}

TEST(Utf8, RejectsMalformedText) {
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("abc\xE8\xBA"));       // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xD6\xD0\xCE\xC4"));  // GBK "中文"
}

}  // namespace
}  // namespace lf

// Bodies captured from the real clients the spec's samples use, posting
// testdata/multipart/face.png: curl -F, HTTPie -f, Python requests.

namespace lf {
namespace {

std::string read_testdata(const std::string& name) {
  std::ifstream in(std::string(LF_EMULATOR_TESTDATA) + "/multipart/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class CapturedClient : public testing::TestWithParam<const char*> {};

TEST_P(CapturedClient, BodyParsesToTheUploadedFile) {
  const std::string png = read_testdata("face.png");
  ASSERT_EQ(png.substr(0, 4), "\x89PNG");
  const std::string body = read_testdata(std::string(GetParam()) + ".body");
  const std::string content_type = read_testdata(std::string(GetParam()) + ".ctype");
  ASSERT_FALSE(body.empty());
  auto parts = parse_multipart(body, content_type);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  const FormPart* file = find(*parts, "file");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->filename, "face.png");
  EXPECT_EQ(file->body, png);
  if (const FormPart* id = find(*parts, "api_id")) {
    EXPECT_EQ(id->body, "ID");
  }
}

INSTANTIATE_TEST_SUITE_P(MultipartParser, CapturedClient,
                         testing::Values("curl", "httpie", "requests"));

}  // namespace
}  // namespace lf
