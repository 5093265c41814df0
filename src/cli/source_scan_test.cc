// Source checking and expansion: paths, directories, URLs, image_ids, lists,
// and the chunked hand-off.
#include "cli/source_scan.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lf {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

ScanOptions options(bool recursive, std::size_t chunk_size = 10'000) {
  ScanOptions o;
  o.recursive = recursive;
  o.chunk_size = chunk_size;
  return o;
}

class SourceScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lf_scan_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    for (auto& e : fs::recursive_directory_iterator(dir_, ec)) {
      fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(dir_);
  }
  std::string touch(const std::string& rel) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
    return p.string();
  }
  SourceScanner scanner(ScanOptions options = {}) {
    return SourceScanner(
        std::move(options),
        [this](std::span<const NewJob> jobs) -> Status {
          chunk_sizes_.push_back(jobs.size());
          jobs_.insert(jobs_.end(), jobs.begin(), jobs.end());
          return {};
        },
        [this](const Rejection& r) { rejections_.push_back(r); });
  }
  std::set<std::string> sources() const {
    std::set<std::string> s;
    for (const auto& j : jobs_) s.insert(j.source);
    return s;
  }

  fs::path dir_;
  std::vector<NewJob> jobs_;
  std::vector<std::size_t> chunk_sizes_;
  std::vector<Rejection> rejections_;
};

TEST_F(SourceScanTest, ExistingFileIsQueuedAsAbsolutePath) {
  const std::string file = touch("a.jpg");
  ScanOptions o;
  o.auto_rotate = true;
  o.tag = "batch1";
  auto s = scanner(o);
  ASSERT_TRUE(s.add(file).ok());
  ASSERT_TRUE(s.finish().ok());
  ASSERT_EQ(jobs_.size(), 1u);
  EXPECT_EQ(jobs_[0].kind, SourceKind::kPath);
  EXPECT_EQ(jobs_[0].source, file);
  EXPECT_TRUE(jobs_[0].auto_rotate);
  EXPECT_EQ(jobs_[0].tag, "batch1");
  EXPECT_TRUE(rejections_.empty());
}

TEST_F(SourceScanTest, RelativePathIsMadeAbsoluteAndNormal) {
  touch("sub/b.png");
  const fs::path old = fs::current_path();
  fs::current_path(dir_);
  auto s = scanner();
  const Status st = s.add("./sub/../sub/b.png");
  const Status fin = s.finish();
  fs::current_path(old);
  ASSERT_TRUE(st.ok() && fin.ok());
  ASSERT_EQ(jobs_.size(), 1u);
  EXPECT_EQ(jobs_[0].source, (fs::absolute(dir_) / "sub" / "b.png").lexically_normal().string());
}

TEST_F(SourceScanTest, AbsoluteNormalDropsTrailingSeparatorAndKeepsSymlinks) {
  EXPECT_EQ(absolute_normal("/a/b/../c/"), fs::path("/a/c"));
  EXPECT_EQ(absolute_normal("/"), fs::path("/"));
  const fs::path target = touch("real/x.jpg");
  fs::create_directory_symlink(dir_ / "real", dir_ / "link");
  EXPECT_EQ(absolute_normal(dir_ / "link" / "x.jpg"), dir_ / "link" / "x.jpg");
}

TEST_F(SourceScanTest, MissingFileIsRejectedOnceNamingItAndTheFix) {
  const std::string missing = (dir_ / "nope.jpg").string();
  auto s = scanner();
  ASSERT_TRUE(s.add(missing).ok());
  ASSERT_TRUE(s.finish().ok());
  EXPECT_TRUE(jobs_.empty());
  ASSERT_EQ(rejections_.size(), 1u);
  EXPECT_EQ(rejections_[0].source, missing);
  EXPECT_THAT(rejections_[0].reason, HasSubstr("no such file"));
  EXPECT_THAT(rejections_[0].reason, HasSubstr("check the path"));
  EXPECT_EQ(s.stats().rejected, 1);
}

TEST_F(SourceScanTest, DanglingSymlinkIsRejectedAsSuch) {
  fs::create_symlink(dir_ / "gone.jpg", dir_ / "dangling.jpg");
  auto s = scanner();
  ASSERT_TRUE(s.add((dir_ / "dangling.jpg").string()).ok());
  ASSERT_EQ(rejections_.size(), 1u);
  EXPECT_THAT(rejections_[0].reason, HasSubstr("symbolic link to nothing"));
}

TEST_F(SourceScanTest, DirectoryWithoutRecursiveIsRejectedSuggestingIt) {
  touch("d/a.jpg");
  auto s = scanner();
  ASSERT_TRUE(s.add((dir_ / "d").string()).ok());
  ASSERT_TRUE(s.finish().ok());
  EXPECT_TRUE(jobs_.empty());
  ASSERT_EQ(rejections_.size(), 1u);
  EXPECT_THAT(rejections_[0].reason, HasSubstr("--recursive"));
}

