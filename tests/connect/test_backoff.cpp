// Backoff arithmetic. The Twisted-compatible policy is checked against the delays Twisted 22.4.0 itself produced
// (twisted-semantics §1.5 and Appendix A.01), compared exactly: the doubles are Python reprs, which round-trip.
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "torsion/connect/backoff_policy.hpp"
#include "torsion/connect/random_source.hpp"

using namespace std::chrono_literals;
using torsion::bounded_backoff;
using torsion::python_random;
using torsion::twisted_backoff;
using duration = torsion::clock_source::duration;
using time_point = torsion::clock_source::time_point;

namespace {

// Returns scripted normal draws and records the (mu, sigma) it was asked for.
class scripted_random final : public torsion::random_source {
 public:
  explicit scripted_random(std::vector<double> normals = {}) : normals_(std::move(normals)) {}
  double uniform01() override {
    FAIL("the backoff policies draw only normals");
    return 0;
  }
  double normal(double mu, double sigma) override {
    calls.emplace_back(mu, sigma);
    REQUIRE(next_ < normals_.size());
    return normals_[next_++];
  }
  std::vector<std::pair<double, double>> calls;

 private:
  std::vector<double> normals_;
  std::size_t next_ = 0;
};

constexpr time_point at(duration d) { return time_point{d}; }

// §1.5 table / A.01 (a): jitter = 0, retries 1..15.
// clang-format off
const std::vector<double> twisted_no_jitter{
    2.718281828459045, 7.3890560989306495, 20.085536923187664, 54.59815003314423, 148.41315910257657,
    403.428793492735,  1096.6331584284583, 2980.9579870417274, 3600,              3600,
    3600,              3600,               3600,               3600,              3600};
// clang-format on

}  // namespace

TEST_CASE("twisted_backoff defaults are ReconnectingClientFactory's", "[connect]") {
  const twisted_backoff p;
  CHECK(p.initial_delay == 1.0);
  CHECK(p.factor == std::exp(1.0));
  CHECK(p.jitter == 0.119626565582);
  CHECK(p.max_delay == 3600.0);
  CHECK_FALSE(p.max_retries.has_value());
  CHECK(p.delay == 1.0);
  CHECK(p.retries_count == 0);
  CHECK(p.retries() == 0);
}

TEST_CASE("twisted_backoff with jitter 0 reproduces the spec 1.5 delay table exactly", "[connect]") {
  twisted_backoff p;
  p.jitter = 0;
  scripted_random rng;
  for (std::size_t i = 0; i < twisted_no_jitter.size(); ++i) {
    INFO("retry " << i + 1);
    const auto d = p.step(rng);
    REQUIRE(d.has_value());
    CHECK(*d == twisted_no_jitter[i]);
    CHECK(p.delay == twisted_no_jitter[i]);
    CHECK(p.retries() == i + 1);
  }
  CHECK(rng.calls.empty());  // no jitter, no draw
}

TEST_CASE("twisted_backoff next_delay rounds the seconds to the nearest nanosecond", "[connect]") {
  twisted_backoff p;
  p.jitter = 0;
  scripted_random rng;
  CHECK(p.next_delay(rng, at(0s)) == duration{2718281828});  // 2.718281828459045 s
  CHECK(p.next_delay(rng, at(3s)) == duration{7389056099});  // 7.3890560989306495 s
  CHECK(p.next_delay(rng, at(11s)) == duration{20085536923});
}

TEST_CASE("twisted_backoff with python_random(12345) reproduces Twisted's seeded jitter run (A.01 c)", "[connect]") {
  // random.seed(12345) then 15 consecutive failures with the default jitter; the f.delay column.
  const std::vector<double> expected{2.671290097052824,  7.95228913484143,   20.89260756252482,  57.70970329242605,
                                     135.53998744705015, 374.12086657883657, 1034.1842195849497, 3280.9226304626677,
                                     3603.413093368324,  3799.713061865465,  3480.12496591322,   3336.5369096821314,
                                     3048.3521848445143, 3819.0060552899545, 3185.3505858599233};
  twisted_backoff p;
  python_random rng(12345);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("retry " << i + 1);
    const auto d = p.step(rng);
    REQUIRE(d.has_value());
    CHECK(*d == expected[i]);
    CHECK(p.retries() == i + 1);
  }
  // The jitter comes after the clamp, so Twisted's "max" delay is exceeded (twisted#4734, kept on purpose).
  CHECK(expected[9] > p.max_delay);
}

