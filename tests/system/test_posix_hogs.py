"""Hogs of the POSIX server's memory and tables (tests/posix/hogs.c, Mica
only; docs/posix.md, "Limits"): what a process fails to send leaves no
page behind, and one account that takes all it may have of memory and of
the tables leaves the others room (issue 18: "each process's memory is
charged and bounded; hostile processes ... the server and the other
processes carry on")."""
import re

from posix_runs import MEMORY, run_list


def test_posix_failed_datagram_sends_leave_no_memory(tmp_path):
    """100 AF_UNIX datagram sends of 200 KiB that fault in their last page
    (EFAULT part way through the copy into the receiver's queue), each
    socketpair closed: the queue's pages are given back (they were kept
    for good: 20 MiB in use after the 100)."""
    out = run_list(tmp_path, "posix-hogs-dgram", [("hogs-musl", ["dgram", "100"])], memlog=True)
    assert re.search(r"^dgram: 100 sends, 100 EFAULT$", out, re.M), out
    memory = [tuple(map(int, m)) for m in MEMORY.findall(out)]
    assert len(memory) == 2, out
    assert memory[0][0] == 0 and memory[1][0] == 0, memory

