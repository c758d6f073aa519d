#!/bin/bash
# The scaling benchmark of issue 10 (prints figures; not a test, not in the
# test suite).  One run, real processes on loopback, msrp-edge side by side
# with Kamailio's msrp relay under the same load and the same idle sessions:
#
#   1. chat CPU: relay CPU time (utime+stime; Kamailio: summed over all its
#      processes) per relayed message and messages per second, for
#      BENCH_PAIRS concurrent chat pairs (msrpcat --bench-chat senders with
#      --window BENCH_WINDOW, msrpcat receivers, all AUTHed to the relay),
#      with BENCH_IDLE idle AUTHed sessions held on each relay
#      (tests/bench/auth-hold);
#   2. latency: send -> 200 and send -> delivery p50/p99 at a fixed
#      BENCH_LAT_RATE msgs/s in all, spread over BENCH_LAT_PAIRS pairs, with
#      no idle session and with the largest idle count held;
#   3. memory: RSS per idle connection and per idle AUTHed session (fresh
#      daemons; Kamailio: the sum over its processes, RSS and PSS);
#   4. a large file (BENCH_FILE_MB MiB, 1 MB chunks, Success REPORT, cmp):
#      direct, through tcp-forward (the ceiling), through a CEMA-anchored
#      stream (tests/integration/anchor-stub: gw-anchor's splice pump, the
#      receiver passive, the anchor connecting to it as to a passive CEMA
#      party), through msrp-edge over TCP and over msrps (TLS), with
#      msrp-edge's peak RSS;
#   5. the ng control plane: offers, answers and deletes per second from a
#      pipelining client (tests/bench/ng-bench.py, BENCH_NG_WINDOW in
#      flight).
#
# Usage: tests/bench/bench-scale.sh [BUILD-DIR]     (default: build)
# Environment (defaults are the full issue sizes):
#   BENCH_IDLE ("0 10000 19000")  idle AUTHed sessions held, in turn
#   BENCH_PAIRS ("4 64")          concurrent chat pairs
#   BENCH_CHAT_N (40000)          messages per chat run, over all its pairs
#   BENCH_WINDOW (16)             msrpcat --window of each chat sender
#   BENCH_CHAT_REPEAT (3)         chat runs per cell (median, range)
#   BENCH_LAT_RATE (5000)  BENCH_LAT_PAIRS (4)  BENCH_LAT_SECS (10)
#   BENCH_LAT_IDLE ("0 MAX")      idle levels (of BENCH_IDLE) with a latency run
#   BENCH_MEM_N (largest of BENCH_IDLE)   connections for the memory table
#   BENCH_FILE_MB (1024)  BENCH_REPEAT (3: file runs; median and range)
#   BENCH_NG_CALLS (20000)  BENCH_NG_WINDOW (64)  BENCH_NG_REPEAT (3)
#   BENCH_PARTS ("chat memory file ng")  the parts to run (chat includes
#                                 latency)
#   BENCH_EDGE_LOG_LEVEL (info: as shipped, one line per relayed message)
#   BENCH_KAM_SHM (512) MiB of Kamailio shared memory (-m)
# Smoke run: BENCH_IDLE="0 1000" BENCH_CHAT_N=2000 BENCH_LAT_SECS=2
#   BENCH_FILE_MB=100 BENCH_REPEAT=1 BENCH_NG_CALLS=2000 BENCH_NG_REPEAT=1
# Needs kamailio (packaging/setup.sh).  Every process it starts is stopped
# and its work directory removed on any exit (tests/integration/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$(pwd)
build=$(cd "${1:-build}" && pwd)
export MSRP_EDGE="$build/gateway/daemon/msrp-edge"
export MSRPCAT="$build/gateway/msrpcat/msrpcat"
tcp_forward="$build/tests/tcp-forward"
auth_hold="$build/tests/auth-hold"
export ANCHOR_STUB="$build/tests/anchor-stub"
for f in "$MSRP_EDGE" "$MSRPCAT" "$tcp_forward" "$auth_hold" "$ANCHOR_STUB"; do
  [ -x "$f" ] || { echo "bench-scale: $f is not built (ninja -C $build)"; exit 2; }
done
command -v kamailio >/dev/null || { echo "bench-scale: kamailio is not installed (packaging/setup.sh)"; exit 2; }
. tests/integration/lib.sh
. tests/integration/cema-lib.sh
# On any exit: a relay stopped for a chat's start line (below) is let go
# first, so that lib.sh's cleanup can stop it; lib.sh then stops every
# process started here (tracked by PID, Kamailio's children included) and
# removes $WORK.
stopped_pids=""
_bench_cleanup () {
  local status=$?
  set +e        # or `(exit STATUS)` below would end the shell here
  # shellcheck disable=SC2086
  [ -z "$stopped_pids" ] || kill -CONT $stopped_pids 2>/dev/null
  (exit "$status")
  _it_cleanup   # exits with $?, the status
}
trap _bench_cleanup EXIT

