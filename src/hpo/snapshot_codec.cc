#include "hpo/snapshot_codec.h"

#include <bit>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace stoke::hpo {
namespace {

Status Malformed(std::string what) { return Status::InvalidArgument("malformed snapshot: " + std::move(what)); }

template <typename T>
Result<T> ParseInt(std::string_view token, int base = 10) {
  T v{};
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), v, base);
  if (ec != std::errc() || ptr != token.data() + token.size()) {
    return Err(Malformed("expected an integer, got '" + std::string(token) + "'"));
  }
  return v;
}

}  // namespace

void SnapshotWriter::Sep() {
  if (!out_.empty() && out_.back() != '\n') out_ += ' ';
}

SnapshotWriter& SnapshotWriter::Label(std::string_view label) {
  Sep();
  out_ += label;
  return *this;
}

SnapshotWriter& SnapshotWriter::I64(int64_t v) {
  Sep();
  out_ += std::to_string(v);
  return *this;
}

SnapshotWriter& SnapshotWriter::U64(uint64_t v) {
  Sep();
  out_ += std::to_string(v);
  return *this;
}

SnapshotWriter& SnapshotWriter::F64(double v) {
  Sep();
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(std::bit_cast<uint64_t>(v)));
  out_ += buf;
  return *this;
}

SnapshotWriter& SnapshotWriter::Str(std::string_view s) {
  Sep();
  out_ += std::to_string(s.size());
  out_ += ':';
  out_ += s;
  return *this;
}

SnapshotWriter& SnapshotWriter::Value(const ParamValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return Label("i").I64(*i);
  if (const auto* d = std::get_if<double>(&v)) return Label("f").F64(*d);
  return Label("s").Str(std::get<std::string>(v));
}

SnapshotWriter& SnapshotWriter::Sample(const ParamSample& sample) {
  U64(sample.size());
  for (const auto& [name, value] : sample) Str(name).Value(value);
  return *this;
}

SnapshotWriter& SnapshotWriter::NewLine() {
  out_ += '\n';
  return *this;
}

Result<std::string_view> SnapshotReader::Token() {
  size_t i = 0;
  while (i < text_.size() && std::isspace(static_cast<unsigned char>(text_[i]))) ++i;
  size_t j = i;
  while (j < text_.size() && !std::isspace(static_cast<unsigned char>(text_[j]))) ++j;
  if (i == j) return Err(Malformed("unexpected end"));
  std::string_view token = text_.substr(i, j - i);
  text_.remove_prefix(j);
  return token;
}

bool SnapshotReader::AtEnd() {
  while (!text_.empty() && std::isspace(static_cast<unsigned char>(text_.front()))) text_.remove_prefix(1);
  return text_.empty();
}

Status SnapshotReader::Expect(std::string_view label) {
  STOKE_ASSIGN_OR_RETURN(std::string_view token, Token());
  if (token != label) return Malformed("expected '" + std::string(label) + "', got '" + std::string(token) + "'");
  return Status::Ok();
}

Result<int64_t> SnapshotReader::I64() {
  STOKE_ASSIGN_OR_RETURN(std::string_view token, Token());
  return ParseInt<int64_t>(token);
}

Result<uint64_t> SnapshotReader::U64() {
  STOKE_ASSIGN_OR_RETURN(std::string_view token, Token());
  return ParseInt<uint64_t>(token);
}

Result<double> SnapshotReader::F64() {
  STOKE_ASSIGN_OR_RETURN(std::string_view token, Token());
  if (token.size() != 16) return Err(Malformed("expected 16 hex digits for a double"));
  STOKE_ASSIGN_OR_RETURN(uint64_t bits, ParseInt<uint64_t>(token, 16));
  return std::bit_cast<double>(bits);
}

Result<std::string> SnapshotReader::Str() {
  while (!text_.empty() && std::isspace(static_cast<unsigned char>(text_.front()))) text_.remove_prefix(1);
  const size_t colon = text_.find(':');
  if (colon == std::string_view::npos) return Err(Malformed("expected a string"));
  STOKE_ASSIGN_OR_RETURN(uint64_t len, ParseInt<uint64_t>(text_.substr(0, colon)));
  if (len > text_.size() - colon - 1) return Err(Malformed("string runs past the end"));
  std::string out(text_.substr(colon + 1, len));
  text_.remove_prefix(colon + 1 + len);
  return out;
}

Result<ParamValue> SnapshotReader::Value() {
  STOKE_ASSIGN_OR_RETURN(std::string_view tag, Token());
  if (tag == "i") {
    STOKE_ASSIGN_OR_RETURN(int64_t v, I64());
    return ParamValue(v);
  }
  if (tag == "f") {
    STOKE_ASSIGN_OR_RETURN(double v, F64());
    return ParamValue(v);
  }
  if (tag == "s") {
    STOKE_ASSIGN_OR_RETURN(std::string v, Str());
    return ParamValue(std::move(v));
  }
  return Err(Malformed("unknown value tag '" + std::string(tag) + "'"));
}

Result<ParamSample> SnapshotReader::Sample() {
  STOKE_ASSIGN_OR_RETURN(size_t n, Count());
  ParamSample sample;
  for (size_t i = 0; i < n; ++i) {
    STOKE_ASSIGN_OR_RETURN(std::string name, Str());
    STOKE_ASSIGN_OR_RETURN(ParamValue value, Value());
    sample.emplace(std::move(name), std::move(value));
  }
  return sample;
}

Result<size_t> SnapshotReader::Count(size_t max) {
  STOKE_ASSIGN_OR_RETURN(uint64_t n, U64());
  if (n > max) return Err(Malformed("count " + std::to_string(n) + " is too large"));
  return static_cast<size_t>(n);
}

}  // namespace stoke::hpo
