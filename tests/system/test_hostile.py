"""A hostile host on the wire: public bug reports against lwIP and other
small stacks replayed against the netstack, each with the behaviour it
must have now (docs/netstack.md, "Hardening"). After each: no program restarted, no lwIP assertion, ping
works and a TCP transfer works (and, where the pool was attacked, every
buffer is accounted for).

Frames are made with scapy (Debian's python3-scapy) and sent through a raw
socket on the namespace's tap. TCP peers made of raw frames use a made-up
host, FAKE_IP at FAKE_MAC, which the guest learns from an ARP request: the
namespace's kernel never sees their connections and so never resets them.
The guest's NIC is virtio-net, which (unlike QEMU's e1000) hands over
short frames as they are.
"""
import random
import re
import threading
import time

import pytest

from netns import Netns, can_run
from test_net import GUEST, GUEST_MAC, HOST, NetRig, tcp_echo, wait_up

scapy_l2 = pytest.importorskip("scapy.layers.l2", reason="needs python3-scapy")
scapy_inet = pytest.importorskip("scapy.layers.inet", reason="needs python3-scapy")
Ether, ARP = scapy_l2.Ether, scapy_l2.ARP
IP, TCP, UDP, ICMP = scapy_inet.IP, scapy_inet.TCP, scapy_inet.UDP, scapy_inet.ICMP
fragment = scapy_inet.fragment
Raw = pytest.importorskip("scapy.packet").Raw

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

MODEL = "virtio-net"
FAKE_IP = "10.1.0.9"
FAKE_MAC = "02:00:00:00:00:09"


class Wire:
    """Frames to and from the guest through a raw socket on tap0."""

    def __init__(self, ns):
        self.sock = ns.raw_socket("tap0")
        self.host_mac = ns.link_mac("tap0")

    def close(self):
        self.sock.close()

    def send(self, pkt, src_mac=FAKE_MAC):
        """An IP packet (scapy) in an Ethernet frame to the guest."""
        self.sock.send(bytes(Ether(src=src_mac, dst=GUEST_MAC) / pkt))

    def send_raw(self, frame):
        self.sock.send(frame)

    def frames(self, timeout):
        """Every frame from the guest for timeout seconds, parsed. The
        made-up host answers the guest's ARP requests for it on the way
        (the guest's ARP table may have let it go)."""
        deadline = time.monotonic() + timeout
        while True:
            data = self.sock.recv(max(0.0, deadline - time.monotonic()))
            if data is None:
                return
            f = Ether(data)
            if ARP in f and f[ARP].op == 1 and f[ARP].pdst == FAKE_IP:
                self.send_raw(bytes(Ether(src=FAKE_MAC, dst=f[ARP].hwsrc) /
                                    ARP(op=2, hwsrc=FAKE_MAC, psrc=FAKE_IP,
                                        hwdst=f[ARP].hwsrc, pdst=f[ARP].psrc)))
            yield f

    def wait(self, match, timeout=5):
        """The first frame from the guest that match() accepts, or None."""
        for f in self.frames(timeout):
            if match(f):
                return f
        return None

    def introduce(self):
        """Make the guest learn FAKE_IP at FAKE_MAC (an ARP request for
        its address: lwIP takes the sender's, and answers)."""
        for _ in range(5):
            self.send_raw(bytes(Ether(src=FAKE_MAC, dst="ff:ff:ff:ff:ff:ff") /
                                ARP(op=1, hwsrc=FAKE_MAC, psrc=FAKE_IP, pdst=GUEST)))
            if self.wait(lambda f: ARP in f and f[ARP].op == 2 and f[ARP].pdst == FAKE_IP, 2):
                return
        raise AssertionError("the guest does not answer ARP from the made-up host")


class RawTcp:
    """One TCP connection from FAKE_IP, made of raw frames."""

    def __init__(self, wire, dport, sport, mss=1460, wscale=True):
        self.wire, self.dport, self.sport = wire, dport, sport
        self.options = [("MSS", mss)] if mss is not None else []
        if wscale:
            self.options.append(("WScale", 0))
        self.snd_nxt = random.randrange(1 << 32)
        self.rcv_nxt = None

    def mine(self, f):
        return (IP in f and TCP in f and f[IP].src == GUEST and f[IP].dst == FAKE_IP and
                f[TCP].sport == self.dport and f[TCP].dport == self.sport)

    def segment(self, flags="A", seq=None, data=b"", window=65535):
        seq = self.snd_nxt if seq is None else seq
        tcp = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=seq % (1 << 32),
                  ack=self.rcv_nxt or 0, window=window)
        self.wire.send(IP(src=FAKE_IP, dst=GUEST) / tcp / data)

    def connect(self, timeout=5, tries=3, ack=True):
        """The handshake (without its last ACK unless ack); returns the
        guest's SYN-ACK."""
        for _ in range(tries):
            self.wire.send(IP(src=FAKE_IP, dst=GUEST) /
                           TCP(sport=self.sport, dport=self.dport, flags="S",
                               seq=self.snd_nxt, window=65535, options=self.options))
            synack = self.wire.wait(lambda f: self.mine(f) and f[TCP].flags.S, timeout)
            if synack:
                break
        assert synack, f"no SYN-ACK from port {self.dport}"
        self.snd_nxt += 1
        self.rcv_nxt = synack[TCP].seq + 1
        if ack:
            self.segment()
        return synack

    def send(self, data):
        self.segment(data=data)
        self.snd_nxt += len(data)

    def wait_ack(self, upto, timeout=5):
        """The guest's ACK of everything below upto; returns it."""
        return self.wire.wait(lambda f: self.mine(f) and
                              (f[TCP].ack - upto) % (1 << 32) < (1 << 31), timeout)

    def reset(self):
        self.segment(flags="R")

    def resync(self, timeout=1):
        """Learn the sequence number the guest expects next from its ACK to
        a segment below the window (after segments that moved it where
        snd_nxt does not know); False when the guest answers with a reset
        or not at all (the connection is gone)."""
        list(self.wire.frames(0.05))            # older answers
        self.segment(seq=self.snd_nxt - 100000)
        ack = self.wire.wait(self.mine, timeout)
        if not ack or ack[TCP].flags.R:
            return False
        self.snd_nxt = ack[TCP].ack
        return True

    def abort(self):
        """A reset the guest takes, wherever the connection's sequence went
        (until the guest answers with a reset of its own)."""
        for _ in range(3):
            if not self.resync():
                return
            self.reset()


def guest_ip_frames(frames):
    """IP frames from the guest, less TCP with the namespace's address
    (netecho's client role trying port 7000 every second, the statistics
    connections)."""
    return [f for f in frames if IP in f and f[IP].src == GUEST and
            not (TCP in f and f[IP].dst == HOST and f[TCP].sport != 9999)]


def tcp_echo_works(rig, size=256 * 1024):
    payload = random.Random(size).randbytes(size)
    got = tcp_echo(rig, payload)
    assert got == payload, f"TCP echo: {len(got)} of {size} bytes came back"


