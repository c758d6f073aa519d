#!/bin/bash
# msrpcat against msrpcat on loopback: a receiver in the passive role on a
# free port, a sender in the active role (and once the other way round).
#
#   text messages                       in order, on stdout
#   a 20 MB random file                 in 1 MB and in 2 KB chunks, cmp
#   Success-Report yes                  the REPORT is sent and received
#   --max-size                          413, the sender exits 1
#   a wrong session                     481, the sender exits 1
#   TLS                                 certificates from gen-test-certs.sh;
#                                       an unknown CA fails with exit 3
#   RFC 6135 roles                      the receiver active, binding with an
#                                       empty SEND; the sender passive
#   raw frames                          chunks out of order (reassembly),
#                                       garbage (400 and close)
#   --window                            counts chunks: 2 SENDs unanswered
#                                       at most
#
# Usage: msrpcat-loopback.sh MSRPCAT GEN-TEST-CERTS.SH
set -euo pipefail
msrpcat="$1"
gen_certs="$2"
work=$(mktemp -d)
pids=()

cleanup () {
  for p in "${pids[@]}"; do
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail () {
  echo "FAIL: $*"
  for f in "$work"/*.err; do
    [ -f "$f" ] && { echo "--- $f:"; tail -20 "$f"; }
  done
  exit 1
}

# Start a background msrpcat with stdout and stderr in $work/NAME.out/.err;
# its pid goes to the variable NAME_pid.
start () {
  local name="$1"; shift
  # Remove the files of an earlier NAME first: path_of must never read the
  # old path in the moment before the new process truncates the file.
  rm -f "$work/$name.out" "$work/$name.err"
  "$msrpcat" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  eval "${name}_pid=$!"
}

# The path a background msrpcat printed (--print-use-path), first line.
path_of () {
  local name="$1"
  for _ in $(seq 100); do
    if [ -s "$work/$name.out" ] && head -1 "$work/$name.out" | grep -q ';'; then
      head -1 "$work/$name.out"
      return 0
    fi
    sleep 0.1
  done
  fail "$name printed no path"
}

# Wait for a background process at most SECS seconds; its exit status goes
# to the variable rc.
wait_for () {
  local pid="$1" secs="$2"
  for _ in $(seq $((secs * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    fail "process $pid still running after ${secs} s"
  fi
  rc=0
  wait "$pid" || rc=$?
}

json_field () {   # FILE EXPR: evaluate EXPR on the last stdout line's JSON
  python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(eval(sys.argv[2]))' "$1" "$2"
}

head -c $((20 * 1024 * 1024)) /dev/urandom >"$work/big.bin"

# --- usage errors exit 2 -------------------------------------------------
rc=0; "$msrpcat" --chunk-size 0 -m x --to-path 'msrp://127.0.0.1:1/a;tcp' \
  2>"$work/usage.err" || rc=$?
[ "$rc" -eq 2 ] || fail "bad --chunk-size: exit $rc, not 2"
grep -q -- "--chunk-size" "$work/usage.err" || fail "usage message"
rc=0; "$msrpcat" -m x 2>"$work/usage.err" || rc=$?
[ "$rc" -eq 2 ] || fail "no peer: exit $rc, not 2"
rc=0; "$msrpcat" --to-path 'msrp://127.0.0.1:1/a;tcp' -m x --timeout 2 \
  2>"$work/refused.err" || rc=$?
[ "$rc" -eq 3 ] || fail "connection refused: exit $rc, not 3"
echo "ok: usage errors exit 2, a refused connection exits 3"

# --- text messages, Success REPORT ---------------------------------------
start recv --listen 127.0.0.1:0 --receive --print-use-path --expect 3 --json
path=$(path_of recv)
"$msrpcat" --to-path "$path" -m "hello" -m "second message" -m "héllo ☃" \
  --success-report yes --json >"$work/send.out" 2>"$work/send.err" ||
  fail "text sender exit $?"
wait_for "$recv_pid" 20
[ "$rc" -eq 0 ] || fail "text receiver exit $rc"
[ "$(sed -n 2,4p "$work/recv.out")" = "$(printf 'hello\nsecond message\nhéllo ☃')" ] ||
  fail "text messages differ: $(cat "$work/recv.out")"
[ "$(json_field "$work/send.out" 'd["sent"]["success_reports"]')" = 3 ] ||
  fail "sender did not count 3 success reports"
[ "$(json_field "$work/send.out" 'd["sent"]["responses"]["200"]')" = 3 ] ||
  fail "sender did not count 3 x 200"
[ "$(json_field "$work/recv.out" 'd["received"]["success_reports"]')" = 3 ] ||
  fail "receiver did not send 3 success reports"
grep -q "3 success reports 200 received" "$work/send.err" ||
  fail "sender summary: $(cat "$work/send.err")"
echo "ok: text messages and Success REPORTs"

# --- 20 MB in 1 MB and in 2 KB chunks --------------------------------------
for cs in 1M 2k; do
  rm -rf "$work/out"
  start recv --listen 127.0.0.1:0 --receive --print-use-path --expect 1 \
    --output-dir "$work/out" --json
  path=$(path_of recv)
  "$msrpcat" --to-path "$path" --file "$work/big.bin" --chunk-size "$cs" \
    --success-report yes --json >"$work/send.out" 2>"$work/send.err" ||
    fail "file sender ($cs) exit $?"
  wait_for "$recv_pid" 60
  [ "$rc" -eq 0 ] || fail "file receiver ($cs) exit $rc"
  id=$(json_field "$work/recv.out" 'd["received"]["list"][0]["message_id"]')
  cmp "$work/big.bin" "$work/out/$id" || fail "file ($cs) differs"
  [ "$(ls -A "$work/out" | wc -l)" -eq 1 ] || fail "left-over files: $(ls -A "$work/out")"
  chunks=$(json_field "$work/send.out" 'd["sent"]["chunks"]')
  want=$([ "$cs" = 1M ] && echo 20 || echo 10240)
  [ "$chunks" = "$want" ] || fail "$chunks chunks sent, not $want"
  [ "$(json_field "$work/recv.out" 'd["received"]["list"][0]["content_type"]')" = \
    application/octet-stream ] || fail "content type in the summary"
  echo "ok: 20 MB file in $cs chunks ($chunks chunks), byte-exact"
done

# --- 413 over --max-size --------------------------------------------------
rm -rf "$work/out"
start recv --listen 127.0.0.1:0 --receive --print-use-path --max-size 1M \
  --output-dir "$work/out"
path=$(path_of recv)
rc=0; "$msrpcat" --to-path "$path" --file "$work/big.bin" --chunk-size 64k \
  2>"$work/send.err" || rc=$?
[ "$rc" -eq 1 ] || fail "sender over --max-size: exit $rc, not 1"
grep -q "413" "$work/send.err" || fail "no 413 in: $(cat "$work/send.err")"
wait_for "$recv_pid" 20
[ -z "$(ls -A "$work/out")" ] || fail "a refused message left files"
echo "ok: --max-size answers 413, the sender stops and exits 1"

# Unknown total (a pipe): refused when it grows over the limit.
start recv --listen 127.0.0.1:0 --receive --print-use-path --max-size 100k
path=$(path_of recv)
rc=0; cat "$work/big.bin" | "$msrpcat" --to-path "$path" --chunk-size 16k \
  2>"$work/send.err" || rc=$?
[ "$rc" -eq 1 ] || fail "piped sender over --max-size: exit $rc, not 1"
grep -q "413" "$work/send.err" || fail "no 413 in: $(cat "$work/send.err")"
wait_for "$recv_pid" 20
echo "ok: a message of unknown size is stopped with 413 at the limit"

# --- 481 for another session ----------------------------------------------
# A refused request binds nothing: the receiver waits on for its peer, until
# --timeout (exit 4).
start recv --listen 127.0.0.1:0 --receive --print-use-path --timeout 3
path=$(path_of recv)
wrong=$(echo "$path" | sed 's#/[A-Za-z0-9]*;tcp#/NoSuchSession;tcp#')
rc=0; "$msrpcat" --to-path "$wrong" -m "to nobody" 2>"$work/send.err" || rc=$?
[ "$rc" -eq 1 ] || fail "sender to a wrong session: exit $rc, not 1"
grep -q "481" "$work/send.err" || fail "no 481 in: $(cat "$work/send.err")"
wait_for "$recv_pid" 20
[ "$rc" -eq 4 ] || fail "receiver waiting in vain: exit $rc, not 4"
grep -q "refused with 481" "$work/recv.err" || fail "receiver did not say 481"
grep -q "timeout" "$work/recv.err" || fail "receiver did not say timeout"
echo "ok: a wrong session gets 481; --timeout ends the wait with exit 4"

# --- 415 outside --accept-types --------------------------------------------
start recv --listen 127.0.0.1:0 --receive --print-use-path \
  --accept-types "text/*"
path=$(path_of recv)
rc=0; "$msrpcat" --to-path "$path" --file "$work/big.bin" \
  --content-type image/png 2>"$work/send.err" || rc=$?
[ "$rc" -eq 1 ] || fail "sender of a refused type: exit $rc, not 1"
grep -q "415" "$work/send.err" || fail "no 415 in: $(cat "$work/send.err")"
wait_for "$recv_pid" 20
echo "ok: a type outside --accept-types gets 415"

# --- TLS --------------------------------------------------------------------
mkdir "$work/certs"
sh "$gen_certs" "$work/certs"
rm -rf "$work/out"
start recv --listen 127.0.0.1:0 --tls --cert "$work/certs/server.pem" \
  --key "$work/certs/server.key" --ca-file "$work/certs/ca.pem" --receive \
  --print-use-path --expect 1 --output-dir "$work/out" --json -v
path=$(path_of recv)
case "$path" in msrps://*) ;; *) fail "TLS path is not msrps: $path" ;; esac
rc=0; "$msrpcat" --to-path "$path" --ca-file "$work/certs/rogue-ca.pem" \
  -m "rogue" 2>"$work/send.err" || rc=$?
[ "$rc" -eq 3 ] || fail "sender trusting another CA: exit $rc, not 3"
grep -q "certificate" "$work/send.err" || fail "TLS failure message: $(cat "$work/send.err")"
"$msrpcat" --to-path "$path" --ca-file "$work/certs/ca.pem" \
  --cert "$work/certs/client.pem" --key "$work/certs/client.key" \
  --file "$work/big.bin" --chunk-size 1M >"$work/send.out" \
  2>"$work/send.err" || fail "TLS sender exit $?"
wait_for "$recv_pid" 60
[ "$rc" -eq 0 ] || fail "TLS receiver exit $rc"
id=$(json_field "$work/recv.out" 'd["received"]["list"][0]["message_id"]')
cmp "$work/big.bin" "$work/out/$id" || fail "file over TLS differs"
grep -q "peer certificate CN=client-relay.test" "$work/recv.err" ||
  fail "receiver did not see the client certificate"
echo "ok: TLS (certificate checked, unknown CA refused, client certificate)"

# --- RFC 6135: the receiver active (binding), the sender passive -----------
rm -rf "$work/out"
start send --listen 127.0.0.1:0 --print-use-path --file "$work/big.bin" \
  --chunk-size 2k --success-report yes --json
path=$(path_of send)
"$msrpcat" --receive --to-path "$path" --bind --expect 1 \
  --output-dir "$work/out" --json >"$work/recv.out" 2>"$work/recv.err" ||
  fail "active receiver exit $?"
wait_for "$send_pid" 60
[ "$rc" -eq 0 ] || fail "passive sender exit $rc"
id=$(json_field "$work/recv.out" 'd["received"]["list"][0]["message_id"]')
cmp "$work/big.bin" "$work/out/$id" || fail "file to the active receiver differs"
[ "$(json_field "$work/send.out" 'd["received"]["binds"]')" = 1 ] ||
  fail "the passive sender saw no empty SEND"
[ "$(json_field "$work/send.out" 'd["sent"]["success_reports"]')" = 1 ] ||
  fail "the passive sender got no success report"
echo "ok: active receiver binds with an empty SEND, passive sender sends"

# --- raw frames: chunks out of order, and garbage --------------------------
rm -rf "$work/out"
start recv --listen 127.0.0.1:0 --keep --receive --print-use-path --expect 1 \
  --output-dir "$work/out" --json
path=$(path_of recv)
python3 - "$path" "$work/out" <<'PY' || fail "raw frame checks"
import os, re, socket, sys

path, out = sys.argv[1], sys.argv[2]
m = re.match(r"msrp://([0-9.]+):([0-9]+)/", path)
addr = (m.group(1), int(m.group(2)))
me = "msrp://127.0.0.1:9/rawclient;tcp"

def frame(tid, extra, body=None, flag="$"):
    head = "MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\n%s" % (
        tid, path, me, extra)
    if body is None:
        return (head + "-------%s%s\r\n" % (tid, flag)).encode()
    return (head + "Content-Type: text/plain\r\n\r\n").encode() + body + \
        ("\r\n-------%s%s\r\n" % (tid, flag)).encode()

def read_until_closed(s):
    data = b""
    s.settimeout(10)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk

def responses(data):
    return re.findall(rb"MSRP (\w+) (\d{3})", data)

# Garbage after the paths: 400, then the connection is closed.
s = socket.create_connection(addr)
s.sendall(("MSRP bad1 SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
           "this is not a header line\r\n\r\n" % (path, me)).encode())
got = responses(read_until_closed(s))
assert got == [(b"bad1", b"400")], got
s.close()

# A bad header value: 400, the connection goes on; then a message in two
# chunks, the second first (the receiver reassembles it).
s = socket.create_connection(addr)
s.sendall(frame("bad2", "Message-ID: m1\r\nByte-Range: 0-3/3\r\n", b"abc"))
body = b"0123456789" * 1000
s.sendall(frame("chk2", "Message-ID: rawmsg1\r\nByte-Range: 5001-10000/10000\r\n",
                body[5000:], "+"))
s.sendall(frame("chk1", "Message-ID: rawmsg1\r\nByte-Range: 1-5000/10000\r\n",
                body[:5000], "+"))
got = responses(read_until_closed(s))
assert got == [(b"bad2", b"400"), (b"chk2", b"200"), (b"chk1", b"200")], got
with open(os.path.join(out, "rawmsg1"), "rb") as f:
    assert f.read() == body
PY
wait_for "$recv_pid" 20
[ "$rc" -eq 0 ] || fail "raw-frame receiver exit $rc"
echo "ok: out-of-order chunks reassembled, garbage answered 400 and closed"

# --- --window counts chunks ------------------------------------------------
# A peer that reads and never answers: with --window 2, a file of 10 chunks
# must stop after 2 SENDs (each chunk is a transaction), then time out.
python3 - "$work/window.port" "$work/window.count" <<'PY' &
import socket, sys, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
open(sys.argv[1], "w").write("%d\n" % srv.getsockname()[1])
srv.settimeout(20)
c, _ = srv.accept()
c.settimeout(0.2)
data, start, counted = b"", time.time(), False
while time.time() < start + 20:
    if not counted and time.time() > start + 1.5:
        open(sys.argv[2], "w").write("%d\n" % data.count(b" SEND\r\n"))
        counted = True
    try:
        d = c.recv(65536)
    except socket.timeout:
        continue
    if not d:
        break    # msrpcat gave up and closed: the connection stayed open
    data += d
PY
window_pid=$!
pids+=("$window_pid")
for _ in $(seq 100); do [ -s "$work/window.port" ] && break; sleep 0.1; done
head -c $((10 * 2048)) /dev/urandom >"$work/window.bin"
rc=0; "$msrpcat" --to-path "msrp://127.0.0.1:$(cat "$work/window.port")/win;tcp" \
  -f "$work/window.bin" -c 2k --window 2 --timeout 3 2>"$work/window.err" || rc=$?
[ "$rc" -eq 4 ] || fail "--window 2 against a silent peer: exit $rc, not 4"
wait "$window_pid" || fail "the silent peer failed"
[ "$(cat "$work/window.count")" = 2 ] ||
  fail "--window 2 sent $(cat "$work/window.count") chunks unanswered, not 2"
echo "ok: --window counts each chunk as a transaction"

echo "msrpcat loopback: ok"
