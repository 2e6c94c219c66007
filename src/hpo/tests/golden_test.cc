// Golden transcripts: every method, driven by the scripted world with a fixed seed, must produce
// exactly the checked-in event/action transcript. To regenerate after an intended change:
//   STOKE_UPDATE_GOLDEN=1 ./hpo_test --gtest_filter='Golden*'
// and review the diff of src/hpo/tests/golden/ before committing.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "hpo/tests/script_world.h"

namespace stoke::hpo {
namespace {

using testing::MixedCurve;
using testing::MixedSpace;
using testing::ScriptWorld;
using testing::WorldOptions;

struct GoldenCase {
  std::string name;
  ExperimentConfig config;
  WorldOptions world;
};

std::vector<GoldenCase> Cases() {
  std::vector<GoldenCase> cases;
  auto base = [] {
    ExperimentConfig c;
    c.space = MixedSpace();
    c.seed = 20240611;
    c.budget.max_trials = 14;
    c.budget.max_parallel = 3;
    c.budget.max_retries = 1;
    c.tpe.n_startup_trials = 5;
    c.gp.n_startup_trials = 5;
    c.gp.n_candidates = 64;
    return c;
  };
  WorldOptions sf;  // single fidelity: 3 reports per trial, trial 2 fails once
  sf.fail_modulo = 5;
  sf.fail_remainder = 2;
  {
    GoldenCase g{"grid", base(), sf};
    g.config.sampler = SamplerKind::kGrid;
    cases.push_back(g);
  }
  {
    GoldenCase g{"random", base(), sf};
    g.config.sampler = SamplerKind::kRandom;
    cases.push_back(g);
  }
  {
    GoldenCase g{"tpe", base(), sf};
    g.config.sampler = SamplerKind::kTpe;
    g.config.budget.direction = Direction::kMaximize;  // exercises the sign flip
    cases.push_back(g);
  }
  {
    GoldenCase g{"tpe_multivariate", base(), sf};
    g.config.sampler = SamplerKind::kTpe;
    g.config.tpe.multivariate = true;
    cases.push_back(g);
  }
  {
    GoldenCase g{"gp", base(), sf};
    g.config.sampler = SamplerKind::kGp;
    g.config.budget.max_trials = 9;
    cases.push_back(g);
  }
  WorldOptions mf;  // multi-fidelity: a report per resource unit
  mf.fail_modulo = 7;
  mf.fail_remainder = 4;
  {
    GoldenCase g{"asha", base(), mf};
    g.config.sampler = SamplerKind::kRandom;
    g.config.method = MethodKind::kAsha;
    g.config.budget.max_trials = 20;
    g.config.halving = {1, 9, 3, 1};
    cases.push_back(g);
  }
  {
    GoldenCase g{"hyperband_tpe", base(), mf};
    g.config.sampler = SamplerKind::kTpe;
    g.config.method = MethodKind::kHyperband;
    g.config.budget.max_trials = 24;
    g.config.halving = {1, 9, 3, 0};
    cases.push_back(g);
  }
  {
    GoldenCase g{"median_stopping", base(), mf};
    g.config.sampler = SamplerKind::kRandom;
    g.config.budget.max_trials = 12;
    g.config.budget.max_resource = 6;
    g.config.median_stopping = MedianStoppingOptions{3, 2, 1};
    cases.push_back(g);
  }
  return cases;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string RunTranscript(const GoldenCase& g) {
  auto searcher = Searcher::Create(g.config);
  EXPECT_TRUE(searcher.has_value()) << searcher.error().ToString();
  if (!searcher) return "";
  ScriptWorld world(MixedCurve, g.world);
  Status st = world.Run(*searcher);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return world.TranscriptText();
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, TranscriptMatchesGoldenFile) {
  const GoldenCase& g = GetParam();
  const std::string transcript = RunTranscript(g);
  const std::string path = std::string(STOKE_HPO_GOLDEN_DIR) + "/" + g.name + ".txt";
  if (std::getenv("STOKE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << transcript;
    GTEST_SKIP() << "rewrote " << path;
  }
  const std::string expected = ReadFile(path);
  ASSERT_FALSE(expected.empty()) << "missing golden file " << path;
  EXPECT_EQ(transcript, expected) << "transcript of '" << g.name << "' changed; see the comment at the top";
}

TEST_P(GoldenTest, RestoreMidRunGivesTheSameTranscript) {
  const GoldenCase& g = GetParam();
  const std::string straight = RunTranscript(g);
  // Same run, but the searcher is snapshotted, destroyed and restored before every 7th event.
  auto searcher = Searcher::Create(g.config);
  ASSERT_TRUE(searcher.has_value());
  ScriptWorld world(MixedCurve, g.world);
  int restores = 0;
  Status st = world.Run(*searcher, [&](int k) -> Status {
    if (k % 7 != 3) return Status::Ok();
    STOKE_ASSIGN_OR_RETURN(std::string snap, (*searcher)->Snapshot());
    searcher->reset();
    STOKE_ASSIGN_OR_RETURN(*searcher, Searcher::Restore(g.config, snap));
    STOKE_ASSIGN_OR_RETURN(std::string again, (*searcher)->Snapshot());
    if (again != snap) return Status::Internal("restored snapshot differs");
    ++restores;
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_GT(restores, 3);
  EXPECT_EQ(world.TranscriptText(), straight);
}

TEST_P(GoldenTest, IdenticalHistoriesGiveByteIdenticalSnapshots) {
  const GoldenCase& g = GetParam();
  std::string snaps[2];
  for (std::string& snap : snaps) {
    auto searcher = Searcher::Create(g.config);
    ASSERT_TRUE(searcher.has_value());
    ScriptWorld world(MixedCurve, g.world);
    ASSERT_TRUE(world.Run(*searcher).ok());
    auto s = (*searcher)->Snapshot();
    ASSERT_TRUE(s.has_value());
    snap = *s;
  }
  EXPECT_EQ(snaps[0], snaps[1]);
  EXPECT_GT(snaps[0].size(), 100u);
}

INSTANTIATE_TEST_SUITE_P(Methods, GoldenTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) { return info.param.name; });

}  // namespace
}  // namespace stoke::hpo
