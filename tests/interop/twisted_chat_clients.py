#!/usr/bin/python3
"""Real Twisted LineReceiver clients against Torsion's chat_server (examples/chat_server.cpp).

    /usr/bin/python3 twisted_chat_clients.py --port PORT [--host 127.0.0.1] [--timeout 20]

Two clients, A and B, walk through a script: greetings, /nick (accepted, taken, invalid), a line
from A relayed to B, lines of the server's maximum length (16384 bytes) and the empty line relayed
to A, and a line one byte over the maximum, for which the server must drop B (and relay nothing).
Then A takes B's old name, which proves the server forgot B. Every line each client receives must
be the next one the script expects, and nothing else may arrive. Prints "OK chat" and exits 0, or
prints "FAIL ..." to stderr and exits 1 (also on the --timeout watchdog).
"""

import argparse
import sys

from twisted.internet import protocol, reactor
from twisted.protocols.basic import LineReceiver

MAX = 16384  # the server's LineReceiver.MAX_LENGTH


class Script:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.clients = {}
        self.inbox = {"A": [], "B": []}
        self.closed = set()
        self.status = None
        self.names = {}
        long_line = b"x" * MAX
        self.steps = [
            ("connect", "A"),
            ("greeting", "A"),
            ("connect", "B"),
            ("greeting", "B"),
            ("send", "A", b"/nick alice"),
            ("expect", "A", b"* you are alice"),
            ("expect", "B", lambda: b"* " + self.names["A"] + b" is now known as alice"),
            ("send", "B", b"/nick alice"),
            ("expect", "B", b"! name taken"),
            ("send", "B", b"/nick bad name!"),
            ("expect", "B", b"! invalid name"),
            ("send", "B", b"/nick bob"),
            ("expect", "B", b"* you are bob"),
            ("expect", "A", lambda: b"* " + self.names["B"] + b" is now known as bob"),
            ("send", "A", b"hello from twisted"),
            ("expect", "B", b"alice: hello from twisted"),
            ("send", "B", long_line),
            ("expect", "A", b"bob: " + long_line),
            ("send", "B", b""),
            ("expect", "A", b"bob: "),
            ("send", "B", long_line + b"y"),
            ("expect_closed", "B"),
            ("send", "A", b"/nick bob"),
            ("expect", "A", b"* you are bob"),
            ("done",),
        ]

    def fail(self, why):
        if self.status is None:
            self.status = 1
            sys.stderr.write("twisted_chat_clients.py: FAIL %s\n" % why)
            if reactor.running:
                reactor.stop()

    def advance(self):
        while self.status is None and self.steps:
            step = self.steps[0]
            kind, who = step[0], step[1] if len(step) > 1 else None
            if kind == "connect":
                self.steps.pop(0)
                reactor.connectTCP(self.host, self.port, ChatClientFactory(self, who), timeout=10)
                return
            if kind == "send":
                self.steps.pop(0)
                self.clients[who].sendLine(step[2])
                continue
            if kind in ("greeting", "expect"):
                if not self.inbox[who]:
                    return
                line = self.inbox[who].pop(0)
                if kind == "greeting":
                    if not line.startswith(b"* you are guest"):
                        return self.fail("%s: expected a greeting, got %r" % (who, line[:80]))
                    self.names[who] = line[len(b"* you are "):]
                else:
                    want = step[2]() if callable(step[2]) else step[2]
                    if line != want:
                        return self.fail("%s: expected %r, got %r" % (who, want[:80], line[:80]))
                self.steps.pop(0)
                continue
            if kind == "expect_closed":
                if who not in self.closed:
                    return
                if self.inbox[who]:
                    return self.fail("%s: unexpected line %r" % (who, self.inbox[who][0][:80]))
                self.steps.pop(0)
                continue
            if kind == "done":
                extra = [(w, l[:80]) for w in self.inbox for l in self.inbox[w]]
                if extra:
                    return self.fail("unexpected lines %r" % extra)
                self.status = 0
                sys.stdout.write("OK chat\n")
                sys.stdout.flush()
                self.clients["A"].transport.loseConnection()
                reactor.callLater(0, reactor.stop)
                return


class ChatClient(LineReceiver):
    MAX_LENGTH = 4 * MAX  # relayed lines carry a "name: " prefix

    def __init__(self, script, who):
        self.script, self.who = script, who

    def connectionMade(self):
        self.script.clients[self.who] = self
        self.script.advance()

    def lineReceived(self, line):
        self.script.inbox[self.who].append(line)
        self.script.advance()

    def connectionLost(self, reason):
        self.script.closed.add(self.who)
        if self.script.status is None and not (self.script.steps and self.script.steps[0][0] == "expect_closed"):
            self.script.fail("%s lost its connection unexpectedly: %s" % (self.who, reason.getErrorMessage()))
        self.script.advance()


class ChatClientFactory(protocol.ClientFactory):
    def __init__(self, script, who):
        self.script, self.who = script, who

    def buildProtocol(self, addr):
        return ChatClient(self.script, self.who)

    def clientConnectionFailed(self, connector, reason):
        self.script.fail("%s could not connect: %s" % (self.who, reason.getErrorMessage()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()
    script = Script(args.host, args.port)
    reactor.callWhenRunning(script.advance)
    reactor.callLater(args.timeout, script.fail, "timed out at step %r" % (script.steps[:1],))
    reactor.run()
    return 0 if script.status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
