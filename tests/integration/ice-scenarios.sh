#!/bin/bash
# ICE-TCP through real NATs, end to end (issue 5): msrp-edge in the public
# namespace with its ICE candidates on 203.0.113.1 ([ice] addresses),
# msrpcat parties in SDP mode (plain, or --ice like a softphone) on the
# public side or behind their own masquerading NATs
# (tests/integration/nat-lib.sh).  The parties meet only through SDP files;
# this script carries each one through msrp-edge's ng control plane
# (offer, answer), as a SIP proxy would, and hands the rewritten SDP to the
# other party (atomically: msrpcat reads a file as soon as it is there).
#
# First the reachability proof (nat_proof).  Then, each scenario on a fresh
# msrp-edge (so its `stats` at SIGTERM count that scenario only):
#
#   1  softphone with ICE behind NAT (a, --ice --ice-address 10.0.1.2)
#      offers actpass; a public endpoint without ICE (pb, plain SDP mode)
#      answers: relay, passive + ICE toward the softphone, the answerer
#      connects over TCP (README decision table rows 33/34).  The offer the
#      answerer sees and the answer the softphone sees name the gateway
#      (c= and m= its tcp-passive default candidate, its URI first in
#      a=path, a=setup:actpass in the offer and passive in the answer, only
#      the gateway's candidates, a=end-of-candidates); the plain answer has
#      no ICE lines.
#      An ICE_BIG_MB (default 20) MiB file and two chat messages each way,
#      byte-exact.  The ICE leg: ice_gathered for both legs; ice_ready
#      (party offerer, transport ice-tcp) pairs the gateway's host
#      tcp-passive candidate on 203.0.113.1 with the softphone's tcp-active
#      one seen from a's NAT 203.0.113.20 (prflx, or host); its conn is
#      connection_accepted transport ice-tcp from that address and bound to
#      the softphone's session; msrpcat's --json reports the same pair from
#      its side (ice-tcp, its tcp-active candidate, host or prflx, to the
#      gateway's host tcp-passive).  The plain leg: connection_accepted
#      transport tcp on 203.0.113.1:2855 from 203.0.113.11, bound inbound.
#      Where the bytes went: query relay-bytes / offerer-bytes /
#      answerer-bytes, call_deleted relay_bytes*, session_closed
#      bytes_from/bytes_to, stats bytes_in/bytes_out, the ICE conn's
#      connection_closed bytes, pub's nft counters of the gateway's TCP
#      traffic, a's NAT's forward counters: each >= the file(s) that passed
#      there.
#   2  both parties with ICE behind their own NATs (a offers, b answers
#      active with its candidates): both legs ICE (row 30).  Both ice_ready
#      within the [ice] timeout (offerer from 203.0.113.20, answerer from
#      203.0.113.21, both to the gateway's tcp-passive host candidate), two
#      connection_accepted, both ice-tcp, none over plain tcp, each bound to
#      its party's session; both msrpcats report their pair; the file and
#      chat both ways; the same counters, and both NATs' counters.
#   3  a softphone with ICE on a public address (pa, 203.0.113.10):
#      3a the first call is relayed over ICE (row 31, pb answers plain,
#         active) and the checks prove pa reachable: reachability_measured
#         address 203.0.113.10 reachable true, "how" consistent with the
#         selected pair (the gateway's tcp-active to pa's tcp-passive: "ICE
#         check to its tcp-passive candidate"; otherwise the tcp probe);
#         1 MiB and chat both ways through the gateway.
#      3b its next call (new call-id, same daemon, same address): plan
#         direct at the offer, decided on the measurement (reason "measured
#         reachable"), and at the answer (row 32); the offer and the answer
#         pass byte for byte, ICE lines and all.  The answerer is a plain
#         public msrpcat that answers passive and listens; the softphone,
#         seeing an answer without ICE lines, connects to it over plain TCP
#         (msrpcat's documented fallback).  It cannot be the other way
#         round: msrpcat's ICE offer carries its tcp-active default
#         candidate (port 9) in c=/m=/a=path, so a plain answerer that
#         answers active has nothing to connect to (msrpcat exits 3 by
#         design).  The gateway carries nothing: query relay-bytes 0,
#         call_deleted 0, no new connection_accepted, ice_gathered,
#         ice_ready or session_bound, pub's nft counters unchanged; pb
#         accepted the connection from 203.0.113.10 itself.
#   4  ICE checks that cannot succeed ([ice] timeout=ICE_FAIL_TIMEOUT,
#      default 3): the softphone behind NAT gets the gateway's candidates,
#      but a's NAT drops everything toward the gateway except its msrp port
#      (a table of this script, counting what it dropped), and pub has no
#      route to 10.0.1.2.  ice_failed (party offerer, no ice_ended, a
#      reason, `tried` naming pairs of 203.0.113.1 and 10.0.1.2) within
#      timeout + 2 s of the answer (by the log's timestamps), and not before
#      timeout - 1.5 s; ping answered while the checks run and after; query
#      answers (relay, relay-bytes 0, offerer not bound); no ice_ready; the
#      softphone ends 3 ("ICE failed") within its --ice-timeout + 3 s; the
#      NAT's drop counter proves its checks ran; the plain answerer bound
#      over tcp is let go by the delete (call_deleted relay_bytes 0, a
#      second delete fails); the daemon stops cleanly.
#   5  both ICE behind their NATs, the answerer answering passive to the
#      actpass offer (row 35): the gateway sends the first SEND on the
#      answerer's selected pair (session_connected on that ICE conn), 1 MiB
#      and chats both ways.
#
# Every scenario checks call_offered (from-tag, received-from),
# call_answered (to-tag), plan_decided at the offer and the answer, the
# a=setup written toward each side (SDP, plan_decided and query agree), no
# warning in the replies, deletes the call and stops the daemon cleanly
# (exit 0, `stopped`, every log line JSON).  Every wait is bounded.
#
# Ordering: a plain msrpcat that answers active connects as soon as it has
# written its answer, before this script has passed the answer through ng
# (ng-client.py starts in ~100 ms); in SIP the answer reaches the gateway
# through the proxy first.  msrp-edge answers a SEND toward a session that
# is not paired yet with 481 and closes the connection, so the script holds
# that party's SYNs to the gateway's msrp port (hold_syn) until the answer
# has gone through ng: the kernel sends the SYN again after 1 s.
#
# Usage: ice-scenarios.sh MSRP-EDGE MSRPCAT
# Needs root (network namespaces; skipped with 77 otherwise).
# Environment: ICE_SCENARIOS (default "1 2 3 4 5"), ICE_BIG_MB (default 20),
# ICE_FAIL_TIMEOUT (default 3), ICE_GW_EXTRA (more configuration lines for
# the daemons, printf %b style, e.g. '[log]\nlevel=debug'), KEEP_WORK=1,
# IT_SLOW (lib.sh).
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/nat-lib.sh"

scenarios=${ICE_SCENARIOS:-1 2 3 4 5}
big_mb=${ICE_BIG_MB:-20}
big_size=$((big_mb * 1024 * 1024))
small_size=$((1024 * 1024))
fail_timeout=${ICE_FAIL_TIMEOUT:-3}
started=$(date +%s)

# --- helpers -----------------------------------------------------------------

jget () { json_last "$1" "$2"; }

now_ms () { echo $(( $(date +%s%N) / 1000000 )); }

