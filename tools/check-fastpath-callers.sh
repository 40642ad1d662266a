#!/bin/sh
# Usage: check-fastpath-callers.sh NM FASTPATH_OBJ ENTRY_OBJ OBJ...
#
# Fails (exit 1, naming the object and the function) when any OBJ other
# than FASTPATH_OBJ and ENTRY_OBJ refers to a function FASTPATH_OBJ
# defines. fastpath.c is compiled with rbx and r12-r15 call-clobbered
# (Makefile, FASTPATH_CFLAGS): only the system call entry (switch.S),
# which restores every register from the trap frame, may call it; a C
# caller would silently lose its callee-saved registers. A call or an
# address taken in another object leaves the name undefined there
# (`nm -u`), which is what this looks for. Run by the kernel link rule.
set -eu
nm=$1 fastpath=$2 entry=$3
shift 3
defined=$("$nm" -g --defined-only "$fastpath") || { echo "$0: $nm $fastpath failed" >&2; exit 1; }
functions=$(printf '%s\n' "$defined" | awk '$2 == "T" { print $3 }')
[ -n "$functions" ] || { echo "$0: $fastpath defines no function" >&2; exit 1; }
status=0
for obj in "$@"; do
	[ "$obj" = "$fastpath" ] || [ "$obj" = "$entry" ] && continue
	undefined=$("$nm" -u "$obj") || { echo "$0: $nm -u $obj failed" >&2; exit 1; }
	for name in $(printf '%s\n' "$undefined" | awk '{ print $2 }'); do
		for f in $functions; do
			if [ "$name" = "$f" ]; then
				echo "$obj refers to $f: only the system call entry ($entry) may" \
					"call fastpath.c (built with FASTPATH_CFLAGS, kernel/fastpath.h)" >&2
				status=1
			fi
		done
	done
done
exit $status
