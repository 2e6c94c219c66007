#include "common/text.h"

namespace stoke {

std::string TailLines(const std::string& text, int64_t n) {
  if (n <= 0) return {};
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  while (pos > 0) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    if (--n == 0) return text.substr(nl + 1);
    pos = nl;
  }
  return text;
}

}  // namespace stoke
