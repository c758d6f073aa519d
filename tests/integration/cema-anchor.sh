#!/bin/bash
# CEMA anchoring through real NATs (tests/integration/nat-lib.sh): one
# anchored stream (gateway/daemon/gw-anchor.c in anchor-stub) on the
# gateway's address in pub, msrpcat CEMA parties behind their NATs and on
# the public side, the test playing the negotiator (c=, m= and a=setup
# rewritten, a=path untouched: RFC 6714 sections 6.2, 6.3).
#
# After the reachability proof:
#   tls    the offerer behind NAT a, the answerer public (pb), TLS with
#          fingerprints.  The offerer cannot take a connection, so the
#          answerer is offered a=setup:active and answers passive; the
#          offerer connects to the anchor out of its NAT, the anchor connects
#          to the answerer (it is the TLS server, RFC 6135 section 6).  A
#          CEMA_MB MiB file (default 20) byte-exact; both ends verified the
#          other's certificate against its a=fingerprint (the anchor has no
#          certificate or key: the TLS session is theirs); the bytes crossed
#          the gateway's address (pub's nft counters) and the anchor counted
#          them.
#   plain  both parties behind their NATs, TCP/MSRP, both active (the
#          answerer chose active; the offerer is told passive): both connect
#          to the anchor; a public stranger (pa) connecting to the stream's
#          port is refused; the file byte-exact through both NATs.
# Then the same two with msrp-edge itself choosing the plan, driven over
# its ng port as a SIP proxy would (received-from: the NAT's address):
#   ng-tls    a behind NAT offers TLS with fingerprints and a=msrp-cema,
#             pb answers passive: plan cema, the gateway connects to pb,
#             fingerprints verified end to end;
#   ng-plain  a and b behind their NATs, TCP, b answers active: plan cema,
#             the offerer is answered passive, both connect out of their
#             NATs to the stream's port; query's bytes.
#
# Usage: cema-anchor.sh MSRP-EDGE MSRPCAT ANCHOR-STUB
# Needs root (skipped with 77 otherwise).  About 20 s.
set -euo pipefail
export MSRP_EDGE="$1" MSRPCAT="$2" ANCHOR_STUB="$3"
. "$(dirname "$0")/nat-lib.sh"
. "$(dirname "$0")/cema-lib.sh"

mb=${CEMA_MB:-20}
big="$WORK/big.bin"
head -c $((mb << 20)) /dev/urandom >"$big"
gw=${IP[gw]}

nat_setup
nat_proof

# --- tls ------------------------------------------------------------------
gw_in0=$(nft_bytes pub gw_in)
ns_mc_start a o1 --sdp-out "$WORK/o1.sdp" --sdp-in "$WORK/a1x.sdp" \
  --listen "${IP[a]}:0" --tls --fingerprint --cema -f "$big" -c 256k --json -T 30
wait_until 10 test -s "$WORK/o1.sdp" || fail "no offer from a"
stub_start s1 --ns pub --address "$gw" --tls --call-id tls1 --offerer "in:${SEEN[a]}"
sdp_to_anchor "$WORK/o1.sdp" "$WORK/o1x.sdp" "$gw" "$s1_port" active
ns_mc_start pb a1 --answer --sdp-in "$WORK/o1x.sdp" --sdp-out "$WORK/a1.sdp" \
  --sdp-address "${IP[pb]}" --tls --fingerprint --cema -r -e 1 -o "$WORK/a1.d" \
  --json -T 30
