"""The netstack (lwIP over the NIC drivers) over tap devices in a test
namespace: ping, iperf, TCP and UDP echo through the socket service, DHCP,
and malformed frames. Each test runs for e1000 and for virtio-net.

The guest is 10.1.0.2/24 on tap0; the namespace side is 10.1.0.1. The
netecho test program (tests/programs/netecho.c) is a native client of the
socket service: TCP and UDP echo servers on port 7, a TCP client that
echoes what a server in the namespace sends, and a statistics server on
TCP port 9000 that answers one line of counters read over IPC.
"""
import json
import random
import re
import socket
import struct
import subprocess
import threading
import time

import pytest

from netns import Dnsmasq, Netns, can_run
from qemu import Qemu, boot_init, build_path

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

GUEST = "10.1.0.2"
HOST = "10.1.0.1"
GUEST_MAC = "52:54:00:00:00:01"

MODELS = {
    "e1000": ("e1000", "e1000"),
    "virtio-net": ("virtio-net-pci,disable-legacy=on", "virtio-net"),
}


class NetRig:
    """QEMU on tap0 in a namespace: a NIC driver (program eth0, with the
    manifest settings `driver` and extra `driver_args`), the netstack and
    (optionally) netecho (with init's control protocol and the driver's
    name, for `fault`, if `control`) and the serial console; the netstack
    and the console get the driver's private name (`lookup eth0`), the
    console the netstack's management capability too (`lookup netmgmt`); `extra` manifest lines with their boot modules
    `extra_mods` [(path, name)]. The netstack's dma= has room for lwIP's
    heap beside the pool (docs/netstack.md, "Sending from lwIP's heap"):
    `heap_dma=False` leaves it out, so every frame sent is copied."""

    def __init__(self, ns, tmp_path, model, netstack_args=None, netecho=True, host_addr=True,
                 driver="restart=never", driver_args="", console=False, control=False,
                 netstack="", netecho_priority=90, extra="", extra_mods=(), memory="256M",
                 heap_dma=True):
        self.ns = ns
        device, module = MODELS[model]
        tap = ns.taps[0] if ns.taps else ns.add_tap("tap0")
        if host_addr:
            ns.exec_quiet("ip", "addr", "add", f"{HOST}/24", "dev", tap)
        netstack_args = netstack_args or f"nic=eth0 eth0.addr={GUEST}/24 eth0.gw={HOST}"
        manifest = (f"program eth0 dma=64 priority=150 {driver}\n"
                    f"    module {module}\n    pci 00:03.0\n    args name=eth0 {driver_args}\n"
                    f"program netstack dma={20480 if heap_dma else 4096} priority=100 {netstack}\n"
                    f"    lookup eth0\n    args {netstack_args}\n")
        if netecho:
            manifest += (f"program netecho priority={netecho_priority}"
                         f"{' control=yes' if control else ''}\n" +
                         ("    lookup eth0\n" if control else "") +
                         f"    args client={HOST}:7000\n")
        if console:
            manifest += ("program console priority=160 control=yes\n    irq 4\n    lookup eth0\n"
                         "    lookup netmgmt\n")
        manifest += extra
        path = tmp_path / "manifest"
        path.write_text(manifest)
        mods = [(build_path("init.elf"), "init"), (str(path), "manifest"),
                (build_path("drivers", f"{module}.elf"), module),
                (build_path("netstack.elf"), "netstack"),
                (build_path("programs", "netecho.elf"), "netecho"),
                (build_path("appliance", "console.elf"), "console"), *extra_mods]
        args = ["-kernel", build_path("kernel.elf"), "-append", "loglevel=2",
                "-initrd", ",".join(f"{p} {n}" for p, n in mods),
                "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
                "-device", f"{device},netdev=n0,mac={GUEST_MAC},addr=3"]
        self.qemu = Qemu(args, name=f"net-{model}", memory=memory, prefix=ns.prefix())

    def __enter__(self):
        self.qemu.start()
        return self

    def __exit__(self, *exc):
        self.qemu.stop()

    def run(self, *cmd, timeout=60, check=True):
        """A command inside the namespace, bounded in time."""
        r = subprocess.run(self.ns.prefix() + list(cmd), capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"{cmd} exited {r.returncode}:\n{r.stdout}\n{r.stderr}\n"
                                 f"console:\n{self.qemu.output()}")
        return r

    def connect(self, port, timeout=30):
        """A TCP connection from the namespace to the guest."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.ns.in_ns(lambda: socket.create_connection((GUEST, port), timeout=10))
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    @staticmethod
    def _answer(s, timeout):
        """netecho's one-line answer on s, which is then closed."""
        s.settimeout(timeout)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        return data.decode()

    def stats(self):
        """Counters read by netecho over IPC from the netstack, as a dict
        (interface counters prefixed with the interface name)."""
        line = self._answer(self.connect(9000), 30)
        return {k: int(v) for k, v in re.findall(r"([\w.]+)=(\d+)", line)}

    def control(self, command, timeout=60):
        """One command to netecho's control port (`kill eth0`, `fault eth0
        N`); its answer (it may come late: the driver is being replaced)."""
        s = self.connect(9001)
        s.settimeout(timeout)
        s.sendall(command.encode() + b"\n")
        return self._answer(s, timeout).strip()


