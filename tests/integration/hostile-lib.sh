# Shared by tests/integration/hostile-*.sh, sourced in place of lib.sh
# (which it sources): the honest pair of clients that relays beside every
# attack, the attack tool, and what is measured of the daemon.
#
#   $realm, $WORK/users            the suite's realm and users file:
#                                  alice and bob (the honest pair), carol
#                                  and dave (a second pair), mallory (an
#                                  attacker with an account), victim (whose
#                                  password is guessed), sink; the password
#                                  of USER is USER-pw
#   hostile ARGS...                tests/integration/hostile.py (one JSON
#                                  line of figures on stdout)
#   hostile_bg ARGS...             the same in the background, tracked
#                                  (killed on exit); its pid in $hostile_pid
#   hostile_edge NAME [LINES]      edge_start NAME with the realm and users
#                                  file, and LINES ("[limits]\n...")
#   honest_start EDGE [N] [RATE]   bob receives through the relay EDGE (a
#                                  name given to edge_start), alice sends
#                                  him N timestamped chat messages (default
#                                  300) at RATE a second (default 100)
#   honest_check CASE [P99-MS]     wait for the pair: every message arrived,
#                                  every SEND got a 200, neither client
#                                  failed; print the pair's p99 latencies
#                                  (send to 200, send to delivery) on a
#                                  "figures:" line, and fail when the send
#                                  to 200 p99 exceeds P99-MS (default 250,
#                                  times 4 under ASan, times IT_SLOW)
#   cpu_ticks PID, rss_kb PID      from /proc
#   is_asan                        MSRP_EDGE is built with AddressSanitizer
#
# Every attack addresses 127.0.0.0/8 only and is bounded in count and time.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

hostile () {
  python3 "$IT_SRC/hostile.py" "$@"
}

# Python itself is put in the background, not a subshell running the
# function: $! must be the process to kill.
hostile_bg () {
  python3 "$IT_SRC/hostile.py" "$@" &
  hostile_pid=$!
  track "$hostile_pid"
}

realm=hostile.test
users_file "$WORK/users" "$realm" alice:alice-pw:md5 bob:bob-pw:md5 \
  carol:carol-pw:md5 dave:dave-pw:md5 mallory:mallory-pw:md5 \
  victim:victim-pw:md5 sink:sink-pw:md5

hostile_edge () {
  edge_start "$1" "[auth]\nrealm=$realm\nusers-file=$WORK/users\n${2:-}"
}

is_asan () {
  ldd "$MSRP_EDGE" 2>/dev/null | grep -q libasan
}

cpu_ticks () {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

rss_kb () {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

_honest_n=0
honest_start () {
  local edge="$1" uri path
  _honest_n=${2:-300}
  local rate=${3:-100}
  eval "uri=\${${edge}_uri}"
  mc_start hbob --relay "$uri" -u bob -P bob-pw --receive --print-use-path \
    --expect "$_honest_n" --json -T 60 -q
  path=$(mc_path hbob)
  mc_start halice --relay "$uri" -u alice -P alice-pw --to-path "$path" \
    --bench-chat "$_honest_n" --rate "$rate" --json -T 60 -q
}

honest_check () {
  local case="$1" bound=${2:-250} figures
  is_asan && bound=$((bound * 4))
  bound=$((bound * IT_SLOW))
  mc_wait halice $((30 + _honest_n / 20))
  [ "$rc" -eq 0 ] || fail "$case: the honest sender exited $rc: $(tail -3 "$WORK/halice.err")"
  mc_wait hbob 30
  [ "$rc" -eq 0 ] || fail "$case: the honest receiver exited $rc: $(tail -3 "$WORK/hbob.err")"
  figures=$(python3 - "$WORK/halice.out" "$WORK/hbob.out" "$_honest_n" "$bound" 2>&1 <<'EOF'
import json, sys
sys.excepthook = lambda t, e, tb: sys.exit("%s: %s" % (t.__name__, e))
sent = json.loads(open(sys.argv[1]).read().splitlines()[-1])["sent"]
got = json.loads(open(sys.argv[2]).read().splitlines()[-1])["received"]
n, bound = int(sys.argv[3]), int(sys.argv[4])
assert sent["messages"] == n, "sent %s messages, not %d" % (sent["messages"], n)
assert sent["responses"] == {"200": n}, "responses %s" % sent["responses"]
assert got["messages"] == n, "received %s messages, not %d" % (got["messages"], n)
p99 = sent["latency_us"]["p99"] / 1000
d99 = got["latency_us"]["p99"] / 1000
print("%d/%d messages, send->200 p99 %.2f ms, delivery p99 %.2f ms"
      % (got["messages"], n, p99, d99))
assert p99 <= bound, "send->200 p99 %.1f ms over %d ms" % (p99, bound)
EOF
) || fail "$case: the honest pair: $figures"
  echo "figures: $case: honest pair $figures"
}