def assert_healthy(rig):
    """No program restarted or asserted; ping and a TCP transfer work."""
    out = rig.qemu.output()
    assert "lwIP assertion failed" not in out, out
    assert not re.search(r"^init: \S+ (crashed|exited|hung|killed|restarted|gave up)", out,
                         re.M), out
    r = rig.run("ping", "-c", "5", "-i", "0.2", "-W", "5", GUEST, timeout=60, check=False)
    assert " 0% packet loss" in r.stdout, (r.stdout, rig.qemu.output())
    tcp_echo_works(rig)
    out = rig.qemu.output()
    assert not re.search(r"^init: \S+ (crashed|exited|hung|killed|restarted|gave up)", out,
                         re.M), out


def assert_pool_accounted(stats):
    k = {f: stats[f"eth0.{f}"] for f in ("bufs_total", "bufs_free", "bufs_rx_posted",
                                         "bufs_tx", "bufs_lwip", "bufs_lwip_max")}
    assert k["bufs_free"] + k["bufs_rx_posted"] + k["bufs_tx"] + k["bufs_lwip"] == \
        k["bufs_total"], k
    assert k["bufs_lwip"] <= k["bufs_lwip_max"], k
    return k


class Rig:
    """Namespace, QEMU with virtio-net (or model), netecho, and a wire."""

    def __init__(self, tmp_path, hint, model=MODEL, console=False, **rig_args):
        self.tmp_path, self.hint, self.model = tmp_path, hint, model
        self.console, self.rig_args = console, rig_args

    def __enter__(self):
        self.ns = Netns(self.hint).__enter__()
        try:
            self.rig = NetRig(self.ns, self.tmp_path, self.model,
                              console=self.console, **self.rig_args).__enter__()
            wait_up(self.rig)
            self.rig.run("ping", "-c", "2", "-i", "0.2", "-W", "5", GUEST, timeout=60)
            self.wire = Wire(self.ns)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if hasattr(self, "wire"):
            self.wire.close()
        if hasattr(self, "rig"):
            self.rig.__exit__(*exc)
        self.ns.__exit__(*exc)


def test_ooseq_segment_past_the_window_is_no_crash(tmp_path):
    """Instance 1: with the receive window of an unread connection nearly
    full (netecho serves 8 echo connections at a time: the ninth waits
    unread), a 1-byte segment at rcv_nxt+1, a 1000-byte one ending 100 bytes
    past the window's right edge, a 1300-byte one at the same sequence
    number, then the data before it: lwIP 2.1.3 asserted ("ooseq tcplen >
    rcv_wnd") and the netstack exited."""
    with Rig(tmp_path, "ooseq") as t:
        t.wire.introduce()
        busy = [t.rig.connect(7) for _ in range(8)]     # every slot of netecho's echo
        c = RawTcp(t.wire, 7, 40001)
        synack = c.connect()
        # The guest's window scale, as its SYN-ACK gives it.
        shift = dict(o for o in synack[TCP].options if o[0] == "WScale").get("WScale", 0)
        c.send(b"x")
        ack = c.wait_ack(c.snd_nxt)
        assert ack, "no ACK"
        right_edge = ack[TCP].ack + (ack[TCP].window << shift)
        fill = (right_edge - c.snd_nxt) % (1 << 32) - 1400
        assert fill > 0, fill
        while fill > 0:
            n = min(1460, fill)
            c.send(b"f" * n)
            fill -= n
            time.sleep(0.001)
        ack = c.wait_ack(c.snd_nxt)
        assert ack, "the window was not filled"
        right_edge = ack[TCP].ack + (ack[TCP].window << shift)
        left = (right_edge - c.snd_nxt) % (1 << 32)
        assert 1000 < left < 2000, left
        c.segment(seq=c.snd_nxt + 1, data=b"a")
        start = right_edge + 100 - 1000
        c.segment(seq=start, data=b"b" * 1000)
        c.segment(seq=start, data=b"c" * 1300)
        c.segment(seq=c.snd_nxt, data=b"d" * (start - c.snd_nxt))     # up to them
        ack = c.wait_ack(start)
        assert ack, ("no ACK after the out-of-order segments", t.rig.qemu.output())
        time.sleep(0.5)
        c.snd_nxt = ack[TCP].ack
        c.reset()
        for b in busy:
            b.close()
        # Found by the packet fuzzer: a data segment half the sequence
        # space from rcv_nxt passed lwIP's wrapping comparisons and
        # asserted ("insane offset!").
        far = RawTcp(t.wire, 5001, 40002)
        far.connect()
        before = t.rig.stats()["tcp_far_seq"]
        far.segment(seq=far.snd_nxt - (1 << 31), data=b"x")
        far.segment(seq=far.snd_nxt + (1 << 31) - 1, data=b"y" * 100)
        far.send(b"z")
        assert far.wait_ack(far.snd_nxt), ("no ACK after the far segments", t.rig.qemu.output())
        assert t.rig.stats()["tcp_far_seq"] - before == 2
        far.reset()
        assert_healthy(t.rig)


def test_iperf_server_takes_a_short_first_segment(tmp_path):
    """Found by the packet fuzzer: at each 128 KiB of a test, lwIP's iperf
    server (lwiperf) looked for iperf 2's 24-byte header again and
    asserted ("pbuf_remove_header failed") when the segment chain it got
    began with a shorter pbuf: an out-of-order segment, then the 10 bytes
    before it. The netstack's own server counts every byte and carries on."""
    with Rig(tmp_path, "iperfhdr") as t:
        t.wire.introduce()
        c = RawTcp(t.wire, 5001, 40003)
        c.connect()
        c.send(bytes(24))                       # iperf 2's header: no test back
        sent = 24
        while sent < 24 + 128 * 1024:
            for _ in range(8):
                n = min(1460, 24 + 128 * 1024 - sent)
                if n <= 0:
                    break
                c.send(b"0" * n)
                sent += n
                time.sleep(0.001)
            assert c.wait_ack(c.snd_nxt), ("no ACK", sent, t.rig.qemu.output())
        c.segment(seq=c.snd_nxt + 10, data=b"b" * 1000)       # out of order
        c.segment(seq=c.snd_nxt, data=b"a" * 10)              # then the gap
        c.snd_nxt += 1010
        sent += 1010
        assert c.wait_ack(c.snd_nxt), ("no ACK after the gap", t.rig.qemu.output())
        c.reset()
        t.rig.qemu.wait_for(rf"^netstack: iperf: aborted by the peer with {FAKE_IP}:40003, "
                            rf"{sent} bytes in \d+ ms", timeout=30)
        assert_healthy(t.rig)


