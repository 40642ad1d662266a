"""Mica as a router between a LAN host and a WAN host.

Three namespaces, made and deleted by each test: the router's (QEMU with
two NICs on tap0 and tap1, each tap bridged to a veth), the LAN host's
(192.168.10.2/24, routes via the router's 192.168.10.1) and the WAN
host's (10.99.0.2/24, the LAN via the router's 10.99.0.1). The router
forwards with static addresses (docs/netstack.md, "Forwarding"); netecho
answers its counters on TCP port 9000 at 192.168.10.1.
"""
import contextlib
import hashlib
import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import threading
import time

import pytest

from netns import Netns, can_run, ip
from qemu import BOOT_TIMEOUT, ROOT, Qemu, build_path
from test_console import command
from test_net import NetRig
from test_workflow import Make, make_env, netns_exists, pid_alive, qemu_pid_in

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

LAN_ROUTER, LAN_HOST = "192.168.10.1", "192.168.10.2"
WAN_ROUTER, WAN_HOST = "10.99.0.1", "10.99.0.2"

MODELS = {
    "e1000": ("e1000", "e1000"),
    "virtio-net": ("virtio-net-pci,disable-legacy=on", "virtio-net"),
}


class Router:
    """The router's namespace with QEMU; lan and wan are the hosts'
    namespaces (entered by the caller's `with`)."""

    def __init__(self, tmp_path, lan, wan, models=("e1000", "virtio-net"), wan_mtu=None,
                 netstack_args="", conf=None, expect_up=True, console=False, files=None,
                 wan_tap_mtu=1500, driver_args=None):
        self.lan, self.wan = lan, wan
        self.ns = Netns("router")
        self.tmp_path = tmp_path
        self.models = models
        self.wan_mtu = wan_mtu
        self.wan_tap_mtu = wan_tap_mtu     # the WAN tap's (the router's link); the WAN host's stays 1500
        self.netstack_args = netstack_args
        self.conf = conf            # an appliance configuration: the drivers are nic0, nic1
        self.expect_up = expect_up
        self.console = console
        self.files = files or {}    # more files for the netstack: name -> text
        self.driver_args = driver_args or ("",) * len(models)    # more args, per driver
        self.qemu = None

    def _link(self, i, host, addr, via_net, via):
        """tap{i} in the router's namespace, bridged to a veth whose
        other end is host's, with addr and a route to via_net by via."""
        ns = self.ns.name
        tap = self.ns.add_tap(f"tap{i}", mtu=self.wan_tap_mtu if i == 1 else 1500)
        ip("-n", ns, "link", "add", f"br{i}", "type", "bridge")
        ip("-n", ns, "link", "add", f"v{i}", "type", "veth", "peer", "name", f"h{i}")
        ip("-n", ns, "link", "set", f"h{i}", "netns", host.name)
        for dev in (tap, f"v{i}"):
            ip("-n", ns, "link", "set", dev, "master", f"br{i}")
        for dev in (f"v{i}", f"br{i}"):
            ip("-n", ns, "link", "set", dev, "up")
        ip("-n", host.name, "addr", "add", f"{addr}/24", "dev", f"h{i}")
        ip("-n", host.name, "link", "set", f"h{i}", "up")
        ip("-n", host.name, "route", "add", via_net, "via", via)
        return tap

    def __enter__(self):
        self.ns.__enter__()
        try:
            taps = [self._link(0, self.lan, LAN_HOST, "default", LAN_ROUTER),
                    self._link(1, self.wan, WAN_HOST, "192.168.10.0/24", WAN_ROUTER)]
            mtu = f" eth1.mtu={self.wan_mtu}" if self.wan_mtu else ""
            manifest = ""
            args = []
            name = "nic" if self.conf else "eth"
            for i, model in enumerate(self.models):
                device, module = MODELS[model]
                manifest += (f"program {name}{i} dma=64 priority=150 restart=on-crash retries=3\n"
                             f"    module {module}\n    pci 00:{3 + i:02x}.0\n"
                             f"    args name={name}{i} {self.driver_args[i]}\n")
                args += ["-netdev", f"tap,id=n{i},ifname={taps[i]},script=no,downscript=no",
                         "-device", f"{device},netdev=n{i},mac=52:54:00:00:0{i}:01,addr={3 + i}"]
            if self.conf:
                manifest += ("program netstack dma=4096 priority=100\n"
                             "    file router.conf\n" +
                             "".join(f"    lookup {name}{i}\n" for i in range(len(self.models))) +
                             "".join(f"    file {n}\n" for n in self.files) +
                             "    args config=router.conf\n")
                (self.tmp_path / "router.conf").write_text(self.conf)
                for n, text in self.files.items():
                    (self.tmp_path / n).write_text(text)
            else:
                manifest += ("program netstack dma=4096 priority=100\n"
                             "    lookup eth0\n    lookup eth1\n"
                             f"    args nic=eth0,eth1 eth0.addr={LAN_ROUTER}/24 "
                             f"eth1.addr={WAN_ROUTER}/24{mtu} forwarding=on "
                             f"{self.netstack_args}\n")
            manifest += "program netecho priority=90 control=yes\n"
            if self.console:
                manifest += ("program console priority=160 control=yes\n    irq 4\n"
                             "    lookup netmgmt\n")
            path = self.tmp_path / "manifest"
            path.write_text(manifest)
            mods = [(build_path("init.elf"), "init"), (str(path), "manifest"),
                    (build_path("drivers", "e1000.elf"), "e1000"),
                    (build_path("drivers", "virtio-net.elf"), "virtio-net"),
                    (build_path("netstack.elf"), "netstack"),
                    (build_path("programs", "netecho.elf"), "netecho"),
                    (build_path("appliance", "console.elf"), "console")]
            if self.conf:
                mods += [(str(self.tmp_path / n), n) for n in ["router.conf", *self.files]]
            args = ["-kernel", build_path("kernel.elf"), "-append", "loglevel=2",
                    "-initrd", ",".join(f"{p} {n}" for p, n in mods)] + args
            self.qemu = Qemu(args, name="router-" + "-".join(self.models),
                             prefix=self.ns.prefix())
            self.qemu.start()
            if not self.expect_up:
                return self
            lan_name, wan_name = ("lan", "wan") if self.conf else ("eth0", "eth1")
            self.qemu.wait_for(rf"netstack: {wan_name} up, 10\.99\.0\.1/24")
            self.qemu.wait_for(rf"netstack: {lan_name} up, 192\.168\.10\.1/24")
            # The first datagrams wait for ARP on three links and the
            # bridges' learning: one exchange each way before the tests.
            for ns, peer in ((self.lan, WAN_HOST), (self.wan, LAN_HOST)):
                run(ns, "ping", "-c", "1", "-w", "20", peer, timeout=30)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.qemu:
            self.qemu.stop()
        self.ns.__exit__()

    def stats(self):
        """The netstack's counters (netecho's line on TCP port 9000)."""
        deadline = time.monotonic() + 30
        while True:
            try:
                s = self.lan.in_ns(lambda: socket.create_connection((LAN_ROUTER, 9000),
                                                                     timeout=10))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        line = NetRig._answer(s, 30)
        return {k: int(v) for k, v in re.findall(r"([\w.]+)=(\d+)", line)}

    def control(self, command, timeout=60):
        """A command to netecho's control port (`kill eth0`)."""
        s = self.lan.in_ns(lambda: socket.create_connection((LAN_ROUTER, 9001), timeout=30))
        s.sendall(command.encode() + b"\n")
        return NetRig._answer(s, timeout).strip()



