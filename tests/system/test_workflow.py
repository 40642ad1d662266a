"""The developer workflow as README.md tells it: `make run NET=tap` (the
default manifest, and README's worked example of a second NIC),
`make pxe-run NET=tap` and `make gdb`, each run through make exactly as a
user types it.

make runs in a session of its own, so a signal the test sends (SIGINT for
gdb's Ctrl-C) reaches make's process group only. Every wait is bounded;
when a test ends, pass or fail, what it started is stopped: make's process
group, then QEMU by its PID, then the namespace if it is still there.
"""
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from netns import can_run
from qemu import BOOT_TIMEOUT, ROOT, have_qemu, module_files

pytestmark = pytest.mark.skipif(not have_qemu(), reason="needs QEMU")
needs_root = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def make_env():
    """The environment for an inner make: none of the outer make's flags
    (its jobserver, its T=)."""
    env = dict(os.environ)
    for var in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"):
        env.pop(var, None)
    return env


def netns_exists(name):
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return name in [line.split()[0] for line in out.splitlines() if line.strip()]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def qemu_pid_in(ns):
    """QEMU's PID among the namespace's processes (ip netns exec execs it),
    or None."""
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    for pid in out.split():
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().startswith("qemu"):
                    return int(pid)
        except FileNotFoundError:
            pass
    return None


class Lines:
    """Text arriving on a stream, collected by a reader thread and searched
    with a timeout."""

    def __init__(self, name, read):
        self.name = name
        self.text = ""
        self.cond = threading.Condition()
        self.done = False
        self.thread = threading.Thread(target=self._pump, args=(read,), daemon=True)
        self.thread.start()

    def _pump(self, read):
        while True:
            try:
                data = read()
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.done = True
                    self.cond.notify_all()
                    return
                self.text += ANSI.sub("", data.decode("utf-8", "replace")).replace("\r", "")
                self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.text)

    def wait_for(self, pattern, timeout=BOOT_TIMEOUT, since=0):
        """The first match of pattern (multiline) in the text from
        position since on; fails after timeout seconds."""
        regex = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = regex.search(self.text, since)
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.done:
                    raise AssertionError(f"{self.name}: nothing matching {pattern!r} within "
                                         f"{timeout:.0f} s; so far:\n{self.text}")
                self.cond.wait(min(left, 0.5))

    def absent(self, pattern, seconds, since):
        """True if nothing matching pattern arrives from since on within
        seconds."""
        try:
            self.wait_for(pattern, timeout=seconds, since=since)
        except AssertionError:
            return True
        return False


