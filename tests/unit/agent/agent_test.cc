// The agent in-process (Cilium's newFixture habit): the lab API server on loopback, an Agent over
// a responder on a fake frame I/O and scripted links, its informers, node Lease and loop on
// threads of their own — real concurrency, no sleeps in the decisions.
#include "agent/agent.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "kube/httplib_transport.h"
#include "lab/api_server.h"
#include "policy/rendezvous.h"
#include "wire/heartbeat.h"
#include "support/fake_frame_io.h"

namespace l2a::agent {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// A log sink that holds the thread writing a line containing `pattern` until released: the
// reconcile loop caught in the middle of its work.
class HoldingSink : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit HoldingSink(std::string pattern) : pattern_(std::move(pattern)) {}
  bool waitHeld(std::chrono::milliseconds limit) { return held_.get_future().wait_for(limit) == std::future_status::ready; }
  void release() { release_.set_value(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (std::string_view(msg.payload.data(), msg.payload.size()).find(pattern_) == std::string_view::npos) return;
    if (once_.exchange(true)) return;
    held_.set_value();
    releasedFuture_.wait();
  }
  void flush_() override {}

 private:
  std::string pattern_;
  std::atomic<bool> once_{false};
  std::promise<void> held_, release_;
  std::shared_future<void> releasedFuture_ = release_.get_future().share();
};

struct LabApi {
  lab::ApiServer server{lab::ApiServerOptions{}};
  std::thread serving;
  std::unique_ptr<kube::HttplibTransport> transport;
  std::unique_ptr<kube::Client> client;
  LabApi() {
    auto url = server.start();
    EXPECT_TRUE(url.ok());
    serving = std::thread([this] { server.serve(); });
    kube::ClientConfig config;
    config.server = *url;
    transport = std::make_unique<kube::HttplibTransport>(config);
    client = std::make_unique<kube::Client>(*transport);
  }
  ~LabApi() {
    server.shutdown();
    serving.join();
  }
  void create(const kube::Resource& r, const std::string& ns, const Json& object) {
    ASSERT_TRUE(client->create(r, ns, object).ok()) << object.dump();
  }
};

const kube::Resource kPolicies{"l2announcer.io", "v1alpha1", "l2announcementpolicies", false, "L2AnnouncementPolicy"};

// An l2announcer.io CRD for RESOURCE, any object accepted (the lab API server serves it at once).
// L2Announcement has no status subresource (deploy/crds): its writer owns the whole object.
void createCrd(LabApi& api, const kube::Resource& resource, const std::string& singular) {
  Json schema{{"openAPIV3Schema", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}};
  Json version{{"name", "v1alpha1"}, {"served", true}, {"storage", true}, {"schema", schema}};
  if (resource.plural != kL2Announcements.plural) version["subresources"] = {{"status", Json::object()}};
  api.create(kube::resources::kCustomResourceDefinitions, "",
             {{"metadata", {{"name", resource.plural + ".l2announcer.io"}}},
              {"spec", {{"group", "l2announcer.io"}, {"scope", resource.namespaced ? "Namespaced" : "Cluster"},
                        {"names", {{"kind", resource.kind}, {"plural", resource.plural}, {"singular", singular}}},
                        {"versions", Json::array({version})}}}});
}

void seedCluster(LabApi& api) {
  api.create(kube::resources::kNamespaces, "", {{"metadata", {{"name", "l2announcer"}}}});
  createCrd(api, kPolicies, "l2announcementpolicy");
  api.create(kPolicies, "", Json::parse(R"({"metadata": {"name": "all"},
    "spec": {"loadBalancerIPs": true, "interfaces": ["^eth0$"]}})"));
  api.create(kube::resources::kNodes, "", {{"metadata", {{"name", "n1"}}}});
  api.create(kube::resources::kServices, "default", Json::parse(R"({"metadata": {"name": "web"},
    "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}})"));
  ASSERT_TRUE(api.client->patch(kube::resources::kServices, "default", "web",
                                Json::parse(R"({"status": {"loadBalancer": {"ingress": [{"ip": "198.18.0.200"}]}}})"),
                                "status"));
}

// Before: the loop held the agent's lock while it called the responder and logged, and the
// responder's packet thread took that lock to report a conflict or a link change — one slow
// log line (or a big reconcile) silenced ARP on the node.
TEST(Agent, ThePacketThreadNeverWaitsWhileTheLoopWorks) {
  LabApi api;
  seedCluster(api);
  auto sink = std::make_shared<HoldingSink>("event=announcing address=198.18.0.200");
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("agent-test", sink));