TEST_F(SourceScanTest, RecursiveWalkQueuesImagesByExtensionAnyCaseAndCountsTheRest) {
  const std::set<std::string> images = {touch("d/a.jpg"), touch("d/b.JPEG"), touch("d/x/c.png"),
                                        touch("d/x/y/d.Gif"), touch("d/e.bmp"), touch("d/f.tif"),
                                        touch("d/g.TIFF")};
  touch("d/readme.txt");
  touch("d/x/notes");
  touch("d/x/y/photo.jpg.bak");
  auto s = scanner(options(true));
  ASSERT_TRUE(s.add((dir_ / "d").string()).ok());
  ASSERT_TRUE(s.finish().ok());
  EXPECT_EQ(sources(), images);
  EXPECT_EQ(s.stats().accepted, 7);
  EXPECT_EQ(s.stats().skipped_non_images, 3);
  EXPECT_TRUE(rejections_.empty());
}

TEST_F(SourceScanTest, WalkDoesNotFollowSymlinkedDirectories) {
  touch("d/a.jpg");
  touch("other/b.jpg");
  fs::create_directory_symlink(dir_ / "other", dir_ / "d" / "link");
  fs::create_directory_symlink(dir_ / "d", dir_ / "d" / "loop");
  auto s = scanner(options(true));
  ASSERT_TRUE(s.add((dir_ / "d").string()).ok());
  ASSERT_TRUE(s.finish().ok());
  EXPECT_EQ(sources(), std::set<std::string>{(dir_ / "d" / "a.jpg").string()});
  EXPECT_EQ(s.stats().skipped_dir_links, 2);
}

TEST_F(SourceScanTest, UnreadableFileAndDirectoryAreRejectedAndTheRestQueued) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
  const std::string locked = touch("d/locked.jpg");
  touch("d/ok.jpg");
  touch("d/closed/inner.jpg");
  fs::permissions(locked, fs::perms::none);
  fs::permissions(dir_ / "d" / "closed", fs::perms::none);
  auto s = scanner(options(true));
  ASSERT_TRUE(s.add((dir_ / "d").string()).ok());
  ASSERT_TRUE(s.finish().ok());
  EXPECT_EQ(sources(), std::set<std::string>{(dir_ / "d" / "ok.jpg").string()});
  ASSERT_EQ(rejections_.size(), 2u);
  std::set<std::string> rejected;
  for (const auto& r : rejections_) rejected.insert(r.source);
  EXPECT_EQ(rejected, (std::set<std::string>{locked, (dir_ / "d" / "closed").string()}));
}

TEST_F(SourceScanTest, UnreadableNamedFileIsRejected) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
  const std::string locked = touch("locked.jpg");
  fs::permissions(locked, fs::perms::none);
  auto s = scanner();
  ASSERT_TRUE(s.add(locked).ok());
  ASSERT_EQ(rejections_.size(), 1u);
  EXPECT_THAT(rejections_[0].reason, HasSubstr("not readable"));
}

TEST_F(SourceScanTest, NamedPipeIsNotARegularFile) {
  const std::string fifo = (dir_ / "pipe.jpg").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto s = scanner();
  ASSERT_TRUE(s.add(fifo).ok());
  ASSERT_EQ(rejections_.size(), 1u);
  EXPECT_THAT(rejections_[0].reason, HasSubstr("not a regular file"));
}

TEST_F(SourceScanTest, HttpAndHttpsUrlsBecomeUrlJobsAsGiven) {
  auto s = scanner();
  ASSERT_TRUE(s.add("http://127.0.0.1:1/img/1.jpg").ok());
  ASSERT_TRUE(s.add("HTTPS://example.com/a%20b.jpg?x=1").ok());
  ASSERT_TRUE(s.finish().ok());
  ASSERT_EQ(jobs_.size(), 2u);
  EXPECT_EQ(jobs_[0].kind, SourceKind::kUrl);
  EXPECT_EQ(jobs_[0].source, "http://127.0.0.1:1/img/1.jpg");
  EXPECT_EQ(jobs_[1].source, "HTTPS://example.com/a%20b.jpg?x=1");
  EXPECT_TRUE(rejections_.empty());
}

TEST_F(SourceScanTest, OtherUrlSchemesAreRejectedNamingTheScheme) {
  auto s = scanner();
  ASSERT_TRUE(s.add("ftp://example.com/a.jpg").ok());
  ASSERT_TRUE(s.add("file:///tmp/a.jpg").ok());
  ASSERT_EQ(rejections_.size(), 2u);
  EXPECT_THAT(rejections_[0].reason, HasSubstr("\"ftp\""));
  EXPECT_THAT(rejections_[0].reason, HasSubstr("only http:// and https://"));
  EXPECT_THAT(rejections_[1].reason, HasSubstr("\"file\""));
  EXPECT_TRUE(jobs_.empty());
}

