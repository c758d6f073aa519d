#!/bin/bash
# Real NATs, end to end (issue 4): msrp-edge in a public namespace, msrpcat
# parties on the public side or behind their own masquerading NATs
# (tests/integration/nat-lib.sh), their SDP passed through msrp-edge's ng
# control plane (tests/integration/ng-client.py), then real MSRP between
# them, connected the way the rewritten SDP says.
#
# First the reachability proof (nat_proof): the NATed parties reach the
# gateway and the public parties; nothing public reaches a NATed party.
# Then, each scenario on a fresh msrp-edge (so its `stats` event at SIGTERM
# counts that scenario only), the offerer sending a file to the answerer:
#
#   1  both public, offerer actpass, answerer passive -> direct: the SDP
#      passes unchanged, the offerer connects to the answerer, the file
#      arrives byte-exact; the gateway carried nothing: query relay-bytes 0,
#      no connection_accepted, stats bytes_in/bytes_out 0, pub's nft
#      counters of the gateway's TCP traffic unchanged.
#   2  offerer public actpass, answerer behind NAT answering active ->
#      direct-reversed: the answerer connects out through its NAT to the
#      offerer, who sends; the gateway carried nothing; the file came in
#      through the answerer's NAT (its forward counter).
#   3  offerer behind NAT, answerer public:
#      3a default, the answerer answers passive -> relay: the offer carries
#      the gateway (c=, m= port, its URI first in a=path, actpass); the
#      gateway connects to the answerer and binds; the offerer connects to
#      the gateway; the file goes through it (relay-bytes, stats, nft).
#      3b default, the answerer answers active -> relay, both connect to
#      the gateway.
#      3c flag callee-reachable -> the offer's a=setup comes out active and
#      nothing else changes; the answerer answers passive; the offerer
#      connects straight to it through its NAT; the gateway carried nothing.
#   4  both behind NAT, the answerer answers active -> relay: both connect
#      to the gateway (session_bound for both parties), a NAT_BIG_MB MiB
#      (default 50) random file arrives byte-exact (sha256), and the
#      gateway's counters show the file in and out: query relay-bytes,
#      call_deleted relay_bytes, stats bytes_in and bytes_out, the
#      connection_closed bytes of each party's connection, pub's nft
#      counters.
#   race  as 4, but the offerer starts sending at once, before the
#      answerer's connection is bound: the gateway holds the frame until the
#      answerer binds, and the file arrives.
#   5  both behind NAT, the answerer legacy (no a=setup) -> the answer reply
#      has a `warning`, plan_decided has it too; the offerer's msrpcat ends
#      non-zero within a bounded time (no hang), the answerer gets nothing,
#      and the control plane still answers ping.
#
# Every scenario checks call_offered, call_answered, plan_decided, query,
# list and statistics, deletes its call (call_deleted; a second delete is an
# error) and stops the daemon cleanly (exit 0, `stopped`).  The a=setup
# written toward each side must be what plan_decided (setup_to_offerer,
# setup_to_answerer) and query (setup-to-offerer, setup-to-answerer) say.
# Parties act as real ones do: a party that will accept the
# connection listens before its SDP goes out; in a relayed call where both
# connect, the offerer starts once the answerer's connection is bound (the
# answer travels to the offerer meanwhile; "race" tries it the other way).
#
# Usage: nat-scenarios.sh MSRP-EDGE MSRPCAT
# Needs root (network namespaces; skipped with 77 otherwise).
# Environment: NAT_SCENARIOS (default "1 2 3 4 race 5"), NAT_BIG_MB (default
# 50), KEEP_WORK=1, IT_SLOW (lib.sh); NAT_HOLD=1 holds after the proof
# until killed and NAT_FAIL_AT=proof fails right after it (both for
# nat-teardown.sh, which checks the tear-down).
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/nat-lib.sh"

scenarios=${NAT_SCENARIOS:-1 2 3 4 race 5}
big_mb=${NAT_BIG_MB:-50}
small_size=262144
started=$(date +%s)

# --- helpers -----------------------------------------------------------------

# A field of the JSON reply in FILE, by Python expression on d.
jget () { json_last "$1" "$2"; }

