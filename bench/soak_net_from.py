#!/usr/bin/python3
"""A soak of short from-guest runs (the netstack's iperf client to `iperf -s`
in the namespace), to catch the run that collapses (docs/drivers.md, "e1000
from the guest: where it stops"). Runs as root.

Each run is bench/run_net.py's `from_guest` for Mica on one NIC model, a
fresh boot, with tcpdump on the namespace's tap taking the first 96 bytes of
every frame. After the run the capture is read here: the guest's data
segments, their retransmissions (a segment ending at or before the highest
sequence number sent already), the host's zero windows, and the longest
pause between two data segments of the guest inside the transfer, with what
was on the wire just before and after it. A run whose longest pause passes
PAUSE_MS, or that retransmitted, keeps its capture (build/bench/soak/).
Beside it, how QEMU's threads got the host's CPUs (bench/qemu_sched.py):
over the run and during that pause, the longest stretch in which QEMU was
runnable and got no CPU.

    bench/soak_net_from.py [e1000|virtio-net] [RUNS] [SECONDS]

MICA_SOAK_CONSOLE=TEXT prints the guest's console lines holding TEXT (for
counters of a temporary build); QEMU and iperf are placed on the host's
CPUs as MICA_BENCH_PIN says (bench/net_rig.py's PIN_MODES; `none` leaves
them where the host's scheduler puts them).

Bounded: RUNS runs (default 10) of SECONDS (default 4), each bounded as
run_net.py bounds it; everything lives in one namespace deleted at the end.
Never fails: prints one line per run and a summary.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

NIC = sys.argv[1] if len(sys.argv) > 1 else "e1000"
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
os.environ["MICA_BENCH_NET_SECONDS"] = sys.argv[3] if len(sys.argv) > 3 else "4"

import run_net                                   # noqa: E402 (reads the seconds)
from net_rig import BUILD, GUEST_ADDR, IPERF_PIN, add_host_tap  # noqa: E402
from netns import Netns, can_run                 # noqa: E402

PAUSE_MS = 200
KEEP = os.path.join(BUILD, "bench", "soak")


def packets(path):
    """(time s, src, dst, sport, dport, seq, ack, flags, window, payload) of
    every IPv4 TCP frame in a pcap file of Ethernet frames."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    at = 24
    while at + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[at:at + 16])
        frame = data[at + 16:at + 16 + incl]
        at += 16 + incl
        if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6 or len(ip) < ihl + 20:
            continue
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:]
        sport, dport, seq, ack = struct.unpack(">HHII", tcp[:12])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        window = struct.unpack(">H", tcp[14:16])[0]
        yield (sec + frac / (1e9 if nano else 1e6), ".".join(map(str, ip[12:16])),
               ".".join(map(str, ip[16:20])), sport, dport, seq, ack, flags, window,
               total - ihl - doff)


def describe(p, t0):
    t, src, _, _, _, seq, ack, flags, window, payload = p
    names = "".join(c for c, bit in zip("FSRPAU", (1, 2, 4, 8, 16, 32)) if flags & bit)
    who = "guest" if src == GUEST_ADDR else "host "
    return f"{(t - t0) * 1000:9.1f} ms {who} {names:4} seq={seq} ack={ack} win={window} len={payload}"


def analyse(path):
    """What the capture says about the transfer: a dict."""
    pkts = list(packets(path))
    data = [(i, p) for i, p in enumerate(pkts) if p[1] == GUEST_ADDR and p[9] > 0]
    out = {"frames": len(pkts), "data": len(data), "rexmit": 0, "zero_win": 0,
           "pause_ms": 0.0, "context": []}
    if not data:
        return out
    t0 = pkts[0][0]
    high = None
    for _, p in data:
        end = (p[5] + p[9]) & 0xFFFFFFFF
        if high is None:
            high = end
        elif end == high or ((end - high) & 0xFFFFFFFF) >= 0x80000000:
            out["rexmit"] += 1
        else:
            high = end
    out["zero_win"] = sum(1 for p in pkts if p[1] != GUEST_ADDR and p[8] == 0
                          and not p[7] & 0x06)
    worst = None
    for (i0, a), (i1, b) in zip(data, data[1:]):
        gap = b[0] - a[0]
        if worst is None or gap > worst[0]:
            worst = (gap, i0, i1)
    gap, i0, i1 = worst if worst else (0, 0, 0)
    out["pause_ms"] = gap * 1000
    out["pause_at_ms"] = (pkts[i0][0] - t0) * 1000
    out["span_ms"] = (data[-1][1][0] - data[0][1][0]) * 1000
    out["context"] = [describe(p, t0) for p in pkts[max(0, i0 - 6):i1 + 3]]
    out["pause_wall"] = (pkts[i0][0], pkts[i1][0])
    return out


