#include "lab/api_server.h"

#include <gtest/gtest.h>

#include <cstdio>
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

}  // namespace
}  // namespace l2a::lab
