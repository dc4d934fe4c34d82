#pragma once
// The error code of the std::system_error that f() throws; an empty code if it throws none.
#include <functional>
#include <system_error>

namespace torsion_test {

inline std::error_code thrown_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::system_error& e) {
    return e.code();
  }
  return {};
}

}  // namespace torsion_test