_last = {}
_start_guest = run_net.start_guest


def _start_and_keep(*args, **kw):
    """run_net.start_guest (which samples QEMU's scheduling: qemu.sched),
    keeping the QEMU object for its console and those samples."""
    _last["qemu"] = q = _start_guest(*args, **kw)
    return q


run_net.start_guest = _start_and_keep


def main():
    if not can_run():
        print("bench/soak_net_from.py: needs root and /dev/net/tun; skipped")
        return 0
    guest = run_net.MicaGuest()
    why = guest.available()
    if why:
        print(f"bench/soak_net_from.py: Mica skipped: {why}")
        return 0
    os.makedirs(KEEP, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp, Netns(f"soak-{NIC}") as ns:
        add_host_tap(ns)
        for n in range(RUNS):
            pcap = os.path.join(tmp, "run.pcap")
            dump = subprocess.Popen(ns.prefix() + IPERF_PIN +
                                    ["timeout", str(run_net.LONGEST + 200), "tcpdump",
                                     "-i", "tap0", "-s", "96", "-n", "-w", pcap, "tcp"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(0.5)
            start = time.monotonic()
            try:
                mbit, whole = run_net.from_guest(guest, ns, NIC, tmp)
            except AssertionError as e:
                print(f"run {n}: {str(e).splitlines()[0]}")
                mbit = whole = None
            took = time.monotonic() - start
            dump.terminate()
            try:
                _, err = dump.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                dump.kill()
                _, err = dump.communicate()
            dropped = [ln for ln in err.splitlines() if "dropped" in ln and not ln.startswith("0 ")]
            a = analyse(pcap)
            if dropped:
                print("    tcpdump: " + "; ".join(dropped))
            load = os.getloadavg()[0]
            q = _last.pop("qemu", None)
            sched = getattr(q, "sched", None)
            starved = whole["longest_starved_ms"] if whole else -1
            print(f"run {n}: {'failed' if mbit is None else f'{mbit:.0f} Mbit/s'} in {took:.0f} s, "
                  f"load {load:.1f}; {a['data']} data frames, {a['rexmit']} retransmitted, "
                  f"{a['zero_win']} zero windows, longest pause {a['pause_ms']:.0f} ms"
                  + (f" at {a['pause_at_ms']:.0f} of {a['span_ms']:.0f} ms" if a["data"] else "")
                  + f"; QEMU starved {starved} ms at most",
                  flush=True)
            grep = os.environ.get("MICA_SOAK_CONSOLE")
            for line in (q.output().splitlines() if q and grep else []):
                if grep in line:
                    print("    console: " + line.strip())
            odd = a["pause_ms"] > PAUSE_MS or a["rexmit"] or mbit is None
            if odd:
                if "pause_wall" in a and sched:
                    print("    during the pause: " + sched.describe(*a["pause_wall"]))
                for line in a["context"]:
                    print("    " + line)
                keep = os.path.join(KEEP, f"{NIC}-{int(time.time())}-{n}.pcap")
                shutil.copy(pcap, keep)
                print(f"    capture kept: {keep}")
            results.append((mbit, a["pause_ms"], a["rexmit"], odd))
    got = sorted(m for m, _, _, _ in results if m is not None)
    odd = sum(1 for r in results if r[3])
    print(f"soak {NIC}: {len(results)} runs, {len(got)} reported, Mbit/s "
          + (f"{got[0]:.0f}..{got[-1]:.0f}, median {got[len(got) // 2]:.0f}" if got else "none")
          + f"; {odd} with a pause over {PAUSE_MS} ms, a retransmission or no report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
