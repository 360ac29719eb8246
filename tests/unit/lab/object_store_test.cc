#include "lab/object_store.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace l2a::lab {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

Json svc(const std::string& name, Json labels = Json::object()) {
  return {{"metadata", {{"name", name}, {"labels", labels}}}, {"spec", {{"type", "LoadBalancer"}}}};
}

uint64_t rvOf(const Json& o) { return std::stoull(o["metadata"]["resourceVersion"].get<std::string>()); }

TEST(ObjectStore, CreateSetsServerFieldsAndRejectsDuplicates) {
  ObjectStore store(100, "");
  auto a = store.create("/services", "default", svc("a"));
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE((*a)["metadata"]["uid"].get<std::string>().empty());
  EXPECT_FALSE((*a)["metadata"]["creationTimestamp"].get<std::string>().empty());
  EXPECT_EQ((*a)["metadata"]["generation"], 1);
  auto again = store.create("/services", "default", svc("a"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, 409);
  EXPECT_EQ(again.error().reason, "AlreadyExists");
}

TEST(ObjectStore, VersionsAreClusterWideAndMonotonic) {
  ObjectStore store(100, "");
  auto a = store.create("/services", "default", svc("a"));
  auto n = store.create("/nodes", "", {{"metadata", {{"name", "n1"}}}});
  auto b = store.create("/services", "other", svc("b"));
  EXPECT_LT(rvOf(*a), rvOf(*n));
  EXPECT_LT(rvOf(*n), rvOf(*b));
  EXPECT_EQ(store.resourceVersion(), rvOf(*b));
}

TEST(ObjectStore, StaleUpdateConflictsAndGenerationFollowsSpec) {
  ObjectStore store(100, "");
  Json a = *store.create("/services", "default", svc("a"));
  Json changed = a;
  changed["spec"]["type"] = "ClusterIP";
  Json updated = *store.update("/services", "default", "a", changed, true, false);
  EXPECT_EQ(updated["metadata"]["generation"], 2);
  auto stale = store.update("/services", "default", "a", changed, true, false);  // old version
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, 409);
  Json labelled = updated;
  labelled["metadata"]["labels"]["x"] = "y";
  EXPECT_EQ((*store.update("/services", "default", "a", labelled, true, false))["metadata"]["generation"], 2);
}

