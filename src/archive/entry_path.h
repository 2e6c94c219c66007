#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

// Pure checks on the names stored in an archive. No file system access, so they are
// cheap to call per entry and easy to test. All functions are thread-safe.
namespace stoke::archive {

// Turns an entry name into a clean relative path ("a/b/c"): drops "." components,
// repeated and trailing slashes. Returns "" when the name denotes the root itself ("./").
// Fails with InvalidArgument (field "code") when the name is empty, absolute, has a ".."
// component, or holds a control character.
Result<std::string> NormalizeEntryPath(std::string_view raw);

// True when a symlink stored at `link_path` (a normalized entry path) pointing at `target`
// stays inside the extraction root when read lexically: target is relative and its ".."
// components never climb above the root. Links that are followed through other links are
// checked on disk after extraction (see archive_extractor.cc).
bool SymlinkTargetStaysInside(std::string_view link_path, std::string_view target);

// True when `text` holds a byte below 0x20 or 0x7f.
bool HasControlChar(std::string_view text);

// `text` with control bytes written as \xNN, for error messages.
std::string Printable(std::string_view text);

}  // namespace stoke::archive
