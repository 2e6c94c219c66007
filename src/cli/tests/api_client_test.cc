#include "cli/api_client.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>

#include "cli/tests/test_server.h"

namespace stoke::cli {
namespace {

using nlohmann::json;
using testing::TestServer;

void ReplyError(httplib::Response& res, int status, const std::string& code, const std::string& message,
                const std::string& field) {
  res.status = status;
  res.set_content(json{{"error", {{"code", code}, {"message", message}, {"field", field}}}}.dump(),
                  "application/json");
}

TEST(ApiClientTest, SendsBearerTokenAndDecodesJson) {
  TestServer ts;
  ts.server().Get("/api/v1/whoami", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "Bearer stk_secret") {
      return ReplyError(res, 401, "unauthenticated", "bad token", "");
    }
    res.set_content(R"({"user": "alice", "admin": false})", "application/json");
  });
  ts.Start();
  auto client = ApiClient::Create({ts.url(), "stk_secret"}).value();
  auto me = client.Get("/whoami");
  ASSERT_TRUE(me.has_value()) << me.error().ToString();
  EXPECT_EQ((*me)["user"], "alice");

  auto wrong = ApiClient::Create({ts.url(), "stk_wrong"}).value().Get("/whoami");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.error().message(), "bad token");
}

TEST(ApiClientTest, MapsServerErrorsToStatus) {
  TestServer ts;
  ts.server().Post("/api/v1/jobs", [](const httplib::Request& req, httplib::Response& res) {
    ReplyError(res, 400, "invalid_argument", "resources.gpus must be >= 0", "resources.gpus");
  });
  ts.server().Delete("/api/v1/jobs/7", [](const httplib::Request&, httplib::Response& res) {
    ReplyError(res, 409, "failed_precondition", "job 7 is RUNNING", "");
  });
  ts.server().Get("/api/v1/jobs/8", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("boom", "text/plain");
  });
  ts.Start();
  auto client = ApiClient::Create({ts.url(), "t"}).value();
  auto post = client.Post("/jobs", json{{"argv", {"x"}}});
  ASSERT_FALSE(post.has_value());
  EXPECT_EQ(post.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(post.error().field(), "resources.gpus");
  auto del = client.Delete("/jobs/7");
  ASSERT_FALSE(del.has_value());
  EXPECT_EQ(del.error().code(), StatusCode::kFailedPrecondition);
  auto get = client.Get("/jobs/8");
  ASSERT_FALSE(get.has_value());
  EXPECT_EQ(get.error().code(), StatusCode::kInternal);
  EXPECT_EQ(get.error().message(), "HTTP 500: boom");
}

TEST(ApiClientTest, ConnectionRefusedIsUnavailable) {
  int port;
  {
    TestServer ts;  // take a free port, then close it
    ts.Start();
    port = ts.port();
  }
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto client = ApiClient::Create({url, "t"}).value();
  auto r = client.Get("/whoami");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(r.error().message().starts_with("cannot reach the Stoke server at " + url + ": "))
      << r.error().message();
  EXPECT_EQ(client.Stream("/jobs/1/logs", {}, [](std::string_view) { return true; }).code(), StatusCode::kUnavailable);
}

