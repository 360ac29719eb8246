#include "kube/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "kube/backoff.h"
#include "kube/informer.h"
#include "kube/token_bucket.h"
#include "kube/watch_decoder.h"
#include "support/fake_transport.h"

namespace l2a::kube {
namespace {

using namespace std::chrono_literals;

struct Harness {
  testing::FakeTransport transport;
  std::vector<std::chrono::steady_clock::duration> sleeps;
  std::chrono::steady_clock::time_point clock{};
  Client client{transport, Client::Options{.qps = 0,
                                           .maxRetries = 3,
                                           .sleep = [this](auto d) { sleeps.push_back(d); clock += d; },
                                           .now = [this] { return clock; }}};
};

TEST(Client, GetBuildsThePathAndParsesTheObject) {
  Harness h;
  h.transport.script(200, R"({"metadata":{"name":"httpd","namespace":"default"}})");
  auto svc = h.client.get(resources::kServices, "default", "httpd");
  ASSERT_TRUE(svc.ok());
  EXPECT_EQ(nameOf(*svc), "httpd");
  EXPECT_EQ(h.transport.requests[0].target, "/api/v1/namespaces/default/services/httpd");
  EXPECT_EQ(h.client.requestCounts()[(RequestKey{"get", "services", 200})], 1u);
}

TEST(Client, ConflictSurfacesWithoutRetry) {
  Harness h;
  h.transport.script(409, R"({"kind":"Status","message":"the object has been modified","code":409})");
  auto r = h.client.update(resources::kLeases, "ns", {{"metadata", {{"name", "l"}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "conflict");
  EXPECT_NE(r.error().message.find("has been modified"), std::string::npos);
  EXPECT_EQ(h.transport.requests.size(), 1u);
  EXPECT_EQ(h.transport.requests[0].method, "PUT");
  EXPECT_EQ(h.transport.requests[0].target, "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l");
}

TEST(Client, RetriesServerErrorsAndConnectionErrorsWithGrowingBackoff) {
  Harness h;
  h.transport.script(503, "");
  h.transport.scriptConnectionError();
  h.transport.script(500, "");
  h.transport.script(200, R"({"items":[]})");
  auto r = h.client.list(resources::kNodes, "");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(h.sleeps.size(), 3u);
  // 100ms, 200ms, 400ms each with jitter in [0.5, 1.5).
  EXPECT_GE(h.sleeps[0], 50ms);
  EXPECT_LT(h.sleeps[0], 150ms);
  EXPECT_GE(h.sleeps[2], 200ms);
  EXPECT_LT(h.sleeps[2], 600ms);
  EXPECT_EQ(h.client.requestCounts()[(RequestKey{"list", "nodes", 0})], 1u);
  EXPECT_EQ(h.client.requestCounts()[(RequestKey{"list", "nodes", 503})], 1u);
}

TEST(Client, HonoursRetryAfterOn429) {
  Harness h;
  h.transport.script(429, "", {{"retry-after", "3"}});
  h.transport.script(200, "{}");
  ASSERT_TRUE(h.client.get(resources::kNodes, "", "n1").ok());
  ASSERT_EQ(h.sleeps.size(), 1u);
  EXPECT_EQ(h.sleeps[0], std::chrono::steady_clock::duration(3s));
}

TEST(Client, GivesUpAfterMaxRetries) {
  Harness h;
  for (int i = 0; i < 4; ++i) h.transport.script(500, R"({"message":"boom"})");
  auto r = h.client.get(resources::kNodes, "", "n1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "server");
  EXPECT_EQ(h.transport.requests.size(), 4u);
}

TEST(Client, ListAllFollowsContinueTokens) {
  Harness h;
  h.transport.script(200, R"({"metadata":{"resourceVersion":"7","continue":"2"},"items":[{"a":1},{"a":2}]})");
  h.transport.script(200, R"({"metadata":{"resourceVersion":"7"},"items":[{"a":3}]})");
  auto all = h.client.listAll(resources::kServices, "", {.labelSelector = "app=x", .limit = 2});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["items"].size(), 3u);
  EXPECT_EQ(h.transport.requests[0].target, "/api/v1/services?labelSelector=app%3Dx&limit=2");
  EXPECT_EQ(h.transport.requests[1].target, "/api/v1/services?labelSelector=app%3Dx&limit=2&continue=2");
}

TEST(Client, ListAllStartsOverUnpagedWhenAContinueTokenExpired) {
  Harness h;
  h.transport.script(200, R"({"metadata":{"resourceVersion":"7","continue":"tok"},"items":[{"a":1},{"a":2}]})");
  h.transport.script(410, R"({"kind":"Status","code":410,"reason":"Expired","message":"The provided continue parameter is too old"})");
  h.transport.script(200, R"({"metadata":{"resourceVersion":"9"},"items":[{"a":1},{"a":2},{"a":3}]})");
  auto all = h.client.listAll(resources::kServices, "", {.limit = 2});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["items"].size(), 3u);  // the fresh list only: nothing twice
  EXPECT_EQ((*all)["metadata"]["resourceVersion"], "9");
  ASSERT_EQ(h.transport.requests.size(), 3u);
  EXPECT_EQ(h.transport.requests[2].target, "/api/v1/services");
}

TEST(Client, ListEachHandsOutItemsOneByOneAndReturnsTheEnvelope) {
  Harness h;
  // An item with an "items" key of its own, and a malformed item that is not an object.
  h.transport.script(200, R"({"kind":"ServiceList","metadata":{"resourceVersion":"7","continue":"2"},"items":[{"a":1,"items":[{"b":2}]},"odd"]})");
  h.transport.script(200, R"({"kind":"ServiceList","metadata":{"resourceVersion":"8"},"items":[{"a":3}],"extra":[{"c":4}]})");
  std::vector<Json> seen;
  int restarts = 0;
  auto envelope = h.client.listEach(resources::kServices, "", {.limit = 2}, [&](Json&& item) { seen.push_back(std::move(item)); },
                                    [&] { ++restarts; });
  ASSERT_TRUE(envelope.ok()) << envelope.error().message;
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], Json::parse(R"({"a":1,"items":[{"b":2}]})"));
  EXPECT_EQ(seen[1], "odd");
  EXPECT_EQ(seen[2], Json::parse(R"({"a":3})"));
  EXPECT_EQ(restarts, 0);
  EXPECT_FALSE(envelope->contains("items"));
  EXPECT_EQ((*envelope)["metadata"], Json::parse(R"({"resourceVersion":"7"})"));  // the first page's, no token
  // "items" that is not an array hands out nothing.
  h.transport.script(200, R"({"metadata":{},"items":{"x":{"a":1}}})");
  seen.clear();
  ASSERT_TRUE(h.client.listEach(resources::kServices, "", {}, [&](Json&& item) { seen.push_back(std::move(item)); }, [] {}).ok());
  EXPECT_TRUE(seen.empty());
  // A body cut short is an error, whatever was handed out before it.
  h.transport.script(200, R"({"metadata":{},"items":[{"a":1},{"a":)");
  auto cut = h.client.listEach(resources::kServices, "", {}, [](Json&&) {}, [] {});
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, "bad_response");
}

TEST(Client, PatchSendsAMergePatch) {
  Harness h;
  h.transport.script(200, "{}");
  ASSERT_TRUE(h.client.patch(resources::kServices, "d", "s", {{"status", {{"x", 1}}}}, "status").ok());
  EXPECT_EQ(h.transport.requests[0].method, "PATCH");
  EXPECT_EQ(h.transport.requests[0].contentType, "application/merge-patch+json");
  EXPECT_EQ(h.transport.requests[0].target, "/api/v1/namespaces/d/services/s/status");
}

TEST(Client, WatchDeliversEventsAndGoneIsAnError) {
  Harness h;
  h.transport.script(200, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
                          "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\n");
  std::vector<std::string> types;
  std::atomic<bool> stop{false};
  auto s = h.client.watch(resources::kServices, "", {.resourceVersion = "5"},
                          [&](const WatchEvent& e) { types.push_back(e.type); return true; }, stop);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "BOOKMARK"}));
  EXPECT_NE(h.transport.requests[0].target.find("allowWatchBookmarks=true"), std::string::npos);
  EXPECT_NE(h.transport.requests[0].target.find("resourceVersion=5"), std::string::npos);
  h.transport.script(410, R"({"kind":"Status","code":410})");
  auto gone = h.client.watch(resources::kServices, "", {.resourceVersion = "1"},
                             [](const WatchEvent&) { return true; }, stop);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "gone");
}

