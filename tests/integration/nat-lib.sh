# Real NATs for the integration tests (DESIGN.md, "Test topology for real
# NATs"): network namespaces built by the test, a public TEST-NET-3 network
# with the gateway, parties behind their own masquerading NATs that admit
# only established connections, and helpers to run msrp-edge, msrpcat and
# the ng client inside them.
#
# Source it after `set -euo pipefail` with MSRP_EDGE and MSRPCAT set:
#
#   . "$(dirname "$0")/nat-lib.sh"
#
# It sources lib.sh (so $WORK, fail, note, wait_until, track, log_match,
# wait_log, log_count, log_field, mc_path, mc_wait, json_last are there),
# then exits 77 (meson's skip) when not root or when network namespaces
# cannot be made.  Anything that fails after that is a failure.
#
# Topology (every name carries the prefix mnat<PID>- so runs never meet):
#
#     [pa] 203.0.113.10      [pb] 203.0.113.11        public parties
#          \                  /
#   [pub] bridge br0, 203.0.113.1  (msrp-edge: msrp :2855, control :2223)
#          /                  \
#   [nata] out0 203.0.113.20  [natb] out0 203.0.113.21   masquerading NATs
#          in0  10.0.1.1/24          in0  10.0.2.1/24
#          |                         |
#     [a] 10.0.1.2               [b] 10.0.2.2            parties behind NAT
#
# The NATs' nftables (the nft command is needed): masquerade out of
# out0; forward policy drop except in0 -> out0 and established/related;
# input policy drop except loopback, in0 and established/related.  Nothing
# outside the namespaces and their loopbacks is ever addressed.  pub and the
# public parties have no route to 10.0.0.0/8.  pub counts the TCP bytes to
# and from the gateway's address (nft counters gw_in and gw_out) and the
# NATs count what they forward each way (fwd_out, fwd_in): an account of
# where the bytes went that does not come from the daemon.
#
# What it gives, besides lib.sh:
#   NS[pub|pa|pb|nata|a|natb|b]  the namespace names
#   IP[gw|pa|pb|nata|natb|a|b]   addresses; IP[nata] is the NAT's outside one
#   SEEN[pa|pb|a|b]              where a party's packets come from on the
#                                public side (its own address, or its NAT's)
#   nat_setup                    build it all (call once)
#   nx NS CMD...                 CMD inside namespace NS (a name like pub)
#   tcp_try NS HOST PORT [SECS]  status 0 when a TCP connection opens
#   tcp_sink_start NS IP PORT NAME   a python3 listener that accepts and
#                                closes, counting connections and the last
#                                peer in $WORK/proof.d/NAME.n
#   nat_proof                    the reachability proof (NATed parties reach
#                                the gateway and the public parties; nothing
#                                public reaches a NATed party)
#   nft_bytes NS COUNTER         bytes counted so far by a named counter
#   gw_start NAME [LINES]        msrp-edge in pub on 203.0.113.1 (msrp 2855,
#                                control 2223), config $WORK/NAME.conf, log
#                                $WORK/NAME.log; LINES as lib.sh's edge_start
#   gw_stop NAME                 SIGTERM, exit 0, `stopped`, JSON log lines
#   ng CMD ARGS...               ng-client.py from pub to the control port;
#                                stdout the reply as JSON, status as the client
#   ns_mc_start NS NAME ARGS...  msrpcat inside NS in the background (like
#                                lib.sh's mc_start)
#   wait_listening NS IP PORT SECS   until something listens there
#   sdp_party FILE IP PORT SESSION [SETUP]  an MSRP SDP of a party
#   sdp_attr FILE NAME           the value of the first a=NAME line ("" when
#                                none; status 1 when absent)
#   sdp_c FILE, sdp_m_port FILE  the last c= address (the media-level one
#                                when there is one) and the m=message port
#
# Tear-down (EXIT trap, also on failure and on SIGTERM/SIGINT, which lib.sh
# turns into exits): every process in the run's namespaces gets TERM, then
# KILL after 5 s; the namespaces are deleted; then lib.sh's clean-up
# (tracked processes, $WORK) runs with the original exit status.
# tests/integration/nat-teardown.sh checks it.