  testing::FakeFrameIo io;
  responder::Responder responder(io, responder::AnnouncementConfig{});
  net::LinkInfo eth0{.ifindex = 2, .name = "eth0", .mac = *packet::MacAddress::parse("02:00:00:00:00:01"),
                     .ethernet = true, .up = true, .carrier = true};
  Agent agent(*api.client, *api.client, responder,
              AgentOptions{.nodeName = "n1", .leaseDuration = 2000ms, .renewDeadline = 1500ms, .retryPeriod = 300ms,
                           .resyncPeriod = 200ms},
              {{kPolicies, "l2announcer.io"}}, [eth0] { return std::vector<net::LinkInfo>{eth0}; });
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (kube::Informer* informer : agent.informers()) threads.emplace_back([informer, &stop] { informer->run(stop); });
  kube::LeaseDriver driver;
  driver.add(agent.nodeLease());
  threads.emplace_back([&] { driver.run(stop); });
  std::thread loop([&] { agent.run(stop); });

  // The loop is now inside its work (writing the line that says it announces the address).
  ASSERT_TRUE(sink->waitHeld(20s)) << "the agent never announced the Service's address";
  auto reported = std::async(std::launch::async, [&] {
    agent.conflictSeen(*packet::parseIpAddress("198.18.0.200"), *packet::MacAddress::parse("02:00:00:00:00:99"), "eth0");
    agent.linksChanged();
  });
  EXPECT_EQ(reported.wait_for(2s), std::future_status::ready) << "the packet thread waited for the loop";
  sink->release();
  reported.wait();

  stop = true;
  agent.linksChanged();
  loop.join();
  for (auto& t : threads) t.join();
  spdlog::set_default_logger(previous);
  EXPECT_EQ(agent.status().announced, std::vector<std::string>{"198.18.0.200"});
}

// The agent of node n1 on the lab API server, with its informers, Lease and loop running.
struct RunningAgent {
  testing::FakeFrameIo io;
  responder::Responder responder{io, responder::AnnouncementConfig{}};
  Agent agent;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  kube::LeaseDriver driver;
  explicit RunningAgent(LabApi& api, double leaseRenewals = 0)
      : agent(*api.client, *api.client, responder,
              AgentOptions{.nodeName = "n1", .leaseDuration = 2000ms, .renewDeadline = 1500ms, .retryPeriod = 300ms,
                           .leaseRenewals = leaseRenewals, .resyncPeriod = 200ms},
              {{kPolicies, "l2announcer.io"}}, [] {
                return std::vector<net::LinkInfo>{{.ifindex = 2, .name = "eth0",
                                                   .mac = *packet::MacAddress::parse("02:00:00:00:00:01"),
                                                   .ethernet = true, .up = true, .carrier = true}};
              }) {
    for (kube::Informer* informer : agent.informers()) threads.emplace_back([this, informer] { informer->run(stop); });
    driver.add(agent.nodeLease());
    threads.emplace_back([this] { driver.run(stop); });
    threads.emplace_back([this] { agent.run(stop); });
  }
  ~RunningAgent() {
    stop = true;
    agent.linksChanged();
    for (auto& t : threads) t.join();
  }
};

void addServices(LabApi& api, int count) {
  for (int i = 1; i <= count; ++i) {
    std::string name = "svc" + std::to_string(i);
    api.create(kube::resources::kServices, "default",
               {{"metadata", {{"name", name}}}, {"spec", {{"type", "LoadBalancer"}, {"ports", {{{"port", 80}}}}}}});
    ASSERT_TRUE(api.client->patch(kube::resources::kServices, "default", name,
                                  {{"status", {{"loadBalancer", {{"ingress", {{{"ip", "198.18.1." + std::to_string(i)}}}}}}}}},
                                  "status"));
  }
}

std::vector<Json> eventsWithReason(LabApi& api, const std::string& reason) {
  std::vector<Json> out;
  auto list = api.client->list(kube::resources::kEvents, "default", {});
  if (!list) return out;
  for (const Json& e : (*list)["items"]) {
    if (e.value("reason", "") == reason) out.push_back(e);
  }
  return out;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 20s) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

TEST(Agent, AMassTakeOverIsOneEventOnTheNodeNotOnePerService) {
  LabApi api;
  seedCluster(api);
  addServices(api, 29);  // 30 with "web"
  RunningAgent running(api);
  ASSERT_TRUE(eventually([&] { return running.agent.status().announced.size() == 30; }));
  ASSERT_TRUE(eventually([&] { return !eventsWithReason(api, "AnnouncementsStarted").empty(); }));
  auto events = eventsWithReason(api, "AnnouncementsStarted");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["involvedObject"]["kind"], "Node");
  EXPECT_EQ(events[0]["involvedObject"]["name"], "n1");
  EXPECT_EQ(events[0]["involvedObject"]["uid"], "n1");  // as the kubelet's: kubectl describe node finds it
  EXPECT_NE(events[0]["message"].get<std::string>().find("30 addresses of 30 Services"), std::string::npos)
      << events[0]["message"];
  EXPECT_TRUE(eventsWithReason(api, "AnnouncementStarted").empty());
}

