#!/usr/bin/env python3
"""The system tests (tests/system/test_*.py), a module (or a few short
ones) per pytest run, on JOBS lanes at once (MICA_TEST_JOBS, default 2
where there are 2 cores or more; 1 runs them one after the other).

Most of a system test's time is one single-threaded QEMU (TCG) or a wait
on the guest's clock (lease timers, reassembly timeouts, restarts), so
two modules side by side take about one core each. A module that sends
as fast as the guest takes (HEAVY) runs alone: its QEMU's I/O thread and
the host's senders need both cores, and its checks of rates and losses
(a router's UDP at 95%, pings without loss) must not depend on what runs
beside it; the lanes take the others first, then the HEAVY ones one by
one. Tests
that rebuild the build tree's ISO and TFTP tree (`make iso tftp` with
other arguments, `make router-demo`: WRITERS) run beside nothing that
boots from those trees or reads them (READERS), nor beside each other.
Every module keeps what it is: its own namespaces (named by its pytest's
PID), its own temporary directory (--basetemp), its own QEMUs.

Longest first (ESTIMATE: seconds each took in a two-lane run on a shared
2-core host, 2026-12-02; only the order matters), so the lanes end
together; modules estimated under BUNDLE seconds share one pytest run
(one start-up, one import of scapy). Each run's output is printed whole
when it ends; then the 20 slowest tests of all, each run's wall time,
and one pytest-style closing line:
"N passed, N failed, N skipped, N errors".

Usage: tools/run-system-tests.py [pytest arguments, e.g. -k EXPR]
Exit status 0 when every run passed (or selected no test), 5 when no run
selected a test, else 1.
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

# Tests that remake build/iso and build/tftp, and modules that boot from
# them or read them.
ROUTER_DEMO = "test_router.py::test_make_router_demo_boots_by_pxe_and_routes"
WRITERS = {"test_workflow", ROUTER_DEMO}
READERS = {"test_boot", "test_pxe", "test_posix_net", "test_posix_udp_send"}
# Modules that drive traffic as fast as the guest takes it (iperf3, 16 MiB
# transfers, floods): each runs alone, after the others (their QEMU's I/O
# thread and the host's senders need more than one core, and their rate
# and loss checks must not depend on a neighbour).
HEAVY = {"test_router", "test_posix_net", "test_tso", "test_offload", "test_net",
         "test_restart", "test_firewall", "test_tx_heap", "test_posix_udp_send",
         "test_clock"}

ESTIMATE = {
    "test_posix_hogs": 60,
    "test_posix_net": 286, "test_hostile": 217, "test_router": 195, "test_posix": 215,
    "test_workflow": 167, "test_restart": 130, "test_pxe": 120, "test_tso": 119,
    "test_firewall": 100, "test_net": 85, "test_hostile_dhcp": 65, "test_fuzz": 63,
    "test_hostile_servers": 61, "test_offload": 60, "test_boot": 60, "test_posix_console": 45,
    "test_posix_fork": 45, "test_posix_load": 45, "test_nic": 50, ROUTER_DEMO: 44, "test_console": 32,
    "test_posix_time": 25, "test_kernel": 20, "test_init": 28, "test_posix_threads": 20,
    "test_logs": 15, "test_posix_memory": 14, "test_posix_runlist": 12, "test_clock": 36,
    "test_socket_clients": 8, "test_rx_lend": 35, "test_tx_heap": 45, "test_tx_stage": 20, "test_tx_lend": 50, "test_icmp_limit": 6, "test_bench_report": 20, "test_config": 3,
    "test_posix_udp_send": 60,
    "test_rootfs_debs": 2,
    "test_tcp_segments": 120,
}
DEFAULT_ESTIMATE = 20
BUNDLE = 60

SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")
DURATION = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(.+)$")


def role(unit):
    return "write" if unit in WRITERS else "read" if unit in READERS else None


def heavy(units):
    return any(u in HEAVY for u in units)


def unit_args(unit):
    """A unit's pytest arguments: a module, or one test (ROUTER_DEMO,
    which its module's run leaves out)."""
    if "::" in unit:
        return [os.path.join(TESTS, unit)]
    args = [os.path.join(TESTS, unit + ".py")]
    if unit == "test_router":
        args += ["--deselect", os.path.join(TESTS, ROUTER_DEMO)]
    return args


def jobs_in_order():
    """The pytest runs, each a list of units, longest first; short ones
    go together (up to BUNDLE seconds), each run's units of one role."""
    units = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, TESTS))
                   if f.startswith("test_") and f.endswith(".py"))
    if "test_router" in units:
        units.append(ROUTER_DEMO)
    est = lambda u: ESTIMATE.get(u, DEFAULT_ESTIMATE)
    units.sort(key=lambda u: -est(u))
    jobs = [[u] for u in units if est(u) >= BUNDLE]
    for r, h in (("write", False), ("read", False), (None, False), (None, True)):
        bundle, secs = [], 0
        for u in units:
            if est(u) < BUNDLE and role(u) == r and heavy([u]) == h:
                if bundle and secs + est(u) > BUNDLE:
                    jobs.append(bundle)
                    bundle, secs = [], 0
                bundle.append(u)
                secs += est(u)
        if bundle:
            jobs.append(bundle)
    return sorted(jobs, key=lambda j: -sum(map(est, j)))


class Run:
    """One module's pytest: its output, counts, durations and wall time."""

    def __init__(self, units, args, tmp, number):
        self.name = " ".join(units)
        self.role = role(units[0])
        self.heavy = heavy(units)
        self.cmd = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=20",
                    f"--basetemp={os.path.join(tmp, str(number))}",
                    *[a for u in units for a in unit_args(u)], *args]
        self.proc = None
        self.out = ""
        self.rc = None
        self.seconds = 0.0

    def start(self):
        self.began = time.monotonic()
        # Into a file, not a pipe: nobody reads a run's output until it
        # ends, and a run that wrote more than a pipe holds (64 KiB: a
        # few failures' assertion messages) waited for ever.
        self.log = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def finish(self):
        self.proc.wait()
        self.log.seek(0)
        self.out = self.log.read()
        self.log.close()
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
    print(f"system tests: {len(queue)} pytest runs on {jobs} lanes", flush=True)

    def next_job():
        roles = {r.role for r in running}
        busy = any(r.heavy for r in running)
        for units in queue:
            r = role(units[0])
            if r == "write" and roles & {"write", "read"} or r == "read" and "write" in roles:
                continue
            if busy or heavy(units) and running:
                continue
            queue.remove(units)
            return units
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
                units = next_job()
                if units is None:
                    break
                r = Run(units, args, tmp, len(done) + len(running))
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
