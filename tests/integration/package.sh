#!/bin/bash
# The Debian package as an operator meets it:
#
#   1. packaging/build-deb.sh builds msrp-edge_VERSION_amd64.deb (and the
#      native source package); lintian reports no error and no warning on
#      the .changes (pedantic tags included; the overrides in
#      packaging/debian/ say why each informational one is there);
#   2. `apt-get install -y ./msrp-edge_*.deb` installs it: the binaries,
#      the man pages, the conffile, the users file (root:msrp-edge 0640),
#      the system user, the units (not enabled); `msrp-edge --check-config
#      /etc/msrp-edge/msrp-edge.conf` accepts the installed configuration;
#      `systemd-analyze verify` is clean on the installed units and
#      `security --offline=yes` rates them at most 2.0;
#   3. the installed daemon runs as the service user with no capability
#      and no_new_privs (what User=, CapabilityBoundingSet= and
#      NoNewPrivileges= give it) on the installed configuration with free
#      ports: listener_up, reading the users file through its group,
#      SIGTERM, exit 0;
#   4. `apt-get remove` keeps the configuration, the users file and the
#      user; `apt-get purge` leaves nothing: no file of the package, no
#      /etc/msrp-edge, no user or group, no unit state, /etc/passwd,
#      group, shadow and gshadow as they were, and no path naming
#      msrp-edge anywhere among the files the whole run changed.
#
# Where it is installed: not on this machine, and not in a debootstrap
# chroot either.  A clean chroot needs a Debian mirror: there is none
# offline, and fetching a base system and the package's dependencies
# from the registry on every run would take minutes and make the test
# depend on the network.  Instead the test gets a private mount namespace
# (unshare) in which an overlay file system puts a tmpfs over this
# machine's root, and chroots into it: the package installs against this
# machine's packages, every write lands in the tmpfs, nothing reaches the
# real system, and the namespace, its mounts and every write vanish when
# the test ends, whichever way it ends.  The overlay's upper layer is the
# exact list of what the install, the run and the purge changed, which is
# what step 4 reads.  What this cannot show is that Depends: lists every
# library (this machine has the build dependencies): dpkg-shlibdeps
# computes those from the binaries.
#
# Needs root (skipped with 77 otherwise), debhelper, lintian and the build
# dependencies (packaging/setup.sh installs them).
# Usage: package.sh SOURCE-ROOT
set -euo pipefail
top=$(cd "$1" && pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (a mount namespace and an overlay)"
  exit 77
fi
for tool in dpkg-buildpackage dh lintian unshare systemd-analyze; do
  command -v "$tool" >/dev/null ||
    { echo "FAIL: $tool is missing (bash packaging/setup.sh installs it)"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/msrp-package.XXXXXX")
inner_pid=""
cleanup () {
  local status=$?
  trap - EXIT INT TERM
  # The namespace holds the overlay: once its processes are gone, so are
  # its mounts and everything written into it.
  # (its processes are a process group of their own: setsid below).
  if [ -n "$inner_pid" ]; then
    kill -TERM -- "-$inner_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 -- "-$inner_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$inner_pid" 2>/dev/null || true
    wait "$inner_pid" 2>/dev/null || true
  fi
  if [ "${KEEP_WORK:-0}" = 1 ]; then
    echo "work directory kept: $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail () { echo "FAIL: $*"; exit 1; }
note () { echo "ok: $*"; }

# 1. Build and lint.
bash "$top/packaging/build-deb.sh" "$work/out" >"$work/build.out" 2>&1 ||
  fail "build-deb.sh: $(tail -30 "$work/build.out")"
deb=$(tail -1 "$work/build.out")
[ -f "$deb" ] || fail "no package: $(tail -5 "$work/build.out")"
case "$(basename "$deb")" in
  msrp-edge_*_amd64.deb) ;;
  *) fail "unexpected package name $(basename "$deb")" ;;
esac
note "built $(basename "$deb")"
lintian --pedantic --fail-on error,warning,pedantic "$work"/out/*.changes \
  >"$work/lintian.out" 2>&1 ||
  fail "lintian: $(grep -v '^running with root' "$work/lintian.out")"
if grep -E '^[EWP]:' "$work/lintian.out"; then
  fail "lintian has errors or warnings"
fi
note "lintian: no error, no warning ($(grep -c '^[IX]:' "$work/lintian.out" || true) informational tags not overridden)"

# 2-4 run in the chroot, from this script (the overlay shows $work).
cat >"$work/inside.sh" <<'INSIDE'
set -euo pipefail
fail () { echo "FAIL: $*"; exit 1; }
note () { echo "ok: $*"; }
export DEBIAN_FRONTEND=noninteractive
daemon_pid=""
trap '[ -z "$daemon_pid" ] || kill -KILL "$daemon_pid" 2>/dev/null || true' EXIT
cd "$OUT"

apt-get install -y -q ./msrp-edge_*_amd64.deb >"$WORK/apt-install.out" 2>&1 ||
  fail "apt-get install: $(tail -20 "$WORK/apt-install.out")"
[ "$(dpkg-query -W -f='${Status}' msrp-edge)" = "install ok installed" ] ||
  fail "not installed"
for f in /usr/sbin/msrp-edge /usr/bin/msrpcat /etc/msrp-edge/msrp-edge.conf \
         /lib/systemd/system/msrp-edge.service \
         /lib/systemd/system/msrp-edge@.service \
         /usr/share/man/man8/msrp-edge.8.gz /usr/share/man/man1/msrpcat.1.gz; do
  [ -f "$f" ] || fail "$f is missing"
done
dpkg-query -W -f='${Conffiles}\n' msrp-edge | grep -q '^ /etc/msrp-edge/msrp-edge.conf ' ||
  fail "msrp-edge.conf is not a conffile"
[ "$(stat -c '%a %U %G %s' /etc/msrp-edge/users)" = "640 root msrp-edge 0" ] ||
  fail "users file: $(stat -c '%a %U %G %s' /etc/msrp-edge/users)"
grep -qx 'users-file=/etc/msrp-edge/users' /etc/msrp-edge/msrp-edge.conf ||
  fail "the packaged configuration does not name the users file"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd msrp-edge) ||
  fail "no user msrp-edge"
[ "$uid" -lt 1000 ] && [ "$home" = /nonexistent ] &&
  [ "$shell" = /usr/sbin/nologin ] ||
  fail "msrp-edge is not a system user: uid $uid home $home shell $shell"
[ "$(getent group msrp-edge | cut -d: -f3)" = "$gid" ] || fail "no group msrp-edge"
[ ! -e /etc/systemd/system/multi-user.target.wants/msrp-edge.service ] ||
  fail "the unit was enabled at install"
"$(command -v msrp-edge)" --version | grep -q '^msrp-edge ' || fail "--version"
note "installed: binaries, man pages, conffile, users file 0640 root:msrp-edge, system user $uid, units not enabled"

msrp-edge --check-config /etc/msrp-edge/msrp-edge.conf >"$WORK/check.out" 2>&1 ||
  fail "--check-config: $(cat "$WORK/check.out")"
note "$(cat "$WORK/check.out")"

for u in msrp-edge.service msrp-edge@.service; do
  systemd-analyze verify "/lib/systemd/system/$u" >"$WORK/verify.out" 2>&1 &&
    [ ! -s "$WORK/verify.out" ] ||
    fail "systemd-analyze verify $u: $(cat "$WORK/verify.out")"
done
level=$(systemd-analyze security --offline=yes \
          /lib/systemd/system/msrp-edge.service 2>&1 |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
python3 -c 'import sys; sys.exit(not float(sys.argv[1]) <= 2.0)' "${level:-99}" ||
  fail "exposure level '$level'"
note "installed units: verify clean, exposure level $level"

# The installed configuration with free ports, as the service user.
ports=$(python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss + [u]))')
read -r msrp_port http_port ctl_port <<<"$ports"
sed -e "s/^msrp=.*/msrp=127.0.0.1:$msrp_port/" \
    -e "s/^control=.*/control=127.0.0.1:$ctl_port/" \
    -e "s/^http=.*/http=127.0.0.1:$http_port/" \
    /etc/msrp-edge/msrp-edge.conf >/run/msrp-edge-package-test.conf
chmod 0644 /run/msrp-edge-package-test.conf
setpriv --reuid=msrp-edge --regid=msrp-edge --clear-groups --no-new-privs \
  --inh-caps=-all --bounding-set=-all \
  /usr/sbin/msrp-edge --config /run/msrp-edge-package-test.conf \
  2>"$WORK/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do
  grep -q '"event":"metrics_up"' "$WORK/daemon.log" && break
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "\"event\":\"listener_up\".*\"addr\":\"127.0.0.1:$msrp_port\"" "$WORK/daemon.log" ||
  fail "no listener_up: $(cat "$WORK/daemon.log")"
grep -q '"event":"no_users"' "$WORK/daemon.log" &&
  fail "the users file was not read"
python3 -c 'import sys, urllib.request
assert urllib.request.urlopen(sys.argv[1], timeout=5).read() == b"pong\n"' \
  "http://127.0.0.1:$http_port/ping" || fail "/ping"
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=""
[ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM: $(tail -5 "$WORK/daemon.log")"
grep -q '"event":"stopped"' "$WORK/daemon.log" || fail "no stopped event"
rm -f /run/msrp-edge-package-test.conf
note "the installed daemon ran as msrp-edge without capabilities: listener_up, /ping, exit 0 on SIGTERM"

apt-get remove -y -q msrp-edge >"$WORK/apt-remove.out" 2>&1 ||
  fail "apt-get remove: $(tail -20 "$WORK/apt-remove.out")"
[ ! -e /usr/sbin/msrp-edge ] || fail "remove left the binary"
[ -f /etc/msrp-edge/msrp-edge.conf ] && [ -f /etc/msrp-edge/users ] &&
  getent passwd msrp-edge >/dev/null ||
  fail "remove took the configuration, the users file or the user"
note "remove: binaries gone, configuration, users file and user kept"

apt-get purge -y -q msrp-edge >"$WORK/apt-purge.out" 2>&1 ||
  fail "apt-get purge: $(tail -20 "$WORK/apt-purge.out")"
dpkg-query -W -f='${Status}' msrp-edge 2>/dev/null | grep -q ' installed$' &&
  fail "still known to dpkg: $(dpkg-query -W -f='${Status}' msrp-edge)"
for f in /etc/msrp-edge /usr/sbin/msrp-edge /usr/bin/msrpcat \
         /lib/systemd/system/msrp-edge.service \
         /lib/systemd/system/msrp-edge@.service \
         /usr/share/man/man8/msrp-edge.8.gz /usr/share/doc/msrp-edge; do
  [ ! -e "$f" ] || fail "purge left $f"
done
getent passwd msrp-edge >/dev/null && fail "purge left the user"
getent group msrp-edge >/dev/null && fail "purge left the group"
note "purge: no file, no user, no group"
INSIDE

# The namespace: a tmpfs for the overlay's upper layer (a tmpfs, not a
# directory of /, which overlayfs refuses as overlapping its lower layer
# /), the overlay on it, the kernel's file systems bound in, then the
# chroot.  After it, the upper layer is read from outside the chroot.
cat >"$work/namespace.sh" <<'NS'
set -euo pipefail
fail () { echo "FAIL: $*"; exit 1; }
t="$WORK/ns"
mkdir -p "$t"
mount -t tmpfs -o size=2g msrp-package "$t"
mkdir "$t/upper" "$t/work" "$t/root"
mount -t overlay msrp-package-root \
  -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" "$t/root" ||
  fail "cannot mount an overlay on /"
for d in /proc /sys /dev; do
  mount --rbind "$d" "$t/root$d"
done
# The work directory itself, writable and shared with the outside, for
# the logs.
mount --bind "$WORK" "$t/root$WORK"
chroot "$t/root" /usr/bin/env WORK="$WORK" OUT="$OUT" \
  /bin/bash "$WORK/inside.sh"

# Every path the install, the run and the purge left changed.  Bookkeeping
# that any package leaves (dpkg's and apt's state and logs, the man-db
# index, the backups of passwd and friends) may be there, as long as no
# path names msrp-edge; passwd, group, shadow and gshadow must be what
# they were.  /var/cache/man/cat*/ is man's cache of pages it formatted:
# the test's own `systemd-analyze verify` runs man for Documentation=
# man:msrp-edge(8), not the package (man-db's daily job expires it).
(cd "$t/upper" && find . -mindepth 1 | sed 's|^\.||' | sort) >"$WORK/changed"
if grep -i 'msrp' "$WORK/changed" | grep -v "^$WORK" |
   grep -v '^/var/cache/man/cat[0-9]/msrp-edge\.[0-9]\.gz$' >"$WORK/left"; then
  fail "left behind: $(cat "$WORK/left")"
fi
for f in /etc/passwd /etc/group /etc/shadow /etc/gshadow; do
  if [ -e "$t/upper$f" ]; then
    cmp -s "$t/upper$f" "$f" || fail "$f differs after purge: $(diff "$f" "$t/upper$f")"
  fi
done
echo "ok: nothing left: $(grep -vc "^$WORK" "$WORK/changed") changed paths, none of msrp-edge; passwd, group, shadow, gshadow as before"
NS

WORK="$work" OUT="$work/out" setsid unshare --mount --propagation private \
  /bin/bash "$work/namespace.sh" >"$work/inside.out" 2>&1 &
inner_pid=$!
rc=0
wait "$inner_pid" || rc=$?
inner_pid=""
cat "$work/inside.out"
[ "$rc" -eq 0 ] || fail "in the chroot (status $rc)"
# The namespace is gone: nothing of it is mounted any more.
grep -q "$work/ns" /proc/mounts && fail "the overlay is still mounted"
echo "package: ok"
