"""The serial console as an operator uses it: a prompt, line editing with
the keys a terminal sends, history, Tab completion, and log lines that
come out whole above the line being typed (the kernel's serial_line), read
off the screen as a terminal shows it (qemu.Screen). Then faults for a
driver that is busy: queued and done, not refused.
"""
import re
import subprocess
import time

import pytest

from netns import Netns, can_run
from qemu import BOOT_TIMEOUT, boot_init, build_path
from test_net import GUEST, NetRig

PROMPT = "mica> "
UP, DOWN, LEFT, RIGHT = "\x1b[A", "\x1b[B", "\x1b[D", "\x1b[C"
HOME, END = "\x1b[H", "\x1bOF"
CTRL_A, CTRL_C, CTRL_E, CTRL_U, CTRL_W = "\x01", "\x03", "\x05", "\x15", "\x17"


def boot_console(tmp_path, ticks=0, period=100, name="console"):
    """Boot init with the console, hello (exits at once) and, with ticks,
    a ticker printing a log line every period ms."""
    text = ("program console priority=160 control=yes\n    irq 4\n"
            "program hello restart=never\n")
    modules = [(build_path("appliance", "console.elf"), "console"),
               (build_path("programs", "hello.elf"), "hello")]
    if ticks:
        text += f"program ticker priority=50 restart=never\n    args count={ticks} period={period}\n"
        modules.append((build_path("programs", "ticker.elf"), "ticker"))
    return boot_init(tmp_path, text, modules, name)


def typed(q, keys, row):
    """Type keys; wait until the line under the log reads row exactly."""
    q.type(keys)
    return q.wait_row("^" + re.escape(PROMPT + row) + "$")


def command(q, keys, expect, timeout=30):
    """Type keys that end a line; wait for a line matching expect."""
    mark = q.mark()
    q.type(keys)
    return q.wait_for(expect, since=mark, timeout=timeout)


def first_interface(q):
    """Once the console is ready, ifconfig until the netstack's management
    service (registered after the address) answers; its first line."""
    q.wait_for(r"^console: ready")
    for _ in range(30):
        m = command(q, "ifconfig\r", r"^(eth0: link .*|console: ifconfig: the netstack "
                                      r"is (not running|starting \(not registered yet\)))$")
        if m.group(0).startswith("eth0"):
            break
        time.sleep(0.5)
    return m.group(0)


def test_prompt_editing_keys_history_and_ctrl_c(tmp_path):
    with boot_console(tmp_path) as q:
        q.wait_for(r"^console: ready; type help$")
        q.wait_for(r"^init: hello exited$")
        q.wait_row(r"^mica> $")
        # Left, insert, Home, End, Delete and Backspace edit in place.
        typed(q, "pz", "pz")
        typed(q, "\x7f" + "s", "ps")
        typed(q, LEFT + LEFT + "x", "xps")
        typed(q, "\x1b[3~", "xs")          # Delete: the character under the cursor
        typed(q, HOME + "\x1b[3~p" + END, "ps")
        command(q, "\r", r"^NAME\s+STATE\s+RESTARTS\s+CRASHES$")
        q.wait_for(r"^mica> ps$")
        q.wait_for(r"^hello\s+exited\s+0\s+0$")
        # "garbage", Ctrl-C, "mem" runs mem, not "garbagemem".
        typed(q, "garbage", "garbage")
        typed(q, CTRL_C, "")
        q.wait_for(r"^mica> garbage\^C$")
        mark = q.mark()
        q.type("mem\r")
        q.wait_for(r"^memory: RAM \d+(\.\d)? [KMG]iB free of \d+(\.\d)? [KMG]iB "
                   r"\(\d+ of \d+ bytes\)$", since=mark)
        q.wait_for(r"^    kernel memory \d+(\.\d)? [KMG]iB free \(\d+ bytes\)$", since=mark)
        q.wait_for(r"^    kernel memory \d+(\.\d)? [KMG]iB kept for small objects \([1-9]\d* bytes\)$",
                   since=mark)
        q.wait_for(r"^    kernel quota \d+(\.\d)? [KMG]iB of \d+(\.\d)? [KMG]iB used "
                   r"\(\d+ of \d+ bytes\)$", since=mark)
        # Up recalls (never "[A" in the line), Down comes back.
        typed(q, "he", "he")
        typed(q, UP, "mem")
        typed(q, UP, "ps")
        typed(q, UP, "ps")                 # the oldest; Ctrl-C'd lines are not kept
        typed(q, DOWN + DOWN, "he")
        typed(q, CTRL_U, "")
        # Ctrl-A/E, Ctrl-W, an unknown sequence (F5) swallowed whole.
        typed(q, "kill hello" + CTRL_W, "kill ")
        typed(q, CTRL_A + "x" + CTRL_E + "\x1b[15~" + "\x1bOP", "xkill ")
        typed(q, CTRL_A + "\x1b[3~" + CTRL_E + "nobody", "kill nobody")
        command(q, "\r", r"^console: kill: no program named 'nobody' \(see ps\)$")
        assert "[A" not in q.output() and "unknown command" not in q.output()