idle_levels=${BENCH_IDLE:-0 10000 19000}
pairs_list=${BENCH_PAIRS:-4 64}
chat_n=${BENCH_CHAT_N:-40000}
window=${BENCH_WINDOW:-16}
chat_repeat=${BENCH_CHAT_REPEAT:-3}
lat_rate=${BENCH_LAT_RATE:-5000}
lat_pairs=${BENCH_LAT_PAIRS:-4}
lat_secs=${BENCH_LAT_SECS:-10}
file_mb=${BENCH_FILE_MB:-1024}
repeat=${BENCH_REPEAT:-3}
ng_calls=${BENCH_NG_CALLS:-20000}
ng_window=${BENCH_NG_WINDOW:-64}
ng_repeat=${BENCH_NG_REPEAT:-3}
parts=" ${BENCH_PARTS:-chat memory file ng} "
edge_log_level=${BENCH_EDGE_LOG_LEVEL:-info}
kam_shm=${BENCH_KAM_SHM:-512}
max_idle_req=0
for l in $idle_levels; do [ "$l" -le "$max_idle_req" ] || max_idle_req=$l; done
lat_idle=${BENCH_LAT_IDLE:-0 $max_idle_req}
mem_n=${BENCH_MEM_N:-$max_idle_req}
max_pairs=0
for p in $pairs_list $lat_pairs; do [ "$p" -le "$max_pairs" ] || max_pairs=$p; done

# --- limits -----------------------------------------------------------------
# Every idle session is one descriptor in the relay (Kamailio: in its TCP
# main process) and one in an auth-hold process.  The soft limit goes up to
# the hard one for everything started from here; what a relay can hold is
# the hard limit less the chat connections and its own descriptors.
nofile_hard=$(ulimit -Hn)
[ "$nofile_hard" = unlimited ] && nofile_hard=1048576
ulimit -n "$nofile_hard"
fd_margin=200                               # listeners, logs, epoll, pipes
max_idle_ok=$((nofile_hard - 2 * max_pairs - fd_margin))
idle_bound=""
clamp () {   # LEVEL: the level, or the largest one the limit allows
  if [ "$1" -gt "$max_idle_ok" ]; then echo "$max_idle_ok"; else echo "$1"; fi
}
if [ "$max_idle_req" -gt "$max_idle_ok" ] || [ "$mem_n" -gt "$max_idle_ok" ]; then
  idle_bound="RLIMIT_NOFILE hard limit $nofile_hard per process: a relay holds each idle session plus 2 x $max_pairs chat connections and ~$fd_margin of its own descriptors, so at most $max_idle_ok idle"
  echo "bench-scale: $idle_bound"
fi
# A relay process's connection limits (msrp-edge) cover every idle session
# and the chat clients.
conn_limit=$((nofile_hard + 1000))
hold_chunk=10000      # connections per auth-hold process
recv_timeout=${BENCH_RECV_TIMEOUT:-60}   # a chat receiver gives up after this silence

realm=bench.test
users_file "$WORK/users" "$realm" alice:alice-pw:sha256 bob:bob-pw:sha256 \
  hold:hold-pw:sha256
# max-calls: the ng part holds every call of a run at once.
edge_conf="[auth]\nrealm=$realm\nusers-file=$WORK/users\n[relay]\nprobation=3600\nmax-sessions-per-user=$conn_limit\nexpires-default=86400\nexpires-max=86400\n[limits]\nmax-connections=$conn_limit\nmax-connections-per-ip=$conn_limit\nidle-timeout=7200\nmax-calls=$((ng_calls + 1000))\n[log]\nlevel=$edge_log_level"

clk_tck=$(getconf CLK_TCK)
# pids_of PID: PID and all its descendants (Kamailio's children), one a line.
pids_of () {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      keep[root] = 1; n = 1
      while (n) { n = 0
        for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; n = 1 } }
      for (p in keep) print p
    }'
}
# cpu_us PID: utime+stime (fields 14 and 15 of /proc/P/stat) of PID and its
# descendants, in microseconds.
cpu_us () {
  local p total=0 t
  for p in $(pids_of "$1"); do
    t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || continue
    total=$((total + ${t:-0}))
  done
  echo $((total * 1000000 / clk_tck))
}
# mem_kb PID: "RSS PSS" (KiB) summed over PID and its descendants.
mem_kb () {
  local p rss=0 pss=0 r s
  for p in $(pids_of "$1"); do
    r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
    s=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
    rss=$((rss + ${r:-0})); pss=$((pss + ${s:-0}))
  done
  echo "$rss $pss"
}
hwm_kb () { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
cells () {   # the arguments as one Markdown table row; tabs split cells too
  local out="|" a
  for a in "$@"; do out+=" ${a//$'\t'/ | } |"; done
  echo "$out"
}
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }
t_start=$(now_ms)

buildtype=$(meson introspect --buildoptions "$build" 2>/dev/null | python3 -c 'import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' 2>/dev/null || echo '?')
machine="$(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?'), kamailio $(kamailio -v 2>/dev/null | awk 'NR == 1 { print $3 }'), msrp-edge $buildtype build at $(git rev-parse --short HEAD 2>/dev/null || echo '?'), log level $edge_log_level, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "bench-scale: $machine"