rand_id () { head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# scen_begin TAG: a fresh daemon gwTAG, a call id, ports, counters.
scen_begin () {
  S=$1
  echo "--- scenario $S"
  RECV_ARGS=(--receive --expect 1 -o "$WORK/$S-recv" --json -T 20)
  gw_start "gw$S" "[negotiator]\npolicy=${NAT_POLICY:-auto}"
  GW=$WORK/gw$S.log
  CALL="nat-$S-$$@test.invalid"
  FTAG="ft-$S"
  TTAG="tt-$S"
  local n=${S//[!0-9]/}
  n=${n:-9}
  case $S in *b) n=$((n + 30)) ;; *c) n=$((n + 60)) ;; esac
  OPORT=$((7000 + n * 10 + 1))
  APORT=$((7000 + n * 10 + 2))
  OSESS=o$(rand_id)
  ASESS=a$(rand_id)
  nft0_in=$(nft_bytes pub gw_in)
  nft0_out=$(nft_bytes pub gw_out)
  for p in nata natb; do
    eval "nft0_${p}_in=\$(nft_bytes $p fwd_in)"
    eval "nft0_${p}_out=\$(nft_bytes $p fwd_out)"
  done
}

uri_of () { echo "msrp://${IP[$1]}:$2/$3;tcp"; }

# do_offer OFFERER SETUP [NG-FLAG...]
do_offer () {
  OFF=$1; local setup=$2; shift 2
  local flags=() f
  for f in "$@"; do flags+=(--flag "$f"); done
  OURI=$(uri_of "$OFF" "$OPORT" "$OSESS")
  sdp_party "$WORK/$S-offer.sdp" "${IP[$OFF]}" "$OPORT" "$OSESS" "$setup"
  ng offer --call-id "$CALL" --from-tag "$FTAG" \
    --received-from "${SEEN[$OFF]}" ${flags[@]+"${flags[@]}"} \
    --sdp-file "$WORK/$S-offer.sdp" --out "$WORK/$S-offer-out.sdp" \
    >"$WORK/$S-offer.json" 2>"$WORK/$S-offer.err" ||
    fail "$S: offer: $(cat "$WORK/$S-offer.json" "$WORK/$S-offer.err")"
  [ -s "$WORK/$S-offer-out.sdp" ] || fail "$S: the offer reply has no sdp"
}

# do_answer ANSWERER CHOICE [NG-FLAG...]: CHOICE is what the answerer picks
# when the offer it sees says actpass (active or passive), or "legacy" for
# an RFC 4975 answerer that writes no a=setup.
do_answer () {
  ANS=$1; local choice=$2; shift 2
  local flags=() f seen
  for f in "$@"; do flags+=(--flag "$f"); done
  AURI=$(uri_of "$ANS" "$APORT" "$ASESS")
  seen=$(sdp_attr "$WORK/$S-offer-out.sdp" setup || echo none)
  if [ "$choice" = legacy ]; then
    ASETUP=""
  else
    case $seen in
      actpass) ASETUP=$choice ;;
      active|none) ASETUP=passive ;;
      passive) ASETUP=active ;;
      *) fail "$S: the offer the answerer sees says a=setup:$seen" ;;
    esac
  fi
  sdp_party "$WORK/$S-answer.sdp" "${IP[$ANS]}" "$APORT" "$ASESS" "$ASETUP"
  # An answerer that will accept the connection listens before its answer
  # goes out (the gateway may connect to it as soon as it has the answer).
  [ "$ASETUP" = active ] && A_ROLE=connect || A_ROLE=listen
  if [ "$A_ROLE" = listen ]; then
    A_TO=$(sdp_attr "$WORK/$S-offer-out.sdp" path) ||
      fail "$S: no a=path in the offer the answerer sees"
    rm -rf "$WORK/$S-recv"
    mkdir -p "$WORK/$S-recv"
    ns_mc_start "$ANS" recv$S --listen "${IP[$ANS]}:$APORT" \
      --local-uri "$AURI" --to-path "$A_TO" "${RECV_ARGS[@]}"
    wait_listening "$ANS" "${IP[$ANS]}" "$APORT" 10 ||
      fail "$S: the answerer does not listen"
  fi
  ng answer --call-id "$CALL" --from-tag "$FTAG" --to-tag "$TTAG" \
    --received-from "${SEEN[$ANS]}" ${flags[@]+"${flags[@]}"} \
    --sdp-file "$WORK/$S-answer.sdp" --out "$WORK/$S-answer-out.sdp" \
    >"$WORK/$S-answer.json" 2>"$WORK/$S-answer.err" ||
    fail "$S: answer: $(cat "$WORK/$S-answer.json" "$WORK/$S-answer.err")"
  [ -s "$WORK/$S-answer-out.sdp" ] || fail "$S: the answer reply has no sdp"
}

