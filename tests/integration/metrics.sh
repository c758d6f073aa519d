#!/bin/bash
# The Prometheus endpoint of a real msrp-edge ([listen] http on loopback),
# scraped before, during and after a call relayed through the negotiator:
#
#   scrape 0   everything zero, a valid exposition (promtool check metrics)
#   ng offer (an offerer behind NAT) and answer (a listening answerer), the
#   gateway binds the answerer, the offerer sends 3 messages through it
#   scrape 1   calls 1, relay sessions 2, ng offer/answer requests and
#              commands 1 each, streams{plan="relay"} 1, messages_total +3,
#              bytes_total in and out grown, and every number the same as
#              the ng statistics reply taken right after it
#   ng delete
#   scrape 2   calls 0, sessions 0, connections 0, commands{delete} 1,
#              counters kept
#   SIGTERM    the `stats` event at shutdown gives the last scrape's bytes
#              and messages
#   /ping      pong; promtool check metrics passes on every scrape
#
# Usage: metrics.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null ||
  fail "promtool is not installed (Debian package prometheus)"

edge_start edge --control --http '[negotiator]\npolicy=auto'
base="http://127.0.0.1:$edge_http_port"

# get PATH FILE: the body of a GET, status checked (200).
get () {
  python3 -c 'import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    assert r.status == 200, r.status
    sys.stdout.buffer.write(r.read())' "$base$1" >"$2" ||
    fail "GET $1 failed"
}

# scrape N: GET /metrics into $WORK/scrape-N, checked by promtool.
scrape () {
  get /metrics "$WORK/scrape-$1"
  promtool check metrics <"$WORK/scrape-$1" >"$WORK/promtool-$1.out" 2>&1 ||
    fail "promtool check metrics on scrape $1: $(cat "$WORK/promtool-$1.out")"
}

# m N SAMPLE: the value of SAMPLE (name and labels, as written) in scrape N.
m () {
  awk -v s="$2" '$1 == s { print $2; found = 1 } END { exit !found }' \
    "$WORK/scrape-$1" || fail "no sample $2 in scrape $1"
}

# expect N SAMPLE VALUE
expect () {
  local v
  v=$(m "$1" "$2")
  [ "$v" = "$3" ] || fail "scrape $1: $2 is $v, not $3"
}

# ng COMMAND ARGS...: tests/integration/ng-client.py; its JSON reply in
# $WORK/ng-COMMAND.json.
ng () {
  local cmd="$1"; shift
  python3 "$IT_SRC/ng-client.py" --server "127.0.0.1:$edge_ctl_port" \
    "$cmd" "$@" >"$WORK/ng-$cmd.json" || fail "ng $cmd: $(cat "$WORK/ng-$cmd.json")"
}

# same_as_ng N: scrape N and an ng statistics reply taken right after it
# give the same numbers (nothing relays meanwhile).
same_as_ng () {
  ng statistics
  python3 -c 'import json, sys
scrape, reply = sys.argv[1], json.load(open(sys.argv[2]))
samples = {}
for line in open(scrape):
    if not line.startswith("#") and line.strip():
        name, value = line.split()
        samples[name] = value
pairs = {
    "connections": "currentstatistics.connections",
    "sessions": "currentstatistics.relaysessions",
    "calls": "currentstatistics.sessionsown",
    "commands_total{command=\"offer\"}": "totalstatistics.offers",
    "commands_total{command=\"answer\"}": "totalstatistics.answers",
    "commands_total{command=\"delete\"}": "totalstatistics.deletes",
    "expired_calls_total": "totalstatistics.timeoutsessions",
    "bytes_total{direction=\"in\"}": "totalstatistics.relay-bytes-in",
    "bytes_total{direction=\"out\"}": "totalstatistics.relay-bytes-out",
    "messages_total": "totalstatistics.relay-messages",
}
for plan in ("direct", "direct-reversed", "relay", "rejected"):
    pairs["streams_total{plan=\"%s\"}" % plan] = "totalstatistics.streams-" + plan
bad = 0
for sample, key in pairs.items():
    group, sub = key.split(".", 1)
    got, want = samples.get("msrpedge_" + sample), str(reply[group][sub])
    if got != want:
        print("msrpedge_%s is %s, ng %s is %s" % (sample, got, key, want))
        bad = 1
sys.exit(bad)' "$WORK/scrape-$1" "$WORK/ng-statistics.json" >"$WORK/same.out" ||
    fail "scrape $1 and ng statistics differ: $(cat "$WORK/same.out")"
}