# The ts of a JSON log line, in ms since the epoch.
ts_ms () {
  python3 -c 'import json, sys, datetime
d = json.loads(sys.stdin.read().splitlines()[-1])
t = datetime.datetime.strptime(d["ts"].rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
print(int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000))'
}

nft_delta () { echo $(( $(nft_bytes "$1" "$2") - $3 )); }

nft_mark () {
  nft0_in=$(nft_bytes pub gw_in)
  nft0_out=$(nft_bytes pub gw_out)
  local p
  for p in nata natb; do
    eval "nft0_${p}_in=\$(nft_bytes $p fwd_in)"
    eval "nft0_${p}_out=\$(nft_bytes $p fwd_out)"
  done
}

# ice_gw TAG [LINES]: a fresh daemon gwTAG with ICE on the gateway's address.
ice_gw () {
  gw_start "gw$1" "[ice]\naddresses=${IP[gw]}\ntimeout=${2:-10}\n[negotiator]\npolicy=auto\n${ICE_GW_EXTRA:-}"
  GW=$WORK/gw$1.log
}

# call_begin TAG: names for one call (SDP files, call id, tags).
call_begin () {
  S=$1
  CALL="ice-$S-$$@test.invalid"
  FTAG="ft-$S"
  TTAG="tt-$S"
  rm -f "$WORK/$S".*.sdp
  rm -rf "$WORK/$S-oin" "$WORK/$S-ain"
  mkdir -p "$WORK/$S-oin" "$WORK/$S-ain"
  nft_mark
}

# party ROLE NS NAME MODE PAYLOAD CHAT-PREFIX EXPECT [ARGS...]: msrpcat in SDP
# mode in namespace NS (ROLE offerer or answerer, MODE ice or plain): it
# sends PAYLOAD (a file) and two chat messages, receives EXPECT messages
# into $WORK/$S-oin or -ain, and writes/reads the SDP files
#   $S.o.sdp (the offer as written)  -> ng offer  -> $S.o2a.sdp (answerer)
#   $S.a.sdp (the answer as written) -> ng answer -> $S.a2o.sdp (offerer)
party () {
  local role=$1 ns=$2 name=$3 mode=$4 payload=$5 chat=$6 expect=$7
  shift 7
  local args=(--json -T 30 -c 64k)
  if [ "$mode" = ice ]; then
    args+=(--ice --ice-address "${IP[$ns]}" --ice-timeout 10)
  else
    args+=(--sdp-address "${IP[$ns]}")
  fi
  if [ "$role" = offerer ]; then
    args+=(--sdp-out "$WORK/$S.o.sdp" --sdp-in "$WORK/$S.a2o.sdp"
           -o "$WORK/$S-oin")
  else
    args+=(--answer --sdp-in "$WORK/$S.o2a.sdp" --sdp-out "$WORK/$S.a.sdp"
           -o "$WORK/$S-ain")
  fi
  [ -z "$payload" ] || args+=(-f "$payload")
  [ -z "$chat" ] || args+=(-m "$chat says hello" -m "$chat: été ✓")
  [ "$expect" = 0 ] || args+=(-r -e "$expect")
  ns_mc_start "$ns" "$name" "${args[@]}" "$@"
}

# ng_pass STEP IN OUT WHO: an SDP written by a party, through ng offer or
# answer, to the file the other party reads (written atomically, as
# msrpcat reads a file as soon as it is there).  The reply in $S.STEP.json.
ng_pass () {
  local step=$1 in=$2 out=$3 who=$4 t0
  wait_until 20 test -s "$WORK/$in" ||
    fail "$S: no SDP from the $step side ($in) in 20 s"
  local args=(--call-id "$CALL" --from-tag "$FTAG" --received-from "${SEEN[$who]}"
              --sdp-file "$WORK/$in" --out "$WORK/$out.tmp")
  [ "$step" = offer ] || args+=(--to-tag "$TTAG")
  t0=$(now_ms)
  ng "$step" "${args[@]}" >"$WORK/$S.$step.json" 2>"$WORK/$S.$step.err" ||
    fail "$S: ng $step: $(cat "$WORK/$S.$step.json" "$WORK/$S.$step.err")"
  eval "${step}_ms=\$(( \$(now_ms) - t0 ))"
  [ -s "$WORK/$out.tmp" ] || fail "$S: the $step reply has no sdp"
  mv "$WORK/$out.tmp" "$WORK/$out"
}

# hold_syn NS / release_syn NS: connections from NS to the gateway's msrp
# port wait (their SYN is dropped, so the kernel sends it again after 1 s)
# until released.  A plain msrpcat that answers active connects as soon as
# it has written its answer, before this script has passed the answer
# through ng; in SIP the answer reaches the gateway (through the proxy)
# first, and the gateway refuses a SEND toward a session that is not paired
# yet (481, then the connection is closed): the hold puts the signalling
# first, as it is in the field.
hold_syn () {
  nx "$1" nft -f - <<EOF2 || fail "$S: the SYN hold in $1"
table inet icehold {
  chain output {
    type filter hook output priority filter; policy accept;
    ip daddr ${IP[gw]} tcp dport $GW_MSRP_PORT tcp flags & (syn | ack) == syn counter drop
  }
}
EOF2
}
release_syn () { nx "$1" nft delete table inet icehold; }

check_no_warning () {
  local f
  for f in offer answer; do
    if jget "$WORK/$S.$f.json" '"warning" in d' | grep -q True; then
      fail "$S: the $f reply has a warning: $(jget "$WORK/$S.$f.json" 'd["warning"]')"
    fi
  done
}

own_uri () { sdp_attr "$1" path | awk '{ print $NF }'; }
gw_session_of () { sdp_attr "$1" path | sed 's|^msrp://[^/]*/\([^;]*\);.*|\1|'; }
has_ice () { tr -d '\r' <"$1" | grep -q '^a=ice-ufrag:'; }
candidates () { tr -d '\r' <"$1" | sed -n 's/^a=candidate:\(.*\)/\1/p'; }

