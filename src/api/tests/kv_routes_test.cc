// KvRoutes + elastic::HttpKvStore against a real RestServer on a loopback port: the KvStore
// conformance suite over HTTP, and the routes' authorization and input errors.
#include "api/kv_routes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <httplib.h>

#include "api/testing/service_stack.h"
#include "elastic/http_kv_store.h"
#include "elastic/testing/kv_store_conformance.h"
#include "service/rendezvous_registry.h"

namespace stoke::api {
namespace {

using elastic::HttpKvStore;
using elastic::testing::KvStoreConformanceTest;
using elastic::testing::KvStoreFactory;
using namespace std::chrono_literals;

// One server for the whole binary: KvRoutes over a registry of open elastic jobs. The job runner
// is not started; the routes only need the registry. A wait request blocks at most kServerMaxWait
// so that the client's repeat loop is exercised quickly.
constexpr auto kServerMaxWait = 300ms;

class KvServer : public ::testing::Environment {
 public:
  void SetUp() override {
    stack_ = std::make_unique<testing::ServiceStack>("kv-routes", /*cpu_slots=*/1);
    registry_ = std::make_unique<service::RendezvousRegistry>(stack_->clock);
    stack_->Serve(KvRoutes(*registry_, kServerMaxWait), /*threads=*/32);
    instance_ = this;
  }
  void TearDown() override {
    instance_ = nullptr;
    stack_->Stop();  // the routes use the registry
    registry_.reset();
    stack_.reset();
  }

  static KvServer& Get() { return *instance_; }

  // Opens the rendezvous of a fresh job id; returns the id.
  JobId OpenJob() {
    JobId id = next_job_++;
    registry_->Open(id, 1, 4);
    return id;
  }
  std::string JobToken(JobId id) { return stack_->auth->CreateToken("alice", false, id)->secret; }
  std::string UserToken() { return stack_->auth->CreateToken("alice", false)->secret; }
  const std::string& admin_token() const { return stack_->admin_token; }
  std::string JobUrl(JobId id) const { return stack_->Url() + "/api/v1/jobs/" + std::to_string(id); }
  httplib::Client Client() const { return stack_->Client(); }
  std::unique_ptr<HttpKvStore> Open(JobId id, const std::string& token) {
    auto store = HttpKvStore::Open(JobUrl(id), token);
    EXPECT_TRUE(store.has_value()) << store.error().ToString();
    return std::move(*store);
  }

