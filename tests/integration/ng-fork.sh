#!/bin/bash
# A forked call (RFC 3261 section 16.7) through Kamailio's real `rtpengine`
# module and msrp-edge, with SIPp parties on loopback and msrpcat as their
# MSRP endpoints:
#
#   SIPp UAC (127.0.0.2) -> Kamailio (127.0.0.1) -> SIPp UAS carol (127.0.0.3)
#      offer 10.0.0.5        forks in parallel   -> SIPp UAS bob   (127.0.0.4)
#
# (kamailio-fork.cfg.in, sipp-uac-fork.xml, sipp-uas-early-busy.xml,
# sipp-uas-early-ok.xml, sdp-expect.py, ng-client.py.)  The offerer is
# behind NAT (c= and a=path 10.0.0.5): relay.  Both called parties answer
# 183 with SDP at once (a=setup:passive, each with an msrpcat listening at
# its URI), each with its own to-tag: Kamailio's rtpengine_answer() hands
# msrp-edge both answers.  Carol then fails (486 after 1.5 s): Kamailio's
# rtpengine_delete("to-tag") from its reply route names her branch.  Bob
# answers 200 after 3 s, with the same tag and SDP.  What must come out:
#
# - the forked offer both parties get is one SDP, byte for byte (relay,
#   actpass, the gateway's one URI for the offerer);
# - call_answered for each to-tag, the second with branches 2: each branch
#   got its own session (the 183s the UAC received name different gateway
#   URIs), and the gateway bound each passive party's msrpcat with the
#   offerer's path;
# - branch_deleted for carol's tag (branches 1 left): her session closed,
#   her connection dropped, the call goes on;
# - bob's 200 is a re-answer of his branch: the UAC's 200 names the same
#   gateway URI as bob's 183, relayed as the table says (passive);
# - ng query (ng-client.py) mid-call: one branch, bob's tag, plan relay;
# - an msrpcat as the offerer sends to bob's path: bob gets it through the
#   gateway; sent to carol's path: 481 (her session is gone);
# - the UAC's BYE (rtpengine_delete(), the offerer's from-tag): the call
#   ends (call_deleted), no control_error, no Kamailio error.
#
# SIPp rather than an ng client alone: the forking is Kamailio's own (tm's
# parallel branches, its reply route per branch), and the tags, the order of
# the 183s and the delete's keys are what a real proxy produces.
#
# Usage: ng-fork.sh MSRP-EDGE MSRPCAT
#   Skips (exit 77) without kamailio, its rtpengine module, or sipp.
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"
kam_ng_require

UAC_IP=127.0.0.2
CAROL_IP=127.0.0.3
BOB_IP=127.0.0.4
OFFER_IP=10.0.0.5

sdp_expect () { python3 "$IT_SRC/sdp-expect.py" "$@"; }
ngc () { python3 "$IT_SRC/ng-client.py" --server "127.0.0.1:$ctl_port" "$@"; }

# uas NAME IP SIP-PORT SCENARIO MSRP-PORT: a SIPp UAS answering with an
# MSRP stream at msrp://IP:MSRP-PORT/uas-NAME;tcp, passive; NAME_pid.
uas () {
  local name="$1" ip="$2" port="$3" scenario="$4" msrp="$5" pid
  sipp -sf "$IT_SRC/$scenario" -i "$ip" -p "$port" -m 1 -nostdin \
    -bind_local -timeout 30s -timeout_error -max_retrans 3 \
    -key sdp_ip "$ip" -key audio_port 40000 -key msrp_port "$msrp" \
    -key msrp_id "uas-$name" -key setup passive \
    -trace_msg -message_file "$WORK/$name.msgs" \
    -trace_err -error_file "$WORK/$name.sipp-err" \
    >"$WORK/$name.sipp-out" 2>&1 </dev/null &
  pid=$!
  track "$pid"
  eval "${name}_sipp=$pid"
  wait_until 10 udp_bound "$ip" "$port" "$pid" ||
    fail "$name: the SIPp UAS did not bind $ip:$port"
}

