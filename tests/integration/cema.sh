#!/bin/bash
# CEMA (RFC 6714) on loopback: msrpcat's CEMA mode and fingerprint
# authentication (RFC 8122), directly and through one anchored stream of
# gateway/daemon/gw-anchor.c in a process of its own (anchor-stub, the test
# playing the negotiator: it rewrites c=, m= and a=setup and passes a=path
# untouched).
#
#   1. direct, TLS with fingerprints: both SDPs carry a=msrp-cema and
#      a=fingerprint; the offerer connects to the c=/m= address; a 20 MiB
#      file byte-exact; each end verified the other's certificate against
#      its a=fingerprint (what each verified is what the other presented);
#   2. anchored, TCP/MSRP, both parties active (the answerer chose active,
#      the offerer is told passive): both connect to the stream's port; the
#      first SENDs are checked by session-id; a stranger from 127.0.0.2 is
#      refused first; the file byte-exact, the anchor's byte counts;
#   3. anchored, TLS with fingerprints, the answerer passive: the anchor
#      connects to it once the offerer is in; the fingerprints verified end
#      to end (anchor-stub has no certificate and no key at all);
#   4. a tampered a=fingerprint: the active end tears the connection down
#      (exit 3, "does not match");
#   5. RFC 6714 section 4.3: a --cema answerer given an offer whose c=/m=
#      is not in its a=path and that has no a=msrp-cema rejects it (exit 1).
#
# Usage: cema.sh MSRPCAT ANCHOR-STUB MSRP-EDGE      (about 10 s)
set -euo pipefail
export MSRPCAT="$1" ANCHOR_STUB="$2" MSRP_EDGE="$3"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cema-lib.sh"

big="$WORK/big.bin"
head -c $((20 << 20)) /dev/urandom >"$big"
fp_args=(--tls --fingerprint --cema)

