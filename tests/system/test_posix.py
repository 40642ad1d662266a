"""The POSIX server: the same static Linux binaries (tests/posix/, built
with musl and with glibc) run on the host's Linux and on Mica must print
the same lines and end the same way. One boot runs them all in turn.
On the host a program's standard output is a terminal (a pty), as Mica's
console is, so that libc buffers it the same way on both."""
import os
import pty
import re
import select
import signal
import subprocess
import time

import pytest

from posix_runs import MEMORY, run_list
from qemu import BUILD, boot_init, build_path

# (program, arguments): each as posix-server/programs.list builds it.
RUNS = [
    ("hello-musl", ["one", "two"]),
    ("hello-glibc", ["one", "two"]),
    ("basics-musl", ["alpha", "beta"]),
    ("basics-glibc", ["alpha", "beta"]),
    ("basics-glibc-pie", []),
    ("faults-musl", ["segv"]),
    ("faults-glibc", ["ill"]),
    ("faults-glibc", ["ro"]),
    ("files-musl", []),
    ("files-glibc", []),
    ("hello-dyn", ["one", "two"]),
    ("basics-dyn", ["gamma"]),
    ("files-dyn", []),
    ("procs-musl", []),
    ("procs-glibc", []),
    ("procs-dyn", []),
    ("cow-musl", []),
    ("cow-glibc", []),
    ("cow-dyn", []),
    ("manyprocs-musl", []),
    ("manyprocs-glibc", []),
    ("manyprocs-dyn", []),
    ("signals-musl", []),
    ("signals-glibc", []),
    ("signals-dyn", []),
    ("sigfault-musl", []),
    ("sigfault-glibc", []),
    ("sigfault-dyn", []),
    ("stops-musl", []),
    ("stops-glibc", []),
    ("stops-dyn", []),
    ("poll-musl", []),
    ("poll-glibc", []),
    ("poll-dyn", []),
    ("jobs-musl", []),
    ("jobs-glibc", []),
    ("jobs-dyn", []),
    ("pty-musl", []),
    ("pty-glibc", []),
    ("pty-dyn", []),
    ("threads-musl", []),
    ("threads-glibc", []),
    ("threads-dyn", []),
    ("eventfd-musl", []),
    ("eventfd-glibc", []),
    ("eventfd-dyn", []),
    ("waitid-musl", []),
    ("waitid-glibc", []),
    ("waitid-dyn", []),
    ("sysfiles-musl", []),
    ("sysfiles-glibc", []),
    ("sysfiles-dyn", []),
    ("procfd-musl", []),
    ("procfd-glibc", ["one", "two"]),
    ("procfd-dyn", []),
    ("unix-musl", []),
    ("unix-glibc", []),
    ("unix-dyn", []),
    ("shmem-musl", []),
    ("shmem-glibc", []),
    ("shmem-dyn", []),
    ("vdso-musl", []),
    ("vdso-glibc", []),
    ("vdso-dyn", []),
    ("cpu-musl", []),
    ("cpu-glibc", []),
    ("cpu-dyn", []),
    ("realtime-musl", []),
    ("realtime-glibc", []),
    ("realtime-dyn", []),
    ("mapfile-musl", []),
    ("mapfile-glibc", []),
    ("mapfile-dyn", []),
    ("mremap-musl", []),
    ("mremap-glibc", []),
    ("mremap-dyn", []),
    ("procinfo-musl", []),
    ("procinfo-glibc", []),
    ("procinfo-dyn", []),
    ("dgram-musl", []),
    ("dgram-glibc", []),
    ("dgram-dyn", []),
    ("epollet-musl", []),
    ("epollet-glibc", []),
    ("epollet-dyn", []),
    ("sendfile-musl", []),
    ("sendfile-glibc", []),
    ("sendfile-dyn", []),
    ("pshared-musl", []),
    ("pshared-glibc", []),
    ("pshared-dyn", []),
    ("pifutex-musl", []),
    ("pifutex-glibc", []),
    ("pifutex-dyn", []),
    ("xstate-musl", []),
    ("xstate-glibc", []),
    ("xstate-dyn", []),
    ("requeuepi-musl", []),
    ("requeuepi-glibc", []),
    ("requeuepi-dyn", []),
    ("splice-musl", []),
    ("splice-glibc", []),
    ("splice-dyn", []),
    ("seqpacket-musl", []),
    ("seqpacket-glibc", []),
    ("seqpacket-dyn", []),
    ("ptypkt-musl", []),
    ("ptypkt-glibc", []),
    ("ptypkt-dyn", []),
    ("timerfd-musl", []),
    ("timerfd-glibc", []),
    ("timerfd-dyn", []),
    ("timers-musl", []),
    ("timers-glibc", []),
    ("timers-dyn", []),
    ("filetimes-musl", []),
    ("filetimes-glibc", []),
    ("filetimes-dyn", []),
    ("links-musl", []),
    ("links-glibc", []),
    ("links-dyn", []),
    ("prio-musl", []),
    ("prio-glibc", []),
    ("prio-dyn", []),
    ("prctl-musl", []),
    ("prctl-glibc", []),
    ("prctl-dyn", []),
    ("echo", ["hello", "from", "Debian", "coreutils"]),
    ("busybox", ["sh", "-c", "echo a; echo b | busybox cat"]),
    ("busybox", ["sh", "-c", "x=$(busybox echo sub); echo $x; exit 3"]),
    # busybox's ln, mkfifo, mknod, stat on the files they make, in a
    # directory of their own under /tmp (no single quotes inside: the run
    # list quotes an argument with them)
    ("busybox", ["sh", "-c", "d=/tmp/mica-bb-$$; busybox mkdir $d && cd $d && echo data > a && "
                 "busybox ln a b && busybox ln -s b s && busybox rm a && busybox cat s && "
                 "busybox stat -c \"%n %h %F\" b s && busybox mkfifo -m 600 f && "
                 "busybox stat -c \"%n %a %F\" f && { echo through > f & busybox cat f; wait; } && "
                 "busybox mknod n c 1 3 && busybox stat -c \"%n %t:%T %F\" n && echo x > n && "
                 "busybox link b c && busybox ls -1 && cd / && busybox rm -r $d"]),
]
# Programs of Debian's packages (posix-server/programs.list), run on the
# host from where the build unpacked them.
DEBIAN = {"echo": ("coreutils", "bin/echo"), "busybox": ("busybox-static", "bin/busybox")}
# The environment the server gives every process (posix-server/main.c).
ENV = {"HOME": "/", "PATH": "/bin:/usr/bin", "TERM": "vt100"}

