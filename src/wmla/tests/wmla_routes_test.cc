#include "wmla/wmla_routes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "wmla/tests/test_server.h"

namespace stoke::wmla {
namespace {

using nlohmann::json;
using testing::TestServer;

const std::string kDl = "/platform/rest/deeplearning/v1";

httplib::Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
httplib::Headers XAuth(const std::string& token) { return {{"X-Auth-Token", token}}; }

// Checks a WMLA-shaped error: the status, {"code": status, "message"}, and the field when given.
void ExpectWmlaError(const httplib::Result& r, int status, const std::string& field = "") {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  json body = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r->body;
  EXPECT_EQ(body.value("code", 0), status) << r->body;
  EXPECT_FALSE(body.value("message", "").empty()) << r->body;
  if (!field.empty()) {
    EXPECT_EQ(body.value("field", ""), field) << r->body;
  }
}

httplib::Result SubmitExec(httplib::Client& c, const std::string& token, const std::string& args,
                           const std::string& filename = "main.py", const std::string& content = "print('hi')\n") {
  httplib::MultipartFormDataItems items = {{"file", content, filename, "application/octet-stream"}};
  return c.Post((kDl + "/execs?args=" + httplib::detail::encode_query_param(args)).c_str(), XAuth(token), items);
}

class WmlaRoutesTest : public ::testing::Test {
 protected:
  TestServer s{::testing::UnitTest::GetInstance()->current_test_info()->name()};

  std::string Logon(const std::string& user, const std::string& password) {
    auto c = s.Client();
    c.set_basic_auth(user, password);
    auto r = c.Get("/auth/v1/logon");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    return json::parse(r->body).value("accessToken", "");
  }
  void CreateUser(const std::string& user, const std::string& password, bool admin = false) {
    auto c = s.Client();
    auto r = c.Post("/api/v1/users", Bearer(s.admin_token),
                    json{{"user", user}, {"password", password}, {"admin", admin}}.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }
};

TEST_F(WmlaRoutesTest, LogonGivesATokenThatWorksWithBothHeaders) {
  CreateUser("alice", "alice-password");
  std::string token = Logon("alice", "alice-password");
  ASSERT_TRUE(token.starts_with("stk_"));
  auto c = s.Client();
  auto via_x = c.Get((kDl + "/execs").c_str(), XAuth(token));
  ASSERT_TRUE(via_x);
  EXPECT_EQ(via_x->status, 200);
  EXPECT_EQ(via_x->body, "[]");
  auto via_bearer = c.Get((kDl + "/execs/frameworks").c_str(), Bearer(token));
  ASSERT_TRUE(via_bearer);
  EXPECT_EQ(via_bearer->status, 200);
  EXPECT_EQ(json::parse(via_bearer->body).size(), 4u);

  auto conductor = s.Client();
  conductor.set_basic_auth("alice", "alice-password");
  auto r = conductor.Get("/platform/rest/conductor/v1/auth/logon");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["user_name"], "alice");

