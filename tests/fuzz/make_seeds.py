#!/usr/bin/env python3
"""Writes the seed corpus (tests/fuzz/corpus/<target>/) and documents each target's input layout.

Run it from anywhere after changing a seed; it rewrites only the seeds it knows (regression inputs
saved from fuzzing runs live next to them, named regress-*). The boundary cases come from
twisted-semantics §4.1-§4.4, with small limits in place of Twisted's defaults.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CRLF = b"\r\n"

# One byte picks the chunking: 0 whole input, 1/2/3 that many bytes at a time, 4-7 random sizes up
# to 4/16/64/1024 (the high bits seed them).
WHOLE, BYTE, RANDOM4, RANDOM16 = 0, 1, 4 | (5 << 3), 5 | (9 << 3)
# One byte picks a limit: 0..239 as is, 240.. from a table (246 = 99999, 255 = SIZE_MAX).
MAX_99999, MAX_SIZE_MAX = 246, 255


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def delim(d):
    return bytes([len(d)]) + d


# line_framer: [flags: bit 0 LineOnlyReceiver rules, bits 1+ feed mode append/borrow/prepare]
#              [max] [delimiter length][delimiter] [chunking] payload
def framer(flags, max_length, d, chunking, payload):
    return bytes([flags, max_length]) + delim(d) + bytes([chunking]) + payload


LR, LO = 0, 1
BORROW, PREPARE = 2, 4
write("line_framer", "lr-exactly-max", framer(LR, 5, CRLF, WHOLE, b"12345\r\n"))
write("line_framer", "lr-over-max-terminated", framer(LR, 5, CRLF, WHOLE, b"123456\r\nnext\r\n"))
write("line_framer", "lr-unterminated-max-plus-1-waits", framer(LR | BORROW, 5, CRLF, WHOLE, b"123456"))
write("line_framer", "lr-unterminated-bytewise", framer(LR | PREPARE, 5, CRLF, BYTE, b"1234567"))
write("line_framer", "lo-over-max-terminated", framer(LO, 5, CRLF, WHOLE, b"123456\r\nnext\r\nrest"))
write("line_framer", "lo-unterminated-max-plus-1", framer(LO | BORROW, 5, CRLF, BYTE, b"123456"))
write("line_framer", "overlapping-delimiter", framer(LR | BORROW, 9, b"aab", RANDOM4, b"xaaab aaaab\naab aab"))
write("line_framer", "one-byte-delimiter", framer(LO | PREPARE, 3, b"\n", RANDOM16, b"a\nbb\nccc\ndddd\n\n"))

# line_receiver / line_only_receiver: [flags] [max] [delimiter length][delimiter]
#   [alternative delimiter length][alternative] [extra: raw-mode byte count, 0 = for good] [chunking]
#   payload. Lines R P Q C D S are commands (see the targets).
def lines(flags, max_length, d, alt, extra, chunking, payload):
    return bytes([flags, max_length]) + delim(d) + delim(alt) + bytes([extra, chunking]) + payload


LOSE = 1  # lineLengthExceeded loses the connection
RESUME = 2  # resume after every chunk
FLIP1 = 4  # the driver flips raw/line mode after every chunk
for target in ("line_receiver", "line_only_receiver"):
    write(target, "quit-then-more", lines(LOSE, 20, CRLF, b"\n", 0, WHOLE, b"a\r\nQ\r\nb\r\nc\r\n"))
    write(target, "quit-then-more-chunked", lines(LOSE, 20, CRLF, b"\n", 0, RANDOM4, b"a\r\nQ\r\nb\r\nc\r\nd\r\n"))
    write(target, "over-max-terminated", lines(LOSE, 5, CRLF, b"\n", 0, WHOLE, b"123456\r\nnext\r\nrest"))
    write(target, "over-max-kept-connection", lines(0, 5, CRLF, b"\n", 0, RANDOM4, b"123456\r\nnext\r\nrest\r\n1234567"))
    write(target, "unterminated-max-plus-1", lines(LOSE, 5, CRLF, b"\n", 0, BYTE, b"123456"))
    write(target, "unterminated-max-plus-2", lines(0, 5, CRLF, b"\n", 0, BYTE, b"1234567"))
    write(target, "reentrant", lines(0, 20, CRLF, b"\n", 0, WHOLE, b"S\r\nafter\r\nS\r\n"))
    write(target, "switch-delimiter", lines(0, 20, CRLF, b"\n", 0, RANDOM4, b"x\r\nD\r\ny\nD\nz\r\n"))
write("line_receiver", "raw-for-good", lines(0, 20, CRLF, b"\n", 0, WHOLE, b"one\r\nR\r\nrawbytes\r\ntwo\r\n"))
write("line_receiver", "raw-8-bytes", lines(0, 20, CRLF, b"\n", 8, RANDOM4, b"one\r\nR\r\nrawbytesLINEtwo\r\nthree\r\n"))
write("line_receiver", "clear-buffer", lines(0, 20, CRLF, b"\n", 0, WHOLE, b"C\r\nrest1\r\nrest2"))
write("line_receiver", "pause-resume", lines(RESUME, 20, CRLF, b"\n", 0, RANDOM4, b"P\r\na\r\nb\r\nP\r\nc\r\n"))
write("line_receiver", "pause-to-the-end", lines(0, 20, CRLF, b"\n", 0, BYTE, b"P\r\na\r\nb\r\n"))

# netstring: [flags: feed mode] [max] [chunking] payload
def netstring(flags, max_length, chunking, payload):
    return bytes([flags, max_length, chunking]) + payload


for i, (name, data) in enumerate([
    ("abc", b"3:abc,"), ("empty", b"0:,"), ("partial", b"3:ab"), ("leading-zero", b"03:abc,"),
    ("too-long-payload", b"3:abcd,"), ("no-comma", b"3:abc;"), ("no-length", b"abc"),
    ("over-max", b"100000:"), ("too-many-digits", b"1234567:"), ("max-partial", b"99999:"),
    ("several", b"3:abc,0:,5:hello,1:S,1:Q,2:ok,")]):
    write("netstring", name, netstring(i % 3, MAX_99999, (WHOLE, BYTE, RANDOM4)[i % 3], data))
for i, data in enumerate([b"9999999999999999999999", b"abc", b"4:abcde", b"51:" + b"a" * 50 + b"b,"]):
    write("netstring", "twisted-illegal-%d" % i, netstring(0, 50, BYTE, data))

# int_string: [flags: bits 0-1 prefix 1/2/4, bits 2-3 feed mode, bit 4 resume after every chunk]
#             [max] [chunking] payload. Strings P S Q W<rest> are commands.
def int_string(flags, max_length, chunking, payload):
    return bytes([flags, max_length, chunking]) + payload


def prefixed(n, payload):
    return len(payload).to_bytes(n, "big") + payload


write("int_string", "int32-foo", int_string(2, MAX_99999, WHOLE, prefixed(4, b"foo")))
for flags, n in ((0, 1), (1, 2), (2, 4)):
    write("int_string", "limit-10-int%d" % (8 * n),
          int_string(flags | 4, 10, RANDOM4, prefixed(n, b"0123456789") + prefixed(n, b"0123456789a")))
write("int_string", "commands-int16",
      int_string(1 | 16, 99, RANDOM4, b"".join(prefixed(2, p) for p in (b"P", b"a", b"S", b"Q", b"b"))))
write("int_string", "set-recvd-int8", int_string(0 | 8, 99, WHOLE, prefixed(1, b"W" + prefixed(1, b"new")) + prefixed(1, b"old")))
write("int_string", "int32-huge-prefix", int_string(2, MAX_99999, BYTE, b"\xff\xff\xff\xff"))

# address: the whole input is the text (and its bytes are binary values too).
for name, text in [("v4", b"127.0.0.1"), ("v6", b"::1"), ("v6-mapped", b"::ffff:1.2.3.4"),
                   ("v6-scope-number", b"fe80::1%2"), ("v6-scope-name", b"fe80::1%lo"),
                   ("endpoint-v4", b"1.2.3.4:65535"), ("endpoint-v6", b"[fe80::1%2]:8080"),
                   ("port-leading-zeros", b"00080"), ("port-too-big", b"1.2.3.4:65536"),
                   ("v6-full", b"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")]:
    write("address", name, text)
# A sockaddr_in6 (family 10, port 80, ::1, scope 3) as raw bytes.
write("address", "sockaddr-in6", b"\x0a\x00\x00\x50" + b"\0" * 4 + b"\0" * 15 + b"\x01" + b"\x03\0\0\0")

# Regression inputs for bugs the fuzzers found (see the commits that fixed them).
# line_framer: a zero threshold (max_length 0, empty delimiter) reported an empty buffer too long
# forever; max_length SIZE_MAX wrapped max_length + len(delimiter) and made every partial line too long.
write("line_framer", "regress-zero-threshold-empty-buffer", framer(LR, 0, b"", WHOLE, b"abc"))
write("line_framer", "regress-max-size-max", framer(LR | BORROW, MAX_SIZE_MAX, CRLF, BYTE, b"abc\r\ndef"))
write("line_receiver", "regress-max-size-max", lines(0, MAX_SIZE_MAX, CRLF, b"\n", 0, RANDOM4, b"abc\r\ndef\r\ngh"))
# line_receiver: setRawMode() from outside a callback with a partial line buffered left the framer's
# search start behind, so after setLineMode() a delimiter at the start of new data was missed.
write("line_receiver", "regress-raw-mode-from-outside",
      lines(FLIP1, 20, CRLF, b"\n", 3, RANDOM4, b"abc\r\nde\r\nfgh\r\nij\r\n"))
# netstring with max_length SIZE_MAX: 20+ digit lengths overflowed (a wrapped length was awaited),
# and the length SIZE_MAX made length + 1 wrap to 0, so the comma was read from data[SIZE_MAX].
write("netstring", "regress-length-overflow", netstring(0, MAX_SIZE_MAX, WHOLE, b"44444444444444444444:xyz,"))
write("netstring", "regress-length-size-max", netstring(1, MAX_SIZE_MAX, BYTE, b"18446744073709551615:x"))