 private:
  static inline KvServer* instance_ = nullptr;
  std::unique_ptr<testing::ServiceStack> stack_;
  std::unique_ptr<service::RendezvousRegistry> registry_;
  std::atomic<JobId> next_job_{1000};
};

[[maybe_unused]] const ::testing::Environment* const kEnv = ::testing::AddGlobalTestEnvironment(new KvServer);

// Each conformance test gets a fresh job's store, reached with that job's own token.
INSTANTIATE_TEST_SUITE_P(Http, KvStoreConformanceTest,
                         ::testing::Values(KvStoreFactory([]() -> std::unique_ptr<elastic::KvStore> {
                           KvServer& s = KvServer::Get();
                           JobId id = s.OpenJob();
                           return s.Open(id, s.JobToken(id));
                         })),
                         [](const auto&) { return std::string("Default"); });

// The answer is an error with this HTTP status whose error.field is `field`.
void ExpectError(const httplib::Result& res, int status, const std::string& field) {
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, status) << res->body;
  auto doc = nlohmann::json::parse(res->body, nullptr, false);
  ASSERT_TRUE(doc.is_object() && doc.contains("error")) << res->body;
  EXPECT_EQ(doc["error"].value("field", std::string("<none>")), field) << res->body;
}

TEST(KvRoutesTest, AnotherJobsTokenIsRefused) {
  KvServer& s = KvServer::Get();
  JobId mine = s.OpenJob(), other = s.OpenJob();
  auto store = s.Open(other, s.JobToken(mine));
  Status set = store->Set("k", "v");
  EXPECT_EQ(set.code(), StatusCode::kPermissionDenied) << set.ToString();
  EXPECT_EQ(store->Get("k").error().code(), StatusCode::kPermissionDenied);
  // A plain user token (even the job owner's) is refused too; an admin token is let in.
  EXPECT_EQ(s.Open(other, s.UserToken())->Get("k").error().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(s.Open(other, s.admin_token())->Set("k", "v").ok());
}

TEST(KvRoutesTest, BadTokenIsUnauthenticated) {
  KvServer& s = KvServer::Get();
  EXPECT_EQ(s.Open(s.OpenJob(), "stk_nope")->Get("k").error().code(), StatusCode::kUnauthenticated);
}

TEST(KvRoutesTest, JobWithoutRendezvousIs404AndNotAnAbsentKey) {
  KvServer& s = KvServer::Get();
  auto res = s.Client().Get("/api/v1/jobs/424242/kv?key=a", {{"Authorization", "Bearer " + s.admin_token()}});
  ExpectError(res, 404, "");
  EXPECT_NE(res->body.find("has no rendezvous store"), std::string::npos) << res->body;
  // The client tells it apart from an absent key, which callers treat as "not yet".
  auto get = s.Open(424242, s.admin_token())->Get("a");
  EXPECT_EQ(get.error().code(), StatusCode::kFailedPrecondition) << get.error().ToString();
}

TEST(KvRoutesTest, AbsentKeyIs404NamingKey) {
  KvServer& s = KvServer::Get();
  JobId id = s.OpenJob();
  ExpectError(s.Client().Get("/api/v1/jobs/" + std::to_string(id) + "/kv?key=nope",
                             {{"Authorization", "Bearer " + s.JobToken(id)}}),
              404, "key");
}

TEST(KvRoutesTest, BadInputIs400NamingTheField) {
  KvServer& s = KvServer::Get();
  JobId id = s.OpenJob();
  httplib::Headers auth{{"Authorization", "Bearer " + s.JobToken(id)}};
  std::string base = "/api/v1/jobs/" + std::to_string(id) + "/kv";
  auto cli = s.Client();
  ExpectError(cli.Post(base + "/add?key=c&delta=one", auth, "", "application/octet-stream"), 400, "delta");
  ExpectError(cli.Post(base + "/add?key=c", auth, "", "application/octet-stream"), 400, "delta");
  ExpectError(cli.Get(base, auth), 400, "key");
  ExpectError(cli.Post(base + "/compare-set", auth, R"({"key":"k","expected":null,"desired":"zz"})", "application/json"),
              400, "desired");
  ExpectError(cli.Post(base + "/compare-set", auth, R"({"key":"k","desired":"00","extra":1})", "application/json"),
              400, "extra");
  ExpectError(cli.Post(base + "/wait", auth, R"({"keys":"a"})", "application/json"), 400, "keys");
}

TEST(KvRoutesTest, AddOnANonCounterIsFailedPrecondition) {
  KvServer& s = KvServer::Get();
  JobId id = s.OpenJob();
  auto store = s.Open(id, s.JobToken(id));
  ASSERT_TRUE(store->Set("c", "abc").ok());
  EXPECT_EQ(store->Add("c", 1).error().code(), StatusCode::kFailedPrecondition);
}

TEST(KvRoutesTest, ValuesWithNulBytesAndSlashKeysRoundTrip) {
  KvServer& s = KvServer::Get();
  JobId id = s.OpenJob();
  auto store = s.Open(id, s.JobToken(id));
  std::string value("\0\x01gloo\0\xff\n", 9);
  const std::string key = "gen/3/pg/rank 0?&=%";
  ASSERT_TRUE(store->Set(key, value).ok());
  EXPECT_EQ(*store->Get(key), value);
  EXPECT_TRUE(*store->CompareSet(key, std::string_view(value), std::string("\0\0", 2)));
  EXPECT_EQ(*store->Get(key), std::string("\0\0", 2));
  ASSERT_TRUE(store->Set("empty", "").ok());
  EXPECT_EQ(*store->Get("empty"), "");
}

TEST(KvRoutesTest, WaitIsWokenBySetFromAnotherClient) {
  KvServer& s = KvServer::Get();
  JobId id = s.OpenJob();
  std::string token = s.JobToken(id);
  auto waiter = s.Open(id, token);
  auto setter = s.Open(id, token);
  std::thread t([&] {
    std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(setter->Set("ready", "1").ok());
  });
  std::vector<std::string> keys{"ready"};
  EXPECT_TRUE(waiter->Wait(keys, 10s).ok());
  t.join();
}

TEST(KvRoutesTest, WaitLongerThanTheServerCapRepeatsTheLongPoll) {
  KvServer& s = KvServer::Get();
  JobId id = s.OpenJob();
  auto store = s.Open(id, s.JobToken(id));
  std::thread t([&] {
    std::this_thread::sleep_for(kServerMaxWait * 3);
    EXPECT_TRUE(store->Set("late", "1").ok());
  });
  std::vector<std::string> keys{"late"};
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(store->Wait(keys, 10s).ok());
  t.join();
  EXPECT_GE(std::chrono::steady_clock::now() - start, kServerMaxWait * 3);

  std::vector<std::string> never{"never"};
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(store->Wait(never, kServerMaxWait * 2 + 100ms).code(), StatusCode::kDeadlineExceeded);
  EXPECT_GE(std::chrono::steady_clock::now() - start, kServerMaxWait * 2 + 90ms);
}

TEST(KvRoutesTest, ConcurrentSetIsNotBlockedByALongWait) {
  KvServer& s = KvServer::Get();
  JobId id = s.OpenJob();
  auto store = s.Open(id, s.JobToken(id));
  std::thread waiter([&] {
    std::vector<std::string> keys{"never"};
    EXPECT_EQ(store->Wait(keys, 1500ms).code(), StatusCode::kDeadlineExceeded);
  });
  std::this_thread::sleep_for(100ms);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->Set("hb/0", "1").ok());
  EXPECT_EQ(*store->Add("hb/0", 1), 2);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  waiter.join();
}

TEST(HttpKvStoreTest, OpenRejectsUrlsThatAreNotAJobsUrl) {
  EXPECT_EQ(HttpKvStore::Open("tcp://127.0.0.1:1", "t").error().field(), "store");
  EXPECT_EQ(HttpKvStore::Open("http://127.0.0.1:1", "t").error().field(), "store");
  EXPECT_EQ(HttpKvStore::Open("http://127.0.0.1:1/api/v1/jobs/1", "").error().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(HttpKvStore::Open("http://127.0.0.1:1/api/v1/jobs/1/", "t").has_value());
}

TEST(HttpKvStoreTest, UnreachableServerIsUnavailable) {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  auto store = *HttpKvStore::Open("http://127.0.0.1:1/api/v1/jobs/1", "t");
  EXPECT_EQ(store->Set("k", "v").code(), StatusCode::kUnavailable);
  std::vector<std::string> keys{"k"};
  EXPECT_EQ(store->Wait(keys, 5s).code(), StatusCode::kUnavailable);
}

TEST(KvWireTest, HexRoundTripsAndRejectsJunk) {
  std::string bytes("\0\x7f\x80\xff", 4);
  EXPECT_EQ(elastic::kv_wire::HexEncode(bytes), "007f80ff");
  EXPECT_EQ(*elastic::kv_wire::HexDecode("007F80ff"), bytes);
  EXPECT_FALSE(elastic::kv_wire::HexDecode("abc").has_value());
  EXPECT_FALSE(elastic::kv_wire::HexDecode("0g").has_value());
}

}  // namespace
}  // namespace stoke::api
