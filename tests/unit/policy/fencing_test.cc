#include "agent/fencing.h"

#include <gtest/gtest.h>

namespace l2a::agent {
namespace {

using namespace std::chrono_literals;

TEST(Fencing, FrozenWithoutTheLeaseOrPastTheRenewDeadline) {
  auto t = std::chrono::steady_clock::time_point{} + 1h;
  EXPECT_FALSE(isFrozen(true, t, t + 2999ms, 3000ms));
  EXPECT_TRUE(isFrozen(true, t, t + 3001ms, 3000ms));
  EXPECT_TRUE(isFrozen(false, t, t, 3000ms));
}

TEST(Fencing, NormalPlanClaimsReleasesAndRescopes) {
  std::map<std::string, std::vector<std::string>> desired{{"198.18.0.1", {}}, {"198.18.0.2", {"eth0"}}};
  std::map<std::string, std::vector<std::string>> claimed{{"198.18.0.2", {}}, {"198.18.0.3", {}}};
  auto c = planClaims(desired, claimed, false);
  EXPECT_EQ(c.release, std::vector<std::string>{"198.18.0.3"});
  ASSERT_EQ(c.claim.size(), 2u);
  EXPECT_EQ(c.claim["198.18.0.2"], std::vector<std::string>{"eth0"});  // re-scoped
  EXPECT_TRUE(c.claim.count("198.18.0.1"));
  EXPECT_TRUE(planClaims(claimed, claimed, false).claim.empty());  // nothing to do
}

TEST(Fencing, FrozenTakesNothingNewAndKeepsEverything) {
  std::map<std::string, std::vector<std::string>> desired{{"198.18.0.1", {}}};
  std::map<std::string, std::vector<std::string>> claimed{{"198.18.0.3", {}}};
  auto c = planClaims(desired, claimed, true);
  EXPECT_TRUE(c.claim.empty());
  EXPECT_TRUE(c.release.empty());
}

}  // namespace
}  // namespace l2a::agent
