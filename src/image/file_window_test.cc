#include "image/file_window.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/temp_dir_for_test.h"

namespace lf {
namespace {

namespace fs = std::filesystem;

class FileWindowTest : public testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    return tmp_.write(name, bytes);
  }
  TempDirForTest tmp_;
  const fs::path& dir_ = tmp_.path();
};

std::string counting(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + i / 251);
  return s;
}

TEST_F(FileWindowTest, SmallFileIsReadWholeInOnePread) {
  const std::string bytes = counting(2 * FileWindow::kEdgeBytes);
  auto w = FileWindow::open(write("small", bytes));
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->size(), bytes.size());
  EXPECT_EQ(w->read(100, 3), bytes.substr(100, 3));
  EXPECT_EQ(w->whole(), bytes);
  EXPECT_EQ(w->read(bytes.size() - 1, 1), bytes.substr(bytes.size() - 1));
  EXPECT_EQ(w->reads(), 1);
}

TEST_F(FileWindowTest, LargeFileReadsEdgesAndSmallRangesUntilTheBudgetIsSpent) {
  const std::string bytes = counting(1 << 20);
  auto w = FileWindow::open(write("large", bytes));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->whole(), std::nullopt);
  EXPECT_EQ(w->read(10, 4), bytes.substr(10, 4));            // the head
  EXPECT_EQ(w->read(bytes.size() - 2, 2), bytes.substr(bytes.size() - 2));  // the tail
  EXPECT_TRUE(w->holds(4000, 96));
  EXPECT_FALSE(w->holds(500000, 4));
  int served = 0;
  for (std::uint64_t off = 100000; off < bytes.size() - 10000; off += 20000) {
    auto v = w->read(off, 8);
    if (!v) break;
    EXPECT_EQ(*v, bytes.substr(off, 8));
    ++served;
  }
  EXPECT_GT(served, 5);
  EXPECT_LT(served, 40);  // the budget ran out long before the file did
  EXPECT_LE(w->reads(), FileWindow::kMaxReads);
  EXPECT_LE(w->bytes_read(), FileWindow::kMaxBytes);
  EXPECT_FALSE(w->error());  // running out of budget is not an error
  EXPECT_EQ(w->read(20, 2), bytes.substr(20, 2));  // held ranges still serve
}

TEST_F(FileWindowTest, MissingFileIsAnErrorNamingPathAndReason) {
  const std::string path = (dir_ / "nope.jpg").string();
  auto w = FileWindow::open(path);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().message, "cannot read " + path + ": No such file or directory");
}

TEST_F(FileWindowTest, UnreadableFileIsAnErrorNamingPathAndReason) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  const std::string path = write("secret.jpg", "x");
  fs::permissions(path, fs::perms::none);
  auto w = FileWindow::open(path);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().message, "cannot read " + path + ": Permission denied");
}

TEST_F(FileWindowTest, DirectoryAndFifoAreErrorsNeverBlockingReads) {
  auto d = FileWindow::open(dir_.string());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("a directory, not a regular file"), std::string::npos)
      << d.error().message;
  const std::string fifo = (dir_ / "pipe.jpg").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto f = FileWindow::open(fifo);  // no writer: a blocking open would hang here
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message, "cannot read " + fifo + ": a FIFO, not a regular file");
}

}  // namespace
}  // namespace lf
