"""What the network benchmarks beside the Linux guest share (bench/run_net.py,
run_iperf3.py; run_router.py and run_profile.py through run_net.py): the
build, the addresses, the NIC models, where QEMU's threads and the
namespace's traffic program run on the host's CPUs (MICA_BENCH_PIN: all,
vcpu, vcpu-free or none, PIN_MODES; default none) and QEMU's start there
(start_qemu), each guest's availability and version, a guest's NIC on the
namespace's tap, and the results written for bench/report.py.
MICA_BENCH_DRIVER_ARGS adds arguments to Mica's NIC driver's `args` line
(docs/drivers.md; e.g. `msix=off` to compare its interrupts by INTx).

Every guest runs on the same QEMU machine (`-machine pc -cpu max -m 256M
-smp 1`, TCG) in a network namespace of its own (tests/system/netns.py)
holding tap0 with HOST_ADDR/24; the guest is GUEST_ADDR.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

from qemu import Qemu                     # noqa: E402

HOST_ADDR = "10.1.0.1"
GUEST_ADDR = "10.1.0.2"
GUEST_MAC = "52:54:00:00:00:01"

NICS = {
    # model: (QEMU device, Mica driver module)
    "e1000": ("e1000", "e1000"),
    "virtio-net": ("virtio-net-pci,disable-legacy=on", "virtio-net"),
}

# Where QEMU's threads and the namespace's traffic program (iperf, iperf3)
# run on the host's CPUs: MICA_BENCH_PIN, one of PIN_MODES (default
# DEFAULT_PIN). Pinned to different CPUs, QEMU and the traffic program
# never meet on one (an earlier session found the spread several times
# larger unpinned; on a shared host on 2026-12-02 it was the smallest:
# docs/drivers.md, "Where QEMU runs"). QEMU's threads: the virtual
# CPU's ("CPU 0/TCG" with `-name ...,debug-threads=on`, which start_qemu
# adds), the main loop (the tap's reads and writes, the devices' work
# outside the virtual CPU) and helpers (RCU). On a one-CPU host nothing is
# pinned.
PIN_MODES = {
    "all": "all of QEMU's threads on the host's first CPU (taskset), the namespace's "
           "traffic program on the second",
    "vcpu": "QEMU's virtual CPU's thread on the host's first CPU, its other threads "
            "(main loop, tap, device work) and the namespace's traffic program on the second",
    "vcpu-free": "QEMU's virtual CPU's thread on the host's first CPU, its other threads "
                 "left to the host's scheduler, the namespace's traffic program on the second",
    "none": "nothing pinned: QEMU and the namespace's traffic program where the host's "
            "scheduler puts them",
}
# The default pins nothing, as QEMU runs unless told otherwise: with "all",
# the work QEMU's other threads do for the guest's frames is taken from the
# virtual CPU's own CPU and is batched into the moments the virtual CPU is
# off it, which moved the two guests differently (the Linux guest gained,
# Mica lost); "vcpu" and "none" let that work run beside the virtual CPU as
# on any host with a CPU to spare, and on a shared host "none" had the
# smallest spread and no starved run, where a pinned QEMU meets every
# other QEMU pinned to the same CPU (docs/benchmarks.md, "Where QEMU runs";
# the measurements in docs/drivers.md).
DEFAULT_PIN = "none"
PIN = os.environ.get("MICA_BENCH_PIN", DEFAULT_PIN)
DRIVER_ARGS = os.environ.get("MICA_BENCH_DRIVER_ARGS", "")
if PIN not in PIN_MODES:
    sys.exit(f"bench: MICA_BENCH_PIN={PIN!r} is none of {', '.join(PIN_MODES)}")
_CPUS = sorted(os.sched_getaffinity(0))
if len(_CPUS) < 2:
    PIN = "none"
VCPU_CPU = {_CPUS[0]}
OTHER_CPU = {_CPUS[1]}  # the traffic program's too (IPERF_PIN)
# Command prefixes: QEMU's (the whole process: mode "all") and the traffic
# program's.
QEMU_PIN = ["taskset", "-c", str(_CPUS[0])] if PIN == "all" else []
IPERF_PIN = ["taskset", "-c", str(_CPUS[1])] if PIN != "none" else []
# A virtual CPU's thread as QEMU 7.2 names it under TCG (qemu_tcg_init_vcpu_thread).
VCPU_THREAD = re.compile(r"^CPU \d+/TCG$")


def pinning():
    """The mode and what it places where, for a result's metadata."""
    return {"mode": PIN, "means": PIN_MODES[PIN], "qemu": " ".join(QEMU_PIN),
            "traffic": " ".join(IPERF_PIN)}


