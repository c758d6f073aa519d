#!/bin/bash
# Install everything, then build and run the whole test suite three ways:
#   1. gcc, warnings as errors;
#   2. gcc with AddressSanitizer + UndefinedBehaviorSanitizer (leaks fail);
#   3. clang with libFuzzer: every fuzz target built and run briefly.
# Prints "N passed, N failed" at the end; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash packaging/setup.sh

passed=0
failed=0

# Count one meson test run from its JSON log.
tally () {
  local log="$1/meson-logs/testlog.json"
  [ -f "$log" ] || return 0
  local p f
  p=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(sum(1 for t in r if t["result"] in ("OK","EXPECTEDFAIL")))' "$log")
  f=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(sum(1 for t in r if t["result"] not in ("OK","EXPECTEDFAIL","SKIP")))' "$log")
  passed=$((passed + p))
  failed=$((failed + f))
}

run_suite () {
  local dir="$1"; shift
  local rc=0
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" || rc=$?
  tally "$dir"
  return $rc
}

status=0

echo "=== build 1/3: gcc, -Werror ==="
meson setup --reconfigure build-ci -Dwerror=true -Dbuildtype=debugoptimized \
  >/dev/null 2>&1 || meson setup build-ci -Dwerror=true -Dbuildtype=debugoptimized
meson compile -C build-ci
run_suite build-ci || status=1

echo "=== build 2/3: gcc, AddressSanitizer + UndefinedBehaviorSanitizer ==="
meson setup --reconfigure build-ci-asan -Dwerror=true -Dbuildtype=debug \
  -Db_sanitize=address,undefined -Db_lundef=false >/dev/null 2>&1 ||
  meson setup build-ci-asan -Dwerror=true -Dbuildtype=debug \
    -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-ci-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_suite build-ci-asan || status=1

echo "=== build 3/3: clang + libFuzzer, each target run for ${FUZZ_SECONDS:=20} s ==="
CC=clang meson setup --reconfigure build-ci-fuzz -Dwerror=true -Dfuzzing=true \
  -Db_sanitize=address,undefined -Db_lundef=false >/dev/null 2>&1 ||
  CC=clang meson setup build-ci-fuzz -Dwerror=true -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-ci-fuzz
for t in parser uri headers digest reassembly head users sdp bencode \
         reader cidr ng digest-state; do
  work=$(mktemp -d)
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
     ./build-ci-fuzz/tests/fuzz-$t -max_total_time="$FUZZ_SECONDS" \
       -rss_limit_mb=2048 -artifact_prefix="$work/" \
       "$work" "$top/tests/fuzz/corpus/$t" >"$work/log" 2>&1; then
    echo "fuzz-$t: $(grep -o 'Done [0-9]* runs.*' "$work/log" | tail -1)"
    passed=$((passed + 1))
  else
    echo "fuzz-$t: FAILED"; tail -40 "$work/log"
    failed=$((failed + 1)); status=1
  fi
  rm -rf "$work"
done

echo "$passed passed, $failed failed"
exit $status
