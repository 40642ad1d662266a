#!/bin/sh
# Usage: mkipxe.sh CMDLINE FILE:NAME...  -> an iPXE script on stdout.
# Paths are relative to the script's own URL, so the same tree works from
# QEMU's built-in TFTP server and from any real TFTP or HTTP server.
set -eu
cmdline=$1; shift
echo "#!ipxe"
echo "echo Mica: loading the kernel and modules"
echo "kernel kernel $cmdline"
for m in "$@"; do
	echo "module ${m##*:} ${m##*:}"
done
echo "boot"