TEST(ObjectStore, StatusIsASeparateSubresource) {
  ObjectStore store(100, "");
  Json a = *store.create("/services", "default", svc("a"));
  Json withStatus = a;
  withStatus["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "198.18.0.1"}}}}}}};
  withStatus["spec"]["type"] = "ClusterIP";  // ignored by a status write
  Json s = *store.update("/services", "default", "a", withStatus, true, true);
  EXPECT_EQ(s["spec"]["type"], "LoadBalancer");
  EXPECT_EQ(s["status"]["loadBalancer"]["ingress"][0]["ip"], "198.18.0.1");
  Json main = s;
  main.erase("status");  // a main write cannot clear status
  main["spec"]["type"] = "ClusterIP";
  Json m = *store.update("/services", "default", "a", main, true, false);
  EXPECT_EQ(m["spec"]["type"], "ClusterIP");
  EXPECT_TRUE(m.contains("status"));
}

TEST(ObjectStore, ListFiltersByNamespaceAndSelectors) {
  ObjectStore store(100, "");
  (void)store.create("/services", "a", svc("s1", {{"app", "x"}}));
  (void)store.create("/services", "a", svc("s2", {{"app", "y"}}));
  (void)store.create("/services", "b", svc("s3", {{"app", "x"}}));
  EXPECT_EQ(store.list("/services", "", LabelSelector(), FieldSelector()).items.size(), 3u);
  EXPECT_EQ(store.list("/services", "a", LabelSelector(), FieldSelector()).items.size(), 2u);
  EXPECT_EQ(store.list("/services", "", *LabelSelector::parse("app=x"), FieldSelector()).items.size(), 2u);
  EXPECT_EQ(store.list("/services", "", LabelSelector(), *FieldSelector::parse("metadata.name=s2")).items.size(), 1u);
}

// Each stored event carries the line a watch without selectors sends, serialized once: the same
// as watchEvent gives such a watch; a watch with a selector still sees an object that stops
// matching as DELETED at that event's version.
TEST(ObjectStore, EachEventsWatchLineIsWhatAWatchWithoutSelectorsSees) {
  ObjectStore store(100, "");
  uint64_t cursor = store.resourceVersion();
  Json a = *store.create("/services", "d", svc("a", {{"app", "x"}}));
  Json changed = a;
  changed["metadata"]["labels"]["app"] = "y";
  (void)store.update("/services", "d", "a", changed, true, false);
  (void)store.remove("/services", "d", "a");
  std::vector<StoredEvent> events;
  ASSERT_EQ(store.waitEvents("/services", "", cursor, store.watchEpoch(), events, 0ms), ObjectStore::WaitResult::kEvents);
  ASSERT_EQ(events.size(), 3u);
  std::vector<std::string> types;
  for (const StoredEvent& e : events) {
    ASSERT_NE(e.line, nullptr);
    EXPECT_EQ(*e.line, watchEvent(e, LabelSelector{}, FieldSelector{}).dump() + "\n");
    Json line = Json::parse(*e.line);
    types.push_back(line["type"]);
    EXPECT_EQ(line["object"]["metadata"]["name"], "a");
    EXPECT_EQ(rvOf(line["object"]), e.resourceVersion);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"}));
  auto appX = *LabelSelector::parse("app=x");
  Json left = watchEvent(events[1], appX, FieldSelector{});
  EXPECT_EQ(left["type"], "DELETED") << left.dump();
  EXPECT_EQ(left["object"]["metadata"]["labels"]["app"], "x") << "what the watcher last saw";
  EXPECT_EQ(rvOf(left["object"]), events[1].resourceVersion);
  EXPECT_TRUE(watchEvent(events[2], appX, FieldSelector{}).is_null()) << "already gone for that watcher";
  // An object of any shape is matched without an exception (metadata a string: no labels).
  StoredEvent odd{1, "/services", "d", "ADDED", std::make_shared<const Json>(Json{{"metadata", "x"}}),
                  std::make_shared<const Json>(nullptr), nullptr};
  EXPECT_TRUE(watchEvent(odd, appX, FieldSelector{}).is_null());
  EXPECT_EQ(watchEvent(odd, LabelSelector{}, FieldSelector{})["type"], "ADDED");
}

TEST(ObjectStore, WatchHistoryAndGone) {
  ObjectStore store(3, "");
  uint64_t start = store.resourceVersion();
  for (int i = 0; i < 5; ++i) (void)store.create("/services", "d", svc("s" + std::to_string(i)));
  uint64_t cursor = start;
  std::vector<StoredEvent> events;
  EXPECT_EQ(store.waitEvents("/services", "", cursor, store.watchEpoch(), events, 0ms),
            ObjectStore::WaitResult::kGone);
  cursor = store.resourceVersion() - 2;
  EXPECT_EQ(store.waitEvents("/services", "", cursor, store.watchEpoch(), events, 0ms),
            ObjectStore::WaitResult::kEvents);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ((*events[1].object)["metadata"]["name"], "s4");
  EXPECT_EQ(cursor, store.resourceVersion());
}

TEST(ObjectStore, DeleteWithAPreconditionDeletesOnlyThatVersion) {
  ObjectStore store(100, "");
  auto created = store.create("/services", "d", svc("s"));
  ASSERT_TRUE(created.ok());
  std::string rv = (*created)["metadata"]["resourceVersion"];
  Json changed = *created;
  changed["metadata"]["labels"] = {{"x", "y"}};
  ASSERT_TRUE(store.update("/services", "d", "s", changed, false, false).ok());
  auto refused = store.remove("/services", "d", "s", rv);  // changed since: kept
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, 409);
  EXPECT_TRUE(store.get("/services", "d", "s").ok());
  std::string current = (*store.get("/services", "d", "s"))["metadata"]["resourceVersion"];
  EXPECT_TRUE(store.remove("/services", "d", "s", current).ok());
  EXPECT_FALSE(store.get("/services", "d", "s").ok());
}

Json ownedBy(const std::string& name, const std::vector<std::string>& uids) {
  Json refs = Json::array();
  for (const auto& uid : uids) refs.push_back({{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "n"}, {"uid", uid}});
  return {{"metadata", {{"name", name}, {"ownerReferences", refs}}}, {"spec", Json::object()}};
}

// As kube-controller-manager's garbage collector (background deletion): an object goes when
// none of the owners it names exists any more, or when none ever did; one with an owner left
// stays; the deletions are events a watch sees.
TEST(ObjectStore, WhatNamesOnlyDeletedOwnersIsDeletedWithThem) {
  ObjectStore store(100, "");
  std::string a = (*store.create("/nodes", "", {{"metadata", {{"name", "a"}}}}))["metadata"]["uid"];
  std::string b = (*store.create("/nodes", "", {{"metadata", {{"name", "b"}}}}))["metadata"]["uid"];
  ASSERT_TRUE(store.create("coordination.k8s.io/leases", "l2a", ownedBy("of-a", {a})).ok());
  ASSERT_TRUE(store.create("coordination.k8s.io/leases", "l2a", ownedBy("of-both", {a, b})).ok());
  Json chain = ownedBy("of-lease", {(*store.get("coordination.k8s.io/leases", "l2a", "of-a"))["metadata"]["uid"]});
  ASSERT_TRUE(store.create("coordination.k8s.io/leases", "l2a", chain).ok());
  ASSERT_TRUE(store.create("coordination.k8s.io/leases", "l2a", ownedBy("plain", {})).ok());
  uint64_t cursor = store.resourceVersion();

  ASSERT_TRUE(store.remove("/nodes", "", "a").ok());
  EXPECT_FALSE(store.get("coordination.k8s.io/leases", "l2a", "of-a").ok()) << "its only owner gone";
  EXPECT_FALSE(store.get("coordination.k8s.io/leases", "l2a", "of-lease").ok()) << "owned by what was collected";
  EXPECT_TRUE(store.get("coordination.k8s.io/leases", "l2a", "of-both").ok()) << "b still exists";
  EXPECT_TRUE(store.get("coordination.k8s.io/leases", "l2a", "plain").ok());
  std::vector<StoredEvent> events;
  store.waitEvents("coordination.k8s.io/leases", "", cursor, store.watchEpoch(), events, 0ms);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "DELETED");
  EXPECT_EQ((*events[0].object)["metadata"]["name"], "of-a");
  EXPECT_EQ((*events[1].object)["metadata"]["name"], "of-lease");

  ASSERT_TRUE(store.remove("/nodes", "", "b").ok());
  EXPECT_FALSE(store.get("coordination.k8s.io/leases", "l2a", "of-both").ok()) << "its last owner gone";

  ASSERT_TRUE(store.create("coordination.k8s.io/leases", "l2a", ownedBy("of-nobody", {"no-such-uid"})).ok());
  EXPECT_FALSE(store.get("coordination.k8s.io/leases", "l2a", "of-nobody").ok()) << "an owner that never existed";
  std::string c = (*store.create("/nodes", "", {{"metadata", {{"name", "c"}}}}))["metadata"]["uid"];
  Json plain = *store.get("coordination.k8s.io/leases", "l2a", "plain");
  plain["metadata"]["ownerReferences"] = ownedBy("", {c})["metadata"]["ownerReferences"];
  ASSERT_TRUE(store.update("coordination.k8s.io/leases", "l2a", "plain", plain, false, false).ok());
  ASSERT_TRUE(store.remove("/nodes", "", "c").ok());
  EXPECT_FALSE(store.get("coordination.k8s.io/leases", "l2a", "plain").ok()) << "an owner named by an update";
}

TEST(ObjectStore, JournalKeepsEverythingAcrossARestart) {
  auto dir = std::filesystem::temp_directory_path() / ("l2a-store-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  uint64_t last;
  {
    ObjectStore store(100, dir.string());
    ASSERT_TRUE(store.load().ok());
    (void)store.create("/services", "d", svc("kept"));
    (void)store.create("/services", "d", svc("gone"));
    ASSERT_TRUE(store.remove("/services", "d", "gone").ok());
    last = store.resourceVersion();
  }
  ObjectStore store(100, dir.string());
  ASSERT_TRUE(store.load().ok());
  EXPECT_TRUE(store.get("/services", "d", "kept").ok());
  EXPECT_FALSE(store.get("/services", "d", "gone").ok());
  EXPECT_EQ(store.resourceVersion(), last);
  auto next = store.create("/services", "d", svc("new"));
  EXPECT_GT(rvOf(*next), last);
  EXPECT_TRUE(store.tooOld(last - 1));  // no history survives a restart
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace l2a::lab
