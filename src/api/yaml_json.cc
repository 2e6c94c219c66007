#include "api/yaml_json.h"

#include <charconv>
#include <cmath>

#include <yaml-cpp/yaml.h>

namespace stoke::api {

using nlohmann::json;

namespace {

json ScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted: a string whatever it looks like
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "~" || s == "Null" || s.empty()) return nullptr;
  int64_t i = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && p == s.data() + s.size()) return i;
  double d = 0;
  auto [p2, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec2 == std::errc() && p2 == s.data() + s.size() && std::isfinite(d)) return d;
  return s;
}

json NodeToJson(const YAML::Node& node, int depth) {
  if (depth > 64) throw YAML::Exception(node.Mark(), "nesting too deep");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return ScalarToJson(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(NodeToJson(item, depth + 1));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) throw YAML::Exception(kv.first.Mark(), "mapping keys must be plain scalars");
        if (out.contains(kv.first.Scalar())) {
          throw YAML::Exception(kv.first.Mark(), "duplicate key \"" + kv.first.Scalar() + "\"");
        }
        out[kv.first.Scalar()] = NodeToJson(kv.second, depth + 1);
      }
      return out;
    }
  }
  return nullptr;
}

}  // namespace

Result<json> ParseYamlText(std::string_view text) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return NodeToJson(root, 0);
  } catch (const YAML::Exception& e) {
    return Err(Status::InvalidArgument("malformed YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg));
  }
}

}  // namespace stoke::api
