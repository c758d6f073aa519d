#!/bin/bash
# The systemd units as an operator gets them (packaging/msrp-edge.service
# and the template msrp-edge@.service):
#   - `systemd-analyze verify` passes with no complaint, for the unit, the
#     template and an instance of it.  verify wants ExecStart= to exist and
#     Documentation= to resolve, so the units are checked in a temporary
#     directory with ExecStart= naming the built daemon and MANPATH holding
#     the man pages of the tree; the package test (package.sh) verifies
#     the installed units as they are;
#   - `systemd-analyze security --offline=yes` rates each at most 2.0 ("OK");
#   - the template differs from the unit only in its Description= and
#     ExecStart= (one hardening for both);
#   - the directives issue 12 asks for are there.
# Usage: systemd-units.sh PACKAGING-DIR MSRP-EDGE
set -euo pipefail
packaging=$(cd "$1" && pwd)
daemon=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/msrp-units.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail () { echo "FAIL: $*"; exit 1; }
note () { echo "ok: $*"; }

command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }

mkdir -p "$work/units" "$work/man/man8" "$work/man/man1"
cp "$packaging/msrp-edge.8" "$work/man/man8/"
cp "$packaging/msrpcat.1" "$work/man/man1/"
for u in msrp-edge.service msrp-edge@.service; do
  sed "s|/usr/sbin/msrp-edge|$daemon|" "$packaging/$u" >"$work/units/$u"
done
cp "$work/units/msrp-edge@.service" "$work/units/msrp-edge@edge1.service"

for u in msrp-edge.service msrp-edge@.service msrp-edge@edge1.service; do
  rc=0
  MANPATH="$work/man" systemd-analyze verify "$work/units/$u" \
    >"$work/verify.out" 2>&1 || rc=$?
  # Unknown keys and bad values are only warnings: any output fails.
  [ "$rc" -eq 0 ] && [ ! -s "$work/verify.out" ] ||
    fail "systemd-analyze verify $u (status $rc): $(cat "$work/verify.out")"
  note "systemd-analyze verify $u: clean"
done

for u in msrp-edge.service msrp-edge@edge1.service; do
  systemd-analyze security --offline=yes "$work/units/$u" \
    >"$work/security.out" 2>&1 || true
  level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' \
    "$work/security.out")
  [ -n "$level" ] || fail "no exposure level for $u: $(tail -5 "$work/security.out")"
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 2.0 else 1)' \
    "$level" || {
    grep '✗' "$work/security.out"
    fail "$u: exposure level $level, above 2.0"
  }
  note "systemd-analyze security $u: $level"
done

# One hardening for both: everything but Description= and ExecStart= (and
# comments) is the same.
strip () { grep -vE '^(#|Description=|ExecStart=)' "$1"; }
diff <(strip "$packaging/msrp-edge.service") \
  <(strip "$packaging/msrp-edge@.service") >"$work/diff" ||
  fail "the template's directives differ from the unit's: $(cat "$work/diff")"
grep -qx 'ExecStart=/usr/sbin/msrp-edge --config /etc/msrp-edge/%i.conf' \
  "$packaging/msrp-edge@.service" || fail "template ExecStart="
note "the template differs only in Description= and ExecStart="

for d in Type=notify 'ExecReload=/bin/kill -HUP \$MAINPID' Restart=on-failure \
         'WatchdogSec=[0-9]+' 'LimitNOFILE=[0-9]+' User=msrp-edge UMask=0077 \
         'CapabilityBoundingSet=' NoNewPrivileges=yes MemoryDenyWriteExecute=yes \
         'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK' \
         'SystemCallFilter=@system-service' ProtectSystem=strict PrivateTmp=yes; do
  grep -qxE "$d" "$packaging/msrp-edge.service" || fail "no $d"
done
nofile=$(sed -n 's/^LimitNOFILE=//p' "$packaging/msrp-edge.service")
[ "$nofile" -ge 200000 ] || fail "LimitNOFILE=$nofile: too few for 100k relayed parties"
note "Type=notify, watchdog, reload, LimitNOFILE=$nofile and the hardening are there"
echo "systemd-units: ok"
