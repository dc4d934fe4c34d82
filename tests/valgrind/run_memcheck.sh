#!/usr/bin/env bash
# Valgrind memcheck over the echo_server example under a short load:
#
#   run_memcheck.sh VALGRIND ECHO_SERVER ECHO_CLIENT STYLE
#
# 1. Starts ECHO_SERVER --port 0 --style STYLE under memcheck (--leak-check=full, every error and
#    every definite or possible leak counted, --error-exitcode=99). It must print its
#    "listening on 127.0.0.1:PORT" line within 60 s (valgrind starts slowly).
# 2. Runs ECHO_CLIENT against it: 4 connections echoing for 1 s, every byte verified; it must exit 0.
# 3. Sends the server SIGTERM: it must exit within 30 s with status 0 (99 would be memcheck's
#    verdict), and memcheck's log must say "ERROR SUMMARY: 0 errors".
# Every wait is on an event (a line, a process exit) with a deadline.
set -euo pipefail

(($# == 4)) || { echo "usage: run_memcheck.sh VALGRIND ECHO_SERVER ECHO_CLIENT STYLE" >&2; exit 2; }
valgrind="$1" server="$2" client="$3" style="$4"

fail() {
  echo "run_memcheck.sh: FAIL: $*" >&2
  [[ -f "${log:-}" ]] && cat "$log" >&2
  exit 1
}

log="$(mktemp)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT

coproc SERVER { exec "$valgrind" --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible \
  --log-file="$log" "$server" --port 0 --style "$style"; }
server_pid=$SERVER_PID
exec {server_out}<&"${SERVER[0]}"

line=""
read -r -t 60 line <&"$server_out" || fail "no listening line within 60 s"
[[ "$line" =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] || fail "unexpected first line '$line'"
port="${BASH_REMATCH[1]}"

rc=0
timeout -k 3 30 "$client" --host 127.0.0.1 --port "$port" --connections 4 --duration 1 {server_out}<&- || rc=$?
((rc == 0)) || fail "echo_client exited with status $rc"

kill -TERM "$server_pid"
# The server's stdout closes when it exits (end of file); a timeout means it did not.
rc=0
while read -r -t 30 line <&"$server_out"; do echo "server: $line"; done || rc=$?
((rc <= 128)) || fail "echo_server did not exit within 30 s of SIGTERM"
rc=0
wait "$server_pid" || rc=$?
server_pid=""
((rc == 0)) || fail "echo_server under memcheck exited with status $rc (99: memcheck found errors)"
grep -q "ERROR SUMMARY: 0 errors" "$log" || fail "memcheck reported errors"
grep -E "ERROR SUMMARY|in use at exit" "$log"
echo "run_memcheck.sh: OK"