# check_gw_sdp FILE WHO PARTY-URI ICE [SETUP]: the SDP a party sees from
# the relay: c= the gateway, its URI first in a=path then PARTY-URI,
# a=setup:SETUP (default passive; an offer says actpass, RFC 6135 section
# 4.2.2) and, ICE=yes, only the gateway's candidates (on 203.0.113.1,
# tcp-passive among them), c= and m= naming one of its tcp-passive ones
# (the default candidate, RFC 8839 section 4.2.1.1); ICE=no, no ICE lines.
check_gw_sdp () {
  local f=$1 who=$2 party=$3 ice=$4 setup=${5:-passive} path mport
  path=$(sdp_attr "$f" path) || fail "$S: $who sees no a=path"
  [[ "$path" =~ ^msrp://${IP[gw]//./\\.}:$GW_MSRP_PORT/[^\ ]+\;tcp\ (.*)$ ]] ||
    fail "$S: $who sees a=path '$path', not the gateway first"
  [ "${BASH_REMATCH[1]}" = "$party" ] ||
    fail "$S: $who sees a=path '$path', not ending in $party"
  [ "$(sdp_c "$f")" = "${IP[gw]}" ] || fail "$S: $who sees c=$(sdp_c "$f")"
  [ "$(sdp_attr "$f" setup)" = "$setup" ] ||
    fail "$S: $who sees a=setup:$(sdp_attr "$f" setup || echo none), not $setup"
  if [ "$ice" = yes ]; then
    has_ice "$f" || fail "$S: $who sees no ICE credentials"
    candidates "$f" | grep -q . || fail "$S: $who sees no candidates"
    if candidates "$f" | awk '{ print $5 }' | grep -vxF "${IP[gw]}" | grep -q .; then
      fail "$S: $who sees candidates not of the gateway: $(candidates "$f")"
    fi
    candidates "$f" | grep -q " TCP .* typ host tcptype passive" ||
      fail "$S: $who sees no tcp-passive host candidate of the gateway: $(candidates "$f")"
    mport=$(tr -d '\r' <"$f" | sed -n 's/^m=message \([0-9]*\) .*/\1/p')
    candidates "$f" | grep -q " TCP [0-9]* ${IP[gw]//./\\.} $mport typ host tcptype passive" ||
      fail "$S: $who sees c=/m= $(sdp_c "$f"):$mport, none of the gateway's tcp-passive candidates: $(candidates "$f")"
    tr -d '\r' <"$f" | grep -q '^a=end-of-candidates' ||
      fail "$S: $who sees no a=end-of-candidates"
  else
    ! tr -d '\r' <"$f" | grep -q '^a=\(ice-\|candidate\)' ||
      fail "$S: $who sees ICE lines: $(tr -d '\r' <"$f" | grep '^a=\(ice-\|candidate\)')"
  fi
}

# check_plan STEP PLAN [K=V...]: plan_decided of the call at STEP.
check_plan () {
  local step=$1 plan=$2; shift 2
  log_match "$GW" plan_decided call_id="$CALL" step="$step" plan="$plan" "$@" >/dev/null ||
    fail "$S: no plan_decided $step plan=$plan $*: $(log_match "$GW" plan_decided call_id="$CALL" || true)"
}

# call_offered and call_answered of the call, with its tags and where the
# offer came from (OFFERER's public address).
check_call () {   # OFFERER
  log_match "$GW" call_offered call_id="$CALL" from_tag="$FTAG" \
      received_from="${SEEN[$1]}" reoffer=false >/dev/null ||
    fail "$S: no call_offered from ${SEEN[$1]}: $(log_match "$GW" call_offered || true)"
  log_match "$GW" call_answered call_id="$CALL" to_tag="$TTAG" >/dev/null ||
    fail "$S: no call_answered: $(log_match "$GW" call_answered || true)"
}

# check_setups: what plan_decided and query say about a=setup is what the
# SDP files say.
check_setups () {
  local so sa
  so=$(sdp_attr "$WORK/$S.a2o.sdp" setup || echo absent)
  sa=$(sdp_attr "$WORK/$S.o2a.sdp" setup || echo absent)
  check_plan answer "$1" setup_to_offerer="$so" setup_to_answerer="$sa"
  [ "$(jget "$WORK/$S.query.json" 'd["streams"][0].get("setup-to-offerer"), d["streams"][0].get("setup-to-answerer")')" = "('$so', '$sa')" ] ||
    fail "$S: query does not say a=setup $so to the offerer and $sa to the answerer: $(cat "$WORK/$S.query.json")"
}

do_query () {
  ng query --call-id "$CALL" >"$WORK/$S.query.json" ||
    fail "$S: query: $(cat "$WORK/$S.query.json")"
  qget () { jget "$WORK/$S.query.json" "d['streams'][0].get('$1')"; }
}

# wait_party NAME SECS WANT: the msrpcat ends within SECS with status WANT.
wait_party () {
  mc_wait "$1" "$2"
  [ "$rc" = "$3" ] ||
    fail "$S: msrpcat $1 ended with $rc, not $3: $(tail -3 "$WORK/$1.err")"
}

# check_inbox DIR FILE CHAT-PREFIX: DIR holds FILE byte for byte and the
# two chat messages of CHAT-PREFIX, nothing else.
check_inbox () {
  local dir=$1 file=$2 chat=$3 f n=0 got_file=0 got1=0 got2=0
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    if [ "$(stat -c %s "$f")" = "$(stat -c %s "$file")" ] && cmp -s "$f" "$file"; then
      got_file=1
    elif [ "$(cat "$f")" = "$chat says hello" ]; then
      got1=1
    elif [ "$(cat "$f")" = "$chat: été ✓" ]; then
      got2=1
    fi
  done
  [ "$n/$got_file/$got1/$got2" = 3/1/1/1 ] ||
    fail "$S: $dir holds $n messages (file $got_file, chat $got1 $got2), not $(basename "$file") and 2 chats"
}

# mc_json NAME EXPR: EXPR on the --json summary d of msrpcat NAME.
mc_json () { jget "$WORK/$1.out" "$2"; }

# The ICE leg of PARTY in the log: ice_ready with the gateway's host
# tcp-passive candidate on 203.0.113.1 and the party's tcp-active one seen
# from FROM (prflx, or host when it is the party's own address); its conn
# accepted as ice-tcp from there.  Sets ICE_CONN.
check_ice_leg () {
  local party=$1 from=$2 line lt ltt la rt rtt ra
  line=$(log_match "$GW" ice_ready call_id="$CALL" party="$party") ||
    fail "$S: no ice_ready for the $party: $(log_match "$GW" ice_failed || true)"
  [ "$(log_count "$GW" ice_ready call_id="$CALL" party="$party")" = 1 ] ||
    fail "$S: more than one ice_ready for the $party"
  ICE_CONN=$(log_field "$GW" ice_ready conn call_id="$CALL" party="$party")
  lt=$(log_field "$GW" ice_ready local_type call_id="$CALL" party="$party")
  ltt=$(log_field "$GW" ice_ready local_tcptype call_id="$CALL" party="$party")
  la=$(log_field "$GW" ice_ready local_address call_id="$CALL" party="$party")
  rt=$(log_field "$GW" ice_ready remote_type call_id="$CALL" party="$party")
  rtt=$(log_field "$GW" ice_ready remote_tcptype call_id="$CALL" party="$party")
  ra=$(log_field "$GW" ice_ready remote_address call_id="$CALL" party="$party")
  [ "$(log_field "$GW" ice_ready transport call_id="$CALL" party="$party")" = ice-tcp ] ||
    fail "$S: ice_ready of the $party: $line"
  [ "$lt/$ltt/${la%:*}" = "host/passive/${IP[gw]}" ] ||
    fail "$S: the gateway's side of the $party's pair is $lt tcp-$ltt $la, not host tcp-passive ${IP[gw]}: $line"
  [ "$rtt/${ra%:*}" = "active/$from" ] ||
    fail "$S: the $party's side of the pair is $rt tcp-$rtt $ra, not tcp-active from $from: $line"
  case $rt in
    prflx|host) ;;
    *) fail "$S: the $party's remote candidate type is $rt: $line" ;;
  esac
  log_match "$GW" connection_accepted conn="$ICE_CONN" transport=ice-tcp peer="$ra" >/dev/null ||
    fail "$S: no connection_accepted transport ice-tcp for conn $ICE_CONN from $ra: $(log_match "$GW" connection_accepted || true)"
  ICE_PAIR="$lt tcp-$ltt $la <- $rt tcp-$rtt $ra"
}

