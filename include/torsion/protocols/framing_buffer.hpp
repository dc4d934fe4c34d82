#pragma once
// The bytes a framing parser holds between messages. Received data is parsed where it lies: a chunk
// handed to borrow() is not copied unless part of a message is left over when the caller is done
// with it (settle()), and a coroutine reader receives straight into the free space (prepare/commit).
// So a message that arrives whole is never copied; only a message split across reads is.
//
// Views returned by data() stay valid until the next call that adds bytes (append, settle, prepare,
// assign); consume() and take() never move or overwrite bytes.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace torsion {

class framing_buffer {
 public:
  framing_buffer() = default;
  framing_buffer(framing_buffer&&) noexcept = default;
  framing_buffer& operator=(framing_buffer&&) noexcept = default;

  // The bytes not yet consumed.
  std::string_view data() const noexcept {
    return borrowing() ? borrowed_ : std::string_view(buf_.get() + head_, tail_ - head_);
  }
  std::size_t size() const noexcept { return borrowing() ? borrowed_.size() : tail_ - head_; }
  bool empty() const noexcept { return size() == 0; }
  // Bytes of storage owned (for tests that check memory stays bounded).
  std::size_t capacity() const noexcept { return cap_; }

  void consume(std::size_t n) noexcept;
  // Add a copy of `d`.
  void append(std::string_view d);
  // Add `d` without copying it when nothing is buffered; the caller must call settle() before `d`'s
  // storage goes away.
  void borrow(std::string_view d);
  // Copy what is left of a borrowed chunk into owned storage.
  void settle();
  // At least n bytes of writable space after the data; commit() what was written.
  std::span<char> prepare(std::size_t n);
  void commit(std::size_t n) noexcept { tail_ += n; }
  // Remove everything and return a copy of it.
  std::string take();
  void clear() noexcept;
  // Replace the contents with a copy of `d`.
  void assign(std::string_view d);

 private:
  bool borrowing() const noexcept { return borrowed_.data() != nullptr; }
  void reserve_tail(std::size_t n);

  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  std::string_view borrowed_;  // non-null data() while borrowing; the owned part is empty then
};

}  // namespace torsion
