#!/bin/bash
# Install what msrp-edge needs, build it, and run it in the foreground on its
# embedded default (msrp on 127.0.0.1:2855).  Extra arguments go to the
# daemon, e.g. --log-format=text.
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/setup.sh
[ -f build/build.ninja ] || meson setup build
meson compile -C build
exec ./build/gateway/daemon/msrp-edge "$@"
