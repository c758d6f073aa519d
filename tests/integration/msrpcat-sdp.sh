#!/bin/bash
# msrpcat's SDP mode and ICE mode on loopback: an offerer and an answerer
# that meet only through SDP files (the offerer writes its offer, then waits
# for the answer; the answerer waits for the offer, then writes its answer).
#
#   the four RFC 4145 / RFC 6135 role combinations, plain TCP and ICE-TCP:
#     offer actpass, answer passive   -> the offerer connects and binds
#     offer actpass, answer active    -> the answerer connects and binds
#     offer active,  answer passive   -> the offerer connects
#     offer passive, answer active    -> the answerer connects
#   plus a legacy pair without a=setup (RFC 4975: the offerer connects);
#   each run: a 5 MB random file and two chat messages each way, byte-exact,
#   and the role, transport and ICE pair in the --json summary;
#   ICE offer, plain answer (and the reverse): plain TCP;
#   ICE candidates pointing at a closed loopback port: exit 3 within the
#   ICE timeout, the tried pair named on stderr;
#   a malformed SDP, one without a=path, conflicting a=setup values: exit 2;
#   an SDP that never comes: exit 4 after --timeout;
#   with MSRP-EDGE: an offerer behind an RFC 4976 relay (its a=path the
#   Use-Path reversed, then its URI) and a passive answerer: the file from
#   the offerer, chat both ways (RELAY_FILE_BOTH_WAYS=1: the answerer's
#   file too; msrp-edge corrupted one chunk in about one run of four when
#   this was written, see the lead's notes).
#
# Usage: msrpcat-sdp.sh MSRPCAT [MSRP-EDGE]
set -euo pipefail
msrpcat="$1"
msrp_edge="${2:-}"
work=$(mktemp -d)
pids=()

