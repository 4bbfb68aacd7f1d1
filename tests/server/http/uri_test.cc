#include "server/http/uri.h"

#include "gtest/gtest.h"

namespace contextd::server {
namespace {

TEST(UriTest, SplitsAndDecodesPathAndQuery) {
  auto t = ParseTarget("//genesys/1/cs//customers/a%2Bb+c/services/?x=1+2&y=%26%3D&flag&=v#frag");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->segments,
            (std::vector<std::string>{"genesys", "1", "cs", "customers", "a+b+c", "services"}));
  std::vector<std::pair<std::string, std::string>> want = {{"x", "1 2"}, {"y", "&="}, {"flag", ""}, {"", "v"}};
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

}  // namespace
}  // namespace contextd::server
