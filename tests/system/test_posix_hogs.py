"""Hogs of the POSIX server's memory and tables (tests/posix/hogs.c, Mica
only; docs/posix.md, "Limits"): what a process fails to send leaves no
page behind, and one account that takes all it may have of memory and of
the tables leaves the others room (issue 18: "each process's memory is
charged and bounded; hostile processes ... the server and the other
processes carry on")."""
import contextlib
import re

from posix_runs import MEMORY, run_list
from qemu import boot_init, build_path

CONSOLE_MANIFEST = """program posix-server priority=90 quota=40960 memory=65536
    file rootfs
    ioports 0x70-0x71
program console priority=160 control=yes
    irq 4
"""


@contextlib.contextmanager
def console_boot(tmp_path, name, manifest=CONSOLE_MANIFEST, memory="256M"):
    """The POSIX server and the console booted, both ready: the Qemu."""
    modules = [(build_path("posix-server.elf"), "posix-server"),
               (build_path("posix", "rootfs.cpio"), "rootfs"),
               (build_path("appliance", "console.elf"), "console")]
    with boot_init(tmp_path, manifest, modules, name, memory=memory) as q:
        q.wait_for(r"^posix: ready; ")
        q.wait_for(r"^console: ready; type help$")
        yield q


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


def test_posix_one_account_hogs_memory_and_tables_others_carry_on(tmp_path):
    """A keeper started from the console takes its account's share of the
    server's memory (64 MiB here) and of its timerfds, POSIX timers,
    connections waiting for accept and netlink queue pages, and stops at
    the share; another program meanwhile touches 4 MiB, uses a pipe,
    makes one of each and dumps the links. Before each was shared out the
    other program was killed (out of memory) or refused (ENFILE,
    EAGAIN, ENOBUFS)."""
    with console_boot(tmp_path, "posix-hogs") as q:
        mark = q.mark()
        q.send("run hogs-musl hold")
        pid = q.wait_for(r"^hogs: holding \(pid (\d+)\)$", timeout=240, since=mark).group(1)
        lines = [line.strip() for line in q.output().splitlines()[mark:]]
        # 3/4 of 64 MiB at most (a process's other pages count too).
        m = [re.fullmatch(r"memory: (\d+) MiB, then EFAULT", x) for x in lines]
        m = [x for x in m if x]
        assert m and 30 <= int(m[0].group(1)) <= 48, lines
        assert "timerfds: 48, then EMFILE" in lines, lines
        assert "POSIX timers: 32 + 16, then EAGAIN" in lines, lines
        assert "connections waiting: 24, then EAGAIN" in lines, lines
        assert "netlink sockets filled: 5" in lines, lines
        mark = q.mark()
        q.send("run hogs-musl check")
        q.wait_for(r"^console: hogs-musl \(pid \d+\) exited with status 0$", timeout=120,
                   since=mark)
        lines = q.output().splitlines()[mark:]
        assert ("check: 4 MiB touched yes, pipe yes, timerfd yes, timer yes, unix connect yes, "
                "link dump yes" in lines), lines
        assert not any("out of memory" in x for x in lines), lines
        mark = q.mark()
        q.send(f"kill {pid}")
        q.wait_for(r"^hogs: released$", timeout=120, since=mark)