def test_ooseq_flood_leaves_the_nic_buffers(tmp_path):
    """Instance 2: four connections to the iperf server, each sent 128
    one-byte segments out of order, took every receive buffer (lwIP's
    out-of-order queues held them): ping, ARP and TCP were dead for good.
    lwIP's share of the pool is bounded; past it frames are copied. With
    it, the rest of the kind: first fragments that are never completed
    (held for reassembly) and echo requests from unknown neighbours (the
    replies wait for ARP)."""
    with Rig(tmp_path, "ooseqflood") as t:
        t.wire.introduce()
        conns = [RawTcp(t.wire, 5001, 41000 + i) for i in range(4)]
        for c in conns:
            c.connect()
        for k in range(128):
            for c in conns:
                c.segment(seq=c.snd_nxt + 2 * k + 1, data=b"o")
            time.sleep(0.002)
        for k in range(100):
            t.wire.send(IP(src=FAKE_IP, dst=GUEST, id=1000 + k, flags="MF") /
                        UDP(sport=6002, dport=7, len=2008, chksum=0) / (b"f" * 1000))
            t.wire.send(IP(src=f"10.1.0.{100 + k}", dst=GUEST) / ICMP(id=k) / b"who")
            time.sleep(0.002)
        time.sleep(1)
        during = assert_pool_accounted(t.rig.stats())
        r = t.rig.run("ping", "-c", "5", "-i", "0.2", "-W", "5", GUEST, timeout=60, check=False)
        assert " 0% packet loss" in r.stdout, (r.stdout, during, t.rig.qemu.output())
        for c in conns:
            c.reset()
        time.sleep(0.5)
        assert_healthy(t.rig)
        # Once reassembly (15 s) and ARP (5 s) give up, lwIP holds only
        # what the statistics connection uses (the guest's clock, slower
        # than ours when the machine is busy: 90 s here at most).
        deadline = time.monotonic() + 90
        while True:
            after = assert_pool_accounted(t.rig.stats())
            if after["bufs_lwip"] <= 8 or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert after["bufs_lwip"] <= 8, (during, after)


def test_ooseq_of_a_silent_peer_ages_out(tmp_path):
    """Found by the packet fuzzer (seed 99): pool buffers held 40 s after
    the run. lwIP frees a connection's out-of-order segments 6 RTOs after
    its last segment, but the RTO doubles with every retransmission: a
    peer that leaves segments out of order and goes silent while the
    netstack retransmits to it (the iperf server's FIN once the test is
    idle, netecho's echo that is never acknowledged) kept them for
    minutes. They go 10 s after the connection's last segment (the guest's
    clock)."""
    with Rig(tmp_path, "ooseqage") as t:
        t.wire.introduce()
        before = t.rig.stats()
        iperf = RawTcp(t.wire, 5001, 41200)             # closed by the server when idle
        echo = RawTcp(t.wire, 7, 41201)                 # its echo is never acknowledged
        for c in (iperf, echo):
            c.connect()
            c.send(b"e" * 100)
            for k in range(10):
                c.segment(seq=c.snd_nxt + 2 * k + 1, data=b"o")
        assert echo.wire.wait(lambda f: echo.mine(f) and len(f[TCP].payload) > 0, 5), \
            "no echo"
        time.sleep(1)
        held = t.rig.stats()
        assert held["eth0.bufs_lwip"] >= before["eth0.bufs_lwip"] + 20, (before, held)
        # 10 s of the guest's clock, which runs slower than ours when the
        # machine is busy (QEMU's TCG; the kernel calibrates its timer at
        # boot and loses ticks): 90 s here at most. Without the bound,
        # lwIP's own 6 RTOs are minutes of the guest's clock by then.
        silent = time.monotonic()
        while True:
            after = assert_pool_accounted(t.rig.stats())
            if after["bufs_lwip"] <= before["eth0.bufs_lwip"] or time.monotonic() > silent + 90:
                break
            time.sleep(1)
        aged = t.rig.stats()["tcp_ooseq_aged"] - before["tcp_ooseq_aged"]
        assert after["bufs_lwip"] <= before["eth0.bufs_lwip"], (before, held, after, aged)
        assert aged == 2, aged
        print(f"out-of-order segments freed {time.monotonic() - silent:.1f} s after the last")
        iperf.reset()
        echo.reset()
        assert_healthy(t.rig)


def echo_through_raw_peer(c, want, timeout=30):
    """Send want to netecho through c, ACK what comes back; returns the
    data and the largest segment."""
    c.send(want[:1000])
    c.send(want[1000:])
    got, largest = bytearray(), 0
    deadline = time.monotonic() + timeout
    while len(got) < len(want) and time.monotonic() < deadline:
        f = c.wire.wait(c.mine, max(0.1, deadline - time.monotonic()))
        if f is None:
            break
        data = bytes(f[TCP].payload)
        if data and f[TCP].seq == c.rcv_nxt % (1 << 32):
            got += data
            largest = max(largest, len(data))
            c.rcv_nxt += len(data)
        c.segment()                          # ACK (again) what we have
    return bytes(got), largest


@pytest.mark.parametrize("mss,most", [(1, 48), (0, 536)])
def test_tiny_mss_is_raised_and_served(tmp_path, mss, most):
    """Instance 3: a peer announcing MSS 1 never got a byte of its echo (one
    send needed more segments than lwIP's queue holds) and netecho was
    stuck for everybody; MSS 0 was taken as 1460. Now MSS is raised to
    Linux's floor (48), 0 means the default (536), and sends are cut to
    what the queue holds. A peer that stalls its own echo (it never
    acknowledges, window 0) holds up nobody else's. On e1000: the
    netstack's merged sends are cut by the NIC (QEMU emulates e1000's TSO)
    at the segment size the netstack gives it, so the wire shows that size;
    virtio-net hands a large send to the tap whole, where the raw socket
    sees it uncut."""
    with Rig(tmp_path, f"mss{mss}", model="e1000") as t:
        t.wire.introduce()
        stalled = RawTcp(t.wire, 7, 42001)
        stalled.connect()
        stalled.segment(data=b"s" * 1000, window=0)
        stalled.snd_nxt += 1000
        c = RawTcp(t.wire, 7, 42000, mss=mss)
        c.connect()
        want = random.Random(mss).randbytes(2000)
        got, largest = echo_through_raw_peer(c, want)
        c.reset()
        assert got == want, f"{len(got)} of 2000 bytes echoed"
        assert 0 < largest <= most, largest
        assert t.rig.stats()["tcp_mss_raised"] >= 1
        assert_healthy(t.rig)                   # while the stalled one is still there
        stalled.reset()


IMPOSSIBLE_SOURCES = ["0.0.0.0", "255.255.255.255", "10.1.0.255", "224.0.0.1", "127.0.0.1",
                      "240.0.0.1", GUEST]