def run(ns, *cmd, timeout=60, check=True):
    r = subprocess.run(ns.prefix() + list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def hosts():
    return Netns("lan"), Netns("wan")


@pytest.fixture(params=[("e1000", "virtio-net"), ("virtio-net", "virtio-net"),
                        ("e1000", "e1000")], ids=lambda m: "+".join(m))
def models(request):
    return request.param


@pytest.fixture(scope="module")
def shared_router(tmp_path_factory):
    """One router with the default NICs and settings, booted once for the
    tests that change nothing in it (no driver killed, no setting of its
    own): each looks at how the counters moved during it."""
    tmp = tmp_path_factory.mktemp("router")
    lan, wan = hosts()
    with lan, wan, Router(tmp, lan, wan) as r:
        yield r


@contextlib.contextmanager
def router_of(request, models, tmp_path):
    """The shared router for the default NICs, else one of these models
    booted for the test alone."""
    if models == ("e1000", "virtio-net"):
        yield request.getfixturevalue("shared_router")
        return
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, models) as r:
        yield r


def test_ping_through_both_ways(request, models, tmp_path):
    with router_of(request, models, tmp_path) as r:
        lan, wan = r.lan, r.wan
        before = r.stats()
        for size in (56, 1472, 4000):
            out = run(lan, "ping", "-c", "20", "-i", "0.02", "-W", "5", "-s", str(size),
                      WAN_HOST, timeout=120).stdout
            assert " 0% packet loss" in out, out
            out = run(wan, "ping", "-c", "20", "-i", "0.02", "-W", "5", "-s", str(size),
                      LAN_HOST, timeout=120).stdout
            assert " 0% packet loss" in out, out
        k = r.stats()
        d = {key: k[key] - before[key] for key in k}
        # 4000 bytes travel as three fragments each way, forwarded as they are.
        assert d["eth0.fwd_packets"] >= 20 * 5 and d["eth1.fwd_packets"] >= 20 * 5, (d, k)
        assert d["eth0.tx_zero_copy"] + d["eth1.tx_zero_copy"] >= 2 * 20 * 5, (d, k)
        for name in ("eth0", "eth1"):
            assert k[f"{name}.bufs_free"] + k["eth0.bufs_rx_posted"] + k["eth1.bufs_rx_posted"] + \
                k["eth0.bufs_tx"] + k["eth1.bufs_tx"] + k[f"{name}.bufs_lwip"] == \
                k[f"{name}.bufs_total"], k