  auto bad = s.Client();
  bad.set_basic_auth("alice", "wrong-password");
  auto denied = bad.Get("/auth/v1/logon");
  ExpectWmlaError(denied, 401);
  EXPECT_EQ(denied->get_header_value("WWW-Authenticate"), "Basic realm=\"stoke\"");
  ExpectWmlaError(s.Client().Get("/auth/v1/logon"), 401);
  ExpectWmlaError(s.Client().Get((kDl + "/execs").c_str(), XAuth("stk_nonsense")), 401);
}

TEST_F(WmlaRoutesTest, UserAdministration) {
  CreateUser("bob", "bob-password");
  std::string bob = Logon("bob", "bob-password");
  auto c = s.Client();
  auto forbidden = c.Post("/api/v1/users", Bearer(bob), R"({"user":"eve","password":"eve-password"})", "application/json");
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
  auto self = c.Post("/api/v1/users/bob/password", Bearer(bob), R"({"password":"new-bob-password"})", "application/json");
  ASSERT_TRUE(self);
  EXPECT_EQ(self->status, 204) << self->body;
  EXPECT_FALSE(Logon("bob", "new-bob-password").empty());
  auto other = c.Post("/api/v1/users/admin/password", Bearer(bob), R"({"password":"hijacked!"})", "application/json");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
  auto dup = c.Post("/api/v1/users", Bearer(s.admin_token), R"({"user":"bob","password":"bob-password"})", "application/json");
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->status, 409);
  auto unknown = c.Post("/api/v1/users", Bearer(s.admin_token), R"({"user":"x","password":"long enough","role":"x"})",
                        "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  auto list = c.Get("/api/v1/users", Bearer(s.admin_token));
  ASSERT_TRUE(list);
  EXPECT_EQ(json::parse(list->body)["users"][0]["user"], "bob");
}

TEST_F(WmlaRoutesTest, SubmitGetListStopDeleteAnExec) {
  auto c = s.Client();
  auto r = SubmitExec(c, s.admin_token,
                      "--exec-start PyTorch --cs-datastore-meta type=fs,data_path=mnist --workerDeviceNum 1 "
                      "--model-main main.py --epochs 1");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json exec = json::parse(r->body);
  std::string id = exec["id"];
  EXPECT_TRUE(id.starts_with("wmla-"));
  EXPECT_EQ(exec["appId"], id);
  EXPECT_EQ(exec["submissionId"], id);
  EXPECT_EQ(exec["framework"], "PyTorch");
  EXPECT_EQ(exec["state"], "PENDING_JOB_SCHEDULER");
  EXPECT_EQ(exec["numWorker"], 1);
  EXPECT_EQ(exec["creator"], "admin");
  EXPECT_EQ(exec["elastic"], false);
  EXPECT_TRUE(exec.contains("warning")) << "no GPUs here: the CPU fallback is said";

  // It is an ordinary Stoke job running the launcher.
  int64_t job_id = exec["stokeJobId"];
  auto job = s.jobs->Get(service::Principal{"admin", true}, job_id);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->spec.argv[2], ".wmla/launch.py");
  EXPECT_EQ(job->spec.argv.back(), "1");
  EXPECT_EQ(job->spec.env.at("FRAME_WORK"), "PyTorch");
  EXPECT_EQ(job->spec.env.at("DATA_DIR"), (s.dir / "wmla" / "data" / "mnist").string());
  EXPECT_EQ(job->spec.resources.gpus, 0);

  auto got = c.Get((kDl + "/execs/" + id).c_str(), XAuth(s.admin_token));
  ASSERT_TRUE(got);
  EXPECT_EQ(json::parse(got->body)["id"], id);
  auto list = c.Get((kDl + "/execs/").c_str(), XAuth(s.admin_token));
  ASSERT_TRUE(list);
  EXPECT_EQ(json::parse(list->body).size(), 1u);
  auto log = c.Get((kDl + "/execs/" + id + "/log?logType=outlog").c_str(), XAuth(s.admin_token));
  ASSERT_TRUE(log);
  EXPECT_EQ(log->status, 200);
  ExpectWmlaError(c.Get((kDl + "/execs/" + id + "/log?logType=stdout").c_str(), XAuth(s.admin_token)), 400, "logType");

  ExpectWmlaError(c.Delete((kDl + "/execs/" + id).c_str(), XAuth(s.admin_token)), 409);
  auto stop = c.Post((kDl + "/execs/" + id + "/stop").c_str(), XAuth(s.admin_token), "", "text/plain");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 204);
  EXPECT_EQ(json::parse(c.Get((kDl + "/execs/" + id).c_str(), XAuth(s.admin_token))->body)["state"], "KILLED");
  auto del = c.Delete((kDl + "/execs/" + id).c_str(), XAuth(s.admin_token));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  ExpectWmlaError(c.Get((kDl + "/execs/" + id).c_str(), XAuth(s.admin_token)), 404);
}