# ice_conn_closed TAG MIN: the ICE leg's connection (ICE_CONN) closed
# when the party hung up, having carried at least MIN bytes each way.
# ICE_CLOSE says how it closed (an ICE party's hang-up is logged as
# ice_ended, the selected pair having ended).
ice_conn_closed () {
  wait_log "$GW" 5 connection_closed conn="$ICE_CONN" ||
    fail "$1: the ICE conn $ICE_CONN did not close when the party hung up"
  local bi bo
  bi=$(log_field "$GW" connection_closed bytes_in conn="$ICE_CONN")
  bo=$(log_field "$GW" connection_closed bytes_out conn="$ICE_CONN")
  [ "$bi" -ge "$2" ] && [ "$bo" -ge "$2" ] ||
    fail "$1: the ICE conn $ICE_CONN carried in $bi, out $bo, not >= $2 each"
  ICE_CLOSE="in $bi out $bo, reason $(log_field "$GW" connection_closed reason conn="$ICE_CONN")"
  ! log_match "$GW" ice_failed call_id="$CALL" >/dev/null ||
    fail "$1: ice_failed for a leg whose party hung up: $(log_match "$GW" ice_failed call_id="$CALL")"
  if log_match "$GW" ice_ended call_id="$CALL" >/dev/null; then
    ICE_CLOSE+=", with ice_ended \"$(log_field "$GW" ice_ended reason call_id="$CALL")\""
  fi
}

# The softphone's own account (--json): transport ice-tcp, its tcp-active
# candidate (host on its own address, or the peer-reflexive one the checks
# taught it: its NAT's address), the gateway's tcp-passive host candidate.
check_mc_ice () {   # NAME OWN-IP SEEN-IP
  local v
  v=$(mc_json "$1" '(d.get("transport"), d["ice"]["local"]["type"], d["ice"]["local"]["tcptype"], d["ice"]["local"]["address"].rsplit(":", 1)[0], d["ice"]["remote"]["type"], d["ice"]["remote"]["tcptype"], d["ice"]["remote"]["address"].rsplit(":", 1)[0])' 2>&1) ||
    fail "$S: $1's --json has no ice pair: $(tail -1 "$WORK/$1.out")"
  case $v in
    "('ice-tcp', 'host', 'active', '$2', 'host', 'passive', '${IP[gw]}')" | \
    "('ice-tcp', 'prflx', 'active', '$3', 'host', 'passive', '${IP[gw]}')") ;;
    *) fail "$S: $1 reports the pair $v" ;;
  esac
  MC_PAIR=$(mc_json "$1" '"%s tcp-%s %s -> %s tcp-%s %s" % tuple(d["ice"][e][k] for e in ("local", "remote") for k in ("type", "tcptype", "address"))')
}

# The public softphone's own account: ice-tcp, its side of the pair on its
# own address, the gateway's on 203.0.113.1, the tcptypes opposite.
check_mc_ice_public () {   # NAME
  local v
  v=$(mc_json "$1" '(d.get("transport"), d["ice"]["local"]["tcptype"], d["ice"]["local"]["address"].rsplit(":", 1)[0], d["ice"]["remote"]["tcptype"], d["ice"]["remote"]["address"].rsplit(":", 1)[0])' 2>&1) ||
    fail "$S: $1's --json has no ice pair: $(tail -1 "$WORK/$1.out")"
  case $v in
    "('ice-tcp', 'passive', '${IP[pa]}', 'active', '${IP[gw]}')" | \
    "('ice-tcp', 'active', '${IP[pa]}', 'passive', '${IP[gw]}')") ;;
    *) fail "$S: $1 reports the pair $v" ;;
  esac
}

# The relayed leg of a plain party: accepted as tcp on the msrp listener
# from FROM, bound inbound for PARTY-URI.
check_tcp_leg () {   # PARTY-URI FROM
  local conn
  conn=$(log_field "$GW" session_bound conn party="$1" call_id="$CALL" direction=inbound) ||
    fail "$S: the plain party $1 was not bound inbound: $(log_match "$GW" session_bound || true)"
  log_match "$GW" connection_accepted conn="$conn" transport=tcp local="${IP[gw]}:$GW_MSRP_PORT" >/dev/null ||
    fail "$S: conn $conn of the plain party was not accepted as tcp on the msrp listener: $(log_match "$GW" connection_accepted conn="$conn" || true)"
  [ "$(log_field "$GW" connection_accepted peer conn="$conn" | cut -d: -f1)" = "$2" ] ||
    fail "$S: the plain party connected from $(log_field "$GW" connection_accepted peer conn="$conn")"
}

# The call's bytes through the gateway: each party gave at least O and A
# body bytes (query, call_deleted, session_closed), stats and pub's nft
# counters at least their sum each way.
check_relayed_bytes () {   # O A
  local o=$1 a=$2 total=$(( $1 + $2 )) rb ob ab di dout
  rb=$(qget relay-bytes); ob=$(qget offerer-bytes); ab=$(qget answerer-bytes)
  [ "$rb" -ge "$total" ] && [ "$ob" -ge "$o" ] && [ "$ab" -ge "$a" ] ||
    fail "$S: query relay-bytes $rb (offerer $ob, answerer $ab), not >= $total ($o + $a)"
  di=$(nft_delta pub gw_in "$nft0_in")
  dout=$(nft_delta pub gw_out "$nft0_out")
  [ "$di" -ge "$total" ] && [ "$dout" -ge "$total" ] ||
    fail "$S: TCP bytes at the gateway's address: in $di, out $dout, not >= $total"
  BYTES_NOTE="relay-bytes $rb (offerer $ob, answerer $ab), nft at the gateway in $di out $dout"
}

# Delete the call: call_deleted with its counters (relay_bytes >= MIN);
# a second delete is an error.
delete_call () {   # MIN-OFFERER MIN-ANSWERER
  ng delete --call-id "$CALL" --from-tag "$FTAG" >"$WORK/$S.delete.json" ||
    fail "$S: delete: $(cat "$WORK/$S.delete.json")"
  wait_log "$GW" 5 call_deleted call_id="$CALL" || fail "$S: no call_deleted"
  local rb ro ra
  rb=$(log_field "$GW" call_deleted relay_bytes call_id="$CALL")
  ro=$(log_field "$GW" call_deleted relay_bytes_offerer call_id="$CALL")
  ra=$(log_field "$GW" call_deleted relay_bytes_answerer call_id="$CALL")
  [ "$ro" -ge "$1" ] && [ "$ra" -ge "$2" ] && [ "$rb" -ge $(( $1 + $2 )) ] ||
    fail "$S: call_deleted relay_bytes $rb (offerer $ro, answerer $ra), not >= $1 + $2"
  if [ "$1" = 0 ] && [ "$2" = 0 ]; then
    [ "$rb" = 0 ] || fail "$S: call_deleted relay_bytes $rb, not 0"
  fi
  DELETED_NOTE="call_deleted $rb"
  if ng delete --call-id "$CALL" >"$WORK/$S.delete2.json" 2>&1; then
    fail "$S: a second delete of the call succeeded"
  fi
}