TEST(Agent, AFewTakeOversAreEventsOnTheirServices) {
  LabApi api;
  seedCluster(api);
  addServices(api, 2);
  RunningAgent running(api);
  ASSERT_TRUE(eventually([&] { return running.agent.status().announced.size() == 3; }));
  ASSERT_TRUE(eventually([&] { return eventsWithReason(api, "AnnouncementStarted").size() == 3; }));
  for (const Json& e : eventsWithReason(api, "AnnouncementStarted")) EXPECT_EQ(e["involvedObject"]["kind"], "Service");
  EXPECT_TRUE(eventsWithReason(api, "AnnouncementsStarted").empty());
}

// However a test ends, its threads stop and are joined before what they use goes.
struct Joiner {
  std::function<void()> stopAll;
  ~Joiner() { stopAll(); }
};

// Three nodes, 60 addresses (seedCluster's and 59 more): n1 (the agent) and n2, n3 (simulated).
// What n1 owns from the start, and where n2's addresses go once n2 is gone.
struct SharesOfThree {
  std::set<std::string> mine, ahead, toN3;  // n1's; n2's that go to n1; n2's that go to n3
};

SharesOfThree seedThreeNodes(LabApi& api) {
  seedCluster(api);
  addServices(api, 59);  // 60 with "web"
  for (const char* n : {"n2", "n3"}) api.create(kube::resources::kNodes, "", {{"metadata", {{"name", n}}}});
  std::vector<std::string> addresses{"198.18.0.200"};
  for (int i = 1; i <= 59; ++i) addresses.push_back("198.18.1." + std::to_string(i));
  SharesOfThree shares;
  for (const std::string& a : addresses) {
    std::string owner = policy::chooseOwner(a, {{"n1"}, {"n2"}, {"n3"}});
    if (owner == "n1") shares.mine.insert(a);
    if (owner == "n2") (policy::chooseOwner(a, {{"n1"}, {"n3"}}) == "n1" ? shares.ahead : shares.toN3).insert(a);
  }
  return shares;
}

// A simulated peer's node Lease, renewed by whichever LeaseDriver it is added to.
std::unique_ptr<kube::LeaderElector> peerLease(LabApi& api, const std::string& node) {
  return std::make_unique<kube::LeaderElector>(
      *api.client,
      kube::LeaderElectionConfig{.ns = "l2announcer", .name = std::string(kNodeLeasePrefix) + node, .identity = node,
                                 .leaseDuration = 2000ms, .renewDeadline = 1500ms, .retryPeriod = 300ms},
      kube::LeaderCallbacks{});
}