def test_no_answer_to_impossible_sources(tmp_path):
    """Instance 4: an echo request, a datagram to a closed port and a SYN to
    a closed port from 0.0.0.0 were answered (to the Ethernet broadcast
    address). Nothing from a source no host can have gets an answer."""
    with Rig(tmp_path, "badsrc") as t:
        before = t.rig.stats()
        list(t.wire.frames(0.3))               # what came before
        for src in IMPOSSIBLE_SOURCES:
            t.wire.send(IP(src=src, dst=GUEST) / ICMP(id=7, seq=1) / b"ping")
            t.wire.send(IP(src=src, dst=GUEST) / UDP(sport=5555, dport=9999) / b"udp")
            t.wire.send(IP(src=src, dst=GUEST) / TCP(sport=5555, dport=9999, flags="S"))
        answers = [f for f in guest_ip_frames(t.wire.frames(2))]
        assert not answers, [f.summary() for f in answers]
        after = t.rig.stats()
        n = 3 * len(IMPOSSIBLE_SOURCES)
        assert after["ip_bad_src"] - before["ip_bad_src"] == n, (before, after)
        # The same from the namespace's own address is answered, all three.
        t.wire.send(IP(src=HOST, dst=GUEST) / ICMP(id=7, seq=1) / b"ping", t.wire.host_mac)
        t.wire.send(IP(src=HOST, dst=GUEST) / UDP(sport=5555, dport=9999) / b"udp",
                    t.wire.host_mac)
        t.wire.send(IP(src=HOST, dst=GUEST) / TCP(sport=5555, dport=9999, flags="S"),
                    t.wire.host_mac)
        kinds = set()
        for f in guest_ip_frames(t.wire.frames(2)):
            if ICMP in f:
                kinds.add(f[ICMP].type)
            if TCP in f and f[TCP].flags.R:
                kinds.add("rst")
        assert kinds == {0, 3, "rst"}, kinds
        assert_healthy(t.rig)


def test_syn_flood_leaves_room_for_a_real_client(tmp_path):
    """No SYN cookies in lwIP 2.1.3: 16 SYNs from spoofed sources filled a
    listener's backlog for 20 s (SYN_RCVD's timeout), and no one else could
    connect. Half-open connections are bounded per source (4), per listener
    (16, or its backlog) and in all (32); a new SYN evicts the oldest. A
    real client connects to netecho during a flood of 2000 SYNs from
    random addresses of the namespace's subnet."""
    with Rig(tmp_path, "synflood") as t:
        before = t.rig.stats()
        # One source: it keeps at most 4 half-open, its oldest go.
        for port in range(30000, 30040):
            t.wire.send(IP(src="10.1.0.77", dst=GUEST) /
                        TCP(sport=port, dport=5001, flags="S", seq=port))
        time.sleep(1)
        after = t.rig.stats()
        assert after["tcp_half_open_evicted"] - before["tcp_half_open_evicted"] == 36, after
        # Each half-open connection's age is worked out once (a SipHash),
        # not twice per comparison for every SYN.
        clocks = after["tcp_half_open_clocks"] - before["tcp_half_open_clocks"]
        assert 0 < clocks <= 40, clocks
        rng = random.Random(4)
        frames = [bytes(Ether(src="02:00:00:00:%02x:%02x" % (i >> 8, i & 0xFF), dst=GUEST_MAC) /
                        IP(src=f"10.1.0.{rng.randrange(3, 255)}", dst=GUEST) /
                        TCP(sport=rng.randrange(1024, 65536), dport=7, flags="S",
                            seq=rng.getrandbits(32)))
                  for i in range(2000)]

        def flood():
            for i in range(0, len(frames), 20):            # about 3 s
                for f in frames[i:i + 20]:
                    t.wire.send_raw(f)
                time.sleep(0.03)

        flooder = threading.Thread(target=flood)
        flooder.start()
        try:
            time.sleep(0.5)
            started = time.monotonic()
            s = t.rig.connect(7, timeout=5)
            took = time.monotonic() - started
            s.sendall(b"through the flood")
            s.settimeout(10)
            assert s.recv(100) == b"through the flood"
            s.close()
        finally:
            flooder.join()
        assert took < 5, took
        stats = t.rig.stats()
        assert stats["tcp_half_open_evicted"] - after["tcp_half_open_evicted"] > 1000, stats
        clocks = stats["tcp_half_open_clocks"] - after["tcp_half_open_clocks"]
        assert clocks <= 2000 + 1, clocks       # the flood's SYNs and the client's
        assert_healthy(t.rig)


def echoed(c, data, timeout=5):
    """What the guest sends c (a RawTcp whose handshake is done) after c
    sends data: its first data, b"RST" for a reset, or None."""
    c.send(data)
    f = c.wire.wait(lambda f: c.mine(f) and (f[TCP].flags.R or Raw in f), timeout)
    return None if f is None else b"RST" if f[TCP].flags.R else f[Raw].load


def test_half_open_eviction_goes_by_age_not_by_the_peers_segments(tmp_path):
    """half_open_make_room took the oldest half-open connection by lwIP's
    timer (pcb->tmr), which every segment of the peer sets again: a flood
    that repeats its SYNs looked young, and a real client's handshake,
    waiting for its ACK, old; the next SYN evicted the client (its ACK
    then got a reset). The age is now the one its ISN carries. netecho's
    listener has backlog 4: three spoofed SYNs and the client's fill it,
    the three are repeated a second later, and a fourth source's SYN
    must evict one of the three."""
    with Rig(tmp_path, "halfopen") as t:
        t.wire.introduce()
        before = t.rig.stats()["tcp_half_open_evicted"]
        flood = [IP(src=f"10.1.0.{100 + i}", dst=GUEST) /
                 TCP(sport=30000 + i, dport=7, flags="S", seq=1000 * i) for i in range(3)]
        for syn in flood:
            t.wire.send(syn)
        time.sleep(0.2)
        c = RawTcp(t.wire, 7, 42100)
        c.connect(ack=False)                    # the client waits with its ACK
        time.sleep(1.2)                         # two of lwIP's 500 ms ticks at least
        for syn in flood:
            t.wire.send(syn)                    # again: lwIP's timers of the three reset
        time.sleep(0.2)
        t.wire.send(IP(src="10.1.0.110", dst=GUEST) / TCP(sport=31000, dport=7, flags="S"))
        time.sleep(0.5)
        assert t.rig.stats()["tcp_half_open_evicted"] - before == 1
        c.segment()                             # the handshake's ACK, late
        assert echoed(c, b"still here") == b"still here"
        c.reset()
        assert_healthy(t.rig)


def forged_syn(c, seq, options):
    """A SYN from c's address and port (a RawTcp) numbered seq."""
    c.wire.send(IP(src=FAKE_IP, dst=GUEST) /
                TCP(sport=c.sport, dport=c.dport, flags="S", seq=seq % (1 << 32),
                    window=65535, options=options))


