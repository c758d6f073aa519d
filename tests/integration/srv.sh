#!/bin/bash
# Finding relays by SRV (RFC 4976 section 8, RFC 2782): msrpcat's --relay
# msrps://farm.test;tcp, with no port, looks up _msrps._tcp.farm.test,
# tries the targets in priority order and AUTHs to the first that answers.
#
# Everything runs in a network namespace of its own, with a dnsmasq (the
# Debian package dnsmasq-base) as its only DNS server: `ip netns exec`
# bind-mounts /etc/netns/NAME/resolv.conf (and nsswitch.conf) over /etc,
# so nothing on the host changes.
#
#   198.51.100.53:53   dnsmasq, authoritative for farm.test:
#                        _msrps._tcp.farm.test SRV 10 0 2855 edge1.farm.test
#                        _msrps._tcp.farm.test SRV 20 0 2857 edge2.farm.test
#                        edge1 A .2, edge2 A .3, solo A .4 (no SRV for solo)
#   198.51.100.2:2855  edge1, msrps (the preferred member)
#   198.51.100.3:2857  edge2, msrps (the SRV port), and :2855 (see below)
#   198.51.100.4:2855  solo, msrps, public-host solo.farm.test
#
# Every member presents the farm's certificate (CN farm.test, SAN farm.test
# and *.farm.test): RFC 4976 section 9.2 checks the URI's host, not the SRV
# target's.  The members' public-host is farm.test: msrp-edge takes an AUTH
# To-Path without a port (msrps://farm.test;tcp) for port 2855 of its
# public-host (gw_relay_route_uri_is_ours()), so edge2 also listens on 2855;
# the SRV record still sends msrpcat to 2857, which the test checks.
#
#   1. a receiver and a sender AUTH to msrps://farm.test;tcp: both reach
#      edge1 (priority 10), the message goes through;
#   2. edge1 stops: the next pair reaches edge2 (priority 20) on its SRV
#      port after edge1's address refuses;
#   3. msrps://solo.farm.test;tcp has no SRV record: A/AAAA and port 2855
#      (RFC 4976 section 8's fallback).
# dnsmasq's query log shows what was asked.
#
# Root needed (skipped with 77 otherwise).  Everything made here goes on
# any exit: the processes in the namespace, the namespace, /etc/netns/NAME,
# the work directory.
#
# Usage: srv.sh MSRP-EDGE MSRPCAT GEN-TEST-CERTS.SH
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
gen_certs="$3"

if [ "$(id -u)" != 0 ]; then
  echo "not root: network namespaces need root; skipped"
  exit 77
fi
if ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
  echo "ip netns is not available; skipped"
  exit 77
fi

. "$(dirname "$0")/lib.sh"

NS="msrv$$"
NETNS_ETC="/etc/netns/$NS"
_made_etc_netns=0
_made_ns=0

# Tear-down: the processes in our namespace (TERM, then KILL), the
# namespace, its /etc/netns directory, then lib.sh's clean-up with the
# original status.
_srv_cleanup () {
  local status=$? p left
  trap - EXIT
  set +e
  if [ "$_made_ns" = 1 ]; then
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 50); do
      left=$(ip netns pids "$NS" 2>/dev/null)
      [ -z "$left" ] && break
      sleep 0.1
    done
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
  fi
  rm -f "$NETNS_ETC/resolv.conf" "$NETNS_ETC/nsswitch.conf"
  rmdir "$NETNS_ETC" 2>/dev/null
  [ "$_made_etc_netns" = 0 ] || rmdir /etc/netns 2>/dev/null
  _srv_status "$status"
  _it_cleanup
}
_srv_status () { return "$1"; }
trap _srv_cleanup EXIT

# CMD inside the namespace, in the foreground.  Background processes are
# started with `ip netns exec` itself, which execs them: $! is their PID.
nx () { ip netns exec "$NS" "$@"; }

DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || fail "dnsmasq is not installed (Debian package dnsmasq-base)"

# --- the namespace and its DNS -------------------------------------------------
[ -d /etc/netns ] || _made_etc_netns=1
mkdir -p "$NETNS_ETC"
printf 'nameserver 198.51.100.53\noptions timeout:2 attempts:2\n' \
  >"$NETNS_ETC/resolv.conf"
