#include "wmla/dlicmd_args.h"

#include <gtest/gtest.h>

namespace stoke::wmla {
namespace {

using Words = std::vector<std::string>;

TEST(TokenizeArgs, SplitsOnBlanksAndKeepsQuotedText) {
  EXPECT_EQ(*TokenizeArgs("  a  b\tc\n"), (Words{"a", "b", "c"}));
  EXPECT_EQ(*TokenizeArgs(R"(--x 'a b' "c d" e\ f)"), (Words{"--x", "a b", "c d", "e f"}));
  EXPECT_EQ(*TokenizeArgs(R"(--data-source '[{"type":"fs"}]')"), (Words{"--data-source", R"([{"type":"fs"}])"}));
  EXPECT_EQ(*TokenizeArgs(R"("say \"hi\" \\ \n")"), (Words{R"(say "hi" \ \n)"}));
  EXPECT_EQ(*TokenizeArgs(R"(a'b'"c"d)"), (Words{"abcd"}));
  EXPECT_EQ(*TokenizeArgs("''"), (Words{""}));
  EXPECT_TRUE(TokenizeArgs("")->empty());
}

TEST(TokenizeArgs, RejectsUnclosedQuotesAndTrailingBackslash) {
  for (const char* bad : {"a 'b", "a \"b", "a \\"}) {
    auto r = TokenizeArgs(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().field(), "args");
  }
}

TEST(ParseExecArgs, NotebookCommandLine) {
  auto a = ParseExecArgs(
      "--exec-start PyTorch --cs-datastore-meta type=fs,data_path=pytorch_mnist --workerDeviceNum 1 "
      "--model-main main.py --epochs 1 --lr 0.5");
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(a->framework, "PyTorch");
  EXPECT_EQ(a->model_main, "main.py");
  EXPECT_EQ(a->device_num, 1);
  EXPECT_FALSE(a->device_type);
  EXPECT_EQ(a->datastore_meta, "type=fs,data_path=pytorch_mnist");
  EXPECT_EQ(DatastoreDataPath(a->datastore_meta), "pytorch_mnist");
  EXPECT_EQ(a->user_args, (Words{"--epochs", "1", "--lr", "0.5"}));
}

TEST(ParseExecArgs, EverythingAfterDoubleDashGoesToTheScript) {
  auto a = ParseExecArgs("--exec-start distPyTorch --numWorker=3 --model-main m.py -- --numWorker 9 --model-main x");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->num_worker, 3);
  EXPECT_EQ(a->model_main, "m.py");
  EXPECT_EQ(a->user_args, (Words{"--numWorker", "9", "--model-main", "x"}));
}

TEST(ParseExecArgs, ResourcesPriorityEnvAndLegacyFlags) {
  auto a = ParseExecArgs(
      "--exec-start edtPyTorch --edt-options maxWorkers=4 --workerDeviceType cpu --workerMemory 4G --msd-priority 7 "
      "--msd-env A=1 --msd-env B=x=y --appName my-app --consumer c --model-main m.py --user-cmd -- sh -c 'exit 0'");
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(a->num_worker, 4);
  EXPECT_EQ(a->device_type, "cpu");
  EXPECT_EQ(a->worker_memory, int64_t{4} << 30);
  EXPECT_EQ(a->priority, 7);
  EXPECT_EQ(a->env, (std::map<std::string, std::string>{{"A", "1"}, {"B", "x=y"}}));
  EXPECT_EQ(a->app_name, "my-app");
  EXPECT_TRUE(a->user_cmd);
  EXPECT_EQ(a->user_args, (Words{"sh", "-c", "exit 0"}));
  EXPECT_EQ(a->ignored, (Words{"--consumer"}));
}

TEST(ParseExecArgs, ErrorsNameTheFlag) {
  struct Case {
    const char* args;
    const char* field;
  } cases[] = {
      {"--numWorker two", "args.--numWorker"},
      {"--numWorker 0", "args.--numWorker"},
      {"--numWorker", "args.--numWorker"},
      {"--model-main --", "args.--model-main"},
      {"--workerDeviceType tpu", "args.--workerDeviceType"},
      {"--workerDeviceNum -1", "args.--workerDeviceNum"},
      {"--workerMemory lots", "args.--workerMemory"},
      {"--msd-priority 5000", "args.--msd-priority"},
      {"--msd-env NOEQUALS", "args.--msd-env"},
      {"--msd-env STOKE_TOKEN=x", "args.--msd-env"},
      {"--exec-start 'PyTorch", "args"},
  };
  for (const auto& c : cases) {
    auto a = ParseExecArgs(c.args);
    ASSERT_FALSE(a) << c.args;
    EXPECT_EQ(a.error().code(), StatusCode::kInvalidArgument) << c.args;
    EXPECT_EQ(a.error().field(), c.field) << c.args;
  }
}

TEST(ParseExecArgs, UnknownFlagsAnywhereAreTheScripts) {
  auto a = ParseExecArgs("--batch-size 64 --exec-start tensorflow --model-main t.py --epochs 2");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->framework, "tensorflow");
  EXPECT_EQ(a->user_args, (Words{"--batch-size", "64", "--epochs", "2"}));
}

}  // namespace
}  // namespace stoke::wmla
