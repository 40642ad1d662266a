#!/usr/bin/env bash
# Build the reference Linux guest for bench/run_net.py:
#   build/bench/linux/vmlinuz     Debian 12's current amd64 kernel
#   build/bench/linux/initrd.img  busybox, iperf 2 and the NIC modules
#
# Nothing is installed on the host: the kernel package is fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` under build/; busybox
# (busybox-static), iperf and cpio come from Debian packages installed by
# `tools/install-deps.sh bench`. Re-running reuses the downloaded package.
#
# The guest's /init reads its settings from the kernel command line:
#   mica.addr=10.1.0.2/24          address of eth0
#   mica.iperf=server              run `iperf -s` (port 5001)
#   mica.iperf=client:HOST:SECS    run `iperf -c HOST -t SECS`, print its
#                                  report, then power off
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
	[ "$(cat "$out/kernel-package")" = "$pkg" ] && [ "$out/initrd.img" -nt "$0" ]; then
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

# `iperf -v` exits with 1; its output says whether it ran.
if [ "$(id -u)" -eq 0 ] && [[ "$(chroot "$rootfs" /bin/iperf -v 2>&1 || true)" != "iperf version"* ]]; then
	echo "linux-guest: iperf does not run in the initramfs (a library missing?)" >&2
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

addr= iperf=
for word in $(cat /proc/cmdline); do
	case "$word" in
	mica.addr=*)  addr=${word#mica.addr=} ;;
	mica.iperf=*) iperf=${word#mica.iperf=} ;;
	esac
done

i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ip link set lo up
ip addr add "$addr" dev eth0
ip link set eth0 up

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