# What each party reads from the SDP it was given: the peer's a=path, and
# from the a=setup who listens (RFC 4145: the answer's a=setup settles it).
#   the answerer connects when it answered active, else listens;
#   the offerer listens when the answer it sees says active, else connects.
roles () {
  O_TO=$(sdp_attr "$WORK/$S-answer-out.sdp" path) || fail "$S: no a=path in the answer the offerer sees"
  A_TO=$(sdp_attr "$WORK/$S-offer-out.sdp" path) || fail "$S: no a=path in the offer the answerer sees"
  local o_seen
  o_seen=$(sdp_attr "$WORK/$S-answer-out.sdp" setup || echo none)
  [ "$o_seen" = active ] && O_ROLE=listen || O_ROLE=connect
  echo "    offerer $OFF ${O_ROLE}s (answer says ${o_seen}), to-path: $O_TO"
  echo "    answerer $ANS ${A_ROLE}s (answered ${ASETUP:-nothing}), to-path: $A_TO"
}

# media PAYLOAD SECS: the offerer sends PAYLOAD to the answerer; the
# listening offerer first, then the connecting sides (a listening answerer
# was started by do_answer); both must end 0 within SECS; the file arrives
# byte-exact.
media () {
  local payload=$1 secs=$2
  local send=(-f "$payload" -c 64k --success-report yes --json -T 20)
  if [ "$O_ROLE" = listen ]; then
    ns_mc_start "$OFF" send$S --listen "${IP[$OFF]}:$OPORT" \
      --local-uri "$OURI" --to-path "$O_TO" "${send[@]}"
    wait_listening "$OFF" "${IP[$OFF]}" "$OPORT" 10 ||
      fail "$S: the offerer does not listen"
  fi
  if [ "$A_ROLE" = connect ]; then
    rm -rf "$WORK/$S-recv"
    mkdir -p "$WORK/$S-recv"
    ns_mc_start "$ANS" recv$S --to-path "$A_TO" --local-uri "$AURI" --bind \
      "${RECV_ARGS[@]}"
  fi
  if [ "$A_ROLE" = connect ] && [ "${O_TO%% *}" != "$O_TO" ] &&
     [ "${NAT_RACE:-0}" = 0 ]; then
    # Relayed, both active: the answerer connects after sending its answer,
    # while the answer travels to the offerer; so the offerer starts once
    # the answerer's connection is bound (NAT_RACE=1: at once; see the
    # scenario "race").
    wait_log "$GW" 10 session_bound party="$AURI" ||
      fail "$S: the answerer's connection was not bound in 10 s"
  fi
  if [ "$O_ROLE" = connect ]; then
    ns_mc_start "$OFF" send$S --to-path "$O_TO" --local-uri "$OURI" --bind \
      "${send[@]}"
  fi
  mc_wait send$S "$secs"
  [ "$rc" = 0 ] || fail "$S: the sender ($OFF) ended with $rc: $(tail -3 "$WORK/send$S.err")"
  mc_wait recv$S 15
  [ "$rc" = 0 ] || fail "$S: the receiver ($ANS) ended with $rc: $(tail -3 "$WORK/recv$S.err")"
  local got
  got=$(ls "$WORK/$S-recv")
  [ "$(echo "$got" | wc -l)" = 1 ] || fail "$S: the receiver wrote '$got'"
  [ "$(sha256sum <"$WORK/$S-recv/$got")" = "$(sha256sum <"$payload")" ] ||
    fail "$S: the file differs at the far end"
  [ "$(jget "$WORK/send$S.out" 'd["sent"]["success_reports"]')" = 1 ] ||
    fail "$S: no Success REPORT back to the sender"
}