TEST_CASE("twisted_backoff first jittered delay over 20000 draws has mean e and relative sd 0.1196", "[connect]") {
  // A.01 (k): random.seed(1), a fresh factory per draw, ratio delay / e.
  python_random rng(1);
  std::vector<double> ratios;
  for (int i = 0; i < 20000; ++i) {
    twisted_backoff p;
    ratios.push_back(*p.step(rng) / std::exp(1.0));
  }
  double sum = 0;
  for (double r : ratios) sum += r;
  const double mean = sum / static_cast<double>(ratios.size());
  double sq = 0;
  for (double r : ratios) sq += (r - mean) * (r - mean);
  const double sd = std::sqrt(sq / static_cast<double>(ratios.size()));
  CHECK(mean == Approx(1.0).margin(0.005));
  CHECK(sd == Approx(0.119626565582).margin(0.003));
  // Same seed, same arithmetic as the Python script, so the statistics agree to rounding.
  CHECK(mean == Approx(0.9993635509074263).epsilon(1e-12));
  CHECK(sd == Approx(0.11999977028727443).epsilon(1e-9));
}

TEST_CASE("twisted_backoff with the same seed gives the same sequence", "[connect]") {
  twisted_backoff a;
  twisted_backoff b;
  python_random ra(99);
  python_random rb(99);
  for (int i = 0; i < 30; ++i) {
    const auto da = a.next_delay(ra, at(0s));
    REQUIRE(da.has_value());
    CHECK(da == b.next_delay(rb, at(0s)));
  }
  CHECK(a.delay == b.delay);
  // A different seed diverges at once.
  twisted_backoff c;
  python_random rc(100);
  twisted_backoff d;
  python_random rd(99);
  CHECK(c.step(rc) != d.step(rd));
}

TEST_CASE("twisted_backoff max_retries gives exactly that many delays - then gives up and keeps counting", "[connect]") {
  scripted_random rng;
  for (unsigned max : {0U, 1U, 3U}) {
    INFO("max_retries " << max);
    twisted_backoff p;
    p.jitter = 0;
    p.max_retries = max;
    for (unsigned i = 0; i < max; ++i) {
      const auto d = p.next_delay(rng, at(0s));
      REQUIRE(d.has_value());
      CHECK(p.delay == twisted_no_jitter[i]);
    }
    const double delay_before = p.delay;
    CHECK_FALSE(p.next_delay(rng, at(0s)).has_value());
    CHECK(p.retries() == max + 1);
    CHECK(p.delay == delay_before);  // left unchanged on giving up (A.01 d: 20.085536923187664 after 3)
    // §1.5 item 2: later failures keep incrementing retries and still schedule nothing.
    CHECK_FALSE(p.next_delay(rng, at(0s)).has_value());
    CHECK(p.retries() == max + 2);
    CHECK(p.delay == delay_before);
  }
  twisted_backoff zero;
  zero.jitter = 0;
  zero.max_retries = 0;
  CHECK_FALSE(zero.step(rng).has_value());
  CHECK(zero.delay == 1.0);  // A.01 (e)
}

TEST_CASE("twisted_backoff reset() restores initial_delay and retries - like resetDelay()", "[connect]") {
  twisted_backoff p;
  p.jitter = 0;
  p.max_retries = 3;
  scripted_random rng;
  for (int i = 0; i < 5; ++i) (void)p.step(rng);
  CHECK(p.retries() == 5);
  p.reset();
  CHECK(p.retries() == 0);
  CHECK(p.delay == 1.0);
  CHECK(p.step(rng) == twisted_no_jitter[0]);  // trying again after giving up
  // reset() copies the current initial_delay; changing initial_delay alone does not touch delay.
  p.initial_delay = 2.0;
  CHECK(p.delay == twisted_no_jitter[0]);
  p.reset();
  CHECK(p.delay == 2.0);
  CHECK(p.step(rng) == 2.0 * std::exp(1.0));
}

TEST_CASE("twisted_backoff does not reset on connected() and leaves that to the caller", "[connect]") {
  // §1.5 item 3: without resetDelay() the counter accumulates across successful connections.
  twisted_backoff p;
  p.jitter = 0;
  p.max_retries = 2;
  scripted_random rng;
  for (int i = 0; i < 2; ++i) {
    p.connected(at(10s * i));
    CHECK(p.next_delay(rng, at(10s * i + 1h)).has_value());
  }
  p.connected(at(100s));
  CHECK_FALSE(p.next_delay(rng, at(100s + 1h)).has_value());
  CHECK(p.retries() == 3);
}