// A peer falls silent on the wire: what the last plan names this node the successor of is
// answered at once, by the thread that found the silence (the packet thread) — while the
// reconcile thread is held in a pass (at 10,000 addresses on a loaded machine it may be
// planning, or waiting for a CPU, for 100 ms and more); the next pass confirms them. Peers n2
// and n3 are simulated: Leases renewed here, heartbeats fed to the agent's Heartbeats; n3 stays
// heard (with no peer heard at all, a node cannot tell whether it is the one cut off, and
// claims nothing ahead).
TEST(Agent, APeerFallingSilentLosesItsAddressesToTheirSuccessorsWithThePassHeld) {
  LabApi api;
  SharesOfThree shares = seedThreeNodes(api);
  const std::set<std::string>& mine = shares.mine, &ahead = shares.ahead;
  ASSERT_FALSE(ahead.empty());
  ASSERT_FALSE(shares.toN3.empty());

  // Links read by every pass; held on request, so a pass can be stopped before it plans.
  std::mutex gate;
  std::condition_variable gateChanged;
  bool holding = false;
  int entered = 0, passes = 0;  // passes held here; passes let through while holding
  auto links = [&] {
    std::unique_lock lock(gate);
    ++entered;
    gateChanged.notify_all();
    gateChanged.wait(lock, [&] { return !holding || passes > 0; });
    if (holding) --passes;
    return std::vector<net::LinkInfo>{{.ifindex = 2, .name = "eth0", .mac = *packet::MacAddress::parse("02:00:00:00:00:01"),
                                       .ethernet = true, .up = true, .carrier = true}};
  };
  testing::FakeFrameIo io, wireIo;
  responder::Responder responder(io, responder::AnnouncementConfig{});
  Agent agent(*api.client, *api.client, responder,
              AgentOptions{.nodeName = "n1", .leaseDuration = 2000ms, .renewDeadline = 1500ms, .retryPeriod = 300ms,
                           .resyncPeriod = 200ms},
              {{kPolicies, "l2announcer.io"}}, links);
  wire::Heartbeats heartbeats(wireIo, wire::HeartbeatOptions{.node = "n1"}, [&] { agent.wireChanged(); });
  agent.setWire(&heartbeats);
  std::atomic<bool> stop{false}, n2Beats{true};
  kube::LeaseDriver peerDriver, driver;
  std::vector<std::unique_ptr<kube::LeaderElector>> peers;
  std::vector<std::thread> threads;
  // However the test ends, every thread stops (a held pass let go).
  Joiner joiner{[&] {
    {
      std::lock_guard lock(gate);
      holding = false;
      gateChanged.notify_all();
    }
    stop = true;
    agent.linksChanged();
    for (auto& t : threads) t.join();
  }};
  // The peers' Leases first: n1's first plan sees them live (a first holder keeps what it took).
  for (const char* n : {"n2", "n3"}) {
    peers.push_back(peerLease(api, n));
    peerDriver.add(*peers.back());
  }
  threads.emplace_back([&] { peerDriver.run(stop); });
  ASSERT_TRUE(eventually([&] { return peers[0]->isLeader() && peers[1]->isLeader(); }));
  for (kube::Informer* informer : agent.informers()) threads.emplace_back([informer, &stop] { informer->run(stop); });
  driver.add(agent.nodeLease());
  threads.emplace_back([&] { driver.run(stop); });
  // The peers' heartbeats every 40 ms, and the wire judged every 10 ms (the responder's loop).
  threads.emplace_back([&] {
    uint64_t sequence = 0;
    for (auto next = Steady::now(); !stop; std::this_thread::sleep_for(10ms)) {
      auto now = Steady::now();
      if (now >= next) {
        ++sequence;
        for (const char* n : {"n2", "n3"}) {
          if (std::string(n) == "n2" && !n2Beats) continue;
          wire::Heartbeat beat{.node = n, .port = "eth0", .incarnation = 1, .sequence = sequence, .intervalMs = 40};
          auto frame = wire::buildHeartbeat(*packet::MacAddress::parse(n == std::string("n2") ? "02:00:00:00:00:02"
                                                                                               : "02:00:00:00:00:03"),
                                            beat);
          heartbeats.handleFrame(2, frame, now);
        }
        next = now + 40ms;
      }
      heartbeats.tick(now);
    }
  });
  threads.emplace_back([&] { agent.run(stop); });
  auto announced = [&] {
    auto list = agent.status().announced;
    return std::set<std::string>(list.begin(), list.end());
  };
  ASSERT_TRUE(eventually([&] { return announced() == mine; })) << "n1 never settled on its share";

  int held = 0;
  {  // A pass held before it plans (the reconcile thread busy); n2 falls silent meanwhile.
    std::unique_lock lock(gate);
    holding = true;
    int before = entered;
    ASSERT_TRUE(gateChanged.wait_for(lock, 5s, [&] { return entered > before; }));
    held = entered;
  }
  n2Beats = false;
  ASSERT_TRUE(eventually([&] { return heartbeats.view().excluded.count("n2") == 1; }));
  std::set<std::string> expected = mine;
  expected.insert(ahead.begin(), ahead.end());
  auto answering = [&] {
    std::set<std::string> out;
    for (const responder::ClaimInfo& c : responder.claims()) out.insert(packet::toString(c.address));
    return out;
  };
  // Claimed by the thread that found the silence, the reconcile thread still held.
  EXPECT_TRUE(eventually([&] { return answering() == expected; })) << "not answered while the pass was held";
  {
    std::unique_lock lock(gate);
    EXPECT_EQ(entered, held) << "a pass ran meanwhile";
    holding = false;
    gateChanged.notify_all();
  }
  EXPECT_TRUE(eventually([&] { return announced() == expected; }));
  // The plan that follows confirms them (and only then counts them).
  EXPECT_TRUE(eventually([&] { return agent.status().claimedAhead > 0; }));
  AgentStatus st = agent.status();
  EXPECT_EQ(st.claimedAhead, ahead.size());
  EXPECT_EQ(st.takeoversByCause["wire"], ahead.size());
  EXPECT_EQ(st.givenBackSoon, 0u);
}

// Without heartbeats (or with a lone survivor, who hears nobody) a node's death is its Lease
// expiring: what the last plan names this node the successor of is claimed then, ahead of the
// plan, as on a silence on the wire. n2 and n3 are simulated by their Leases; n2's stops being
// renewed.
TEST(Agent, APeerWhoseLeaseExpiresLosesItsAddressesToTheirSuccessorsAheadOfThePlan) {
  LabApi api;
  SharesOfThree shares = seedThreeNodes(api);
  const std::set<std::string>& mine = shares.mine, &ahead = shares.ahead;
  ASSERT_FALSE(ahead.empty());
  std::atomic<bool> stopN2{false}, stopPeers{false};
  kube::LeaseDriver n2Driver, n3Driver;
  std::vector<std::unique_ptr<kube::LeaderElector>> peers;
  std::vector<std::thread> peerThreads;
  Joiner joiner{[&] {
    stopN2 = stopPeers = true;
    for (auto& t : peerThreads) t.join();
  }};
  for (const char* n : {"n2", "n3"}) peers.push_back(peerLease(api, n));
  n2Driver.add(*peers[0]);
  n3Driver.add(*peers[1]);
  peerThreads.emplace_back([&] { n2Driver.run(stopN2); });
  peerThreads.emplace_back([&] { n3Driver.run(stopPeers); });
  ASSERT_TRUE(eventually([&] { return peers[0]->isLeader() && peers[1]->isLeader(); }));
  RunningAgent running(api);  // stopped before the peers (declared after them)
  auto announced = [&] {
    auto list = running.agent.status().announced;
    return std::set<std::string>(list.begin(), list.end());
  };
  ASSERT_TRUE(eventually([&] { return announced() == mine; })) << "n1 never settled on its share";
  stopN2 = true;  // n2's Lease is no longer renewed: expired 2 s after its last renewal
  std::set<std::string> expected = mine;
  expected.insert(ahead.begin(), ahead.end());
  EXPECT_TRUE(eventually([&] { return announced() == expected; }));
  EXPECT_TRUE(eventually([&] { return running.agent.status().claimedAhead > 0; }));
  AgentStatus st = running.agent.status();
  EXPECT_EQ(st.claimedAhead, ahead.size()) << "claimed by the plan, not ahead of it";
  EXPECT_EQ(st.takeoversByCause["lease"], ahead.size());
  EXPECT_EQ(st.givenBackSoon, 0u);
}

