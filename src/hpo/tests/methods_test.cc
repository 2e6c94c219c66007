#include <gtest/gtest.h>

#include "hpo/methods/successive_halving_search.h"
#include "hpo/searcher.h"
#include "hpo/tests/script_world.h"

namespace stoke::hpo {
namespace {

SearchSpace OneFloat() { return SearchSpace{{ParamSpec::Float("x", 0, 1)}}; }

ExperimentConfig RandomConfig(int max_trials, int max_parallel) {
  ExperimentConfig c;
  c.space = OneFloat();
  c.seed = 11;
  c.sampler = SamplerKind::kRandom;
  c.budget.max_trials = max_trials;
  c.budget.max_parallel = max_parallel;
  return c;
}

std::vector<CreateTrial> Creates(const std::vector<Action>& actions) {
  std::vector<CreateTrial> out;
  for (const Action& a : actions) {
    if (const auto* c = std::get_if<CreateTrial>(&a)) out.push_back(*c);
  }
  return out;
}

std::vector<TrialId> Stops(const std::vector<Action>& actions) {
  std::vector<TrialId> out;
  for (const Action& a : actions) {
    if (const auto* s = std::get_if<StopTrial>(&a)) out.push_back(s->trial);
  }
  return out;
}

bool HasShutdown(const std::vector<Action>& actions) {
  for (const Action& a : actions) {
    if (std::holds_alternative<Shutdown>(a)) return true;
  }
  return false;
}

std::vector<Action> Must(Result<std::vector<Action>> r) {
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  return r ? *r : std::vector<Action>{};
}

TEST(SingleFidelitySearchTest, KeepsMaxParallelInFlightAndShutsDownAfterTheLast) {
  auto s = *Searcher::Create(RandomConfig(5, 2));
  auto first = Must(s->Start());
  ASSERT_EQ(Creates(first).size(), 2u);
  EXPECT_EQ(Creates(first)[0].trial, 0);
  EXPECT_EQ(Creates(first)[1].trial, 1);
  EXPECT_TRUE(Must(s->OnEvent(ValidationReported{0, 1, 0.5})).empty());
  auto next = Must(s->OnEvent(TrialExited{0, ExitReason::kCompleted}));
  ASSERT_EQ(Creates(next).size(), 1u);
  EXPECT_EQ(Creates(next)[0].trial, 2);
  EXPECT_DOUBLE_EQ(s->Progress(), 0.2);
  for (TrialId id : {1, 2}) Must(s->OnEvent(TrialExited{id, ExitReason::kCompleted}));  // creates 3, 4
  EXPECT_EQ(s->history().size(), 5u);
  EXPECT_FALSE(HasShutdown(Must(s->OnEvent(TrialExited{3, ExitReason::kCompleted}))));
  auto last = Must(s->OnEvent(TrialExited{4, ExitReason::kCompleted}));
  EXPECT_TRUE(Creates(last).empty());
  ASSERT_TRUE(HasShutdown(last));
  EXPECT_FALSE(std::get<Shutdown>(last.back()).failure);
  EXPECT_EQ(s->Progress(), 1.0);
  EXPECT_EQ(*s->BestTrial(), 0);  // the only trial with a value
}

TEST(SingleFidelitySearchTest, RetriesFailedTrialsWithTheSameParamsThenGivesUp) {
  ExperimentConfig c = RandomConfig(2, 1);
  c.budget.max_retries = 2;
  auto s = *Searcher::Create(c);
  const CreateTrial t0 = Creates(Must(s->Start()))[0];
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto retry = Creates(Must(s->OnEvent(TrialExited{0, ExitReason::kFailed})));
    ASSERT_EQ(retry.size(), 1u);
    EXPECT_EQ(retry[0].trial, 0);
    EXPECT_EQ(retry[0].attempt, attempt);
    EXPECT_EQ(retry[0].params, t0.params);
  }
  auto after = Creates(Must(s->OnEvent(TrialExited{0, ExitReason::kFailed})));  // out of retries
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].trial, 1);  // the experiment goes on
  EXPECT_EQ(s->history().Find(0)->state, TrialState::kFailed);
  Must(s->OnEvent(ValidationReported{1, 3, 0.25}));
  auto end = Must(s->OnEvent(TrialExited{1, ExitReason::kCompleted}));
  ASSERT_TRUE(HasShutdown(end));
  EXPECT_FALSE(std::get<Shutdown>(end.back()).failure);
}

