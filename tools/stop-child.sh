# Sourced by tools/tapnet.sh and tools/gdb-run.sh (bash).
#
# stop_child PID: end a child this script started, by its PID: SIGTERM,
# up to 5 s to exit, then SIGKILL; reap it. Nothing if it is gone already.
stop_child() {
	local pid=$1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
