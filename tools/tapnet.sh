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
#        tools/tapnet.sh router NETNS TFTP-DIR LAN-MAC WAN-MAC QEMU-COMMAND...
#          make router-demo: Mica as a router between a LAN host and a WAN
#          host, each a namespace of its own. NETNS (the router's) has tap0
#          (the LAN NIC, LAN-MAC) and tap1 (the WAN NIC, WAN-MAC), each
#          bridged to a veth whose other end is the host's: NETNS-lan is
#          192.168.10.2/24 (default route by the router's 192.168.10.1),
#          with dnsmasq serving DHCP (LAN-MAC gets 192.168.10.1) and TFTP
#          from a copy of TFTP-DIR to iPXE; NETNS-wan is 10.99.0.2/24 (the
#          LAN by the router's 10.99.0.1), with dnsmasq serving DHCP
#          (WAN-MAC gets 10.99.0.1, this host its gateway) and an iperf3
#          server. Prints the commands to try from another terminal, runs
#          QEMU in NETNS, and removes all of it when QEMU exits or on
#          SIGINT, SIGTERM or SIGHUP.
#
# Addresses: tapN is 10.1.N.0/24, the host side .1, the appliance .2
# (router: 192.168.10.0/24 on the LAN, 10.99.0.0/24 on the WAN).
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
hosts=()        # router: the hosts' namespaces
children=()     # router: dnsmasq and iperf3 in them