# --- Kamailio for this benchmark --------------------------------------------
# The relay of tests/integration/kamailio-msrp.cfg.in with what tens of
# thousands of idle connections need: tcp_max_connections and
# open_files_limit up to the hard limit, connections kept while idle
# (tcp_connection_lifetime; the default 120 s would close the idle
# sessions), BENCH_KAM_SHM MiB of shared memory for the connections, and a
# connection map of 2^16 slots instead of 2^8 (so that 19,000 AUTHed
# sessions do not make its lookups walk chains of 70); AUTHed sessions, on
# both relays, last longer than a run (auth_max_expires, expires-default).
# Kamailio answers 200 to a SEND at once and queues what it forwards: with
# its default write queue of 32 KiB a connection (tcp_conn_wq_max) it drops
# messages it has acknowledged as soon as 4 senders with a window of 16 go
# flat out, so the queues are raised to 64 MiB a connection and 1 GiB in
# all; msrp-edge holds a sender back instead (its queued bytes are
# bounded).
kam_bench_start () {   # NAME PASSWORD
  local name="$1" password="$2" port dir pid p
  dir="$WORK/$name.d"
  mkdir -p "$dir"
  for _ in 1 2 3; do
    port=$(free_port)
    sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" -e "s|@REALM@|$realm|g" \
        -e "s|@PASSWORD@|$password|g" \
        -e 's|"cmap_size", 8)|"cmap_size", 16)\nmodparam("msrp", "auth_max_expires", 86400)|' \
        -e "/^children=/a tcp_max_connections=$nofile_hard\\
open_files_limit=$nofile_hard\\
tcp_connection_lifetime=7200\\
tcp_conn_wq_max=$((64 << 20))\\
tcp_wq_max=$((1 << 30))" \
        "$src/tests/integration/kamailio-msrp.cfg.in" >"$dir/kamailio.cfg"
    kamailio -f "$dir/kamailio.cfg" -DD -E -m "$kam_shm" -w "$dir" -Y "$dir" \
      -P "$dir/kamailio.pid" >"$WORK/$name.log" 2>&1 &
    pid=$!
    track "$pid"
    if wait_until 20 _listening "$port" "$pid"; then
      eval "${name}_pid=$pid ${name}_port=$port"
      eval "${name}_uri='msrp://127.0.0.1:$port;tcp'"
      sleep 0.5   # its children finish starting
      for p in $(pids_of "$pid"); do [ "$p" = "$pid" ] || track "$p"; done
      return 0
    fi
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    untrack "$pid"
  done
  fail "kamailio $name did not start"
}

# kam_bench_stop NAME: SIGTERM to the main process (it stops its children),
# then any child left is killed by its PID.
kam_bench_stop () {
  local name="$1" pid kids p
  eval "pid=\${${name}_pid}"
  kids=$(pids_of "$pid" | grep -vx "$pid" || true)
  kill -TERM "$pid" 2>/dev/null || fail "kamailio $name is not running"
  wait_until 30 _gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  untrack "$pid"
  for p in $kids; do
    wait_until 5 _gone "$p" || kill -KILL "$p" 2>/dev/null || true
    untrack "$p"
  done
}

# --- idle sessions ------------------------------------------------------------
# hold_to RELAY PORT USER PASSWORD LEVEL: add auth-hold processes (at most
# $hold_chunk connections each) until RELAY holds LEVEL AUTHed sessions
# (USER empty: bare connections, no AUTH).  Sets RELAY_held to what was
# reached; on a failure, RELAY_hold_error to why, and keeps what was held.
hold_n=0
hold_to () {
  local relay="$1" port="$2" user="$3" pw="$4" level="$5" held add pid out
  eval "held=\${${relay}_held:-0}"
  eval "${relay}_hold_error=\${${relay}_hold_error:-}"
  while [ "$held" -lt "$level" ]; do
    add=$((level - held))
    [ "$add" -le "$hold_chunk" ] || add=$hold_chunk
    hold_n=$((hold_n + 1))
    out="$WORK/hold$hold_n"
    if [ -n "$user" ]; then
      "$auth_hold" 127.0.0.1 "$port" "$add" "$user" "$pw" >"$out.out" 2>"$out.err" &
    else
      "$auth_hold" 127.0.0.1 "$port" "$add" >"$out.out" 2>"$out.err" &
    fi
    pid=$!
    track "$pid"
    eval "${relay}_hold_pids+=\" $pid\""
    wait_until 900 grep -q . "$out.out" || fail "auth-hold on $relay: no answer after 900 s"
    if ! grep -q "^ready $add\$" "$out.out"; then
      eval "${relay}_hold_error='$(cat "$out.out") at $held + $add: $(tail -1 "$out.err" | tr -d "'")'"
      wait "$pid" 2>/dev/null || true
      untrack "$pid"
      echo "bench-scale: auth-hold on $relay stopped: $(cat "$out.out") of $add more after $held: $(tail -1 "$out.err")"
      break
    fi
    held=$((held + add))
  done
  eval "${relay}_held=$held"
}
# hold_release RELAY: stop RELAY's auth-hold processes (they close their
# connections).
hold_release () {
  local relay="$1" pids p
  eval "pids=\${${relay}_hold_pids:-}"
  for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; untrack "$p"; done
  eval "${relay}_hold_pids='' ${relay}_held=0 ${relay}_hold_error=''"
}

# --- chat ---------------------------------------------------------------------
# established_to PORT: how many client-side connections to 127.0.0.1:PORT
# are established.
established_to () {
  ss -Htn state established "( dport = :$1 )" | wc -l
}
_all_connected () { [ "$(established_to "$1")" -ge "$2" ]; }

