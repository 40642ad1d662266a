#!/usr/bin/python3
"""Where Mica's iperf throughput stops: a sampled profile of the guest
during the transfers of bench/run_net.py (docs/benchmarks.md). Runs as
root.

For each NIC model (e1000, virtio-net) and direction (to and from the
guest), Mica boots as in bench/run_net.py (same machine, manifest, tap in
a namespace, QEMU's threads and iperf placed on the host's CPUs as
MICA_BENCH_PIN says: bench/net_rig.py's PIN_MODES) with a QEMU monitor on
a Unix socket; the namespace's iperf connects once the guest answers a
ping (net_rig.wait_answering). While iperf runs, the monitor stops the virtual
CPU every SAMPLE_MS, reads its registers (`info registers`: RIP, CR3, CPL
and whether it is halted) and lets it go on. Each sample is one moment of
the virtual CPU's host time:

  idle     halted (the kernel's idle `hlt`): the guest waits for the host
  kernel   CPL 0, by the symbols of build/kernel.elf
  driver   CPL 3 in the NIC driver's address space, by its ELF's symbols
  netstack CPL 3 in the netstack's, split by source (lwIP's TCP, IP and
           the rest; checksums; copies; the netstack's own files)

User programs are all linked at the same address, so a sample's program is
found from its CR3: the program whose instructions start at the most of
that address space's sampled RIPs (objdump -d). The TCP payload moved
during the sampling window (`ss -ti` in the namespace), in 1460-byte
frames, turns a component's share into host microseconds per data frame.
Under TCG a guest instruction's host cost varies (an MMIO access or an
address-space switch is thousands of host instructions), so these are
host time, not instruction counts.

Before the sampling, over THREADS_S in STEPS steps, the CPU time of
QEMU's threads (/proc schedstat) per data frame, the median of the steps:
the figure to compare runs by (throughput moves with the host's load, the
CPU a frame costs much less), and how much of a host CPU the virtual
CPU's thread and the others had.

Prints Markdown tables, also written to build/bench/profile.md and
build/bench/profile.json (for bench/report.py); every sample, with its
attribution, goes to build/bench/profile-samples.json. Never fails: what
does not complete is reported as such.
"""
import bisect
import collections
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run_net                                                   # noqa: E402
from report import md_profile                                   # noqa: E402
from net_rig import (BUILD, GUEST_ADDR, GUEST_MAC, HOST_ADDR, NICS, start_qemu,  # noqa: E402
                     wait_answering, write_results)
from run_net import PORT, Background, MicaGuest, wait_listening  # noqa: E402
from netns import Netns, can_run                                 # noqa: E402

SAMPLE_MS = float(os.environ.get("MICA_BENCH_PROFILE_SAMPLE_MS", "2"))
# Inside each 10 s transfer, after the slow start and before the end: the
# CPU per frame, then the sampling.
WARMUP_S = 1.5
WINDOW_S = float(os.environ.get("MICA_BENCH_PROFILE_SECONDS", "4"))
THREADS_S = 3.0                 # QEMU's threads measured before the sampling,
STEPS = 12                      # in this many steps
TRANSFER_S = 10                 # the netstack's iperf client sends for 10 s
TOP = 8                         # functions listed per run
MSS = 1460                      # TCP payload of a full frame (no timestamps)
MODELS = os.environ.get("MICA_BENCH_PROFILE_NICS", " ".join(NICS)).split()

REGS = re.compile(r"RSP=([0-9a-f]+).*?RIP=([0-9a-f]+).*?CPL=(\d).*?HLT=(\d).*?CR3=([0-9a-f]+)",
                  re.S)
WORDS = re.compile(r"^[0-9a-f]+:\s+0x([0-9a-f]+)(?:\s+0x([0-9a-f]+))?", re.M)


class Monitor:
    """QEMU's human monitor on a Unix socket: commands and their output."""

    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(10)
        self.buf = b""
        self._until_prompt()

    def _until_prompt(self):
        while b"(qemu) " not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise OSError("the monitor closed")
            self.buf += data
        out, _, self.buf = self.buf.partition(b"(qemu) ")
        return out.decode("utf-8", "replace")

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        return self._until_prompt()

    def close(self):
        self.sock.close()