class Make:
    """`make ARGS...` in a session of its own, its output in self.out."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(["make", *args], cwd=ROOT, env=make_env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.out = Lines("make " + " ".join(args), lambda: self.proc.stdout.read1(4096))

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def signal(self, sig):
        """sig to make's process group, as a terminal sends Ctrl-C to the
        foreground group."""
        os.killpg(self.proc.pid, sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"make still running after {timeout} s; output:\n"
                                 f"{self.out.text}")

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.signal(signal.SIGTERM)
                self.proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    self.signal(signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self.out.thread.join(timeout=5)


@pytest.fixture(scope="module")
def restore_build():
    """`make run NET=tap` and MANIFEST= leave their manifest in the ISO;
    afterwards the ISO is made from the default one again, and holds it."""
    yield
    subprocess.run(["make", "-s", "iso"], cwd=ROOT, env=make_env(), check=True,
                   capture_output=True, timeout=300)
    with open(os.path.join(ROOT, "configs", "boot.manifest")) as want, \
            open(os.path.join(ROOT, "build", "iso", "boot", "manifest")) as got:
        assert got.read() == want.read(), "the ISO kept another manifest"


def ping_until_up(command, deadline):
    """Run the printed ping command, one probe at a time, until the guest
    answers or the deadline passes; return the last run."""
    while True:
        run = subprocess.run(shlex.split(command) + ["-c", "1", "-W", "1"],
                             capture_output=True, text=True, timeout=10)
        if run.returncode == 0 or time.monotonic() > deadline:
            return run
        time.sleep(1)


def run_net_tap(extra, guests, target="run", up=None, check=None):
    """`make TARGET NET=tap` with the extra arguments; once the console
    shows up (a pattern), if given, ping each guest address with the
    command it prints; check(make, ns), if given, while the guest answers;
    quit QEMU with Ctrl-A X; the namespace must be gone. Returns the
    printed iperf command and make's output."""
    ns = f"mica-wf-{os.getpid()}"
    assert not netns_exists(ns)
    make = Make(target, "NET=tap", f"NETNS={ns}", *extra)
    qemu_pid = None
    try:
        make.out.wait_for(r"^tapnet: from another terminal", timeout=300)
        pings = {}
        for guest in guests:
            m = make.out.wait_for(rf"^\s+(ip netns exec {ns} ping {re.escape(guest)})$", timeout=10)
            pings[guest] = m.group(1)
        iperf = make.out.wait_for(rf"^\s+(ip netns exec {ns} iperf -c \S+)", timeout=10).group(1)
        if up:
            make.out.wait_for(up, timeout=BOOT_TIMEOUT)
        deadline = time.monotonic() + BOOT_TIMEOUT
        for guest, command in pings.items():
            run = ping_until_up(command, deadline)
            assert run.returncode == 0, (f"{command}: no answer\n{run.stdout}{run.stderr}\n"
                                         f"console:\n{make.out.text}")
        qemu_pid = qemu_pid_in(ns)
        assert qemu_pid, "no QEMU in the namespace"
        if check:
            check(make, ns)
        make.send(b"\x01x")               # Ctrl-A X: QEMU quits
        status = make.wait(timeout=30)
        make.out.wait_for(rf"^tapnet: namespace {ns} removed", timeout=5)
        assert status == 0, make.out.text
        assert not netns_exists(ns)
        assert not pid_alive(qemu_pid)
        return iperf, make.out.text
    finally:
        make.stop()
        if qemu_pid and pid_alive(qemu_pid):
            os.kill(qemu_pid, signal.SIGKILL)
        if netns_exists(ns):
            subprocess.run(["ip", "netns", "delete", ns], check=False)


