#!/bin/bash
# Standing connections through a NAT that forgets (issue 11 part 2,
# README.md "Standing connections").  The namespaces of nat-lib.sh, with
# party a's NAT made forgetful: conntrack's established timeout lowered to
# KA_MAPPING_S seconds (default 5) inside that namespace only, strict TCP
# tracking (nf_conntrack_tcp_loose=0: a mid-stream packet does not make a
# new mapping) and invalid packets dropped, as a home router does; a
# counter (`stale`) counts the gateway's packets that reach the NAT after
# it forgot their mapping.  The reachability proof comes first.
#
# Each scenario is a relayed call on a fresh msrp-edge: the offerer a,
# behind that NAT, connects to the gateway and receives; the answerer pb,
# public, answers active, connects and sends two messages KA_MAPPING_S x 3
# seconds apart, with Success-Report yes (the relay's 200 is hop by hop;
# only a's REPORT says a got it):
#
#   off   no keep-alives ([keepalive] tcp-idle=0, no flag): a's NAT forgets
#         the mapping during the silence; the second message is lost (the
#         gateway's packets for it die at a's NAT: `stale`), a gets one
#         message, pb gets a 408 Failure REPORT from the relay.
#   tcp   the kernel's TCP keep-alives (tcp-idle=2, tcp-interval=1,
#         tcp-count=3; ss shows the keep-alive timer on the gateway's
#         sockets): both messages arrive, nothing went stale.
#   msrp  MSRP keep-alives only (tcp-idle=0, the ng flag msrp-keepalive on
#         the offer, msrp-interval=2): a's msrpcat answered at least
#         silence/3 bodiless SENDs; both messages arrive.
#   dead-tcp, dead-msrp  TCP (or MSRP) keep-alives, then a vanishes (its
#         NAT drops everything to and from it): connection_dead (probe tcp,
#         or msrp), connection_closed reason dead and session_unbound for
#         a's session come within their bounds, and the Prometheus counter
#         msrp_edge_keepalive_failures_total{probe} says 1.
#
# Usage: nat-keepalive.sh MSRP-EDGE MSRPCAT
# Needs root (network namespaces; skipped with 77 otherwise).
# Environment: KA_SCENARIOS (default "off tcp msrp dead-tcp dead-msrp"),
# KA_MAPPING_S (default 5), KEEP_WORK=1, IT_SLOW (lib.sh).
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/nat-lib.sh"

scenarios=${KA_SCENARIOS:-off tcp msrp dead-tcp dead-msrp}
MAP_S=${KA_MAPPING_S:-5}
SILENCE_S=$((3 * MAP_S))
HTTP_PORT=9275
started=$(date +%s)
figures=()

# a's NAT forgets an idle TCP mapping after MAP_S seconds.
forgetful_nat () {
  nx nata sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established="$MAP_S"
  nx nata sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
  nx nata nft -f - <<EOF || fail "nftables rules of the forgetful NAT"
table inet forget {
  counter stale { }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    ct state invalid drop
  }
  chain input {
    type filter hook input priority filter - 10; policy accept;
  }
}
EOF
  [ "$(nx nata sysctl -n net.netfilter.nf_conntrack_tcp_timeout_established)" = "$MAP_S" ] ||
    fail "a's NAT keeps its mappings $(nx nata sysctl -n net.netfilter.nf_conntrack_tcp_timeout_established) s"
  [ "$(sysctl -n net.netfilter.nf_conntrack_tcp_timeout_established)" != "$MAP_S" ] ||
    note "(this host's own conntrack timeout happens to be $MAP_S s as well)"
}

# a vanishes: its NAT drops everything to and from it (the mapping stays);
# and comes back.
vanish_a () {
  nx nata nft add rule inet forget forward ip daddr "${IP[a]}" drop
  nx nata nft add rule inet forget forward ip saddr "${IP[a]}" drop
}

revive_a () {
  nx nata nft flush chain inet forget forward
  nx nata nft add rule inet forget forward ct state invalid drop
}

