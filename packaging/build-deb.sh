#!/bin/bash
# Build the Debian package msrp-edge_VERSION_amd64.deb into OUT-DIR.
#
#   bash packaging/build-deb.sh OUT-DIR
#
# The repository's top level is fixed (debian/ may not live there), so this
# lays out a source tree for dpkg-buildpackage in a temporary directory:
# the files of the working tree (those git tracks and the new ones it does
# not ignore, as they are now: no build directories) with packaging/debian/
# as its debian/.  Then a full build (a native source package and the
# binary ones) without signing; OUT-DIR gets the .deb files, the .dsc and
# its tarball, the .changes and the .buildinfo (lintian reads the .changes).
# The version is meson.build's, which must be debian/changelog's.
#
# Needs debhelper and the build dependencies of packaging/debian/control
# (packaging/setup.sh installs them).  The temporary tree is removed on
# any exit.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUT-DIR" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

version=$(sed -n "s/^  version : '\([^']*\)',$/\1/p" "$top/meson.build")
deb_version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
if [ -z "$version" ] || [ "$version" != "$deb_version" ]; then
  echo "build-deb.sh: meson.build says version '$version'," \
       "packaging/debian/changelog '$deb_version': add a changelog entry" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/msrp-edge-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src="$work/msrp-edge-$version"
mkdir "$src"

# The working tree's files; one git lists but that was deleted is skipped.
(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
  (cd "$top" && while IFS= read -r -d '' f; do
     [ -e "$f" ] && [ "${f#packaging/debian/}" = "$f" ] && printf '%s\0' "$f"
   done) |
  (cd "$top" && tar --null --no-recursion -T - -cf -) |
  tar -C "$src" -xf -
cp -r "$top/packaging/debian" "$src/debian"

# Two cores are what the machines have; the suites are not the package's.
export DEB_BUILD_OPTIONS="parallel=2 nocheck ${DEB_BUILD_OPTIONS:-}"
(cd "$src" && dpkg-buildpackage -us -uc) >"$work/build.log" 2>&1 || {
  tail -60 "$work/build.log" >&2
  echo "build-deb.sh: dpkg-buildpackage failed" >&2
  exit 1
}

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes="$work/msrp-edge_${version}_${arch}.changes"
# Everything the .changes lists, and the .changes itself.
for f in $(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]\{32\} [0-9]* [^ ]* [^ ]* //p' \
             "$changes") "$(basename "$changes")"; do
  cp "$work/$f" "$out/"
done
echo "$out/msrp-edge_${version}_${arch}.deb"