def test_ttl_1_gets_time_exceeded_and_no_route_net_unreachable(shared_router):
    r = shared_router
    lan = r.lan
    before = r.stats()
    out = run(lan, "ping", "-c", "1", "-W", "5", "-t", "1", WAN_HOST, check=False).stdout
    assert re.search(rf"From {LAN_ROUTER} .*Time to live exceeded", out), out
    out = run(lan, "ping", "-c", "1", "-W", "5", "172.16.1.1", check=False).stdout
    assert re.search(rf"From {LAN_ROUTER} .*Destination Net Unreachable", out), out
    k = r.stats()
    d = {key: k[key] - before[key] for key in k}
    assert d["eth0.fwd_ttl"] == 1 and d["eth0.fwd_no_route"] == 1, (d, k)
    assert d["eth0.fwd_icmp_sent"] == 2, (d, k)


def frames_with(sockets, markers, timeout):
    """The markers (bytes) seen in frames on any of the raw sockets
    within timeout seconds."""
    seen = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for s in sockets:
            data = s.recv(0.05)
            while data is not None:
                seen |= {m for m in markers if m in data}
                data = s.recv(0.01)
    return seen


def test_lan_sources_from_the_wan_are_neither_forwarded_nor_answered(shared_router):
    """Strict reverse path (as Linux's rp_filter=1) and the network and
    broadcast addresses of every one of the router's networks: from the
    WAN, a SYN with the LAN host's own address as its source (a LAND
    packet) and datagrams from the LAN's broadcast or network address are
    not forwarded to the LAN, a ping to the router with a LAN source is
    not answered; each is counted. A WAN source goes through meanwhile."""
    inet = pytest.importorskip("scapy.layers.inet", reason="needs python3-scapy")
    l2 = pytest.importorskip("scapy.layers.l2", reason="needs python3-scapy")
    IP, TCP, UDP, ICMP, Ether = inet.IP, inet.TCP, inet.UDP, inet.ICMP, l2.Ether
    r = shared_router
    lan, wan = r.lan, r.wan
    on_wan, on_lan = wan.raw_socket("h1"), lan.raw_socket("h0")
    try:
        before = r.stats()
        frame = Ether(src=wan.link_mac("h1"), dst="52:54:00:00:01:01")
        bad = {
            b"rpf-land": IP(src=LAN_HOST, dst=LAN_HOST) / TCP(sport=5555, dport=5555, flags="S"),
            b"rpf-ping": IP(src=LAN_HOST, dst=WAN_ROUTER) / ICMP(id=77, seq=1),
            b"rpf-bcast": IP(src="192.168.10.255", dst=LAN_HOST) / UDP(sport=7, dport=5556),
            b"rpf-net": IP(src="192.168.10.0", dst=LAN_HOST) / UDP(sport=7, dport=5556),
        }
        for marker, pkt in bad.items():
            on_wan.send(bytes(frame / pkt / marker))
        good = IP(src=WAN_HOST, dst=LAN_HOST) / UDP(sport=7, dport=5556) / b"rpf-good"
        on_wan.send(bytes(frame / good))
        seen = frames_with([on_lan, on_wan], [*bad, b"rpf-good"], 3)
        assert seen == {b"rpf-good"}, seen
        after = r.stats()
    finally:
        on_wan.close()
        on_lan.close()
    assert after["eth1.ip_rp_filter"] - before["eth1.ip_rp_filter"] == 2, (before, after)
    assert after["ip_bad_src"] - before["ip_bad_src"] == 2, (before, after)
    assert after["eth0.ip_rp_filter"] == 0, after
    # The LAN host's own traffic to the router and through it is not touched.
    out = run(lan, "ping", "-c", "2", "-i", "0.2", "-W", "5", WAN_ROUTER).stdout
    assert " 0% packet loss" in out, out


def test_malformed_options_and_source_routes_are_not_forwarded(shared_router):
    """A datagram to be forwarded passes the same check of its IP options
    as one to the router: malformed options (a length of 40 in a 4-byte
    area) and source routes (as Linux's accept_source_route=0) are
    dropped and counted, well-formed ones (no operation) go through."""
    from test_hostile import ip_with_options
    inet = pytest.importorskip("scapy.layers.inet", reason="needs python3-scapy")
    l2 = pytest.importorskip("scapy.layers.l2", reason="needs python3-scapy")
    r = shared_router
    lan, wan = r.lan, r.wan
    on_wan, on_lan = wan.raw_socket("h1"), lan.raw_socket("h0")
    try:
        before = r.stats()
        frame = l2.Ether(src=wan.link_mac("h1"), dst="52:54:00:00:01:01")
        sent = {
            b"opt-bad": bytes([7, 40, 4, 0]),            # record route, 40 bytes in 4
            b"opt-lsrr": bytes([131, 7, 4]) + socket.inet_aton(LAN_HOST) + bytes([0]),
            b"opt-ssrr": bytes([137, 7, 4]) + socket.inet_aton(LAN_HOST) + bytes([0]),
            b"opt-good": bytes([1, 1, 1, 0]),            # no operation, end
        }
        for marker, options in sent.items():
            pkt = ip_with_options(WAN_HOST, options, inet.UDP(sport=7000, dport=5556) / marker,
                                  17, dst=LAN_HOST)
            on_wan.send(bytes(frame / pkt))
        seen = frames_with([on_lan], list(sent), 3)
        assert seen == {b"opt-good"}, seen
        after = r.stats()
    finally:
        on_wan.close()
        on_lan.close()
    assert after["ip_opterr"] - before["ip_opterr"] == 1, (before, after)
    assert after["ip_source_route"] - before["ip_source_route"] == 2, (before, after)