TEST(ApiClientTest, EncodesQueryAndKeepsUrlPrefix) {
  TestServer ts;
  std::string seen_state, seen_name;
  ts.server().Get("/base/api/v1/jobs", [&](const httplib::Request& req, httplib::Response& res) {
    seen_state = req.get_param_value("state");
    seen_name = req.get_param_value("name");
    res.set_content(R"({"jobs": [], "next_cursor": null})", "application/json");
  });
  ts.Start();
  auto client = ApiClient::Create({ts.url() + "/base/api/v1/", "t"}).value();
  EXPECT_EQ(client.Target("/jobs", {{"name", "a b&c=d"}}), "/base/api/v1/jobs?name=a%20b%26c%3Dd");
  auto r = client.Get("/jobs", {{"state", "RUNNING,QUEUED"}, {"name", "a b&c=d/é"}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(seen_state, "RUNNING,QUEUED");
  EXPECT_EQ(seen_name, "a b&c=d/é");
}

TEST(ApiClientTest, NoContentIsNull) {
  TestServer ts;
  ts.server().Delete("/api/v1/jobs/3", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  ts.Start();
  auto r = ApiClient::Create({ts.url(), "t"}).value().Delete("/jobs/3");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->is_null());
}

TEST(ApiClientTest, PostsMultipart) {
  TestServer ts;
  std::string spec, code, code_type;
  ts.server().Post("/api/v1/jobs", [&](const httplib::Request& req, httplib::Response& res) {
    if (!req.is_multipart_form_data()) return ReplyError(res, 415, "invalid_argument", "want multipart", "Content-Type");
    spec = req.get_file_value("spec").content;
    code = req.get_file_value("code").content;
    code_type = req.get_file_value("code").content_type;
    res.status = 201;
    res.set_content(R"({"id": 5})", "application/json");
  });
  ts.Start();
  std::string binary("\x1f\x8b\0\x01", 4);
  auto r = ApiClient::Create({ts.url(), "t"})
               .value()
               .PostMultipart("/jobs", {{"spec", R"({"argv":["x"]})", "", "application/json"},
                                        {"code", binary, "code.tar.gz", "application/gzip"}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ((*r)["id"], 5);
  EXPECT_EQ(spec, R"({"argv":["x"]})");
  EXPECT_EQ(code, binary);
  EXPECT_EQ(code_type, "application/gzip");
}

// The server holds back its second chunk until the client has seen the first: the client must
// hand data over as it arrives, not after the body ends.
TEST(ApiClientTest, StreamsChunksAsTheyArrive) {
  TestServer ts;
  std::mutex mu;
  std::condition_variable cv;
  bool client_saw_first = false;
  bool server_timed_out = false;
  ts.server().Get("/api/v1/jobs/1/logs", [&](const httplib::Request& req, httplib::Response& res) {
    EXPECT_EQ(req.get_param_value("follow"), "true");
    res.set_chunked_content_provider("text/plain", [&, step = 0](size_t, httplib::DataSink& sink) mutable {
      if (step == 0) {
        sink.write("line 1\n", 7);
      } else if (step == 1) {
        std::unique_lock lock(mu);
        if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return client_saw_first; })) server_timed_out = true;
        sink.write("line 2\n", 7);
      } else {
        sink.done();
      }
      ++step;
      return true;
    });
  });
  ts.Start();
  std::string received;
  Status s = ApiClient::Create({ts.url(), "t"}).value().Stream("/jobs/1/logs", {{"follow", "true"}},
                                                                 [&](std::string_view chunk) {
                                                                   received += chunk;
                                                                   if (received == "line 1\n") {
                                                                     std::lock_guard lock(mu);
                                                                     client_saw_first = true;
                                                                     cv.notify_all();
                                                                   }
                                                                   return true;
                                                                 });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(received, "line 1\nline 2\n");
  EXPECT_FALSE(server_timed_out);
}

TEST(ApiClientTest, StreamErrorIsDecodedAndNotPassedToSink) {
  TestServer ts;
  ts.server().Get("/api/v1/jobs/9/logs", [](const httplib::Request&, httplib::Response& res) {
    ReplyError(res, 404, "not_found", "no job 9", "");
  });
  ts.Start();
  bool sink_called = false;
  Status s = ApiClient::Create({ts.url(), "t"}).value().Stream("/jobs/9/logs", {}, [&](std::string_view) {
    sink_called = true;
    return true;
  });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no job 9");
  EXPECT_FALSE(sink_called);
}

TEST(ApiClientTest, SinkCanStopAStream) {
  TestServer ts;
  ts.server().Get("/api/v1/jobs/1/logs", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [](size_t, httplib::DataSink& sink) {
      sink.write("x", 1);  // never ends by itself
      return true;
    });
  });
  ts.Start();
  int calls = 0;
  Status s = ApiClient::Create({ts.url(), "t"}).value().Stream("/jobs/1/logs", {}, [&](std::string_view) {
    return ++calls < 3;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(calls, 3);
}

TEST(ApiClientTest, DownloadsBinaryBodyToFile) {
  TestServer ts;
  std::string payload(300000, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  ts.server().Get("/api/v1/jobs/2/result", [&](const httplib::Request& req, httplib::Response& res) {
    res.set_content(payload, req.get_param_value("format") == "zip" ? "application/zip" : "application/gzip");
  });
  ts.Start();
  std::string path = std::filesystem::temp_directory_path() / ("stoke_dl_" + std::to_string(::getpid()));
  Status s = ApiClient::Create({ts.url(), "t"}).value().Download("/jobs/2/result", {{"format", "zip"}}, path);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::ifstream in(path, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, payload);
  std::filesystem::remove(path);
}

// https: a self-signed certificate is refused by default and accepted once its PEM is the CA.
TEST(ApiClientTest, HttpsWithCustomCa) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("stoke_tls_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
                    "subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::filesystem::remove_all(dir);
    GTEST_SKIP() << "openssl could not make a test certificate";
  }
  {
    TestServer ts(cert, key);
    ASSERT_TRUE(ts.valid());
    ts.server().Get("/api/v1/whoami", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(json{{"user", "tls"}, {"bearer", req.get_header_value("Authorization")}}.dump(),
                      "application/json");
    });
    ts.Start();
    auto untrusted = ApiClient::Create({ts.url(), "t"}).value().Get("/whoami");
    ASSERT_FALSE(untrusted.has_value());
    EXPECT_EQ(untrusted.error().code(), StatusCode::kUnavailable);
    EXPECT_NE(untrusted.error().message().find("not trusted"), std::string::npos) << untrusted.error().message();

    auto trusted = ApiClient::Create({ts.url(), "t", cert}).value().Get("/whoami");
    ASSERT_TRUE(trusted.has_value()) << trusted.error().ToString();
    EXPECT_EQ((*trusted)["user"], "tls");
    EXPECT_EQ((*trusted)["bearer"], "Bearer t");
  }
  std::filesystem::remove_all(dir);
}

TEST(ApiClientTest, RejectsBadUrls) {
  EXPECT_EQ(ApiClient::Create({"ftp://x", "t"}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ApiClient::Create({"127.0.0.1:8080", "t"}).error().field(), "url");
}

}  // namespace
}  // namespace stoke::cli