@pytest.fixture(params=list(MODELS))
def model(request):
    return request.param


@pytest.fixture(scope="module", params=list(MODELS))
def booted(request, tmp_path_factory):
    """One boot per model (the driver, the netstack, netecho) shared by the
    tests that change nothing in it: each looks at what happens during it
    (counters' changes, console lines from its own start on): (ns, rig)."""
    tmp = tmp_path_factory.mktemp("net")
    with Netns("net") as ns, NetRig(ns, tmp, request.param) as rig:
        wait_up(rig)
        yield ns, rig


def test_ping_100_up_to_1472_bytes(booted):
    ns, rig = booted
    for size in (56, 1000, 1472):
        r = rig.run("ping", "-c", "100", "-i", "0.01", "-W", "5", "-s", str(size), GUEST,
                    timeout=120)
        assert " 0% packet loss" in r.stdout, r.stdout


def wait_up(rig):
    rig.qemu.wait_for(r"netstack: eth0 up, 10\.1\.0\.2/24")
    rig.qemu.wait_for(r"netecho: echo on TCP and UDP port 7")


def test_iperf_client_against_the_netstack(booted):
    ns, rig = booted
    mark = rig.qemu.mark()
    r = rig.run("iperf", "-c", GUEST, "-t", "3", "-f", "k", timeout=90)
    rates = re.findall(r"([\d.]+) Kbits/sec", r.stdout)
    assert rates and float(rates[-1]) > 0, r.stdout
    m = rig.qemu.wait_for(r"netstack: iperf: server done with 10\.1\.0\.1:\d+, (\d+) bytes",
                          timeout=30, since=mark)
    assert int(m.group(1)) > 0


def tcp_echo(rig, payload):
    """payload through netecho's TCP echo; what came back."""
    s = rig.connect(7)
    s.settimeout(60)
    # A thread sends while this one receives, so neither side's
    # buffers need to hold it all.
    sender = threading.Thread(target=lambda: (s.sendall(payload), s.shutdown(socket.SHUT_WR)))
    sender.start()
    got = bytearray()
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += chunk
    sender.join(60)
    s.close()
    return bytes(got)


def test_tcp_echo_1mib_random(booted):
    payload = random.Random(5).randbytes(1 << 20)
    ns, rig = booted
    mark = rig.qemu.mark()
    got = tcp_echo(rig, payload)
    assert len(got) == len(payload)
    assert got == payload
    rig.qemu.wait_for(r"netecho: tcp-echo: connection done, 1048576 bytes echoed", timeout=30,
                      since=mark)


def test_udp_echo_varied_sizes(booted):
    sizes = [1, 18, 64, 512, 1000, 1472, 1473, 4000, 8972]
    ns, rig = booted

    def exchange():
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(2)
        results = {}
        for size in sizes:
            data = random.Random(size).randbytes(size)
            for _ in range(5):          # the first may wait for ARP
                u.sendto(data, (GUEST, 7))
                try:
                    reply, addr = u.recvfrom(65536)
                except socket.timeout:
                    continue
                results[size] = (reply == data, addr[0])
                break
        u.close()
        return results

    results = ns.in_ns(exchange)
    for size in sizes:
        assert results.get(size) == (True, GUEST), f"{size}-byte datagram: {results.get(size)}"