def sample(mon, seconds, stubs):
    """(rip, cpl, halted, cr3) every SAMPLE_MS for seconds: the CPU
    stopped for each (its RIP is exact only then).

    Stopping the CPU lets QEMU deliver an interrupt that is pending at that
    moment first, so a sample can land on the first instruction of an
    interrupt stub (stubs: address -> offset of the interrupted RIP on the
    stack): it is the interrupted instruction's, read from the frame the
    CPU pushed."""
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        mon.cmd("stop")
        regs = mon.cmd("info registers")
        m = REGS.search(regs)
        frame = None
        if m and int(m.group(2), 16) in stubs:
            rsp = int(m.group(1), 16) + stubs[int(m.group(2), 16)]
            frame = WORDS.search(mon.cmd(f"x /2gx 0x{rsp:x}"))
        mon.cmd("cont")
        if m:
            rip, cpl = int(m.group(2), 16), int(m.group(3))
            if frame and frame.group(2):
                rip, cpl = int(frame.group(1), 16), int(frame.group(2), 16) & 3
            samples.append((rip, cpl, m.group(4) == "1", int(m.group(5), 16)))
        time.sleep(SAMPLE_MS / 1000.0)
    return samples


def thread_times(pid):
    """QEMU's threads' CPU time in seconds (/proc .../schedstat, in ns):
    the virtual CPU's thread ("vcpu") and the others together."""
    out = collections.Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        out["vcpu" if "/TCG" in name else "other"] += ns / 1e9
    return out


def cpu_per_frame(pid, ns, direction):
    """QEMU's CPU time per data frame, and its threads' shares of a CPU:
    measured over STEPS short steps, each step's µs per frame, the median
    reported (a step in which the transfer stalled does not count more
    than one)."""
    per_frame, shares = [], collections.Counter()
    c0, w0, b0 = thread_times(pid), time.monotonic(), tcp_bytes(ns, direction)
    for _ in range(STEPS):
        time.sleep(THREADS_S / STEPS)
        c1, w1, b1 = thread_times(pid), time.monotonic(), tcp_bytes(ns, direction)
        frames = (b1 - b0) / MSS
        cpu = sum(c1.values()) - sum(c0.values())
        if frames > 0:
            per_frame.append(cpu * 1e6 / frames)
        for k in ("vcpu", "other"):
            shares[k] += (c1[k] - c0[k]) / (w1 - w0) / STEPS
        c0, w0, b0 = c1, w1, b1
    shares["us_per_frame"] = statistics.median(per_frame) if per_frame else None
    return dict(shares)


def iperf_socket(ns):
    """`ss -ti` of the namespace's end of the iperf connection."""
    return subprocess.run(ns.prefix() + ["ss", "-tinH", "state", "established", "(", "sport",
                                         "=", f":{PORT}", "or", "dport", "=", f":{PORT}", ")"],
                          capture_output=True, text=True, timeout=10).stdout


def tcp_bytes(ns, direction):
    """The payload bytes the namespace's end of the iperf connection has had
    acknowledged (to guest) or has received (from guest)."""
    key = "bytes_acked" if direction == "to guest" else "bytes_received"
    return sum(int(m.group(1)) for m in re.finditer(key + r":(\d+)", iperf_socket(ns)))


def rwnd_limited(ns):
    """The share of its busy time the namespace's sender (to guest) spent
    waiting for the guest's receive window to open, since the connection
    began (Linux's tcp_info, as `ss` prints it), or None."""
    m = re.search(r"rwnd_limited:\d+ms\(([\d.]+)%\)", iperf_socket(ns))
    return float(m.group(1)) / 100 if m else None


# ---- symbols ----

class Image:
    """An ELF's functions (start address, name, source file) and the
    addresses its instructions start at."""

    def __init__(self, path):
        self.path = path
        self.starts, self.names, self.files = [], [], []
        out = subprocess.run(["nm", "-n", "-l", "--defined-only", path], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            parts = line.split(None, 3)
            if len(parts) < 3 or parts[1] not in "tTwW":
                continue
            src = parts[3].rsplit(":", 1)[0] if len(parts) > 3 else ""
            self.starts.append(int(parts[0], 16))
            self.names.append(parts[2])
            self.files.append(src)
        self._insns = None

    def insns(self):
        if self._insns is None:
            out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", self.path],
                                 capture_output=True, text=True).stdout
            self._insns = {int(m.group(1), 16)
                           for m in re.finditer(r"^\s*([0-9a-f]+):\t", out, re.M)}
        return self._insns

    def stubs(self):
        """The kernel's interrupt stubs (entry.S): address -> where the
        interrupted RIP is above RSP at the stub's first instruction (8
        when the CPU pushed an error code)."""
        out = {}
        for a, n in zip(self.starts, self.names):
            m = re.fullmatch(r"trap_stub_(\d+)", n)
            if m:
                v = int(m.group(1))
                out[a] = 8 if v in (8, 10, 11, 12, 13, 14, 17, 21, 29, 30) else 0
        return out

    def lookup(self, addr):
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0:
            return "?", ""
        return self.names[i], self.files[i]