def test_df_over_smaller_wan_mtu_gets_fragmentation_needed(tmp_path):
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, wan_mtu=1400) as r:
        # Without DF the router cuts it: the WAN host answers. (First: once
        # the LAN host learns the path's MTU, it cuts them itself.)
        out = run(lan, "ping", "-c", "5", "-W", "5", "-M", "dont", "-s", "1472", WAN_HOST,
                  timeout=60).stdout
        assert " 0% packet loss" in out, out
        out = run(lan, "ping", "-c", "1", "-W", "5", "-M", "do", "-s", "1472", WAN_HOST,
                  check=False).stdout
        assert re.search(r"Frag needed and DF set \(mtu = 1400\)", out), out
        k = r.stats()
        assert k["eth0.fwd_too_big"] == 1 and k["eth0.fwd_fragmented"] == 5, k


def test_silent_next_hop_gets_host_unreachable(shared_router):
    """A next hop that never answers ARP: what waited for it (at most 4
    datagrams per neighbour, the oldest dropped) is answered with ICMP host
    unreachable after 3 s; forwarding to the others goes on meanwhile."""
    r = shared_router
    lan = r.lan
    before = r.stats()
    silent = "10.99.0.77"       # on the WAN's network; nobody has it
    pinger = subprocess.Popen(lan.prefix() + ["ping", "-D", "-c", "6", "-i", "0.2", "-W", "6",
                                               silent], stdout=subprocess.PIPE, text=True)
    try:
        out = run(lan, "ping", "-c", "5", "-i", "0.2", "-W", "5", WAN_HOST).stdout
        assert " 0% packet loss" in out, out
        out, _ = pinger.communicate(timeout=30)
    finally:
        if pinger.poll() is None:
            pinger.kill()
            pinger.wait()
    unreachable = re.findall(rf"\] From {LAN_ROUTER} icmp_seq=(\d+) Destination Host Unreachable",
                             out)
    assert unreachable == ["3", "4", "5", "6"], out
    k = r.stats()
    d = {key: k[key] - before[key] for key in k}
    assert d["eth0.fwd_host_unreachable"] == 4 and d["eth0.fwd_not_sent"] == 2, (d, k)
    assert d["eth0.fwd_icmp_sent"] == 4, (d, k)


def tcp_transfer(lan, wan, nbytes, during=None, to=WAN_HOST, port=5555):
    """nbytes of random data from the LAN host to the WAN host through the
    router (or from the host in `lan` to the one in `wan` at `to`);
    returns (sent digest, received digest, received count)."""
    data = random.Random(13).randbytes(nbytes)
    listener = wan.in_ns(lambda: socket.create_server((to, port)))
    listener.settimeout(60)
    got = {}

    def receive():
        c, _ = listener.accept()
        c.settimeout(60)
        h, n = hashlib.sha256(), 0
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        c.close()
        got["digest"], got["count"] = h.hexdigest(), n

    t = threading.Thread(target=receive)
    t.start()
    s = lan.in_ns(lambda: socket.create_connection((to, port), timeout=30))
    s.settimeout(60)
    for off in range(0, nbytes, 65536):
        if during and off == nbytes // 4 // 65536 * 65536:
            during()
        s.sendall(data[off:off + 65536])
    s.close()
    t.join(timeout=120)
    listener.close()
    return hashlib.sha256(data).hexdigest(), got.get("digest"), got.get("count")


def test_tcp_transfer_through(request, models, tmp_path):
    with router_of(request, models, tmp_path) as r:
        sent, received, count = tcp_transfer(r.lan, r.wan, 8 << 20)
        assert count == 8 << 20 and received == sent


def test_tcp_transfer_survives_lan_driver_killed(tmp_path):
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan) as r:
        answers = []
        # The kill is made and answered while the transfer is open, 6 MiB
        # still to send: at the router's speed on a quiet host (600 Mbit/s
        # and more) the whole 8 MiB would be through before a kill sent
        # beside it was even answered. The control connection crosses eth0
        # itself, so its answer may come only once the new driver runs.
        sent, received, count = tcp_transfer(
            lan, wan, 8 << 20, during=lambda: answers.append(r.control("kill eth0")))
        assert answers == ["ok"], (answers, r.qemu.output())
        assert count == 8 << 20 and received == sent, answers
        r.qemu.wait_for(r"netstack: eth0 re-attached to a new driver")


