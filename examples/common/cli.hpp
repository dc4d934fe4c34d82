#pragma once
// Minimal `--name value` argument parsing shared by the examples.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace example {

class cli {
 public:
  cli(int argc, char** argv, std::set<std::string> known) {
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if (!a.starts_with("--") || i + 1 >= argc || !known.count(std::string(a.substr(2)))) {
        std::fprintf(stderr, "%s: unknown or incomplete argument '%s'\n", argv[0], argv[i]);
        std::exit(2);
      }
      values_[std::string(a.substr(2))] = argv[++i];
    }
    prog_ = argv[0];
  }

  bool has(const std::string& name) const { return values_.count(name) != 0; }

  std::string str(const std::string& name, std::string fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }

  template <class T>
  T num(const std::string& name, T fallback, T lo, T hi) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    T v{};
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi) {
      std::fprintf(stderr, "%s: --%s: '%s' is not a number in range\n", prog_.c_str(), name.c_str(), s.c_str());
      std::exit(2);
    }
    return v;
  }

 private:
  std::map<std::string, std::string> values_;
  std::string prog_;
};

}  // namespace example
