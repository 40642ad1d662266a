"""The POSIX server's programs at the serial console: `run PROGRAM [ARGS]`
gives a program the console as its terminal (the server's line
discipline: echo, erase, kill line, end of file, ^C as SIGINT to the
foreground process group), the prompt comes back when it ends; `ps` lists
the POSIX processes beside init's programs and `kill [-SIGNAL] PID` signals
one. Driven through QEMU's serial line as an operator types, read off the
screen as a terminal shows it (qemu.Screen)."""
import re
import time

import pytest

from qemu import boot_init, build_path

MANIFEST = """program posix-server priority=90 quota=40960 memory=65536
    file rootfs
    ioports 0x70-0x71
program console priority=160 control=yes
    irq 4
"""
PROMPT = "mica> "
SHELL = r"~ # "         # busybox ash's prompt, as root in / (which is $HOME)
CTRL_C, CTRL_D, CTRL_U, CTRL_RBRACKET, DEL = "\x03", "\x04", "\x15", "\x1d", "\x7f"
CTRL_BACKSLASH, CTRL_Z = "\x1c", "\x1a"


@pytest.fixture(scope="module")
def q(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("posix_console")
    modules = [(build_path("posix-server.elf"), "posix-server"),
               (build_path("posix", "rootfs.cpio"), "rootfs"),
               (build_path("appliance", "console.elf"), "console")]
    with boot_init(tmp, MANIFEST, modules, "posix-console") as q:
        q.wait_for(r"^posix: ready; ")
        q.wait_for(r"^console: ready; type help$")
        yield q


def command(q, keys, expect, timeout=30):
    """Type keys; wait for a line (from now on) matching expect."""
    mark = q.mark()
    q.type(keys)
    return q.wait_for(expect, since=mark, timeout=timeout)


def shell_line(q, line, expect, timeout=30):
    """Type a line at busybox's shell; wait for its prompt to come back
    and return the lines between, after checking one matches expect."""
    mark = q.mark()
    q.type(line + "\r")
    q.wait_for(SHELL + re.escape(line) + "$", since=mark, timeout=timeout)
    q.wait_row("^" + SHELL + "$", timeout=timeout)
    lines = q.output().splitlines()[mark:]
    body = [l for l in lines[1:] if not l.startswith("posix: ")]
    assert any(re.search(expect, l) for l in body), \
        f"{line!r}: no line matching {expect!r} in {body!r}"
    return body


def start_shell(q):
    m = command(q, "run busybox sh\r", r"^console: busybox runs as pid (\d+) on this terminal")
    q.wait_row("^" + SHELL + "$")
    return int(m.group(1))


def interrupt(q, line, key, sig, shell):
    """Start line at the shell, then type key: the job (not the shell,
    pid shell) is killed by signal sig and the shell's prompt is back."""
    mark = q.mark()
    q.type(line + "\r")
    q.wait_for(SHELL + re.escape(line) + "$", since=mark)
    time.sleep(1)
    q.type(key)
    # (after the echoed ^C, on its row: the shell's newline comes later)
    # (named as the command was: busybox's applet, as Linux's comm)
    q.wait_for(r"(^|\^.)posix: %s \(pid (?!%d\))\d+\) killed by signal %d$"
               % (re.escape(line.split()[0]), shell, sig), since=mark)
    q.wait_row("^" + SHELL + "$")


def test_a_shell_on_the_console(q):
    pid = start_shell(q)
    shell_line(q, "echo hi", r"^hi$")
    body = shell_line(q, "ls /", r"\bbin\b")
    assert any("etc" in l for l in body) and any("tmp" in l for l in body), body
    shell_line(q, "cat /etc/passwd", r"^root:x:0:0:root:/:/bin/sh$")
    shell_line(q, "echo one two three | wc -w", r"^3$")
    shell_line(q, "x=$(echo sub | cat); echo got $x", r"^got sub$")
    # ^C interrupts the foreground job (its own process group), not the
    # shell; ^\ is SIGQUIT for it.
    interrupt(q, "sleep 100", CTRL_C, 2, pid)
    shell_line(q, "echo after", r"^after$")
    interrupt(q, "sleep 200", CTRL_BACKSLASH, 3, pid)
    # The shell's own line editing (the terminal in non-canonical mode).
    mark = q.mark()
    q.type("echo hx" + DEL + "i\r")
    q.wait_for(r"^hi$", since=mark)
    q.wait_row("^" + SHELL + "$")
    # A command that reads the terminal: its keys, then ^C.
    mark = q.mark()
    q.type("cat\r")
    q.wait_for(SHELL + "cat$", since=mark)
    time.sleep(0.5)
    typed = q.mark()
    q.type("typed line\r")
    q.wait_for(r"^typed line$", since=typed)          # the terminal's echo
    q.wait_for(r"^typed line$", since=typed + 1)      # cat's
    q.type(CTRL_C)
    q.wait_for(r"(^|\^C)posix: cat \(pid \d+\) killed by signal 2$", since=mark)
    q.wait_row("^" + SHELL + "$")
    m = command(q, "exit 3\r", r"^console: busybox \(pid (\d+)\) exited with status 3$")
    assert int(m.group(1)) == pid
    q.wait_row("^" + re.escape(PROMPT) + "$")


def test_busybox_applets_for_links_fifos_priorities_and_the_system(q):
    # What an operator types: hard and symbolic links, a named pipe,
    # renice and ionice (kept and shown), the load average (/proc/loadavg
    # and sysinfo's, through uptime), the host name from /etc/hostname and
    # a new one, dmesg (the kernel log is empty here: docs/posix.md).
    pid = start_shell(q)
    # (in / throughout: the prompt shows the working directory)
    # (in / throughout: the prompt shows the working directory; lines
    # shorter than the terminal's 80 columns)
    shell_line(q, "echo kept > /tmp/a && ln /tmp/a /tmp/b && stat -c %h /tmp/b", r"^2$")
    shell_line(q, "ln -s b /tmp/s && rm /tmp/a && cat /tmp/s", r"^kept$")
    shell_line(q, "stat -c '%h %F' /tmp/b", r"^1 regular file$")
    shell_line(q, "mkfifo /tmp/p && (echo via fifo > /tmp/p &) && cat /tmp/p", r"^via fifo$")
    shell_line(q, "renice -n 7 -p $$ && ionice -c 2 -n 3 -p $$ && echo set", r"^set$")
    shell_line(q, "ionice -p $$", r"^best-effort: prio 3$")
    shell_line(q, "sh -c 'cat /proc/$$/stat' | cut -d' ' -f19", r"^7$")
    shell_line(q, "cat /proc/loadavg", r"^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+/\d+ \d+$")
    shell_line(q, "uptime", r"load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d$")
    # a computing job for two samples (5 s apart): the 1-minute average rises
    shell_line(q, "(while :; do :; done) & sleep 11; cat /proc/loadavg; kill $!",
               r"^(0\.(0[1-9]|[1-9]\d)|[1-9]\.\d\d) ")
    shell_line(q, "hostname", r"^mica$")
    shell_line(q, "hostname appliance && uname -n", r"^appliance$")
    shell_line(q, "dmesg; echo dmesg said $?", r"^dmesg said 0$")
    shell_line(q, "rm /tmp/b /tmp/s /tmp/p && hostname mica && echo gone", r"^gone$")
    command(q, "exit 0\r", r"^console: busybox \(pid %d\) exited with status 0$" % pid)
    q.wait_row("^" + re.escape(PROMPT) + "$")


def test_canonical_input_erase_kill_and_end_of_file(q):
    command(q, "run busybox cat\r", r"^console: busybox runs as pid \d+ on this terminal")
    time.sleep(0.5)
    # Echoed by the terminal, then written back by cat: the line twice.
    mark = q.mark()
    q.type("ab" + DEL + "c\r")
    q.wait_for(r"^ac$", since=mark)
    q.wait_for(r"^ac$", since=mark + 1)
    mark = q.mark()
    q.type("wrong" + CTRL_U + "right\r")
    q.wait_for(r"^right$", since=mark + 1)
    # ^D on an empty line: end of file; cat ends and the prompt is back.
    command(q, CTRL_D, r"^console: busybox \(pid \d+\) exited with status 0$")
    q.wait_row("^" + re.escape(PROMPT) + "$")


def test_ctrl_z_stops_the_job_fg_continues_it_and_a_background_read_stops(q):
    pid = start_shell(q)
    # ^Z: SIGTSTP to the foreground job, which stops; the shell (its
    # wait4 with WUNTRACED) says so and its prompt is back.
    mark = q.mark()
    q.type("sleep 100\r")
    q.wait_for(SHELL + "sleep 100$", since=mark)
    time.sleep(1)
    q.type(CTRL_Z)
    q.wait_for(r"Stopped\s+sleep 100$", since=mark)
    q.wait_row("^" + SHELL + "$")
    shell_line(q, "jobs", r"Stopped\s+sleep 100$")
    # fg: SIGCONT, the job in the foreground again; ^C ends it.
    mark = q.mark()
    q.type("fg\r")
    q.wait_for(r"^sleep 100$", since=mark)
    time.sleep(1)
    q.type(CTRL_C)
    q.wait_for(r"(^|\^C)posix: sleep \(pid (?!%d\))\d+\) killed by signal 2$" % pid, since=mark)
    q.wait_row("^" + SHELL + "$")
    # A background job that reads the terminal gets SIGTTIN and stops.
    mark = q.mark()
    q.type("cat &\r")
    q.wait_row("^" + SHELL + "$")
    time.sleep(1)
    mark = q.mark()
    q.type("jobs\r")         # (the server's lines may have come after the prompt)
    q.wait_for(r"^\[1\]\+\s+Stopped.*\s+cat$", since=mark)
    q.wait_row("^" + SHELL + "$")
    mark = q.mark()
    q.type("kill -9 %1\r")
    q.wait_for(r"posix: cat \(pid (?!%d\))\d+\) killed by signal 9$" % pid, since=mark)
    q.wait_row("^" + SHELL + "$")
    mark = q.mark()
    q.type("jobs\r")         # the shell's wait4 has seen it: none is left
    q.wait_for(r"Killed\s+cat$", since=mark)
    q.wait_row("^" + SHELL + "$")
    command(q, "exit 0\r", r"^console: busybox \(pid %d\) exited with status 0$" % pid)
    q.wait_row("^" + re.escape(PROMPT) + "$")


def test_ps_and_kill_of_posix_processes(q):
    pid = start_shell(q)
    mark = q.mark()
    q.type("sleep 100 &\r")                # a job of its own group, in the background
    q.wait_for(SHELL + "sleep 100 &$", since=mark)
    q.wait_row("^" + SHELL + "$")
    # ^] gives the prompt back and leaves the shell running.
    command(q, CTRL_RBRACKET,
            r"^console: busybox \(pid %d\) left running \(kill -KILL %d ends it\)$" % (pid, pid))
    q.wait_row("^" + re.escape(PROMPT) + "$")
    mark = q.mark()
    command(q, "ps\r", r"^\s+PID\s+PPID\s+PGID\s+SID\s+STATE\s+TTY\s+COMMAND$")
    # (waiting for a key, or still on its way there)
    q.wait_for(r"^\s+%d\s+0\s+%d\s+%d\s+(waiting|running)\s+console\+\s+busybox$"
               % (pid, pid, pid), since=mark)
    # The shell's job shows the applet's name, as Linux's ps (comm: the
    # exec'd name; busybox renames its /proc/self/exe), not "busybox"
    # (which it is from its fork until its exec) nor "exe" (from its exec
    # of /proc/self/exe until its PR_SET_NAME): ps again until then.
    job = None
    for _ in range(20):
        q.wait_row("^" + re.escape(PROMPT) + "$")
        rows = q.output().splitlines()[mark:]
        job = next((m for m in (re.match(r"^\s+(\d+)\s+%d\s+(\d+)\s+%d\s+\S+\s+console\s+"
                                         r"(\S+)$" % (pid, pid), r) for r in rows) if m), None)
        if job and job.group(3) not in ("busybox", "exe"):
            break
        time.sleep(0.5)
        mark = q.mark()
        command(q, "ps\r", r"^\s+PID\s+PPID\s+PGID\s+SID\s+STATE\s+TTY\s+COMMAND$")
    assert job and job.group(3) == "sleep", q.output().splitlines()[mark:]
    job_pid, job_pgid = int(job.group(1)), int(job.group(2))
    command(q, "run busybox sh\r",
            r"^console: run: pid %d still has the terminal \(kill -KILL %d ends it\)$" % (pid, pid))
    # A stopped process shows as such (Linux's T), and runs on after SIGCONT.
    command(q, "kill -STOP %d\r" % pid, r"^console: kill %d: sent SIGSTOP \(19\)$" % pid)
    command(q, "ps\r", r"^\s+%d\s+0\s+%d\s+%d\s+stopped\s+console\+\s+busybox$" % (pid, pid, pid))
    command(q, "kill -CONT %d\r" % pid, r"^console: kill %d: sent SIGCONT \(18\)$" % pid)
    command(q, "ps\r", r"^\s+%d\s+0\s+%d\s+%d\s+(waiting|running)\s+console\+\s+busybox$"
            % (pid, pid, pid))
    command(q, "kill 999\r", r"^console: kill 999: no such process$")
    command(q, "kill -BOGUS %d\r" % pid, r"^console: kill: unknown signal '-BOGUS'")
    # A signal without a pid, or two words neither a signal: said so, not
    # "no program named '-INT'" or "unknown signal '4'".
    # A lone -9 is a signal too, not process group 9 (it was SIGTERM to
    # group 9); a group is the signal's target: kill -9 -PGID.
    command(q, "kill -INT\r", r"^console: kill: -INT: to whom\? \(kill -INT PID, or kill -INT "
            r"-PGID for a group\)$")
    command(q, "kill -%d\r" % job_pgid, r"^console: kill: -%d: to whom\? \(kill -%d PID, or "
            r"kill -%d -PGID for a group\)$" % (job_pgid, job_pgid, job_pgid))
    command(q, "kill -BOGUS\r", r"^console: kill: unknown signal '-BOGUS'")
    mark = q.mark()
    command(q, "kill -9 -%d\r" % job_pgid, r"^console: kill -%d: sent SIGKILL \(9\)$" % job_pgid)
    q.wait_for(r"^posix: sleep \(pid %d\) killed by signal 9$" % job_pid, since=mark)
    command(q, "kill %d 5\r" % pid, r"^console: kill: '%d' is not -SIGNAL \(kill \[-SIGNAL\] PID: "
            r"the signal first, one process\)$" % pid)
    command(q, "kill -0 %d\r" % pid, r"^console: kill %d: there is such a process$" % pid)
    # An interactive shell ignores SIGTERM (as on Linux); SIGKILL ends it.
    mark = q.mark()
    command(q, "kill -KILL %d\r" % pid, r"^console: kill %d: sent SIGKILL \(9\)$" % pid)
    q.wait_for(r"^posix: busybox \(pid %d\) killed by signal 9$" % pid, since=mark)
    command(q, "ps\r", r"^\(no POSIX processes\)$")
    command(q, "run nosuch\r", r"^console: run: nosuch: no such program in the root filesystem$")
    command(q, "run\r", r"^console: usage: run PROGRAM \[ARGS\]$")


def test_run_finds_programs_on_path_and_takes_quoted_words(q):
    # /usr/bin, as PATH=/bin:/usr/bin and the manifest's run= (Debian's
    # iperf3 is /usr/bin/iperf3).
    command(q, "run iperf3 --version\r", r"^iperf 3\.\d+")
    q.wait_for(r"^console: iperf3 \(pid \d+\) exited with status 0$")
    q.wait_row("^" + re.escape(PROMPT) + "$")
    # Words as a shell splits them: quotes keep spaces, \" is " in "...".
    mark = q.mark()
    q.type("""run busybox sh -c "echo 'a  b' \\\\\\"c\\\\\\"; ls -1 /bin/busybox /etc/passwd"\r""")
    q.wait_for(r'^a  b "c"$', since=mark)
    q.wait_for(r"^/bin/busybox$", since=mark)
    q.wait_for(r"^/etc/passwd$", since=mark)
    q.wait_for(r"^console: busybox \(pid \d+\) exited with status 0$", since=mark)
    q.wait_row("^" + re.escape(PROMPT) + "$")
    # /bin/sh, the shell /etc/passwd names: busybox's, named sh (its comm).
    mark = q.mark()
    q.type("run sh -c 'cat /proc/$$/comm; exit 0'\r")
    q.wait_for(r"^console: sh runs as pid \d+ on this terminal", since=mark)
    q.wait_for(r"^sh$", since=mark)
    q.wait_for(r"^console: sh \(pid \d+\) exited with status 0$", since=mark)
    q.wait_row("^" + re.escape(PROMPT) + "$")
    command(q, "run busybox sh -c \"ls\r",
            r"^console: a quote \(' or \"\) is not closed; nothing run$")
    command(q, "run /usr/bin\r", r"^console: run: /usr/bin: not an executable file$")


def test_a_shells_commands_end_without_server_lines(q):
    # busybox calls prctl: answered, not logged as unsupported.
    pid = start_shell(q)
    mark = q.mark()
    shell_line(q, "sh -c 'exit 0'; echo a | cat; echo done", r"^done$")
    lines = q.output().splitlines()[mark:]
    assert not [l for l in lines if "exited with status" in l], lines
    assert "unsupported syscall prctl" not in q.output()
    # A signal that ends one of them is still told.
    interrupt(q, "sleep 100", CTRL_C, 2, pid)
    command(q, "exit 0\r", r"^console: busybox \(pid %d\) exited with status 0$" % pid)
    q.wait_row("^" + re.escape(PROMPT) + "$")


def test_the_terminal_type_has_its_terminfo(q):
    # TERM=vt100 (the programs' environment) and the description ncurses
    # looks for (/lib/terminfo/v/vt100): Debian's less needs it.
    mark = q.mark()
    q.type("""run busybox sh -c 'f=/lib/terminfo/$(echo $TERM | cut -c1)/$TERM; """
           """test -s $f && echo found $f'\r""")
    q.wait_for(r"^found /lib/terminfo/v/vt100$", since=mark)
    q.wait_for(r"^console: busybox \(pid \d+\) exited with status 0$", since=mark)
    q.wait_row("^" + re.escape(PROMPT) + "$")
