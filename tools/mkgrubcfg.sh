#!/bin/sh
# Usage: mkgrubcfg.sh CMDLINE FILE:NAME...  -> grub.cfg on stdout.
# The kernel is /boot/kernel; each module is /boot/NAME.
set -eu
cmdline=$1; shift
cat <<CFG
set timeout=0
set timeout_style=hidden
menuentry "Mica" {
	multiboot /boot/kernel $cmdline
CFG
for m in "$@"; do
	echo "	module /boot/${m##*:} ${m##*:}"
done
cat <<CFG
	boot
}
CFG
