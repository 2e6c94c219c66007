#include "ingest/emetrics_parser.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "ingest/json_number.h"

namespace stoke::ingest {

using nlohmann::json;

std::string EmetricsMetricName(std::string_view group, std::string_view metric) {
  if (group.empty() || group == "test") return std::string(metric);
  std::string name(group);
  name += '_';
  name += metric;
  return name;
}

std::vector<IngestedPoint> EmetricsParser::Feed(std::string_view bytes) {
  std::vector<IngestedPoint> out;
  while (!bytes.empty()) {
    size_t newline = bytes.find('\n');
    std::string_view piece = bytes.substr(0, newline);
    bytes = newline == std::string_view::npos ? std::string_view() : bytes.substr(newline + 1);
    const bool complete = newline != std::string_view::npos;
    if (discarding_) {
      discarding_ = !complete;
      continue;
    }
    if (pending_.size() + piece.size() > kMaxLineBytes) {
      ++malformed_lines_;
      pending_.clear();
      discarding_ = !complete;
      continue;
    }
    if (!complete) {
      pending_.append(piece);
      break;
    }
    if (pending_.empty()) {
      ParseLine(piece, out);
    } else {
      pending_.append(piece);
      ParseLine(pending_, out);
      pending_.clear();
    }
  }
  return out;
}

std::vector<IngestedPoint> EmetricsParser::Flush() {
  std::vector<IngestedPoint> out;
  if (!discarding_ && !pending_.empty()) ParseLine(pending_, out);
  pending_.clear();
  discarding_ = false;
  return out;
}

void EmetricsParser::ParseLine(std::string_view line, std::vector<IngestedPoint>& out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;
  json record = json::parse(line, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (!record.is_object()) {
    ++malformed_lines_;
    return;
  }
  if (format_ == LineFormat::kFlat) {
    ParseFlat(record, out);
    return;
  }
  std::optional<int64_t> step;
  if (auto etimes = record.find("etimes"); etimes != record.end() && etimes->is_object()) {
    if (auto it = etimes->find("iteration"); it != etimes->end()) {
      // {"type":2,"value":"3"} as EMetrics writes it; a bare number is accepted too.
      if (it->is_object()) {
        if (auto v = it->find("value"); v != it->end()) step = ReadStep(*v);
      } else {
        step = ReadStep(*it);
      }
    }
  }
  auto values = record.find("values");
  if (!step || values == record.end() || !values->is_object()) {
    ++malformed_lines_;
    return;
  }
  std::string group;
  if (auto g = record.find("grouplabel"); g != record.end() && g->is_string()) group = g->get<std::string>();
  ++parsed_lines_;
  for (const auto& [metric, entry] : values->items()) {
    std::optional<double> value;
    if (metric.empty()) {
      // no name to store it under
    } else if (entry.is_object()) {
      if (auto v = entry.find("value"); v != entry.end()) value = ReadNumber(*v);
    } else {
      value = ReadNumber(entry);
    }
    if (!value) {
      ++skipped_values_;
      continue;
    }
    out.push_back(IngestedPoint{*step, EmetricsMetricName(group, metric), *value});
  }
}

void EmetricsParser::ParseFlat(const json& record, std::vector<IngestedPoint>& out) {
  auto step_field = record.find("step");
  std::optional<int64_t> step = step_field == record.end() ? std::nullopt : ReadStep(*step_field);
  if (!step || record.contains("event")) return;  // an event record, not a metric line
  ++parsed_lines_;
  for (const auto& [name, entry] : record.items()) {
    if (name == "step") continue;
    if (!entry.is_number()) {
      ++skipped_values_;
      continue;
    }
    std::optional<double> value = ReadNumber(entry);
    if (!value) {
      ++skipped_values_;
      continue;
    }
    out.push_back(IngestedPoint{*step, name, *value});
  }
}

}  // namespace stoke::ingest