TEST_F(WmlaRoutesTest, DistributedExecsAskForEveryWorker) {
  auto c = s.Client();
  auto r = SubmitExec(c, s.admin_token, "--exec-start distPyTorch --numWorker 2 --workerDeviceType cpu --model-main main.py");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json exec = json::parse(r->body);
  EXPECT_EQ(exec["numWorker"], 2);
  EXPECT_FALSE(exec.contains("warning"));
  auto job = s.jobs->Get(service::Principal{"admin", true}, exec["stokeJobId"].get<int64_t>());
  EXPECT_EQ(job->spec.resources.cpus, 2);
  EXPECT_EQ(job->spec.argv[4], "2");

  auto edt = SubmitExec(c, s.admin_token, "--exec-start edtPyTorch --numWorker 2 --workerDeviceType cpu --model-main main.py");
  ASSERT_TRUE(edt);
  ASSERT_EQ(edt->status, 200) << edt->body;
  EXPECT_NE(json::parse(edt->body).value("warning", "").find("fixed number of workers"), std::string::npos);
  EXPECT_EQ(json::parse(edt->body)["elastic"], true);
}

TEST_F(WmlaRoutesTest, MalformedExecRequestsGetWmlaErrors) {
  auto c = s.Client();
  ExpectWmlaError(SubmitExec(c, s.admin_token, ""), 400, "args");
  ExpectWmlaError(SubmitExec(c, s.admin_token, "--exec-start caffe --model-main main.py"), 400, "args.--exec-start");
  ExpectWmlaError(SubmitExec(c, s.admin_token, "--exec-start PyTorch --numWorker 2 --model-main main.py"), 400,
                  "args.--numWorker");
  ExpectWmlaError(SubmitExec(c, s.admin_token, "--exec-start PyTorch --model-main main.py --workerDeviceType gpu"), 400,
                  "args");
  ExpectWmlaError(SubmitExec(c, s.admin_token, "--exec-start PyTorch --model-main other.py"), 400, "args.--model-main");
  ExpectWmlaError(SubmitExec(c, s.admin_token, "--exec-start PyTorch --model-main 'main.py"), 400, "args");
  ExpectWmlaError(SubmitExec(c, s.admin_token, "--exec-start distPyTorch --numWorker 64 --model-main main.py"), 400, "args");
  ExpectWmlaError(SubmitExec(c, s.admin_token, "--exec-start PyTorch --model-main m.py", "m.modelDir.tar", "junk"), 400,
                  "file");
  auto no_file = c.Post((kDl + "/execs?args=--exec-start%20PyTorch").c_str(), XAuth(s.admin_token),
                        httplib::MultipartFormDataItems{{"data", "{}", "", ""}});
  ExpectWmlaError(no_file, 400, "file");
  auto not_multipart = c.Post((kDl + "/execs?args=x").c_str(), XAuth(s.admin_token), "{}", "application/json");
  ExpectWmlaError(not_multipart, 400, "Content-Type");
  ExpectWmlaError(c.Get((kDl + "/execs/wmla-999").c_str(), XAuth(s.admin_token)), 404);
  ExpectWmlaError(c.Get((kDl + "/execs/garbage").c_str(), XAuth(s.admin_token)), 404);
  ExpectWmlaError(c.Get((kDl + "/execs").c_str()), 401);
}

json RandomTask() {
  return json::parse(R"({"modelSpec": {"args": "--exec-start PyTorch --model-main main.py --epochs 2"},
    "algoDef": {"algorithm": "Random", "maxJobNum": 3, "maxParalleJobNum": 2, "objectiveMetric": "loss", "objective": "minimize",
                "algoParams": [{"name": "RandomSeed", "value": "3"}]},
    "hyperParams": [{"name": "learning_rate", "type": "Range", "dataType": "DOUBLE", "minDbVal": 0.001, "maxDbVal": 0.1,
                     "discreateStrVal": []}]})");
}