// A node rendezvous hashing prefers to n1 for seedCluster's address, which joins when told:
// its Node made and its node Lease renewed here until the test ends. Declared before the
// agent, so that the agent stops first.
struct PreferredPeer {
  std::string name;
  std::atomic<bool> stop{false};
  kube::LeaseDriver driver;
  std::unique_ptr<kube::LeaderElector> lease;
  std::thread thread;
  PreferredPeer() {
    for (int i = 2; name.empty() && i < 50; ++i) {
      std::string n = "n" + std::to_string(i);
      if (policy::chooseOwner("198.18.0.200", {{"n1"}, {n}}) == n) name = n;
    }
  }
  ~PreferredPeer() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
  // Whether its Lease is held.
  bool join(LabApi& api) {
    api.create(kube::resources::kNodes, "", {{"metadata", {{"name", name}}}});
    lease = peerLease(api, name);
    driver.add(*lease);
    thread = std::thread([this] { driver.run(stop); });
    return eventually([&] { return lease->isLeader(); });
  }
};

// An address its holder keeps although rendezvous hashing now gives it to another node (that
// node joined, or came back: stickiness) is counted as kept — what --rebalance would move, and
// over all nodes how far the spread is from the hashing's.
TEST(Agent, AnAddressKeptAgainstRendezvousHashingIsCountedAsKept) {
  LabApi api;
  seedCluster(api);
  PreferredPeer peer;
  ASSERT_FALSE(peer.name.empty());
  RunningAgent running(api);  // stopped before the peer (declared after it)
  ASSERT_TRUE(eventually([&] { return running.agent.status().announced.size() == 1; }));
  EXPECT_EQ(running.agent.status().kept, 0u) << "alone, n1 is the hashing's choice";
  ASSERT_TRUE(peer.join(api));
  EXPECT_TRUE(eventually([&] { return running.agent.status().kept == 1; })) << "live " << peer.name << " is preferred";
  EXPECT_EQ(running.agent.status().announced.size(), 1u) << "kept, not moved (no --rebalance)";
}

// Found at 10,000 Services: two nodes each announced an address that no record and no heartbeat
// showed the other holding (heartbeats list 64 addresses, the records were minutes behind); each
// was its rightful owner by its own plan and announced again over the other, for good. A peer
// heard announcing what we announce holds it now: the plans agree on one of the two (rendezvous
// hashing among them), and the other lets it go.
TEST(Agent, APeerHeardAnnouncingOurAddressHoldsItAndOneOfTheTwoLetsGo) {
  LabApi api;
  seedCluster(api);
  PreferredPeer peer;
  ASSERT_FALSE(peer.name.empty());
  RunningAgent running(api);  // stopped before the peer (declared after it)
  ASSERT_TRUE(eventually([&] { return running.agent.status().announced.size() == 1; }));
  ASSERT_TRUE(peer.join(api));
  ASSERT_TRUE(api.client->patch(kube::resources::kLeases, "l2announcer", std::string(kNodeLeasePrefix) + peer.name,
                                {{"metadata", {{"annotations", {{kInterfacesAnnotation,
                                    R"({"eth0":{"up":true,"mac":"02:00:00:00:00:99"}})"}}}}}}));
  ASSERT_TRUE(eventually([&] { return running.agent.status().kept == 1; })) << "kept by n1, the only holder it sees";
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(running.agent.status().announced.size(), 1u) << "kept, not moved (no --rebalance)";
  // The peer announces it too (as after a pause: it took it over, n1 took it back).
  auto stillMine = [&] { return running.agent.status().announced.size() == 1; };
  ASSERT_TRUE(eventually([&] {
    running.agent.conflictSeen(*packet::parseIpAddress("198.18.0.200"), *packet::MacAddress::parse("02:00:00:00:00:99"),
                               "eth0");
    std::this_thread::sleep_for(200ms);
    return !stillMine();
  }, 5s)) << "n1 keeps announcing over " << peer.name;
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(stillMine()) << "taken back from " << peer.name;
}

