#!/bin/bash
# CEMA anchoring (RFC 6714) chosen by the negotiator, driven over the ng
# port as a SIP proxy would (ng-client.py), with two msrpcat --cema parties
# on loopback; msrp-edge's [cema] pool is the default one (the msrp
# listener's address, ports the kernel picks).
#
#   1. TCP/MSRP, the answerer active: the offer the answerer gets and the
#      answer the offerer gets differ from the originals in c= and m= only
#      (a=path, a=msrp-cema untouched), plus a=setup:passive toward the
#      offerer so that both connect to the stream's port; 4 MiB cross
#      byte-exact; ng query shows the port, the state and the bytes;
#      statistics streams-cema and anchored-bytes; plan_decided plan cema;
#      delete closes the anchor (anchor_closed);
#   2. TCP/TLS/MSRP with fingerprints (RFC 8122), the answerer passive: the
#      gateway connects to it once the offerer is in, and the two ends
#      verify each other's certificates end to end through the anchor
#      (msrp-edge has no [tls] certificate at all);
#   3. TLS with fingerprints, the answerer active: it is the TLS client
#      (RFC 6135 section 6), so the gateway connects to the offerer, which
#      waits at its c=/m= (RFC 6714 section 4.2), the TLS server;
#   4. a CEMA offer met by an answerer without a=msrp-cema that listens
#      (cema-fallback): the CEMA offerer connects to the port the answer's
#      c=/m= name (RFC 6714 section 4.2), the gateway to the answerer's
#      a=path URI; the answer the offerer gets has no a=msrp-cema.
#
# Usage: ng-cema.sh MSRP-EDGE MSRPCAT ANCHOR-STUB      (about 10 s)
set -euo pipefail
export MSRP_EDGE="$1" MSRPCAT="$2" ANCHOR_STUB="$3"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cema-lib.sh"

ngc () { python3 "$IT_SRC/ng-client.py" --server "127.0.0.1:$edge_ctl_port" "$@"; }

big="$WORK/big.bin"
head -c $((4 << 20)) /dev/urandom >"$big"

edge_start edge --control
note "msrp-edge up (msrp $edge_port, control udp $edge_ctl_port)"

# offer N ARGS...: msrpcat offerer oN, and its offer through ng into oNx.sdp.
offer () {
  local n="$1"; shift
  mc_start "o$n" --sdp-out "$WORK/o$n.sdp" --sdp-in "$WORK/a${n}x.sdp" \
    --listen 127.0.0.1:0 "$@" -f "$big" -c 256k --json -T 20
  wait_until 10 test -s "$WORK/o$n.sdp" || fail "no offer $n"
  ngc offer --call-id "cema-$n" --from-tag "f$n" --received-from 127.0.0.1 \
    --sdp-file "$WORK/o$n.sdp" --out "$WORK/o${n}x.sdp" >"$WORK/ng-o$n.json" ||
    fail "offer $n: $(cat "$WORK/ng-o$n.json")"
}

# answer N ARGS...: msrpcat answerer aN, and its answer through ng into
# aNx.sdp (whole or not at all: the offerer polls for it).
answer () {
  local n="$1"; shift
  mc_start "a$n" --answer --sdp-in "$WORK/o${n}x.sdp" --sdp-out "$WORK/a$n.sdp" \
    --sdp-address 127.0.0.1 "$@" -r -e 1 -o "$WORK/a$n.d" --json -T 20
  wait_until 10 test -s "$WORK/a$n.sdp" || fail "no answer $n"
  ngc answer --call-id "cema-$n" --from-tag "f$n" --to-tag "t$n" \
    --received-from 127.0.0.1 --sdp-file "$WORK/a$n.sdp" \
    --out "$WORK/a${n}x.tmp" >"$WORK/ng-a$n.json" ||
    fail "answer $n: $(cat "$WORK/ng-a$n.json")"
  mv "$WORK/a${n}x.tmp" "$WORK/a${n}x.sdp"
}