TEST(SingleFidelitySearchTest, AllTrialsFailingEndsWithAFailureShutdown) {
  auto s = *Searcher::Create(RandomConfig(2, 2));
  Must(s->Start());
  Must(s->OnEvent(TrialExited{0, ExitReason::kFailed}));
  auto end = Must(s->OnEvent(TrialExited{1, ExitReason::kFailed}));
  ASSERT_TRUE(HasShutdown(end));
  EXPECT_TRUE(std::get<Shutdown>(end.back()).failure);
}

TEST(SingleFidelitySearchTest, RejectsBadEventsWithoutChangingState) {
  auto s = *Searcher::Create(RandomConfig(3, 1));
  auto before_start = s->OnEvent(TrialExited{0, ExitReason::kCompleted});
  ASSERT_FALSE(before_start.has_value());
  EXPECT_EQ(before_start.error().code(), StatusCode::kFailedPrecondition);
  Must(s->Start());
  EXPECT_FALSE(s->Start().has_value());
  const std::string snap = *s->Snapshot();
  auto unknown = s->OnEvent(ValidationReported{42, 1, 0.0});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*s->Snapshot(), snap);
  // Late or duplicate events are harmless.
  Must(s->OnEvent(TrialExited{0, ExitReason::kCompleted}));
  EXPECT_TRUE(Must(s->OnEvent(TrialExited{0, ExitReason::kCompleted})).empty());
  EXPECT_TRUE(Must(s->OnEvent(ValidationReported{0, 5, 1.0})).empty());
  EXPECT_TRUE(s->history().Find(0)->reports.empty());
}

TEST(SingleFidelitySearchTest, GridStopsWhenTheSpaceIsExhausted) {
  ExperimentConfig c = RandomConfig(100, 2);
  c.sampler = SamplerKind::kGrid;
  c.space = SearchSpace{{ParamSpec::Categorical("c", {"a", "b", "c"})}};
  auto s = *Searcher::Create(c);
  EXPECT_EQ(Creates(Must(s->Start())).size(), 2u);
  EXPECT_EQ(Creates(Must(s->OnEvent(TrialExited{0, ExitReason::kCompleted}))).size(), 1u);
  EXPECT_TRUE(Creates(Must(s->OnEvent(TrialExited{1, ExitReason::kCompleted}))).empty());
  auto end = Must(s->OnEvent(TrialExited{2, ExitReason::kCompleted}));
  ASSERT_TRUE(HasShutdown(end));
  EXPECT_EQ(std::get<Shutdown>(end.back()).reason, "search space exhausted");
}

ExperimentConfig AshaConfig(int max_trials, int max_parallel) {
  ExperimentConfig c = RandomConfig(max_trials, max_parallel);
  c.method = MethodKind::kAsha;
  c.halving = {1, 9, 3, 1};  // rungs at 1 and 3, completion at 9
  return c;
}