TEST_CASE("twisted_backoff draws the jitter around the clamped delay and compounds it", "[connect]") {
  twisted_backoff p;
  p.max_delay = 10;
  scripted_random rng({3.0, 4.0, 12.0});
  CHECK(p.step(rng) == 3.0);
  CHECK(p.step(rng) == 4.0);
  CHECK(p.step(rng) == 12.0);  // above max_delay: the clamp came before the jitter
  REQUIRE(rng.calls.size() == 3);
  CHECK(rng.calls[0].first == std::exp(1.0));
  CHECK(rng.calls[0].second == std::exp(1.0) * p.jitter);
  CHECK(rng.calls[1].first == 3.0 * std::exp(1.0));  // grows from the jittered 3.0, not from e
  CHECK(rng.calls[1].second == 3.0 * std::exp(1.0) * p.jitter);
  CHECK(rng.calls[2].first == 10.0);  // 4.0 * e clamped to max_delay
  CHECK(rng.calls[2].second == 10.0 * p.jitter);
}

TEST_CASE("twisted_backoff turns a negative jittered delay into 0", "[connect]") {
  SECTION("scripted negative draw") {
    twisted_backoff p;
    p.jitter = 5;
    scripted_random rng({-4.0, 0.0});
    CHECK(p.step(rng) == 0.0);
    // The negative draw is not stored: the pre-jitter value keeps compounding, so no reconnect storm.
    CHECK(p.delay == Approx(2.718281828459045));
    CHECK(p.next_delay(rng, at(0s)) == duration::zero());  // the scripted second draw is 0.0 itself
    CHECK(rng.calls[1].first == Approx(2.718281828459045 * 2.718281828459045));
  }
  SECTION("large jitter with a real generator") {
    python_random rng(8714);
    int zeros = 0;
    for (int i = 0; i < 2000; ++i) {
      twisted_backoff p;
      p.jitter = 1.5;
      const auto d = p.next_delay(rng, at(0s));
      REQUIRE(d.has_value());
      CHECK(*d >= duration::zero());
      CHECK(p.delay > 0.0);
      if (*d == duration::zero()) ++zeros;
    }
    CHECK(zeros > 100);  // P(z < -1/1.5) is about 25%
  }
}

TEST_CASE("delay_from_seconds rounds to the nearest nanosecond and saturates", "[connect]") {
  using torsion::delay_from_seconds;
  CHECK(delay_from_seconds(0) == duration::zero());
  CHECK(delay_from_seconds(-1) == duration::zero());
  CHECK(delay_from_seconds(1.4e-9) == duration{1});
  CHECK(delay_from_seconds(1.6e-9) == duration{2});
  CHECK(delay_from_seconds(3600) == duration{3600s});
  CHECK(delay_from_seconds(1e300) == duration::max());
  CHECK(delay_from_seconds(std::numeric_limits<double>::infinity()) == duration::max());
  CHECK(delay_from_seconds(std::numeric_limits<double>::quiet_NaN()) == duration::max());
}

TEST_CASE("policies are usable through the interface and clone() copies their state", "[connect]") {
  std::unique_ptr<torsion::backoff_policy> p = std::make_unique<twisted_backoff>();
  python_random rng(5);
  for (int i = 0; i < 4; ++i) (void)p->next_delay(rng, at(0s));
  auto q = p->clone();
  python_random rng2 = rng;
  CHECK(q->retries() == 4);
  CHECK(p->next_delay(rng, at(0s)) == q->next_delay(rng2, at(0s)));
  q->reset();
  CHECK(q->retries() == 0);
  CHECK(p->retries() == 5);

  bounded_backoff b;
  b.reset_after = 30s;
  for (int i = 0; i < 3; ++i) (void)b.next_delay(rng, at(0s));
  b.connected(at(100s));
  auto c = b.clone();
  python_random rng3 = rng;
  // The clone carries the recorded connection too: both reset on this loss.
  CHECK(b.next_delay(rng, at(200s)) == c->next_delay(rng3, at(200s)));
  CHECK(c->retries() == 1);
}

TEST_CASE("bounded_backoff without jitter starts at initial_delay and grows by factor up to max_delay", "[connect]") {
  bounded_backoff p;
  p.jitter = 0;
  scripted_random rng;
  const std::vector<double> expected{1, 2, 4, 8, 16, 32, 60, 60, 60};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("retry " << i + 1);
    CHECK(p.step(rng) == expected[i]);
    CHECK(p.retries() == i + 1);
  }
  CHECK(rng.calls.empty());
  CHECK(p.next_delay(rng, at(0s)) == duration{60s});
}

