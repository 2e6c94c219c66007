#include "cli/client_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

namespace stoke::cli {
namespace {

namespace fs = std::filesystem;

class ClientConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("stoke_cli_config_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  EnvLookup Env() {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  fs::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(ClientConfigTest, DefaultsWithNothingGiven) {
  auto c = ResolveClientConfig({.env = Env(), .config_path = (dir_ / "missing.json").string()});
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->token, "");
}

TEST_F(ClientConfigTest, FileThenEnvThenFlags) {
  std::string file = Write("config.json", R"({"url": "http://file:1", "token": "file-token"})");
  ConfigInputs in{.env = Env(), .config_path = file};
  EXPECT_EQ(ResolveClientConfig(in).value(), (ClientConfig{"http://file:1", "file-token"}));

  env_["STOKE_URL"] = "http://env:2";
  env_["STOKE_TOKEN"] = "env-token";
  EXPECT_EQ(ResolveClientConfig(in).value(), (ClientConfig{"http://env:2", "env-token"}));

  in.flag_url = "https://flag:3";
  in.flag_token = "flag-token";
  EXPECT_EQ(ResolveClientConfig(in).value(), (ClientConfig{"https://flag:3", "flag-token"}));
}

TEST_F(ClientConfigTest, EachValueResolvesOnItsOwn) {
  std::string file = Write("config.json", R"({"url": "http://file:1", "token": "file-token"})");
  env_["STOKE_URL"] = "http://env:2";
  auto c = ResolveClientConfig({.env = Env(), .config_path = file});
  EXPECT_EQ(c->url, "http://env:2");
  EXPECT_EQ(c->token, "file-token");
}

TEST_F(ClientConfigTest, EmptyEnvIsUnset) {
  std::string file = Write("config.json", R"({"url": "http://file:1", "token": "file-token"})");
  env_["STOKE_URL"] = "";
  env_["STOKE_TOKEN"] = "";
  EXPECT_EQ(ResolveClientConfig({.env = Env(), .config_path = file}).value(),
            (ClientConfig{"http://file:1", "file-token"}));
}

TEST_F(ClientConfigTest, TokenFileBeatsEnvButNotTokenFlag) {
  std::string token_file = Write("token", "  from-file\nsecond line ignored\n");
  env_["STOKE_TOKEN"] = "env-token";
  ConfigInputs in{.flag_token_file = token_file, .env = Env()};
  EXPECT_EQ(ResolveClientConfig(in)->token, "from-file");
  in.flag_token = "flag-token";
  EXPECT_EQ(ResolveClientConfig(in)->token, "flag-token");
}

TEST_F(ClientConfigTest, BadTokenFileIsAnError) {
  auto missing = ResolveClientConfig({.flag_token_file = (dir_ / "nope").string(), .env = Env()});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().field(), "token-file");
  auto empty = ResolveClientConfig({.flag_token_file = Write("empty", "\n  \n"), .env = Env()});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ClientConfigTest, NormalizesUrls) {
  EXPECT_EQ(NormalizeServerUrl("http://h:8080/").value(), "http://h:8080");
  EXPECT_EQ(NormalizeServerUrl("http://h:8080/api/v1").value(), "http://h:8080");
  EXPECT_EQ(NormalizeServerUrl("https://h/stoke/api/v1/").value(), "https://h/stoke");
  EXPECT_FALSE(NormalizeServerUrl("h:8080").has_value());
  EXPECT_FALSE(NormalizeServerUrl("ftp://h").has_value());
  EXPECT_FALSE(NormalizeServerUrl("http://").has_value());
  EXPECT_FALSE(NormalizeServerUrl("http://:80").has_value());
  env_["STOKE_URL"] = "localhost:8080";
  auto bad = ResolveClientConfig({.env = Env()});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().field(), "url");
}

TEST_F(ClientConfigTest, CaCertFromEnvThenFile) {
  std::string file = Write("config.json", R"({"url": "https://file:1", "token": "t", "ca_cert": "/etc/file-ca.pem"})");
  EXPECT_EQ(ResolveClientConfig({.env = Env(), .config_path = file})->ca_cert, "/etc/file-ca.pem");
  env_["STOKE_CA_CERT"] = "/etc/env-ca.pem";
  EXPECT_EQ(ResolveClientConfig({.env = Env(), .config_path = file})->ca_cert, "/etc/env-ca.pem");
}

TEST_F(ClientConfigTest, SaveWritesMode0600AndLoadsBack) {
  std::string path = (dir_ / "sub" / "stoke" / "config.json").string();
  ASSERT_TRUE(SaveConfigFile(path, {"http://saved:9", "secret"}).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat(fs::path(path).parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  auto loaded = LoadConfigFile(path);
  ASSERT_TRUE(loaded.has_value());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, (ClientConfig{"http://saved:9", "secret"}));
  // Overwriting keeps the mode and replaces the content.
  ASSERT_TRUE(SaveConfigFile(path, {"http://saved:10", "other"}).ok());
  EXPECT_EQ((*LoadConfigFile(path))->token, "other");
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST_F(ClientConfigTest, MalformedFileIsAnError) {
  EXPECT_FALSE(LoadConfigFile(Write("bad.json", "{not json")).has_value());
  EXPECT_FALSE(LoadConfigFile(Write("arr.json", "[]")).has_value());
  EXPECT_EQ(LoadConfigFile(Write("type.json", R"({"token": 5})")).error().field(), "token");
}

TEST_F(ClientConfigTest, DefaultPathFollowsXdgThenHome) {
  env_["HOME"] = "/home/alice";
  EXPECT_EQ(DefaultConfigPath(Env()), "/home/alice/.config/stoke/config.json");
  env_["XDG_CONFIG_HOME"] = "/xdg";
  EXPECT_EQ(DefaultConfigPath(Env()), "/xdg/stoke/config.json");
}

}  // namespace
}  // namespace stoke::cli
