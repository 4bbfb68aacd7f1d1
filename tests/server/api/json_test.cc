#include "server/api/json.h"

#include "gtest/gtest.h"

namespace contextd::server {
namespace {

using storage::Value;

TEST(JsonTest, ParsesEveryKindAndRendersItBack) {
  const std::string text =
      R"({"s":"a\"b\\c\n\u0001é","i":-12,"u":18446744073709551615,"d":1.5,"t":true,)"
      R"("n":null,"a":[1,[],{}],"o":{"k":"v"}})";
  absl::StatusOr<Value> v = ParseJson(text);
  ASSERT_TRUE(v.ok()) << v.status();
  std::string out;
  JsonWriter w(&out);
  w.Value(*v);
  EXPECT_EQ(out, R"({"s":"a\"b\\c\n\u0001é","i":-12,"u":18446744073709551615,"d":1.5,"t":true,)"
                 R"("n":null,"a":[1,[],{}],"o":{"k":"v"}})");
}

TEST(JsonTest, RefusesDuplicateKeysInObjectsOfAnySize) {
  for (int keys : {2, 16, 17, 40}) {
    for (int dup_of : {0, keys - 1}) {
      SCOPED_TRACE(std::to_string(keys) + " keys, duplicate of key " + std::to_string(dup_of));
      std::string text = "{";
      for (int i = 0; i < keys; ++i)
        text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
      ASSERT_TRUE(ParseJson(text.substr(0, text.size() - 1) + "}").ok());
      text += "\"k" + std::to_string(dup_of) + "\":0}";
      absl::StatusOr<Value> v = ParseJson(text);
      ASSERT_FALSE(v.ok());
      EXPECT_NE(std::string(v.status().message()).find("duplicate key 'k" + std::to_string(dup_of)),
                std::string::npos);
    }
  }
}

TEST(JsonTest, RejectsMalformedInputWithAClearMessage) {
  const char* bad[] = {
      "",
      "{",
      R"({"a":1,})",
      R"({"a":1} {"b":2})",
      R"({"a":1}x)",
      R"({"a":1,"a":2})",
      R"({"o":{"k":1,"k":2}})",
      R"({"a":tru})",
      R"({"a":01})",
      "\"just a string\"",
      "42",
      "{\"a\":\"\xff\"}",
      R"({"a":[1,2,]})",
  };
  for (const char* text : bad) {
    SCOPED_TRACE(text);
    absl::StatusOr<Value> v = ParseJson(text);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(v.status().message()).find("malformed JSON"), std::string::npos);
  }
}

TEST(JsonTest, IntegersBeyond64BitsBecomeDoubles) {
  absl::StatusOr<Value> v = ParseJson(R"([10000000000000000000000,-9223372036854775809])");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->array[0].kind, Value::Kind::kDouble);
  EXPECT_EQ(v->array[0].ScalarText(), "1e+22");
  EXPECT_EQ(v->array[1].kind, Value::Kind::kDouble);
}

// Found by fuzzing: "-0e3" is a negative zero double, which must render as "0" (JavaScript's
// form; "-0" would read back as the integer 0, so rendering was not stable).
TEST(JsonTest, NegativeZeroRendersAsZero) {
  absl::StatusOr<Value> v = ParseJson(R"({"a":-0e3,"b":-0.0,"c":0.0})");
  ASSERT_TRUE(v.ok()) << v.status();
  std::string out;
  JsonWriter w(&out);
  w.Value(*v);
  EXPECT_EQ(out, R"({"a":0,"b":0,"c":0})");
}

TEST(JsonTest, LimitsNesting) {
  std::string deep(kMaxJsonDepth, '[');
  deep += std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJson(deep).ok());
  std::string deeper(kMaxJsonDepth + 1, '[');
  deeper += std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(ParseJson(deeper).ok());
  std::string hostile(100000, '[');
  EXPECT_FALSE(ParseJson(hostile).ok());
}

TEST(JsonTest, EscapesControlCharacters) {
  std::string out;
  JsonWriter w(&out);
  w.String(std::string("\b\f\r\t\x1f\0", 6));
  EXPECT_EQ(out, R"("\b\f\r\t\u001f\u0000")");
}

TEST(JsonTest, WritesInvalidUtf8AsReplacementCharacters) {
  // An error message may quote raw request bytes: the reply must still be valid JSON.
  std::string out;
  JsonWriter w(&out);
  w.String("caf\xc3\xa9 \xf0\x9f\x98\x80 conte\x81td \xed\xa0\x80 \xc0\xaf end\xc3");
  EXPECT_EQ(
      out,
      "\"caf\xc3\xa9 \xf0\x9f\x98\x80 conte\xef\xbf\xbdtd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
      "\xef\xbf\xbd\xef\xbf\xbd end\xef\xbf\xbd\"");
  EXPECT_TRUE(ParseJson("[" + out + "]").ok()) << out;
}

// The one reader of request-body members: each case is a member value, a rule, and the text
// read or the error message.
TEST(JsonTest, TextMembersFollowTheirRule) {
  const TextRule quoted{Naming::kQuoted, 5};
  const TextRule bare{Naming::kBare, 5};
  const TextRule numbers{Naming::kBare, 5, /*integers=*/true};
  struct Case {
    const char* json;  // the value of member "m"
    TextRule rule;
    std::string want;  // the text, or the error message
  };
  const Case cases[] = {
      {R"("abcde")", quoted, "abcde"},
      {R"("abcdef")", quoted, "field 'm': longer than 5 bytes"},
      {R"("abcdef")", bare, "m: longer than 5 bytes"},
      {"7", quoted, "field 'm': expected a string"},
      {"7", numbers, "7"},
      {"-12", numbers, "-12"},
      {"1.5", numbers, "m: expected a string or a number"},
      {"{}", bare, "m: expected a string"},
      {"null", bare, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    absl::StatusOr<Value> body = ParseJson(std::string(R"({"m":)") + c.json + "}");
    ASSERT_TRUE(body.ok());
    absl::StatusOr<const storage::Fields*> members = ObjectMembers(*body);
    ASSERT_TRUE(members.ok());
    absl::StatusOr<std::string> text = TextMember(**members, "m", c.rule);
    EXPECT_EQ(text.ok() ? *text : std::string(text.status().message()), c.want);
    if (!text.ok()) {
      EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  absl::StatusOr<Value> empty = ParseJson("{}");
  EXPECT_EQ(*TextMember((*empty).object, "absent", quoted), "");
}

TEST(JsonTest, ObjectMembersNameWhatMustBeAnObject) {
  absl::StatusOr<const storage::Fields*> members = ObjectMembers(Value::String("x"), "data");
  EXPECT_EQ(members.status().message(), "data must be a JSON object");
  EXPECT_EQ(ObjectMembers(Value::Int(1)).status().message(), "request body must be a JSON object");
}

}  // namespace
}  // namespace contextd::server