# The plan in the log (plan_decided of the answer step) and in query, with
# the a=setup written toward each side: setup_offerer is the one in the
# answer the offerer sees, setup_answerer the one in the offer the answerer
# sees ("none" where there is no a=setup line).
check_plan () {
  local plan=$1 so sa line
  log_match "$GW" call_offered call_id="$CALL" from_tag="$FTAG" >/dev/null ||
    fail "$S: no call_offered"
  log_match "$GW" call_answered call_id="$CALL" to_tag="$TTAG" >/dev/null ||
    fail "$S: no call_answered"
  log_match "$GW" plan_decided call_id="$CALL" step=answer plan="$plan" >/dev/null ||
    fail "$S: no plan_decided plan=$plan at the answer: $(log_match "$GW" plan_decided call_id="$CALL" || true)"
  ng query --call-id "$CALL" >"$WORK/$S-query.json" || fail "$S: query: $(cat "$WORK/$S-query.json")"
  [ "$(jget "$WORK/$S-query.json" 'd["streams"][0]["plan"]')" = "$plan" ] ||
    fail "$S: query says $(cat "$WORK/$S-query.json")"
  RELAY_BYTES=$(jget "$WORK/$S-query.json" 'd["streams"][0]["relay-bytes"]')
  ng list >"$WORK/$S-list.json" || fail "$S: list: $(cat "$WORK/$S-list.json")"
  [ "$(jget "$WORK/$S-list.json" 'd["calls"]')" = "['$CALL']" ] ||
    fail "$S: list says $(cat "$WORK/$S-list.json")"
  ng statistics >"$WORK/$S-stats.json" || fail "$S: statistics: $(cat "$WORK/$S-stats.json")"
  [ "$(jget "$WORK/$S-stats.json" '(d["totalstatistics"]["offers"], d["totalstatistics"]["answers"], "currentstatistics" in d)')" = "(1, 1, True)" ] ||
    fail "$S: statistics say $(cat "$WORK/$S-stats.json")"
  so=$(sdp_attr "$WORK/$S-answer-out.sdp" setup || echo absent)
  sa=$(sdp_attr "$WORK/$S-offer-out.sdp" setup || echo absent)
  log_match "$GW" plan_decided call_id="$CALL" step=answer \
      setup_to_offerer="$so" setup_to_answerer="$sa" >/dev/null ||
    fail "$S: plan_decided does not say a=setup $so to the offerer and $sa to the answerer: $(log_match "$GW" plan_decided call_id="$CALL" step=answer || true)"
  [ "$(jget "$WORK/$S-query.json" 'd["streams"][0].get("setup-to-offerer"), d["streams"][0].get("setup-to-answerer")')" = "('$so', '$sa')" ] ||
    fail "$S: query does not say a=setup $so to the offerer and $sa to the answerer: $(cat "$WORK/$S-query.json")"
}

nft_delta () {   # NS COUNTER BASE
  echo $(( $(nft_bytes "$1" "$2") - $3 ))
}

# The gateway carried nothing.
check_no_relay () {
  [ "$RELAY_BYTES" = 0 ] || fail "$S: query relay-bytes $RELAY_BYTES, not 0"
  [ "$(log_count "$GW" connection_accepted)" = 0 ] ||
    fail "$S: the gateway accepted a connection: $(log_match "$GW" connection_accepted)"
  [ "$(log_count "$GW" session_bound)" = 0 ] || fail "$S: a session was bound"
  local di dout
  di=$(nft_delta pub gw_in "$nft0_in")
  dout=$(nft_delta pub gw_out "$nft0_out")
  [ "$di" = 0 ] && [ "$dout" = 0 ] ||
    fail "$S: TCP bytes at the gateway's address: in $di, out $dout"
}

# The call is deleted (call_deleted), then the daemon stops; its stats.
finish_call () {
  ng delete --call-id "$CALL" --from-tag "$FTAG" >"$WORK/$S-delete.json" ||
    fail "$S: delete: $(cat "$WORK/$S-delete.json")"
  wait_log "$GW" 5 call_deleted call_id="$CALL" || fail "$S: no call_deleted"
  DELETED_BYTES=$(log_field "$GW" call_deleted relay_bytes call_id="$CALL")
  if ng delete --call-id "$CALL" >"$WORK/$S-delete2.json" 2>&1; then
    fail "$S: a second delete of the call succeeded"
  fi
  gw_stop "gw$S"
  STATS_IN=$(log_field "$GW" stats bytes_in)
  STATS_OUT=$(log_field "$GW" stats bytes_out)
}

check_no_warning () {
  local f
  for f in offer answer; do
    if jget "$WORK/$S-$f.json" '"warning" in d' | grep -q True; then
      fail "$S: the $f reply has a warning: $(jget "$WORK/$S-$f.json" 'd["warning"]')"
    fi
  done
}

same_sdp () {   # IN OUT WHAT
  cmp -s "$1" "$2" || fail "$S: $3 was rewritten: $(diff <(tr -d '\r' <"$1") <(tr -d '\r' <"$2") || true)"
}

