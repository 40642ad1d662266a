"""A remote host that stops reading what a few connections send must not
take lwIP's TCP segments from every other connection (netstack/
socket_tcp.c, send_limit; docs/netstack.md, "Sending TCP"); nor may
one that fills the windows of connections a service does not accept take
lwIP's heap (socket_rx.c, rx_heap_room; "Received TCP data"); nor may
datagrams to a UDP socket never read take more of the heap than its
receive buffer (socket_udp.c, dgram_cost).

lwIP's TCP segments are one pool for all connections (MEMP_NUM_TCP_SEG,
4096) and one connection's send queue may hold 2868 of them: at an MSS of
536, 1 MiB of send buffer is about 1960 segments, so three connections
whose peer does not read took the whole pool, and every other
connection's SYN-ACK and data failed until that peer read again.

netecho's TCP echo is the service: it reads a connection only while it
can send back what it read, so each connection the host does not read
fills its send queue. Seven of its eight connections stall so; the eighth,
a fresh one, must still get 64 KiB echoed (at the same MSS: 16 segments
for each 8 KiB the echo writes), and the statistics port must answer.
"""
import random
import socket
import threading
import time

import pytest

from netns import Netns, can_run
from qemu import build_path
from test_net import GUEST, NetRig, wait_up
from test_socket_rx import SEND, SNDBUF, Sender, unsent

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

STALLED = 7         # of netecho's ECHO_CONNS (8): the last one is the fresh echo's
# A fresh connection's echo of a window (256 KiB) beside the unaccepted
# ones: 1.5 s with each socket's floor under pressure (socket_rx.c,
# RX_HEAP_FLOOR), 108 s without it (its segments refused, each waiting
# for the host's retransmission).
FRESH_WINDOW_S = 20
MSS = 536


def connect(rig, port):
    """A connection to the guest at MSS bytes a segment."""
    s = rig.ns.in_ns(lambda: socket.socket())
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, MSS)
    s.settimeout(20)
    rig.ns.in_ns(lambda: s.connect((GUEST, port)))
    return s


def echo(rig, size, timeout=20):
    """A fresh connection to the echo: what came back of size random
    bytes within timeout, and whether it was all of them, in order."""
    msg = random.Random(size).randbytes(size)
    got = b""
    try:
        s = connect(rig, 7)
    except OSError as e:
        return f"no connection ({e!r})", False
    try:
        s.settimeout(timeout)
        s.sendall(msg)
        while len(got) < size:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError as e:
        return f"{len(got)} bytes, then {e!r}", False
    finally:
        s.close()
    return f"{len(got)} bytes", got == msg


def test_stalled_senders_leave_segments_for_others(tmp_path):
    payload = random.Random(3).randbytes(SEND)
    with Netns("tcpseg") as ns, NetRig(ns, tmp_path, "virtio-net") as rig:
        wait_up(rig)
        before, ok = echo(rig, 64 << 10)
        assert ok, f"the echo does not work before the test: {before}"
        conns = []
        for _ in range(STALLED):
            s = connect(rig, 7)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF)
            s.settimeout(120)
            conns.append(s)
        senders = [Sender(s, payload) for s in conns]
        for t in senders:
            t.start()
        time.sleep(30)      # the echo's send queues fill, the host reads nothing
        queued = [unsent(s) for s in conns]
        fresh, ok = echo(rig, 64 << 10)
        try:
            stats = rig.stats()
        except (OSError, AssertionError) as e:
            stats = {"error": repr(e)}
        print(f"tcpseg: {STALLED} connections not read (host queues {queued}); a fresh echo of "
              f"64 KiB got {fresh}; statistics {'answer' if 'error' not in stats else stats}")
        for s in conns:
            s.close()
        assert ok, f"a fresh connection's echo beside the stalled ones: {fresh}\n" + rig.qemu.output()
        assert "error" not in stats, stats


def tcphold_rig(ns, tmp_path):
    """The NetRig with tests/programs/tcphold.c beside netecho."""
    return NetRig(ns, tmp_path, "virtio-net", extra="program tcphold priority=90\n",
                  extra_mods=[(build_path("programs", "tcphold.elf"), "tcphold")])


