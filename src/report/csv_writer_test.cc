#include "report/csv_writer.h"

#include <sstream>

#include <gtest/gtest.h>

namespace lf {
namespace {

std::string one_row(std::initializer_list<std::string_view> cells, CsvOptions options = {}) {
  std::ostringstream out;
  {
    CsvWriter w(out, options);
    for (std::string_view c : cells) w.text(c);
    w.end_row();
    EXPECT_TRUE(w.flush().ok());
  }
  return out.str();
}

TEST(CsvWriter, PlainCellsAreWrittenAsTheyAreWithCrlfRowEnds) {
  EXPECT_EQ(one_row({"a", "b c", "/data/photo 1.jpg"}), "a,b c,/data/photo 1.jpg\r\n");
}

TEST(CsvWriter, CellsWithCommasQuotesOrNewlinesAreQuotedAndQuotesDoubled) {
  EXPECT_EQ(one_row({"a,b"}), "\"a,b\"\r\n");
  EXPECT_EQ(one_row({"say \"hi\""}), "\"say \"\"hi\"\"\"\r\n");
  EXPECT_EQ(one_row({"line1\nline2"}), "\"line1\nline2\"\r\n");
  EXPECT_EQ(one_row({"cr\rlf"}), "\"cr\rlf\"\r\n");
  EXPECT_EQ(one_row({"\""}), "\"\"\"\"\r\n");
}

TEST(CsvWriter, EmptyCellsKeepTheirPlace) {
  std::ostringstream out;
  {
    CsvWriter w(out);
    w.empty();
    w.text("");
    w.integer(3);
    w.end_row();
  }
  EXPECT_EQ(out.str(), ",,3\r\n");
}

TEST(CsvWriter, ChineseTextPassesThroughAsUtf8) {
  EXPECT_EQ(one_row({"检测人脸失败", "/照片/张三.jpg"}), "检测人脸失败,/照片/张三.jpg\r\n");
}

TEST(CsvWriter, BomIsWrittenOnceAtTheStartOnlyWhenAsked) {
  CsvOptions excel;
  excel.bom = true;
  std::ostringstream out;
  {
    CsvWriter w(out, excel);
    w.text("张三");
    w.end_row();
    w.text("李四");
    w.end_row();
  }
  EXPECT_EQ(out.str(), "\xEF\xBB\xBF张三\r\n李四\r\n");
  EXPECT_EQ(one_row({"x"}).rfind("\xEF\xBB\xBF", 0), std::string::npos);
}

TEST(CsvWriter, BomIsWrittenEvenWhenThereAreNoRows) {
  CsvOptions excel;
  excel.bom = true;
  std::ostringstream out;
  { CsvWriter w(out, excel); }
  EXPECT_EQ(out.str(), "\xEF\xBB\xBF");
}

TEST(CsvWriter, FormulaTriggersGetALeadingQuote) {
  EXPECT_EQ(one_row({"=1+1"}), "'=1+1\r\n");
  EXPECT_EQ(one_row({"+cmd|' /C calc'!A0"}), "'+cmd|' /C calc'!A0\r\n");
  EXPECT_EQ(one_row({"-2+3"}), "'-2+3\r\n");
  EXPECT_EQ(one_row({"@SUM(A1:A9)"}), "'@SUM(A1:A9)\r\n");
  EXPECT_EQ(one_row({"\tx"}), "'\tx\r\n");
  EXPECT_EQ(one_row({"-"}), "'-\r\n");
  EXPECT_EQ(one_row({"+"}), "'+\r\n");
}

TEST(CsvWriter, NeutralisedCellThatNeedsQuotingHasTheQuoteInsideTheQuotes) {
  EXPECT_EQ(one_row({"=HYPERLINK(\"http://x\",\"y\")"}), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n");
  EXPECT_EQ(one_row({"\rcr first"}), "\"'\rcr first\"\r\n");
}

TEST(CsvWriter, PlainSignedNumbersAreNotNeutralised) {
  EXPECT_EQ(one_row({"-0.5", "+3", "-1e-7", "-.5"}), "-0.5,+3,-1e-7,-.5\r\n");
  EXPECT_FALSE(csv_cell_needs_neutralising("-12.75"));
  EXPECT_TRUE(csv_cell_needs_neutralising("-12.75.1"));
  EXPECT_TRUE(csv_cell_needs_neutralising("-1e"));
  EXPECT_TRUE(csv_cell_needs_neutralising("-A1"));
}

TEST(CsvWriter, TriggersLaterInTheCellAreHarmless) {
  EXPECT_EQ(one_row({"a=b", "x@y.com", "1-2"}), "a=b,x@y.com,1-2\r\n");
}

TEST(CsvWriter, NeutralisationCanBeTurnedOff) {
  CsvOptions raw;
  raw.neutralise_formulas = false;
  EXPECT_EQ(one_row({"=1+1"}, raw), "=1+1\r\n");
}

TEST(CsvWriter, NumbersReadBackExactly) {
  std::ostringstream out;
  {
    CsvWriter w(out);
    w.number(0.7027237415313721);
    w.number(0.1);
    w.number(1);
    w.integer(-42);
    w.end_row();
  }
  EXPECT_EQ(out.str(), "0.7027237415313721,0.1,1,-42\r\n");
}

TEST(CsvWriter, SmallBufferStreamsInChunksWithTheSameBytes) {
  CsvOptions small;
  small.buffer_bytes = 16;
  std::ostringstream big_out, small_out;
  {
    CsvWriter big(big_out);
    CsvWriter chunked(small_out, small);
    for (int i = 0; i < 1000; ++i) {
      for (CsvWriter* w : {&big, &chunked}) {
        w->integer(i);
        w->text("row, with \"quotes\"");
        w->end_row();
      }
    }
    EXPECT_EQ(chunked.rows(), 1000);
  }
  EXPECT_EQ(small_out.str(), big_out.str());
}

TEST(CsvWriter, FlushReportsAFailedStream) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  CsvWriter w(out);
  w.text("x");
  w.end_row();
  EXPECT_FALSE(w.flush().ok());
}

}  // namespace
}  // namespace lf
