#!/usr/bin/python3
"""Run the IPC micro-benchmarks (build/ipcbench.elf as root task of the
test kernel) in three configurations and print a Markdown table:

  instructions, fast path    qemu -icount shift=0: one TSC tick per guest
  instructions, general path   instruction, so the counts are reproducible
  TCG ticks, fast path       no -icount: TSC ticks of the emulated CPU;
                             host-speed dependent, for orientation only

The table also lands in build/bench/ipc.md, and with the fast-path hit
counts in build/bench/ipc.json (bench/report.py reads it). Benchmarks never
fail a build: a configuration that does not complete is reported as such.
"""
import json
import os
import re
import subprocess
import sys
from report import qemu_version

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")

CONFIGS = [
    ("fast", "instructions (fast path)", ["-icount", "shift=0,sleep=off"], ""),
    ("general", "instructions (general path)", ["-icount", "shift=0,sleep=off"], " nofastpath"),
    ("ticks", "TCG ticks (fast path)", [], ""),
]
ROWS = [
    ("null_syscall", "null system call (debug_write of 0 bytes)"),
    ("clock_syscall", "clock system call (reads the TSC)"),
    ("ipc_call_reply_cross_task", "IPC call + reply round trip, two tasks"),
    ("ipc_send_one_way_cross_task", "IPC one-way send to a waiting receiver, two tasks"),
    ("mem_map_unmap_one_page", "map + unmap of one 4 KiB page"),
]
HITS = re.compile(r"IPC fast path taken (\d+) times")


def run(extra, cmdline):
    """{benchmark: ticks per iteration} and the fast-path hit count."""
    cmd = [QEMU, "-machine", "pc", "-cpu", "max", "-m", "256M", "-smp", "1",
           "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot", "-nic", "none",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", *extra,
           "-kernel", os.path.join(BUILD, "kernel-test.elf"),
           "-append", "root=ipcbench" + cmdline,
           "-initrd", os.path.join(BUILD, "ipcbench.elf") + " ipcbench"]
    try:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=300).stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return {}, None
    hits = HITS.search(out)
    return ({m.group(1): float(m.group(2))
             for m in re.finditer(r"^bench (\w+): \d+ iterations, ([\d.]+) ticks", out, re.M)},
            int(hits.group(1)) if hits else None)


def main():
    results = [(key, name, *run(extra, cmdline)) for key, name, extra, cmdline in CONFIGS]
    version = qemu_version()
    lines = [f"Measured with {version}, TCG (no KVM), machine pc, -cpu max.", "",
             "| operation | " + " | ".join(name for _, name, _, _ in results) + " |",
             "|---|" + "---:|" * len(results)]
    for key, label in ROWS:
        cells = [f"{r[key]:.0f}" if key in r else "n/a" for _, _, r, _ in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    hits = ", ".join(f"{name}: {h if h is not None else 'n/a'}" for _, name, _, h in results)
    lines += ["", f"IPC fast path taken ({hits})."]
    table = "\n".join(lines)
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    with open(os.path.join(BUILD, "bench", "ipc.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(BUILD, "bench", "ipc.json"), "w") as f:
        json.dump({"qemu": version,
                   "configs": [{"key": k, "name": n} for k, n, _, _ in CONFIGS],
                   "rows": [{"key": k, "label": label} for k, label in ROWS],
                   "results": {k: r for k, _, r, _ in results},
                   "fastpath_hits": {k: h for k, _, _, h in results}}, f, indent=1)
        f.write("\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
