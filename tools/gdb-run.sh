#!/usr/bin/env bash
# `make gdb`: QEMU stopped at its first instruction with gdb attached.
#
# Usage: tools/gdb-run.sh KERNEL GDB_SOCKET CONSOLE_SOCKET QEMU-COMMAND...
#
# QEMU runs in a session of its own, so the terminal's Ctrl-C (SIGINT to
# the foreground process group: make, this script, gdb) never reaches it:
# gdb stops the guest and `continue` resumes it; this script carries on. QEMU's gdb stub
# listens on GDB_SOCKET; the serial console (with QEMU's monitor behind
# Ctrl-A C, as in `make run`) on CONSOLE_SOCKET, and everything the guest
# prints is also written to CONSOLE_SOCKET's name with .log for .sock.
# gdb starts with KERNEL's symbols and tools/gdbinit, and runs to kmain.
# When gdb quits (or this script gets SIGTERM or SIGHUP), QEMU is stopped
# and the sockets removed. A socket something still listens on (another
# `make gdb`) is left alone: the script refuses to start.
set -euo pipefail
. "$(dirname "$0")/stop-child.sh"

[ $# -ge 4 ] || { echo "usage: $0 KERNEL GDB_SOCKET CONSOLE_SOCKET QEMU-COMMAND..." >&2; exit 2; }
kernel=$1 gdb_sock=$2 con_sock=$3
shift 3
con_log=${con_sock%.sock}.log
here=$(cd "$(dirname "$0")" && pwd)

# Something listens on it: a connection is taken (and closed at once).
listening() {
	[ -S "$1" ] && python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(1)
s.connect(sys.argv[1])' "$1" 2>/dev/null
}
for sock in "$gdb_sock" "$con_sock"; do
	if listening "$sock"; then
		echo "gdb-run: $sock is in use (another make gdb?); stop that one, or give" \
		     "GDB_SOCKET= and CONSOLE_SOCKET= other paths" >&2
		exit 1
	fi
done

qemu=""
cleanup() {
	local status=$?
	trap - EXIT TERM HUP
	stop_child "$qemu"
	rm -f "$gdb_sock" "$con_sock"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 129' HUP
# Ctrl-C is for gdb (the guest stops); this script carries on. A handler,
# not an ignore, so that gdb does not inherit SIGINT ignored.
trap ':' INT

mkdir -p "$(dirname "$gdb_sock")" "$(dirname "$con_sock")"
rm -f "$gdb_sock" "$con_sock"
setsid "$@" -S \
	-chardev "socket,id=gdb0,path=$gdb_sock,server=on,wait=off" -gdb chardev:gdb0 \
	-chardev "socket,id=con0,path=$con_sock,server=on,wait=off,mux=on,logfile=$con_log" \
	-serial chardev:con0 -mon chardev=con0 </dev/null &
qemu=$!
echo "gdb-run: QEMU pid $qemu"
for _ in $(seq 100); do
	[ -S "$gdb_sock" ] && [ -S "$con_sock" ] && break
	kill -0 "$qemu" 2>/dev/null || { echo "gdb-run: QEMU did not start" >&2; exit 1; }
	sleep 0.1
done
[ -S "$gdb_sock" ] || { echo "gdb-run: no gdb socket $gdb_sock after 10 s" >&2; exit 1; }

cat <<EOF
gdb-run: the serial console is on $con_sock: from another terminal,
    tools/console.py $con_sock     (Ctrl-] leaves it; Ctrl-A X quits QEMU)
  and everything it prints goes to $con_log too (tail -f $con_log).
gdb-run: in gdb, Ctrl-C stops the guest and 'continue' resumes it;
  'mica-user NAME' loads a user program's symbols (all are linked at
  0x400000: one at a time; 'mica-user' lists them and names the running
  thread); 'quit' ends gdb and QEMU.
EOF
status=0
gdb -q "$kernel" -x "$here/gdbinit" -ex "target remote $gdb_sock" \
	-ex 'thbreak kmain' -ex continue || status=$?
exit "$status"