TEST(WatchDecoder, ReassemblesEventsCutAnywhere) {
  std::string stream =
      "{\"type\":\"ADDED\",\"object\":{\"n\":1}}\n{\"type\":\"DELETED\",\"object\":{\"n\":2}}\n";
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    WatchDecoder d;
    std::vector<WatchEvent> events;
    auto sink = [&](WatchEvent e) { events.push_back(std::move(e)); };
    d.feed(std::string_view(stream).substr(0, cut), sink);
    d.feed(std::string_view(stream).substr(cut), sink);
    ASSERT_EQ(events.size(), 2u) << cut;
    EXPECT_EQ(events[1].type, "DELETED");
    EXPECT_EQ(events[1].object["n"], 2);
  }
}

TEST(WatchDecoder, CountsMalformedLines) {
  WatchDecoder d;
  int n = 0;
  d.feed("garbage\n{\"no\":\"type\"}\n\n{\"type\":\"ADDED\"}\n", [&](WatchEvent) { ++n; });
  EXPECT_EQ(n, 1);
  EXPECT_EQ(d.malformed(), 2u);
}

// The fake API server of the informer tests: LIST answers `list`; the first watch sends `events`,
// and later ones end at once, empty.
void listThenWatch(testing::FakeTransport& transport, std::atomic<int>& watches, std::string list, std::string events) {
  transport.handler = [&watches, list, events](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.target.find("watch=") == std::string::npos) return HttpResponse{200, list, {}};
    if (++watches > 1) {
      std::this_thread::sleep_for(20ms);
      return HttpResponse{200, "", {}};
    }
    return HttpResponse{200, events, {}};
  };
}

