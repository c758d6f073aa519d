#!/bin/bash
# Several msrp-edge instances behind one Kamailio (issue 12 part 4): the
# rtpengine module's set of two nodes, each an instance of its own (its own
# ng control port, MSRP port and log; nothing shared), and SIPp calls with
# MSRP SDP through it.
#
#   SIPp UACs (127.0.0.2) -> Kamailio (127.0.0.1) -> SIPp UASs (127.0.0.3)
#                               rtpengine set: edge1 (weight 1),
#                                              edge2 (weight 1)
#
# (tests/integration/kamailio-multi.cfg.in, sipp-uac-msrp.xml,
# sipp-uas-msrp.xml.)  Bulk calls come from SIPps making many calls each
# (sipp -m): both parties public, so the plan is direct and the call is
# offer, answer and delete only.  Relayed calls come one SIPp pair each:
# the offerer's SDP says 10.0.0.5 (behind a NAT), the answerer is an
# msrpcat listening at its URI, and the offerer's msrpcat sends a message
# through the gateway URI its SDP got.  Each call stays up until the script
# sends its UAC an INFO (through Kamailio), on which the UAC says BYE.
#
#   1. 12 bulk calls: each lands on one instance (call_offered,
#      call_answered in its log and nowhere else; Kamailio's own line for
#      its offer and answer names the same node; the instance's ng `list`
#      has it), and each instance gets some.
#   2. Relayed calls: one (r1) stays up on its instance, X; then more,
#      until one lands on the other instance, Y.  The SDP's gateway URI is
#      the instance's MSRP port, and the message goes through that
#      instance (message_relayed in its log only, ng `query` relay-bytes).
#   3. SIGTERM to X: it drains (stopping with its calls).  8 new bulk
#      calls all land on Y: X answers those the hash gives it `load
#      limit` (call_refused reason draining), Kamailio says "has reached
#      its load limit (Shutting down: no new calls) - trying next one" as
#      often and takes Y.  Meanwhile X's live calls go on: r1's message is
#      relayed by X, its bulk calls are deleted on X, and once r1 is
#      deleted X says drained and exits 0.
#   4. 4 new bulk calls after X exited: the first that hashes to X gets
#      no answer from it (Kamailio logs an error, at once: the closed port
#      answers with ICMP), Kamailio disables X for rtpengine_disable_tout
#      and takes Y; the next ones go to Y without trying X.
#   5. Every call ends with its delete on its instance; every SIPp exits 0
#      (no call failed); no control_error; Kamailio's only errors are
#      those offers to X after it exited.
#
# Kamailio 5.6 picks the node of a new call-id by the sum of its bytes
# (hash_algo 0) modulo the weights of the nodes it may still try, so the
# consecutive call numbers of a SIPp alternate between two nodes of weight
# 1: every batch below reaches both, which the assertions rely on.
#
# Usage: ng-multi.sh MSRP-EDGE MSRPCAT
#   Skips (exit 77) without kamailio, its rtpengine module, or sipp
#   (Debian packages kamailio and sip-tester).
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"
kam_ng_require

UAC_IP=127.0.0.2
UAS_IP=127.0.0.3
INSTANCES="edge1 edge2"
DRAIN_S=40
N_A=12 N_B=8 N_C=4
started=$(date +%s)
declare -A owner_of=()   # call-id -> the instance its offer reached

# ng NAME COMMAND ARGS...: tests/integration/ng-client.py against instance
# NAME; the reply as JSON on stdout.
ng () {
  local name="$1" port; shift
  eval "port=\$${name}_ctl_port"
  python3 "$IT_SRC/ng-client.py" --quiet --server "127.0.0.1:$port" "$@"
}

other () { [ "$1" = edge1 ] && echo edge2 || echo edge1; }

# node NAME: the instance as Kamailio names it in the set.
node () {
  local port
  eval "port=\$${1}_ctl_port"
  echo "udp:127.0.0.1:$port"
}

# kam_said WHAT CALL-ID NAME: Kamailio's configuration logged that the
# module's WHAT (offer, answer, delete) of the call went to instance NAME.
kam_said () {
  grep -qF "ng-multi: $1 $2 on $(node "$3")" "$WORK/kam.log"
}