TEST(AshaSearchTest, PromotesTheTopThirdOfEachRungAsynchronously) {
  auto s = *Searcher::Create(AshaConfig(20, 9));
  auto first = Creates(Must(s->Start()));
  ASSERT_EQ(first.size(), 9u);
  for (const CreateTrial& c : first) EXPECT_EQ(c.max_resource, 9);
  // Rung 0 (resource 1): losses arrive in this order. A trial continues when fewer than
  // max(1, n/3) recorded values are better.
  const double losses[] = {5, 4, 6, 3, 7, 8, 1, 9, 2};
  const bool continues[] = {true, true, false, true, false, false, true, false, true};
  // n:                      1     2     3      4     5      6      7     8      9
  // keep = max(1, n/3):     1     1     1      1     1      2      2     2      3
  // better:                 0     0     2      0     4      5      0     7      1
  for (int i = 0; i < 9; ++i) {
    auto actions = Must(s->OnEvent(ValidationReported{i, 1, losses[i]}));
    EXPECT_EQ(Stops(actions).empty(), continues[i]) << "trial " << i;
  }
  // A report past several rungs records it in each: trial 6 (loss 1) jumps to resource 4.
  EXPECT_TRUE(Stops(Must(s->OnEvent(ValidationReported{6, 4, 1.0}))).empty());
  // Trial 1 reaches rung 1 with a worse value than trial 6: 1 of 2 better, keep 1 -> stopped.
  EXPECT_EQ(Stops(Must(s->OnEvent(ValidationReported{1, 3, 3.5}))), std::vector<TrialId>{1});
  // Reports at the final resource are not a rung: nothing is stopped there.
  EXPECT_TRUE(Stops(Must(s->OnEvent(ValidationReported{6, 9, 0.5}))).empty());
  // Stopped trials exit as pruned and free their slot for a new trial.
  auto refill = Creates(Must(s->OnEvent(TrialExited{1, ExitReason::kPruned})));
  ASSERT_EQ(refill.size(), 1u);
  EXPECT_EQ(refill[0].trial, 9);
  EXPECT_EQ(s->history().Find(1)->state, TrialState::kPruned);
}

TEST(AshaSearchTest, MaximizeFlipsTheRanking) {
  ExperimentConfig c = AshaConfig(4, 2);
  c.budget.direction = Direction::kMaximize;
  auto s = *Searcher::Create(c);
  Must(s->Start());
  EXPECT_TRUE(Stops(Must(s->OnEvent(ValidationReported{0, 1, 0.9}))).empty());
  EXPECT_EQ(Stops(Must(s->OnEvent(ValidationReported{1, 1, 0.1}))), std::vector<TrialId>{1});
}

TEST(HyperbandSearchTest, BracketsRungsAndInterleavedAssignment) {
  SuccessiveHalvingOptions o{1, 27, 3, 0};
  BudgetOptions b;
  b.max_trials = 100;
  b.max_parallel = 100;
  SuccessiveHalvingSearch hb(std::make_unique<RandomSampler>(), b, o);
  ASSERT_EQ(hb.num_brackets(), 4u);
  EXPECT_EQ(hb.rung_resources(0), (std::vector<int64_t>{1, 3, 9}));
  EXPECT_EQ(hb.rung_resources(1), (std::vector<int64_t>{3, 9}));
  EXPECT_EQ(hb.rung_resources(2), (std::vector<int64_t>{9}));
  EXPECT_TRUE(hb.rung_resources(3).empty());
  const SearchSpace space = OneFloat();
  Rng rng(1);
  SearchContext ctx{rng, space};
  auto actions = Must(hb.Start(ctx));
  ASSERT_EQ(actions.size(), 100u);
  // Weights ceil(4 * 3^s / (s + 1)) for s = 3..0: 27, 12, 6, 4 (49 in all).
  int count[4] = {0, 0, 0, 0};
  for (TrialId t = 0; t < 100; ++t) ++count[hb.bracket_of(t)];
  EXPECT_NEAR(count[0], 100.0 * 27 / 49, 1.0);
  EXPECT_NEAR(count[1], 100.0 * 12 / 49, 1.0);
  EXPECT_NEAR(count[2], 100.0 * 6 / 49, 1.0);
  EXPECT_NEAR(count[3], 100.0 * 4 / 49, 1.0);
  // The first four trials go to four different brackets (interleaved, not sequential).
  std::set<int> first{hb.bracket_of(0), hb.bracket_of(1), hb.bracket_of(2), hb.bracket_of(3)};
  EXPECT_GE(first.size(), 3u);
}

