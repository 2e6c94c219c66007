#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "ingest/ingested_point.h"

namespace stoke::ingest {

// Parses $RESULT_DIR/val_dict_list.json, the WMLA HPO result file:
//   [{"steps": 1, "loss": 0.2487, "accuracy": 0.4523}, {"steps": 2, ...}, ...]
// Each entry's step is its "steps" value (or "step"), a number or numeric string; when
// neither is usable the entry's 0-based index is the step. Every other key whose value is a
// number or numeric string becomes a point under that plain name (the name HPO objectives
// use); other values (words, booleans, null, NaN, lists, objects) are skipped, as are entries
// that are not objects. Points come entry by entry, names in sorted order within an entry.
// A single object instead of a list is read as a one-entry list.
// Errors: InvalidArgument when the text is not JSON (e.g. the job is still writing the file;
// read it again later) or is neither a list nor an object.
// Thread-safe (no state).
Result<std::vector<IngestedPoint>> ParseValDictList(std::string_view json_text);

}  // namespace stoke::ingest
