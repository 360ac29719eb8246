#include "k8s/object_meta.h"

#include <gtest/gtest.h>

#include <string>

namespace l2a::k8s {
namespace {

// A uid comes back as it was: kube-apiserver's UUIDs (kept as 16 bytes) and anything else
// another server may write (uppercase, no dashes, a dash out of place, a word), "" as "".
TEST(Uid, EveryUidComesBackAsItWas) {
  for (const std::string uid : {"0f8e2c4a-9b1d-4e6f-a3c5-7d9e1b2f4a6c", "00000000-0000-0000-0000-000000000000",
                                "ffffffff-ffff-ffff-ffff-ffffffffffff", "0F8E2C4A-9B1D-4E6F-A3C5-7D9E1B2F4A6C",
                                "0f8e2c4a9b1d4e6fa3c57d9e1b2f4a6c0000", "0f8e2c4a-9b1d-4e6fa-3c5-7d9e1b2f4a6c",
                                "0f8e2c4a-9b1d-4e6f-a3c5-7d9e1b2f4a6g", "u-db", ""}) {
    Uid kept(uid);
    EXPECT_EQ(kept.str(), uid);
    EXPECT_EQ(kept.empty(), uid.empty()) << uid;
    EXPECT_EQ(kept, Uid(uid)) << uid;
  }
  EXPECT_FALSE(Uid("0f8e2c4a-9b1d-4e6f-a3c5-7d9e1b2f4a6c") == Uid("0f8e2c4a-9b1d-4e6f-a3c5-7d9e1b2f4a6d"));
  EXPECT_FALSE(Uid("0f8e2c4a-9b1d-4e6f-a3c5-7d9e1b2f4a6c") == Uid("0F8E2C4A-9B1D-4E6F-A3C5-7D9E1B2F4A6C"));
  EXPECT_FALSE(Uid("u-db") == Uid("u-dc"));
  EXPECT_FALSE(Uid("") == Uid("u-db"));
}

}  // namespace
}  // namespace l2a::k8s