def test_tcp_client_side(model, tmp_path):
    """netecho connects out to a server in the namespace and echoes it."""
    payload = random.Random(7).randbytes(256 * 1024)
    with Netns("tcpclient") as ns:
        ns.add_tap("tap0")
        ns.exec_quiet("ip", "addr", "add", f"{HOST}/24", "dev", "tap0")
        server = ns.in_ns(lambda: socket.create_server((HOST, 7000)))
        with NetRig(ns, tmp_path, model, host_addr=False) as rig:
            server.settimeout(90)
            conn, addr = server.accept()
            assert addr[0] == GUEST
            conn.settimeout(60)
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
            got = bytearray()
            while True:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                got += chunk
            conn.close()
            server.close()
            assert bytes(got) == payload
            rig.qemu.wait_for(r"netecho: tcp-client: connection done, 262144 bytes echoed",
                              timeout=30)


def test_dhcp_address_from_dnsmasq(model, tmp_path):
    with Netns("dhcp") as ns:
        ns.add_tap("tap0")
        ns.exec_quiet("ip", "addr", "add", f"{HOST}/24", "dev", "tap0")
        with Dnsmasq(ns, "tap0", tmp_path, "10.1.0.50,10.1.0.59,255.255.255.0,1h") as dnsmasq, \
                NetRig(ns, tmp_path, model, netstack_args="nic=eth0", netecho=False,
                       host_addr=False) as rig:
            m = rig.qemu.wait_for(r"netstack: eth0 up, (10\.1\.0\.5\d)/24 \(dhcp\)",
                                  timeout=120)
            addr = m.group(1)
            r = rig.run("ping", "-c", "5", "-i", "0.2", "-W", "5", addr, timeout=60)
            assert " 0% packet loss" in r.stdout, r.stdout
            assert addr in dnsmasq.leases()


def ip_checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(proto, payload, total=None, ihl=5, bad_checksum=False):
    total = 20 + len(payload) if total is None else total
    head = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 1, 0, 64, proto, 0,
                       socket.inet_aton(HOST), socket.inet_aton(GUEST))
    csum = ip_checksum(head) ^ (0x5555 if bad_checksum else 0)
    return head[:10] + struct.pack("!H", csum) + head[12:] + payload


def malformed_frames(host_mac):
    """Kinds of bad frames, each with the lwIP counter it must raise."""
    guest = bytes.fromhex(GUEST_MAC.replace(":", ""))
    eth = guest + host_mac + b"\x08\x00"
    icmp_bad = struct.pack("!BBHHH", 8, 0, 0x1234, 1, 1) + b"x" * 32
    udp_bad = struct.pack("!HHHH", 4000, 7, 8 + 16, 0xBEEF) + b"u" * 16
    tcp_bad = struct.pack("!HHIIBBHHH", 4000, 7, 1, 0, 5 << 4, 0x02, 65535, 0xBEEF, 0)
    return {
        "ip_chkerr": eth + ipv4(1, icmp_bad, bad_checksum=True),
        "ip_lenerr": eth + ipv4(17, udp_bad, total=1000),          # longer than the frame
        "ip_lenerr ": eth + ipv4(17, b"", ihl=15)[:20] + b"\0" * 26,  # header past the end
        "icmp_chkerr": eth + ipv4(1, icmp_bad),
        "udp_chkerr": eth + ipv4(17, udp_bad),
        "tcp_chkerr": eth + ipv4(6, tcp_bad),
    }


def flood_malformed(rig, ns, per_kind, only=None):
    """per_kind of each of malformed_frames (those named in only, if
    given), paced, from the namespace's side of tap0; returns the kinds,
    how every counter moved, and how many frames the driver or NIC lost."""
    rig.run("ping", "-c", "3", "-i", "0.2", "-W", "5", GUEST, timeout=60)
    before = rig.stats()
    host_mac = bytes.fromhex(json.loads(subprocess.run(
        ["ip", "-j", "-n", ns.name, "link", "show", "tap0"], capture_output=True,
        text=True, check=True).stdout)[0]["address"].replace(":", ""))
    kinds = {k: v for k, v in malformed_frames(host_mac).items() if not only or k in only}
    sock = ns.raw_socket("tap0")
    try:
        for i in range(per_kind):
            for frame in kinds.values():
                sock.send(frame)
            time.sleep(0.002)        # paced: counted drops, not overruns
    finally:
        sock.close()
    time.sleep(1)
    after = rig.stats()
    delta = {k: after[k] - before[k] for k in after}
    return kinds, delta, delta["eth0.drv_rx_no_buffer"] + delta["eth0.drv_rx_errors"]


