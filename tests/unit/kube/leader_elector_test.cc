#include "kube/leader_elector.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <utility>

#include "support/fake_transport.h"

namespace l2a::kube {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// One Lease held in memory behind the fake transport, with resourceVersion checks.
struct LeaseServer {
  std::optional<Json> lease;
  int rv = 0;
  bool down = false;
  int conflicts = 0;
  // Runs once, after a read is answered and before the reader can write: another contender's
  // whole attempt slips in between (the interleaving sequential ticks never produce).
  std::function<void()> afterRead;
  std::map<std::string, int> requests;  // by method
  void attach(testing::FakeTransport& t) {
    t.handler = [this](const HttpRequest& r) -> Result<HttpResponse> {
      ++requests[r.method];
      if (down) return HttpResponse{500, R"({"message":"down"})", {}};
      if (r.method == "GET") {
        HttpResponse answer = lease ? HttpResponse{200, lease->dump(), {}} : HttpResponse{404, R"({"code":404})", {}};
        if (auto between = std::exchange(afterRead, nullptr)) between();
        return answer;
      }
      Json body = Json::parse(r.body);
      if (r.method == "POST") {
        if (lease) return ++conflicts, HttpResponse{409, R"({"reason":"AlreadyExists"})", {}};
      } else if (body["metadata"].value("resourceVersion", "") != (*lease)["metadata"].value("resourceVersion", "")) {
        return ++conflicts, HttpResponse{409, R"({"reason":"Conflict"})", {}};
      }
      body["metadata"]["resourceVersion"] = std::to_string(++rv);
      lease = body;
      return HttpResponse{200, body.dump(), {}};
    };
  }
};

struct Contender {
  Contender(LeaseServer& server, std::string id, std::chrono::system_clock::time_point* wall)
      : client(transport, Client::Options{.qps = 0, .maxRetries = 0, .sleep = [](auto) {}}),
        elector(client,
                {.ns = "l2a", .name = "l2a-operator", .identity = std::move(id),
                 .leaseDuration = 3s, .renewDeadline = 2s, .retryPeriod = 500ms},
                {.onStartedLeading = [this] { ++started; },
                 .onStoppedLeading = [this] { ++stopped; },
                 .onNewLeader = [this](const std::string& who) { leaders.push_back(who); }},
                [wall] { return *wall; }) {
    server.attach(transport);
  }
  testing::FakeTransport transport;
  Client client;
  LeaderElector elector;
  int started = 0, stopped = 0;
  std::vector<std::string> leaders;
};

class LeaderElectorTest : public ::testing::Test {
 protected:
  LeaseServer server;
  std::chrono::system_clock::time_point wall = std::chrono::system_clock::from_time_t(1795000000);
  Steady::time_point t = Steady::time_point{} + 10h;
};

TEST_F(LeaderElectorTest, CreatesTheLeaseWithClientGoFields) {
  Contender a(server, "node-a", &wall);
  a.elector.tick(t);
  EXPECT_TRUE(a.elector.isLeader());
  EXPECT_EQ(a.started, 1);
  const Json& spec = (*server.lease)["spec"];
  EXPECT_EQ(spec["holderIdentity"], "node-a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 3);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(spec["acquireTime"], "2026-11-18T11:06:40.000000Z");
  EXPECT_EQ(spec["renewTime"], spec["acquireTime"]);
}

TEST_F(LeaderElectorTest, RenewKeepsAcquireTimeAndMovesRenewTime) {
  Contender a(server, "node-a", &wall);
  a.elector.tick(t);
  wall += 500ms;
  EXPECT_EQ(a.elector.tick(t + 500ms), t + 1s);
  const Json& spec = (*server.lease)["spec"];
  EXPECT_EQ(spec["acquireTime"], "2026-11-18T11:06:40.000000Z");
  EXPECT_EQ(spec["renewTime"], "2026-11-18T11:06:40.500000Z");
  EXPECT_EQ(a.started, 1);
}

// client-go's fast path: the holder renews with one update over the record it last wrote; it
// reads only when that update is refused (someone else wrote), and then decides as on any read.
TEST_F(LeaderElectorTest, TheHolderRenewsWithOneWriteAndReadsOnlyAfterAConflict) {
  Contender a(server, "node-a", &wall);
  a.elector.tick(t);
  EXPECT_EQ(server.requests, (std::map<std::string, int>{{"GET", 1}, {"POST", 1}}));
  for (int i = 1; i <= 3; ++i) {
    wall += 500ms;
    a.elector.tick(t + i * 500ms);
  }
  EXPECT_EQ(server.requests, (std::map<std::string, int>{{"GET", 1}, {"POST", 1}, {"PUT", 3}}));
  EXPECT_EQ((*server.lease)["spec"]["renewTime"], "2026-11-18T11:06:41.500000Z");
  EXPECT_EQ((*server.lease)["spec"]["acquireTime"], "2026-11-18T11:06:40.000000Z");

  (*server.lease)["metadata"]["labels"] = {{"by", "someone else"}};  // another writer
  (*server.lease)["metadata"]["resourceVersion"] = std::to_string(++server.rv);
  wall += 500ms;
  a.elector.tick(t + 2s);
  EXPECT_EQ(server.conflicts, 1);
  EXPECT_EQ(server.requests["GET"], 2) << "read once after the refused update";
  EXPECT_EQ(server.requests["PUT"], 5);
  EXPECT_TRUE(a.elector.isLeader());
  EXPECT_EQ((*server.lease)["metadata"]["labels"]["by"], "someone else") << "written over what was read";
  EXPECT_EQ((*server.lease)["spec"]["leaseTransitions"], 0);

  (*server.lease)["spec"]["holderIdentity"] = "node-x";  // taken: a forced hand-over
  (*server.lease)["metadata"]["resourceVersion"] = std::to_string(++server.rv);
  for (auto now = t + 2500ms; now <= t + 5s; now += 500ms) {
    wall += 500ms;
    a.elector.tick(now);
  }
  EXPECT_FALSE(a.elector.isLeader()) << "the read saw node-x hold it; lost after the deadline";
  EXPECT_EQ((*server.lease)["spec"]["holderIdentity"], "node-x");
}

TEST_F(LeaderElectorTest, OthersWaitWhileTheHolderRenewsThenTakeOverAfterExpiry) {
  Contender a(server, "node-a", &wall), b(server, "node-b", &wall);
  a.elector.tick(t);
  for (auto now = t; now < t + 10s; now += 500ms, wall += 500ms) {
    a.elector.tick(now);
    b.elector.tick(now);
    ASSERT_TRUE(a.elector.isLeader());
    ASSERT_FALSE(b.elector.isLeader());
  }
  EXPECT_EQ(b.leaders, std::vector<std::string>{"node-a"});
  // node-a dies (no more renewals). node-b last saw a change at t+9.5s: it must wait a full
  // lease duration (3 s) by its own clock from then.
  auto last = t + 9500ms;
  b.elector.tick(last + 2500ms);
  EXPECT_FALSE(b.elector.isLeader());
  b.elector.tick(last + 3000ms);
  EXPECT_TRUE(b.elector.isLeader());
  EXPECT_EQ((*server.lease)["spec"]["leaseTransitions"], 1);
  EXPECT_EQ((*server.lease)["spec"]["holderIdentity"], "node-b");
}

// A contender configured with a shorter lease than the holder's must wait for the holder's
// record's duration, not its own (it took over a lease renewed in time before).
TEST_F(LeaderElectorTest, ExpiryIsJudgedByTheRecordsDurationNotOurs) {
  Contender a(server, "node-a", &wall);
  a.elector.tick(t);
  (*server.lease)["spec"]["leaseDurationSeconds"] = 10;  // the holder's own, longer lease
  Contender b(server, "node-b", &wall);                 // configured with 3 s
  b.elector.tick(t);
  b.elector.tick(t + 5s);
  EXPECT_FALSE(b.elector.isLeader()) << "took over after its own 3 s, not the record's 10 s";
  b.elector.tick(t + 10s);
  EXPECT_TRUE(b.elector.isLeader());
}

TEST_F(LeaderElectorTest, ARecordOfAnyShapeIsReadWithoutAnException) {
  Contender a(server, "node-a", &wall);
  a.elector.tick(t);
  for (const char* spec : {R"({"holderIdentity": 5})", R"({"holderIdentity": "x", "leaseDurationSeconds": "9"})",
                           R"({"leaseTransitions": [], "acquireTime": 3})", R"("broken")"}) {
    (*server.lease)["spec"] = Json::parse(spec);
    t += 20s;
    EXPECT_NO_THROW(a.elector.tick(t)) << spec;
  }
  EXPECT_TRUE(a.elector.isLeader());
}

TEST_F(LeaderElectorTest, ReleaseLetsAnotherTakeOverAtOnce) {
  Contender a(server, "node-a", &wall), b(server, "node-b", &wall);
  a.elector.tick(t);
  b.elector.tick(t);
  ASSERT_TRUE(a.elector.release().ok());
  EXPECT_FALSE(a.elector.isLeader());
  EXPECT_EQ(a.stopped, 1);
  EXPECT_EQ((*server.lease)["spec"]["holderIdentity"], "");
  b.elector.tick(t + 500ms);
  EXPECT_TRUE(b.elector.isLeader());
}

TEST_F(LeaderElectorTest, StopsLeadingWhenItCannotRenewWithinTheDeadline) {
  Contender a(server, "node-a", &wall);
  a.elector.tick(t);
  server.down = true;
  a.elector.tick(t + 500ms);
  a.elector.tick(t + 1500ms);
  EXPECT_TRUE(a.elector.isLeader());  // within the renew deadline (2 s)
  a.elector.tick(t + 2000ms);
  EXPECT_FALSE(a.elector.isLeader());
  EXPECT_EQ(a.stopped, 1);
}

// Stretched (a node Lease in a large cluster): from the next attempt on, the record says the
// longer duration, the next attempt comes after the longer period, and the holder lets go only
// after the longer deadline of the record it wrote.
// client-go bounds a renewal by the renew deadline: each request is told what is left of it (the
// node Lease's transport takes it as its timeout), an acquisition what is left of one retry
// period, and an attempt with nothing left sends nothing.
TEST_F(LeaderElectorTest, EachRequestIsBoundedByWhatIsLeftUntilTheRenewDeadline) {
  testing::FakeTransport transport;
  server.attach(transport);
  Client client(transport, Client::Options{.qps = 0, .maxRetries = 0, .sleep = [](auto) {}});
  std::vector<std::chrono::milliseconds> budgets;
  LeaderElector e(client,
                  {.ns = "l2a", .name = "l2a-node-a", .identity = "a", .leaseDuration = 3s, .renewDeadline = 2s,
                   .retryPeriod = 500ms, .requestBudget = [&](std::chrono::milliseconds left) { budgets.push_back(left); }},
                  {}, [this] { return wall; });
  auto near = [](std::chrono::milliseconds got, std::chrono::milliseconds want) {
    return got <= want && got > want - 100ms;  // less what the attempt took so far
  };
  e.tick(t);  // acquired: a read (nothing there) and a create, within one retry period
  ASSERT_TRUE(e.isLeader());
  ASSERT_EQ(budgets.size(), 2u);
  EXPECT_TRUE(near(budgets[0], 500ms)) << budgets[0].count();
  EXPECT_TRUE(near(budgets[1], 500ms)) << budgets[1].count();
  budgets.clear();
  e.tick(t + 1500ms);  // the holder, 1.5 s after its last renewal: 0.5 s left of the deadline
  ASSERT_EQ(budgets.size(), 1u);  // its one write
  EXPECT_TRUE(near(budgets[0], 500ms)) << budgets[0].count();
  budgets.clear();
  e.tick(t + 3400ms);  // 1.9 s after it: 100 ms left, and that is what the write may take
  ASSERT_EQ(budgets.size(), 1u);
  EXPECT_TRUE(near(budgets[0], 100ms)) << budgets[0].count();
  EXPECT_TRUE(e.isLeader());
  server.down = true;
  int sent = server.requests["GET"] + server.requests["PUT"] + server.requests["POST"];
  e.tick(t + 5400ms);  // the deadline itself: nothing left, nothing sent, the lease lost
  EXPECT_EQ(server.requests["GET"] + server.requests["PUT"] + server.requests["POST"], sent);
  EXPECT_TRUE(budgets.size() == 1u);
  EXPECT_FALSE(e.isLeader());
}

TEST_F(LeaderElectorTest, AStretchedLeaseIsWrittenRenewedAndLostByItsOwnPeriods) {
  Contender a(server, "node-a", &wall);
  EXPECT_EQ(a.elector.tick(t), t + 500ms);
  a.elector.stretch(2.5);
  EXPECT_EQ((*server.lease)["spec"]["leaseDurationSeconds"], 3) << "written before the stretch";
  EXPECT_EQ(a.elector.tick(t + 500ms), t + 500ms + 1250ms);
  EXPECT_EQ((*server.lease)["spec"]["leaseDurationSeconds"], 8);  // 7.5 s, in whole seconds
  LeaseTiming timing = a.elector.timing();
  EXPECT_EQ(timing.leaseDuration, 8s);
  EXPECT_EQ(timing.renewDeadline, 5s);
  EXPECT_EQ(timing.retryPeriod, 1250ms);

  server.down = true;
  auto renewed = t + 500ms;
  for (auto failed : {1250ms, 2500ms, 3750ms}) EXPECT_EQ(a.elector.tick(renewed + failed), renewed + failed + 1250ms);
  EXPECT_TRUE(a.elector.isLeader()) << "let go within the stretched deadline (5 s)";
  a.elector.tick(renewed + 5000ms);
  EXPECT_FALSE(a.elector.isLeader());

  a.elector.stretch(0.1);  // never below the config's own periods
  server.down = false;
  a.elector.tick(renewed + 6250ms);
  EXPECT_EQ((*server.lease)["spec"]["leaseDurationSeconds"], 3);
  EXPECT_EQ(a.elector.timing().retryPeriod, 500ms);
}

// The owners are asked at every write and set once known; a record that has some keeps them.
TEST_F(LeaderElectorTest, OwnersAreWrittenOnceKnownAndFollowTheOwner) {
  Json owners = Json::array();
  testing::FakeTransport transport;
  server.attach(transport);
  Client client(transport, Client::Options{.qps = 0, .maxRetries = 0, .sleep = [](auto) {}});
  LeaderElector elector(client,
                        {.ns = "l2a", .name = "l2a-node-a", .identity = "node-a", .leaseDuration = 3s,
                         .renewDeadline = 2s, .retryPeriod = 500ms, .owners = [&] { return owners; }},
                        {}, [this] { return wall; });
  elector.tick(t);
  EXPECT_FALSE((*server.lease)["metadata"].contains("ownerReferences")) << "none known yet";
  owners = Json::array({{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "node-a"}, {"uid", "u-1"}}});
  elector.tick(t + 500ms);
  EXPECT_EQ((*server.lease)["metadata"]["ownerReferences"], owners);
  Json first = owners;
  owners = Json::array();
  elector.tick(t + 1s);
  EXPECT_EQ((*server.lease)["metadata"]["ownerReferences"], first) << "kept while the owner is not known";
  owners = Json::array({{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "node-a"}, {"uid", "u-2"}}});
  elector.tick(t + 1500ms);
  EXPECT_EQ((*server.lease)["metadata"]["ownerReferences"], owners) << "the Node made again: its new uid";
}

