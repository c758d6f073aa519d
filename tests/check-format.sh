#!/bin/sh
# Fails when a C file of the tree differs from what clang-format makes of it
# with the tree's .clang-format (GNU style).  Fix with:
#   clang-format -i FILE...
# Usage: check-format.sh SOURCE-ROOT
set -eu
root="$1"
command -v clang-format >/dev/null ||
  { echo "check-format: clang-format is not installed (packaging/setup.sh)"; exit 1; }
cd "$root"
files=$(find msrp ice gateway tests -name '*.[ch]' | sort)
[ -n "$files" ] || { echo "check-format: no C files under $root"; exit 1; }
bad=0
for f in $files; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "check-format: $f is not formatted (clang-format -i $f)"
    bad=$((bad + 1))
  fi
done
n=$(echo "$files" | wc -l)
echo "check-format: $n files, $bad not formatted"
[ "$bad" -eq 0 ]
