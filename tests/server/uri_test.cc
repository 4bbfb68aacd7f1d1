#include "server/uri.h"

#include "gtest/gtest.h"

namespace contextd::server {
namespace {

TEST(UriTest, SplitsAndDecodesPathAndQuery) {
  auto t = ParseTarget("//genesys/1/cs//customers/a%2Bb+c/services/?x=1+2&y=%26%3D&flag&=v#frag");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->segments,
            (std::vector<std::string>{"genesys", "1", "cs", "customers", "a+b+c", "services"}));
  query::Params want = {{"x", "1 2"}, {"y", "&="}, {"flag", ""}, {"", "v"}};
  EXPECT_EQ(t->params, want);
}

TEST(UriTest, KeepsRepeatedParameters) {
  auto t = ParseTarget("/a?k=1&k=2");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->params.size(), 2u);
}

TEST(UriTest, RejectsBadPercentEncoding) {
  for (const char* target :
       {"/a%", "/a%2", "/a%zz", "/a?x=%G1", "/a?%=1", "/a%C3%28", "/a?x=%ED%A0%80"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(ParseTarget(target).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(UriTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
}

}  // namespace
}  // namespace contextd::server
