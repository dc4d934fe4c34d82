#include "torsion/protocol/tcp_transport.hpp"

#include <cerrno>
#include <cstdio>

#include "torsion/core/task_group.hpp"
#include "torsion/core/yield.hpp"

namespace torsion::twisted {
namespace {
Address address_or_empty(const result<endpoint>& ep) { return ep ? Address::from(ep.value()) : Address{}; }

// An I/O error as the reason a connection ended: errno kept, ConnectionLost in kind.
Failure lost_because(const std::error_code& ec) {
  return Failure(make_error_code(errc::connection_lost), &ec.category() == &std::system_category() ? ec.value() : 0);
}
}  // namespace

tcp_transport::tcp_transport(tcp_stream stream, std::unique_ptr<Protocol> protocol)
    : stream_(std::move(stream)),
      protocol_(std::move(protocol)),
      peer_(address_or_empty(stream_.peer_endpoint())),
      host_(address_or_empty(stream_.local_endpoint())) {}

tcp_transport::~tcp_transport() = default;

void tcp_transport::guarded(const char* what, const std::function<void()>& fn) {
  try {
    fn();
  } catch (...) {
    auto e = std::current_exception();
    std::string msg = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      msg = x.what();
    } catch (...) {
    }
    std::fprintf(stderr, "Unhandled Error in %s.%s: %s\n", protocol_->logPrefix().c_str(), what, msg.c_str());
    if (!reason_) {
      disconnecting = true;
      aborting_ = true;
      out_.clear();
      end(Failure(make_error_code(errc::application_error), 0, e));
    }
  }
}

task<Failure> tcp_transport::run() {
  // The reactor shutting down (its task group stopped) drops the connection, as Twisted's
  // disconnectAll does: ConnectionLost.
  struct on_shutdown {
    tcp_transport* self;
    void operator()() const noexcept { self->end(Failure(errc::connection_lost)); }
  };
  std::optional<std::stop_callback<on_shutdown>> shutdown_link;
  if (const std::stop_token* parent = co_await current_stop_token_ptr_awaiter{}; parent && parent->stop_possible())
    shutdown_link.emplace(*parent, on_shutdown{this});
  connected = true;
  guarded("connectionMade", [this] { protocol_->makeConnection(this); });
  {
    task_group g;
    g.spawn(reader().with_stop_token(reader_token_));
    g.spawn(writer().with_stop_token(writer_token_));
    co_await g.join();
  }
  if (aborting_) (void)stream_.abort();
  else (void)stream_.close();
  connected = false;
  // connectionLost gets a loop turn of its own: never from inside the call that ended the
  // connection (abortConnection inside dataReceived, say).
  co_await yield();
  const Failure why = reason_.value_or(connectionDone);
  if (IProducer* p = std::exchange(producer_, nullptr)) {
    try {
      p->stopProducing();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "Unhandled Error in stopProducing: %s\n", e.what());
    }
  }
  try {
    protocol_->connectionLost(why);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Unhandled Error in %s.connectionLost: %s\n", protocol_->logPrefix().c_str(), e.what());
  }
  co_return why;
}

task<void> tcp_transport::reader() {
  for (;;) {
    while (paused_) {  // paused: the stream is not reading from the socket either
      const bool resumed = co_await read_resumed_.wait();
      if (!resumed || reason_ || disconnecting) co_return;
    }
    // A ring buffer lent by the proactor: dataReceived sees it without a copy, and it goes back
    // to the ring when `chunk` goes out of scope.
    auto chunk = co_await stream_.receive();
    if (reason_ || disconnecting) co_return;  // nothing is delivered after loseConnection
    if (!chunk) {
      if (chunk.error() == errc::connection_done) {
        // The peer closed its side. A half-closeable protocol is told and keeps the connection
        // (it calls loseConnection when done); any other gets connectionLost(ConnectionDone).
        if (auto* hc = dynamic_cast<IHalfCloseableProtocol*>(protocol_.get())) {
          guarded("readConnectionLost", [hc] { hc->readConnectionLost(); });
        } else {
          end(connectionDone);
        }
      } else if (chunk.error() != errc::operation_canceled) {
        end(lost_because(chunk.error()));
      }
      co_return;
    }
    // Paused while this chunk was on its way: hold it until resumed.
    while (paused_) {
      const bool resumed = co_await read_resumed_.wait();
      if (!resumed || reason_ || disconnecting) co_return;
    }
    const std::string_view data = chunk.value().view();
    guarded("dataReceived", [&] { protocol_->dataReceived(data); });
  }
}

