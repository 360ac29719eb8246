#include "common/metrics_writer.h"

#include <fmt/format.h>

#include <cmath>

namespace l2a::common {

std::string escapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void MetricsWriter::sample(const std::string& name, const std::string& type, const std::string& help,
                           double value, const MetricLabels& labels, const std::string& suffix) {
  auto [it, fresh] = families_.try_emplace(name, Family{type, help, {}});
  if (fresh) order_.push_back(name);
  std::string line = name + suffix;
  if (!labels.empty()) {
    line += "{";
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) line += ",";
      line += fmt::format("{}=\"{}\"", labels[i].first, escapeLabelValue(labels[i].second));
    }
    line += "}";
  }
  if (std::isnan(value)) line += " NaN";
  else if (value == std::floor(value) && std::fabs(value) < 1e15) line += fmt::format(" {}", static_cast<int64_t>(value));
  else line += fmt::format(" {}", value);
  it->second.lines.push_back(line);
}

void MetricsWriter::counter(const std::string& name, const std::string& help, double value, const MetricLabels& labels) {
  sample(name, "counter", help, value, labels);
}

void MetricsWriter::gauge(const std::string& name, const std::string& help, double value, const MetricLabels& labels) {
  sample(name, "gauge", help, value, labels);
}

void MetricsWriter::summary(const std::string& name, const std::string& help, double sum, uint64_t count,
                            const MetricLabels& labels) {
  sample(name, "summary", help, sum, labels, "_sum");
  sample(name, "summary", help, static_cast<double>(count), labels, "_count");
}

std::string MetricsWriter::text() const {
  std::string out;
  for (const std::string& name : order_) {
    const Family& f = families_.at(name);
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
    for (const std::string& line : f.lines) out += line + "\n";
  }
  return out;
}

}  // namespace l2a::common