// Every agent watches every node Lease: N nodes renewing every retry period are N² watch events.
// Past the cluster's budget of renewals a second, the node Lease's periods grow with the nodes
// (their Leases counted), and shrink back when nodes go.
TEST(Agent, TheNodeLeaseStretchesWithTheClusterSoTheRenewalsStayWithinTheBudget) {
  LabApi api;
  seedCluster(api);
  auto nodeLease = [](const std::string& node) {
    return Json{{"metadata", {{"name", kNodeLeasePrefix + node}}},
                {"spec", {{"holderIdentity", node}, {"leaseDurationSeconds", 2}}}};
  };
  for (int i = 2; i <= 30; ++i) api.create(kube::resources::kLeases, "l2announcer", nodeLease("n" + std::to_string(i)));
  RunningAgent running(api, 50);  // 30 nodes, 50 renewals a second: each node every 0.6 s (twice 300 ms)
  auto written = [&] {
    auto lease = api.client->get(kube::resources::kLeases, "l2announcer", std::string(kNodeLeasePrefix) + "n1");
    return lease ? (*lease)["spec"].value("leaseDurationSeconds", 0) : 0;
  };
  ASSERT_TRUE(eventually([&] { return written() == 4; })) << "written: " << written();
  kube::LeaseTiming timing = running.agent.nodeLease().timing();
  EXPECT_EQ(timing.leaseDuration, 4s);
  EXPECT_EQ(timing.renewDeadline, 3s);
  EXPECT_EQ(timing.retryPeriod, 600ms);
  EXPECT_TRUE(eventually([&] { return running.agent.status().announced.size() == 1; })) << "frozen by its own stretch";

  for (int i = 11; i <= 30; ++i) {
    std::string name = kNodeLeasePrefix + ("n" + std::to_string(i));
    ASSERT_TRUE(api.client->remove(kube::resources::kLeases, "l2announcer", name));
  }
  EXPECT_TRUE(eventually([&] { return written() == 2; })) << "10 nodes: its own periods again, written " << written();
  EXPECT_EQ(running.agent.nodeLease().timing().retryPeriod, 300ms);
}

// The node Lease names its Node as owner (as the kubelet's node Leases do): the garbage
// collector removes it with the Node, and a removed node no longer counts toward the cluster.
TEST(Agent, TheNodeLeaseIsOwnedByItsNode) {
  LabApi api;
  seedCluster(api);
  auto node = api.client->get(kube::resources::kNodes, "", "n1");
  ASSERT_TRUE(node);
  std::string uid = (*node)["metadata"].value("uid", "");
  ASSERT_FALSE(uid.empty());
  RunningAgent running(api);
  auto owners = [&] {
    auto lease = api.client->get(kube::resources::kLeases, "l2announcer", std::string(kNodeLeasePrefix) + "n1");
    return lease ? (*lease)["metadata"].value("ownerReferences", Json::array()) : Json::array();
  };
  ASSERT_TRUE(eventually([&] { return !owners().empty(); })) << "no owner on the node Lease";
  Json expected = Json::array({{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "n1"}, {"uid", uid}}});
  EXPECT_EQ(owners(), expected);
}

// A Service update the plan cannot see (a condition someone writes) costs no plan; one it can
// see (another address) does. Before, every update re-planned: at 10,000 Services the
// condition writes alone kept every agent re-planning 10,000 addresses many times a second.
TEST(Agent, AServiceUpdateThePlanCannotSeeCostsNoPlan) {
  LabApi api;
  seedCluster(api);
  RunningAgent running(api);
  ASSERT_TRUE(eventually([&] { return running.agent.status().announced.size() == 1; }));
  auto planned = [&] {
    AgentStatus s = running.agent.status();
    return s.reconciles - s.plansSkipped;
  };
  // Settled: no plan for a whole second (its interfaces published, its Lease taken).
  uint64_t before = 0;
  ASSERT_TRUE(eventually([&] {
    before = planned();
    std::this_thread::sleep_for(1s);
    return planned() == before;
  }));
  for (int i = 0; i < 5; ++i) {
    Json condition{{"type", "example.com/Checked"}, {"status", "True"}, {"reason", "Round" + std::to_string(i)},
                   {"message", "checked"}, {"lastTransitionTime", "2026-11-28T10:00:0" + std::to_string(i) + "Z"}};
    ASSERT_TRUE(api.client->patch(kube::resources::kServices, "default", "web",
                                  {{"status", {{"conditions", Json::array({condition})}}}}, "status"));
  }
  std::this_thread::sleep_for(1500ms);  // the informer has seen them (resync every 200 ms)
  EXPECT_EQ(planned(), before);
  ASSERT_TRUE(api.client->patch(kube::resources::kServices, "default", "web",
                                Json::parse(R"({"status": {"loadBalancer": {"ingress": [{"ip": "198.18.0.200"}, {"ip": "198.18.0.201"}]}}})"),
                                "status"));
  EXPECT_TRUE(eventually([&] { return running.agent.status().announced.size() == 2; }));
  EXPECT_GT(planned(), before);
}