// Runs `informer` until it has seen resourceVersion `rv` (3 s at most), then stops it.
void runUntil(Informer& informer, const std::string& rv) {
  std::atomic<bool> stop{false};
  std::thread running([&] { informer.run(stop); });
  for (int i = 0; i < 300 && informer.resourceVersion() != rv; ++i) std::this_thread::sleep_for(10ms);
  stop = true;
  running.join();
}

// Before: a watch that ended in an ERROR event other than 410 relisted at once, and a server
// answering every watch that way kept the informer in a list/watch/ERROR loop.
TEST(Informer, AWatchErrorEventBacksOffBeforeRelisting) {
  testing::FakeTransport transport;
  std::atomic<int> lists{0}, watches{0};
  transport.handler = [&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.target.find("watch=") != std::string::npos) {
      ++watches;
      return HttpResponse{200, R"({"type":"ERROR","object":{"kind":"Status","code":500,"message":"etcd unavailable"}})" "\n", {}};
    }
    ++lists;
    return HttpResponse{200, R"({"metadata":{"resourceVersion":"5"},"items":[]})", {}};
  };
  Client client(transport, Client::Options{.qps = 0, .maxRetries = 0});
  Informer informer(client, resources::kServices, "", {}, {.retryBackoff = {.initial = 50ms, .max = 400ms, .jitter = 0}});
  std::atomic<bool> stop{false};
  std::thread running([&] { informer.run(stop); });
  std::this_thread::sleep_for(1s);  // 50 + 100 + 200 + 400 ms of backoff: about 4 rounds
  stop = true;
  running.join();
  EXPECT_GE(lists.load(), 2);
  EXPECT_LE(lists.load(), 8) << "relisted without backing off";
  EXPECT_NE(informer.lastError().find("etcd unavailable"), std::string::npos);
}

