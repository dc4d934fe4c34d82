#pragma once
// The TCP transport of the callback layer: one connection, driven by two coroutines over a
// tcp_stream. The reader delivers dataReceived straight from the proactor's receive buffers (no
// copy; chunks of at most proactor_config::recv_buffer_size bytes) and stops at once on
// loseConnection or pauseProducing, which also stops reading from the socket; the writer sends what write() buffered.
// connectionLost is called exactly once, after both have stopped, on a loop turn of its own. An exception escaping a
// protocol callback is logged and aborts the connection with an application_error reason.
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "torsion/core/event.hpp"
#include "torsion/core/task.hpp"
#include "torsion/net/tcp_stream.hpp"
#include "torsion/protocol/protocol.hpp"
#include "torsion/protocol/transport.hpp"

namespace torsion::twisted {

class tcp_transport final : public ITransport {
 public:
  tcp_transport(tcp_stream stream, std::unique_ptr<Protocol> protocol);
  tcp_transport(const tcp_transport&) = delete;
  ~tcp_transport() override;

  // makeConnection, then pump data both ways until the connection ends; returns the reason, after
  // connectionLost has been called with it.
  task<Failure> run();

  Protocol& protocol() noexcept { return *protocol_; }

  void write(std::string_view data) override;
  void writeSequence(std::span<const std::string_view> data) override;
  void loseConnection() override;
  void abortConnection() override;
  void loseWriteConnection() override;
  Address getPeer() const override { return peer_; }
  Address getHost() const override { return host_; }
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override { loseConnection(); }
  result<void> registerProducer(IProducer* producer, bool streaming) override;
  void unregisterProducer() override;
  void setTcpNoDelay(bool enabled) override { (void)stream_.set_no_delay(enabled); }
  bool getTcpNoDelay() const override {
    auto r = stream_.no_delay();
    return r && r.value();
  }
  void setTcpKeepAlive(bool enabled) override { (void)stream_.set_keep_alive(enabled); }
  bool getTcpKeepAlive() const override {
    auto r = stream_.keep_alive();
    return r && r.value();
  }

  // Bytes written and not yet handed to the kernel, including the chunk being sent.
  std::size_t buffered() const noexcept { return out_.size() + sending_.size(); }

 private:
  task<void> reader();
  task<void> writer();
  void end(Failure why);
  void after_drain();  // the writer emptied its buffer: resume producers
  // Run a protocol callback; an exception aborts the connection (spec §7.2 item 2).
  void guarded(const char* what, const std::function<void()>& fn);

  tcp_stream stream_;
  std::unique_ptr<Protocol> protocol_;
  Address peer_, host_;
  std::string out_;
  std::string sending_;
  async_event write_wanted_;
  async_event read_resumed_;
  std::stop_source reader_stop_, writer_stop_;
  std::stop_token reader_token_ = reader_stop_.get_token(), writer_token_ = writer_stop_.get_token();
  std::optional<Failure> reason_;
  bool paused_ = false;
  bool aborting_ = false;
  bool write_closing_ = false;
  bool write_closed_ = false;
  IProducer* producer_ = nullptr;
  bool streaming_ = false;
  bool producer_paused_ = false;
};

}  // namespace torsion::twisted
