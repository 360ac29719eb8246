#include "agent/announcement_records.h"

#include <gtest/gtest.h>

namespace l2a::agent {
namespace {

using Json = nlohmann::json;

using namespace std::chrono;

Claim claimOf(const std::string& address) {
  return {.address = address,
          .interfaces = std::make_shared<const ClaimInterfaces>(ClaimInterfaces{{"eth0", "02:00:00:00:00:01"}}),
          .since = sys_days{2026y / 11 / 28} + 4h,
          .cause = "wire"};
}

// A record as the API server returns it: what we wrote, with a resourceVersion.
Json stored(Json record, const std::string& rv) {
  record["metadata"]["resourceVersion"] = rv;
  return record;
}

TEST(AnnouncementRecords, NamesAreDnsSubdomainsOneFromEachAddress) {
  EXPECT_EQ(recordName("web", "198.18.0.10"), "web-198.18.0.10");
  EXPECT_EQ(recordName("web", "2001:db8::10"), "web-2001-db8--10");
  EXPECT_EQ(recordName("web", "2001:db8::"), "web-2001-db8--0");  // never ending in '-'
  EXPECT_EQ(nodeLabelValue("worker-1"), "worker-1");
  std::string longName(80, 'a');
  std::string hashed = nodeLabelValue(longName);
  EXPECT_EQ(hashed.rfind("h-", 0), 0u);
  EXPECT_LE(hashed.size(), 63u);
  EXPECT_NE(hashed, nodeLabelValue(longName + "b"));
}

TEST(AnnouncementRecords, TheRecordSaysWhoWhereSinceAndWhyAndBelongsToItsService) {
  Json r = desiredRecord("shop/web", "uid-1", "worker-1", claimOf("198.18.0.10"));
  EXPECT_EQ(r["kind"], "L2Announcement");
  EXPECT_EQ(r["metadata"]["namespace"], "shop");
  EXPECT_EQ(r["metadata"]["name"], "web-198.18.0.10");
  EXPECT_EQ(r["metadata"]["labels"][kRecordNodeLabel], "worker-1");
  EXPECT_EQ(r["metadata"]["labels"][kRecordServiceLabel], "web");
  EXPECT_EQ(r["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(r["status"]["node"], "worker-1");
  EXPECT_EQ(r["status"]["address"], "198.18.0.10");
  EXPECT_EQ(r["status"]["interfaceNames"], "eth0");
  EXPECT_EQ(r["status"]["macs"], "02:00:00:00:00:01");
  EXPECT_EQ(r["status"]["cause"], "wire");
  EXPECT_EQ(r["status"]["since"], "2026-11-28T04:00:00Z");
  EXPECT_FALSE(desiredRecord("shop/web", "", "worker-1", claimOf("198.18.0.10"))["metadata"].contains("ownerReferences"));
}

// What an agent holds of the cached records, from each as the API server returns it.
HeldRecords heldOf(const std::vector<Json>& records, const std::string& node) {
  HeldRecords out;
  for (const Json& r : records) {
    out[r["metadata"]["namespace"].get<std::string>() + "/" + r["metadata"]["name"].get<std::string>()] =
        heldRecord(r, node);
  }
  return out;
}

// What is wanted of a record: Service KEY's, with claim CLAIM, this node NODE.
DesiredRecord want(const std::string& key, const std::string& node, const Claim& claim) {
  return wantRecord(key, "u", node, std::make_shared<const Claim>(claim));
}

TEST(AnnouncementRecords, WritesOnlyWhatDiffersAndDeletesOnlyOwnRecordsOnTheirVersion) {
  Json mine = desiredRecord("shop/web", "u", "w1", claimOf("198.18.0.10"));
  Claim later = claimOf("198.18.0.10");
  later.since += 1h;     // only the time differs: no write
  later.cause = "plan";  // nor why
  DesiredRecords desired{{"shop/web-198.18.0.10", want("shop/web", "w1", later)}};
  EXPECT_EQ(desired.begin()->second.record("w1"), desiredRecord("shop/web", "u", "w1", later))
      << "what is written is the record as wanted, made again";
  EXPECT_TRUE(recordWrites(desired, heldOf({stored(mine, "5")}, "w1"), "w1").apply.empty());
  Claim moved = claimOf("198.18.0.10");
  moved.interfaces = std::make_shared<const ClaimInterfaces>(ClaimInterfaces{{"eth1", "02:00:00:00:00:02"}});
  EXPECT_EQ(recordWrites({{"shop/web-198.18.0.10", want("shop/web", "w1", moved)}}, heldOf({stored(mine, "5")}, "w1"), "w1").apply,
            std::vector<std::string>{"shop/web-198.18.0.10"});
  // Each thing that decides a write does: the node (and its label), the Service, the address.
  for (const DesiredRecord& changed : {want("shop/web", "w9", claimOf("198.18.0.10")), want("shop/db", "w1", claimOf("198.18.0.10")),
                                       want("shop/web", "w1", claimOf("198.18.0.11"))}) {
    EXPECT_EQ(recordWrites({{"shop/web-198.18.0.10", changed}}, heldOf({stored(mine, "5")}, "w1"), "w1").apply.size(), 1u)
        << changed.record("w1").dump();
  }
  // Another node's record for an address now ours: ours is written over it.
  Json theirs = desiredRecord("shop/web", "u", "w2", claimOf("198.18.0.10"));
  EXPECT_EQ(recordWrites(desired, heldOf({stored(theirs, "6")}, "w1"), "w1").apply.size(), 1u);
  // Nothing wanted: our record goes, on its version; another node's stays.
  Json other = desiredRecord("shop/db", "u", "w2", claimOf("198.18.0.11"));
  RecordWrites w = recordWrites({}, heldOf({stored(mine, "5"), stored(other, "7")}, "w1"), "w1");
  EXPECT_TRUE(w.apply.empty());
  ASSERT_EQ(w.remove.size(), 1u);
  EXPECT_EQ(w.remove[0], (std::pair<std::string, std::string>{"shop/web-198.18.0.10", "5"}));
  // Missing: created.
  EXPECT_EQ(recordWrites(desired, {}, "w1").apply.size(), 1u);
  // Wanted without a claim: no record, never an exception.
  EXPECT_TRUE(DesiredRecord{.serviceKey = "shop/web"}.record("w1").is_null());
}

// The agent keeps no cached record itself (the informer holds resourceVersions only): of each,
// who holds which address, and of its own a hash of what decides a write.
TEST(AnnouncementRecords, AnAgentKeepsWhoHoldsWhatAndOfItsOwnRecordsOnlyAHashOfWhatItCompares) {
  Json mine = stored(desiredRecord("shop/web", "u", "w1", claimOf("198.18.0.10")), "5");
  mine["metadata"]["managedFields"] = Json::array({{{"manager", "l2a"}}});
  HeldRecord held = heldRecord(mine, "w1");
  EXPECT_EQ(held.address, "198.18.0.10");
  EXPECT_EQ(held.node, "w1");
  EXPECT_EQ(held.resourceVersion, "5");
  EXPECT_NE(held.meaning, 0u);
  EXPECT_EQ(held.meaning, want("shop/web", "w1", claimOf("198.18.0.10")).meaning);  // what we wrote, read back, is as wanted
  // Of another node's record, only who holds what.
  HeldRecord theirs = heldRecord(mine, "w2");
  EXPECT_EQ(theirs, (HeldRecord{.address = "198.18.0.10", .node = "w1", .resourceVersion = "5"}));
  // Another node's record we now want is written over (what is held of it never equals ours).
  DesiredRecords desired{{"shop/web-198.18.0.10", want("shop/web", "w2", claimOf("198.18.0.10"))}};
  EXPECT_EQ(recordWrites(desired, HeldRecords({{"shop/web-198.18.0.10", theirs}}), "w2").apply.size(), 1u);
  // Not an object, or a status of any type: fields empty, never an exception; such a record
  // holds nothing, and one of ours nobody wants is still deleted.
  EXPECT_EQ(heldRecord(Json::array({1}), "w1"), HeldRecord{});
  HeldRecord odd = heldRecord(Json{{"status", 7}, {"metadata", {{"name", "x"}, {"resourceVersion", "9"}}}}, "w1");
  EXPECT_EQ(odd.resourceVersion, "9");
  EXPECT_TRUE(odd.address.empty());
  Json noAddress = stored(desiredRecord("shop/db", "u", "w1", claimOf("198.18.0.11")), "8");
  noAddress["status"].erase("address");
  RecordWrites w = recordWrites({}, heldOf({noAddress}, "w1"), "w1");
  EXPECT_EQ(w.remove, (std::vector<std::pair<std::string, std::string>>{{"shop/db-198.18.0.11", "8"}}));
}

TEST(AnnouncementRecords, HoldersComeFromWellFormedRecordsOnly) {
  std::vector<Json> cached{desiredRecord("a/x", "", "w1", claimOf("198.18.0.10")),
                           desiredRecord("b/y", "", "w2", claimOf("198.18.0.10")),
                           Json::parse(R"({"metadata":{"name":"bad"},"status":{"address":7,"node":"w3"}})"),
                           Json::parse(R"({"metadata":{"name":"bad2"},"status":"wrong"})"), Json("not even an object")};
  auto holders = recordHolders(cached);
  ASSERT_EQ(holders.size(), 1u);
  EXPECT_EQ(holders["198.18.0.10"], (std::set<std::string>{"w1", "w2"}));
}

policy::PlannedAddress planOf(const std::string& address, const std::string& owner) {
  return {address, policy::AddressPlan::ownedBy(owner)};
}

TEST(AnnouncementRecords, TheConditionSaysWhoAnnouncesEachAddressOrWhichHasNobody) {
  auto v4 = planOf("198.18.0.10", "w1"), v6 = planOf("2001:db8::10", "w2"), none = planOf("198.18.0.11", "");
  Json all = announcedCondition({&v6, &v4});
  EXPECT_EQ(all["type"], kAnnouncedCondition);
  EXPECT_EQ(all["status"], "True");
  EXPECT_EQ(all["reason"], "Announced");
  EXPECT_EQ(all["message"], "198.18.0.10 by w1, 2001:db8::10 by w2");
  Json part = announcedCondition({&v4, &none});
  EXPECT_EQ(part["status"], "False");
  EXPECT_EQ(part["reason"], "NoCandidateNode");
  EXPECT_NE(part["message"].get<std::string>().find("no node may announce 198.18.0.11"), std::string::npos);
  EXPECT_NE(part["message"].get<std::string>().find("198.18.0.10 by w1"), std::string::npos);
  EXPECT_EQ(announcedCondition({})["reason"], "NotSelected");
}

// The agent keeps a summary of the condition a Service carries (not its message): the patch
// is written only when the stored one says something else, and keeps its transition time.
TEST(AnnouncementRecords, TheConditionIsPatchedOnlyWhenItChangesAndKeepsItsTransitionTime) {
  auto v4 = planOf("198.18.0.10", "w1");
  Json condition = announcedCondition({&v4});
  Json service{{"status", {{"conditions", Json::array({{{"type", "Other"}, {"status", "True"}}})}}}};
  EXPECT_FALSE(storedAnnouncedCondition(service).has_value()) << "another condition taken for ours";
  Json patch = conditionPatch(storedAnnouncedCondition(service), condition, "T1");
  ASSERT_FALSE(patch.is_null());
  ASSERT_EQ(patch["status"]["conditions"].size(), 1u);  // ours only: merged by type
  EXPECT_EQ(patch["status"]["conditions"][0]["lastTransitionTime"], "T1");
  service["status"]["conditions"].push_back(patch["status"]["conditions"][0]);
  auto stored = storedAnnouncedCondition(service);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->lastTransitionTime(), "T1");
  EXPECT_TRUE(conditionPatch(stored, condition, "T2").is_null());
  auto elsewhere = planOf("198.18.0.10", "w2");  // same status, new message: time kept
  Json moved = conditionPatch(stored, announcedCondition({&elsewhere}), "T3");
  ASSERT_FALSE(moved.is_null()) << "a new message taken for the same";
  EXPECT_EQ(moved["status"]["conditions"][0]["lastTransitionTime"], "T1");
  EXPECT_EQ(conditionPatch(stored, announcedCondition({}), "T4")["status"]["conditions"][0]["lastTransitionTime"], "T4");
  // Each of status, reason and message counts, as text of any type.
  for (const char* field : {"status", "reason", "message"}) {
    Json changed = service;
    changed["status"]["conditions"][1][field] = 7;
    EXPECT_FALSE(conditionPatch(storedAnnouncedCondition(changed), condition, "T5").is_null()) << field;
  }
  // Whatever a stored Service holds, nothing throws.
  for (const char* bad : {R"({"status":"x"})", R"({"status":{"conditions":"x"}})", R"({"status":{"conditions":[1,{"type":2}]}})", "[]", "null"}) {
    EXPECT_FALSE(storedAnnouncedCondition(Json::parse(bad)).has_value()) << bad;
  }
  Json oddTime = service;
  oddTime["status"]["conditions"][1]["lastTransitionTime"] = 5;
  Json retimed = conditionPatch(storedAnnouncedCondition(oddTime), announcedCondition({&elsewhere}), "T6");
  EXPECT_EQ(retimed["status"]["conditions"][0]["lastTransitionTime"], "T6") << "a time that is no string kept";
}

// The transition time is kept packed (kube-apiserver's form as 14 digits, in the string's own
// buffer) and comes back as the Service carried it, whatever that was.
TEST(AnnouncementRecords, ATransitionTimeOfAnyShapeComesBackAsItWas) {
  EXPECT_EQ(packTransitionTime("2026-12-07T18:04:59Z"), "20261207180459");
  EXPECT_LE(packTransitionTime("2026-12-07T18:04:59Z").size(), std::string().capacity()) << "not in the string's own buffer";
  for (const char* time : {"2026-12-07T18:04:59Z", "", "T1", "2026-12-07T18:04:59.123456Z", "2026-12-07T18:04:59+01:00",
                           "20261207180459", "=x", "2026-12-07 18:04:59Z", "2026-12-07T18:04:5aZ", "2026-12-07T18:04:59z",
                           "\xff-12-07T18:04:59Z"}) {
    EXPECT_EQ(unpackTransitionTime(packTransitionTime(time)), time) << time;
  }
  // Through a Service and a patch: an old time kept exactly as it was written.
  auto v4 = planOf("198.18.0.10", "w1");
  auto moved = planOf("198.18.0.10", "w2");
  for (const char* time : {"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.5Z"}) {
    Json service{{"status", {{"conditions", Json::array({announcedCondition({&v4})})}}}};
    service["status"]["conditions"][0]["lastTransitionTime"] = time;
    Json patch = conditionPatch(storedAnnouncedCondition(service), announcedCondition({&moved}), "now");
    EXPECT_EQ(patch["status"]["conditions"][0]["lastTransitionTime"], time);
  }
}

}  // namespace
}  // namespace l2a::agent
