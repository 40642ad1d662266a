"""CLOCK_REALTIME on Mica (docs/posix.md, "Time"): the POSIX server reads
the CMOS clock at start, and QEMU's follows the host's UTC (`-rtc
base=utc`, its default), so a process's REALTIME is the host's time; and
setting the clock as root (tests/posix/realtime.c `set`, which runs only
on Mica: it would set a host's clock) moves REALTIME alone, wakes
absolute REALTIME sleepers set past and keeps asleep those set back, and
puts it back on its course. The differential part of realtime.c runs in
test_posix.py."""
import re
import time

from qemu import boot_init, build_path

MANIFEST = """program posix-server priority=90 quota=40960 memory=65536
    file rootfs
    file runs
    ioports 0x70-0x71
    args runfile=runs
"""
SET = [
    "set an hour forward: REALTIME - MONOTONIC grew by an hour (a second): yes",
    "  MONOTONIC went on: yes",
    "  time() and gettimeofday follow: yes",
    "clock_settime(REALTIME, the epoch: before the boot): -1 EINVAL",
    "set back: REALTIME - MONOTONIC as before: yes",
    "adjtimex(ADJ_SETOFFSET an hour): the state, REALTIME - MONOTONIC grew by an hour: yes",
    "clock_adjtime(ADJ_SETOFFSET|ADJ_NANO, an hour back): the state, as before: yes",
    "adjtimex(ADJ_FREQUENCY 0): not here: -1 EPERM",
    "clock_nanosleep(REALTIME, TIMER_ABSTIME, in an hour) ends when the clock is set past it: yes",
    "  one a second away sleeps on when the clock is set an hour back: yes",
    "  and ends when it is set forward again: yes",
    "FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME in an hour: ETIMEDOUT when the clock is set past it",
    "timerfd (REALTIME, absolute, in an hour) expired when the clock was set past it: yes",
    "  a MONOTONIC one did not: yes",
    "  a POSIX timer on REALTIME likewise: yes",
    "TFD_TIMER_CANCEL_ON_SET: before a setting EAGAIN, after it poll 1 POLLIN, read ECANCELED",
    "  then EAGAIN; a relative one EAGAIN; at the next setting ECANCELED",
    "settimeofday(NULL, west -60): 0 0",
    "  the system call's: -60 0",
    "settimeofday(NULL, west 16 hours): -1 EINVAL",
    "put back on its course: yes",
]
PROGRAMS = ["realtime-musl", "realtime-glibc", "realtime-dyn"]


def lines_of(out, name, nth):
    """The lines program name printed in its nth run, less the server's."""
    lines = out.splitlines()
    starts = [(i, m.group(1)) for i, line in enumerate(lines)
              if (m := re.match(rf"^posix: started {name} \(pid (\d+)\)$", line))]
    start, pid = starts[nth]
    body = []
    for line in lines[start + 1:]:
        if re.match(rf"^posix: {name} \(pid {pid}\) (exited|killed)", line):
            return body, line
        if not line.startswith("posix: "):
            body.append(line)
    raise AssertionError(f"{name} never ended:\n{out}")


def test_posix_realtime_is_the_hosts_and_settable(tmp_path):
    runs = ["realtime-musl now"] + [f"{p} set" for p in PROGRAMS] + ["realtime-glibc now"]
    path = tmp_path / "runs"
    path.write_text("".join(r + "\n" for r in runs))
    modules = [(build_path("posix-server.elf"), "posix-server"),
               (build_path("posix", "rootfs.cpio"), "rootfs"), (str(path), "runs")]
    with boot_init(tmp_path, MANIFEST, modules, "posix-time") as q:
        first = q.wait_for(r"^realtime: (\d+)$", timeout=120)
        host_first = time.time()
        q.wait_for(r"^posix: all programs ended", timeout=300)
        host_last = time.time()
        out = q.output()
    (tmp_path / "console.log").write_text(out)
    assert "CMOS clock" not in out, out
    # Within a few seconds of the host's, allowing for the console's and
    # TCG's delay (the line reached us after it was printed, never before).
    guest = int(first.group(1))
    assert host_first - 10 <= guest <= host_first + 1, (guest, host_first)
    for name in PROGRAMS:
        body, end = lines_of(out, name, 1 if name == "realtime-musl" else 0)
        assert body == SET, f"{name}:\n" + "\n".join(body)
        assert end.endswith("exited with status 0"), end
    # Put back on its course: the last reading is the host's time still.
    last = int(re.findall(r"^realtime: (\d+)$", out, re.M)[-1])
    assert host_first - 10 <= last <= host_last + 1, (last, host_first, host_last)