class Iperf3:
    """iperf3 (Debian's) through the router: the server in the WAN host's
    namespace for one test, the client in the LAN host's; both answer in
    JSON. Every run is bounded by its own -t or -n and a timeout here."""

    def __init__(self, lan, wan):
        self.lan, self.wan = lan, wan

    def run(self, *args, during=(), timeout=90):
        server = subprocess.Popen(self.wan.prefix() + ["iperf3", "-s", "-1", "-J", "-B", WAN_HOST],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 10
            while ":5201" not in run(self.wan, "ss", "-Hltn").stdout:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read()
                time.sleep(0.1)
            client = subprocess.Popen(self.lan.prefix() + ["iperf3", "-J", "-c", WAN_HOST,
                                                           "--connect-timeout", "10000", *args],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                for at, action in during:
                    threading.Timer(at, action).start()
                out, err = client.communicate(timeout=timeout)
                assert client.returncode == 0, out + err
                sout, _ = server.communicate(timeout=30)
            finally:
                if client.poll() is None:
                    client.kill()
                    client.wait()
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        return json.loads(out), json.loads(sout)

    def tcp(self, *args, **kw):
        """A TCP test with 256 KiB socket buffers; returns the client's and
        the server's JSON. The receiver's count is the sender's, less at
        most what the two buffers held when the test ended (iperf3 stops
        counting then: its counts never agree exactly)."""
        client, server = self.run("-w", "256K", *args, **kw)
        end = client["end"]
        sent, received = end["sum_sent"]["bytes"], end["sum_received"]["bytes"]
        assert 0 < received <= sent and sent - received <= 4 * 256 * 1024, end
        return client, server


def test_iperf3_tcp_both_ways_and_udp_and_traceroute(request, models, tmp_path):
    with router_of(request, models, tmp_path) as r:
        lan, wan = r.lan, r.wan
        before = r.stats()
        out = run(lan, "traceroute", "-n", "-q", "1", "-w", "3", "-m", "4", WAN_HOST,
                  timeout=60).stdout
        assert re.search(rf"^ 1  {re.escape(LAN_ROUTER)} ", out, re.M), out
        assert re.search(rf"^ 2  {re.escape(WAN_HOST)} ", out, re.M), out
        perf = Iperf3(lan, wan)
        up = perf.tcp("-t", "2")[0]["end"]["sum_received"]["bytes"]
        down = perf.tcp("-t", "2", "-R")[0]["end"]["sum_received"]["bytes"]
        # UDP at a rate TCG keeps up with: the server received what the
        # client sent, less what it counted as lost (and the last few, if
        # they were lost: no later one says so), byte for byte; under TCG
        # on a busy host a NIC model drops a few.
        client, server = perf.run("-u", "-b", "20M", "-l", "1400", "-t", "2")
        sent, udp = client["end"]["sum_sent"], server["end"]["sum_received"]
        received = udp["packets"] - udp["lost_packets"]
        assert sent["bytes"] == sent["packets"] * 1400 and udp["packets"] <= sent["packets"], \
            (sent, udp)
        assert udp["bytes"] == received * 1400, udp
        assert received >= sent["packets"] * 95 // 100, (sent, udp, r.stats())
        k = r.stats()
        d = {key: k[key] - before[key] for key in k}
        assert d["eth0.fwd_packets"] >= up // 1448 and d["eth1.fwd_packets"] >= down // 1448, \
            (d, k)


def test_pmtu_discovery_over_smaller_wan_mtu(tmp_path):
    """The router's WAN link (its tap and interface) has MTU 1400, the hosts
    1500: the LAN host's full-size segments with DF get fragmentation needed
    (mtu 1400), its kernel lowers the path MTU and the transfer completes."""
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, wan_mtu=1400, wan_tap_mtu=1400) as r:
        Iperf3(lan, wan).tcp("-t", "2")
        assert re.search(r"\bmtu 1400\b", run(lan, "ip", "route", "get", WAN_HOST).stdout)
        k = r.stats()
        assert k["eth0.fwd_too_big"] >= 1 and k["eth0.fwd_icmp_sent"] >= 1, k


def test_iperf3_survives_lan_then_wan_driver_killed(tmp_path):
    """A routed iperf3 while the LAN driver and then the WAN driver are
    killed: the transfer completes, every byte sent arrived; while one
    driver was gone the netstack kept answering on the other interface."""
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan) as r:
        answers, pings = [], []

        def kill(name, other_ns, other_addr):
            answers.append(r.control(f"kill {name}"))
            pings.append(run(other_ns, "ping", "-c", "3", "-i", "0.2", "-W", "5", other_addr,
                             check=False).stdout)

        perf = Iperf3(lan, wan)
        _, server = perf.tcp("-t", "8", during=[(2, lambda: kill("eth0", wan, WAN_ROUTER)),
                                                (5, lambda: kill("eth1", lan, LAN_ROUTER))])
        # Data arrived in the last second: after both drivers came back.
        assert server["intervals"][-1]["sum"]["bytes"] > 0, server["intervals"]
        r.qemu.wait_for(r"netstack: eth0 re-attached to a new driver")
        r.qemu.wait_for(r"netstack: eth1 re-attached to a new driver")
        assert len(pings) == 2 and all(" 0% packet loss" in p for p in pings), (answers, pings)
        k = r.stats()
        assert k["eth0.driver_restarts"] == 1 and k["eth1.driver_restarts"] == 1, k