# --- where a call went ------------------------------------------------------------
# owner CALL-ID: the one instance whose log has the call's call_offered
# ("none", or "both").
owner () {
  local who="" n
  for n in $INSTANCES; do
    if log_match "$WORK/$n.log" call_offered call_id="$1" >/dev/null; then
      [ -z "$who" ] || { echo both; return 0; }
      who=$n
    fi
  done
  echo "${who:-none}"
}

# expect_up CALL-ID: the offer and the answer reached one instance, and
# only it (the other may have refused the offer with load limit, nothing
# more); Kamailio sent both there.  Records the owner.
expect_up () {
  local cid="$1" who ev
  who=$(owner "$cid")
  case "$who" in edge1|edge2) ;; *) fail "$cid: offered on $who instances" ;; esac
  log_match "$WORK/$who.log" call_answered call_id="$cid" >/dev/null ||
    fail "$cid: offered on $who but not answered there"
  for ev in call_offered call_answered call_deleted; do
    ! log_match "$WORK/$(other "$who").log" "$ev" call_id="$cid" \
      >/dev/null || fail "$cid: $ev on $(other "$who") too"
  done
  kam_said offer "$cid" "$who" && kam_said answer "$cid" "$who" ||
    fail "$cid: Kamailio did not log its offer and answer on $(node "$who")"
  owner_of[$cid]=$who
}

# expect_deleted CALL-ID: deleted on the instance that had it, nowhere
# else, and Kamailio sent the delete there.
expect_deleted () {
  local cid="$1" who="${owner_of[$1]}"
  wait_log "$WORK/$who.log" 10 call_deleted call_id="$cid" ||
    fail "$cid: no call_deleted on $who"
  ! log_match "$WORK/$(other "$who").log" call_deleted call_id="$cid" \
    >/dev/null || fail "$cid: deleted on $(other "$who") too"
  kam_said delete "$cid" "$who" ||
    fail "$cid: Kamailio did not log its delete on $(node "$who")"
}

