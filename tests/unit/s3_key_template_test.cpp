// The archive's key template (common/s3/key_template.hpp): rendering, control characters, and the
// hour's listing prefix s3-cat --hour derives from the template s3-put writes with.
#include <gtest/gtest.h>

#include "common/core/errors.hpp"
#include "common/s3/key_template.hpp"

using namespace sp;
using namespace sp::s3;

namespace {
const std::string kReadme = "sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl";
const std::time_t k22 = 1751925600;  // 2025-07-07 22:00:00 UTC
}  // namespace

TEST(S3KeyTemplate, HourPrefixMatchesTheKeysOfThatHourOnly) {
  std::string prefix = hour_prefix(kReadme, k22);
  EXPECT_EQ(prefix, "sensors/2025/07/07/22");
  // every key s3-put opens in hour 22 has it, from the first second to the last
  for (std::time_t t : {k22, k22 + 1, k22 + 3599}) {
    std::string key = render_key(kReadme, KeyValues{t, "edge1", "0a1b2c3d4e5f", 7}, ".zst");
    EXPECT_EQ(key.rfind(prefix, 0), 0u) << key;
  }
  // and no key of another hour: hour 2 does not select hour 22's keys, nor 22 those of 23
  for (std::time_t t : {k22 - 1, k22 + 3600, k22 - 20 * 3600}) {
    std::string key = render_key(kReadme, KeyValues{t, "edge1", "r", 7}, "");
    EXPECT_NE(key.rfind(prefix, 0), 0u) << key;
  }
  EXPECT_NE(render_key(kReadme, KeyValues{k22, "h", "r", 0}).rfind(hour_prefix(kReadme, k22 - 20 * 3600), 0), 0u);
  // the systemd unit's template (an instance between {host} and {run}) selects the same way
  EXPECT_EQ(hour_prefix("sensors/%Y/%m/%d/%H%M%S-{host}-1-{run}-{seq}.jsonl", k22), "sensors/2025/07/07/22");
  // a directory per hour, %F, %j, a literal %%
  EXPECT_EQ(hour_prefix("s/%Y/%m/%d/%H/{host}-{seq}", k22), "s/2025/07/07/22/");
  EXPECT_EQ(hour_prefix("s/%FT%H:%M", k22), "s/2025-07-07T22:");
  EXPECT_EQ(hour_prefix("s/%Y-%j-%H-{seq}", k22), "s/2025-188-22-");
  EXPECT_EQ(hour_prefix("100%%/%Y%m%d%H{seq}", k22), "100%/2025070722");
}

TEST(S3KeyTemplate, HourPrefixRefusesATemplateThatCannotSelectAnHour) {
  for (const char* t : {"sensors/{host}/%Y/%m/%d/%H%M%S-{seq}", "sensors/%Y/%m/%d/{seq}", "sensors/%m/%d/%H-{seq}",
                        "sensors/%Y/%m/%H-{seq}", "sensors/%Y/%m/%d/%-H%M-{seq}", "plain.jsonl", "%s-{seq}"}) {
    try {
      hour_prefix(t, k22);
      ADD_FAILURE() << t << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot select an hour"), std::string::npos) << e.what();
    }
  }
}

TEST(S3KeyTemplate, ParseHour) {
  EXPECT_EQ(parse_hour("2025-07-07T22"), k22);
  EXPECT_EQ(parse_hour("2025-07-07T22Z"), k22);
  EXPECT_EQ(parse_hour("2025-07-07T22:00:00Z"), k22);
  for (const char* bad : {"2025-07-07", "2025-07-07T22:30", "2025-13-07T22", "2025-07-07T24", "22", "", "2025-07-07 22"})
    EXPECT_THROW(parse_hour(bad), UsageError) << bad;
}

TEST(S3KeyTemplate, ControlCharactersAreRefused) {
  EXPECT_THROW(render_key("a/%Y%n{seq}", KeyValues{k22, "h", "r", 0}), UsageError);
  EXPECT_THROW(render_key("a/%t{seq}", KeyValues{k22, "h", "r", 0}), UsageError);
  EXPECT_THROW(render_key("a/{host}-{seq}", KeyValues{k22, "edge\n1", "r", 0}), UsageError);
  EXPECT_THROW(render_key("a/{run}-{seq}", KeyValues{k22, "h", "r\x7f", 0}), UsageError);
  EXPECT_THROW(render_key("a/\x01{seq}", KeyValues{k22, "h", "r", 0}), UsageError);
  try {
    render_key("a/{host}", KeyValues{k22, "edge\n1", "r", 0});
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("edge\\n1"), std::string::npos) << e.what();  // shown escaped
  }
  EXPECT_EQ(render_key("a/{host}", KeyValues{k22, "h\xc3\xa9", "r", 0}), "a/h\xc3\xa9");  // UTF-8 is fine
  // values are not formats
  EXPECT_EQ(render_key("a/{host}-{run}", KeyValues{k22, "h%n", "r%Y", 0}), "a/h%n-r%Y");
}

TEST(S3KeyTemplate, HasField) {
  EXPECT_TRUE(has_field("x-{seq:4}", "seq"));
  EXPECT_TRUE(has_field("x-{run}-{seq}", "run"));
  EXPECT_FALSE(has_field("x-%H", "seq"));
  EXPECT_FALSE(has_field("x-{runner}", "run"));
}