# check_file NAME: the file arrived whole in NAME.d.
check_file () {
  cmp -s "$big" "$WORK/$1.d"/* || fail "$1: the file differs"
}

# 1. Direct, TLS with fingerprints.
mc_start o1 --sdp-out "$WORK/o1.sdp" --sdp-in "$WORK/a1.sdp" \
  --listen 127.0.0.1:0 "${fp_args[@]}" -f "$big" -c 256k --json -T 20
wait_until 10 test -s "$WORK/o1.sdp" || fail "no offer"
mc_run a1 --answer --sdp-in "$WORK/o1.sdp" --sdp-out "$WORK/a1.sdp" \
  --sdp-address 127.0.0.1 "${fp_args[@]}" -r -e 1 -o "$WORK/a1.d" --json -T 20
[ "$rc" = 0 ] || fail "answerer 1: exit $rc"
mc_wait o1 20
[ "$rc" = 0 ] || fail "offerer 1: exit $rc"
grep -q '^a=msrp-cema' "$WORK/o1.sdp" && grep -q '^a=fingerprint:sha-256 ' "$WORK/a1.sdp" ||
  fail "a=msrp-cema or a=fingerprint missing from the SDP"
check_file a1
fingerprints_crossed o1 a1
[ "$(json_last "$WORK/o1.out" 'd["sdp"]["cema"]')" = True ] || fail "offerer 1: CEMA not in use"
grep -q 'CEMA: connecting to the c=/m= address' "$WORK/o1.err" || fail "offerer 1 did not connect to c=/m="
note "direct CEMA over TLS: 20 MiB byte-exact, fingerprints verified both ways"

# 2. Anchored, TCP/MSRP, both parties active.
rm -f "$WORK"/o2.sdp "$WORK"/a2*.sdp
mc_start o2 --sdp-out "$WORK/o2.sdp" --sdp-in "$WORK/a2x.sdp" \
  --listen 127.0.0.1:0 --cema -f "$big" -c 256k --json -T 20
wait_until 10 test -s "$WORK/o2.sdp" || fail "no offer 2"
stub_start s2 --address 127.0.0.1 --call-id cema2 \
  --offerer "in:127.0.0.1@$(sdp_uri "$WORK/o2.sdp")"
sdp_to_anchor "$WORK/o2.sdp" "$WORK/o2x.sdp" 127.0.0.1 "$s2_port"
mc_start a2 --answer --sdp-in "$WORK/o2x.sdp" --sdp-out "$WORK/a2.sdp" \
  --sdp-address 127.0.0.1 --setup active --cema -r -e 1 -o "$WORK/a2.d" --json -T 20
wait_until 10 test -s "$WORK/a2.sdp" || fail "no answer 2"
stub_say s2 "answerer in:127.0.0.1@$(sdp_uri "$WORK/a2.sdp")"
# Both parties known: a stranger (another source address) is refused
# before anything is read.
stranger_refused --from 127.0.0.2 127.0.0.1 "$s2_port" || fail "the stranger was not refused"
# The answerer is active, so the offerer is told "passive": it connects too.
sdp_to_anchor "$WORK/a2.sdp" "$WORK/a2x.sdp" 127.0.0.1 "$s2_port" passive
mc_wait a2 30
[ "$rc" = 0 ] || fail "answerer 2: exit $rc"
mc_wait o2 30
[ "$rc" = 0 ] || fail "offerer 2: exit $rc"
check_file a2
stub_stop s2
read -r off ans refused closed < <(json_last "$WORK/s2.out" \
  '"%d %d %d %s" % (d["offerer_bytes"], d["answerer_bytes"], d["refused"], d["closed"])')
[ "$off" -gt $((20 << 20)) ] && [ "$ans" -gt 0 ] ||
  fail "anchor 2 carried $off bytes from the offerer, $ans from the answerer"
[ "$refused" = 1 ] && [ "$closed" = peer_closed ] || fail "anchor 2: refused $refused, closed $closed"
log_match "$WORK/s2.log" anchor_refused reason=source >/dev/null || fail "no anchor_refused source"
note "anchored TCP/MSRP, both active: 20 MiB byte-exact ($off bytes through the anchor), the stranger refused"

# 3. Anchored, TLS with fingerprints, the answerer passive.
mc_start o3 --sdp-out "$WORK/o3.sdp" --sdp-in "$WORK/a3x.sdp" \
  --listen 127.0.0.1:0 "${fp_args[@]}" -f "$big" -c 256k --json -T 20
wait_until 10 test -s "$WORK/o3.sdp" || fail "no offer 3"
stub_start s3 --address 127.0.0.1 --tls --call-id cema3 --offerer in:127.0.0.1
# The offerer is told to connect (a=setup:active toward the answerer), so
# the answerer is passive and the anchor connects to it.
sdp_to_anchor "$WORK/o3.sdp" "$WORK/o3x.sdp" 127.0.0.1 "$s3_port" active
mc_start a3 --answer --sdp-in "$WORK/o3x.sdp" --sdp-out "$WORK/a3.sdp" \
  --sdp-address 127.0.0.1 "${fp_args[@]}" -r -e 1 -o "$WORK/a3.d" --json -T 20
wait_until 10 test -s "$WORK/a3.sdp" || fail "no answer 3"
stub_say s3 "answerer out:127.0.0.1:$(sdp_port "$WORK/a3.sdp")"
sdp_to_anchor "$WORK/a3.sdp" "$WORK/a3x.sdp" 127.0.0.1 "$s3_port"
mc_wait a3 30
[ "$rc" = 0 ] || fail "answerer 3: exit $rc"
mc_wait o3 30
[ "$rc" = 0 ] || fail "offerer 3: exit $rc"
check_file a3
fingerprints_crossed o3 a3
stub_stop s3
off=$(json_last "$WORK/s3.out" 'd["offerer_bytes"]')
[ "$off" -gt $((20 << 20)) ] || fail "anchor 3 carried only $off bytes"
log_match "$WORK/s3.log" anchor_connecting leg=answerer >/dev/null || fail "anchor 3 did not connect to the answerer"
note "anchored TLS, answerer passive: 20 MiB byte-exact, fingerprints verified end to end through the anchor"

# 4. A tampered fingerprint: torn down.
mc_start o4 --sdp-out "$WORK/o4.sdp" --sdp-in "$WORK/a4x.sdp" \
  --listen 127.0.0.1:0 "${fp_args[@]}" -m hello --json -T 10
wait_until 10 test -s "$WORK/o4.sdp" || fail "no offer 4"
mc_start a4 --answer --sdp-in "$WORK/o4.sdp" --sdp-out "$WORK/a4.sdp" \
  --sdp-address 127.0.0.1 "${fp_args[@]}" -r -e 1 -T 5
wait_until 10 test -s "$WORK/a4.sdp" || fail "no answer 4"
sed -e 's/^\(a=fingerprint:sha-256 \)../\100/' "$WORK/a4.sdp" >"$WORK/a4x.tmp"
mv "$WORK/a4x.tmp" "$WORK/a4x.sdp"
mc_wait o4 20
[ "$rc" = 3 ] || fail "offerer 4 with a tampered fingerprint: exit $rc, not 3"
grep -q 'does not match the a=fingerprint' "$WORK/o4.err" || fail "offerer 4 did not say why"
mc_wait a4 20
[ "$rc" != 0 ] || fail "answerer 4 succeeded"
note "a tampered a=fingerprint: the connection torn down (exit 3)"

# 5. RFC 6714 section 4.3: c=/m= rewritten without a=msrp-cema.
mc_start o5 --sdp-out "$WORK/o5.sdp" --listen 127.0.0.1:0 -m hello -T 5
wait_until 10 test -s "$WORK/o5.sdp" || fail "no offer 5"
sdp_to_anchor "$WORK/o5.sdp" "$WORK/o5x.sdp" 127.0.0.9 9
mc_run a5 --answer --sdp-in "$WORK/o5x.sdp" --sdp-out "$WORK/a5.sdp" \
  --sdp-address 127.0.0.1 --cema -r -e 1 -T 5
[ "$rc" = 1 ] || fail "answerer 5: exit $rc, not 1"
grep -q 'RFC 6714 section 4.3' "$WORK/a5.err" || fail "answerer 5 did not say why"
[ ! -e "$WORK/a5.sdp" ] || fail "answerer 5 wrote an answer"
kill -TERM "$o5_pid" 2>/dev/null || true
note "RFC 6714 section 4.3: an offer rewritten without a=msrp-cema is rejected"
echo "5 passed, 0 failed"