def default_signals():
    """For a program started on the host: every signal's default action
    and none blocked, as a process starts on Mica. What this test runner
    inherited (a background job's SIGINT and SIGQUIT ignored, nohup's
    SIGHUP) would otherwise pass through exec to the reference run."""
    for s in signal.valid_signals():
        if s not in (signal.SIGKILL, signal.SIGSTOP):
            try:
                signal.signal(s, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def on_linux(name, args, timeout=30):
    """(stdout lines, how it ended) of the program run on the host, its
    standard output a terminal; in its own /tmp directory's parent, the
    host's /tmp."""
    path = build_path("posix", "debs", *DEBIAN[name]) if name in DEBIAN else build_path("posix", name)
    env = dict(ENV)
    if name in DEBIAN:      # what it runs by name is the package's too
        env["PATH"] = os.path.dirname(path) + ":" + env["PATH"]
    master, slave = pty.openpty()
    proc = subprocess.Popen([name] + args, executable=path, env=env, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=subprocess.DEVNULL, preexec_fn=default_signals)
    os.close(slave)
    out, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:     # EIO: every writer is gone
                break
            if not chunk:
                break
            out += chunk
        rc = proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    end = f"killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"
    return out.decode().splitlines(), end


# Servers' log lines begin with their names (drivers log through the
# netstack's "netstack: eth0: ..." or init's).
SERVER_LOGS = ("posix: ", "netstack: ", "init: ")


def on_mica(output, name, nth=0):
    """(stdout lines, how it ended) of the program's nth run in the
    console output: the lines between the server's start and end lines,
    less the server's own and other servers' logs (the netstack's and
    init's, which the console may print among them)."""
    lines = output.splitlines()
    starts = [(i, m.group(1)) for i, line in enumerate(lines)
              if (m := re.match(rf"^posix: started {name} \(pid (\d+)\)$", line))]
    start, pid = starts[nth]
    for i in range(start + 1, len(lines)):
        # Its own end (a child it forked ends as pid N too, another N).
        m = re.match(rf"^posix: \S+ \(pid {pid}\) (exited with status \d+|killed by signal \d+)$",
                     lines[i])
        if m:
            body = [line for line in lines[start + 1:i] if not line.startswith(SERVER_LOGS)]
            return body, m.group(1)
    raise AssertionError(f"{name} never ended on Mica; console:\n{output}")


# Programs run on Mica only, before and among the others: random system
# calls (tests/posix/hostile.c), first from 8 children that may make
# nearly any call (each killed after a second); the server must carry on
# and keep no page of theirs.
HOSTILE = [("hostile-musl", ["10000", "1", "8"]), ("hostile-glibc", ["10000", "2", "8"])]
# Mica only: targeted abuse (tests/posix/abuse.c): vectors, paths,
# descriptors and the server's tables exhausted, a bounded fork bomb,
# memory past the kernel quota, a stack overflow, execve's limits.
ABUSE = [("abuse-musl", []), ("abuse-glibc", [])]
# Mica only: busybox's ps lists the processes from /proc/PID/ (stat,
# cmdline): the shell that runs it, waiting, and ps itself.
PS = ("busybox", ["sh", "-c", "busybox ps; exit 0"])
# Mica only: busybox's ps shows each process's state from /proc/PID/stat:
# a stopped child T, the shell waiting for ps S, ps itself R.
PS_STATES = ("busybox", ["sh", "-c", "busybox sleep 30 & echo $!; kill -STOP $!; "
                         "busybox ps -o pid -o stat -o args; kill -9 $!; exit 0"])
# Mica only: fill tmpfs (its size is bounded; the host's /tmp is not ours to fill).
ENOSPC = ("files-musl", ["enospc"])
# Mica only: the read-only root filesystem's EROFS (the host's root is writable).
EROFS = ("links-musl", ["erofs"])


@pytest.fixture(scope="module")
def mica_output(tmp_path_factory):
    order = HOSTILE[:1] + RUNS[:3] + HOSTILE[1:] + RUNS[3:] + [PS, PS_STATES, ENOSPC, EROFS] + ABUSE
    return run_list(tmp_path_factory.mktemp("posix"), "posix", order, memlog=True, timeout=600)


@pytest.mark.parametrize("name,args", RUNS, ids=[" ".join([name] + args) for name, args in RUNS])
def test_posix_program_prints_as_on_linux(mica_output, name, args):
    linux_lines, linux_end = on_linux(name, args)
    earlier = [n for n, _ in RUNS[:RUNS.index((name, args))]]
    mica_lines, mica_end = on_mica(mica_output, name, earlier.count(name))
    assert mica_lines == linux_lines, f"{name}: Linux printed\n" + "\n".join(linux_lines)
    assert mica_end == linux_end


def test_posix_unsupported_syscall_logged_once_by_name(mica_output):
    # syscall(1000) has no name: logged once per process. glibc's start-up
    # asks for rseq, which the server does not have yet: every glibc
    # program of the run asks, one line for the server's life (issue 18).
    assert len(re.findall(r"^posix: basics-musl \(pid \d+\): unknown syscall 1000: ENOSYS$",
                          mica_output, re.M)) == 1
    assert len(re.findall(r"^posix: \S+ \(pid \d+\): unsupported syscall rseq \(334\): "
                          r"ENOSYS$", mica_output, re.M)) == 1
    names = re.findall(r"^posix: \S+ \(pid \d+\): unsupported syscall (\w+) ", mica_output, re.M)
    assert sorted(names) == sorted(set(names))


def test_posix_fault_is_logged_with_its_address(mica_output):
    assert re.search(r"^posix: faults-musl \(pid \d+\): page fault at 0 \(ip [0-9a-f]+, write\): "
                     r"SIGSEGV$", mica_output, re.M)
    assert re.search(r"^posix: faults-glibc \(pid \d+\): exception 6 at ip [0-9a-f]+ \(error 0\): "
                     r"signal 4$", mica_output, re.M)


def test_posix_manifest_shipped_runs_its_programs(tmp_path):
    # configs/posix.manifest (make run MANIFEST=configs/posix.manifest):
    # the server beside the console, its run= list to the end.
    path = os.path.join(os.path.dirname(BUILD), "configs", "posix.manifest")
    with open(path) as f:
        text = f.read()
    runs = re.search(r"run=(\S+)", text).group(1).split(",")
    modules = [(build_path("posix-server.elf"), "posix-server"),
               (build_path("posix", "rootfs.cpio"), "rootfs"),
               (build_path("appliance", "console.elf"), "console")]
    with boot_init(tmp_path, text, modules, "posix-manifest") as q:
        q.wait_for(r"^console: ready; type help$")
        q.wait_for(r"^posix: all programs ended; memory: ", timeout=180)
        out = q.output()
    for run in runs:
        name = run.split(":")[0]
        status = 3 if name.startswith("basics") else 0
        assert re.search(rf"^posix: {name} \(pid \d+\) exited with status {status}$", out, re.M), out


@pytest.mark.parametrize("name", [name for name, _ in HOSTILE])
def test_posix_hostile_process_gets_errors_and_server_carries_on(mica_output, name):
    lines, end = on_mica(mica_output, name)
    assert lines == ["hostile: 10000 calls made, errors returned",
                     "hostile: 8 children, each ended or killed: yes"], lines
    assert end == "exited with status 0"
    # The server's pages in use (memlog=1: logged before each program)
    # before it and after it: what its calls took is given back (an
    # AF_UNIX datagram send that faulted part way kept its pages).
    start = re.search(rf"^posix: started {name} \(pid \d+\)$", mica_output, re.M).start()
    before = MEMORY.findall(mica_output, 0, start)[-1]
    after = MEMORY.search(mica_output, start)
    assert after and int(after.group(1)) == int(before[0]), (before, after and after.group(0))
    # Its unknown call numbers were said, through its account's rate limit
    # (test_posix_threads floods it): at most 16 lines a process, then
    # "more unsupported calls, no longer logged", held back or not.
    said = re.findall(rf"^posix: {name} \(pid \d+\): (?:unknown syscall \d+: ENOSYS|more "
                      r"unsupported calls, no longer logged)$", mica_output, re.M)
    assert 1 <= len(said) <= 9 * 17, said


# abuse's lines (one per check, in its order): what each call answered.
# Where Mica's answer is not Linux's the pattern says so: (?:...) groups.
ABUSE_LINES = [
    r"iov: 1025 EINVAL, 1024 1024, sum past SSIZE_MAX \S+, SSIZE_MAX\+2 \S+, unmapped EFAULT, "
    r"readv unmapped EFAULT",
    # Two symbolic links to each other, one to itself through "..".
    r"paths: 5000 bytes ENAMETOOLONG, 4000 bytes of /\.\. 0, loop ELOOP, "
    r"self ELOOP, rename into itself EINVAL, stat after 0, rename onto its child EINVAL, "
    r"rmdir /tmp (?:E\w+|errno \d+), rename / E\w+, 300 deep, getcwd small ERANGE, getcwd whole, "
    r"unterminated ENAMETOOLONG",
    r"fds: \d+ opened, then E[MN]FILE, dup2 1023 1023, dup2 1024 EBADF, F_DUPFD 1<<30 EINVAL, "
    r"setrlimit 1M EPERM, dup2 100000 EBADF, poll 100000 EINVAL, select 1<<30 0",
    r"tables: epoll in itself EINVAL, a in b \w+, b in a (?:ELOOP|EINVAL), wait 0, "
    # Each stops at the account's share of the server's table (EMFILE),
    # never at the whole table (ENFILE): docs/posix.md, "Limits".
    r"chain of 6 (?:ELOOP|EINVAL), wait 0, poll 0, \d+ pipes, then EMFILE, \d+ epolls, then EMFILE, "
    r"\d+ eventfds, then EMFILE",
    r"forks: \d+, then EAGAIN, (\d+) reaped",
    # A page every 2 MiB: the page tables outgrow the process's kernel
    # quota; it is killed as out of memory, never left faulting for ever.
    r"memory: sparse 200 MiB: (?:status 2|signal 9), 256 TiB ENOMEM, \d+ small maps, then ENOMEM",
    r"stack: signal 11",
    r"exec: 200000 args E2BIG, one 128 KiB arg E2BIG, argv unmapped EFAULT, arg unmapped EFAULT",
    r"sizes: ftruncate 1<<62 (?:EFBIG|0), pwrite at 1<<62 (?:EFBIG|1), lseek max \d+, "
    r"write there (?:EFBIG|EINVAL), truncate back 0",
    r"after: open yes, pipe yes, fork yes",
]


@pytest.mark.parametrize("name", [name for name, _ in ABUSE])
def test_posix_abuse_gets_errors_and_the_server_gives_everything_back(mica_output, name):
    lines, end = on_mica(mica_output, name)
    assert len(lines) == len(ABUSE_LINES), lines
    for line, pattern in zip(lines, ABUSE_LINES):
        m = re.fullmatch(pattern, line)
        assert m, f"{line!r} !~ {pattern!r}"
        if line.startswith("forks:"):
            assert int(line.split()[1].rstrip(",")) == int(m.group(1)), line
    assert end == "exited with status 0"


def test_posix_busybox_ps_lists_the_shell_and_itself(mica_output):
    nth = [name for name, _ in RUNS].count(PS[0])
    lines, end = on_mica(mica_output, PS[0], nth)
    shell = re.findall(r"^posix: started busybox \(pid (\d+)\)$", mica_output, re.M)[nth]
    assert end == "exited with status 0", lines
    assert re.match(r"^\s*PID\s+USER\s+(TIME\s+)?COMMAND$", lines[0]), lines
    rows = [re.match(r"^\s*(\d+)\s+root\s+(?:\d+:\d+\s+)?(.*)$", line) for line in lines[1:]]
    assert all(rows), lines
    commands = {int(m.group(1)): m.group(2) for m in rows}
    assert commands.get(int(shell)) == "busybox sh -c busybox ps; exit 0", lines
    assert [pid for pid, c in commands.items() if c == "busybox ps" and pid > int(shell)], lines


def test_posix_busybox_ps_shows_the_states(mica_output):
    nth = [name for name, _ in RUNS].count(PS_STATES[0]) + 1
    lines, end = on_mica(mica_output, PS_STATES[0], nth)
    shell = int(re.findall(r"^posix: started busybox \(pid (\d+)\)$", mica_output, re.M)[nth])
    assert end == "exited with status 0", lines
    stopped = int(lines[0])
    assert re.match(r"^\s*PID\s+STAT\s+COMMAND$", lines[1]), lines
    rows = {int(m.group(1)): (m.group(2), m.group(3)) for line in lines[2:]
            if (m := re.match(r"^\s*(\d+)\s+(\S+)\s+(.*)$", line))}
    assert rows[stopped][0] == "T", lines
    assert rows[shell][0] == "S", lines
    assert [s for s, args in rows.values() if args == "busybox ps -o pid -o stat -o args"] == ["R"], lines


def test_posix_tmpfs_full_is_enospc_and_space_comes_back(mica_output):
    # tmpfs holds at most 16 MiB (TMPFS_PAGES, its index pages included),
    # an account three quarters of it (docs/posix.md, "Limits"): 12 MiB.
    lines, end = on_mica(mica_output, ENOSPC[0], RUNS.count((ENOSPC[0], [])))
    m = re.match(r"^files: wrote (\d+) KiB, then ENOSPC$", lines[0])
    assert m and 11 * 1024 < int(m.group(1)) <= 12 * 1024, lines
    assert lines[1:] == ["unlink: 0 0", "a write after the space came back: 65536 0"]
    assert end == "exited with status 0"


def test_posix_read_only_root_is_erofs_for_new_names(mica_output):
    # Linux's order: the name there (EEXIST) before the read-only mount
    # (EROFS) before the two mounts (EXDEV).
    lines, end = on_mica(mica_output, EROFS[0], RUNS.count((EROFS[0], [])))
    assert lines == [
        "link into /etc: -1 EROFS",
        "link of a tmpfs file into /etc: -1 EROFS",
        "link of /etc/passwd into /etc: -1 EROFS",
        "link of /etc/passwd to an existing name: -1 EEXIST",
        "link of /etc/passwd into /tmp: -1 EXDEV",
        "link of a tmpfs file into /var: -1 EXDEV",
        "symlink in /etc: -1 EROFS",
        "mkfifo in /etc: -1 EROFS",
        "mknod in /etc: -1 EROFS",
    ], lines
    assert end == "exited with status 0"


def test_posix_memory_of_ended_processes_is_free(mica_output):
    # Every page a process had (its image, stack, heap, mappings, the
    # table of its pages) is back in the server's reserve.
    assert re.search(r"^posix: all programs ended; memory: 0 B in use, \d+(\.\d)? MiB kept$",
                     mica_output, re.M), mica_output


def test_posix_syscount_logs_a_process_calls_by_name_when_it_ends(tmp_path):
    # syscount=1: hello-musl's calls counted by name and logged at its end
    # (its three lines are three writev calls: musl's stdout to the
    # console is line-buffered); the total is the sum of the names' counts
    # (fewer than twelve names), the call that ended it not counted.
    out = run_list(tmp_path, "posix-syscount", [("hello-musl", ["one", "two"]), ("hello-musl", [])],
                   timeout=120, args=["syscount=1"])
    lines = re.findall(r"^posix: hello-musl \(pid \d+\) calls: (\d+) in all, 0 made again after "
                       r"waiting; sockets sent 0 received 0 bytes; (.*)$", out, re.M)
    assert len(lines) == 2, out
    for (total, names), writes in zip(lines, (3, 1)):
        counts = dict((n, int(c)) for n, c in re.findall(r"(\w+) (\d+)", names))
        assert counts.get("writev") == writes, names
        assert "exit_group" not in counts and sum(counts.values()) == int(total), names
