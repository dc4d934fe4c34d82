#!/usr/bin/python3
"""Smoke test of the baseline echo servers (ctest "bench: baselines echo"): each one starts, says
where it listens, echoes 64 B, 16 KiB and pipelined messages byte for byte from several connections
at once, closes a half-closed connection once its echo is out, and exits 0 on SIGTERM.
  smoke_test.py SERVER [SERVER...]"""
import os
import select
import signal
import socket
import subprocess
import sys
import threading

DEADLINE_S = 20


def start(path):
    proc = subprocess.Popen([path], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    ready, _, _ = select.select([proc.stdout], [], [], 5)
    line = proc.stdout.readline().decode().strip() if ready else ""
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"{path}: expected 'listening on HOST:PORT' within 5 s, got {line!r}")
    host, _, port = line[len("listening on "):].rpartition(":")
    return proc, host.strip("[]"), int(port)


def echo_session(host, port, failures):
    """Pipelines messages of several sizes, reading concurrently so a deep pipeline cannot stall."""
    try:
        s = socket.create_connection((host, port), timeout=DEADLINE_S)
        out = b"".join(os.urandom(size) for size in [64] * 100 + [16384] * 20 + [4096] * 50 + [100000])
        got = bytearray()

        def receive():
            while len(got) < len(out):
                data = s.recv(1 << 20)
                if not data:
                    break
                got.extend(data)

        reader = threading.Thread(target=receive)
        reader.start()
        s.sendall(out)
        reader.join(DEADLINE_S)
        if bytes(got) != out:
            failures.append(f"echoed {len(got)} bytes, expected {len(out)} (or the bytes differ)")
        s.shutdown(socket.SHUT_WR)
        if s.recv(1) != b"":
            failures.append("the server did not close after the client's end of stream")
        s.close()
    except OSError as e:
        failures.append(str(e))


def main():
    for path in sys.argv[1:]:
        proc, host, port = start(path)
        try:
            failures = []
            sessions = [threading.Thread(target=echo_session, args=(host, port, failures)) for _ in range(8)]
            for t in sessions:
                t.start()
            for t in sessions:
                t.join(DEADLINE_S)
            if failures:
                sys.exit(f"{path}: " + "; ".join(failures))
            proc.send_signal(signal.SIGTERM)
            status = proc.wait(5)
            if status != 0:
                sys.exit(f"{path}: exited {status} on SIGTERM")
            print(f"{os.path.basename(path)}: ok")
        finally:
            if proc.poll() is None:
                proc.kill()


if __name__ == "__main__":
    main()