// An optional kind (a CRD installed later, or removed): 404 is an empty, synced cache that is
// looked at again; once served its objects arrive with no restart; removed again, they go. Each
// look that finds it still absent changes nothing and calls no handler (onSynced made the
// operator re-import every Service every 30 s).
TEST(Informer, AnOptionalKindNotServedIsEmptyAndFollowedOnceInstalled) {
  testing::FakeTransport transport;
  std::atomic<int> phase{0};  // 0: not served, 1: served with one pool, 2: removed
  transport.handler = [&](const HttpRequest& r) -> Result<HttpResponse> {
    if (phase == 0 || phase == 2) return HttpResponse{404, R"({"kind":"Status","code":404,"reason":"NotFound"})", {}};
    if (r.target.find("watch=") != std::string::npos) {
      std::this_thread::sleep_for(20ms);
      return HttpResponse{404, R"({"kind":"Status","code":404,"reason":"NotFound"})", {}};  // ends each watch
    }
    return HttpResponse{200, R"({"metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"first-pool","namespace":"metallb-system"}}]})", {}};
  };
  Client client(transport, Client::Options{.qps = 0, .maxRetries = 0});
  std::atomic<int> added{0}, deleted{0}, syncs{0};
  Resource pools{"metallb.io", "v1beta1", "ipaddresspools", true, "IPAddressPool"};
  Informer informer(client, pools, "",
                    {.onAdd = [&](const Json&) { ++added; },
                     .onDelete = [&](const Json&) { ++deleted; },
                     .onSynced = [&] { ++syncs; }},
                    {.retryBackoff = {.initial = 10ms, .max = 20ms, .jitter = 0}, .optional = true, .absentRetry = 50ms});
  std::atomic<bool> stop{false};
  std::thread running([&] { informer.run(stop); });
  auto waitFor = [](auto done) {
    for (int i = 0; i < 300 && !done(); ++i) std::this_thread::sleep_for(10ms);
    return done();
  };
  EXPECT_TRUE(waitFor([&] { return informer.synced(); })) << "a kind not served never counted as synced";
  EXPECT_FALSE(informer.served());
  EXPECT_EQ(informer.size(), 0u);
  EXPECT_TRUE(waitFor([&] { return informer.stats().lists >= 4; })) << "not looked at again";
  EXPECT_EQ(syncs.load(), 1) << "each look finding the kind still absent called onSynced";
  phase = 1;
  EXPECT_TRUE(waitFor([&] { return informer.size() == 1; })) << "the kind installed later was not followed";
  EXPECT_TRUE(informer.served());
  // Handlers run after the cache is swapped: wait for them too.
  EXPECT_TRUE(waitFor([&] { return added.load() == 1; })) << "added " << added.load();
  phase = 2;
  EXPECT_TRUE(waitFor([&] { return informer.size() == 0; })) << "the kind removed left its objects cached";
  EXPECT_FALSE(informer.served());
  EXPECT_TRUE(waitFor([&] { return deleted.load() == 1; })) << "deleted " << deleted.load();
  EXPECT_GE(syncs.load(), 3) << "the lists that changed something: absent, served, removed";
  stop = true;
  running.join();
}