# Files, then DNS: whatever the host's nsswitch.conf says (systemd-resolved,
# mDNS), names here come from /etc/hosts and our dnsmasq only.
printf 'hosts: files dns\n' >"$NETNS_ETC/nsswitch.conf"
ip netns add "$NS" || fail "ip netns add $NS"
_made_ns=1
# The addresses sit on the namespace's loopback: no link is needed (nor the
# dummy module, which containers may lack), and glibc's AI_ADDRCONFIG
# counts them as configured IPv4 (only 127.0.0.1 is not).
nx ip link set lo up
for a in 53 2 3 4; do nx ip addr add "198.51.100.$a/32" dev lo; done

# --local: authoritative for farm.test, so a name it lacks is NXDOMAIN and
# a name without SRV records is NODATA, never a refusal.
ip netns exec "$NS" "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv \
  --no-hosts --no-poll --pid-file= --user=root --group=root \
  --listen-address=198.51.100.53 --bind-interfaces --port=53 \
  --local=/farm.test/ \
  --srv-host=_msrps._tcp.farm.test,edge1.farm.test,2855,10,0 \
  --srv-host=_msrps._tcp.farm.test,edge2.farm.test,2857,20,0 \
  --host-record=edge1.farm.test,198.51.100.2 \
  --host-record=edge2.farm.test,198.51.100.3 \
  --host-record=solo.farm.test,198.51.100.4 \
  --log-queries --log-facility="$WORK/dnsmasq.log" \
  2>"$WORK/dnsmasq.err" &
track $!
_dns_up () { nx ss -Hlun 'src 198.51.100.53:53' | grep -q .; }
wait_until 10 _dns_up || fail "dnsmasq did not listen on 198.51.100.53:53"
note "namespace $NS with dnsmasq as its DNS server (/etc/netns/$NS)"

# --- the farm ---------------------------------------------------------------------
pki="$WORK/pki"
mkdir -p "$pki"
sh "$gen_certs" "$pki" || fail "gen-test-certs.sh failed"
users_file "$WORK/users" farm.test alice:alice-pw:sha256 bob:bob-pw:sha256

# member NAME PUBLIC-HOST MSRPS-LISTENERS
member () {
  local name="$1" pid
  {
    printf '[gateway]\nname=%s\npublic-host=%s\n' "$name" "$2"
    printf '[listen]\nmsrp=\nmsrps=%s\ncontrol=\n' "$3"
    printf '[tls]\ncertificate=%s/farm.pem\nprivate-key=%s/farm.key\nca-file=%s/ca.pem\n' \
      "$pki" "$pki" "$pki"
    printf '[auth]\nrealm=farm.test\nusers-file=%s\n' "$WORK/users"
  } >"$WORK/$name.conf"
  ip netns exec "$NS" "$MSRP_EDGE" --config "$WORK/$name.conf" \
    2>"$WORK/$name.log" &
  pid=$!
  track "$pid"
  eval "${name}_pid=$pid"
  wait_until 20 _member_up "$name" "$pid" "$(tr ';' '\n' <<<"$3" | grep -c .)" ||
    fail "msrp-edge $name did not start"
}
_member_up () {
  kill -0 "$2" 2>/dev/null || return 2
  [ "$(log_count "$WORK/$1.log" listener_up)" -ge "$3" ]
}
member edge1 farm.test 198.51.100.2:2855
member edge2 farm.test "198.51.100.3:2857;198.51.100.3:2855"
member solo solo.farm.test 198.51.100.4:2855

# ns_mc NAME ARGS...: msrpcat in the namespace, in the background.
ns_mc () {
  local name="$1"; shift
  rm -f "$WORK/$name.out" "$WORK/$name.err"
  ip netns exec "$NS" "$MSRPCAT" "$@" >"$WORK/$name.out" \
    2>"$WORK/$name.err" &
  track $!
  eval "${name}_pid=$!"
}

