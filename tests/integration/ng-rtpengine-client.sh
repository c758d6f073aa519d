#!/bin/bash
# rtpengine's own ng client, rtpengine-ng-client (Debian package
# rtpengine-utils), drives msrp-edge itself (not a stub) unchanged, through
# a whole relayed session that real MSRP goes through:
#
#   ping                         pong
#   offer   (offerer at 10.0.0.5 behind NAT, received-from ["IP4",
#            "127.0.0.2"], actpass, plus an audio stream)
#                                the answerer's SDP: the gateway's URI first
#                                in a=path, a=setup:actpass, c=/m= port the
#                                gateway's, audio untouched
#   answer  (answerer 127.0.0.3 public, passive, an msrpcat listening)
#                                the offerer's SDP: the gateway's URI first,
#                                a=setup:passive; the gateway connects to
#                                the answerer and binds with an empty SEND
#   msrpcat (the offerer) sends a message to the path it got; the answerer
#   receives it byte-exact, through the gateway
#   query                        plan relay, relay-messages 1, bytes > 0
#   list                         the call
#   statistics                   currentstatistics and totalstatistics
#   delete                       ok; call_deleted with the call's counters
#   delete, query again          error "unknown call-id"
#   list                         no call
#
# Usage: ng-rtpengine-client.sh MSRP-EDGE MSRPCAT
#   Skips (exit 77) without rtpengine-ng-client.
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
client=$(command -v rtpengine-ng-client || true)
if [ -z "$client" ]; then
  echo "rtpengine-ng-client not installed (Debian package rtpengine-utils): skipped"
  exit 77
fi
. "$(dirname "$0")/lib.sh"

# ng COMMAND ARGS...: rtpengine-ng-client against msrp-edge; its output in
# $out (and $WORK/ng-N-COMMAND.out), its exit status in $rc.
ng_n=0
ng () {
  local cmd="$1"; shift
  rc=0
  out=$(timeout 10 "$client" --proxy-address=127.0.0.1 \
        --proxy-port="$ctl_port" "$@" "$cmd" 2>&1) || rc=$?
  ng_n=$((ng_n + 1))
  printf '%s\n' "$out" >"$WORK/ng-$ng_n-$cmd.out"
}

# new_sdp FILE: the "New SDP" rtpengine-ng-client printed, with the CRLF
# line ends it prints them with, into FILE.
new_sdp () {
  python3 -c 'import sys
text = sys.stdin.buffer.read().decode()
start = text.index("New SDP:\n")
body = text[start:].split("-----8<-----8<-----8<-----8<-----8<-----\n", 1)[1]
body = body.split("\n----->8-----", 1)[0]
open(sys.argv[1], "w", newline="").write(body)' "$1" <<<"$out" ||
    fail "no New SDP in: $out"
}

edge_start edge --control '[negotiator]\npolicy=auto\n[limits]\ndrain-timeout=5'
ctl_port=$edge_ctl_port
call_id="ngclient-$$@127.0.0.2"
a_port=$(free_port)
b_port=$(free_port)
a_uri="msrp://10.0.0.5:$a_port/alice-ngc;tcp"
b_uri="msrp://127.0.0.3:$b_port/bob-ngc;tcp"
printf '%s\r\n' v=0 'o=alice 1 1 IN IP4 10.0.0.5' s=- 'c=IN IP4 10.0.0.5' \
  't=0 0' 'm=audio 30000 RTP/AVP 0' 'a=rtpmap:0 PCMU/8000' \
  "m=message $a_port TCP/MSRP *" 'a=accept-types:text/plain' \
  "a=path:$a_uri" 'a=setup:actpass' >"$WORK/offer-sent"
printf '%s\r\n' v=0 'o=bob 1 1 IN IP4 127.0.0.3' s=- 'c=IN IP4 127.0.0.3' \
  't=0 0' 'm=audio 40000 RTP/AVP 0' 'a=rtpmap:0 PCMU/8000' \
  "m=message $b_port TCP/MSRP *" 'a=accept-types:text/plain' \
  "a=path:$b_uri" 'a=setup:passive' >"$WORK/answer-sent"

ng ping
[ "$rc" -eq 0 ] && grep -q "result => 'pong'" <<<"$out" || fail "ping: $out"
note "ping: pong"

ng offer --call-id="$call_id" --from-tag=alice-tag \
  --received-from=IP4 --received-from=127.0.0.2 \
  --sdp-file="$WORK/offer-sent"
[ "$rc" -eq 0 ] || fail "offer: $out"
new_sdp "$WORK/offer-received"
python3 "$IT_SRC/sdp-expect.py" check "$WORK/offer-sent" \
  "$WORK/offer-received" relay 127.0.0.1 "$edge_port" actpass \
  >"$WORK/uri-a" || fail "offer: not relayed as the table says"
log_match "$WORK/edge.log" plan_decided call_id="$call_id" step=offer \
  plan=relay >/dev/null || fail "offer: no plan_decided step=offer plan=relay"
note "offer: the answerer's SDP has $(cat "$WORK/uri-a") before the offerer's URI, actpass"

# The answerer's endpoint, for the gateway to connect to.
mc_start bob --listen "127.0.0.3:$b_port" --local-uri "$b_uri" --receive \
  --expect 1 -o "$WORK/bob" --json -T 30 -v
wait_until 10 _listening "$b_port" "$bob_pid" ||
  fail "msrpcat bob did not listen on 127.0.0.3:$b_port"

ng answer --call-id="$call_id" --from-tag=alice-tag --to-tag=bob-tag \
  --received-from=IP4 --received-from=127.0.0.3 \
  --sdp-file="$WORK/answer-sent"
