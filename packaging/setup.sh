#!/bin/sh
# Install every Debian 12 package that building msrp-edge, its unit tests,
# its fuzz targets and its integration tests need.  Safe to run again.
set -eu

if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: must run as root (it calls apt-get)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# Build: compiler, meson, the style checks' clang-format and clang-tidy,
# the four libraries of the required stack.
BUILD="build-essential pkg-config meson ninja-build clang-format clang-tidy \
	libglib2.0-dev libssl-dev libnice-dev check libsystemd-dev \
	libsoup-3.0-dev"
# Fuzzing and sanitizers: clang with libFuzzer and the sanitizer runtimes.
FUZZ="clang libclang-rt-14-dev llvm"
# Integration tests: real peers and real networks.  dnsmasq-base: the DNS
# server (SRV records of a relay farm) that tests/integration/srv.sh runs
# inside its own network namespace; only the binary, no system service.
PEERS="kamailio rtpengine-utils sip-tester tshark coturn \
	iproute2 nftables iptables procps psmisc python3 openssl ca-certificates \
	dnsmasq-base"
# The Debian package: built with debhelper, checked with lintian
# (tests/integration/package.sh).
PACKAGE="debhelper lintian"
# The metrics test checks the exposition with promtool, which Debian 12
# ships only in the package prometheus (its server is not used; where
# systemd runs, the package starts it as its own service).
METRICS="prometheus"

apt-get update -q
apt-get install -q -y --no-install-recommends $BUILD $FUZZ $PEERS $PACKAGE \
	$METRICS
