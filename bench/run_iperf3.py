#!/usr/bin/python3
"""Debian's iperf3 on Mica's POSIX server against the same iperf3 on the
reference Linux guest, side by side in one run (docs/benchmarks.md).
Runs as root.

Both guests serve `iperf3 -s` (port 5201), the very binary and libraries
of Debian's .debs that Mica's root filesystem holds (bench/linux-guest.sh
puts the same files into the Linux guest's initramfs), on the same QEMU
machine (`-machine pc -cpu max -m 256M -smp 1`, TCG) with the same NIC
model. Each guest runs in a namespace of its own (tests/system/netns.py)
holding a tap with 10.1.0.1/24, its QEMU (started inside it) and the
host's iperf3 client; the guest is 10.1.0.2. In each of RUNS rounds,
per NIC model, each guest in turn (Linux, then Mica) is booted afresh and
measured both ways, so that both see the same host load:

  to guest    `iperf3 -c 10.1.0.2 -t SECONDS`: the guest receives
  from guest  the same with -R: the guest sends
  to guest, MSS N   the same as "to guest" with -M N (MICA_BENCH_IPERF3_MSS,
              default 536; "" for none): segments of N bytes
  UDP         `iperf3 -c 10.1.0.2 -u -b 100M -t SECONDS`: the guest
              receives datagrams of 1460 bytes at 100 Mbit/s
  UDP from guest   the same with -R: the guest's iperf3 sends them,
              pacing itself to 100 Mbit/s (8,560 datagrams a second)

Mbit/s of TCP payload the receiving end counted, over the seconds the
host's end took (the host's clock: a guest's may lose ticks), the median
and range reported with Mica/Linux; for UDP the share of datagrams lost
and the datagrams a second the receiving iperf3 got (on the host's
clock), median and range, each way. QEMU's threads and the namespace's iperf3 are
placed on the host's CPUs as MICA_BENCH_PIN says (bench/net_rig.py's
PIN_MODES; in iperf3.json as pinning). For each TCP run, how long QEMU
was at most runnable without a host CPU and the share of the transfer its
virtual CPU's thread waited for one (bench/qemu_sched.py; starved_ms and
vcpu_waiting_pct in iperf3.json's rows).

Then, on virtio-net, one more Mica boot counts iperf3's system calls: the
POSIX server with `syscount=1` (docs/posix.md) runs `iperf3 -s -1` once
for each direction and UDP each way and prints, when it exits, its calls by name and the
bytes its sockets moved, and the calls it made to the netstack and the
readiness signals it took meanwhile; the table gives calls per MiB moved
(iperf3.json also the netstack's).

Prints a Markdown table, also written to build/bench/iperf3.md and, with
every run's number, build/bench/iperf3.json (bench/report.py reads it).
Never fails: what does not complete is reported as such.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import net_rig
from net_rig import (BUILD, GUEST_ADDR, IPERF_PIN, NICS, LinuxGuestBase,
                     MicaGuestBase, add_host_tap, available_guests, cell, median, nic_args,
                     pinning, start_qemu, wait_answering, write_results)
from netns import Netns, can_run          # noqa: E402
from qemu_sched import SchedSampler       # noqa: E402
from report import qemu_version           # noqa: E402

SECONDS = int(os.environ.get("MICA_BENCH_IPERF3_SECONDS", "5"))
RUNS = int(os.environ.get("MICA_BENCH_IPERF3_RUNS", "3"))
NIC_LIST = os.environ.get("MICA_BENCH_IPERF3_NICS", "virtio-net e1000").split()
COUNT = os.environ.get("MICA_BENCH_IPERF3_COUNT", "1") == "1"
SLACK = 60              # seconds on top of SECONDS for connecting and reporting
BOOT = 300              # seconds a guest may take to serve iperf3 (TCG, shared host)

DIRECTIONS = {"to guest": [], "from guest": ["-R"]}
# The host's client with a small MSS (-M): segments of that many bytes,
# each taking a receive buffer of its own on either guest (issue 16's
# collapse: docs/netstack.md, "Receive window"). Measured like "to guest",
# not counted by count_calls.
SMALL_MSS = os.environ.get("MICA_BENCH_IPERF3_MSS", "536").split()
MEASURED = dict(DIRECTIONS, **{f"to guest, MSS {m}": ["-M", m] for m in SMALL_MSS})
UDP_RATE = "100M"
UDP = ["-u", "-b", UDP_RATE]
# UDP each way: the guest receiving, and sending (-R: its iperf3 paces
# itself to the rate).
UDP_DIRECTIONS = {"to guest": UDP, "from guest": UDP + ["-R"]}

# The POSIX server's count at a process's exit (posix-server/syscall.c).
COUNT_LINE = re.compile(r"^posix: iperf3 \(pid \d+\) calls: (\d+) in all, (\d+) made again after "
                        r"waiting; sockets sent (\d+) received (\d+) bytes; (.*)$", re.M)
# The netstack calls the POSIX server made meanwhile (posix-server/socket_net.c).
NET_LINE = re.compile(r"^posix: iperf3 \(pid \d+\) netstack calls: (\d+) in all, readiness "
                      r"signals (\d+); (.*)$", re.M)


class LinuxGuest(LinuxGuestBase):
    ready = r"^linux-guest: ready eth0 .* iperf3 server"

    def args(self, model, tmp):
        return self.boot_args("mica.iperf3=server")


class MicaGuest(MicaGuestBase):
    """The kernel, init, the NIC driver, the netstack and the POSIX server
    running Debian's iperf3 as configs/boot.manifest does (`iperf3 -s`,
    the same memory), with a static address."""
    ready = r"^Server listening on 5201"
    files = MicaGuestBase.files + ["posix-server.elf", "posix/rootfs.cpio"]

    def __init__(self, run="args run=iperf3:-s"):
        self.run = run

    def args(self, model, tmp):
        module = NICS[model][1]
        manifest = os.path.join(tmp, f"manifest-{model}")
        with open(manifest, "w") as f:
            f.write(self.nic_manifest(module) +
                    f"program posix-server priority=90 quota=40960 memory=131072\n"
                    f"    file rootfs\n"
                    f"    ioports 0x70-0x71\n"
                    f"    lookup net-lend\n"
                    f"    {self.run}\n")
        mods = [(os.path.join(BUILD, "init.elf"), "init"), (manifest, "manifest"),
                (os.path.join(BUILD, "drivers", f"{module}.elf"), module),
                (os.path.join(BUILD, "netstack.elf"), "netstack"),
                (os.path.join(BUILD, "posix-server.elf"), "posix-server"),
                (os.path.join(BUILD, "posix", "rootfs.cpio"), "rootfs")]
        return self.boot_args(mods)


def boot(guest, ns, model, tmp):
    """The guest up in ns, serving iperf3, placed (net_rig.start_qemu); its
    Qemu (stopped by the caller)."""
    args = guest.args(model, tmp) + nic_args(model)
    qemu = start_qemu(args, f"{guest.name}-{model}-iperf3", ns)
    try:
        qemu.wait_for(guest.ready, timeout=BOOT)
    except BaseException:
        qemu.stop()
        raise
    return qemu


def client(ns, args, span=None):
    """One iperf3 test from the namespace: (Mbit/s, bytes the receiving end
    counted) or None with the reason printed; span (a dict) gets the
    wall times the client began and ended (time.time()). The rate is on the host's
    clock: the bytes the receiver counted over the seconds the host's end
    took (the sender's with the guest receiving, the receiver's with -R):
    a guest's clock may lose timer ticks while the host is loaded, and
    its iperf3 would then count a rate too high. iperf3 reopens its
    listening socket after every test: a second's pause first, as the
    system tests do; and the guest must answer (a ping: its address
    resolved) before the connect, or it may fail "No route to host"."""
    time.sleep(1)
    if not wait_answering(ns):
        print(f"  iperf3 {' '.join(args)}: the guest does not answer a ping")
        return None
    cmd = ns.prefix() + IPERF_PIN + ["timeout", str(SECONDS + SLACK), "iperf3", "-J",
                                     "-c", GUEST_ADDR, "-t", str(SECONDS),
                                     "--connect-timeout", "10000", *args]
    span = {} if span is None else span
    span["began"] = time.time()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + SLACK + 10)
        span["ended"] = time.time()
        res = json.loads(r.stdout or "{}")
    except (subprocess.TimeoutExpired, ValueError) as e:
        print(f"  iperf3 {' '.join(args)}: {e}")
        return None
    if r.returncode or "error" in res:
        print(f"  iperf3 {' '.join(args)}: {res.get('error') or r.stderr.strip()}")
        return None
    end = res.get("end", {})
    if "-u" in args:
        # iperf3's UDP report is the receiver's (the guest's, or with -R
        # the host's): packets up to the highest sequence number it saw,
        # of which lost_packets never came; the seconds are the host's end's.
        s = end.get("sum", {})
        secs = end.get("sum_received" if "-R" in args else "sum_sent", s).get("seconds")
        if not s.get("packets") or not secs:
            print(f"  iperf3 {' '.join(args)}: no UDP sum in its report")
            return None
        got = s["packets"] - s["lost_packets"]
        return got / secs, 100.0 * s["lost_packets"] / s["packets"]
    got = end.get("sum_received", {})
    host = end.get("sum_received" if "-R" in args else "sum_sent", {})
    if not got.get("bytes") or not host.get("seconds"):
        print(f"  iperf3 {' '.join(args)}: no sum_received in its report")
        return None
    return int(got["bytes"]) * 8 / host["seconds"] / 1e6, int(got["bytes"])


def measure(guests, model, runs, tmp, sched=None):
    """RUNS rounds on one NIC model: in each, every guest in turn booted
    afresh (Linux, then Mica) and both directions measured; Mbit/s
    appended to runs[(guest, model, direction)], and for each TCP run
    (longest ms QEMU was runnable without a host CPU, % of the transfer
    its virtual CPU's thread waited for one) to sched[...] ((None, None)
    if not sampled). Each guest has a namespace of its own, made and
    deleted here."""
    sched = {} if sched is None else sched
    for _ in range(RUNS):
        for g in guests:
            with Netns(f"i3{g.name[:2].lower()}-{model[:6]}") as ns:
                add_host_tap(ns)
                start = time.monotonic()
                try:
                    qemu = boot(g, ns, model, tmp)
                except AssertionError as e:
                    print(f"  {g.name} {model}: did not come up: {str(e).splitlines()[0]}")
                    continue
                sampler = SchedSampler(qemu.proc.pid).start()
                try:
                    print(f"  {g.name} {model}: serving iperf3 after "
                          f"{time.monotonic() - start:.0f} s", flush=True)
                    for direction, args in MEASURED.items():
                        span = {}
                        got = client(ns, args, span)
                        mbit = got[0] if got else None
                        lst = runs.setdefault((g.name, model, direction), [])
                        if mbit is not None:
                            lst.append(mbit)
                        s = sampler.summary(span.get("began"), span.get("ended")) \
                            if "ended" in span else None
                        gap, wait = ((s["longest_starved_ms"], s["vcpu_waiting_pct"]) if s
                                     else (None, None))
                        sched.setdefault((g.name, model, direction), []).append((gap, wait))
                        print(f"  {g.name} {model} {direction}: "
                              + ("failed" if mbit is None else f"{mbit:.1f} Mbit/s")
                              + ("" if s is None else f" (QEMU runnable without a host CPU "
                                 f"for {gap} ms at most, its virtual CPU waiting for one "
                                 f"{wait}% of the transfer)"), flush=True)
                    for way, uargs in UDP_DIRECTIONS.items():
                        got = client(ns, uargs)
                        if got:
                            runs.setdefault((g.name, model, "udp", way), []).append(got)
                        print(f"  {g.name} {model} UDP {UDP_RATE} {way}: " + (
                            "failed" if not got
                            else f"{got[0]:.0f} datagrams/s, {got[1]:.1f}% lost"), flush=True)
                finally:
                    sampler.stop()
                    qemu.stop()


def count_calls(tmp):
    """Mica on virtio-net with the server's syscall count: `iperf3 -s -1`
    once per direction. {direction: {calls, bytes, per_mib, top}}."""
    guest = MicaGuest(run="file runs\n    args runfile=runs syscount=1")
    with open(os.path.join(tmp, "runs"), "w") as f:
        f.write("iperf3 -s -1\n" * (len(DIRECTIONS) + len(UDP_DIRECTIONS)))
    out = {}
    ns = Netns("i3count")
    with ns:
        add_host_tap(ns)
        args = guest.args("virtio-net", tmp)
        # The run list's file among the boot modules.
        i = args.index("-initrd") + 1
        args[i] += f",{os.path.join(tmp, 'runs')} runs"
        args += nic_args("virtio-net")
        qemu = start_qemu(args, "Mica-iperf3-count", ns)
        try:
            mark = 0
            for direction, dargs in list(DIRECTIONS.items()) + [
                    (f"UDP {UDP_RATE} {way}", uargs) for way, uargs in UDP_DIRECTIONS.items()]:
                qemu.wait_for(MicaGuest.ready, timeout=BOOT, since=mark)
                mark = qemu.mark()
                if not client(ns, dargs):
                    continue
                m = qemu.wait_for(COUNT_LINE.pattern, timeout=60, since=mark)
                nm = qemu.wait_for(NET_LINE.pattern, timeout=30, since=mark)
                calls, again = int(m.group(1)), int(m.group(2))
                moved = max(int(m.group(3)), int(m.group(4)))
                per = dict((n, int(c)) for n, c in re.findall(r"(\w+) (\d+)", m.group(5)))
                top = [(n, int(c)) for n, c in re.findall(r"(\w+) (\d+)", m.group(5))]
                out[direction] = {"calls": calls, "again": again, "bytes": moved,
                                  "per_mib": calls / (moved / 2**20) if moved else None,
                                  "top": [(n, c / (moved / 2**20)) for n, c in top[:6]]
                                  if moved else [],
                                  # UDP: datagrams read, and the calls per datagram
                                  "reads": per.get("read", 0) + per.get("recvfrom", 0)
                                  + per.get("recvmsg", 0) + per.get("recvmmsg", 0),
                                  # the server's calls to the netstack, the readiness
                                  # signals it took, and those calls by label
                                  "netstack": int(nm.group(1)), "signals": int(nm.group(2)),
                                  "netstack_by_label": dict(
                                      (n, int(c)) for n, c in re.findall(r"(\w+) (\d+)",
                                                                         nm.group(3)))}
                mark = qemu.mark()
                print(f"  Mica virtio-net {direction}: {calls} calls for {moved} bytes; "
                      f"netstack calls {nm.group(1)}, readiness signals {nm.group(2)} "
                      f"({nm.group(3)})", flush=True)
        except AssertionError as e:
            print(f"  Mica count: {str(e).splitlines()[0]}")
        finally:
            qemu.stop()
    return out


def main():
    if not can_run():
        print("bench/run_iperf3.py: needs root and /dev/net/tun; skipped")
        return 0
    began = time.monotonic()
    named, skipped = available_guests("bench/run_iperf3.py", (LinuxGuest(), MicaGuest()))
    guests = list(named.values())
    load = os.getloadavg()[0]
    runs = {}
    sched = {}
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model in NIC_LIST:
            try:
                measure(guests, model, runs, tmp, sched)
            except (OSError, subprocess.SubprocessError) as e:
                print(f"bench/run_iperf3.py: {model}: {e}")
        if COUNT and "Mica" not in skipped:
            try:
                counts = count_calls(tmp)
            except (OSError, subprocess.SubprocessError) as e:
                print(f"bench/run_iperf3.py: counting: {e}")

    rows = []
    for model in NIC_LIST:
        for direction in MEASURED:
            lx = runs.get(("Linux", model, direction), [])
            mc = runs.get(("Mica", model, direction), [])
            lm, mm = median(lx), median(mc)
            ls = sched.get(("Linux", model, direction), [])
            ms = sched.get(("Mica", model, direction), [])
            rows.append({"nic": model, "direction": direction, "linux_mbit": lm,
                         "linux_runs": lx, "mica_mbit": mm, "mica_runs": mc,
                         "ratio": mm / lm if lm and mm is not None else None,
                         "linux_starved_ms": [x[0] for x in ls],
                         "mica_starved_ms": [x[0] for x in ms],
                         "linux_vcpu_waiting_pct": [x[1] for x in ls],
                         "mica_vcpu_waiting_pct": [x[1] for x in ms]})
    udp_rows = []
    for model in NIC_LIST:
        for way in UDP_DIRECTIONS:
            lx = runs.get(("Linux", model, "udp", way), [])
            mc = runs.get(("Mica", model, "udp", way), [])
            udp_rows.append({"nic": model, "rate": UDP_RATE, "direction": way,
                             "linux_dps": median([x[0] for x in lx]),
                             "mica_dps": median([x[0] for x in mc]),
                             "linux_lost_pct": median([x[1] for x in lx]),
                             "mica_lost_pct": median([x[1] for x in mc]),
                             "linux_runs": lx, "mica_runs": mc})
    table = ["| NIC | direction | Linux Mbit/s | Mica Mbit/s | Mica/Linux |",
             "|---|---|---:|---:|---:|"]
    for r in rows:
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        table.append(f"| {r['nic']} | {r['direction']} | {cell(r['linux_mbit'])} | "
                     f"{cell(r['mica_mbit'])} | {ratio} |")
    version = qemu_version()
    elapsed = time.monotonic() - began
    text = (f"Debian's iperf3 TCP, {SECONDS} s per run, median of {RUNS}; {version}, TCG; "
            f"pinning {net_rig.PIN}; "
            f"{elapsed:.0f} s in all; host load {load:.1f} at the start.\n\n"
            + "\n".join(table) + "\n")
    text += (f"\nUDP at {UDP_RATE}bit/s, datagrams a second received:\n\n"
             "| NIC | direction | Linux datagrams/s | Mica datagrams/s | Linux lost % | "
             "Mica lost % |\n|---|---|---:|---:|---:|---:|\n")
    for r in udp_rows:
        text += (f"| {r['nic']} | {r['direction']} | {cell(r['linux_dps'])} | "
                 f"{cell(r['mica_dps'])} | {cell(r['linux_lost_pct'])} | "
                 f"{cell(r['mica_lost_pct'])} |\n")
    for direction, c in counts.items():
        text += (f"\nMica virtio-net {direction}: {c['calls']} system calls for {c['bytes']} "
                 f"bytes, {cell(c['per_mib'])} a MiB: "
                 + ", ".join(f"{n} {v:.1f}" for n, v in c["top"]) + "\n")
    print(text)
    report = {"qemu": version, "machine": "pc", "cpu": "max", "memory": "256M", "smp": 1,
              "seconds": SECONDS, "runs": RUNS, "elapsed_s": round(elapsed),
              "host_load_at_start": round(load, 2),
              "pinning": pinning(),
              "linux": next((g.version() for g in guests if g.name == "Linux"), None),
              "mica": next((g.version() for g in guests if g.name == "Mica"), None),
              "skipped": skipped, "results": rows, "udp": udp_rows, "syscalls": counts}
    write_results("iperf3", text, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