// Records naming the owner the last plan chose re-plan nothing (thousands are written after a
// start or a mass take-over); one naming another node does, and so does one noted as the
// planned owner's when the next plan names someone else.
TEST(AnnouncementStatus, ARecordNamingThePlannedOwnerCostsNoPlan) {
  LabApi api;
  api.create(kube::resources::kNamespaces, "", {{"metadata", {{"name", "l2announcer"}}}});
  createCrd(api, kL2Announcements, "l2announcement");
  std::atomic<int> changes{0};
  AnnouncementStatus records(*api.client, *api.client, "n1", [&] { ++changes; });
  std::atomic<bool> stop{false};
  std::thread running([&] { records.run(stop); });
  ASSERT_TRUE(eventually([&] { return records.ready(); }));
  auto record = [&](const std::string& name, const std::string& address, const std::string& node) {
    api.create(kL2Announcements, "default",
               {{"metadata", {{"name", name}}}, {"status", {{"address", address}, {"node", node}}}});
  };
  auto holds = [&](const std::string& address, const std::string& node) {
    return eventually([&] { return records.holders()[address].count(node) == 1; });
  };
  records.setPlannedOwners(std::make_shared<const AnnouncementStatus::PlannedOwners>(
      AnnouncementStatus::PlannedOwners{{"198.18.0.10", "n2"}, {"198.18.0.11", "n2"}}));
  uint64_t generation = records.generation();
  record("web-a", "198.18.0.10", "n2");
  ASSERT_TRUE(holds("198.18.0.10", "n2"));
  record("web-b", "198.18.0.11", "n3");
  ASSERT_TRUE(holds("198.18.0.11", "n3"));
  // The informer notes records in order: once web-b counted, web-a was judged before it.
  EXPECT_TRUE(eventually([&] { return changes.load() >= 1; })) << "another node's record must re-plan";
  EXPECT_EQ(records.generation(), generation + 1) << "the planned owner's record re-planned";
  EXPECT_EQ(changes.load(), 1);
  record("web-c", "198.18.0.12", "n2");  // no plan has this address
  ASSERT_TRUE(holds("198.18.0.12", "n2"));
  EXPECT_TRUE(eventually([&] { return changes.load() == 2; }));
  // A record noted as the planned owner's: nothing while the next plan keeps the address there;
  // it counts once the next plan gives it to another node (that plan may not have seen it).
  records.setPlannedOwners(std::make_shared<const AnnouncementStatus::PlannedOwners>(
      AnnouncementStatus::PlannedOwners{{"198.18.0.14", "n2"}, {"198.18.0.15", "n2"}}));
  generation = records.generation();
  int before = changes.load();
  record("web-d", "198.18.0.14", "n2");
  ASSERT_TRUE(holds("198.18.0.14", "n2"));
  records.setPlannedOwners(std::make_shared<const AnnouncementStatus::PlannedOwners>(
      AnnouncementStatus::PlannedOwners{{"198.18.0.14", "n2"}, {"198.18.0.15", "n2"}}));
  EXPECT_EQ(records.generation(), generation);
  record("web-e", "198.18.0.15", "n2");
  ASSERT_TRUE(holds("198.18.0.15", "n2"));
  EXPECT_EQ(records.generation(), generation);
  EXPECT_EQ(changes.load(), before);
  // A new resourceVersion saying the same (a label) neither counts nor forgets the mark.
  ASSERT_TRUE(api.client->patch(kL2Announcements, "default", "web-e", {{"metadata", {{"labels", {{"seen", "again"}}}}}}));
  record("web-f", "198.18.0.16", "n2");  // no plan has it: counts, and is noted after the patch
  ASSERT_TRUE(holds("198.18.0.16", "n2"));
  EXPECT_EQ(records.generation(), generation + 1) << "the patch counted";
  generation = records.generation();
  ++before;
  records.setPlannedOwners(std::make_shared<const AnnouncementStatus::PlannedOwners>(
      AnnouncementStatus::PlannedOwners{{"198.18.0.14", "n3"}, {"198.18.0.15", "n3"}}));
  EXPECT_GT(records.generation(), generation) << "web-e, noted as the owner's, names another node now";
  EXPECT_EQ(changes.load(), before + 1);
  stop = true;
  running.join();
}