def test_syn_cannot_change_a_half_open_connection(tmp_path):
    """A SYN with any sequence number to a half-open connection (SYN_RCVD)
    went through lwIP's option parsing: its MSS became the connection's,
    and its window scale too when the first SYN had none (lwIP then
    advertised an eighth of its window to a peer that does not scale).
    As Linux's tcp_check_req: the first SYN again gets the SYN-ACK again,
    one outside the window is dropped, one in it resets the half-open
    connection; none changes the connection. (e1000: the NIC cuts the
    netstack's sends at its MSS, so the wire shows it.)"""
    with Rig(tmp_path, "synrecv", model="e1000") as t:
        t.wire.introduce()
        before = t.rig.stats()
        want = random.Random(7).randbytes(2000)
        # Outside the window, MSS 100 and window scale 7.
        c = RawTcp(t.wire, 7, 42400, mss=1000, wscale=False)
        c.connect(ack=False)
        forged_syn(c, c.snd_nxt + (1 << 31), [("MSS", 100), ("WScale", 7)])
        time.sleep(0.5)
        assert not t.wire.wait(lambda f: c.mine(f) and f[TCP].flags.R, 0.5)
        c.segment()                             # the handshake's ACK
        got, largest = echo_through_raw_peer(c, want)
        assert got == want, f"{len(got)} of 2000 bytes echoed"
        assert 100 < largest <= 1000, largest
        c.send(b"w")
        ack = c.wait_ack(c.snd_nxt)
        assert ack and ack[TCP].window > 32768, ack and ack[TCP].window     # not scaled
        c.reset()
        # The first SYN again, now with MSS 100: the SYN-ACK again, MSS kept.
        d = RawTcp(t.wire, 7, 42401, mss=1000)
        d.connect(ack=False)
        forged_syn(d, d.snd_nxt - 1, [("MSS", 100)])
        assert t.wire.wait(lambda f: d.mine(f) and f[TCP].flags.S, 3), "no SYN-ACK again"
        d.segment()
        got, largest = echo_through_raw_peer(d, want)
        assert got == want and 100 < largest <= 1000, (len(got), largest)
        d.reset()
        # Inside the window: the half-open connection is reset (a reset to
        # the SYN), and the handshake's ACK then finds nothing.
        e = RawTcp(t.wire, 7, 42402, mss=1000)
        e.connect(ack=False)
        list(t.wire.frames(0.1))
        forged_syn(e, e.snd_nxt + 10, [("MSS", 100)])
        assert t.wire.wait(lambda f: e.mine(f) and f[TCP].flags.R, 3), "no reset"
        e.segment()
        assert t.wire.wait(lambda f: e.mine(f) and f[TCP].flags.R, 3), "the connection stayed"
        after = t.rig.stats()
        assert after["tcp_syn_recv_dropped"] - before["tcp_syn_recv_dropped"] == 1, after
        assert after["tcp_syn_recv_reset"] - before["tcp_syn_recv_reset"] == 1, after
        assert after["tcp_options_ignored"] - before["tcp_options_ignored"] >= 2, after
        assert_healthy(t.rig)


def with_tcp_seq(frame, seq):
    """An Ethernet frame of one IPv4 TCP segment (bytes) with its sequence
    number set to seq and its TCP checksum made again (RFC 793's, over the
    pseudo-header): what scapy makes, at a hundredth of its time."""
    ip = 14
    tcp = ip + (frame[ip] & 0x0F) * 4
    out = bytearray(frame)
    out[tcp + 4:tcp + 8] = seq.to_bytes(4, "big")
    out[tcp + 16:tcp + 18] = b"\0\0"
    seg = bytes(out[tcp:])
    pseudo = bytes(out[ip + 12:ip + 20]) + bytes([0, 6]) + len(seg).to_bytes(2, "big")
    data = pseudo + seg + (b"\0" if len(seg) % 2 else b"")
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    out[tcp + 16:tcp + 18] = (~s & 0xFFFF).to_bytes(2, "big")
    return bytes(out)


def flood(wire, frames, match, burst, pause, settle, listen):
    """Send frames (raw, in order) burst at a time with pause seconds
    between bursts, counting the guest's frames that match while they go
    and for settle seconds after (listen seconds at most in all); return
    (frames that matched, seconds the sending took)."""
    answers = 0
    done = threading.Event()

    def count():
        nonlocal answers
        for f in wire.frames(listen):
            if match(f):
                answers += 1
            if done.is_set():
                break

    counter = threading.Thread(target=count)
    counter.start()
    started = time.monotonic()
    for i in range(0, len(frames), burst):
        for f in frames[i:i + burst]:
            wire.send_raw(f)
        time.sleep(pause)
    took = time.monotonic() - started
    time.sleep(settle)
    done.set()
    wire.send(IP(src=FAKE_IP, dst=GUEST) / ICMP(id=5) / b"end")      # wakes the reader
    counter.join()
    return answers, took


def test_challenge_acks_are_limited(tmp_path):
    """lwIP answers every SYN to an established connection with an ACK
    (RFC 5961 4.2's challenge ACK), with no limit: a reflector, and a
    blind attacker's count. As Linux (tcp_send_challenge_ack,
    tcp_challenge_ack_limit 1000): every connection together sends at most
    a random count between 500 and 1499 a second; the rest are dropped
    and counted. 6000 SYNs in about two seconds: every ACK that came is
    counted, and some SYNs went unanswered. The connection still works."""
    with Rig(tmp_path, "challenge") as t:
        t.wire.introduce()
        c = RawTcp(t.wire, 7, 42500)
        c.connect()
        before = t.rig.stats()
        rng = random.Random(12)
        syn = bytes(Ether(src=FAKE_MAC, dst=GUEST_MAC) / IP(src=FAKE_IP, dst=GUEST) /
                    TCP(sport=c.sport, dport=7, flags="S", seq=0))
        frames = [with_tcp_seq(syn, rng.getrandbits(32)) for _ in range(6000)]
        acks, took = flood(t.wire, frames, lambda f: c.mine(f) and f[TCP].flags.A and not f[TCP].flags.S,
                           burst=50, pause=0.015, settle=2, listen=30)
        after = t.rig.stats()
        sent = after["tcp_challenge_ack"] - before["tcp_challenge_ack"]
        limited = after["tcp_challenge_ack_limited"] - before["tcp_challenge_ack_limited"]
        print(f"6000 SYNs in {took:.1f} s: {acks} ACKs seen, {sent} sent, {limited} limited")
        assert limited > 0, (sent, limited)
        assert acks <= sent <= 1499 * (int(took) + 4), (acks, sent, took)
        want = b"after the SYNs"
        got, _ = echo_through_raw_peer(c, want * 100)
        assert got == want * 100
        c.reset()
        assert_healthy(t.rig)


def time_wait_from_stats(t, sport):
    """A connection to netecho's statistics port (9000) from FAKE_IP:sport,
    which netecho closes after its line: once this side's FIN is
    acknowledged, the guest holds it in TIME-WAIT. Returns the RawTcp
    (its snd_nxt is what the TIME-WAIT expects next)."""
    c = RawTcp(t.wire, 9000, sport)
    c.connect()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        f = t.wire.wait(c.mine, 2)
        if f is None:
            continue
        data = len(f[Raw].load) if Raw in f else 0
        end = (f[TCP].seq + data + (1 if f[TCP].flags.F else 0)) % (1 << 32)
        if (end - c.rcv_nxt) % (1 << 32) < (1 << 31):
            c.rcv_nxt = end
        c.segment()
        if f[TCP].flags.F:
            break
    else:
        raise AssertionError("netecho's statistics connection did not end")
    c.segment(flags="FA")
    c.snd_nxt += 1
    assert c.wait_ack(c.snd_nxt), "no ACK of this side's FIN"
    return c


def answer_to_syn(c, seq, dataofs=None, ip_chksum=None):
    """The guest's answer to a SYN from c's port numbered seq (its TCP
    data offset and IP header checksum as given): "SA" (a listener took
    it), "A" (the TIME-WAIT's ACK), "R" or None."""
    list(c.wire.frames(0.05))
    tcp = TCP(sport=c.sport, dport=c.dport, flags="S", seq=seq % (1 << 32), window=65535)
    if dataofs is not None:
        tcp.dataofs = dataofs
    c.wire.send(IP(src=FAKE_IP, dst=GUEST, chksum=ip_chksum) / tcp)
    f = c.wire.wait(c.mine, 2)
    if f is None:
        return None
    flags = f[TCP].flags
    return "R" if flags.R else "SA" if flags.S else "A" if flags.A else str(flags)