def test_four_nics_mixed_forward_among_them(tmp_path):
    """Four NICs (e1000, virtio-net, e1000, virtio-net), each on its own
    host's network 10.8.N.0/24, from a configuration file: every host
    reaches every other through the router; with the first NIC's driver
    killed, the other three go on forwarding among themselves, and the
    first rejoins."""
    models = ("e1000", "virtio-net", "e1000", "virtio-net")
    nets = [f"10.8.{i}" for i in range(4)]
    hosts4 = [Netns(f"h{i}") for i in range(4)]
    ns = Netns("router4")
    with hosts4[0], hosts4[1], hosts4[2], hosts4[3], ns:
        manifest, args = "", []
        for i, model in enumerate(models):
            device, module = MODELS[model]
            tap = ns.add_tap(f"tap{i}")
            ip("-n", ns.name, "link", "add", f"br{i}", "type", "bridge")
            ip("-n", ns.name, "link", "add", f"v{i}", "type", "veth", "peer", "name", f"h{i}")
            ip("-n", ns.name, "link", "set", f"h{i}", "netns", hosts4[i].name)
            for dev in (tap, f"v{i}"):
                ip("-n", ns.name, "link", "set", dev, "master", f"br{i}")
            for dev in (f"v{i}", f"br{i}"):
                ip("-n", ns.name, "link", "set", dev, "up")
            ip("-n", hosts4[i].name, "addr", "add", f"{nets[i]}.2/24", "dev", f"h{i}")
            ip("-n", hosts4[i].name, "link", "set", f"h{i}", "up")
            ip("-n", hosts4[i].name, "route", "add", "default", "via", f"{nets[i]}.1")
            manifest += (f"program eth{i} dma=64 priority=150 restart=on-crash retries=3\n"
                         f"    module {module}\n    pci 00:{3 + i:02x}.0\n    args name=eth{i}\n")
            args += ["-netdev", f"tap,id=n{i},ifname={tap},script=no,downscript=no",
                     "-device", f"{device},netdev=n{i},mac=52:54:00:00:0{i}:01,addr={3 + i}"]
        conf = "forwarding on\n" + "".join(
            f"interface eth{i} {{ device pci 00:{3 + i:02x}.0; address {nets[i]}.1/24 }}\n"
            for i in range(4))
        (tmp_path / "router.conf").write_text(conf)
        manifest += ("program netstack dma=4096 priority=100\n"
                     "    file router.conf\n" +
                     "".join(f"    lookup eth{i}\n" for i in range(4)) +
                     "    args config=router.conf nic=eth0,eth1,eth2,eth3\n"
                     "program netecho priority=90 control=yes\n")
        path = tmp_path / "manifest"
        path.write_text(manifest)
        mods = [(build_path("init.elf"), "init"), (str(path), "manifest"),
                (str(tmp_path / "router.conf"), "router.conf"),
                (build_path("drivers", "e1000.elf"), "e1000"),
                (build_path("drivers", "virtio-net.elf"), "virtio-net"),
                (build_path("netstack.elf"), "netstack"),
                (build_path("programs", "netecho.elf"), "netecho")]
        q = Qemu(["-kernel", build_path("kernel.elf"), "-append", "loglevel=2",
                  "-initrd", ",".join(f"{p} {n}" for p, n in mods)] + args,
                 name="router-4-nics", prefix=ns.prefix())
        with q:
            # dma=4096, as for two NICs, has no room for a 4 MiB pool beside
            # four rings: the 2 MiB one, shared fairly.
            q.wait_for(r"netstack: a 2 MiB pool for 4 interfaces: .*\(dma=4352 would\)")
            for i in range(4):
                q.wait_for(rf"netstack: eth{i} up, 10\.8\.{i}\.1/24")

            def ping_all(pairs, count=3):
                for a, b in pairs:
                    out = run(hosts4[a], "ping", "-c", str(count), "-i", "0.1", "-W", "5",
                              f"{nets[b]}.2", timeout=40).stdout
                    assert " 0% packet loss" in out, (a, b, out)

            # The first datagrams wait for ARP on both links and the bridges'
            # learning: one each way before counting.
            for a in range(4):
                run(hosts4[a], "ping", "-c", "1", "-w", "20", f"{nets[(a + 1) % 4]}.2", timeout=30)
            ping_all([(a, b) for a in range(4) for b in range(4) if a != b], count=2)
            killer = subprocess.Popen(hosts4[1].prefix() + [
                "python3", "-c", "import socket,sys; s=socket.create_connection(('10.8.1.1', 9001), 10); "
                "s.sendall(b'kill eth0\\n'); print(s.recv(100).decode())"],
                stdout=subprocess.PIPE, text=True)
            try:
                assert "ok" in killer.communicate(timeout=30)[0]
            finally:
                if killer.poll() is None:
                    killer.kill()
                    killer.wait()
            # eth0's driver is gone or coming back: the others forward on.
            ping_all([(1, 2), (2, 3), (3, 1)], count=5)
            q.wait_for(r"netstack: eth0 re-attached to a new driver")
            ping_all([(0, 3), (3, 0)])