def test_posix_memory_init_cannot_give_is_said(tmp_path):
    """The machine's RAM (QEMU's -m 128M, the root filesystem half of it)
    runs out before the keeper's share of memory=: the server says that
    init gave no more and what it holds, once and then at most a line a
    second, not only the process's EFAULT or SIGKILL (it said nothing)."""
    manifest = CONSOLE_MANIFEST.replace("quota=40960", "quota=8192")
    with console_boot(tmp_path, "posix-hogs-ram", manifest, memory="128M") as q:
        mark = q.mark()
        q.send("run hogs-musl hold")
        m = q.wait_for(r"^posix: memory: no 4 MiB more from init after (\d+) runs \((\d+) MiB; "
                       r"memory= 64 MiB\): (.+) \(see the console's mem; docs/posix\.md, "
                       r"\"Room for more\"\)$", timeout=240, since=mark)
        q.wait_for(r"^hogs: holding \(pid \d+\)$|killed by signal 9$", timeout=240, since=mark)
        lines = q.output().splitlines()[mark:]
        said = [x for x in lines if x.startswith("posix: memory: no 4 MiB more")]
        assert 1 <= len(said) <= 12, said
    print(f"posix: init gave no more memory after {m.group(2)} MiB: said "
          f"({len(said)} lines: {m.group(3)})")


def test_posix_one_account_hogs_queues_others_carry_on(tmp_path):
    """A keeper takes its account's share of memory, then fills AF_UNIX
    datagram queues (200 KiB each) and pipes (64 KiB each) with the
    server's pages: those are charged to its account too, so it stops at
    its share and another program still starts and touches 4 MiB.
    Before, the queues' pages were charged to nobody: 55 of them after
    the memory made the other program fail ("cannot start: out of
    memory")."""
    with console_boot(tmp_path, "posix-hogs-queues") as q:
        mark = q.mark()
        q.send("run hogs-musl queues")
        pid = q.wait_for(r"^hogs: holding \(pid (\d+)\)$", timeout=240, since=mark).group(1)
        lines = [line.strip() for line in q.output().splitlines()[mark:]]
        m = [re.fullmatch(r"datagram queues: (\d+), then (\S+)", x) for x in lines]
        m = [x for x in m if x]
        assert m and m[0].group(2) != "-", lines      # stopped before 200
        mark = q.mark()
        q.send("run hogs-musl check")
        q.wait_for(r"^console: hogs-musl \(pid \d+\) exited with status 0$", timeout=120,
                   since=mark)
        lines = q.output().splitlines()[mark:]
        assert any(x.startswith("check: 4 MiB touched yes") for x in lines), lines
        assert not any("out of memory" in x for x in lines), lines
        mark = q.mark()
        q.send(f"kill {pid}")
        q.wait_for(r"^hogs: released$", timeout=120, since=mark)


def test_posix_full_memory_share_makes_writes_wait(tmp_path):
    """A thread of one account takes its share of memory; another's
    writes that need a page of it wait as for a full buffer: a
    non-blocking pipe write and datagram send are EAGAIN with no POLLOUT,
    a blocking write is interrupted by a signal (EINTR) or restarted
    (SA_RESTART) and goes in when the memory is given back, which wakes a
    poll for POLLOUT too. Alone, a thread that holds the share itself
    gets ENOMEM at once (nothing would wake it). Before, every such write
    was ENOMEM."""
    out = run_list(tmp_path, "posix-hogs-wait", [("hogs-musl", ["wait"])], timeout=300)
    lines = [line.strip() for line in out.splitlines()]
    m = [re.fullmatch(r"wait: memory (\d+) MiB; (.*)", x) for x in lines]
    m = [x for x in m if x]
    assert m and 30 <= int(m[0].group(1)) <= 48, lines
    assert m[0].group(2) == ("nonblocking pipe write EAGAIN, datagram send EAGAIN; "
                             "POLLOUT pipe no, datagram no"), lines
    assert "wait: blocking write EINTR after the alarm" in lines, lines
    # The alarm (SA_RESTART) came while it waited.
    assert any(re.fullmatch(r"wait: with SA_RESTART: 1 after 300\+ ms, alarms [1-9]", x)
               for x in lines), lines
    assert "wait: poll POLLOUT yes after 300+ ms, send 1" in lines, lines
    assert ("wait: alone: pipes filled until ENOMEM, blocking pipe write ENOMEM, "
            "datagram send ENOMEM, POLLOUT pipe yes" in lines), lines
    assert not any("out of memory" in x for x in lines), lines