# After the delete, in a relayed call: the offerer's relay session took at
# least O body bytes from the offerer and gave A to it.
check_sessions_closed () {   # OFFERER-URI ANSWERER-URI O A
  local so sa from to
  so=$(gw_session_of "$WORK/$S.o2a.sdp")
  sa=$(gw_session_of "$WORK/$S.a2o.sdp")
  wait_log "$GW" 5 session_closed session="$so" call_id="$CALL" party="$1" ||
    fail "$S: no session_closed for the offerer's session $so"
  wait_log "$GW" 5 session_closed session="$sa" call_id="$CALL" party="$2" ||
    fail "$S: no session_closed for the answerer's session $sa"
  from=$(log_field "$GW" session_closed bytes_from session="$so")
  to=$(log_field "$GW" session_closed bytes_to session="$sa")
  [ "$from" -ge "$3" ] && [ "$to" -ge "$3" ] ||
    fail "$S: session_closed: $from bytes from the offerer, $to to the answerer, not >= $3"
  from=$(log_field "$GW" session_closed bytes_from session="$sa")
  to=$(log_field "$GW" session_closed bytes_to session="$so")
  [ "$from" -ge "$4" ] && [ "$to" -ge "$4" ] ||
    fail "$S: session_closed: $from bytes from the answerer, $to to the offerer, not >= $4"
}

stop_gw () {   # TAG MIN-BYTES
  gw_stop "gw$1"
  local si so
  si=$(log_field "$GW" stats bytes_in)
  so=$(log_field "$GW" stats bytes_out)
  [ "$si" -ge "$2" ] && [ "$so" -ge "$2" ] ||
    fail "$S: stats bytes_in $si, bytes_out $so, not >= $2"
  STATS_NOTE="stats in $si out $so"
}

# --- the topology and the proof ------------------------------------------------

"$MSRPCAT" --help 2>&1 | grep -q -- '--ice-address' ||
  fail "$MSRPCAT has no ICE mode (--ice, --ice-address)"
nat_setup
nat_proof

head -c "$big_size" /dev/urandom >"$WORK/big.bin"
head -c "$big_size" /dev/urandom >"$WORK/big2.bin"
head -c "$small_size" /dev/urandom >"$WORK/small.bin"

# --- 1: ICE softphone behind NAT <-> gateway <-> public legacy endpoint --------
scenario_1 () {
  ice_gw 1
  call_begin 1
  party offerer a o1 ice "$WORK/big.bin" "softphone" 3
  hold_syn pb
  # Active: the offer says actpass (RFC 6135 section 4.2.2), and this
  # answerer connects over TCP (rows 31, 34); msrpcat would answer passive.
  party answerer pb a1 plain "$WORK/big2.bin" "legacy" 3 --setup active
  ng_pass offer 1.o.sdp 1.o2a.sdp a
  local ouri auri
  ouri=$(own_uri "$WORK/1.o.sdp")
  has_ice "$WORK/1.o.sdp" || fail "1: the softphone's offer has no ICE lines"
  [ "$(sdp_attr "$WORK/1.o.sdp" setup)" = actpass ] || fail "1: the softphone did not offer actpass"
  check_gw_sdp "$WORK/1.o2a.sdp" "the answerer" "$ouri" yes actpass
  check_plan offer relay setup_to_answerer=actpass
  wait_log "$GW" 5 ice_gathered call_id="$CALL" party=answerer ||
    fail "1: no ice_gathered for the answerer's leg"
  local t0=$(now_ms)
  ng_pass answer 1.a.sdp 1.a2o.sdp pb
  release_syn pb
  auri=$(own_uri "$WORK/1.a.sdp")
  ! has_ice "$WORK/1.a.sdp" || fail "1: the legacy answerer wrote ICE lines"
  check_gw_sdp "$WORK/1.a2o.sdp" "the softphone" "$auri" yes
  check_no_warning
  wait_log "$GW" 5 ice_gathered call_id="$CALL" party=offerer ||
    fail "1: no ice_gathered for the offerer's leg"
  wait_party o1 120 0
  wait_party a1 20 0
  local took=$(( $(now_ms) - t0 ))
  check_inbox "$WORK/1-ain" "$WORK/big.bin" softphone
  check_inbox "$WORK/1-oin" "$WORK/big2.bin" legacy
  # Where it went: the softphone over ICE-TCP through a's NAT, the legacy
  # endpoint over plain TCP, both to the gateway.
  check_ice_leg offerer "${IP[nata]}"
  check_mc_ice o1 "${IP[a]}" "${IP[nata]}"
  local mc1=$MC_PAIR
  [ "$(mc_json a1 'd.get("transport"), d["sdp"]["role"]')" = "('tcp', 'active')" ] ||
    fail "1: the legacy answerer says $(mc_json a1 'd.get("transport"), d.get("sdp")')"
  check_tcp_leg "$auri" "${IP[pb]}"
  log_match "$GW" session_bound party="$ouri" call_id="$CALL" conn="$ICE_CONN" >/dev/null ||
    fail "1: the softphone's session was not bound to the ICE conn $ICE_CONN: $(log_match "$GW" session_bound || true)"
  [ "$(log_count "$GW" ice_ready)" = 1 ] || fail "1: $(log_count "$GW" ice_ready) ice_ready events"
  ice_conn_closed 1 "$big_size"
  [ "$(log_count "$GW" connection_accepted)" = 2 ] ||
    fail "1: $(log_count "$GW" connection_accepted) connections accepted, not 2"
  ! log_match "$GW" reachability_measured address="${IP[nata]}" reachable=true >/dev/null ||
    fail "1: a's NAT was measured reachable"
  local fout fin
  fout=$(nft_delta nata fwd_out "$nft0_nata_out")
  fin=$(nft_delta nata fwd_in "$nft0_nata_in")
  [ "$fout" -ge "$big_size" ] && [ "$fin" -ge "$big_size" ] ||
    fail "1: through a's NAT: out $fout, in $fin, not >= $big_size each"
  do_query
  [ "$(qget plan)" = relay ] || fail "1: query says $(cat "$WORK/1.query.json")"
  check_call a
  check_setups relay
  check_relayed_bytes "$big_size" "$big_size"
  delete_call "$big_size" "$big_size"
  check_sessions_closed "$ouri" "$auri" "$big_size" "$big_size"
  stop_gw 1 "$((2 * big_size))"
  note "1 ICE softphone behind NAT -> public legacy: relay; ICE pair $ICE_PAIR (conn $ICE_CONN, ice-tcp; the softphone's view: $mc1), legacy over tcp from ${IP[pb]}; $big_mb MiB and chats both ways in ${took} ms; $BYTES_NOTE, $DELETED_NOTE, $STATS_NOTE; a's NAT out $fout in $fin; the ICE conn closed: $ICE_CLOSE"
}

