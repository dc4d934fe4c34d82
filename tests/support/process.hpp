#pragma once
// Run an example program as a child process with its stdout on a pipe; read lines with a deadline.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace torsion_test {

struct child_options {
  bool merge_stderr = false;         // stderr into the same pipe as stdout
  std::optional<rlim_t> fd_limit{};  // RLIMIT_NOFILE (soft and hard) for the child
};

class child_process {
 public:
  explicit child_process(std::vector<std::string> argv, child_options opts = {}) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      if (opts.merge_stderr) ::dup2(fds[1], STDERR_FILENO);
      if (opts.fd_limit) {
        const rlimit lim{*opts.fd_limit, *opts.fd_limit};
        if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(126);
      }
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  child_process(const child_process&) = delete;
  ~child_process() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  // The next line of stdout, or nothing if none arrives before the deadline (or at EOF).
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char chunk[512];
      const ssize_t n = ::read(out_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  void signal(int sig) { ::kill(pid_, sig); }
  pid_t pid() const noexcept { return pid_; }

  // The exit status, or nothing if it has not exited before the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      ::usleep(2000);
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
  std::optional<int> status_;
};

}  // namespace torsion_test
