# Shared helpers of the integration tests (tests/integration/relay-*.sh,
# ng-*.sh, msrpcat-auth.sh, ...): real processes on loopback, free ports
# picked at run time, every process and the work directory cleaned up on
# any exit.
#
# Source it after `set -euo pipefail` with MSRP_EDGE and MSRPCAT set to the
# built executables:
#
#   . "$(dirname "$0")/lib.sh"
#
# What it gives:
#   $WORK                      a fresh temporary directory (removed on exit;
#                              KEEP_WORK=1 keeps it)
#   fail MSG                   print MSG and the tails of the logs, exit 1
#   note MSG                   print "ok: MSG"
#   free_port                  a TCP port free on 127.0.0.1 right now
#   wait_until SECS CMD...     poll CMD every 50 ms until it succeeds, or
#                              return 1 after SECS seconds
#   track PID                  kill PID (TERM, then KILL) on exit
#   log_match FILE EVENT [K=V...]   the JSON log lines of EVENT whose fields
#                              K equal V (V compared as JSON: 12, true or
#                              a string), on stdout; status 1 when none
#   wait_log FILE SECS EVENT [K=V...]  poll until log_match finds a line
#   log_count FILE EVENT [K=V...]      how many lines match
#   log_field FILE EVENT FIELD [K=V...]  FIELD of the last matching line
#   udp_free_port IP           a UDP port free on IP right now
#   edge_start NAME [--tls] [--public-host H] [--control] [--http] [LINES]
#                              start msrp-edge; --control: the ng control
#                              socket on a free UDP port, NAME_ctl_port;
#                              --http: the metrics endpoint on a free TCP
#                              port, NAME_http_port
#   edge_stop NAME             SIGTERM, wait, check exit 0 and `stopped`
#   edge_drained NAME SECS     after a SIGTERM with live calls: exit 0 once
#                              drained, `drained` and `stopped` logged
#   kam_start NAME REALM PASSWORD    start Kamailio from the template
#   kam_stop NAME
#   kam_ng_require             exit 77 without kamailio, its rtpengine
#                              module or sipp
#   kam_ng_start TEMPLATE PORTS [@KEY@=VALUE...]  Kamailio with its
#                              rtpengine module, whose set is the ng
#                              control ports PORTS; kam_pid, kam_port
#   sipp_start NAME uac|uas ARGS...  SIPp on sipp-ROLE-msrp.xml in the
#                              background, traces in $WORK/NAME-ROLE.*;
#                              pid in sipp_pid
#   sip_hang_up UAC-PORT CALL-ID...  the SIPp UAC on $UAC_IP hangs up
#                              (tests/integration/sip-hangup.py)
#   udp_bound IP PORT PID      PID runs and UDP IP:PORT is bound
#   reap PID SECS WHAT         wait for PID to end; its exit status in $rc
#   mc_start NAME ARGS...      msrpcat in the background, stdout and stderr
#                              in $WORK/NAME.out and .err, pid in NAME_pid
#   mc_path NAME               the path it printed (--print-use-path)
#   mc_wait NAME SECS          wait for it to end; its exit status in $rc
#   mc_kill NAME               kill -9 it (stopped first, so that it dies
#                              where it stands) and reap it
#   mc_run NAME ARGS...        msrpcat in the foreground; exit status in $rc
#   json_last FILE EXPR        evaluate the Python EXPR on d, the JSON object
#                              on the last line of FILE
#   raw ARGS...                tests/integration/msrp-raw.py (a frame-level
#                              MSRP client) with a 10 s deadline a step
#   users_file FILE REALM USER:PASSWORD:ALG...  an htdigest users file
#
# Every SECS is multiplied by IT_SLOW (default 1) for slow machines; the
# deadlines are generous enough for the ASan build as they are.

IT_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_SLOW=${IT_SLOW:-1}
: "${MSRP_EDGE:?MSRP_EDGE must name the msrp-edge executable}"
: "${MSRPCAT:?MSRPCAT must name the msrpcat executable}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/msrp-it.XXXXXX")
_it_pids=()
_it_ports=" "

