#!/usr/bin/python3
"""Frames through the reflector: e1000 against virtio-net, 64- and
1514-byte frames (docs/benchmarks.md). Runs as root: each NIC model gets a
namespace and tap of its own, made and deleted here (tests/system/netns.py).

The sender keeps a window of frames in flight (so the number measures the
whole path: tap, QEMU's NIC model, driver, queues, reflector and back),
for a bounded time. Prints a Markdown table, also written to
build/bench/nic.md and nic.json. Never fails: a configuration that breaks is reported.
"""
import json
import os
import struct
import sys
import tempfile
import time
import pathlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

from netns import Netns, can_run          # noqa: E402
from test_nic import Rig, TEST_TYPE, make_frame   # noqa: E402

SECONDS = float(os.environ.get("MICA_BENCH_SECONDS", "5"))
WINDOW = 64


def measure(rig, size):
    """Reflected frames per second over SECONDS with WINDOW in flight."""
    sock = rig.socks[0]
    frame = make_frame(0, 0, size)
    for _ in range(WINDOW):
        sock.send(frame)
    got = 0
    start = time.monotonic()
    end = start + SECONDS
    while time.monotonic() < end:
        f = sock.recv(1.0)
        if f is None:                   # a loss: refill the window
            for _ in range(WINDOW):
                sock.send(frame)
            continue
        if f[12:14] == struct.pack("!H", TEST_TYPE):
            got += 1
            sock.send(frame)
    elapsed = time.monotonic() - start
    return got / elapsed


def main():
    if not can_run():
        print("bench/run_nic.py: needs root and /dev/net/tun; skipped")
        return 0
    rows = []
    for model in ["e1000", "virtio-net"]:
        with tempfile.TemporaryDirectory() as tmp, Netns(f"bench-{model}") as ns:
            try:
                with Rig(ns, pathlib.Path(tmp), [model]) as rig:
                    for size in (64, 1514):
                        fps = measure(rig, size)
                        rows.append((model, size, fps, fps * size * 8 / 1e6))
            except AssertionError as e:
                rows.append((model, 0, 0.0, 0.0))
                print(f"{model}: did not complete: {str(e).splitlines()[0]}")
    out = ["| NIC | frame | frames/s | Mbit/s (one way) |", "|---|---|---|---|"]
    for model, size, fps, mbit in rows:
        out.append(f"| {model} | {size} B | {fps:.0f} | {mbit:.1f} |")
    text = "\n".join(out) + "\n"
    print(text)
    os.makedirs(os.path.join(ROOT, "build", "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "build", "bench", "nic.md"), "w") as f:
        f.write(text)
    with open(os.path.join(ROOT, "build", "bench", "nic.json"), "w") as f:
        json.dump({"seconds": SECONDS, "window": WINDOW,
                   "results": [{"nic": m, "frame": size, "fps": fps, "mbit": mbit}
                               for m, size, fps, mbit in rows]}, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
