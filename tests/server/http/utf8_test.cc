#include "server/http/utf8.h"

#include "gtest/gtest.h"

namespace contextd::server {
namespace {

TEST(Utf8Test, SequenceLengthByLeadByte) {
  EXPECT_EQ(Utf8SequenceLength('a'), 1u);
  EXPECT_EQ(Utf8SequenceLength(0x7f), 1u);
  EXPECT_EQ(Utf8SequenceLength(0xc3), 2u);
  EXPECT_EQ(Utf8SequenceLength(0xe2), 3u);
  EXPECT_EQ(Utf8SequenceLength(0xf0), 4u);
  EXPECT_EQ(Utf8SequenceLength(0x80), 0u);  // a continuation byte
  EXPECT_EQ(Utf8SequenceLength(0xbf), 0u);
  EXPECT_EQ(Utf8SequenceLength(0xf8), 0u);
  EXPECT_EQ(Utf8SequenceLength(0xff), 0u);
}

TEST(Utf8Test, Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));    // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("a\xa9"));             // a continuation byte without a lead
  EXPECT_FALSE(IsValidUtf8("\xc3("));             // a lead without its continuation
}

}  // namespace
}  // namespace contextd::server
