#include "wire/heartbeat.h"

#include <gtest/gtest.h>

namespace l2a::wire {
namespace {

const packet::MacAddress kMac = *packet::MacAddress::parse("02:00:00:00:00:11");

Heartbeat sample() {
  return Heartbeat{.node = "worker-1",
                   .port = "eth1",
                   .incarnation = 0x0102030405060708ull,
                   .sequence = 42,
                   .intervalMs = 40,
                   .announcedCount = 2,
                   .announced = {*packet::parseIpAddress("198.18.0.200"), *packet::parseIpAddress("2001:db8::200")},
                   .accused = {"worker-3", "worker-6/eth1"},
                   .heldDown = {"worker-4", "worker-5"}};
}

TEST(Heartbeat, RoundTripsEveryField) {
  packet::Bytes frame = buildHeartbeat(kMac, sample());
  EXPECT_EQ(frame[12], std::byte{0x88});
  EXPECT_EQ(frame[13], std::byte{0xb5});
  EXPECT_EQ(frame[0], std::byte{0x03});  // multicast, locally administered
  auto parsed = parseHeartbeat(frame);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->node, "worker-1");
  EXPECT_EQ(parsed->port, "eth1");
  EXPECT_EQ(parsed->incarnation, 0x0102030405060708ull);
  EXPECT_EQ(parsed->sequence, 42u);
  EXPECT_EQ(parsed->intervalMs, 40);
  EXPECT_EQ(parsed->announcedCount, 2u);
  EXPECT_EQ(parsed->announced, sample().announced);
  EXPECT_EQ(parsed->accused, (std::vector<std::string>{"worker-3", "worker-6/eth1"}));
  EXPECT_EQ(parsed->heldDown, (std::vector<std::string>{"worker-4", "worker-5"}));
  EXPECT_FALSE(parsed->authenticated);
}

TEST(Heartbeat, ANodeOrPortNameWithASlashIsMalformed) {
  Heartbeat h = sample();
  h.node = "worker/1";
  auto parsed = parseHeartbeat(buildHeartbeat(kMac, h));
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), HeartbeatError::kBadField);
  h = sample();
  h.port = "eth/1";
  EXPECT_FALSE(parseHeartbeat(buildHeartbeat(kMac, h)));
}

TEST(Heartbeat, ListsAtMostSixtyFourAddressesButCountsThemAll) {
  Heartbeat many = sample();
  many.announced.clear();
  for (int i = 0; i < 200; ++i) many.announced.push_back(packet::Ipv4Address{{198, 18, 1, static_cast<uint8_t>(i)}});
  many.announcedCount = 200;
  packet::Bytes frame = buildHeartbeat(kMac, many);
  EXPECT_LE(frame.size(), 1514u);
  auto parsed = parseHeartbeat(frame);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->announced.size(), kMaxListedAddresses);
  EXPECT_EQ(parsed->announcedCount, 200u);
}

TEST(Heartbeat, AccusedNamesStopAtTheirByteBudget) {
  Heartbeat h = sample();
  h.accused.clear();
  for (int i = 0; i < 40; ++i) h.accused.push_back(std::string(30, static_cast<char>('a' + i % 26)) + std::to_string(i));
  auto parsed = parseHeartbeat(buildHeartbeat(kMac, h));
  ASSERT_TRUE(parsed);
  EXPECT_GT(parsed->accused.size(), 0u);
  EXPECT_LT(parsed->accused.size(), 40u);
}

TEST(Heartbeat, WithAKeyOnlyFramesSignedWithItAreTaken) {
  packet::Bytes signedFrame = buildHeartbeat(kMac, sample(), "secret-1");
  auto parsed = parseHeartbeat(signedFrame, {"secret-1"});
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->authenticated);
  EXPECT_EQ(parseHeartbeat(signedFrame, {"other"}).error(), HeartbeatError::kBadHmac);
  // Rotation: the new key first, the old one still accepted.
  EXPECT_TRUE(parseHeartbeat(signedFrame, {"secret-2", "secret-1"}));
  EXPECT_EQ(parseHeartbeat(buildHeartbeat(kMac, sample()), {"secret-1"}).error(), HeartbeatError::kUnsigned);
  // Without keys a signed frame is still read.
  EXPECT_TRUE(parseHeartbeat(signedFrame));
}

TEST(Heartbeat, AnyChangedByteOfASignedFrameFailsTheHmac) {
  packet::Bytes frame = buildHeartbeat(kMac, sample(), "secret-1");
  for (size_t i = 14 + 4 + 2; i < frame.size(); ++i) {  // past the magic and version
    packet::Bytes bad = frame;
    bad[i] ^= std::byte{0x01};
    auto parsed = parseHeartbeat(bad, {"secret-1"});
    EXPECT_FALSE(parsed) << "byte " << i;
  }
}

TEST(Heartbeat, EveryTruncationIsAnErrorNeverACrash) {
  packet::Bytes frame = buildHeartbeat(kMac, sample(), "k");
  for (size_t n = 0; n < frame.size(); ++n) {
    auto parsed = parseHeartbeat(packet::ByteSpan(frame).first(n), {"k"});
    EXPECT_FALSE(parsed) << "length " << n;
  }
}

TEST(Heartbeat, MalformedFieldsAreRefusedWithAReason) {
  Heartbeat noName = sample();
  noName.node.clear();
  EXPECT_EQ(parseHeartbeat(buildHeartbeat(kMac, noName)).error(), HeartbeatError::kBadField);
  Heartbeat noInterval = sample();
  noInterval.intervalMs = 0;
  EXPECT_EQ(parseHeartbeat(buildHeartbeat(kMac, noInterval)).error(), HeartbeatError::kBadField);
  Heartbeat undercounted = sample();
  undercounted.announcedCount = 1;  // lists two
  EXPECT_EQ(parseHeartbeat(buildHeartbeat(kMac, undercounted)).error(), HeartbeatError::kBadField);
  packet::Bytes frame = buildHeartbeat(kMac, sample());
  frame[14] = std::byte{'X'};
  EXPECT_EQ(parseHeartbeat(frame).error(), HeartbeatError::kNotHeartbeat);
  frame = buildHeartbeat(kMac, sample());
  frame[18] = std::byte{9};
  EXPECT_EQ(parseHeartbeat(frame).error(), HeartbeatError::kBadVersion);
  // More listed addresses than any sender lists (found by heartbeat_fuzz: read, then built
  // again with 64, it did not round-trip).
  Heartbeat many = sample();
  many.announced.assign(kMaxListedAddresses, *packet::parseIpAddress("198.18.0.200"));
  many.announcedCount = 100;
  frame = buildHeartbeat(kMac, many);
  size_t listedAt = 14 + 4 + 1 + 1 + 2 + 8 + 8 + 1 + many.node.size() + 1 + many.port.size() + 4;
  ASSERT_EQ(frame[listedAt], std::byte{64});
  frame[listedAt] = std::byte{65};
  frame.insert(frame.begin() + static_cast<std::ptrdiff_t>(listedAt) + 1, {std::byte{4}, std::byte{198}, std::byte{18},
                                                                            std::byte{0}, std::byte{1}});
  EXPECT_EQ(parseHeartbeat(frame).error(), HeartbeatError::kBadField);
  frame = buildHeartbeat(kMac, sample());
  frame[13] = std::byte{0x06};
  EXPECT_EQ(parseHeartbeat(frame).error(), HeartbeatError::kNotHeartbeat);
}

}  // namespace
}  // namespace l2a::wire
