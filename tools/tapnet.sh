#!/usr/bin/env bash
# `make run NET=tap` and `make pxe-run NET=tap`: Mica's NIC on a tap device
# in a network namespace of its own, so the host can ping it and run iperf
# against it.
#
# Usage: tools/tapnet.sh manifest FILE
#          FILE with the netstack's `eth0.addr=dhcp` made the static address
#          the appliance has on the tap (10.1.0.2/24), said in a last
#          comment line (the others keep their numbers) and in the
#          comments that said "an address from DHCP", on stdout.
#        tools/tapnet.sh run NETNS QEMU-COMMAND...
#          Creates namespace NETNS (it must not exist) with tap0, the host
#          side 10.1.0.1/24, and for every other `ifname=tapN` in the QEMU
#          command a tapN with 10.1.N.1/24; prints the commands that reach
#          the appliance from another terminal; runs the QEMU command inside
#          the namespace; deletes the taps and the namespace when QEMU exits
#          (Ctrl-A X) or this script gets SIGINT, SIGTERM or SIGHUP (QEMU is
#          stopped first). Needs root.
#        tools/tapnet.sh pxe NETNS TFTP-DIR MAC QEMU-COMMAND...
#          As run, and before QEMU starts, dnsmasq in the namespace on tap0:
#          DHCP (the NIC with MAC gets 10.1.0.2, any other 10.1.0.100-199;
#          iPXE, which says so with option 175, gets boot.ipxe as its boot
#          file) and TFTP from a copy of TFTP-DIR; no DNS. Its log, leases
#          and pid file, and the copy, are in a temporary directory. On
#          exit dnsmasq is stopped by its PID and the directory removed.
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
	if ! grep -q 'eth0\.addr=dhcp' "$file"; then
		cat "$file"
		return
	fi
	# The comments that said DHCP say what it is now.
	local addr; addr="$(guest_addr 0)/24"
	sed -e "\$ a # NET=tap: tools/tapnet.sh made eth0.addr=dhcp the static eth0.addr=$addr (the tap serves no DHCP)." \
	    -e "/^[[:space:]]*#/ s|an address from DHCP|the static address $addr (NET=tap)|g" \
	    -e "s|eth0\.addr=dhcp|eth0.addr=$addr|g" "$file"
}

ns=""
qemu=""
taps=()
tmp=""
dnsmasq=""

# Everything is removed before the closing line, which may find no one
# reading any more (make killed, the terminal gone).
cleanup() {
	local status=$?
	trap - EXIT INT TERM HUP
	trap '' PIPE
	stop_child "$qemu"
	stop_child "$dnsmasq"
	[ -z "$tmp" ] || rm -rf "$tmp"
	if [ -n "$ns" ]; then
		for tap in "${taps[@]}"; do
			ip -n "$ns" link delete "$tap" 2>/dev/null || true
		done
		ip netns delete "$ns" 2>/dev/null || true
		echo "tapnet: namespace $ns removed" 2>/dev/null || true
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

# make_namespace TARGET NETNS QEMU-COMMAND...: checks that it can, installs
# the cleanup, then creates the namespace and the taps the command names.
make_namespace() {
	local target=$1 want=$2; shift 2
	if [ "$(id -u)" -ne 0 ]; then
		echo "tapnet: make $target NET=tap needs root (it creates a namespace and taps):" \
		     "sudo make $target NET=tap" >&2
		exit 1
	fi
	[ -e /dev/net/tun ] || { echo "tapnet: /dev/net/tun is missing" >&2; exit 1; }
	if ip netns list | awk '{print $1}' | grep -qxF "$want"; then
		echo "tapnet: namespace '$want' exists already: another make run or pxe-run NET=tap," \
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
}

# start_dnsmasq TFTP-DIR MAC: dnsmasq in the namespace on tap0 (see the
# usage above); returns once it has written its pid file, which it does
# after binding its sockets.
start_dnsmasq() {
	local tree=$1 mac=$2
	tmp=$(mktemp -d /tmp/mica-pxe.XXXXXX)
	# dnsmasq reads the files as its own unprivileged user, who may not
	# reach the directory they were built in; the copy is readable to all,
	# and a rebuild while QEMU runs does not change it.
	chmod 755 "$tmp"
	cp -R "$tree" "$tmp/tftp"
	chmod -R a+rX "$tmp/tftp"
	ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
		--interface=tap0 --bind-interfaces --no-resolv --no-hosts \
		--dhcp-range="10.1.0.100,10.1.0.199,255.255.255.0,1h" \
		--dhcp-host="$mac,$(guest_addr 0)" \
		--dhcp-match=set:ipxe,175 --dhcp-boot=tag:ipxe,boot.ipxe \
		--enable-tftp --tftp-root="$tmp/tftp" \
		--dhcp-leasefile="$tmp/leases" --pid-file="$tmp/dnsmasq.pid" \
		--log-dhcp --log-facility="$tmp/dnsmasq.log" </dev/null &
	dnsmasq=$!
	local _
	for _ in $(seq 50); do
		[ -s "$tmp/dnsmasq.pid" ] && return 0
		kill -0 "$dnsmasq" 2>/dev/null || break
		sleep 0.1
	done
	echo "tapnet: dnsmasq did not start; its log:" >&2
	cat "$tmp/dnsmasq.log" >&2 || true
	exit 1
}

# print_commands: what reaches the appliance from another terminal.
print_commands() {
	local tap n
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
}

# run_qemu QEMU-COMMAND...: QEMU in the namespace; this script exits with
# its status when it ends (and cleans up).
run_qemu() {
	# QEMU runs in the background so that a signal reaches the trap at once;
	# its standard input stays the terminal (the serial console).
	ip netns exec "$ns" "$@" <&0 &
	qemu=$!
	local status=0
	wait "$qemu" || status=$?
	qemu=""
	exit "$status"
}

run() {
	local want=$1; shift
	make_namespace run "$want" "$@"
	print_commands
	run_qemu "$@"
}

pxe() {
	local want=$1 tree=$2 mac=$3; shift 3
	[ -r "$tree/boot.ipxe" ] || { echo "tapnet: $tree/boot.ipxe is missing (make tftp)" >&2; exit 1; }
	make_namespace pxe-run "$want" "$@"
	start_dnsmasq "$tree" "$mac"
	echo "tapnet: dnsmasq (PID $dnsmasq) on tap0: DHCP ($mac gets $(guest_addr 0))," \
	     "TFTP from a copy of $tree; its log: $tmp/dnsmasq.log"
	print_commands
	run_qemu "$@"
}

case "${1:-}" in
manifest) [ $# -eq 2 ] || { echo "usage: $0 manifest FILE" >&2; exit 2; }
	make_manifest "$2" ;;
run) [ $# -ge 3 ] || { echo "usage: $0 run NETNS QEMU-COMMAND..." >&2; exit 2; }
	shift; run "$@" ;;
pxe) [ $# -ge 5 ] || { echo "usage: $0 pxe NETNS TFTP-DIR MAC QEMU-COMMAND..." >&2; exit 2; }
	shift; pxe "$@" ;;
*) echo "usage: $0 manifest FILE | run NETNS QEMU-COMMAND... |" \
	"pxe NETNS TFTP-DIR MAC QEMU-COMMAND..." >&2; exit 2 ;;
esac