cleanup () {
  for p in "${pids[@]}"; do
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail () {
  echo "FAIL: $*"
  for f in "$work"/*.err; do
    [ -f "$f" ] && { echo "--- $f:"; tail -20 "$f"; }
  done
  for f in "$work"/*.sdp; do
    [ -f "$f" ] && { echo "--- $f:"; cat "$f"; }
  done
  exit 1
}

# Start a background msrpcat with stdout and stderr in $work/NAME.out/.err;
# its pid goes to the variable last_pid.
start () {
  local name="$1"; shift
  rm -f "$work/$name.out" "$work/$name.err"
  "$msrpcat" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  last_pid=$!
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

# json_get NAME KEY.KEY...: a value of NAME's --json summary (last line of
# NAME.out), "null" when absent.
json_get () {
  python3 - "$work/$1.out" "$2" <<'EOF'
import json, sys
line = open(sys.argv[1]).read().splitlines()[-1]
v = json.loads(line)
for k in sys.argv[2].split('.'):
    v = v.get(k) if isinstance(v, dict) else None
print('null' if v is None else v)
EOF
}

expect_json () {
  local name="$1" key="$2" want="$3" got
  got=$(json_get "$name" "$key")
  [ "$got" = "$want" ] || fail "$name: $key is '$got', expected '$want'"
}

# check_inbox DIR FILE CHAT...: DIR holds FILE byte for byte and each chat
# text, nothing else.
check_inbox () {
  local dir="$1" file="$2"; shift 2
  local n=0 found_file=0 f
  local -a texts=()
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    if [ "$(stat -c %s "$f")" = "$(stat -c %s "$file")" ]; then
      cmp -s "$f" "$file" || fail "$dir: the file differs from $file"
      found_file=1
    else
      texts+=("$(cat "$f")")
    fi
  done
  [ "$n" = $(($# + 1)) ] || fail "$dir: $n messages, expected $(($# + 1))"
  [ "$found_file" = 1 ] || fail "$dir: no copy of $file"
  for want in "$@"; do
    local ok=0
    for t in "${texts[@]}"; do
      [ "$t" = "$want" ] && ok=1
    done
    [ "$ok" = 1 ] || fail "$dir: chat message '$want' missing"
  done
}

head -c $((5 * 1024 * 1024)) /dev/urandom >"$work/offer.bin"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$work/answer.bin"

# pair NAME MODE OFFER-SETUP ANSWER-SETUP OFFERER-ROLE: run an offerer and
# an answerer (MODE plain or ice; a setup "-" gives no --setup option)
# that exchange a file and two chat messages each way.
pair () {
  local name="$1" mode="$2" osetup="$3" asetup="$4" orole="$5"
  local arole=passive
  [ "$orole" = passive ] && arole=active
  local -a oargs=() aargs=() common=()
  rm -f "$work/$name-offer.sdp" "$work/$name-answer.sdp"
  rm -rf "$work/$name-oin" "$work/$name-ain"
  [ "$osetup" != - ] && oargs+=(--setup "$osetup")
  [ "$asetup" != - ] && aargs+=(--setup "$asetup")
  if [ "$mode" = ice ]; then
    common=(--ice --ice-address 127.0.0.1 --ice-timeout 10)
  else
    oargs+=(--listen 127.0.0.1:0)
    aargs+=(--sdp-address 127.0.0.1)
  fi
  start "$name-o" "${common[@]}" "${oargs[@]}" \
    --sdp-out "$work/$name-offer.sdp" --sdp-in "$work/$name-answer.sdp" \
    -f "$work/offer.bin" -c 64k -m "offerer says hello" \
    -m "offerer: été ✓" -r -e 3 -o "$work/$name-oin" -T 20 --json
  local opid=$last_pid
  start "$name-a" "${common[@]}" "${aargs[@]}" --answer \
    --sdp-in "$work/$name-offer.sdp" --sdp-out "$work/$name-answer.sdp" \
    -f "$work/answer.bin" -m "answerer says hi" -m "answerer: 2nd" \
    -r -e 3 -o "$work/$name-ain" -T 20 --json
  local apid=$last_pid
  wait_for "$opid" 60
  [ "$rc" = 0 ] || fail "$name: the offerer exited $rc"
  wait_for "$apid" 60
  [ "$rc" = 0 ] || fail "$name: the answerer exited $rc"
  check_inbox "$work/$name-oin" "$work/answer.bin" "answerer says hi" \
    "answerer: 2nd"
  check_inbox "$work/$name-ain" "$work/offer.bin" "offerer says hello" \
    "offerer: été ✓"
  expect_json "$name-o" sdp.role "$orole"
  expect_json "$name-a" sdp.role "$arole"
  if [ "$mode" = ice ]; then
    expect_json "$name-o" transport ice-tcp
    expect_json "$name-a" transport ice-tcp
    grep -q '^a=ice-ufrag:' "$work/$name-offer.sdp" || fail "$name: no ufrag"
    grep -q '^a=end-of-candidates' "$work/$name-answer.sdp" ||
      fail "$name: no a=end-of-candidates"
    grep -q '^a=candidate:.* TCP .* tcptype passive' \
      "$work/$name-answer.sdp" || fail "$name: no tcp-passive candidate"
    # The pair seen from both ends: one side's local is the other's remote.
    [ "$(json_get "$name-o" ice.local.address)" = \
      "$(json_get "$name-a" ice.remote.address)" ] ||
      fail "$name: the two ends disagree on the pair"
    for end in local remote; do
      case "$(json_get "$name-o" ice.$end.tcptype)" in
        active|passive|so) ;;
        *) fail "$name: ice.$end.tcptype" ;;
      esac
      case "$(json_get "$name-o" ice.$end.type)" in
        host|prflx) ;;
        *) fail "$name: ice.$end.type" ;;
      esac
    done
  else
    expect_json "$name-o" transport tcp
    expect_json "$name-a" transport tcp
    if grep -q '^a=ice' "$work/$name-offer.sdp" "$work/$name-answer.sdp"
    then
      fail "$name: ICE lines in plain SDP"
    fi
  fi
  echo "ok: $name ($mode, offer ${osetup/-/actpass}, answer ${asetup/-/default}: offerer $orole)"
}

for mode in plain ice; do
  pair "${mode}_ap_p" "$mode" - - active
  pair "${mode}_ap_a" "$mode" - active passive
  pair "${mode}_a_p" "$mode" active - active
  pair "${mode}_p_a" "$mode" passive - passive
done
pair plain_none plain none none active
expect_json plain_none-o sdp.setup none
grep -q '^a=setup' "$work/plain_none-offer.sdp" &&
  fail "--setup none wrote an a=setup line"

# A plain SDP without a=setup from the answerer: passive by default (RFC
# 4145 section 4); the SDP written has c=, m= and a=path agreeing.
o_sdp="$work/plain_ap_p-offer.sdp"
port=$(sed -n 's/^m=message \([0-9]*\) TCP\/MSRP \*\r\?$/\1/p' "$o_sdp")
grep -q "^a=path:msrp://127.0.0.1:$port/.*;tcp" "$o_sdp" ||
  fail "the offer's a=path does not carry the m= port $port"
grep -q '^c=IN IP4 127.0.0.1' "$o_sdp" || fail "the offer's c= line"
grep -q '^a=setup:actpass' "$o_sdp" || fail "the offer's a=setup"
a_sdp="$work/plain_a_p-offer.sdp"
grep -q '^m=message 9 TCP/MSRP' "$a_sdp" ||
  fail "an active offer carries port 9 (RFC 6135 section 4.2.2)"

# ICE offer, plain answerer: the answer has no ICE lines, the offerer
# falls back to plain TCP to its a=path.
rm -f "$work"/fb1-*.sdp
start fb1o --ice --ice-address 127.0.0.1 --sdp-out "$work/fb1-offer.sdp" \
  --sdp-in "$work/fb1-answer.sdp" -m "over plain TCP" -T 20 --json
fb1o_pid=$last_pid
start fb1a --answer --sdp-in "$work/fb1-offer.sdp" \
  --sdp-out "$work/fb1-answer.sdp" --sdp-address 127.0.0.1 -r -e 1 -T 20 \
  --json
fb1a_pid=$last_pid
wait_for "$fb1o_pid" 30
[ "$rc" = 0 ] || fail "fallback: the ICE offerer exited $rc"
wait_for "$fb1a_pid" 30
[ "$rc" = 0 ] || fail "fallback: the plain answerer exited $rc"
expect_json fb1o transport tcp
grep -q "^over plain TCP" "$work/fb1a.out" || fail "fallback: message lost"
echo "ok: ICE offer, plain answer: plain TCP"

# Plain offer, ICE answerer: no ICE lines in the answer, plain TCP.
rm -f "$work"/fb2-*.sdp
start fb2o --listen 127.0.0.1:0 --sdp-out "$work/fb2-offer.sdp" \
  --sdp-in "$work/fb2-answer.sdp" -r -e 1 -T 20 --json
fb2o_pid=$last_pid
start fb2a --ice --ice-address 127.0.0.1 --answer --setup active \
  --sdp-in "$work/fb2-offer.sdp" --sdp-out "$work/fb2-answer.sdp" \
  -m "answered without ICE" -T 20 --json
fb2a_pid=$last_pid
wait_for "$fb2o_pid" 30
[ "$rc" = 0 ] || fail "fallback 2: the offerer exited $rc"
wait_for "$fb2a_pid" 30
[ "$rc" = 0 ] || fail "fallback 2: the ICE answerer exited $rc"
grep -q '^a=ice' "$work/fb2-answer.sdp" && fail "fallback 2: ICE lines"
expect_json fb2a transport tcp
grep -q "^answered without ICE" "$work/fb2o.out" ||
  fail "fallback 2: message lost"
echo "ok: plain offer, ICE answerer: plain TCP"

# ICE checks that cannot succeed: the answer's only candidate is a closed
# loopback port.  Exit 3 within the ICE timeout, with the pair tried.
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
cat >"$work/dead-answer.sdp" <<EOF
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
t=0 0
m=message $closed TCP/MSRP *
c=IN IP4 127.0.0.1
a=path:msrp://127.0.0.1:$closed/deadbeef;tcp
a=setup:passive
a=ice-ufrag:dead
a=ice-pwd:abcdefghijklmnopqrstuvwxyz
a=candidate:1 1 TCP 2105458943 127.0.0.1 $closed typ host tcptype passive
a=end-of-candidates
EOF
t0=$(date +%s)
start dead --ice --ice-address 127.0.0.1 --ice-timeout 3 \
  --sdp-out "$work/dead-offer.sdp" --sdp-in "$work/dead-answer.sdp" \
  -m "nobody there" -T 20 --json
dead_pid=$last_pid
wait_for "$dead_pid" 15
[ "$rc" = 3 ] || fail "ICE to a closed port: exit $rc, expected 3"
[ $(($(date +%s) - t0)) -le 9 ] || fail "ICE failure took too long"
grep -q "ICE failed: .*127.0.0.1:$closed" "$work/dead.err" ||
  fail "ICE failure without the tried pair"
expect_json dead exit 3
echo "ok: ICE to a closed port: exit 3 in $(($(date +%s) - t0)) s"

# Bad SDP files: exit 2, with the file and the reason.
printf 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nbogus\r\n' \
  >"$work/bad1.sdp"
rc=0
"$msrpcat" --answer --sdp-in "$work/bad1.sdp" --sdp-out "$work/x.sdp" \
  --sdp-address 127.0.0.1 -r -T 5 2>"$work/bad1.err" || rc=$?
[ "$rc" = 2 ] || fail "malformed SDP: exit $rc"
grep -q "bad1.sdp: line 4" "$work/bad1.err" || fail "malformed SDP: message"
printf 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=message 7 TCP/MSRP *\r\nc=IN IP4 127.0.0.1\r\na=setup:active\r\n' \
  >"$work/bad2.sdp"
rc=0
"$msrpcat" --answer --sdp-in "$work/bad2.sdp" --sdp-out "$work/x.sdp" \
  --sdp-address 127.0.0.1 -r -T 5 2>"$work/bad2.err" || rc=$?
[ "$rc" = 2 ] || fail "SDP without a=path: exit $rc"
grep -q "bad2.sdp: the MSRP stream (m= line 1) has no a=path" \
  "$work/bad2.err" || fail "SDP without a=path: message"
sed 's/^a=setup:.*/a=setup:active/' "$work/plain_ap_p-offer.sdp" \
  >"$work/bad3.sdp"
rc=0
"$msrpcat" --answer --setup active --sdp-in "$work/bad3.sdp" \
  --sdp-out "$work/x.sdp" --sdp-address 127.0.0.1 -r -T 5 \
  2>"$work/bad3.err" || rc=$?
[ "$rc" = 2 ] || fail "conflicting a=setup: exit $rc"
grep -q "answer must be passive, not --setup active" "$work/bad3.err" ||
  fail "conflicting a=setup: message"
[ -e "$work/x.sdp" ] && fail "an answer was written after an error"
echo "ok: bad SDP files: exit 2"

# No SDP ever comes: exit 4 after --timeout.
rc=0
"$msrpcat" --sdp-out "$work/lonely.sdp" --sdp-in "$work/never.sdp" \
  --listen 127.0.0.1:0 -m x -T 1 2>"$work/lonely.err" || rc=$?
[ "$rc" = 4 ] || fail "no SDP: exit $rc, expected 4"
grep -q "timeout: no SDP in .*never.sdp after 1.0 s" "$work/lonely.err" ||
  fail "no SDP: message"
echo "ok: no SDP: exit 4"

# Behind a relay: the offer is written once AUTH gave the Use-Path.
if [ -n "$msrp_edge" ]; then
  rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  ha1=$(printf 'alice:sdp.test:secret' | sha256sum | cut -d' ' -f1)
  printf 'alice:sdp.test:%s\n' "$ha1" >"$work/users"
  printf '[gateway]\nname=edge\npublic-host=127.0.0.1\n[listen]\nmsrp=127.0.0.1:%s\nmsrps=\ncontrol=\n[auth]\nrealm=sdp.test\nusers-file=%s\n[relay]\nnext-hop-allow=127.0.0.0/8;::1\n' \
    "$rport" "$work/users" >"$work/edge.conf"
  "$msrp_edge" --config "$work/edge.conf" 2>"$work/edge.err" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q '"listener_up"' "$work/edge.err" && break
    sleep 0.1
  done
  grep -q '"listener_up"' "$work/edge.err" || fail "msrp-edge did not start"
  rm -f "$work"/relay-*.sdp
  rm -rf "$work/relay-oin" "$work/relay-ain"
  a_file=()
  o_expect=1
  if [ "${RELAY_FILE_BOTH_WAYS:-0}" = 1 ]; then
    a_file=(-f "$work/answer.bin")
    o_expect=2
  fi
  start relay_o --relay "msrp://127.0.0.1:$rport;tcp" --user alice \
    --password secret --sdp-out "$work/relay-offer.sdp" \
    --sdp-in "$work/relay-answer.sdp" -f "$work/offer.bin" -c 64k \
    -m "offerer via the relay" -r -e "$o_expect" \
    -o "$work/relay-oin" -T 20 --json
  opid=$last_pid
  start relay_a --answer --sdp-in "$work/relay-offer.sdp" \
    --sdp-out "$work/relay-answer.sdp" --sdp-address 127.0.0.1 \
    -m "answerer to the relay" "${a_file[@]}" -r -e 2 \
    -o "$work/relay-ain" -T 20 --json
  apid=$last_pid
  wait_for "$opid" 60
  [ "$rc" = 0 ] || fail "relay: the offerer exited $rc"
  wait_for "$apid" 60
  [ "$rc" = 0 ] || fail "relay: the answerer exited $rc"
  opath=$(tr -d '\r' <"$work/relay-offer.sdp" | sed -n 's/^a=path://p')
  [[ "$opath" =~ ^msrp://127\.0\.0\.1:$rport/[A-Za-z0-9]+\;tcp\ msrp://127\.0\.0\.1:[0-9]+/[A-Za-z0-9]+\;tcp$ ]] ||
    fail "relay: the offer's a=path '$opath'"
  [ "$(json_get relay_o path)" = "$opath" ] ||
    fail "relay: a=path differs from the --json path"
  expect_json relay_o sdp.role active
  if [ "${RELAY_FILE_BOTH_WAYS:-0}" = 1 ]; then
    check_inbox "$work/relay-oin" "$work/answer.bin" "answerer to the relay"
  else
    [ "$(cat "$work"/relay-oin/*)" = "answerer to the relay" ] ||
      fail "relay: the answerer's chat message"
  fi
  check_inbox "$work/relay-ain" "$work/offer.bin" "offerer via the relay"
  echo "ok: an offerer behind a relay: a=path with the Use-Path"
fi

echo "all msrpcat SDP tests passed"
