#!/bin/bash
# The receiving client dies (kill -9) in the middle of a large file sent
# through msrp-edge (RFC 4976 section 6.4.1, RFC 4975 section 7.3.2):
#
#   - the sender gets a Failure REPORT (408) and exits 1 saying so;
#   - the log stream says what was lost: message_relayed with outcome
#     interrupted (or failed:NNN / timeout) and fewer bytes than the file,
#     report_generated with code 408 for that message, the receiver's
#     connection and session closed;
#   - the daemon keeps serving: a new pair of clients passes a text message
#     and a file byte-exact afterwards, and SIGTERM still exits 0.
#
# The receiver is stopped (SIGSTOP) once part of the file is on its disk,
# so that the transfer is certainly in the middle when it is killed.
#
# Usage: relay-kill.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"

realm=relay.test
size=$((100 * 1024 * 1024))
users_file "$WORK/users" "$realm" alice:alice-pw:sha256 bob:bob-pw:sha256
edge_start edge "[auth]\nrealm=$realm\nusers-file=$WORK/users"
head -c "$size" /dev/urandom >"$WORK/big.bin"

mc_start recv --relay "$edge_uri" -u bob -P bob-pw --receive --print-use-path \
  --expect 1 -o "$WORK/out" -T 120
path=$(mc_path recv)
bob_session=$(sed -E 's|^msrp://[^/]+/([^;]+);tcp .*|\1|' <<<"$path")
bob_conn=$(log_field "$WORK/edge.log" auth_ok conn session="$bob_session")
mc_start send --relay "$edge_uri" -u alice -P alice-pw --to-path "$path" \
  -f "$WORK/big.bin" -c 1M --json -T 60 -v

part_over () {
  local f
  f=$(find "$WORK/out" -name '.*.part' 2>/dev/null | head -1)
  [ -n "$f" ] && [ "$(stat -c %s "$f")" -gt "$1" ]
}
wait_until 60 part_over $((8 * 1024 * 1024)) ||
  fail "the transfer did not get under way"
kill -STOP "$recv_pid"
kill -0 "$send_pid" 2>/dev/null || fail "the sender finished before the receiver was stopped"
mc_kill recv

mc_wait send 60
[ "$rc" -eq 1 ] || fail "the sender exited $rc, not 1"
grep -qi "failure report.*408" "$WORK/send.err" ||
  fail "the sender did not report the 408 Failure REPORT: $(cat "$WORK/send.err")"
[ "$(json_last "$WORK/send.out" 'd["sent"]["failure_reports"]')" -ge 1 ] ||
  fail "the sender counted no Failure REPORT"
[ "$(json_last "$WORK/send.out" 'd["ok"]')" = False ] || fail "the sender said ok"
note "receiver killed mid-transfer: the sender got a 408 Failure REPORT and exited 1"

mid=$(sed -n 's/.*sending file .* as Message-ID \([A-Za-z0-9]*\).*/\1/p' "$WORK/send.err")
[ -n "$mid" ] || fail "the sender did not say its Message-ID"
wait_log "$WORK/edge.log" 10 message_relayed message_id="$mid" ||
  fail "no message_relayed for the lost message $mid"
python3 - "$WORK/edge.log" "$mid" "$size" "$bob_conn" <<'EOF' || fail "log of the loss"
import json, sys
log, mid, size, bob_conn = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ev = [json.loads(l) for l in open(log)]
rel = [e for e in ev if e["event"] == "message_relayed" and e["message_id"] == mid]
assert len(rel) == 1, "%d message_relayed lines for %s" % (len(rel), mid)
r = rel[0]
assert r["outcome"] == "interrupted" or r["outcome"].startswith("failed:") \
    or r["outcome"] == "timeout", r
assert r["outcome"] != "delivered" and r.get("acknowledged") is not True, r
assert 0 < r["bytes"] < size, "bytes %r of %d" % (r["bytes"], size)
assert r.get("reason"), "no reason: %r" % r
rep = [e for e in ev if e["event"] == "report_generated" and e.get("message_id") == mid]
assert rep and rep[0]["code"] == 408, "report_generated: %r" % rep
closed = [e for e in ev if e["event"] == "connection_closed" and e["conn"] == bob_conn]
assert closed and closed[0]["reason"] in ("reset", "peer_closed"), closed
assert any(e["event"] == "session_closed" and e["conn"] == bob_conn for e in ev)
print("message_relayed: outcome %s, %d of %d bytes, reason: %s"
      % (r["outcome"], r["bytes"], size, r["reason"]))
EOF
ls "$WORK/out" | grep -q "^$mid\$" && fail "the lost message was saved whole"
note "the log says what was lost (message_relayed, report_generated 408, connection_closed)"

# --- the daemon keeps serving -------------------------------------------------
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$WORK/after.bin"
rm -rf "$WORK/out2"
mc_start recv2 --relay "$edge_uri" -u bob -P bob-pw --receive --print-use-path \
  --expect 2 -o "$WORK/out2" --json -T 60
path=$(mc_path recv2)
mc_run send2 --relay "$edge_uri" -u alice -P alice-pw --to-path "$path" \
  -m "after the kill" -f "$WORK/after.bin" -c 64k --success-report yes
[ "$rc" -eq 0 ] || fail "the new sender exited $rc"
mc_wait recv2 30
[ "$rc" -eq 0 ] || fail "the new receiver exited $rc"
for f in "$WORK"/out2/*; do
  if [ "$(stat -c %s "$f")" = 14 ]; then
    [ "$(cat "$f")" = "after the kill" ] || fail "text after the kill"
  else
    cmp "$WORK/after.bin" "$f" || fail "file after the kill differs"
  fi
done
[ "$(ls "$WORK/out2" | wc -l)" = 2 ] || fail "not 2 messages after the kill"
edge_stop edge
note "a new pair of clients succeeds afterwards; SIGTERM: exit 0"
echo "relay kill: ok"
