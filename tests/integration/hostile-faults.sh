#!/bin/bash
# Faults during transfers (the cases of issue 13 that already held), each
# with an honest pair of clients relaying beside it (hostile-lib.sh):
#
#   kill -9           a receiver is killed mid-way through a file: its
#                     sender gets a 408 Failure REPORT and exits 1, the log
#                     says what was lost (report_generated 408)
#   SIGHUP            the daemon reloads (users file, TLS) while a file and
#                     the honest pair's messages go through: both complete
#                     byte for byte
#   SIGTERM           last: the daemon stops while a file is in flight and
#                     the honest pair sends: it exits 0 within its grace
#                     period, no client hangs, nothing half a message is
#                     saved (the pair loses its relay here, by design: what
#                     is asserted is a clean end, not delivery)
#
# Usage: hostile-faults.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/hostile-lib.sh"

hostile_edge edge
size=$((48 * 1024 * 1024))
head -c "$size" /dev/urandom >"$WORK/big.bin"

part_over () {   # DIR BYTES: the file being received in DIR is over BYTES
  local f
  f=$(find "$1" -name '.*.part' 2>/dev/null | head -1)
  [ -n "$f" ] && [ "$(stat -c %s "$f" 2>/dev/null || echo 0)" -gt "$2" ]
}

file_start () {   # DIR CHUNK: dave receives into DIR, carol sends big.bin
  rm -rf "$1"
  mc_start dave --relay "$edge_uri" -u dave -P dave-pw --receive \
    --print-use-path --expect 1 -o "$1" --json -T 60 -q
  local path
  path=$(mc_path dave)
  mc_start carol --relay "$edge_uri" -u carol -P carol-pw --to-path "$path" \
    -f "$WORK/big.bin" -c "$2" --json -T 60 -v
}

# --- kill -9 mid-transfer -----------------------------------------------------
honest_start edge 300 100
file_start "$WORK/out1" 1M
wait_until 30 part_over "$WORK/out1" $((4 * 1024 * 1024)) ||
  fail "kill: the transfer did not get under way"
mc_kill dave
mc_wait carol 60
[ "$rc" -eq 1 ] || fail "kill: the sender exited $rc, not 1"
grep -qi "failure report.*408" "$WORK/carol.err" ||
  fail "kill: no 408 Failure REPORT: $(tail -3 "$WORK/carol.err")"
wait_log "$WORK/edge.log" 10 report_generated code=408 ||
  fail "kill: no report_generated 408"
honest_check "kill -9 mid-transfer"
note "kill -9 mid-transfer: 408 Failure REPORT to the sender, report_generated 408"

# --- SIGHUP during transfers ----------------------------------------------------
honest_start edge 300 100
file_start "$WORK/out2" 64k
wait_until 30 part_over "$WORK/out2" $((4 * 1024 * 1024)) ||
  fail "SIGHUP: the transfer did not get under way"
kill -HUP "$edge_pid"
wait_log "$WORK/edge.log" 10 config_reloaded || fail "SIGHUP: no config_reloaded"
mc_wait carol 60
[ "$rc" -eq 0 ] || fail "SIGHUP: the sender exited $rc"
mc_wait dave 30
[ "$rc" -eq 0 ] || fail "SIGHUP: the receiver exited $rc"
cmp "$WORK/big.bin" "$WORK"/out2/* || fail "SIGHUP: the file differs"
honest_check "SIGHUP during transfers"
note "SIGHUP during transfers: reloaded, the file and the messages complete"

# --- SIGTERM during transfers (last) ---------------------------------------------
honest_start edge 1000 100
file_start "$WORK/out3" 2k
wait_until 30 part_over "$WORK/out3" $((2 * 1024 * 1024)) ||
  fail "SIGTERM: the transfer did not get under way"
t0=$(date +%s%N)
kill -TERM "$edge_pid"
wait_until 20 _gone "$edge_pid" || fail "SIGTERM: msrp-edge still running"
stop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
status=0
wait "$edge_pid" || status=$?
untrack "$edge_pid"
[ "$status" = 0 ] || fail "SIGTERM: msrp-edge exited $status"
log_match "$WORK/edge.log" stopped status=0 >/dev/null || fail "SIGTERM: no stopped"
for c in carol dave halice hbob; do
  mc_wait "$c" 20
  case "$rc" in 0|1|3) ;; *) fail "SIGTERM: $c exited $rc" ;; esac
done
# A message is saved only whole: the file in flight is not among them.
[ -z "$(ls "$WORK/out3")" ] || cmp "$WORK/big.bin" "$WORK"/out3/* ||
  fail "SIGTERM: a partial file was saved as a message"
got=$(json_last "$WORK/hbob.out" 'd["received"]["messages"]' 2>/dev/null || echo 0)
echo "figures: SIGTERM during transfers: msrp-edge exited 0 in $stop_ms ms; the honest pair had $got of 1000 messages delivered, then lost its relay"
note "SIGTERM during transfers: exit 0, every client ended, nothing saved half"
