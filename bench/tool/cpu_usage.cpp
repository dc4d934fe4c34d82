#include "cpu_usage.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace torsion_bench {
namespace {

std::uint64_t ticks_to_us(std::uint64_t ticks) {
  static const long hz = ::sysconf(_SC_CLK_TCK);
  return ticks * 1'000'000u / static_cast<std::uint64_t>(hz > 0 ? hz : 100);
}

}  // namespace

std::optional<std::uint64_t> process_cpu_us(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return std::nullopt;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so start after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  // Fields 3..13 (state through cmajflt), then utime (14) and stime (15).
  std::string skip;
  for (int field = 3; field <= 13; ++field) rest >> skip;
  std::uint64_t utime = 0, stime = 0;
  if (!(rest >> utime >> stime)) return std::nullopt;
  return ticks_to_us(utime + stime);
}

std::optional<std::uint64_t> cpu_busy_us(unsigned cpu) {
  std::ifstream f("/proc/stat");
  const std::string want = "cpu" + std::to_string(cpu);
  std::string line;
  while (std::getline(f, line)) {
    if (line.compare(0, want.size() + 1, want + " ") != 0) continue;
    std::istringstream in(line.substr(want.size()));
    std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (!(in >> user >> nice >> system >> idle >> iowait >> irq >> softirq)) return std::nullopt;
    in >> steal;  // absent on very old kernels
    return ticks_to_us(user + nice + system + irq + softirq + steal);
  }
  return std::nullopt;
}

}  // namespace torsion_bench
