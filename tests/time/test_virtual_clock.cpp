#include <catch2/catch.hpp>
#include <string>
#include <torsion/torsion.hpp>
#include <vector>

using namespace torsion;
using namespace std::chrono_literals;

namespace {
struct recorder : timer_entry {
  std::vector<std::string>* log;
  std::string name;
  recorder(std::vector<std::string>* l, std::string n) : log(l), name(std::move(n)) {
    fire = [](timer_entry& e) {
      auto& r = static_cast<recorder&>(e);
      r.log->push_back(r.name);
    };
  }
};

task<result<void>> sleeper(clock_source& c, clock_source::duration d, std::vector<std::string>& log, std::string name) {
  auto r = co_await sleep_for(c, d);
  log.push_back(name);
  co_return r;
}
}  // namespace

TEST_CASE("virtual clock fires due timers in deadline order - FIFO on ties", "[time]") {
  virtual_clock c;
  std::vector<std::string> log;
  recorder a(&log, "a@1"), b(&log, "b@1"), d(&log, "d@2"), e(&log, "e@0.5");
  for (auto* r : {&a, &b, &d, &e}) r->deadline = c.now();
  a.deadline += 1s;
  b.deadline += 1s;
  d.deadline += 2s;
  e.deadline += 500ms;
  c.schedule(d);
  c.schedule(a);
  c.schedule(b);
  c.schedule(e);
  c.advance(999ms);
  CHECK(log == std::vector<std::string>{"e@0.5"});
  c.advance(1ms);
  CHECK(log == std::vector<std::string>{"e@0.5", "a@1", "b@1"});
  c.advance(5s);
  CHECK(log == std::vector<std::string>{"e@0.5", "a@1", "b@1", "d@2"});
  CHECK(c.pending() == 0);
  CHECK(c.now().time_since_epoch() == 6s);
}

TEST_CASE("a timer scheduled for now while advancing runs in the same advance", "[time]") {
  virtual_clock c;
  std::vector<std::string> log;
  recorder late(&log, "zero-delay");
  struct chain : timer_entry {
    virtual_clock* c;
    recorder* next;
  } first;
  first.c = &c;
  first.next = &late;
  first.deadline = c.now() + 1s;
  first.fire = [](timer_entry& e) {
    auto& self = static_cast<chain&>(e);
    self.next->deadline = self.c->now();
    self.c->schedule(*self.next);
  };
  c.schedule(first);
  c.advance(1s);
  CHECK(log == std::vector<std::string>{"zero-delay"});
}

TEST_CASE("cancelled timers do not fire", "[time]") {
  virtual_clock c;
  std::vector<std::string> log;
  recorder a(&log, "a"), b(&log, "b");
  a.deadline = b.deadline = c.now() + 1s;
  c.schedule(a);
  c.schedule(b);
  c.cancel(a);
  c.cancel(a);  // twice is harmless
  c.advance(2s);
  CHECK(log == std::vector<std::string>{"b"});
}

TEST_CASE("sleep_for on a virtual clock resumes exactly when time is advanced past it", "[time]") {
  virtual_clock c;
  std::vector<std::string> log;
  auto t1 = sleeper(c, 3s, log, "three");
  auto t2 = sleeper(c, 1s, log, "one");
  t1.handle().resume();
  t2.handle().resume();
  c.advance(999ms);
  CHECK(log.empty());
  c.advance(1ms);
  CHECK(log == std::vector<std::string>{"one"});
  CHECK(t2.done());
  c.pump({1s, 1s});
  CHECK(log == std::vector<std::string>{"one", "three"});
  CHECK(t1.done());
}

TEST_CASE("timer_queue keeps order across many random inserts and erases", "[time]") {
  timer_queue q;
  std::vector<timer_entry> entries(1000);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    entries[i].deadline = clock_source::time_point(std::chrono::nanoseconds((i * 7919) % 1009));
    q.push(entries[i]);
  }
  for (std::size_t i = 0; i < entries.size(); i += 3) q.erase(entries[i]);
  clock_source::time_point last{};
  std::uint64_t last_seq = 0;
  std::size_t popped = 0;
  while (timer_entry* e = q.pop()) {
    CHECK((e->deadline > last || (e->deadline == last && e->seq > last_seq) || popped == 0));
    last = e->deadline;
    last_seq = e->seq;
    ++popped;
  }
  CHECK(popped == entries.size() - (entries.size() + 2) / 3);
}