// The cache holds objects packed (MessagePack, the resourceVersion beside it): what comes out —
// get, forEach, the handlers' old and new objects — is what was kept, resourceVersion included;
// an update touching only what the transform drops, or only the resourceVersion, calls nothing.
TEST(Informer, PackedCacheGivesBackWhatWasKept) {
  testing::FakeTransport transport;
  std::atomic<int> watches{0};
  listThenWatch(transport, watches, R"({"metadata":{"resourceVersion":"5"},"items":[
        {"metadata":{"name":"a","namespace":"d","resourceVersion":"4","labels":{"app":"x"}},"spec":{"type":"LoadBalancer","ports":[{"port":80}]}},
        {"metadata":{"name":"b","namespace":"d","resourceVersion":"5"},"spec":{"type":"ClusterIP","weight":1.5,"on":true,"none":null}}]})",
                R"({"type":"MODIFIED","object":{"metadata":{"name":"a","namespace":"d","resourceVersion":"6","labels":{"app":"x"}},"spec":{"type":"LoadBalancer","ports":[{"port":81}]}}})" "\n"
        R"({"type":"MODIFIED","object":{"metadata":{"name":"a","namespace":"d","resourceVersion":"7","labels":{"app":"y"}},"spec":{"type":"LoadBalancer"}}})" "\n"
        R"({"type":"DELETED","object":{"metadata":{"name":"b","namespace":"d","resourceVersion":"8"}}})" "\n");
  Client client(transport, Client::Options{.qps = 0, .maxRetries = 0});
  std::mutex mu;
  std::vector<std::pair<Json, Json>> updates;
  std::vector<Json> deletes;
  Informer::Options options{.retryBackoff = {.initial = 10ms, .max = 20ms, .jitter = 0}};
  options.transform = [](const Json& o) {  // drops spec.ports
    Json kept = o;
    if (kept.contains("spec")) kept["spec"].erase("ports");
    return kept;
  };
  Informer informer(client, resources::kServices, "",
                    {.onUpdate = [&](const Json& o, const Json& n) { std::lock_guard l(mu); updates.emplace_back(o, n); },
                     .onDelete = [&](const Json& o) { std::lock_guard l(mu); deletes.push_back(o); }},
                    options);
  runUntil(informer, "8");
  ASSERT_EQ(informer.resourceVersion(), "8");
  std::lock_guard l(mu);
  ASSERT_EQ(updates.size(), 1u) << "a change of a dropped field or of the resourceVersion alone called a handler";
  EXPECT_EQ(updates[0].first["metadata"]["resourceVersion"], "6");  // the rv-only event was cached, silently
  EXPECT_EQ(updates[0].first["metadata"]["labels"]["app"], "x");
  EXPECT_EQ(updates[0].second["metadata"]["labels"]["app"], "y");
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0], Json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"b","namespace":"d","resourceVersion":"5"},
                                        "spec":{"type":"ClusterIP","weight":1.5,"on":true,"none":null}})"))
      << "the cached object, as kept, is what a delete hands over: " << deletes[0].dump();
  auto a = informer.get("d/a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, Json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"d","resourceVersion":"7",
                                 "labels":{"app":"y"}},"spec":{"type":"LoadBalancer"}})"));
  EXPECT_TRUE(informer.contains("d/a"));
  EXPECT_FALSE(informer.contains("d/b")) << "deleted";
  std::vector<std::string> seen;
  informer.forEach([&](const Json& o) { seen.push_back(o["metadata"]["name"]); });
  EXPECT_EQ(seen, std::vector<std::string>{"a"});
  EXPECT_EQ(informer.items().size(), 1u);
}

