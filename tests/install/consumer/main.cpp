// A downstream program built against an installed Torsion: one no-op round trip through io_uring.
#include <cstdio>
#include <exception>
#include <torsion/io/ops.hpp>
#include <torsion/io/proactor.hpp>

namespace {

torsion::task<int> round_trip() {
  auto r = co_await torsion::nop();
  if (!r) {
    std::fprintf(stderr, "nop failed: %s\n", r.error().message().c_str());
    co_return 1;
  }
  co_return 0;
}

}  // namespace

int main() {
  try {
    torsion::proactor px;
    const int rc = px.run(round_trip());
    if (rc == 0) std::puts("consumer: nop round trip ok");
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
