#include "hpo/search_space.h"

#include <gtest/gtest.h>

#include <cmath>

namespace stoke::hpo {
namespace {

Status ValidateOne(ParamSpec spec) { return Validate(SearchSpace{{std::move(spec)}}); }

void ExpectInvalid(const Status& st, const std::string& field, const std::string& message_part) {
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(st.field(), field) << st.ToString();
  EXPECT_NE(st.message().find(message_part), std::string::npos) << st.ToString();
}

TEST(SearchSpaceTest, AcceptsEveryKind) {
  SearchSpace s{{ParamSpec::Float("lr", 1e-5, 1, Scale::kLog), ParamSpec::Float("m", 0, 1, Scale::kLinear, 0.1),
                 ParamSpec::Int("units", 16, 512, Scale::kLog), ParamSpec::Int("k", 1, 9, Scale::kLinear, 2),
                 ParamSpec::Categorical("opt", {"sgd", "adam"}), ParamSpec::Categorical("bs", {int64_t{32}, 64.5}),
                 ParamSpec::Fixed("epochs", int64_t{10})}};
  EXPECT_TRUE(Validate(s).ok()) << Validate(s).ToString();
}

TEST(SearchSpaceTest, ValidationErrorsNameTheField) {
  ExpectInvalid(Validate(SearchSpace{}), "params", "no parameters");
  ExpectInvalid(ValidateOne(ParamSpec::Float("lr", 2, 1)), "lr.min", "greater than max");
  ExpectInvalid(ValidateOne(ParamSpec::Float("lr", 0, 1, Scale::kLog)), "lr.min", "log scale needs min > 0");
  ExpectInvalid(ValidateOne(ParamSpec::Int("n", -3, 5, Scale::kLog)), "n.min", "log scale");
  ExpectInvalid(ValidateOne(ParamSpec::Float("m", 0, 1, Scale::kLinear, 0.0)), "m.step", "step must be > 0");
  ExpectInvalid(ValidateOne(ParamSpec::Float("m", 0, 1, Scale::kLinear, -1.0)), "m.step", "step must be > 0");
  ExpectInvalid(ValidateOne(ParamSpec::Int("k", 0, 10, Scale::kLinear, 0)), "k.step", "step must be > 0");
  ExpectInvalid(ValidateOne(ParamSpec::Categorical("opt", {})), "opt.choices", "empty");
  ExpectInvalid(ValidateOne(ParamSpec::Categorical("opt", {"a", "a"})), "opt.choices", "duplicate choice 'a'");
  ExpectInvalid(Validate(SearchSpace{{ParamSpec::Float("x", 0, 1), ParamSpec::Int("x", 0, 1)}}), "x",
                "duplicate parameter name 'x'");
  ParamSpec frac = ParamSpec::Int("n", 0, 5);
  frac.high = 5.5;
  ExpectInvalid(ValidateOne(frac), "n.max", "not an integer");
  ParamSpec grid = ParamSpec::Float("g", 0, 1);
  grid.grid_points = 1;
  ExpectInvalid(ValidateOne(grid), "g.grid_points", ">= 2");
  ExpectInvalid(ValidateOne(ParamSpec::Float("x", 0, INFINITY)), "x.max", "finite");
}

TEST(SearchSpaceTest, DecodeRoundsIntsAndStepsAndClamps) {
  const ParamSpec k = ParamSpec::Int("k", 1, 9, Scale::kLinear, 2);  // 1,3,5,7,9
  EXPECT_EQ(std::get<int64_t>(Decode(k, 3.9)), 3);
  EXPECT_EQ(std::get<int64_t>(Decode(k, 4.1)), 5);
  EXPECT_EQ(std::get<int64_t>(Decode(k, 100)), 9);
  EXPECT_EQ(InternalBounds(k).low, 0.0);
  EXPECT_EQ(InternalBounds(k).high, 10.0);
  const ParamSpec m = ParamSpec::Float("m", 0, 1, Scale::kLinear, 0.25);
  EXPECT_DOUBLE_EQ(std::get<double>(Decode(m, 0.6)), 0.5);
  EXPECT_DOUBLE_EQ(std::get<double>(Decode(m, 1.1)), 1.0);
  const ParamSpec lr = ParamSpec::Float("lr", 1e-4, 1, Scale::kLog);
  EXPECT_NEAR(std::get<double>(Decode(lr, std::log(1e-2))), 1e-2, 1e-15);
  const ParamSpec units = ParamSpec::Int("u", 16, 512, Scale::kLog);
  EXPECT_EQ(std::get<int64_t>(Decode(units, std::log(100.4))), 100);
  const ParamSpec opt = ParamSpec::Categorical("opt", {"sgd", "adam", "rms"});
  EXPECT_EQ(std::get<std::string>(Decode(opt, 1.2)), "adam");
  EXPECT_EQ(*Encode(opt, ParamValue(std::string("rms"))), 2.0);
  EXPECT_FALSE(Encode(opt, ParamValue(std::string("nope"))).has_value());
  EXPECT_FALSE(Encode(lr, ParamValue(2.0)).has_value());
  EXPECT_NEAR(*Encode(lr, ParamValue(0.01)), std::log(0.01), 1e-12);
}

TEST(SearchSpaceTest, GridValues) {
  ParamSpec lr = ParamSpec::Float("lr", 1e-3, 1e-1, Scale::kLog);
  EXPECT_FALSE(GridCount(lr).has_value());
  EXPECT_EQ(GridCount(lr).error().field(), "lr.grid_points");
  lr.grid_points = 3;
  EXPECT_EQ(*GridCount(lr), 3);
  EXPECT_EQ(std::get<double>(GridValue(lr, 0)), 1e-3);
  EXPECT_NEAR(std::get<double>(GridValue(lr, 1)), 1e-2, 1e-15);
  EXPECT_EQ(std::get<double>(GridValue(lr, 2)), 1e-1);
  const ParamSpec m = ParamSpec::Float("m", 0, 1, Scale::kLinear, 0.3);  // 0, .3, .6, .9
  EXPECT_EQ(*GridCount(m), 4);
  const ParamSpec k = ParamSpec::Int("k", 2, 10, Scale::kLinear, 4);  // 2, 6, 10
  EXPECT_EQ(*GridCount(k), 3);
  EXPECT_EQ(std::get<int64_t>(GridValue(k, 2)), 10);
}

}  // namespace
}  // namespace stoke::hpo
