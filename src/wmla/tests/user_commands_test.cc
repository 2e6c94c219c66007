#include "wmla/user_commands.h"

#include <gtest/gtest.h>

#include <sstream>

#include "wmla/tests/test_server.h"
#include "wmla/user_store.h"

namespace stoke::wmla {
namespace {

class FixedClock : public Clock {
 public:
  UnixMillis NowMillis() const override { return 1'900'000'000'000; }
  std::chrono::steady_clock::time_point SteadyNow() const override { return {}; }
};

class UserCommandsTest : public ::testing::Test {
 protected:
  // Runs `stoke <args...>` against the test server with `stdin_text` as the password input.
  int Run(std::vector<std::string> args, const std::string& stdin_text = "", const std::string& token = "") {
    out_.str("");
    err_.str("");
    auto env = std::make_shared<cli::ClientEnvironment>();
    env->out = &out_;
    env->err = &err_;
    std::map<std::string, std::string> vars = {{"STOKE_URL", s.Url()},
                                               {"STOKE_TOKEN", token.empty() ? s.admin_token : token}};
    env->env = [vars](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    env->config_path = (s.dir / "no-config.json").string();
    env->clock = std::make_shared<FixedClock>();
    std::istringstream input(stdin_text);
    CLI::App app{"stoke"};
    app.require_subcommand(1);
    RegisterUserCommands(app, env, &input);
    args.insert(args.begin(), "stoke");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return cli::RunCli(app, static_cast<int>(argv.size()), argv.data(), out_, err_);
  }

  testing::TestServer s{::testing::UnitTest::GetInstance()->current_test_info()->name()};
  std::ostringstream out_, err_;
};

TEST_F(UserCommandsTest, CreateListAndChangePasswords) {
  ASSERT_EQ(Run({"user", "create", "dana", "--admin", "--password-stdin"}, "dana-password\n"), 0) << err_.str();
  EXPECT_EQ(out_.str(), "created user dana (admin)\n");
  UserStore users(*s.store, s.clock);
  EXPECT_TRUE(users.Verify("dana", "dana-password"));

  ASSERT_EQ(Run({"user", "ls"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("dana"), std::string::npos);
  EXPECT_NE(out_.str().find("yes"), std::string::npos);
  ASSERT_EQ(Run({"user", "ls", "--json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(out_.str())["users"][0]["user"], "dana");

  ASSERT_EQ(Run({"user", "passwd", "dana"}, "another-password\n"), 0) << err_.str();
  EXPECT_TRUE(users.Verify("dana", "another-password"));
  EXPECT_FALSE(users.Verify("dana", "dana-password"));
}

TEST_F(UserCommandsTest, ErrorsComeBackWithTheField) {
  EXPECT_EQ(Run({"user", "create", "erin", "--password-stdin"}, "short\n"), 1);
  EXPECT_NE(err_.str().find("password"), std::string::npos) << err_.str();
  EXPECT_EQ(Run({"user", "passwd", "nobody"}, "long enough pw\n"), 1);
  EXPECT_NE(err_.str().find("no user nobody"), std::string::npos) << err_.str();
  EXPECT_EQ(Run({"user"}), 2);
}

}  // namespace
}  // namespace stoke::wmla