TEST(MedianStoppingTest, StopsTrialsWorseThanTheMedianAfterWarmup) {
  ExperimentConfig c = RandomConfig(10, 4);
  c.budget.max_resource = 5;
  c.median_stopping = MedianStoppingOptions{2, 2, 1};
  auto s = *Searcher::Create(c);
  Must(s->Start());  // trials 0..3
  // Trials 0 and 1 complete with curves 1.0 and 2.0 at every step.
  for (int64_t r = 1; r <= 5; ++r) {
    Must(s->OnEvent(ValidationReported{0, r, 1.0}));
    Must(s->OnEvent(ValidationReported{1, r, 2.0}));
  }
  Must(s->OnEvent(TrialExited{0, ExitReason::kCompleted}));
  Must(s->OnEvent(TrialExited{1, ExitReason::kCompleted}));
  // Trial 2 is bad but still in warm-up at resource 1; trial 3 is good.
  EXPECT_TRUE(Stops(Must(s->OnEvent(ValidationReported{2, 1, 9.0}))).empty());
  EXPECT_TRUE(Stops(Must(s->OnEvent(ValidationReported{3, 2, 0.5}))).empty());
  // At resource 2 trial 2's best (9) is worse than the median of {1, 2, 0.5} = 1.
  auto stop = Must(s->OnEvent(ValidationReported{2, 2, 8.0}));
  ASSERT_EQ(Stops(stop), std::vector<TrialId>{2});
  EXPECT_NE(std::get<StopTrial>(stop.back()).reason.find("median"), std::string::npos);
  // A failure after the stop counts as the stop: no retry, the slot is refilled.
  auto after = Must(s->OnEvent(TrialExited{2, ExitReason::kFailed}));
  EXPECT_EQ(s->history().Find(2)->state, TrialState::kPruned);
  EXPECT_EQ(Creates(after).size(), 1u);
}

TEST(SearcherTest, ConfigValidationNamesTheField) {
  ExperimentConfig c = RandomConfig(0, 1);
  EXPECT_EQ(Searcher::Create(c).error().field(), "budget.max_trials");
  c = RandomConfig(5, 0);
  EXPECT_EQ(Searcher::Create(c).error().field(), "budget.max_parallel");
  c = AshaConfig(5, 1);
  c.halving.eta = 1;
  EXPECT_EQ(Searcher::Create(c).error().field(), "halving.eta");
  c = RandomConfig(5, 1);
  c.sampler = SamplerKind::kGrid;  // x is continuous without grid_points
  EXPECT_EQ(Searcher::Create(c).error().field(), "x.grid_points");
  c = RandomConfig(5, 1);
  c.space.params[0].low = 3;
  EXPECT_EQ(Searcher::Create(c).error().field(), "x.min");
  c = RandomConfig(5, 1);
  c.sampler = SamplerKind::kTpe;
  c.tpe.gamma = 0;
  EXPECT_EQ(Searcher::Create(c).error().field(), "tpe.gamma");
}

TEST(SearcherTest, RestoreRejectsForeignSnapshots) {
  auto s = *Searcher::Create(RandomConfig(3, 1));
  Must(s->Start());
  const std::string snap = *s->Snapshot();
  ExperimentConfig other = RandomConfig(3, 1);
  other.seed = 12;
  EXPECT_FALSE(Searcher::Restore(other, snap).has_value());
  EXPECT_FALSE(Searcher::Restore(AshaConfig(3, 1), snap).has_value());
  EXPECT_FALSE(Searcher::Restore(RandomConfig(3, 1), snap.substr(0, snap.size() / 2)).has_value());
  EXPECT_FALSE(Searcher::Restore(RandomConfig(3, 1), "garbage").has_value());
  EXPECT_TRUE(Searcher::Restore(RandomConfig(3, 1), snap).has_value());
}

}  // namespace
}  // namespace stoke::hpo
