// The bounded LRU of uploads.
#include "emulator/image_store.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(ImageStore, EvictsLeastRecentlyUsedToStayUnderTheCap) {
  ImageStore store(10);
  EXPECT_TRUE(store.put("a", "1234"));
  EXPECT_TRUE(store.put("b", "1234"));
  ASSERT_NE(store.get("a"), nullptr);  // a is now more recent than b
  EXPECT_TRUE(store.put("c", "1234"));
  EXPECT_EQ(store.get("b"), nullptr);
  EXPECT_NE(store.get("a"), nullptr);
  EXPECT_NE(store.get("c"), nullptr);
  EXPECT_EQ(store.size_bytes(), 8u);
  EXPECT_EQ(store.evictions(), 1u);
}

TEST(ImageStore, RefusesAnImageLargerThanTheWholeCap) {
  ImageStore store(3);
  EXPECT_FALSE(store.put("a", "1234"));
  EXPECT_EQ(store.count(), 0u);
  EXPECT_EQ(store.size_bytes(), 0u);
}

TEST(ImageStore, ReplacingAnIdKeepsTheByteCountRight) {
  ImageStore store(100);
  EXPECT_TRUE(store.put("a", "1234"));
  EXPECT_TRUE(store.put("a", "12"));
  EXPECT_EQ(store.count(), 1u);
  EXPECT_EQ(store.size_bytes(), 2u);
  EXPECT_EQ(*store.get("a"), "12");
}

TEST(ImageStore, BytesHandedOutSurviveEviction) {
  ImageStore store(4);
  ASSERT_TRUE(store.put("a", "1234"));
  auto held = store.get("a");
  ASSERT_TRUE(store.put("b", "5678"));
  EXPECT_EQ(store.get("a"), nullptr);
  EXPECT_EQ(*held, "1234");
}

}  // namespace
}  // namespace lf
