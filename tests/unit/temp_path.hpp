// A file path under the test's temp dir, unique to the process, removed when the test ends (the
// unit tests ran clean but left their config, ack and metrics files in /tmp).
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

struct TempPath {
  std::string path;
  explicit TempPath(const std::string& name)
      : path(::testing::TempDir() + "/" + std::to_string(::getpid()) + "_" + name) {}
  ~TempPath() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
};