# The WAN declared first, yet on the second NIC (00:04.0): the PCI slot,
# not the order, binds an interface to its NIC.
ROUTER_CONF = f"""forwarding on
interface wan {{
    device pci 00:04.0
    address {WAN_ROUTER}/24
    mtu 1400
}}
interface lan {{
    device pci 00:03.0
    address {LAN_ROUTER}/24
}}
route 172.16.0.0/16 via {WAN_HOST} metric 5
"""


def test_router_from_its_configuration_file(tmp_path):
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, conf=ROUTER_CONF) as r:
        r.qemu.wait_for(r"netstack: nic0 is lan")
        r.qemu.wait_for(r"netstack: nic1 is wan")
        out = run(lan, "ping", "-c", "5", "-i", "0.05", "-W", "5", WAN_HOST, timeout=60).stdout
        assert " 0% packet loss" in out, out
        out = run(lan, "ping", "-c", "1", "-W", "5", "-M", "do", "-s", "1472", WAN_HOST,
                  check=False).stdout
        assert re.search(r"Frag needed and DF set \(mtu = 1400\)", out), out
        # 172.16/16 has a static route (to the WAN host, which drops it);
        # 172.17/16 has none.
        run(lan, "ping", "-c", "1", "-W", "2", "172.16.1.1", check=False)
        out = run(lan, "ping", "-c", "1", "-W", "5", "172.17.1.1", check=False).stdout
        assert re.search(rf"From {LAN_ROUTER} .*Destination Net Unreachable", out), out
        k = r.stats()
        assert k["lan.fwd_packets"] >= 6 and k["lan.fwd_no_route"] == 1, k
        assert k["lan.fwd_too_big"] == 1, k


def connects(ns, addr, port, timeout=3):
    """True when a TCP connection to addr:port is accepted within timeout."""
    try:
        ns.in_ns(lambda: socket.create_connection((addr, port), timeout=timeout)).close()
        return True
    except OSError:
        return False


def test_services_answer_only_where_the_configuration_says(tmp_path):
    """service ping, iperf and echo on lan: the LAN host reaches them (at
    either of the router's addresses), the WAN host gets no answer (and the
    drops are counted); what is not a service (netecho's statistics port,
    forwarding) is not touched."""
    conf = ROUTER_CONF + "service ping on lan\nservice iperf on lan\nservice echo on lan\n"
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, conf=conf) as r:
        r.qemu.wait_for(r"iperf server on TCP port 5001")
        for addr in (LAN_ROUTER, WAN_ROUTER):
            out = run(lan, "ping", "-c", "2", "-i", "0.2", "-W", "5", addr).stdout
            assert " 0% packet loss" in out, out
            assert connects(lan, addr, 5001) and connects(lan, addr, 7)
        out = run(wan, "ping", "-c", "2", "-i", "0.2", "-W", "2", WAN_ROUTER, check=False).stdout
        assert " 100% packet loss" in out, out
        assert not connects(wan, WAN_ROUTER, 5001) and not connects(wan, WAN_ROUTER, 7)
        assert connects(wan, WAN_ROUTER, 9000)
        out = run(wan, "ping", "-c", "2", "-i", "0.2", "-W", "5", LAN_HOST).stdout
        assert " 0% packet loss" in out, out
        k = r.stats()
        assert k["wan.svc_refused"] >= 4 and k["lan.svc_refused"] == 0, k


def test_bad_configuration_named_by_file_line_and_column(tmp_path):
    """A wrong line stops the network, named; the netstack stays up."""
    lan, wan = hosts()
    bad = ROUTER_CONF.replace("mtu 1400", "mtu 14000")
    with lan, wan, Router(tmp_path, lan, wan, conf=bad, expect_up=False) as r:
        r.qemu.wait_for(r"netstack: router\.conf:5:9: .*9000")
        r.qemu.wait_for(r"netstack: no network until the configuration is right")
        r.qemu.wait_for(r"netstack: serving 0 interfaces")
        time.sleep(1)
        assert not re.search(r"^init: netstack ", r.qemu.output(), re.M), r.qemu.output()


