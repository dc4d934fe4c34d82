#!/usr/bin/python3
"""A real Twisted Int32StringReceiver server for Torsion's interoperability tests.

    /usr/bin/python3 twisted_int32_server.py [--host 127.0.0.1] [--port 0]

Answers every string with its bytes reversed (the same service as examples/int32_server.cpp), with
Twisted's default MAX_LENGTH of 99999. Prints "listening on HOST:PORT" once listening and nothing
else; SIGTERM/SIGINT stop it with exit status 0 (Twisted's reactor handles both).
"""

import argparse
import sys

from twisted.internet import protocol, reactor
from twisted.protocols.basic import Int32StringReceiver


class Reverse(Int32StringReceiver):
    def stringReceived(self, string):
        self.sendString(string[::-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    factory = protocol.ServerFactory.forProtocol(Reverse)
    port = reactor.listenTCP(args.port, factory, interface=args.host)
    sys.stdout.write("listening on %s:%d\n" % (args.host, port.getHost().port))
    sys.stdout.flush()
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