# pair TAG RELAY-URI: a receiver and a sender behind RELAY-URI, one message
# from one to the other; both must succeed.
pair () {
  local tag="$1" relay="$2" path
  ns_mc "recv$tag" --relay "$relay" --ca-file "$pki/ca.pem" -u bob -P bob-pw \
    --receive --print-use-path --expect 1 -T 20 -v
  path=$(mc_path "recv$tag")
  ns_mc "send$tag" --relay "$relay" --ca-file "$pki/ca.pem" -u alice \
    -P alice-pw --to-path "$path" -m "through $relay, pair $tag" --json -v \
    -T 20
  mc_wait "send$tag" 30
  [ "$rc" = 0 ] || fail "sender $tag exited $rc"
  mc_wait "recv$tag" 30
  [ "$rc" = 0 ] || fail "receiver $tag exited $rc"
  grep -q "pair $tag" "$WORK/recv$tag.out" ||
    fail "receiver $tag did not get the message"
}

# --- 1. the preferred member ---------------------------------------------------------
pair 1 'msrps://farm.test;tcp'
for who in recv1 send1; do
  grep -qF 'msrps://farm.test;tcp is at 198.51.100.2:2855 198.51.100.3:2857' \
    "$WORK/$who.err" || fail "$who: not the SRV order (priority 10, then 20)"
done
[ "$(log_count "$WORK/edge1.log" auth_ok)" = 2 ] ||
  fail "edge1 authenticated $(log_count "$WORK/edge1.log" auth_ok) clients, not 2"
log_match "$WORK/edge1.log" auth_ok user=bob >/dev/null &&
  log_match "$WORK/edge1.log" auth_ok user=alice >/dev/null ||
  fail "edge1: no auth_ok for bob and alice"
[ "$(log_count "$WORK/edge2.log" connection_accepted)" = 0 ] ||
  fail "edge2 was reached while edge1 was up"
grep -q 'query\[SRV\] _msrps._tcp.farm.test' "$WORK/dnsmasq.log" ||
  fail "no SRV query for _msrps._tcp.farm.test in dnsmasq's log"
note "msrps://farm.test;tcp: SRV _msrps._tcp.farm.test, edge1 (priority 10) reached, message through"

# --- 2. the preferred member gone --------------------------------------------------
edge_stop edge1
pair 2 'msrps://farm.test;tcp'
for who in recv2 send2; do
  grep -qF 'connect to 198.51.100.2:2855 failed: Connection refused' \
    "$WORK/$who.err" || fail "$who: edge1's address was not tried first"
  grep -qF 'connecting to 198.51.100.3:2857 for msrps://farm.test;tcp' \
    "$WORK/$who.err" || fail "$who: edge2 not tried on its SRV port 2857"
done
log_match "$WORK/edge2.log" auth_ok user=bob >/dev/null &&
  log_match "$WORK/edge2.log" auth_ok user=alice >/dev/null ||
  fail "edge2: no auth_ok for bob and alice"
[ "$(log_count "$WORK/edge2.log" connection_accepted local=198.51.100.3:2857 transport=tls)" = 2 ] ||
  fail "edge2 did not take both clients on 198.51.100.3:2857"
[ "$(log_count "$WORK/edge2.log" connection_accepted local=198.51.100.3:2855)" = 0 ] ||
  fail "a client reached edge2 on 2855, not on the SRV port"
note "edge1 stopped: its address refuses, edge2 (priority 20) reached on its SRV port 2857"

# --- 3. no SRV record: A/AAAA and port 2855 ------------------------------------------
pair 3 'msrps://solo.farm.test;tcp'
grep -qF 'msrps://solo.farm.test;tcp is at 198.51.100.4:2855' "$WORK/recv3.err" ||
  fail "solo.farm.test: not A with port 2855"
grep -q 'query\[SRV\] _msrps._tcp.solo.farm.test' "$WORK/dnsmasq.log" &&
  grep -q 'query\[A\] solo.farm.test' "$WORK/dnsmasq.log" ||
  fail "dnsmasq's log lacks the SRV query or the A query for solo.farm.test"
[ "$(log_count "$WORK/solo.log" auth_ok)" = 2 ] || fail "solo: not 2 auth_ok"
note "msrps://solo.farm.test;tcp: no SRV record, A and port 2855 (RFC 4976 section 8)"

edge_stop edge2
edge_stop solo
echo "srv: all checks passed"
