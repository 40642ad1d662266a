#!/usr/bin/python3
"""Build the reference Linux router for bench/run_firewall.py:
build/bench/linux/router-initrd.img, to boot with bench/linux-guest.sh's
vmlinuz (Debian 12's kernel).

It is linux-guest.sh's initramfs (busybox, iperf, the NIC modules) with
an archive appended (the kernel unpacks concatenated cpio archives in
order, a later file replacing an earlier one): nftables' `nft` and its
libraries from the host (Debian's nftables package, installed by
`tools/install-deps.sh bench`), the netfilter modules from the same kernel
package, and an /init that makes it a router:

  - the NIC with MAC mica.lan=MAC becomes `lan` with mica.lan_addr=A/LEN,
    the one with mica.wan=MAC `wan` with mica.wan_addr=A/LEN;
  - net.ipv4.ip_forward=1;
  - /etc/fw.nft, if an archive appended at boot holds one, is loaded with
    `nft -f` (bench/run_firewall.py appends one per rule set);
  - it prints `linux-router: ready` (or why not) and idles.

Nothing is installed on the host by this script. Re-running rebuilds only
when the base initramfs or this script is newer than the result.
"""
import glob
import gzip
import lzma
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "build", "bench", "linux")
RESULT = os.path.join(OUT, "router-initrd.img")
# What an nftables ruleset with a filter chain, ct state, counters,
# masquerade and reject needs; libcrc32c asks for crc32c by name, so its
# generic module comes first; the other dependencies are read from modinfo.
MODULES = ["crc32c_generic", "nf_tables", "nft_ct", "nft_chain_nat", "nft_masq", "nft_reject_ipv4",
           "nf_conntrack", "nf_nat"]

INIT = r"""#!/bin/sh
# The reference Linux router for bench/run_firewall.py.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/load-order) $(cat /lib/modules/fw-load-order); do
	insmod /lib/modules/$m 2>/dev/null || echo "linux-router: insmod $m failed"
done
for word in $(cat /proc/cmdline); do
	case "$word" in
	mica.lan=*) lan=${word#mica.lan=} ;;
	mica.wan=*) wan=${word#mica.wan=} ;;
	mica.lan_addr=*) lan_addr=${word#mica.lan_addr=} ;;
	mica.wan_addr=*) wan_addr=${word#mica.wan_addr=} ;;
	esac
done
# Each NIC by its MAC, once its driver made it.
name_by_mac() {
	i=0
	while [ $i -lt 2000 ]; do
		for dev in /sys/class/net/*; do
			if [ "$(cat $dev/address 2>/dev/null)" = "$1" ]; then
				ip link set dev "${dev##*/}" name "$2"
				return 0
			fi
		done
		usleep 1000; i=$((i + 1))
	done
	return 1
}
ip link set lo up
name_by_mac "$lan" lan || echo "linux-router: no NIC with MAC $lan"
name_by_mac "$wan" wan || echo "linux-router: no NIC with MAC $wan"
ip addr add "$lan_addr" dev lan
ip addr add "$wan_addr" dev wan
ip link set lan up
ip link set wan up
echo 1 > /proc/sys/net/ipv4/ip_forward
if [ -f /etc/fw.nft ]; then
	if nft -f /etc/fw.nft; then
		echo "linux-router: $(grep -c ' drop$\| accept$\| masquerade$' /etc/fw.nft) rules loaded"
	else
		echo "linux-router: nft -f /etc/fw.nft failed"
	fi
fi
echo "linux-router: ready"
while true; do sleep 3600; done
"""


def module_path(moddir, name):
    for pattern in (f"{name}.ko*", f"{name.replace('_', '-')}.ko*"):
        found = glob.glob(os.path.join(moddir, "kernel", "**", pattern), recursive=True)
        if found:
            return found[0]
    return None


def read_module(path):
    data = open(path, "rb").read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-qdc", path], capture_output=True, check=True).stdout
    return data


def modules(moddir, base):
    """[(name.ko, bytes)] in load order: MODULES and what they depend on,
    less those built in or in the base initramfs already."""
    builtin = open(os.path.join(moddir, "modules.builtin")).read()
    order, seen = [], set(base)

    def add(name):
        name = name.replace("-", "_")
        if name in seen or f"/{name}.ko" in builtin:
            return
        seen.add(name)
        path = module_path(moddir, name)
        if not path:
            raise SystemExit(f"linux-router: module {name} not in the kernel package")
        data = read_module(path)
        for field in data.split(b"\0"):
            if field.startswith(b"depends="):
                for dep in filter(None, field[8:].decode().split(",")):
                    add(dep)
        order.append((name + ".ko", data))

    for m in MODULES:
        add(m)
    return order


def main():
    r = subprocess.run([os.path.join(ROOT, "bench", "linux-guest.sh")])
    if r.returncode:
        return r.returncode
    base = os.path.join(OUT, "initrd.img")
    if os.path.exists(RESULT) and os.path.getmtime(RESULT) > max(
            os.path.getmtime(base), os.path.getmtime(__file__)):
        return 0
    nft = shutil.which("nft") or "/usr/sbin/nft"
    if not os.path.exists(nft):
        print("linux-router: no nft on the host (tools/install-deps.sh bench installs nftables)",
              file=sys.stderr)
        return 1
    deb = sorted(glob.glob(os.path.join(OUT, "deb", "*.deb")))[-1]
    with tempfile.TemporaryDirectory(dir=OUT) as work:
        pkg = os.path.join(work, "pkg")
        subprocess.run(["dpkg-deb", "-x", deb, pkg], check=True)
        moddir = glob.glob(os.path.join(pkg, "lib", "modules", "*"))[0]
        base_mods = [m[:-3] for m in subprocess.run(
            ["sh", "-c", f"zcat {base} | cpio -i --to-stdout lib/modules/load-order 2>/dev/null"],
            capture_output=True, text=True).stdout.split()]
        root = os.path.join(work, "root")
        os.makedirs(os.path.join(root, "lib", "modules"))
        os.makedirs(os.path.join(root, "etc"))
        order = modules(moddir, base_mods)
        for name, data in order:
            with open(os.path.join(root, "lib", "modules", name), "wb") as f:
                f.write(data)
        with open(os.path.join(root, "lib", "modules", "fw-load-order"), "w") as f:
            f.write("".join(name + "\n" for name, _ in order))
        os.makedirs(os.path.join(root, "bin"), exist_ok=True)
        shutil.copy(nft, os.path.join(root, "bin", "nft"))
        libs = subprocess.run(["ldd", nft], capture_output=True, text=True).stdout
        for line in libs.splitlines():
            words = line.split()
            path = words[2] if len(words) > 2 and words[1] == "=>" else words[0]
            if path.startswith("/"):
                dest = root + path
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy(path, dest)
        with open(os.path.join(root, "init"), "w") as f:
            f.write(INIT)
        os.chmod(os.path.join(root, "init"), 0o755)
        files = subprocess.run(["sh", "-c", "find . | LC_ALL=C sort"], cwd=root,
                               capture_output=True, text=True, check=True).stdout
        cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                              input=files.encode(), capture_output=True, check=True).stdout
        with open(RESULT + ".tmp", "wb") as f:
            f.write(open(base, "rb").read())
            f.write(gzip.compress(cpio, 9))
        os.replace(RESULT + ".tmp", RESULT)
    print(f"linux-router: {os.path.relpath(RESULT, ROOT)}; netfilter modules: "
          + " ".join(n for n, _ in order))
    return 0


if __name__ == "__main__":
    sys.exit(main())