TEST_F(SourceScanTest, MalformedUrlsAreRejected) {
  EXPECT_TRUE(url_problem("http://example.com/a.jpg") == std::nullopt);
  EXPECT_THAT(url_problem("http://exa mple.com/a.jpg").value_or(""), HasSubstr("not a valid URL"));
  EXPECT_THAT(url_problem("http:///a.jpg").value_or(""), HasSubstr("no host"));
}

TEST_F(SourceScanTest, LooksLikeUrlNeedsASchemeAndDoubleSlash) {
  EXPECT_TRUE(looks_like_url("http://x"));
  EXPECT_TRUE(looks_like_url("svn+ssh://x"));
  EXPECT_FALSE(looks_like_url("/tmp/a://b.jpg"));
  EXPECT_FALSE(looks_like_url("a.jpg"));
  EXPECT_FALSE(looks_like_url("://x"));
  EXPECT_FALSE(looks_like_url("1http://x"));
}

TEST_F(SourceScanTest, FileIdsBecomeFileIdJobs) {
  auto s = scanner();
  ASSERT_TRUE(s.add_file_id("b379f72402624858b895a955ec31ed8f").ok());
  ASSERT_TRUE(s.add_file_id("").ok());
  ASSERT_TRUE(s.add_file_id("has space").ok());
  ASSERT_TRUE(s.finish().ok());
  ASSERT_EQ(jobs_.size(), 1u);
  EXPECT_EQ(jobs_[0].kind, SourceKind::kFileId);
  EXPECT_EQ(jobs_[0].source, "b379f72402624858b895a955ec31ed8f");
  EXPECT_EQ(rejections_.size(), 2u);
}

TEST_F(SourceScanTest, ListEntryTrimsAndSkipsBlanksAndComments) {
  EXPECT_EQ(list_entry("  /a/b.jpg \r"), "/a/b.jpg");
  EXPECT_EQ(list_entry("http://x/y.jpg\r"), "http://x/y.jpg");
  EXPECT_EQ(list_entry(""), std::nullopt);
  EXPECT_EQ(list_entry(" \t\r"), std::nullopt);
  EXPECT_EQ(list_entry("# a comment"), std::nullopt);
  EXPECT_EQ(list_entry("   # indented comment"), std::nullopt);
}

TEST_F(SourceScanTest, ListRejectionsNameTheListAndLine) {
  const std::string file = touch("a.jpg");
  std::istringstream list("\xEF\xBB\xBF" "# photos\r\n" + file + "\r\n\r\nftp://x/y.jpg\r\nhttp://h/1.jpg\n" +
                          (dir_ / "missing.jpg").string());
  auto s = scanner();
  ASSERT_TRUE(s.add_list(list, "list.txt").ok());
  ASSERT_TRUE(s.finish().ok());
  EXPECT_EQ(sources(), (std::set<std::string>{file, "http://h/1.jpg"}));
  ASSERT_EQ(rejections_.size(), 2u);
  EXPECT_EQ(rejections_[0].source, "ftp://x/y.jpg");
  EXPECT_EQ(rejections_[0].origin, "list.txt:4");
  EXPECT_EQ(rejections_[1].origin, "list.txt:6");
  EXPECT_EQ(format_rejection(rejections_[0]).rfind("rejected ftp://x/y.jpg (list.txt:4): URL scheme", 0), 0u);
}

TEST_F(SourceScanTest, JobsArriveInChunksOfAtMostChunkSize) {
  std::ostringstream text;
  for (int i = 0; i < 10; ++i) text << "http://h/" << i << ".jpg\n";
  std::istringstream list(text.str());
  auto s = scanner(options(false, 3));
  ASSERT_TRUE(s.add_list(list, "l").ok());
  ASSERT_TRUE(s.finish().ok());
  EXPECT_EQ(chunk_sizes_, (std::vector<std::size_t>{3, 3, 3, 1}));
  ASSERT_EQ(jobs_.size(), 10u);
  EXPECT_EQ(jobs_[9].source, "http://h/9.jpg");
}

TEST_F(SourceScanTest, SinkErrorStopsTheScanAndIsReturned) {
  int calls = 0;
  SourceScanner s(options(false, 2),
                  [&](std::span<const NewJob>) -> Status {
                    ++calls;
                    return Error{"disk full"};
                  },
                  [](const Rejection&) {});
  std::istringstream list("http://h/1\nhttp://h/2\nhttp://h/3\nhttp://h/4\n");
  const Status st = s.add_list(list, "l");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "disk full");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace lf