def boot_crashing_ticker(tmp_path, restart, name):
    """The console and a ticker that crashes on its first run, restarted
    as restart says; ready for commands."""
    text = ("program console priority=160 control=yes\n    irq 4\n"
            f"program ticker priority=50 {restart}\n"
            "    args crash=1 count=60 period=500\n")
    modules = [(build_path("appliance", "console.elf"), "console"),
               (build_path("programs", "ticker.elf"), "ticker")]
    return boot_init(tmp_path, text, modules, name)


def test_ps_counts_crashes_in_a_row_as_of_now(tmp_path):
    """A crash shows in ps; once the program has been up 5 s it shows 0
    (docs/manifest.md), and a kill after that does not bring the old
    crash back."""
    with boot_crashing_ticker(tmp_path, "restart=on-crash retries=3", "console") as q:
        q.wait_for(r"^console: ready; type help$")
        q.wait_for(r"^init: ticker crashed; restarting in 100 ms \(1 of 3\)$")
        q.wait_for(r"^ticker: tick 1 of 60$")
        command(q, "ps\r", r"^ticker\s+running\s+1\s+1$")
        q.wait_for(r"^ticker: tick 12 of 60$", timeout=30)     # 6 s up
        command(q, "ps\r", r"^ticker\s+running\s+1\s+0$")
        command(q, "kill ticker\r", r"^init: ticker killed at \d+ ms; restarting$")
        command(q, "ps\r", r"^ticker\s+running\s+2\s+0$")


def test_ps_counts_the_crash_of_a_program_left_down(tmp_path):
    """restart=never: the crash that left it down shows in ps."""
    with boot_crashing_ticker(tmp_path, "restart=never", "console-never") as q:
        q.wait_for(r"^console: ready; type help$")
        q.wait_for(r"^init: ticker crashed at \d+ ms; restart=never, left down$")
        command(q, "ps\r", r"^ticker\s+down\s+0\s+1$")


def test_tab_completes_commands_and_program_names(tmp_path):
    with boot_console(tmp_path, ticks=100, period=300) as q:
        q.wait_for(r"^console: ready")
        q.wait_for(r"^init: hello exited$")
        typed(q, "he\t", "help ")
        command(q, "\r", r"^  ps\s+programs: state, restarts, crashes in a row$")
        # Nothing to complete: the bell, and the line stays as it was.
        bells = q.screen.bells
        typed(q, "zz", "zz")
        q.type("\t")
        deadline = time.monotonic() + 10
        while q.screen.bells == bells and time.monotonic() < deadline:
            time.sleep(0.1)
        assert q.screen.bells == bells + 1
        typed(q, CTRL_U, "")
        # Several candidates: the common part goes in, they are listed.
        typed(q, "st\t", "start ")
        mark = q.mark()
        q.type("\t")
        q.wait_for(r"^console  hello  ticker$", since=mark)
        # The line as typed, the list under it, the line again.
        assert q.lines[mark:mark + 2] == ["mica> start ", "console  hello  ticker"], q.lines[mark:]
        q.wait_row(r"^mica> start $")
        typed(q, "h\t", "start hello ")
        mark = q.mark()
        q.type("\r")
        q.wait_for(r"^console: start hello: done$", since=mark)
        q.wait_for(r"^hello: name service ok", since=mark)
        typed(q, "kill t\t", "kill ticker ")
        typed(q, CTRL_U, "")
        # Interface names come from the netstack: none runs here.
        typed(q, "fault \t", "fault ")
        typed(q, "e\t", "fault e")
        command(q, "\r", r"^console: usage: fault IFNAME KIND$")
        command(q, "fault eth0 hang\r", r"^console: fault: the netstack is not running, so "
                                        r"there are no interfaces$")
        command(q, "fault eth0 sideways\r", r"^console: fault: unknown kind 'sideways' "
                                            r"\(wild, port, kernel, hang, rings, withhold\)$")


