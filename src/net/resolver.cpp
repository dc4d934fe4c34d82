#include "torsion/net/resolver.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "torsion/io/proactor.hpp"

namespace torsion {
namespace {

struct lookup {
  std::string host;
  int family;
  // Written by the worker, read on the proactor thread after the post: the post orders them.
  result<std::vector<ip_address>> answer = failure(errc::dns_lookup_failed);
  std::coroutine_handle<> waiter{};
  bool abandoned = false;  // the awaiting task gave up (proactor thread only)
  bool done = false;       // proactor thread only
};

result<std::vector<ip_address>> blocking_lookup(const std::string& host, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return failure(errc::dns_lookup_failed);
  std::vector<ip_address> out;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    auto ep = endpoint::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
    if (ep && std::find(out.begin(), out.end(), ep.value().address()) == out.end()) out.push_back(ep.value().address());
  }
  ::freeaddrinfo(res);
  if (out.empty()) return failure(errc::dns_lookup_failed);
  return out;
}

// One worker thread per proactor, started on first use and joined when the proactor goes away.
class resolver_service final : public proactor::service {
 public:
  explicit resolver_service(proactor& px) : px_(px) {}
  ~resolver_service() override {
    {
      std::lock_guard lock(m_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (worker_.joinable()) worker_.join();
  }

  void submit(std::shared_ptr<lookup> l) {
    px_.add_external_work();
    {
      std::lock_guard lock(m_);
      jobs_.push_back(std::move(l));
      if (!worker_.joinable()) worker_ = std::thread([this] { work(); });
    }
    cv_.notify_one();
  }

 private:
  void work() {
    for (;;) {
      std::shared_ptr<lookup> l;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        l = std::move(jobs_.front());
        jobs_.pop_front();
      }
      l->answer = blocking_lookup(l->host, l->family);
      px_.post_from_any_thread([l, px = &px_] {
        px->remove_external_work();
        l->done = true;
        if (!l->abandoned && l->waiter) px->resume(l->waiter);
      });
    }
  }

  proactor& px_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<lookup>> jobs_;
  std::thread worker_;
  bool stopping_ = false;
};

// Not an aggregate on purpose: g++ 12 mishandles a brace-initialised aggregate awaiter with a
// non-trivial member in `co_await T{...}` (the member is released twice). A constructor avoids it.
struct lookup_awaiter {
  lookup_awaiter(std::shared_ptr<lookup> lk, proactor& p) : l(std::move(lk)), px(p) {}
  std::shared_ptr<lookup> l;
  proactor& px;
  struct on_stop {
    lookup_awaiter* self;
    void operator()() const noexcept {
      if (self->l->done || self->l->abandoned) return;
      self->l->abandoned = true;
      self->px.post(self->l->waiter);
    }
  };
  std::optional<std::stop_callback<on_stop>> stop_cb;

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    l->waiter = h;
    const std::stop_token* stop = detail::stop_token_of(h);
    if (detail::stop_requested(stop)) {
      l->abandoned = true;
      return false;
    }
    px.use_service<resolver_service>().submit(l);
    if (stop && stop->stop_possible()) stop_cb.emplace(*stop, on_stop{this});
    return true;
  }
  result<std::vector<ip_address>> await_resume() {
    stop_cb.reset();
    if (l->abandoned) return failure(errc::operation_canceled);
    return std::move(l->answer);
  }
};

}  // namespace

task<result<std::vector<ip_address>>> resolve(std::string host, address_family family) {
  if (auto literal = ip_address::parse(host)) co_return std::vector<ip_address>{literal.value()};
  if (host.empty()) co_return failure(errc::dns_lookup_failed);
  const int fam = family == address_family::v4 ? AF_INET : family == address_family::v6 ? AF_INET6 : AF_UNSPEC;
  proactor* px = proactor::current();
  if (!px) co_return failure(errc::invalid_state);  // the answer comes back through a ring
  auto l = std::make_shared<lookup>();
  l->host = std::move(host);
  l->family = fam;
  co_return co_await lookup_awaiter(l, *px);
}

}  // namespace torsion