# The to-tag NAME's UAS answered with (the first To with a tag it sent).
to_tag_of () {
  python3 - "$WORK/$1.msgs" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
for block in re.split(r"\n-{20,} [^\n]*\n", "\n" + data):
    if "message sent" not in block.split("\n\n", 1)[0]:
        continue
    m = re.search(r"(?im)^To:.*;tag=([^;>\s]+)", block)
    if m:
        print(m.group(1))
        sys.exit(0)
sys.exit("no To tag sent")
EOF
}

# The gateway URIs (first of a=path) of the SDPs of the responses starting
# with START that the UAC received, one a line, with their to-tags.
uac_received_paths () {
  python3 - "$WORK/uac.msgs" "$1" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
for block in re.split(r"\n-{20,} [^\n]*\n", "\n" + data):
    head, _, msg = block.partition("\n\n")
    if "message received" not in head or not msg.startswith(sys.argv[2]):
        continue
    tag = re.search(r"(?im)^To:.*;tag=([^;>\s]+)", msg)
    path = re.search(r"(?m)^a=path:(\S+)", msg)
    if tag and path:
        print(tag.group(1), path.group(1))
EOF
}

_acked () {
  kill -0 "$uac_pid" 2>/dev/null || return 2
  grep -qa '^ACK sip:' "$WORK/bob.msgs" 2>/dev/null
}

edge_start edge --control '[negotiator]\npolicy=auto'
ctl_port=$edge_ctl_port
carol_sip=$(udp_free_port "$CAROL_IP")
bob_sip=$(udp_free_port "$BOB_IP")
kam_ng_start "$IT_SRC/kamailio-fork.cfg.in" "$ctl_port" \
  "@CONTROL@=127.0.0.1:$ctl_port" "@UAS1@=$CAROL_IP:$carol_sip" \
  "@UAS2@=$BOB_IP:$bob_sip"
note "msrp-edge (msrp $edge_port, control udp $ctl_port) and Kamailio (sip udp $kam_port) up, forking to $CAROL_IP:$carol_sip and $BOB_IP:$bob_sip"

# The called parties' MSRP endpoints, for the gateway to connect to.
carol_msrp=$(free_port)
bob_msrp=$(free_port)
uac_msrp=$(free_port)
carol_uri="msrp://$CAROL_IP:$carol_msrp/uas-carol;tcp"
bob_uri="msrp://$BOB_IP:$bob_msrp/uas-bob;tcp"
alice_uri="msrp://$OFFER_IP:$uac_msrp/uac-fork;tcp"
mc_start carol_mc --listen "$CAROL_IP:$carol_msrp" --local-uri "$carol_uri" \
  --receive --keep -v
mc_start bob_mc --listen "$BOB_IP:$bob_msrp" --local-uri "$bob_uri" \
  --receive --keep -o "$WORK/bob-inbox" -v
wait_until 10 _listening "$carol_msrp" "$carol_mc_pid" &&
  wait_until 10 _listening "$bob_msrp" "$bob_mc_pid" ||
  fail "the called parties' msrpcats did not listen"
uas carol "$CAROL_IP" "$carol_sip" sipp-uas-early-busy.xml "$carol_msrp"
uas bob "$BOB_IP" "$bob_sip" sipp-uas-early-ok.xml "$bob_msrp"

call_id="ngfork-$$-1"
uac_port=$(udp_free_port "$UAC_IP")
sipp "127.0.0.1:$kam_port" -sf "$IT_SRC/sipp-uac-fork.xml" -s fork \
  -i "$UAC_IP" -p "$uac_port" -m 1 -nostdin -bind_local -timeout 30s \
  -timeout_error -max_retrans 3 -cid_str "$call_id" \
  -key sdp_ip "$OFFER_IP" -key path_host "$OFFER_IP" \
  -key audio_port 30000 -key msrp_port "$uac_msrp" -key msrp_id uac-fork \
  -key setup actpass \
  -trace_msg -message_file "$WORK/uac.msgs" \
  -trace_err -error_file "$WORK/uac.sipp-err" \
  >"$WORK/uac.sipp-out" 2>&1 </dev/null &
