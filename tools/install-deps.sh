#!/usr/bin/env bash
# Install the Debian packages Mica's build, boot and tests need.
#
# Usage: tools/install-deps.sh [build|run|test|all]
#   build  compiler and linker
#   run    + QEMU, GRUB (ISO), iPXE ROMs
#   test   + pytest, iproute2 (namespaces), traffic tools
#   bench  + what bench/linux-guest.sh and bench/linux-router.py pack into the
#          reference Linux guests (nftables for the firewall benchmark),
#          gnuplot for the report's plots
#   all    everything (default)
#
# Only missing packages are installed; a machine that has them all is not
# touched (no apt-get update). Needs root (or sudo) to install.
set -euo pipefail

want=${1:-all}

pkgs_build=(gcc make binutils libc6-dev dpkg-dev musl-tools cpio)
pkgs_run=(qemu-system-x86 qemu-utils ipxe-qemu grub-pc-bin grub-common xorriso mtools)
pkgs_test=(python3 python3-pytest python3-scapy iproute2 gdb iperf iperf3 traceroute dnsmasq-base iputils-ping)
pkgs_bench=(busybox-static cpio gzip xz-utils gnuplot-nox nftables)

case "$want" in
build) pkgs=("${pkgs_build[@]}") ;;
run)   pkgs=("${pkgs_build[@]}" "${pkgs_run[@]}") ;;
test)  pkgs=("${pkgs_build[@]}" "${pkgs_run[@]}" "${pkgs_test[@]}") ;;
bench|all) pkgs=("${pkgs_build[@]}" "${pkgs_run[@]}" "${pkgs_test[@]}" "${pkgs_bench[@]}") ;;
*) echo "install-deps: unknown set '$want' (build|run|test|bench|all)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing missing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: need root to install ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
