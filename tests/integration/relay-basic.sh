#!/bin/bash
# Two msrpcat clients through one msrp-edge (RFC 4976), real processes on
# loopback:
#
#   AUTH              bob has a SHA-256 line, alice an MD5 one (she answers
#                     the SHA-256 challenge first and is challenged again
#                     with MD5, stale=true); both get a session
#   text messages     three, byte-exact at the far end, Success REPORTs back
#   a big file        RELAY_BIG_MB MiB (default 100) in 1 MB and in 2 KB
#                     chunks, cmp at the far end, Success REPORT
#   garbage           while the 2 KB transfer runs: 400 or close for the
#                     garbage connection, the transfer goes on unharmed
#   unknown session   481 (to msrpcat through its session, and to a raw SEND)
#   bad credentials   401 (msrpcat exits 1), a locked user 403, and three
#                     failed AUTHs on one connection close it
#   not addressed     a request whose To-Path is not the relay's: the
#                     connection is dropped without an answer
#   log stream        auth_ok, auth_failed, session_created, one
#                     message_relayed per message with bytes and chunks,
#                     connection_closed with bytes and reason, stats
#   SIGTERM           exit 0 (LeakSanitizer runs in the ASan build)
#
# Usage: relay-basic.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"

realm=relay.test
big_mb=${RELAY_BIG_MB:-100}
big_size=$((big_mb * 1024 * 1024))

users_file "$WORK/users" "$realm" alice:alice-pw:md5 bob:bob-pw:sha256 \
  mallory:mallory-pw:locked-md5
edge_start edge "[auth]\nrealm=$realm\nusers-file=$WORK/users"
export MSRPCAT_PASSWORD=unused   # each run gives --password

# --- AUTH and text messages with Success REPORTs ---------------------------
mc_start recv --relay "$edge_uri" -u bob -P bob-pw --receive --print-use-path \
  --expect 3 --json -T 60
