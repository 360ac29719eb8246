#include "k8s/object_meta.h"

namespace l2a::k8s {

using Json = nlohmann::json;

std::string nameOf(const Json& object) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return "";
  auto n = m->find("name");
  return n != m->end() && n->is_string() ? n->get<std::string>() : "";
}

std::string namespaceOf(const Json& object) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return "";
  auto n = m->find("namespace");
  return n != m->end() && n->is_string() ? n->get<std::string>() : "";
}

std::string keyOf(const Json& object) {
  std::string ns = namespaceOf(object);
  return ns.empty() ? nameOf(object) : ns + "/" + nameOf(object);
}

namespace {

constexpr size_t kUuidLength = 36;
constexpr bool dashAt(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

int lowerHex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

Uid::Uid(std::string_view uid) {
  bool uuid = uid.size() == kUuidLength;
  std::array<uint8_t, 16> bytes{};
  for (size_t i = 0, b = 0; uuid && i < uid.size(); ++i) {
    if (dashAt(i)) {
      uuid = uid[i] == '-';
      continue;
    }
    int nibble = lowerHex(uid[i]);
    if (nibble < 0) {
      uuid = false;
      break;
    }
    bytes[b / 2] = static_cast<uint8_t>(bytes[b / 2] | (b % 2 == 0 ? nibble << 4 : nibble));
    ++b;
  }
  if (uuid) {
    bytes_ = bytes;
    uuid_ = true;
  } else if (!uid.empty()) {
    other_ = std::make_shared<const std::string>(uid);
  }
}

std::string Uid::str() const {
  if (!uuid_) return other_ ? *other_ : "";
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(kUuidLength);
  for (size_t i = 0, b = 0; out.size() < kUuidLength; ++i) {
    if (dashAt(i)) {
      out.push_back('-');
      continue;
    }
    out.push_back(kDigits[b % 2 == 0 ? bytes_[b / 2] >> 4 : bytes_[b / 2] & 0xf]);
    ++b;
  }
  return out;
}

}  // namespace l2a::k8s
