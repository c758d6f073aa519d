#!/bin/bash
# msrp-edge under a service manager's eyes.  systemd is not PID 1 on the
# machines this suite runs on (and a test must not start system units), so
# the test plays systemd's part of the Type=notify protocol itself: a unix
# datagram socket bound by python3, named in NOTIFY_SOCKET, with
# WATCHDOG_USEC as WatchdogSec= sets it.  It checks that msrp-edge says
# READY=1 once, with a STATUS=, pings the watchdog
# at half the interval, refreshes STATUS=, wraps a SIGHUP in RELOADING=1 /
# READY=1 and says STOPPING=1 on SIGTERM before exiting 0.
# Usage: sd-notify.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"

sock="$WORK/notify.sock"
msgs="$WORK/notify.msgs"
# One line per datagram, its newlines written as '|'.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    print("BOUND", file=out)
    while True:
        out.write(s.recv(4096).decode().replace("\n", "|") + "\n")' \
  "$sock" "$msgs" &
track $!
wait_until 10 grep -q BOUND "$msgs" || fail "the notify socket was not bound"

has () { grep -qE "$1" "$msgs"; }
count () { grep -cE "$1" "$msgs" || true; }

export NOTIFY_SOCKET="$sock" WATCHDOG_USEC=1000000
edge_start e1 --control
unset NOTIFY_SOCKET WATCHDOG_USEC

wait_until 10 has '^READY=1\|STATUS=[0-9]+ connections, [0-9]+ sessions, 0 calls$' ||
  fail "no READY=1 with STATUS="
# Once: a reload or the periodic STATUS= must not say READY=1 again.
[ "$(count '^READY=1')" -eq 1 ] || fail "READY=1 sent $(count '^READY=1') times"
note "READY=1 with $(grep -m1 '^READY=1' "$msgs")"

# WatchdogSec=1s: a ping every 0.5 s.
sleep 2
n=$(count '^WATCHDOG=1$')
[ "$n" -ge 3 ] || fail "only $n watchdog pings in 2 s (interval 1 s)"
note "$n watchdog pings in about 2 s"

# STATUS= again after its interval (5 s), counting what is open now.
exec 3<>"/dev/tcp/127.0.0.1/$e1_port"
wait_until 10 has '^STATUS=1 connections' ||
  fail "STATUS= not refreshed with the open connection"
exec 3>&-
note "STATUS= refreshed: $(grep -m1 '^STATUS=1 connections' "$msgs")"

kill -HUP "$e1_pid"
wait_log "$WORK/e1.log" 10 config_reloaded || fail "no config_reloaded"
wait_until 10 has '^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=reloading$' ||
  fail "no RELOADING=1"
ready_twice () { [ "$(count '^READY=1')" -ge 2 ]; }
wait_until 10 ready_twice || fail "no READY=1 after the reload"
reload_line=$(grep -n '^RELOADING=1' "$msgs" | cut -d: -f1)
ready_line=$(grep -n '^READY=1' "$msgs" | tail -1 | cut -d: -f1)
[ "$reload_line" -lt "$ready_line" ] || fail "READY=1 came before RELOADING=1"
note "SIGHUP: RELOADING=1, then READY=1"

edge_stop e1
has '^STOPPING=1\|STATUS=stopping: ' || fail "no STOPPING=1"
note "SIGTERM: STOPPING=1, exit 0"
echo "sd-notify: ok"