def netstack_part(name, src):
    """The netstack's parts: what a frame's cost is made of."""
    base = os.path.basename(src)
    if name in ("netq_sum_native", "inet_sum") or "chksum" in name or "csum" in base:
        return "checksums"
    if name in ("memcpy", "memset", "memmove", "memcmp") or "copy" in name:
        return "copies"
    if "/lwip/" in src or "/third_party/" in src:
        if re.search(r"/tcp[^/]*\.c$", src):
            return "lwIP TCP"
        if "/ipv4/" in src or base in ("ip.c", "inet_chksum.c"):
            return "lwIP IP"
        return "lwIP other (pbuf, memory, timers)"
    if "/lib/user/" in src:
        return "system-call stubs"
    if base in ("netq.c", "netq_client.c") or "netq" in name:
        return "netq rings"
    return "netstack " + (base or "?")


def attribute(samples, kernel, programs):
    """Each sample as (component, part, function)."""
    by_space = collections.defaultdict(list)
    for rip, cpl, halted, cr3 in samples:
        if cpl == 3:
            by_space[cr3].append(rip)
    owner = {}
    for cr3, rips in by_space.items():
        best, score = None, -1
        for name, img in programs.items():
            s = sum(1 for r in rips if r in img.insns())
            if s > score:
                best, score = name, s
        owner[cr3] = best
    out = []
    for rip, cpl, halted, cr3 in samples:
        if halted:
            out.append(("idle", "idle", "hlt"))
        elif cpl != 3:
            name, src = kernel.lookup(rip)
            out.append(("kernel", "kernel", name))
        else:
            prog = owner.get(cr3, "?")
            img = programs.get(prog)
            name, src = img.lookup(rip) if img else ("?", "")
            if prog == "netstack":
                out.append(("netstack", netstack_part(name, src), name))
            elif prog == "driver":
                out.append(("driver", "driver", name))
            else:
                out.append((prog or "?", prog or "?", name))
    return out


# ---- one run ----

