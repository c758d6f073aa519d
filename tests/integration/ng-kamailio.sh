#!/bin/bash
# Kamailio's real `rtpengine` module drives msrp-edge's ng control plane,
# and SIP calls between two SIPp instances come out with their SDP
# rewritten as the decision table of the negotiator says.
#
#   SIPp UAC (127.0.0.2) -> Kamailio (127.0.0.1) -> SIPp UAS (127.0.0.3)
#                              rtpengine_offer() on the INVITE,
#                              rtpengine_answer() on the 200,
#                              rtpengine_delete() on the BYE
#                              -> msrp-edge [listen] control (ng, UDP)
#
# (tests/integration/kamailio-ng.cfg.in, sipp-uac-msrp.xml,
# sipp-uas-msrp.xml, sdp-expect.py.)  Each SDP has an audio stream, which
# must pass untouched, and an `m=message PORT TCP/MSRP *` stream.  The
# answerer is public (its c= and URI are the address its 200 comes from),
# answers a=setup:passive, and has an msrpcat listening at its URI.
# 127.0.0.x addresses count as public ones.  The request user picks the
# flags Kamailio's configuration writes into the offer.
#
#   call      offerer c=/a=path   flags                    expected
#   private   10.0.0.5            -                        relay
#   public    127.0.0.2           -                        untouched
#   reachable 10.0.0.5            callee-reachable         offer setup:active
#   spelled   10.0.0.5            trust-address            offer setup:active
#                                 Callee-Reachable
#   anchor    127.0.0.2           msrp-anchor              relay
#   noanchor  10.0.0.5            msrp-no-anchor           untouched
#   mismatch  127.0.0.9           -                        relay
#   trusted   127.0.0.9           trust-address            untouched
#
# The offerer offers a=setup:actpass every time.  "relay": the answerer
# sees a=path msrp://127.0.0.1:<msrp port>/<id>;tcp then the offerer's URI,
# a=setup:actpass, the stream's c= and m= port the gateway's; the offerer
# sees the gateway's URI then the answerer's, a=setup:passive; every other
# line as sent.  While a relayed call is up the gateway connects to the
# answerer's msrpcat and binds with an empty SEND whose From-Path is the
# path the answerer got in its SDP; no connection is made for the others.
# "mismatch" shows the module's received-from (["IP4", "127.0.0.2"]) is
# read and compared with the SDP.  Each call logs control_request offer,
# answer, delete, call_offered, plan_decided (offer and answer, with the
# plan), call_answered and call_deleted for its Call-ID; with
# rtpengine-ng-client installed, a `query` while the call is up names the
# plan too.
#
# Usage: ng-kamailio.sh MSRP-EDGE MSRPCAT
#   Skips (exit 77) without kamailio, its rtpengine module, or sipp
#   (Debian packages kamailio and sip-tester).
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"
ng_kam_need

UAC_IP=127.0.0.2
UAS_IP=127.0.0.3
ng_client=$(command -v rtpengine-ng-client || true)

sdp_expect () { python3 "$IT_SRC/sdp-expect.py" "$@"; }

