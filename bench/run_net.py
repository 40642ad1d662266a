#!/usr/bin/python3
"""TCP throughput with iperf 2: Mica against a reference Linux guest, side
by side in one run (docs/benchmarks.md). Runs as root.

Both guests run on the same QEMU machine (`-machine pc -cpu max -m 256M
-smp 1`, TCG), with the same NIC model on the same kind of tap: for each
NIC model a namespace is made (tests/system/netns.py) holding a tap with
10.1.0.1/24, QEMU (started inside it) and the host's iperf. The guest is
10.1.0.2. Two directions:

  to guest    the guest serves (port 5001); `iperf -c` in the namespace
  from guest  `iperf -s` in the namespace; the guest sends for SECONDS

Each measurement is taken RUNS times, each on a fresh boot, the two
guests taking turns so that both see the same host load, with QEMU's
threads and the namespace's iperf placed on the host's CPUs as
MICA_BENCH_PIN says (bench/net_rig.py's PIN_MODES; in net.json as
pinning); the median is reported, in Mbit/s of TCP payload as the namespace's iperf counts it (the
guest's own count if that saw no complete connection).

The Linux guest is Debian 12's kernel with a busybox initramfs
(bench/linux-guest.sh). The Mica guest is the kernel, init, the NIC driver
and the netstack (lwIP; its own iperf 2 server); it is skipped while
build/netstack.elf does not exist.

Each run's line also says how long QEMU was, at most, runnable without
getting a host CPU during the transfer, and the share of the transfer its
virtual CPU's thread spent runnable waiting for one (bench/qemu_sched.py;
in net.json as linux_starved_ms and mica_starved_ms, linux_vcpu_waiting_pct
and mica_vcpu_waiting_pct): a shared host can leave a pinned QEMU without a
CPU for seconds, and a run it does that to collapses (docs/drivers.md,
"The runs that collapse").

Prints a Markdown table, also written to build/bench/net.md and, with every
run's number, build/bench/net.json. Never fails: what does not complete is
reported as such.
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import net_rig
from net_rig import (BUILD, GUEST_ADDR, HOST_ADDR, IPERF_PIN, NICS,
                     LinuxGuestBase, MicaGuestBase, add_host_tap, cell, median,
                     nic_args, pinning, start_qemu, wait_answering, write_results)
from netns import Netns, can_run          # noqa: E402
from qemu_sched import SchedSampler       # noqa: E402
from report import qemu_version  # noqa: E402

SECONDS = int(os.environ.get("MICA_BENCH_NET_SECONDS", "10"))
RUNS = int(os.environ.get("MICA_BENCH_NET_RUNS", "3"))
PORT = 5001
# Slack on top of SECONDS for connecting and reporting under TCG.
SLACK = 60
# From the guest: the guest counts its SECONDS on its own clock, which
# loses timer ticks while the host is loaded (QEMU drops the APIC timer's
# missed periods), so its run may last several times SECONDS of ours. It
# is waited for while the namespace's server receives, and given up after
# STALL seconds without a byte (or LONGEST in all).
STALL = 30
LONGEST = 10 * SECONDS + SLACK

# An iperf 2 report line with `-f k`: "[  1] 0.0000-10.0123 sec  123 KBytes  456 Kbits/sec".
REPORT = re.compile(r"\]\s+[\d.]+-\s*([\d.]+) sec\s+(\d+) KBytes\s+(\d+) Kbits/sec")


class Background:
    """A program run in the namespace with a bounded lifetime (`timeout`);
    its output collected line by line. Stopped by its own PID."""

    def __init__(self, ns, cmd, lifetime):
        cmd = ns.prefix() + IPERF_PIN + ["timeout", str(lifetime)] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.lines = []
        self.lock = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip())
                self.lock.notify_all()
        with self.lock:
            self.lock.notify_all()

    def wait_for(self, regex, timeout):
        """The first match of regex in the output, or None after timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for line in self.lines:
                    m = regex.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or not self.reader.is_alive():
                    return None
                self.lock.wait(min(left, 0.5))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()         # timeout(1) passes it on to iperf
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(timeout=5)