# The relay's view: its URI first in the a=path, the party's after it;
# c= and the m= port are the gateway's.
check_relayed_sdp () {   # FILE PARTY-URI WHO
  local path
  path=$(sdp_attr "$1" path)
  [[ "$path" =~ ^msrp://${IP[gw]//./\\.}:$GW_MSRP_PORT/[^\ ]+\;tcp\ (.*)$ ]] ||
    fail "$S: $3 sees a=path '$path', not the gateway first"
  [ "${BASH_REMATCH[1]}" = "$2" ] || fail "$S: $3 sees a=path '$path', not ending in $2"
  [ "$(sdp_c "$1")" = "${IP[gw]}" ] || fail "$S: $3 sees c=$(sdp_c "$1")"
  [ "$(sdp_m_port "$1")" = "$GW_MSRP_PORT" ] || fail "$S: $3 sees m= port $(sdp_m_port "$1")"
}

gw_session_of () { sdp_attr "$1" path | sed 's|^msrp://[^/]*/\([^;]*\);.*|\1|'; }

# After the delete, in a relayed call: each relay session closed with its
# counters, the offerer's session having taken at least SIZE body bytes
# from the offerer and the answerer's having given them to the answerer.
check_sessions_closed () {   # SIZE
  local so sa from to
  so=$(gw_session_of "$WORK/$S-offer-out.sdp")     # the offerer's, in the offer
  sa=$(gw_session_of "$WORK/$S-answer-out.sdp")    # the answerer's
  log_match "$GW" session_closed session="$so" call_id="$CALL" party="$OURI" >/dev/null ||
    fail "$S: no session_closed for the offerer's session $so"
  log_match "$GW" session_closed session="$sa" call_id="$CALL" party="$AURI" >/dev/null ||
    fail "$S: no session_closed for the answerer's session $sa"
  from=$(log_field "$GW" session_closed bytes_from session="$so")
  to=$(log_field "$GW" session_closed bytes_to session="$sa")
  [ "$from" -ge "$1" ] && [ "$to" -ge "$1" ] ||
    fail "$S: session_closed: $from bytes from the offerer, $to to the answerer"
}

# --- the topology and the proof ------------------------------------------------

nat_setup
nat_proof
if [ "${NAT_FAIL_AT:-}" = proof ]; then
  fail "failing after the proof, as NAT_FAIL_AT asks"
fi
if [ "${NAT_HOLD:-0}" = 1 ]; then
  # A daemon in pub and a listening msrpcat behind NAT, then wait to be
  # killed (nat-teardown.sh): short sleeps, so a signal is handled at once.
  gw_start gwhold
  ns_mc_start b hold --listen "${IP[b]}:7999" --receive
  wait_listening b "${IP[b]}" 7999 10 || fail "hold: msrpcat does not listen"
  echo "holding $gwhold_pid $hold_pid"
  while :; do sleep 0.1; done
fi

head -c "$small_size" /dev/urandom >"$WORK/small.bin"

# --- 1: both public -> direct ---------------------------------------------------
scenario_1 () {
  scen_begin 1
  do_offer pa actpass
  same_sdp "$WORK/1-offer.sdp" "$WORK/1-offer-out.sdp" "the offer"
  do_answer pb passive
  same_sdp "$WORK/1-answer.sdp" "$WORK/1-answer-out.sdp" "the answer"
  check_no_warning
  roles
  [ "$O_ROLE/$A_ROLE" = connect/listen ] || fail "1: roles $O_ROLE/$A_ROLE"
  media "$WORK/small.bin" 30
  grep -q "accepted a connection from ${IP[pa]}" "$WORK/recv1.err" ||
    fail "1: the answerer did not accept the offerer's own connection: $(cat "$WORK/recv1.err")"
  check_plan direct
  check_no_relay
  finish_call
  [ "$DELETED_BYTES" = 0 ] && [ "$STATS_IN" = 0 ] && [ "$STATS_OUT" = 0 ] ||
    fail "1: gateway bytes: call_deleted $DELETED_BYTES, stats in $STATS_IN out $STATS_OUT"
  note "1 both public: direct, SDP unchanged, pa -> pb straight, 256 KiB byte-exact; gateway: 0 relay bytes, no connection, nft 0"
}

# --- 2: offerer public actpass, answerer NATed and active -> direct-reversed --
scenario_2 () {
  scen_begin 2
  do_offer pa actpass
  same_sdp "$WORK/2-offer.sdp" "$WORK/2-offer-out.sdp" "the offer"
  do_answer b active
  same_sdp "$WORK/2-answer.sdp" "$WORK/2-answer-out.sdp" "the answer"
  check_no_warning
  roles
  [ "$O_ROLE/$A_ROLE" = listen/connect ] || fail "2: roles $O_ROLE/$A_ROLE"
  media "$WORK/small.bin" 30
  grep -q "accepted a connection from ${IP[natb]}" "$WORK/send2.err" ||
    fail "2: the offerer did not accept a connection from b's NAT: $(cat "$WORK/send2.err")"
  check_plan direct-reversed
  check_no_relay
  local fin
  fin=$(nft_delta natb fwd_in "$nft0_natb_in")
  [ "$fin" -ge "$small_size" ] || fail "2: only $fin bytes came in through b's NAT"
  finish_call
  [ "$DELETED_BYTES" = 0 ] && [ "$STATS_IN" = 0 ] && [ "$STATS_OUT" = 0 ] ||
    fail "2: gateway bytes: call_deleted $DELETED_BYTES, stats in $STATS_IN out $STATS_OUT"
  note "2 public actpass -> NATed active: direct-reversed, SDP unchanged, b connects out through its NAT ($fin bytes in through it); gateway: 0 bytes"
}

# --- 3: offerer NATed, answerer public ------------------------------------------
scenario_3_relay () {   # TAG ANSWER-CHOICE
  scen_begin "$1"
  do_offer a actpass
  check_relayed_sdp "$WORK/$S-offer-out.sdp" "$OURI" "the answerer"
  [ "$(sdp_attr "$WORK/$S-offer-out.sdp" setup)" = actpass ] ||
    fail "$S: the answerer sees a=setup:$(sdp_attr "$WORK/$S-offer-out.sdp" setup)"
  log_match "$GW" plan_decided call_id="$CALL" step=offer plan=relay >/dev/null ||
    fail "$S: no plan_decided relay at the offer"
  do_answer pb "$2"
  check_relayed_sdp "$WORK/$S-answer-out.sdp" "$AURI" "the offerer"
  [ "$(sdp_attr "$WORK/$S-answer-out.sdp" setup)" = passive ] ||
    fail "$S: the offerer sees a=setup:$(sdp_attr "$WORK/$S-answer-out.sdp" setup)"
  check_no_warning
  roles
  media "$WORK/small.bin" 30
  check_plan relay
  [ "$RELAY_BYTES" -ge "$small_size" ] || fail "$S: query relay-bytes $RELAY_BYTES"
  local sa sb
  sa=$(gw_session_of "$WORK/$S-offer-out.sdp")
  sb=$(gw_session_of "$WORK/$S-answer-out.sdp")
  local adir=inbound
  [ "$2" = passive ] && adir=outbound
  log_match "$GW" session_bound party="$OURI" call_id="$CALL" direction=inbound >/dev/null ||
    fail "$S: the offerer's connection was not bound inbound: $(log_match "$GW" session_bound || true)"
  log_match "$GW" session_bound party="$AURI" call_id="$CALL" direction="$adir" >/dev/null ||
    fail "$S: the answerer's connection was not bound $adir: $(log_match "$GW" session_bound || true)"
  if [ "$2" = passive ]; then
    # The gateway connected to the public answerer itself.
    grep -q "accepted a connection from ${IP[gw]}" "$WORK/recv$S.err" ||
      fail "$S: the answerer did not accept the gateway's connection: $(cat "$WORK/recv$S.err")"
    [ "$(log_count "$GW" connection_accepted)" = 1 ] ||
      fail "$S: $(log_count "$GW" connection_accepted) connections accepted, not 1 (the offerer's)"
  else
    [ "$(log_count "$GW" connection_accepted)" = 2 ] ||
      fail "$S: $(log_count "$GW" connection_accepted) connections accepted, not 2"
  fi
  local di dout
  di=$(nft_delta pub gw_in "$nft0_in")
  dout=$(nft_delta pub gw_out "$nft0_out")
  [ "$di" -ge "$small_size" ] && [ "$dout" -ge "$small_size" ] ||
    fail "$S: TCP bytes at the gateway: in $di, out $dout"
  finish_call
  check_sessions_closed "$small_size"
  [ "$DELETED_BYTES" -ge "$small_size" ] && [ "$STATS_IN" -ge "$small_size" ] &&
    [ "$STATS_OUT" -ge "$small_size" ] ||
    fail "$S: gateway bytes: call_deleted $DELETED_BYTES, stats in $STATS_IN out $STATS_OUT"
  note "$S NATed offerer, public answerer answering $2: relay (sessions $sa/$sb), 256 KiB through the gateway (relay-bytes $RELAY_BYTES, stats in $STATS_IN out $STATS_OUT, nft in $di out $dout)"
}

scenario_3c () {
  scen_begin 3c
  do_offer a actpass callee-reachable
  [ "$(sdp_attr "$WORK/3c-offer-out.sdp" setup)" = active ] ||
    fail "3c: the offer's a=setup came out $(sdp_attr "$WORK/3c-offer-out.sdp" setup), not active"
  diff <(tr -d '\r' <"$WORK/3c-offer.sdp" | grep -v '^a=setup:') \
       <(tr -d '\r' <"$WORK/3c-offer-out.sdp" | grep -v '^a=setup:') >/dev/null ||
    fail "3c: the offer was rewritten beyond a=setup"
  do_answer pb passive
  same_sdp "$WORK/3c-answer.sdp" "$WORK/3c-answer-out.sdp" "the answer"
  check_no_warning
  roles
  [ "$O_ROLE/$A_ROLE" = connect/listen ] || fail "3c: roles $O_ROLE/$A_ROLE"
  media "$WORK/small.bin" 30
  grep -q "accepted a connection from ${IP[nata]}" "$WORK/recv3c.err" ||
    fail "3c: the answerer did not accept a connection from a's NAT: $(cat "$WORK/recv3c.err")"
  check_plan direct
  check_no_relay
  local fout
  fout=$(nft_delta nata fwd_out "$nft0_nata_out")
  [ "$fout" -ge "$small_size" ] || fail "3c: only $fout bytes went out through a's NAT"
  finish_call
  [ "$DELETED_BYTES" = 0 ] && [ "$STATS_IN" = 0 ] && [ "$STATS_OUT" = 0 ] ||
    fail "3c: gateway bytes: call_deleted $DELETED_BYTES, stats in $STATS_IN out $STATS_OUT"
  note "3c NATed offerer + callee-reachable: offer a=setup:active, direct, a -> pb through its NAT ($fout bytes out); gateway: 0 bytes"
}

scenario_3 () {
  scenario_3_relay 3a passive
  scenario_3_relay 3b active
  scenario_3c
}

# --- 4: both NATed -> relay, a big file -----------------------------------------
scenario_4 () {
  local big=$WORK/big.bin size=$((big_mb * 1024 * 1024))
  head -c "$size" /dev/urandom >"$big"
  scen_begin 4
  do_offer a actpass
  check_relayed_sdp "$WORK/4-offer-out.sdp" "$OURI" "the answerer"
  do_answer b active
  check_relayed_sdp "$WORK/4-answer-out.sdp" "$AURI" "the offerer"
  [ "$(sdp_attr "$WORK/4-answer-out.sdp" setup)" = passive ] ||
    fail "4: the offerer sees a=setup:$(sdp_attr "$WORK/4-answer-out.sdp" setup)"
  check_no_warning
  roles
  [ "$O_ROLE/$A_ROLE" = connect/connect ] || fail "4: roles $O_ROLE/$A_ROLE"
  local t0=$(date +%s)
  media "$big" 90
  local took=$(( $(date +%s) - t0 ))
  check_plan relay
  [ "$RELAY_BYTES" -ge "$size" ] || fail "4: query relay-bytes $RELAY_BYTES < $size"
  local oc ac
  oc=$(log_field "$GW" session_bound conn party="$OURI" call_id="$CALL" direction=inbound) ||
    fail "4: the offerer's connection was not bound inbound"
  ac=$(log_field "$GW" session_bound conn party="$AURI" call_id="$CALL" direction=inbound) ||
    fail "4: the answerer's connection was not bound inbound"
  [ "$oc" != "$ac" ] || fail "4: one connection bound for both"
  [ "$(log_field "$GW" connection_accepted peer conn="$oc" | cut -d: -f1)" = "${IP[nata]}" ] ||
    fail "4: the offerer's connection came from $(log_field "$GW" connection_accepted peer conn="$oc")"
  [ "$(log_field "$GW" connection_accepted peer conn="$ac" | cut -d: -f1)" = "${IP[natb]}" ] ||
    fail "4: the answerer's connection came from $(log_field "$GW" connection_accepted peer conn="$ac")"
  local di dout
  di=$(nft_delta pub gw_in "$nft0_in")
  dout=$(nft_delta pub gw_out "$nft0_out")
  [ "$di" -ge "$size" ] && [ "$dout" -ge "$size" ] || fail "4: TCP bytes at the gateway: in $di, out $dout"
  finish_call
  check_sessions_closed "$size"
  [ "$DELETED_BYTES" -ge "$size" ] || fail "4: call_deleted relay_bytes $DELETED_BYTES"
  [ "$STATS_IN" -ge "$size" ] && [ "$STATS_OUT" -ge "$size" ] ||
    fail "4: stats in $STATS_IN out $STATS_OUT"
  local oin aout
  oin=$(log_field "$GW" connection_closed bytes_in conn="$oc")
  aout=$(log_field "$GW" connection_closed bytes_out conn="$ac")
  [ "$oin" -ge "$size" ] && [ "$aout" -ge "$size" ] ||
    fail "4: the offerer's connection brought $oin bytes, the answerer's took $aout"
  rm -f "$big"
  note "4 both NATed: relay, both connect to the gateway (from ${IP[nata]} and ${IP[natb]}), $big_mb MiB sha256-equal in ${took}s; gateway: relay-bytes $RELAY_BYTES, call_deleted $DELETED_BYTES, stats in $STATS_IN out $STATS_OUT, offerer conn in $oin, answerer conn out $aout, nft in $di out $dout"
}

# --- race: as 4, but the offerer sends at once ---------------------------
# The answer reaches the offerer while the answerer is still connecting to
# the gateway; the offerer's first SEND may come before the answerer's
# connection is bound.  The message must still get through (held until the
# answerer binds, within a bound), not be refused with 481.
scenario_race () {
  scen_begin race
  do_offer a actpass
  do_answer b active
  roles
  local send=(-f "$WORK/small.bin" -c 64k --success-report yes --json -T 20)
  rm -rf "$WORK/race-recv"
  mkdir -p "$WORK/race-recv"
  ns_mc_start a sendrace --to-path "$O_TO" --local-uri "$OURI" --bind "${send[@]}"
  sleep 0.3
  ns_mc_start b recvrace --to-path "$A_TO" --local-uri "$AURI" --bind "${RECV_ARGS[@]}"
  mc_wait sendrace 30
  [ "$rc" = 0 ] || fail "race: the offerer's file was not delivered (exit $rc): $(tail -2 "$WORK/sendrace.err")"
  mc_wait recvrace 15
  [ "$rc" = 0 ] && cmp -s "$WORK/small.bin" "$WORK"/race-recv/* ||
    fail "race: the answerer did not get the file (exit $rc)"
  finish_call
  note "race: the offerer's SEND before the answerer bound was held and delivered"
}

# --- 5: both NATed, legacy answerer -> warning, no hang ---------------------------
scenario_5 () {
  scen_begin 5
  do_offer a actpass
  do_answer b legacy
  jget "$WORK/5-answer.json" 'd.get("warning", "")' | grep -q . ||
    fail "5: the answer reply has no warning: $(cat "$WORK/5-answer.json")"
  local warning
  warning=$(jget "$WORK/5-answer.json" 'd["warning"]')
  log_match "$GW" plan_decided call_id="$CALL" step=answer plan=relay >/dev/null ||
    fail "5: no plan_decided relay at the answer"
  log_field "$GW" plan_decided warning call_id="$CALL" step=answer | grep -q . ||
    fail "5: plan_decided has no warning: $(log_match "$GW" plan_decided call_id="$CALL" step=answer)"
  roles
  [ "$O_ROLE/$A_ROLE" = connect/listen ] || fail "5: roles $O_ROLE/$A_ROLE"
  # The legacy answerer listens (do_answer started it) where nobody can
  # reach it; the offerer connects to the gateway and must give up, not
  # hang.
  local t0=$(date +%s)
  ns_mc_start a send5 --to-path "$O_TO" --local-uri "$OURI" --bind \
    -m "into the void" --json -T 10
  mc_wait send5 25
  local took=$(( $(date +%s) - t0 ))
  [ "$rc" != 0 ] || fail "5: the offerer's msrpcat succeeded"
  ng ping >/dev/null || fail "5: the control plane does not answer ping"
  check_plan relay
  # Where the bytes went: the offerer reached the gateway; the gateway's
  # own connection to the answerer's private address failed at once and
  # carried nothing; nothing was relayed.
  log_match "$GW" session_bound party="$OURI" call_id="$CALL" direction=inbound >/dev/null ||
    fail "5: the offerer's connection to the gateway was not bound"
  log_match "$GW" connection_closed peer="${IP[b]}:$APORT" direction=outbound bytes_out=0 >/dev/null ||
    fail "5: no failed gateway connection to the answerer ${IP[b]}:$APORT: $(log_match "$GW" connection_closed || true)"
  [ "$RELAY_BYTES" = 0 ] || fail "5: query relay-bytes $RELAY_BYTES"
  ! grep -q "accepted a connection" "$WORK/recv5.err" ||
    fail "5: the legacy answerer was reached: $(cat "$WORK/recv5.err")"
  kill "$recv5_pid" 2>/dev/null || true
  wait "$recv5_pid" 2>/dev/null || true
  untrack "$recv5_pid"
  finish_call
  [ "$DELETED_BYTES" = 0 ] || fail "5: call_deleted relay_bytes $DELETED_BYTES"
  note "5 both NATed, legacy answerer: warning \"$warning\"; the offerer's msrpcat ended with $rc after ${took}s; ping answered; relay-bytes $RELAY_BYTES"
}

for s in $scenarios; do
  "scenario_$s"
done
echo "nat scenarios ($scenarios): ok in $(( $(date +%s) - started ))s"