# --- 2: both ICE behind their own NATs -----------------------------------------
scenario_2 () {
  ice_gw 2
  call_begin 2
  party offerer a o2 ice "$WORK/big.bin" "offerer" 3
  party answerer b a2 ice "$WORK/big2.bin" "answerer" 3 --setup active
  ng_pass offer 2.o.sdp 2.o2a.sdp a
  local ouri auri
  ouri=$(own_uri "$WORK/2.o.sdp")
  check_gw_sdp "$WORK/2.o2a.sdp" "the answerer" "$ouri" yes actpass
  check_plan offer relay setup_to_answerer=actpass
  wait_log "$GW" 5 ice_gathered call_id="$CALL" party=answerer ||
    fail "2: no ice_gathered for the answerer's leg"
  ng_pass answer 2.a.sdp 2.a2o.sdp b
  wait_log "$GW" 5 ice_gathered call_id="$CALL" party=offerer ||
    fail "2: no ice_gathered for the offerer's leg"
  auri=$(own_uri "$WORK/2.a.sdp")
  has_ice "$WORK/2.a.sdp" || fail "2: the ICE answerer wrote no ICE lines"
  [ "$(sdp_attr "$WORK/2.a.sdp" setup)" = active ] || fail "2: the ICE answerer did not answer active"
  check_gw_sdp "$WORK/2.a2o.sdp" "the offerer" "$auri" yes
  check_no_warning
  check_plan answer relay
  local t0=$(now_ms)
  # Both legs' checks must settle within the [ice] timeout (10 s): first
  # the legs, then the media (a party whose peer never binds waits -T).
  local p
  for p in offerer answerer; do
    wait_until 13 log_match "$GW" ice_ready call_id="$CALL" party="$p" >/dev/null ||
      fail "2: no ice_ready for the $p's leg within the [ice] timeout + 3 s (ice_failed: $(log_match "$GW" ice_failed call_id="$CALL" party="$p" || echo none)); the answerer's msrpcat: $(grep -m1 'ICE pair\|ICE failed' "$WORK/a2.err" || echo nothing)"
  done
  wait_party o2 60 0
  wait_party a2 30 0
  local took=$(( $(now_ms) - t0 ))
  check_inbox "$WORK/2-ain" "$WORK/big.bin" offerer
  check_inbox "$WORK/2-oin" "$WORK/big2.bin" answerer
  local oc ac opair apair oclose aclose
  check_ice_leg offerer "${IP[nata]}"
  oc=$ICE_CONN opair=$ICE_PAIR
  ice_conn_closed 2 "$big_size"
  oclose=$ICE_CLOSE
  check_ice_leg answerer "${IP[natb]}"
  ac=$ICE_CONN apair=$ICE_PAIR
  ice_conn_closed 2 "$big_size"
  aclose=$ICE_CLOSE
  [ "$oc" != "$ac" ] || fail "2: one conn for both legs"
  check_mc_ice o2 "${IP[a]}" "${IP[nata]}"
  local mco=$MC_PAIR
  check_mc_ice a2 "${IP[b]}" "${IP[natb]}"
  local mca=$MC_PAIR
  log_match "$GW" session_bound party="$ouri" call_id="$CALL" conn="$oc" >/dev/null ||
    fail "2: the offerer's session was not bound to its ICE conn $oc"
  log_match "$GW" session_bound party="$auri" call_id="$CALL" conn="$ac" >/dev/null ||
    fail "2: the answerer's session was not bound to its ICE conn $ac"
  [ "$(log_count "$GW" connection_accepted transport=ice-tcp)" = 2 ] &&
    [ "$(log_count "$GW" connection_accepted)" = 2 ] ||
    fail "2: connections accepted: $(log_match "$GW" connection_accepted || true)"
  local aout ain bout bin
  aout=$(nft_delta nata fwd_out "$nft0_nata_out")
  ain=$(nft_delta nata fwd_in "$nft0_nata_in")
  bout=$(nft_delta natb fwd_out "$nft0_natb_out")
  bin=$(nft_delta natb fwd_in "$nft0_natb_in")
  [ "$aout" -ge "$big_size" ] && [ "$ain" -ge "$big_size" ] &&
    [ "$bout" -ge "$big_size" ] && [ "$bin" -ge "$big_size" ] ||
    fail "2: through a's NAT out $aout in $ain, through b's out $bout in $bin, not >= $big_size each"
  do_query
  [ "$(qget plan)" = relay ] || fail "2: query says $(cat "$WORK/2.query.json")"
  check_call a
  check_setups relay
  check_relayed_bytes "$big_size" "$big_size"
  delete_call "$big_size" "$big_size"
  check_sessions_closed "$ouri" "$auri" "$big_size" "$big_size"
  stop_gw 2 "$((2 * big_size))"
  note "2 both ICE behind NATs: relay, two ICE legs: offerer $opair (conn $oc; its view: $mco; closed $oclose), answerer $apair (conn $ac; its view: $mca; closed $aclose); $big_mb MiB and chats both ways in ${took} ms; $BYTES_NOTE, $DELETED_NOTE, $STATS_NOTE; a's NAT out $aout in $ain, b's out $bout in $bin"
}

