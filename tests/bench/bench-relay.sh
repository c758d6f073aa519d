#!/bin/bash
# The relay benchmark of issue 3 (prints figures; not a test).  On this
# machine, in one run, with real processes on loopback:
#
#   1. chat: msrpcat --bench-chat through msrp-edge and through Kamailio's
#      msrp relay for the same load: messages per second and p50/p99
#      latency (SEND -> 200 at the sender, send -> delivery at the
#      receiver), at a fixed rate and flat out (a window of 32);
#   2. a large file (BENCH_FILE_MB, default 1024 MiB, in 1 MB chunks, read
#      from a file made once, Success REPORT awaited): direct msrpcat ->
#      msrpcat, through tcp-forward (a plain TCP forwarder: the ceiling),
#      and through msrp-edge, with msrp-edge's peak RSS;
#   3. memory: msrp-edge's RSS before and after 10,000 idle connections,
#      and, on a fresh daemon, before and after 10,000 AUTHed sessions held
#      idle (tests/bench/auth-hold), divided by the count.
#
# Usage: tests/bench/bench-relay.sh [BUILD-DIR]     (default: build)
# Environment: BENCH_CHAT_N (20000), BENCH_CHAT_RATE (2000),
#   BENCH_FILE_MB (1024), BENCH_SESSIONS (10000), BENCH_REPEAT (3: the
#   flat-out chat and the file runs are repeated, the median is shown with
#   the range).  Needs kamailio.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${1:-build}" && pwd)
export MSRP_EDGE="$build/gateway/daemon/msrp-edge"
export MSRPCAT="$build/gateway/msrpcat/msrpcat"
tcp_forward="$build/tests/tcp-forward"
auth_hold="$build/tests/auth-hold"
for f in "$MSRP_EDGE" "$MSRPCAT" "$tcp_forward" "$auth_hold"; do
  [ -x "$f" ] || { echo "bench-relay: $f is not built (ninja -C $build)"; exit 2; }
done
. tests/integration/lib.sh

chat_n=${BENCH_CHAT_N:-20000}
chat_rate=${BENCH_CHAT_RATE:-2000}
file_mb=${BENCH_FILE_MB:-1024}
sessions=${BENCH_SESSIONS:-10000}
repeat=${BENCH_REPEAT:-3}
ulimit -n $((sessions * 2 + 1024)) 2>/dev/null ||
  ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((sessions + 100)) ] ||
  fail "RLIMIT_NOFILE $(ulimit -n) is too low for $sessions connections"

realm=bench.test
users_file "$WORK/users" "$realm" alice:alice-pw:sha256 bob:bob-pw:sha256 \
  hold:hold-pw:sha256
edge_conf="[auth]\nrealm=$realm\nusers-file=$WORK/users\n[relay]\nprobation=3600\nmax-sessions-per-user=$((sessions + 100))\n[limits]\nmax-connections=$((sessions + 100))\nmax-connections-per-ip=$((sessions + 100))\nidle-timeout=3600"

rss_kb () { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kb () { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
chat_rows=()
file_rows=()
mem_rows=()
cells () {   # the arguments as one Markdown table row; tabs split cells too
  local out="|" a
  for a in "$@"; do out+=" ${a//$'\t'/ | } |"; done
  echo "$out"
}

echo "bench-relay: $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r)"

# --- 1. chat through msrp-edge and through Kamailio ---------------------------
edge_start edge "$edge_conf"
kam_start kam "$realm" kam-pw

# chat NAME RELAY-URI BOB-PW ALICE-PW LOAD-ARGS...: one receiver, one sender;
# writes "msgs/s<TAB>send->200 p50/p99<TAB>delivery p50/p99" (ms) to
# $WORK/NAME.res.
chat () {
  local name="$1" relay="$2" bob_pw="$3" alice_pw="$4" path n; shift 4
  n=${CHAT_COUNT:-$chat_n}
  mc_start "r_$name" --relay "$relay" -u bob -P "$bob_pw" --receive \
    --print-use-path --expect "$n" --json -T 120
  path=$(mc_path "r_$name")
  mc_run "s_$name" --relay "$relay" -u alice -P "$alice_pw" --to-path "$path" \
    --bench-chat "$n" "$@" --json -T 120
  [ "$rc" -eq 0 ] || fail "chat sender $name: exit $rc"
  mc_wait "r_$name" 120
  [ "$rc" -eq 0 ] || fail "chat receiver $name: exit $rc"
  python3 - "$WORK/s_$name.out" "$WORK/r_$name.out" >"$WORK/$name.res" <<'EOF'
import json, sys
s = json.loads(open(sys.argv[1]).read().splitlines()[-1])["sent"]
r = json.loads(open(sys.argv[2]).read().splitlines()[-1])["received"]
ls, lr = s["latency_us"], r["latency_us"]
print("%.0f\t%.2f / %.2f\t%.2f / %.2f" % (r["messages_per_s"],
      ls["p50"] / 1000, ls["p99"] / 1000, lr["p50"] / 1000, lr["p99"] / 1000))
EOF
}
# median FILE...: the line with the median first field (msgs/s or MB/s)
# among the files, then " (range MIN-MAX)" when there are several.
median () {
  python3 - "$@" <<'EOF'
import sys
rows = sorted((float(open(f).read().split("\t")[0]), open(f).read().strip())
              for f in sys.argv[1:])
line = rows[len(rows) // 2][1]
if len(rows) > 1:
    first, rest = line.split("\t", 1) if "\t" in line else (line, "")
    line = "%s (%.0f-%.0f)" % (first, rows[0][0], rows[-1][0]) + \
        ("\t" + rest if rest else "")
print(line)
EOF
}
for load in rate window; do
  case $load in
    rate) args=(--rate "$chat_rate"); label="$chat_n msgs at $chat_rate/s"; runs=1 ;;
    window) args=(--window 32); label="$chat_n msgs, window 32"; runs=$repeat ;;
  esac
  for r in $(seq "$runs"); do   # interleaved, so that noise hits both alike
    chat "edge_${load}_$r" "$edge_uri" bob-pw alice-pw "${args[@]}"
    chat "kam_${load}_$r" "$kam_uri" kam-pw kam-pw "${args[@]}"
  done
  for relay in edge kam; do
    case $relay in edge) who=msrp-edge ;; kam) who="Kamailio msrp" ;; esac
    out=$(median "$WORK/${relay}_${load}"_*.res)
    chat_rows+=("$(cells "$who" "$label" "$out")")
    echo "chat through $who ($label): $out"
  done
