#!/bin/sh
# quickstart.sh: build hushd from this tree and run it, or test it.
#
#   ./quickstart.sh run    install build dependencies (Debian, apt-get), build,
#                          and run hushd in the foreground with conf/hushd.conf
#   ./quickstart.sh test   the same set-up with sanitizers, then every test;
#                          prints "N passed, N failed" and fails if any failed
#
# Environment: HUSHD_FUZZ_SECONDS (default 20) bounds each fuzz smoke run.
set -eu

cd "$(dirname "$0")"

BUILD_PACKAGES="autoconf automake libtool pkg-config make gcc libc6-dev \
libldns-dev libevent-dev libssl-dev libmaxminddb-dev libjansson-dev \
libpcap-dev libnetfilter-queue-dev libcmocka-dev"
TEST_PACKAGES="unbound dnsutils python3 python3-dnspython clang \
libclang-rt-14-dev libmaxmind-db-writer-perl ieee-data iproute2 \
gnutls-bin curl openssl chromium"

die() {
	echo "quickstart: $*" >&2
	exit 1
}

# Installs what is missing; without apt-get, names the packages and stops.
install_packages() {
	missing=""
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "quickstart: install these packages (Debian names), then rerun:" >&2
		echo " $missing" >&2
		exit 1
	fi
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	echo "quickstart: installing$missing"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $missing >/dev/null ||
	    { $sudo apt-get update -q >/dev/null &&
	      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	      --no-install-recommends $missing >/dev/null; } ||
	    die "apt-get install failed"
}

# Configures (again when the options change) and builds in the source tree.
build() {
	options="$*"
	[ -x configure ] && [ configure.ac -ot configure ] && [ Makefile.am -ot configure ] ||
	    autoreconf -fi >/dev/null 2>&1 || die "autoreconf failed"
	if [ ! -f Makefile ] || [ "$(cat .quickstart-options 2>/dev/null)" != "$options" ]; then
		[ -f Makefile ] && make distclean >/dev/null 2>&1 || true
		./configure -q $options || die "configure failed"
		echo "$options" > .quickstart-options
	fi
	make -j"$(nproc)" >/dev/null || make || die "build failed"
}

case "${1:-}" in
run)
	install_packages $BUILD_PACKAGES
	build
	exec ./src/hushd -f -c conf/hushd.conf
	;;
test)
	install_packages $BUILD_PACKAGES $TEST_PACKAGES
	build --enable-sanitizers
	exec sh tests/run-tests.sh
	;;
*)
	echo "usage: ./quickstart.sh run | test" >&2
	exit 2
	;;
esac