// A resourceVersion is opaque: the cache holds a decimal one as its value (kube-apiserver's) and
// hands it back as the same digits; any other string ("007", "v-1" — another server's) comes
// back as it was, and a change from one to another is a change.
TEST(Informer, AResourceVersionOfAnyShapeComesBackAsItWas) {
  testing::FakeTransport transport;
  std::atomic<int> watches{0};
  listThenWatch(transport, watches, R"({"metadata":{"resourceVersion":"v-2"},"items":[
        {"metadata":{"name":"a","namespace":"d","resourceVersion":"007"}},
        {"metadata":{"name":"b","namespace":"d","resourceVersion":"v-1"}},
        {"metadata":{"name":"c","namespace":"d","resourceVersion":"18446744073709551615"}},
        {"metadata":{"name":"e","namespace":"d"}}]})",
                R"({"type":"MODIFIED","object":{"metadata":{"name":"b","namespace":"d","resourceVersion":"v-3","labels":{"app":"y"}}}})" "\n"
        R"({"type":"MODIFIED","object":{"metadata":{"name":"a","namespace":"d","resourceVersion":"7"}}})" "\n"
        R"({"type":"MODIFIED","object":{"metadata":{"name":"e","namespace":"d","resourceVersion":"8"}}})" "\n");
  Client client(transport, Client::Options{.qps = 0, .maxRetries = 0});
  std::mutex mu;
  std::vector<std::pair<Json, Json>> updates;
  Informer informer(client, resources::kServices, "",
                    {.onUpdate = [&](const Json& o, const Json& n) { std::lock_guard l(mu); updates.emplace_back(o, n); }},
                    Informer::Options{.retryBackoff = {.initial = 10ms, .max = 20ms, .jitter = 0}});
  runUntil(informer, "8");
  std::lock_guard l(mu);
  ASSERT_EQ(updates.size(), 3u) << "each new resourceVersion of an untransformed object is a change";
  EXPECT_EQ(updates[0].first["metadata"]["resourceVersion"], "v-1");
  EXPECT_EQ(updates[1].first["metadata"]["resourceVersion"], "007") << "not 7: a leading zero is kept";
  EXPECT_FALSE(updates[2].first["metadata"].contains("resourceVersion")) << updates[2].first.dump();
  auto version = [&](const std::string& key) { return (*informer.get(key))["metadata"]["resourceVersion"]; };
  EXPECT_EQ(version("d/a"), "7");
  EXPECT_EQ(version("d/b"), "v-3");
  EXPECT_EQ(version("d/c"), "18446744073709551615") << "past 2^63: kept as a string, not as its value";
  EXPECT_EQ(version("d/e"), "8");
}

// The cache is one sorted vector: a list in any order (a key twice: the last) comes out in key
// order, and objects the watch adds and deletes between others go in and out in place.
TEST(Informer, TheCacheKeepsKeyOrderThroughAnyListAndTheWatch) {
  testing::FakeTransport transport;
  std::atomic<int> watches{0};
  listThenWatch(transport, watches, R"({"metadata":{"resourceVersion":"9"},"items":[
        {"metadata":{"name":"c","namespace":"d","resourceVersion":"3"}},
        {"metadata":{"name":"a","namespace":"d","resourceVersion":"1"}},
        {"metadata":{"name":"b","namespace":"d","resourceVersion":"2"}},
        {"metadata":{"name":"a","namespace":"d","resourceVersion":"9"}}]})",
                R"({"type":"ADDED","object":{"metadata":{"name":"ab","namespace":"d","resourceVersion":"10"}}})" "\n"
        R"({"type":"DELETED","object":{"metadata":{"name":"b","namespace":"d","resourceVersion":"11"}}})" "\n"
        R"({"type":"ADDED","object":{"metadata":{"name":"0","namespace":"d","resourceVersion":"12"}}})" "\n"
        R"({"type":"ADDED","object":{"metadata":{"name":"z","namespace":"d","resourceVersion":"13"}}})" "\n"
        R"({"type":"DELETED","object":{"metadata":{"name":"q","namespace":"d","resourceVersion":"14"}}})" "\n");
  Client client(transport, Client::Options{.qps = 0, .maxRetries = 0});
  Informer informer(client, resources::kServices, "", {}, Informer::Options{.retryBackoff = {.initial = 10ms, .max = 20ms, .jitter = 0}});
  runUntil(informer, "14");
  std::vector<std::string> seen;
  informer.forEach([&](const Json& o) { seen.push_back(o["metadata"]["name"].get<std::string>() + "@" + o["metadata"]["resourceVersion"].get<std::string>()); });
  EXPECT_EQ(seen, (std::vector<std::string>{"0@12", "a@9", "ab@10", "c@3", "z@13"}));
  EXPECT_EQ(informer.size(), 5u);
  EXPECT_FALSE(informer.contains("d/b"));
  EXPECT_TRUE(informer.contains("d/ab"));
}

