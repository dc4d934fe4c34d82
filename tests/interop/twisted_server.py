#!/usr/bin/python3
"""A real Twisted TCP server for Torsion's interoperability tests.

    /usr/bin/python3 twisted_server.py [--lifetime SECONDS]

Listens on 127.0.0.1, port 0, and prints exactly one line, "listening on 127.0.0.1:PORT", to stdout
(flushed) once it accepts connections. Every connection is an echo, with one exception: a stream
whose first 11 bytes are exactly b"Hello there" gets b"General Kenobi" back (not the echo), after
which the server calls loseConnection. While the bytes received so far are a proper prefix of
b"Hello there" they are held back; as soon as they diverge from it, everything held is echoed and
the connection echoes from then on. When the client half-closes, the server finishes sending what
it has buffered and then closes (loseConnection).

SIGTERM or SIGINT stop the reactor and the script exits 0. A watchdog stops it with exit status 3
after --lifetime seconds (default 50) so that a test that dies cannot leave it running.
"""

import argparse
import sys

from zope.interface import implementer

from twisted.internet import protocol, reactor
from twisted.internet.interfaces import IHalfCloseableProtocol

GREETING = b"Hello there"
REPLY = b"General Kenobi"

exit_status = 0


@implementer(IHalfCloseableProtocol)
class EchoOrKenobi(protocol.Protocol):
    def connectionMade(self):
        self.held = b""
        self.echoing = False
        self.done = False

    def dataReceived(self, data):
        if self.done:
            return
        if self.echoing:
            self.transport.write(data)
            return
        self.held += data
        if self.held == GREETING:
            self.done = True
            self.transport.write(REPLY)
            self.transport.loseConnection()
        elif not GREETING.startswith(self.held):
            self.echoing = True
            held, self.held = self.held, b""
            self.transport.write(held)

    # IHalfCloseableProtocol: the client sent its FIN. Send what is buffered, then close.
    def readConnectionLost(self):
        if not self.echoing and self.held and not self.done:
            self.transport.write(self.held)  # a proper prefix of the greeting, then EOF: echo it
            self.held = b""
        self.transport.loseConnection()

    def writeConnectionLost(self):
        pass


class EchoOrKenobiFactory(protocol.ServerFactory):
    protocol = EchoOrKenobi
    noisy = False


def lifetime_exceeded(seconds):
    global exit_status
    exit_status = 3
    sys.stderr.write("twisted_server.py: still running after %g s, giving up\n" % seconds)
    sys.stderr.flush()
    reactor.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lifetime", type=float, default=50.0)
    args = parser.parse_args()

    port = reactor.listenTCP(0, EchoOrKenobiFactory(), interface="127.0.0.1")
    host = port.getHost()
    sys.stdout.write("listening on %s:%d\n" % (host.host, host.port))
    sys.stdout.flush()
    reactor.callLater(args.lifetime, lifetime_exceeded, args.lifetime)
    reactor.run()  # installs the SIGTERM/SIGINT handlers that stop it
    return exit_status


if __name__ == "__main__":
    sys.exit(main())