uac_pid=$!
track "$uac_pid"
if ! wait_until 20 _acked; then
  tail -25 "$WORK/uac.sipp-out" "$WORK/carol.sipp-out" "$WORK/bob.sipp-out"
  fail "the call did not come up (bob got no ACK)"
fi
carol_tag=$(to_tag_of carol)
bob_tag=$(to_tag_of bob)
[ "$carol_tag" != "$bob_tag" ] || fail "both branches answered with tag $bob_tag"
note "the call is up: carol ($carol_tag) answered 183 then 486, bob ($bob_tag) 183 then 200"

# One offer, forked: both got the same SDP, relayed (actpass).
sdp_expect body \
  "$WORK/uac.msgs" sent INVITE "$WORK/offer-sent" \
  "$WORK/carol.msgs" received INVITE "$WORK/offer-carol" \
  "$WORK/bob.msgs" received INVITE "$WORK/offer-bob" \
  "$WORK/bob.msgs" sent "SIP/2.0 200" "$WORK/answer-bob" \
  "$WORK/uac.msgs" received "SIP/2.0 200" "$WORK/answer-received"
cmp -s "$WORK/offer-carol" "$WORK/offer-bob" ||
  fail "the two branches got different offers"
sdp_expect check "$WORK/offer-sent" "$WORK/offer-bob" relay 127.0.0.1 \
  "$edge_port" actpass >"$WORK/gw-offerer" ||
  fail "the forked offer is not relayed as the table says"
note "the forked offer: one SDP for both branches, the gateway's $(cat "$WORK/gw-offerer") first, actpass"

# Both answers, each its own branch and session; carol's branch deleted.
wait_log "$WORK/edge.log" 5 call_answered call_id="$call_id" \
  to_tag="$carol_tag" || fail "no call_answered for carol's tag"
log_match "$WORK/edge.log" call_answered call_id="$call_id" branches=2 \
  >/dev/null || fail "no call_answered with 2 branches"
wait_log "$WORK/edge.log" 5 branch_deleted call_id="$call_id" \
  to_tag="$carol_tag" branches=1 ||
  fail "no branch_deleted for carol's branch: $(log_match "$WORK/edge.log" control_request command=delete || true)"
[ "$(log_count "$WORK/edge.log" call_answered call_id="$call_id" to_tag="$bob_tag")" -eq 2 ] ||
  fail "bob's 183 and 200 were not both answered in his branch"
uac_received_paths "SIP/2.0 183" >"$WORK/paths-183"
uac_received_paths "SIP/2.0 200" >"$WORK/paths-200"
gw_carol=$(awk -v t="$carol_tag" '$1 == t { print $2 }' "$WORK/paths-183")
gw_bob=$(awk -v t="$bob_tag" '$1 == t { print $2 }' "$WORK/paths-183")
[ -n "$gw_carol" ] && [ -n "$gw_bob" ] && [ "$gw_carol" != "$gw_bob" ] ||
  fail "the UAC's 183s do not name one gateway URI per branch: $(cat "$WORK/paths-183")"
[ "$(awk '{ print $2 }' "$WORK/paths-200")" = "$gw_bob" ] ||
  fail "the 200 names $(cat "$WORK/paths-200"), not bob's branch $gw_bob"
sdp_expect check "$WORK/answer-bob" "$WORK/answer-received" relay 127.0.0.1 \
  "$edge_port" passive >/dev/null ||
  fail "bob's 200 is not relayed as the table says"
log_match "$WORK/edge.log" session_closed call_id="$call_id" \
  party="$carol_uri" reason=deleted >/dev/null ||
  fail "carol's session did not close with her branch"
