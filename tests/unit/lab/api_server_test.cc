#include "lab/api_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

namespace l2a::lab {
namespace {

// The listening socket's backlog, as the kernel reports it (ss: Send-Q of a listening socket).
int backlogOf(int port) {
  std::string command = "ss -Hltn 'sport = :" + std::to_string(port) + "'";
  FILE* out = ::popen(command.c_str(), "r");
  if (out == nullptr) return -1;
  char state[32] = {0};
  int queued = 0, backlog = -1;
  if (std::fscanf(out, "%31s %d %d", state, &queued, &backlog) != 3) backlog = -1;
  ::pclose(out);
  return backlog;
}

// cpp-httplib (Debian's, built with a backlog of 5) dropped the SYNs of 100 agents connecting
// at once; their requests were answered 17-20 s late. The lab server listens with a wide one.
TEST(ApiServer, ListensWithAWideBacklog) {
  ApiServer server{ApiServerOptions{}};
  auto url = server.start();
  ASSERT_TRUE(url.ok());
  std::thread serving([&] { server.serve(); });
  int port = std::stoi(url->substr(url->rfind(':') + 1));
  EXPECT_EQ(backlogOf(port), 4096);
  server.shutdown();
  serving.join();
}

// What a Service holds (cluster IP, node port) is kept between writes and added to on each
// create, not read from every Service again: it must still be exact after status writes (which
// change no spec), spec updates and deletes, so that no two Services ever share either.
TEST(ApiServer, ServiceAllocationsStayDistinctAcrossCreatesStatusWritesUpdatesAndDeletes) {
  ApiServer server{ApiServerOptions{}};
  auto url = server.start();
  ASSERT_TRUE(url.ok());
  std::thread serving([&] { server.serve(); });
  httplib::Client client(*url);
  const std::string base = "/api/v1/namespaces/default/services";
  auto create = [&](const std::string& name, const std::string& nodePort = "") {
    std::string port = nodePort.empty() ? "" : ",\"nodePort\":" + nodePort;
    auto res = client.Post(base, R"({"metadata":{"name":")" + name + R"("},"spec":{"type":"NodePort","ports":[{"port":80)" +
                                     port + "}]}}",
                           "application/json");
    return res ? res->status : -1;
  };
  auto allocations = [&] {  // name -> (cluster IP, node port), from a list
    std::map<std::string, std::pair<std::string, int>> out;
    auto res = client.Get(base);
    if (!res) return out;
    auto list = nlohmann::json::parse(res->body, nullptr, false);
    if (!list.is_object() || !list["items"].is_array()) return out;
    for (const auto& s : list["items"]) {
      out[s["metadata"]["name"]] = {s["spec"].value("clusterIP", ""), s["spec"]["ports"][0].value("nodePort", 0)};
    }
    return out;
  };
  auto distinct = [&] {
    auto all = allocations();
    std::set<std::string> ips;
    std::set<int> ports;
    for (const auto& [name, held] : all) {
      if (held.first.empty() || held.second == 0 || !ips.insert(held.first).second || !ports.insert(held.second).second) {
        ADD_FAILURE() << name << " holds " << held.first << " / " << held.second << " (taken, or none)";
        return false;
      }
    }
    return !all.empty();
  };
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(create("s" + std::to_string(i)), 201);
    auto status = client.Patch(base + "/s" + std::to_string(i) + "/status",
                               R"({"status":{"loadBalancer":{"ingress":[{"ip":"198.18.0.9"}]}}})",
                               "application/merge-patch+json");
    ASSERT_TRUE(status && status->status == 200) << (status ? status->body : "no answer");
  }
  EXPECT_TRUE(distinct());
  // s0 moves to a port of its choosing: the one it held is free again, the new one taken.
  int freed = allocations()["s0"].second;
  auto moved = client.Patch(base + "/s0", R"({"spec":{"ports":[{"port":80,"nodePort":32000}]}})",
                            "application/merge-patch+json");
  ASSERT_TRUE(moved && moved->status == 200) << (moved ? moved->body : "no answer");
  ASSERT_EQ(create("s5"), 201);
  EXPECT_EQ(allocations()["s5"].second, freed);
  EXPECT_EQ(create("taken", "32000"), 422);
  EXPECT_EQ(create("huge", "4294999295"), 422) << "2^32 + 31999: out of range, not wrapped into it";
  // s1 deleted: what it held is free, and nothing else.
  auto s1 = allocations()["s1"];
  ASSERT_TRUE(client.Delete(base + "/s1"));
  ASSERT_EQ(create("s6"), 201);
  EXPECT_EQ(allocations()["s6"], s1);
  ASSERT_EQ(create("s7"), 201);
  EXPECT_TRUE(distinct());
  server.shutdown();
  serving.join();
}

}  // namespace
}  // namespace l2a::lab
