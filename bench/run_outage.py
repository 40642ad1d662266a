#!/usr/bin/python3
"""The outage of a NIC driver restart under load (docs/benchmarks.md).
Runs as root.

For each NIC model: Mica in QEMU on tap0 in a namespace (the same rig as
tests/system/test_restart.py: driver, netstack, serial console), an iperf 2
transfer from the namespace to the guest's lwiperf, and KILLS kills of the
driver from the console, one every few seconds. Two times per kill, in
guest time from init's "killed at T ms": the restart, to the netstack's
"re-attached to a new driver at T ms" (what Mica itself takes), and the
outage, to its "first frame through the new driver at T ms" (which also
waits for the sender's TCP retransmission, and for the NIC model's own
delays after a reset); the transfer must survive
every kill (iperf ends normally and lwiperf received every byte written).

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
from test_net import GUEST, MODELS, NetRig        # noqa: E402

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
        iperf = subprocess.Popen(
            ns.prefix() + ["iperf", "-c", GUEST, "-t", str(seconds), "-l", str(LENGTH), "-e",
                           "-f", "K"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(GAP)
            for _ in range(KILLS):
                mark = q.mark()
                q.send("kill eth0")
                killed = q.wait_for(r"^init: eth0 killed at (\d+) ms", since=mark, timeout=60)
                back = q.wait_for(r"^netstack: eth0 re-attached to a new driver at (\d+) ms",
                                  since=mark, timeout=60)
                first = q.wait_for(r"^netstack: eth0 first frame through the new driver "
                                   r"at (\d+) ms$", since=mark, timeout=60)
                result["restarts_ms"].append(int(back.group(1)) - int(killed.group(1)))
                result["outages_ms"].append(int(first.group(1)) - int(killed.group(1)))
                time.sleep(GAP)
            out, _ = iperf.communicate(timeout=seconds + 120)
        except (AssertionError, subprocess.TimeoutExpired) as e:
            result["note"] = str(e).splitlines()[0]
            out = ""
        finally:
            if iperf.poll() is None:
                iperf.kill()
                iperf.wait()
        writes = re.findall(r"sec\s+[\d.]+ KBytes\s+[\d.]+ KBytes/sec\s+(\d+)/(\d+)", out)
        try:
            done = q.wait_for(r"netstack: iperf: (server done|aborted[^,]*) with "
                              r"10\.1\.0\.1:\d+, (\d+) bytes", timeout=60)
            # lwiperf counts iperf 2's 24-byte test header too, in 32 bits.
            written = int(writes[-1][0]) * LENGTH + 24 if writes else None
            result["survived"] = (iperf.returncode == 0 and done.group(1) == "server done" and
                                  written is not None and int(done.group(2)) == written % 2**32)
            if not result["survived"]:
                result["note"] = (f"(iperf exit {iperf.returncode}, wrote {written}; "
                                  f"{done.group(0)})")
                print(out)
        except AssertionError:
            result["note"] = result["note"] or "lwiperf reported nothing"
    return result


def main():
    if not can_run():
        print("outage benchmark: needs root and /dev/net/tun; skipped")
        return
    models = os.environ.get("MICA_BENCH_OUTAGE_MODELS", " ".join(MODELS)).split()
    results = [one_model(m) for m in models]
    lines = ["| NIC | kills | restart median (min-max), ms | outage median (min-max), ms "
             "| TCP transfer survived |",
             "|---|---|---|---|---|"]
    for r in results:
        o, s = r["outages_ms"], r["restarts_ms"]
        if o:
            lines.append(f"| {r['model']} | {len(o)} | {statistics.median(s):.0f} ({min(s)}-{max(s)}) "
                         f"| {statistics.median(o):.0f} ({min(o)}-{max(o)}) "
                         f"| {'yes' if r['survived'] else 'no'} {r['note']} |")
        else:
            lines.append(f"| {r['model']} | 0 | - | - | {r['note'] or 'no'} |")
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    with open(os.path.join(BUILD, "bench", "outage.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(BUILD, "bench", "outage.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
