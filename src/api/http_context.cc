#include "api/http_context.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <memory>

#include "api/json_reader.h"
#include "api/status_to_http.h"

namespace stoke::api {

void WriteJson(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

void WriteError(httplib::Response& res, const Status& status) {
  int http = HttpStatusFor(status);
  // An unsupported body type is an invalid argument about the Content-Type header, told as 415.
  if (status.code() == StatusCode::kInvalidArgument && status.field() == "Content-Type") http = 415;
  WriteJson(res, http, ErrorBody(status));
}

void SendTemporaryFile(httplib::Response& res, const std::string& path, const std::string& filename,
                       const std::string& content_type) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
  ::unlink(path.c_str());
  res.set_header("Content-Disposition", "attachment; filename=" + filename + "; size=" + std::to_string(size));
  res.status = 200;
  res.set_content_provider(static_cast<size_t>(size), content_type,
                           [in](size_t offset, size_t length, httplib::DataSink& sink) {
                             std::vector<char> buf(std::min<size_t>(length, 1 << 16));
                             in->seekg(static_cast<std::streamoff>(offset));
                             in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
                             auto n = static_cast<size_t>(in->gcount());
                             if (n == 0) return false;
                             return sink.write(buf.data(), n);
                           });
}

Result<int64_t> PathId(const httplib::Request& req, size_t index) {
  if (req.matches.size() <= index) return Err(Status::NotFound("no such resource"));
  std::string s = req.matches[index];
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc() || ptr != s.data() + s.size() || id <= 0) {
    return Err(Status::NotFound("no such resource: " + s));
  }
  return id;
}

Result<std::optional<int64_t>> QueryInt(const httplib::Request& req, const std::string& name, int64_t min, int64_t max) {
  if (!req.has_param(name)) return std::optional<int64_t>();
  std::string s = req.get_param_value(name);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return Err(Status::InvalidArgument(name + " must be an integer, got \"" + s + "\"", name));
  }
  if (v < min || v > max) {
    return Err(Status::InvalidArgument(
        name + " must be between " + std::to_string(min) + " and " + std::to_string(max), name));
  }
  return std::optional<int64_t>(v);
}

Result<nlohmann::json> JsonBody(const httplib::Request& req, size_t max_bytes) {
  std::string type = req.get_header_value("Content-Type");
  if (!type.starts_with("application/json")) {
    return Err(Status::InvalidArgument(
        "Content-Type must be application/json" + (type.empty() ? std::string() : ", got " + type), "Content-Type"));
  }
  if (req.body.size() > max_bytes) {
    return Err(Status::ResourceExhausted("JSON body is larger than " + std::to_string(max_bytes) + " bytes", "body"));
  }
  if (req.body.empty()) return Err(Status::InvalidArgument("request body is empty; send a JSON object", "body"));
  return ParseJsonText(req.body);
}

}  // namespace stoke::api