// Two contenders read the same record and both write: the second write carries a stale
// version (or creates what exists) and is refused, so exactly one leads.
TEST_F(LeaderElectorTest, ConflictingCreatesLeaveExactlyOneLeader) {
  Contender a(server, "node-a", &wall), b(server, "node-b", &wall);
  server.afterRead = [&] { b.elector.tick(t); };  // b reads, creates and leads before a writes
  a.elector.tick(t);
  EXPECT_EQ(server.conflicts, 1);
  EXPECT_TRUE(b.elector.isLeader());
  EXPECT_FALSE(a.elector.isLeader());
  EXPECT_EQ((*server.lease)["spec"]["holderIdentity"], "node-b");
}

TEST_F(LeaderElectorTest, ConflictingTakeOversLeaveExactlyOneLeader) {
  Contender gone(server, "node-gone", &wall), a(server, "node-a", &wall), b(server, "node-b", &wall);
  gone.elector.tick(t);  // holds, then dies
  a.elector.tick(t);
  b.elector.tick(t);
  auto expired = t + 3s;
  server.afterRead = [&] { b.elector.tick(expired); };  // b takes over between a's read and write
  a.elector.tick(expired);
  EXPECT_EQ(server.conflicts, 1);
  EXPECT_EQ(a.elector.isLeader() + b.elector.isLeader(), 1);
  EXPECT_TRUE(b.elector.isLeader());
  EXPECT_EQ((*server.lease)["spec"]["leaseTransitions"], 1);
}

TEST(MicroTime, Rfc3339WithMicroseconds) {
  auto t = std::chrono::system_clock::from_time_t(0) + 1234567us;
  EXPECT_EQ(formatMicroTime(t), "1970-01-01T00:00:01.234567Z");
}

}  // namespace
}  // namespace l2a::kube
