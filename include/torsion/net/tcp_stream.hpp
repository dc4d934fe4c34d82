#pragma once
// A connected TCP socket driven by the proactor. Reads and writes are awaitables returning
// result<size_t>; every send uses MSG_NOSIGNAL, so a vanished peer is an error value (EPIPE or
// ECONNRESET), never a signal. read_some returns 0 at end of stream.
//
// Two ways to read: read_some into your own buffer (one recv per call), or receive(), which keeps a
// multishot recv armed and lends out the proactor's ring buffers without copying (see
// io/receiver.hpp). Use one or the other on a stream, not both at once.
#include <sys/uio.h>

#include <cstddef>
#include <span>

#include "torsion/core/result.hpp"
#include "torsion/core/task.hpp"
#include "torsion/io/ops.hpp"
#include "torsion/io/proactor.hpp"
#include "torsion/io/receiver.hpp"
#include "torsion/net/address.hpp"

namespace torsion {

class tcp_stream {
 public:
  // A closed stream: reads and writes end with EBADF (on this thread's current proactor).
  tcp_stream() noexcept : px_(proactor::current()) {}
  // Adopt a connected socket.
  tcp_stream(int fd, proactor& px) noexcept : fd_(fd), px_(&px) {}
  tcp_stream(tcp_stream&& o) noexcept : fd_(std::exchange(o.fd_, -1)), px_(o.px_), rx_(std::exchange(o.rx_, nullptr)) {}
  tcp_stream& operator=(tcp_stream&& o) noexcept {
    if (this != &o) {
      (void)close();
      fd_ = std::exchange(o.fd_, -1);
      px_ = o.px_;
      rx_ = std::exchange(o.rx_, nullptr);
    }
    return *this;
  }
  ~tcp_stream() { (void)close(); }

  bool is_open() const noexcept { return fd_ >= 0; }
  int native_handle() const noexcept { return fd_; }
  proactor& get_proactor() const noexcept { return *px_; }

  // Up to buf.size() bytes; 0 means the peer closed its side.
  io_op<ops::recv> read_some(std::span<std::byte> buf) { return io_op<ops::recv>(*px_, fd_, buf); }
  // Exactly buf.size() bytes, or connection_done if the stream ends first.
  task<result<void>> read_exactly(std::span<std::byte> buf);

  // The next chunk of the stream, in a ring buffer lent without copying:
  //   auto b = co_await s.receive();  // result<received_buffer>; connection_done at the end
  // Chunks are at most proactor_config::recv_buffer_size bytes. One receive() at a time.
  receive_awaiter receive() { return receive_awaiter(receiver()); }
  // Stop reading from the socket (the multishot recv is cancelled; what is queued stays) until
  // resume_receiving(). A receive() meanwhile gets queued data, then waits.
  void pause_receiving() noexcept {
    if (rx_) rx_->pause();
  }
  void resume_receiving() noexcept {
    if (rx_) rx_->resume();
  }

  io_op<ops::send> write_some(std::span<const std::byte> buf) { return io_op<ops::send>(*px_, fd_, buf); }
  io_op<ops::sendmsg> write_some(std::span<const iovec> bufs) { return io_op<ops::sendmsg>(*px_, fd_, bufs); }
  // All of buf, resubmitting after short writes.
  task<result<void>> write_all(std::span<const std::byte> buf);
  // All of the buffers, gathered into as few sendmsg calls as possible.
  task<result<void>> write_all(std::span<const iovec> bufs);

  // Send FIN; reading stays possible.
  result<void> shutdown_write() noexcept;
  // Cancel this stream's pending operations and close the socket. Idempotent.
  result<void> close() noexcept;
  // Close with an RST instead of a FIN (SO_LINGER 0): unsent data is dropped.
  result<void> abort() noexcept;

  result<endpoint> local_endpoint() const noexcept;
  result<endpoint> peer_endpoint() const noexcept;
  result<void> set_no_delay(bool on) noexcept;
  result<bool> no_delay() const noexcept;
  result<void> set_keep_alive(bool on) noexcept;
  result<bool> keep_alive() const noexcept;

 private:
  detail::receiver* receiver();

  int fd_ = -1;
  proactor* px_ = nullptr;
  detail::receiver* rx_ = nullptr;  // created by the first receive()
};

}  // namespace torsion
