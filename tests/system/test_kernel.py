"""Kernel tests: tests/kernel/*.c run as the root task of the test kernel
in QEMU. One boot runs them all; each KTEST is reported as its own pytest
test. `make ktest T=name` runs one directly."""
import glob
import os
import re

import pytest

from qemu import EXIT_FAIL, EXIT_PASS, ROOT, Qemu, build_path

SOURCES = sorted(glob.glob(os.path.join(ROOT, "tests", "kernel", "*.c")))
NAMES = [name for src in SOURCES
         for name in re.findall(r"^KTEST\((\w+)\)", open(src).read(), re.M)]


# The whole suite runs twice: with the IPC fast path, and with every IPC
# on the general path (`nofastpath`).
@pytest.fixture(scope="module", params=["fastpath", "nofastpath"])
def ktest_run(request):
    cmdline = "root=ktest" + (" nofastpath" if request.param == "nofastpath" else "")
    args = ["-kernel", build_path("kernel-test.elf"), "-append", cmdline,
            "-initrd", f"{build_path('ktest.elf')} ktest"]
    with Qemu(args, name=f"ktest-{request.param}", test_device=True) as q:
        q.wait_for(r"^ktest: \d+ passed, \d+ failed$", timeout=180)
        status = q.wait_exit(timeout=60)
        yield q.output(), status, request.param


def test_kernel_suite_completes(ktest_run):
    out, status, mode = ktest_run
    summary = re.search(r"^ktest: (\d+) passed, (\d+) failed$", out, re.M)
    assert summary, out
    assert int(summary.group(1)) + int(summary.group(2)) == len(NAMES), out
    assert status == EXIT_PASS, f"QEMU exit status {status}\n{out}"
    hits = int(re.search(r"IPC fast path taken (\d+) times", out).group(1))
    if mode == "fastpath":
        assert hits > 10000, out      # the stress test's calls take it
    else:
        assert hits == 0, out


def test_kernel_fault_lines_are_rate_limited(ktest_run):
    # unhandled_fault_lines_are_rate_limited faults 202 times without a
    # handler within a few seconds: the kernel prints a burst, then one
    # line a second, and says how many it held back.
    out, _, _ = ktest_run
    faults = re.findall(r"\] fault: thread ktest-child", out)
    held = [int(n) for n in re.findall(r"\] fault: \(last message repeated (\d+) times\)", out)]
    assert len(faults) < 40, out
    assert held and sum(held) + len(faults) >= 202, out


def test_first_idle_alone():
    # The kernel's first switch to idle is the one that once kept a
    # reference to the thread before it: run that test where it is first.
    name = "first_idle_releases_the_thread_before_it"
    args = ["-kernel", build_path("kernel-test.elf"), "-append", f"root=ktest ktest={name}",
            "-initrd", f"{build_path('ktest.elf')} ktest"]
    with Qemu(args, name="ktest-first-idle", test_device=True) as q:
        q.wait_for(rf"^ktest {name}: (OK|FAIL)$", timeout=60)
        assert f"ktest {name}: OK" in q.output(), q.output()
        assert q.wait_exit(timeout=60) == EXIT_PASS


def test_root_task_fault_ends_the_run():
    # The kernel-test program has no pager: a fault of its thread must end
    # the run with a failure line and status (it once left QEMU idle until
    # the harness timed out). `ktestfault` makes it write to address 0.
    args = ["-kernel", build_path("kernel-test.elf"), "-append", "root=ktest ktestfault",
            "-initrd", f"{build_path('ktest.elf')} ktest"]
    with Qemu(args, name="ktest-fault", test_device=True) as q:
        q.wait_for(r"root task: thread ktest stopped: no exception handler", timeout=60)
        assert q.wait_exit(timeout=30) == EXIT_FAIL
        out = q.output()
        assert re.search(r"fault: thread ktest \(task ktest\): exception 14 .* address 0,", out), out
        assert "still running after the fault" not in out, out


def test_fpu_state_without_xsave():
    # Booted `noxsave`, the kernel switches FPU state with fxsave/fxrstor,
    # its xsave64/xrstor64 rewritten at boot (kernel/arch/x86_64/fpu.c),
    # as on a CPU without XSAVE: x87/SSE state still follows each thread.
    names = ["thread_fpu_state_read_write", "redirect_args_fpu_state_kept",
             "thread_registers_read_write", "exception_handler_sets_registers"]
    for name in names:
        assert name in NAMES, name
    args = ["-kernel", build_path("kernel-test.elf"), "-append",
            f"root=ktest noxsave ktest={','.join(names)}",
            "-initrd", f"{build_path('ktest.elf')} ktest"]
    with Qemu(args, name="ktest-noxsave", test_device=True) as q:
        q.wait_for(r"^ktest: \d+ passed, \d+ failed$", timeout=120)
        out = q.output()
        assert "cpu: FPU state by fxsave (noxsave)" in out, out
        assert f"ktest: {len(names)} passed, 0 failed" in out, out
        assert q.wait_exit(timeout=60) == EXIT_PASS


@pytest.mark.parametrize("name", NAMES)
def test_kernel(ktest_run, name):
    out, _, _ = ktest_run
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line == f"ktest {name}: OK":
            return
        if line == f"ktest {name}: FAIL":
            details = [l for l in lines[max(0, i - 20):i] if l.startswith("    ")]
            pytest.fail("\n".join(details) or "failed")
    pytest.fail(f"ktest {name} did not report; console:\n{out}")