# --- one SIP call ---------------------------------------------------------------
# call_up NAME USER OFFER_IP: msrpcat listening as the answerer's MSRP
# endpoint, the SIPp UAS (public, a=setup:passive) and the SIPp UAC (c=, o=
# and a=path host OFFER_IP, a=setup:actpass) calling USER through
# Kamailio.  Returns when the UAS has the ACK: the call is up, and the UAC
# waits for call_down.  Leaves the four SDP bodies in
# $WORK/NAME.{offer,answer}-{sent,received}, the Call-ID in $call_id and the
# MSRP ports in $uac_msrp and $uas_msrp.
call_up () {
  local name="$1" user="$2" offer_ip="$3"
  local common=(-m 1 -nostdin -bind_local -timeout 30s -timeout_error
                -max_retrans 3)
  call_id="ngkam-$name-$$-1"
  uac_msrp=$(free_port)
  uas_msrp=$(free_port)
  # The answerer's MSRP endpoint, for the gateway to connect to when it
  # relays (a refused connection would teach it that $UAS_IP is
  # unreachable, and change the plans of the calls after this one).
  mc_start "${name}_msrp" --listen "$UAS_IP:$uas_msrp" \
    --local-uri "msrp://$UAS_IP:$uas_msrp/uas-$name;tcp" --receive --keep -v
  eval "msrp_pid=\$${name}_msrp_pid"
  wait_until 10 _listening "$uas_msrp" "$msrp_pid" ||
    fail "$name: msrpcat did not listen on $UAS_IP:$uas_msrp"
  sipp -sf "$IT_SRC/sipp-uas-msrp.xml" -i "$UAS_IP" -p "$uas_port" \
    "${common[@]}" \
    -key sdp_ip "$UAS_IP" -key audio_port 40000 -key msrp_port "$uas_msrp" \
    -key msrp_id "uas-$name" -key setup passive \
    -trace_msg -message_file "$WORK/$name-uas.msgs" \
    -trace_logs -log_file "$WORK/$name-uas.logs" \
    -trace_err -error_file "$WORK/$name-uas.err" \
    >"$WORK/$name-uas.out" 2>&1 </dev/null &
  uas_pid=$!
  track "$uas_pid"
  wait_until 10 udp_bound "$UAS_IP" "$uas_port" "$uas_pid" ||
    fail "$name: the SIPp UAS did not bind $UAS_IP:$uas_port"
  sipp "127.0.0.1:$kam_port" -sf "$IT_SRC/sipp-uac-msrp.xml" -s "$user" \
    -i "$UAC_IP" -p "$uac_port" "${common[@]}" -cid_str "$call_id" \
    -key sdp_ip "$offer_ip" -key path_host "$offer_ip" \
    -key audio_port 30000 -key msrp_port "$uac_msrp" \
    -key msrp_id "uac-$name" -key setup actpass \
    -trace_msg -message_file "$WORK/$name-uac.msgs" \
    -trace_logs -log_file "$WORK/$name-uac.logs" \
    -trace_err -error_file "$WORK/$name-uac.err" \
    >"$WORK/$name-uac.out" 2>&1 </dev/null &
  uac_pid=$!
  track "$uac_pid"
  if ! wait_until 20 _acked "$name"; then
    tail -25 "$WORK/$name-uac.out" "$WORK/$name-uas.out"
    fail "$name: the call did not come up (the UAS got no ACK)"
  fi
  sdp_expect body \
    "$WORK/$name-uac.msgs" sent INVITE "$WORK/$name.offer-sent" \
    "$WORK/$name-uas.msgs" received INVITE "$WORK/$name.offer-received" \
    "$WORK/$name-uas.msgs" sent "SIP/2.0 200" "$WORK/$name.answer-sent" \
    "$WORK/$name-uac.msgs" received "SIP/2.0 200" \
    "$WORK/$name.answer-received"
}

_acked () {   # NAME: both SIPps run, and the UAS's trace shows the ACK
  kill -0 "$uac_pid" 2>/dev/null && kill -0 "$uas_pid" 2>/dev/null ||
    return 2
  grep -qa '^ACK sip:' "$WORK/$1-uas.msgs" 2>/dev/null
}

# call_down NAME: tell the UAC to hang up (an INFO with its Call-ID, routed
# through Kamailio like any in-dialog request, which must get a 200); both
# SIPps must then end with their call successful.
call_down () {
  local name="$1" rc_uas=0 rc_uac=0
  sip_hang_up "127.0.0.1:$kam_port" "$UAC_IP:$uac_port" "$call_id" ||
    fail "$name: the UAC was not told to hang up"
  wait_until 20 _gone "$uac_pid" || fail "$name: the SIPp UAC did not finish"
  wait "$uac_pid" || rc_uac=$?
  untrack "$uac_pid"
  wait_until 10 _gone "$uas_pid" || fail "$name: the SIPp UAS did not finish"
  wait "$uas_pid" || rc_uas=$?
  untrack "$uas_pid"
  kill -TERM "$msrp_pid" 2>/dev/null || true
  wait_until 10 _gone "$msrp_pid" || fail "$name: msrpcat did not stop"
  wait "$msrp_pid" 2>/dev/null || true
  untrack "$msrp_pid"
  if [ "$rc_uac" -ne 0 ] || [ "$rc_uas" -ne 0 ]; then
    tail -25 "$WORK/$name-uac.out" "$WORK/$name-uas.out"
    fail "$name: SIPp UAC exit $rc_uac, UAS exit $rc_uas"
  fi
}

