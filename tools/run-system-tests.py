#!/usr/bin/env python3
"""The system tests (tests/system/test_*.py), a module per pytest run, on
JOBS lanes at once (MICA_TEST_JOBS, default 2 where there are 2 cores or
more; 1 runs them one after the other as plain pytest would).

Most of a system test's time is one single-threaded QEMU (TCG) or a wait
on the guest's clock (lease timers, reassembly timeouts, restarts), so two
modules side by side take about one core each. Modules that rebuild or
read the shared build tree's ISO and TFTP tree (`make iso tftp` with other
arguments, `make router-demo`) are one group and never run beside each
other. Every module keeps what it is: its own namespaces (named by its
pytest's PID), its own temporary directory (--basetemp), its own QEMUs.

Longest first (ESTIMATE, seconds on the 2-core CI machine, measured), so
the lanes end together; short modules share one pytest run (BUNDLE). Each module's output is printed whole when it
ends; then the 20 slowest tests of all, each module's wall time, and one
pytest-style closing line: "N passed, N failed, N skipped, N errors".

Usage: tools/run-system-tests.py [pytest arguments, e.g. -k EXPR]
Exit status 0 when every module passed (or selected no test), else 1.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TESTS = os.path.join("tests", "system")
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")

# Modules that write or read build/iso and build/tftp (make iso tftp with
# other arguments, make router-demo, boots from those trees): one at a time.
TREE = {"test_workflow", "test_router", "test_boot", "test_pxe", "test_posix_net"}

# Seconds each module took in a serial `make test` on the CI machine
# (rounded; only the order matters). Unlisted modules count as 20.
ESTIMATE = {
    "test_router": 190, "test_posix_net": 170, "test_hostile": 150, "test_tso": 90,
    "test_firewall": 90, "test_restart": 90, "test_net": 90, "test_posix": 90,
    "test_hostile_dhcp": 65, "test_offload": 60, "test_workflow": 60,
    "test_hostile_servers": 50, "test_nic": 40, "test_kernel": 40, "test_fuzz": 35,
    "test_posix_console": 30, "test_console": 30, "test_posix_fork": 25, "test_pxe": 20,
    "test_boot": 20,
}

BUNDLE = 60

SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")
DURATION = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(\S+)")


def jobs_in_order():
    """The pytest runs: each a list of modules, longest first; modules
    estimated under BUNDLE seconds go together, up to BUNDLE seconds a
    run (one pytest start-up, scapy's import, for several), the TREE
    group's apart from the others'."""
    names = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, TESTS))
                   if f.startswith("test_") and f.endswith(".py"))
    names.sort(key=lambda n: -ESTIMATE.get(n, 20))
    jobs = [[n] for n in names if ESTIMATE.get(n, 20) >= BUNDLE]
    for tree in (True, False):
        bundle, secs = [], 0
        for n in names:
            if ESTIMATE.get(n, 20) < BUNDLE and (n in TREE) == tree:
                if bundle and secs + ESTIMATE.get(n, 20) > BUNDLE:
                    jobs.append(bundle)
                    bundle, secs = [], 0
                bundle.append(n)
                secs += ESTIMATE.get(n, 20)
        if bundle:
            jobs.append(bundle)
    return sorted(jobs, key=lambda j: -sum(ESTIMATE.get(n, 20) for n in j))


class Run:
    """One module's pytest: its output, counts, durations and wall time."""

    def __init__(self, names, args, tmp):
        self.names = names
        self.name = " ".join(names)
        self.tree = any(n in TREE for n in names)
        self.cmd = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=20",
                    f"--basetemp={os.path.join(tmp, names[0])}",
                    *[os.path.join(TESTS, n + ".py") for n in names], *args]
        self.proc = None
        self.out = ""
        self.rc = None
        self.seconds = 0.0

    def start(self):
        self.began = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def finish(self):
        self.out, _ = self.proc.communicate()
        self.rc = self.proc.returncode
        self.seconds = time.monotonic() - self.began

    def counts(self):
        """The numbers of pytest's closing line (the last line naming them)."""
        found = {}
        for line in self.out.splitlines():
            got = dict((w.rstrip("s") if w.startswith("error") else w, int(n))
                       for n, w in SUMMARY.findall(line))
            if got and ("passed" in got or "failed" in got or "error" in got or
                        "skipped" in got or "deselected" in got):
                found = got
        return found

    def durations(self):
        return [(float(m.group(1)), m.group(2), m.group(3))
                for m in map(DURATION.match, self.out.splitlines()) if m]

    def shown(self):
        """The output less its own slowest-durations section (all modules'
        are printed together at the end)."""
        lines, skipping = [], False
        for line in self.out.splitlines():
            if "slowest durations" in line:
                skipping = True
                continue
            if skipping and (DURATION.match(line) or not line.strip() or
                             "durations < 0.005s hidden" in line):
                continue
            skipping = False
            lines.append(line)
        return "\n".join(lines)


