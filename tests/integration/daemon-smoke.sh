#!/bin/bash
# The daemon on its embedded default: it starts, logs a JSON listener_up line
# for 127.0.0.1:2855, logs each accepted connection, and stops on SIGTERM with
# exit status 0.  Usage: daemon-smoke.sh MSRP-EDGE EXAMPLE.conf
set -euo pipefail
daemon="$1"
example_conf="$2"
work=$(mktemp -d)
pid=""
cleanup () {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail () { echo "FAIL: $*"; echo "--- daemon log:"; cat "$work/log"; exit 1; }

"$daemon" --version | grep -Eq '^msrp-edge [0-9]+\.[0-9]+\.[0-9]+$' ||
  fail "--version output"
if "$daemon" --log-level=loud 2>"$work/err"; then fail "bad --log-level accepted"; fi
grep -q "log level 'loud'" "$work/err" || fail "bad --log-level message"

"$daemon" --check-config "$example_conf" >"$work/out" ||
  fail "example configuration rejected: $(cat "$work/out")"
printf '[relay]\nprobation=never\n' >"$work/bad.conf"
if "$daemon" --check-config "$work/bad.conf" 2>"$work/err"; then
  fail "bad configuration accepted"
fi
grep -q "\[relay\] probation: 'never' is not a whole number" "$work/err" ||
  fail "bad configuration message: $(cat "$work/err")"

"$daemon" 2>"$work/log" &
pid=$!
for _ in $(seq 50); do
  grep -q '"event":"listener_up"' "$work/log" 2>/dev/null && break
  sleep 0.1
done
grep -q '"event":"listener_up".*"addr":"127.0.0.1:2855"' "$work/log" ||
  fail "no listener_up for 127.0.0.1:2855"

exec 3<>/dev/tcp/127.0.0.1/2855 || fail "cannot connect to 127.0.0.1:2855"
exec 3>&-
for _ in $(seq 50); do
  grep -q '"event":"connection_closed"' "$work/log" && break
  sleep 0.1
done
grep -q '"event":"connection_closed".*"peer":"127.0.0.1:' "$work/log" ||
  fail "accepted connection not logged"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$work/log" || fail "a log line is not JSON"
echo "daemon smoke: ok"