# sipp_logged NAME uac|uas KEY: the value SIPp's <log> wrote as "KEY value".
sipp_logged () {
  sed -n "s/^$3 //p" "$WORK/$1-$2.logs" | tr -d '\r' | tail -1
}

# expect_sdp NAME offer|answer same | setup VALUE | relay VALUE
expect_sdp () {
  local name="$1" dir="$2" mode="$3"; shift 3
  case "$mode" in
    relay) sdp_expect check "$WORK/$name.$dir-sent" \
             "$WORK/$name.$dir-received" relay 127.0.0.1 "$edge_port" "$1" \
             >"$WORK/$name.$dir-gw-uri" ||
             fail "$name: the $dir is not relayed as the table says" ;;
    *) sdp_expect check "$WORK/$name.$dir-sent" "$WORK/$name.$dir-received" \
         "$mode" "$@" || fail "$name: the $dir is not '$mode $*'" ;;
  esac
}

# expect_midcall NAME PLAN: while the call is up.  Relayed, the gateway
# has connected to the answerer's msrpcat and bound the connection with
# an empty SEND whose From-Path is the path the answerer got in its SDP
# (RFC 6135 section 4.2.2 as neg-spec.md says).  With rtpengine-ng-client,
# a query names the plan.
expect_midcall () {
  local name="$1" plan="$2" path out
  if [ "$plan" = relay ]; then
    path=$(sipp_logged "$name" uas PATH)
    wait_until 10 grep -qF "bound; the peer's path is $path" \
      "$WORK/${name}_msrp.err" ||
      fail "$name: the gateway did not bind the answerer's endpoint with From-Path $path"
    wait_log "$WORK/edge.log" 10 session_connected call_id="$call_id" ||
      fail "$name: no session_connected for $call_id"
  fi
  if [ -n "$ng_client" ]; then
    out=$(timeout 10 "$ng_client" --proxy-address=127.0.0.1 \
          --proxy-port="$ctl_port" --call-id="$call_id" query 2>&1) ||
      fail "$name: query: $out"
    grep -q "plan => '$plan'" <<<"$out" ||
      fail "$name: query does not say plan $plan: $out"
  fi
}

# expect_events NAME OFFER_PLAN ANSWER_PLAN: after the call, its life in
# the log stream.
expect_events () {
  local name="$1" offer_plan="$2" answer_plan="$3" ev
  wait_log "$WORK/edge.log" 10 call_deleted call_id="$call_id" ||
    fail "$name: no call_deleted for $call_id"
  for ev in offer answer delete; do
    log_match "$WORK/edge.log" control_request command="$ev" \
      call_id="$call_id" >/dev/null ||
      fail "$name: no control_request $ev for $call_id"
  done
  for ev in call_offered call_answered; do
    log_match "$WORK/edge.log" "$ev" call_id="$call_id" >/dev/null ||
      fail "$name: no $ev for $call_id"
  done
  log_match "$WORK/edge.log" plan_decided call_id="$call_id" step=offer \
    plan="$offer_plan" >/dev/null ||
    fail "$name: no plan_decided step=offer plan=$offer_plan for $call_id"
  log_match "$WORK/edge.log" plan_decided call_id="$call_id" step=answer \
    plan="$answer_plan" >/dev/null ||
    fail "$name: no plan_decided step=answer plan=$answer_plan for $call_id"
  if [ "$answer_plan" != relay ]; then
    ! grep -q "accepted a connection" "$WORK/${name}_msrp.err" ||
      fail "$name: something connected to the answerer's endpoint"
    ! log_match "$WORK/edge.log" session_created call_id="$call_id" \
      >/dev/null || fail "$name: a relay session for a $answer_plan call"
  fi
}

edge_start edge --control '[negotiator]\npolicy=auto'
ctl_port=$edge_ctl_port
uas_port=$(udp_free_port "$UAS_IP")
ng_kam_start kamailio-ng.cfg.in -e "s|@UAS@|$UAS_IP:$uas_port|g"
uac_port=$(udp_free_port "$UAC_IP")
note "msrp-edge (msrp $edge_port, control udp $ctl_port) and Kamailio (sip udp $kam_port) up; the module's ping got pong"

