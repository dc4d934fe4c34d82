#pragma once
// An in-memory connected client/server pair, after Twisted's twisted.test.iosim: two protocols,
// each on a FakeTransport, and an IOPump that moves the bytes between them when asked. Delivery
// can be chunked (all at once, a fixed size, or random sizes from a seed) so a protocol test can
// run in every chunking, and faults can be injected: a reset, a close after N more bytes (in the
// middle of a message), a stalled direction.
//
//   Echo server;  Client client;
//   IOPump pump(client, server, {.chunk = 1});   // 1 byte per delivery
//   client.transport->write("hi");  pump.flush();
//
// Semantics follow the TCP transport: write never delivers synchronously; writes are dropped once
// the writing side is closed or has called loseWriteConnection (and, after abortConnection, from
// then on); loseConnection delivers everything written (also what is written after it) and then
// ends the connection: connectionLost(connection_done) on both sides, the closing side first;
// abortConnection drops unsent bytes: connection_aborted on that side, connection_lost on the peer;
// pauseProducing stops deliveries to that side's protocol; a streaming producer is paused when more
// than highWaterMark bytes wait and resumed when they have drained to lowWaterMark; a pull producer
// is asked for more whenever its transport's queue is empty. connectionLost comes from flush() or
// pump(), never from inside a transport call.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "torsion/protocol/protocol.hpp"
#include "torsion/protocol/transport.hpp"
#include "torsion/testing/clock.hpp"

namespace torsion::testing {

class IOPump;

class FakeTransport final : public twisted::ITransport {
 public:
  FakeTransport(IOPump& pump, bool isServer, twisted::Address host, twisted::Address peer);

  void write(std::string_view data) override;
  void writeSequence(std::span<const std::string_view> data) override;
  void loseConnection() override;
  void abortConnection() override;
  void loseWriteConnection() override;
  twisted::Address getPeer() const override { return peer_; }
  twisted::Address getHost() const override { return host_; }
  void pauseProducing() override { readingPaused = true; }
  void resumeProducing() override { readingPaused = false; }
  void stopProducing() override { loseConnection(); }
  result<void> registerProducer(twisted::IProducer* p, bool streaming) override;
  void unregisterProducer() override;
  void setTcpNoDelay(bool on) override { noDelay_ = on; }
  bool getTcpNoDelay() const override { return noDelay_; }
  void setTcpKeepAlive(bool on) override { keepAlive_ = on; }
  bool getTcpKeepAlive() const override { return keepAlive_; }

  // Bytes written and not yet delivered.
  std::size_t pending() const noexcept { return out_.size() - sent_; }
  bool isServer() const noexcept { return isServer_; }
  bool readingPaused = false;
  bool disconnected = false;  // connectionLost has been delivered to this side
  // The most bytes this side ever had waiting at once (for flow-control tests).
  std::size_t maxPending = 0;

 private:
  friend class IOPump;
  void after_write();
  std::string_view outgoing() const noexcept { return std::string_view(out_).substr(sent_); }
  void delivered(std::size_t n);

  IOPump& pump_;
  bool isServer_;
  twisted::Address host_;
  twisted::Address peer_;
  std::string out_;
  std::size_t sent_ = 0;
  twisted::IProducer* producer_ = nullptr;
  bool streaming_ = false;
  bool producerPaused_ = false;
  bool writeClosed_ = false;  // loseWriteConnection: FIN after the queue drains
  bool aborted_ = false;
  bool finSent_ = false;    // the peer has been told about loseWriteConnection
  bool noDelay_ = false;
  bool keepAlive_ = false;
};

struct PumpOptions {
  // Largest delivery in bytes; 0 delivers everything waiting at once.
  std::size_t chunk = 0;
  // With a seed, each delivery has a random size in [1, chunk] (chunk 0 means 4096).
  std::optional<std::uint64_t> seed{};
  // Advanced by 0 after every pump round, as Twisted's IOPump.flush() does, so callLater(0) runs.
  Clock* clock = nullptr;
};

class IOPump {
 public:
  // Connects the pair: server.makeConnection, then client.makeConnection (Twisted's order).
  IOPump(twisted::Protocol& client, twisted::Protocol& server, PumpOptions opts = {});
  IOPump(const IOPump&) = delete;
  ~IOPump();

  // One round: at most one delivery in each direction, then any due close. True if anything moved.
  bool pump();
  // Pump until nothing moves (at most `max_rounds` rounds; false if that was not enough).
  bool flush(std::size_t max_rounds = 10'000'000);

  FakeTransport& clientTransport() noexcept { return client_t_; }
  FakeTransport& serverTransport() noexcept { return server_t_; }

  // ---- Faults ----
  // Both sides lose the connection now, as on a TCP reset: undelivered bytes are dropped and both
  // protocols get connection_lost (ECONNRESET).
  void reset();
  // The given side's peer closes after delivering at most `bytes` more from that side: the rest of
  // what that side wrote is dropped and both sides then get connection_done.
  void closeAfter(FakeTransport& from, std::size_t bytes);
  // Stop (or restart) deliveries from this side, as a stalled network path.
  void stall(FakeTransport& from, bool stalled = true);

 private:
  friend class FakeTransport;
  bool deliver(FakeTransport& from, FakeTransport& to, twisted::Protocol& receiver);
  bool maybe_close();
  void lose_both(const twisted::Failure& first, const twisted::Failure& second, FakeTransport& firstSide);
  std::size_t next_chunk(std::size_t available);

  twisted::Protocol& client_;
  twisted::Protocol& server_;
  PumpOptions opts_;
  FakeTransport client_t_;
  FakeTransport server_t_;
  std::mt19937_64 rng_;
  std::optional<std::size_t> client_budget_;  // closeAfter: bytes the client side may still deliver
  std::optional<std::size_t> server_budget_;
  bool client_stalled_ = false;
  bool server_stalled_ = false;
  bool closed_ = false;
};

}  // namespace torsion::testing
