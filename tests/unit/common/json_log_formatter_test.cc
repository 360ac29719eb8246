#include "cli/json_log_formatter.h"

#include <gtest/gtest.h>

namespace l2a::cli {
namespace {

TEST(JsonLog, KeyValuesBecomeFields) {
  auto kv = splitKeyValues("event=announcing address=198.18.0.1 interfaces=\"eth0 aa:bb\" note=\"a \\\"q\\\"\"");
  ASSERT_EQ(kv.size(), 4u);
  EXPECT_EQ(kv[0], (std::pair<std::string, std::string>{"event", "announcing"}));
  EXPECT_EQ(kv[2].second, "eth0 aa:bb");
  EXPECT_EQ(kv[3].second, "a \"q\"");
}

TEST(JsonLog, LooseTextGoesToMsg) {
  auto kv = splitKeyValues("hello world event=x");
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[0].first, "event");
  EXPECT_EQ(kv[1], (std::pair<std::string, std::string>{"msg", "hello world"}));
}

}  // namespace
}  // namespace l2a::cli
