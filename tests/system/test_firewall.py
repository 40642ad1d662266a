"""Mica as a stateful firewall and NAT router (docs/firewall.md).

The namespaces of test_router.py: a LAN host (192.168.10.2), a WAN host
(10.99.0.2) and the router between them (lan 192.168.10.1 on an e1000, wan
10.99.0.1 on a virtio-net), its rules from an appliance configuration. The
LAN leaves masqueraded to 10.99.0.1; WAN ports 1080 (TCP) and 53 (UDP) are
forwarded to the LAN host. The console shows the rules' counters and the
connection table, and reloads the rules.
"""
import hashlib
import random
import re
import resource
import select
import socket
import threading
import time

import pytest

from netns import can_run
from test_console import command
from test_router import LAN_HOST, LAN_ROUTER, WAN_HOST, WAN_ROUTER, Router, hosts, run, \
    tcp_transfer

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

IFACES = f"""forwarding on
interface lan {{
    device pci 00:03.0
    address {LAN_ROUTER}/24
}}
interface wan {{
    device pci 00:04.0
    address {WAN_ROUTER}/24
}}
"""

RULES = f"""chain input {{
    policy drop
    ct state established,related accept
    ct state invalid drop
    iif lan accept
    iif wan icmp type echo-request accept
    iif wan tcp dport 1-1023 reject with tcp reset
}}
chain forward {{
    policy drop
    ct state established,related counter accept
    ct state invalid counter drop
    iif lan oif wan tcp dport 5555 counter accept
    iif lan oif wan tcp dport 5556 counter reject
    iif lan oif wan udp dport 6000 counter accept
    iif lan oif wan udp dport 6001 counter reject
    iif lan oif wan udp dport 33434-33534 counter accept
    iif lan oif wan icmp type echo-request counter accept
    iif wan oif lan ct state new ip daddr {LAN_HOST} tcp dport 8080 counter accept
    iif wan oif lan ct state new ip daddr {LAN_HOST} udp dport 5353 counter accept
    counter log prefix "fw-drop:" drop
}}
chain prerouting {{
    iif wan tcp dport 1080 dnat to {LAN_HOST}:8080
    iif wan udp dport 53 dnat to {LAN_HOST}:5353
}}
chain postrouting {{ oif wan masquerade }}
"""

CONF = IFACES + RULES


def line_of(conf, text):
    """The line number of the first line of conf holding text."""
    return next(i for i, line in enumerate(conf.splitlines(), 1) if text in line)


class FirewallRouter(Router):
    """The router with a firewall: up when the LAN host reaches the WAN
    host (nothing comes in from the WAN unasked)."""

    def __init__(self, tmp_path, lan, wan, conf=CONF, **kw):
        super().__init__(tmp_path, lan, wan, conf=conf, expect_up=False, console=True, **kw)

    def __enter__(self):
        super().__enter__()
        try:
            q = self.qemu
            q.wait_for(r"netstack: wan up, 10\.99\.0\.1/24")
            q.wait_for(r"netstack: lan up, 192\.168\.10\.1/24")
            q.wait_for(r"^console: ready")
            run(self.lan, "ping", "-c", "1", "-w", "20", WAN_HOST, timeout=30)
        except BaseException:
            self.__exit__()
            raise
        return self

    def rules(self):
        """The console's rules listing: {line: (packets, bytes)} of the
        counted rules (bytes as fmt_bytes prints them)."""
        q = self.qemu
        mark = q.mark()
        q.type("rules\r")
        q.wait_for(r"^chain postrouting", since=mark)
        q.wait_row(r"^mica> $")
        found = {}
        for line in q.output().splitlines()[mark:]:
            m = re.match(r"^  line (\d+): .*  \[(\d+) packets?, (.+)\]$", line)
            if m:
                found[int(m.group(1))] = (int(m.group(2)), m.group(3))
        return found

    def conntrack(self):
        """The console's conntrack: its counters and connection lines.
        Each line parsed is waited for. The count line is not anchored at
        the row's start: another program's line longer than one write
        (120 bytes, lib/user/runtime.c) may be unfinished when the
        console's line comes, and then the two share a row."""
        q = self.qemu
        mark = q.mark()
        q.type("conntrack\r")
        m = q.wait_for(r"conntrack: (\d+) connections? of \d+ \(", since=mark)
        q.wait_for(r"    added \d+, expired \d+, .*, removed \d+$", since=mark)
        q.wait_for(r"    firewall: \d+ rules? from ", since=mark)
        q.wait_row(r"^mica> $")
        text = "\n".join(q.output().splitlines()[mark:])
        counters = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", text)}
        return int(m.group(1)), counters, text