# --- 3: ICE softphone on a public address, then direct ---------------------------
scenario_3 () {
  ice_gw 3
  # 3a: the first call, relayed over ICE; the checks measure pa.
  call_begin 3a
  party offerer pa o3a ice "$WORK/small.bin" "softphone" 3
  hold_syn pb
  party answerer pb a3a plain "$WORK/small.bin" "peer" 3 --setup active
  ng_pass offer 3a.o.sdp 3a.o2a.sdp pa
  local ouri auri
  ouri=$(own_uri "$WORK/3a.o.sdp")
  [ "$(sdp_c "$WORK/3a.o.sdp")" = "${IP[pa]}" ] || fail "3a: the softphone's c= is $(sdp_c "$WORK/3a.o.sdp")"
  check_gw_sdp "$WORK/3a.o2a.sdp" "the answerer" "$ouri" yes actpass
  check_plan offer relay
  ng_pass answer 3a.a.sdp 3a.a2o.sdp pb
  release_syn pb
  auri=$(own_uri "$WORK/3a.a.sdp")
  check_gw_sdp "$WORK/3a.a2o.sdp" "the softphone" "$auri" yes
  check_no_warning
  wait_party o3a 60 0
  wait_party a3a 20 0
  check_inbox "$WORK/3a-ain" "$WORK/small.bin" softphone
  check_inbox "$WORK/3a-oin" "$WORK/small.bin" peer
  local line la ra lt ltt rt rtt how
  line=$(log_match "$GW" ice_ready call_id="$CALL" party=offerer) ||
    fail "3a: no ice_ready: $(log_match "$GW" ice_failed || true)"
  ICE_CONN=$(log_field "$GW" ice_ready conn call_id="$CALL" party=offerer)
  lt=$(log_field "$GW" ice_ready local_type call_id="$CALL" party=offerer)
  ltt=$(log_field "$GW" ice_ready local_tcptype call_id="$CALL" party=offerer)
  la=$(log_field "$GW" ice_ready local_address call_id="$CALL" party=offerer)
  rt=$(log_field "$GW" ice_ready remote_type call_id="$CALL" party=offerer)
  rtt=$(log_field "$GW" ice_ready remote_tcptype call_id="$CALL" party=offerer)
  ra=$(log_field "$GW" ice_ready remote_address call_id="$CALL" party=offerer)
  # Either pair is fine on a public address: the gateway's tcp-active to
  # pa's tcp-passive host candidate, or pa's tcp-active (host: no NAT in
  # between) to the gateway's tcp-passive host candidate.
  case "$lt tcp-$ltt ${la%:*} / $rt tcp-$rtt ${ra%:*}" in
    "host tcp-active ${IP[gw]} / host tcp-passive ${IP[pa]}" | \
    "prflx tcp-active ${IP[gw]} / host tcp-passive ${IP[pa]}" | \
    "host tcp-passive ${IP[gw]} / host tcp-active ${IP[pa]}" | \
    "host tcp-passive ${IP[gw]} / prflx tcp-active ${IP[pa]}") ;;
    *) fail "3a: the selected pair is $lt tcp-$ltt $la / $rt tcp-$rtt $ra: $line" ;;
  esac
  local pair_a="gateway $lt tcp-$ltt $la, softphone $rt tcp-$rtt $ra"
  log_match "$GW" connection_accepted conn="$ICE_CONN" transport=ice-tcp >/dev/null ||
    fail "3a: conn $ICE_CONN not accepted as ice-tcp"
  check_mc_ice_public o3a
  check_tcp_leg "$auri" "${IP[pb]}"
  wait_log "$GW" 5 reachability_measured address="${IP[pa]}" reachable=true call_id="$CALL" ||
    fail "3a: pa was not measured reachable: $(log_match "$GW" reachability_measured || true)"
  how=$(log_field "$GW" reachability_measured how address="${IP[pa]}" reachable=true)
  case $ltt/$rtt in
    active/passive) [ "$how" = "ICE check to its tcp-passive candidate" ] ||
      fail "3a: measured by '$how' although the pair was active -> passive" ;;
    *) [ "$how" = "tcp probe of an ICE tcp-passive candidate" ] ||
      fail "3a: measured by '$how' although the pair was $line" ;;
  esac
  ! log_match "$GW" reachability_measured address="${IP[pa]}" reachable=false >/dev/null ||
    fail "3a: pa also measured unreachable"
  do_query
  [ "$(qget plan)" = relay ] || fail "3a: query says $(cat "$WORK/3a.query.json")"
  check_call pa
  check_setups relay
  check_relayed_bytes "$small_size" "$small_size"
  local bytes_a=$BYTES_NOTE
  delete_call "$small_size" "$small_size"
  check_sessions_closed "$ouri" "$auri" "$small_size" "$small_size"
  note "3a public ICE softphone, first call: relay over ICE ($pair_a), pa measured reachable by \"$how\"; $bytes_a"

  # 3b: the next call from the same address goes direct.  Every
  # connection of 3a is closed; the gateway must see no TCP byte from here.
  local n_acc n_ready n_gath n_bound
  wait_until 5 test "$(log_count "$GW" connection_closed)" -ge 2 || true
  sleep 1
  n_acc=$(log_count "$GW" connection_accepted)
  n_ready=$(log_count "$GW" ice_ready)
  n_gath=$(log_count "$GW" ice_gathered)
  n_bound=$(log_count "$GW" session_bound)
  call_begin 3b
  party offerer pa o3b ice "$WORK/big.bin" "softphone" 3
  party answerer pb a3b plain "$WORK/small.bin" "peer" 3 --setup passive
  ng_pass offer 3b.o.sdp 3b.o2a.sdp pa
  has_ice "$WORK/3b.o.sdp" || fail "3b: the softphone's offer has no ICE lines"
  cmp -s "$WORK/3b.o.sdp" "$WORK/3b.o2a.sdp" ||
    fail "3b: the offer was rewritten: $(diff <(tr -d '\r' <"$WORK/3b.o.sdp") <(tr -d '\r' <"$WORK/3b.o2a.sdp") || true)"
  check_plan offer direct
  local reason
  reason=$(log_field "$GW" plan_decided reason call_id="$CALL" step=offer)
  [[ "$reason" == *"measured reachable"* ]] ||
    fail "3b: the offer's plan was not decided on the measurement: $reason"
  local t0=$(now_ms)
  ng_pass answer 3b.a.sdp 3b.a2o.sdp pb
  cmp -s "$WORK/3b.a.sdp" "$WORK/3b.a2o.sdp" ||
    fail "3b: the answer was rewritten: $(diff <(tr -d '\r' <"$WORK/3b.a.sdp") <(tr -d '\r' <"$WORK/3b.a2o.sdp") || true)"
  [ "$(sdp_attr "$WORK/3b.a.sdp" setup)" = passive ] || fail "3b: the answerer did not answer passive"
  check_no_warning
  wait_party o3b 120 0
  wait_party a3b 20 0
  local took=$(( $(now_ms) - t0 ))
  check_inbox "$WORK/3b-ain" "$WORK/big.bin" softphone
  check_inbox "$WORK/3b-oin" "$WORK/small.bin" peer
  # Straight from pa to pb over plain TCP (msrpcat's fallback when the
  # answer has no ICE lines): the softphone connected, the peer accepted it
  # from pa's own address.
  [ "$(mc_json o3b 'd.get("transport"), d["sdp"]["role"]')" = "('tcp', 'active')" ] ||
    fail "3b: the softphone says $(mc_json o3b 'd.get("transport"), d.get("sdp")')"
  [ "$(mc_json a3b 'd.get("transport"), d["sdp"]["role"]')" = "('tcp', 'passive')" ] ||
    fail "3b: the peer says $(mc_json a3b 'd.get("transport"), d.get("sdp")')"
  grep -q "accepted a connection from ${IP[pa]}" "$WORK/a3b.err" ||
    fail "3b: the peer did not accept the softphone's own connection: $(cat "$WORK/a3b.err")"
  do_query
  [ "$(qget plan)" = direct ] || fail "3b: query says $(cat "$WORK/3b.query.json")"
  check_call pa
  check_setups direct
  [ "$(qget relay-bytes)" = 0 ] || fail "3b: query relay-bytes $(qget relay-bytes)"
  [ "$(log_count "$GW" connection_accepted)/$(log_count "$GW" ice_ready)/$(log_count "$GW" ice_gathered)/$(log_count "$GW" session_bound)" = "$n_acc/$n_ready/$n_gath/$n_bound" ] ||
    fail "3b: the gateway took part: connection_accepted/ice_ready/ice_gathered/session_bound $n_acc/$n_ready/$n_gath/$n_bound before, $(log_count "$GW" connection_accepted)/$(log_count "$GW" ice_ready)/$(log_count "$GW" ice_gathered)/$(log_count "$GW" session_bound) after"
  ! log_match "$GW" ice_ready call_id="$CALL" >/dev/null || fail "3b: ice_ready for the direct call"
  local di dout
  di=$(nft_delta pub gw_in "$nft0_in")
  dout=$(nft_delta pub gw_out "$nft0_out")
  [ "$di" = 0 ] && [ "$dout" = 0 ] ||
    fail "3b: TCP bytes at the gateway's address during the direct call: in $di, out $dout"
  delete_call 0 0
  stop_gw 3 "$((2 * small_size))"
  note "3b its next call: direct (\"$reason\"), offer and answer unchanged (ICE lines pass), the softphone connects to the passive plain peer over tcp from ${IP[pa]}; $big_mb MiB + 1 MiB + chats in ${took} ms; gateway: relay-bytes 0, $DELETED_NOTE, no connection or ICE event, nft in $di out $dout"
}