wait_until 10 test -s "$WORK/a1.sdp" || fail "no answer from pb"
grep -q '^a=setup:passive' "$WORK/a1.sdp" || fail "pb did not answer passive"
stub_say s1 "answerer out:${IP[pb]}:$(sdp_port "$WORK/a1.sdp")"
sdp_to_anchor "$WORK/a1.sdp" "$WORK/a1x.sdp" "$gw" "$s1_port"
mc_wait a1 60
[ "$rc" = 0 ] || fail "answerer pb: exit $rc"
mc_wait o1 60
[ "$rc" = 0 ] || fail "offerer a: exit $rc"
cmp -s "$big" "$WORK"/a1.d/* || fail "tls: the file differs"
fingerprints_crossed o1 a1
grep -q "CEMA: connecting to the c=/m= address $gw port $s1_port" "$WORK/o1.err" ||
  fail "the offerer did not connect to the anchor"
grep -q "accepted a connection from $gw:" "$WORK/a1.err" ||
  fail "the answerer's connection did not come from the gateway"
stub_stop s1
off=$(json_last "$WORK/s1.out" 'd["offerer_bytes"]')
[ "$off" -gt $((mb << 20)) ] || fail "tls: the anchor carried $off bytes"
log_match "$WORK/s1.log" anchor_accepted leg=offerer >/dev/null &&
  log_match "$WORK/s1.log" anchor_connecting leg=answerer "peer=${IP[pb]}:$(sdp_port "$WORK/a1.sdp")" >/dev/null ||
  fail "tls: the anchor's events"
gw_in=$(( $(nft_bytes pub gw_in) - gw_in0 ))
[ "$gw_in" -gt $((mb << 20)) ] || fail "tls: pub counted $gw_in bytes to the gateway"
note "tls: a behind NAT -> anchor -> pb, $mb MiB byte-exact, fingerprints verified end to end, $off bytes through the anchor ($gw_in to the gateway's address)"

# --- plain ----------------------------------------------------------------
fwd_a0=$(nft_bytes nata fwd_out)
ns_mc_start a o2 --sdp-out "$WORK/o2.sdp" --sdp-in "$WORK/a2x.sdp" \
  --listen "${IP[a]}:0" --cema -f "$big" -c 256k --json -T 30
wait_until 10 test -s "$WORK/o2.sdp" || fail "no offer from a"
stub_start s2 --ns pub --address "$gw" --call-id plain2 \
  --offerer "in:${SEEN[a]}@$(sdp_uri "$WORK/o2.sdp")"
sdp_to_anchor "$WORK/o2.sdp" "$WORK/o2x.sdp" "$gw" "$s2_port"
ns_mc_start b a2 --answer --sdp-in "$WORK/o2x.sdp" --sdp-out "$WORK/a2.sdp" \
  --sdp-address "${IP[b]}" --setup active --cema -r -e 1 -o "$WORK/a2.d" \
  --json -T 30
wait_until 10 test -s "$WORK/a2.sdp" || fail "no answer from b"
stub_say s2 "answerer in:${SEEN[b]}@$(sdp_uri "$WORK/a2.sdp")"
# A public stranger at the stream's port: refused, never read.
stranger_refused --ns pa "$gw" "$s2_port" || fail "the stranger was not refused"
sdp_to_anchor "$WORK/a2.sdp" "$WORK/a2x.sdp" "$gw" "$s2_port" passive
mc_wait a2 60
[ "$rc" = 0 ] || fail "answerer b: exit $rc"
mc_wait o2 60
[ "$rc" = 0 ] || fail "offerer a: exit $rc"
cmp -s "$big" "$WORK"/a2.d/* || fail "plain: the file differs"
stub_stop s2
read -r off refused < <(json_last "$WORK/s2.out" '"%d %d" % (d["offerer_bytes"], d["refused"])')
[ "$off" -gt $((mb << 20)) ] && [ "$refused" = 1 ] ||
  fail "plain: the anchor carried $off bytes and refused $refused"
log_match "$WORK/s2.log" anchor_refused reason=source >/dev/null || fail "plain: no refusal logged"
log_match "$WORK/s2.log" anchor_accepted leg=answerer | grep -qF "\"peer\":\"${SEEN[b]}:" ||
  fail "plain: the answerer did not join from its NAT ${SEEN[b]}"
fwd_a=$(( $(nft_bytes nata fwd_out) - fwd_a0 ))
[ "$fwd_a" -gt $((mb << 20)) ] || fail "plain: NAT a forwarded only $fwd_a bytes out"
note "plain: a and b behind NATs, both active, $mb MiB byte-exact through the anchor, the stranger refused"
# --- through msrp-edge's negotiator, over ng -------------------------------
gw_start gwc
ng_mb=4
head -c $((ng_mb << 20)) "$big" >"$WORK/small.bin"

# ng_call N CALL OFFER-NS ANSWER-NS OFFER-ARGS -- ANSWER-ARGS: msrpcat
# offerer oN in OFFER-NS, its offer through msrp-edge (ng offer, received
# from its NAT), the answerer aN in ANSWER-NS, its answer back (ng answer);
# both ends must finish with the file byte-exact.
ng_call () {
  local n="$1" call="$2" ons="$3" ans="$4" oargs=() aargs=()
  shift 4
  while [ "$1" != -- ]; do oargs+=("$1"); shift; done
  shift
  aargs=("$@")
  ns_mc_start "$ons" "o$n" --sdp-out "$WORK/o$n.sdp" --sdp-in "$WORK/a${n}x.sdp" \
    --listen "${IP[$ons]}:0" "${oargs[@]}" -f "$WORK/small.bin" -c 256k --json -T 30
  wait_until 10 test -s "$WORK/o$n.sdp" || fail "no offer $n"
  ng offer --call-id "$call" --from-tag "f$n" --received-from "${SEEN[$ons]}" \
    --sdp-file "$WORK/o$n.sdp" --out "$WORK/o${n}x.sdp" >"$WORK/ng-o$n.json" ||
    fail "ng offer $n: $(cat "$WORK/ng-o$n.json")"
  [ "$(sdp_c "$WORK/o${n}x.sdp")" = "$gw" ] || fail "offer $n: c= is not the gateway's"
  ns_mc_start "$ans" "a$n" --answer --sdp-in "$WORK/o${n}x.sdp" \
    --sdp-out "$WORK/a$n.sdp" --sdp-address "${IP[$ans]}" "${aargs[@]}" \
    -r -e 1 -o "$WORK/a$n.d" --json -T 30
  wait_until 10 test -s "$WORK/a$n.sdp" || fail "no answer $n"
  ng answer --call-id "$call" --from-tag "f$n" --to-tag "t$n" \
    --received-from "${SEEN[$ans]}" --sdp-file "$WORK/a$n.sdp" \
    --out "$WORK/a${n}x.tmp" >"$WORK/ng-a$n.json" ||
    fail "ng answer $n: $(cat "$WORK/ng-a$n.json")"
  mv "$WORK/a${n}x.tmp" "$WORK/a${n}x.sdp"
  mc_wait "a$n" 60
  [ "$rc" = 0 ] || fail "answerer $n: exit $rc"
  mc_wait "o$n" 60
  [ "$rc" = 0 ] || fail "offerer $n: exit $rc"
  cmp -s "$WORK/small.bin" "$WORK/a$n.d"/* || fail "call $n: the file differs"
  ng query --call-id "$call" >"$WORK/q$n.json" || fail "ng query $n"
  python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["streams"][0]
assert s["plan"] == "cema" and s["cema-offerer-bytes"] > int(sys.argv[2]), s' \
    "$WORK/q$n.json" $((ng_mb << 20)) || fail "query $n: $(cat "$WORK/q$n.json")"
  ng delete --call-id "$call" --from-tag "f$n" >/dev/null || fail "ng delete $n"
}

ng_call 3 ng-tls a pb --tls --fingerprint --cema -- \
  --tls --fingerprint --cema --setup passive
fingerprints_crossed o3 a3
grep -q "accepted a connection from $gw:" "$WORK/a3.err" ||
  fail "ng-tls: the answerer's connection did not come from the gateway"
log_match "$WORK/gwc.log" anchor_connecting leg=answerer >/dev/null ||
  fail "ng-tls: the gateway did not connect to pb"
note "ng-tls: msrp-edge chose cema, a behind NAT -> gateway -> pb, $ng_mb MiB byte-exact, fingerprints verified end to end"

ng_call 4 ng-plain a b --cema -- --cema --setup active
grep -q '^a=setup:passive' "$WORK/a4x.sdp" || fail "ng-plain: the offerer was not told passive"
log_match "$WORK/gwc.log" anchor_accepted leg=answerer | grep -qF "\"peer\":\"${SEEN[b]}:" ||
  fail "ng-plain: the answerer did not join from its NAT ${SEEN[b]}"
log_match "$WORK/gwc.log" plan_decided step=answer plan=cema >/dev/null ||
  fail "ng-plain: no plan_decided cema"
note "ng-plain: msrp-edge chose cema, a and b behind NATs both connect to the stream's port, $ng_mb MiB byte-exact"
gw_stop gwc
echo "4 passed, 0 failed"