# Everything is removed before the closing line, which may find no one
# reading any more (make killed, the terminal gone).
cleanup() {
	local status=$?
	trap - EXIT INT TERM HUP
	trap '' PIPE
	stop_child "$qemu"
	stop_child "$dnsmasq"
	local child host
	for child in "${children[@]}"; do
		stop_child "$child"
	done
	[ -z "$tmp" ] || rm -rf "$tmp"
	for host in "${hosts[@]}"; do
		ip netns delete "$host" 2>/dev/null || true
		echo "tapnet: namespace $host removed" 2>/dev/null || true
	done
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

# may_make TARGET NETNS...: refuses unless root with /dev/net/tun and none
# of the namespaces exists; then installs the cleanup.
may_make() {
	local target=$1 name; shift
	if [ "$(id -u)" -ne 0 ]; then
		echo "tapnet: make $target needs root (it creates namespaces and taps):" \
		     "sudo make $target" >&2
		exit 1
	fi
	[ -e /dev/net/tun ] || { echo "tapnet: /dev/net/tun is missing" >&2; exit 1; }
	for name in "$@"; do
		if ip netns list | awk '{print $1}' | grep -qxF "$name"; then
			echo "tapnet: namespace '$name' exists already: another make run, pxe-run" \
			     "NET=tap or router-demo, or one that was killed (then: ip netns delete" \
			     "$name); or pick NETNS=other" >&2
			exit 1
		fi
	done
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# add_namespace NETNS: a namespace with lo up and no IPv6.
add_namespace() {
	ip netns add "$1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
}

# make_namespace TARGET NETNS QEMU-COMMAND...: checks that it can, installs
# the cleanup, then creates the namespace and the taps the command names.
make_namespace() {
	local target=$1 want=$2; shift 2
	may_make "$target NET=tap" "$want"
	add_namespace "$want"
	ns=$want
	local tap n
	for tap in $(wanted_taps "$@" | sort -u -V); do
		n=${tap#tap}
		ip -n "$ns" tuntap add dev "$tap" mode tap
		taps+=("$tap")
		ip -n "$ns" addr add "$(host_addr "$n")/24" dev "$tap"
		ip -n "$ns" link set "$tap" up
	done
}

# copy_tree TFTP-DIR: a temporary directory with a copy of the tree in
# tftp/. dnsmasq reads the files as its own unprivileged user, who may not
# reach the directory they were built in; the copy is readable to all,
# and a rebuild while QEMU runs does not change it.
copy_tree() {
	tmp=$(mktemp -d /tmp/mica-pxe.XXXXXX)
	chmod 755 "$tmp"
	cp -R "$1" "$tmp/tftp"
	chmod -R a+rX "$tmp/tftp"
}

# run_dnsmasq NETNS IFACE NAME RANGE MAC ADDR [TFTP-ROOT]: dnsmasq in NETNS
# on IFACE: DHCP from RANGE, MAC getting ADDR, and with TFTP-ROOT boot.ipxe
# for iPXE (which says so with option 175) and TFTP from there; no DNS.
# Its log, leases and pid file are $tmp/NAME.*. Sets dnsmasq to its PID
# once it has written its pid file, which it does after binding its sockets.
run_dnsmasq() {
	local where=$1 iface=$2 name=$3 range=$4 mac=$5 addr=$6 root=${7:-}
	local tftp=()
	[ -z "$root" ] || tftp=(--dhcp-match=set:ipxe,175 --dhcp-boot=tag:ipxe,boot.ipxe
				--enable-tftp --tftp-root="$root")
	ip netns exec "$where" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
		--interface="$iface" --bind-interfaces --no-resolv --no-hosts \
		--dhcp-range="$range" --dhcp-host="$mac,$addr" "${tftp[@]}" \
		--dhcp-leasefile="$tmp/$name.leases" --pid-file="$tmp/$name.pid" \
		--log-dhcp --log-facility="$tmp/$name.log" </dev/null &
	dnsmasq=$!
	local _
	for _ in $(seq 50); do
		[ -s "$tmp/$name.pid" ] && return 0
		kill -0 "$dnsmasq" 2>/dev/null || break
		sleep 0.1
	done
	echo "tapnet: dnsmasq did not start; its log:" >&2
	cat "$tmp/$name.log" >&2 || true
	exit 1
}

# start_dnsmasq TFTP-DIR MAC: dnsmasq in the namespace on tap0 (see the
# usage above).
start_dnsmasq() {
	copy_tree "$1"
	run_dnsmasq "$ns" tap0 dnsmasq "10.1.0.100,10.1.0.199,255.255.255.0,1h" "$2" \
		"$(guest_addr 0)" "$tmp/tftp"
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
    ip netns exec $ns iperf3 -c $(guest_addr 0)    # Debian's iperf3 -s on Mica (the default manifest)
    ip netns exec $ns iperf -c $(guest_addr 0)     # iperf 2 (Debian's iperf): the netstack's own
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

# router_link N HOST DEV ADDR VIA-NET VIA: tapN in the router's namespace,
# bridged to a veth whose other end is DEV in HOST's, which gets ADDR/24
# and a route to VIA-NET by VIA.
router_link() {
	local n=$1 host=$2 dev=$3 addr=$4 net=$5 via=$6 link
	ip -n "$ns" tuntap add dev "tap$n" mode tap
	taps+=("tap$n")
	ip -n "$ns" link add "br$n" type bridge
	ip -n "$ns" link add "v$n" type veth peer name "$dev"
	ip -n "$ns" link set "$dev" netns "$host"
	for link in "tap$n" "v$n"; do
		ip -n "$ns" link set "$link" master "br$n"
		ip -n "$ns" link set "$link" up
	done
	ip -n "$ns" link set "br$n" up
	ip -n "$host" addr add "$addr/24" dev "$dev"
	ip -n "$host" link set "$dev" up
	ip -n "$host" route add "$net" via "$via"
}

router() {
	local want=$1 tree=$2 lan_mac=$3 wan_mac=$4; shift 4
	local lan=$want-lan wan=$want-wan
	[ -r "$tree/boot.ipxe" ] || { echo "tapnet: $tree/boot.ipxe is missing" >&2; exit 1; }
	may_make router-demo "$want" "$lan" "$wan"
	add_namespace "$want"
	ns=$want
	add_namespace "$lan"
	hosts+=("$lan")
	add_namespace "$wan"
	hosts+=("$wan")
	router_link 0 "$lan" lan0 192.168.10.2 default 192.168.10.1
	router_link 1 "$wan" wan0 10.99.0.2 192.168.10.0/24 10.99.0.1
	copy_tree "$tree"
	run_dnsmasq "$lan" lan0 lan "192.168.10.100,192.168.10.199,255.255.255.0,1h" \
		"$lan_mac" 192.168.10.1 "$tmp/tftp"
	children+=("$dnsmasq")
	run_dnsmasq "$wan" wan0 wan "10.99.0.100,10.99.0.199,255.255.255.0,1h" \
		"$wan_mac" 10.99.0.1
	children+=("$dnsmasq")
	dnsmasq=""
	ip netns exec "$wan" iperf3 -s -B 10.99.0.2 >"$tmp/iperf3.log" 2>&1 </dev/null &
	children+=("$!")
	echo "router-demo: the LAN host is namespace $lan (192.168.10.2; dnsmasq: DHCP, and TFTP" \
	     "for the router's iPXE), the WAN host $wan (10.99.0.2; dnsmasq: DHCP for the" \
	     "router's WAN NIC; an iperf3 server); the router's taps are in $ns; logs in $tmp"
	echo "router-demo: once the console says 'netstack: wan up', from another terminal, as root:"
	echo "    ip netns exec $lan ping 10.99.0.2"
	echo "    ip netns exec $lan traceroute -n 10.99.0.2"
	echo "    ip netns exec $lan iperf3 -c 10.99.0.2        # LAN -> WAN"
	echo "    ip netns exec $lan iperf3 -c 10.99.0.2 -R     # WAN -> LAN"
	echo "    ip netns exec $lan bash                       # a shell on the LAN host"
	echo "router-demo: quit QEMU with Ctrl-A then X; the namespaces are removed then."
	run_qemu "$@"
}

case "${1:-}" in
manifest) [ $# -eq 2 ] || { echo "usage: $0 manifest FILE" >&2; exit 2; }
	make_manifest "$2" ;;
run) [ $# -ge 3 ] || { echo "usage: $0 run NETNS QEMU-COMMAND..." >&2; exit 2; }
	shift; run "$@" ;;
pxe) [ $# -ge 5 ] || { echo "usage: $0 pxe NETNS TFTP-DIR MAC QEMU-COMMAND..." >&2; exit 2; }
	shift; pxe "$@" ;;
router) [ $# -ge 6 ] || {
		echo "usage: $0 router NETNS TFTP-DIR LAN-MAC WAN-MAC QEMU-COMMAND..." >&2; exit 2; }
	shift; router "$@" ;;
*) echo "usage: $0 manifest FILE | run NETNS QEMU-COMMAND... |" \
	"pxe NETNS TFTP-DIR MAC QEMU-COMMAND... |" \
	"router NETNS TFTP-DIR LAN-MAC WAN-MAC QEMU-COMMAND..." >&2; exit 2 ;;
esac
