#!/bin/bash
# nat-teardown.sh: nat-scenarios.sh leaves nothing behind, also when it is
# killed or fails: no network namespace of its run (mnat<PID>-*) and no
# process of it (msrp-edge in pub, msrpcat behind a NAT) survive, and its
# work directory is gone.
#
#   killed     NAT_HOLD=1: after the proof it starts msrp-edge and a
#              listening msrpcat, then waits; SIGTERM (as meson's timeout
#              sends), then the same with SIGINT (Ctrl-C)
#   failing    NAT_FAIL_AT=proof: it fails right after the proof (exit 1)
#
# Usage: nat-teardown.sh MSRP-EDGE MSRPCAT   (root; skipped with 77 when
# not root or without ip netns, as nat-scenarios.sh)
set -euo pipefail
edge=$1
cat=$2
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ] || ! ip netns list >/dev/null 2>&1; then
  echo "needs root and ip netns; skipped"
  exit 77
fi
out=$(mktemp)
# The runs make their work directories (lib.sh's $WORK) in here: it must
# be empty after each.
tmp=$(mktemp -d)
pid=
# On our own failure: whatever the run left is removed here (its
# namespaces' processes, then the namespaces).
cleanup () {
  local ns p
  if [ -n "$pid" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    for ns in $(ours "$pid"); do
      for p in $(ip netns pids "$ns"); do kill -KILL "$p" 2>/dev/null || true; done
    done
    sleep 0.2
    for ns in $(ours "$pid"); do ip netns del "$ns" || true; done
  fi
  rm -f "$out"
  rm -rf "$tmp"
}
trap cleanup EXIT

fail () { echo "FAIL: $*"; echo "--- its output:"; cat "$out"; exit 1; }

ours () { ip netns list | awk '{print $1}' | grep "^mnat$1-" || true; }

# gone PID NS-PIDS...: no namespace of run PID, none of NS-PIDS alive.
check_gone () {
  local run=$1 p; shift
  [ -z "$(ours "$run")" ] || fail "namespaces left: $(ours "$run" | tr '\n' ' ')"
  [ -z "$(ls -A "$tmp")" ] || fail "work directory left: $(ls -A "$tmp")"
  for p in "$@"; do
    ! kill -0 "$p" 2>/dev/null || fail "process $p ($(cat /proc/"$p"/comm 2>/dev/null)) left"
  done
}

for sig in TERM INT; do
  : >"$out"
  # Job control on: a process group of its own, like a meson test, and
  # SIGINT not ignored (as it is for a background job without it).  The
  # signal goes to the script only, as a user's kill would.
  set -m
  NAT_HOLD=1 TMPDIR=$tmp "$here/nat-scenarios.sh" "$edge" "$cat" >"$out" 2>&1 &
  pid=$!
  set +m
  for _ in $(seq 600); do
    grep -q '^holding' "$out" && break
    kill -0 "$pid" 2>/dev/null || fail "nat-scenarios.sh ended before holding"
    sleep 0.1
  done
  grep -q '^holding' "$out" || fail "nat-scenarios.sh did not get to hold in 60 s"
  read -r _ gw_pid mc_pid < <(grep '^holding' "$out")
  [ "$(ours "$pid" | wc -l)" = 7 ] || fail "not 7 namespaces while holding: $(ours "$pid")"
  kill -0 "$gw_pid" && kill -0 "$mc_pid" || fail "msrp-edge or msrpcat not running while holding"
  kill -"$sig" "$pid"
  status=0
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "SIG$sig: still running after 20 s"
  wait "$pid" || status=$?
  [ "$status" != 0 ] || fail "SIG$sig: exit status 0"
  check_gone "$pid" "$gw_pid" "$mc_pid"
  echo "ok: SIG$sig while holding: exit $status, 7 namespaces, msrp-edge, msrpcat and the work directory gone"
  pid=
done

: >"$out"
status=0
NAT_FAIL_AT=proof TMPDIR=$tmp "$here/nat-scenarios.sh" "$edge" "$cat" >"$out" 2>&1 &
pid=$!
wait "$pid" || status=$?
[ "$status" = 1 ] || fail "a failure after the proof: exit $status, not 1"
grep -q '^FAIL: failing after the proof' "$out" || fail "no FAIL line"
check_gone "$pid"
echo "ok: a failure after the proof: exit 1, no namespace left"
pid=
echo "nat teardown: ok"