# (a) Offerer behind NAT (private c=/a=path), answerer public and passive:
# the gateway goes in at the offer and stays at the answer, and connects
# to the answerer itself.
call_up private plain 10.0.0.5
expect_sdp private offer relay actpass
expect_sdp private answer relay passive
uri_a=$(cat "$WORK/private.offer-gw-uri")
uri_b=$(cat "$WORK/private.answer-gw-uri")
[ "$(sipp_logged private uas PATH)" = \
  "$uri_a msrp://10.0.0.5:$uac_msrp/uac-private;tcp" ] ||
  fail "private: SIPp UAS logged PATH $(sipp_logged private uas PATH)"
[ "$(sipp_logged private uac PATH)" = \
  "$uri_b msrp://$UAS_IP:$uas_msrp/uas-private;tcp" ] ||
  fail "private: SIPp UAC logged PATH $(sipp_logged private uac PATH)"
[ "$(sipp_logged private uas SETUP)" = actpass ] &&
  [ "$(sipp_logged private uac SETUP)" = passive ] ||
  fail "private: a=setup $(sipp_logged private uas SETUP) / $(sipp_logged private uac SETUP)"
expect_midcall private relay
call_down private
expect_events private relay relay
note "private offerer, public passive answerer: relay (answerer sees $uri_a first and actpass, offerer sees $uri_b first and passive), audio untouched; the gateway bound the answerer"

# (b) Both public: nothing to do.
call_up public plain "$UAC_IP"
expect_sdp public offer same
expect_sdp public answer same
expect_midcall public direct
call_down public
expect_events public direct direct
note "both public: both SDPs untouched byte for byte, no relay session"

# Flags written in Kamailio's configuration change the plan.
call_up reachable reachable 10.0.0.5
expect_sdp reachable offer setup active
expect_sdp reachable answer same
expect_midcall reachable direct
call_down reachable
expect_events reachable direct direct
note "callee-reachable: the NATed offerer is made active, direct, the answer untouched"

call_up spelled spelled 10.0.0.5
expect_sdp spelled offer setup active
expect_sdp spelled answer same
expect_midcall spelled direct
call_down spelled
expect_events spelled direct direct
note "'trust-address Callee-Reachable': two flags in one call, any case"

call_up anchor anchor "$UAC_IP"
expect_sdp anchor offer relay actpass
expect_sdp anchor answer relay passive
expect_midcall anchor relay
call_down anchor
expect_events anchor relay relay
note "msrp-anchor: both public, relayed all the same"

call_up noanchor noanchor 10.0.0.5
expect_sdp noanchor offer same
expect_sdp noanchor answer same
expect_midcall noanchor direct
call_down noanchor
expect_events noanchor direct direct
note "msrp-no-anchor: the NATed offerer's SDP passes untouched, direct"

# received-from: an SDP address that is public but not where the INVITE
# came from reveals a NAT, unless the request says to trust it.
call_up mismatch plain 127.0.0.9
expect_sdp mismatch offer relay actpass
expect_sdp mismatch answer relay passive
expect_midcall mismatch relay
call_down mismatch
expect_events mismatch relay relay
note "c= 127.0.0.9 while the INVITE came from $UAC_IP: relay (received-from read)"

call_up trusted trust 127.0.0.9
expect_sdp trusted offer same
expect_sdp trusted answer same
expect_midcall trusted direct
call_down trusted
expect_events trusted direct direct
note "the same with trust-address: untouched"

# Every BYE's rtpengine_delete() removed its call, and no request failed.
n=$(log_count "$WORK/edge.log" call_deleted)
[ "$n" -eq 8 ] || fail "$n call_deleted events for 8 calls"
! log_match "$WORK/edge.log" control_error >/dev/null ||
  fail "msrp-edge logged a control_error: $(log_match "$WORK/edge.log" control_error | head -1)"
if [ -n "$ng_client" ]; then
  out=$(timeout 10 "$ng_client" --proxy-address=127.0.0.1 \
        --proxy-port="$ctl_port" list 2>&1) || fail "list: $out"
  ! grep -q ngkam- <<<"$out" || fail "calls left after their BYE: $out"
fi
! grep -E 'ERROR: (rtpengine|<core>)' "$WORK/kam.log" ||
  fail "Kamailio logged errors"

kam_stop kam
edge_stop edge
echo "ng kamailio: ok"
