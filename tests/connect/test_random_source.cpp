// python_random against CPython 3.11's `random` module. Every expected value was printed by /usr/bin/python3 with
// repr(), which round-trips, so the literals below are the exact doubles Python produced.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "torsion/connect/random_source.hpp"

using torsion::python_random;

namespace {

std::vector<double> draws(python_random& r, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(r.uniform01());
  return out;
}

}  // namespace

TEST_CASE("python_random(12345) reproduces random.seed(12345) then random.random() and normalvariate", "[connect]") {
  // random.seed(12345); [random.random() for _ in range(5)]; random.normalvariate(0, 1)
  python_random r(12345);
  CHECK(draws(r, 5) == std::vector<double>{0.41661987254534116, 0.010169169457068361, 0.8252065092537432,
                                           0.2986398551995928, 0.3684116894884757});
  CHECK(r.normal(0, 1) == -1.2109270839826218);
}

TEST_CASE("python_random seeds like random.seed(n) for one- and two-word integers", "[connect]") {
  struct row {
    std::uint64_t seed;
    std::vector<double> first3;
  };
  // Covers the key [0], one 32-bit word, the 2^32 boundary (key [0, 1]) and a full 64-bit key.
  const std::vector<row> rows{
      {0, {0.8444218515250481, 0.7579544029403025, 0.420571580830845}},
      {1, {0.13436424411240122, 0.8474337369372327, 0.763774618976614}},
      {42, {0.6394267984578837, 0.025010755222666936, 0.27502931836911926}},
      {4294967295ULL, {0.6353574441341173, 0.20319993954407756, 0.6073666030347188}},
      {4294967296ULL, {0.11299430095636409, 0.41782886486292836, 0.0166763664992291}},
      {4294967301ULL, {0.15727238718789782, 0.2824866316461999, 0.6044540318498407}},
      {18446744073709551615ULL, {0.021825695401270107, 0.3380953268613758, 0.21196748656082065}},
      {0x123456789abcdef0ULL, {0.849063363578306, 0.9649343632780897, 0.8861196598032612}},
  };
  for (const auto& [seed, first3] : rows) {
    INFO("seed " << seed);
    python_random r(seed);
    CHECK(draws(r, 3) == first3);
  }
}

TEST_CASE("python_random raw 32-bit outputs match random.getrandbits(32)", "[connect]") {
  python_random a(12345);
  CHECK(a.next_u32() == 1789368711U);
  CHECK(a.next_u32() == 3146859322U);
  CHECK(a.next_u32() == 43676229U);
  python_random b(0);
  CHECK(b.next_u32() == 3626764237U);
  CHECK(b.next_u32() == 1654615998U);
}

TEST_CASE("python_random stays identical to CPython across many state regenerations", "[connect]") {
  // random.seed(3); 100000 x random.random(); then random.random(): 200000 words, about 320 twists.
  python_random r(3);
  for (int i = 0; i < 100000; ++i) (void)r.uniform01();
  CHECK(r.uniform01() == 0.1375182466352758);
}

TEST_CASE("python_random normal() matches random.normalvariate including rejected draws", "[connect]") {
  SECTION("first draws with mu and sigma") {
    // random.seed(7); [random.normalvariate(10, 3) for _ in range(6)]
    python_random r(7);
    const std::vector<double> expected{8.932275251468285, 10.837459280316363, 10.291134317860005,
                                       5.381728822145483, 5.797123715153202,  7.756436337259087};
    for (double e : expected) CHECK(r.normal(10, 3) == e);
  }
  SECTION("negative mean") {
    // random.seed(5); [random.normalvariate(-2.5, 0.25) for _ in range(3)]
    python_random r(5);
    CHECK(r.normal(-2.5, 0.25) == -2.2958649818322012);
    CHECK(r.normal(-2.5, 0.25) == -2.8780121935310152);
    CHECK(r.normal(-2.5, 0.25) == -2.5176071788280217);
  }
  SECTION("1000 draws consume exactly as many uniforms as Python's (2788, rejections included)") {
    // random.seed(7); xs = [random.normalvariate(10, 3) for _ in range(1000)]; sum(xs); random.random()
    python_random r(7);
    double sum = 0;
    for (int i = 0; i < 1000; ++i) sum += r.normal(10, 3);
    CHECK(sum == 9912.157950276467);
    CHECK(r.uniform01() == 0.9228877874283016);
  }
}

TEST_CASE("python_random copies replay the same sequence", "[connect]") {
  python_random a(2024);
  (void)draws(a, 10);
  python_random b = a;
  CHECK(draws(a, 50) == draws(b, 50));
  CHECK(a.normal(1, 2) == b.normal(1, 2));
}

TEST_CASE("python_random default-constructed draws below 1 and is seeded from the OS", "[connect]") {
  python_random a;
  python_random b;
  const auto xa = draws(a, 1000);
  for (double x : xa) {
    CHECK(x >= 0.0);
    CHECK(x < 1.0);
  }
  // 256 bits of entropy each: equal first draws would mean the seeding is broken.
  CHECK(xa != draws(b, 1000));
}