httplib::Result StartHpo(httplib::Client& c, const std::string& token, const std::string& data) {
  httplib::MultipartFormDataItems items = {{"file", "print('hi')\n", "main.py", "text/x-python"},
                                           {"data", data, "", "application/json"}};
  return c.Post((kDl + "/hypersearch").c_str(), XAuth(token), items);
}

TEST_F(WmlaRoutesTest, HpoTaskLifecycle) {
  auto c = s.Client();
  auto r = StartHpo(c, s.admin_token, RandomTask().dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::string name = json::parse(r->body)["uid"];
  EXPECT_TRUE(name.starts_with("admin-hpo-"));
  EXPECT_EQ(json::parse(r->body)["href"], kDl + "/hypersearch/" + name);

  auto got = c.Get((kDl + "/hypersearch/" + name).c_str(), XAuth(s.admin_token));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  json task = json::parse(got->body);
  EXPECT_EQ(task["hpoName"], name);
  EXPECT_EQ(task["state"], "RUNNING");
  EXPECT_EQ(task["progress"], "0/3");
  EXPECT_EQ(task["creator"], "admin");
  EXPECT_EQ(task["algoDef"]["maxParalleJobNum"], 2);
  EXPECT_EQ(task["hyperParams"][0]["type"], "range");
  ASSERT_EQ(task["experiments"].size(), 2u);  // maxParalleJobNum trials at a time
  json row = task["experiments"][0];
  EXPECT_TRUE(row["appId"].get<std::string>().starts_with("wmla-"));
  EXPECT_EQ(row["state"], "PENDING_JOB_SCHEDULER");
  EXPECT_EQ(row["hyperParams"][0]["name"], "learning_rate");
  EXPECT_EQ(row["hyperParams"][0]["dataType"], "double");
  EXPECT_TRUE(row["hyperParams"][0]["fixedVal"].is_string());
  EXPECT_EQ(task["best"], json::object());
  // Trials are execs too.
  auto exec = c.Get((kDl + "/execs/" + row["appId"].get<std::string>()).c_str(), XAuth(s.admin_token));
  ASSERT_TRUE(exec);
  EXPECT_EQ(json::parse(exec->body)["framework"], "PyTorch");
  // And the task is a Stoke experiment.
  auto experiments = c.Get("/api/v1/experiments", Bearer(s.admin_token));
  EXPECT_EQ(json::parse(experiments->body)["experiments"][0]["name"], name);

  auto list = c.Get((kDl + "/hypersearch").c_str(), XAuth(s.admin_token));
  EXPECT_EQ(json::parse(list->body).size(), 1u);
  auto stop = c.Put((kDl + "/hypersearch/" + name).c_str(), XAuth(s.admin_token), "", "text/plain");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 200) << stop->body;
  EXPECT_EQ(json::parse(c.Get((kDl + "/hypersearch/" + name).c_str(), XAuth(s.admin_token))->body)["state"], "STOPPED");
  ExpectWmlaError(c.Put((kDl + "/hypersearch/" + name).c_str(), XAuth(s.admin_token), "", "text/plain"), 400);
  auto restart = c.Put((kDl + "/hypersearch/" + name + "/restart").c_str(), XAuth(s.admin_token), "", "text/plain");
  ASSERT_TRUE(restart);
  EXPECT_EQ(restart->status, 200) << restart->body;
  EXPECT_EQ(json::parse(restart->body)["state"], "RUNNING");
  auto del = c.Delete((kDl + "/hypersearch/" + name).c_str(), XAuth(s.admin_token));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204) << del->body;
  ExpectWmlaError(c.Get((kDl + "/hypersearch/" + name).c_str(), XAuth(s.admin_token)), 404);
}

