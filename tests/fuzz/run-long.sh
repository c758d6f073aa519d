#!/bin/bash
# Long fuzzing runs (not part of the test suite; CI runs each target for
# FUZZ_SECONDS, 20 s by default, in packaging/run-tests.sh).
#
# Builds the libFuzzer targets with clang, ASan and UBSan (in BUILD-DIR,
# default build-fuzz), runs every target (or those named) for SECONDS
# each (default 600) on a fresh working corpus seeded with the kept one,
# then merges into tests/fuzz/corpus/TARGET only the inputs that add
# coverage (-merge=1), and keeps any crash, leak or timeout input as
# tests/fuzz/corpus/TARGET/found-* after printing it.  Prints one line per
# target: executions, coverage, new corpus entries, findings.
#
# Usage: tests/fuzz/run-long.sh [-t SECONDS] [-b BUILD-DIR] [TARGET...]
#   e.g. tests/fuzz/run-long.sh -t 60 parser sdp
# Needs clang and libclang-rt-14-dev (packaging/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
seconds=600
build=build-fuzz
while getopts "t:b:" opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    b) build=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-b BUILD-DIR] [TARGET...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls tests/fuzz/corpus)
fi

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzzing=true -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null
fi
ninja -C "$build" $(printf 'tests/fuzz-%s ' "${targets[@]}") >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
printf '%-12s %12s %8s %8s %s\n' target executions coverage new findings
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz-$t"
  kept="$top/tests/fuzz/corpus/$t"
  fresh="$work/$t"
  mkdir -p "$fresh" "$work/$t-artifacts"
  before=$(ls "$kept" | wc -l)
  rc=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
    "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/$t-artifacts/" "$fresh" "$kept" \
    >"$work/$t.log" 2>&1 || rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t.log" |
    grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -1 | grep -o '[0-9]*' ||
    echo 0)
  findings=""
  for a in "$work/$t-artifacts"/*; do
    [ -e "$a" ] || continue
    name="found-$(basename "$a")"
    cp "$a" "$kept/$name"
    findings="$findings $name"
    status=1
  done
  if [ $rc -ne 0 ] && [ -z "$findings" ]; then
    findings=" exit-$rc"
    status=1
  fi
  # Only what adds coverage goes into the kept corpus.
  ASAN_OPTIONS=detect_leaks=0 "$bin" -merge=1 "$kept" "$fresh" \
    >"$work/$t.merge" 2>&1 || true
  after=$(ls "$kept" | wc -l)
  printf '%-12s %12s %8s %8s %s\n' "$t" "$runs" "$cov" \
    "$((after - before))" "${findings:- none}"
  if [ -n "$findings" ]; then
    tail -30 "$work/$t.log"
  fi
done
exit $status
