"""Sockets of Mica's POSIX server over a tap in a test namespace: in one
boot, tests/posix/sockets.c (musl, glibc, dynamically linked) against a
peer in the namespace prints the same lines on Mica as on the host's
Linux (run in the namespace against the same peer). In another, the
default appliance as built (build/tftp's init, manifest and bundle;
configs/boot.manifest: its address from DHCP, the POSIX server running
Debian's iperf3 as shipped, `iperf3 -s`) with Debian's iperf3 client
(the host's) in the namespace against it: TCP both ways, UDP at 100
Mbit/s, four parallel streams, JSON output parsed, runs back to back, a
client killed in the middle of a test and the next run still served, the
NIC driver and the netstack killed and new tests served once they are
back, and the POSIX server killed: init starts it again and it starts
`iperf3 -s` again. Every run is bounded in time (-t, and a timeout on
each client and peer connection); a client that overruns its timeout
fails the test with what shows where it waits (Rig.overran: the
namespace's sockets, the client's own output, the console's ps and
ifconfig and its last lines)."""
import errno
import json
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from netns import Dnsmasq, Netns, can_run
from qemu import Qemu, build_path, module_files
from tcp_wire import ACK, SYN, tcp_frame, tcp_of
from test_posix import default_signals, on_mica

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

GUEST = "10.1.2.2"
HOST = "10.1.2.1"
GUEST_MAC = "52:54:00:00:00:01"
CLIENT_TIMEOUT = 60     # seconds any one client run may take
CONTROL, UDP_ECHO = 7770, 7771      # the peer's ports (tests/posix/sockets.c)
SOCKETS = ["sockets-musl", "sockets-glibc", "sockets-dyn"]
# recvmmsg, sendmmsg and the UDP receive buffer (tests/posix/mmsg.c)
MMSG = ["mmsg-musl", "mmsg-glibc", "mmsg-dyn"]
# interfaces, netlink, /proc/net and 127.0.0.1 (tests/posix/netif.c)
NETIF = ["netif-musl", "netif-glibc", "netif-dyn"]
# ICMP errors to UDP sockets, lo in /proc/net/dev, neighbours, a dump
# asked while one is read (tests/posix/netstate.c)
NETSTATE = ["netstate-musl", "netstate-glibc", "netstate-dyn"]
# port unreachables over lo, not rate-limited (tests/posix/icmplo.c)
ICMPLO = ["icmplo-musl", "icmplo-glibc", "icmplo-dyn"]
# a TCP stream's readiness as data keeps coming: poll after partial reads
# and after a drain, EPOLLET's edge for every arrival (tests/posix/tcpedges.c)
TCPEDGES = ["tcpedges-musl", "tcpedges-glibc", "tcpedges-dyn"]
# a UDP socket's readiness as datagrams keep coming: poll after partial
# drains, peeks and recvmmsg, with a full buffer, EPOLLET's edge for every
# datagram (tests/posix/udpedges.c)
UDPEDGES = ["udpedges-musl", "udpedges-glibc", "udpedges-dyn"]
# UDP datagrams sent in bursts to the peer's echo, each checked, and the
# errors a send reports after them (tests/posix/udpburst.c; the POSIX
# server's batches, posix-server/socket_batch.c)
UDPBURST = ["udpburst-musl", "udpburst-glibc", "udpburst-dyn"]
# Mica only (Linux differs by design): a TCP listener closed and opened
# again on the same port at once keeps the connections queued meanwhile
# (tests/posix/relisten.c; posix-server/socket_linger.c).
RELISTEN = "relisten-musl"
# Mica only: busybox's network tools as shipped, in one shell (the second
# busybox run): a listener of its own for netstat, then each tool, and
# nslookup asking 127.0.0.1, where nothing answers (no resolver runs).
NET_TOOLS = ("busybox sh -c 'busybox nc -l -p 7777 & busybox sleep 1; "
             "echo netstat; busybox netstat -tuan; echo route; busybox route -n; "
             "echo ifconfig; busybox ifconfig; echo addr; busybox ip addr; "
             "echo link; busybox ip link; echo iproute; busybox ip route; "
             "echo nslookup; busybox nslookup -timeout=1 -retry=1 mica 127.0.0.1; "
             "echo set; busybox ip addr add 10.9.9.9/24 dev eth0; busybox ip route add 10.8.0.0/16 "
             "via 10.1.2.1; busybox ifconfig eth0 mtu 1400; busybox route add -net 10.7.0.0/16 gw "
             "10.1.2.1; echo after; busybox ip addr; busybox route -n; kill $!; exit 0'")


class Peer:
    """What tests/posix/sockets.c talks to, in the namespace: TCP port
    7770 takes a command line (echo: echo until the end; back PORT:
    connect to the client's address at PORT, send "hello\\n", close after
    its end; rst: close with a reset; source N: N bytes; drip N K MS: N
    bytes K times (at most 10), MS ms apart (at most 2000); many PORT N:
    start N connections to the client's PORT at once, answer "done\n"
    half a second later, close them at the command's end; later MS PORT:
    after MS ms (at most 2000) connect to the client's PORT, answer
    "accepted", "refused" or "failed"), UDP 7771 echoes. Every connection times out after 20 s."""

    def __init__(self, ns):
        self.ns = ns
        self.tcp = ns.in_ns(lambda: socket.create_server((HOST, CONTROL), reuse_port=False))
        self.udp = ns.in_ns(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        self.udp.bind((HOST, UDP_ECHO))
        self.tcp.settimeout(1)
        self.udp.settimeout(1)
        self.stop = False
        self.threads = [threading.Thread(target=self._accept, daemon=True),
                        threading.Thread(target=self._udp, daemon=True)]
        for t in self.threads:
            t.start()

    def close(self):
        self.stop = True
        for t in self.threads:
            t.join(timeout=5)
        self.tcp.close()
        self.udp.close()

    def _udp(self):
        while not self.stop:
            try:
                data, addr = self.udp.recvfrom(65536)
                self.udp.sendto(data, addr)
            except OSError:
                pass

    def _accept(self):
        while not self.stop:
            try:
                conn, addr = self.tcp.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn, addr), daemon=True).start()

    def _serve(self, conn, addr):
        conn.settimeout(20)
        try:
            line = b""
            while not line.endswith(b"\n"):
                c = conn.recv(1)
                if not c:
                    return
                line += c
            words = line.split()
            if words[0] == b"echo":
                while (data := conn.recv(65536)):
                    conn.sendall(data)
            elif words[0] == b"rst":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            elif words[0] == b"back":
                back = self.ns.in_ns(lambda: socket.create_connection((addr[0], int(words[1])),
                                                                      timeout=20))
                back.sendall(b"hello\n")
                back.shutdown(socket.SHUT_WR)
                back.recv(1)
                back.close()
            elif words[0] == b"many":
                socks = []
                try:
                    for _ in range(min(int(words[2]), 16)):
                        c = self.ns.in_ns(lambda: socket.socket(socket.AF_INET,
                                                                socket.SOCK_STREAM))
                        socks.append(c)
                        c.setblocking(False)
                        c.connect_ex((addr[0], int(words[1])))
                    time.sleep(0.5)
                    conn.sendall(b"done\n")
                    conn.recv(1)
                finally:
                    for c in socks:
                        c.close()
            elif words[0] == b"later":
                time.sleep(min(int(words[1]), 2000) / 1000)
                try:
                    c = self.ns.in_ns(lambda: socket.create_connection(
                        (addr[0], int(words[2])), timeout=3))
                    c.close()
                    conn.sendall(b"accepted\n")
                except ConnectionRefusedError:
                    conn.sendall(b"refused\n")
                except OSError:
                    conn.sendall(b"failed\n")
            elif words[0] == b"source":
                conn.sendall(bytes(i % 251 for i in range(int(words[1]))))
            elif words[0] == b"drip":
                for _ in range(min(int(words[2]), 10)):
                    time.sleep(min(int(words[3]), 2000) / 1000)
                    conn.sendall(bytes(min(int(words[1]), 65536)))
                conn.recv(1)
        except OSError:
            pass
        finally:
            conn.close()