def test_malformed_flood_dropped_counted_then_ping(booted):
    per_kind = 200
    ns, rig = booted
    kinds, delta, lost = flood_malformed(rig, ns, per_kind)
    want = {}
    for kind in kinds:
        want[kind.strip()] = want.get(kind.strip(), 0) + per_kind
    for counter, n in want.items():
        assert n - lost <= delta[counter] <= n, f"{counter}: {delta[counter]} of {n}; {delta}"
    assert delta["eth0.rx_packets"] >= per_kind * len(kinds) - lost
    r = rig.run("ping", "-c", "20", "-i", "0.05", "-W", "5", GUEST, timeout=60)
    assert " 0% packet loss" in r.stdout, r.stdout


def test_netstack_refuses_bad_descriptors_and_reattaches(tmp_path):
    """A fake driver (tests/programs/fakenic.c) hands the netstack bad
    descriptors, then crashes holding buffers; init restarts it with another
    MAC address. The netstack must refuse and count every bad descriptor,
    reclaim exactly what the driver held, and re-attach."""
    q = boot_init(tmp_path,
                  "program fakenic priority=150 restart=on-crash retries=3\n    args name=eth0\n"
                  "program netstack dma=4096 priority=100\n"
                  "    lookup eth0\n    args nic=eth0 eth0.addr=10.9.0.2/24 iperf=off\n",
                  [(build_path("programs", "fakenic.elf"), "fakenic"),
                   (build_path("netstack.elf"), "netstack")], "fakenic")
    with q:
        q.wait_for(r"^netstack: eth0 attached, MAC 02:00:00:00:00:02, static address")
        done = q.wait_for(r"^fakenic: (all checks passed|FAILED)", timeout=120)
        out = q.output()
        assert done.group(1) == "all checks passed", out
        want = int(re.search(r"^fakenic: crashing; the netstack must reclaim (\d+) buffers$",
                             out, re.M).group(1))
        m = re.search(r"^netstack: eth0 driver gone at \d+ ms; link down, (\d+) buffers? "
                      r"reclaimed$", out, re.M)
        assert m and int(m.group(1)) == want, out
        assert re.search(r"^netstack: eth0: warning: the new driver's MAC address is "
                         r"02:00:00:00:00:03", out, re.M), out
        assert re.search(r"^netstack: eth0 re-attached to a new driver at \d+ ms$", out, re.M)
        assert re.search(r"^netstack: eth0 first frame through the new driver at \d+ ms$",
                         out, re.M)
        bad = int(re.search(r"^fakenic: expect (\d+) refused descriptors$", out, re.M).group(1))
        second = re.search(r"^fakenic: second driver: bad_desc=(\d+) .*bufs_reclaimed=(\d+)",
                           out, re.M)
        assert (int(second.group(1)), int(second.group(2))) == (bad, want), out


def assert_no_buffer_lost(stats, name="eth0"):
    """Every pool buffer is somewhere; with traffic over, none stays with
    lwIP or in flight (a few may: the statistics connection's own)."""
    k = {f: stats[f"{name}.{f}"] for f in
         ("bufs_total", "bufs_free", "bufs_rx_posted", "bufs_tx", "bufs_lwip")}
    assert k["bufs_free"] + k["bufs_rx_posted"] + k["bufs_tx"] + k["bufs_lwip"] == \
        k["bufs_total"], k
    assert k["bufs_tx"] + k["bufs_lwip"] <= 8, k


