#!/bin/bash
# Hostile cases against the ng control plane and the connect policy (issue
# 13: findings 4 and 8, "ng garbage and deep nesting, ng datagram floods"),
# each beside an honest pair of clients chatting through the relay (AUTH,
# msrpcat --bench-chat), which must lose nothing; its p99 is printed.
#
#   garbage    ng datagrams that are not requests, bencode nested 32,000
#              deep, 30,000 values, 65,000 bytes: an error reply or nothing, and
#              ping answered after
#   flood      8 s of ng datagrams as fast as one sender goes, replies
#              never read: honest pings, retransmitted as Kamailio does,
#              still answered in the share the kernel's drops leave
#              (printed), a ping after the flood answered at once, the
#              gateway's CPU share printed, its RSS bounded
#   offers     10,000 offers with distinct call-ids against [limits]
#              max-calls=2000: 2000 ok, 8000 `load limit`, RSS printed and
#              bounded, ng statistics rejectedsessions 8000
#   ssrf       answers whose a=path names 127.0.0.1 (a trap listener and
#              port 22), the gateway's own listener, a host name and an
#              IPv4-mapped loopback address: no connection made there, the
#              warning in the ng reply, connect_refused, nothing recorded
#              as reachable
#   next hop   an AUTHed client's To-Path next hop on loopback: 408, no
#              connection, connect_refused (the default policy)
#
# Every attack addresses 127.0.0.1 only and is bounded in count and time;
# bounds are generous (a loaded 2-core machine, the ASan build).
#
# Usage: ng-hostile.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"

