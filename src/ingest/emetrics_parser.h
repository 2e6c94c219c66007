#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ingest/ingested_point.h"

// Reads WMLA/WML "emetrics" lines, the JSON lines that EMetrics.record() appends to
// $LOG_DIR/evaluation-metrics.txt:
//   {"meta":{...},"grouplabel":"test","etimes":{"iteration":{"type":2,"value":"3"},...},
//    "values":{"accuracy":{"type":3,"value":"0.9"},"loss":{"type":3,"value":"0.31"}}}
namespace stoke::ingest {

// Naming: the "test" group (EMetrics.TEST_GROUP, what WMLA writes to val_dict_list.json and
// what HPO objectives such as "accuracy" or "loss" name) keeps the plain metric name; every
// other group is prefixed with its label: "train" + "loss" -> "train_loss". A line without a
// grouplabel counts as "test".
//
// Parsing rules: the step is etimes.iteration.value (number or numeric string, whole number);
// each values.<name>.value that is a number or numeric string becomes a point, whatever its
// "type" code (2 int, 3 float, none string); words, NaN and infinities are skipped and counted
// in skipped_values(). Lines that are not JSON objects or have no usable step are skipped and
// counted in malformed_lines(); nothing is fatal. Blank lines are ignored. A line longer than
// kMaxLineBytes is dropped as malformed.
//
// The same parser also reads flat JSON lines, the metrics.jsonl that Stoke's training worker
// writes: {"step":12,"epoch":0,"loss":0.41,"lr":0.05,"world":3}. Every numeric field other
// than "step" becomes a point under its own name; lines without a numeric step (such as the
// worker's {"event":"regroup",...} records) are skipped without counting as malformed.
//
// Not thread-safe: one parser per file being followed.
class EmetricsParser {
 public:
  static constexpr size_t kMaxLineBytes = 1 << 20;
  enum class LineFormat { kEmetrics, kFlat };

  explicit EmetricsParser(LineFormat format = LineFormat::kEmetrics) : format_(format) {}

  // Feeds whatever was appended to the file since the last call; returns the points of every
  // line completed by it. A trailing partial line is kept until its newline arrives.
  std::vector<IngestedPoint> Feed(std::string_view bytes);

  // Parses the kept partial line as if it ended (the job finished without a final newline).
  std::vector<IngestedPoint> Flush();

  int64_t malformed_lines() const { return malformed_lines_; }
  int64_t skipped_values() const { return skipped_values_; }
  int64_t parsed_lines() const { return parsed_lines_; }

 private:
  void ParseLine(std::string_view line, std::vector<IngestedPoint>& out);
  void ParseFlat(const nlohmann::json& record, std::vector<IngestedPoint>& out);

  LineFormat format_;

  std::string pending_;
  bool discarding_ = false;  // inside an over-long line, until its newline
  int64_t malformed_lines_ = 0;
  int64_t skipped_values_ = 0;
  int64_t parsed_lines_ = 0;
};

// The metric name a value of `group` is stored under (see the naming rule above).
std::string EmetricsMetricName(std::string_view group, std::string_view metric);

}  // namespace stoke::ingest
