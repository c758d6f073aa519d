#!/bin/bash
# Malformed and oversized frames, and peers that send or read without end
# (issue 13, finding 7, and the cases that already held), each with an
# honest pair of clients relaying beside it (hostile-lib.sh):
#
#   path length       a To-Path of 33 URIs and a From-Path of 380 (under the
#                     16 KiB header limit): 400 with the reason and a
#                     bad_request line; the connection stays
#   header bombs      70 headers (over the 64 a frame may have), a 1 MB
#                     header, 10,000 headers, bad UTF-8 and a NUL byte in a
#                     header: 400 where the transaction is known, then the
#                     connection is closed (parse_error)
#   endless chunk     an authenticated sender streams one SEND chunk that
#                     never ends to a reader, as fast as it is taken, for a
#                     few seconds: msrp-edge's RSS stays flat
#   zero window       the same toward a receiver that never reads: the
#                     relay stops reading the sender (backpressure), RSS
#                     stays flat
#
# Usage: hostile-frames.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/hostile-lib.sh"

# Under AddressSanitizer, freed memory waits in a quarantine (256 MiB by
# default) before it is reused, which an RSS bound would take for growth:
# a small one keeps "flat" meaning flat in both builds.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=8"
hostile_edge edge

# --- path length and header bombs -------------------------------------------
honest_start edge 300 100
for c in path33 from380; do
  hostile frame 127.0.0.1 "$edge_port" "$c" --to "$edge_uri" \
    >"$WORK/frame-$c.out" 2>&1 || fail "$c: $(cat "$WORK/frame-$c.out")"
done
[ "$(log_count "$WORK/edge.log" bad_request)" = 2 ] ||
  fail "path length: not 2 bad_request lines"
log_match "$WORK/edge.log" bad_request reason="To-Path: URI list has more than 32 URIs" \
  >/dev/null || fail "path length: no bad_request naming the To-Path"
honest_check "path length"
note "path length: 33 and 380 URIs answered 400 ($(json_last "$WORK/frame-path33.out" 'd["answer"]'))"

honest_start edge 300 100
closed0=$(log_count "$WORK/edge.log" connection_closed reason=parse_error)
for c in header-bomb header-1mb headers-10000 bad-utf8 nul; do
  hostile frame 127.0.0.1 "$edge_port" "$c" --to "$edge_uri" \
    >"$WORK/frame-$c.out" 2>&1 || fail "$c: $(cat "$WORK/frame-$c.out")"
done
closed_5 () {
  [ "$(log_count "$WORK/edge.log" connection_closed reason=parse_error)" -ge $((closed0 + 5)) ]
}
wait_until 10 closed_5 || fail "header bombs: not 5 connections closed for parse errors"
honest_check "header bombs"
note "header bombs, 1 MB header, 10,000 headers, bad UTF-8, NUL: 400 and closed"

# --- an endless chunk to a reader, then to a zero window ---------------------
rss_sample () {   # PID FILE: append RSS every 100 ms while $WORK/sampling exists
  while [ -e "$WORK/sampling" ]; do
    rss_kb "$1" >>"$2"
    sleep 0.1
  done
}
for mode in read stall; do
  rm -f "$WORK/sink.path"
  hostile_bg sink 127.0.0.1 "$edge_port" sink sink-pw --mode "$mode" \
    --path-file "$WORK/sink.path" >"$WORK/sink-$mode.out" 2>&1
  sink_pid=$hostile_pid
  wait_until 10 test -s "$WORK/sink.path" || fail "$mode: the sink did not AUTH"
  rss0=$(rss_kb "$edge_pid")
  : >"$WORK/rss-$mode"
  touch "$WORK/sampling"
  rss_sample "$edge_pid" "$WORK/rss-$mode" &
  sampler=$!
  honest_start edge 300 100
  hostile stream 127.0.0.1 "$edge_port" mallory mallory-pw \
    "$(cat "$WORK/sink.path")" --secs 3 --max-mb 1024 \
    >"$WORK/stream-$mode.out" 2>&1 || fail "$mode: $(cat "$WORK/stream-$mode.out")"
  # The reader case keeps both cores busy (sender, relay, reader): the
  # pair's latency is bounded loosely there.
  honest_check "endless chunk ($mode)" $([ "$mode" = read ] && echo 1000 || echo 250)
  rm -f "$WORK/sampling"
  wait "$sampler"
  kill "$sink_pid"
  wait "$sink_pid" 2>/dev/null || true
  untrack "$sink_pid"
  peak=$(sort -n "$WORK/rss-$mode" | tail -1)
  sent=$(json_last "$WORK/stream-$mode.out" 'd["sent"]')
  echo "figures: endless chunk ($mode): $((sent / 1048576)) MiB sent in $(json_last "$WORK/stream-$mode.out" 'd["secs"]') s; msrp-edge RSS $rss0 KiB before, at most $peak KiB during"
  # Flat: a relayed stream holds its write queue (256 KiB) and a read.
  [ "$peak" -le $((rss0 + 32768)) ] ||
    fail "$mode: msrp-edge RSS grew from $rss0 to $peak KiB"
  if [ "$mode" = stall ]; then
    [ "$sent" -le $((64 * 1048576)) ] ||
      fail "zero window: the sender pushed $sent bytes past a receiver that reads nothing"
  else
    [ "$sent" -ge $((16 * 1048576)) ] ||
      fail "endless chunk: only $sent bytes went through in 3 s"
  fi
done
note "endless chunk and zero-window receiver: RSS flat"

edge_stop edge