class Rig:
    """QEMU on tap0 in a namespace (the test's), and Debian's iperf3
    client against it."""

    def __init__(self, ns):
        self.ns = ns
        self.qemu = None
        self.ended = None       # console mark when the last client ended

    def __enter__(self):
        self.qemu.start()
        return self

    def __exit__(self, *exc):
        self.qemu.stop()

    def listening_again(self):
        """Until Mica's iperf3 listens again after the last client's run:
        it closes its listening socket after each test and makes a new
        one, so a client that connects before that is reset with the old
        one (on Linux too, where the window is shorter). Its "Server
        listening" line since that run ended says so; at most a second
        (a run that made no new listener: a client told busy)."""
        if self.ended is not None:
            try:
                wait_listening(self, timeout=1, since=self.ended)
            except AssertionError:
                pass

    def client(self, *args, timeout=CLIENT_TIMEOUT):
        """Debian's iperf3 client in the namespace against Mica, once
        iperf3 listens again (listening_again): its -J output parsed
        (and its exit status checked)."""
        self.listening_again()
        code, out, err = self.run_client(*args, timeout=timeout)
        assert code == 0, (f"iperf3 {args} exited {code}:\n{out}\n"
                           f"{err}\nconsole:\n{self.qemu.output()}")
        res = json.loads(out)
        assert "error" not in res, (args, res, "\n".join(self.qemu.output().splitlines()[-60:]))
        return res

    def start_client(self, *args):
        """Debian's iperf3 client (-J) started in the namespace against Mica."""
        return subprocess.Popen(self.ns.prefix() + ["iperf3", "-c", GUEST, "-J", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_client(self, proc, args, timeout=CLIENT_TIMEOUT):
        """(exit status, stdout, stderr) of a client start_client started.
        One still running after timeout seconds fails the test with what
        shows where it waits (overran)."""
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.overran(proc, args, timeout)
        finally:
            self.ended = self.qemu.mark()
        return proc.returncode, out, err

    def run_client(self, *args, timeout=CLIENT_TIMEOUT):
        return self.wait_client(self.start_client(*args), args, timeout)

    def overran(self, proc, args, timeout):
        """A client that did not finish in time: the namespace's TCP and
        UDP sockets as `ss -tuinoe` shows them (states, queues, timers,
        retransmissions, windows), the console's ps and ifconfig, then
        the client ended with SIGTERM (iperf3 prints its JSON so far,
        with "interrupt - the client has terminated"; SIGKILL 10 s
        later), and the test failed with all of it and the console's
        tail."""
        ss = subprocess.run(self.ns.prefix() + ["ss", "-tuinoe"], capture_output=True,
                            text=True, timeout=30).stdout
        mark = self.qemu.mark()
        self.qemu.send("ps")
        self.qemu.send("ifconfig")
        try:
            self.qemu.wait_for(r"^UDP: \d+ datagrams in", since=mark, timeout=20)
        except AssertionError:
            pass                # the console's answer is shown as far as it came
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        tail = "\n".join(self.qemu.output().splitlines()[-150:])
        raise AssertionError(f"iperf3 -c {GUEST} -J {' '.join(args)} did not finish in "
                             f"{timeout} s\nss -tuinoe in the namespace:\n{ss}\n"
                             f"client's stdout (after SIGTERM):\n{out[-6000:]}\n"
                             f"client's stderr:\n{err[-2000:]}\nconsole's last lines:\n{tail}")


class PosixRig(Rig):
    """e1000, the netstack and the POSIX server running `runs` (one
    program a line)."""

    def __init__(self, ns, tmp_path, runs):
        super().__init__(ns)
        tap = ns.add_tap("tap0")
        ns.exec_quiet("ip", "addr", "add", f"{HOST}/24", "dev", tap)
        (tmp_path / "runs").write_text(runs)
        manifest = ("program eth0 dma=64 priority=150 restart=on-crash retries=3\n"
                    "    module e1000\n    pci 00:03.0\n    args name=eth0\n"
                    "program netstack dma=4096 priority=100 restart=on-crash retries=3\n"
                    f"    lookup eth0\n    args nic=eth0 eth0.addr={GUEST}/24 eth0.gw={HOST}\n"
                    "program posix-server priority=90 quota=40960 memory=131072\n"
                    "    file rootfs\n    file runs\n    ioports 0x70-0x71\n"
                    "    lookup net-lend\n    args runfile=runs\n")
        path = tmp_path / "manifest"
        path.write_text(manifest)
        mods = [(build_path("init.elf"), "init"), (str(path), "manifest"),
                (build_path("drivers", "e1000.elf"), "e1000"),
                (build_path("netstack.elf"), "netstack"),
                (build_path("posix-server.elf"), "posix-server"),
                (build_path("posix", "rootfs.cpio"), "rootfs"),
                (str(tmp_path / "runs"), "runs")]
        args = ["-kernel", build_path("kernel.elf"), "-append", "loglevel=2",
                "-initrd", ",".join(f"{p} {n}" for p, n in mods),
                "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
                "-device", f"e1000,netdev=n0,mac={GUEST_MAC},addr=3"]
        self.qemu = Qemu(args, name="posix-sockets", memory="512M", prefix=ns.prefix())


class ApplianceRig(Rig):
    """The default appliance as `make tftp` built it (init, the manifest
    and the bundle, the modules iPXE and GRUB load) with an e1000 (or
    nic, a QEMU device model: virtio-net-pci) on tap0, QEMU's memory as
    every test's (256 MiB): the netstack gets GUEST from dnsmasq in the
    namespace (the NIC's fixed address there). server_args, if given,
    stand for the POSIX server's `run=iperf3:-s` in a copy of the
    manifest (e.g. other programs to run, syscount=1)."""

    def __init__(self, ns, tmp_path, nic="e1000", server_args=None):
        super().__init__(ns)
        tap = ns.add_tap("tap0")
        ns.exec_quiet("ip", "addr", "add", f"{HOST}/24", "dev", tap)
        with open(build_path("tftp", "manifest")) as f:
            text = f.read()
        assert re.search(r"\beth0\.addr=dhcp\b", text), \
            "build/tftp/manifest does not ask DHCP (built with NET=tap?): run make tftp"
        mods = module_files()
        assert [n for n, _ in mods] == ["init", "manifest", "bundle"], mods
        if server_args is not None:
            assert "    args run=iperf3:-s\n" in text, text
            (tmp_path / "manifest").write_text(
                text.replace("    args run=iperf3:-s\n", f"    args {server_args}\n"))
            mods[1] = ("manifest", str(tmp_path / "manifest"))
        args = ["-kernel", build_path("kernel.elf"), "-append", "loglevel=2",
                "-initrd", ",".join(f"{p} {n}" for n, p in mods),
                "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
                "-device", f"{nic},netdev=n0,mac={GUEST_MAC},addr=3"]
        self.qemu = Qemu(args, name="appliance-iperf3", prefix=ns.prefix())
        self.dnsmasq = Dnsmasq(ns, tap, str(tmp_path), f"{GUEST},{GUEST},255.255.255.0,1h",
                               hosts=[(GUEST_MAC, GUEST)])

    def __enter__(self):
        self.dnsmasq.__enter__()
        try:
            return super().__enter__()
        except BaseException:
            self.dnsmasq.stop()
            raise

    def __exit__(self, *exc):
        try:
            super().__exit__(*exc)
        finally:
            self.dnsmasq.stop()


def line_of(rig, pattern, since, timeout):
    """Wait for a console line matching pattern (from line since on);
    its index, for a later wait_for(..., since=index)."""
    rig.qemu.wait_for(pattern, since=since, timeout=timeout)
    lines = rig.qemu.output().splitlines()
    return next(i for i in range(since, len(lines)) if re.search(pattern, lines[i]))


def wait_listening(rig, timeout=120, since=0):
    rig.qemu.wait_for(r"^Server listening on 5201", timeout=timeout, since=since)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("posixnet")
    runs = "".join(f"{name} {HOST}\n" for name in SOCKETS + MMSG + NETIF + NETSTATE +
                   ICMPLO + TCPEDGES + UDPEDGES + UDPBURST + [RELISTEN]) + \
        "busybox cat /proc/net/dev\n" + NET_TOOLS + "\n"
    with Netns("posixnet") as ns:
        rig = PosixRig(ns, tmp, runs)      # the tap and its address
        peer = Peer(ns)
        try:
            with rig as r:
                r.qemu.wait_for(r"^posix: all programs ended", timeout=300)
                yield r
        finally:
            peer.close()


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("appliance")
    with Netns("posixapp") as ns:
        with ApplianceRig(ns, tmp) as r:
            r.qemu.wait_for(rf"^netstack: eth0 up, {re.escape(GUEST)}/24 \(dhcp\)$",
                            timeout=120)
            wait_listening(r, timeout=180)
            yield r


def on_linux_in_ns(ns, name):
    """(stdout lines, how it ended) of the program run on the host inside
    the namespace, against the same peer."""
    r = subprocess.run(ns.prefix() + [build_path("posix", name), HOST], capture_output=True,
                       text=True, timeout=120, preexec_fn=default_signals)
    end = f"killed by signal {-r.returncode}" if r.returncode < 0 else \
        f"exited with status {r.returncode}"
    return r.stdout.splitlines(), end


@pytest.mark.parametrize("name", SOCKETS + MMSG + NETIF + NETSTATE + ICMPLO + TCPEDGES +
                         UDPEDGES + UDPBURST)
def test_posix_sockets_print_as_on_linux(rig, name):
    linux_lines, linux_end = on_linux_in_ns(rig.ns, name)
    assert linux_lines[-1:] == [f"{name.split('-')[0]}: done"], linux_lines
    mica_lines, mica_end = on_mica(rig.qemu.output(), name)
    assert mica_lines == linux_lines, "\n".join(
        f"{a!r:60} {b!r}" for a, b in zip(linux_lines + [""] * 99, mica_lines + [""] * 99)
        if a or b)
    assert (mica_end, linux_end) == ("exited with status 0", "exited with status 0")


def test_listener_opened_again_at_once_takes_over_its_connections(rig):
    """iperf3 -s closes its listener after each test and makes a new one
    on the same port (issue 18: a client started right after the last
    one was refused or reset). On Mica a connection queued before the
    close is accepted by the new listener and carries data; the close
    followed by a connect (which ends the lingering) is refused, as on
    Linux. Linux resets the queued connection at the close: checked too,
    so that the program is known to test what it says. A listener closed
    by a process that then makes no call is closed after 500 ms: the
    peer's connect 1 s after is refused, on both (it was accepted on
    Mica: the linger's end waited for another timer, up to 5 s). A listen
    with another backlog takes nothing over, on both (Mica's kept the old
    listener's backlog)."""
    linux, linux_end = on_linux_in_ns(rig.ns, RELISTEN)
    assert "after relisten: none" in linux and linux_end == "exited with status 0", linux
    assert "connect 1 s after a close, the process busy: refused" in linux, linux
    assert "after relisten with another backlog: none" in linux, linux
    lines, end = on_mica(rig.qemu.output(), RELISTEN)
    assert lines == ["connect: 0 0", "queued: yes", "after relisten: a connection",
                     "it carries data: yes", "after relisten with another backlog: none",
                     "connect after a plain close: -1 ECONNREFUSED",
                     "connect 1 s after a close, the process busy: refused",
                     "relisten: done"], lines
    assert end == "exited with status 0"


def test_proc_net_dev_shows_the_netstacks_interface_and_counters(rig):
    # After the sockets programs' traffic: Linux's two header lines, then
    # the netstack's interface (asked over netmgmt) with packets counted
    # both ways.
    lines, end = on_mica(rig.qemu.output(), "busybox")
    assert end == "exited with status 0"
    with open("/proc/net/dev") as f:
        assert lines[:2] == f.read().splitlines()[:2]
    counted = [line for line in lines[2:]
               if (m := re.match(r"^ *(\S+): +(\d+) +(\d+)( +\d+){6} +(\d+) +(\d+)( +\d+){6}$", line))
               and int(m.group(3)) > 0 and int(m.group(6)) > 0]
    assert len(counted) >= 1, lines


def net_tools_sections(rig):
    """The busybox network tools' output on Mica, by the name echoed
    before each (NET_TOOLS)."""
    lines, end = on_mica(rig.qemu.output(), "busybox", nth=1)
    assert end == "exited with status 0", lines
    sections, name = {}, None
    for line in lines:
        if line in ("netstat", "route", "ifconfig", "addr", "link", "iproute", "nslookup", "set",
                    "after"):
            name = line
            sections[name] = []
        elif name:
            sections[name].append(line)
    return sections


def test_busybox_network_tools_show_the_appliance(rig):
    # ip (netlink), ifconfig (the SIOCGIF ioctls), route and netstat
    # (/proc/net/route, tcp, udp) name the appliance's own interface,
    # address, MAC and routes as the netstack has them (the manifest:
    # eth0.addr=GUEST/24 eth0.gw=HOST).
    s = net_tools_sections(rig)
    text = {k: "\n".join(v) for k, v in s.items()}
    mac = GUEST_MAC.lower()
    assert re.search(r"^2: eth0: <[^>]*\bUP\b[^>]*> mtu 1500\b", text["link"], re.M), text["link"]
    assert re.search(rf"^\s+link/ether {mac} brd ff:ff:ff:ff:ff:ff", text["link"], re.M), text["link"]
    assert re.search(r"^1: lo: <[^>]*\bLOOPBACK\b[^>]*> mtu 65536\b", text["link"], re.M), text["link"]
    assert re.search(rf"^\s+inet {re.escape(GUEST)}/24 brd 10\.1\.2\.255 scope global eth0$",
                     text["addr"], re.M), text["addr"]
    assert re.search(r"^\s+inet 127\.0\.0\.1/8 scope host lo$", text["addr"], re.M), text["addr"]
    assert re.search(rf"^default via {re.escape(HOST)} dev eth0\b", text["iproute"], re.M), text["iproute"]
    assert re.search(rf"^10\.1\.2\.0/24 dev eth0 .*scope link\b.*src {re.escape(GUEST)}",
                     text["iproute"], re.M), text["iproute"]
    assert re.search(rf"^eth0\s.*HWaddr {mac}", text["ifconfig"], re.M | re.I), text["ifconfig"]
    assert re.search(rf"inet addr:{re.escape(GUEST)}\s+Bcast:10\.1\.2\.255\s+Mask:255\.255\.255\.0",
                     text["ifconfig"]), text["ifconfig"]
    assert re.search(r"^lo\s", text["ifconfig"], re.M), text["ifconfig"]
    assert re.search(rf"^0\.0\.0\.0\s+{re.escape(HOST)}\s+0\.0\.0\.0\s+UG\s.*eth0$",
                     text["route"], re.M), text["route"]
    assert re.search(r"^10\.1\.2\.0\s+0\.0\.0\.0\s+255\.255\.255\.0\s+U\s.*eth0$",
                     text["route"], re.M), text["route"]
    assert re.search(r"^tcp\s+0\s+0\s+0\.0\.0\.0:7777\s+0\.0\.0\.0:\*\s+LISTEN", text["netstat"],
                     re.M), text["netstat"]


def test_busybox_network_tools_cannot_change_the_netstack(rig):
    # Setting is refused as Linux refuses a process without
    # CAP_NET_ADMIN (netlink's NLMSG_ERROR EPERM, SIOCSIFMTU and
    # SIOCADDRT EPERM), and nothing changed.
    s = net_tools_sections(rig)
    out, after = "\n".join(s["set"]), "\n".join(s["after"])
    assert out.count("RTNETLINK answers: Operation not permitted") == 2, out
    assert re.search(r"SIOCSIFMTU: Operation not permitted", out), out
    assert re.search(r"SIOCADDRT: Operation not permitted", out), out
    assert "10.9.9.9" not in after and "10.8.0.0" not in after and "10.7.0.0" not in after, after
    assert re.search(r"mtu 1500\b", after), after


def test_busybox_nslookup_to_127_0_0_1_is_sent(rig):
    # resolv.conf names 127.0.0.1, where nothing answers: as on Linux the
    # query goes out over lo and times out (it was "Network is
    # unreachable": the netstack had no loopback).
    out = "\n".join(net_tools_sections(rig)["nslookup"])
    assert "unreachable" not in out, out
    assert "connection timed out; no servers could be reached" in out, out


def tcp_bits(result, key):
    return result["end"][key]["bits_per_second"]


def test_iperf3_tcp_to_mica(appliance):
    res = appliance.client("-t", "10")
    assert res["end"]["sum_received"]["bytes"] > 1 << 20, res["end"]
    assert tcp_bits(res, "sum_received") > 1e6


def test_iperf3_tcp_from_mica_reverse(appliance):
    res = appliance.client("-t", "10", "-R")
    assert res["start"]["test_start"]["reverse"] == 1
    assert res["end"]["sum_received"]["bytes"] > 1 << 20, res["end"]


def eth0_counters(rig):
    """The console's ifconfig of eth0, as numbers: the netstack's rx and
    tx drops, the driver's frames it had no buffer for, the buffers lwIP
    holds, and the frames copied out of the pool past lwIP's share
    (NETMGMT_IF_INFO, docs/netmgmt.md)."""
    mark = rig.qemu.mark()
    rig.qemu.send("ifconfig")
    rig.qemu.wait_for(r"^    bad descriptors \d+", since=mark, timeout=30)
    text = "\n".join(rig.qemu.output().splitlines()[mark:])
    c = {}
    for key, pattern in (("rx_dropped", r"^    rx \d+ packets?, .*, (\d+) dropped$"),
                         ("tx_dropped", r"^    tx \d+ packets?, .*, (\d+) dropped$"),
                         ("no_buffer", r"^    driver's count: rx \d+, no buffer (\d+),"),
                         ("lwip", r"^    buffers: .*, (\d+) in the stack$")):
        m = re.search(pattern, text, re.M)
        assert m, (key, text)
        c[key] = int(m.group(1))
    return c


@pytest.mark.parametrize("mss", [536])
def test_iperf3_small_mss_to_mica_does_not_collapse(appliance, mss):
    """Debian's iperf3 client sending in segments of 536 bytes (-M 536):
    each takes a receive buffer of 2 KiB, so a 256 KiB window was 489
    buffers in flight, more than the NIC's ring and rx-ready hold and
    lwIP's share of the pool; frames were dropped for want of buffers,
    lwIP (without SACK) recovered one loss per round trip, and the
    transfer collapsed (28 Mbit/s against 530 at MSS 1460, hundreds of
    retransmissions). Now the window is what the buffers hold and the
    driver leaves what rx-ready cannot take in the NIC: no frame is
    dropped for want of a buffer, the sender retransmits next to nothing,
    and nothing is left held once the test is over. Not a timing
    assertion: counters and retransmissions."""
    before = eth0_counters(appliance)
    res = appliance.client("-t", "5", "-M", str(mss))
    after = eth0_counters(appliance)
    sent = res["end"]["sum_sent"]
    segments = sent["bytes"] // mss
    assert res["end"]["sum_received"]["bytes"] > 1 << 20, res["end"]
    assert after["no_buffer"] == before["no_buffer"], (before, after)
    assert after["rx_dropped"] == before["rx_dropped"], (before, after)
    # The sender's own count: a few are allowed for a host so loaded
    # that the guest stalls past the sender's retransmission timer.
    assert sent["retransmits"] <= 10 + segments // 1000, (sent, segments, before, after)
    assert after["lwip"] == 0, after


# virtio-net whose transmit ring QEMU drains at most one frame a
# millisecond (its tx timer, 1 ms, and a burst of one: QEMU's
# virtio_net_tx_timer), so that a sender faster than 1000 frames a second
# fills it, whatever the host's load: on a default virtio-net it fills at
# times only (QEMU drains it from its main loop).
SLOW_TX_VIRTIO = "virtio-net-pci,disable-legacy=on,tx=timer,x-txtimer=1000000,x-txburst=1"


@pytest.fixture(scope="module")
def appliance_virtio(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("appliance-virtio")
    with Netns("posixvirt") as ns:
        with ApplianceRig(ns, tmp, nic=SLOW_TX_VIRTIO) as r:
            r.qemu.wait_for(rf"^netstack: eth0 up, {re.escape(GUEST)}/24 \(dhcp\)$",
                            timeout=120)
            wait_listening(r, timeout=180)
            yield r


def udp_send_dropped(rig):
    """Datagrams Mica's sockets sent that the interface refused (its
    transmit queue full), from the console's ifconfig
    (sock_udp_send_dropped)."""
    mark = rig.qemu.mark()
    rig.qemu.send("ifconfig")
    m = rig.qemu.wait_for(r"^    (\d+) sent that the interface refused", since=mark, timeout=30)
    return int(m.group(1))


def test_iperf3_udp_from_mica_full_tx_queue_is_sent(appliance_virtio):
    """Mica's iperf3 sending UDP as fast as it can (-R -u -b 0) on a
    virtio-net whose transmit ring fills (SLOW_TX_VIRTIO): a datagram the
    interface cannot take is dropped and counted (the interface's
    tx_dropped, the sockets' "sent that the interface refused"), and
    sendto reports it sent, as Linux does with a full device queue
    (udp_send_skb, without IP_RECVERR). It failed with ENOMEM, which
    ended iperf3's test ("unable to write to stream socket"; the client:
    "control socket has closed unexpectedly"). How many are dropped
    depends on the host's load: printed; that some were (the ring did
    fill), and no more counted refused than the interface dropped, is
    checked."""
    rig = appliance_virtio
    rig.qemu.wait_for(r"^console: ready", timeout=60)
    refused0, eth0 = udp_send_dropped(rig), eth0_counters(rig)
    res = rig.client("-R", "-u", "-b", "0", "-t", "3")
    refused1, eth1 = udp_send_dropped(rig), eth0_counters(rig)
    end = res["end"]["sum"]
    refused, dropped = refused1 - refused0, eth1["tx_dropped"] - eth0["tx_dropped"]
    print(f"UDP from Mica on virtio-net at full speed: {end['packets']} sent, "
          f"{end['lost_packets']} lost; refused by the interface {refused} "
          f"(its tx_dropped {dropped})")
    assert end["packets"] > 1000, end
    assert 0 < refused <= dropped, (refused, dropped)


def test_iperf3_udp_100mbit(appliance):
    res = appliance.client("-u", "-b", "100M", "-t", "3")
    end = res["end"]["sum"]
    print(f"UDP at 100 Mbit/s: {end['lost_percent']:.1f}% lost of {end['packets']}")
    assert end["packets"] > 1000, end
    # Datagrams reach Mica's iperf3 and its report comes back. How many
    # are lost at 100 Mbit/s depends on the host's load (the Linux guest
    # loses tens of percent too on a loaded host: make bench): not
    # checked here; a fifth of the rate below is.
    assert end["lost_packets"] < end["packets"], end


def udp_counters(rig):
    """The netstack's UDP datagrams in and those dropped for a full socket
    receive buffer, from the console's ifconfig."""
    mark = rig.qemu.mark()
    rig.qemu.send("ifconfig")
    m = rig.qemu.wait_for(r"^UDP: (\d+) datagrams in, (\d+) dropped for a full socket "
                          r"receive buffer$", since=mark, timeout=30)
    return int(m.group(1)), int(m.group(2))


def test_iperf3_udp_every_datagram_read_or_counted(appliance):
    """UDP at 20 Mbit/s: every datagram the netstack took in is read by
    Mica's iperf3 or counted as dropped for a full receive buffer — none
    lost between the netstack, the POSIX server's stash of the socket's
    datagrams (filled by one call) and the reads served from it. How
    many are dropped depends on the host's load and is not checked. The
    slack: what was still queued when iperf3 stopped reading (at most
    the socket's 212992-byte buffer, about 140 of these, and the stash's
    44), and other UDP (DHCP) in the meantime. What iperf3 read is its
    server's count (the highest sequence number it saw less the gaps):
    the client's sum counts what it sent, so datagrams lost after the
    last one read — dropped on a loaded host before the netstack
    (the NIC out of receive buffers) — looked read."""
    appliance.qemu.wait_for(r"^console: ready", timeout=60)
    before = udp_counters(appliance)
    res = appliance.client("-u", "-b", "20M", "-t", "3", "--get-server-output")
    time.sleep(1)
    after = udp_counters(appliance)
    end = res["end"]["sum"]
    # Mica's iperf3 -s writes text: its last "lost/total (percent)".
    lost, total = map(int, re.findall(r"(\d+)/(\d+) \(", res["server_output_text"])[-1])
    read = total - lost
    came = after[0] - before[0]
    dropped = after[1] - before[1]
    print(f"UDP at 20 Mbit/s: {end['lost_percent']:.1f}% lost of {end['packets']}; "
          f"the netstack took {came}, dropped {dropped}, iperf3 read {read}")
    assert end["packets"] > 1000, end
    assert read > 0, end
    assert read <= came - dropped, (read, came, dropped)
    assert came - dropped - read < 200, (read, came, dropped)


def tap_dropped(rig):
    """Frames the namespace's tap0 dropped on their way to QEMU (its
    tx_dropped): its queue (1000 frames) was full because QEMU had
    stopped reading it, which QEMU's e1000 does while the guest has given
    it no free receive descriptor (the frames then wait in QEMU, and in
    the tap, instead of being dropped by the NIC and counted as missed)."""
    out = subprocess.run(rig.ns.prefix() + ["cat", "/sys/class/net/tap0/statistics/tx_dropped"],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    return int(out)


def test_iperf3_udp_100mbit_every_loss_counted_where(appliance):
    """UDP at 100 Mbit/s (issue 18): every datagram the host's iperf3 sent
    was read by Mica's iperf3, or dropped at a place that counts it — the
    tap's queue on the host (QEMU not reading: the guest's NIC ring had
    no free descriptor), the driver (no buffer: rx-ready full or the
    NIC's missed count), the netstack (rx dropped) or the socket's full
    receive buffer — or was still queued when iperf3 stopped reading
    (the socket's 212992 bytes, about 140 of these, the POSIX server's
    stash of 44, the NIC's ring of 255 and QEMU's and the tap's queues
    are drained before that). How many are lost, and where, depends on
    the host's load: printed, not checked; what no counter saw is. The
    lower slack: frames of the namespace's own (IPv6 neighbour
    discovery) the tap may drop too."""
    appliance.qemu.wait_for(r"^console: ready", timeout=60)
    udp0, eth0, tap0 = udp_counters(appliance), eth0_counters(appliance), tap_dropped(appliance)
    res = appliance.client("-u", "-b", "100M", "-t", "3", "--get-server-output")
    time.sleep(1)
    udp1, eth1, tap1 = udp_counters(appliance), eth0_counters(appliance), tap_dropped(appliance)
    sent = res["end"]["sum"]["packets"]
    lost, total = map(int, re.findall(r"(\d+)/(\d+) \(", res["server_output_text"])[-1])
    read = total - lost
    where = {"tap queue (host)": tap1 - tap0,
             "driver, no buffer": eth1["no_buffer"] - eth0["no_buffer"],
             "netstack rx": eth1["rx_dropped"] - eth0["rx_dropped"],
             "socket receive buffer": udp1[1] - udp0[1]}
    unseen = sent - read - sum(where.values())
    print(f"UDP at 100 Mbit/s: {sent} sent, {read} read, lost "
          + ", ".join(f"{k} {v}" for k, v in where.items()) + f"; no counter saw {unseen}")
    # A loaded host's iperf3 sends less than 100M asks: not the test's
    # business. The upper slack: all the queues above, the NIC's ring
    # too, still full when iperf3 stopped (about 440), and room.
    assert sent > 2000 and read > 0, (sent, read, res["end"]["sum"])
    assert -20 <= unseen < 1000, (sent, read, where, unseen)


def test_iperf3_four_parallel_streams(appliance):
    res = appliance.client("-t", "3", "-P", "4")
    assert len(res["end"]["streams"]) == 4
    assert all(s["receiver"]["bytes"] > 0 for s in res["end"]["streams"]), res["end"]["streams"]


def test_iperf3_four_parallel_streams_from_mica(appliance):
    res = appliance.client("-t", "3", "-P", "4", "-R")
    assert len(res["end"]["streams"]) == 4
    assert all(s["receiver"]["bytes"] > 0 for s in res["end"]["streams"]), res["end"]["streams"]


def test_iperf3_streams_past_the_accept_queue_all_connect(appliance):
    """48 streams opened back to back, more than the netstack's accept
    queue (ACCEPT_QUEUE_MAX, 16) while iperf3 accepts them one at a time:
    a SYN past the queue is dropped and sent again, as Linux's full accept
    queue does; no connection is reset (it was, one run in two)."""
    for _ in range(3):
        res = appliance.client("-t", "1", "-P", "48")
        assert len(res["end"]["streams"]) == 48


# -P 128 stalled in about one run of four on a loaded host, always after
# another 128-stream test, before the netstack took a SYN on a port it
# still held in TIME-WAIT (time_wait.c): 129 connections a test make a
# client port used again likely. 16 runs in a row on one appliance pass.
@pytest.mark.parametrize("streams", [64, 128])
@pytest.mark.parametrize("reverse", [False, True], ids=["to", "from"])
def test_iperf3_64_and_128_parallel_streams(appliance, streams, reverse):
    """iperf3's most parallel streams (-P 128: 130 sockets on the
    listener's netstack session, SOCK_MAX_SOCKETS 160, lwIP's pcbs, and a
    mapped buffer each: AS_MAX_REGIONS) both ways: all connect, the test
    runs and ends without an error. Two seconds: setting up 128 streams
    takes Mica's iperf3 a while under TCG, and with one it had read
    nothing yet once."""
    res = appliance.client("-t", "2", "-P", str(streams), *(["-R"] if reverse else []))
    assert len(res["end"]["streams"]) == streams
    assert res["end"]["sum_received"]["bytes"] > 0, (
        res["end"]["sum_received"], res["end"]["sum_sent"],
        "\n".join(appliance.qemu.output().splitlines()[-40:]))


def test_one_accounts_share_taken_the_others_carry_on(appliance):
    """tests/posix/shares.c started from the console (its keeper, left
    running) takes all its account may have of the POSIX server's tables
    (docs/posix.md, "Limits"): each stops at its share (EMFILE, EAGAIN), never at the
    whole table (ENFILE). Meanwhile another program from the console gets
    one of each, and iperf3 -s (its own account) serves a test both ways;
    `kill` ends the holder and it lets everything go."""
    q = appliance.qemu
    mark = q.mark()
    q.send("run shares-musl hold")
    q.wait_for(r"^console: shares-musl \(pid \d+\) exited with status 0$", since=mark)
    pid = q.wait_for(r"^shares: holding \(pid (\d+)\)$", timeout=180, since=mark).group(1)
    lines = [line.strip() for line in q.output().splitlines()[mark:]]
    # ptys (/dev/ptmx), tmpfs nodes and pages: ENOSPC, as Linux's.
    assert "ptys: 6, then ENOSPC" in lines, lines
    assert any(re.fullmatch(r"tmpfs files: [1-9]\d*, then ENOSPC", x) for x in lines), lines
    assert any(re.fullmatch(r"tmpfs bytes: [1-9]\d*, then ENOSPC", x) for x in lines), lines
    for what in ["pipes", "eventfds", "epolls", "sockets"]:
        assert any(re.fullmatch(rf"{what}: [1-9]\d*, then EMFILE", x) for x in lines), lines
    # The parent's own RLIMIT_NOFILE, then its child stops at the
    # account's descriptions before its own limit.
    assert any(re.fullmatch(r"files: [1-9]\d*, then EMFILE", x) for x in lines), lines
    m = [re.fullmatch(r"child files: (\d+) of (\d+) closed, then EMFILE", x) for x in lines]
    m = [x for x in m if x]
    assert m and 0 < int(m[0].group(1)) < int(m[0].group(2)), lines
    assert any(re.fullmatch(r"forks: [1-9]\d*, then EAGAIN", x) for x in lines), lines
    assert any(re.fullmatch(r"threads: [1-9]\d*, then EAGAIN", x) for x in lines), lines
    mark = q.mark()
    q.send("run shares-musl check")
    q.wait_for(r"^console: shares-musl \(pid \d+\) exited with status 0$", timeout=120, since=mark)
    assert ("check: pipe yes, open yes, eventfd yes, epoll yes, socket yes, thread yes, "
            "pty yes, tmpfs file yes, tmpfs write yes"
            in q.output().splitlines()[mark:]), q.output().splitlines()[mark:]
    for args in [["-t", "1"], ["-t", "1", "-R"]]:
        res = appliance.client(*args)
        assert res["end"]["sum_received"]["bytes"] > 0, res
    mark = q.mark()
    q.send(f"kill {pid}")
    q.wait_for(r"^shares: released$", timeout=120, since=mark)
    # It ends (a child of a program the console started: its normal end
    # is not logged): kill -0 finds no such process.
    deadline = time.monotonic() + 60
    while True:
        mark = q.mark()
        q.send(f"kill -0 {pid}")
        line = q.wait_for(rf"^console: kill {pid}: (.*)$", timeout=30, since=mark).group(1)
        if line == "no such process" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert line == "no such process", line


def test_iperf3_second_client_is_told_busy(appliance):
    """A client while a test runs is accepted and told the server is busy
    (iperf3's own answer); the running test completes."""
    appliance.listening_again()
    first = appliance.start_client("-t", "5")
    try:
        time.sleep(2.5)
        _, second, _ = appliance.run_client("-t", "1")
        # (iperf3 3.12 with -J exits 0 then: its JSON says the error)
        assert "busy" in json.loads(second).get("error", ""), (second, first.poll())
        code, out, _ = appliance.wait_client(first, ("-t", "5"))
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert code == 0, out
    assert json.loads(out)["end"]["sum_received"]["bytes"] > 0


IPERF3_COOKIE = b"mica-time-wait-test-" + b"x" * 16 + b"\0"   # iperf3's COOKIE_SIZE, 37
PARAM_EXCHANGE = 9          # iperf3's state byte asking for the test's parameters


def bound_socket(ns, port):
    """A TCP socket in the namespace bound to HOST:port (once the kernel
    has let go of the port's last connection)."""
    deadline = time.monotonic() + 20
    while True:
        s = ns.in_ns(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
            s.settimeout(30)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def connected_from(ns, port):
    """bound_socket(ns, port) connected to Mica's iperf3. The namespace's
    kernel may still hold its side of the port's last connection to the
    same address (LAST-ACK until Mica's acknowledgement of its FIN comes
    in; SO_REUSEADDR lets the bind through): connect is EADDRNOTAVAIL
    until then, tried again for 20 s, after which the failure says what
    `ss` shows of the port."""
    deadline = time.monotonic() + 20
    while True:
        s = bound_socket(ns, port)
        try:
            s.connect((GUEST, 5201))
            return s
        except OSError as e:
            s.close()
            if e.errno != errno.EADDRNOTAVAIL:
                raise
            if time.monotonic() > deadline:
                ss = subprocess.run(ns.prefix() + ["ss", "-tano", f"sport = :{port}"],
                                    capture_output=True, text=True).stdout
                raise AssertionError(f"port {port} still taken after 20 s:\n{ss}") from e
            time.sleep(0.05)


def refused_control(appliance, s):
    """Mica's iperf3 ends the control connection s (connected) itself:
    the cookie, then parameters that are not JSON. Once this side has
    closed too, the netstack holds the connection in TIME-WAIT. Returns
    when iperf3 listens again."""
    mark = appliance.qemu.mark()
    s.sendall(IPERF3_COOKIE)
    assert s.recv(1) == bytes([PARAM_EXCHANGE])
    s.sendall(b"\0\0\0\1x")
    while s.recv(100):
        pass                    # (iperf3's own error byte, then its end)
    s.close()
    wait_listening(appliance, since=mark, timeout=60)


def answers(wire, port, seconds=5):
    """TCP flags and ack of each frame Mica sends to HOST:port within seconds."""
    got, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        f = wire.recv(left)
        t = f and tcp_of(f)
        if t and t[:4] == (GUEST, HOST, 5201, port):
            got.append((t[6], t[5]))
    return got


def test_iperf3_port_used_again_while_mica_holds_time_wait(appliance):
    """A client port used again while the netstack still holds the old
    connection on it in TIME-WAIT (Linux's ends after 60 s, lwIP's after
    120, later on a loaded host): the new connection is taken as Linux
    takes it. A SYN numbered after the old connection reopens it at once;
    one numbered before it, even 2^31 away, is answered with an ACK, and
    the reset that the namespace's kernel (which has no such socket)
    sends back ends the TIME-WAIT, so the next SYN is taken. Before,
    lwIP ignored that reset and the guard dropped the far SYN unanswered:
    a client's connect waited until the TIME-WAIT ended (a run of
    test_iperf3_runs_back_to_back did not finish in 60 s)."""
    ns, port = appliance.ns, 47001
    mac = ns.link_mac("tap0")
    appliance.listening_again()
    s = connected_from(ns, port)
    refused_control(appliance, s)
    # Linux numbers its next connection from the port after the last one.
    s = connected_from(ns, port)
    wire = ns.raw_socket("tap0")
    try:
        refused_control(appliance, s)
        last = [a for f, a in answers(wire, port, 2) if f & ACK]
        assert last, "no ACK of this side's FIN seen"
        rcv_nxt = last[-1]      # what the TIME-WAIT expects next
        wire.send(tcp_frame(mac, GUEST_MAC, HOST, GUEST, port, 5201, rcv_nxt - (1 << 31) + 4096))
        got = answers(wire, port)
        assert (ACK, rcv_nxt) in got, f"a far SYN in TIME-WAIT got {got}, not an ACK"
        # The kernel's reset to that ACK ended the TIME-WAIT: a SYN from
        # before the old connection goes to the listener (its SYN-ACK
        # is reset by the kernel in turn).
        wire.send(tcp_frame(mac, GUEST_MAC, HOST, GUEST, port, 5201, rcv_nxt - 100000))
        got = answers(wire, port)
        assert any(f & (SYN | ACK) == SYN | ACK for f, _ in got), \
            f"after the reset, a SYN got {got}, not a SYN-ACK"
    finally:
        wire.close()
    assert appliance.client("-t", "1")["end"]["sum_received"]["bytes"] > 0


def test_iperf3_runs_back_to_back(appliance):
    for i in range(20):
        args = [["-t", "1"], ["-t", "1", "-R"], ["-u", "-b", "20M", "-t", "1"]][i % 3]
        res = appliance.client(*args)
        assert "error" not in res, (args, res["error"], appliance.qemu.output())
        assert res["end"]["sum_received" if "-u" not in args else "sum"]["bytes"] > 0, res


def test_iperf3_client_overrun_shows_where_it_waits(appliance):
    """A client that overruns its time fails the test with what shows
    where it waits (Rig.overran): here a 4-second test given 1 s. The
    namespace's sockets (its control connection to port 5201), iperf3's
    own JSON after SIGTERM, and the console's ps and ifconfig answers.
    Then iperf3 on Mica notices the client's end and listens again."""
    appliance.listening_again()
    mark = appliance.qemu.mark()
    proc = appliance.start_client("-t", "4")
    with pytest.raises(AssertionError) as overrun:
        appliance.wait_client(proc, ("-t", "4"), timeout=1)
    text = str(overrun.value)
    assert proc.poll() is not None, "the client was left running"
    assert re.search(rf"ESTAB .*{re.escape(GUEST)}:5201", text), text
    assert "interrupt - the client has terminated" in text, text
    assert re.search(r"^ +PID +PPID .*\n(.*\n)*.* iperf3", text, re.M), text
    assert re.search(r"^UDP: \d+ datagrams in", text, re.M), text
    ended = line_of(appliance, r"the client has terminated", since=mark, timeout=60)
    wait_listening(appliance, since=ended, timeout=60)


def test_iperf3_client_killed_mid_test_next_run_served(appliance):
    proc = subprocess.Popen(appliance.ns.prefix() + ["iperf3", "-c", GUEST, "-t", "30"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    # The server notices the control connection's end and listens again.
    deadline = time.monotonic() + 60
    while True:
        try:
            res = appliance.client("-t", "2")
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)       # "the server is busy" until it notices
    assert res["end"]["sum_received"]["bytes"] > 0



def test_iperf3_asks_for_no_call_the_server_lacks_but_rseq(appliance):
    """Of the calls iperf3 made in every test so far, the server lacks
    only rseq (glibc carries on without it)."""
    lacking = set(re.findall(r"^posix: iperf3 \(pid \d+\): unsupported syscall (\w+)",
                             appliance.qemu.output(), re.M))
    assert lacking <= {"rseq"}, lacking


def console(appliance, line, expect, timeout=60):
    mark = appliance.qemu.mark()
    appliance.qemu.send(line)
    return appliance.qemu.wait_for(expect, timeout=timeout, since=mark)


def test_iperf3_transfer_survives_nic_driver_killed(appliance):
    """The NIC driver killed during a transfer to Mica's iperf3: init
    restarts it, the netstack attaches again, TCP retransmits, and the
    test completes."""
    proc = appliance.start_client("-t", "8")
    try:
        time.sleep(3)
        console(appliance, "kill e1000", r"^init: e1000 killed at \d+ ms; restarting$")
        code, out, errs = appliance.wait_client(proc, ("-t", "8"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, f"{out}\n{errs}\n{appliance.qemu.output()}"
    res = json.loads(out)
    assert res["end"]["sum_received"]["bytes"] > 1 << 20, res["end"]


def test_iperf3_served_again_after_the_netstack_is_killed(appliance):
    """The netstack killed in the middle of a test: Mica's iperf3 sees its
    sockets fail (the client's test fails too), the POSIX server does not
    hang, and once init has started the netstack again the next tests are
    served (iperf3's next socket waits for the new netstack)."""
    proc = subprocess.Popen(appliance.ns.prefix() + ["iperf3", "-c", GUEST, "-t", "20"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        console(appliance, "kill netstack", r"^init: netstack killed at \d+ ms; restarting$")
        proc.wait(timeout=CLIENT_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    appliance.qemu.wait_for(r"^posix: the netstack went: its sockets are closed$")
    deadline = time.monotonic() + 90
    while True:
        try:
            res = appliance.client("-t", "2")
            break
        except (AssertionError, subprocess.TimeoutExpired):
            if time.monotonic() > deadline:
                raise
            time.sleep(2)
    assert res["end"]["sum_received"]["bytes"] > 0
    assert appliance.client("-t", "2", "-R")["end"]["sum_received"]["bytes"] > 0


def test_posix_server_killed_starts_iperf3_again(appliance):
    """The POSIX server killed from the console (iperf3 with it): init
    starts it again at once (the default manifest's restart=on-crash),
    it starts `iperf3 -s` again, the new iperf3 gets port 5201 (the
    netstack closed the dead one's sockets) and serves a test."""
    q = appliance.qemu
    mark = q.mark()
    console(appliance, "kill posix-server", r"^init: posix-server killed at \d+ ms; restarting$")
    q.wait_for(r"^init: posix-server restarted \(1 restart so far\)$", since=mark, timeout=30)
    # The old iperf3 may print its "Server listening" after mark (a
    # previous run's end): only the new one's, after it started, counts.
    started = line_of(appliance, r"^posix: started iperf3 \(pid 1\)$", since=mark, timeout=60)
    wait_listening(appliance, since=started)
    res = appliance.client("-t", "2")
    assert res["end"]["sum_received"]["bytes"] > 0
    assert appliance.client("-t", "2", "-R")["end"]["sum_received"]["bytes"] > 0