def main(args):
    try:
        jobs = int(os.environ.get("MICA_TEST_JOBS", "0")) or min(2, os.cpu_count() or 1)
    except ValueError:
        sys.exit("run-system-tests: MICA_TEST_JOBS must be a number")
    tmp = tempfile.mkdtemp(prefix="mica-system-tests-")
    queue = jobs_in_order()
    running, done = [], []
    began = time.monotonic()
    print(f"{sum(map(len, queue))} modules in {len(queue)} runs on {jobs} lane(s)", flush=True)

    def next_job():
        tree_busy = any(r.tree for r in running)
        for names in queue:
            if not (tree_busy and any(n in TREE for n in names)):
                queue.remove(names)
                return names
        return None

    def stop_all(signum, frame):
        for r in running:
            if r.proc and r.proc.poll() is None:
                r.proc.send_signal(signal.SIGINT)    # pytest ends its fixtures
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_all)
    try:
        while queue or running:
            while len(running) < jobs:
                names = next_job()
                if names is None:
                    break
                r = Run(names, args, tmp)
                r.start()
                running.append(r)
            # Wait for whichever ends first.
            while True:
                ended = [r for r in running if r.proc.poll() is not None]
                if ended:
                    break
                time.sleep(0.2)
            for r in ended:
                r.finish()
                running.remove(r)
                done.append(r)
                print(f"\n== {r.name} ({r.seconds:.0f} s, exit {r.rc})", flush=True)
                print(r.shown(), flush=True)
    except KeyboardInterrupt:
        for r in running:
            if r.proc.poll() is None:
                r.proc.send_signal(signal.SIGINT)
        for r in running:
            try:
                r.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                r.proc.kill()
                r.proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)

    wall = time.monotonic() - began
    total = {}
    for r in done:
        for k, v in r.counts().items():
            total[k] = total.get(k, 0) + v
    print("\n=========================== slowest 20 system tests ===========================")
    for secs, phase, test in sorted((d for r in done for d in r.durations()), reverse=True)[:20]:
        print(f"{secs:7.2f}s {phase:8} {test}")
    print("\n=========================== each run's wall time ==============================")
    for r in sorted(done, key=lambda r: -r.seconds):
        print(f"{r.seconds:7.1f}s {r.name}")
    bad = [r.name for r in done if r.rc not in (0, 5)]
    if bad:
        print("\nmodules that failed: " + " ".join(bad))
    # A module that crashed without a closing line still counts as a failure.
    failed = total.get("failed", 0)
    if bad and failed + total.get("error", 0) == 0:
        failed = len(bad)
    print(f"\n{total.get('passed', 0)} passed, {failed} failed, {total.get('skipped', 0)} skipped, "
          f"{total.get('error', 0)} errors in {wall:.1f}s ({jobs} lanes)")
    if not done or all(r.rc == 5 for r in done):
        return 5
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