def test_syn_ends_time_wait_only_as_linux_does(tmp_path):
    """time_wait.c ends a TIME-WAIT for a SYN numbered after what it
    expects, before lwIP looks: it also did so for a SYN that tcp_input
    then drops (a wrong IP header checksum, a TCP header length below 20)
    and when no listener was there
    to take the SYN, where Linux keeps the TIME-WAIT and answers with an
    ACK (tcp_v4_rcv, TCP_TW_SYN: only when inet_lookup_listener finds
    one). A reset at the expected number still ends it."""
    with Rig(tmp_path, "twsyn", console=True) as t:
        t.wire.introduce()
        c = time_wait_from_stats(t, 42300)
        expected = c.snd_nxt
        # A SYN after the expected number with a wrong IP header checksum,
        # then one with a data offset of 4: dropped, the TIME-WAIT stays
        # and ACKs a SYN numbered before it.
        answer_to_syn(c, expected + 1000, ip_chksum=0x1234)
        assert answer_to_syn(c, expected - (1 << 30)) == "A"
        answer_to_syn(c, expected + 1000, dataofs=4)
        assert answer_to_syn(c, expected - (1 << 30)) == "A"
        # No listener on the port: a SYN after the expected number gets
        # the TIME-WAIT's ACK (it ended the TIME-WAIT and got a reset).
        mark = t.rig.qemu.mark()
        t.rig.qemu.send("kill netecho")
        t.rig.qemu.wait_for(r"^init: netecho killed", since=mark)
        time.sleep(1)       # the netstack ends the session's sockets
        assert answer_to_syn(c, expected + (1 << 30)) == "A"
        # The reset at the expected number ends it: no one answers now
        # but lwIP's reset for a closed port.
        c.segment(flags="R", seq=expected)
        assert answer_to_syn(c, expected + (1 << 30)) == "R"
        out = t.rig.qemu.output()
        assert "lwIP assertion failed" not in out, out
        r = t.rig.run("ping", "-c", "3", "-i", "0.2", "-W", "5", GUEST, timeout=60, check=False)
        assert " 0% packet loss" in r.stdout, r.stdout


def test_syn_in_tiny_fragments_is_answered(tmp_path):
    """A SYN in IP fragments of 8 bytes each got no answer: lwIP
    reassembled it but tcp_input reads the TCP header from the first
    buffer, which held 8 bytes of it. Linux answers such a SYN; so does
    the netstack now (its headers are put together after reassembly),
    and the connection works. A UDP datagram so cut is echoed too."""
    with Rig(tmp_path, "fragsyn") as t:
        t.wire.introduce()
        c = RawTcp(t.wire, 7, 42200)
        syn = IP(src=FAKE_IP, dst=GUEST, id=777) / TCP(sport=c.sport, dport=7, flags="S",
                                                      seq=c.snd_nxt, window=65535,
                                                      options=c.options)
        for frag in fragment(syn, fragsize=8):
            t.wire.send(frag)
        synack = t.wire.wait(lambda f: c.mine(f) and f[TCP].flags.S, 5)
        assert synack, "no SYN-ACK to a SYN in fragments"
        c.snd_nxt += 1
        c.rcv_nxt = synack[TCP].seq + 1
        c.segment()
        assert echoed(c, b"after a fragmented SYN") == b"after a fragmented SYN"
        c.reset()
        udp = IP(src=FAKE_IP, dst=GUEST, id=778) / UDP(sport=5555, dport=7) / b"cut small"
        for frag in fragment(udp, fragsize=8):
            t.wire.send(frag)
        back = t.wire.wait(lambda f: IP in f and UDP in f and f[IP].src == GUEST and
                           f[UDP].dport == 5555, 5)
        assert back and back[UDP].load == b"cut small", back
        assert_healthy(t.rig)


def udp_echoed(t, sport, timeout=3):
    """The payload of the guest's UDP echo to FAKE_IP:sport, or None."""
    f = t.wire.wait(lambda f: IP in f and UDP in f and f[IP].src == GUEST and
                    f[UDP].dport == sport, timeout)
    return f[UDP].load if f is not None else None


def test_fragments_are_bounded_and_counted(tmp_path):
    """Reassembly holds at most IP_REASS_MAX_PBUFS (64) fragments and 16
    datagrams: a datagram in more fragments than that is dropped whole
    (ipfrag_too_many; Linux bounds only memory), and 200 datagrams that
    never complete are dropped and counted in the management protocol's
    ipfrag_* (the console's ifconfig); the driver pool's buffers are all
    accounted for after, and a datagram in two fragments is still
    echoed."""
    with Rig(tmp_path, "fragbound") as t:
        t.wire.introduce()
        before = t.rig.stats()
        sent = 0
        # 1400 bytes in 8-byte fragments: 176 fragments, more than 64.
        frags = fragment(IP(src=FAKE_IP, dst=GUEST, id=901) / UDP(sport=6001, dport=7) /
                         (b"m" * 1392), fragsize=8)
        for f in frags:
            t.wire.send(f)
        sent += len(frags)
        assert udp_echoed(t, 6001) is None
        # 200 datagrams that never complete (their first fragment only).
        for i in range(200):
            t.wire.send(IP(src=FAKE_IP, dst=GUEST, id=1000 + i, proto=17, flags="MF") /
                        Raw(b"i" * 64))
        sent += 200
        time.sleep(1)
        after = t.rig.stats()
        grew = {k: after[k] - before[k]
                for k in ("ipfrag_recv", "ipfrag_drop", "ipfrag_memerr", "ipfrag_too_many")}
        assert grew["ipfrag_recv"] == sent, (grew, sent)
        assert grew["ipfrag_too_many"] >= 1, grew
        assert grew["ipfrag_drop"] >= grew["ipfrag_too_many"], grew
        # Whole datagrams in two fragments are still taken.
        frags = fragment(IP(src=FAKE_IP, dst=GUEST, id=903) / UDP(sport=6004, dport=7) /
                         (b"w" * 1000), fragsize=512)
        for f in frags:
            t.wire.send(f)
        assert udp_echoed(t, 6004) == b"w" * 1000
        time.sleep(16)          # IP_REASS_MAXAGE: what was left behind goes
        assert_pool_accounted(t.rig.stats())
        assert_healthy(t.rig)


