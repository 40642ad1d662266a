#!/usr/bin/python3
"""The outage of a NIC driver restart under load (docs/benchmarks.md).
Runs as root.

For each NIC model: Mica in QEMU on tap0 in a namespace (the same rig as
tests/system/test_restart.py: driver, netstack, serial console), an iperf 2
transfer from the namespace to the guest's iperf server, and KILLS kills of the
driver from the console, one every few seconds. Two times per kill, in
guest time from init's "killed at T ms": the restart, to the netstack's
"re-attached to a new driver at T ms" (what Mica itself takes), and the
outage, to its "first frame through the new driver at T ms" (which also
waits for the sender's TCP retransmission, and for the NIC model's own
delays after a reset); the transfer must survive
every kill (iperf ends normally and the netstack received every byte written).

The reference, in the same run on the same QEMU machine, NIC model and
tap: the Linux guest of bench/run_net.py (bench/linux-guest.sh) serving
iperf while its own driver is reloaded KILLS times (rmmod, insmod, address
and link set again), each timed from the unload to eth0 being back and to
the namespace's answer to a ping once the link is up (its ARP exchange is
the first frame; /proc/uptime, 10 ms steps).

Prints a Markdown table, also written to build/bench/outage.md and, with
every kill's number, build/bench/outage.json. Never fails: what does not
complete is reported as such.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

from netns import Netns, can_run                  # noqa: E402
from qemu import Qemu                             # noqa: E402
from test_net import GUEST, GUEST_MAC, HOST, MODELS, NetRig  # noqa: E402
from test_restart import (IPERF_DONE, iperf_writes, kill_and_wait,  # noqa: E402
                          iperf_header_bytes, iperf_server_count, start_iperf)

KILLS = int(os.environ.get("MICA_BENCH_OUTAGE_KILLS", "10"))
GAP = 3             # seconds between a restart and the next kill
LENGTH = 8192       # iperf write size


def one_model(model):
    result = {"model": model, "restarts_ms": [], "outages_ms": [], "survived": False, "note": ""}
    seconds = 5 + KILLS * (GAP + 2)
    with tempfile.TemporaryDirectory() as tmp, Netns(f"outage-{model}") as ns, \
            NetRig(ns, Path(tmp), model, netecho=False, console=True,
                   driver="restart=on-crash retries=3 heartbeat=250") as rig:
        q = rig.qemu
        q.wait_for(r"netstack: eth0 up, 10\.1\.0\.2/24")
        q.wait_for(r"^console: ready")
        header = iperf_header_bytes(ns, rig, LENGTH)
        mark = q.mark()
        iperf = start_iperf(ns, seconds, LENGTH)
        try:
            time.sleep(GAP)
            for _ in range(KILLS):
                killed, back, first = kill_and_wait(rig)
                result["restarts_ms"].append(back - killed)
                result["outages_ms"].append(first - killed)
                time.sleep(GAP)
            out, _ = iperf.communicate(timeout=seconds + 120)
        except (AssertionError, subprocess.TimeoutExpired) as e:
            result["note"] = str(e).splitlines()[0]
            out = ""
        finally:
            if iperf.poll() is None:
                iperf.kill()
                iperf.wait()
        try:
            done = q.wait_for(IPERF_DONE, timeout=60, since=mark)
            result["survived"] = (iperf.returncode == 0 and done.group(1) == "server done" and
                                  iperf_survived(out, int(done.group(2)), header))
            if not result["survived"]:
                result["note"] = f"(iperf exit {iperf.returncode}; {done.group(0)})"
                print(out)
        except AssertionError:
            result["note"] = result["note"] or "the netstack's iperf server reported nothing"
    return result


LINUX_MODULE = {"e1000": "e1000", "virtio-net": "virtio_net"}


def iperf_survived(out, server_bytes=None, header=0):
    """iperf wrote without errors and (when the receiver counted) every
    byte arrived."""
    writes = iperf_writes(out)
    if not writes or writes[1] != 0:
        return False
    return server_bytes is None or server_bytes == iperf_server_count(writes[0], LENGTH, header)


def linux_model(model):
    """The reference: Linux reloading its driver under the same load."""
    result = {"model": model, "restarts_ms": [], "outages_ms": [], "survived": False, "note": ""}
    seconds = 5 + KILLS * (GAP + 2)
    linux = os.path.join(BUILD, "bench", "linux")
    try:
        r = subprocess.run([os.path.join(ROOT, "bench", "linux-guest.sh")], capture_output=True,
                           text=True, timeout=900)
        if r.returncode:
            result["note"] = "bench/linux-guest.sh failed"
            return result
    except subprocess.TimeoutExpired:
        result["note"] = "bench/linux-guest.sh took over 15 minutes"
        return result
    device = MODELS[model][0]
    with Netns(f"outage-linux-{model}") as ns:
        tap = ns.add_tap("tap0")
        ns.exec_quiet("ip", "addr", "add", f"{HOST}/24", "dev", tap)
        args = ["-kernel", os.path.join(linux, "vmlinuz"),
                "-initrd", os.path.join(linux, "initrd.img"),
                "-append", f"console=ttyS0 loglevel=4 mica.addr={GUEST}/24 mica.iperf=server "
                           f"mica.reload={KILLS}:{GAP + 2}:{LINUX_MODULE[model]}:{HOST}",
                "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
                "-device", f"{device},netdev=n0,mac={GUEST_MAC},addr=3"]
        with Qemu(args, name=f"linux-{model}", prefix=ns.prefix()) as q:
            try:
                q.wait_for(r"^linux-guest: ready eth0")
                iperf = subprocess.Popen(
                    ns.prefix() + ["timeout", str(seconds + 120), "iperf", "-c", GUEST,
                                   "-t", str(seconds), "-l", str(LENGTH), "-e", "-f", "K"],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                q.wait_for(r"^linux-guest: reloads done", timeout=seconds + 120)
                out, _ = iperf.communicate(timeout=seconds + 130)
                for m in re.finditer(r"^linux-guest: reload \d+: unloaded at (\d+) ms, eth0 back "
                                     r"at (\d+) ms, first frame at (\d+) ms$", q.output(), re.M):
                    t0, t1, t2 = (int(x) for x in m.groups())
                    result["restarts_ms"].append(t1 - t0)
                    result["outages_ms"].append(t2 - t0)
                result["survived"] = iperf.returncode == 0 and iperf_survived(out)
                if not result["survived"]:
                    result["note"] = f"(iperf exit {iperf.returncode})"
                    print(out)
            except (AssertionError, subprocess.TimeoutExpired) as e:
                result["note"] = str(e).splitlines()[0]
    return result


def row(guest, r):
    o, s = r["outages_ms"], r["restarts_ms"]
    if not o:
        return f"| {r['model']} | {guest} | 0 | - | - | {r['note'] or 'no'} |"
    return (f"| {r['model']} | {guest} | {len(o)} | {statistics.median(s):.0f} "
            f"({min(s)}-{max(s)}) | {statistics.median(o):.0f} ({min(o)}-{max(o)}) "
            f"| {'yes' if r['survived'] else 'no'} {r['note']} |")


def main():
    if not can_run():
        print("outage benchmark: needs root and /dev/net/tun; skipped")
        return
    models = os.environ.get("MICA_BENCH_OUTAGE_MODELS", " ".join(MODELS)).split()
    lines = ["| NIC | guest | kills | restart median (min-max), ms | outage median (min-max), ms "
             "| TCP transfer survived |",
             "|---|---|---|---|---|---|"]
    results = []
    for m in models:
        for guest, run in (("Mica", one_model), ("Linux", linux_model)):
            r = run(m)
            r["guest"] = guest
            results.append(r)
            lines.append(row(guest, r))
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    with open(os.path.join(BUILD, "bench", "outage.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(BUILD, "bench", "outage.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