@pytest.mark.parametrize("target", ["run", "pxe-run"])
def test_make_run_on_the_user_network_says_how_to_reach_it(target):
    """make run and make pxe-run on QEMU's user network (restrict=on) say
    that the host cannot reach the appliance there, and the NET=tap command
    that can (a new user saw 'Server listening on 5201' and 10.0.2.15 and
    nothing about how to reach them). QEMU=true: make's part only."""
    run = subprocess.run(["make", target, "QEMU=true"], cwd=ROOT, env=make_env(),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    line = next((l for l in run.stdout.splitlines() if "user-mode network" in l), None)
    assert line and f"sudo make {target} NET=tap" in line, run.stdout
    print(f"make {target}: says how to reach the appliance: {line}")


@needs_root
def test_make_run_net_tap_ping_and_iperf3(tmp_path, restore_build):
    """The default manifest on a tap: the printed ping command reaches
    10.1.0.2, and the printed iperf3 command, as README tells it, runs a
    test against Debian's `iperf3 -s` on Mica; the iperf 2 command is
    printed too."""
    ns = f"mica-wf-{os.getpid()}"
    results = {}

    def check(make, ns_name):
        iperf3 = make.out.wait_for(rf"^\s+(ip netns exec {ns} iperf3 -c 10\.1\.0\.2)\s+#",
                                   timeout=5).group(1)
        # (the console redraws its prompt around the log: not at a line start)
        make.out.wait_for(r"Server listening on 5201", timeout=BOOT_TIMEOUT)
        time.sleep(1)
        run = subprocess.run(shlex.split(iperf3) + ["-t", "2", "-J"], capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 0, f"{iperf3}: {run.stdout}{run.stderr}\n{make.out.text}"
        results["bytes"] = json.loads(run.stdout)["end"]["sum_received"]["bytes"]

    with open(os.path.join(ROOT, "README.md")) as f:
        assert "ip netns exec mica iperf3 -c 10.1.0.2" in f.read(), \
            "README does not say how to reach iperf3 -s"
    iperf, out = run_net_tap([], ["10.1.0.2"], check=check)
    assert iperf == f"ip netns exec {ns} iperf -c 10.1.0.2"
    assert results["bytes"] > 0
    assert "not served yet" not in out


def readme_two_nics():
    """README's worked example: the manifest block and the command line."""
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    manifest = re.search(r"```\n(# two-nics\.manifest.*?)```", readme, re.S)
    command = re.search(r"^sudo (make run NET=tap MANIFEST=two-nics\.manifest .*)$", readme, re.M)
    assert manifest and command, "README's two-NIC example is missing"
    return manifest.group(1), shlex.split(command.group(1))


@needs_root
def test_readme_second_nic_example(tmp_path, restore_build):
    """README's two-NIC example as written there (MANIFEST= and
    QEMU_ARGS=): both addresses answer pings, and the netstack's dma= has
    room for lwIP's heap (no line that every frame it sends is copied)."""
    manifest, command = readme_two_nics()
    path = tmp_path / "two-nics.manifest"
    path.write_text(manifest)
    assert command[:3] == ["make", "run", "NET=tap"]
    args = [f"MANIFEST={path}" if a.startswith("MANIFEST=") else a for a in command[3:]]
    assert any(a.startswith("MANIFEST=") for a in args)
    assert any(a.startswith("QEMU_ARGS=") for a in args)
    _, out = run_net_tap(args, ["10.1.0.2", "10.1.1.2"])
    assert "netstack: eth0 attached" in out and "lwIP's heap is not DMA memory" not in out, out


@needs_root
def test_make_pxe_run_net_tap(tmp_path, restore_build):
    """make pxe-run NET=tap: iPXE boots from dnsmasq in the namespace (its
    log names every file it sent, QEMU has no built-in TFTP), the appliance
    gets 10.1.0.2 by DHCP from it, the printed ping reaches it; after
    Ctrl-A X, dnsmasq, its directory and the namespace are gone."""
    mac = "52:54:00:12:34:56"
    files = ["boot.ipxe", "kernel"] + [name for name, _ in module_files()]
    seen = {}

    def check(make, ns):
        m = make.out.wait_for(rf"^tapnet: dnsmasq \(PID (\d+)\) on tap0: DHCP \({mac} gets "
                              r"10\.1\.0\.2\), TFTP from a copy of build/tftp; its log: (\S+)$",
                              timeout=5)
        seen["pid"], seen["log"] = int(m.group(1)), m.group(2)
        assert pid_alive(seen["pid"])
        with open(seen["log"]) as f:
            log = f.read()
        for name in files:
            assert re.search(rf"sent \S+/tftp/{re.escape(name)} to 10\.1\.0\.2$", log, re.M), \
                f"dnsmasq did not send {name}:\n{log}"
        assert f"DHCPACK(tap0) 10.1.0.2 {mac} mica" in log, log
        make.out.wait_for(r'boot: command line "tftp://10\.1\.0\.1/kernel ', timeout=5)

    # iPXE answers ping at 10.1.0.2 too: the pings wait for the netstack.
    _, out = run_net_tap([], ["10.1.0.2"], target="pxe-run",
                         up=r"netstack: eth0 up, 10\.1\.0\.2/24 \(dhcp\)$", check=check)
    m = re.search(r"^(tools/tapnet\.sh pxe .*(?:\n\t.*)*)", out, re.M)
    assert m and "tftp=" not in m.group(1) and "-netdev user" not in m.group(1), out
    assert not pid_alive(seen["pid"]), "dnsmasq still runs"
    assert not os.path.exists(os.path.dirname(seen["log"])), "dnsmasq's directory is left"


def test_console_py_asks_for_the_line_on_attach(tmp_path):
    """tools/console.py (make gdb's console client) sends Ctrl-L first, so
    the console draws its prompt for the newcomer, then what is typed."""
    path = str(tmp_path / "console.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.settimeout(10)
    client = subprocess.Popen([os.path.join(ROOT, "tools", "console.py"), path],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        conn, _ = server.accept()
        conn.settimeout(10)
        client.stdin.write(b"ps\r")
        client.stdin.close()            # end of input: the client leaves
        got = b""
        while chunk := conn.recv(4096):
            got += chunk
        assert got == b"\x0cps\r", got
        assert client.wait(timeout=10) == 0
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
        server.close()


def test_a_bad_manifest_fails_make_with_its_line(tmp_path):
    """MANIFEST= naming a manifest init would refuse, or no file: make
    fails before anything boots, says which line of which file and what is
    wrong, and leaves the manifest it had (and no half-made one) behind."""
    target = "build/boot.manifest"
    booted = os.path.join(ROOT, target)
    subprocess.run(["make", "-s", target], cwd=ROOT, env=make_env(), check=True,
                   capture_output=True, timeout=300)
    with open(booted) as f:
        before = f.read()
    bad = tmp_path / "bad.manifest"
    bad.write_text("# a typo on line 3\nprogram hello\n    modul hello\n")
    for manifest, message in [
            (bad, rf"^{re.escape(str(bad))}:3: unknown keyword 'modul' \(module, file, "),
            (tmp_path / "nonexistent", rf"^make: MANIFEST={re.escape(str(tmp_path))}/nonexistent: "
                                       r"no such file$")]:
        r = subprocess.run(["make", target, f"MANIFEST={manifest}"], cwd=ROOT, env=make_env(),
                           capture_output=True, text=True, timeout=300)
        assert r.returncode != 0, r.stdout + r.stderr
        assert re.search(message, r.stderr, re.M), r.stderr
        assert not os.path.exists(booted + ".new")
        with open(booted) as f:
            assert f.read() == before


def test_a_manifest_naming_a_module_make_does_not_build_fails_make(tmp_path):
    """A program (or a file) that no boot module holds, or a `lookup` of a
    name no program of the manifest registers: make fails with the
    manifest's FILE:LINE before anything boots."""
    target = "build/boot.manifest"
    for text, message in [
            ("# no such program\nprogram foo priority=120\n",
             r":2: program foo: no boot module 'foo' "),
            ("program console\n    file nosuch\n",
             r":1: program console: file 'nosuch' is no boot module$"),
            # A lookup line's typo: nothing registers that name.
            ("program e1000\n    pci 8086:100e\n    args name=eth0\n"
             "program netstack\n    lookup eht0\n",
             r":4: program netstack: 'lookup eht0': no driver here has that name \(eth0\) ")]:
        bad = tmp_path / "bad.manifest"
        bad.write_text(text)
        r = subprocess.run(["make", target, f"MANIFEST={bad}"], cwd=ROOT, env=make_env(),
                           capture_output=True, text=True, timeout=300)
        assert r.returncode != 0, r.stdout + r.stderr
        assert re.search("^" + re.escape(str(bad)) + message, r.stderr, re.M), r.stderr
        assert not os.path.exists(os.path.join(ROOT, target + ".new"))


@pytest.mark.parametrize("variable, message", [
    ("NIC=rtl8139", r"NIC=rtl8139: say NIC=e1000 or NIC=virtio-net-pci "),
    ("NET=bridge", r"NET=bridge: say NET=user "),
])
def test_an_unknown_nic_or_net_fails_make(variable, message):
    """A NIC model no driver drives, or a network make does not know:
    make stops before doing anything and says what it takes."""
    r = subprocess.run(["make", "-n", "run", variable], cwd=ROOT, env=make_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0, r.stdout
    assert re.search(message, r.stderr), r.stderr


def test_net_tap_manifest_says_static_where_it_said_dhcp():
    """The manifest NET=tap boots: eth0's address is static, no comment
    still says it comes from DHCP, and every line keeps its number (a bad
    line is reported where it is in MANIFEST=)."""
    src = os.path.join(ROOT, "configs", "boot.manifest")
    out = subprocess.run([os.path.join(ROOT, "tools", "tapnet.sh"), "manifest", src],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    with open(src) as f:
        original = f.read().splitlines()
    lines = out.splitlines()
    assert not [line for line in lines[:len(original)] if "eth0.addr=dhcp" in line]
    assert any("eth0.addr=10.1.0.2/24" in line for line in lines if not line.startswith("#"))
    assert not [line for line in lines if line.lstrip().startswith("#") and "from DHCP" in line]
    assert len(lines) == len(original) + 1 and lines[-1].startswith("# NET=tap: ")
    for mine, theirs in zip(lines, original):
        assert mine.lstrip().startswith("#") == theirs.lstrip().startswith("#")


def test_cmdline_change_remakes_grub_cfg_and_boot_ipxe():
    """CMDLINE= reaches the ISO's grub.cfg and the TFTP tree's boot.ipxe
    though both exist already, and going back to the default is seen too."""
    grub = os.path.join(ROOT, "build", "iso", "boot", "grub", "grub.cfg")
    ipxe = os.path.join(ROOT, "build", "tftp", "boot.ipxe")

    def make(*args):
        subprocess.run(["make", "-s", "iso", "tftp", *args], cwd=ROOT, env=make_env(),
                       check=True, capture_output=True, timeout=300)

    def kernel_lines():
        lines = []
        for path in (grub, ipxe):
            with open(path) as f:
                lines += [line for line in f if re.match(r"\s*(multiboot|kernel)\b", line)]
        assert len(lines) == 2, lines
        return lines

    make()
    try:
        make("CMDLINE=loglevel=3 mica.test=1")
        for line in kernel_lines():
            assert "loglevel=3 mica.test=1" in line, line
    finally:
        make()
    for line in kernel_lines():
        assert "loglevel=2" in line and "mica.test" not in line, line


def test_iso_and_tftp_hold_exactly_the_current_modules(restore_build):
    """A manifest with more boot modules (the router's, with its
    configuration file in the bundle), then the default one: the ISO's
    /boot and the TFTP tree hold the kernel and what grub.cfg and
    boot.ipxe load, the bundle what the manifest names, and nothing an
    earlier manifest left there."""
    boot = os.path.join(ROOT, "build", "iso", "boot")
    tftp = os.path.join(ROOT, "build", "tftp")

    def make(*args):
        subprocess.run(["make", "-s", "iso", "tftp", *args], cwd=ROOT, env=make_env(),
                       check=True, capture_output=True, timeout=600)

    def loaded(path, pattern):
        with open(path) as f:
            return {m.group(1) for m in re.finditer(pattern, f.read(), re.M)}

    def files(d):
        return {n for n in os.listdir(d) if os.path.isfile(os.path.join(d, n))}

    def bundled(d):
        return set(subprocess.run(["cpio", "-t", "--quiet", "-F", os.path.join(d, "bundle")],
                                  capture_output=True, text=True, check=True).stdout.split())

    make("MANIFEST=configs/router.manifest")
    assert "router.conf" in bundled(tftp) and "router.conf" in bundled(boot)
    make()
    assert "router.conf" not in bundled(tftp) | bundled(boot)
    want = loaded(os.path.join(boot, "grub", "grub.cfg"), r"^\s*module /boot/(\S+)")
    assert files(boot) == want | {"kernel"}
    want = loaded(os.path.join(tftp, "boot.ipxe"), r"^module (\S+)")
    assert files(tftp) == want | {"kernel", "boot.ipxe"}


def test_gdb_run_leaves_a_live_socket_alone(tmp_path):
    """A socket something listens on (another make gdb's) is not taken
    over: tools/gdb-run.sh refuses, says so, and the socket stays."""
    live = tmp_path / "gdb.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(live))
    server.listen(4)
    try:
        r = subprocess.run([os.path.join(ROOT, "tools", "gdb-run.sh"), "build/kernel.elf",
                            str(live), str(tmp_path / "console.sock"), "true"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert r.returncode == 1, r.stdout + r.stderr
        assert re.search(rf"^gdb-run: {re.escape(str(live))} is in use \(another make gdb\?\)",
                         r.stderr, re.M), r.stderr
        assert live.is_socket()
        assert "QEMU pid" not in r.stdout
    finally:
        server.close()


@pytest.mark.skipif(shutil.which("gdb") is None, reason="needs gdb")
def test_make_gdb_interrupt_and_continue(tmp_path):
    """make gdb: gdb runs the guest to kmain; Ctrl-C (SIGINT to make's
    process group) stops the guest without ending QEMU; gdb reads a symbol
    and a register; the console, on its own socket, answers nothing while
    the guest is stopped and answers after `continue`."""
    gdb_sock = str(tmp_path / "gdb.sock")
    con_sock = str(tmp_path / "console.sock")
    make = Make("gdb", f"GDB_SOCKET={gdb_sock}", f"CONSOLE_SOCKET={con_sock}")
    qemu_pid = None
    con = None
    try:
        qemu_pid = int(make.out.wait_for(r"^gdb-run: QEMU pid (\d+)", timeout=300).group(1))
        make.out.wait_for(r"Temporary breakpoint 1, kmain", timeout=BOOT_TIMEOUT)
        con = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        con.connect(con_sock)
        console = Lines("console", lambda: con.recv(4096))
        make.send(b"continue\n")

        # Running: the console's ps lists the netstack (asked again until
        # the console has started).
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:
            mark = console.mark()
            con.sendall(b"ps\r")
            if not console.absent(r"^netstack\s+\S", 3, since=mark):
                break
            assert time.monotonic() < deadline, f"no ps answer; console:\n{console.text}"

        mark = make.out.mark()
        make.signal(signal.SIGINT)        # Ctrl-C in gdb
        make.out.wait_for(r"Program received signal SIGINT", timeout=30, since=mark)
        assert pid_alive(qemu_pid), "QEMU ended on the SIGINT meant for gdb"
        make.send(b"print &kmain\ninfo registers rip\nmica-user\n")
        make.out.wait_for(r"\$1 = .* <kmain>", timeout=30, since=mark)
        make.out.wait_for(r"\brip\s+0x[0-9a-f]+", timeout=30, since=mark)
        make.out.wait_for(r"user programs: .*\bnetstack\b", timeout=30, since=mark)

        # Stopped: typed text waits in the UART; nothing comes back.
        mark = console.mark()
        con.sendall(b"ps\r")
        assert console.absent(r"^netstack\s+\S", 3, since=mark), \
            f"the console answered while the guest was stopped:\n{console.text[mark:]}"
        make.send(b"continue\n")
        console.wait_for(r"^netstack\s+\S", timeout=30, since=mark)

        mark = make.out.mark()
        make.signal(signal.SIGINT)
        make.out.wait_for(r"Program received signal SIGINT", timeout=30, since=mark)
        make.send(b"quit\n")
        make.wait(timeout=30)
        deadline = time.monotonic() + 10
        while pid_alive(qemu_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not pid_alive(qemu_pid), "QEMU still runs after gdb quit"
        assert not os.path.exists(gdb_sock) and not os.path.exists(con_sock)
    finally:
        if con:
            con.close()
        make.stop()
        if qemu_pid and pid_alive(qemu_pid):
            os.kill(qemu_pid, signal.SIGKILL)
