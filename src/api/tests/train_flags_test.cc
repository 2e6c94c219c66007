#include "api/train_flags.h"

#include <gtest/gtest.h>

namespace stoke::api {
namespace {

using nlohmann::json;
using Flags = std::vector<std::string>;

json Base() { return json{{"model", "m.pt"}, {"data", "d.npz"}}; }

TEST(TrainFlagsTest, MapsEveryKindOfOption) {
  json train = Base();
  train["val"] = "v.npz";
  train["optimizer"] = "adamw";
  train["epochs"] = 3;
  train["weight_decay"] = 0.5;
  train["nesterov"] = true;
  train["jit_optimize"] = false;
  train["shuffle"] = false;
  train["label_column"] = "y";
  auto flags = TrainFlagsFromJson(train);
  ASSERT_TRUE(flags.has_value()) << flags.error().ToString();
  // nlohmann's object keeps keys sorted, so the order is alphabetical by key.
  EXPECT_EQ(*flags, (Flags{"--data", "d.npz", "--epochs", "3", "--label-column", "y", "--model", "m.pt", "--nesterov",
                           "--optimizer", "adamw", "--no-shuffle", "--val", "v.npz", "--weight-decay", "0.5"}));
}

TEST(TrainFlagsTest, PlaceholdersPassThroughForNumbersAndChoices) {
  json train = Base();
  train["lr"] = "{lr}";
  train["optimizer"] = "{opt}";
  train["global_batch"] = "{batch}";
  auto flags = TrainFlagsFromJson(train);
  ASSERT_TRUE(flags.has_value()) << flags.error().ToString();
  EXPECT_EQ(*flags, (Flags{"--data", "d.npz", "--global-batch", "{batch}", "--lr", "{lr}", "--model", "m.pt",
                           "--optimizer", "{opt}"}));
}

TEST(TrainFlagsTest, ErrorsNameTheField) {
  struct Case {
    json patch;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"lr", "fast"}}, "train.lr"},
      {{{"lr", -0.1}}, "train.lr"},
      {{{"epochs", 1.5}}, "train.epochs"},
      {{{"epochs", 0}}, "train.epochs"},
      {{{"optimizer", "rmsprop"}}, "train.optimizer"},
      {{{"nesterov", "yes"}}, "train.nesterov"},
      {{{"model", ""}}, "train.model"},
      {{{"modle", "x"}}, "train.modle"},
      {{{"store", "tcp://x:1"}}, "train.store"},  // the server owns the rendezvous
      {{{"output", "/tmp"}}, "train.output"},
  };
  for (const auto& c : cases) {
    json train = Base();
    train.update(c.patch);
    auto flags = TrainFlagsFromJson(train);
    ASSERT_FALSE(flags.has_value()) << train.dump();
    EXPECT_EQ(flags.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(flags.error().field(), c.field) << flags.error().ToString();
  }
  auto missing = TrainFlagsFromJson(json{{"model", "m.pt"}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().field(), "train.data");
  EXPECT_EQ(TrainFlagsFromJson(json::array()).error().field(), "train");
}

}  // namespace
}  // namespace stoke::api