# Both ends done, the file whole.
finish () {
  mc_wait "a$1" 30
  [ "$rc" = 0 ] || fail "answerer $1: exit $rc"
  mc_wait "o$1" 30
  [ "$rc" = 0 ] || fail "offerer $1: exit $rc"
  cmp -s "$big" "$WORK/a$1.d"/* || fail "$1: the file differs"
}

# through N: the bytes the anchor of call cema-N passed on from the
# offerer, as ng query says; fails unless the file went through it.
through () {
  local off
  ngc query --call-id "cema-$1" >"$WORK/q$1.json" || fail "query $1"
  off=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["streams"][0]["cema-offerer-bytes"])' \
    "$WORK/q$1.json")
  [ "$off" -gt $((4 << 20)) ] || fail "call $1: only $off bytes through the anchor"
}

# same_but_cm IN OUT: OUT is IN with only c= and m= (and a=setup, and the
# o= version) changed, and names the port PORT of 127.0.0.1.
same_but_cm () {
  diff <(tr -d '\r' <"$1" | grep -v '^[cmo]=\|^a=setup') \
       <(tr -d '\r' <"$2" | grep -v '^[cmo]=\|^a=setup') >/dev/null ||
    fail "$2 differs from $1 beyond c=, m= and a=setup"
  grep -q "^c=IN IP4 127.0.0.1" "$2" || fail "$2: c= is not the anchor's"
}

# 1. TCP/MSRP, both CEMA, the answerer active.
offer 1 --cema
port=$(sdp_port "$WORK/o1x.sdp")
[ "$port" != "$(sdp_port "$WORK/o1.sdp")" ] || fail "offer 1: m= not rewritten"
same_but_cm "$WORK/o1.sdp" "$WORK/o1x.sdp"
grep -q '^a=msrp-cema' "$WORK/o1x.sdp" || fail "offer 1: a=msrp-cema dropped"
answer 1 --cema --setup active
[ "$(sdp_port "$WORK/a1x.sdp")" = "$port" ] || fail "answer 1: m= is not the anchor's port"
same_but_cm "$WORK/a1.sdp" "$WORK/a1x.sdp"
grep -q '^a=setup:passive' "$WORK/a1x.sdp" || fail "answer 1: the offerer is not told passive"
finish 1
ngc query --call-id cema-1 >"$WORK/q1.json"
read -r plan qport state off ans < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["streams"][0]
print(s["plan"], s["cema-port"], s["cema-state"], s["cema-offerer-bytes"],
      s["cema-answerer-bytes"])' "$WORK/q1.json")
[ "$plan" = cema ] && [ "$qport" = "$port" ] || fail "query 1: plan $plan, port $qport"
[ "$off" -gt $((4 << 20)) ] && [ "$ans" -gt 0 ] ||
  fail "query 1: $off bytes from the offerer, $ans from the answerer ($state)"
ngc statistics >"$WORK/st1.json"
python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["totalstatistics"]
assert t["streams-cema"] == 1 and t["anchored-bytes"] > 4 << 20, t' "$WORK/st1.json" ||
  fail "statistics 1: $(cat "$WORK/st1.json")"
log_match "$WORK/edge.log" plan_decided step=answer plan=cema >/dev/null ||
  fail "no plan_decided plan cema"
ngc delete --call-id cema-1 --from-tag f1 >/dev/null || fail "delete 1"
wait_log "$WORK/edge.log" 5 anchor_closed || fail "delete 1: no anchor_closed"
note "CEMA over TCP, both parties connect to port $port: 4 MiB byte-exact ($off bytes through the anchor), query and statistics say so"

# 2. TLS with fingerprints, the answerer passive.
offer 2 --tls --fingerprint --cema
same_but_cm "$WORK/o2.sdp" "$WORK/o2x.sdp"
answer 2 --tls --fingerprint --cema --setup passive
finish 2
fingerprints_crossed o2 a2
through 2
log_match "$WORK/edge.log" anchor_connecting leg=answerer >/dev/null ||
  fail "the anchor did not connect to the answerer"
ngc delete --call-id cema-2 --from-tag f2 >/dev/null || fail "delete 2"
note "CEMA over TLS, answerer passive: 4 MiB byte-exact, fingerprints verified end to end through the anchor"

# 3. TLS with fingerprints, the answerer active: the gateway connects to
# the offerer.
offer 3 --tls --fingerprint --cema
answer 3 --tls --fingerprint --cema --setup active
grep -q '^a=setup:active' "$WORK/a3x.sdp" || fail "answer 3: the offerer is not told active"
finish 3
fingerprints_crossed o3 a3
through 3
log_match "$WORK/edge.log" anchor_connecting leg=offerer >/dev/null ||
  fail "the anchor did not connect to the offerer"
ngc delete --call-id cema-3 --from-tag f3 >/dev/null || fail "delete 3"
note "CEMA over TLS, answerer active: the gateway connected to the offerer, fingerprints verified end to end"

# 4. An answerer without a=msrp-cema that listens: cema-fallback.
offer 4 --cema
answer 4 --setup passive
! grep -q '^a=msrp-cema' "$WORK/a4x.sdp" || fail "answer 4: a=msrp-cema made up"
[ "$(sdp_port "$WORK/a4x.sdp")" = "$(sdp_port "$WORK/o4x.sdp")" ] ||
  fail "answer 4: m= is not the anchor's port"
finish 4
through 4
log_match "$WORK/edge.log" plan_decided step=answer plan=cema-fallback >/dev/null ||
  fail "no plan_decided plan cema-fallback"
ngc delete --call-id cema-4 --from-tag f4 >/dev/null || fail "delete 4"
note "cema-fallback: a non-CEMA answerer reached through the anchor, 4 MiB byte-exact"
edge_stop edge
echo "4 passed, 0 failed"
