#include "torsion/protocol/connector.hpp"

#include <cerrno>
#include <cstdio>

#include "torsion/protocol/reactor.hpp"
#include "torsion/protocol/tcp_transport.hpp"

namespace torsion::twisted {

Failure failure_from(const std::error_code& ec) {
  if (ec == errc::connection_refused) return Failure(ec, ECONNREFUSED);
  if (&ec.category() == &std::system_category()) return Failure(ec, ec.value());
  return Failure(ec);
}

Connector::Connector(Reactor& reactor, std::string host, std::uint16_t port, ClientFactory& factory,
                     connect_options opts)
    : reactor_(reactor), factory_(factory), engine_(std::move(host), port, std::move(opts), *this, reactor.clock()) {}

Connector::~Connector() {
  *alive_ = false;
  if (current_) current_->abortConnection();
}

ITransport* Connector::transport() const noexcept { return current_; }

result<void> Connector::connect() { return engine_.connect(); }

void Connector::started_connecting(connector&) {
  if (!factory_started_) {
    factory_.doStart();
    factory_started_ = true;
  }
  factory_.startedConnecting(this);
}

void Connector::stop_factory_unless_reconnected() {
  // The factory may have called connect() from inside its callback: then it keeps running.
  if (engine_.state() == connector_state::disconnected && factory_started_) {
    factory_started_ = false;
    factory_.doStop();
  }
}

void Connector::connection_failed(connector&, std::error_code reason) {
  factory_.clientConnectionFailed(this, failure_from(reason));
  stop_factory_unless_reconnected();
}

void Connector::connection_made(connector&, tcp_stream stream) {
  auto p = build_protocol_logged(factory_, stream);
  if (!p) {
    // Client-side refusal (spec §1.4 E): close, then clientConnectionLost(ConnectionDone) with no
    // protocol callbacks.
    (void)stream.close();
    last_reason_ = connectionDone;
    engine_.connection_lost(last_reason_.code());
    return;
  }
  auto t = std::make_unique<tcp_transport>(std::move(stream), std::move(p));
  current_ = t.get();
  reactor_.tasks().spawn(run_connection(std::move(t)));
}

task<void> Connector::run_connection(std::unique_ptr<tcp_transport> t) {
  const auto alive = alive_;
  Failure why = co_await t->run();
  if (!*alive) co_return;
  current_ = nullptr;
  last_reason_ = std::move(why);
  // Protocol.connectionLost has run; now the factory hears of it (spec §1.4: CL before CCL).
  engine_.connection_lost(last_reason_.code());
}

void Connector::connection_lost(connector&, std::error_code) {
  factory_.clientConnectionLost(this, last_reason_);
  stop_factory_unless_reconnected();
}

void Connector::close_requested(connector&) {
  if (current_) current_->loseConnection();
}

}  // namespace torsion::twisted
