"""What the network benchmarks beside the Linux guest share (bench/run_net.py,
run_iperf3.py; run_router.py and run_profile.py through run_net.py): the
build, the addresses, the NIC models, the host CPUs QEMU and the
namespace's traffic program are pinned to, each guest's availability and
version, a guest's NIC on the namespace's tap, and the results written for
bench/report.py.

Every guest runs on the same QEMU machine (`-machine pc -cpu max -m 256M
-smp 1`, TCG) in a network namespace of its own (tests/system/netns.py)
holding tap0 with HOST_ADDR/24; the guest is GUEST_ADDR.
"""
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

HOST_ADDR = "10.1.0.1"
GUEST_ADDR = "10.1.0.2"
GUEST_MAC = "52:54:00:00:00:01"

NICS = {
    # model: (QEMU device, Mica driver module)
    "e1000": ("e1000", "e1000"),
    "virtio-net": ("virtio-net-pci,disable-legacy=on", "virtio-net"),
}

# QEMU on one host CPU, the namespace's iperf on another (when there are
# two): left to the scheduler they share a core at random moments, and the
# spread between runs was several times larger.
_CPUS = sorted(os.sched_getaffinity(0))
QEMU_PIN = ["taskset", "-c", str(_CPUS[0])] if len(_CPUS) >= 2 else []
IPERF_PIN = ["taskset", "-c", str(_CPUS[1])] if len(_CPUS) >= 2 else []


class LinuxGuestBase:
    """Debian 12's kernel with a busybox initramfs (bench/linux-guest.sh
    builds it, once)."""
    name = "Linux"

    def available(self):
        """None, or why the guest cannot run."""
        try:
            r = subprocess.run([os.path.join(ROOT, "bench", "linux-guest.sh")],
                               capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            return "bench/linux-guest.sh took over 15 minutes"
        if r.returncode != 0:
            return "bench/linux-guest.sh failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
        return None

    def version(self):
        with open(os.path.join(BUILD, "bench", "linux", "kernel-package")) as f:
            return f.read().strip()

    def boot_args(self, append):
        """QEMU's arguments: the kernel, the initramfs, the command line
        after the console and the guest's address."""
        return ["-kernel", os.path.join(BUILD, "bench", "linux", "vmlinuz"),
                "-initrd", os.path.join(BUILD, "bench", "linux", "initrd.img"),
                "-append", f"console=ttyS0 loglevel=4 mica.addr={GUEST_ADDR}/24 " + append]


class MicaGuestBase:
    """Mica's kernel, init, the NIC driver and the netstack; `files` what
    it needs of build/."""
    name = "Mica"
    files = ["kernel.elf", "init.elf", "drivers/e1000.elf", "drivers/virtio-net.elf",
             "netstack.elf"]

    def available(self):
        """None, or which of build/'s files are missing."""
        missing = [f for f in self.files if not os.path.exists(os.path.join(BUILD, f))]
        if missing:
            return "build/" + ", build/".join(missing) + " missing"
        return None

    def version(self):
        return subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                              capture_output=True, text=True).stdout.strip()

    @staticmethod
    def nic_manifest(module, netstack_args=""):
        """The manifest's lines for the NIC driver (module, at PCI 00:03.0)
        and the netstack on it with the guest's address."""
        return (f"program eth0 dma=64 priority=150 restart=never\n"
                f"    module {module}\n"
                f"    pci 00:03.0\n"
                f"    args name=eth0\n"
                f"program netstack dma=4096 priority=100\n"
                f"    args nic=eth0 eth0.addr={GUEST_ADDR}/24 eth0.gw={HOST_ADDR}"
                f"{netstack_args}\n")

    @staticmethod
    def boot_args(mods):
        """QEMU's arguments: the kernel and the boot modules [(path, name)]."""
        return ["-kernel", os.path.join(BUILD, "kernel.elf"), "-append", "loglevel=2",
                "-initrd", ",".join(f"{p} {n}" for p, n in mods)]


def nic_args(model):
    """QEMU's arguments for the guest's NIC of model on the namespace's tap0."""
    return ["-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
            "-device", f"{NICS[model][0]},netdev=n0,mac={GUEST_MAC},addr=3"]


def add_host_tap(ns):
    """tap0 in the namespace ns, with HOST_ADDR/24."""
    ns.add_tap("tap0")
    subprocess.run(["ip", "-n", ns.name, "addr", "add", f"{HOST_ADDR}/24", "dev", "tap0"],
                   check=True)


def wait_answering(ns, addr=GUEST_ADDR, timeout=60):
    """Wait until addr answers a ping from the namespace ns: its address
    resolved (ARP) and the path through its NIC working. A guest that says
    it serves may not answer yet on a loaded host; a connect made then
    failed with "No route to host" (the host's neighbour entry FAILED
    after three unanswered ARP requests: the first `iperf3 -R` after a
    boot, issue 18), where a fixed pause only made it rarer. One ping at a
    time, each waiting a second at most, for timeout seconds at most.
    True if it answered."""
    deadline = time.monotonic() + timeout
    while True:
        r = subprocess.run(ns.prefix() + ["ping", "-q", "-n", "-c", "1", "-W", "1", addr],
                           capture_output=True, timeout=10)
        if r.returncode == 0:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def available_guests(script, guests):
    """{name: guest} of guests that can run, and {name: why not} of the
    others (said, as script)."""
    named, skipped = {}, {}
    for guest in guests:
        why = guest.available()
        if why:
            skipped[guest.name] = why
            print(f"{script}: {guest.name} skipped: {why}")
        else:
            named[guest.name] = guest
    return named, skipped


def write_results(name, text, report):
    """build/bench/NAME.md and NAME.json, for bench/report.py."""
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    with open(os.path.join(BUILD, "bench", f"{name}.md"), "w") as f:
        f.write(text)
    with open(os.path.join(BUILD, "bench", f"{name}.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")


def median(xs):
    return statistics.median(xs) if xs else None


def cell(x):
    """A table's number: one decimal, or n/a."""
    return "n/a" if x is None else f"{x:.1f}"
