#!/bin/bash
# The daemon on its embedded default: it starts, logs a JSON listener_up line
# for 127.0.0.1:2855, logs each accepted and closed connection, answers an
# AUTH with a 401 and its Digest challenges, reloads on SIGHUP, and stops on
# SIGTERM with exit status 0.  Usage: daemon-smoke.sh MSRP-EDGE EXAMPLE.conf
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
grep -q '"event":"connection_accepted".*"peer":"127.0.0.1:' "$work/log" ||
  fail "accepted connection not logged"
grep -q '"event":"connection_closed".*"peer":"127.0.0.1:' "$work/log" ||
  fail "closed connection not logged"

# An AUTH to the relay (RFC 4976 section 5.1) gets a 401 with a SHA-256 and
# an MD5 challenge.
exec 3<>/dev/tcp/127.0.0.1/2855 || fail "cannot connect to 127.0.0.1:2855"
printf 'MSRP smk1 AUTH\r\nTo-Path: msrp://127.0.0.1:2855;tcp\r\nFrom-Path: msrp://smoke.invalid:9/s;tcp\r\n-------smk1$\r\n' >&3
reply=""
while IFS= read -r -t 5 line <&3; do
  reply+="$line"$'\n'
  case "$line" in -------smk1*) break ;; esac
done
exec 3>&-
grep -q '^MSRP smk1 401' <<<"$reply" || fail "no 401 to AUTH: $reply"
[ "$(grep -c '^WWW-Authenticate: Digest' <<<"$reply")" -eq 2 ] ||
  fail "not two challenges: $reply"
grep -q 'algorithm=SHA-256' <<<"$reply" || fail "no SHA-256 challenge"

kill -HUP "$pid"
for _ in $(seq 50); do
  grep -q '"event":"config_reloaded"' "$work/log" && break
  sleep 0.1
done
grep -q '"event":"config_reloaded"' "$work/log" || fail "no config_reloaded"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
grep -q '"event":"stopping"' "$work/log" || fail "no stopping event"
grep -q '"event":"stopped"' "$work/log" || fail "no stopped event"
python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$work/log" || fail "a log line is not JSON"
echo "daemon smoke: ok"