def thread_names(pid):
    """{tid: comm} of process pid's threads ({} once it is gone)."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                out[int(tid)] = f.read().strip()
        except OSError:
            continue                    # the thread ended meanwhile
    return out


def vcpu_threads(pid, timeout=30):
    """The tids of QEMU's (pid's, started with debug-threads=on) virtual
    CPU threads and {tid: comm} of all its threads, once it has one (QEMU
    names it after `ip netns exec` has become QEMU). Raises AssertionError
    (as Qemu.wait_for does when a guest does not come up) if none appeared
    in timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        names = thread_names(pid)
        vcpus = [t for t, n in names.items() if VCPU_THREAD.match(n)]
        if vcpus:
            return vcpus, names
        if time.monotonic() >= deadline or not os.path.exists(f"/proc/{pid}"):
            raise AssertionError(f"QEMU {pid}: no virtual CPU's thread in {sorted(names.values())}")
        time.sleep(0.05)


def pin_threads(pid, mode=None, timeout=30):
    """For modes "vcpu" and "vcpu-free": once QEMU (pid) has its virtual
    CPU's thread (vcpu_threads), put that on VCPU_CPU and its other threads
    on OTHER_CPU ("vcpu") or on every CPU ("vcpu-free"); threads QEMU makes
    later inherit their maker's (the main loop's) placement. {tid: sorted
    CPUs} as set; {} for the other modes. Raises as vcpu_threads does."""
    mode = mode or PIN
    if mode not in ("vcpu", "vcpu-free"):
        return {}
    others = OTHER_CPU if mode == "vcpu" else set(_CPUS)
    vcpus, names = vcpu_threads(pid, timeout)
    placed = {}
    for tid in names:
        cpus = VCPU_CPU if tid in vcpus else others
        try:
            os.sched_setaffinity(tid, cpus)
        except OSError:
            continue                    # the thread ended meanwhile
        placed[tid] = sorted(cpus)
    return placed


def start_qemu(args, name, ns):
    """A Qemu (tests/system/qemu.py) of args started in namespace ns and
    placed as PIN says (its threads named for that: `-name
    NAME,debug-threads=on` unless args name it already), returned once its
    virtual CPU's thread is there and named (so that a qemu_sched sampler
    started next knows it). qemu.placed is pin_threads' answer."""
    args = list(args)
    if "-name" not in args:
        args += ["-name", f"{name},debug-threads=on"]
    qemu = Qemu(args, name=name, prefix=ns.prefix() + QEMU_PIN).start()
    try:
        vcpu_threads(qemu.proc.pid)
        qemu.placed = pin_threads(qemu.proc.pid)
    except AssertionError:
        qemu.stop()
        raise
    return qemu


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
        and the netstack on it with the guest's address, with the
        default appliance's DMA memory (lwIP's heap in it: virtio-net sends
        segments by reference)."""
        return (f"program eth0 dma=64 priority=150 restart=never\n"
                f"    module {module}\n"
                f"    pci 00:03.0\n"
                f"    args name=eth0 {DRIVER_ARGS}\n"
                f"program netstack dma=20480 priority=100\n"
                f"    lookup eth0\n"
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
