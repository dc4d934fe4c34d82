#!/usr/bin/env bash
# Valgrind memcheck over examples/echo_server under a short load (issue 6):
#
#   echo_server_memcheck.sh VALGRIND ECHO_SERVER ECHO_CLIENT STYLE
#
# Starts the server under memcheck (errors exit 99, full leak check), waits for its listening line,
# runs echo_client for 1 s with 4 connections (which verifies every echoed byte), sends SIGTERM and
# requires exit status 0: no memcheck error, no leak, a clean shutdown. Every wait is bounded.
# Valgrind does not see the kernel reading and writing buffers through io_uring, so this checks
# user-space accesses and leaks.
set -euo pipefail
valgrind="$1" server="$2" client="$3" style="$4"
log="$(mktemp)"
trap 'rm -f "$log"; [[ -n "${pid:-}" ]] && kill -KILL "$pid" 2>/dev/null || true' EXIT

coproc SERVER { exec "$valgrind" --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --log-file="$log" "$server" --host 127.0.0.1 --port 0 --style "$style"; }
pid=$SERVER_PID
exec {out}<&"${SERVER[0]}"
line=""
read -r -t 60 line <&"$out" || { echo "no listening line from the server under valgrind"; cat "$log"; exit 1; }
[[ "$line" =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] || { echo "unexpected line '$line'"; exit 1; }
port="${BASH_REMATCH[1]}"
timeout -k 3 30 "$client" --host 127.0.0.1 --port "$port" --connections 4 --duration 1 {out}<&-
kill -TERM "$pid"
rc=0
for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid" || rc=$?
pid=""
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$log" || true
if ((rc != 0)); then
  echo "echo_server under memcheck exited with status $rc (99: memcheck found errors)"
  cat "$log"
  exit 1
fi
echo "memcheck: echo_server --style $style: 0 errors, no leaks, exit 0"