[ "$rc" -eq 0 ] || fail "answer: $out"
new_sdp "$WORK/answer-received"
python3 "$IT_SRC/sdp-expect.py" check "$WORK/answer-sent" \
  "$WORK/answer-received" relay 127.0.0.1 "$edge_port" passive \
  >"$WORK/uri-b" || fail "answer: not relayed as the table says"
note "answer: the offerer's SDP has $(cat "$WORK/uri-b") before the answerer's URI, passive"

# The gateway connects to bob and binds with an empty SEND whose From-Path
# is what bob got in his SDP.
wait_until 10 grep -qF "bound; the peer's path is $(cat "$WORK/uri-a") $a_uri" \
  "$WORK/bob.err" || fail "the gateway did not bind bob's endpoint"
note "the gateway connected to the answerer and bound with From-Path $(cat "$WORK/uri-a") $a_uri"

# Alice (behind her "NAT": her URI says 10.0.0.5) connects to the gateway
# with the path of the answer and sends.
mc_run alice --local-uri "$a_uri" --to-path "$(cat "$WORK/uri-b") $b_uri" \
  -m "hello through msrp-edge, set up by rtpengine-ng-client" --json -T 20
[ "$rc" -eq 0 ] || fail "alice: exit $rc"
mc_wait bob 20
[ "$rc" -eq 0 ] || fail "bob: exit $rc"
[ "$(cat "$WORK"/bob/*)" = "hello through msrp-edge, set up by rtpengine-ng-client" ] ||
  fail "bob received '$(cat "$WORK"/bob/*)'"
mid=$(json_last "$WORK/bob.out" 'd["received"]["list"][0]["message_id"]')
log_match "$WORK/edge.log" message_relayed call_id="$call_id" message_id="$mid" \
  outcome=delivered >/dev/null || fail "no message_relayed for $mid in the call"
note "alice -> msrp-edge -> bob: the message arrived, relayed in the call"

ng query --call-id="$call_id" --from-tag=alice-tag
[ "$rc" -eq 0 ] || fail "query: $out"
grep -q "plan => 'relay'" <<<"$out" && grep -q "'relay-messages' => '1'" <<<"$out" ||
  fail "query: $out"
grep -qE "'relay-bytes' => '[1-9][0-9]*'" <<<"$out" || fail "query: no relay-bytes: $out"
note "query: plan relay, 1 message relayed"

ng list
[ "$rc" -eq 0 ] && grep -qF "'$call_id'" <<<"$out" || fail "list: $out"
note "list: the call"

ng statistics
[ "$rc" -eq 0 ] && grep -q "currentstatistics => {" <<<"$out" &&
  grep -q "totalstatistics => {" <<<"$out" || fail "statistics: $out"
note "statistics: currentstatistics and totalstatistics"

ng delete --call-id="$call_id" --from-tag=alice-tag
[ "$rc" -eq 0 ] || fail "delete: $out"
wait_log "$WORK/edge.log" 10 call_deleted call_id="$call_id" relay_messages=1 ||
  fail "no call_deleted with relay_messages 1"
note "delete: ok, call_deleted with the call's counters"

ng delete --call-id="$call_id" --from-tag=alice-tag
[ "$rc" -ne 0 ] && grep -q "unknown call-id" <<<"$out" ||
  fail "a second delete: $out"
ng query --call-id="$call_id" --from-tag=alice-tag
[ "$rc" -ne 0 ] && grep -q "unknown call-id" <<<"$out" ||
  fail "query after delete: $out"
ng list
[ "$rc" -eq 0 ] && ! grep -qF "'$call_id'" <<<"$out" || fail "list after delete: $out"
note "after delete: delete and query say unknown call-id, list is empty"

# Draining (issue 12 part 4): SIGTERM with a live call.  A new call-id
# gets rtpengine's `load limit` (rtpengine-ng-client says it supports it,
# as Kamailio's module does), the live call is still served, and once it
# is deleted the daemon stops by itself with exit status 0.
ng offer --call-id="$call_id-2" --from-tag=alice-tag \
  --received-from=IP4 --received-from=127.0.0.2 \
  --sdp-file="$WORK/offer-sent"
[ "$rc" -eq 0 ] || fail "offer of a second call: $out"
kill -TERM "$edge_pid"
wait_log "$WORK/edge.log" 10 stopping calls=1 drain_s=5 ||
  fail "no stopping line with calls 1 and drain_s 5"
ng offer --call-id="$call_id-3" --from-tag=alice-tag --supports="load limit" \
  --received-from=IP4 --received-from=127.0.0.2 \
  --sdp-file="$WORK/offer-sent"
grep -q "result => 'load limit'" <<<"$out" &&
  grep -q "Shutting down: no new calls" <<<"$out" ||
  fail "a new call while draining: $out"
log_match "$WORK/edge.log" call_refused call_id="$call_id-3" \
  reason=draining >/dev/null || fail "no call_refused for the new call"
ng offer --call-id="$call_id-2" --from-tag=alice-tag --supports="load limit" \
  --received-from=IP4 --received-from=127.0.0.2 \
  --sdp-file="$WORK/offer-sent"
[ "$rc" -eq 0 ] || fail "a re-offer of the live call while draining: $out"
# The relay still takes connections for the live call's parties.
python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5).close()' \
  "$edge_port" || fail "the msrp listener closed while a call was live"
kill -0 "$edge_pid" || fail "msrp-edge stopped with a live call"
ng delete --call-id="$call_id-2" --from-tag=alice-tag
[ "$rc" -eq 0 ] || fail "delete while draining: $out"
edge_drained edge 15
note "draining: a new call got load limit, the live call was served, exit 0 once it was deleted"

echo "ng rtpengine-ng-client: ok"
