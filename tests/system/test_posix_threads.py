"""Threads in the POSIX server, Mica only (tests/posix/threads.c runs
differentially against Linux in test_posix.py): a process that creates
threads until it cannot gets EAGAIN or ENOMEM, joins them all and makes
one more, and the server carries on; thousands of pthread_create and
pthread_join cycles, and children whose thread faults (every thread of
theirs ends with them), give back every page and every byte of kernel
quota they took. The server logs its memory and kernel quota before each
program of its run list and after the last (`memlog=1`), as in
test_posix_fork.py. The server's lines about the crashes are
rate-limited per account: a program whose children crash in a loop
cannot flood the console."""
import re
import time

from posix_runs import MEMORY, run_list

# Warm-up (each program's file read once, the server's tables grown to
# their size: the first fork's kernel objects too, and — the first
# `limit` — every record of its thread table touched, whose pages the
# server's pager maps, charged to its kernel quota, at their first use:
# which run first touches which page depends on where the linker put
# the table; and two runs of 20 children's crashes: their ends are
# logged rate-limited, and the first line let through after lines were
# held comes with a summary, deeper in the server's stack: one page more
# of it, 80 bytes of quota for its mapping, touched once and kept), the
# limits, then the cycles: from STEADY_FROM on, the memory logged before
# each run and after the last must not change.
RUNS = [("threads-musl", ["cycles", "1"]), ("threads-glibc", ["cycles", "1"]),
        ("threads-dyn", ["cycles", "1"]), ("threads-musl", ["crashes", "20"]),
        ("threads-musl", ["limit"]), ("threads-glibc", ["limit"]),
        ("threads-dyn", ["cycles", "300"]), ("threads-glibc", ["crashes", "20"]),
        ("threads-musl", ["cycles", "1000"]), ("threads-glibc", ["cycles", "1000"]),
        ("threads-dyn", ["cycles", "300"]), ("threads-musl", ["crashes", "20"]),
        ("threads-glibc", ["crashes", "20"]), ("threads-musl", ["limit"])]
STEADY_FROM = 8
RATELIMIT_BURST = 10    # include/lib/ratelimit.h


def test_posix_threads_limit_and_cycles_give_back_memory_and_quota(tmp_path):
    out = run_list(tmp_path, "posix-threads", RUNS, memlog=True)
    assert len(re.findall(r"^threads until it failed: more than 10: yes, then EAGAIN or ENOMEM$",
                          out, re.M)) == 3, out
    assert len(re.findall(r"^all were joined$", out, re.M)) == 3, out
    assert len(re.findall(r"^one more after them: 0$", out, re.M)) == 3, out
    assert len(re.findall(r"^1000 thread create/join cycles: 1000 right$", out, re.M)) == 2, out
    assert re.search(r"^300 thread create/join cycles: 300 right$", out, re.M), out
    crashes = [int(args[1]) for _, args in RUNS if args[0] == "crashes"]
    assert len(re.findall(r"^20 children killed by a thread's fault: 20 right$", out, re.M)) == \
        crashes.count(20), out
    # Logged by the server with the fault's address, up to the account's
    # burst (RATELIMIT_BURST, 10) at once: each run is an account.
    faults = len(re.findall(r"^posix: threads-\w+ \(pid \d+\): page fault at 0 ", out, re.M))
    assert sum(min(n, RATELIMIT_BURST) for n in crashes) <= faults <= sum(crashes), out
    assert not re.search(r"out of memory", out), out
    memory = [tuple(map(int, m)) for m in MEMORY.findall(out)]
    assert len(memory) == len(RUNS) + 1, out
    assert all(used == 0 for used, _, _ in memory), memory
    steady = [m[1:] for m in memory[STEADY_FROM:]]
    assert len(steady) == len(RUNS) + 1 - STEADY_FROM and all(m == steady[0] for m in steady), memory


def test_posix_crashing_children_are_logged_rate_limited(tmp_path):
    """200 children that crash one after another: a burst of the server's
    lines, then one a second, and a summary of those held; the next
    program (another account) has its line at once."""
    start = time.monotonic()
    out = run_list(tmp_path, "posix-crashlog", [("threads-musl", ["crashes", "200"]),
                                                ("threads-glibc", ["crashes", "1"])])
    seconds = time.monotonic() - start        # the guest's time is no longer
    assert re.search(r"^200 children killed by a thread's fault: 200 right$", out, re.M), out
    flood = re.findall(r"^posix: threads-musl \(pid \d+\): page fault at 0 ", out, re.M)
    print(f"200 crashes in {seconds:.1f} s: {len(flood)} lines")
    assert RATELIMIT_BURST <= len(flood) <= RATELIMIT_BURST + seconds + 1, out
    if len(flood) > RATELIMIT_BURST:
        assert re.search(r"^posix: \(last message repeated \d+ times\)$", out, re.M), out
    assert re.search(r"^posix: threads-glibc \(pid \d+\): page fault at 0 ", out, re.M), out
