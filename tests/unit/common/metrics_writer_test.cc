#include "common/metrics_writer.h"

#include <gtest/gtest.h>

namespace l2a::common {
namespace {

TEST(MetricsWriter, ExpositionFormatGroupsFamiliesAndEscapes) {
  MetricsWriter w;
  w.counter("l2a_drops_total", "Frames not answered", 3, {{"interface", "eth0"}, {"reason", "bad_checksum"}});
  w.gauge("l2a_frozen", "Frozen", 0);
  w.counter("l2a_drops_total", "Frames not answered", 1.5, {{"interface", "a\"b\\c\nd"}});
  w.summary("l2a_api_request_duration_seconds", "Time", 0.25, 4, {{"verb", "get"}});
  EXPECT_EQ(w.text(),
            "# HELP l2a_drops_total Frames not answered\n"
            "# TYPE l2a_drops_total counter\n"
            "l2a_drops_total{interface=\"eth0\",reason=\"bad_checksum\"} 3\n"
            "l2a_drops_total{interface=\"a\\\"b\\\\c\\nd\"} 1.5\n"
            "# HELP l2a_frozen Frozen\n"
            "# TYPE l2a_frozen gauge\n"
            "l2a_frozen 0\n"
            "# HELP l2a_api_request_duration_seconds Time\n"
            "# TYPE l2a_api_request_duration_seconds summary\n"
            "l2a_api_request_duration_seconds_sum{verb=\"get\"} 0.25\n"
            "l2a_api_request_duration_seconds_count{verb=\"get\"} 4\n");
}

}  // namespace
}  // namespace l2a::common
