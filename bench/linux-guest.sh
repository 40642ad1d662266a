#!/usr/bin/env bash
# Build the reference Linux guest for bench/run_net.py:
#   build/bench/linux/vmlinuz     Debian 12's current amd64 kernel
#   build/bench/linux/initrd.img  busybox, iperf 2, Debian's iperf3 and the
#                                 NIC modules
#
# Nothing is installed on the host: the kernel package is fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` under build/; busybox
# (busybox-static), iperf and cpio come from Debian packages installed by
# `tools/install-deps.sh bench`. Re-running reuses the downloaded package.
#
# The guest's /init reads its settings from the kernel command line:
#   mica.addr=10.1.0.2/24          address of eth0
#   mica.iperf=server              run `iperf -s` (port 5001)
#   mica.iperf3=server             run `iperf3 -s` (port 5201): the iperf3
#                                  Mica's image runs, unpacked from the
#                                  same .debs (bench/run_iperf3.py's
#                                  reference)
#   mica.iperf=client:HOST:SECS    run `iperf -c HOST -t SECS`, print its
#                                  report, then power off
#   mica.reload=N:GAP:MODULE:GW    with the server: N times, every GAP s,
#                                  reload the NIC driver (rmmod, insmod,
#                                  address, link up) and time it until the
#                                  gateway GW answers a ping
#                                  (bench/run_outage.py's reference)
#   mica.if=MAC,A.B.C.D/LEN        (any number of them) the interface with
#                                  this MAC address gets this address
#   mica.forward=1                 a router (bench/run_router.py's
#                                  reference): ip_forward=1, stays up
#   mica.pbench=1                  run /bin/pbench (build/posix/pbench-musl,
#                                  the POSIX benchmark, bench/run_posix.py's
#                                  reference), then power off
# and prints `linux-guest: ready ...` on the console when it is ready.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/bench/linux
work=$out/work

# The real package behind the linux-image-amd64 meta-package.
resolve_kernel() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }'
}
pkg=$(resolve_kernel)
if [ -z "$pkg" ]; then
	apt-get update -q >/dev/null
	pkg=$(resolve_kernel)
fi
[ -n "$pkg" ] || { echo "linux-guest: cannot resolve linux-image-amd64" >&2; exit 1; }
kver=${pkg#linux-image-}

if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -f "$out/kernel-package" ] &&
	[ "$(cat "$out/kernel-package")" = "$pkg" ] && [ "$out/initrd.img" -nt "$0" ] &&
	{ [ ! -f "$root/build/posix/pbench-musl" ] || [ "$out/initrd.img" -nt "$root/build/posix/pbench-musl" ]; } &&
	{ [ ! -f "$root/build/posix/rootfs.cpio" ] || [ "$out/initrd.img" -nt "$root/build/posix/rootfs.cpio" ]; }; then
	exit 0
fi

mkdir -p "$out/deb"
if ! ls "$out/deb/${pkg}_"*.deb >/dev/null 2>&1; then
	echo "linux-guest: downloading $pkg"
	(cd "$out/deb" && apt-get download -q "$pkg")
fi
deb=$(ls "$out/deb/${pkg}_"*.deb | head -n1)

rm -rf "$work"
mkdir -p "$work/pkg"
dpkg-deb -x "$deb" "$work/pkg"
moddir=$work/pkg/lib/modules/$kver
cp "$work/pkg/boot/vmlinuz-$kver" "$out/vmlinuz"

