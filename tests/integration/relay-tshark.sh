#!/bin/bash
# tshark's MSRP dissector (an independent decoder) reads every frame of a
# relay run without a malformed-packet mark or an error: two msrp-edge
# relays in a chain over TCP, alice -> edge1 -> edge2 -> bob, captured on
# loopback:
#
#   AUTH (401 and 200), 5 text messages (SEND, 200, Success REPORTs),
#   a 20 KiB text file in 10 chunks of 2 KiB (continuation flags "+", "$"),
#   and a SEND to an unknown session (481).
#
# `tshark -Y '_ws.malformed || _ws.expert.severity >= error'` must print
# nothing, and `-Y msrp` must find exactly the frames that were sent, by
# method and status code.  tshark 4.0's dissector decodes only the first
# MSRP frame of a TCP segment, and TCP puts several frames in one segment
# when writes queue up (a loaded machine does this often), so
# msrp-reframe.py rebuilds each captured byte stream, cuts it at the RFC
# 4975 end-lines -- failing if any byte is left outside a frame -- and
# gives every frame a segment of its own; tshark decodes that copy too.
#
# Needs capture rights on lo (root).  Usage: relay-tshark.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"

command -v tshark >/dev/null || fail "tshark is not installed"
realm=relay.test
users_file "$WORK/users" "$realm" alice:alice-pw:sha256 bob:bob-pw:sha256
edge_start edge1 "[auth]\nrealm=$realm\nusers-file=$WORK/users"
edge_start edge2 "[auth]\nrealm=$realm\nusers-file=$WORK/users"
p1=$edge1_port
p2=$edge2_port

tshark -i lo -B 64 -f "tcp port $p1 or tcp port $p2" -w "$WORK/relay.pcapng" \
  >"$WORK/tshark-capture.err" 2>&1 &
tshark_pid=$!
track "$tshark_pid"
# tshark says "Capture started" a little before packets are really taken:
# knock on edge1 (connect, close) until the capture file grows.
capturing () { grep -q "Capture started" "$WORK/tshark-capture.err"; }
wait_until 30 capturing || fail "tshark did not start capturing"
size0=$(stat -c %s "$WORK/relay.pcapng" 2>/dev/null || echo 0)
knock () {
  (exec 3<>"/dev/tcp/127.0.0.1/$p1") 2>/dev/null || true
  [ "$(stat -c %s "$WORK/relay.pcapng" 2>/dev/null || echo 0)" -gt "$size0" ]
}
wait_until 30 knock || fail "tshark captures nothing"

mc_start recv --relay "$edge2_uri" -u bob -P bob-pw --receive --print-use-path \
  --expect 6 -o "$WORK/out" --json -T 60
path=$(mc_path recv)
mc_run send --relay "$edge1_uri" -u alice -P alice-pw --to-path "$path" \
  -m one -m two -m three -m four -m five \
  --success-report yes --json
[ "$rc" -eq 0 ] || fail "text sender: exit $rc"
# A body of printable text: tshark 4.0's MSRP dissector throws an exception
# (a "malformed" mark) on some random binary bodies whoever sends them --
# msrpcat's own frames to the relay included, for any Content-Type -- so
# binary bodies would test the dissector, not the framing.
head -c 16000 /dev/urandom | base64 -w 76 >"$WORK/file.b64"
head -c $((10 * 2048)) "$WORK/file.b64" >"$WORK/file.bin"
mc_run send2 --relay "$edge1_uri" -u alice -P alice-pw --to-path "$path" \
  -f "$WORK/file.bin" -c 2k --success-report yes --json
[ "$rc" -eq 0 ] || fail "file sender: exit $rc"
mc_wait recv 30
[ "$rc" -eq 0 ] || fail "receiver: exit $rc"
raw 127.0.0.1 "$p1" "send=MSRP unkn0001 SEND
To-Path: msrp://127.0.0.1:$p1/NoSuchSession0001;tcp
From-Path: msrp://127.0.0.1:9/peer;tcp
Message-ID: tshark-unknown-1
Byte-Range: 1-5/5
Content-Type: text/plain

hello
-------unkn0001\$" 'expect=^MSRP unkn0001 481 ' >"$WORK/raw.out" ||
  fail "SEND to an unknown session: $(cat "$WORK/raw.out")"
f=$(find "$WORK/out" -type f -size 20480c)
cmp "$WORK/file.bin" "$f" || fail "the file differs at bob's"

# Knock again until the capture file grows: everything sent before is in.
size0=$(stat -c %s "$WORK/relay.pcapng")
wait_until 30 knock || fail "tshark stopped capturing"
kill -INT "$tshark_pid"
wait_until 20 _gone "$tshark_pid" || fail "tshark did not stop"
wait "$tshark_pid" || true
untrack "$tshark_pid"
if grep -q "packets dropped" "$WORK/tshark-capture.err" &&
   ! grep -q "^0 packets dropped" "$WORK/tshark-capture.err"; then
  fail "tshark dropped packets: $(cat "$WORK/tshark-capture.err")"
fi

tshark -r "$WORK/relay.pcapng" -o tcp.desegment_tcp_streams:FALSE \
  -Y "tcp.len > 0" -T fields -e tcp.stream -e tcp.srcport -e tcp.dstport \
  -e tcp.seq -e tcp.payload >"$WORK/segments.tsv" 2>"$WORK/tshark-read.err" ||
  fail "tshark -r (segments) failed"
python3 "$(dirname "$0")/msrp-reframe.py" "$WORK/framed.pcap" \
  <"$WORK/segments.tsv" >"$WORK/reframe.out" 2>&1 ||
  fail "the captured streams are not whole MSRP frames: $(cat "$WORK/reframe.out")"
for pcap in relay.pcapng framed.pcap; do
  tshark -r "$WORK/$pcap" -d "tcp.port==$p1,msrp" -d "tcp.port==$p2,msrp" \
    -Y '_ws.malformed || _ws.expert.severity >= error' \
    >"$WORK/malformed.out" 2>>"$WORK/tshark-read.err" || fail "tshark -r $pcap failed"
  [ ! -s "$WORK/malformed.out" ] ||
    fail "tshark marks frames of $pcap malformed or in error:
$(head -20 "$WORK/malformed.out")"
done
tshark -r "$WORK/framed.pcap" -d "tcp.port==$p1,msrp" -d "tcp.port==$p2,msrp" \
  -Y msrp -T fields -e msrp.method -e msrp.status.code \
  >"$WORK/frames.out" 2>>"$WORK/tshark-read.err" || fail "tshark -r -Y msrp failed"
# Expected frames, all hops together:
#   AUTH 6 (2 for bob, 2 for each of alice's runs), 401 3,
#   200 3 (AUTH) + 15 x 3 hops (SEND),
#   SEND 15 x 3 hops + 1 (unknown session), REPORT 6 x 3 hops, 481 1.
counts=$(python3 - "$WORK/frames.out" <<'EOF'
import collections, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    for field in line.rstrip("\n").split("\t"):
        for v in field.split(","):
            if v:
                c[v] += 1
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))
EOF
)
want="200=48 401=3 481=1 AUTH=6 REPORT=18 SEND=46"
[ "$counts" = "$want" ] || fail "tshark decoded $counts, not $want"
note "tshark decodes all $(grep -c . "$WORK/frames.out") MSRP frames ($counts), none malformed"

edge_stop edge1
edge_stop edge2
echo "relay tshark: ok"