: "${MSRP_EDGE:?MSRP_EDGE must name the msrp-edge executable}"
: "${MSRPCAT:?MSRPCAT must name the msrpcat executable}"

if [ "$(id -u)" != 0 ]; then
  echo "not root: network namespaces need root; skipped"
  exit 77
fi
if ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
  echo "ip netns is not available; skipped"
  exit 77
fi

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAT_PREFIX="mnat$$-"
NG_CLIENT="$IT_SRC/ng-client.py"
declare -A NS IP SEEN
for _n in pub pa pb nata a natb b; do NS[$_n]="$NAT_PREFIX$_n"; done
IP[gw]=203.0.113.1
IP[pa]=203.0.113.10
IP[pb]=203.0.113.11
IP[nata]=203.0.113.20
IP[natb]=203.0.113.21
IP[a]=10.0.1.2
IP[b]=10.0.2.2
SEEN[pa]=${IP[pa]}
SEEN[pb]=${IP[pb]}
SEEN[a]=${IP[nata]}
SEEN[b]=${IP[natb]}
GW_MSRP_PORT=2855
GW_CONTROL_PORT=2223
_nat_made=()

# Tear-down: every process inside our namespaces (TERM, then KILL), then
# the namespaces, then lib.sh's clean-up (tracked processes, $WORK) with
# the original exit status.
_nat_cleanup () {
  local status=$? ns p pids left
  trap - EXIT
  set +e   # a clean-up step that fails must not end the clean-up
  for ns in "${_nat_made[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  done
  for _ in $(seq 50); do
    left=""
    for ns in "${_nat_made[@]}"; do
      left+=$(ip netns pids "$ns" 2>/dev/null || true)
    done
    [ -z "$left" ] && break
    sleep 0.1
  done
  for ns in "${_nat_made[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null || true); do
      kill -KILL "$p" 2>/dev/null || true
    done
  done
  for ns in "${_nat_made[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  _nat_status "$status"
  _it_cleanup
}
_nat_status () { return "$1"; }
trap _nat_cleanup EXIT

nx () {
  local ns="$1"; shift
  ip netns exec "${NS[$ns]}" "$@"
}

_ns_add () {
  ip netns add "${NS[$1]}" || fail "ip netns add ${NS[$1]}"
  _nat_made+=("${NS[$1]}")
  nx "$1" ip link set lo up
}

# _veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both up.
_veth () {
  ip -n "${NS[$1]}" link add "$2" type veth peer name "$4" netns "${NS[$3]}" ||
    fail "veth $1/$2 - $3/$4"
  ip -n "${NS[$1]}" link set "$2" up
  ip -n "${NS[$3]}" link set "$4" up
}

_nat_rules_nft () {   # NAT-NS
  nx "$1" nft -f - <<'EOF'
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "out0" masquerade
  }
}
table inet filter {
  counter fwd_out { }
  counter fwd_in { }
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname "out0" ct state established,related counter name fwd_in accept
    iifname "in0" oifname "out0" counter name fwd_out accept
  }
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    iifname "in0" accept
    ct state established,related accept
  }
}
EOF
}