# --- 4: ICE checks that cannot succeed --------------------------------------------
scenario_4 () {
  ice_gw 4 "$fail_timeout"
  # a's NAT lets a reach the gateway's msrp port only: the softphone's
  # checks toward the gateway's candidates are dropped (and counted), and
  # pub has no route to 10.0.1.2 for the gateway's.
  nx nata nft -f - <<EOF || fail "4: the blocking table in a's NAT"
table inet icetest {
  counter ice_blocked { }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname "in0" ip daddr ${IP[gw]} tcp dport != $GW_MSRP_PORT counter name ice_blocked drop
  }
}
EOF
  call_begin 4
  party offerer a o4 ice "" "softphone" 0 --ice-timeout $((fail_timeout + 2))
  hold_syn pb
  party answerer pb a4 plain "" "" 1 -T $((fail_timeout + 6)) --setup active
  ng_pass offer 4.o.sdp 4.o2a.sdp a
  ng_pass answer 4.a.sdp 4.a2o.sdp pb
  release_syn pb
  local t_answer
  t_answer=$(log_match "$GW" plan_decided call_id="$CALL" step=answer | ts_ms)
  check_gw_sdp "$WORK/4.a2o.sdp" "the softphone" "$(own_uri "$WORK/4.a.sdp")" yes
  check_plan answer relay
  # The control plane answers while the checks run.
  ng ping >/dev/null || fail "4: no pong while the checks run"
  wait_log "$GW" $((fail_timeout + 5)) ice_failed call_id="$CALL" party=offerer ||
    fail "4: no ice_failed within $((fail_timeout + 5)) s of the answer"
  local line t_fail took tried reason
  line=$(log_match "$GW" ice_failed call_id="$CALL" party=offerer)
  t_fail=$(ts_ms <<<"$line")
  took=$(( t_fail - t_answer ))
  [ "$took" -le $(( fail_timeout * 1000 + 2000 * IT_SLOW )) ] ||
    fail "4: ice_failed $took ms after the answer, [ice] timeout is $fail_timeout s: $line"
  [ "$took" -ge $(( fail_timeout * 1000 - 1500 )) ] ||
    fail "4: ice_failed after $took ms only, before the timeout: $line"
  tried=$(log_field "$GW" ice_failed tried call_id="$CALL" party=offerer)
  reason=$(log_field "$GW" ice_failed reason call_id="$CALL" party=offerer)
  ! log_match "$GW" ice_ended call_id="$CALL" >/dev/null ||
    fail "4: an ice_ended for a leg that never got a pair"
  [[ "$tried" == *"${IP[gw]}"* && "$tried" == *"${IP[a]}"* && "$tried" == *"->"* ]] ||
    fail "4: ice_failed does not name the pairs tried (the gateway's and a's candidates): $line"
  ! log_match "$GW" ice_ready call_id="$CALL" >/dev/null || fail "4: an ICE pair was selected"
  ng ping >/dev/null || fail "4: no pong after the ICE failure"
  do_query
  [ "$(qget plan)/$(qget relay-bytes)/$(qget offerer-bound)/$(qget answerer-bound)" = relay/0/0/1 ] ||
    fail "4: query after the failure: $(cat "$WORK/4.query.json")"
  check_call a
  check_setups relay
  [ "$(log_count "$GW" connection_accepted transport=ice-tcp)" = 0 ] ||
    fail "4: an ICE-TCP connection was accepted: $(log_match "$GW" connection_accepted)"
  # The softphone gives up too, bounded by its --ice-timeout (from when it
  # read the answer).
  wait_party o4 $((fail_timeout + 10)) 3
  local mc_took=$(( $(now_ms) - t_answer ))
  [ "$mc_took" -le $(( (fail_timeout + 2) * 1000 + 3000 * IT_SLOW )) ] ||
    fail "4: the softphone ended $mc_took ms after the answer, its --ice-timeout is $((fail_timeout + 2)) s"
  grep -q "ICE failed" "$WORK/o4.err" || fail "4: the softphone's msrpcat says $(tail -2 "$WORK/o4.err")"
  local blocked
  blocked=$(nft_bytes nata ice_blocked)
  [ "$blocked" -gt 0 ] || fail "4: a's NAT dropped nothing: the softphone's checks did not run"
  # The legacy answerer reached the gateway over plain tcp and was bound;
  # nothing came.  The call is deleted, which lets it go.
  check_tcp_leg "$(own_uri "$WORK/4.a.sdp")" "${IP[pb]}"
  delete_call 0 0
  mc_wait a4 $((fail_timeout + 10))
  [ "$rc" != 0 ] || fail "4: the legacy answerer received something"
  ng ping >/dev/null || fail "4: no pong after the delete"
  nx nata nft delete table inet icetest
  stop_gw 4 0
  note "4 ICE checks that cannot succeed: ice_failed $took ms after the answer ([ice] timeout=$fail_timeout; reason \"$reason\"; tried $tried); ping and query answered during and after; the softphone ended 3 after $mc_took ms (\"$(grep -m1 'ICE failed' "$WORK/o4.err" | cut -c1-120)\"), a's NAT dropped $blocked bytes of checks; the legacy answerer ended $rc after the delete; $DELETED_NOTE"
}

# --- 5: both ICE behind NATs, the answerer passive ------------------------------
# The ICE answerer answers passive to the gateway's actpass offer (row 35):
# the gateway sends the first SEND on the answerer's selected pair
# (session_connected over the ICE conn), then messages pass both ways.
scenario_5 () {
  ice_gw 5
  call_begin 5
  party offerer a o5 ice "$WORK/small.bin" "offerer" 3
  party answerer b a5 ice "$WORK/small.bin" "answerer" 3 --setup passive
  ng_pass offer 5.o.sdp 5.o2a.sdp a
  local ouri auri p
  ouri=$(own_uri "$WORK/5.o.sdp")
  check_gw_sdp "$WORK/5.o2a.sdp" "the answerer" "$ouri" yes actpass
  wait_log "$GW" 5 ice_gathered call_id="$CALL" party=answerer ||
    fail "5: no ice_gathered for the answerer's leg"
  ng_pass answer 5.a.sdp 5.a2o.sdp b
  auri=$(own_uri "$WORK/5.a.sdp")
  [ "$(sdp_attr "$WORK/5.a.sdp" setup)" = passive ] || fail "5: the ICE answerer did not answer passive"
  check_gw_sdp "$WORK/5.a2o.sdp" "the offerer" "$auri" yes
  check_no_warning
  check_plan answer relay setup_to_answerer=actpass
  log_match "$GW" plan_decided call_id="$CALL" step=answer \
    reason="the offerer reaches the gateway over ICE-TCP; the gateway sends the first SEND over the answerer's ICE-TCP pair" >/dev/null ||
    fail "5: plan_decided does not say the gateway sends first on the answerer's pair: $(log_match "$GW" plan_decided call_id="$CALL" step=answer)"
  for p in offerer answerer; do
    wait_until 13 log_match "$GW" ice_ready call_id="$CALL" party="$p" >/dev/null ||
      fail "5: no ice_ready for the $p's leg (ice_failed: $(log_match "$GW" ice_failed call_id="$CALL" party="$p" || echo none))"
  done
  wait_party o5 60 0
  wait_party a5 30 0
  check_inbox "$WORK/5-ain" "$WORK/small.bin" offerer
  check_inbox "$WORK/5-oin" "$WORK/small.bin" answerer
  check_ice_leg answerer "${IP[natb]}"
  log_match "$GW" session_connected call_id="$CALL" party="$auri" conn="$ICE_CONN" >/dev/null ||
    fail "5: the gateway's binding SEND was not answered on the answerer's ICE conn $ICE_CONN: $(log_match "$GW" session_connected || true)"
  [ "$(mc_json a5 'd["sdp"]["role"]')" = passive ] ||
    fail "5: the answerer's msrpcat says role $(mc_json a5 'd.get("sdp")')"
  do_query
  check_call a
  check_setups relay
  delete_call "$small_size" "$small_size"
  stop_gw 5 "$((2 * small_size))"
  note "5 both ICE, the answerer passive: the gateway sent the first SEND on the answerer's pair ($ICE_PAIR, conn $ICE_CONN), 1 MiB and chats both ways; $DELETED_NOTE"
}

for s in $scenarios; do
  "scenario_$s"
done
echo "ice scenarios ($scenarios): ok in $(( $(date +%s) - started ))s"