# chat NAME RELAY-PID RELAY-URI BOB-PW ALICE-PW PAIRS PER-PAIR SENDER-ARGS...:
# PAIRS receivers AUTH to the relay and print their paths; PAIRS senders
# are started, and connect, while the relay is stopped (see the start line
# below); with the relay's CPU time read, it is let go: the run starts.  The
# senders AUTH and each sends PER-PAIR messages to its receiver; the run
# ends when the last receiver has all its messages, and the relay's CPU
# time is read again.  Writes to $WORK/NAME.res, tab-separated:
#   messages delivered; messages lost (sent, answered 200 by the relay,
#   never delivered: the receiver gave up after $recv_timeout s of silence);
#   wall s (the run: the senders' AUTH included); msgs/s (delivered / wall);
#   relay CPU us/msg (utime+stime of the relay's processes over the run /
#   messages delivered); relay CPU % of one core over the run;
#   send->200 p50 / p99; send->delivery p50 / p99 (ms; p50: the median of
#   the pairs' p50, p99: the largest of the pairs' p99).
chat () {
  local name="$1" rpid="$2" relay="$3" bob_pw="$4" alice_pw="$5" pairs="$6" n="$7"
  local i path cpu0 cpu1 t0 t1 pid rc_s=0 rc_r=0 rpids=() spids=()
  shift 7
  for i in $(seq "$pairs"); do
    mc_start "r_${name}_$i" --relay "$relay" -u bob -P "$bob_pw" --receive \
      --print-use-path --expect "$n" --json -T "$recv_timeout" -q
    eval "rpids+=(\$r_${name}_${i}_pid)"
  done
  for i in $(seq "$pairs"); do
    path=$(mc_path "r_${name}_$i")
    printf '%s\n' "$path" >"$WORK/r_${name}_$i.path"
  done
  # A start line for the senders: the relay is stopped (SIGSTOP, every
  # process of it) while they start and connect (the kernel completes the
  # connections into the listen backlog), and let go when all are
  # connected: they AUTH and start sending together, instead of over the
  # second or two that starting 64 processes takes.
  port=${relay##*:}; port=${port%%;*}
  base=$(established_to "$port")
  relay_pids=$(pids_of "$rpid")
  stopped_pids=$relay_pids
  # shellcheck disable=SC2086
  kill -STOP $relay_pids
  for i in $(seq "$pairs"); do
    mc_start "s_${name}_$i" --relay "$relay" -u alice -P "$alice_pw" \
      --to-path "$(cat "$WORK/r_${name}_$i.path")" --bench-chat "$n" "$@" \
      --json -T 600 -q
    eval "spids+=(\$s_${name}_${i}_pid)"
  done
  wait_until 60 _all_connected "$port" $((base + pairs)) ||
    fail "chat $name: the senders did not connect"
  cpu0=$(cpu_us "$rpid")
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  kill -CONT $relay_pids
  stopped_pids=""
  # wait(1) returns as each ends: the end time is exact, not polled.  A
  # receiver that times out (exit 4) has lost messages: counted, not fatal.
  for pid in "${spids[@]}"; do
    rc=0
    wait "$pid" || rc=$?
    untrack "$pid"
    [ "$rc" -eq 0 ] || rc_s=$rc
  done
  for pid in "${rpids[@]}"; do
    rc=0
    wait "$pid" || rc=$?
    untrack "$pid"
    [ "$rc" -eq 0 ] || [ "$rc" -eq 4 ] || rc_r=$rc
  done
  t1=$(date +%s%N)
  cpu1=$(cpu_us "$rpid")
  [ "$rc_s" -eq 0 ] || fail "chat $name: a sender exited with status $rc_s"
  [ "$rc_r" -eq 0 ] || fail "chat $name: a receiver exited with status $rc_r"
  python3 - "$WORK" "$name" "$pairs" "$cpu0" "$cpu1" "$t0" "$t1" "$n" >"$WORK/$name.res" <<'EOF'
import json, statistics, sys
work, name, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3])
lost = pairs * int(sys.argv[8])
cpu = int(sys.argv[5]) - int(sys.argv[4])
wall = (int(sys.argv[7]) - int(sys.argv[6])) / 1e9
msgs, s50, s99, r50, r99 = 0, [], [], [], []
for i in range(1, pairs + 1):
    s = json.loads(open("%s/s_%s_%d.out" % (work, name, i)).read().splitlines()[-1])
    r = json.loads(open("%s/r_%s_%d.out" % (work, name, i)).read().splitlines()[-1])
    r = r["received"]
    msgs += r["messages"]
    lost -= r["messages"]
    s50.append(s["sent"]["latency_us"]["p50"]); s99.append(s["sent"]["latency_us"]["p99"])
    r50.append(r["latency_us"]["p50"]); r99.append(r["latency_us"]["p99"])
print("%d\t%d\t%.1f\t%.0f\t%.1f\t%.0f\t%.2f / %.2f\t%.2f / %.2f" % (
    msgs, lost, wall, msgs / wall, cpu / msgs, 100.0 * cpu / 1e6 / wall,
    statistics.median(s50) / 1e3, max(s99) / 1e3,
    statistics.median(r50) / 1e3, max(r99) / 1e3))
