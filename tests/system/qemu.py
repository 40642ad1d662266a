"""Boot Mica in QEMU and read its serial console.

Every QEMU started here has a deadline and is killed (by its own PID) when
the test ends, pass or fail. Console output is collected by a reader thread
as the rows a terminal would show (Screen): the console's line under the
log, which the kernel erases and draws again around other output, leaves
no trace in the rows that scroll up, so a log line printed above a prompt
reads as itself. Tests wait for regular expressions with a timeout.
"""
import os
import re
import shutil
import subprocess
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")

# Under TCG a boot takes seconds; on a loaded 2-core CI machine, more.
BOOT_TIMEOUT = float(os.environ.get("MICA_BOOT_TIMEOUT", "90"))

# QEMU's isa-debug-exit turns a guest write of v into exit status (v<<1)|1.
EXIT_PASS = (0x10 << 1) | 1
EXIT_FAIL = (0x11 << 1) | 1


def stop_process(proc, grace=10):
    """End a child started here: SIGTERM, up to grace seconds to exit,
    then SIGKILL; reaped either way. Nothing if it has exited already."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Screen:
    """A terminal's rows from the bytes sent to it: a row is finished at a
    line feed; carriage return, backspace, erase in line (ESC [ K) and
    cursor moves along the row (ESC [ n C, D, G) act as a VT100's do, and
    other control bytes and escape sequences show nothing."""

    def __init__(self):
        self.row = bytearray()
        self.col = 0
        self.state = None           # None, "esc", "csi", "ss3"
        self.params = b""
        self.bells = 0              # BEL bytes seen

    def text(self):
        """The row being written (for example the console's prompt)."""
        return self.row.decode("utf-8", "replace")

    def feed(self, data):
        """Take bytes; return the rows they finished."""
        done = []
        for b in data:
            if self.state == "esc" and b >= 0x20:
                self.state = {0x5B: "csi", 0x4F: "ss3"}.get(b)
                self.params = b""
            elif self.state == "ss3" and b >= 0x20:
                self.state = None
            elif self.state == "csi" and b >= 0x20:
                if 0x40 <= b <= 0x7E:
                    self.state = None
                    self._csi(b)
                else:
                    self.params += bytes([b])
            else:
                self.state = None       # a control byte ends a sequence
                self._byte(b, done)
        return done

    def _byte(self, b, done):
        if b == 0x1B:
            self.state = "esc"
        elif b == 0x07:
            self.bells += 1
        elif b == 0x0A:
            done.append(self.text())
            self.row = bytearray()
            self.col = 0
        elif b == 0x0D:
            self.col = 0
        elif b == 0x08:
            self.col = max(0, self.col - 1)
        elif b >= 0x20 and b != 0x7F or b == 0x09:
            if self.col > len(self.row):
                self.row += b" " * (self.col - len(self.row))
            self.row[self.col:self.col + 1] = bytes([b])
            self.col += 1

    def _csi(self, final):
        first = self.params.split(b";")[0]
        n = int(first) if first.isdigit() else 0
        if final == ord("K"):
            if n == 0:
                del self.row[self.col:]
            elif n == 1:
                self.row[:self.col + 1] = b" " * min(self.col + 1, len(self.row))
            else:
                self.row = bytearray()
        elif final == ord("C"):
            self.col += max(n, 1)
        elif final == ord("D"):
            self.col = max(0, self.col - max(n, 1))
        elif final == ord("G"):
            self.col = max(n, 1) - 1


class Qemu:
    def __init__(self, args, name="qemu", memory="256M", test_device=False, prefix=()):
        self.name = name
        cmd = list(prefix) + [QEMU, "-machine", "pc", "-cpu", "max", "-m", memory, "-smp", "1",
               "-display", "none", "-monitor", "none", "-serial", "stdio",
               "-no-reboot", "-nic", "none"]
        if test_device:
            cmd += ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        self.cmd = cmd + list(args)
        self.lines = []
        self.arrivals = []      # time.monotonic() when each line was read
        self.screen = Screen()
        self.lock = threading.Condition()
        self.proc = None
        self.reader = None

    def start(self):
        # The serial console reads what send() writes to QEMU's stdin.
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _read(self):
        for data in iter(lambda: self.proc.stdout.read1(4096), b""):
            now = time.monotonic()
            with self.lock:
                lines = self.screen.feed(data)
                self.lines += lines
                self.arrivals += [now] * len(lines)
                self.lock.notify_all()
        with self.lock:
            self.lock.notify_all()

    def send(self, line):
        """Type a line on the guest's serial console."""
        self.type(line + "\n")

    def type(self, keys):
        """Send keys as they are (escape sequences, control characters)."""
        self.proc.stdin.write(keys.encode() if isinstance(keys, str) else keys)
        self.proc.stdin.flush()

    def row(self):
        """The row the cursor is on, not finished yet (the console's prompt
        and what is typed on it)."""
        with self.lock:
            return self.screen.text()

    def wait_row(self, pattern, timeout=30):
        """Wait until the unfinished row matches pattern; return the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                m = regex.search(self.screen.text())
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError(
                        f"{self.name}: the row {self.screen.text()!r} does not match "
                        f"{pattern!r} after {timeout:.0f} s; console so far:\n{self.output()}")
                self.lock.wait(min(left, 0.5))

    def mark(self):
        """A position in the output, for wait_for(..., since=mark)."""
        with self.lock:
            return len(self.lines)

    def output(self):
        with self.lock:
            return "\n".join(self.lines)

    def wait_for(self, pattern, timeout=BOOT_TIMEOUT, since=0):
        """Wait until a console line (from line `since` on) matches
        pattern; return the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = since
        with self.lock:
            while True:
                for line in self.lines[seen:]:
                    m = regex.search(line)
                    if m:
                        return m
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError(
                        f"{self.name}: no line matching {pattern!r} within "
                        f"{timeout:.0f} s (QEMU exit status {self.proc.poll()}); "
                        f"console so far:\n{self.output()}")
                self.lock.wait(min(left, 0.5))

    def wait_exit(self, timeout=BOOT_TIMEOUT):
        """QEMU's exit status, once it has exited and the reader has taken
        all it wrote (its last lines may still be in the pipe when it
        exits: on a loaded host the reader is behind)."""
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name}: QEMU still running after {timeout:.0f} s;"
                                 f" console:\n{self.output()}")
        self.reader.join(timeout=30)
        return status

    def stop(self):
        if self.proc and self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if self.proc:
            stop_process(self.proc)
        if self.reader:
            self.reader.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def build_path(*parts):
    path = os.path.join(BUILD, *parts)
    if not os.path.exists(path):
        raise AssertionError(f"{path} is missing: run `make all` first")
    return path


def boot_init(tmp_path, manifest_text, modules, name, prefix=(), memory="256M"):
    """A Qemu (not started) booting the kernel with init, this manifest and
    more boot modules: (host path, module name) pairs; prefix and memory
    as Qemu's."""
    manifest = tmp_path / "manifest"
    manifest.write_text(manifest_text)
    mods = [(build_path("init.elf"), "init"), (str(manifest), "manifest")] + list(modules)
    return Qemu(["-kernel", build_path("kernel.elf"), "-append", "loglevel=2",
                 "-initrd", ",".join(f"{p} {n}" for p, n in mods)], name=name, prefix=prefix,
                memory=memory)


def module_files():
    """The boot modules as (name, host path), from the TFTP tree's script."""
    script = build_path("tftp", "boot.ipxe")
    mods = []
    with open(script) as f:
        for line in f:
            words = line.split()
            if words and words[0] == "module":
                mods.append((words[-1], os.path.join(BUILD, "tftp", words[1])))
    return mods


def have_qemu():
    return shutil.which(QEMU) is not None