// At rest the periodic full pass compares nothing (10,000 records every 10 s, for nothing):
// only a change — a record of ours altered by someone else, new wishes — is compared, and what
// drifted is written back.
TEST(AnnouncementStatus, AFullPassWithNothingNewComparesNothingAndDriftIsStillRepaired) {
  LabApi api;
  api.create(kube::resources::kNamespaces, "", {{"metadata", {{"name", "l2announcer"}}}});
  createCrd(api, kL2Announcements, "l2announcement");
  AnnouncementStatus records(*api.client, *api.client, "n1", nullptr, std::chrono::milliseconds(50));
  std::atomic<bool> stop{false};
  std::thread running([&] { records.run(stop); });
  ASSERT_TRUE(eventually([&] { return records.ready(); }));
  Claim claim{.address = "198.18.0.10",
              .interfaces = std::make_shared<const ClaimInterfaces>(ClaimInterfaces{{"eth0", "02:00:00:00:00:01"}}),
              .since = std::chrono::system_clock::now(),
              .cause = "start"};
  records.setRecords({{"default/web-198.18.0.10", wantRecord("default/web", "", "n1", std::make_shared<const Claim>(claim))}});
  auto interfaces = [&] {
    auto r = api.client->get(kL2Announcements, "default", "web-198.18.0.10");
    return r ? (*r)["status"].value("interfaceNames", std::string()) : std::string();
  };
  ASSERT_TRUE(eventually([&] { return interfaces() == "eth0"; }));
  // Settled: the write's own watch event compared once more, then nothing.
  uint64_t settled = 0;
  ASSERT_TRUE(eventually([&] {
    uint64_t before = records.stats().comparisons;
    std::this_thread::sleep_for(300ms);
    settled = records.stats().comparisons;
    return settled == before;
  }));
  std::this_thread::sleep_for(1s);  // 20 full passes
  EXPECT_EQ(records.stats().comparisons, settled) << "full passes compared records with nothing new";
  // Someone else changes our record: compared and written back.
  ASSERT_TRUE(api.client->patch(kL2Announcements, "default", "web-198.18.0.10",
                                {{"status", {{"interfaceNames", "eth9"}, {"interfaces", Json::array()}}}}));
  EXPECT_TRUE(eventually([&] { return interfaces() == "eth0"; })) << "the drift was not repaired";
  // Counted when its pass ends, after the write.
  EXPECT_TRUE(eventually([&] { return records.stats().comparisons > settled; })) << "repaired without a comparison";
  stop = true;
  running.join();
}

// Found at 10,000 Services (a node paused for 8 s, then thawed): the writes of a take-over wait
// minutes for the rate limit, and a pass wrote records from the plan it started with — naming
// this node the holder of addresses it had handed back meanwhile. The new owner believed them,
// handed the addresses back and gave up waiting: 2,000 addresses announced by nobody. Now a
// write is made only while it is still wanted, and a pass overtaken by a newer want stops.
TEST(AnnouncementStatus, RecordsNoLongerWantedAreNotWrittenWhileWritesWaitForTheRateLimit) {
  LabApi api;
  api.create(kube::resources::kNamespaces, "", {{"metadata", {{"name", "l2announcer"}}}});
  createCrd(api, kL2Announcements, "l2announcement");
  kube::Client slow(*api.transport, kube::Client::Options{.qps = 4, .burst = 1});
  AnnouncementStatus records(*api.client, slow, "n1", nullptr);
  std::atomic<bool> stop{false};
  std::thread running([&] { records.run(stop); });
  struct Joined {
    std::atomic<bool>& stop;
    std::thread& running;
    ~Joined() {
      stop = true;
      running.join();
    }
  } joined{stop, running};  // also when an assertion ends the test
  ASSERT_TRUE(eventually([&] { return records.ready(); }));
  auto ours = [&] {
    auto listed = api.client->list(kL2Announcements, "");
    return listed ? listed->at("items").size() : size_t{999};
  };
  DesiredRecords many;
  for (int i = 0; i < 40; ++i) {
    Claim claim{.address = "198.18.1." + std::to_string(i),
                .interfaces = std::make_shared<const ClaimInterfaces>(ClaimInterfaces{{"eth0", "02:00:00:00:00:01"}}),
                .since = std::chrono::system_clock::now(), .cause = "wire"};
    many["default/" + recordName("web" + std::to_string(i), claim.address)] =
        wantRecord("default/web" + std::to_string(i), "", "n1", std::make_shared<const Claim>(claim));
  }
  records.setRecords(many);
  ASSERT_TRUE(eventually([&] { return ours() >= 2; }));
  // Handed back: one record wanted now, the rest (most unwritten at 4 a second) not.
  DesiredRecords one{*many.begin()};
  records.setRecords(one);
  ASSERT_TRUE(eventually([&] { return ours() == 1; }, 8s)) << ours() << " records left";
  std::this_thread::sleep_for(1s);  // what the old pass would still have been writing
  EXPECT_EQ(ours(), 1u);
  EXPECT_TRUE(eventually([&] { return records.stats().recordsWritten > 0; }));
  EXPECT_LE(records.stats().recordsWritten, 8u) << "records written from a plan overtaken";
}

}  // namespace
}  // namespace l2a::agent
