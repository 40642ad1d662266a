#!/usr/bin/env bash
# `make run NET=tap`: Mica's NIC on a tap device in a network namespace of
# its own, so the host can ping it and run iperf against it.
#
# Usage: tools/tapnet.sh manifest FILE
#          FILE with the netstack's `eth0.addr=dhcp` made the static address
#          the appliance has on the tap (10.1.0.2/24), on stdout.
#        tools/tapnet.sh run NETNS QEMU-COMMAND...
#          Creates namespace NETNS (it must not exist) with tap0, the host
#          side 10.1.0.1/24, and for every other `ifname=tapN` in the QEMU
#          command a tapN with 10.1.N.1/24; prints the commands that reach
#          the appliance from another terminal; runs the QEMU command inside
#          the namespace; deletes the taps and the namespace when QEMU exits
#          (Ctrl-A X) or this script gets SIGINT, SIGTERM or SIGHUP (QEMU is
#          stopped first). Needs root.
#
# Addresses: tapN is 10.1.N.0/24, the host side .1, the appliance .2.
set -euo pipefail
. "$(dirname "$0")/stop-child.sh"

host_addr() { echo "10.1.$1.1"; }
guest_addr() { echo "10.1.$1.2"; }

make_manifest() {
	local file=$1
	[ -r "$file" ] || { echo "tapnet: cannot read manifest '$file'" >&2; exit 1; }
	if ! grep -q 'eth0\.addr=' "$file"; then
		echo "tapnet: $file gives eth0 no address, so the netstack asks DHCP, which" \
		     "the tap does not serve; add eth0.addr=dhcp to its args (NET=tap makes it" \
		     "$(guest_addr 0)/24) or an address on 10.1.0.0/24" >&2
	fi
	sed "s|eth0\.addr=dhcp|eth0.addr=$(guest_addr 0)/24|g" "$file"
}

ns=""
qemu=""
taps=()

cleanup() {
	local status=$?
	trap - EXIT INT TERM HUP
	stop_child "$qemu"
	if [ -n "$ns" ]; then
		for tap in "${taps[@]}"; do
			ip -n "$ns" link delete "$tap" 2>/dev/null || true
		done
		ip netns delete "$ns" 2>/dev/null || true
		echo "tapnet: namespace $ns removed"
	fi
	exit "$status"
}

# The tap names the QEMU command asks for (ifname=...), tap0 first.
wanted_taps() {
	local arg
	echo tap0
	for arg in "$@"; do
		if [[ $arg =~ (^|,)ifname=(tap[0-9]+)(,|$) ]] && [ "${BASH_REMATCH[2]}" != tap0 ]; then
			echo "${BASH_REMATCH[2]}"
		fi
	done
}

run() {
	local want=$1; shift
	if [ "$(id -u)" -ne 0 ]; then
		echo "tapnet: make run NET=tap needs root (it creates a namespace and taps):" \
		     "sudo make run NET=tap" >&2
		exit 1
	fi
	[ -e /dev/net/tun ] || { echo "tapnet: /dev/net/tun is missing" >&2; exit 1; }
	if ip netns list | awk '{print $1}' | grep -qxF "$want"; then
		echo "tapnet: namespace '$want' exists already: another make run NET=tap," \
		     "or one that was killed (then: ip netns delete $want); or pick NETNS=other" >&2
		exit 1
	fi

	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	ip netns add "$want"
	ns=$want
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
	local tap n
	for tap in $(wanted_taps "$@" | sort -u -V); do
		n=${tap#tap}
		ip -n "$ns" tuntap add dev "$tap" mode tap
		taps+=("$tap")
		ip -n "$ns" addr add "$(host_addr "$n")/24" dev "$tap"
		ip -n "$ns" link set "$tap" up
	done

	echo "tapnet: namespace $ns; here ${taps[*]}; Mica's eth0 is $(guest_addr 0)" \
	     "(host side $(host_addr 0)/24 on tap0)"
	for tap in "${taps[@]:1}"; do
		n=${tap#tap}
		echo "tapnet: $tap is $(host_addr "$n")/24 here (the manifest should give the NIC" \
		     "on it $(guest_addr "$n")/24)"
	done
	echo "tapnet: from another terminal, as root:"
	for tap in "${taps[@]}"; do
		echo "    ip netns exec $ns ping $(guest_addr "${tap#tap}")"
	done
	cat <<EOF
    ip netns exec $ns iperf -c $(guest_addr 0)     # iperf 2 (Debian's iperf); iperf3 is not served yet
    ip netns exec $ns bash                  # a shell whose network is the namespace's
tapnet: quit QEMU with Ctrl-A then X; the namespace is removed then.
EOF
	# QEMU runs in the background so that a signal reaches the trap at once;
	# its standard input stays the terminal (the serial console).
	ip netns exec "$ns" "$@" <&0 &
	qemu=$!
	local status=0
	wait "$qemu" || status=$?
	qemu=""
	exit "$status"
}

case "${1:-}" in
manifest) [ $# -eq 2 ] || { echo "usage: $0 manifest FILE" >&2; exit 2; }
	make_manifest "$2" ;;
run) [ $# -ge 3 ] || { echo "usage: $0 run NETNS QEMU-COMMAND..." >&2; exit 2; }
	shift; run "$@" ;;
*) echo "usage: $0 manifest FILE | run NETNS QEMU-COMMAND..." >&2; exit 2 ;;
esac
