// The Kubernetes client (real libcurl transport) against the lab API server process: CRUD,
// conflicts, selectors, paging, watch resume, bookmarks, 410 relist without lost or phantom
// events, server restart with its data, injected faults; leader election between clients.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "kube/client.h"
#include "kube/httplib_transport.h"
#include "kube/informer.h"
#include "kube/leader_elector.h"
#include "k8s/projection.h"
#include "support/lab_server_process.h"

namespace l2a::kube {
namespace {

using namespace std::chrono_literals;

Json service(const std::string& name, Json labels = Json::object()) {
  return {{"apiVersion", "v1"}, {"kind", "Service"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", {{"type", "LoadBalancer"}, {"ports", {{{"port", 80}}}}}}};
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

void admin(const std::string& url, const std::string& target) {
  HttplibTransport t(ClientConfig{.server = url});
  auto r = t.send({.method = "POST", .target = target});
  ASSERT_TRUE(r.ok() && r->status == 200) << target;
}

struct Lab {
  explicit Lab(std::vector<std::string> args = {})
      : server(std::move(args)),
        transport(ClientConfig{.server = server.url()}),
        client(transport, Client::Options{.qps = 0, .maxRetries = 8,
                                          .baseBackoff = std::chrono::milliseconds(50)}) {}
  testing::LabServerProcess server;
  HttplibTransport transport;
  Client client;
};

TEST(KubeClientLab, CrudConflictsAndStatus) {
  Lab lab;
  auto created = lab.client.create(resources::kServices, "default", service("httpd"));
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto again = lab.client.create(resources::kServices, "default", service("httpd"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "conflict");

  Json stale = *created;
  Json changed = *created;
  changed["metadata"]["labels"]["tier"] = "web";
  auto updated = lab.client.update(resources::kServices, "default", changed);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  auto conflict = lab.client.update(resources::kServices, "default", stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, "conflict");

  Json status = *updated;
  status["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "198.18.0.200"}}}}}}};
  auto withStatus = lab.client.updateStatus(resources::kServices, "default", status);
  ASSERT_TRUE(withStatus.ok()) << withStatus.error().message;
  EXPECT_EQ((*withStatus)["status"]["loadBalancer"]["ingress"][0]["ip"], "198.18.0.200");
  auto patched = lab.client.patch(resources::kServices, "default", "httpd",
                                  {{"metadata", {{"annotations", {{"a", "b"}}}}}});
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ((*patched)["status"]["loadBalancer"]["ingress"][0]["ip"], "198.18.0.200");
  EXPECT_EQ((*patched)["metadata"]["annotations"]["a"], "b");

  ASSERT_TRUE(lab.client.remove(resources::kServices, "default", "httpd").ok());
  auto missing = lab.client.get(resources::kServices, "default", "httpd");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "not_found");
  auto noNamespace = lab.client.create(resources::kServices, "nosuch", service("x"));
  ASSERT_FALSE(noNamespace.ok());
  EXPECT_EQ(noNamespace.error().code, "not_found");
  EXPECT_GE(lab.client.requestCounts()[(RequestKey{"create", "services", 409})], 1u);
}

TEST(KubeClientLab, SelectorsAndPaging) {
  Lab lab;
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(lab.client.create(resources::kServices, "default",
                                  service("s" + std::to_string(i), {{"parity", i % 2 ? "odd" : "even"}})).ok());
  }
  auto page = lab.client.list(resources::kServices, "default", {.limit = 10});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ((*page)["items"].size(), 10u);
  EXPECT_FALSE((*page)["metadata"].value("continue", "").empty());
  auto all = lab.client.listAll(resources::kServices, "default", {.limit = 10});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["items"].size(), 25u);
  std::set<std::string> names;
  for (const auto& s : (*all)["items"]) names.insert(nameOf(s));
  EXPECT_EQ(names.size(), 25u);
  auto odd = lab.client.listAll(resources::kServices, "", {.labelSelector = "parity=odd"});
  EXPECT_EQ((*odd)["items"].size(), 12u);
  auto one = lab.client.listAll(resources::kServices, "", {.fieldSelector = "metadata.name=s7"});
  ASSERT_EQ((*one)["items"].size(), 1u);
  EXPECT_EQ(nameOf((*one)["items"][0]), "s7");
}

TEST(KubeClientLab, WatchResumesFromAVersionAndSendsBookmarks) {
  Lab lab({"--bookmark-interval-ms", "200"});
  ASSERT_TRUE(lab.client.create(resources::kServices, "default", service("before")).ok());
  auto list = lab.client.list(resources::kServices, "default");
  std::string rv = (*list)["metadata"]["resourceVersion"];
  ASSERT_TRUE(lab.client.create(resources::kServices, "default", service("after1")).ok());
  ASSERT_TRUE(lab.client.remove(resources::kServices, "default", "before").ok());
  std::vector<std::string> seen;
  int bookmarks = 0;
  std::atomic<bool> stop{false};
  auto status = lab.client.watch(resources::kServices, "default", {.resourceVersion = rv, .timeoutSeconds = 5},
                                 [&](const WatchEvent& e) {
                                   if (e.type == "BOOKMARK") return ++bookmarks < 2;
                                   seen.push_back(e.type + ":" + nameOf(e.object));
                                   return true;
                                 },
                                 stop);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED:after1", "DELETED:before"}));
  EXPECT_EQ(bookmarks, 2);
}

TEST(KubeClientLab, InformerRelistsAfter410WithoutLostOrPhantomEvents) {
  Lab lab({"--history", "5", "--bookmark-interval-ms", "200"});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(lab.client.create(resources::kServices, "default", service("keep" + std::to_string(i))).ok());
  std::mutex mu;
  std::set<std::string> live;
  std::vector<std::string> deleted, added;
  InformerHandlers handlers{
      .onAdd = [&](const Json& o) { std::lock_guard l(mu); live.insert(nameOf(o)); added.push_back(nameOf(o)); },
      .onUpdate = [&](const Json&, const Json& n) { std::lock_guard l(mu); live.insert(nameOf(n)); },
      .onDelete = [&](const Json& o) { std::lock_guard l(mu); live.erase(nameOf(o)); deleted.push_back(nameOf(o)); }};
  Informer informer(lab.client, resources::kServices, "", handlers,
                    {.retryBackoff = {.initial = std::chrono::milliseconds(100), .max = std::chrono::milliseconds(1000)}});
  std::atomic<bool> stop{false};
  std::thread runner([&] { informer.run(stop); });
  ASSERT_TRUE(eventually([&] { return informer.synced() && informer.size() == 5; }));

  // Watches fail for 2 s; meanwhile far more than the 5 kept events happen.
  admin(lab.server.url(), "/admin/fault?mode=error&status=500&seconds=2&verb=watch");
  admin(lab.server.url(), "/admin/close-watches");
  ASSERT_TRUE(lab.client.remove(resources::kServices, "default", "keep0").ok());
  ASSERT_TRUE(lab.client.remove(resources::kServices, "default", "keep1").ok());
  for (int i = 0; i < 10; ++i) {
    std::string name = "flash" + std::to_string(i);
    ASSERT_TRUE(lab.client.create(resources::kServices, "default", service(name)).ok());
    ASSERT_TRUE(lab.client.remove(resources::kServices, "default", name).ok());
  }
  ASSERT_TRUE(lab.client.create(resources::kServices, "default", service("late")).ok());

  EXPECT_TRUE(eventually([&] {
    std::lock_guard l(mu);
    return live == std::set<std::string>{"keep2", "keep3", "keep4", "late"};
  }));
  stop = true;
  runner.join();
  EXPECT_GE(informer.stats().gone, 1u);
  EXPECT_GE(informer.stats().lists, 2u);
  std::lock_guard l(mu);
  EXPECT_EQ(std::count(deleted.begin(), deleted.end(), "keep0"), 1);
  EXPECT_EQ(std::count(deleted.begin(), deleted.end(), "keep1"), 1);
  for (const auto& name : added) EXPECT_EQ(name.rfind("flash", 0), std::string::npos) << "phantom " << name;
}

TEST(KubeClientLab, AnInformerWithATransformKeepsOnlyWhatIsReadAndSkipsUpdatesOutsideIt) {
  Lab lab;
  Json svc = service("web", {{"app", "web"}});
  svc["metadata"]["annotations"] = {{"note", "one"}};
  ASSERT_TRUE(lab.client.create(resources::kServices, "default", svc).ok());
  std::atomic<int> updates{0};
  InformerHandlers handlers{.onUpdate = [&](const Json&, const Json&) { ++updates; }};
  Informer::Options options;
  options.transform = [](const Json& o) { return k8s::project(o, k8s::agentServiceFields()); };
  Informer informer(lab.client, resources::kServices, "", handlers, options);
  std::atomic<bool> stop{false};
  std::thread runner([&] { informer.run(stop); });
  ASSERT_TRUE(eventually([&] { return informer.synced() && informer.size() == 1; }));
  Json cached = *informer.get("default/web");
  EXPECT_FALSE(cached["spec"].contains("ports"));
  EXPECT_FALSE(cached["metadata"].contains("annotations"));
  EXPECT_EQ(cached["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(cached["kind"], "Service");  // list items lack it; the cache has it, as watch events do

  // An annotation is outside what is kept: the cache follows the version, no handler runs.
  std::string before = informer.resourceVersion();
  ASSERT_TRUE(lab.client.patch(resources::kServices, "default", "web", {{"metadata", {{"annotations", {{"note", "two"}}}}}}).ok());
  ASSERT_TRUE(eventually([&] { return informer.resourceVersion() != before; }));
  EXPECT_EQ(updates.load(), 0);
  // A label is kept: the handler runs.
  ASSERT_TRUE(lab.client.patch(resources::kServices, "default", "web", {{"metadata", {{"labels", {{"app", "shop"}}}}}}).ok());
  EXPECT_TRUE(eventually([&] { return updates.load() == 1; }));
  EXPECT_EQ((*informer.get("default/web"))["metadata"]["labels"]["app"], "shop");
  stop = true;
  runner.join();
}

TEST(KubeClientLab, RestartKeepsObjectsAndVersionsKeepIncreasing) {
  auto dir = std::filesystem::temp_directory_path() / ("l2a-lab-data-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Lab lab({"--data-dir", dir.string()});
  auto a = lab.client.create(resources::kServices, "default", service("durable"));
  ASSERT_TRUE(a.ok());
  uint64_t before = std::stoull((*a)["metadata"]["resourceVersion"].get<std::string>());
  std::atomic<bool> stop{false};
  Informer informer(lab.client, resources::kServices, "", {}, {.retryBackoff = {.initial = std::chrono::milliseconds(100), .max = std::chrono::milliseconds(1000)}});
  std::thread runner([&] { informer.run(stop); });
  ASSERT_TRUE(eventually([&] { return informer.size() == 1; }));

  lab.server.restart();  // SIGKILL, then the same port and data
  auto kept = lab.client.get(resources::kServices, "default", "durable");
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ((*kept)["metadata"]["uid"], (*a)["metadata"]["uid"]);
  auto b = lab.client.create(resources::kServices, "default", service("after-restart"));
  ASSERT_TRUE(b.ok());
  EXPECT_GT(std::stoull((*b)["metadata"]["resourceVersion"].get<std::string>()), before);
  EXPECT_TRUE(eventually([&] { return informer.size() == 2; }));  // the informer caught up
  stop = true;
  runner.join();
  std::filesystem::remove_all(dir);
}

TEST(KubeClientLab, RetriesThroughInjected500sAnd429s) {
  Lab lab;
  admin(lab.server.url(), "/admin/fault?mode=error&status=500&seconds=1");
  auto start = std::chrono::steady_clock::now();
  auto r = lab.client.get(resources::kNamespaces, "", "default");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GE(lab.client.requestCounts()[(RequestKey{"get", "namespaces", 500})], 1u);
  admin(lab.server.url(), "/admin/fault?mode=error&status=429&retryAfter=1&seconds=1");
  start = std::chrono::steady_clock::now();
  r = lab.client.get(resources::kNamespaces, "", "default");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);  // waited as Retry-After said
  EXPECT_GE(lab.client.requestCounts()[(RequestKey{"get", "namespaces", 429})], 1u);
}

TEST(KubeClientLab, OutageThenRecovery) {
  Lab lab;
  admin(lab.server.url(), "/admin/outage?seconds=2");
  std::this_thread::sleep_for(300ms);
  auto during = lab.transport.send({.method = "GET", .target = "/api/v1/namespaces"});
  EXPECT_FALSE(during.ok());  // nothing listens
  auto r = lab.client.get(resources::kNamespaces, "", "default");  // retries through it
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(KubeClientLab, LeaderElectionAmongClientsInOneProcess) {
  Lab lab;
  std::vector<std::unique_ptr<HttplibTransport>> transports;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<LeaderElector>> electors;
  for (int i = 0; i < 3; ++i) {
    transports.push_back(std::make_unique<HttplibTransport>(ClientConfig{.server = lab.server.url()}));
    clients.push_back(std::make_unique<Client>(*transports.back()));
    electors.push_back(std::make_unique<LeaderElector>(
        *clients.back(),
        LeaderElectionConfig{.ns = "kube-system", .name = "l2a-test", .identity = "c" + std::to_string(i),
                             .leaseDuration = 1500ms, .renewDeadline = 1000ms, .retryPeriod = 200ms},
        LeaderCallbacks{}));
  }
  // Each contender on a thread of its own, as in separate processes: their reads and writes
  // interleave for real (one thread ticking them in turn never lets two writes race).
  std::vector<std::unique_ptr<LeaseDriver>> drivers;
  for (auto& e : electors) {
    drivers.push_back(std::make_unique<LeaseDriver>());
    drivers.back()->add(*e);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> maxLeaders{0};
  std::vector<std::thread> runners;
  for (auto& d : drivers) runners.emplace_back([&stop, driver = d.get()] { driver->run(stop); });
  std::thread watcher([&] {
    while (!stop) {
      int n = 0;
      for (auto& e : electors) n += e->isLeader();
      maxLeaders = std::max(maxLeaders.load(), n);
      std::this_thread::sleep_for(5ms);
    }
  });
  ASSERT_TRUE(eventually([&] { return electors[0]->isLeader() || electors[1]->isLeader() || electors[2]->isLeader(); }));
  std::this_thread::sleep_for(3s);  // several terms of renewals racing the others' attempts
  stop = true;
  for (auto& r : runners) r.join();
  watcher.join();
  EXPECT_EQ(maxLeaders.load(), 1);
  auto lease = lab.client.get(resources::kLeases, "kube-system", "l2a-test");
  ASSERT_TRUE(lease.ok());
  std::string holder = (*lease)["spec"]["holderIdentity"];
  int index = holder.back() - '0';
  ASSERT_TRUE(electors[static_cast<size_t>(index)]->release().ok());
  lease = lab.client.get(resources::kLeases, "kube-system", "l2a-test");
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "");
}

// An API server that answers every request 1.2 s late, behind a node Lease renewed every 1 s
// with a 3 s deadline: a renewal bounded by what is left until the deadline (client-go's bound)
// keeps the Lease; one bounded by the retry period, as before, times out every time and loses it
// (the same server, the same delay: the control that the delay bites).
TEST(KubeClientLab, ASlowApiServerWithinTheRenewDeadlineKeepsTheLeaseHeld) {
  Lab lab;
  auto holds = [&](bool budgeted) {
    HttplibTransport transport(ClientConfig{.server = lab.server.url()}, 1000ms);
    Client client(transport, Client::Options{.qps = 0, .maxRetries = 0});
    std::string name = budgeted ? "budgeted" : "fixed";
    LeaderElectionConfig config{.ns = "kube-system", .name = "l2a-node-" + name, .identity = name,
                                .leaseDuration = 4000ms, .renewDeadline = 3000ms, .retryPeriod = 1000ms};
    if (budgeted) config.requestBudget = [&transport](std::chrono::milliseconds left) { transport.setRequestTimeout(left); };
    LeaderElector elector(client, config, LeaderCallbacks{});
    LeaseDriver driver;
    driver.add(elector);
    std::atomic<bool> stop{false};
    std::thread runner([&] { driver.run(stop); });
    bool acquired = eventually([&] { return elector.isLeader(); });
    admin(lab.server.url(), "/admin/fault?mode=delay&delayMs=1200&seconds=8");
    auto renewedBefore = elector.lastRenew();
    bool held = true;
    for (auto end = std::chrono::steady_clock::now() + 7s; std::chrono::steady_clock::now() < end;) {
      held = held && elector.isLeader();
      std::this_thread::sleep_for(50ms);
    }
    bool renewed = elector.lastRenew() > renewedBefore;
    admin(lab.server.url(), "/admin/fault?mode=none");
    stop = true;
    runner.join();
    EXPECT_TRUE(acquired) << name;
    return held && renewed;
  };
  EXPECT_TRUE(holds(true));
  EXPECT_FALSE(holds(false));
}

}  // namespace
}  // namespace l2a::kube