bob_path=$(mc_path recv)
[[ "$bob_path" =~ ^msrp://127\.0\.0\.1:$edge_port/([A-Za-z0-9]{16})\;tcp\ msrp://127\.0\.0\.1:[0-9]+/[A-Za-z0-9]+\;tcp$ ]] ||
  fail "bob's path: '$bob_path'"
bob_session=${BASH_REMATCH[1]}
mc_run send --relay "$edge_uri" -u alice -P alice-pw -v --to-path "$bob_path" \
  -m hello -m "second message" -m "héllo ☃" --success-report yes --json
[ "$rc" -eq 0 ] || fail "text sender: exit $rc"
mc_wait recv 20
[ "$rc" -eq 0 ] || fail "text receiver: exit $rc"
[ "$(sed -n 2,4p "$WORK/recv.out")" = "$(printf 'hello\nsecond message\nhéllo ☃')" ] ||
  fail "text at the far end: $(cat "$WORK/recv.out")"
[ "$(json_last "$WORK/send.out" 'd["sent"]["success_reports"]')" = 3 ] ||
  fail "the sender did not get 3 Success REPORTs"
[ "$(json_last "$WORK/send.out" 'd["sent"]["responses"]')" = "{'200': 3}" ] ||
  fail "the sender did not get 3 x 200"
grep -q 'answering the SHA-256 challenge' "$WORK/send.err" &&
  grep -q 'answering the MD5 challenge' "$WORK/send.err" ||
  fail "alice was not moved from SHA-256 to MD5"
alice_session=$(json_last "$WORK/send.out" 'd["use_path"].split("/")[3].split(";")[0]')
log_match "$WORK/edge.log" auth_ok user=bob session="$bob_session" method=digest >/dev/null ||
  fail "no auth_ok for bob"
log_match "$WORK/edge.log" auth_ok user=alice session="$alice_session" >/dev/null ||
  fail "no auth_ok for alice"
log_match "$WORK/edge.log" session_created session="$alice_session" kind=client user=alice \
  uri="msrp://127.0.0.1:$edge_port/$alice_session;tcp" >/dev/null ||
  fail "no session_created for alice"
# One message_relayed per message, with its bytes and chunk count, matching
# what the receiver got (Message-ID and size).
python3 - "$WORK/edge.log" "$WORK/recv.out" "$alice_session" <<'EOF' ||
import json, sys
log, recv, session = sys.argv[1:]
got = json.loads(open(recv).read().splitlines()[-1])["received"]["list"]
lines = [json.loads(l) for l in open(log)]
rel = [e for e in lines if e["event"] == "message_relayed"]
assert len(rel) == 3, "%d message_relayed lines, not 3" % len(rel)
for m, e in zip(got, rel):
    want = dict(message_id=m["message_id"], bytes=m["bytes"], chunks=1,
                outcome="delivered", acknowledged=True, session=session)
    for k, v in want.items():
        assert e.get(k) == v, "message_relayed %s: %r, not %r" % (k, e.get(k), v)
EOF
  fail "message_relayed lines for the text messages"
[ "$(log_count "$WORK/edge.log" auth_failed)" = 0 ] ||
  fail "alice's SHA-256 retry was counted as a failure"
note "AUTH (SHA-256 and MD5 users), 3 text messages byte-exact, Success REPORTs, log lines"

# --- a big file in 1 MB and in 2 KB chunks ----------------------------------
head -c "$big_size" /dev/urandom >"$WORK/big.bin"
part_size () {   # size of the .part file the receiver is writing, or 0
  local f
  f=$(find "$WORK/out" -name '.*.part' 2>/dev/null | head -1)
  [ -n "$f" ] && stat -c %s "$f" 2>/dev/null || echo 0
}
part_over () { [ "$(part_size)" -gt "$1" ]; }
for cs in 1M 2k; do
  case $cs in 1M) chunk=1048576 ;; 2k) chunk=2048 ;; esac
  chunks=$(( (big_size + chunk - 1) / chunk ))
  rm -rf "$WORK/out"
  mc_start recv --relay "$edge_uri" -u bob -P bob-pw --receive \
    --print-use-path --expect 1 -o "$WORK/out" --json -T 120
  path=$(mc_path recv)
  mc_start send --relay "$edge_uri" -u alice -P alice-pw --to-path "$path" \
    -f "$WORK/big.bin" -c "$cs" --success-report yes --json -T 120
  if [ "$cs" = 2k ]; then
    # Garbage on other connections while this transfer runs: a broken frame
    # gets 400 (when its transaction id could be read) and its connection
    # is closed; a well-formed frame with a bad Byte-Range gets 400 (the
    # connection may stay); the transfer goes on.
    wait_until 60 part_over 1048576 || fail "the 2 KB transfer did not start"
    before=$(part_size)
    raw 127.0.0.1 "$edge_port" 'raw=GET / HTTP/1.1\r\nHost: relay\r\n\r\n' \
      'closed=^MSRP \S+ 400 ' >"$WORK/garbage1.out" 2>&1 &
    g1=$!
    raw 127.0.0.1 "$edge_port" 'raw=MSRP gb01 SEND\r\nTo-Path: \x00\xff\x01\r\n\r\n' \
      'closed=^MSRP gb01 400 ' >"$WORK/garbage2.out" 2>&1 &
    g2=$!
    raw 127.0.0.1 "$edge_port" "raw=MSRP gb02 SEND\r\nTo-Path: msrp://127.0.0.1:$edge_port/$bob_session;tcp\r\nFrom-Path: msrp://127.0.0.1:9/g;tcp\r\nByte-Range: 9-1/0\r\nContent-Type: text/plain\r\n\r\nxx\r\n-------gb02\$\r\n" \
      'expect=^MSRP gb02 400 Byte-Range' >"$WORK/garbage3.out" 2>&1 &
    g3=$!
    for g in 1 2 3; do
      eval "wait \$g$g" || fail "garbage $g: $(cat "$WORK/garbage$g.out")"
    done
    two_closed () {
      [ "$(log_count "$WORK/edge.log" connection_closed reason=parse_error)" = 2 ]
    }
    wait_until 5 two_closed ||
      fail "garbage connections not closed with reason parse_error"
    kill -0 "$send_pid" 2>/dev/null || fail "the transfer ended before the garbage was over"
    note "garbage: 400 or close, 3 connections, while the 2 KB transfer was at $before bytes"
  fi
  mc_wait send $((60 + big_mb))
  [ "$rc" -eq 0 ] || fail "$cs sender: exit $rc"
  mc_wait recv 30
  [ "$rc" -eq 0 ] || fail "$cs receiver: exit $rc"
  cmp "$WORK/big.bin" "$WORK"/out/* || fail "$cs: the file differs at the far end"
  [ "$(json_last "$WORK/send.out" 'd["sent"]["chunks"]')" = "$chunks" ] ||
    fail "$cs: the sender did not send $chunks chunks"
  [ "$(json_last "$WORK/send.out" 'd["sent"]["success_reports"]')" = 1 ] ||
    fail "$cs: no Success REPORT"
  mid=$(json_last "$WORK/recv.out" 'd["received"]["list"][0]["message_id"]')
  log_match "$WORK/edge.log" message_relayed message_id="$mid" bytes="$big_size" \
    chunks="$chunks" outcome=delivered acknowledged=true >/dev/null ||
    fail "$cs: message_relayed: $(log_match "$WORK/edge.log" message_relayed message_id="$mid")"
  [ "$(log_count "$WORK/edge.log" message_relayed message_id="$mid")" = 1 ] ||
    fail "$cs: not one message_relayed line for the message"
  # The sender's connection: at least the file in, and the 200s out.
  session=$(json_last "$WORK/send.out" 'd["use_path"].split("/")[3].split(";")[0]')
  conn=$(log_field "$WORK/edge.log" auth_ok conn session="$session")
  wait_log "$WORK/edge.log" 10 connection_closed conn="$conn" ||
    fail "$cs: the sender's connection $conn was not logged closed"
  bytes_in=$(log_field "$WORK/edge.log" connection_closed bytes_in conn="$conn")
  bytes_out=$(log_field "$WORK/edge.log" connection_closed bytes_out conn="$conn")
  [ "$bytes_in" -gt "$big_size" ] && [ "$bytes_out" -gt $((chunks * 60)) ] ||
    fail "$cs: sender's connection bytes_in=$bytes_in bytes_out=$bytes_out"
  [ "$(log_field "$WORK/edge.log" connection_closed reason conn="$conn")" = peer_closed ] ||
    fail "$cs: sender's connection close reason"
  if [ "$cs" = 2k ]; then
    # The garbage was handled while the message was being relayed.
    n_garbage=$(grep -n '"reason":"parse_error"' "$WORK/edge.log" | tail -1 | cut -d: -f1)
    n_done=$(grep -n "\"event\":\"message_relayed\".*\"message_id\":\"$mid\"" "$WORK/edge.log" | cut -d: -f1)
    [ "$n_garbage" -lt "$n_done" ] || fail "the garbage was not handled during the transfer"
  fi
  note "$big_mb MiB in $cs chunks ($chunks), cmp equal, Success REPORT, message_relayed and connection_closed fields"
done
rm -f "$WORK/big.bin"

# --- unknown session: 481 -----------------------------------------------------
mc_run send --relay "$edge_uri" -u alice -P alice-pw -m "to nobody" \
  --to-path "msrp://127.0.0.1:$edge_port/NoSuchSession0001;tcp msrp://127.0.0.1:9/peer;tcp"
[ "$rc" -eq 1 ] || fail "SEND to an unknown session: exit $rc, not 1"
grep -q '481' "$WORK/send.err" || fail "481 not reported: $(cat "$WORK/send.err")"
raw 127.0.0.1 "$edge_port" "send=MSRP un01 SEND
To-Path: msrp://127.0.0.1:$edge_port/NoSuchSession0002;tcp
From-Path: msrp://127.0.0.1:9/peer;tcp
Message-ID: unknown-session-1
Byte-Range: 1-5/5
Content-Type: text/plain

hello
-------un01\$
" 'expect=^MSRP un01 481 ' 'quiet=0.5' >"$WORK/raw481.out" ||
  fail "raw SEND to an unknown session: $(cat "$WORK/raw481.out")"
note "unknown session: 481 to msrpcat (exit 1) and to a raw SEND"

# --- bad credentials ------------------------------------------------------------
mc_run send --relay "$edge_uri" -u alice -P wrong-pw -m x --to-path "$bob_path"
[ "$rc" -eq 1 ] || fail "wrong password: exit $rc, not 1"
grep -q "refused the credentials of user 'alice'" "$WORK/send.err" ||
  fail "wrong password message: $(cat "$WORK/send.err")"
wait_log "$WORK/edge.log" 5 auth_failed user=alice failures=1 ||
  fail "no auth_failed for alice"
log_field "$WORK/edge.log" auth_failed reason user=alice | grep -q 'bad-response' ||
  fail "auth_failed reason for alice"
grep -q 'wrong-pw' "$WORK/edge.log" && fail "the password is in the log"
mc_run send --relay "$edge_uri" -u mallory -P mallory-pw -m x --to-path "$bob_path"
[ "$rc" -eq 1 ] || fail "locked user: exit $rc, not 1"
grep -q '403' "$WORK/send.err" || fail "locked user message: $(cat "$WORK/send.err")"
log_match "$WORK/edge.log" auth_failed user=mallory \
  reason="user is locked in the users file" >/dev/null || fail "no auth_failed for mallory"
# Three failures on one connection: 401 each time, then the close.
relay_uri="msrp://127.0.0.1:$edge_port;tcp"
auth () {   # TID [BAD-RESPONSE]
  printf 'send=MSRP %s AUTH\nTo-Path: %s\nFrom-Path: msrp://127.0.0.1:9/brute;tcp\n' "$1" "$relay_uri"
  [ -n "${2:-}" ] && printf 'Authorization: Digest username="alice", realm="%s", nonce="@nonce@", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b"\n' \
    "$realm" "$relay_uri" "$2"
  printf -- '-------%s$\n' "$1"
}
challenge='expect=^MSRP \S+ 401 .*WWW-Authenticate: Digest [^\r]*nonce="(?P<nonce>[^"]+)", algorithm=MD5'
raw 127.0.0.1 "$edge_port" "$(auth brute0)" "$challenge" \
  "$(auth brute1 0123456789abcdef0123456789abcdef)" 'expect=^MSRP brute1 401 ' \
  "$(auth brute2 0123456789abcdef0123456789abcdef)" 'expect=^MSRP brute2 401 ' \
  "$(auth brute3 0123456789abcdef0123456789abcdef)" 'closed=^MSRP brute3 401 ' \
  >"$WORK/brute.out" || fail "three bad AUTHs: $(cat "$WORK/brute.out")"
wait_log "$WORK/edge.log" 5 auth_failed user=alice failures=3 ||
  fail "no auth_failed with failures=3"
[ "$(log_count "$WORK/edge.log" connection_closed reason=auth_failed)" = 1 ] ||
  fail "no connection_closed with reason auth_failed"
note "bad credentials: 401 (exit 1), locked user 403, closed after 3 failures"

# --- a request not addressed to the relay: connection dropped ---------------
raw 127.0.0.1 "$edge_port" "send=MSRP na01 SEND
To-Path: msrp://127.0.0.1:9/elsewhere;tcp
From-Path: msrp://127.0.0.1:9/peer;tcp
Message-ID: not-addressed-1
Byte-Range: 1-5/5
Content-Type: text/plain

hello
-------na01\$
" closed >"$WORK/notaddr.out" || fail "not addressed: $(cat "$WORK/notaddr.out")"
wait_log "$WORK/edge.log" 5 connection_closed reason=not_addressed_to_relay ||
  fail "no connection_closed with reason not_addressed_to_relay"
note "a request not addressed to the relay: dropped with its connection, no answer"

# --- the daemon still serves, then stops cleanly --------------------------------
mc_start recv --relay "$edge_uri" -u bob -P bob-pw --receive --print-use-path \
  --expect 1 -T 60
path=$(mc_path recv)
mc_run send --relay "$edge_uri" -u alice -P alice-pw --to-path "$path" -m "still here"
[ "$rc" -eq 0 ] || fail "after the failures: sender exit $rc"
mc_wait recv 20
[ "$rc" -eq 0 ] && [ "$(sed -n 2p "$WORK/recv.out")" = "still here" ] ||
  fail "after the failures: receiver exit $rc"
edge_stop edge
python3 - "$WORK/edge.log" <<'EOF' || fail "stats at shutdown"
import json, sys
st = [json.loads(l) for l in open(sys.argv[1]) if '"event":"stats"' in l][-1]
assert st["err_481"] >= 2, st
assert st["err_401"] >= 5, st
assert st["messages"] >= 6, st
assert st["connections"] == 0 and st["sessions"] == 0, st
EOF
note "still serving after the failures; SIGTERM: exit 0, stats with err_481 and err_401"
echo "relay basic: ok"
