#include "lab/selector.h"

#include <fmt/format.h>

#include <algorithm>

namespace l2a::lab {
namespace {

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  s.erase(s.find_last_not_of(" \t") + 1);
  return s;
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> splitTopLevel(const std::string& text) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string current;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(trim(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!trim(current).empty() || !parts.empty()) parts.push_back(trim(current));
  return parts;
}

bool validKey(const std::string& key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

}  // namespace

Result<LabelSelector> LabelSelector::parse(const std::string& text) {
  LabelSelector selector;
  for (const std::string& part : splitTopLevel(text)) {
    if (part.empty()) return fail("invalid", fmt::format("empty requirement in selector '{}'", text));
    Requirement r;
    size_t pos;
    auto setIn = [&](size_t at, size_t keywordLength, Requirement::Op op) -> bool {
      r.key = trim(part.substr(0, at));
      std::string rest = trim(part.substr(at + keywordLength));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return false;
      std::string inner = rest.substr(1, rest.size() - 2);
      size_t start = 0;
      for (size_t comma; (comma = inner.find(',', start)) != std::string::npos; start = comma + 1) {
        r.values.push_back(trim(inner.substr(start, comma - start)));
      }
      r.values.push_back(trim(inner.substr(start)));
      r.op = op;
      return true;
    };
    if ((pos = part.find(" notin ")) != std::string::npos) {
      if (!setIn(pos, 7, Requirement::Op::kNotIn)) return fail("invalid", fmt::format("bad set in '{}'", part));
    } else if ((pos = part.find(" in ")) != std::string::npos) {
      if (!setIn(pos, 4, Requirement::Op::kIn)) return fail("invalid", fmt::format("bad set in '{}'", part));
    } else if ((pos = part.find("!=")) != std::string::npos) {
      r = {Requirement::Op::kNotEquals, trim(part.substr(0, pos)), {trim(part.substr(pos + 2))}};
    } else if ((pos = part.find("==")) != std::string::npos) {
      r = {Requirement::Op::kEquals, trim(part.substr(0, pos)), {trim(part.substr(pos + 2))}};
    } else if ((pos = part.find('=')) != std::string::npos) {
      r = {Requirement::Op::kEquals, trim(part.substr(0, pos)), {trim(part.substr(pos + 1))}};
    } else if (part[0] == '!') {
      r = {Requirement::Op::kNotExists, trim(part.substr(1)), {}};
    } else {
      r = {Requirement::Op::kExists, part, {}};
    }
    if (!validKey(r.key)) return fail("invalid", fmt::format("invalid label key in '{}'", part));
    selector.requirements_.push_back(std::move(r));
  }
  return selector;
}

bool LabelSelector::matches(const nlohmann::json& labels) const {
  for (const Requirement& r : requirements_) {
    bool has = labels.is_object() && labels.contains(r.key) && labels[r.key].is_string();
    std::string value = has ? labels[r.key].get<std::string>() : "";
    bool inValues = std::find(r.values.begin(), r.values.end(), value) != r.values.end();
    switch (r.op) {
      case Requirement::Op::kEquals:
      case Requirement::Op::kIn:
        if (!has || !inValues) return false;
        break;
      case Requirement::Op::kNotEquals:
      case Requirement::Op::kNotIn:
        if (has && inValues) return false;
        break;
      case Requirement::Op::kExists:
        if (!has) return false;
        break;
      case Requirement::Op::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

Result<FieldSelector> FieldSelector::parse(const std::string& text) {
  FieldSelector selector;
  for (const std::string& part : splitTopLevel(text)) {
    size_t pos;
    Requirement r;
    if ((pos = part.find("!=")) != std::string::npos) {
      r.equals = false;
      r.value = trim(part.substr(pos + 2));
    } else if ((pos = part.find("==")) != std::string::npos) {
      r.equals = true;
      r.value = trim(part.substr(pos + 2));
    } else if ((pos = part.find('=')) != std::string::npos) {
      r.equals = true;
      r.value = trim(part.substr(pos + 1));
    } else {
      return fail("invalid", fmt::format("field selector '{}' needs =, == or !=", part));
    }
    std::string path = trim(part.substr(0, pos));
    if (path.empty()) return fail("invalid", fmt::format("empty field in '{}'", part));
    size_t start = 0;
    for (size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1) {
      r.path.push_back(path.substr(start, dot - start));
    }
    r.path.push_back(path.substr(start));
    selector.requirements_.push_back(std::move(r));
  }
  return selector;
}

bool FieldSelector::matches(const nlohmann::json& object) const {
  for (const Requirement& r : requirements_) {
    const nlohmann::json* node = &object;
    for (const std::string& step : r.path) {
      if (!node->is_object() || !node->contains(step)) {
        node = nullptr;
        break;
      }
      node = &(*node)[step];
    }
    std::string value;
    if (node != nullptr) value = node->is_string() ? node->get<std::string>() : node->dump();
    if ((value == r.value) != r.equals) return false;
  }
  return true;
}

}  // namespace l2a::lab