def test_fragments_reassembled_as_linux_does(tmp_path):
    """lwIP kept the first of two overlapping fragments and reassembled
    the datagram from the rest; Linux (since 4.19, RFC 5722's rule) drops
    the whole datagram, and a duplicate alone. lwIP reassembled no
    fragment with IP options; Linux does, and its datagram has the first
    fragment's header. Each counted on the management protocol and in the
    console's ifconfig."""
    with Rig(tmp_path, "fragrules", console=True) as t:
        t.wire.introduce()
        before = t.rig.stats()
        # The second fragment overlaps the first: nothing comes back, not
        # even once the rest arrives.
        data = bytes(IP(src=FAKE_IP, dst=GUEST, id=902) / UDP(sport=6002, dport=7) /
                     (b"o" * 40))[20:]
        for off, chunk, more in ((0, data[:24], True), (8, b"X" * 24, True),
                                 (24, data[24:], False)):
            t.wire.send(IP(src=FAKE_IP, dst=GUEST, id=902, proto=17, frag=off // 8,
                           flags="MF" if more else 0) / Raw(chunk))
        assert udp_echoed(t, 6002) is None
        # A duplicate is dropped alone: the datagram completes.
        data = bytes(IP(src=FAKE_IP, dst=GUEST, id=904) / UDP(sport=6005, dport=7) /
                     (b"d" * 40))[20:]
        for off, chunk, more in ((0, data[:24], True), (0, data[:24], True),
                                 (8, data[8:16], True), (24, data[24:], False)):
            t.wire.send(IP(src=FAKE_IP, dst=GUEST, id=904, proto=17, frag=off // 8,
                           flags="MF" if more else 0) / Raw(chunk))
        assert udp_echoed(t, 6005) == b"d" * 40
        # Fragments with options (no-operation, end) in every fragment.
        opt = fragment(ip_with_options(FAKE_IP, bytes([1, 1, 1, 0]),
                                       UDP(sport=6003, dport=7) / (b"p" * 64), 17), fragsize=32)
        for f in opt:
            t.wire.send(f)
        assert udp_echoed(t, 6003) == b"p" * 64
        # An echo request whose first fragment alone has record route, and
        # comes last: the reply carries the option back (the request's
        # header is the first fragment's).
        rr = bytes([7, 7, 4, 0, 0, 0, 0, 0])
        whole = bytes(ICMP(id=77, seq=1) / (b"r" * 48))
        first = ip_with_options(FAKE_IP, rr, Raw(whole[:24]), 1)
        first.id, first.flags = 905, "MF"
        first.chksum = None
        rest = IP(src=FAKE_IP, dst=GUEST, id=905, proto=1, frag=3) / Raw(whole[24:])
        t.wire.send(rest)
        t.wire.send(IP(bytes(first)))
        reply = t.wire.wait(lambda f: ICMP in f and f[IP].src == GUEST and f[ICMP].type == 0 and
                            f[ICMP].id == 77, 3)
        assert reply, "no echo reply to fragments with options"
        assert bytes(reply[IP])[20:28][:2] == rr[:2], bytes(reply[IP])[:28].hex()
        after = t.rig.stats()
        grew = {k: after[k] - before[k] for k in after}
        assert grew["ipfrag_overlap"] == 1, grew
        assert grew["ipfrag_options"] == len(opt) + 1, grew
        assert grew["ipfrag_drop"] >= 2, grew           # the overlapping one, the duplicate
        q = t.rig.qemu
        q.wait_for(r"^console: ready")
        mark = q.mark()
        q.type("ifconfig\r")
        q.wait_for(rf"datagrams dropped: overlapping {after['ipfrag_overlap']}, too many "
                   rf"fragments {after['ipfrag_too_many']}$", since=mark, timeout=30)
        time.sleep(16)          # IP_REASS_MAXAGE: the overlap's last fragment goes
        assert_pool_accounted(t.rig.stats())
        assert_healthy(t.rig)


def test_fragment_storm_on_few_datagrams(tmp_path):
    """Random fragments of a few datagrams at once (4 IDs: overlaps,
    duplicates, gaps, several last fragments, options, empty ones, long
    runs past 64), to stress what reassembly.c does to lwIP's datagrams
    (dropping one among others through lwIP's timer, the bound): no
    assertion, nothing restarted, every fragment counted, the pool's
    buffers back once reassembly gives up, and a datagram in fragments
    still echoed."""
    with Rig(tmp_path, "fragstorm") as t:
        t.wire.introduce()
        before = t.rig.stats()
        rng = random.Random(31)
        frames = []
        for _ in range(3000):
            off = rng.choice([0, rng.randrange(0, 64), rng.randrange(0, 200)])
            size = rng.choice([0, 8, 16, 24, rng.randrange(1, 400)])
            more = rng.random() < 0.8
            ident = 2000 + rng.randrange(4)
            if rng.random() < 0.1:
                pkt = ip_with_options(FAKE_IP, bytes([1, 1, 1, 0]), Raw(b"s" * size), 17)
                pkt.id, pkt.frag, pkt.flags, pkt.chksum = ident, off, "MF" if more else 0, None
            else:
                pkt = IP(src=FAKE_IP, dst=GUEST, id=ident, proto=17, frag=off,
                         flags="MF" if more else 0) / Raw(b"s" * size)
            frames.append(bytes(Ether(src=FAKE_MAC, dst=GUEST_MAC) / pkt))
        for i in range(0, len(frames), 30):
            for f in frames[i:i + 30]:
                t.wire.send_raw(f)
            time.sleep(0.01)
        time.sleep(1)
        after = t.rig.stats()
        grew = {k: after[k] - before[k] for k in after}
        print({k: grew[k] for k in grew if k.startswith("ipfrag")})
        assert grew["ipfrag_recv"] > 2000, grew
        assert grew["ipfrag_overlap"] > 0, grew
        frags = fragment(IP(src=FAKE_IP, dst=GUEST, id=3000) / UDP(sport=6006, dport=7) /
                         (b"e" * 1000), fragsize=256)
        for f in frags:
            t.wire.send(f)
        assert udp_echoed(t, 6006) == b"e" * 1000
        deadline = time.monotonic() + 90       # reassembly's 15 s, in the guest's clock
        while True:
            k = assert_pool_accounted(t.rig.stats())
            if k["bufs_lwip"] <= 8 or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert k["bufs_lwip"] <= 8, k
        assert_healthy(t.rig)