class Server:
    """A TCP or UDP echo server in a namespace; the peers it saw."""

    def __init__(self, ns, addr, port, udp=False):
        self.peers = []
        self.udp = udp
        self.sock = ns.in_ns(lambda: socket.socket(
            socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        if not udp:
            self.sock.listen(1024)
        self.sock.settimeout(0.5)
        self.stop = False
        self.conns = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                if self.udp:
                    data, peer = self.sock.recvfrom(2048)
                    self.peers.append(peer)
                    self.sock.sendto(data, peer)
                    continue
                c, peer = self.sock.accept()
            except OSError:
                continue
            self.peers.append(peer)
            self.conns.append(c)
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        c.settimeout(60)
        try:
            while chunk := c.recv(65536):
                c.sendall(chunk)
        except OSError:
            pass

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        for c in self.conns:
            c.close()
        self.sock.close()


def connect(ns, addr, port, timeout=3):
    """'open', 'refused' or 'timeout': a TCP connect from ns."""
    try:
        s = ns.in_ns(lambda: socket.create_connection((addr, port), timeout=timeout))
    except ConnectionRefusedError:
        return "refused"
    except (socket.timeout, TimeoutError):
        return "timeout"
    s.close()
    return "open"


def echo_through(ns, addr, port, nbytes):
    """nbytes there and back through an echo server: the data came back."""
    data = random.Random(port).randbytes(nbytes)
    s = ns.in_ns(lambda: socket.create_connection((addr, port), timeout=10))
    s.settimeout(60)
    got = bytearray()
    t = threading.Thread(target=lambda: s.sendall(data))
    t.start()
    while len(got) < nbytes:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    t.join()
    s.close()
    return hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


def udp_exchange(ns, addr, port, payload=b"0123456789", timeout=2):
    """'answer', 'refused' (ICMP port unreachable) or 'timeout'."""
    s = ns.in_ns(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    s.settimeout(timeout)
    s.connect((addr, port))
    try:
        s.send(payload)
        return "answer" if s.recv(2048) == payload else "other"
    except ConnectionRefusedError:
        return "refused"
    except (socket.timeout, TimeoutError):
        return "timeout"
    finally:
        s.close()


def time_exceeded_quote(ns, addr, port, udp=True, before=False, wait=5):
    """(destination, port) quoted by the ICMP time exceeded that a datagram
    from ns to addr:port with TTL 1 gets (None: none came within wait s).
    UDP; before: a datagram with the usual TTL first (answered: the
    connection is in the router's table); TCP: a SYN."""
    raw = ns.in_ns(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
    s = ns.in_ns(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM))
    try:
        s.bind(("", 0))
        sport = s.getsockname()[1]
        if before:
            s.settimeout(3)
            s.connect((addr, port))
            s.send(b"first")
            assert s.recv(2048) == b"first"
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
        if udp:
            s.sendto(b"ttl 1", (addr, port))
        else:
            s.setblocking(False)
            s.connect_ex((addr, port))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            raw.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                pkt = raw.recv(2048)
            except (socket.timeout, TimeoutError):
                break
            ihl = (pkt[0] & 15) * 4
            icmp, quote = pkt[ihl:ihl + 8], pkt[ihl + 8:]
            if icmp[0] != 11 or len(quote) < 28:
                continue
            qihl = (quote[0] & 15) * 4
            if int.from_bytes(quote[qihl:qihl + 2], "big") == sport:
                return socket.inet_ntoa(quote[16:20]), int.from_bytes(quote[qihl + 2:qihl + 4], "big")
        return None
    finally:
        s.close()
        raw.close()


def scan_tcp(ns, addr, ports, wait=3):
    """The ports of addr a TCP connect from ns opens (non-blocking, 400
    at a time, each batch bounded by wait seconds)."""
    open_ports = set()
    ports = list(ports)
    for first in range(0, len(ports), 400):
        socks = {}
        for port in ports[first:first + 400]:
            s = ns.in_ns(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.setblocking(False)
            s.connect_ex((addr, port))
            socks[s] = port
        deadline = time.monotonic() + wait
        pending = set(socks)
        while pending and time.monotonic() < deadline:
            _, ready, _ = select.select([], list(pending), [], max(0, deadline - time.monotonic()))
            for s in ready:
                pending.discard(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    open_ports.add(socks[s])
        for s in socks:
            s.close()
    return open_ports


def test_filter_counters_masquerade_port_forward_and_related_icmp(tmp_path):
    lan, wan = hosts()
    with lan, wan, FirewallRouter(tmp_path, lan, wan) as r:
        q = r.qemu
        servers = [Server(wan, WAN_HOST, 5555), Server(wan, WAN_HOST, 5557),
                   Server(wan, WAN_HOST, 6000, udp=True), Server(lan, LAN_HOST, 8080),
                   Server(lan, LAN_HOST, 5353, udp=True), Server(lan, LAN_HOST, 8081)]
        try:
            # Allowed TCP goes, both ways, masqueraded: the WAN host sees
            # the router's WAN address.
            assert echo_through(lan, WAN_HOST, 5555, 2 << 20)
            assert servers[0].peers and {p[0] for p in servers[0].peers} == {WAN_ROUTER}
            # Rejected TCP gets a reset; dropped TCP times out (a server
            # listens on 5557, never reached).
            assert connect(lan, WAN_HOST, 5556) == "refused"
            assert connect(lan, WAN_HOST, 5557, timeout=2) == "timeout"
            assert not servers[1].peers
            # UDP likewise: answered, rejected (port unreachable), dropped.
            assert udp_exchange(lan, WAN_HOST, 6000) == "answer"
            assert {p[0] for p in servers[2].peers} == {WAN_ROUTER}
            assert udp_exchange(lan, WAN_HOST, 6001) == "refused"
            assert udp_exchange(lan, WAN_HOST, 6002, timeout=1) == "timeout"
            # ICMP: echo through, the reply back to the LAN host.
            out = run(lan, "ping", "-c", "3", "-i", "0.2", "-W", "5", WAN_HOST).stdout
            assert " 0% packet loss" in out, out
            # In fragments (4000 bytes: three each way), the later ones
            # follow their first, translated alike.
            out = run(lan, "ping", "-c", "3", "-i", "0.2", "-W", "5", "-s", "4000",
                      WAN_HOST).stdout
            assert " 0% packet loss" in out, out
            # Related ICMP: the WAN host's port unreachable about a
            # masqueraded datagram reaches the LAN host, its quote
            # translated back (else its socket would not see it).
            assert udp_exchange(lan, WAN_HOST, 33434) == "refused"
            out = run(lan, "traceroute", "-n", "-q", "1", "-w", "3", "-m", "4", WAN_HOST,
                      timeout=60).stdout
            assert re.search(rf"^ 1  {re.escape(LAN_ROUTER)} ", out, re.M), out
            assert re.search(rf"^ 2  {re.escape(WAN_HOST)} ", out, re.M), out
            # Port forwards: WAN 1080 reaches the LAN host's 8080, both
            # ways; UDP 53 its 5353. Unasked, the LAN host is not reached.
            assert echo_through(wan, WAN_ROUTER, 1080, 1 << 20)
            assert {p[0] for p in servers[3].peers} == {WAN_HOST}
            assert udp_exchange(wan, WAN_ROUTER, 53) == "answer"
            assert connect(wan, LAN_HOST, 8081, timeout=2) == "timeout"
            assert not servers[5].peers
            # The router's own ICMP errors about forwarded datagrams quote
            # them as their sender sent them (the port forward's address
            # and port, not the LAN host's): a first datagram, one of a
            # connection in the table, a first SYN.
            assert time_exceeded_quote(wan, WAN_ROUTER, 53) == (WAN_ROUTER, 53)
            assert time_exceeded_quote(wan, WAN_ROUTER, 53, before=True) == (WAN_ROUTER, 53)
            assert time_exceeded_quote(wan, WAN_ROUTER, 1080, udp=False) == (WAN_ROUTER, 1080)
            # The counters say what was sent: one SYN (60 bytes) to 5556,
            # one datagram of 38 bytes to 6001.
            counted = r.rules()
            assert counted[line_of(CONF, "tcp dport 5556")] == (1, "60 B"), counted
            assert counted[line_of(CONF, "udp dport 6001")] == (1, "38 B"), counted
            assert counted[line_of(CONF, "udp dport 6000")] == (1, "38 B"), counted
            assert counted[line_of(CONF, "tcp dport 5555")][0] == 1, counted
            assert counted[line_of(CONF, "tcp dport 8080")][0] == 1, counted
            q.wait_for(r"netstack: firewall: fw-drop: drop IN=lan OUT=wan SRC=192\.168\.10\.2 "
                       r"DST=10\.99\.0\.2 LEN=\d+ PROTO=6 SPT=\d+ DPT=5557")
            count, counters, text = r.conntrack()
            assert re.search(rf"^tcp +6 \d+ \w+ src={LAN_HOST} dst={WAN_HOST} sport=\d+ dport=5555 "
                             rf"src={WAN_HOST} dst={WAN_ROUTER} ", text, re.M), text
            assert counters["translated"] >= 6, text
        finally:
            for s in servers:
                s.close()


def test_many_connections_scan_and_driver_killed(tmp_path):
    """500 LAN connections at once, all masqueraded and tracked; a scan
    of the WAN address opens exactly the forwarded ports; a NAT'd transfer
    survives the WAN driver's death, and a flush of the table."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    lan, wan = hosts()
    with lan, wan, FirewallRouter(tmp_path, lan, wan) as r:
        server = Server(wan, WAN_HOST, 5555)
        socks = []
        try:
            for _ in range(500):
                socks.append(lan.in_ns(lambda: socket.create_connection((WAN_HOST, 5555),
                                                                       timeout=10)))
            deadline = time.monotonic() + 30
            while len(server.peers) < 500 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(server.peers) == 500
            assert {p[0] for p in server.peers} == {WAN_ROUTER}
            assert len({p[1] for p in server.peers}) == 500
            count, counters, text = r.conntrack()
            assert count >= 500, text
        finally:
            for s in socks:
                s.close()
            server.close()
        tcp_server = Server(lan, LAN_HOST, 8080)
        udp_server = Server(lan, LAN_HOST, 5353, udp=True)
        try:
            assert scan_tcp(wan, WAN_ROUTER, range(1, 2001)) == {1080}
            answered = {p for p in range(40, 71)
                        if udp_exchange(wan, WAN_ROUTER, p, timeout=0.3) == "answer"}
            assert answered == {53}
        finally:
            tcp_server.close()
            udp_server.close()
        answers = []
        sent, received, count = tcp_transfer(
            lan, wan, 8 << 20,
            during=lambda: threading.Thread(target=lambda: answers.append(
                r.control("kill nic1"))).start())
        assert count == 8 << 20 and received == sent, answers
        r.qemu.wait_for(r"netstack: wan re-attached to a new driver")
        # The table flushed in the middle of a masqueraded transfer: the
        # LAN host's next segments pick the connection up again (as
        # Linux's nf_conntrack_tcp_loose=1), masqueraded to the same port
        # (kept, as it was free), and the transfer completes.
        flushed = []
        sent, received, count = tcp_transfer(
            lan, wan, 8 << 20,
            during=lambda: flushed.append(command(r.qemu, "conntrack flush\r",
                                                  r"^console: conntrack: flushed (\d+)")))
        assert flushed and int(flushed[0].group(1)) >= 1
        assert count == 8 << 20 and received == sent


SHORT = "\n".join(["conntrack max 16"] +
                  [f"conntrack timeout {c} 2" for c in (
                      "tcp syn_sent", "tcp syn_recv", "tcp fin_wait", "tcp close_wait",
                      "tcp last_ack", "tcp time_wait", "tcp close", "udp unreplied",
                      "udp replied", "icmp unreplied", "icmp replied")] +
                  ["conntrack timeout tcp established 8", ""])
SHORT_CONF = IFACES + SHORT + RULES
BAD = SHORT_CONF.replace("udp dport 6001 counter reject", "udp dport 6001 counter rejekt")
GOOD = SHORT_CONF.replace("tcp dport 5556 counter reject", "tcp dport 5556 counter accept")


def test_full_table_short_timeouts_and_reload(tmp_path):
    lan, wan = hosts()
    with lan, wan, FirewallRouter(tmp_path, lan, wan, conf=SHORT_CONF,
                                  files={"bad.conf": BAD, "good.conf": GOOD}) as r:
        q = r.qemu
        servers = [Server(wan, WAN_HOST, 5555), Server(wan, WAN_HOST, 5556)]
        socks = []
        try:
            # The first ping's connection times out (2 s): an echo request
            # sent while QEMU's LAN e1000 still holds reception after the
            # driver's start (1000 ms from its RCTL write) goes through up
            # to a second after ping has its answer to a later one.
            time.sleep(4)
            count, counters, text = r.conntrack()
            assert count == 0, text
            # A table of 16: sixteen connections, then new ones are refused.
            results = []
            for _ in range(17):
                try:
                    socks.append(lan.in_ns(lambda: socket.create_connection((WAN_HOST, 5555),
                                                                           timeout=1.5)))
                    results.append("open")
                except (socket.timeout, TimeoutError):
                    results.append("timeout")
            assert results == ["open"] * 16 + ["timeout"], results
            count, counters, text = r.conntrack()
            assert count == 16 and counters["refused_full"] >= 1, text
            # Idle past the established timeout (8 s of the guest's clock,
            # which a loaded host slows: waited for, at most 40 s), they are
            # gone: a new connection gets in.
            time.sleep(9)
            deadline = time.monotonic() + 30
            count, counters, text = r.conntrack()
            while count and time.monotonic() < deadline:
                time.sleep(1)
                count, counters, text = r.conntrack()
            assert count == 0 and counters["expired"] >= 16, text
            assert echo_through(lan, WAN_HOST, 5555, 4096)
            # A wrong file: said with its line and column, the rules stay.
            kept = lan.in_ns(lambda: socket.create_connection((WAN_HOST, 5555), timeout=5))
            kept.settimeout(10)
            bad_line = line_of(BAD, "rejekt")
            command(q, "reload bad.conf\r",
                    rf"^console: reload: bad\.conf:{bad_line}:\d+: .*; the rules in force stay$")
            assert connect(lan, WAN_HOST, 5556) == "refused"
            # A good one: in force at once, the open connection kept.
            command(q, "reload good.conf\r",
                    r"^console: reload: good\.conf: 19 rules in force, \d+ connections? kept$")
            kept.sendall(b"still there")
            assert kept.recv(64) == b"still there"
            kept.close()
            assert connect(lan, WAN_HOST, 5556) == "open"
            command(q, "conntrack flush\r", r"^console: conntrack: flushed \d+ connections?$")
            count, counters, text = r.conntrack()
            assert count == 0 and counters["removed"] >= 1, text
        finally:
            for s in socks:
                s.close()
            for s in servers:
                s.close()


def test_bad_firewall_at_boot_fails_closed(tmp_path):
    """A wrong rule at start: named, no interface comes up, nothing goes
    through, the console says there are no rules."""
    lan, wan = hosts()
    bad_line = line_of(BAD, "rejekt")
    with lan, wan, Router(tmp_path, lan, wan, conf=BAD, expect_up=False, console=True) as r:
        q = r.qemu
        q.wait_for(rf"netstack: router\.conf:{bad_line}:\d+: ")
        q.wait_for(r"netstack: no network until the configuration is right")
        q.wait_for(r"^console: ready")
        out = run(lan, "ping", "-c", "2", "-W", "1", WAN_HOST, check=False).stdout
        assert " 100% packet loss" in out, out
        command(q, "rules\r", r"^console: rules: the netstack has no firewall")
        command(q, "reload\r", r"^console: reload: the netstack runs without a configuration")


def test_path_mtu_through_masquerade(tmp_path):
    """A WAN link of 1400 bytes: the router's fragmentation needed reaches
    the LAN host about its own datagram (DF ping, and TCP's path-MTU
    discovery on a masqueraded connection)."""
    lan, wan = hosts()
    conf = CONF.replace(f"address {WAN_ROUTER}/24", f"address {WAN_ROUTER}/24\n    mtu 1400")
    with lan, wan, FirewallRouter(tmp_path, lan, wan, conf=conf) as r:
        # TCP first: its segments of 1500 bytes get fragmentation needed
        # and it goes on in smaller ones.
        server = Server(wan, WAN_HOST, 5555)
        try:
            assert echo_through(lan, WAN_HOST, 5555, 1 << 20)
            assert {p[0] for p in server.peers} == {WAN_ROUTER}
        finally:
            server.close()
        assert r.stats()["lan.fwd_too_big"] >= 1
        # The host now knows the path's MTU, or learns it from this ping.
        out = run(lan, "ping", "-c", "1", "-W", "5", "-M", "do", "-s", "1472", WAN_HOST,
                  check=False)
        assert re.search(r"Frag needed and DF set \(mtu = 1400\)|message too long, mtu=1400",
                         out.stdout + out.stderr), out


def test_masquerade_to_an_address_from_dhcp(tmp_path):
    """The WAN address comes from a DHCP server on the WAN (the input
    chain drops everything unasked): masquerade uses it."""
    from netns import Dnsmasq
    lan, wan = hosts()
    leased = "10.99.0.77"
    conf = CONF.replace(f"address {WAN_ROUTER}/24", "address dhcp")
    with lan, wan, Router(tmp_path, lan, wan, conf=conf, expect_up=False, console=True) as r, \
            Dnsmasq(wan, "h1", tmp_path, "10.99.0.50,10.99.0.60,255.255.255.0,1h",
                    hosts=[("52:54:00:00:01:01", leased)]):
        r.qemu.wait_for(rf"netstack: wan up, {re.escape(leased)}/24 \(dhcp\)", timeout=60)
        r.qemu.wait_for(r"netstack: lan up, 192\.168\.10\.1/24")
        run(lan, "ping", "-c", "1", "-w", "20", WAN_HOST, timeout=30)
        server = Server(wan, WAN_HOST, 5555)
        try:
            assert echo_through(lan, WAN_HOST, 5555, 256 << 10)
            assert {p[0] for p in server.peers} == {leased}
        finally:
            server.close()


HAIRPIN = IFACES + f"""chain forward {{
    policy drop
    ct state established,related accept
    iif lan oif wan accept
    oif lan ct state new ip daddr {LAN_HOST} tcp dport 8080 accept
}}
chain prerouting {{ ip daddr {WAN_ROUTER} tcp dport 1080 dnat to {LAN_HOST}:8080 }}
chain postrouting {{
    oif wan masquerade
    iif lan oif lan ip daddr {LAN_HOST} tcp dport 8080 masquerade
}}
"""


def test_hairpin_port_forward(tmp_path):
    """A LAN host reaches a port forward by the WAN address (hairpin NAT),
    with rules written for it as in nftables: the destination translated
    whichever way the datagram came, the source too when it goes back to
    the LAN (else the server would answer the client directly)."""
    lan, wan = hosts()
    with lan, wan, FirewallRouter(tmp_path, lan, wan, conf=HAIRPIN) as r:
        server = Server(lan, LAN_HOST, 8080)
        wan_server = Server(wan, WAN_HOST, 5555)
        try:
            assert echo_through(lan, WAN_ROUTER, 1080, 256 << 10)
            assert {p[0] for p in server.peers} == {LAN_ROUTER}
            assert echo_through(wan, WAN_ROUTER, 1080, 256 << 10)
            assert WAN_HOST in {p[0] for p in server.peers}
            assert echo_through(lan, WAN_HOST, 5555, 256 << 10)
            assert {p[0] for p in wan_server.peers} == {WAN_ROUTER}
            count, counters, text = r.conntrack()
            assert re.search(rf"^tcp +6 \d+ \w+ src={LAN_HOST} dst={WAN_ROUTER} sport=\d+ dport=1080 "
                             rf"src={LAN_HOST} dst={LAN_ROUTER} sport=8080 ", text, re.M), text
        finally:
            server.close()
            wan_server.close()
