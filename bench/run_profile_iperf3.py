#!/usr/bin/python3
"""Where Debian's iperf3 *from* Mica (`iperf3 -c GUEST -R`: the POSIX
server's iperf3 sends; or *to* Mica with MICA_BENCH_PROFILE_DIRECTION=to,
its iperf3 receiving) spends the virtual CPU's time: a sampled profile as
bench/run_profile.py takes of the netstack's own iperf, with the POSIX
server among the programs. Runs as root; not part of `make bench`
(docs/posix.md, "iperf3", says what it found).

Mica boots as bench/run_iperf3.py boots it (virtio-net, or
MICA_BENCH_PROFILE_NICS; the same manifest and pinning) with a QEMU monitor
on a Unix socket, in a namespace of its own. While the namespace's iperf3
receives for SECONDS, run_profile.sample stops the virtual CPU every
MICA_BENCH_PROFILE_SAMPLE_MS (2) for a sample of RIP, CPL, CR3 and whether
it is halted, over the middle MICA_BENCH_PROFILE_SECONDS (5). A sample is
a moment of the virtual CPU's host time: halted (the guest waits), the
kernel, or a program (by its address space's instructions: the NIC
driver, the netstack by parts, the POSIX server, init; "?" is iperf3 and
its libraries, whose ELFs are not among these).

Before the sampling, QEMU's threads' CPU over three seconds
(/proc/PID/task/*/schedstat): of the virtual CPU's thread, the share of
the time it ran and the share it was runnable but waited for a host CPU
(what is left it slept: the guest halted, or it waited for QEMU's main
loop), and the main loop's; and all of QEMU's CPU time per MiB the
namespace's iperf3 received. MICA_BENCH_PROFILE_NSARGS adds arguments to
the netstack's line of the manifest (e.g. " merge=off"),
MICA_BENCH_PROFILE_CLIENT to the client's (e.g. "-u -b 100M": UDP; the
CPU a MiB then means nothing, `ss` counting TCP only: read the shares).

Prints Markdown tables; every sample, attributed, goes to
build/bench/profile-iperf3-samples.json (addr2line -i on the ELFs for a
closer look). Never fails: what does not complete is said.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run_iperf3                                                # noqa: E402
from net_rig import (BUILD, GUEST_ADDR, IPERF_PIN, add_host_tap,  # noqa: E402
                     nic_args, start_qemu)
from netns import Netns, can_run                                 # noqa: E402
from run_iperf3 import MicaGuest                                 # noqa: E402
from run_profile import TOP, WINDOW_S, Image, Monitor, attribute, sample  # noqa: E402

MODELS = os.environ.get("MICA_BENCH_PROFILE_NICS", "virtio-net").split()
NSARGS = os.environ.get("MICA_BENCH_PROFILE_NSARGS", "")
TO = os.environ.get("MICA_BENCH_PROFILE_DIRECTION", "from") == "to"
CLIENT = os.environ.get("MICA_BENCH_PROFILE_CLIENT", "").split()
SECONDS = int(WINDOW_S) + 5     # the client's run: warm-up, threads, samples, slack
THREADS_S = 3.0


class Guest(MicaGuest):
    def nic_manifest(self, module, netstack_args=""):
        return MicaGuest.nic_manifest(module, NSARGS)


def threads(pid):
    """{tid: (ran, waited)}: seconds each of QEMU's threads ran and was
    runnable without running (schedstat's first two fields, ns)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                a = f.read().split()
            out[tid] = (int(a[0]) / 1e9, int(a[1]) / 1e9)
        except (OSError, ValueError, IndexError):
            continue
    return out


def received(ns):
    """Bytes the namespace's iperf3 connection has received (ss -ti), or
    with TO has sent and seen acknowledged."""
    out = subprocess.run(ns.prefix() + ["ss", "-tinH", "state", "established", "(", "sport",
                                        "=", ":5201", "or", "dport", "=", ":5201", ")"],
                         capture_output=True, text=True, timeout=10).stdout
    return sum(int(x.split(":")[1]) for x in out.split() if x.startswith(
        "bytes_acked:" if TO else "bytes_received:"))


def profile(model, tmp, images):
    guest = Guest()
    mon_path = os.path.join(tmp, f"mon-{model}")
    args = guest.args(model, tmp) + nic_args(model) + [
        "-name", "mica,debug-threads=on", "-monitor", f"unix:{mon_path},server=on,wait=off"]
    with Netns(f"prof3-{model[:6]}") as ns:
        add_host_tap(ns)
        client = mon = qemu = None
        try:
            qemu = start_qemu(args, f"profile-iperf3-{model}", ns)
            qemu.wait_for(guest.ready, timeout=run_iperf3.BOOT)
            mon = Monitor(mon_path)
            time.sleep(1)           # iperf3 -s reopens its listener
            client = subprocess.Popen(ns.prefix() + IPERF_PIN + [
                "timeout", str(SECONDS + 60), "iperf3", "-c", GUEST_ADDR,
                *([] if TO else ["-R"]), "-t", str(SECONDS + int(THREADS_S)), *CLIENT,
                "--connect-timeout", "10000"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.5)
            t0, w0, b0 = threads(qemu.proc.pid), time.monotonic(), received(ns)
            time.sleep(THREADS_S)
            t1, w1, b1 = threads(qemu.proc.pid), time.monotonic(), received(ns)
            samples = sample(mon, WINDOW_S, images["kernel"].stubs())
            client.wait(timeout=SECONDS + 90)
        except (AssertionError, OSError, subprocess.SubprocessError) as e:
            return {"error": str(e).splitlines()[0]}
        finally:
            if mon:
                mon.close()
            if client and client.poll() is None:
                client.kill()
                client.wait()
            if qemu:
                qemu.stop()
    wall = w1 - w0
    use = sorted(((t1[t][0] - t0.get(t, (0, 0))[0], t1[t][1] - t0.get(t, (0, 0))[1])
                  for t in t1), reverse=True)
    mib = (b1 - b0) / 2**20
    progs = {"driver": images[model], "netstack": images["netstack"],
             "posix-server": images["posix-server"], "init": images["init"]}
    return {"attributed": attribute(samples, images["kernel"], progs),
            "raw": [list(x) for x in samples],
            "vcpu_ran": use[0][0] / wall, "vcpu_waited": use[0][1] / wall,
            "others_ran": sum(u[0] for u in use[1:]) / wall,
            "ms_per_mib": sum(u[0] for u in use) * 1000 / mib if mib else None,
            "mbit": (b1 - b0) * 8 / wall / 1e6}


def main():
    if not can_run():
        print("bench/run_profile_iperf3.py: needs root and /dev/net/tun; skipped")
        return 0
    why = MicaGuest().available()
    if why:
        print(f"bench/run_profile_iperf3.py: Mica skipped: {why}")
        return 0
    images = {name: Image(os.path.join(BUILD, path)) for name, path in (
        ("kernel", "kernel.elf"), ("init", "init.elf"), ("netstack", "netstack.elf"),
        ("posix-server", "posix-server.elf"), ("e1000", "drivers/e1000.elf"),
        ("virtio-net", "drivers/virtio-net.elf"))}
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in MODELS:
            r = profile(model, tmp, images)
            r["nic"] = model
            rows.append(r)
    print(f"Debian's iperf3 {'to' if TO else '-R from'} Mica{NSARGS}: "
          f"host load {load:.1f} at the start.\n")
    for r in rows:
        if "error" in r or not r["attributed"]:
            print(f"{r['nic']}: {r.get('error', 'no samples')}\n")
            continue
        att = r["attributed"]
        n = len(att)
        print(f"{r['nic']}: {r['mbit']:.0f} Mbit/s while QEMU's threads were measured, "
              + (f"{r['ms_per_mib']:.2f} ms of QEMU's CPU a MiB; " if r["ms_per_mib"] else "")
              + f"the virtual CPU's thread ran {100 * r['vcpu_ran']:.0f}% of the time and "
              f"waited for a host CPU {100 * r['vcpu_waited']:.0f}%, QEMU's other threads ran "
              f"{100 * r['others_ran']:.0f}%; {n} samples.\n")
        print("| where | share of samples |\n|---|---:|")
        for (c, p), k in collections.Counter((a[0], a[1]) for a in att).most_common():
            print(f"| {c if c == p else c + ': ' + p} | {100 * k / n:.1f}% |")
        print("\n| function | share of samples |\n|---|---:|")
        for (c, f), k in collections.Counter((a[0], a[2]) for a in att
                                             if a[0] != "idle").most_common(2 * TOP):
            print(f"| {c}: {f} | {100 * k / n:.1f}% |")
        print()
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    with open(os.path.join(BUILD, "bench", "profile-iperf3-samples.json"), "w") as f:
        json.dump([{k: r.get(k) for k in ("nic", "raw", "attributed")} for r in rows], f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
