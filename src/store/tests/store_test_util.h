#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/job.h"
#include "store/store.h"

namespace stoke::store::testing {

// A fresh temporary directory per test, removed afterwards. Not thread-safe (fixture).
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "stoke_store_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "stoke.db").string();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Store& OpenStore() {
    store_.reset();
    auto opened = Store::Open(Options{.path = path_});
    EXPECT_TRUE(opened.has_value()) << opened.error().ToString();
    store_ = std::move(*opened);
    return *store_;
  }

  static Job MakeJob(std::string user, std::string name, JobState state = JobState::kQueued) {
    Job job;
    job.user = std::move(user);
    job.spec.name = std::move(name);
    job.spec.argv = {"python", "train.py", "--lr", "0.1"};
    job.state = state;
    job.created_at = 1700000000000;
    return job;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

}  // namespace stoke::store::testing