rand_id () { head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# call S CONF [OFFER-FLAG...]: msrp-edge gwS with CONF; the offer from a,
# the answer from pb (active); a connects and is bound, then pb.  Sets GW,
# CALL, OURI, AURI, O_TO, A_TO.
call () {
  S=$1; local conf=$2; shift 2
  local flags=() f oport=7101 aport=7102
  for f in "$@"; do flags+=(--flag "$f"); done
  echo "--- scenario $S"
  gw_start "gw$S" "[listen]\nhttp=${IP[gw]}:$HTTP_PORT\n[relay]\nreport-timeout=5\n$conf"
  GW=$WORK/gw$S.log
  CALL="ka-$S-$$@test.invalid"
  local osess=o$(rand_id) asess=a$(rand_id)
  OURI="msrp://${IP[a]}:$oport/$osess;tcp"
  AURI="msrp://${IP[pb]}:$aport/$asess;tcp"
  sdp_party "$WORK/$S-offer.sdp" "${IP[a]}" "$oport" "$osess" actpass
  ng offer --call-id "$CALL" --from-tag ft --received-from "${SEEN[a]}" \
    ${flags[@]+"${flags[@]}"} --sdp-file "$WORK/$S-offer.sdp" \
    --out "$WORK/$S-offer-out.sdp" >"$WORK/$S-offer.json" ||
    fail "$S: offer: $(cat "$WORK/$S-offer.json")"
  sdp_party "$WORK/$S-answer.sdp" "${IP[pb]}" "$aport" "$asess" active
  ng answer --call-id "$CALL" --from-tag ft --to-tag tt \
    --received-from "${IP[pb]}" --sdp-file "$WORK/$S-answer.sdp" \
    --out "$WORK/$S-answer-out.sdp" >"$WORK/$S-answer.json" ||
    fail "$S: answer: $(cat "$WORK/$S-answer.json")"
  log_match "$GW" plan_decided call_id="$CALL" step=answer plan=relay >/dev/null ||
    fail "$S: not relayed: $(log_match "$GW" plan_decided || true)"
  O_TO=$(sdp_attr "$WORK/$S-answer-out.sdp" path)
  A_TO=$(sdp_attr "$WORK/$S-offer-out.sdp" path)
  mkdir -p "$WORK/$S-recv"
  # No --expect: a stays until told (a party that closes with bytes
  # unread resets the connection, which would make its NAT forget it).
  ns_mc_start a recv$S --to-path "$O_TO" --local-uri "$OURI" --bind \
    --receive -o "$WORK/$S-recv" --json -T $((SILENCE_S + 30))
  wait_log "$GW" 10 session_bound party="$OURI" call_id="$CALL" ||
    fail "$S: a's connection was not bound"
  A_CONN=$(log_field "$GW" session_bound conn party="$OURI")
  # What of the gateway's comes to a's NAT for this connection and finds
  # no mapping (the NAT's port of it, as the gateway saw it): a stopped
  # gateway's orphaned sockets may go on retransmitting to earlier ones.
  local port
  port=$(log_field "$GW" connection_accepted peer conn="$A_CONN")
  port=${port##*:}
  nx nata nft flush chain inet forget input
  nx nata nft add rule inet forget input ip saddr "${IP[gw]}" \
    tcp sport "$GW_MSRP_PORT" tcp dport "$port" counter name stale
  STALE0=$(nft_bytes nata stale)
}

# pb sends: one message, or two SILENCE_S seconds apart.
send_pb () {
  local msgs=(-m "first")
  [ "$1" = 2 ] && msgs+=(-m "second after ${SILENCE_S}s of silence" -i "$SILENCE_S")
  ns_mc_start pb send$S --to-path "$A_TO" --local-uri "$AURI" --bind \
    "${msgs[@]}" --success-report yes --json -T $((SILENCE_S + 10))
}

# a stops (SIGTERM: its summary on stdout), and has received N messages.
stop_a () {
  kill -TERM "$(eval "echo \$recv${S}_pid")"
  mc_wait recv$S 10
  [ "$rc" = 0 ] || fail "$S: a ended with $rc: $(tail -3 "$WORK/recv$S.err")"
  [ "$(json_last "$WORK/recv$S.out" 'd["received"]["messages"]')" = "$1" ] ||
    fail "$S: a received $(json_last "$WORK/recv$S.out" 'd["received"]["messages"]') messages, not $1"
}

# The two messages arrived, and a's NAT saw nothing stale.
check_survived () {
  mc_wait send$S $((SILENCE_S + 20))
  [ "$rc" = 0 ] || fail "$S: pb ended with $rc: $(tail -3 "$WORK/send$S.err")"
  [ "$(json_last "$WORK/send$S.out" 'd["sent"]["success_reports"]')" = 2 ] ||
    fail "$S: pb got $(json_last "$WORK/send$S.out" 'd["sent"]["success_reports"]') Success REPORTs, not 2"
  [ "$(nft_bytes nata stale)" = "$STALE0" ] ||
    fail "$S: $(( $(nft_bytes nata stale) - STALE0 )) bytes of the gateway reached a's NAT after it forgot their mapping"
  [ "$(log_count "$GW" connection_dead)" = 0 ] ||
    fail "$S: $(log_match "$GW" connection_dead)"
  stop_a 2
}

# The gateway's established MSRP sockets with a keep-alive timer (ss).
ka_timers () {
  nx pub ss -Htnoe state established "( sport = :$GW_MSRP_PORT )" 2>/dev/null |
    grep -c 'timer:(keepalive' || true
}

_ka_timers_at_least () { [ "$(ka_timers)" -ge "$1" ]; }
_established () {
  [ "$(nx pub ss -Htn state established "( sport = :$GW_MSRP_PORT )" | wc -l)" -ge "$1" ]
}

metric () {   # NAME{LABELS}
  nx pub curl -sf "http://${IP[gw]}:$HTTP_PORT/metrics" |
    awk -v m="$1" '$1 == m { print $2 }'
}

finish () {
  ng delete --call-id "$CALL" --from-tag ft >/dev/null || fail "$S: delete"
  wait_log "$GW" 5 call_deleted call_id="$CALL" || fail "$S: no call_deleted"
  gw_stop "gw$S"
}

nat_setup
nat_proof
forgetful_nat
note "a's NAT forgets an idle TCP mapping after ${MAP_S} s (conntrack in ${NS[nata]} only), strictly, and drops what comes for it"

scenario_off () {
  call off "[keepalive]\ntcp-idle=0"
  send_pb 2
  wait_until 5 _established 2 || fail "off: not two connections at the gateway"
  [ "$(ka_timers)" = 0 ] || fail "off: keep-alive timers on the gateway's sockets"
  mc_wait send$S $((SILENCE_S + 20))
  [ "$rc" != 0 ] || fail "off: pb's second message was delivered without keep-alives"
  [ "$(json_last "$WORK/send$S.out" 'd["sent"]["success_reports"]')" = 1 ] ||
    fail "off: pb got $(json_last "$WORK/send$S.out" 'd["sent"]["success_reports"]') Success REPORTs, not 1"
  wait_log "$GW" 10 report_generated code=408 ||
    fail "off: the relay sent no 408 Failure REPORT for the lost message"
  local stale=$(( $(nft_bytes nata stale) - STALE0 ))
  [ "$stale" -gt 0 ] || fail "off: nothing reached a's NAT for a forgotten mapping"
  stop_a 1
  finish
  figures+=("off: lost after ${SILENCE_S}s of silence ($stale bytes died at a's NAT, 408 REPORT)")
  note "off: no keep-alives: a's NAT forgot the mapping; the second message was lost ($stale bytes stale at the NAT), pb got a 408 Failure REPORT"
}

scenario_tcp () {
  call tcp "[keepalive]\ntcp-idle=2\ntcp-interval=1\ntcp-count=3"
  send_pb 2
  wait_until 5 _ka_timers_at_least 2 ||
    fail "tcp: no keep-alive timer on the gateway's two sockets: $(nx pub ss -tnoe state established)"
  check_survived
  finish
  figures+=("tcp: survived ${SILENCE_S}s of silence (TCP keep-alives every 2s)")
  note "tcp: TCP keep-alives every 2 s of silence: both messages through the forgetful NAT"
}

scenario_msrp () {
  call msrp "[keepalive]\ntcp-idle=0\nmsrp-interval=2" msrp-keepalive
  send_pb 2
  wait_until 5 _established 2 || fail "msrp: not two connections at the gateway"
  [ "$(ka_timers)" = 0 ] || fail "msrp: TCP keep-alive timers with tcp-idle=0"
  check_survived
  local binds
  binds=$(json_last "$WORK/recv$S.out" 'd["received"]["binds"]')
  [ "$binds" -ge $((SILENCE_S / 3)) ] ||
    fail "msrp: a answered $binds bodiless SENDs in ${SILENCE_S}s of silence"
  finish
  figures+=("msrp: survived ${SILENCE_S}s of silence ($binds MSRP keep-alives answered by a)")
  note "msrp: MSRP keep-alives only (flag msrp-keepalive): a answered $binds bodiless SENDs; both messages through"
}

# dead PROBE CONF [FLAG]: a vanishes after the first message; the gateway
# finds its connection dead within BOUND seconds.
scenario_dead () {
  local probe=$1 conf=$2 bound=$3 t0 took
  shift 3
  call "dead$probe" "$conf" "$@"
  send_pb 1
  mc_wait send$S 20
  [ "$rc" = 0 ] || fail "$S: pb ended with $rc"
  vanish_a
  t0=$(date +%s)
  wait_log "$GW" $((bound + 5)) connection_dead conn="$A_CONN" probe="$probe" call_id="$CALL" party="$OURI" ||
    fail "$S: a's connection was not found dead in $((bound + 5)) s: $(log_match "$GW" connection_closed || true)"
  took=$(( $(date +%s) - t0 ))
  wait_log "$GW" 5 connection_closed conn="$A_CONN" reason=dead ||
    fail "$S: no connection_closed reason dead"
  log_match "$GW" session_unbound conn="$A_CONN" reason=dead party="$OURI" >/dev/null ||
    fail "$S: no session_unbound reason dead"
  [ "$(metric "msrp_edge_keepalive_failures_total{probe=\"$probe\"}")" = 1 ] ||
    fail "$S: keepalive_failures_total{probe=\"$probe\"} is $(metric "msrp_edge_keepalive_failures_total{probe=\"$probe\"}")"
  mc_kill recv$S
  revive_a
  finish
  figures+=("dead-$probe: found dead ${took}s after a vanished (bound ${bound}s)")
  note "dead-$probe: a vanished; its connection was found dead by $probe keep-alives in ${took} s, closed (reason dead), its session unbound, counted"
}

for s in $scenarios; do
  case $s in
    off|tcp|msrp) "scenario_$s" ;;
    # 2 s of silence, then 3 probes 1 s apart: 5 s (TCP_USER_TIMEOUT).
    dead-tcp) scenario_dead tcp "[keepalive]\ntcp-idle=2\ntcp-interval=1\ntcp-count=3" 5 ;;
    # 2 s of silence, then report-timeout (5 s) for the answer.
    dead-msrp) scenario_dead msrp "[keepalive]\ntcp-idle=0\nmsrp-interval=2" 7 msrp-keepalive ;;
    *) fail "unknown scenario $s" ;;
  esac
done
echo "figures: mapping forgotten after ${MAP_S}s of silence; silence ${SILENCE_S}s; $(IFS=';'; echo "${figures[*]}")"
echo "nat keepalive ($scenarios): ok in $(( $(date +%s) - started ))s"