def test_log_lines_come_out_whole_above_a_half_typed_line(tmp_path):
    """The ticker prints every 100 ms while a command is typed slowly, with
    arrow keys and a sequence split across writes: every log line reads as
    itself, the line being typed is drawn again under each, and the
    command runs whole."""
    with boot_console(tmp_path, ticks=300, period=100) as q:
        q.wait_for(r"^console: ready")
        q.wait_for(r"^ticker: tick 3 of 300$")
        for keys in ["ki", "l", "x", LEFT, "l", RIGHT, "\x7f", " ", "\x1b", "[", "D", "\x1b[C",
                     "ti", "ck", "er"]:
            mark = q.mark()
            q.type(keys)
            q.wait_for(r"^ticker: tick \d+ of 300$", since=mark, timeout=10)
        assert q.row() == PROMPT + "kill ticker"
        mark = q.mark()
        q.type("\r")
        q.wait_for(r"^mica> kill ticker$", since=mark)
        q.wait_for(r"^console: kill ticker: done$", since=mark)
        q.wait_for(r"^init: ticker killed at \d+ ms; restart=never, left down$", since=mark)
        q.wait_row(r"^mica> $")
        lines = q.output().splitlines()
        ticks = [line for line in lines if "ticker: tick" in line]
        assert len(ticks) >= 15, ticks
        for line in ticks:
            assert re.fullmatch(r"ticker: tick \d+ of 300", line), line
        assert [line for line in lines if PROMPT in line] == [PROMPT + "kill ticker"]


def test_an_overlong_line_is_refused_with_a_message(tmp_path):
    with boot_console(tmp_path) as q:
        q.wait_for(r"^console: ready")
        q.wait_row(r"^mica> $")
        command(q, "x" * 130, r"^console: a line holds at most 127 characters$")
        # The row shows the end of the line, scrolled to fit 80 columns
        # (waited for whole: the echo may still be arriving).
        row = q.wait_row(r"^mica> x{73}$").group(0)
        assert len(row) == 79, row
        typed(q, CTRL_U + "ps", "ps")
        command(q, "\r", r"^console\s+running\s+0\s+0$")
        # Pasted past the end, then Enter: the cut-off line is not run.
        q.type("help " + "y" * 130)
        command(q, "\r", r"^console: not run: the line was longer than 127 characters$")
        assert "usage: help" not in q.output() and "unknown command" not in q.output()
        q.wait_row(r"^mica> $")


def test_help_command_shows_that_commands_line(tmp_path):
    """help COMMAND: that command's line alone (a new user's first try
    was `help kill`, answered `usage: help`)."""
    with boot_console(tmp_path) as q:
        q.wait_for(r"^console: ready")
        q.wait_row(r"^mica> $")
        command(q, "help kill\r", r"^  kill NAME\|\[-SIGNAL\] PID$")
        q.wait_for(r"^\s+kill a program \(restarted at once if its policy says so\);$")
        command(q, "help nope\r", r"^console: help: no command 'nope' \(help lists them\)$")
    print("console: help kill shows kill's line; help nope says there is no such command")