nat_setup () {
  local p n
  # The first namespace tells whether namespaces can be made at all.
  command -v nft >/dev/null || fail "nft (package nftables) is not installed"
  if ! ip netns add "${NS[pub]}" 2>"$WORK/netns.err"; then
    echo "ip netns add failed ($(cat "$WORK/netns.err")); skipped"
    exit 77
  fi
  _nat_made+=("${NS[pub]}")
  nx pub ip link set lo up
  for n in pa pb nata a natb b; do _ns_add "$n"; done

  # pub: the bridge with the gateway's address.
  nx pub ip link add br0 type bridge
  nx pub ip link set br0 up
  nx pub ip addr add "${IP[gw]}/24" dev br0
  for p in pa pb nata natb; do
    _veth pub "v$p" "$p" "$([ "${p#nat}" != "$p" ] && echo out0 || echo eth0)"
    nx pub ip link set "v$p" master br0
  done
  nx pa ip addr add "${IP[pa]}/24" dev eth0
  nx pb ip addr add "${IP[pb]}/24" dev eth0

  # The NATs and the parties behind them.
  for p in a b; do
    local nat="nat$p" net
    [ "$p" = a ] && net=1 || net=2
    nx "$nat" ip addr add "${IP[$nat]}/24" dev out0
    _veth "$nat" in0 "$p" eth0
    nx "$nat" ip addr add "10.0.$net.1/24" dev in0
    nx "$p" ip addr add "${IP[$p]}/24" dev eth0
    nx "$p" ip route add default via "10.0.$net.1"
    nx "$nat" sysctl -qw net.ipv4.ip_forward=1
    _nat_rules_nft "$nat" || fail "nftables rules in $nat"
  done

  # pub's account of the gateway's TCP traffic.
  nx pub nft -f - <<EOF || fail "nftables counters in pub"
table inet acct {
  counter gw_in { }
  counter gw_out { }
  chain input {
    type filter hook input priority filter; policy accept;
    ip daddr ${IP[gw]} meta l4proto tcp counter name gw_in
  }
  chain output {
    type filter hook output priority filter; policy accept;
    ip saddr ${IP[gw]} meta l4proto tcp counter name gw_out
  }
}
EOF
  note "namespaces ${NAT_PREFIX}{pub,pa,pb,nata,a,natb,b}: TEST-NET-3 with two masquerading NATs"
}

# Bytes counted so far by a named nft counter in a namespace.
nft_bytes () {
  nx "$1" nft list counters 2>/dev/null |
    awk -v c="$2" '$1 == "counter" && $2 == c { f = 1 } f && /bytes/ {
      for (i = 1; i <= NF; i++) if ($i == "bytes") { print $(i + 1); exit } }'
}

# tcp_try NS HOST PORT [SECS]: 0 when a TCP connection to HOST:PORT opens
# from inside NS within SECS (default 2) seconds.
tcp_try () {
  nx "$1" python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(float(sys.argv[3]))
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError as e:
    print("connect %s:%s: %s" % (sys.argv[1], sys.argv[2], e), file=sys.stderr)
    sys.exit(1)
print("connected %s:%s from %s:%d" % ((sys.argv[1], sys.argv[2]) + s.getsockname()))
' "$2" "$3" "${4:-2}"
}

# tcp_sink_start NS IP PORT NAME: accepts connections and closes them,
# writing the count and the last peer to $WORK/NAME.n.
tcp_sink_start () {
  ip netns exec "${NS[$1]}" python3 -c 'import os, socket, sys
with open(sys.argv[3], "w") as f:
    f.write("0 -\n")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
n = 0
while True:
    c, peer = s.accept()
    n += 1
    with open(sys.argv[3] + ".new", "w") as f:
        f.write("%d %s\n" % (n, peer[0]))
    os.replace(sys.argv[3] + ".new", sys.argv[3])
    c.close()
' "$2" "$3" "$WORK/proof.d/$4.n" 2>"$WORK/proof.d/$4.err" &
  track $!
  eval "${4}_pid=$!"
  wait_listening "$1" "$2" "$3" 10 || fail "tcp sink $4 on $2:$3 did not listen"
}

_sink_count () { cut -d' ' -f1 "$WORK/proof.d/$1.n"; }
_sink_peer () { cut -d' ' -f2 "$WORK/proof.d/$1.n"; }
_sink_has () { [ "$(_sink_count "$1")" = "$2" ]; }

_listening_in () {   # NS IP PORT
  nx "$1" ss -Htln "src $2:$3" 2>/dev/null | grep -q .
}

