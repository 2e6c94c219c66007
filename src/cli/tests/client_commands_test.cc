#include "cli/client_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "archive/archive_extractor.h"
#include "archive/archive_writer.h"
#include "cli/client_config.h"
#include "cli/tests/test_server.h"
#include "common/clock.h"

namespace stoke::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr UnixMillis kNow = 1795701730000;  // 2026-11-26T14:02:10Z

class FixedClock final : public Clock {
 public:
  UnixMillis NowMillis() const override { return kNow; }
  std::chrono::steady_clock::time_point SteadyNow() const override { return std::chrono::steady_clock::now(); }
};

json MakeJob(int64_t id, const std::string& state, std::optional<int> exit_code = std::nullopt) {
  json job = {{"id", id},
              {"type", "command"},
              {"name", "train-" + std::to_string(id)},
              {"user", "alice"},
              {"argv", {"python3", "train.py", "--lr", "0.1"}},
              {"env", json::object()},
              {"resources", {{"gpus", 1}, {"cpus", 2}, {"memory", 4LL << 30}}},
              {"priority", 0},
              {"state", state},
              {"exit_code", exit_code ? json(*exit_code) : json()},
              {"reason", ""},
              {"created_at", FormatRfc3339(kNow - 3 * 60'000)},
              {"started_at", FormatRfc3339(kNow - 2 * 60'000)},
              {"finished_at", nullptr}};
  return job;
}

void ReplyError(httplib::Response& res, int status, const std::string& code, const std::string& message,
                const std::string& field) {
  res.status = status;
  res.set_content(json{{"error", {{"code", code}, {"message", message}, {"field", field}}}}.dump(),
                  "application/json");
}

// A stand-in for the Stoke server speaking docs/api.md, recording what it was sent.
class FakeStoke {
 public:
  FakeStoke() {
    httplib::Server& s = ts_.server();
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != "Bearer " + token) {
        ReplyError(res, 401, "unauthenticated", "invalid token", "");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    s.Post("/api/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (req.is_multipart_form_data()) {
        submitted = json::parse(req.get_file_value("spec").content);
        code_part = req.get_file_value("code").content;
      } else {
        submitted = json::parse(req.body);
      }
      if (submitted.contains("resources") && submitted["resources"].value("gpus", 0) > 8) {
        return ReplyError(res, 400, "invalid_argument", "resources.gpus exceeds the pool (8)", "resources.gpus");
      }
      res.status = 201;
      res.set_content(MakeJob(42, "QUEUED").dump(), "application/json");
    });
    s.Get(R"(/api/v1/jobs/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (req.matches[1] != "42") return ReplyError(res, 404, "not_found", "job " + std::string(req.matches[1]) + " not found", "");
      json job = MakeJob(42, states.front().first, states.front().second);
      if (states.size() > 1) states.pop_front();
      res.set_content(job.dump(), "application/json");
    });
    s.Get("/api/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      list_queries.push_back(req.params);
      json page = {{"jobs", {MakeJob(43, "RUNNING"), MakeJob(42, "FAILED", 3)}}, {"next_cursor", nullptr}};
      if (paginate && !req.has_param("cursor")) {
        page = {{"jobs", {MakeJob(45, "QUEUED")}}, {"next_cursor", "45"}};
      }
      res.set_content(page.dump(), "application/json");
    });
    s.Get("/api/v1/whoami", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(json{{"user", "alice"}, {"admin", admin}}.dump(), "application/json");
    });
    s.Get("/api/v1/jobs/42/logs", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      logs_query = req.params;
      res.set_chunked_content_provider("text/plain", [step = 0](size_t, httplib::DataSink& sink) mutable {
        if (step == 0) sink.write("epoch 1\n", 8);
        if (step == 1) sink.write("epoch 2\n", 8);
        if (step == 2) sink.done();
        ++step;
        return true;
      });
    });
    s.Post("/api/v1/jobs/42/kill", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      kill_query = req.params;
      res.status = 202;
      res.set_content(MakeJob(42, "KILLED", 143).dump(), "application/json");
    });
    s.Delete(R"(/api/v1/jobs/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
      if (req.matches[1] == "43") return ReplyError(res, 409, "failed_precondition", "job 43 is RUNNING", "");
      res.status = 204;
    });
    s.Get("/api/v1/jobs/42/result", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(result_archive, "application/gzip");
    });
    s.Get("/api/v1/jobs/42/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      metrics_query = req.params;
      json series = {{{"name", "loss"}, {"count", 1000}, {"points", {{0, 2.5}, {500, 0.25}, {999, 0.5}}}},
                     {{"name", "acc"}, {"count", 3}, {"points", {{0, 0.1}, {1, 0.5}, {2, 0.75}}}}};
      res.set_content(json{{"series", series}}.dump(), "application/json");
    });
    s.Get("/api/v1/cluster", [](const httplib::Request&, httplib::Response& res) {
      json cluster = {{"cpus", {{"total", 8}, {"used", 3}}},
                      {"gpus", {{{"index", 0}, {"name", "NVIDIA H200"}, {"memory", 150LL << 30}, {"job", 43}},
                                {{"index", 1}, {"name", "NVIDIA H200"}, {"memory", 150LL << 30}, {"job", nullptr}}}},
                      {"memory", {{"total", 0}, {"used", 0}}},
                      {"slots", json::array()},
                      {"running", {MakeJob(43, "RUNNING")}},
                      {"queue", {MakeJob(44, "QUEUED")}}};
      cluster["queue"][0]["reason"] = "waiting for 1 GPU";
      res.set_content(cluster.dump(), "application/json");
    });
    s.Post("/api/v1/tokens", [this](const httplib::Request& req, httplib::Response& res) {
      json body = json::parse(req.body);
      res.status = 201;
      res.set_content(json{{"id", 3}, {"user", body["user"]}, {"admin", body["admin"]}, {"token", "stk_new"},
                           {"created_at", FormatRfc3339(kNow)}}
                          .dump(),
                      "application/json");
    });
    ts_.Start();
  }

  std::string url() const { return ts_.url(); }

  std::string token = "tok";
  bool admin = false;
  bool paginate = false;  // answer a first page of one job with a cursor
  std::string result_archive;
  // States GET /jobs/42 answers, in turn (the last one repeats).
  std::deque<std::pair<std::string, std::optional<int>>> states = {{"RUNNING", std::nullopt}};
  json submitted;
  std::string code_part;
  std::vector<httplib::Params> list_queries;
  httplib::Params logs_query, metrics_query, kill_query;

 private:
  std::mutex mu_;
  testing::TestServer ts_;
};

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

class ClientCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("stoke_cli_cmd_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    env_vars_ = {{"STOKE_URL", fake_.url()}, {"STOKE_TOKEN", "tok"}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome Run(std::vector<std::string> args, bool err_is_tty = false) {
    std::ostringstream out, err;
    auto env = std::make_shared<ClientEnvironment>();
    env->out = &out;
    env->err = &err;
    env->env = [vars = env_vars_](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    env->config_path = (dir_ / "config" / "config.json").string();
    env->err_is_tty = err_is_tty;
    env->clock = std::make_shared<FixedClock>();
    env->poll_interval = std::chrono::milliseconds(5);
    env->watch_interval = std::chrono::milliseconds(5);
    env->watch_iterations = 2;
    CLI::App app("stoke");
    app.require_subcommand(1);
    RegisterClientCommands(app, env);
    args.insert(args.begin(), "stoke");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    int code = RunCli(app, static_cast<int>(argv.size()), argv.data(), out, err);
    return {code, out.str(), err.str()};
  }

  FakeStoke fake_;
  fs::path dir_;
  std::map<std::string, std::string> env_vars_;
};

TEST_F(ClientCommandsTest, SubmitSendsEverythingAfterDoubleDashAsArgv) {
  Outcome o = Run({"submit", "--gpus", "1", "--cpus", "2", "--mem", "4G", "--name", "exp", "--env", "A=1", "--env",
                   "B=x=y", "--priority", "5", "--max-runtime", "60", "--hparams", R"({"lr":0.1})", "--", "python3",
                   "train.py", "--lr", "0.1", "-v", "--", "x"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "42\n");
  const json& s = fake_.submitted;
  EXPECT_EQ(s["argv"], json({"python3", "train.py", "--lr", "0.1", "-v", "--", "x"}));
  EXPECT_EQ(s["resources"], json({{"gpus", 1}, {"cpus", 2}, {"memory", 4LL << 30}}));
  EXPECT_EQ(s["env"], json({{"A", "1"}, {"B", "x=y"}}));
  EXPECT_EQ(s["name"], "exp");
  EXPECT_EQ(s["priority"], 5);
  EXPECT_EQ(s["max_runtime_s"], 60);
  EXPECT_EQ(s["hparams"], json({{"lr", 0.1}}));
}

TEST_F(ClientCommandsTest, SubmitJsonPrintsTheJob) {
  Outcome o = Run({"submit", "--json", "--", "true"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out)["state"], "QUEUED");
}

TEST_F(ClientCommandsTest, BadUsageExitsTwoAndNamesTheField) {
  Outcome mem = Run({"submit", "--mem", "4Q", "--", "x"});
  EXPECT_EQ(mem.code, 2);
  EXPECT_EQ(mem.err, "error: invalid size \"4Q\": unknown unit \"Q\" (use K, M, G or T) (field mem)\n");
  EXPECT_TRUE(fake_.submitted.is_null());  // nothing was sent

  Outcome no_cmd = Run({"submit", "--gpus", "1"});
  EXPECT_EQ(no_cmd.code, 2);
  EXPECT_NE(no_cmd.err.find("(field argv)"), std::string::npos) << no_cmd.err;

  Outcome unknown = Run({"ls", "--bogus"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_TRUE(unknown.err.starts_with("error: ")) << unknown.err;

  Outcome no_dashes = Run({"submit", "python3", "train.py", "--lr", "0.1"});
  EXPECT_EQ(no_dashes.code, 2);
  EXPECT_NE(no_dashes.err.find("after --"), std::string::npos) << no_dashes.err;

  Outcome help = Run({"ls", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--all-users"), std::string::npos) << help.out;
}

TEST_F(ClientCommandsTest, ServerErrorExitsOneWithItsField) {
  Outcome o = Run({"submit", "--gpus", "9", "--", "x"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "error: resources.gpus exceeds the pool (8) (field resources.gpus)\n");
  Outcome missing = Run({"show", "7"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "error: job 7 not found\n");
}

TEST_F(ClientCommandsTest, MissingTokenAndUnreachableServer) {
  env_vars_.erase("STOKE_TOKEN");
  Outcome no_token = Run({"ls"});
  EXPECT_EQ(no_token.code, 2);
  EXPECT_NE(no_token.err.find("no API token"), std::string::npos);

  env_vars_["STOKE_TOKEN"] = "wrong";
  EXPECT_EQ(Run({"ls"}).err, "error: invalid token\n");

  env_vars_["STOKE_TOKEN"] = "tok";
  env_vars_["STOKE_URL"] = "http://127.0.0.1:1";
  Outcome down = Run({"ls"});
  EXPECT_EQ(down.code, 1);
  EXPECT_TRUE(down.err.starts_with("error: cannot reach the Stoke server at http://127.0.0.1:1: ")) << down.err;
}

TEST_F(ClientCommandsTest, WaitExitsWithTheJobsExitCode) {
  fake_.states = {{"QUEUED", std::nullopt}, {"RUNNING", std::nullopt}, {"RUNNING", std::nullopt}, {"FAILED", 3}};
  Outcome o = Run({"submit", "--wait", "--", "x"});
  EXPECT_EQ(o.code, 3);
  EXPECT_EQ(o.out, "42\n");
  // Not a terminal: one plain line per state change.
  std::istringstream lines(o.err);
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line.substr(0, line.find(' ', 7)));
  EXPECT_EQ(got, (std::vector<std::string>{"job 42 QUEUED", "job 42 RUNNING", "job 42 FAILED"})) << o.err;
}

TEST_F(ClientCommandsTest, WaitWithJsonPrintsOnlyTheFinalJob) {
  fake_.states = {{"RUNNING", std::nullopt}, {"COMPLETED", 0}};
  Outcome o = Run({"submit", "--json", "--wait", "--", "x"});
  ASSERT_EQ(o.code, 0) << o.err;
  json job = json::parse(o.out);  // one document: would throw on two
  EXPECT_EQ(job["state"], "COMPLETED");
}

TEST_F(ClientCommandsTest, WaitMapsTerminalStates) {
  fake_.states = {{"COMPLETED", 0}};
  EXPECT_EQ(Run({"submit", "--wait", "--", "x"}).code, 0);
  fake_.states = {{"KILLED", 143}};
  EXPECT_EQ(Run({"submit", "--wait", "--", "x"}).code, 130);
  fake_.states = {{"LOST", std::nullopt}};
  EXPECT_EQ(Run({"submit", "--wait", "--", "x"}).code, 1);
  fake_.states = {{"FAILED", std::nullopt}};
  EXPECT_EQ(Run({"submit", "--wait", "--", "x"}).code, 1);
}

TEST_F(ClientCommandsTest, WaitOnATerminalRedrawsOneLine) {
  fake_.states = {{"RUNNING", std::nullopt}, {"COMPLETED", 0}};
  Outcome o = Run({"submit", "--wait", "--", "x"}, /*err_is_tty=*/true);
  EXPECT_EQ(o.code, 0);
  EXPECT_TRUE(o.err.starts_with("\r\033[Kjob 42 RUNNING")) << o.err;
  EXPECT_NE(o.err.find("\r\033[Kjob 42 COMPLETED"), std::string::npos);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1);
}

TEST_F(ClientCommandsTest, SubmitDirUploadsATarGz) {
  fs::create_directories(dir_ / "code" / "pkg");
  std::ofstream(dir_ / "code" / "train.py") << "print('hi')\n";
  std::ofstream(dir_ / "code" / "pkg" / "util.py") << "X = 1\n";
  Outcome o = Run({"submit", "--dir", (dir_ / "code").string(), "--", "python3", "train.py"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(fake_.submitted["argv"], json({"python3", "train.py"}));
  ASSERT_GE(fake_.code_part.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(fake_.code_part[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(fake_.code_part[1]), 0x8b);
  ASSERT_TRUE(archive::ExtractArchiveFromMemory(fake_.code_part, (dir_ / "unpacked").string()).ok());
  EXPECT_TRUE(fs::exists(dir_ / "unpacked" / "pkg" / "util.py"));

  Outcome missing = Run({"submit", "--dir", (dir_ / "nope").string(), "--", "x"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("(field dir)"), std::string::npos);
}

TEST_F(ClientCommandsTest, LsPrintsAnAlignedTable) {
  Outcome o = Run({"ls", "--state", "running,failed", "--limit", "10"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out,
            "ID  NAME      USER   STATE    EXIT  RESOURCES     AGE\n"
            "43  train-43  alice  RUNNING  -     1gpu 2cpu 4G  3m ago\n"
            "42  train-42  alice  FAILED   3     1gpu 2cpu 4G  3m ago\n");
  ASSERT_EQ(fake_.list_queries.size(), 1u);
  const httplib::Params& q = fake_.list_queries[0];
  EXPECT_EQ(q.find("state")->second, "RUNNING,FAILED");
  EXPECT_EQ(q.find("limit")->second, "10");
  EXPECT_EQ(q.count("user"), 0u);  // not an admin: the server already shows only alice's jobs
}

TEST_F(ClientCommandsTest, LsFollowsTheCursorUpToTheLimit) {
  fake_.paginate = true;
  Outcome o = Run({"ls", "--json", "--limit", "2"});
  ASSERT_EQ(o.code, 0) << o.err;
  json jobs = json::parse(o.out)["jobs"];
  ASSERT_EQ(jobs.size(), 3u);  // the second page may hold more than asked; nothing is dropped
  EXPECT_EQ(jobs[0]["id"], 45);
  EXPECT_EQ(jobs[1]["id"], 43);
  ASSERT_EQ(fake_.list_queries.size(), 2u);
  EXPECT_EQ(fake_.list_queries[0].find("limit")->second, "2");
  EXPECT_EQ(fake_.list_queries[1].find("cursor")->second, "45");
  EXPECT_EQ(fake_.list_queries[1].find("limit")->second, "1");
}

TEST_F(ClientCommandsTest, LsNarrowsAdminsToTheirOwnJobsUnlessAllUsers) {
  fake_.admin = true;
  ASSERT_EQ(Run({"ls"}).code, 0);
  ASSERT_EQ(Run({"ls", "--all-users"}).code, 0);
  ASSERT_EQ(fake_.list_queries.size(), 2u);
  EXPECT_EQ(fake_.list_queries[0].find("user")->second, "alice");
  EXPECT_EQ(fake_.list_queries[1].count("user"), 0u);
}

TEST_F(ClientCommandsTest, ShowPrintsFields) {
  Outcome o = Run({"show", "42"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("state:        RUNNING\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("command:      python3 train.py --lr 0.1\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("runtime:      2m\n"), std::string::npos) << o.out;
  EXPECT_EQ(json::parse(Run({"show", "42", "--json"}).out)["id"], 42);
}

TEST_F(ClientCommandsTest, LogsStreamsTheBody) {
  Outcome o = Run({"logs", "-f", "--tail", "5", "42"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "epoch 1\nepoch 2\n");
  EXPECT_EQ(fake_.logs_query.find("follow")->second, "true");
  EXPECT_EQ(fake_.logs_query.find("tail")->second, "5");
}

TEST_F(ClientCommandsTest, KillAndRm) {
  Outcome kill = Run({"kill", "42", "--grace", "2"});
  ASSERT_EQ(kill.code, 0) << kill.err;
  EXPECT_EQ(kill.out, "job 42 KILLED\n");
  EXPECT_EQ(fake_.kill_query.find("grace_s")->second, "2");
  EXPECT_EQ(Run({"kill", "42", "--grace", "1.5"}).code, 2);
  Outcome rm = Run({"rm", "42"});
  ASSERT_EQ(rm.code, 0) << rm.err;
  EXPECT_EQ(rm.out, "removed job 42\n");
  Outcome busy = Run({"rm", "43"});
  EXPECT_EQ(busy.code, 1);
  EXPECT_EQ(busy.err, "error: job 43 is RUNNING\n");
}

TEST_F(ClientCommandsTest, ResultDownloadsAndUnpacks) {
  fs::create_directories(dir_ / "res" / "ckpt");
  std::ofstream(dir_ / "res" / "ckpt" / "model.pt") << "weights";
  std::string archive_path = (dir_ / "res.tar.gz").string();
  ASSERT_TRUE(archive::WriteArchive((dir_ / "res").string(), archive_path, archive::ArchiveFormat::kTarGz).ok());
  std::ifstream in(archive_path, std::ios::binary);
  fake_.result_archive.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());

  Outcome o = Run({"result", "42", "-o", (dir_ / "out").string()});
  ASSERT_EQ(o.code, 0) << o.err;
  std::ifstream model(dir_ / "out" / "ckpt" / "model.pt");
  std::string content((std::istreambuf_iterator<char>(model)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "weights");

  Outcome kept = Run({"result", "42", "-o", (dir_ / "kept").string(), "--archive"});
  ASSERT_EQ(kept.code, 0) << kept.err;
  EXPECT_EQ(fs::file_size(dir_ / "kept" / "job-42-result.tar.gz"), fake_.result_archive.size());

  EXPECT_EQ(Run({"result", "42", "-o", (dir_ / "x").string(), "--format", "rar"}).code, 2);
}

TEST_F(ClientCommandsTest, MetricsTableAndPoints) {
  Outcome o = Run({"metrics", "42"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out,
            "NAME  COUNT  STEP  LAST  MIN   MAX\n"
            "loss  1000   999   0.5   0.25  2.5\n"
            "acc   3      2     0.75  0.1   0.75\n");
  Outcome points = Run({"metrics", "42", "--name", "loss", "--points", "3"});
  ASSERT_EQ(points.code, 0) << points.err;
  EXPECT_EQ(fake_.metrics_query.find("name")->second, "loss");
  EXPECT_EQ(fake_.metrics_query.find("points")->second, "3");
  EXPECT_NE(points.out.find("STEP  loss\n0     2.5\n"), std::string::npos) << points.out;
}

TEST_F(ClientCommandsTest, TopShowsSlotsRunningAndQueue) {
  Outcome o = Run({"top"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_TRUE(o.out.starts_with("CPU 3/8 used   GPU 1/2 used   1 running, 1 queued\n")) << o.out;
  EXPECT_NE(o.out.find("0    NVIDIA H200  150G    43\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("43  train-43  alice  RUNNING  1gpu 2cpu 4G  2m"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("waiting for 1 GPU"), std::string::npos) << o.out;
  Outcome watch = Run({"top", "--watch"});  // two rounds in this environment
  ASSERT_EQ(watch.code, 0) << watch.err;
  EXPECT_EQ(watch.out, o.out + "\n" + o.out);
}

TEST_F(ClientCommandsTest, TokenCreate) {
  Outcome o = Run({"token", "create", "--user", "bob", "--admin"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "stk_new\n");
  EXPECT_EQ(Run({"token"}).code, 2);
}

TEST_F(ClientCommandsTest, LoginSavesConfigThatLaterCommandsUse) {
  env_vars_.clear();
  Outcome bad = Run({"login", "--url", fake_.url(), "--token", "wrong"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_FALSE(fs::exists(dir_ / "config" / "config.json"));

  std::ofstream(dir_ / "token.txt") << "tok\n";
  Outcome o = Run({"login", "--url", fake_.url(), "--token-file", (dir_ / "token.txt").string()});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("as alice"), std::string::npos) << o.out;
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "config" / "config.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  Outcome who = Run({"whoami"});
  ASSERT_EQ(who.code, 0) << who.err;
  EXPECT_EQ(who.out, "alice at " + fake_.url() + "\n");
  // A flag still beats the saved file.
  EXPECT_EQ(Run({"whoami", "--token", "wrong"}).code, 1);
}

}  // namespace
}  // namespace stoke::cli
