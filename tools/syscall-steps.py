#!/usr/bin/python3
"""Where a POSIX process's system call spends its guest instructions,
counted one by one: boots Mica under QEMU -icount with the POSIX server
running `pbench-musl getpid` (tests/posix/pbench.c, as bench/run_posix.py
does), lets SKIP redirected calls pass (fastpath_syscall), then
single-steps through gdb until fastpath_syscall is reached CYCLES more
times, and prints the last cycle (one call of the loop) as runs of
instructions per function: `kernel` by build/kernel.elf's symbols,
`process` (the address space the call came from) by pbench-musl's,
`server` by posix-server.elf's. docs/posix.md's "how a system call
travels" figures come from it.

Usage: tools/syscall-steps.py [--skip N] [--cycles N] [--pbench NAME:N]
                              [--json FILE]
(run from the repository, after `make all`; needs gdb and QEMU; a few
minutes under TCG). --json also writes every stepped instruction.
"""
import argparse
import bisect
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build")
KERNEL_HALF = 0xffff800000000000


def symbols(elf):
    """Sorted (address, name) of elf's functions."""
    out = subprocess.run(["nm", "-n", "--defined-only", elf], capture_output=True,
                         text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    return sorted(syms)


def in_gdb(skip, cycles, out):
    """Runs inside gdb: step and write [(where, function, pc)...] to out."""
    import gdb                                             # noqa: E402
    tables = {"kernel": symbols(os.path.join(BUILD, "kernel.elf")),
              "server": symbols(os.path.join(BUILD, "posix-server.elf")),
              "process": symbols(os.path.join(BUILD, "posix", "pbench-musl"))}
    starts = {k: [a for a, _ in v] for k, v in tables.items()}

    def name(where, pc):
        i = bisect.bisect_right(starts[where], pc) - 1
        return tables[where][i][1] if i >= 0 else "?"

    def reg(r):
        return int(gdb.parse_and_eval(r)) & (2**64 - 1)

    gdb.execute("set pagination off")
    gdb.execute("target remote :" + os.environ["MICA_STEPS_PORT"])
    gdb.execute("break fastpath_syscall")
    gdb.execute(f"ignore 1 {skip}")
    gdb.execute("continue")
    gdb.execute("delete")
    entry = reg("(long)&fastpath_syscall")
    process_cr3 = reg("$cr3") & ~0xfff
    trace, seen = [], 0
    while len(trace) < 50000:
        gdb.execute("stepi", to_string=True)
        pc = reg("$pc")             # the instruction about to run
        if pc == entry:
            seen += 1
            trace.append(None)
            if seen == cycles:
                break
        where = ("kernel" if pc >= KERNEL_HALF else
                 "process" if reg("$cr3") & ~0xfff == process_cr3 else "server")
        trace.append((where, name(where, pc), pc))
    with open(out, "w") as f:
        json.dump(trace, f)
    gdb.execute("kill")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip", type=int, default=5000)
    ap.add_argument("--cycles", type=int, default=2, help="at least 2")
    ap.add_argument("--pbench", default="getpid:100000")
    ap.add_argument("--json")
    a = ap.parse_args()
    port = str(random.randint(20000, 40000))
    with tempfile.TemporaryDirectory() as tmp:
        manifest, out = os.path.join(tmp, "manifest"), os.path.join(tmp, "trace.json")
        with open(manifest, "w") as f:
            f.write("program posix-server priority=90 quota=4096 memory=65536\n"
                    "    file rootfs\n"
                    "    ioports 0x70-0x71\n"
                    f"    args run=pbench-musl:{a.pbench}\n")
        mods = [(os.path.join(BUILD, "init.elf"), "init"), (manifest, "manifest"),
                (os.path.join(BUILD, "posix-server.elf"), "posix-server"),
                (os.path.join(BUILD, "posix", "rootfs.cpio"), "rootfs")]
        qemu = subprocess.Popen(
            ["qemu-system-x86_64", "-machine", "pc", "-cpu", "max", "-m", "512M", "-smp", "1",
             "-display", "none", "-monitor", "none", "-serial", "null", "-no-reboot",
             "-nic", "none", "-icount", "shift=0,sleep=off",
             "-kernel", os.path.join(BUILD, "kernel.elf"), "-append", "loglevel=2",
             "-initrd", ",".join(f"{p} {n}" for p, n in mods),
             "-gdb", f"tcp:127.0.0.1:{port}", "-S"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1)
            env = dict(os.environ, MICA_STEPS_PORT=port, MICA_STEPS_ARGS=json.dumps(
                [a.skip, a.cycles, out]))
            subprocess.run(["gdb", "-batch", "-nx", os.path.join(BUILD, "kernel.elf"),
                            "-x", os.path.abspath(__file__)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
        finally:
            if qemu.poll() is None:
                qemu.kill()
            qemu.wait()
        try:
            with open(out) as f:
                trace = json.load(f)
        except (OSError, ValueError):
            print("syscall-steps: no trace (did gdb reach fastpath_syscall?)")
            return 1
    if a.json:
        with open(a.json, "w") as f:
            json.dump(trace, f)
    # The first group starts one instruction late (at the breakpoint);
    # the others are whole calls.
    cycles = [list(g) for k, g in itertools.groupby(trace, key=lambda e: e is None) if not k]
    last = cycles[-1]
    print(f"one call: {len(last)} instructions")
    for (where, fn), run in itertools.groupby(last, key=lambda e: (e[0], e[1])):
        print(f"  {where:8s} {fn:32s} {len(list(run))}")
    return 0


if __name__ == "__main__":
    if "MICA_STEPS_ARGS" in os.environ:
        in_gdb(*json.loads(os.environ["MICA_STEPS_ARGS"]))
    else:
        sys.exit(main())