// A handler that does not read the old object of an update is handed null: the cached entry is
// not unpacked for it (at 1,000 nodes, 50 Lease renewals a second for every agent).
TEST(Informer, AnUpdateHandlerThatReadsNoOldObjectIsHandedNull) {
  testing::FakeTransport transport;
  std::atomic<int> watches{0};
  listThenWatch(transport, watches, R"({"metadata":{"resourceVersion":"5"},"items":[
        {"metadata":{"name":"a","namespace":"d","resourceVersion":"4","labels":{"app":"x"}}}]})",
                R"({"type":"MODIFIED","object":{"metadata":{"name":"a","namespace":"d","resourceVersion":"6","labels":{"app":"y"}}}})" "\n");
  Client client(transport, Client::Options{.qps = 0, .maxRetries = 0});
  for (bool unused : {false, true}) {
    std::mutex mu;
    std::vector<std::pair<Json, Json>> updates;
    watches = 0;
    Informer informer(client, resources::kServices, "",
                      {.onUpdate = [&](const Json& o, const Json& n) { std::lock_guard l(mu); updates.emplace_back(o, n); },
                       .oldObjectUnused = unused},
                      Informer::Options{.retryBackoff = {.initial = 10ms, .max = 20ms, .jitter = 0}});
    runUntil(informer, "6");
    std::lock_guard l(mu);
    ASSERT_EQ(updates.size(), 1u);
    EXPECT_EQ(updates[0].second["metadata"]["labels"]["app"], "y");
    if (unused) {
      EXPECT_TRUE(updates[0].first.is_null()) << updates[0].first.dump();
    } else {
      EXPECT_EQ(updates[0].first["metadata"]["labels"]["app"], "x");
    }
  }
}

