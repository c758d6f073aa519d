#!/bin/bash
# msrpcat's RFC 4976 client side against a stand-in relay (fake-relay.py):
# Digest AUTH with SHA-256 and MD5 (password and HA1), the Use-Path turned
# into the To-Path of SENDs and into the a=path to publish, two relays in a
# row, and the failures: wrong password, 403, a relay whose rspauth is
# wrong.  The real relay (msrp-edge) has its own tests.
#
# Usage: msrpcat-auth.sh MSRPCAT FAKE-RELAY.PY
set -euo pipefail
msrpcat="$1"
relay_py="$2"
work=$(mktemp -d)
relay_pid=""
recv_pid=""

cleanup () {
  [ -n "$relay_pid" ] && kill -KILL "$relay_pid" 2>/dev/null || true
  [ -n "$recv_pid" ] && kill -KILL "$recv_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail () {
  echo "FAIL: $*"
  for f in "$work"/*.err "$work/relay.log"; do
    [ -f "$f" ] && { echo "--- $f:"; tail -20 "$f"; }
  done
  exit 1
}

python3 "$relay_py" "$work/port" "$work/relay.log" 2>"$work/relay.err" &
relay_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "the fake relay did not start"
relay="msrp://127.0.0.1:$(cat "$work/port");tcp"
peer="msrp://127.0.0.1:9/peersession;tcp"

# --- a receiver publishes its path: Use-Path reversed, then its URI -------
"$msrpcat" --relay "$relay" --user alice --password secret --receive \
  --print-use-path >"$work/recv.out" 2>"$work/recv.err" &
recv_pid=$!
for _ in $(seq 100); do [ -s "$work/recv.out" ] && break; sleep 0.1; done
path=$(head -1 "$work/recv.out")
echo "$path" | grep -Eq '^msrp://127\.0\.0\.1:[0-9]+/r1sess[0-9]+;tcp msrp://127\.0\.0\.1:[0-9]+/[A-Za-z0-9]+;tcp$' ||
  fail "published path: '$path'"
grep -q "AUTH R1 user=alice alg=SHA-256 .* ok=True" "$work/relay.log" ||
  fail "SHA-256 was not chosen first"
kill -TERM "$recv_pid"
rc=0; wait "$recv_pid" || rc=$?
recv_pid=""
[ "$rc" -eq 0 ] || fail "receiver stopped by SIGTERM: exit $rc"
echo "ok: AUTH (SHA-256), path for the SDP printed"

# --- a sender: To-Path = Use-Path + the peer's path; Success REPORT --------
"$msrpcat" --relay "$relay" --user alice --password secret --algorithm MD5 \
  --to-path "$peer" -m "through the relay" --success-report yes --json \
  >"$work/send.out" 2>"$work/send.err" || fail "sender exit $?"
grep -Eq "^SEND to=msrp://127\.0\.0\.1:[0-9]+/r1sess[0-9]+;tcp $peer from=msrp://127\.0\.0\.1:[0-9]+/[A-Za-z0-9]+;tcp$" \
  "$work/relay.log" || fail "SEND paths"
grep -q "AUTH R1 user=alice alg=MD5 .* ok=True" "$work/relay.log" ||
  fail "--algorithm MD5 not used"
python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); assert d["sent"]["success_reports"]==1 and d["expires"]==600 and d["use_path"], d' \
  "$work/send.out" || fail "sender summary"
echo "ok: SEND through the relay, MD5 on request, Success REPORT"

# --- two relays: the second reached through the first ------------------------
: >"$work/relay.log"
ha1=$(printf 'alice:relay2.test:secret' | sha256sum | cut -d' ' -f1)
"$msrpcat" --relay "$relay" --relay "msrp://relay2.test:9;tcp" --user alice \
  --password secret --to-path "$peer" -m "two hops" 2>"$work/send.err" ||
  fail "two-relay sender exit $?"
grep -q "AUTH R2 user=alice alg=SHA-256 uri=msrp://relay2.test:9;tcp ok=True" \
  "$work/relay.log" || fail "AUTH to the second relay"
grep -Eq "^SEND to=msrp://127\.0\.0\.1:[0-9]+/r1sess[0-9]+;tcp msrp://relay2\.test:9/r2sess;tcp $peer from=" \
  "$work/relay.log" || fail "two-relay To-Path"
echo "ok: two relays, Use-Path completed with the path to the second"

# --- HA1 instead of a password (SHA-256 by its length) -----------------------
ha1=$(printf 'alice:fake.test:secret' | sha256sum | cut -d' ' -f1)
"$msrpcat" --relay "$relay" --user alice --ha1 "$ha1" --to-path "$peer" \
  -m "ha1" 2>"$work/send.err" || fail "--ha1 sender exit $?"
echo "ok: --ha1"

# --- failures ----------------------------------------------------------------
rc=0; "$msrpcat" --relay "$relay" --user alice --password wrong \
  --to-path "$peer" -m x 2>"$work/send.err" || rc=$?
[ "$rc" -eq 1 ] || fail "wrong password: exit $rc"
grep -q "refused the credentials of user 'alice'" "$work/send.err" ||
  fail "wrong password message: $(cat "$work/send.err")"
rc=0; "$msrpcat" --relay "$relay" --user bob --password secret \
  --to-path "$peer" -m x 2>"$work/send.err" || rc=$?
[ "$rc" -eq 1 ] || fail "403: exit $rc"
grep -q "403" "$work/send.err" || fail "403 message: $(cat "$work/send.err")"
rc=0; "$msrpcat" --relay "$relay" --user carol --password secret \
  --to-path "$peer" -m x 2>"$work/send.err" || rc=$?
[ "$rc" -eq 1 ] || fail "bad rspauth: exit $rc"
grep -q "Authentication-Info" "$work/send.err" ||
  fail "rspauth message: $(cat "$work/send.err")"
rc=0; "$msrpcat" --relay "$relay" --to-path "$peer" -m x -q \
  2>"$work/send.err" || rc=$?
[ "$rc" -eq 1 ] || fail "no credentials: exit $rc"
grep -q "give --user" "$work/send.err" || fail "no-credentials message"
echo "ok: wrong password, 403 and a wrong rspauth exit 1"

echo "msrpcat auth: ok"
