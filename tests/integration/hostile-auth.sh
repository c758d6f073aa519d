#!/bin/bash
# Hostile peers against AUTH and routing (issue 13, findings 1 to 3), each
# with an honest pair of clients relaying beside the attack (hostile-lib.sh):
#
#   stolen messages   a connection without AUTH claims a peer's URI with one
#                     SEND toward carol's session (From-Path: the peer's
#                     URI); carol's next message to that peer must still
#                     reach the peer, and nothing the claimer
#   replayed AUTH     one Authorization header sent again on three other
#                     connections and on its own: 401 each (RFC 7616
#                     section 5.3), one session
#   password guessing one address guesses victim's password as fast as it
#                     can reconnect, for a few seconds: after five free
#                     guesses at most one a back-off is judged, the rest get
#                     403 unjudged, auth_throttled says so; the right
#                     password is refused from that address meanwhile and
#                     accepted from another one
#
# Usage: hostile-auth.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/hostile-lib.sh"

hostile_edge edge

# --- the stolen-messages attempt (a regression of finding 1) ---------------
mc_start peer --listen 127.0.0.1:0 --receive --print-use-path --expect 1 \
  --json -T 30 -q
peer_uri=$(mc_path peer)
honest_start edge
hostile hijack 127.0.0.1 "$edge_port" carol carol-pw "$peer_uri" \
  >"$WORK/hijack.out" 2>&1 || fail "stolen messages: $(cat "$WORK/hijack.out")"
mc_wait peer 20
[ "$rc" -eq 0 ] || fail "stolen messages: the peer exited $rc"
[ "$(sed -n 2p "$WORK/peer.out")" = "for the peer only" ] ||
  fail "stolen messages: the peer got $(cat "$WORK/peer.out")"
honest_check "stolen messages"
note "stolen messages: a plain TCP claim of the peer's URI diverted nothing ($(cat "$WORK/hijack.out"))"

# --- a replayed Authorization header ---------------------------------------
honest_start edge
hostile replay 127.0.0.1 "$edge_port" mallory mallory-pw --times 3 \
  >"$WORK/replay.out" 2>&1 || fail "replay: $(cat "$WORK/replay.out")"
[ "$(log_count "$WORK/edge.log" auth_failed user=mallory reason=replay)" = 4 ] ||
  fail "replay: not 4 auth_failed lines with reason replay"
[ "$(log_count "$WORK/edge.log" session_created user=mallory)" = 1 ] ||
  fail "replay: mallory holds more than one session"
honest_check "replayed Authorization"
note "replayed Authorization: 401 on each of 4 replays, one session ($(cat "$WORK/replay.out"))"

# --- password guessing ------------------------------------------------------
guess_secs=6
honest_start edge 500 100
hostile guess 127.0.0.1 "$edge_port" victim --secs "$guess_secs" --max 12000 \
  --source 127.0.0.66 >"$WORK/guess.out" 2>&1 || fail "guess: $(cat "$WORK/guess.out")"
read -r attempts judged refused max_per_s rate < <(json_last "$WORK/guess.out" \
  '"%d %d %d %d %s" % (d["attempts"], d["judged"], d["refused"], d["max_judged_per_s"], d["attempts_per_s"])')
echo "figures: password guessing: $attempts guesses in $guess_secs s ($rate a second) from one address, $judged judged, $refused refused unjudged, at most $max_per_s judged in a second"
# Five free, then one after 1 s, 2 s, 4 s: the back-offs of 6 seconds.
[ "$max_per_s" -le 6 ] || fail "guess: $max_per_s guesses judged in one second"
[ "$judged" -le 9 ] || fail "guess: $judged guesses judged in $guess_secs s"
[ "$refused" -ge 1 ] || fail "guess: nothing was refused"
log_match "$WORK/edge.log" auth_throttled scope=address address=127.0.0.66 \
  >/dev/null || fail "guess: no auth_throttled line for 127.0.0.66"
hostile login 127.0.0.1 "$edge_port" victim victim-pw --source 127.0.0.66 \
  --want 403 >"$WORK/login1.out" 2>&1 ||
  fail "guess: the right password from the guessing address: $(cat "$WORK/login1.out")"
hostile login 127.0.0.1 "$edge_port" victim victim-pw --source 127.0.0.67 \
  >"$WORK/login2.out" 2>&1 ||
  fail "guess: the right password from another address: $(cat "$WORK/login2.out")"
honest_check "password guessing"
note "password guessing: throttled to $judged judged in $guess_secs s; the right password works from another address"

edge_stop edge
