#include "kube/event_recorder.h"

#include <gtest/gtest.h>

#include <future>

#include "support/fake_transport.h"

namespace l2a::kube {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  testing::FakeTransport transport;
  Client client{transport, Client::Options{.qps = 0, .maxRetries = 0}};
  EventRecorder::Clock::time_point clock = EventRecorder::Clock::time_point{} + 1h;
  Fixture() {
    transport.handler = [](const HttpRequest& r) -> Result<HttpResponse> {
      return HttpResponse{r.method == "POST" ? 201L : 200L, r.body, {}};
    };
  }
  EventRecorder::Options options() {
    return {.component = "l2a-agent", .host = "w1", .now = [this] { return clock; },
            .wallNow = [] { return std::string("2026-11-27T12:00:00Z"); }};
  }
  std::vector<HttpRequest> requests(const std::string& method) {
    std::vector<HttpRequest> out;
    for (const auto& r : transport.requests) if (r.method == method) out.push_back(r);
    return out;
  }
};

const InvolvedObject kWeb{"v1", "Service", "default", "web", "uid-web"};

TEST(EventRecorder, TheSameEventAgainIsCountedOnTheFirst) {
  Fixture f;
  EventRecorder recorder(f.client, f.options());
  for (int i = 0; i < 3; ++i) recorder.record(kWeb, "Normal", "AnnouncementStarted", "node w1 announces 198.18.0.128");
  recorder.flush();
  auto posts = f.requests("POST");
  auto patches = f.requests("PATCH");
  ASSERT_EQ(posts.size(), 1u);
  ASSERT_EQ(patches.size(), 2u);
  Json created = Json::parse(posts[0].body);
  EXPECT_EQ(created["involvedObject"]["uid"], "uid-web");
  EXPECT_EQ(created["source"]["host"], "w1");
  EXPECT_EQ(Json::parse(patches[1].body)["count"], 3);
  EXPECT_NE(patches[1].target.find(created["metadata"]["name"].get<std::string>()), std::string::npos);
  EXPECT_EQ(recorder.stats().created, 1u);
  EXPECT_EQ(recorder.stats().aggregated, 2u);
}

TEST(EventRecorder, EachObjectGetsABurstThenOnePerRefill) {
  Fixture f;
  EventRecorder recorder(f.client, f.options());
  for (int i = 0; i < 30; ++i) recorder.record(kWeb, "Normal", "Moved", "to node " + std::to_string(i));
  recorder.record({"v1", "Service", "default", "other", "uid-other"}, "Normal", "Moved", "to node 1");
  recorder.flush();
  EXPECT_EQ(f.requests("POST").size(), 26u);  // 25 for web, 1 for the other Service
  EXPECT_EQ(recorder.stats().rateLimited, 5u);
  f.clock += 300s;  // one more token
  recorder.record(kWeb, "Normal", "Moved", "to node 99");
  recorder.record(kWeb, "Normal", "Moved", "to node 100");
  recorder.flush();
  EXPECT_EQ(f.requests("POST").size(), 27u);
  EXPECT_EQ(recorder.stats().rateLimited, 6u);
}

TEST(EventRecorder, AfterTheWindowTheSameEventIsANewOne) {
  Fixture f;
  EventRecorder recorder(f.client, f.options());
  recorder.record(kWeb, "Warning", "Conflict", "another MAC answers");
  recorder.flush();
  f.clock += 601s;
  recorder.record(kWeb, "Warning", "Conflict", "another MAC answers");
  recorder.flush();
  EXPECT_EQ(f.requests("POST").size(), 2u);
  EXPECT_TRUE(f.requests("PATCH").empty());
}

// The recorder's caller (a reconcile loop) never waits on the API server: a stuck server fills
// the bounded queue, and what does not fit is dropped and counted.
TEST(EventRecorder, RecordingNeverWaitsAndTheQueueIsBounded) {
  Fixture f;
  std::promise<void> unblock;
  auto released = unblock.get_future().share();
  std::promise<void> entered;
  bool first = true;
  f.transport.handler = [&](const HttpRequest& r) -> Result<HttpResponse> {
    if (first) {
      first = false;
      entered.set_value();
      released.wait();
    }
    return HttpResponse{r.method == "POST" ? 201L : 200L, r.body, {}};
  };
  auto options = f.options();
  options.queueLimit = 3;
  EventRecorder recorder(f.client, options);
  recorder.record(kWeb, "Normal", "A", "held by the server");
  entered.get_future().wait();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) recorder.record(kWeb, "Normal", "B", std::to_string(i));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(recorder.stats().queueFull, 7u);
  unblock.set_value();
  recorder.flush();
  EXPECT_EQ(recorder.stats().created, 4u);
}

}  // namespace
}  // namespace l2a::kube
