#include "common/core/text.hpp"

#include <gtest/gtest.h>

using sp::split_comma_list;
using V = std::vector<std::string>;

TEST(Text, CommaListItemsInOrder) {
  EXPECT_EQ(split_comma_list("a"), V{"a"});
  EXPECT_EQ(split_comma_list("http://a:8123,http://b:8123"), (V{"http://a:8123", "http://b:8123"}));
}

TEST(Text, CommaListTrimsSpacesAndTabsOnly) {
  EXPECT_EQ(split_comma_list(" a ,\tb\t, c"), (V{"a", "b", "c"}));
  // inner blanks stay; other whitespace (a newline) is part of the item
  EXPECT_EQ(split_comma_list("a b, c\n"), (V{"a b", "c\n"}));
}

TEST(Text, CommaListSkipsEmptyItems) {
  EXPECT_EQ(split_comma_list(""), V{});
  EXPECT_EQ(split_comma_list(","), V{});
  EXPECT_EQ(split_comma_list(" , \t ,"), V{});
  EXPECT_EQ(split_comma_list(",a,,b,"), (V{"a", "b"}));
}