get /ping "$WORK/ping"
[ "$(cat "$WORK/ping")" = pong ] || fail "/ping: $(cat "$WORK/ping")"
note "/ping: pong"

scrape 0
for s in msrpedge_connections msrpedge_sessions msrpedge_calls \
         msrpedge_messages_total 'msrpedge_bytes_total{direction="in"}' \
         'msrpedge_streams_total{plan="relay"}' \
         'msrpedge_requests_total{request="offer"}'; do
  expect 0 "$s" 0
done
expect 0 msrpedge_up 1
same_as_ng 0
note "scrape 0: all zero, the same as ng statistics, promtool accepts it"

# A relayed call, as ng-rtpengine-client.sh sets one up: alice behind a NAT
# (her SDP says 10.0.0.5, the signalling came from 127.0.0.2), bob public
# and passive, so the gateway relays and connects to bob itself.
call_id="metrics-$$@127.0.0.2"
a_port=$(free_port)
b_port=$(free_port)
a_uri="msrp://10.0.0.5:$a_port/alice-met;tcp"
b_uri="msrp://127.0.0.3:$b_port/bob-met;tcp"
printf '%s\r\n' v=0 'o=alice 1 1 IN IP4 10.0.0.5' s=- 'c=IN IP4 10.0.0.5' \
  't=0 0' "m=message $a_port TCP/MSRP *" 'a=accept-types:text/plain' \
  "a=path:$a_uri" 'a=setup:actpass' >"$WORK/offer-sent"
printf '%s\r\n' v=0 'o=bob 1 1 IN IP4 127.0.0.3' s=- 'c=IN IP4 127.0.0.3' \
  't=0 0' "m=message $b_port TCP/MSRP *" 'a=accept-types:text/plain' \
  "a=path:$b_uri" 'a=setup:passive' >"$WORK/answer-sent"

ng offer --call-id "$call_id" --from-tag alice-tag --received-from 127.0.0.2 \
  --sdp-file "$WORK/offer-sent" --out "$WORK/offer-received"
python3 "$IT_SRC/sdp-expect.py" check "$WORK/offer-sent" \
  "$WORK/offer-received" relay 127.0.0.1 "$edge_port" actpass \
  >"$WORK/uri-a" || fail "offer: not relayed"
# Bob stays connected until the call is deleted: no --expect.
mc_start bob --listen "127.0.0.3:$b_port" --local-uri "$b_uri" --receive \
  -o "$WORK/bob" --json
wait_until 10 _listening "$b_port" "$bob_pid" || fail "bob does not listen"
ng answer --call-id "$call_id" --from-tag alice-tag --to-tag bob-tag \
  --received-from 127.0.0.3 --sdp-file "$WORK/answer-sent" \
  --out "$WORK/answer-received"
python3 "$IT_SRC/sdp-expect.py" check "$WORK/answer-sent" \
  "$WORK/answer-received" relay 127.0.0.1 "$edge_port" passive \
  >"$WORK/uri-b" || fail "answer: not relayed"
wait_log "$WORK/edge.log" 10 session_connected call_id="$call_id" ||
  fail "the gateway did not bind bob"
mc_run alice --local-uri "$a_uri" --to-path "$(cat "$WORK/uri-b") $b_uri" \
  -m one -m two -m three --json -T 20
[ "$rc" -eq 0 ] || fail "alice: exit $rc"
bob_has_3 () { [ "$(find "$WORK/bob" -type f | wc -l)" -eq 3 ]; }
wait_until 10 bob_has_3 || fail "bob did not receive 3 messages"
relayed=$(log_count "$WORK/edge.log" message_relayed call_id="$call_id" \
  outcome=delivered)