def test_unaccepted_connections_leave_heap_for_others(tmp_path):
    """tests/programs/tcphold.c listens on four ports and never accepts:
    the netstack takes in 16 connections' data on each (its accept queue),
    up to their windows of 256 KiB, 16 MiB in all: lwIP's whole heap.
    Without a bound the netstack then answered nothing, ARP and ping
    included, even after the host had closed every connection (their
    data waits for an accept that never comes). With the bound alone a
    fresh connection beside them got one chunk at a time: its echo of a
    window took 108 s; each socket's floor lets it have 64 KiB."""
    payload = random.Random(5).randbytes(256 << 10)
    with Netns("tcpheap") as ns, tcphold_rig(ns, tmp_path) as rig:
        wait_up(rig)
        rig.qemu.wait_for(r"^tcphold: listening on 4 ports from 7100")
        conns = []
        for port in range(7100, 7104):
            for _ in range(16):
                s = rig.ns.in_ns(lambda: socket.socket())
                s.settimeout(10)
                rig.ns.in_ns(lambda: s.connect((GUEST, port)))
                s.setblocking(False)
                conns.append(s)
        stop = threading.Event()

        def pump():         # each connection's window, and more
            while not stop.is_set():
                for s in conns:
                    try:
                        s.send(payload)
                    except OSError:
                        pass
                stop.wait(1)
        t = threading.Thread(target=pump, daemon=True)
        t.start()
        time.sleep(30)
        fresh, ok = echo(rig, 64 << 10)
        start = time.monotonic()
        window, window_ok = echo(rig, 256 << 10, timeout=FRESH_WINDOW_S)
        took = time.monotonic() - start
        ping = rig.run("ping", "-c", "3", "-i", "0.2", "-W", "2", GUEST, timeout=60, check=False)
        stop.set()
        t.join(10)
        print(f"tcpheap: {len(conns)} connections not accepted; a fresh echo of 64 KiB got "
              f"{fresh}, one of 256 KiB {window} in {took:.1f} s; "
              f"ping {'answered' if ' 0% packet loss' in ping.stdout else 'lost'}")
        for s in conns:
            s.close()
        assert ok, f"a fresh connection's echo beside them: {fresh}\n" + rig.qemu.output()
        assert window_ok, f"a fresh echo of 256 KiB beside them: {window} in {took:.1f} s"
        assert " 0% packet loss" in ping.stdout, ping.stdout


UDP_PORT = 7200     # tcphold's UDP socket, never read
DGRAM = 1000        # bytes: a copy of 24 + 1000 + 16 takes a block of 2048, its record 64
DGRAM_HEAP = 2048 + 64
RCVBUF = 212992     # SOCK_RCVBUF_DEFAULT


def test_unread_udp_socket_takes_no_more_heap_than_its_buffer(tmp_path):
    """Datagrams queued to a UDP socket take lwIP's heap in buddy blocks
    (netstack/heap.c: powers of two): a 1000-byte datagram takes 2112
    bytes, not its length and a little. Counted so, the socket's receive
    buffer holds in heap bytes: of 300 datagrams sent (paced, so none is
    lost on the way), it keeps as many as fit in 212,992 bytes, and one
    (taken while the queue is within the buffer, as Linux's); the rest
    are dropped and counted (sock_udp_dropped)."""
    with Netns("udpheap") as ns, tcphold_rig(ns, tmp_path) as rig:
        wait_up(rig)
        rig.qemu.wait_for(r"^tcphold: listening on 4 ports from 7100, UDP on 7200")
        before = rig.stats()
        u = rig.ns.in_ns(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        for i in range(300):
            u.sendto(bytes([i % 256]) * DGRAM, (GUEST, UDP_PORT))
            time.sleep(0.005)
        u.close()
        time.sleep(1)
        k = rig.stats()
        came = k["udp_recv"] - before["udp_recv"]
        dropped = k["sock_udp_dropped"] - before["sock_udp_dropped"]
        queued = came - dropped
        print(f"udpheap: {came} datagrams of {DGRAM} bytes came, {queued} queued "
              f"({queued * DGRAM_HEAP} bytes of heap; buffer {RCVBUF}), {dropped} dropped")
        assert came == 300, k
        assert queued * DGRAM_HEAP <= RCVBUF + DGRAM_HEAP, \
            f"{queued} datagrams take {queued * DGRAM_HEAP} bytes of heap, past {RCVBUF}"
        assert queued >= RCVBUF // DGRAM_HEAP, f"only {queued} datagrams queued"


def test_a_session_full_of_unaccepted_connections_is_not_the_last(tmp_path):
    """tests/posix/sessfill.c: connections its listeners never accept
    fill the netstack's session they are in, which the POSIX server did
    not know (it counts its own sockets there): socket() then said
    ENFILE to every process, the server's second session unused."""
    from test_posix_net import PosixRig
    with Netns("sessfill") as ns, PosixRig(ns, tmp_path, "sessfill-musl\n") as rig:
        rig.qemu.wait_for(r"^posix: all programs ended", timeout=300)
        made = [l for l in rig.qemu.output().splitlines() if l.startswith("sessfill: ")]
        print("\n".join(made))
        assert made == ["sessfill: 130 sockets made", "sessfill: done"], rig.qemu.output()