def profile(ns, model, direction, tmp, images):
    """Boot Mica, run iperf one way, sample. A dict for the report."""
    guest = MicaGuest()
    client = direction == "from guest"
    mon_path = os.path.join(tmp, f"mon-{model}-{client}")
    args = guest.args(model, tmp, client) + ["-name", "mica,debug-threads=on",
        "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
        "-device", f"{NICS[model][0]},netdev=n0,mac={GUEST_MAC},addr=3",
        "-monitor", f"unix:{mon_path},server=on,wait=off"]
    server = None
    if client:
        server = Background(ns, ["iperf", "-s", "-p", str(PORT), "-f", "k"],
                            lifetime=TRANSFER_S + 120)
        if not wait_listening(ns, PORT):
            server.stop()
            return {"error": "iperf -s did not start"}
    sender = None
    mon = None
    qemu = None
    try:
        qemu = start_qemu(args, f"profile-{model}", ns)
        qemu.wait_for(guest.ready)
        mon = Monitor(mon_path)
        if not client and not wait_answering(ns):
            return {"error": "the guest does not answer a ping"}
        if not client:
            sender = Background(ns, ["iperf", "-c", GUEST_ADDR, "-p", str(PORT), "-t",
                                     str(TRANSFER_S + 2), "-f", "k"], lifetime=TRANSFER_S + 60)
        time.sleep(WARMUP_S)
        # QEMU's threads, before the sampling disturbs them: the virtual
        # CPU's, and the rest (the main loop: the tap, device timers).
        threads = cpu_per_frame(qemu.proc.pid, ns, direction)
        b0 = tcp_bytes(ns, direction)
        t0 = time.monotonic()
        samples = sample(mon, WINDOW_S, images["kernel"].stubs())
        elapsed = time.monotonic() - t0
        b1 = tcp_bytes(ns, direction)
        window = rwnd_limited(ns) if not client else None
        # Let the transfer end normally before the guest is stopped.
        (server or sender).wait_for(run_net.REPORT, TRANSFER_S + 30)
    except (AssertionError, OSError) as e:
        return {"error": str(e).splitlines()[0]}
    finally:
        if mon:
            mon.close()
        if qemu:
            qemu.stop()
        for bg in (sender, server):
            if bg:
                bg.stop()
    programs = {"driver": images[NICS[model][1]], "netstack": images["netstack"],
                "init": images["init"]}
    attributed = attribute(samples, images["kernel"], programs)
    data_frames = max((b1 - b0) // MSS, 0)
    return {"seconds": round(elapsed, 2), "samples": len(attributed),
            "data_frames": data_frames, "attributed": attributed, "threads": threads,
            "rwnd_limited": window,
            "raw": [list(x) for x in samples]}


# ---- the tables ----

COMPONENTS = ["idle", "kernel", "driver", "netstack"]


def summarize(run):
    """Shares by component and part, and the top functions."""
    att = run["attributed"]
    n = len(att) or 1
    comp = collections.Counter(a[0] for a in att)
    part = collections.Counter((a[0], a[1]) for a in att)
    funcs = collections.Counter((a[0], a[2]) for a in att if a[0] != "idle")
    threads = run.get("threads") or {}
    us_per_frame = (run["seconds"] * 1e6 / run["data_frames"]) if run["data_frames"] else None
    return {
        "components": {c: comp.get(c, 0) / n for c in set(comp) | set(COMPONENTS)},
        "parts": {f"{c}: {p}" if c == "netstack" else c: k / n for (c, p), k in part.items()},
        "top": [(f"{c}: {f}", k / n) for (c, f), k in funcs.most_common(TOP)],
        "us_per_frame": us_per_frame,
        "frames_per_s": run["data_frames"] / run["seconds"] if run["seconds"] else 0,
        "qemu_vcpu_cpu": threads.get("vcpu"),
        "qemu_other_cpu": threads.get("other"),
        "qemu_us_per_frame": threads.get("us_per_frame"),
        "rwnd_limited": run.get("rwnd_limited"),
    }


def main():
    if not can_run():
        print("bench/run_profile.py: needs root and /dev/net/tun; skipped")
        return 0
    why = MicaGuest().available()
    if why:
        print(f"bench/run_profile.py: Mica skipped: {why}")
        write_results("profile", f"Mica skipped: {why}\n", {"skipped": why, "results": []})
        return 0
    began = time.monotonic()
    load = os.getloadavg()[0]
    images = {name: Image(os.path.join(BUILD, path)) for name, path in (
        ("kernel", "kernel.elf"), ("init", "init.elf"), ("netstack", "netstack.elf"),
        ("e1000", "drivers/e1000.elf"), ("virtio-net", "drivers/virtio-net.elf"))}
    rows = []
    for model in MODELS:
        try:
            with tempfile.TemporaryDirectory() as tmp, Netns(f"prof-{model}") as ns:
                ns.add_tap("tap0")
                subprocess.run(["ip", "-n", ns.name, "addr", "add", f"{HOST_ADDR}/24", "dev",
                                "tap0"], check=True)
                for direction in ("to guest", "from guest"):
                    start = time.monotonic()
                    r = profile(ns, model, direction, tmp, images)
                    r.update(nic=model, direction=direction)
                    if r.get("attributed"):
                        r["summary"] = summarize(r)
                    elif "error" not in r:
                        r["error"] = "no samples"
                    rows.append(r)
                    print(f"  {model} {direction}: "
                          + (r.get("error") or f"{r['samples']} samples, "
                             f"{r['data_frames']} data frames")
                          + f" ({time.monotonic() - start:.0f} s)", flush=True)
        except (OSError, subprocess.SubprocessError) as e:     # reported, never fatal
            print(f"bench/run_profile.py: {model}: {e}")
            rows += [{"nic": model, "direction": d, "error": str(e)}
                     for d in ("to guest", "from guest")
                     if not any(r["nic"] == model and r["direction"] == d for r in rows)]
    elapsed = time.monotonic() - began
    report = {"sample_ms": SAMPLE_MS, "window_s": WINDOW_S, "elapsed_s": round(elapsed),
              "host_load_at_start": round(load, 2), "mica": MicaGuest().version(),
              "results": [{k: v for k, v in r.items() if k not in ("attributed", "raw")}
                          for r in rows]}
    text = md_profile({"data": report})
    print(text)
    write_results("profile", text, report)
    # Every sample, for a closer look (addr2line -i on the ELFs).
    with open(os.path.join(BUILD, "bench", "profile-samples.json"), "w") as f:
        json.dump([{k: r.get(k) for k in ("nic", "direction", "raw", "attributed")}
                   for r in rows], f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