def mbit_from_report(m):
    return int(m.group(3)) / 1000.0


def received_bytes(ns, port):
    """What the namespace's TCP connections on local port have received
    (ss's bytes_received), 0 when there are none, -1 if ss did not answer."""
    try:
        out = subprocess.run(ns.prefix() + ["ss", "-Hti", f"sport = :{port}"],
                             capture_output=True, text=True, timeout=10).stdout
    except subprocess.TimeoutExpired:
        return -1                     # unknown: counts as a change
    return sum(int(n) for n in re.findall(r"bytes_received:(\d+)", out))


def wait_listening(ns, port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(ns.prefix() + ["ss", "-Hltn", f"sport = :{port}"],
                             capture_output=True, text=True, timeout=10).stdout
        if out.strip():
            return True
        time.sleep(0.1)
    return False


class LinuxGuest(LinuxGuestBase):
    """Debian 12's kernel, busybox and iperf 2 (bench/linux-guest.sh)."""
    ready = r"^linux-guest: ready eth0"
    done = re.compile(r"^linux-guest: iperf client done")

    def args(self, model, tmp, client):
        mode = f"client:{HOST_ADDR}:{SECONDS}" if client else "server"
        return self.boot_args(f"mica.iperf={mode}")

    def sent(self, qemu):
        """Mbit/s from the guest's own client report, or None."""
        m = REPORT.search(qemu.output())
        return mbit_from_report(m) if m else None


class MicaGuest(MicaGuestBase):
    """Mica's kernel, init, NIC driver and netstack (lwIP and its iperf 2 server).
    The boot modules follow tests/system/test_nic.py."""
    ready = r"^netstack: eth0 up, 10\.1\.0\.2/24"
    done = re.compile(r"^netstack: iperf: .* (\d+) bytes in (\d+) ms")

    def args(self, model, tmp, client):
        extra = f" iperf.client={HOST_ADDR} iperf.time={SECONDS}" if client else ""
        manifest = os.path.join(tmp, "manifest")
        with open(manifest, "w") as f:
            f.write(self.nic_manifest(NICS[model][1], extra))
        mods = [(os.path.join(BUILD, "init.elf"), "init"), (manifest, "manifest"),
                (os.path.join(BUILD, "drivers", "e1000.elf"), "e1000"),
                (os.path.join(BUILD, "drivers", "virtio-net.elf"), "virtio-net"),
                (os.path.join(BUILD, "netstack.elf"), "netstack")]
        return self.boot_args(mods)

    def sent(self, qemu):
        m = self.done.search(qemu.output())
        if not m or int(m.group(2)) == 0:
            return None
        return int(m.group(1)) * 8 / int(m.group(2)) / 1000.0


def start_guest(guest, ns, model, tmp, client):
    """QEMU started and placed (net_rig.start_qemu), with a sampler of its
    threads' scheduling (qemu.sched)."""
    args = guest.args(model, tmp, client) + nic_args(model)
    qemu = start_qemu(args, f"{guest.name}-{model}", ns)
    qemu.sched = SchedSampler(qemu.proc.pid).start()
    return qemu


def stop_guest(qemu):
    """QEMU stopped. How it got the host's CPUs from the guest's readiness
    on (the transfer, not the boot): qemu_sched.SchedSampler's summary, or
    None if the transfer never began."""
    qemu.sched.stop()
    began = getattr(qemu, "transfer_began", None)
    sched = qemu.sched.summary(began) if began else None
    qemu.stop()
    return sched


def to_guest(guest, ns, model, tmp):
    """One run: the guest serves, `iperf -c` in the namespace. (Mbit/s or
    None, stop_guest's summary of QEMU's scheduling or None)."""
    qemu = start_guest(guest, ns, model, tmp, client=False)
    mbit = None
    try:
        mbit = _client(guest, ns, model, qemu)
    finally:
        sched = stop_guest(qemu)
    return mbit, sched


def _client(guest, ns, model, qemu):
    """to_guest's transfer, once QEMU runs: Mbit/s or None."""
    qemu.wait_for(guest.ready)
    if not wait_answering(ns):
        print(f"  {guest.name} {model} to guest: the guest does not answer a ping")
        return None
    qemu.transfer_began = time.time()
    try:
        cmd = ns.prefix() + IPERF_PIN + ["timeout", str(SECONDS + SLACK), "iperf",
                                         "-c", GUEST_ADDR, "-p", str(PORT),
                                         "-t", str(SECONDS), "-f", "k"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + SLACK + 10)
        out = r.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        if isinstance(out, bytes):        # so it is, even with text=True
            out = out.decode("utf-8", "replace")
    m = REPORT.search(out)
    if m:
        return mbit_from_report(m)
    print(f"  {guest.name} {model} to guest: no iperf report:\n{out.strip()}")
    return None


def from_guest(guest, ns, model, tmp):
    """One run: `iperf -s` in the namespace, the guest sends. (Mbit/s or
    None, stop_guest's summary of QEMU's scheduling or None)."""
    server = Background(ns, ["iperf", "-s", "-p", str(PORT), "-f", "k"],
                        lifetime=LONGEST + 120)
    qemu = mbit = sched = None
    try:
        if wait_listening(ns, PORT):
            qemu = start_guest(guest, ns, model, tmp, client=True)
            mbit = _server(guest, ns, model, qemu, server)
        else:
            print(f"  {guest.name} {model} from guest: iperf -s did not start")
    finally:
        if qemu:
            sched = stop_guest(qemu)
        server.stop()
    return mbit, sched


def _server(guest, ns, model, qemu, server):
    """from_guest's transfer, once QEMU runs: Mbit/s or None."""
    qemu.wait_for(guest.ready)
    qemu.transfer_began = time.time()
    # The server's report, once the guest has sent; if the guest is
    # done (or gone) without one, the guest's own count. Waited for
    # while bytes arrive (STALL).
    m = None
    began = moved = time.monotonic()
    got = 0
    finished = None
    while m is None and time.monotonic() - began < LONGEST:
        m = server.wait_for(REPORT, 1.0)
        if finished is None and (guest.done.search(qemu.output())
                                 or qemu.proc.poll() is not None):
            finished = time.monotonic()
        if finished is not None and time.monotonic() - finished > 5:
            break
        now = received_bytes(ns, PORT)
        if now != got:
            got, moved = now, time.monotonic()
        elif time.monotonic() - moved > STALL:
            print(f"  {guest.name} {model} from guest: nothing received for {STALL} s")
            break
    if m:
        return mbit_from_report(m)
    mbit = guest.sent(qemu)
    if mbit is None:
        print(f"  {guest.name} {model} from guest: no report; guest console:\n"
              + "\n".join(qemu.output().splitlines()[-15:]))
    return mbit


DIRECTIONS = {"to guest": to_guest, "from guest": from_guest}


def measure(guests, model, runs, starved, waiting=None):
    """RUNS runs of each direction on one NIC model, the guests taking turns
    (a fresh boot each run) so that both see the same host load; results
    appended to runs[(guest, model, direction)], the longest stretch in
    which QEMU was runnable without a host CPU (ms; qemu_sched.py: a run
    that collapses is one the host starved) to starved[...], and the
    share of the transfer its virtual CPU's thread waited for a host CPU
    (%) to waiting[...] (None in either for a run not sampled)."""
    waiting = {} if waiting is None else waiting
    with tempfile.TemporaryDirectory() as tmp, Netns(f"net-{model}") as ns:
        add_host_tap(ns)
        for direction, fn in DIRECTIONS.items():
            for _ in range(RUNS):
                for guest in guests:
                    start = time.monotonic()
                    try:
                        mbit, sched = fn(guest, ns, model, tmp)
                    except AssertionError as e:
                        print(f"  {guest.name} {model} {direction}: {str(e).splitlines()[0]}")
                        mbit = sched = None
                    key = (guest.name, model, direction)
                    got = runs.setdefault(key, [])
                    if mbit is not None:
                        got.append(mbit)
                    gap = sched["longest_starved_ms"] if sched else None
                    wait = sched["vcpu_waiting_pct"] if sched else None
                    starved.setdefault(key, []).append(gap)
                    waiting.setdefault(key, []).append(wait)
                    print(f"  {guest.name} {model} {direction}: "
                          + ("failed" if mbit is None else f"{mbit:.1f} Mbit/s")
                          + f" ({time.monotonic() - start:.0f} s"
                          + ("" if gap is None else f"; QEMU runnable without a host CPU "
                             f"for {gap} ms at most, its virtual CPU waiting for one "
                             f"{wait}% of the transfer") + ")", flush=True)


def side_by_side(runs, *key):
    """Linux's and Mica's runs for key, their medians and Mica/Linux."""
    linux, mica = runs.get(("Linux", *key), []), runs.get(("Mica", *key), [])
    lm, mm = median(linux), median(mica)
    return linux, mica, lm, mm, mm / lm if lm and mm is not None else None


def available_guests(script):
    """{name: guest} of those that can run, and {name: why not} of the
    others (said)."""
    return net_rig.available_guests(script, (LinuxGuest(), MicaGuest()))


def main():
    if not can_run():
        print("bench/run_net.py: needs root and /dev/net/tun; skipped")
        return 0
    began = time.monotonic()
    guests, skipped = available_guests("bench/run_net.py")

    load = os.getloadavg()[0]
    runs = {}                       # (guest, model, direction) -> [Mbit/s]
    starved = {}                    # (guest, model, direction) -> [ms, each run]
    waiting = {}                    # (guest, model, direction) -> [%, each run]
    for model in NICS:
        try:
            measure(list(guests.values()), model, runs, starved, waiting)
        except (OSError, subprocess.SubprocessError) as e:   # reported, never fatal
            print(f"bench/run_net.py: {model}: {e}")

    rows = []
    for model in NICS:
        for direction in DIRECTIONS:
            linux, mica, lm, mm, ratio = side_by_side(runs, model, direction)
            rows.append({"nic": model, "direction": direction,
                         "linux_mbit": lm, "linux_runs": linux,
                         "mica_mbit": mm, "mica_runs": mica, "ratio": ratio,
                         "linux_starved_ms": starved.get(("Linux", model, direction), []),
                         "mica_starved_ms": starved.get(("Mica", model, direction), []),
                         "linux_vcpu_waiting_pct": waiting.get(("Linux", model, direction), []),
                         "mica_vcpu_waiting_pct": waiting.get(("Mica", model, direction), [])})

    mica_note = f"skipped: {skipped['Mica']}" if "Mica" in skipped else None
    table = ["| NIC | direction | Linux Mbit/s | Mica Mbit/s | Mica/Linux |",
             "|---|---|---:|---:|---:|"]
    for r in rows:
        mica = "skipped" if mica_note else cell(r["mica_mbit"])
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        table.append(f"| {r['nic']} | {r['direction']} | {cell(r['linux_mbit'])} | "
                     f"{mica} | {ratio} |")
    version = qemu_version()
    elapsed = time.monotonic() - began
    text = (f"iperf 2 TCP, {SECONDS} s per run, median of {RUNS}; {version}, TCG, "
            f"-machine pc -cpu max -m 256M -smp 1; pinning {net_rig.PIN}; {elapsed:.0f} s in all; "
            f"host load {load:.1f} at the start.\n\n"
            + "\n".join(table) + "\n")
    if mica_note:
        text += f"\nMica {mica_note}\n"
    print(text)

    report = {"qemu": version, "machine": "pc", "cpu": "max", "memory": "256M", "smp": 1,
              "seconds": SECONDS, "runs": RUNS, "elapsed_s": round(elapsed),
              "host_load_at_start": round(load, 2),
              "pinning": pinning(),
              "linux": guests["Linux"].version() if "Linux" in guests else None,
              "mica": guests["Mica"].version() if "Mica" in guests else None,
              "skipped": skipped, "results": rows}
    write_results("net", text, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