hostile () { python3 "$IT_SRC/ng-hostile.py" "$@"; }
ngc () { python3 "$IT_SRC/ng-client.py" --server "$ctl" "$@"; }
rss_kb () { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
# default) before it is reused, which the flood's churn fills: a small
# one keeps RSS meaningful (a use after free is still caught within it).
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=8"

realm=hostile.test
users_file "$WORK/users" "$realm" alice:alice-pw:sha256 bob:bob-pw:sha256
# The connect policy's defaults (edge_start allows loopback: undone here).
edge_start edge --control "[auth]\nrealm=$realm\nusers-file=$WORK/users
[negotiator]\npolicy=auto\nconnect-allow=\n[relay]\nnext-hop-allow=
[limits]\nmax-calls=2000"
ctl="127.0.0.1:$edge_ctl_port"
pid=$edge_pid
export MSRPCAT_PASSWORD=unused

# honest_start NAME COUNT RATE: bob receives through the relay, alice sends
# COUNT chat messages at RATE/s, both in the background.
honest_start () {
  local path
  mc_start "r_$1" --relay "$edge_uri" -u bob -P bob-pw --receive \
    --print-use-path --expect "$2" --json -T 180
  path=$(mc_path "r_$1")
  mc_start "s_$1" --relay "$edge_uri" -u alice -P alice-pw --to-path "$path" \
    --bench-chat "$2" --rate "$3" --json -T 180
}

# honest_check NAME COUNT WHAT: nothing lost, no error; prints the p99.
honest_check () {
  mc_wait "s_$1" 180
  [ "$rc" -eq 0 ] || fail "$3: the honest sender exited $rc"
  mc_wait "r_$1" 60
  [ "$rc" -eq 0 ] || fail "$3: the honest receiver exited $rc"
  python3 - "$WORK/s_$1.out" "$WORK/r_$1.out" "$2" "$3" <<'EOF' ||
import json, sys
s = json.loads(open(sys.argv[1]).read().splitlines()[-1])["sent"]
r = json.loads(open(sys.argv[2]).read().splitlines()[-1])["received"]
n = int(sys.argv[3])
assert r["messages"] == n, "received %d of %d" % (r["messages"], n)
assert s["responses"] == {"200": n}, "responses %r" % s["responses"]
print("  honest pair beside %s: %d/%d delivered, send->200 p99 %.2f ms, "
      "delivery p99 %.2f ms" % (sys.argv[4], r["messages"], n,
      s["latency_us"]["p99"] / 1000, r["latency_us"]["p99"] / 1000))
assert r["latency_us"]["p99"] < 2000000, "delivery p99 over 2 s"
EOF
    fail "$3: the honest pair lost messages or saw errors"
}

# --- garbage and deep nesting --------------------------------------------------
honest_start g 300 100
out=$(hostile garbage "$ctl") || fail "garbage: $out"
echo "  garbage: $out"
honest_check g 300 "ng garbage"
kill -0 "$pid" || fail "msrp-edge died"
note "ng garbage and deep nesting: an error reply or nothing, ping answered after"

# --- a datagram flood --------------------------------------------------------
# The kernel's count of datagrams dropped on the control socket's full
# receive queue (/proc/net/udp, last column).
udp_drops () {
  awk -v p=":$(printf '%04X' "$1")" \
    '$2 ~ p"$" { print $NF; found = 1 } END { if (!found) print 0 }' \
    /proc/net/udp
}
honest_start f 800 100
rss0=$(rss_kb "$pid")
t0=$(cpu_ticks "$pid")
drops0=$(udp_drops "$edge_ctl_port")
out=$(hostile flood "$ctl" 8) || fail "flood: $out"
drops1=$(udp_drops "$edge_ctl_port")
t1=$(cpu_ticks "$pid")
rss1=$(rss_kb "$pid")
hz=$(getconf CLK_TCK)
# A flood faster than the gateway reads fills the socket's queue, and the
# kernel drops what does not fit without looking at the sender: honest
# datagrams are lost in the same share as the attacker's, whatever the
# gateway does (on a loaded 2-core box the share passes 80%; the defence
# is the firewall the README asks for in front of the control port).  So
# the figures are printed, and what is asserted is what the gateway owns:
# it kept reading (some honest pings answered, retransmitted as Kamailio
# does), it answers at once when the flood stops, and its memory is
# bounded.
python3 - "$out" "$t0" "$t1" "$hz" "$rss0" "$rss1" "$drops0" "$drops1" \
  <<'EOF' ||
import json, sys
d = json.loads(sys.argv[1])
t0, t1, hz, rss0, rss1, drops0, drops1 = map(int, sys.argv[2:])
cpu = (t1 - t0) / hz / d["seconds"] * 100
dropped = drops1 - drops0
handled = max(d["sent"] - dropped, 0)
print("  flood: %d datagrams in %d s (%d/s); the kernel dropped %.0f%%; "
      "msrp-edge read %d/s at %.0f%% of a core, %.1f us CPU a datagram "
      "read, RSS %d -> %d KiB; honest pings %d/%d answered, p50 %s ms, "
      "p99 %s ms; after the flood %s ms" % (d["sent"], d["seconds"],
      d["rate"], dropped * 100 / max(d["sent"], 1), handled / d["seconds"],
      cpu, (t1 - t0) / hz * 1e6 / max(handled, 1), rss0, rss1,
      d["honest_answered"], d["honest_asked"], d["p50_ms"], d["p99_ms"],
      d["after_ms"]))
assert d["honest_answered"] >= 1, "no honest ping answered during the flood"
assert d["after_ms"] is not None and d["after_ms"] < 1000, \
    "the ping after the flood took a second or more"
assert rss1 - rss0 < 64 * 1024, "RSS grew by more than 64 MiB"
EOF
  fail "flood: the control plane did not keep answering, or grew"
honest_check f 800 "the ng flood"
note "ng datagram flood: honest pings answered, memory bounded"

# --- SSRF through answers ----------------------------------------------------
# A trap listener on loopback that counts the connections it gets.
trap_port=$(free_port)
python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
n = 0
while True:
    c, _ = s.accept(); c.close(); n += 1
    open(sys.argv[2], "w").write(str(n))' "$trap_port" "$WORK/trap.count" &
track $!
wait_until 10 _listening "$trap_port" $! || fail "the trap did not listen"
printf '%s\r\n' v=0 'o=- 1 1 IN IP4 10.0.0.5' s=- 'c=IN IP4 10.0.0.5' \
  't=0 0' 'm=message 7000 TCP/MSRP *' 'a=accept-types:text/plain' \
  'a=path:msrp://10.0.0.5:7000/alice;tcp' 'a=setup:actpass' \
  >"$WORK/ssrf-offer.sdp"
n=0
for target in "127.0.0.1:$trap_port|loopback 127.0.0.0/8" \
              "127.0.0.1:22|loopback 127.0.0.0/8" \
              "127.0.0.1:$edge_port|the gateway's own msrp listener" \
              "localhost:$trap_port|a host name" \
              "[::ffff:127.0.0.1]:$trap_port|loopback 127.0.0.0/8"; do
  n=$((n + 1))
  addr=${target%%|*}
  rule=${target#*|}
  # The offer comes from a NATed party (relay); the answerer is passive, so
  # the gateway would have to connect to it.
  ngc offer --call-id "ssrf-$n" --from-tag a --received-from 10.0.0.5 \
    --sdp-file "$WORK/ssrf-offer.sdp" >"$WORK/ssrf-$n.offer" ||
    fail "ssrf $addr: offer: $(cat "$WORK/ssrf-$n.offer")"
  printf '%s\r\n' v=0 'o=- 1 1 IN IP4 127.0.0.1' s=- 'c=IN IP4 127.0.0.1' \
    't=0 0' 'm=message 7001 TCP/MSRP *' 'a=accept-types:text/plain' \
    "a=path:msrp://$addr/bob;tcp" 'a=setup:passive' >"$WORK/ssrf-$n.sdp"
  out=$(ngc answer --call-id "ssrf-$n" --from-tag a --to-tag b \
          --received-from 127.0.0.1 --sdp-file "$WORK/ssrf-$n.sdp") ||
    fail "ssrf $addr: answer: $out"
  python3 -c 'import json,sys
w = json.loads(sys.argv[1]).get("warning", "")
assert "does not connect to the answerer" in w and sys.argv[2] in w, w' \
    "$out" "$rule" || fail "ssrf $addr: no warning in the reply: $out"
  log_match "$WORK/edge.log" connect_refused call_id="ssrf-$n" to=party \
    >/dev/null || fail "ssrf $addr: no connect_refused"
done
sleep 1
log_match "$WORK/edge.log" connection_opening >/dev/null &&
  fail "the gateway opened a connection: $(log_match "$WORK/edge.log" connection_opening)"
log_match "$WORK/edge.log" reachability_measured >/dev/null &&
  fail "something was recorded as reachable"
[ ! -e "$WORK/trap.count" ] || fail "the trap got $(cat "$WORK/trap.count") connections"
note "SSRF through answers (loopback, port 22, own listener, a name, ::ffff:127.0.0.1): no connection, the warning in the reply, nothing recorded"
for i in $(seq "$n"); do
  ngc delete --call-id "ssrf-$i" >/dev/null || fail "delete ssrf-$i"
done

# --- a next hop on loopback ---------------------------------------------------
mc_run nexthop --relay "$edge_uri" -u alice -P alice-pw \
  --to-path "msrp://127.0.0.1:$trap_port/x;tcp" -m "knock" -T 20
[ "$rc" -eq 1 ] && grep -q 408 "$WORK/nexthop.err" ||
  fail "next hop on loopback: exit $rc: $(cat "$WORK/nexthop.err")"
log_match "$WORK/edge.log" connect_refused to=next-hop \
  address="127.0.0.1:$trap_port" >/dev/null || fail "no connect_refused for the next hop"
[ ! -e "$WORK/trap.count" ] || fail "the trap got a connection from the relay"
note "a next hop on loopback: 408, no connection, connect_refused"

# --- 10,000 offers against max-calls -----------------------------------------
printf '%s\r\n' v=0 'o=- 1 1 IN IP4 203.0.113.7' s=- 'c=IN IP4 203.0.113.7' \
  't=0 0' 'm=message 7000 TCP/MSRP *' 'a=accept-types:text/plain' \
  'a=path:msrp://203.0.113.7:7000/flood;tcp' 'a=setup:actpass' \
  >"$WORK/flood.sdp"
honest_start o 800 100
rss0=$(rss_kb "$pid")
out=$(hostile offers "$ctl" 10000 "$WORK/flood.sdp") || fail "offers: $out"
rss1=$(rss_kb "$pid")
python3 - "$out" "$rss0" "$rss1" <<'EOF' ||
import json, sys
d = json.loads(sys.argv[1])
rss0, rss1 = int(sys.argv[2]), int(sys.argv[3])
r = d["results"]
print("  offers: %d in %.1f s: %s; RSS %d -> %d KiB (%.2f KiB a call kept)"
      % (d["offers"], d["seconds"], r, rss0, rss1,
         (rss1 - rss0) / max(r.get("ok", 0), 1)))
assert r.get("ok") == 2000 and r.get("load limit") == 8000, "results %r" % r
assert rss1 - rss0 < 64 * 1024, "RSS grew by more than 64 MiB"
EOF
  fail "offers: not 2000 ok and 8000 load limit, or memory grew"
honest_check o 800 "10,000 offers"
out=$(ngc statistics) || fail "statistics: $out"
python3 -c 'import json,sys
d = json.loads(sys.argv[1])
assert d["totalstatistics"]["rejectedsessions"] == 8000, d["totalstatistics"]
assert d["currentstatistics"]["sessionsown"] == 2000, d["currentstatistics"]' \
  "$out" || fail "statistics after the offers: $out"
[ "$(log_count "$WORK/edge.log" call_refused reason=max-calls)" = 8000 ] ||
  fail "not 8000 call_refused lines"
note "10,000 offers: 2000 calls kept, 8000 load limit, memory bounded"

kill -0 "$pid" || fail "msrp-edge died"
edge_stop edge
echo "ng-hostile: ok"
