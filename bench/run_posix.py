#!/usr/bin/python3
"""The POSIX benchmark: one static binary (tests/posix/pbench.c, built with
musl-gcc -static as build/posix/pbench-musl) on Mica's POSIX server and on
the reference Linux guest (bench/linux-guest.sh puts the same file into
its initramfs), both under QEMU -icount shift=0 (one time-stamp-counter
tick per guest instruction, so the counts are reproducible and the two
systems are compared instruction for instruction):

  getpid           a null system call
  pipe latency     one byte back and forth between two processes, per
                   round trip (lmbench's lat_pipe)
  pipe bandwidth   64 KiB writes and reads between two processes
                   (bw_pipe), per chunk, and MiB/s of guest time
  fork             fork + exit + wait, per cycle (lat_proc fork)
  clock_gettime    libc's clock_gettime(CLOCK_MONOTONIC): through the
                   vDSO on both (musl uses it)

Writes build/bench/posix.md (a table) and build/bench/posix.json
(bench/report.py reads it). The issue's targets: getpid at most 1.5x the
Linux guest's instructions, pipe latency at most 0.75x Linux's. Never
fails a build: a side that does not complete is reported as such.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from report import qemu_version

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
ICOUNT = ["-icount", "shift=0,sleep=off"]
COMMON = ["-machine", "pc", "-cpu", "max", "-m", "512M", "-smp", "1", "-display", "none",
          "-monitor", "none", "-serial", "stdio", "-no-reboot", "-nic", "none"]
ROWS = [
    ("getpid", "null system call (getpid)", 1.5),
    ("pipe_latency", "pipe latency: 1-byte round trip between two processes", 0.75),
    ("pipe_bandwidth", "pipe bandwidth: one 64 KiB chunk written and read", None),
    ("fork", "fork + exit + wait", None),
    ("clock_gettime", "clock_gettime(CLOCK_MONOTONIC), libc (the vDSO)", None),
]
LINE = re.compile(r"^pbench (\w+): (\d+) iterations, ([\d.]+) ticks each(?:, ([\d.]+) MiB/s)?",
                  re.M)
MANIFEST = """program posix-server priority=90 quota=40960 memory=65536
    file rootfs
    ioports 0x70-0x71
    args run=pbench-musl
"""


def run(cmd, done, timeout=300):
    """The console output of cmd until `done` appears (or it ends, or the
    time is up)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    out, deadline = b"", time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    try:
        while time.monotonic() < deadline and done.encode() not in out:
            chunk = proc.stdout.read()
            if chunk:
                out += chunk
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return out.decode("utf-8", "replace")


def parse(out):
    """{benchmark: {ticks, n[, mib_s]}} from pbench's lines."""
    res = {}
    for m in LINE.finditer(out):
        res[m.group(1)] = {"n": int(m.group(2)), "ticks": float(m.group(3))}
        if m.group(4):
            res[m.group(1)]["mib_s"] = float(m.group(4))
    return res


def mica():
    with tempfile.TemporaryDirectory() as tmp:
        manifest = os.path.join(tmp, "manifest")
        with open(manifest, "w") as f:
            f.write(MANIFEST)
        mods = [(os.path.join(BUILD, "init.elf"), "init"), (manifest, "manifest"),
                (os.path.join(BUILD, "posix-server.elf"), "posix-server"),
                (os.path.join(BUILD, "posix", "rootfs.cpio"), "rootfs")]
        out = run([QEMU, *COMMON, *ICOUNT, "-kernel", os.path.join(BUILD, "kernel.elf"),
                   "-append", "loglevel=2", "-initrd", ",".join(f"{p} {n}" for p, n in mods)],
                  "pbench: done")
    return parse(out), out


def linux():
    guest = os.path.join(BUILD, "bench", "linux")
    r = subprocess.run([os.path.join(ROOT, "bench", "linux-guest.sh")], capture_output=True,
                       text=True)
    if r.returncode:
        return {}, "linux-guest.sh failed: " + r.stderr.strip()
    out = run([QEMU, *COMMON, *ICOUNT, "-kernel", os.path.join(guest, "vmlinuz"),
               "-initrd", os.path.join(guest, "initrd.img"),
               "-append", "console=ttyS0 quiet mica.pbench=1"], "pbench: done")
    return parse(out), out


def main():
    start = time.monotonic()
    m, mica_out = mica()
    lx, linux_out = linux()
    version = qemu_version()
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    for name, out in (("mica", mica_out), ("linux", linux_out)):
        with open(os.path.join(BUILD, "bench", f"posix-{name}.log"), "w") as f:
            f.write(out)
    results = []
    for key, label, target in ROWS:
        a, b = lx.get(key, {}), m.get(key, {})
        ratio = b["ticks"] / a["ticks"] if a and b else None
        results.append({"key": key, "label": label, "target": target,
                        "linux": a.get("ticks"), "mica": b.get("ticks"), "ratio": ratio,
                        "linux_mib_s": a.get("mib_s"), "mica_mib_s": b.get("mib_s")})
    data = {"qemu": version, "elapsed_s": round(time.monotonic() - start),
            "iterations": {k: (m.get(k) or lx.get(k) or {}).get("n") for k, _, _ in ROWS},
            "results": results}
    with open(os.path.join(BUILD, "bench", "posix.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    lines = ["| operation | Linux | Mica | Mica/Linux | target |", "|---|---:|---:|---:|---:|"]
    for r in results:
        cells = [f"{r[w]:.0f}" if r[w] is not None else "n/a" for w in ("linux", "mica")]
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "n/a"
        target = f"<= {r['target']}" if r["target"] else ""
        lines.append(f"| {r['label']} | {cells[0]} | {cells[1]} | {ratio} | {target} |")
    table = "\n".join(lines)
    with open(os.path.join(BUILD, "bench", "posix.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