EOF
}
# median FILE...: the line with the median value of column COL (env, default
# 4: msgs/s) among the files, with " (MIN-MAX)" after that value when there
# are several.
median () {
  python3 - "${COL:-4}" "$@" <<'EOF'
import sys
col = int(sys.argv[1]) - 1
rows = sorted((float(open(f).read().split("\t")[col]), open(f).read().strip())
              for f in sys.argv[2:])
fields = rows[len(rows) // 2][1].split("\t")
if len(rows) > 1:
    fields[col] += " (%g-%g)" % (rows[0][0], rows[-1][0])
print("\t".join(fields))
EOF
}

chat_rows=()
lat_rows=()
mem_rows=()
file_rows=()
ng_rows=()
notes=()

if [[ "$parts" == *" chat "* ]]; then
  edge_start edge "$edge_conf"
  kam_bench_start kam kam-pw
  kam_nprocs=$(pids_of "$kam_pid" | wc -l)
  echo "bench-scale: chat: msrp-edge pid $edge_pid, Kamailio pids $(pids_of "$kam_pid" | sort -n | tr '\n' ' ')"
  for level in $idle_levels; do
    want=$(clamp "$level")
    t=$(now_ms)
    hold_to edge "$edge_port" hold hold-pw "$want"
    t_e=$(( $(now_ms) - t )); t=$(now_ms)
    hold_to kam "$kam_port" hold kam-pw "$want"
    t_k=$(( $(now_ms) - t ))
    echo "bench-scale: idle AUTHed sessions held: msrp-edge $edge_held (in $((t_e / 1000)) s), Kamailio $kam_held (in $((t_k / 1000)) s)"
    for relay in edge kam; do
      eval "held=\$${relay}_held err=\$${relay}_hold_error"
      label=$held
      [ "$held" = "$level" ] || label="$held (of $level: ${err:-$idle_bound})"
      eval "${relay}_label=\$label"
    done
    for pairs in $pairs_list; do
      per=$((chat_n / pairs))
      for r in $(seq "$chat_repeat"); do   # interleaved: noise hits both alike
        chat "e_${level}_${pairs}_$r" "$edge_pid" "$edge_uri" bob-pw alice-pw \
          "$pairs" "$per" --window "$window"
        echo "chat msrp-edge idle $edge_held pairs $pairs run $r: $(cat "$WORK/e_${level}_${pairs}_$r.res")"
        chat "k_${level}_${pairs}_$r" "$kam_pid" "$kam_uri" kam-pw kam-pw \
          "$pairs" "$per" --window "$window"
        echo "chat Kamailio  idle $kam_held pairs $pairs run $r: $(cat "$WORK/k_${level}_${pairs}_$r.res")"
      done
      chat_rows+=("$(cells "msrp-edge" "$edge_label" "$pairs" "$(median "$WORK/e_${level}_${pairs}"_*.res)")")
      chat_rows+=("$(cells "Kamailio msrp" "$kam_label" "$pairs" "$(median "$WORK/k_${level}_${pairs}"_*.res)")")
    done
    if [[ " $lat_idle " == *" $level "* ]]; then
      rate_pp=$(python3 -c "print('%g' % ($lat_rate / $lat_pairs))")
      per=$(python3 -c "print(int($lat_rate / $lat_pairs * $lat_secs))")
      chat "le_$level" "$edge_pid" "$edge_uri" bob-pw alice-pw "$lat_pairs" "$per" --rate "$rate_pp"
      echo "latency msrp-edge idle $edge_held: $(cat "$WORK/le_$level.res")"
      chat "lk_$level" "$kam_pid" "$kam_uri" kam-pw kam-pw "$lat_pairs" "$per" --rate "$rate_pp"
      echo "latency Kamailio  idle $kam_held: $(cat "$WORK/lk_$level.res")"
      lat_rows+=("$(cells "msrp-edge" "$edge_label" "$(cat "$WORK/le_$level.res")")")
      lat_rows+=("$(cells "Kamailio msrp" "$kam_label" "$(cat "$WORK/lk_$level.res")")")
    fi
  done
  hold_release edge
  hold_release kam
  kam_bench_stop kam
  edge_stop edge
fi

# --- 3. memory per idle connection and per idle AUTHed session ------------------
# mem RELAY-KIND NAME USER: a fresh relay, a first AUTH to warm the allocator,
# memory before, $mem_n connections (AUTHed when USER is given) held, memory
# after.  Writes "held<TAB>RSS before<TAB>after<TAB>PSS before<TAB>after" (KiB).
mem () {
  local kind="$1" name="$2" user="$3" pid port pw b a
  if [ "$kind" = edge ]; then
    edge_start "$name" "$edge_conf"; pw=hold-pw
  else
    kam_bench_start "$name" kam-pw; pw=kam-pw
  fi
  eval "pid=\$${name}_pid port=\$${name}_port"
  hold_to "$name" "$port" hold "$pw" 1
  hold_release "$name"
  sleep 1
  b=$(mem_kb "$pid")
  hold_to "$name" "$port" "$user" "$pw" "$(clamp "$mem_n")"
  sleep 2
  a=$(mem_kb "$pid")
  eval "held=\$${name}_held err=\$${name}_hold_error"
  [ -z "$err" ] || notes+=("memory $name: auth-hold stopped at $held: $err")
  hold_release "$name"
  if [ "$kind" = edge ]; then edge_stop "$name"; else kam_bench_stop "$name"; fi
  read -r rb pb <<<"$b"
  read -r ra pa <<<"$a"
  printf '%s\t%s\t%s\t%s\t%s\n' "$held" "$rb" "$ra" "$pb" "$pa" >"$WORK/$name.mem"
}
mem_row () {   # LABEL FILE PSS?
  local held rb ra pb pa label
  IFS=$'\t' read -r held rb ra pb pa <"$2"
  label=$held
  [ "$held" = "$mem_n" ] || label="$held (of $mem_n: ${idle_bound:-see notes})"
  if [ "${3:-}" = pss ]; then
    mem_rows+=("$(cells "$1" "$label" "$((rb / 1024)) -> $((ra / 1024)) MiB" \
      "$(python3 -c "print('%.2f' % (($ra - $rb) / $held))")" \
      "$((pb / 1024)) -> $((pa / 1024)) MiB" \
      "$(python3 -c "print('%.2f' % (($pa - $pb) / $held))")")")
  else
    mem_rows+=("$(cells "$1" "$label" "$((rb / 1024)) -> $((ra / 1024)) MiB" \
      "$(python3 -c "print('%.2f' % (($ra - $rb) / $held))")" "(one process: = RSS)" "")")
  fi
}
if [[ "$parts" == *" memory "* ]]; then
  mem edge memconn ""
  echo "memory msrp-edge, idle connections: $(cat "$WORK/memconn.mem")"
  mem edge memsess hold
  echo "memory msrp-edge, idle AUTHed sessions: $(cat "$WORK/memsess.mem")"
  mem kam kmemconn ""
  echo "memory Kamailio, idle connections: $(cat "$WORK/kmemconn.mem")"
  mem kam kmemsess hold
  echo "memory Kamailio, idle AUTHed sessions: $(cat "$WORK/kmemsess.mem")"
  mem_row "msrp-edge: idle TCP connections (no request)" "$WORK/memconn.mem"
  mem_row "msrp-edge: idle AUTHed sessions (connection + session)" "$WORK/memsess.mem"
  mem_row "Kamailio msrp (all processes): idle TCP connections" "$WORK/kmemconn.mem" pss
  mem_row "Kamailio msrp (all processes): idle AUTHed sessions" "$WORK/kmemsess.mem" pss
fi

# --- 4. a large file -------------------------------------------------------------
if [[ "$parts" == *" file "* ]]; then
  pki="$WORK/pki"
  mkdir -p "$pki"
  sh tests/data/gen-test-certs.sh "$pki" || fail "gen-test-certs.sh failed"
  edge_start fedge "$edge_conf"
  edge_start tedge --tls "$edge_conf\n[tls]\ncertificate=$pki/server.pem\nprivate-key=$pki/server.key\nca-file=$pki/ca.pem\nverify-relays=false"
  size=$((file_mb * 1024 * 1024))
  head -c "$size" /dev/urandom >"$WORK/big.bin"
  send_file () {   # NAME ARGS...
    local name="$1"; shift
    mc_run "fs_$name" "$@" -f "$WORK/big.bin" -c 1M --success-report yes --json -T 120 -q
    [ "$rc" -eq 0 ] || fail "file sender $name: exit $rc"
    json_last "$WORK/fs_$name.out" '"%.0f" % (d["sent"]["bytes"] / d["elapsed_s"] / 1e6)' \
      >"$WORK/file_$name.res"
  }
  check_out () {   # NAME
    cmp -s "$WORK/big.bin" "$WORK"/out/* || fail "file $1 differs"
    rm -rf "$WORK/out"
  }
  recv_wait () {   # NAME
    mc_wait "fr_$1" 120
    [ "$rc" -eq 0 ] || fail "file receiver $1: exit $rc"
    check_out "$1"
  }
  port=$(free_port)
  fwd_port=$(free_port)
  fwd_target=$(free_port)
  "$tcp_forward" "127.0.0.1:$fwd_port" "127.0.0.1:$fwd_target" >"$WORK/fwd.out" 2>"$WORK/fwd.err" &
  fwd_pid=$!
  track "$fwd_pid"
  wait_until 10 test -s "$WORK/fwd.out" || fail "tcp-forward did not start"
  f_hwm0=$(hwm_kb "$fedge_pid")
  t_hwm0=$(hwm_kb "$tedge_pid")
  anc_target=$(free_port)
  for r in $(seq "$repeat"); do   # the five paths interleaved
    mc_start "fr_direct_$r" --listen "127.0.0.1:$port" \
      --local-uri "msrp://127.0.0.1:$port/bench0001;tcp" --receive --expect 1 \
      -o "$WORK/out" -T 120
    wait_until 10 _listening "$port" "$(eval echo "\$fr_direct_${r}_pid")" ||
      fail "file receiver direct is not listening"
    send_file "direct_$r" --to-path "msrp://127.0.0.1:$port/bench0001;tcp"
    recv_wait "direct_$r"
    mc_start "fr_fwd_$r" --listen "127.0.0.1:$fwd_target" \
      --local-uri "msrp://127.0.0.1:$fwd_port/bench0002;tcp" --receive --expect 1 \
      -o "$WORK/out" -T 120
    wait_until 10 _listening "$fwd_target" "$(eval echo "\$fr_fwd_${r}_pid")" ||
      fail "file receiver behind tcp-forward is not listening"
    c0=$(cpu_us "$fwd_pid")
    send_file "fwd_$r" --to-path "msrp://127.0.0.1:$fwd_port/bench0002;tcp"
    recv_wait "fwd_$r"
    echo $(( ($(cpu_us "$fwd_pid") - c0) * 1024 / file_mb / 1000 )) >"$WORK/cpu_fwd_$r.res"
    # The CEMA anchor: the same two msrpcat roles as through tcp-forward,
    # the sender's first SEND checked by session-id, then splice(2).
    stub_start "anc_$r" --address 127.0.0.1 --call-id "bench$r" \
      --offerer "in:127.0.0.1@msrp://127.0.0.1:9/benchsnd3;tcp" \
      --answerer "out:127.0.0.1:$anc_target@msrp://127.0.0.1:$anc_target/bench0003;tcp"
    eval "anc_port=\$anc_${r}_port"
    mc_start "fr_anchor_$r" --listen "127.0.0.1:$anc_target" \
      --local-uri "msrp://127.0.0.1:$anc_port/bench0003;tcp" --receive --expect 1 \
      -o "$WORK/out" -T 120
    wait_until 10 _listening "$anc_target" "$(eval echo "\$fr_anchor_${r}_pid")" ||
      fail "file receiver behind the anchor is not listening"
    send_file "anchor_$r" --to-path "msrp://127.0.0.1:$anc_port/bench0003;tcp" \
      --local-uri "msrp://127.0.0.1:9/benchsnd3;tcp"
    recv_wait "anchor_$r"
    eval "anc_pid=\$anc_${r}_pid"
    echo $(( $(cpu_us "$anc_pid") * 1024 / file_mb / 1000 )) >"$WORK/cpu_anchor_$r.res"
    stub_stop "anc_$r"
    anc_bytes=$(json_last "$WORK/anc_$r.out" 'd["offerer_bytes"]')
    [ "$anc_bytes" -gt "$size" ] || fail "the anchor carried $anc_bytes bytes"
    mc_start "fr_edge_$r" --relay "$fedge_uri" -u bob -P bob-pw --receive \
      --print-use-path --expect 1 -o "$WORK/out" -T 120
    path=$(mc_path "fr_edge_$r")
    send_file "edge_$r" --relay "$fedge_uri" -u alice -P alice-pw --to-path "$path"
    recv_wait "edge_$r"
    mc_start "fr_tls_$r" --relay "$tedge_tls_uri" --ca-file "$pki/ca.pem" -u bob \
      -P bob-pw --receive --print-use-path --expect 1 -o "$WORK/out" -T 120
    path=$(mc_path "fr_tls_$r")
    send_file "tls_$r" --relay "$tedge_tls_uri" --ca-file "$pki/ca.pem" -u alice \
      -P alice-pw --to-path "$path"
    recv_wait "tls_$r"
    for n in direct fwd anchor edge tls; do
      echo "file $n run $r: $(cat "$WORK/file_${n}_$r.res") MB/s"
    done
  done
  kill -TERM "$fwd_pid"; wait "$fwd_pid" 2>/dev/null || true; untrack "$fwd_pid"
  file_rows+=("$(cells "direct msrpcat -> msrpcat" "$(COL=1 median "$WORK"/file_direct_*.res)" "")")
  file_rows+=("$(cells "through tcp-forward (the ceiling)" "$(COL=1 median "$WORK"/file_fwd_*.res)" \
    "forwarder CPU $(COL=1 median "$WORK"/cpu_fwd_*.res) ms per GiB")")
  anc=$(COL=1 median "$WORK"/file_anchor_*.res)
  fwd=$(COL=1 median "$WORK"/file_fwd_*.res)
  file_rows+=("$(cells "through a CEMA-anchored stream (splice)" "$anc" \
    "$(python3 -c "print('%.0f %% of tcp-forward (median against median)' % (100.0 * ${anc%% *} / ${fwd%% *}))"); anchor CPU $(COL=1 median "$WORK"/cpu_anchor_*.res) ms per GiB")")
  file_rows+=("$(cells "through msrp-edge, TCP" "$(COL=1 median "$WORK"/file_edge_*.res)" \
    "peak RSS $((f_hwm0 / 1024)) MiB before, $(( $(hwm_kb "$fedge_pid") / 1024)) MiB after")")
  file_rows+=("$(cells "through msrp-edge, msrps (TLS both legs)" "$(COL=1 median "$WORK"/file_tls_*.res)" \
    "peak RSS $((t_hwm0 / 1024)) MiB before, $(( $(hwm_kb "$tedge_pid") / 1024)) MiB after")")
  rm -f "$WORK/big.bin"
  edge_stop fedge
  edge_stop tedge
fi

# --- 5. the ng control plane ----------------------------------------------------
if [[ "$parts" == *" ng "* ]]; then
  edge_start ngedge --control "$edge_conf\n[negotiator]\npolicy=auto"
  for r in $(seq "$ng_repeat"); do
    rc=0
    python3 tests/bench/ng-bench.py --server "127.0.0.1:$ngedge_ctl_port" \
      --calls "$ng_calls" --window "$ng_window" --pid "$ngedge_pid" \
      --relay-uri "msrp://127.0.0.1:$ngedge_port/" --json >"$WORK/ng_$r.json" \
      2>"$WORK/ng_$r.err" || rc=$?
    [ -s "$WORK/ng_$r.json" ] || fail "ng-bench: exit $rc, no output"
    python3 - "$WORK/ng_$r.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["phases"]:
    print("ng %s: %d requests, %d ok, %d errors, %d lost, %d retransmitted, %.0f/s, "
          "p50 %.2f ms, p99 %.2f ms, msrp-edge CPU %.1f us each%s"
          % (p["phase"], p["requests"], p["ok"], p["errors"], p["lost"],
             p["retransmissions"], p["per_s"], p["latency_ms"]["p50"],
             p["latency_ms"]["p99"], p["server_cpu_us_per_request"],
             ", relayed %d" % p["relayed"] if "relayed" in p else ""))
EOF
  done
  ng_rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$ngedge_pid/status")
  edge_stop ngedge
  while IFS= read -r line; do ng_rows+=("$line"); done < <(python3 - "$WORK"/ng_*.json <<'EOF'
import json, statistics, sys
runs = [json.load(open(f)) for f in sys.argv[1:]]
for i, phase in enumerate(("offer", "answer", "delete")):
    ps = [r["phases"][i] for r in runs]
    rates = sorted(p["per_s"] for p in ps)
    rate = "%.0f" % statistics.median(rates)
    if len(rates) > 1:
        rate += " (%.0f-%.0f)" % (rates[0], rates[-1])
    med = sorted(ps, key=lambda p: p["per_s"])[len(ps) // 2]
    relayed = sum(p.get("relayed", 0) for p in ps) if phase != "delete" else None
    first = next((p["first_error"] for p in ps if p["first_error"]), "")
    print("| %s | %d | %s | %.2f / %.2f | %.0f | %d / %d / %d%s | %s |" % (
        phase, sum(p["requests"] for p in ps), rate,
        med["latency_ms"]["p50"], med["latency_ms"]["p99"],
        statistics.median(p["server_cpu_us_per_request"] for p in ps),
        sum(p["errors"] for p in ps), sum(p["lost"] for p in ps),
        sum(p["retransmissions"] for p in ps),
        ("" if not first else ": " + first),
        "-" if relayed is None else "%d of %d" % (relayed, sum(p["requests"] for p in ps))))
EOF
  )
fi

# --- the tables --------------------------------------------------------------------
elapsed=$(( ($(now_ms) - t_start) / 1000 ))
echo
echo "## bench-scale results"
echo
echo "Machine: $machine; the run took $((elapsed / 60)) min $((elapsed % 60)) s."
[ -z "$idle_bound" ] || { echo; echo "Bound: $idle_bound."; }
for n in "${notes[@]}"; do echo; echo "Note: $n"; done
if [ "${#chat_rows[@]}" -gt 0 ]; then
  echo
  echo "### 1. Relay CPU per message ($chat_n messages per run over all pairs, msrpcat --bench-chat --window $window per sender; median of $chat_repeat)"
  echo
  echo "| relay | idle AUTHed sessions | pairs | messages delivered | lost | wall s | msgs/s | relay CPU µs/msg | relay CPU % of a core | send → 200 p50 / p99 ms | send → delivery p50 / p99 ms |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${chat_rows[@]}"
  echo
  echo "msgs/s: messages delivered / wall time, from the start line (every sender connected, the relay let go) to the last delivery. Relay CPU: utime+stime (/proc/PID/stat) over that time, per message delivered; Kamailio's is the sum over its $kam_nprocs processes, so its % of a core can pass 100. Latency: p50 the median of the pairs' p50, p99 the worst pair's p99. Lost: answered 200 by the relay, never delivered."
fi
if [ "${#lat_rows[@]}" -gt 0 ]; then
  echo
  echo "### 2. Latency at a fixed $lat_rate msgs/s ($lat_pairs pairs at $(python3 -c "print('%g' % ($lat_rate / $lat_pairs))")/s each, $lat_secs s, no window)"
  echo
  echo "| relay | idle AUTHed sessions | messages delivered | lost | wall s | msgs/s | relay CPU µs/msg | relay CPU % of a core | send → 200 p50 / p99 ms | send → delivery p50 / p99 ms |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${lat_rows[@]}"
fi
if [ "${#mem_rows[@]}" -gt 0 ]; then
  echo
  echo "### 3. Memory per idle connection and per idle AUTHed session (fresh relay each)"
  echo
  echo "| held idle | count | RSS before → after | RSS KiB each | PSS before → after | PSS KiB each |"
  echo "| --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${mem_rows[@]}"
  echo
  echo "RSS and PSS from /proc/PID/status and /proc/PID/smaps_rollup, after one warm-up AUTH and before and after the connections; Kamailio keeps connections in shared memory mapped by all its processes: the RSS sum counts those pages once per process, PSS shares them out, so PSS is its figure to compare."
fi
if [ "${#file_rows[@]}" -gt 0 ]; then
  echo
  echo "### 4. A $file_mb MiB file in 1 MB chunks, Success REPORT awaited, cmp checked (MB/s, median of $repeat, range)"
  echo
  echo "| path | MB/s | msrp-edge |"
  echo "| --- | --- | --- |"
  printf '%s\n' "${file_rows[@]}"
fi
if [ "${#ng_rows[@]}" -gt 0 ]; then
  echo
  echo "### 5. ng control plane ($ng_calls calls a run, $ng_window requests in flight, $ng_repeat runs; median rate, range; msrp-edge peak RSS $((ng_rss / 1024)) MiB)"
  echo
  echo "| command | requests | per second | reply p50 / p99 ms | msrp-edge CPU µs each | errors / lost / retransmitted | relayed |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${ng_rows[@]}"
fi