def test_run_and_kill_without_the_posix_server_say_it_may_be_starting(tmp_path):
    """run and kill PID with no POSIX server registered: not running, or
    not ready yet (a new user typed run just after kill posix-server and
    was told it was not running while init had just restarted it)."""
    with boot_console(tmp_path) as q:
        q.wait_for(r"^console: ready")
        q.wait_row(r"^mica> $")
        for line, what in (("run busybox sh", "run"), ("kill 3", "kill")):
            command(q, line + "\r", r"^console: %s: the POSIX server is not running, or not "
                    r"ready yet \(see ps\)$" % what)
    print("console: run and kill without the POSIX server: not running, or not ready yet")


@pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")
def test_fault_for_a_busy_driver_is_queued_and_done(tmp_path):
    """Under an iperf transfer the driver is seldom waiting for requests:
    `fault eth0 hang` is done all the same (at once or from the queue), its
    heartbeat stops, init restarts it; interface names are checked."""
    with Netns("confault") as ns, \
            NetRig(ns, tmp_path, "e1000", netecho=False, console=True,
                   driver="restart=on-crash retries=3 heartbeat=250") as rig:
        q = rig.qemu
        q.wait_for(r"netstack: eth0 up, 10\.1\.0\.2/24")
        assert first_interface(q) == "eth0: link up, 10.1.0.2/24, gateway 10.1.0.1"
        q.wait_for(r"^    MAC 52:54:00:00:00:01, driver attached, re-attached 0 times$")
        command(q, "fault eth9 hang\r", r"^console: fault: no interface named 'eth9' "
                                        r"\(ifconfig lists them\)$")
        iperf = subprocess.Popen(ns.prefix() + ["iperf", "-c", GUEST, "-t", "12"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(4)
            mark = q.mark()
            q.type("fault eth0 hang\r")
            told = q.wait_for(r"^console: fault: (sent eth0 'hang' \(spin forever\)|"
                              r"eth0 is busy; 'hang' queued, retried for up to 3000 ms)$",
                              since=mark)
            if "queued" in told.group(0):
                q.wait_for(r"^console: fault: sent eth0 'hang' after \d+ ms$", since=mark,
                           timeout=10)
            q.wait_for(r"^init: eth0 hung", since=mark)
            q.wait_for(r"^netstack: eth0 re-attached to a new driver", since=mark)
            out, _ = iperf.communicate(timeout=120)
        finally:
            if iperf.poll() is None:
                iperf.kill()
                iperf.wait()
        assert "did not take" not in q.output()
        command(q, "ifconfig\r", r"^    MAC 52:54:00:00:00:01, driver attached, re-attached 1 time$")


def boot_driver_netstack_console(tmp_path, name, driver_args, netstack_args,
                                 console_lookup=True, netstack_lookup=True):
    """Boot e1000 (as eth0, priority 150, with more args), the netstack
    (priority 100, 10.0.2.15/24 and more args; the driver's name if
    netstack_lookup) and the console (with the driver's name, for fault,
    if console_lookup), with an e1000 on QEMU's user network."""
    text = ("program eth0 priority=150 dma=64 restart=never\n"
            f"    module e1000\n    pci 8086:100e\n    args name=eth0 {driver_args}\n"
            "program netstack priority=100 dma=4096 restart=never\n" +
            ("    lookup eth0\n" if netstack_lookup else "") +
            f"    args nic=eth0 eth0.addr=10.0.2.15/24 {netstack_args}\n"
            "program console priority=160 control=yes\n    irq 4\n" +
            ("    lookup eth0\n" if console_lookup else ""))
    q = boot_init(tmp_path, text, [(build_path("drivers", "e1000.elf"), "e1000"),
                                   (build_path("netstack.elf"), "netstack"),
                                   (build_path("appliance", "console.elf"), "console")],
                  name)
    q.cmd += ["-netdev", "user,id=n0,restrict=on", "-device", "e1000,netdev=n0,addr=3"]
    return q


def test_a_netstack_not_registered_yet_is_said_to_be_starting(tmp_path):
    """The driver spins from its start at a priority above the netstack's,
    so the netstack runs (says ps) but has not registered: ifconfig and
    fault say it is starting, not that it is not running."""
    with boot_driver_netstack_console(tmp_path, "console-netstack-starting", "fault=4",
                                      "") as q:
        q.wait_for(r"^eth0: injecting fault hang$")
        q.wait_for(r"^console: ready")
        command(q, "ps\r", r"^netstack\s+running\s+0\s+0$")
        command(q, "ifconfig\r", r"^console: ifconfig: the netstack is starting "
                                  r"\(not registered yet\)$")
        command(q, "fault eth0 hang\r", r"^console: fault: the netstack is starting \(not "
                                         r"registered yet\), so there are no interfaces$")
        assert "the netstack is not running" not in q.output()


def test_a_console_without_lookup_lines_reads_but_says_what_the_manifest_lacks(tmp_path):
    """A driver's name is private (proto/netq.h): a console whose manifest
    has no `lookup eth0` cannot reach the driver, and says so rather than
    that eth0 has no driver; the driver is not touched. Nor without
    `lookup netmgmt` can it change the netstack (a route here): it reads
    through netmgmt-ro (ifconfig works) and says what is missing at
    every refused change; init says why it refused each name once, not
    at every command."""
    with boot_driver_netstack_console(tmp_path, "console-fault-nolookup", "", "",
                                      console_lookup=False) as q:
        q.wait_for(r"^netstack: eth0 up, 10\.0\.2\.15/24")
        assert first_interface(q).startswith("eth0: link up")
        command(q, "fault eth0 hang\r", r"^console: fault: init will not give the console "
                                         r"eth0's driver: the manifest needs `lookup eth0` "
                                         r"under the console; not done$")
        assert re.search(r"^init: console may not look up the private name 'eth0'",
                         q.output(), re.M), q.output()
        assert "injecting fault" not in q.output()
        command(q, "route add 10.7.0.0/16 via 10.0.2.2\r",
                r"^console: route add: refused: the console's manifest needs `lookup netmgmt` "
                r"to change the netstack$")
        command(q, "route\r", r"^10\.0\.2\.0/24\s+-\s+eth0\s+0  connected$")
        assert not re.search(r"^10\.7\.0\.0/16\s", q.output(), re.M), q.output()
        # Every command asks init again; init says why once for each name.
        for _ in range(3):
            command(q, "route\r", r"^10\.0\.2\.0/24\s+-\s+eth0\s+0  connected$")
        command(q, "route del 10.7.0.0/16\r", r"^console: route del: refused: the console's "
                                              r"manifest needs `lookup netmgmt`")
        command(q, "fault eth0 hang\r", r"^console: fault: init will not give the console")
        for name in ("netmgmt", "eth0"):
            told = re.findall(rf"^init: console may not look up the private name '{name}'",
                              q.output(), re.M)
            assert len(told) == 1, q.output()


def test_ifconfig_says_init_refused_the_netstack_its_driver(tmp_path):
    """The netstack's manifest lacks `lookup eth0`: the driver runs but
    the netstack never gets it. ifconfig says why (the netstack's line at
    boot has long scrolled away), not "no driver yet", which reads as
    wait."""
    with boot_driver_netstack_console(tmp_path, "console-netstack-nolookup", "", "",
                                      netstack_lookup=False) as q:
        q.wait_for(r"^netstack: init will not give us the driver's name 'eth0'", timeout=120)
        q.wait_for(r"^console: ready")
        for _ in range(30):
            m = command(q, "ifconfig\r", r"^(eth0: .*|console: ifconfig: .*)$")
            if m.group(1).startswith("eth0"):
                break
            time.sleep(1)
        assert m.group(1) == ("eth0: no driver (init refused the name 'eth0': the manifest "
                              "needs `lookup eth0` under the netstack)"), m.group(1)


def test_ifconfig_of_an_interface_that_never_had_a_driver(tmp_path):
    """No driver has come for eth0 or eth1: ifconfig says so and shows no
    MAC, link or zero address; a static address is still shown."""
    text = ("program netstack priority=100 dma=4096 restart=never\n"
            "    args nic=eth0,eth1 eth0.addr=10.0.2.15/24 eth0.gw=10.0.2.2\n"
            "program console priority=160 control=yes\n    irq 4\n")
    q = boot_init(tmp_path, text, [(build_path("netstack.elf"), "netstack"),
                                   (build_path("appliance", "console.elf"), "console")],
                  "console-no-driver")
    with q:
        q.wait_for(r"^netstack: serving 2 interfaces: eth0 \(no driver yet\), "
                   r"eth1 \(no driver yet\)")
        q.wait_for(r"^console: ready")
        mark = q.mark()
        command(q, "ifconfig\r", r"^eth0: no driver yet, 10\.0\.2\.15/24, gateway 10\.0\.2\.2$")
        q.wait_for(r"^eth1: no driver yet$", since=mark)
        assert "00:00:00:00:00:00" not in q.output() and "0.0.0.0/0" not in q.output()


def test_a_netstack_that_does_not_answer_does_not_hold_the_console_up(tmp_path):
    """The driver spins at a priority above the netstack's (no heartbeat
    to catch it), so the netstack never runs: the console answers all the
    same (its worker thread waits on the netstack, not the keys); ifconfig
    says for how long the netstack has not answered; Tab and fault use the
    interface names it gave last. A fault the spinning driver cannot take
    is queued, and dropped when the driver goes; a fault for an interface
    whose driver is down is refused, not queued for the next one. Once the
    driver is killed the netstack answers, and ifconfig works again."""
    with boot_driver_netstack_console(tmp_path, "console-netstack", "",
                                      "eth0.gw=10.0.2.2") as q:
        q.wait_for(r"^netstack: eth0 up, 10\.0\.2\.15/24")
        assert first_interface(q) == "eth0: link up, 10.0.2.15/24, gateway 10.0.2.2"
        command(q, "fault eth0 hang\r", r"^console: fault: sent eth0 'hang' \(spin forever\)$")
        q.wait_for(r"^eth0: injecting fault hang$")
        # The netstack is starved; the console is not.
        command(q, "ps\r", r"^eth0\s+running\s+0\s+0$")
        # A second of guest time: with the guest spinning on a loaded host,
        # QEMU delivers timer ticks late and guest time runs slow.
        first = command(q, "ifconfig\r", r"^console: ifconfig: the netstack has not answered "
                                         r"for (\d+) ms$", timeout=BOOT_TIMEOUT)
        assert int(first.group(1)) >= 1000, first.group(0)
        # Still the same request: said at once, counted from the same ask.
        again = command(q, "ifconfig\r", r"^console: ifconfig: the netstack has not answered "
                                         r"for (\d+) ms$", timeout=BOOT_TIMEOUT)
        assert int(again.group(1)) >= int(first.group(1)), (first.group(0), again.group(0))
        assert "the netstack answered" not in q.output()
        command(q, "help\r", r"^  ps\s+programs: state, restarts, crashes in a row$")
        typed(q, "fault e\t", "fault eth0 ")     # the names the netstack gave last
        typed(q, CTRL_U, "")
        # The spinning driver takes no request: queued, then dropped with it.
        command(q, "fault eth0 wild\r", r"^console: fault: eth0 is busy; 'wild' queued, "
                                        r"retried for up to 3000 ms$")
        mark = q.mark()
        q.type("kill eth0\r")
        q.wait_for(r"^console: kill eth0: done$", since=mark)
        q.wait_for(r"^init: eth0 killed at \d+ ms; restart=never, left down$", since=mark)
        q.wait_for(r"^console: fault: eth0 (lost its driver|has a new driver); 'wild' not done$",
                   since=mark)
        q.wait_for(r"^console: the netstack answered after \d+ ms$", since=mark)
        # No driver: refused, not queued for the next one.
        command(q, "fault eth0 hang\r", r"^console: fault: eth0 has no driver now \(see ps\); "
                                        r"not done$")
        mark = q.mark()
        q.type("start eth0\r")
        q.wait_for(r"^console: start eth0: done$", since=mark)
        q.wait_for(r"^netstack: eth0 re-attached to a new driver", since=mark)
        command(q, "ifconfig\r", r"^    MAC 52:54:00:12:34:56, driver attached, "
                                 r"re-attached 1 time$")
        command(q, "ps\r", r"^netstack\s+running\s+0\s+0$")
        assert "injecting fault wild" not in q.output()
        assert q.output().count("injecting fault hang") == 1, q.output()