task<void> tcp_transport::writer() {
  for (;;) {
    if (out_.empty()) {
      // Closing waits for a pull producer, or a paused push producer, to be unregistered (Twisted);
      // an unpaused push producer does not hold the close and is stopped.
      const bool producer_holds = producer_ && (!streaming_ || producer_paused_);
      if (disconnecting && !aborting_ && !producer_holds) {
        end(connectionDone);  // everything was flushed: close cleanly
        co_return;
      }
      if (write_closing_ && !write_closed_) {
        write_closed_ = true;
        auto shut = stream_.shutdown_write();
        if (!shut) {
          end(lost_because(shut.error()));
          co_return;
        }
        if (auto* hc = dynamic_cast<IHalfCloseableProtocol*>(protocol_.get()))
          guarded("writeConnectionLost", [hc] { hc->writeConnectionLost(); });
      }
      const bool woke = co_await write_wanted_.wait();
      if (!woke) co_return;
      continue;
    }
    sending_.swap(out_);
    auto r = co_await stream_.write_all(std::as_bytes(std::span(sending_)));
    sending_.clear();
    if (!r) {
      if (r.error() != errc::operation_canceled) end(lost_because(r.error()));
      co_return;
    }
    after_drain();
  }
}

void tcp_transport::after_drain() {
  if (!producer_ || reason_ || buffered() > lowWaterMark) return;
  if (streaming_) {
    if (!producer_paused_) return;
    producer_paused_ = false;  // one resume per pause: edge-triggered (spec §7.2 item 6)
    guarded("resumeProducing", [this] { producer_->resumeProducing(); });
  } else if (out_.empty()) {
    guarded("resumeProducing", [this] { producer_->resumeProducing(); });
  }
}

result<void> tcp_transport::registerProducer(IProducer* producer, bool streaming) {
  if (producer_) return failure(errc::invalid_state);  // "was never unregistered"
  if (!connected || reason_) {
    producer->stopProducing();
    return success();
  }
  producer_ = producer;
  streaming_ = streaming;
  producer_paused_ = false;
  if (!streaming) guarded("resumeProducing", [this] { producer_->resumeProducing(); });  // pull: ask at once
  return success();
}

void tcp_transport::unregisterProducer() {
  producer_ = nullptr;
  producer_paused_ = false;
  if (connected && disconnecting) write_wanted_.set();  // a close may have been waiting for this
}

void tcp_transport::end(Failure why) {
  if (!reason_) reason_ = std::move(why);
  reader_stop_.request_stop();
  writer_stop_.request_stop();
}

void tcp_transport::write(std::string_view data) {
  if (!connected || reason_ || aborting_ || write_closing_ || data.empty()) return;
  out_.append(data);
  write_wanted_.set();
  if (producer_ && streaming_ && !producer_paused_ && buffered() > highWaterMark) {
    producer_paused_ = true;  // once per full episode, not on every write (spec §7.2 item 6)
    guarded("pauseProducing", [this] { producer_->pauseProducing(); });
  }
}

void tcp_transport::writeSequence(std::span<const std::string_view> data) {
  for (std::string_view d : data) write(d);
}

void tcp_transport::loseConnection() {
  if (!connected || disconnecting) return;
  disconnecting = true;
  reader_stop_.request_stop();  // stop reading now
  write_wanted_.set();          // the writer flushes, then closes
}

void tcp_transport::loseWriteConnection() {
  if (!connected || disconnecting || write_closing_) return;
  write_closing_ = true;
  write_wanted_.set();  // the writer flushes, then sends the FIN
}

void tcp_transport::abortConnection() {
  if (!connected || aborting_) return;
  disconnecting = true;
  aborting_ = true;
  out_.clear();
  end(Failure(errc::connection_aborted));
}

void tcp_transport::pauseProducing() {
  paused_ = true;
  stream_.pause_receiving();  // stop reading the socket now, not only stop delivering
}

void tcp_transport::resumeProducing() {
  if (!connected || disconnecting) return;
  paused_ = false;
  stream_.resume_receiving();
  read_resumed_.set();
}

}  // namespace torsion::twisted