// With `versionsOnly` the cache keeps resourceVersions, not objects: add and update handlers
// get the whole kept object, the old object of an update is null, a delete seen by the watch is
// handed the object as deleted and one found by a relist a stub (identity, resourceVersion); get()
// gives the stub; every new resourceVersion calls a handler (the consumer tells what changed).
TEST(Informer, VersionsOnlyCachesNoObjectButHandsThemOn) {
  testing::FakeTransport transport;
  std::atomic<int> lists{0}, watches{0};
  // The first list has a and b; the watch changes a, deletes it, and ends in a 410: the relist
  // (without b, deleted meanwhile) finds b gone.
  transport.handler = [&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.target.find("watch=") == std::string::npos) {
      if (++lists == 1) {
        return HttpResponse{200, R"({"metadata":{"resourceVersion":"5"},"items":[
            {"metadata":{"name":"a","namespace":"d","resourceVersion":"4","uid":"u1","labels":{"app":"x"}},"spec":{"type":"LoadBalancer"}},
            {"metadata":{"name":"b","namespace":"d","resourceVersion":"5","uid":"u2"},"spec":{"type":"ClusterIP"}}]})", {}};
      }
      return HttpResponse{200, R"({"metadata":{"resourceVersion":"9"},"items":[]})", {}};
    }
    if (++watches > 1) {
      std::this_thread::sleep_for(20ms);
      return HttpResponse{200, "", {}};
    }
    return HttpResponse{200, R"({"type":"MODIFIED","object":{"metadata":{"name":"a","namespace":"d","resourceVersion":"6","uid":"u1","labels":{"app":"x"}},"spec":{"type":"LoadBalancer"}}})" "\n"
        R"({"type":"DELETED","object":{"metadata":{"name":"a","namespace":"d","resourceVersion":"7","uid":"u1","labels":{"app":"y"}},"spec":{"type":"LoadBalancer"}}})" "\n"
        R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})" "\n", {}};
  };
  Client client(transport, Client::Options{.qps = 0, .maxRetries = 0});
  std::mutex mu;
  std::vector<Json> adds, deletes;
  std::vector<std::pair<Json, Json>> updates;
  std::optional<Json> cachedAtAdd;
  Informer* self = nullptr;
  Informer::Options options{.retryBackoff = {.initial = 10ms, .max = 20ms, .jitter = 0}};
  options.transform = [](const Json& o) { return o; };
  options.versionsOnly = true;
  Informer informer(client, resources::kServices, "",
                    {.onAdd = [&](const Json& o) { std::lock_guard l(mu); adds.push_back(o); if (!cachedAtAdd) cachedAtAdd = self->get("d/a"); },
                     .onUpdate = [&](const Json& o, const Json& n) { std::lock_guard l(mu); updates.emplace_back(o, n); },
                     .onDelete = [&](const Json& o) { std::lock_guard l(mu); deletes.push_back(o); }},
                    options);
  self = &informer;
  runUntil(informer, "9");
  std::lock_guard l(mu);
  ASSERT_EQ(adds.size(), 2u);
  EXPECT_EQ(adds[0]["metadata"]["labels"]["app"], "x") << "the add handler got less than the kept object: " << adds[0].dump();
  EXPECT_EQ(adds[0]["spec"]["type"], "LoadBalancer");
  ASSERT_TRUE(cachedAtAdd.has_value());
  EXPECT_EQ(*cachedAtAdd, Json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"d","resourceVersion":"4"}})"))
      << "the cache kept more than the resourceVersion: " << cachedAtAdd->dump();
  ASSERT_EQ(updates.size(), 1u) << "a new resourceVersion called no handler";
  EXPECT_TRUE(updates[0].first.is_null()) << "the old object of an update: " << updates[0].first.dump();
  EXPECT_EQ(updates[0].second["metadata"]["labels"]["app"], "x");
  ASSERT_EQ(deletes.size(), 2u);
  EXPECT_EQ(deletes[0]["metadata"]["labels"]["app"], "y") << "the watch's delete is handed the object as deleted: " << deletes[0].dump();
  EXPECT_EQ(deletes[1], Json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"b","namespace":"d","resourceVersion":"5"}})"))
      << "a delete found by the relist: " << deletes[1].dump();
  EXPECT_EQ(informer.size(), 0u);
  EXPECT_EQ(lists.load(), 2) << "the 410 was not followed by one relist";
}

// client-go's reflector backoff: 800 ms doubling to 30 s, each wait stretched by up to 100 %.
TEST(Backoff, DoublesToItsCapWithJitterAndResets) {
  double r = 0.0;
  Backoff b({}, [&] { return r; });
  std::vector<long> waits;
  for (int i = 0; i < 8; ++i) waits.push_back(b.next().count());
  EXPECT_EQ(waits, (std::vector<long>{800, 1600, 3200, 6400, 12800, 25600, 30000, 30000}));
  r = 0.5;
  EXPECT_EQ(b.next().count(), 45000);  // 30 s base, half again of jitter
  b.reset();
  r = 0.999;
  EXPECT_EQ(b.next().count(), 1599);  // back to 800 ms, jittered
}

TEST(TokenBucket, BurstThenSteadyRate) {
  TokenBucket bucket(10, 3);
  auto t = std::chrono::steady_clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.reserve(t), std::chrono::steady_clock::duration::zero());
  auto wait = bucket.reserve(t);
  EXPECT_NEAR(std::chrono::duration<double>(wait).count(), 0.1, 1e-6);
  // After a second the bucket is full again (burst, not more).
  t += 1s;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.reserve(t), std::chrono::steady_clock::duration::zero());
  EXPECT_GT(bucket.reserve(t), std::chrono::steady_clock::duration::zero());
}

}  // namespace
}  // namespace l2a::kube