wait_listening () {
  wait_until "$4" _listening_in "$1" "$2" "$3"
}

# The reachability proof: run before anything else.
nat_proof () {
  local p peer port=4444 target
  mkdir -p "$WORK/proof.d"
  tcp_sink_start pub "${IP[gw]}" "$port" sink_gw
  tcp_sink_start pa "${IP[pa]}" "$port" sink_pa
  tcp_sink_start pb "${IP[pb]}" "$port" sink_pb
  tcp_sink_start a "${IP[a]}" "$port" sink_a
  tcp_sink_start b "${IP[b]}" "$port" sink_b

  # NATed parties reach the gateway and the public parties, and show up
  # there with their NAT's outside address (each sink counts what it
  # accepted: the connect returns before the accept is written down).
  declare -A want=([gw]=0 [pa]=0 [pb]=0)
  for p in a b; do
    for target in gw pa pb; do
      tcp_try "$p" "${IP[$target]}" "$port" 5 >>"$WORK/proof.d/all" 2>&1 ||
        fail "NAT proof: $p cannot reach $target (${IP[$target]}:$port): $(tail -1 "$WORK/proof.d/all")"
      want[$target]=$((want[$target] + 1))
      wait_until 5 _sink_has "sink_$target" "${want[$target]}" ||
        fail "NAT proof: sink $target counted $(_sink_count "sink_$target") connections, not ${want[$target]}"
      peer=$(_sink_peer "sink_$target")
      [ "$peer" = "${SEEN[$p]}" ] ||
        fail "NAT proof: $p reached $target from $peer, not from its NAT ${SEEN[$p]}"
    done
  done
  # The public side reaches the public side.
  tcp_try pa "${IP[pb]}" "$port" 5 >>"$WORK/proof.d/all" 2>&1 &&
    tcp_try pb "${IP[gw]}" "$port" 5 >>"$WORK/proof.d/all" 2>&1 ||
    fail "NAT proof: the public parties do not reach each other or the gateway"
  wait_until 5 _sink_has sink_pb 3 && wait_until 5 _sink_has sink_gw 3 ||
    fail "NAT proof: connection counts gw=$(_sink_count sink_gw) pb=$(_sink_count sink_pb)"
  [ "$(_sink_peer sink_pb)" = "${IP[pa]}" ] && [ "$(_sink_peer sink_gw)" = "${IP[pb]}" ] ||
    fail "NAT proof: the public parties were seen as $(_sink_peer sink_pb) and $(_sink_peer sink_gw)"

  # Nothing public reaches a NATed party: not its private address (no
  # route), not its NAT's outside address (no forwarding), and not even with
  # a route to the private network through the NAT (the forward policy);
  # nor does one NATed party reach the other's private address.  The
  # probes run at once, 2 s each (a dropped SYN waits that long).
  nx pa ip route add 10.0.1.0/24 via "${IP[nata]}"
  nx pa ip route add 10.0.2.0/24 via "${IP[natb]}"
  local probes=() pids=() i
  for peer in pub pb; do
    for p in a b; do
      probes+=("$peer ${IP[$p]}" "$peer ${SEEN[$p]}")
    done
  done
  probes+=("pa ${IP[a]}" "pa ${IP[b]}" "pa ${IP[nata]}" "pa ${IP[natb]}"
           "a ${IP[b]}" "b ${IP[a]}" "a ${IP[natb]}")
  for i in "${!probes[@]}"; do
    read -r peer target <<<"${probes[$i]}"
    tcp_try "$peer" "$target" "$port" 2 >"$WORK/proof.d/probe$i" 2>&1 &
    pids+=($!)
  done
  for i in "${!probes[@]}"; do
    if wait "${pids[$i]}"; then
      fail "NAT proof: ${probes[$i]% *} opened a connection to ${probes[$i]#* }:$port: $(cat "$WORK/proof.d/probe$i")"
    fi
    cat "$WORK/proof.d/probe$i" >>"$WORK/proof.d/all"
  done
  nx pa ip route del 10.0.1.0/24
  nx pa ip route del 10.0.2.0/24
  [ "$(_sink_count sink_a)" = 0 ] && [ "$(_sink_count sink_b)" = 0 ] ||
    fail "NAT proof: a NATed party accepted a connection (a=$(_sink_count sink_a) b=$(_sink_count sink_b))"
  for p in gw pa pb a b; do
    eval "kill \$sink_${p}_pid"
    eval "wait \$sink_${p}_pid" 2>/dev/null || true
    eval "untrack \$sink_${p}_pid"
  done
  note "NAT proof: a and b reach the gateway and the public parties (seen as their NATs); nothing public reaches them, by address, by NAT, or routed through the NAT"
}

