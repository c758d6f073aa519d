#!/bin/bash
# ng-ping.sh: rtpengine's own ng client, rtpengine-ng-client (Debian package
# rtpengine-utils), drives msrp-edge's ng control server unchanged.
#
# Usage: ng-ping.sh NG-STUB
#   NG-STUB: the tests/integration/ng-stub binary (the server with a stub
#   handler).  Skips (exit 77) when rtpengine-ng-client is not installed.
#
# Checks, over IPv4 and (when the host has it) IPv6 loopback: ping gets
# pong; an offer carrying call-id, from-tag, received-from, flags and an
# SDP gets its SDP back with the stub's warning, which shows the server
# read received-from and the flags; answer, delete, query, list and
# statistics get "ok"; an unknown command gets the error-reason "unknown
# command 'x'"; and the log stream names each request.
set -euo pipefail

stub=$1
client=$(command -v rtpengine-ng-client || true)
if [ -z "$client" ]; then
  echo "rtpengine-ng-client not installed (Debian package rtpengine-utils): skipped"
  exit 77
fi

work=$(mktemp -d)
pid=
cleanup () {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail () {
  echo "FAIL: $*"
  echo "--- ng-stub log:"
  cat "$work/log" || true
  exit 1
}

ips=(127.0.0.1)
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' 2>/dev/null; then
  ips+=(::1)
fi

"$stub" "${ips[@]}" >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do
  grep -q '^ready$' "$work/out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "ng-stub exited"
  sleep 0.1
done
grep -q '^ready$' "$work/out" || fail "ng-stub did not start"

# One bound address a line, "127.0.0.1:PORT" / "[::1]:PORT", then "ready".
mapfile -t bound < <(grep -v '^ready$' "$work/out")
[ "${#bound[@]}" -eq "${#ips[@]}" ] || fail "ng-stub bound ${#bound[@]} addresses"

sdp=$'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=message 2855 TCP/MSRP *\r\na=path:msrp://192.0.2.10:2855/s1;tcp\r\n'

for addr in "${bound[@]}"; do
  port=${addr##*:}
  host=${addr%:*}
  host=${host#[}
  host=${host%]}
  ng=("$client" --proxy-address="$host" --proxy-port="$port")
  echo "--- $addr"

  out=$(timeout 10 "${ng[@]}" ping 2>&1) || fail "ping via $addr: $out"
  grep -q "result => 'pong'" <<<"$out" || fail "ping via $addr: $out"
  echo "ping: pong"

  out=$(timeout 10 "${ng[@]}" --call-id="call-$port@example.net" \
        --from-tag=ft1 --received-from=IP4 --received-from=192.0.2.10 \
        --trust-address --flags=callee-reachable --sdp="$sdp" offer 2>&1) ||
    fail "offer via $addr: $out"
  grep -q 'a=path:msrp://192.0.2.10:2855/s1;tcp' <<<"${out#*New SDP}" ||
    fail "offer via $addr: no SDP back: $out"
  grep -q "stub: flags \[trust address,callee-reachable\], received from 192.0.2.10" <<<"$out" ||
    fail "offer via $addr: flags or received-from not read: $out"
  echo "offer: SDP back, flags and received-from read"

  out=$(timeout 10 "${ng[@]}" --call-id="call-$port@example.net" \
        --from-tag=ft1 --to-tag=tt1 --sdp="$sdp" answer 2>&1) ||
    fail "answer via $addr: $out"
  grep -q 'New SDP' <<<"$out" || fail "answer via $addr: $out"
  echo "answer: SDP back"

  for cmd in delete query; do
    out=$(timeout 10 "${ng[@]}" --call-id="call-$port@example.net" \
          --from-tag=ft1 "$cmd" 2>&1) || fail "$cmd via $addr: $out"
    echo "$cmd: ok"
  done
  out=$(timeout 10 "${ng[@]}" list 2>&1) || fail "list via $addr: $out"
  grep -q "call-$port@example.net" <<<"$out" || fail "list via $addr: $out"
  echo "list: ok"
  out=$(timeout 10 "${ng[@]}" statistics 2>&1) ||
    fail "statistics via $addr: $out"
  grep -q "requests => " <<<"$out" || fail "statistics via $addr: $out"
  echo "statistics: ok"

  if out=$(timeout 10 "${ng[@]}" frobnicate 2>&1); then
    fail "unknown command via $addr succeeded: $out"
  fi
  grep -q "Error reason: \"unknown command 'frobnicate'\"" <<<"$out" ||
    fail "unknown command via $addr: $out"
  echo "frobnicate: error-reason \"unknown command 'frobnicate'\""
done

# The log stream names the requests and where they came from.
grep -q '"event":"control_request".*"command":"offer".*"call_id":"call-' "$work/log" ||
  fail "no control_request event for the offer"
grep -q '"event":"control_error".*"reason":"unknown command' "$work/log" ||
  fail "no control_error event for the unknown command"
n=$(grep -c '"event":"control_up"' "$work/log")
[ "$n" -eq "${#ips[@]}" ] || fail "$n control_up events"
echo "PASS"
