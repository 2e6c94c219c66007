#include "serving/replica_server.h"

#include <httplib.h>
#include <gtest/gtest.h>

#include <thread>

namespace stoke::serving {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A model that takes rows of 4 numbers and answers [sum, max].
Result<Tensor> FourToTwo(const Tensor& in) {
  if (in.RowShape() != std::vector<int64_t>{4}) {
    return Err(Status::InvalidArgument("mat1 and mat2 shapes cannot be multiplied", "instances"));
  }
  Tensor out;
  out.shape = {in.rows(), 2};
  for (int64_t r = 0; r < in.rows(); ++r) {
    float s = 0, m = in.values[r * 4];
    for (int i = 0; i < 4; ++i) {
      s += in.values[r * 4 + i];
      m = std::max(m, in.values[r * 4 + i]);
    }
    out.values.push_back(s);
    out.values.push_back(m);
  }
  return out;
}

class ReplicaServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ReplicaServer>(ReplicaOptions{}, batcher_, stats_);
    auto port = server_->Bind();
    ASSERT_TRUE(port.has_value());
    port_ = *port;
    thread_ = std::thread([this] { server_->Serve(); });
  }
  void TearDown() override {
    server_->Stop();
    thread_.join();
  }
  httplib::Result Post(const std::string& body) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    return c.Post("/predict", body, "application/json");
  }

  ServingStats stats_{8};
  DynamicBatcher batcher_{{.max_batch = 8, .max_delay = 2ms}, FourToTwo, &stats_};
  std::unique_ptr<ReplicaServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(ReplicaServerTest, PredictsOverHttp) {
  auto res = Post(R"({"instances":[[1,2,3,4],[0,0,0,-1]]})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"predictions":[[10.0,4.0],[-1.0,0.0]]})"));
  auto wml = Post(R"({"input_data":[{"fields":["a","b","c","d"],"values":[[1,1,1,1]]}]})");
  ASSERT_TRUE(wml);
  EXPECT_EQ(json::parse(wml->body)["predictions"][0]["values"], json::parse("[[4.0,1.0]]"));
}

TEST_F(ReplicaServerTest, WrongShapeIsA400AndTheKnownShapeIsNamed) {
  // Before any good request the model itself rejects the shape; the message says why.
  auto first = Post(R"({"instances":[[1,2,3]]})");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 400);
  EXPECT_NE(first->body.find("mat1 and mat2"), std::string::npos) << first->body;
  ASSERT_EQ(Post(R"({"instances":[[1,2,3,4]]})")->status, 200);
  auto later = Post(R"({"instances":[[1,2,3,4,5]]})");
  EXPECT_EQ(later->status, 400);
  json err = json::parse(later->body)["error"];
  EXPECT_EQ(err["field"], "instances");
  EXPECT_NE(err["message"].get<std::string>().find("shape [4]"), std::string::npos) << later->body;
}

TEST_F(ReplicaServerTest, BadBodiesAre400AndTheReplicaKeepsServing) {
  for (const char* body : {"", "{", R"({"instances":[]})", R"({"instances":[["a","b","c","d"]]})",
                           R"({"instances":[[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4]]})"}) {
    auto res = Post(body);
    ASSERT_TRUE(res) << body;
    EXPECT_EQ(res->status, 400) << body << " -> " << res->body;
    EXPECT_TRUE(json::parse(res->body)["error"].contains("message"));
  }
  EXPECT_EQ(Post(R"({"instances":[[1,2,3,4]]})")->status, 200);
}

TEST_F(ReplicaServerTest, HealthAndStats) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Post(R"({"instances":[[1,2,3,4]]})")->status, 200);
  (void)Post("{");
  httplib::Client c("127.0.0.1", port_);
  auto health = c.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["input_shape"], json::parse("[4]"));
  auto stats = c.Get("/stats");
  ASSERT_TRUE(stats);
  json s = json::parse(stats->body);
  EXPECT_EQ(s["requests"], 4);
  EXPECT_EQ(s["errors_4xx"], 1);
  EXPECT_EQ(s["rows"], 3);
  EXPECT_EQ(s["batches"], 3);
  EXPECT_EQ(s["max_batch"], 8);
  EXPECT_GT(s["latency_ms"]["p99"].get<double>(), 0.0);
  auto missing = c.Get("/nope");
  EXPECT_EQ(missing->status, 404);
}

TEST_F(ReplicaServerTest, ConcurrentClientsAreBatched) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", port_);
      for (int i = 0; i < 20; ++i) {
        std::string body = R"({"instances":[[)" + std::to_string(t) + "," + std::to_string(i) + ",0,0]]}";
        auto res = c.Post("/predict", body, "application/json");
        if (res && res->status == 200 &&
            json::parse(res->body)["predictions"][0][0].get<double>() == t + i) {
          ++ok;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 160);
  EXPECT_GT(stats_.ToJson()["mean_batch"].get<double>(), 1.0);
}

}  // namespace
}  // namespace stoke::serving