# gw_start NAME [LINES]: msrp-edge inside pub.
gw_start () {
  local name="$1" extra="${2:-}" pid
  {
    printf '[gateway]\nname=%s\npublic-host=%s\n' "$name" "${IP[gw]}"
    printf '[listen]\nmsrp=%s:%s\nmsrps=\ncontrol=%s:%s\n' "${IP[gw]}" \
      "$GW_MSRP_PORT" "${IP[gw]}" "$GW_CONTROL_PORT"
    # Calls left in the table do not hold the stop for the default 60 s.
    printf '[limits]\ndrain-timeout=5\n'
    printf '%b\n' "$extra"
  } >"$WORK/$name.conf"
  ip netns exec "${NS[pub]}" "$MSRP_EDGE" --config "$WORK/$name.conf" \
    2>"$WORK/$name.log" &
  pid=$!
  track "$pid"
  eval "${name}_pid=$pid"
  wait_until 20 _gw_up "$name" "$pid" ||
    fail "msrp-edge $name did not start"
  wait_until 10 _gw_pong || fail "msrp-edge $name does not answer ng ping"
}

_gw_up () {
  kill -0 "$2" 2>/dev/null || return 2
  [ "$(log_count "$WORK/$1.log" listener_up)" -ge 1 ]
}

_gw_pong () { ng ping --retries 0 --retry-after 0.5 >/dev/null 2>&1; }

gw_stop () { edge_stop "$@"; }

ng () {
  nx pub python3 "$NG_CLIENT" --server "${IP[gw]}:$GW_CONTROL_PORT" "$@"
}

ns_mc_start () {
  local ns="$1" name="$2"; shift 2
  rm -f "$WORK/$name.out" "$WORK/$name.err"
  ip netns exec "${NS[$ns]}" "$MSRPCAT" "$@" >"$WORK/$name.out" \
    2>"$WORK/$name.err" &
  local pid=$!
  track "$pid"
  eval "${name}_pid=$pid"
}

# sdp_party FILE IP PORT SESSION [SETUP]: CRLF lines; SETUP "" or absent:
# no a=setup (a legacy RFC 4975 endpoint).
sdp_party () {
  local file="$1" ip="$2" port="$3" session="$4" setup="${5:-}"
  {
    printf 'v=0\r\no=- %s 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n' \
      "$RANDOM$RANDOM" "$ip" "$ip"
    printf 'm=message %s TCP/MSRP *\r\n' "$port"
    printf 'a=path:msrp://%s:%s/%s;tcp\r\n' "$ip" "$port" "$session"
    printf 'a=accept-types:*\r\n'
    [ -z "$setup" ] || printf 'a=setup:%s\r\n' "$setup"
  } >"$file"
}

sdp_attr () {
  local v
  v=$(tr -d '\r' <"$1" | sed -n "s/^a=$2://p" | head -1)
  tr -d '\r' <"$1" | grep -q "^a=$2:" || return 1
  printf '%s\n' "$v"
}

sdp_c () { tr -d '\r' <"$1" | sed -n 's/^c=IN IP[46] //p' | tail -1; }
sdp_m_port () { tr -d '\r' <"$1" | sed -n 's/^m=message \([0-9]*\) .*/\1/p' | head -1; }