def ip_with_options(src, options, payload, proto, dst=GUEST):
    """An IPv4 datagram (bytes) from src to dst (the guest) with these header
    options (bytes, a multiple of 4, as they are: scapy would mend them)."""
    body = bytes(payload)
    hdr = bytearray(bytes(IP(src=src, dst=dst, proto=proto))[:20])
    hdr[0] = 0x40 | (5 + len(options) // 4)
    hdr[2:4] = (20 + len(options) + len(body)).to_bytes(2, "big")
    hdr[10:12] = b"\0\0"
    hdr += options
    s = sum(int.from_bytes(hdr[i:i + 2], "big") for i in range(0, len(hdr), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    hdr[10:12] = (~s & 0xFFFF).to_bytes(2, "big")
    return IP(bytes(hdr) + body)


MALFORMED_OPTIONS = [
    bytes([7, 0, 0, 0]),                        # record route, length 0
    bytes([25, 1, 0, 0]),                       # length 1
    bytes([1, 1, 25, 8]),                       # runs past the header
    bytes([1, 1, 1, 25]),                       # no length byte
    bytes([7, 7, 3, 0, 0, 0, 0, 0]),            # a pointer before its first slot
    bytes([68, 8, 5, 2, 0, 0, 0, 0]),           # a timestamp flag there is not
    bytes([7, 3, 4, 7, 3, 4, 0, 0]),            # record route twice
]
SOURCE_ROUTES = [bytes([131, 7, 4, 10, 1, 0, 1, 0]), bytes([137, 7, 4, 10, 1, 0, 1, 0])]
WELL_FORMED_OPTIONS = [bytes([1, 1, 1, 0]), bytes([7, 7, 4, 0, 0, 0, 0, 0]),
                       bytes([68, 8, 5, 0, 0, 0, 0, 0]), bytes([148, 4, 0, 0])]


def test_ip_options_checked(tmp_path):
    """An echo request with an option whose length byte was 0, 1 or ran
    past the header was answered. A header's options are checked as RFC
    791 has them: malformed is dropped (ip_opterr) and gets no answer of
    any kind, a source route (loose or strict) is dropped as Linux does
    with accept_source_route=0 (ip_source_route); other options are
    ignored, and their datagrams answered."""
    with Rig(tmp_path, "ipopts", console=True) as t:
        t.wire.introduce()
        before = t.rig.stats()
        list(t.wire.frames(0.3))
        for n, opts in enumerate(MALFORMED_OPTIONS + SOURCE_ROUTES):
            t.wire.send(ip_with_options(FAKE_IP, opts, ICMP(id=n, seq=1) / b"opt", 1))
            t.wire.send(ip_with_options(FAKE_IP, opts, UDP(sport=5555, dport=9999) / b"u", 17))
            t.wire.send(ip_with_options(FAKE_IP, opts, TCP(sport=5555, dport=9999, flags="S"), 6))
        answers = [f for f in guest_ip_frames(t.wire.frames(2))]
        assert not answers, [f.summary() for f in answers]
        after = t.rig.stats()
        assert after["ip_opterr"] - before["ip_opterr"] == 3 * len(MALFORMED_OPTIONS), after
        assert after["ip_source_route"] - before["ip_source_route"] == 3 * len(SOURCE_ROUTES)
        for n, opts in enumerate(WELL_FORMED_OPTIONS):
            t.wire.send(ip_with_options(FAKE_IP, opts, ICMP(id=100 + n, seq=1) / b"opt", 1))
            assert t.wire.wait(lambda f: ICMP in f and f[IP].src == GUEST and
                               f[ICMP].type == 0 and f[ICMP].id == 100 + n, 3), opts
        assert t.rig.stats()["ip_opterr"] == after["ip_opterr"]
        # The console's ifconfig shows what the netstack refused.
        q = t.rig.qemu
        q.wait_for(r"^console: ready")
        mark = q.mark()
        q.type("ifconfig\r")
        q.wait_for(rf"^from the wire: bad source \d+, bad IP options {after['ip_opterr']}, "
                   rf"source routes {after['ip_source_route']}$", since=mark, timeout=30)
        assert_healthy(t.rig)


def test_length_fields_agree_with_what_arrived(tmp_path):
    """Instance 5: a UDP datagram whose length field said 4 was echoed with
    the whole IP payload. Every length field is checked: smaller than its
    header or past the packet is dropped and counted, shorter than the
    packet trims it; also once reassembled, and ARP's."""
    with Rig(tmp_path, "lengths") as t:
        t.wire.introduce()
        before = t.rig.stats()

        def udp(length, payload, **ip):
            return IP(src=FAKE_IP, dst=GUEST, **ip) / UDP(sport=6000, dport=7, len=length,
                                                         chksum=0) / payload

        def echoes(timeout=2):
            return [bytes(f[UDP].payload) for f in t.wire.frames(timeout)
                    if UDP in f and f[IP].src == GUEST and f[UDP].dport == 6000]

        t.wire.send(udp(4, b"0123456789"))                  # below the header
        t.wire.send(udp(8 + 30, b"0123456789"))             # past the packet
        for frag in fragment(udp(8 + 3000, b"z" * 2000), fragsize=1000):
            t.wire.send(frag)                               # past it, reassembled
        assert echoes() == []
        t.wire.send(udp(8 + 5, b"0123456789"))              # shorter: trimmed
        assert echoes() == [b"01234"]
        for frag in fragment(udp(8 + 1400, b"y" * 2000), fragsize=1000):
            t.wire.send(frag)                               # shorter, reassembled
        assert echoes() == [b"y" * 1400]
        # An ARP request cut after 20 of its 28 bytes: no answer.
        arp = bytes(Ether(src=FAKE_MAC, dst="ff:ff:ff:ff:ff:ff") /
                    ARP(op=1, hwsrc=FAKE_MAC, psrc="10.1.0.8", pdst=GUEST))
        t.wire.send_raw(arp[:14 + 20])
        assert not t.wire.wait(lambda f: ARP in f and f[ARP].pdst == "10.1.0.8", 2)
        after = t.rig.stats()
        delta = {k: after[k] - before[k] for k in after}
        assert delta["udp_lenerr"] == 3, delta
        assert delta["udp_trimmed"] == 2, delta
        assert delta["arp_lenerr"] == 1, delta
        assert_healthy(t.rig)


def test_isn_and_ip_id_unpredictable(tmp_path):
    """Instance 6: every boot started at ISN 6510 and counted up slowly; IP
    IDs were one global counter from 0. ISNs are RFC 6528's (a keyed hash
    of the connection plus a 4 µs clock), IDs a keyed permutation per
    destination."""
    with Rig(tmp_path, "isn") as t:
        key = t.rig.qemu.wait_for(r"^netstack: TCP sequence numbers and IP IDs keyed from "
                                  r"(RDSEED and TSC jitter|RDRAND and TSC jitter|TSC jitter)$")
        print(f"the netstack's key: {key.group(1)}")
        t.wire.introduce()
        isns = []
        for port in range(43000, 43004):
            c = RawTcp(t.wire, 7, port)
            isns.append(c.connect()[TCP].seq)
            c.reset()
        for i, a in enumerate(isns):
            for b in isns[i + 1:]:
                assert min((a - b) % (1 << 32), (b - a) % (1 << 32)) > 1 << 12, isns
        # The same connection again, a moment later: its clock moved on
        # (4 µs ticks), not a random jump.
        t0 = time.monotonic()
        c = RawTcp(t.wire, 7, 43000)
        again = c.connect()[TCP].seq
        c.reset()
        ticks = (again - isns[0]) % (1 << 32)
        assert 0 < ticks <= (time.monotonic() - t0 + 60) * 250000, (isns, again)
        # IP IDs of UDP echoes to one host: not a counter.
        ids = []
        for i in range(12):
            t.wire.send(IP(src=FAKE_IP, dst=GUEST) / UDP(sport=6001, dport=7) / b"id")
            f = t.wire.wait(lambda f: UDP in f and f[IP].src == GUEST and f[UDP].dport == 6001, 3)
            assert f, "no UDP echo"
            ids.append(f[IP].id)
        steps = [(b - a) % 65536 for a, b in zip(ids, ids[1:])]
        assert sum(1 for s in steps if s < 16) <= 2, ids
        assert_healthy(t.rig)
