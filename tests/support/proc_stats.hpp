#pragma once
// What a process holds, read from /proc: open descriptors and resident memory. The reliability
// tests compare these before and after a fault or a load to prove nothing leaked.
#include <dirent.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include "torsion/net/address.hpp"

namespace torsion_test {

// Entries in /proc/<pid>/fd (the process's own by default) numbered below `below`, not counting
// the directory handle used to read it. With RLIMIT_NOFILE as `below`: the descriptors that take
// up room under the limit (a child may inherit some above it).
inline int open_fd_count(pid_t pid = 0, long below = -1) {
  const std::string dir = pid ? "/proc/" + std::to_string(pid) + "/fd" : "/proc/self/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  const int self = pid ? -1 : ::dirfd(d);
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const long fd = std::stol(e->d_name);
    n += fd != self && (below < 0 || fd < below);
  }
  ::closedir(d);
  return n;
}

// VmRSS of /proc/<pid>/status in KiB (the process's own by default); -1 if unreadable.
inline long rss_kib(pid_t pid = 0) {
  std::ifstream f(pid ? "/proc/" + std::to_string(pid) + "/status" : "/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmRSS:") {
      long kib = -1;
      f >> kib;
      return kib;
    }
    f.ignore(1 << 12, '\n');
  }
  return -1;
}

// Resident KiB of a process's mappings of exactly `size_kib` KiB (summed), and of all the others,
// from /proc/<pid>/smaps; nullopt if unreadable. Tells a known big mapping (the proactor's buffer
// ring) apart from everything else.
struct rss_split {
  long in_size_kib = 0, elsewhere_kib = 0;
  int mappings_of_size = 0;
};
inline std::optional<rss_split> rss_by_mapping_size(pid_t pid, long size_kib) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/smaps");
  if (!f) return std::nullopt;
  rss_split out;
  long size = -1;
  std::string line;
  while (std::getline(f, line)) {
    long v = 0;
    if (std::sscanf(line.c_str(), "Size: %ld kB", &v) == 1) {
      size = v;
    } else if (std::sscanf(line.c_str(), "Rss: %ld kB", &v) == 1) {
      if (size == size_kib) {
        out.in_size_kib += v;
        ++out.mappings_of_size;
      } else {
        out.elsewhere_kib += v;
      }
    }
  }
  return out;
}

// CPU time (user + system) a process has used so far, in seconds; -1 if unreadable. Less sensitive
// than wall time to other work on a shared machine.
inline double cpu_seconds(pid_t pid = 0) {
  std::ifstream f(pid ? "/proc/" + std::to_string(pid) + "/stat" : "/proc/self/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; the fields after its ')' are positional.
  const auto close = all.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  for (int i = 3; i < 14; ++i) rest >> field;  // state .. cmajflt
  long long utime = 0, stime = 0;
  if (!(rest >> utime >> stime)) return -1;
  return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

// Bytes queued in the kernel for a socket: written and not yet acknowledged by the peer (outq), or
// received and not yet read (inq).
inline long socket_outq(int fd) {
  int n = -1;
  return ::ioctl(fd, SIOCOUTQ, &n) == 0 ? n : -1;
}
inline long socket_inq(int fd) {
  int n = -1;
  return ::ioctl(fd, SIOCINQ, &n) == 0 ? n : -1;
}

// The descriptor of this process's TCP socket whose local and peer endpoints are these: a way to
// look at the kernel side of a connection a library object owns.
inline std::optional<int> find_socket(const torsion::endpoint& local, const torsion::endpoint& peer) {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return std::nullopt;
  std::optional<int> found;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::stoi(e->d_name);
    sockaddr_storage a{}, b{};
    socklen_t la = sizeof a, lb = sizeof b;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &la) != 0) continue;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&b), &lb) != 0) continue;
    auto me = torsion::endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&a), la);
    auto them = torsion::endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&b), lb);
    if (me && them && me.value() == local && them.value() == peer) found = fd;
  }
  ::closedir(d);
  return found;
}

// Raise this process's RLIMIT_NOFILE soft limit towards the hard limit; returns the soft limit now.
inline rlim_t raise_fd_limit(rlim_t wanted) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < wanted) {
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= wanted ? wanted : lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

// True in AddressSanitizer builds (g++ and clang): load tests scale themselves down there.
constexpr bool asan_build() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

// True under ThreadSanitizer too: both make every syscall and allocation several times slower.
constexpr bool sanitizer_build() {
#if defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  return true;
#else
  return asan_build();
#endif
#else
  return asan_build();
#endif
}

}  // namespace torsion_test
