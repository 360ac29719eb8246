#include "lab/fault_proxy.h"

#include <gtest/gtest.h>

#include <map>

namespace l2a::lab {
namespace {

TEST(RequestHead, ParsesTheRequestLineHeadersAndWatches) {
  auto head = parseRequestHead(
      "GET /api/v1/services?allowWatchBookmarks=true&resourceVersion=5&watch=1 HTTP/1.1\r\n"
      "Host: 198.18.0.1:6444\r\nAuthorization: Bearer abc\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->method, "GET");
  EXPECT_EQ(head->target, "/api/v1/services?allowWatchBookmarks=true&resourceVersion=5&watch=1");
  EXPECT_EQ(head->headers.at("authorization"), "Bearer abc");
  EXPECT_TRUE(head->watch);
  EXPECT_FALSE(parseRequestHead("GET /api/v1/services?watched=1 HTTP/1.1\r\n\r\n")->watch);
  auto post = parseRequestHead("PATCH /x HTTP/1.1\r\nContent-Length: 42\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->contentLength, 42u);
  EXPECT_TRUE(post->chunked);
}

TEST(RequestHead, MalformedHeadsAreErrors) {
  for (const char* bad : {"", "GET\r\n\r\n", "GET /x SPDY/3\r\n\r\n", "GET /x HTTP/1.1\r\nNoColon\r\n\r\n",
                          "GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                          "GET /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"}) {
    EXPECT_FALSE(parseRequestHead(bad)) << bad;
  }
}

TEST(FaultPlan, ErrorsAndDelaysForAWhileAndForOneVerb) {
  FaultPlan plan;
  auto t0 = FaultPlan::Clock::time_point{} + std::chrono::hours(1);
  std::map<std::string, std::string> params{{"mode", "error"}, {"status", "429"}, {"retryAfter", "1"},
                                            {"seconds", "4"}, {"verb", "watch"}};
  auto param = [&](const char* name) { return params.count(name) ? params[name] : std::string(); };
  ASSERT_TRUE(plan.set(param, t0));
  EXPECT_EQ(plan.decide("watch", t0).status, 429);
  EXPECT_EQ(plan.decide("watch", t0).retryAfterSeconds, 1);
  EXPECT_EQ(plan.decide("get", t0).status, 0);
  EXPECT_EQ(plan.decide("watch", t0 + std::chrono::seconds(4)).status, 0);  // over
  params = {{"mode", "delay"}, {"delayMs", "200"}};
  ASSERT_TRUE(plan.set(param, t0));
  EXPECT_EQ(plan.decide("patch", t0).delay, std::chrono::milliseconds(200));
  EXPECT_EQ(plan.decide("patch", t0).status, 0);
  params = {{"mode", "explode"}};
  EXPECT_FALSE(plan.set(param, t0));
  EXPECT_EQ(plan.decide("patch", t0).delay, std::chrono::milliseconds(200));  // unchanged
  params = {{"mode", "none"}};
  ASSERT_TRUE(plan.set(param, t0));
  EXPECT_EQ(plan.decide("patch", t0).delay, std::chrono::milliseconds(0));
}

}  // namespace
}  // namespace l2a::lab