def test_console_route_arp_and_ifconfig(tmp_path):
    """The console shows the routing table, the neighbours and what was
    forwarded (through the management protocol)."""
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, conf=ROUTER_CONF, console=True) as r:
        q = r.qemu
        q.wait_for(r"^console: ready")
        run(lan, "ping", "-c", "1", "-W", "5", "172.17.1.1", check=False)
        command(q, "route\r", r"^destination\s+gateway\s+interface\s+metric\s+from$")
        q.wait_for(r"^192\.168\.10\.0/24\s+-\s+lan\s+0  connected$")
        q.wait_for(r"^172\.16\.0\.0/16\s+10\.99\.0\.2\s+wan\s+5  static$")
        wan_mac = wan.link_mac("h1")
        command(q, "arp\r", r"^address\s+MAC\s+interface$")
        q.wait_for(rf"^10\.99\.0\.2\s+{wan_mac}\s+wan$")
        command(q, "ifconfig\r", r"^    forwarded \d+, fragmented 0, refused 0$")
        q.wait_for(r"^    dropped: no route 1, TTL 0, martian 0, too big 0,$")
        # A route added at the console carries 172.18/16; deleted, it is
        # gone, and deleting it again says so.
        command(q, "route add 172.18.0.0/16 via 10.99.0.2 metric 3\r",
                r"^console: route add: done$")
        command(q, "route\r", r"^172\.18\.0\.0/16\s+10\.99\.0\.2\s+wan\s+3  static$")
        run(lan, "ping", "-c", "1", "-W", "2", "172.18.1.1", check=False)
        assert r.stats()["lan.fwd_no_route"] == 1
        m = command(q, "route add 172.18.0.0/16 via 10.99.0.2 metric 3\r",
                    r"^console: route add: .+$")
        assert m.group(0) != "console: route add: done", m.group(0)
        command(q, "route del 172.18.0.0/16\r", r"^console: route del: done$")
        run(lan, "ping", "-c", "1", "-W", "2", "172.18.1.1", check=False)
        assert r.stats()["lan.fwd_no_route"] == 2
        m = command(q, "route del 172.18.0.0/16\r", r"^console: route del: .+$")
        assert m.group(0) != "console: route del: done"
        command(q, "route add 10.0.0.0/8\r", r"^console: route: add needs 'via GATEWAY'$")
        # Without chains there is no connection table: conntrack says so
        # (the netstack does not crash), rules says everything is accepted.
        command(q, "conntrack\r", r"^console: conntrack: no connection table \(the configuration "
                r"has no chain\)$")
        command(q, "conntrack flush\r", r"^console: conntrack: no connection table .*$")
        command(q, "rules\r", r"^console: rules: the configuration has no chain: no filter rules, "
                r"every packet is accepted \(policy accept\)$")
        command(q, "route\r", r"^172\.16\.0\.0/16\s+10\.99\.0\.2\s+wan\s+5  static$")
        assert not re.search(r"^init: netstack ", q.output(), re.M), q.output()


@pytest.fixture
def restore_tree():
    """make router-demo builds the ISO's manifest and the TFTP tree for
    configs/router.manifest; afterwards both hold the default one again."""
    yield
    subprocess.run(["make", "-s", "iso", "tftp"], cwd=ROOT, env=make_env(), check=True,
                   capture_output=True, timeout=300)


def test_make_router_demo_boots_by_pxe_and_routes(restore_tree):
    """make router-demo as a user types it: the router PXE-boots from the
    LAN host's dnsmasq, gets its WAN address by DHCP from the WAN host's,
    and the printed ping, traceroute and iperf3 commands work from the LAN
    host to the WAN host; after Ctrl-A X every namespace is gone."""
    ns = f"mica-demo-{os.getpid()}"
    names = [ns, f"{ns}-lan", f"{ns}-wan"]
    make = Make("router-demo", f"NETNS={ns}")
    qemu_pid = None
    try:
        printed = {}
        for what in ("ping", "traceroute -n", "iperf3 -c"):
            m = make.out.wait_for(rf"^\s+(ip netns exec {ns}-lan {what} 10\.99\.0\.2)\b", timeout=300)
            printed[what] = shlex.split(m.group(1))
        make.out.wait_for(r"boot: loaded by iPXE", timeout=BOOT_TIMEOUT)
        make.out.wait_for(r'boot: command line "tftp://192\.168\.10\.2/kernel ', timeout=30)
        make.out.wait_for(r"netstack: lan up, 192\.168\.10\.1/24", timeout=BOOT_TIMEOUT)
        make.out.wait_for(r"netstack: wan up, 10\.99\.0\.1/24 \(dhcp\)", timeout=60)
        qemu_pid = qemu_pid_in(ns)
        assert qemu_pid, "no QEMU in the router's namespace"
        deadline = time.monotonic() + 30
        while True:
            r = subprocess.run(printed["ping"] + ["-c", "1", "-W", "2"], capture_output=True,
                               text=True, timeout=10)
            if r.returncode == 0 or time.monotonic() > deadline:
                break
        assert r.returncode == 0, r.stdout + r.stderr + make.out.text
        r = subprocess.run(printed["traceroute -n"] + ["-q", "1", "-w", "3", "-m", "4"],
                           capture_output=True, text=True, timeout=60)
        assert re.search(r"^ 1  192\.168\.10\.1 ", r.stdout, re.M), r.stdout
        r = subprocess.run(printed["iperf3 -c"] + ["-n", "4M", "--connect-timeout", "10000"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "receiver" in r.stdout, r.stdout + r.stderr
        make.send(b"\x01x")               # Ctrl-A X: QEMU quits
        assert make.wait(timeout=60) == 0, make.out.text
        for name in names:
            make.out.wait_for(rf"^tapnet: namespace {name} removed", timeout=5)
            assert not netns_exists(name)
        assert not pid_alive(qemu_pid)
    finally:
        make.stop()
        if qemu_pid and pid_alive(qemu_pid):
            os.kill(qemu_pid, signal.SIGKILL)
        for name in names:
            if netns_exists(name):
                subprocess.run(["ip", "netns", "delete", name], check=False)