note "two branches with their own sessions ($gw_carol, $gw_bob); carol's 486 deleted hers alone; bob's 200 kept his"

# The gateway bound both passive parties with the offerer's path.
wait_until 10 grep -qF "bound; the peer's path is $(cat "$WORK/gw-offerer") $alice_uri" \
  "$WORK/carol_mc.err" || fail "the gateway did not bind carol's endpoint"
wait_until 10 grep -qF "bound; the peer's path is $(cat "$WORK/gw-offerer") $alice_uri" \
  "$WORK/bob_mc.err" || fail "the gateway did not bind bob's endpoint"
log_match "$WORK/edge.log" connection_closed reason=session_closed \
  >/dev/null || fail "carol's connection was not dropped with her branch"

# Mid-call: one branch left, bob's.
ngc query --call-id "$call_id" >"$WORK/query.json" ||
  fail "query: $(cat "$WORK/query.json")"
[ "$(json_last "$WORK/query.json" '[b["to-tag"] for b in d["branches"]]')" = "['$bob_tag']" ] ||
  fail "query: branches $(cat "$WORK/query.json")"
[ "$(json_last "$WORK/query.json" 'd["branches"][0]["streams"][0]["plan"]')" = relay ] ||
  fail "query: bob's plan: $(cat "$WORK/query.json")"
note "query: one branch, $bob_tag, relay"

# The offerer's MSRP: to bob through the gateway; carol's path is gone.
mc_run alice --local-uri "$alice_uri" --to-path "$gw_bob $bob_uri" \
  -m "hello bob, of the two who answered" --json -T 20
[ "$rc" -eq 0 ] || fail "alice to bob: exit $rc: $(tail -3 "$WORK/alice.err")"
wait_until 10 grep -rqF "hello bob, of the two who answered" "$WORK/bob-inbox" ||
  fail "bob did not get alice's message"
mc_run alice2 --local-uri "$alice_uri" --to-path "$gw_carol $carol_uri" \
  -m "carol?" --json -T 20
[ "$rc" -eq 1 ] && grep -q 481 "$WORK/alice2.err" ||
  fail "a message to carol's deleted branch: exit $rc: $(tail -3 "$WORK/alice2.err")"
note "alice -> msrp-edge -> bob delivered; to carol's deleted branch: 481"

# The UAC hangs up (an INFO tells it to): its BYE's delete ends the call.
sip_hang_up "$uac_port" "$call_id" ||
  fail "the UAC was not told to hang up"
for p in "$uac_pid" "$bob_sipp" "$carol_sipp"; do
  wait_until 20 _gone "$p" || fail "a SIPp did not finish"
  rc=0
  wait "$p" || rc=$?
  untrack "$p"
  [ "$rc" -eq 0 ] || {
    tail -25 "$WORK/uac.sipp-out" "$WORK/bob.sipp-out" "$WORK/carol.sipp-out"
    fail "a SIPp ended with exit $rc"
  }
done
wait_log "$WORK/edge.log" 10 call_deleted call_id="$call_id" ||
  fail "no call_deleted after the BYE"
[ "$(log_count "$WORK/edge.log" branch_deleted)" -eq 1 ] ||
  fail "branch_deleted $(log_count "$WORK/edge.log" branch_deleted) times"
! log_match "$WORK/edge.log" control_error >/dev/null ||
  fail "msrp-edge logged a control_error: $(log_match "$WORK/edge.log" control_error | head -1)"
! grep -E 'ERROR: (rtpengine|<core>)|ng-fork:' "$WORK/kam.log" ||
  fail "Kamailio logged errors"
note "the BYE's delete ended the call; no control error"

for m in carol_mc bob_mc; do
  eval "p=\$${m}_pid"
  kill -TERM "$p" 2>/dev/null || true
  wait_until 10 _gone "$p" || fail "$m did not stop"
  wait "$p" 2>/dev/null || true
  untrack "$p"
done
kam_stop kam
edge_stop edge
echo "ng fork: ok"
