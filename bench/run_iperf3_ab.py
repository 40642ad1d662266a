#!/usr/bin/python3
"""Debian's iperf3 on Mica builds side by side with the Linux guest, for
before/after comparisons of a change (docs/posix.md, "iperf3"). Runs as
root; not part of `make bench`, writes nothing but its output.

`bench/run_iperf3_ab.py [DIR...]`: each DIR is a Mica build (a copy of
build/'s kernel.elf, init.elf, drivers/, netstack.elf, posix-server.elf
and posix/rootfs.cpio; default build/ itself). In each of ROUNDS rounds
the Linux guest and every build in turn boot afresh as bench/run_iperf3.py
boots them (the same manifest, NIC model at 00:03.0, namespace and tap),
and the namespace's iperf3 runs `-c 10.1.0.2 -R` (DIRECTION from: the
guest sends) or without -R (to) for SECONDS + 3 s; over SECONDS of its
middle, from /proc/PID/task/*/schedstat, status and `ss -ti`:

  Mbit/s       bytes the namespace received (from) or had acknowledged
               (to) over the host's seconds
  vCPU, main   ms of the host's CPU a MiB of QEMU's virtual CPU's thread
               and of its other threads (the main loop: the tap, the rings)
  ran, waited  the share of the time the virtual CPU's thread ran, and
               was runnable without a host CPU
  sleeps       the virtual CPU's thread's voluntary switches a MiB (the
               guest halted, or QEMU's lock awaited)

With TRACE=1, QEMU also logs its trace events virtio_queue_notify,
virtio_notify and virtqueue_pop, counted a MiB per queue (tx, rx): kicks,
interrupts, buffers taken, and on the transmit queue the descriptors
(`tx_descs`). Tracing costs QEMU's CPU; compare such runs with each other.

Environment: MICA_BENCH_AB_ROUNDS (3), MICA_BENCH_AB_SECONDS (5),
MICA_BENCH_AB_DIRECTION (from), MICA_BENCH_AB_NIC (virtio-net),
MICA_BENCH_AB_TRACE (0), MICA_BENCH_AB_LINUX (1: boot the Linux guest
too), MICA_BENCH_AB_UDP (unset: TCP; a rate such as 100M, or 0 for no
limit: UDP at that rate, `-u -b RATE`, measured as the bytes the
namespace's tap received (from) or sent (to) over the host's seconds,
so with the frames' headers). Read the numbers within a round and over several: the host is
shared, and its load (printed) moves them by tens of percent.
"""
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import net_rig                                                    # noqa: E402
from net_rig import GUEST_ADDR, add_host_tap, nic_args, start_qemu, median  # noqa: E402
from netns import Netns, can_run                                  # noqa: E402
import run_iperf3                                                 # noqa: E402

ROUNDS = int(os.environ.get("MICA_BENCH_AB_ROUNDS", "3"))
SECONDS = float(os.environ.get("MICA_BENCH_AB_SECONDS", "5"))
TO = os.environ.get("MICA_BENCH_AB_DIRECTION", "from") == "to"
NIC = os.environ.get("MICA_BENCH_AB_NIC", "virtio-net")
TRACE = os.environ.get("MICA_BENCH_AB_TRACE", "0") == "1"
LINUX = os.environ.get("MICA_BENCH_AB_LINUX", "1") == "1"
UDP = os.environ.get("MICA_BENCH_AB_UDP", "")
EVENTS = ("virtio_queue_notify", "virtio_notify", "virtqueue_pop")
MICA_FILES = ("kernel.elf", "init.elf", "netstack.elf", "posix-server.elf",
              "posix/rootfs.cpio", f"drivers/{net_rig.NICS[NIC][1]}.elf")