[ "$relayed" -eq 3 ] || fail "$relayed messages relayed in the call, not 3"
note "a relayed call: 3 messages alice -> msrp-edge -> bob"

scrape 1
expect 1 msrpedge_calls 1
expect 1 msrpedge_sessions 2
expect 1 'msrpedge_requests_total{request="offer"}' 1
expect 1 'msrpedge_requests_total{request="answer"}' 1
expect 1 'msrpedge_commands_total{command="offer"}' 1
expect 1 'msrpedge_commands_total{command="answer"}' 1
expect 1 'msrpedge_streams_total{plan="relay"}' 1
expect 1 'msrpedge_streams_total{plan="direct"}' 0
expect 1 msrpedge_messages_total \
  "$(( $(m 0 msrpedge_messages_total) + relayed ))"
for d in in out; do
  [ "$(m 1 "msrpedge_bytes_total{direction=\"$d\"}")" -gt \
    "$(m 0 "msrpedge_bytes_total{direction=\"$d\"}")" ] ||
    fail "bytes_total $d did not grow"
done
[ "$(m 1 msrpedge_connections)" -ge 1 ] ||
  fail "no connection open (the gateway's to bob is)"
expect 1 msrpedge_frames_in_flight 0
expect 1 msrpedge_pending_transactions 0
same_as_ng 1
[ "$(awk '$1 == "msrpedge_uptime_seconds" { print ($2 > 0) }' "$WORK/scrape-1")" = 1 ] ||
  fail "uptime_seconds not above 0"
note "scrape 1: calls 1, sessions 2, offer/answer 1, streams relay 1, messages +$relayed, bytes $(m 1 'msrpedge_bytes_total{direction="in"}') in / $(m 1 'msrpedge_bytes_total{direction="out"}') out, the same as ng statistics"

ng delete --call-id "$call_id" --from-tag alice-tag
wait_log "$WORK/edge.log" 10 call_deleted call_id="$call_id" ||
  fail "no call_deleted"
# The gateway closes its connection to bob with the call's sessions; bob,
# a listener, would wait for another one.
kill -TERM "$bob_pid" 2>/dev/null || true
wait_until 10 _gone "$bob_pid" || fail "bob did not end"
wait "$bob_pid" 2>/dev/null || true
untrack "$bob_pid"
no_connection () {
  get /metrics "$WORK/scrape-2" && [ "$(m 2 msrpedge_connections)" = 0 ]
}
wait_until 10 no_connection || fail "connections not 0 after the call"
scrape 2
expect 2 msrpedge_calls 0
expect 2 msrpedge_sessions 0
expect 2 'msrpedge_commands_total{command="delete"}' 1
expect 2 'msrpedge_requests_total{request="delete"}' 1
expect 2 'msrpedge_streams_total{plan="relay"}' 1
expect 2 msrpedge_messages_total "$(m 1 msrpedge_messages_total)"
same_as_ng 2
note "scrape 2: after delete, calls 0 and sessions 0, the counters kept"

# The ng requests of this test: offer, answer, delete, and a statistics for
# each same_as_ng; the endpoint's own statistics queries are not counted.
expect 2 'msrpedge_requests_total{request="statistics"}' 2
[ "$(m 2 msrpedge_control_requests_total)" -eq 5 ] ||
  fail "control_requests_total $(m 2 msrpedge_control_requests_total), not 5"

in=$(m 2 'msrpedge_bytes_total{direction="in"}')
out=$(m 2 'msrpedge_bytes_total{direction="out"}')
msgs=$(m 2 msrpedge_messages_total)
edge_stop edge
log_match "$WORK/edge.log" stats bytes_in="$in" bytes_out="$out" \
  messages="$msgs" >/dev/null ||
  fail "the stats event at shutdown differs from the last scrape ($in in, $out out, $msgs messages): $(log_match "$WORK/edge.log" stats | tail -1)"
note "the stats event at shutdown: $in bytes in, $out out, $msgs messages, as scraped"
echo "metrics: ok"
