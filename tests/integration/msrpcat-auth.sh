#!/bin/bash
# msrpcat's RFC 4976 client side against the real relay, msrp-edge: Digest
# AUTH with SHA-256 and MD5 (password and HA1), the Use-Path turned into
# the To-Path of SENDs and into the a=path to publish, two relays in a row
# (the second reached through the first), and the failures: wrong
# password, 403 (a locked user), a relay whose rspauth is wrong (msrp-edge
# behind a proxy that zeroes rspauth: an impostor that cannot know HA1),
# no credentials.
#
# Usage: msrpcat-auth.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"

# edge1 (realm r1.test): alice has an MD5 and a SHA-256 line, bob is
# locked.  edge2 (realm relay2.test) is the second relay.  edge3 is reached
# through a proxy that zeroes rspauth: its public host is 127.0.0.2, where
# the proxy listens on edge3's port, so that the URIs clients use through
# the proxy are edge3's own.
users_file "$WORK/users1" r1.test alice:secret:md5 alice:secret:sha256 \
  bob:secret:locked-md5 dave:secret:sha256
users_file "$WORK/users2" relay2.test alice:secret:sha256
users_file "$WORK/users3" r3.test carol:secret:sha256
edge_start edge1 "[auth]\nrealm=r1.test\nusers-file=$WORK/users1"
edge_start edge2 "[auth]\nrealm=relay2.test\nusers-file=$WORK/users2"
edge_start edge3 --public-host 127.0.0.2 "[auth]\nrealm=r3.test\nusers-file=$WORK/users3"
relay="$edge1_uri"

# --- a receiver publishes its path: Use-Path reversed, then its URI -------
mc_start recv --relay "$relay" --user dave --password secret --receive \
  --print-use-path -v
path=$(mc_path recv)
[[ "$path" =~ ^msrp://127\.0\.0\.1:$edge1_port/[A-Za-z0-9]{16}\;tcp\ msrp://127\.0\.0\.1:[0-9]+/[A-Za-z0-9]+\;tcp$ ]] ||
  fail "published path: '$path'"
grep -q 'answering the SHA-256 challenge' "$WORK/recv.err" &&
  ! grep -q 'answering the MD5 challenge' "$WORK/recv.err" ||
  fail "SHA-256 was not chosen first"
log_match "$WORK/edge1.log" auth_ok user=dave >/dev/null || fail "no auth_ok for dave"
note "AUTH (SHA-256), path for the SDP printed"

# --- a sender: To-Path = Use-Path + the peer's path; Success REPORT --------
mc_run send --relay "$relay" --user alice --password secret --algorithm MD5 \
  --expires 600 -v --to-path "$path" -m "through the relay" \
  --success-report yes --json
[ "$rc" -eq 0 ] || fail "sender exit $rc"
grep -q 'answering the MD5 challenge' "$WORK/send.err" &&
  ! grep -q 'answering the SHA-256 challenge' "$WORK/send.err" ||
  fail "--algorithm MD5 not used"
python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); assert d["sent"]["success_reports"]==1 and d["expires"]==600 and d["use_path"], d' \
  "$WORK/send.out" || fail "sender summary"
session=$(json_last "$WORK/send.out" 'd["use_path"].split("/")[3].split(";")[0]')
wait_log "$WORK/edge1.log" 10 message_relayed session="$session" outcome=delivered ||
  fail "edge1 did not relay alice's SEND"
grep -q "through the relay" "$WORK/recv.out" || fail "the receiver did not get the message"
note "SEND through the relay, MD5 on request, Expires 600, Success REPORT"

# --- two relays: the second reached through the first ------------------------
mc_run send2 --relay "$relay" --relay "$edge2_uri" --user alice \
  --password secret --to-path "$path" -m "two hops" --success-report yes --json
[ "$rc" -eq 0 ] || fail "two-relay sender exit $rc"
use_path=$(json_last "$WORK/send2.out" 'd["use_path"]')
[[ "$use_path" =~ ^msrp://127\.0\.0\.1:$edge1_port/[A-Za-z0-9]{16}\;tcp\ msrp://127\.0\.0\.1:$edge2_port/([A-Za-z0-9]{16})\;tcp$ ]] ||
  fail "two-relay Use-Path: $use_path"
session2=${BASH_REMATCH[1]}
log_match "$WORK/edge2.log" auth_ok user=alice session="$session2" >/dev/null ||
  fail "AUTH to the second relay"
wait_log "$WORK/edge2.log" 10 message_relayed session="$session2" outcome=delivered ||
  fail "edge2 did not relay the two-hop SEND"
wait_until 10 grep -q "two hops" "$WORK/recv.out" || fail "the two-hop message did not arrive"
note "two relays, Use-Path completed with the path to the second"

# --- HA1 instead of a password (SHA-256 by its length) -----------------------
ha1=$(printf 'alice:r1.test:secret' | sha256sum | cut -d' ' -f1)
mc_run send3 --relay "$relay" --user alice --ha1 "$ha1" --to-path "$path" -m "ha1" -v
[ "$rc" -eq 0 ] || fail "--ha1 sender exit $rc"
grep -q 'answering the SHA-256 challenge' "$WORK/send3.err" || fail "--ha1 not SHA-256"
note "--ha1"

# --- failures ----------------------------------------------------------------
mc_run fail1 --relay "$relay" --user alice --password wrong --to-path "$path" -m x
[ "$rc" -eq 1 ] || fail "wrong password: exit $rc"
grep -q "refused the credentials of user 'alice'" "$WORK/fail1.err" ||
  fail "wrong password message: $(cat "$WORK/fail1.err")"
mc_run fail2 --relay "$relay" --user bob --password secret --to-path "$path" -m x
[ "$rc" -eq 1 ] || fail "403: exit $rc"
grep -q "403" "$WORK/fail2.err" || fail "403 message: $(cat "$WORK/fail2.err")"
# A relay impostor: edge3 through a proxy that zeroes its rspauth.
python3 "$IT_SRC/msrp-raw.py" proxy 127.0.0.2 "$edge3_port" 127.0.0.1 \
  "$WORK/proxy.ready" >"$WORK/proxy.err" 2>&1 &
track $!
wait_until 10 test -s "$WORK/proxy.ready" || fail "the tampering proxy did not start"
mc_run fail3 --relay "msrp://127.0.0.2:$edge3_port;tcp" --user carol --password secret --to-path "$path" -m x
[ "$rc" -eq 1 ] || fail "bad rspauth: exit $rc"
grep -q "Authentication-Info" "$WORK/fail3.err" ||
  fail "rspauth message: $(cat "$WORK/fail3.err")"
log_match "$WORK/edge3.log" auth_ok user=carol >/dev/null ||
  fail "carol's AUTH did not succeed at the relay itself"
mc_run fail4 --relay "$relay" --to-path "$path" -m x -q
[ "$rc" -eq 1 ] || fail "no credentials: exit $rc"
grep -q "give --user" "$WORK/fail4.err" || fail "no-credentials message"
note "wrong password, 403 and a wrong rspauth exit 1"

kill -TERM "$recv_pid"
mc_wait recv 10
[ "$rc" -eq 0 ] || fail "receiver stopped by SIGTERM: exit $rc"
edge_stop edge1
edge_stop edge2
edge_stop edge3
echo "msrpcat auth: ok"
