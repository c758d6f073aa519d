#!/bin/bash
# The Prometheus endpoint of a real msrp-edge ([listen] http on loopback),
# scraped before, during and after a call relayed through the negotiator,
# and after AUTHs:
#
#   scrape 0   everything zero, a valid exposition (promtool check metrics)
#   ng offer (an offerer behind NAT) and answer (a listening answerer), the
#   gateway binds the answerer, the offerer sends 3 messages through it
#   scrape 1   calls 1, preauth sessions 2, ng offer/answer requests and
#              call commands 1 each (each request in its latency histogram),
#              streams{plan="relay"} 1, messages_total +3, bytes_total in
#              and out grown, a tcp connection each way (alice's in, the
#              gateway's to bob out), and every number the same as the ng
#              statistics reply taken right after it
#   ng delete
#   scrape 2   calls 0, sessions 0, connections 0, call commands{delete} 1,
#              counters kept
#   AUTHs      msrpcat with a wrong password, then with the right one
#   scrape 3   auth_requests_total challenge 2, failed 1, ok 1; errors_total
#              {code="401"} 3; a client session and its connection
#   SIGTERM    the `stats` event at shutdown gives the last scrape's bytes,
#              messages and err_401
#   /ping      pong; promtool check metrics passes on every scrape
#
# Usage: metrics.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null ||
  fail "promtool is not installed (Debian package prometheus)"

users_file "$WORK/users" metrics.test alice:secret:sha256
edge_start edge --control --http \
  "[negotiator]\npolicy=auto\n[auth]\nrealm=metrics.test\nusers-file=$WORK/users"
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

