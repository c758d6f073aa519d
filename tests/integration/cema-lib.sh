# Helpers of the CEMA tests (cema.sh, cema-anchor.sh) and the benchmark's
# anchored row: one anchored stream in a process of its own
# (tests/integration/anchor-stub.c), with the test playing the negotiator
# by rewriting c=, m= and a=setup of the SDP the msrpcat parties exchange.
#
# Source it after lib.sh (or nat-lib.sh), with ANCHOR_STUB set:
#
#   stub_start NAME [--ns NS] ARGS...  anchor-stub ARGS in the background
#                              (inside namespace NS of nat-lib.sh), its
#                              stdin a FIFO (NAME_ctl is the shell's
#                              descriptor for it), stdout NAME.out, log
#                              NAME.log; waits for "ready"; sets NAME_pid
#                              and NAME_port
#   stub_say NAME LINE         a command for it ("answerer out:IP:PORT@URI"),
#                              waiting until it said ok
#   stub_stop NAME             SIGTERM, exit 0; its last JSON line (the
#                              stream's state and bytes) is then the last
#                              line of NAME.out (json_last NAME.out EXPR)
#   sdp_to_anchor IN OUT HOST PORT [SETUP]   IN with every c= naming HOST,
#                              the m=message port PORT and, given SETUP, the
#                              a=setup SETUP: what a CEMA-anchoring
#                              negotiator writes (RFC 6714 sections 6.2,
#                              6.3: a=path passes untouched)
#   sdp_uri FILE               the last URI of its a=path (the party's own)
#   sdp_port FILE              its m=message port
#   fingerprints_crossed A B   msrpcat runs A and B (their --json summaries
#                              in A.out, B.out) each verified the other's
#                              certificate, and what each checked is what
#                              the other presented
#   stranger_refused [--ns NS] [--from IP] HOST PORT   a connection from
#                              IP (inside NS) to HOST:PORT gets a RST or an
#                              end of stream, never a byte

: "${ANCHOR_STUB:?ANCHOR_STUB must name the anchor-stub executable}"

_stub_ready () {
  kill -0 "$2" 2>/dev/null || return 2
  grep -qx ready "$WORK/$1.out"
}

stub_start () {
  local name="$1" fd pid; shift
  local prefix=()
  if [ "${1:-}" = --ns ]; then
    prefix=(ip netns exec "${NS[$2]}")
    shift 2
  fi
  rm -f "$WORK/$name.ctl" "$WORK/$name.out" "$WORK/$name.log"
  mkfifo "$WORK/$name.ctl"
  # Read-write: neither this open nor the stub's read blocks, and the
  # stub never sees an end of file while the test holds it.
  exec {fd}<>"$WORK/$name.ctl"
  "${prefix[@]}" "$ANCHOR_STUB" "$@" <&"$fd" >"$WORK/$name.out" \
    2>"$WORK/$name.log" &
  pid=$!
  track "$pid"
  eval "${name}_pid=$pid ${name}_ctl=$fd"
  wait_until 10 _stub_ready "$name" "$pid" ||
    fail "anchor-stub $name did not start: $(tail -3 "$WORK/$name.log")"
  eval "${name}_port=$(sed -n 's/^port //p' "$WORK/$name.out")"
}

_stub_oks () { grep -cx ok "$WORK/$1.out" || true; }
_stub_said () { [ "$(_stub_oks "$1")" -gt "$2" ]; }

stub_say () {
  local fd n
  eval "fd=\${${1}_ctl}"
  n=$(_stub_oks "$1")
  printf '%s\n' "$2" >&"$fd"
  wait_until 5 _stub_said "$1" "$n" ||
    fail "anchor-stub $1 did not take '$2': $(tail -2 "$WORK/$1.log")"
}

stub_stop () {
  local name="$1" pid rc=0 fd
  eval "pid=\${${name}_pid} fd=\${${name}_ctl}"
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  untrack "$pid"
  exec {fd}>&-
  [ "$rc" = 0 ] || fail "anchor-stub $name exited $rc"
}

sdp_to_anchor () {
  local in="$1" out="$2" host="$3" port="$4" setup="${5:-}" fam=IP4
  case "$host" in *:*) fam=IP6 ;; esac
  sed -e "s/^c=IN IP[46] [^\r]*/c=IN $fam $host/" \
      -e "s/^m=message [0-9]*/m=message $port/" \
      ${setup:+-e "s/^a=setup:[a-z]*/a=setup:$setup/"} "$in" >"$out.tmp"
  mv "$out.tmp" "$out"   # whole or not at all: msrpcat polls for it
}

sdp_uri () {
  tr -d '\r' <"$1" | sed -n 's/^a=path://p' | awk '{ print $NF }'
}

sdp_port () { awk '$1 ~ /^m=message/ { print $2; exit }' "$1"; }

fingerprints_crossed () {
  local a x y
  for a in "$1" "$2"; do
    [ "$(json_last "$WORK/$a.out" 'd["fingerprint"]["verified"]')" = True ] ||
      fail "$a did not verify its peer's fingerprint"
  done
  for a in "$1:$2" "$2:$1"; do
    x=$(json_last "$WORK/${a%:*}.out" 'd["fingerprint"]["local"]')
    y=$(json_last "$WORK/${a#*:}.out" 'd["fingerprint"]["peer"]')
    [ "$x" = "$y" ] || fail "${a#*:} verified '$y', ${a%:*} presented '$x'"
  done
}

stranger_refused () {
  local prefix=() from=""
  [ "${1:-}" != --ns ] || { prefix=(ip netns exec "${NS[$2]}"); shift 2; }
  [ "${1:-}" != --from ] || { from="$2"; shift 2; }
  "${prefix[@]}" python3 - "$1" "$2" "$from" <<'PYEOF'
import socket, sys
s = socket.socket()
if sys.argv[3]:
    s.bind((sys.argv[3], 0))
s.settimeout(5)
try:
    # The RST may come before the connect has returned, or before these
    # bytes are sent.
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.sendall(b"MSRP x1y2z3 SEND\r\nTo-Path: msrp://h:1/a;tcp\r\n")
    sys.exit(0 if s.recv(10) == b"" else 1)
except (ConnectionResetError, BrokenPipeError):
    sys.exit(0)
PYEOF
}