done
kam_stop kam

# --- 2. a large file: direct, tcp-forward, msrp-edge ----------------------------
size=$((file_mb * 1024 * 1024))
head -c "$size" /dev/urandom >"$WORK/big.bin"
# file_run NAME RECEIVER-ARGS -- SENDER-ARGS: MB/s from the sender's start
# to the Success REPORT (every byte at the far end), checked with cmp.
file_run () {
  local name="$1" rargs=() sargs=() mbps; shift
  while [ "$1" != -- ]; do rargs+=("$1"); shift; done
  shift
  sargs=("$@")
  rm -rf "$WORK/out"
  mc_start "fr_$name" "${rargs[@]}" --receive --expect 1 -o "$WORK/out" -T 120
  wait_until 10 grep -q "listening on" "$WORK/fr_$name.err" ||
    fail "file receiver $name is not listening"
  "${sargs[@]}"
  mc_wait "fr_$name" 60
  [ "$rc" -eq 0 ] || fail "file receiver $name: exit $rc"
  cmp -s "$WORK/big.bin" "$WORK"/out/* || fail "file $name differs"
  rm -rf "$WORK/out"
}
send_file () {   # NAME ARGS...
  local name="$1"; shift
  mc_run "fs_$name" "$@" -f "$WORK/big.bin" -c 1M --success-report yes --json -T 120
  [ "$rc" -eq 0 ] || fail "file sender $name: exit $rc"
}
mbps_of () {
  json_last "$WORK/fs_$1.out" '"%.0f" % (d["sent"]["bytes"] / d["elapsed_s"] / 1e6)'
}

# The three paths in turn, $repeat times (interleaved, so that noise from
# the rest of the machine hits them alike); the median is reported.
port=$(free_port)
fwd_port=$(free_port)
fwd_target=$(free_port)
"$tcp_forward" "127.0.0.1:$fwd_port" "127.0.0.1:$fwd_target" >"$WORK/fwd.out" 2>"$WORK/fwd.err" &
fwd_pid=$!
track "$fwd_pid"
wait_until 10 test -s "$WORK/fwd.out" || fail "tcp-forward did not start"
hwm0=$(hwm_kb "$edge_pid")
for r in $(seq "$repeat"); do
  file_run "direct_$r" --listen "127.0.0.1:$port" \
    --local-uri "msrp://127.0.0.1:$port/bench0001;tcp" -- \
    send_file "direct_$r" --to-path "msrp://127.0.0.1:$port/bench0001;tcp"
  # through the plain TCP forwarder: the receiver's URI names the forwarder
  file_run "fwd_$r" --listen "127.0.0.1:$fwd_target" \
    --local-uri "msrp://127.0.0.1:$fwd_port/bench0002;tcp" -- \
    send_file "fwd_$r" --to-path "msrp://127.0.0.1:$fwd_port/bench0002;tcp"
  # through msrp-edge (both clients AUTH; the receiver connects to the relay)
  mc_start "fr_edge_$r" --relay "$edge_uri" -u bob -P bob-pw --receive \
    --print-use-path --expect 1 -o "$WORK/out" -T 120
  path=$(mc_path "fr_edge_$r")
  send_file "edge_$r" --relay "$edge_uri" -u alice -P alice-pw --to-path "$path"
  mc_wait "fr_edge_$r" 60
  [ "$rc" -eq 0 ] || fail "file receiver through msrp-edge: exit $rc"
  cmp -s "$WORK/big.bin" "$WORK"/out/* || fail "file through msrp-edge differs"
  rm -rf "$WORK/out"
  for n in direct fwd edge; do
    mbps_of "${n}_$r" >"$WORK/file_${n}_$r.res"
    echo "file $n run $r: $(cat "$WORK/file_${n}_$r.res") MB/s"
  done
done
kill -TERM "$fwd_pid"; wait "$fwd_pid" 2>/dev/null || true; untrack "$fwd_pid"
file_rows+=("$(cells "direct msrpcat -> msrpcat" "$(median "$WORK"/file_direct_*.res)" "")")
file_rows+=("$(cells "through tcp-forward (the ceiling)" "$(median "$WORK"/file_fwd_*.res)" "")")
file_rows+=("$(cells "through msrp-edge" "$(median "$WORK"/file_edge_*.res)" \
  "msrp-edge peak RSS $((hwm0 / 1024)) MiB before, $(( $(hwm_kb "$edge_pid") / 1024)) MiB after")")
rm -f "$WORK/big.bin"
edge_stop edge

# --- 3. memory per idle connection and per idle relayed session -----------------
# mem NAME [USER PASSWORD]: a fresh msrp-edge, RSS before and after
# $sessions connections (AUTHed with a user) held idle; writes "before
# after per-each" (KiB) to $WORK/NAME.res.
mem () {
  local name="$1" before after hold_pid; shift
  edge_start "$name" "$edge_conf"
  local pid port
  eval "pid=\$${name}_pid port=\$${name}_port"
  if [ "$name" = memsess ]; then
    # The same chat load as below, before the sessions are held.
    CHAT_COUNT=2000 chat base "$(eval echo "\$${name}_uri")" bob-pw alice-pw --rate 1000
  fi
  # A first connection and AUTH warm the allocator.
  "$auth_hold" 127.0.0.1 "$port" 1 hold hold-pw >"$WORK/warm.out" 2>&1 &
  hold_pid=$!
  wait_until 10 grep -q ready "$WORK/warm.out" || fail "auth-hold warm-up"
  kill -TERM "$hold_pid"; wait "$hold_pid" 2>/dev/null || true
  before=$(rss_kb "$pid")
  "$auth_hold" 127.0.0.1 "$port" "$sessions" "$@" >"$WORK/hold.out" 2>"$WORK/hold.err" &
  hold_pid=$!
  track "$hold_pid"
  wait_until 300 grep -q . "$WORK/hold.out" || fail "auth-hold did not finish"
  grep -q "^ready $sessions\$" "$WORK/hold.out" ||
    fail "auth-hold: $(cat "$WORK/hold.out" "$WORK/hold.err")"
  after=$(rss_kb "$pid")
  if [ "$name" = memsess ]; then
    # Chat while the sessions are held: every main-loop turn polls them all.
    CHAT_COUNT=2000 chat busy "$(eval echo "\$${name}_uri")" bob-pw alice-pw --rate 1000
  fi
  kill -TERM "$hold_pid"; wait "$hold_pid" 2>/dev/null || true; untrack "$hold_pid"
  edge_stop "$name"
  python3 -c 'import sys; b, a, n = map(int, sys.argv[1:]); print("%d\t%d\t%.2f" % (b, a, (a - b) / n))' \
    "$before" "$after" "$sessions" >"$WORK/$name.res"
}
mem memconn
out=$(cat "$WORK/memconn.res")
IFS=$'\t' read -r b a per <<<"$out"
mem_rows+=("$(cells "idle TCP connections" "$sessions" "$((b / 1024)) -> $((a / 1024)) MiB" "$per")")
echo "idle connections: $out"
mem memsess hold hold-pw
out=$(cat "$WORK/memsess.res")
IFS=$'\t' read -r b a per_s <<<"$out"
mem_rows+=("$(cells "idle relayed sessions (AUTHed connection + session)" "$sessions" "$((b / 1024)) -> $((a / 1024)) MiB" "$per_s")")
echo "idle sessions: $out"
mem_rows+=("$(cells "chat 2000 msgs at 1000/s, no session held" "-" "$(cat "$WORK/base.res")")")
mem_rows+=("$(cells "chat 2000 msgs at 1000/s, $sessions sessions held" "-" "$(cat "$WORK/busy.res")")")

echo
echo "Chat (msrpcat --bench-chat; latency in ms; msgs/s counted at the receiver):"
echo
echo "| relay | load | msgs/s | send -> 200 p50 / p99 | send -> delivery p50 / p99 |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${chat_rows[@]}"
echo
echo "Large file ($file_mb MiB in 1 MB chunks, from the first byte sent to the Success REPORT):"
echo
echo "| path | MB/s | note |"
echo "| --- | --- | --- |"
printf '%s\n' "${file_rows[@]}"
echo
echo "Memory (msrp-edge RSS, fresh daemon each):"
echo
echo "| held idle | count | RSS before -> after | KiB each |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${mem_rows[@]:0:2}"
echo
echo "Chat through msrp-edge with and without $sessions idle sessions held (msgs/s; send -> 200 p50 / p99; send -> delivery p50 / p99, ms):"
echo
echo "| load | | msgs/s | send -> 200 p50 / p99 | send -> delivery p50 / p99 |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${mem_rows[@]:2}"
