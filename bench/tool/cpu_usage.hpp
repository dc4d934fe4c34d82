#pragma once
// CPU time from /proc, in microseconds, for "CPU per round trip" figures. Both sources count in
// clock ticks (USER_HZ, usually 100/s), so the windows measured should be seconds long.
#include <cstdint>
#include <optional>

namespace torsion_bench {

// utime + stime of process `pid` (all its threads), from /proc/PID/stat; nothing if unreadable.
std::optional<std::uint64_t> process_cpu_us(int pid);

// Busy time of CPU `cpu` since boot from /proc/stat: every state but idle and iowait (user, nice,
// system, irq, softirq, steal; guest time is already inside user and nice). Nothing if there is
// no such CPU.
std::optional<std::uint64_t> cpu_busy_us(unsigned cpu);

}  // namespace torsion_bench
