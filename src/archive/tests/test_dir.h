#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

// Test helper: a fresh scratch directory per test, removed afterwards. Not thread-safe.
namespace stoke::archive::testing {

class ScratchDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "stoke-archive-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    std::filesystem::create_directory(root_ / "in");
    std::filesystem::create_directory(root_ / "out");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string In(const std::string& name) const { return (root_ / "in" / name).string(); }
  std::string Out(const std::string& name = "dest") const { return (root_ / "out" / name).string(); }

  // Every name under out/, recursively, so a failed extraction can be shown to leave nothing.
  std::set<std::string> OutContents() const {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root_ / "out")) {
      names.insert(std::filesystem::relative(e.path(), root_ / "out").string());
    }
    return names;
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void WriteFile(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }

  std::filesystem::path root_;
};

}  // namespace stoke::archive::testing