TEST_CASE("bounded_backoff jitter is drawn around the un-jittered base and does not compound", "[connect]") {
  bounded_backoff p;
  scripted_random rng({0.5, 3.5, 100.0});
  CHECK(p.step(rng) == 0.5);
  CHECK(p.step(rng) == 3.5);
  CHECK(p.step(rng) == 60.0);  // clamped after the jitter
  REQUIRE(rng.calls.size() == 3);
  CHECK(rng.calls[0] == std::pair<double, double>{1.0, 0.1});
  CHECK(rng.calls[1] == std::pair<double, double>{2.0, 0.2});
  CHECK(rng.calls[2] == std::pair<double, double>{4.0, 0.4});
  CHECK(p.base_delay() == 4.0);
}

TEST_CASE("bounded_backoff never exceeds max_delay and is never negative", "[connect]") {
  python_random rng(60);
  SECTION("a long run at the ceiling") {
    bounded_backoff p;
    p.jitter = 0.5;
    int at_max = 0;
    int below_max = 0;
    for (int i = 0; i < 20000; ++i) {
      const auto d = p.step(rng);
      REQUIRE(d.has_value());
      REQUIRE(*d <= p.max_delay);
      REQUIRE(*d >= 0.0);
      (*d == p.max_delay ? at_max : below_max) += 1;
      REQUIRE(p.next_delay(rng, at(0s)) <= duration{60s});
    }
    CHECK(at_max > 0);
    CHECK(below_max > 0);
  }
  SECTION("fresh policies with a huge jitter") {
    int zeros = 0;
    for (int i = 0; i < 20000; ++i) {
      bounded_backoff p;
      p.jitter = 3;
      p.max_delay = 2;
      const auto d = p.step(rng);
      REQUIRE(d.has_value());
      REQUIRE(*d <= 2.0);
      REQUIRE(*d >= 0.0);
      if (*d == 0.0) ++zeros;
    }
    CHECK(zeros > 0);
  }
}

TEST_CASE("bounded_backoff max_retries and reset() behave like Twisted's", "[connect]") {
  scripted_random rng;
  for (unsigned max : {0U, 1U, 3U}) {
    INFO("max_retries " << max);
    bounded_backoff p;
    p.jitter = 0;
    p.max_retries = max;
    for (unsigned i = 0; i < max; ++i) CHECK(p.next_delay(rng, at(0s)).has_value());
    CHECK_FALSE(p.next_delay(rng, at(0s)).has_value());
    CHECK_FALSE(p.next_delay(rng, at(0s)).has_value());
    CHECK(p.retries() == max + 2);
    p.reset();
    CHECK(p.retries() == 0);
    if (max > 0) CHECK(p.step(rng) == 1.0);
  }
}

TEST_CASE("bounded_backoff resets itself after a connection that stayed up for reset_after", "[connect]") {
  bounded_backoff p;
  p.jitter = 0;
  p.reset_after = 30s;
  scripted_random rng;
  for (int i = 0; i < 4; ++i) (void)p.next_delay(rng, at(0s));
  CHECK(p.retries() == 4);

  SECTION("long enough: the loss starts over at initial_delay") {
    p.connected(at(100s));
    CHECK(p.next_delay(rng, at(130s)) == duration{1s});
    CHECK(p.retries() == 1);
    // A failed attempt afterwards continues the fresh sequence; the connection was consumed by the loss.
    CHECK(p.next_delay(rng, at(200s)) == duration{2s});
    CHECK(p.retries() == 2);
  }
  SECTION("too short: the loss counts as one more retry") {
    p.connected(at(100s));
    CHECK(p.next_delay(rng, at(130s - 1ns)) == duration{16s});
    CHECK(p.retries() == 5);
  }
  SECTION("without reset_after, connected() changes nothing") {
    p.reset_after.reset();
    p.connected(at(100s));
    CHECK(p.next_delay(rng, at(100s + 24h)) == duration{16s});
    CHECK(p.retries() == 5);
  }
  SECTION("reset_after also frees a policy that had given up") {
    p.max_retries = 4;
    CHECK_FALSE(p.next_delay(rng, at(10s)).has_value());
    p.connected(at(100s));
    CHECK(p.next_delay(rng, at(1000s)) == duration{1s});
  }
}