@pytest.mark.parametrize("how", ["kill", "crash"])
def test_tcp_echo_survives_driver_restart(model, how, tmp_path):
    """The driver is killed (through init) or crashes (NETQ_FAULT_WILD_WRITE)
    in the middle of a 4 MiB TCP echo; init restarts it, the netstack
    re-attaches, and the echo completes byte-identical."""
    payload = random.Random(11).randbytes(4 << 20)
    command = "kill eth0" if how == "kill" else "fault eth0 1"
    with Netns("restart") as ns, NetRig(ns, tmp_path, model, control=True,
                                        driver="restart=on-crash retries=3") as rig:
        wait_up(rig)
        rig.run("ping", "-c", "3", "-i", "0.2", "-W", "5", GUEST, timeout=60)
        s = rig.connect(7)
        s.settimeout(120)
        answers = []

        def send():
            try:
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                answers.append(f"sender: {e}")

        def inject():
            try:
                answers.append(rig.control(command))
            except OSError as e:
                answers.append(f"control: {e}")

        sender = threading.Thread(target=send)
        sender.start()
        injector = threading.Thread(target=inject)
        got = bytearray()
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                got += chunk
                if len(got) >= len(payload) // 8 and not injector.is_alive() and not answers:
                    injector.start()
        except OSError as e:
            raise AssertionError(f"echo: {e} after {len(got)} bytes; {answers}; console:\n"
                                 f"{rig.qemu.output()}")
        sender.join(120)
        injector.join(120)
        s.close()
        assert len(got) == len(payload)
        assert bytes(got) == payload
        assert answers == ["ok"], (answers, rig.qemu.output())
        out = rig.qemu.output()
        if how == "kill":
            died = int(rig.qemu.wait_for(r"^init: eth0 killed at (\d+) ms; restarting").group(1))
        else:
            rig.qemu.wait_for(r"^init: eth0 crashed; restarting in 100 ms \(1 of 3\)")
            died = None
        gone = rig.qemu.wait_for(r"^netstack: eth0 driver gone at (\d+) ms; link down, "
                                 r"(\d+) buffers? reclaimed$")
        back = rig.qemu.wait_for(r"^netstack: eth0 re-attached to a new driver at (\d+) ms$")
        first = rig.qemu.wait_for(r"^netstack: eth0 first frame through the new driver at "
                                  r"(\d+) ms$")
        reclaimed = int(gone.group(2))
        assert reclaimed > 0
        start = died if died is not None else int(gone.group(1))
        print(f"{model} {how}: driver gone at {start} ms, re-attached "
              f"{int(back.group(1)) - start} ms later, first frame after "
              f"{int(first.group(1)) - start} ms; {reclaimed} buffers reclaimed")
        rig.qemu.wait_for(r"netecho: tcp-echo: connection done, 4194304 bytes echoed", timeout=30)
        r = rig.run("ping", "-c", "20", "-i", "0.05", "-W", "5", GUEST, timeout=60)
        assert " 0% packet loss" in r.stdout, r.stdout
        stats = rig.stats()
        assert stats["eth0.attached"] == 1 and stats["eth0.link_up"] == 1, stats
        assert stats["eth0.driver_restarts"] == 1, stats
        assert stats["eth0.bufs_reclaimed"] == reclaimed, stats
        assert stats["eth0.bad_desc"] == 0, stats
        assert_no_buffer_lost(stats)
        assert "init: netstack" not in out, out


def test_driver_corrupting_its_rings(model, tmp_path):
    """NETQ_FAULT_CORRUPT_RINGS: the driver pushes wild descriptors; the
    netstack refuses and counts them and carries on."""
    with Netns("corrupt") as ns, NetRig(ns, tmp_path, model, control=True,
                                        driver="restart=on-crash retries=3") as rig:
        wait_up(rig)
        rig.run("ping", "-c", "3", "-i", "0.2", "-W", "5", GUEST, timeout=60)
        rig.control("fault eth0 5")
        rig.qemu.wait_for(r"^eth0: injecting fault rings$")
        r = rig.run("ping", "-c", "20", "-i", "0.05", "-W", "5", GUEST, timeout=60)
        assert " 0% packet loss" in r.stdout, r.stdout
        stats = rig.stats()
        assert stats["eth0.bad_desc"] > 0, stats
        assert stats["eth0.attached"] == 1, stats
        assert stats["eth0.driver_restarts"] == 0, stats
        assert_no_buffer_lost(stats)
        assert "init: netstack" not in rig.qemu.output()
        assert "init: eth0 crashed" not in rig.qemu.output()


def test_socket_sessions_to_the_limit_and_revoked_at_their_end(tmp_path):
    """Every session the netstack promises, each with the largest buffer
    written through, leaves it running; a session's capability copied
    before SOCK_END reaches nothing afterwards, not even the next session
    given the same badge. No NIC is needed."""
    q = boot_init(tmp_path,
                  "program netstack dma=4096 priority=100 restart=never\n"
                  "    args nic=eth0 eth0.addr=10.9.0.2/24 iperf=off\n"
                  "program sessions priority=90 quota=4096 restart=never\n",
                  [(build_path("netstack.elf"), "netstack"),
                   (build_path("programs", "sessions.elf"), "sessions")], "sessions")
    with q:
        q.wait_for(r"^sessions: opened 32 of 32 with 256 KiB each, then refused$", timeout=120)
        q.wait_for(r"^sessions: an ended session's capability: refused; the next session's "
                   r"socket closed by its owner: yes$")
        q.wait_for(r"^init: sessions exited$")
        assert not re.search(r"^init: netstack (crashed|exited|hung)", q.output(), re.M), \
            q.output()
