#include "torsion/protocols/framing_buffer.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace torsion {

void framing_buffer::consume(std::size_t n) noexcept {
  if (borrowing()) {
    borrowed_.remove_prefix(std::min(n, borrowed_.size()));
    if (borrowed_.empty()) borrowed_ = {};
    return;
  }
  head_ += std::min(n, tail_ - head_);
}

void framing_buffer::append(std::string_view d) {
  if (d.empty()) return;
  settle();
  reserve_tail(d.size());
  std::memcpy(buf_.get() + tail_, d.data(), d.size());
  tail_ += d.size();
}

void framing_buffer::borrow(std::string_view d) {
  if (d.empty()) return;
  if (!borrowing() && head_ == tail_) {
    head_ = tail_ = 0;
    borrowed_ = d;
    return;
  }
  append(d);
}

void framing_buffer::settle() {
  if (!borrowing()) return;
  const std::string_view rest = std::exchange(borrowed_, std::string_view{});
  head_ = tail_ = 0;
  if (rest.empty()) return;
  reserve_tail(rest.size());
  std::memcpy(buf_.get(), rest.data(), rest.size());
  tail_ = rest.size();
}

std::span<char> framing_buffer::prepare(std::size_t n) {
  settle();
  reserve_tail(n);
  return {buf_.get() + tail_, cap_ - tail_};
}

std::string framing_buffer::take() {
  std::string out(data());
  consume(out.size());
  return out;
}

void framing_buffer::clear() noexcept {
  borrowed_ = {};
  head_ = tail_ = 0;
}

void framing_buffer::assign(std::string_view d) {
  // Fresh storage: the old bytes may still be viewed by the callback that asked for this.
  std::unique_ptr<char[]> fresh(new char[std::max<std::size_t>(d.size(), 1)]);
  std::memcpy(fresh.get(), d.data(), d.size());
  buf_ = std::move(fresh);
  cap_ = std::max<std::size_t>(d.size(), 1);
  head_ = 0;
  tail_ = d.size();
  borrowed_ = {};
}

void framing_buffer::reserve_tail(std::size_t n) {
  const std::size_t live = tail_ - head_;
  if (cap_ - tail_ >= n) return;
  if (cap_ - live >= n && head_ > 0) {
    // Enough room once the consumed front is reclaimed.
    std::memmove(buf_.get(), buf_.get() + head_, live);
    head_ = 0;
    tail_ = live;
    return;
  }
  const std::size_t want = std::max(live + n, std::min<std::size_t>(cap_ * 2, live + n + (1u << 20)));
  std::unique_ptr<char[]> grown(new char[want]);
  if (live) std::memcpy(grown.get(), buf_.get() + head_, live);
  buf_ = std::move(grown);
  cap_ = want;
  head_ = 0;
  tail_ = live;
}

}  // namespace torsion