# expect_listed NAME: the instance's ng `list` names exactly the calls of
# this test it has and that have not been deleted.
expect_listed () {
  local name="$1" cid want="" got
  for cid in "${!owner_of[@]}"; do
    [ "${owner_of[$cid]}" = "$name" ] || continue
    log_match "$WORK/$name.log" call_deleted call_id="$cid" >/dev/null ||
      want+="$cid"$'\n'
  done
  want=$(LC_ALL=C sort <<<"$want" | sed '/^$/d')
  got=$(ng "$name" list | python3 -c 'import json, sys
print("\n".join(sorted(c for c in json.load(sys.stdin)["calls"]
                       if c.startswith("ngmulti-"))))') ||
    fail "$name: ng list failed"
  [ "$got" = "$want" ] ||
    fail "$name: ng list says [${got//$'\n'/ }], the logs [${want//$'\n'/ }]"
}

# --- bulk calls: one SIPp UAC making many --------------------------------------
# bulk_start NAME N: a SIPp UAC making N calls (20 a second) to the bulk
# UAS through Kamailio, Call-IDs ngmulti-NAME-<n>-<pid>@127.0.0.2.  Sets
# NAME_pid and NAME_port (its SIP port).
bulk_start () {
  local name="$1" n="$2" port
  port=$(udp_free_port "$UAC_IP")
  sipp_start "$name" uac "127.0.0.1:$kam_port" -s "$bulk_uas_port" \
    -i "$UAC_IP" -p "$port" -timeout 110s \
    -m "$n" -r 20 -l 100 -cid_str "ngmulti-$name-%u-%p@%s" \
    -key sdp_ip "$UAC_IP" -key path_host "$UAC_IP" -key audio_port 30000 \
    -key msrp_port 20000 -key msrp_id "uac-$name" -key setup actpass
  eval "${name}_pid=$sipp_pid ${name}_port=$port"
}

# bulk_ids NAME: the Call-IDs its UAC got a 200 for.
bulk_ids () {
  sed -n 's/^CALL-ID //p' "$WORK/$1-uac.logs" 2>/dev/null | tr -d '\r'
}

_bulk_answered () {   # NAME N PID
  kill -0 "$3" 2>/dev/null || return 2
  [ "$(bulk_ids "$1" | grep -c .)" -ge "$2" ]
}

# bulk_up NAME N: wait until the UAC has all N calls answered, then check
# each (expect_up).
bulk_up () {
  local name="$1" n="$2" pid cid
  eval "pid=\$${name}_pid"
  if ! wait_until 30 _bulk_answered "$name" "$n" "$pid"; then
    tail -25 "$WORK/$name-uac.out"
    fail "$name: $(bulk_ids "$name" | grep -c .) of $n calls answered"
  fi
  for cid in $(bulk_ids "$name"); do expect_up "$cid"; done
}

# bulk_down NAME: hang every call of the UAC up, check each delete, and
# the UAC must exit 0 (every call successful).
bulk_down () {
  local name="$1" pid port cid
  eval "pid=\$${name}_pid port=\$${name}_port"
  # shellcheck disable=SC2046
  sip_hang_up "$port" $(bulk_ids "$name") || fail "$name: hanging up failed"
  reap "$pid" 20 "$name: the SIPp UAC"
  [ "$rc" -eq 0 ] || { tail -25 "$WORK/$name-uac.out"; fail "$name: SIPp UAC exit $rc"; }
  for cid in $(bulk_ids "$name"); do expect_deleted "$cid"; done
}

# count_on NAME CALL-ID...: how many of the calls are on instance NAME.
count_on () {
  local name="$1" n=0 cid; shift
  for cid in "$@"; do [ "${owner_of[$cid]}" != "$name" ] || n=$((n + 1)); done
  echo "$n"
}

# --- relayed calls: a SIPp pair and two msrpcats each --------------------------
# relay_up NAME: msrpcat listening as the answerer's endpoint (public,
# passive; it takes one message into $WORK/NAME-recv), a SIPp UAS on a
# port of its own and a SIPp UAC whose SDP says 10.0.0.5 (a NATed
# offerer: relayed).  Returns when the call is up and the gateway bound
# the answerer's connection.  Sets NAME_cid, NAME_who (the instance),
# NAME_path (the a=path the offerer got), NAME_uac_pid, NAME_uas_pid,
# NAME_uac_port, NAME_a_port.
relay_up () {
  local name="$1" uas_port uac_port a_port b_port cid who path gw uas_path
  local pid_uas pid_uac bob_pid
  uas_port=$(udp_free_port "$UAS_IP")
  uac_port=$(udp_free_port "$UAC_IP")
  a_port=$(free_port)
  b_port=$(free_port)
  cid="ngmulti-$name-$$@$UAC_IP"
  mc_start "${name}_bob" --listen "$UAS_IP:$b_port" \
    --local-uri "msrp://$UAS_IP:$b_port/uas-$name;tcp" --receive \
    --expect 1 -o "$WORK/$name-recv" --json -T 90 -v
  eval "bob_pid=\$${name}_bob_pid"
  wait_until 10 _listening "$b_port" "$bob_pid" ||
    fail "$name: msrpcat did not listen on $UAS_IP:$b_port"
  sipp_start "$name" uas -i "$UAS_IP" -p "$uas_port" -m 1 -timeout 110s \
    -key sdp_ip "$UAS_IP" -key audio_port 40000 -key msrp_port "$b_port" \
    -key msrp_id "uas-$name" -key setup passive
  pid_uas=$sipp_pid
  wait_until 10 udp_bound "$UAS_IP" "$uas_port" "$pid_uas" ||
    fail "$name: the SIPp UAS did not bind $UAS_IP:$uas_port"
  sipp_start "$name" uac "127.0.0.1:$kam_port" -s "$uas_port" -i "$UAC_IP" \
    -p "$uac_port" -m 1 -timeout 110s -cid_str "$cid" \
    -key sdp_ip 10.0.0.5 -key path_host 10.0.0.5 -key audio_port 30000 \
    -key msrp_port "$a_port" -key msrp_id "uac-$name" -key setup actpass
  pid_uac=$sipp_pid
  if ! wait_until 20 _relay_acked "$name" "$pid_uac" "$pid_uas"; then
    tail -25 "$WORK/$name-uac.out" "$WORK/$name-uas.out"
    fail "$name: the call did not come up (the UAS got no ACK)"
  fi
  expect_up "$cid"
  who=${owner_of[$cid]}
  # Both SDPs name the gateway URI of that instance, its own MSRP port.
  eval "gw=\$${who}_port"
  path=$(sed -n 's/^PATH //p' "$WORK/$name-uac.logs" | tr -d '\r' | tail -1)
  uas_path=$(sed -n 's/^PATH //p' "$WORK/$name-uas.logs" | tr -d '\r' | tail -1)
  [[ "$path" == "msrp://127.0.0.1:$gw/"*" msrp://$UAS_IP:$b_port/uas-$name;tcp" ]] ||
    fail "$name: on $who (msrp port $gw), the offerer got a=path $path"
  [[ "$uas_path" == "msrp://127.0.0.1:$gw/"*" msrp://10.0.0.5:$a_port/uac-$name;tcp" ]] ||
    fail "$name: on $who (msrp port $gw), the answerer got a=path $uas_path"
  # The instance connects to the answerer and binds with an empty SEND.
  wait_until 10 grep -qF "bound; the peer's path is $uas_path" \
    "$WORK/${name}_bob.err" ||
    fail "$name: $who did not bind the answerer's endpoint"
  wait_log "$WORK/$who.log" 10 session_connected call_id="$cid" ||
    fail "$name: no session_connected on $who"
  eval "${name}_cid='$cid' ${name}_who=$who ${name}_path='$path'"
  eval "${name}_uac_pid=$pid_uac ${name}_uas_pid=$pid_uas"
  eval "${name}_uac_port=$uac_port ${name}_a_port=$a_port"
}

_relay_acked () {   # NAME UAC-PID UAS-PID
  kill -0 "$2" 2>/dev/null && kill -0 "$3" 2>/dev/null || return 2
  grep -qa '^ACK sip:' "$WORK/$1-uas.msgs" 2>/dev/null
}

# relay_send NAME: the offerer's msrpcat (its URI says 10.0.0.5, it
# connects from loopback) sends a message to the path it got; the
# answerer receives it byte for byte, relayed by the call's instance and
# not the other; the instance's ng query counts its bytes.
relay_send () {
  local name="$1" cid who path a_port text got
  eval "cid=\$${name}_cid who=\$${name}_who path=\$${name}_path"
  eval "a_port=\$${name}_a_port"
  text="$name through $who, $(date +%s%N)"
  mc_run "${name}_alice" --local-uri "msrp://10.0.0.5:$a_port/uac-$name;tcp" \
    --to-path "$path" -m "$text" --json -T 20
  [ "$rc" -eq 0 ] || fail "$name: the offerer's msrpcat exited $rc"
  mc_wait "${name}_bob" 20
  [ "$rc" -eq 0 ] || fail "$name: the answerer's msrpcat exited $rc"
  got=$(cat "$WORK/$name-recv"/*)
  [ "$got" = "$text" ] || fail "$name: the answerer received '$got'"
  log_match "$WORK/$who.log" message_relayed call_id="$cid" \
    outcome=delivered >/dev/null || fail "$name: no message_relayed on $who"
  ! log_match "$WORK/$(other "$who").log" message_relayed call_id="$cid" \
    >/dev/null || fail "$name: relayed by $(other "$who") too"
  ng "$who" query --call-id "$cid" | python3 -c 'import json, sys
s = json.load(sys.stdin)["streams"]
m = [x for x in s if x.get("plan") == "relay"]
sys.exit(0 if m and int(m[0]["relay-bytes"]) > 0 and
         int(m[0]["relay-messages"]) == 1 else "query: %r" % s)' ||
    fail "$name: $who's query does not count the relayed message"
}

# relay_down NAME: hang up; both SIPps exit 0; deleted on its instance.
relay_down () {
  local name="$1" cid pid_uac pid_uas port rc_uac
  eval "cid=\$${name}_cid pid_uac=\$${name}_uac_pid"
  eval "pid_uas=\$${name}_uas_pid port=\$${name}_uac_port"
  sip_hang_up "$port" "$cid" || fail "$name: hanging up failed"
  reap "$pid_uac" 20 "$name: the SIPp UAC"
  rc_uac=$rc
  reap "$pid_uas" 10 "$name: the SIPp UAS"
  [ "$rc_uac" -eq 0 ] && [ "$rc" -eq 0 ] ||
    fail "$name: SIPp UAC exit $rc_uac, UAS exit $rc"
  expect_deleted "$cid"
}

# =============================================================================
for n in $INSTANCES; do
  edge_start "$n" --control \
    "[negotiator]\npolicy=auto\n[limits]\ndrain-timeout=$DRAIN_S"
done
kam_ng_start "$IT_SRC/kamailio-multi.cfg.in" "$edge1_ctl_port $edge2_ctl_port" \
  "@NODES@=$(node edge1)=1 $(node edge2)=1" "@UAS_IP@=$UAS_IP"
note "edge1 (msrp $edge1_port, ng $edge1_ctl_port) and edge2 (msrp $edge2_port, ng $edge2_ctl_port) up; Kamailio (sip $kam_port) pinged both"

# The answerer of every bulk call: one SIPp UAS for all of them.
n_bulk=$((N_A + N_B + N_C))
bulk_uas_port=$(udp_free_port "$UAS_IP")
sipp_start bulk uas -i "$UAS_IP" -p "$bulk_uas_port" -m "$n_bulk" \
  -timeout 110s -key sdp_ip "$UAS_IP" -key audio_port 40000 \
  -key msrp_port 20001 -key msrp_id uas-bulk -key setup passive
bulk_uas_pid=$sipp_pid
wait_until 10 udp_bound "$UAS_IP" "$bulk_uas_port" "$bulk_uas_pid" ||
  fail "the bulk SIPp UAS did not bind $UAS_IP:$bulk_uas_port"

# 1. Spread.
bulk_start a "$N_A"
bulk_up a "$N_A"
mapfile -t ids_a < <(bulk_ids a)
on1=$(count_on edge1 "${ids_a[@]}")
on2=$(count_on edge2 "${ids_a[@]}")
[ "$on1" -gt 0 ] && [ "$on2" -gt 0 ] ||
  fail "$N_A calls not spread: edge1 $on1, edge2 $on2"
for n in $INSTANCES; do expect_listed "$n"; done
note "$N_A calls spread: edge1 $on1, edge2 $on2; each call's offer and answer on one instance (its log, Kamailio's, its ng list)"

# 2. Relayed calls: r1 stays up on X; then one on the other instance.
relay_up r1
X=$r1_who
Y=$(other "$X")
note "r1 relayed by $X: both a=path name $X's msrp port, $X bound the answerer"
y_relay=""
for name in r2 r3 r4 r5; do
  relay_up "$name"
  relay_send "$name"
  relay_down "$name"
  eval "who=\$${name}_who"
  note "$name relayed by $who: the message went through $who only (message_relayed, ng query)"
  if [ "$who" = "$Y" ]; then y_relay=$name; break; fi
done
[ -n "$y_relay" ] || fail "4 relayed calls after r1 all landed on $X"

# 3. Drain X.
eval "x_pid=\$${X}_pid"
x_live=$(ng "$X" list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["calls"]))')
kill -TERM "$x_pid"
wait_log "$WORK/$X.log" 10 stopping calls="$x_live" drain_s="$DRAIN_S" ||
  fail "$X: no stopping line with calls $x_live and drain_s $DRAIN_S"
note "SIGTERM to $X with $x_live live calls: draining for up to $DRAIN_S s"

bulk_start b "$N_B"
bulk_up b "$N_B"
mapfile -t ids_b < <(bulk_ids b)
[ "$(count_on "$Y" "${ids_b[@]}")" -eq "$N_B" ] ||
  fail "calls made while $X drains landed on $X"
refused=$(log_count "$WORK/$X.log" call_refused reason=draining)
[ "$refused" -ge 1 ] || fail "$X refused none of the $N_B new calls"
for cid in "${ids_b[@]}"; do
  if log_match "$WORK/$X.log" call_refused call_id="$cid" >/dev/null; then
    log_match "$WORK/$X.log" call_refused call_id="$cid" reason=draining \
      >/dev/null || fail "$cid: refused by $X, but not for draining"
  fi
done
kam_moved=$(grep -oF "proxy $(node "$X") has reached its load limit (Shutting down: no new calls) - trying next one" \
  "$WORK/kam.log" | grep -c .) || true
[ "$kam_moved" -eq "$refused" ] ||
  fail "$X refused $refused offers, Kamailio moved on $kam_moved times"
x_stats=$(ng "$X" statistics | python3 -c 'import json,sys
print(json.load(sys.stdin)["totalstatistics"]["rejectedsessions"])')
[ "$x_stats" -eq "$refused" ] ||
  fail "$X: ng statistics rejectedsessions $x_stats, $refused refused"
expect_listed "$X"
expect_listed "$Y"
note "while $X drains, $N_B new calls all on $Y: $X answered $refused of them load limit (Shutting down: no new calls), Kamailio tried the next node as often"

# X's live calls go on: r1's message is relayed by X, X's bulk calls are
# deleted there.
relay_send r1
note "r1's message relayed by $X while it drains"
bulk_down a
kill -0 "$x_pid" 2>/dev/null || fail "$X stopped while r1 was live"
x_stop_line=$(grep -n '"event":"stopping"' "$WORK/$X.log" | head -1 | cut -d: -f1)
for cid in "${ids_a[@]}"; do
  [ "${owner_of[$cid]}" = "$X" ] || continue
  line=$(grep -nF "\"call_id\":\"$cid\"" "$WORK/$X.log" |
         grep -F '"event":"call_deleted"' | cut -d: -f1)
  [ "$line" -gt "$x_stop_line" ] || fail "$cid: deleted on $X before it drained"
done
relay_down r1
edge_drained "$X" 15
note "$X's live calls ($(count_on "$X" "${ids_a[@]}") bulk, r1) were deleted on $X while it drained; then drained, exit 0"

# 4. X is gone: Kamailio finds it does not answer and keeps to Y.
bulk_start c "$N_C"
bulk_up c "$N_C"
mapfile -t ids_c < <(bulk_ids c)
[ "$(count_on "$Y" "${ids_c[@]}")" -eq "$N_C" ] ||
  fail "calls made after $X exited landed on $X"
note "$X gone: $N_C new calls all on $Y"

# 5. Hang everything up.
bulk_down b
bulk_down c
reap "$bulk_uas_pid" 20 "the bulk SIPp UAS"
[ "$rc" -eq 0 ] || fail "the bulk SIPp UAS exited $rc"
expect_listed "$Y"
for n in $INSTANCES; do
  ! log_match "$WORK/$n.log" control_error >/dev/null ||
    fail "$n logged a control_error: $(log_match "$WORK/$n.log" control_error | head -1)"
done
# Kamailio: no call failed.  Its only errors: an offer of step 4 that
# found X gone ("timeout waiting reply for command "offer"", at once: the
# closed port answers with ICMP), after which X is disabled and the other
# offers go to Y without trying it.  No answer or delete was sent to X
# after it stopped.
! grep -F 'ng-multi: rtpengine_' "$WORK/kam.log" ||
  fail "an rtpengine function failed in Kamailio"
grep 'ERROR:' "$WORK/kam.log" | grep -vF "<$(node "$X")>" >&2 &&
  fail "Kamailio logged errors"
kam_x_errors=$(grep 'ERROR:' "$WORK/kam.log" | grep -c .) || true
[ "$kam_x_errors" -ge 1 ] || fail "Kamailio never tried $X after it exited"
grep 'ERROR:' "$WORK/kam.log" | grep -vF 'command "offer"' >&2 &&
  fail "Kamailio sent $X something else than a new offer after it exited"

total=${#owner_of[@]}
e1=0 e2=0
for cid in "${!owner_of[@]}"; do
  if [ "${owner_of[$cid]}" = edge1 ]; then e1=$((e1 + 1)); else e2=$((e2 + 1)); fi
done
note "$total calls, none failed: edge1 had $e1, edge2 $e2; Kamailio's errors ($kam_x_errors) are new offers to $X after it exited"

kam_stop kam
edge_stop "$Y"
echo "ng multi: ok ($(($(date +%s) - started)) s)"
