// Names of Kubernetes objects as the API returns them — metadata.name, metadata.namespace, the
// "namespace/name" key — read without ever throwing, whatever the object holds. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace l2a::k8s {

// metadata.name / metadata.namespace of an object ("" when absent or not a string).
std::string nameOf(const nlohmann::json& object);
std::string namespaceOf(const nlohmann::json& object);
// "ns/name" or "name": the key objects are cached by.
std::string keyOf(const nlohmann::json& object);

// A metadata.uid as a cache of thousands keeps it: 16 bytes when it is a UUID as kube-apiserver
// writes them (lowercase hex, 8-4-4-4-12), else the string as it was (another server's); str()
// gives either back unchanged. A string would take 80 bytes (36 characters on the heap).
class Uid {
 public:
  Uid() = default;
  explicit Uid(std::string_view uid);
  std::string str() const;
  bool empty() const { return !uuid_ && other_ == nullptr; }
  bool operator==(const Uid& o) const {
    return uuid_ == o.uuid_ && bytes_ == o.bytes_ && (other_ == o.other_ || (other_ && o.other_ && *other_ == *o.other_));
  }

 private:
  std::array<uint8_t, 16> bytes_{};
  bool uuid_ = false;
  std::shared_ptr<const std::string> other_;  // not a UUID; null for "" too
};

}  // namespace l2a::k8s
