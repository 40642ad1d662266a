"""fork with copy-on-write in the POSIX server, Mica only (the same
programs run differentially against Linux in test_posix.py): many
fork/exit/wait cycles and forks of a big heap must give back every page
and every byte of kernel quota they took. The server logs its memory
(pages in use, pages kept from init) and its kernel quota in use before
each program of its run list and after the last (`memlog=1`)."""
import re

from posix_runs import MEMORY, run_list

# A warm-up (the server's first processes; each program's file read from
# the root filesystem once, which maps the boot module's pages into the
# server), forks of an 8 MiB heap with each libc, then 1000 cycles with
# each, and dynamically linked (its libraries' pages shared from the file
# cache, which must let them go too).
RUNS = [("cow-musl", ["cycles", "1"]), ("cow-glibc", ["cycles", "1"]), ("cow-dyn", ["cycles", "1"]),
        ("cow-musl", []), ("cow-glibc", []), ("cow-musl", ["cycles", "1000"]),
        ("cow-glibc", ["cycles", "1000"]), ("cow-dyn", ["cycles", "1000"])]
# The memory logged before this run of RUNS and every later one must be
# the same (after the first forks of the big heap with each libc: the
# glibc one may touch a page of the server's own data for the first time,
# one mapping's kernel quota, 80 bytes, kept for good: seen once the
# server's records changed size, likely a process or thread slot used for
# the first time). Three runs of 1000 fork/exit/wait cycles then leave it
# as it was.
STEADY_FROM = 5
# Then out of memory: 40 MiB touched (far more pages than a process's
# kernel quota maps at once) and a child that writes all of them, with
# 64 MiB for every process together: the child cannot have its copies.
BIG = [("cow-musl", ["big", "20"]), ("cow-musl", ["big", "40"]), ("cow-musl", ["cycles", "10"])]


def test_posix_fork_cycles_and_cow_give_back_memory_and_quota(tmp_path):
    out = run_list(tmp_path, "posix-fork", RUNS + BIG, memlog=True)
    assert len(re.findall(r"^1000 fork/exit/wait cycles: 1000 right$", out, re.M)) == 3, out
    assert len(re.findall(r"^the child saw its own writes, not the parent's: yes$", out,
                          re.M)) == 2, out
    before_big = out[:out.index("big: 20 MiB touched")]
    assert not re.search(r"out of memory|SIGKILL|SIGSEGV", before_big), out
    memory = [tuple(map(int, m)) for m in MEMORY.findall(out)]
    assert len(memory) == len(RUNS + BIG) + 1, out
    # Nothing in use between programs; after the first forks of the big
    # heap (which the reserve grows for) the reserve and the quota stay
    # where they were, however many forks come after.
    assert all(used == 0 for used, _, _ in memory), memory
    steady = [m[1:] for m in memory[STEADY_FROM:len(RUNS) + 1]]
    assert len(steady) == 4 and all(m == steady[0] for m in steady), memory
    # 20 MiB and a copy of it fit; 40 MiB and a copy do not: the child
    # is killed as Linux's OOM killer would, the parent's memory is intact,
    # the server carries on (the next program forks), nothing is left.
    after = out[out.index("big: 20 MiB touched"):]
    assert re.search(r"^big: the child exited 0$", after, re.M), after
    assert re.search(r"^posix: cow-musl \(pid \d+\): out of memory at [0-9a-f]+ "
                     r"\(ip [0-9a-f]+, write\): SIGKILL$", after, re.M), after
    assert re.search(r"^big: the child was killed by signal 9$", after, re.M), after
    assert len(re.findall(r"^big: the parent's memory as it was: 1$", after, re.M)) == 2, after
    assert re.search(r"^10 fork/exit/wait cycles: 10 right$", after, re.M), after
    assert memory[-1][0] == 0, memory


# Past the process limit (tests/posix/manyprocs.c `limit`): each run list
# entry is an account of its own, which may have SHARE(PROCESS_MAX) = 96
# processes at once (docs/posix.md, "Limits"): the program and 95 waiting
# children, then fork is EAGAIN. All reaped, a pipeline of 40 exec'd
# processes runs right, and the last run (musl's again, once the server's
# reserve has grown for the others) gives back every page and byte of
# kernel quota it took.
#
# First, 20 processes exec'd from the static glibc manyprocs at once hold
# less than half its size each: their program's pages are the file
# cache's, shared, not copied into each (docs/posix.md, "Memory").
LIMIT = [("manyprocs-glibc", ["execmem"]),
         ("manyprocs-musl", ["limit"]), ("manyprocs-glibc", ["limit"]),
         ("manyprocs-dyn", ["limit"]), ("manyprocs-musl", ["limit"])]


def test_posix_fork_past_the_process_limit_is_eagain(tmp_path):
    out = run_list(tmp_path, "posix-limit", LIMIT, memlog=True)
    assert re.search(r"^20 exec'd processes: 20 started, 20 reaped$", out, re.M), out
    assert re.search(r"^each holds less than half its program's size: yes$", out, re.M), out
    assert len(re.findall(r"^forks until one failed: 95, then EAGAIN$", out, re.M)) == 4, out
    assert len(re.findall(r"^reaped: 95$", out, re.M)) == 4, out
    assert len(re.findall(r"^then a pipeline of 40 processes: 100 of 100 numbers right$", out,
                          re.M)) == 4, out
    assert not re.search(r"out of memory|SIGKILL|SIGSEGV|cannot start", out), out
    memory = [tuple(map(int, m)) for m in MEMORY.findall(out)]
    assert len(memory) == len(LIMIT) + 1, out
    assert all(used == 0 for used, _, _ in memory), memory
    assert memory[-2] == memory[-1], memory
