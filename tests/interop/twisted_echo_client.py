#!/usr/bin/python3
"""A real Twisted TCP client for Torsion's interoperability tests: checks an echo server.

    /usr/bin/python3 twisted_echo_client.py --port PORT [--host 127.0.0.1] [--size 1048576]
                                            [--seed 20240611] [--connections 1] [--timeout 20]

Connects, sends a deterministic pseudo-random payload (1 MiB by default) as a series of writes of
varying sizes (1 byte, 64 KiB + 1, 64 KiB, a few odd sizes, ...), one write per reactor turn, and
reads the echo back, checking every byte as it arrives. Once all of it is back it half-closes
(loseWriteConnection) and requires the server to close its side cleanly (ConnectionDone, not a
reset). Then it prints exactly one line, "OK <bytes>", and exits 0.

With --connections N it does that over N concurrent connections, connection i sending its own
payload (seed + i), and prints "OK <bytes>" with the total once every connection has passed.

Any failure (refused connection, a byte that differs, too many or too few bytes, a reset, or the
--timeout watchdog, run with reactor.callLater) prints "FAIL ..." to stderr and exits 1.
"""

import argparse
import random
import sys

from zope.interface import implementer

from twisted.internet import error, protocol, reactor
from twisted.internet.interfaces import IHalfCloseableProtocol

# Sizes of successive writes, cycled until the payload is used up (the last one is cut short).
CHUNK_SIZES = [1, 65537, 2, 4096, 65536, 3, 100003, 1, 8191, 65537, 17, 262145, 1, 1000, 65535, 7]


class Outcome:
    def __init__(self, connections):
        self.status = None  # None while running, then 0 or 1
        self.pending = connections  # connections that have not passed yet
        self.sent = 0  # totals over every connection
        self.received = 0
        self.writes = 0
        self.passed_bytes = 0

    def connection_passed(self, size):
        self.pending -= 1
        self.passed_bytes += size
        if self.pending == 0:
            self.finish(0, "OK %d" % self.passed_bytes)

    def finish(self, status, message):
        if self.status is not None:
            return
        self.status = status
        if status == 0:
            sys.stdout.write(message + "\n")
            sys.stdout.flush()
        else:
            sys.stderr.write("twisted_echo_client.py: FAIL %s\n" % message)
            sys.stderr.flush()
        if reactor.running:
            reactor.stop()


@implementer(IHalfCloseableProtocol)
class EchoChecker(protocol.Protocol):
    def __init__(self, index, payload, outcome):
        self.index = index
        self.payload = payload
        self.outcome = outcome
        self.sent = 0
        self.received = 0
        self.chunk_index = 0
        self.all_back = False
        self.server_closed = False

    def fail(self, message):
        self.outcome.finish(1, "connection %d: %s" % (self.index, message))

    def connectionMade(self):
        self.send_next()

    def send_next(self):
        # One write per reactor turn, so the writes do not all merge into one buffer first.
        if not self.transport.connected or self.outcome.status is not None:
            return
        sent = self.sent
        if sent >= len(self.payload):
            return
        size = CHUNK_SIZES[self.chunk_index % len(CHUNK_SIZES)]
        self.chunk_index += 1
        chunk = self.payload[sent:sent + size]
        self.transport.write(chunk)
        self.sent += len(chunk)
        self.outcome.sent += len(chunk)
        self.outcome.writes += 1
        reactor.callLater(0, self.send_next)

    def dataReceived(self, data):
        out = self.outcome
        start = self.received
        end = start + len(data)
        if end > len(self.payload):
            self.fail("received %d bytes, more than the %d sent" % (end, len(self.payload)))
            self.transport.abortConnection()
            return
        expected = self.payload[start:end]
        if data != expected:
            i = next(k for k in range(len(data)) if data[k] != expected[k])
            self.fail("mismatch at byte %d: expected 0x%02x, got 0x%02x (chunk of %d bytes at %d)"
                      % (start + i, expected[i], data[i], len(data), start))
            self.transport.abortConnection()
            return
        self.received = end
        out.received += len(data)
        if end == len(self.payload):
            self.all_back = True
            self.transport.loseWriteConnection()  # our FIN: the echo server should close its side

    # IHalfCloseableProtocol
    def readConnectionLost(self):
        self.server_closed = True
        if not self.all_back:
            self.fail("the server closed after %d of %d bytes" % (self.received, len(self.payload)))
        self.transport.loseConnection()

    def writeConnectionLost(self):
        pass

    def connectionLost(self, reason):
        out = self.outcome
        if out.status is not None:
            return
        if not self.all_back:
            self.fail("connection lost after %d of %d bytes: %s" % (self.received, len(self.payload),
                                                                  reason.getErrorMessage()))
        elif not reason.check(error.ConnectionDone) or not self.server_closed:
            self.fail("all bytes came back but the connection did not end cleanly: %s" % reason.getErrorMessage())
        else:
            out.connection_passed(self.received)


class EchoCheckerFactory(protocol.ClientFactory):
    noisy = False

    def __init__(self, index, payload, outcome):
        self.index = index
        self.payload = payload
        self.outcome = outcome

    def buildProtocol(self, addr):
        return EchoChecker(self.index, self.payload, self.outcome)  # one connection per factory

    def clientConnectionFailed(self, connector, reason):
        self.outcome.finish(1, "connection %d: cannot connect: %s" % (self.index, reason.getErrorMessage()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=int, default=1 << 20)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()
    if args.connections < 1 or args.size < 1:
        parser.error("--connections and --size must be at least 1")

    outcome = Outcome(args.connections)

    def watchdog():
        outcome.finish(1, "TIMEOUT after %g s: sent %d bytes in %d writes, received %d of %d; %d of %d "
                       "connections not done" % (args.timeout, outcome.sent, outcome.writes, outcome.received,
                                                 args.size * args.connections, outcome.pending,
                                                 args.connections))

    for i in range(args.connections):
        payload = random.Random(args.seed + i).randbytes(args.size)
        reactor.connectTCP(args.host, args.port, EchoCheckerFactory(i, payload, outcome), timeout=args.timeout)
    reactor.callLater(args.timeout, watchdog)
    reactor.run()
    if outcome.status is None:
        sys.stderr.write("twisted_echo_client.py: FAIL the reactor stopped before the test ended\n")
        return 1
    return outcome.status


if __name__ == "__main__":
    sys.exit(main())