def mica_args(build, tmp, tag):
    """QEMU's arguments for the Mica build in directory build, as
    run_iperf3.MicaGuest boots build/."""
    module = net_rig.NICS[NIC][1]
    manifest = os.path.join(tmp, f"manifest-{tag}")
    with open(manifest, "w") as f:
        f.write(net_rig.MicaGuestBase.nic_manifest(module) +
                "program posix-server priority=90 quota=40960 memory=131072\n"
                "    file rootfs\n    ioports 0x70-0x71\n    lookup net-lend\n"
                "    args run=iperf3:-s\n")
    mods = [(os.path.join(build, "init.elf"), "init"), (manifest, "manifest"),
            (os.path.join(build, "drivers", f"{module}.elf"), module),
            (os.path.join(build, "netstack.elf"), "netstack"),
            (os.path.join(build, "posix-server.elf"), "posix-server"),
            (os.path.join(build, "posix", "rootfs.cpio"), "rootfs")]
    return ["-kernel", os.path.join(build, "kernel.elf"), "-append", "loglevel=2",
            "-initrd", ",".join(f"{p} {n}" for p, n in mods)]


def threads(pid):
    """{tid: (virtual CPU?, ns ran, ns waited, voluntary switches)}."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ran, waited = (int(x) for x in f.read().split()[:2])
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                vcpu = "TCG" in f.read()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                vol = int(f.read().split("\nvoluntary_ctxt_switches:")[1].split()[0])
        except (OSError, ValueError, IndexError):
            continue                    # the thread ended meanwhile
        out[tid] = (vcpu, ran, waited, vol)
    return out


def moved(ns):
    """Bytes the namespace's iperf3 connections received (from), or sent
    and had acknowledged (to); UDP: what the tap received (from) or sent
    (to)."""
    if UDP:
        stat = "tx_bytes" if TO else "rx_bytes"
        out = subprocess.run(ns.prefix() + ["cat", f"/sys/class/net/tap0/statistics/{stat}"],
                             capture_output=True, text=True, timeout=10).stdout
        return int(out.strip() or 0)
    out = subprocess.run(ns.prefix() + ["ss", "-tinH", "state", "established", "(", "sport",
                                        "=", ":5201", "or", "dport", "=", ":5201", ")"],
                         capture_output=True, text=True, timeout=10).stdout
    key = "bytes_acked:" if TO else "bytes_received:"
    return sum(int(x.split(":")[1]) for x in out.split() if x.startswith(key))


def trace_counts(text, mib):
    """QEMU's trace log text: {event queue: count a MiB}, and tx_descs."""
    queue = {}
    for m in re.finditer(r"virtio_queue_notify vdev \S+ n (\d+) vq (\S+)", text):
        queue[m.group(2)] = "rx" if m.group(1) == "0" else "tx"
    n = collections.Counter()
    for line in text.splitlines():
        w = line.split()
        if not w or w[0] not in EVENTS:
            continue
        # the receive queue is rarely kicked: a queue never kicked is rx
        q = queue.get(w[w.index("vq") + 1], "rx") if "vq" in w else "?"
        n[f"{w[0]} {q}"] += 1
        if w[0] == "virtqueue_pop" and q == "tx":
            n["tx_descs"] += int(w[-1])
    return {k: round(v / mib, 1) for k, v in sorted(n.items())}