# Modules to load, each after the ones it depends on. The package has no
# modules.dep (depmod makes it at install time), so the dependencies are
# read from each module's .modinfo (`depends=`). A module built into the
# kernel (modules.builtin) is skipped.
modtmp=$work/modules
mkdir -p "$modtmp"
order=()
add_module() {
	local name=$1 path ko dep
	if grep -q "/$name\.ko" "$moddir/modules.builtin"; then
		return
	fi
	for ko in "${order[@]}"; do [ "$ko" = "$name.ko" ] && return; done
	path=$(find "$moddir/kernel" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) | head -n1)
	[ -n "$path" ] || { echo "linux-guest: module $name not in $kver" >&2; exit 1; }
	case "$path" in
	*.ko.xz)  xz -dc "$path" ;;
	*.ko.zst) zstd -qdc "$path" ;;
	*.ko.gz)  gzip -dc "$path" ;;
	*)        cat "$path" ;;
	esac > "$modtmp/$name.ko"
	for dep in $(tr '\0' '\n' < "$modtmp/$name.ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "${dep//-/_}"
	done
	order+=("$name.ko")
}
for m in e1000 virtio_pci virtio_net; do add_module "$m"; done

rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,sbin,dev,proc,sys,tmp,lib/modules,etc}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
	[ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done

: > "$rootfs/lib/modules/load-order"
for ko in "${order[@]}"; do
	cp "$modtmp/$ko" "$rootfs/lib/modules/$ko"
	echo "$ko" >> "$rootfs/lib/modules/load-order"
done

# iperf and the shared libraries it needs, at the paths ldd names.
iperf=$(command -v iperf)
cp "$iperf" "$rootfs/bin/iperf"
for lib in $(ldd "$iperf" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
	mkdir -p "$rootfs$(dirname "$lib")"
	cp -L "$lib" "$rootfs$lib"
done

# The POSIX benchmark: the same static binary Mica's POSIX server runs.
if [ -f "$root/build/posix/pbench-musl" ]; then
	cp "$root/build/posix/pbench-musl" "$rootfs/bin/pbench"
fi

# Debian's iperf3 and the libraries it links, the very files of the .debs
# Mica's root filesystem takes them from (posix-server/programs.list's
# PACKAGE:PATH lines of these packages, unpacked by `make all` under
# build/posix/debs/), at the same paths; they replace the host's copies
# of glibc's files above (the same Debian release).
debs=$root/build/posix/debs
if [ -f "$debs/iperf3/.unpacked" ]; then
	sed -e 's/#.*//' "$root/posix-server/programs.list" |
		grep -E '^(iperf3|libiperf0|libssl3|libsctp1|libc6):' |
		while IFS=: read -r pkg path; do
			[ -e "$debs/$pkg/$path" ] || [ -L "$debs/$pkg/$path" ] ||
				{ echo "linux-guest: $pkg:$path not unpacked (make all)" >&2; exit 1; }
			mkdir -p "$rootfs/$(dirname "$path")"
			cp -a --remove-destination "$debs/$pkg/$path" "$rootfs/$path"
		done
fi

# `iperf -v` exits with 1; its output says whether it ran.
if [ "$(id -u)" -eq 0 ] && [[ "$(chroot "$rootfs" /bin/iperf -v 2>&1 || true)" != "iperf version"* ]]; then
	echo "linux-guest: iperf does not run in the initramfs (a library missing?)" >&2
	exit 1
fi
if [ "$(id -u)" -eq 0 ] && [ -x "$rootfs/usr/bin/iperf3" ] &&
	[[ "$(chroot "$rootfs" /usr/bin/iperf3 -v 2>&1 || true)" != "iperf 3"* ]]; then
	echo "linux-guest: iperf3 does not run in the initramfs (a library missing?)" >&2
	exit 1
fi

cat > "$rootfs/init" <<'EOF'
#!/bin/sh
# Reference guest for bench/run_net.py; settings from the kernel command line.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/load-order); do
	insmod /lib/modules/$m || echo "linux-guest: insmod $m failed"
done

addr= iperf= iperf3= reload= ifs= forward= pbench=
for word in $(cat /proc/cmdline); do
	case "$word" in
	mica.pbench=*)  pbench=${word#mica.pbench=} ;;
	mica.addr=*)    addr=${word#mica.addr=} ;;
	mica.iperf=*)   iperf=${word#mica.iperf=} ;;
	mica.iperf3=*)  iperf3=${word#mica.iperf3=} ;;
	mica.reload=*)  reload=${word#mica.reload=} ;;
	mica.if=*)      ifs="$ifs ${word#mica.if=}" ;;
	mica.forward=*) forward=${word#mica.forward=} ;;
	esac
done

# eth0 up with its address (again, after a driver reload).
eth0_up() {
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 1000 ]; do usleep 1000; i=$((i + 1)); done
	ip addr add "$addr" dev eth0
	ip link set eth0 up
}
uptime_ms() {
	read up rest < /proc/uptime
	frac=${up#*.}
	echo $(( ${up%.*} * 1000 + ${frac#0} * 10 ))
}

if [ -n "$pbench" ]; then
	echo "linux-guest: ready pbench"
	/bin/pbench
	poweroff -f
fi

ip link set lo up
[ -n "$addr" ] && eth0_up

# mica.if: the interface by its MAC address (the order drivers probe in
# is not the PCI slots').
for spec in $ifs; do
	mac=${spec%%,*} a=${spec#*,} dev= i=0
	while [ -z "$dev" ] && [ $i -lt 1000 ]; do
		for d in /sys/class/net/*; do
			[ "$(cat "$d/address" 2>/dev/null)" = "$mac" ] && dev=${d##*/}
		done
		[ -n "$dev" ] || { usleep 1000; i=$((i + 1)); }
	done
	[ -n "$dev" ] || { echo "linux-guest: no interface with MAC $mac"; continue; }
	ip addr add "$a" dev "$dev"
	ip link set "$dev" up
	echo "linux-guest: $dev ($mac) is $a"
done

# The driver reloaded as Mica's is killed: time from the unload until the
# gateway answers through the new instance.
reload_loop() {
	n=${reload%%:*}; rest=${reload#*:}
	gap=${rest%%:*}; rest=${rest#*:}
	module=${rest%%:*}; gw=${rest#*:}
	k=0
	while [ $k -lt "$n" ]; do
		sleep "$gap"
		k=$((k + 1))
		t0=$(uptime_ms)
		rmmod "$module"
		insmod "/lib/modules/$module.ko"
		eth0_up
		t1=$(uptime_ms)
		# A ping of the gateway: its ARP request and answer are the first
		# frames (busybox's arping waits out a whole second even when
		# answered; ping returns at the answer). Asked once the link is
		# up; a lost request costs a second.
		i=0
		until [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ] || [ $i -ge 5000 ]; do
			usleep 1000; i=$((i + 1))
		done
		i=0
		until ping -q -c 1 -W 1 "$gw" >/dev/null 2>&1 || [ $i -ge 30 ]; do i=$((i + 1)); done
		t2=$(uptime_ms)
		echo "linux-guest: reload $k: unloaded at $t0 ms, eth0 back at $t1 ms, first frame at $t2 ms"
	done
	echo "linux-guest: reloads done"
}

if [ "$iperf3" = server ]; then
	/usr/bin/iperf3 -s &
	i=0
	while ! netstat -ltn | grep -q ':5201 ' && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if netstat -ltn | grep -q ':5201 '; then
		echo "linux-guest: ready eth0 $addr iperf3 server"
	else
		echo "linux-guest: iperf3 server did not start"
	fi
	wait
	poweroff -f
fi

case "$iperf" in
server)
	iperf -s -f k &
	i=0
	while ! netstat -ltn | grep -q ':5001 ' && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if netstat -ltn | grep -q ':5001 '; then
		echo "linux-guest: ready eth0 $addr iperf server"
	else
		echo "linux-guest: iperf server did not start"
	fi
	[ -n "$reload" ] && reload_loop
	wait
	;;
client:*)
	rest=${iperf#client:}
	host=${rest%%:*}
	secs=${rest#*:}
	echo "linux-guest: ready eth0 $addr iperf client to $host for $secs s"
	iperf -c "$host" -t "$secs" -f k
	echo "linux-guest: iperf client done"
	;;
*)
	if [ "$forward" = 1 ]; then
		echo 1 > /proc/sys/net/ipv4/ip_forward
		echo "linux-guest: ready router, ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
		while :; do sleep 3600; done
	fi
	echo "linux-guest: ready eth0 $addr"
	;;
esac
poweroff -f
EOF
chmod 755 "$rootfs/init"

(cd "$rootfs" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9) > "$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
echo "$pkg" > "$out/kernel-package"
echo "linux-guest: build/bench/linux/vmlinuz ($pkg) and initrd.img;" \
	"modules: $(tr '\n' ' ' < "$rootfs/lib/modules/load-order")"
rm -rf "$work"
