#!/usr/bin/env bash
# Unpack lwIP's source from Debian's `lwip` source package into build/.
#
# Usage: tools/fetch-lwip.sh [DESTDIR]   (default build/third_party)
#
# lwIP is never committed: the build takes it from Debian's archive. When
# apt has no deb-src line, this script adds the project's own sources file
# (/etc/apt/sources.list.d/mica-deb-src.sources) for the suites the machine
# already uses, then runs `apt-get source lwip`. Prints the unpacked tree's
# path on success. Needs root (or sudo) only to add the sources file.
set -euo pipefail

dest=${1:-build/third_party}
want_version=2.1.3
tree="$dest/lwip-$want_version"
if [ -f "$tree/src/core/tcp.c" ]; then
	echo "$tree"
	exit 0
fi

sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo

have_deb_src() {
	grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/
}

if ! have_deb_src; then
	src=/etc/apt/sources.list.d/mica-deb-src.sources
	echo "fetch-lwip: enabling Debian source packages in $src" >&2
	uris=$(grep -rhsE '^URIs:' /etc/apt/sources.list.d/*.sources | grep -E 'debian' | head -1 | sed 's/^URIs:[[:space:]]*//')
	[ -n "$uris" ] || uris=http://deb.debian.org/debian
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
	printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uris" "$codename" | $sudo tee "$src" >/dev/null
	$sudo apt-get update -q >&2
fi

command -v dpkg-source >/dev/null || {
	echo "fetch-lwip: dpkg-source missing (package dpkg-dev)" >&2
	exit 1
}

mkdir -p "$dest"
work=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get source -q lwip >&2); then
	# A stale package list can name a file the mirror no longer has.
	$sudo apt-get update -q >&2
	(cd "$work" && apt-get source -q lwip >&2)
fi
got=$(find "$work" -maxdepth 1 -type d -name 'lwip-*' | head -1)
[ -n "$got" ] && [ -f "$got/src/core/tcp.c" ] || {
	echo "fetch-lwip: apt-get source lwip did not unpack an lwIP tree" >&2
	exit 1
}
version=${got##*/lwip-}
case "$version" in
"$want_version"*) ;;
*) echo "fetch-lwip: got lwIP $version, the port is written for $want_version" >&2; exit 1 ;;
esac
rm -rf "$tree"
mv "$got" "$tree"
echo "$tree"
