#pragma once
// Small tools shared by the core tests: lifetime counters, awaitables that expose or park the
// calling coroutine, and a stopwatch.
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <system_error>

#include "torsion/core/task.hpp"

// g++ (12 here) turns symmetric transfer into a real tail call only with sibling-call optimisation
// (-O2, or -foptimize-sibling-calls) and without ASan's stack instrumentation; otherwise every
// co_await of a synchronously completing task grows the native stack. The deep-chain tests are
// hidden (reported as a known problem) in the builds where that is the case; define
// TORSION_TEST_EXPECT_TAIL_CALLS when the build forces the tail call (-foptimize-sibling-calls, and
// --param asan-stack=0 under ASan) to run them anyway.
#if defined(__GNUC__) && !defined(__clang__) && !defined(TORSION_TEST_EXPECT_TAIL_CALLS) && \
    defined(__SANITIZE_ADDRESS__)
// g++ cannot make the tail call under ASan's stack instrumentation (the library's public
// -foptimize-sibling-calls covers every other g++ build); clang always can.
#define CORE_TEST_DEEP_TRANSFER_TAGS "[.gcc-asan-no-tail-calls]"
#else
#define CORE_TEST_DEEP_TRANSFER_TAGS ""
#endif

namespace core_test {

// The native stack position of the caller's frame; tasks use it to tell whether resumption by
// symmetric transfer left the stack where it was.
[[gnu::noinline]] inline std::uintptr_t stack_position() noexcept {
  return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

// Counts live instances, so a test can tell that a coroutine frame destroyed its parameters and locals.
struct tracked {
  static inline int live = 0;
  tracked() noexcept { ++live; }
  tracked(const tracked&) noexcept { ++live; }
  tracked(tracked&&) noexcept { ++live; }
  tracked& operator=(const tracked&) = default;
  tracked& operator=(tracked&&) = default;
  ~tracked() { --live; }
};

// Sets a flag when destroyed: placed in a coroutine body, it tells whether the frame was torn down.
struct set_on_destroy {
  bool* flag;
  ~set_on_destroy() { *flag = true; }
};

// Never suspends; yields the handle of whoever awaits the calling task (for a top-level task under
// sync_wait, that is sync_wait's own driver frame). Tests use it to clean up after a sync_wait that
// gave up on a suspended task.
struct continuation_of_self {
  std::coroutine_handle<> continuation{};
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    continuation = h.promise().continuation;
    return false;
  }
  std::coroutine_handle<> await_resume() const noexcept { return continuation; }
};

// Suspends for good: nothing will ever resume it.
struct suspend_forever {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept {}
};

struct stopwatch {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::chrono::duration<double> elapsed() const { return std::chrono::steady_clock::now() - start; }
};

}  // namespace core_test