def one(name, build, tmp):
    """A boot of the guest (build None: Linux) and one measured transfer:
    a dict of the figures, or None with the reason printed."""
    if build is None:
        args, ready = run_iperf3.LinuxGuest().args(NIC, tmp), run_iperf3.LinuxGuest.ready
    else:
        args, ready = mica_args(build, tmp, name), run_iperf3.MicaGuest.ready
    args += nic_args(NIC)
    log = os.path.join(tmp, f"trace-{name}")
    if TRACE:
        for e in EVENTS:
            args += ["-trace", e]
        args += ["-D", log]
    with Netns("iperf3ab") as ns:
        add_host_tap(ns)
        qemu = start_qemu(args, f"ab-{name}", ns)
        client = None
        try:
            qemu.wait_for(ready, timeout=run_iperf3.BOOT)
            time.sleep(1)               # iperf3 -s reopens its listener
            client = subprocess.Popen(ns.prefix() + [
                "timeout", str(int(SECONDS) + 60), "iperf3", "-c", GUEST_ADDR,
                *([] if TO else ["-R"]), "-t", str(int(SECONDS) + 3),
                *(["-u", "-b", UDP] if UDP else []),
                "--connect-timeout", "10000"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.5)
            at = os.path.getsize(log) if TRACE else 0
            t0, w0, b0 = threads(qemu.proc.pid), time.monotonic(), moved(ns)
            time.sleep(SECONDS)
            t1, w1, b1 = threads(qemu.proc.pid), time.monotonic(), moved(ns)
            end = os.path.getsize(log) if TRACE else 0
            client.wait(timeout=SECONDS + 90)
        except (AssertionError, OSError, subprocess.SubprocessError) as e:
            print(f"  {name}: {str(e).splitlines()[0]}", flush=True)
            return None
        finally:
            if client and client.poll() is None:
                client.kill()
                client.wait()
            qemu.stop()
    mib, wall = (b1 - b0) / 2**20, w1 - w0
    if mib <= 0:
        print(f"  {name}: nothing moved", flush=True)
        return None
    d = collections.Counter()
    for tid, (vcpu, ran, waited, vol) in t1.items():
        _, ran0, waited0, vol0 = t0.get(tid, (vcpu, 0, 0, 0))
        k = "vcpu" if vcpu else "main"
        d[k] += ran - ran0
        if vcpu:
            d["waited"] += waited - waited0
            d["sleeps"] += vol - vol0
    r = {"mbit": (b1 - b0) * 8 / wall / 1e6, "vcpu": d["vcpu"] / 1e6 / mib,
         "main": d["main"] / 1e6 / mib, "ran": d["vcpu"] / 1e9 / wall,
         "waited": d["waited"] / 1e9 / wall, "sleeps": d["sleeps"] / mib,
         "load": os.getloadavg()[0]}
    if TRACE:
        with open(log, errors="replace") as f:
            f.seek(at)
            r["trace"] = trace_counts(f.read(end - at), mib)
    return r


def main():
    if not can_run():
        print("bench/run_iperf3_ab.py: needs root and /dev/net/tun; skipped")
        return 0
    builds = sys.argv[1:] or [net_rig.BUILD]
    guests = ([("Linux", None)] if LINUX else []) + [(f"Mica{i}", b) for i, b in enumerate(builds)]
    for name, b in guests[1 if LINUX else 0:]:
        missing = [f for f in MICA_FILES if not os.path.exists(os.path.join(b, f))]
        if missing:
            print(f"bench/run_iperf3_ab.py: {b}: missing {', '.join(missing)}")
            return 1
        print(f"{name} is {b}")
    why = LINUX and run_iperf3.LinuxGuest().available()
    if why:
        print(f"bench/run_iperf3_ab.py: no Linux guest: {why}")
        return 1
    print(f"iperf3 {'UDP -b ' + UDP + ' ' if UDP else ''}{'to' if TO else 'from'} the guest "
          f"on {NIC}, {ROUNDS} rounds of "
          f"{SECONDS:.0f} s; host load {os.getloadavg()[0]:.1f}", flush=True)
    got = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(ROUNDS):
            for name, b in guests:
                x = one(name, b, tmp)
                if not x:
                    continue
                got[name].append(x)
                print(f"round {r} {name}: {x['mbit']:.0f} Mbit/s, vCPU {x['vcpu']:.2f} main "
                      f"{x['main']:.2f} ms a MiB, ran {x['ran']:.2f} waited {x['waited']:.2f}, "
                      f"sleeps {x['sleeps']:.0f} a MiB, load {x['load']:.1f}"
                      + (f"\n    {x['trace']}" if TRACE else ""), flush=True)
    print("\n| guest | Mbit/s | vCPU ms a MiB | main loop ms a MiB | runs |\n|---|---:|---:|---:|---:|")
    for name, _ in guests:
        xs = got[name]
        if xs:
            print(f"| {name} | {median([x['mbit'] for x in xs]):.0f} | "
                  f"{median([x['vcpu'] for x in xs]):.2f} | "
                  f"{median([x['main'] for x in xs]):.2f} | {len(xs)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