# fsum N FAMILY: the sum of FAMILY's samples (every label) in scrape N.
fsum () {
  awk -v f="$2" '{ n = $1; sub(/\{.*/, "", n) }
    n == f { s += $2; found = 1 } END { print s + 0; exit !found }' \
    "$WORK/scrape-$1" || fail "no family $2 in scrape $1"
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
samples, families = {}, {}
for line in open(scrape):
    if not line.startswith("#") and line.strip():
        name, value = line.split()
        samples[name] = value
        family = name.split("{")[0]
        families[family] = families.get(family, 0) + int(float(value))
pairs = {
    # labelled gauges: ng gives their sum
    "connections": "currentstatistics.connections",
    "sessions": "currentstatistics.relaysessions",
    "calls": "currentstatistics.sessionsown",
    "call_commands_total{command=\"offer\"}": "totalstatistics.offers",
    "call_commands_total{command=\"answer\"}": "totalstatistics.answers",
    "call_commands_total{command=\"delete\"}": "totalstatistics.deletes",
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
    name = "msrp_edge_" + sample
    got = samples.get(name, families.get(name))
    want = reply[group][sub]
    if got is None or int(got) != want:
        print("%s is %s, ng %s is %s" % (name, got, key, want))
        bad = 1
sys.exit(bad)' "$WORK/scrape-$1" "$WORK/ng-statistics.json" >"$WORK/same.out" ||
    fail "scrape $1 and ng statistics differ: $(cat "$WORK/same.out")"
}

get /ping "$WORK/ping"
[ "$(cat "$WORK/ping")" = pong ] || fail "/ping: $(cat "$WORK/ping")"
note "/ping: pong"

# ng_latency_ok N COMMAND: COMMAND's histogram in scrape N is whole: one
# bucket per bound, never decreasing, +Inf equal to _count, which is the
# requests counted (none is pending between scrapes here).
ng_latency_ok () {
  local h=msrp_edge_ng_request_duration_seconds
  awk -v c="command=\"$2\"" -v b="${h}_bucket" '
    index($1, b "{" c ",") == 1 {
      if ($2 < last) { print "bucket " $1 " below the one before"; bad = 1 }
      last = $2; n++
      if ($1 ~ /le="\+Inf"/) inf = $2
    }
    END { if (n != 17) { print n " buckets, not 17"; bad = 1 }
          print inf; exit bad }' "$WORK/scrape-$1" >"$WORK/latency.out" ||
    fail "scrape $1: the $2 histogram: $(cat "$WORK/latency.out")"
  expect "$1" "${h}_count{command=\"$2\"}" "$(tail -1 "$WORK/latency.out")"
  expect "$1" "${h}_count{command=\"$2\"}" \
    "$(m "$1" "msrp_edge_ng_requests_total{command=\"$2\"}")"
}

scrape 0
for f in msrp_edge_connections msrp_edge_connections_total \
         msrp_edge_sessions msrp_edge_auth_requests_total \
         msrp_edge_ice_legs_total msrp_edge_ng_requests_total; do
  [ "$(fsum 0 "$f")" = 0 ] || fail "scrape 0: $f is not 0"
done
for s in msrp_edge_calls msrp_edge_messages_total \
         'msrp_edge_bytes_total{direction="in"}' \
         'msrp_edge_streams_total{plan="relay"}' \
         'msrp_edge_connections{transport="ice-tcp",direction="inbound"}'; do
  expect 0 "$s" 0
done
expect 0 msrp_edge_up 1
grep -q '^msrp_edge_errors_total{' "$WORK/scrape-0" &&
  fail "scrape 0: an error code before anything happened"
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
expect 1 msrp_edge_calls 1
expect 1 'msrp_edge_sessions{kind="preauth"}' 2
expect 1 'msrp_edge_sessions{kind="client"}' 0
expect 1 'msrp_edge_ng_requests_total{command="offer"}' 1
expect 1 'msrp_edge_ng_requests_total{command="answer"}' 1
expect 1 'msrp_edge_call_commands_total{command="offer"}' 1
expect 1 'msrp_edge_call_commands_total{command="answer"}' 1
ng_latency_ok 1 offer
ng_latency_ok 1 answer
ng_latency_ok 1 statistics
expect 1 'msrp_edge_streams_total{plan="relay"}' 1
expect 1 'msrp_edge_streams_total{plan="direct"}' 0
# Alice's connection in, the gateway's to bob out (open until the delete).
expect 1 'msrp_edge_connections_total{transport="tcp",direction="inbound"}' 1
expect 1 'msrp_edge_connections_total{transport="tcp",direction="outbound"}' 1
expect 1 'msrp_edge_connections{transport="tcp",direction="outbound"}' 1
[ "$(fsum 1 msrp_edge_connections_total)" = 2 ] ||
  fail "scrape 1: $(fsum 1 msrp_edge_connections_total) connections, not 2"
expect 1 msrp_edge_messages_total \
  "$(( $(m 0 msrp_edge_messages_total) + relayed ))"
for d in in out; do
  [ "$(m 1 "msrp_edge_bytes_total{direction=\"$d\"}")" -gt \
    "$(m 0 "msrp_edge_bytes_total{direction=\"$d\"}")" ] ||
    fail "bytes_total $d did not grow"
done
expect 1 msrp_edge_frames_in_flight 0
expect 1 msrp_edge_pending_transactions 0
same_as_ng 1
[ "$(awk '$1 == "msrp_edge_uptime_seconds" { print ($2 > 0) }' "$WORK/scrape-1")" = 1 ] ||
  fail "uptime_seconds not above 0"
note "scrape 1: calls 1, preauth sessions 2, offer/answer 1 (and in their histograms), streams relay 1, a tcp connection each way, messages +$relayed, bytes $(m 1 'msrp_edge_bytes_total{direction="in"}') in / $(m 1 'msrp_edge_bytes_total{direction="out"}') out, the same as ng statistics"

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
  get /metrics "$WORK/scrape-$1" && [ "$(fsum "$1" msrp_edge_connections)" = 0 ]
}
wait_until 10 no_connection 2 || fail "connections not 0 after the call"
scrape 2
expect 2 msrp_edge_calls 0
[ "$(fsum 2 msrp_edge_sessions)" = 0 ] || fail "scrape 2: sessions left"
expect 2 'msrp_edge_call_commands_total{command="delete"}' 1
expect 2 'msrp_edge_ng_requests_total{command="delete"}' 1
ng_latency_ok 2 delete
expect 2 'msrp_edge_streams_total{plan="relay"}' 1
expect 2 msrp_edge_messages_total "$(m 1 msrp_edge_messages_total)"
same_as_ng 2
note "scrape 2: after delete, calls 0 and sessions 0, the counters kept"

# The ng requests of this test: offer, answer, delete, and a statistics for
# each same_as_ng; a scrape asks nothing of the control server.
expect 2 'msrp_edge_ng_requests_total{command="statistics"}' 2
[ "$(fsum 2 msrp_edge_ng_requests_total)" -eq 5 ] ||
  fail "ng_requests_total $(fsum 2 msrp_edge_ng_requests_total), not 5"
expect 2 msrp_edge_ng_errors_total 0
note "scrape 2: ng requests by command, 5 in all, each in its histogram"

# AUTH to the relay itself: a wrong password (the challenge, then a
# failure), then the right one (the challenge, then a session).
mc_run wrong --relay "$edge_uri" --user alice --password wrong \
  --to-path "$edge_uri" -m x
[ "$rc" -eq 1 ] || fail "a wrong password: exit $rc"
mc_start recv --relay "$edge_uri" --user alice --password secret --receive \
  --print-use-path
mc_path recv >/dev/null
scrape 3
expect 3 'msrp_edge_auth_requests_total{outcome="challenge"}' 2
expect 3 'msrp_edge_auth_requests_total{outcome="failed"}' 1
expect 3 'msrp_edge_auth_requests_total{outcome="ok"}' 1
[ "$(fsum 3 msrp_edge_auth_requests_total)" = 4 ] ||
  fail "scrape 3: $(fsum 3 msrp_edge_auth_requests_total) AUTHs, not 4"
expect 3 'msrp_edge_errors_total{code="401"}' 3
expect 3 'msrp_edge_sessions{kind="client"}' 1
expect 3 'msrp_edge_connections{transport="tcp",direction="inbound"}' 1
expect 3 'msrp_edge_connections_total{transport="tcp",direction="inbound"}' 3
[ "$(log_count "$WORK/edge.log" auth_ok)" = 1 ] &&
  [ "$(log_count "$WORK/edge.log" auth_failed)" = 1 ] ||
  fail "scrape 3: not what the log says of the AUTHs"
kill -TERM "$recv_pid"
mc_wait recv 10
wait_until 10 no_connection 3 || fail "connections not 0 after the AUTHs"
scrape 3
note "scrape 3: AUTH outcomes challenge 2, failed 1, ok 1; errors_total 401: 3; a client session"

in=$(m 3 'msrp_edge_bytes_total{direction="in"}')
out=$(m 3 'msrp_edge_bytes_total{direction="out"}')
msgs=$(m 3 msrp_edge_messages_total)
e401=$(m 3 'msrp_edge_errors_total{code="401"}')
edge_stop edge
log_match "$WORK/edge.log" stats bytes_in="$in" bytes_out="$out" \
  messages="$msgs" err_401="$e401" >/dev/null ||
  fail "the stats event at shutdown differs from the last scrape ($in in, $out out, $msgs messages, err_401 $e401): $(log_match "$WORK/edge.log" stats | tail -1)"
note "the stats event at shutdown: $in bytes in, $out out, $msgs messages, err_401 $e401, as scraped"
echo "metrics: ok"