_it_cleanup () {
  local status=$? p
  trap - EXIT INT TERM
  for p in "${_it_pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${_it_pids[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
  done
  if [ "${KEEP_WORK:-0}" = 1 ]; then
    echo "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap _it_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail () {
  local f
  echo "FAIL: $*"
  for f in "$WORK"/*.err "$WORK"/*.log; do
    [ -s "$f" ] || continue
    echo "--- $(basename "$f") (last 15 lines):"
    tail -15 "$f" | cut -c1-600
  done
  exit 1
}

note () { echo "ok: $*"; }

track () { _it_pids+=("$1"); }

untrack () {
  local p keep=()
  for p in "${_it_pids[@]}"; do
    [ "$p" = "$1" ] || keep+=("$p")
  done
  _it_pids=("${keep[@]}")
}

wait_until () {
  local secs="$1"; shift
  local deadline=$(( $(date +%s%N) / 1000000 + secs * IT_SLOW * 1000 ))
  until "$@"; do
    [ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# A port nobody listens on right now, never one handed out before in this
# test.  A race with another program remains; edge_start and kam_start
# retry with another port when theirs is taken.
free_port () {
  local p
  while :; do
    p=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
    case "$_it_ports" in *" $p "*) continue ;; esac
    _it_ports+="$p "
    echo "$p"
    return 0
  done
}

# A UDP port free on IP right now, never one handed out before.
udp_free_port () {
  local ip="$1" p
  while :; do
    p=$(python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "$ip")
    case "$_it_ports" in *" $p "*) continue ;; esac
    _it_ports+="$p "
    echo "$p"
    return 0
  done
}

# The lines of a JSON log with "event":EVENT and each K=V: V is matched as
# the JSON text of the field, so a number or true/false as is, anything
# else as a string.
log_match () {
  local file="$1" event="$2"; shift 2
  local kv k v lines
  [ -f "$file" ] || return 1
  lines=$(grep -F "\"event\":\"$event\"" "$file") || return 1
  for kv in "$@"; do
    k=${kv%%=*}
    v=${kv#*=}
    if [[ "$v" =~ ^(-?[0-9]+|true|false|null)$ ]]; then
      lines=$(grep -F "\"$k\":$v," <<<"$lines" ||
              grep -F "\"$k\":$v}" <<<"$lines") || return 1
    else
      v=${v//\\/\\\\}
      v=${v//\"/\\\"}
      lines=$(grep -F "\"$k\":\"$v\"" <<<"$lines") || return 1
    fi
  done
  [ -n "$lines" ] && printf '%s\n' "$lines"
}

wait_log () {
  local file="$1" secs="$2"; shift 2
  wait_until "$secs" log_match "$file" "$@" >/dev/null
}

log_count () {
  local n
  n=$(log_match "$@" | grep -c .) || true
  echo "${n:-0}"
}

log_field () {
  local file="$1" event="$2" field="$3"; shift 3
  log_match "$file" "$event" "$@" | tail -1 |
    python3 -c 'import json,sys; v=json.loads(sys.stdin.read())[sys.argv[1]]
print(json.dumps(v) if isinstance(v, bool) or v is None else v)' "$field"
}

# edge_start NAME [--tls] [--public-host HOST] [LINES]: write
# $WORK/NAME.conf and start msrp-edge on it, its log stream in
# $WORK/NAME.log.  The configuration sets [gateway] name=NAME and
# public-host=127.0.0.1 (or HOST), [listen] msrp on a free port of
# 127.0.0.1 and, with --tls, msrps on another one; LINES are more groups
# and keys, printf %b style ("[auth]\nusers-file=...", no [listen]);
# loopback is allowed as next hop and party ([relay] next-hop-allow,
# [negotiator] connect-allow), which LINES may override.  Sets
# NAME_pid, NAME_port (msrp), NAME_tls_port (msrps), NAME_uri
# (msrp://127.0.0.1:PORT;tcp) and NAME_tls_uri.  Waits for every
# listener_up; tries other ports when a listener cannot bind.
edge_start () {
  local name="$1" tls=0 public_host=127.0.0.1 extra port tls_port="" msrps
  local n_listeners pid control=0 ctl_port http=0 http_port
  shift
  if [ "${1:-}" = --tls ]; then tls=1; shift; fi
  if [ "${1:-}" = --public-host ]; then public_host="$2"; shift 2; fi
  if [ "${1:-}" = --control ]; then control=1; shift; fi
  if [ "${1:-}" = --http ]; then http=1; shift; fi
  extra="${1:-}"
  for _ in 1 2 3; do
    port=$(free_port)
    ctl_port=""
    [ "$control" = 0 ] || ctl_port=$(udp_free_port 127.0.0.1)
    http_port=""
    [ "$http" = 0 ] || http_port=$(free_port)
    n_listeners=1
    msrps=""
    if [ "$tls" = 1 ]; then
      tls_port=$(free_port)
      msrps="127.0.0.1:$tls_port"
      n_listeners=2
    fi
    {
      printf '[gateway]\nname=%s\npublic-host=%s\n' "$name" "$public_host"
      printf '[listen]\nmsrp=127.0.0.1:%s\nmsrps=%s\ncontrol=%s\nhttp=%s\n' \
        "$port" "$msrps" "${ctl_port:+127.0.0.1:$ctl_port}" \
        "${http_port:+127.0.0.1:$http_port}"
      # Every party and next hop of these tests is on loopback, which the
      # connect policy refuses unless allowed; LINES may say otherwise
      # (the later key wins, and groups merge).
      printf '[relay]\nnext-hop-allow=127.0.0.0/8;::1\n'
      printf '[negotiator]\nconnect-allow=127.0.0.0/8;::1\n'
      # A test that leaves calls in the table is not kept waiting for
      # them at edge_stop for the default 60 s.
      printf '[limits]\ndrain-timeout=5\n'
      printf '%b\n' "$extra"
    } >"$WORK/$name.conf"
    "$MSRP_EDGE" --config "$WORK/$name.conf" 2>"$WORK/$name.log" &
    pid=$!
    track "$pid"
    if wait_until 20 _edge_up "$name" "$pid" "$n_listeners" "$control" \
         "$http"; then
      eval "${name}_pid=$pid ${name}_port=$port ${name}_tls_port=$tls_port"
      eval "${name}_ctl_port=$ctl_port ${name}_http_port=$http_port"
      eval "${name}_uri='msrp://127.0.0.1:$port;tcp'"
      eval "${name}_tls_uri='msrps://127.0.0.1:$tls_port;tcp'"
      return 0
    fi
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    untrack "$pid"
    grep -qi 'in use' "$WORK/$name.log" || break
  done
  fail "msrp-edge $name did not start"
}

_edge_up () {   # NAME PID LISTENERS CONTROL HTTP
  kill -0 "$2" 2>/dev/null || return 2
  [ "$(log_count "$WORK/$1.log" listener_up)" -ge "$3" ] &&
    { [ "${4:-0}" = 0 ] || log_match "$WORK/$1.log" control_up >/dev/null; } &&
    { [ "${5:-0}" = 0 ] || log_match "$WORK/$1.log" metrics_up >/dev/null; }
}

# SIGTERM, then the daemon must exit 0 within its grace period (plus
# LeakSanitizer's time) and say `stopped`.
edge_stop () {
  local name="$1" pid
  eval "pid=\${${name}_pid}"
  kill -TERM "$pid" 2>/dev/null || fail "msrp-edge $name is not running"
  wait_until 30 _gone "$pid" || fail "msrp-edge $name did not stop on SIGTERM"
  local status=0
  wait "$pid" || status=$?
  untrack "$pid"
  [ "$status" -eq 0 ] || fail "msrp-edge $name exited with status $status"
  log_match "$WORK/$name.log" stopped status=0 >/dev/null ||
    fail "msrp-edge $name logged no 'stopped'"
  python3 -c 'import json,sys
for n, l in enumerate(open(sys.argv[1]), 1):
    try:
        json.loads(l)
    except ValueError:
        sys.exit("line %d is not JSON: %s" % (n, l))' "$WORK/$name.log" ||
    fail "msrp-edge $name wrote a log line that is not JSON"
}

_gone () { ! kill -0 "$1" 2>/dev/null; }

# edge_drained NAME SECS: msrp-edge NAME, draining since a SIGTERM, stops
# by itself within SECS (its last call deleted): exit 0, `drained` (not
# `drain_timeout`) and `stopped` in its log.
edge_drained () {
  local name="$1" pid
  eval "pid=\${${name}_pid}"
  reap "$pid" "$2" "msrp-edge $name (draining)"
  [ "$rc" -eq 0 ] || fail "msrp-edge $name exited with $rc after draining"
  log_match "$WORK/$name.log" drained >/dev/null ||
    fail "msrp-edge $name: no drained line"
  ! log_match "$WORK/$name.log" drain_timeout >/dev/null ||
    fail "msrp-edge $name: drain_timeout"
  log_match "$WORK/$name.log" stopped status=0 >/dev/null ||
    fail "msrp-edge $name: no stopped line"
}

# kam_start NAME REALM PASSWORD: Kamailio's msrp module as an RFC 4976
# relay on a free port (tests/integration/kamailio-msrp.cfg.in), in the
# foreground (-DD -E), log in $WORK/NAME.log.  Sets NAME_pid, NAME_port,
# NAME_uri.
kam_start () {
  local name="$1" realm="$2" password="$3" port dir tries
  dir="$WORK/$name.d"
  command -v kamailio >/dev/null || fail "kamailio is not installed"
  mkdir -p "$dir"
  for tries in 1 2 3; do
    port=$(free_port)
    sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" -e "s|@REALM@|$realm|g" \
        -e "s|@PASSWORD@|$password|g" "$IT_SRC/kamailio-msrp.cfg.in" \
        >"$dir/kamailio.cfg"
    if _kam_try "$dir" "$WORK/$name.log" _listening "$port"; then
      eval "${name}_pid=$_kam_pid ${name}_port=$port"
      eval "${name}_uri='msrp://127.0.0.1:$port;tcp'"
      return 0
    fi
  done
  fail "kamailio $name did not start"
}

# _kam_try DIR LOG READY...: Kamailio on DIR/kamailio.cfg in the
# foreground, its log in LOG, up once `READY... PID` succeeds (20 s at
# most): its pid in _kam_pid; otherwise it is killed, status 1.
_kam_try () {
  local dir="$1" log="$2" pid
  shift 2
  kamailio -f "$dir/kamailio.cfg" -DD -E -w "$dir" -Y "$dir" \
    -P "$dir/kamailio.pid" >"$log" 2>&1 &
  pid=$!
  track "$pid"
  if wait_until 20 "$@" "$pid"; then
    _kam_pid=$pid
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  untrack "$pid"
  return 1
}

_listening () {   # PORT PID
  kill -0 "$2" 2>/dev/null || return 2
  ss -Htln "sport = :$1" | grep -q .
}

kam_stop () {
  local name="$1" pid
  eval "pid=\${${name}_pid}"
  kill -TERM "$pid" 2>/dev/null || fail "kamailio $name is not running"
  wait_until 20 _gone "$pid" || fail "kamailio $name did not stop"
  wait "$pid" 2>/dev/null || true
  untrack "$pid"
}

# kam_ng_require: exit 77 (skipped) without kamailio, its rtpengine module
# or sipp (Debian packages kamailio and sip-tester).
kam_ng_require () {
  if ! command -v kamailio >/dev/null || ! command -v sipp >/dev/null ||
     [ ! -f /usr/lib/x86_64-linux-gnu/kamailio/modules/rtpengine.so ]; then
    echo "kamailio (with its rtpengine module) or sipp not installed: skipped"
    exit 77
  fi
}

# kam_ng_start TEMPLATE PORTS [@KEY@=VALUE...]: Kamailio with its rtpengine
# module (tests/integration/kamailio-ng.cfg.in, kamailio-multi.cfg.in) on a
# free UDP port of 127.0.0.1, in the foreground, its log in $WORK/kam.log;
# the template's @PORT@ and @DIR@ are filled in here, each @KEY@ given
# with its VALUE.  PORTS: the ng control ports (on 127.0.0.1) of the
# nodes of its rtpengine set; up once its SIP port is bound and the
# module's startup ping found each node.  Sets kam_pid and kam_port
# (kam_stop kam).
kam_ng_start () {
  local template="$1" ports="$2" dir="$WORK/kam.d" kv sed_args
  shift 2
  mkdir -p "$dir"
  for _ in 1 2 3; do
    kam_port=$(udp_free_port 127.0.0.1)
    sed_args=(-e "s|@PORT@|$kam_port|g" -e "s|@DIR@|$dir|g")
    for kv in "$@"; do sed_args+=(-e "s|${kv%%=*}|${kv#*=}|g"); done
    sed "${sed_args[@]}" "$template" >"$dir/kamailio.cfg"
    if _kam_try "$dir" "$WORK/kam.log" _kam_ng_ready "$ports"; then
      kam_pid=$_kam_pid
      return 0
    fi
  done
  fail "kamailio did not start (or its rtpengine module did not find every node: $ports)"
}

_kam_ng_ready () {   # PORTS PID
  local p
  udp_bound 127.0.0.1 "$kam_port" "$2" || return $?
  for p in $1; do
    grep -qF "rtpengine instance <udp:127.0.0.1:$p> found" "$WORK/kam.log" ||
      return 1
  done
}

# sipp_start NAME uac|uas ARGS...: SIPp in the background on
# tests/integration/sipp-ROLE-msrp.xml, its message trace, <log> lines,
# errors and output in $WORK/NAME-ROLE.msgs, .logs, .err and .out; ARGS
# are the rest of its command line (a UAC's first: the proxy's
# HOST:PORT).  Its pid in sipp_pid, tracked.
sipp_start () {
  local name="$1" role="$2"
  shift 2
  sipp "$@" -sf "$IT_SRC/sipp-$role-msrp.xml" -nostdin -bind_local \
    -timeout_error -max_retrans 3 \
    -trace_msg -message_file "$WORK/$name-$role.msgs" \
    -trace_logs -log_file "$WORK/$name-$role.logs" \
    -trace_err -error_file "$WORK/$name-$role.err" \
    >"$WORK/$name-$role.out" 2>&1 </dev/null &
  sipp_pid=$!
  track "$sipp_pid"
}

# sip_hang_up UAC-PORT CALL-ID...: the SIPp UAC on $UAC_IP:UAC-PORT
# (sipp-uac-msrp.xml) hangs these calls up: an INFO each, routed through
# the Kamailio on $kam_port, which must get its 200.
sip_hang_up () {
  local uac="$UAC_IP:$1"
  shift
  python3 "$IT_SRC/sip-hangup.py" "127.0.0.1:$kam_port" "$uac" "$@"
}

udp_bound () {   # IP PORT PID
  kill -0 "$3" 2>/dev/null || return 2
  ss -Huln "src $1 and sport = :$2" | grep -q .
}

# reap PID SECS WHAT: wait up to SECS for PID to end (fail naming WHAT
# when it does not); its exit status in $rc.
reap () {
  local pid="$1" secs="$2" what="$3"
  wait_until "$secs" _gone "$pid" || fail "$what did not finish"
  rc=0
  wait "$pid" || rc=$?
  untrack "$pid"
}

mc_start () {
  local name="$1"; shift
  # Never let mc_path read an earlier NAME's path before the truncation.
  rm -f "$WORK/$name.out" "$WORK/$name.err"
  "$MSRPCAT" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  local pid=$!
  track "$pid"
  eval "${name}_pid=$pid"
}

_has_path () { [ -s "$WORK/$1.out" ] && head -1 "$WORK/$1.out" | grep -q ';tcp'; }

mc_path () {
  local name="$1" pid
  eval "pid=\${${name}_pid}"
  wait_until 20 _has_path "$name" ||
    fail "msrpcat $name printed no path (exit: $(kill -0 "$pid" 2>/dev/null && echo running || echo ended))"
  head -1 "$WORK/$name.out"
}

mc_wait () {
  local name="$1" secs="$2" pid
  eval "pid=\${${name}_pid}"
  if ! wait_until "$secs" _gone "$pid"; then
    fail "msrpcat $name still running after $((secs * IT_SLOW)) s"
  fi
  rc=0
  wait "$pid" || rc=$?
  untrack "$pid"
}

mc_kill () {
  local pid
  eval "pid=\${${1}_pid}"
  kill -STOP "$pid"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  untrack "$pid"
}

mc_run () {
  local name="$1"; shift
  rc=0
  "$MSRPCAT" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
}

json_last () {
  python3 -c 'import json,sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print(eval(sys.argv[2]))' "$1" "$2"
}

raw () {
  python3 "$IT_SRC/msrp-raw.py" --timeout $((10 * IT_SLOW)) "$@"
}

# users_file FILE REALM USER:PASSWORD:ALG... : an htdigest-style users file
# (ALG md5 or sha256; a user may appear twice; ALG "locked-md5" writes the
# MD5 line with a leading '!').
users_file () {
  local file="$1" realm="$2" u user pw alg ha1; shift 2
  : >"$file"
  for u in "$@"; do
    IFS=: read -r user pw alg <<<"$u"
    case "$alg" in
      md5) ha1=$(printf '%s:%s:%s' "$user" "$realm" "$pw" | md5sum | cut -d' ' -f1) ;;
      sha256) ha1=$(printf '%s:%s:%s' "$user" "$realm" "$pw" | sha256sum | cut -d' ' -f1) ;;
      locked-md5) ha1=!$(printf '%s:%s:%s' "$user" "$realm" "$pw" | md5sum | cut -d' ' -f1) ;;
      *) fail "users_file: algorithm '$alg'" ;;
    esac
    printf '%s:%s:%s\n' "$user" "$realm" "$ha1" >>"$file"
  done
}

