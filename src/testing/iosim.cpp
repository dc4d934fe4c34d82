#include "torsion/testing/iosim.hpp"

#include <cerrno>
#include <utility>

namespace torsion::testing {

namespace {
twisted::IHalfCloseableProtocol* half_closeable(twisted::Protocol& p) {
  return dynamic_cast<twisted::IHalfCloseableProtocol*>(&p);
}
}  // namespace

// ---- FakeTransport ----

FakeTransport::FakeTransport(IOPump& pump, bool isServer, twisted::Address host, twisted::Address peer)
    : pump_(pump), isServer_(isServer), host_(std::move(host)), peer_(std::move(peer)) {}

void FakeTransport::write(std::string_view data) {
  if (disconnected || writeClosed_ || aborted_ || pump_.closed_) return;
  out_.append(data);
  after_write();
}

void FakeTransport::writeSequence(std::span<const std::string_view> data) {
  if (disconnected || writeClosed_ || aborted_ || pump_.closed_) return;
  for (std::string_view piece : data) out_.append(piece);
  after_write();
}

void FakeTransport::after_write() {
  if (pending() > maxPending) maxPending = pending();
  if (producer_ && streaming_ && !producerPaused_ && pending() > highWaterMark) {
    producerPaused_ = true;
    producer_->pauseProducing();
  }
}

void FakeTransport::delivered(std::size_t n) {
  sent_ += n;
  if (sent_ == out_.size()) {
    out_.clear();
    sent_ = 0;
  }
  if (producer_ && streaming_ && producerPaused_ && pending() <= lowWaterMark) {
    producerPaused_ = false;
    producer_->resumeProducing();
  }
}

void FakeTransport::loseConnection() {
  if (disconnected) return;
  disconnecting = true;
}

void FakeTransport::abortConnection() {
  if (disconnected) return;
  disconnecting = true;
  aborted_ = true;
  out_.clear();
  sent_ = 0;
}

void FakeTransport::loseWriteConnection() {
  if (disconnected) return;
  writeClosed_ = true;
}

result<void> FakeTransport::registerProducer(twisted::IProducer* p, bool streaming) {
  if (producer_) return failure(errc::invalid_state);
  if (disconnected) {
    p->stopProducing();
    return success();
  }
  producer_ = p;
  streaming_ = streaming;
  producerPaused_ = false;
  return success();
}

void FakeTransport::unregisterProducer() {
  producer_ = nullptr;
  streaming_ = false;
  producerPaused_ = false;
}

// ---- IOPump ----

IOPump::IOPump(twisted::Protocol& client, twisted::Protocol& server, PumpOptions opts)
    : client_(client),
      server_(server),
      opts_(opts),
      client_t_(*this, false, {"TCP", "127.0.0.1", 54321}, {"TCP", "127.0.0.1", 8080}),
      server_t_(*this, true, {"TCP", "127.0.0.1", 8080}, {"TCP", "127.0.0.1", 54321}),
      rng_(opts.seed.value_or(0)) {
  server_.makeConnection(&server_t_);
  client_.makeConnection(&client_t_);
}

IOPump::~IOPump() = default;

std::size_t IOPump::next_chunk(std::size_t available) {
  std::size_t n = available;
  if (opts_.seed) {
    const std::size_t most = opts_.chunk ? opts_.chunk : 4096;
    n = std::uniform_int_distribution<std::size_t>(1, most)(rng_);
  } else if (opts_.chunk) {
    n = opts_.chunk;
  }
  return n < available ? n : available;
}

bool IOPump::deliver(FakeTransport& from, FakeTransport& to, twisted::Protocol& receiver) {
  if (closed_ || to.readingPaused || (&from == &client_t_ ? client_stalled_ : server_stalled_)) return false;
  std::optional<std::size_t>& budget = &from == &client_t_ ? client_budget_ : server_budget_;
  std::size_t avail = from.pending();
  if (budget && *budget < avail) avail = *budget;
  if (avail == 0) {
    if (from.producer_ && !from.streaming_ && !from.writeClosed_ && !from.disconnecting) {
      from.producer_->resumeProducing();  // a pull producer writes when the queue is empty
      return from.pending() > 0;
    }
    return false;
  }
  const std::size_t n = next_chunk(avail);
  // A copy: the receiver may write to either transport while it holds the view.
  const std::string chunk(from.outgoing().substr(0, n));
  if (budget) *budget -= n;
  from.delivered(n);
  receiver.dataReceived(chunk);
  return true;
}

void IOPump::lose_both(const twisted::Failure& first, const twisted::Failure& second, FakeTransport& firstSide) {
  closed_ = true;
  FakeTransport& secondSide = &firstSide == &client_t_ ? server_t_ : client_t_;
  twisted::Protocol& p1 = &firstSide == &client_t_ ? client_ : server_;
  twisted::Protocol& p2 = &firstSide == &client_t_ ? server_ : client_;
  for (FakeTransport* t : {&firstSide, &secondSide}) {
    t->out_.clear();
    t->sent_ = 0;
    t->disconnecting = true;
    if (auto* prod = std::exchange(t->producer_, nullptr)) prod->stopProducing();
  }
  firstSide.disconnected = true;
  firstSide.connected = false;
  p1.connectionLost(first);
  secondSide.disconnected = true;
  secondSide.connected = false;
  p2.connectionLost(second);
}

bool IOPump::maybe_close() {
  if (closed_) return false;
  for (FakeTransport* t : {&client_t_, &server_t_}) {
    FakeTransport& peer = t == &client_t_ ? server_t_ : client_t_;
    twisted::Protocol& mine = t == &client_t_ ? client_ : server_;
    twisted::Protocol& theirs = t == &client_t_ ? server_ : client_;
    const std::optional<std::size_t>& budget = t == &client_t_ ? client_budget_ : server_budget_;
    if (t->aborted_) {
      lose_both(twisted::Failure(errc::connection_aborted), twisted::Failure(make_error_code(errc::connection_lost), ECONNRESET),
                *t);
      return true;
    }
    if (budget && *budget == 0) {
      lose_both(twisted::connectionDone, twisted::connectionDone, *t);
      return true;
    }
    if (t->pending() != 0) continue;
    if (t->disconnecting) {
      lose_both(twisted::connectionDone, twisted::connectionDone, *t);
      return true;
    }
    if (t->writeClosed_ && !t->finSent_) {
      t->finSent_ = true;
      auto* hc_peer = half_closeable(theirs);
      if (!hc_peer) {
        lose_both(twisted::connectionDone, twisted::connectionDone, peer);
        return true;
      }
      if (auto* hc = half_closeable(mine)) hc->writeConnectionLost();
      hc_peer->readConnectionLost();
      return true;
    }
  }
  return false;
}

bool IOPump::pump() {
  bool moved = deliver(client_t_, server_t_, server_);
  moved = deliver(server_t_, client_t_, client_) || moved;
  moved = maybe_close() || moved;
  if (opts_.clock) opts_.clock->advance(0.0);
  return moved;
}

bool IOPump::flush(std::size_t max_rounds) {
  for (std::size_t i = 0; i < max_rounds; ++i)
    if (!pump()) return true;
  return false;
}

void IOPump::reset() {
  if (closed_) return;
  const twisted::Failure reason(make_error_code(errc::connection_lost), ECONNRESET);
  lose_both(reason, reason, client_t_);
}

void IOPump::closeAfter(FakeTransport& from, std::size_t bytes) {
  (&from == &client_t_ ? client_budget_ : server_budget_) = bytes;
}

void IOPump::stall(FakeTransport& from, bool stalled) {
  (&from == &client_t_ ? client_stalled_ : server_stalled_) = stalled;
}

}  // namespace torsion::testing
