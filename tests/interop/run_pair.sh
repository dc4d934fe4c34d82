#!/usr/bin/env bash
# Run one server and one client as processes on loopback and check both, with every wait bounded.
#
#   run_pair.sh EXPECTED_CLIENT_STDOUT SERVER_ARGV... -- CLIENT_ARGV...
#
# 1. Starts the server. It must print one line "listening on 127.0.0.1:PORT" (within 15 s).
# 2. Runs the client, with every "@PORT@" in its arguments replaced by PORT, under a 25 s limit.
#    The client must exit 0 and its whole stdout must equal EXPECTED_CLIENT_STDOUT.
# 3. Sends the server SIGTERM. It must close its stdout (exit) within 10 s, with status 0, having
#    printed nothing after the listening line.
#
# Exits 0 when all of that holds, 77 (the test's SKIP_RETURN_CODE) when /usr/bin/python3 cannot
# import twisted, and 1 otherwise. Waits are on events (a line on a pipe, the end of a pipe, a
# process exit), each with a deadline; nothing sleeps in the hope that the other side is ready.
set -euo pipefail

python=/usr/bin/python3
listen_timeout=15
client_timeout=25
stop_timeout=10

fail() {
  echo "run_pair.sh: FAIL: $*" >&2
  exit 1
}

if ! "$python" -c 'import twisted.internet.reactor' 2>/dev/null; then
  echo "run_pair.sh: SKIP: $python cannot import twisted (install python3-twisted)"
  exit 77
fi

(($# >= 4)) || fail "usage: run_pair.sh EXPECTED_CLIENT_STDOUT SERVER_ARGV... -- CLIENT_ARGV..."
expected="$1"
shift
server=()
while (($# > 0)) && [[ "$1" != "--" ]]; do
  server+=("$1")
  shift
done
(($# > 1)) || fail "no client command after --"
shift
client=("$@")
((${#server[@]} > 0)) || fail "no server command"

server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

echo "server: ${server[*]}"
coproc SERVER { exec "${server[@]}"; }
server_pid=$SERVER_PID
# Bash closes the coproc's descriptors once it has reaped the process: keep a copy of its stdout.
exec {server_out}<&"${SERVER[0]}"

line=""
rc=0
read -r -t "$listen_timeout" line <&"$server_out" || rc=$?
if ((rc > 128)); then
  fail "the server printed no line within ${listen_timeout} s"
elif ((rc != 0)); then
  fail "the server closed its stdout without a listening line (did it start? see stderr above)"
fi
echo "server said: $line"
[[ "$line" =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] || fail "unexpected first line '$line'"
port="${BASH_REMATCH[1]}"
((port > 0 && port < 65536)) || fail "bad port $port"

client_argv=()
for a in "${client[@]}"; do
  client_argv+=("${a//@PORT@/$port}")
done
echo "client: ${client_argv[*]}"
rc=0
got="$(timeout -k 3 "$client_timeout" "${client_argv[@]}" {server_out}<&-)" || rc=$?
echo "client said: $got"
if ((rc == 124 || rc == 137)); then
  fail "the client did not finish within ${client_timeout} s"
fi
((rc == 0)) || fail "the client exited with status $rc"
[[ "$got" == "$expected" ]] || fail "client stdout was '$got', expected '$expected'"

kill -TERM "$server_pid" 2>/dev/null || fail "the server (pid $server_pid) was gone before SIGTERM"
extra=""
rc=0
read -r -t "$stop_timeout" extra <&"$server_out" || rc=$?
if ((rc == 0)); then
  fail "the server printed more than one line: '$extra'"
elif ((rc > 128)); then
  fail "the server did not exit within ${stop_timeout} s of SIGTERM"
fi
[[ -z "$extra" ]] || fail "the server printed a partial line after the listening line: '$extra'"
rc=0
wait "$server_pid" || rc=$?
server_pid=""
((rc == 0)) || fail "the server exited with status $rc after SIGTERM, expected 0"
echo "run_pair.sh: OK"
