"""Network namespaces with tap devices for tests that send real frames.

Everything a test creates lives in a namespace it owns: the tap devices,
QEMU (started inside it with `ip netns exec`, so its PID is QEMU's), dnsmasq
(Dnsmasq) and the raw sockets. Nothing is sent in the root namespace. The
namespace is deleted when the test ends, pass or fail.
"""
import ctypes
import json
import os
import socket
import subprocess
import threading
import time

from qemu import stop_process

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6

_counter = 0


def ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def can_run():
    """Root with /dev/net/tun: what these tests need."""
    return os.geteuid() == 0 and os.path.exists("/dev/net/tun")


class Netns:
    def __init__(self, hint):
        global _counter
        _counter += 1
        self.name = f"mica-{os.getpid()}-{_counter}-{hint}"[:40]
        self.taps = []

    def __enter__(self):
        ip("netns", "add", self.name)
        self.exec_quiet("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                        "net.ipv6.conf.default.disable_ipv6=1")
        ip("-n", self.name, "link", "set", "lo", "up")
        return self

    def __exit__(self, *exc):
        ip("netns", "delete", self.name, check=False)

    def exec_quiet(self, *cmd):
        subprocess.run(["ip", "netns", "exec", self.name, *cmd], check=True,
                       capture_output=True)

    def add_tap(self, tap, mtu=1500, txqueuelen=1000):
        ip("-n", self.name, "tuntap", "add", "dev", tap, "mode", "tap")
        ip("-n", self.name, "link", "set", tap, "mtu", str(mtu), "txqueuelen",
           str(txqueuelen), "up")
        self.taps.append(tap)
        return tap

    def prefix(self):
        """Command prefix that runs a program inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def link_mac(self, dev):
        """A device's MAC address, aa:bb:cc:dd:ee:ff."""
        out = ip("-j", "-n", self.name, "link", "show", dev).stdout
        return json.loads(out)[0]["address"]

    def link_stats(self, dev):
        out = ip("-j", "-s", "-n", self.name, "link", "show", dev).stdout
        return json.loads(out)[0]["stats64"]

    def in_ns(self, fn):
        """Run fn() on a thread that has entered the namespace; sockets it
        makes stay bound to the namespace."""
        result = {}

        def body():
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/var/run/netns/{self.name}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    result["error"] = OSError(ctypes.get_errno(), "setns")
                    return
                result["value"] = fn()
            except Exception as e:         # handed to the caller
                result["error"] = e
            finally:
                os.close(fd)

        t = threading.Thread(target=body)
        t.start()
        t.join()
        if "error" in result:
            raise result["error"]
        return result["value"]

    def raw_socket(self, dev):
        def make():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.bind((dev, 0))
            return s
        return RawSocket(self.in_ns(make))


class RawSocket:
    """Ethernet frames in and out of one tap, from the namespace side."""

    def __init__(self, sock):
        self.sock = sock

    def close(self):
        self.sock.close()

    def send(self, frame):
        self.sock.send(frame)

    def recv(self, timeout):
        """The next frame arriving from the guest, or None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                return None
            if addr[2] != PACKET_OUTGOING:
                return data

    def drops(self):
        """Frames the kernel dropped for this socket since the last call."""
        raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        return int.from_bytes(raw[4:8], "little")


class Dnsmasq:
    """dnsmasq in a namespace on one tap: DHCP from a range, fixed
    addresses for some MACs, and with tftp_root TFTP from that directory,
    boot.ipxe being the boot file for iPXE (which sends option 175); no DNS.
    Its log (every DHCP exchange with --log-dhcp, every file sent) and its
    leases are files in directory tmp. It runs as root (--no-daemon keeps
    its user), so it reads any tree. Started with the block, once it says
    so; stopped by its PID when the block ends, pass or fail."""

    def __init__(self, ns, tap, tmp, dhcp_range, hosts=(), tftp_root=None):
        self.log_path = os.path.join(tmp, "dnsmasq.log")
        self.leases_path = os.path.join(tmp, "leases")
        self.cmd = ns.prefix() + [
            "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
            f"--interface={tap}", "--bind-interfaces", "--no-resolv", "--no-hosts",
            f"--dhcp-range={dhcp_range}", f"--dhcp-leasefile={self.leases_path}",
            "--log-dhcp"]
        self.cmd += [f"--dhcp-host={mac},{addr}" for mac, addr in hosts]
        if tftp_root:
            self.cmd += ["--enable-tftp", f"--tftp-root={tftp_root}",
                         "--dhcp-match=set:ipxe,175", "--dhcp-boot=tag:ipxe,boot.ipxe"]
        self.proc = None

    def __enter__(self):
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 10
        while "dnsmasq: started" not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"dnsmasq did not start:\n{self.log()}")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        stop_process(self.proc)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def leases(self):
        try:
            with open(self.leases_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""