TEST_F(WmlaRoutesTest, HpoNamesAlgorithmsAndErrors) {
  auto c = s.Client();
  json task = RandomTask();
  task["hpoName"] = "my-task";
  ASSERT_EQ(StartHpo(c, s.admin_token, task.dump())->status, 200);
  ExpectWmlaError(StartHpo(c, s.admin_token, task.dump()), 409);
  auto algos = c.Get((kDl + "/hypersearch/algorithm").c_str(), XAuth(s.admin_token));
  ASSERT_TRUE(algos);
  EXPECT_EQ(json::parse(algos->body).size(), 5u);
  auto one = c.Get((kDl + "/hypersearch/algorithm/Hyperband").c_str(), XAuth(s.admin_token));
  EXPECT_EQ(json::parse(one->body)["name"], "Hyperband");

  ExpectWmlaError(StartHpo(c, s.admin_token, "{not json"), 400, "data");
  task["hpoName"] = "other";
  task["algoDef"]["algorithm"] = "Annealing";
  ExpectWmlaError(StartHpo(c, s.admin_token, task.dump()), 400, "algoDef.algorithm");
  task["algoDef"]["algorithm"] = "Random";
  task["modelSpec"]["args"] = "--exec-start PyTorch --model-main missing.py";
  ExpectWmlaError(StartHpo(c, s.admin_token, task.dump()), 400, "modelSpec.args.--model-main");
  ExpectWmlaError(c.Get((kDl + "/hypersearch/nope").c_str(), XAuth(s.admin_token)), 404);

  // Another user sees none of it.
  CreateUser("carol", "carol-password");
  std::string carol = Logon("carol", "carol-password");
  ExpectWmlaError(c.Get((kDl + "/hypersearch/my-task").c_str(), XAuth(carol)), 404);
  EXPECT_EQ(c.Get((kDl + "/hypersearch").c_str(), XAuth(carol))->body, "[]");
}

}  // namespace
}  // namespace stoke::wmla

namespace stoke::wmla {
namespace {

TEST_F(WmlaRoutesTest, Wmla4DataFieldCarriesArgsAndHardwareSpec) {
  auto c = s.Client();
  json data = json::parse(R"({"args": "--exec-start distPyTorch --model-main main.py --lr 0.1",
    "hardwareSpec": {"nodes": {"num_nodes": 3, "mem": {"size": "1g"}, "gpu": {"num_gpu": 0}, "cpu": {"units": "0.25"}}},
    "dataSource": [{"type": "fs", "location": {"paths": "cifar"}}]})");
  httplib::MultipartFormDataItems items = {{"file", "print(1)\n", "main.py", ""}, {"data", data.dump(), "", ""}};
  auto r = c.Post((kDl + "/execs").c_str(), XAuth(s.admin_token), items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json exec = json::parse(r->body);
  EXPECT_EQ(exec["numWorker"], 3);
  auto job = s.jobs->Get(service::Principal{"admin", true}, exec["stokeJobId"].get<int64_t>());
  ASSERT_TRUE(job);
  EXPECT_EQ(job->spec.resources.cpus, 3);
  EXPECT_EQ(job->spec.resources.gpus, 0);
  EXPECT_EQ(job->spec.resources.memory_bytes, int64_t{3} << 30);
  EXPECT_EQ(job->spec.env.at("DATA_DIR"), (s.dir / "wmla" / "data" / "cifar").string());
  EXPECT_EQ(job->spec.argv.back(), "0.1");

  // args as a form field work too.
  httplib::MultipartFormDataItems form = {{"file", "print(1)\n", "main.py", ""},
                                          {"args", "--exec-start PyTorch --workerDeviceType cpu --model-main main.py", "", ""}};
  auto f = c.Post((kDl + "/execs").c_str(), XAuth(s.admin_token), form);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, 200) << f->body;
  ExpectWmlaError(c.Post((kDl + "/execs").c_str(), XAuth(s.admin_token),
                         httplib::MultipartFormDataItems{{"file", "print(1)\n", "main.py", ""},
                                                         {"data", R"({"args":"--exec-start PyTorch --model-main main.py",
                                                                      "hardwareSpec":{"nodes":{"num_nodes":0}}})", "", ""}}),
                  400, "data.hardwareSpec.nodes.num_nodes");
}

}  // namespace
}  // namespace stoke::wmla
