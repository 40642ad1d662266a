#!/usr/bin/env bash
# Unpack lwIP's source from Debian's `lwip` source package into build/,
# and apply the project's patches to it.
#
# Usage: tools/fetch-lwip.sh [DESTDIR [PATCHDIR]]
#        (default build/third_party and netstack/port/patches)
#
# lwIP is never committed: the build takes it from Debian's archive. When
# apt has no deb-src line, this script adds the project's own sources file
# (/etc/apt/sources.list.d/mica-deb-src.sources) for the suites the machine
# already uses, then runs `apt-get source lwip`. The unpacked source is kept
# as DESTDIR/lwip-2.1.3.orig; DESTDIR/lwip-2.1.3 is a copy of it with every
# PATCHDIR/*.patch applied in name order (each is an upstream lwIP fix
# newer than 2.1.3: docs/netstack.md), made again whenever the patches
# change. Prints the patched tree's path on success. Needs root (or sudo)
# only to add the sources file.
set -euo pipefail

dest=${1:-build/third_party}
patches=${2:-netstack/port/patches}
want_version=2.1.3
tree="$dest/lwip-$want_version"
orig="$tree.orig"
stamp="$tree/.mica-patches"
patch_sum=$(cat "$patches"/*.patch 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -f "$tree/src/core/tcp.c" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$patch_sum" ]; then
	echo "$tree"
	exit 0
fi

# The patched tree: a copy of the pristine one, then the patches. lwIP's
# sources have CRLF line ends; the patches are kept with LF and given CRLF
# for applying.
make_tree() {
	rm -rf "$tree"
	cp -R "$orig" "$tree"      # new times: everything of lwIP is built again
	for p in "$patches"/*.patch; do
		[ -f "$p" ] || continue
		echo "fetch-lwip: applying ${p##*/}" >&2
		sed 's/$/\r/' "$p" | patch -s -p1 --binary -d "$tree" || {
			echo "fetch-lwip: ${p##*/} does not apply" >&2
			exit 1
		}
	done
	echo "$patch_sum" > "$stamp"
	echo "$tree"
}

# A tree unpacked before patches were carried is the pristine source.
if [ ! -d "$orig" ] && [ -f "$tree/src/core/tcp.c" ] && [ ! -f "$stamp" ]; then
	mv "$tree" "$orig"
fi
if [ -f "$orig/src/core/tcp.c" ]; then
	make_tree
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
rm -rf "$orig"
mv "$got" "$orig"
make_tree
