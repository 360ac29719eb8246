// MetricsWriter: the Prometheus text exposition format (version 0.0.4) — HELP and TYPE once per
// family, label values escaped, samples grouped by family. Built per scrape; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace l2a::common {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsWriter {
 public:
  void counter(const std::string& name, const std::string& help, double value, const MetricLabels& labels = {});
  void gauge(const std::string& name, const std::string& help, double value, const MetricLabels& labels = {});
  // A summary without quantiles: NAME_sum and NAME_count under one family.
  void summary(const std::string& name, const std::string& help, double sum, uint64_t count,
               const MetricLabels& labels = {});
  std::string text() const;

 private:
  void sample(const std::string& name, const std::string& type, const std::string& help, double value,
              const MetricLabels& labels, const std::string& suffix = "");
  struct Family {
    std::string type;
    std::string help;
    std::vector<std::string> lines;
  };
  std::vector<std::string> order_;
  std::map<std::string, Family> families_;
};

std::string escapeLabelValue(const std::string& value);

}  // namespace l2a::common
