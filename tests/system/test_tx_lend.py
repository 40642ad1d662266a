"""A stream's sends by reference from its session's send area
(docs/netstack.md, "Sending the client's bytes by reference";
proto/socket.h, SOCK_SEND_LENT). Over tap0 in a namespace: the NIC
driver, the netstack, netecho, and tests/programs/sendlent.c or the
POSIX server running tests/posix/txsum.c with syscount=1.

- sendlent: SOCK_SEND_LENT outside the standing offer is refused with
  EINVAL (no offer yet, the offset moved, a byte longer, in the buffer's
  last 64 KiB; past the buffer EFAULT, as every call's), the stream
  sent by reference arrives whole, bytes overwritten after their send change only that stream, a
  third session of 1 MiB is refused with EBUSY (two send areas), and the
  netstack still echoes.
- Both send areas held by sendlent: the POSIX server opens a 256 KiB
  session instead (SOCK_EBUSY) and sends, copying.
- A peer that stops reading beside another connection of the same POSIX
  session: the other's data arrives whole (copied when its runs hold the
  area) while the first is stalled, then the first's too.
- A process killed with its bytes out by reference: once its peer goes,
  the next process sends by reference again (nothing of the area kept).
- The POSIX server killed with runs out: restarted, its new session does
  not get the buffer lwIP still sends from (the stalled connection's
  bytes arrive unchanged after the new one's), and it sends again:
  txsum's stream, then Debian's iperf3 -s to the namespace's iperf3 -R.
"""
import contextlib
import functools
import re
import socket
import time

import pytest

from netns import Netns, can_run
from qemu import build_path
from test_net import GUEST, NetRig, wait_up
from test_rx_lend import LendRig
from test_tcp_segments import echo
from test_tx_stage import COUNT_LINE, LENT_LINE

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

TOTAL = 8 << 20
TAIL = 256 << 10


def sendlent_pattern(n):
    return bytes((i * 7 + (i >> 12)) & 0xFF for i in range(n))


@functools.lru_cache(maxsize=1)
def txsum_stream():
    """What tests/posix/txsum.c writes to a connection."""
    span = 2 << 20
    buf = bytearray(span + 140000)
    x = 0x2545F491
    for i in range(len(buf)):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        buf[i] = x & 0xFF
    out = bytearray()
    for k in range(160):
        p = (k * (5 * 4096 + 24)) % span
        n = 1000 + 7 + 65536 if k % 4 == 3 else (131072, 65549, 100000)[k % 4]
        out += buf[p:p + n]
    return bytes(out)


def read_all(s, timeout=120):
    s.settimeout(timeout)
    got = bytearray()
    while True:
        b = s.recv(1 << 20)
        if not b:
            return bytes(got)
        got += b


def stalled(rig, port):
    """A connection to port whose reader takes nothing: a small receive
    buffer, never read."""
    s = rig.ns.in_ns(lambda: socket.socket())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    rig.ns.in_ns(lambda: s.connect((GUEST, port)))
    return s


@contextlib.contextmanager
def txsum_booted(name, tmp_path, run, **kw):
    """LendRig running run (txsum on port 5557 first), once it listens."""
    with Netns(name) as ns, LendRig(ns, tmp_path, "virtio-net", run, **kw) as rig:
        rig.qemu.wait_for(r"^txsum: listening on 5557", timeout=180)
        yield rig


def test_lent_sends_checked_and_whole(tmp_path):
    with Netns("txlend") as ns, NetRig(ns, tmp_path, "virtio-net",
                                       extra="program sendlent priority=90 restart=never\n",
                                       extra_mods=[(build_path("programs", "sendlent.elf"),
                                                    "sendlent")]) as rig:
        wait_up(rig)
        rig.qemu.wait_for(r"^sendlent: listening on 7200", timeout=60)
        got = read_all(rig.connect(7200))
        m = rig.qemu.wait_for(r"^sendlent: bad sends refused (.*); offer (.*); sent (\d+) "
                              r"bytes, (\d+) by reference; more 1 MiB sessions: (-?\d+) (-?\d+)$",
                              timeout=60)
        fresh, ok = echo(rig, 64 << 10)
        print(f"txlend: {m.group(0)}; received {len(got)}; echo afterwards: {fresh}")
        assert m.group(1) == "22 22 22 14 22", m.group(0)    # past the buffer: EFAULT
        assert m.group(2) == "inside the area", m.group(0)
        assert int(m.group(3)) == len(got) == TOTAL + TAIL, (m.group(0), len(got))
        assert got[:TOTAL] == sendlent_pattern(TOTAL), "the stream sent by reference differs"
        assert int(m.group(4)) >= TOTAL // 2, m.group(0)
        assert (m.group(5), m.group(6)) == ("0", "-16"), m.group(0)
        assert ok, fresh


def test_server_falls_back_to_copying_when_no_area_is_free(tmp_path):
    want = txsum_stream()
    with txsum_booted("txlendfb", tmp_path, "txsum-musl:5557 syscount=1",
                      extra="program sendlent priority=120 restart=never\n    args hold=yes\n",
                      extra_mods=[(build_path("programs", "sendlent.elf"), "sendlent")]) as rig:
        held = rig.qemu.wait_for(r"^sendlent: holding two send areas: (-?\d+)$", timeout=180)
        got = read_all(rig.connect(5557))
        lent = rig.qemu.wait_for(LENT_LINE, timeout=60)
        print(f"txlendfb: both areas held ({held.group(1)}); the POSIX server's stream "
              f"{len(got)} bytes, {lent.group(1)} by reference")
        assert held.group(1) == "0", held.group(0)
        assert got == want, len(got)
        assert lent.group(1) == "0", lent.group(0)


def test_stalled_peer_beside_another_connection(tmp_path):
    want = txsum_stream()
    with txsum_booted("txlendst", tmp_path, "txsum-musl:5557:2 syscount=1") as rig:
        a = stalled(rig, 5557)
        b = rig.connect(5557)
        got_b = read_all(b)
        line = rig.qemu.wait_for(r"^txsum: (\d+) bytes fnv1a ([0-9a-f]{16})$", timeout=60)
        got_a = read_all(a)
        rig.qemu.wait_for(COUNT_LINE.pattern, timeout=60)
        lent = rig.qemu.wait_for(LENT_LINE, timeout=60)
        print(f"txlendst: the other connection got {len(got_b)} bytes while one stalled, "
              f"then the stalled one {len(got_a)}; {lent.group(1)} bytes by reference")
        assert got_b == want and int(line.group(1)) == len(want), line.group(0)
        assert got_a == want, len(got_a)
        assert int(lent.group(1)) > 0, lent.group(0)


def test_killed_process_gives_its_runs_back(tmp_path):
    want = txsum_stream()
    with txsum_booted("txlendk", tmp_path,
                      "txsum-musl:5557:1:8,txsum-musl:5558 syscount=1") as rig:
        a = stalled(rig, 5557)
        # Dead by SIGALRM with its bytes out by reference; then its peer
        # goes (a reset: unread data) and lwIP frees the connection's.
        first = rig.qemu.wait_for(LENT_LINE, timeout=60)
        mark = rig.qemu.mark()
        a.close()
        rig.qemu.wait_for(r"^txsum: listening on 5558", timeout=60)
        got = read_all(rig.connect(5558))
        second = rig.qemu.wait_for(LENT_LINE, timeout=60, since=mark)
        print(f"txlendk: the killed process had {first.group(1)} bytes by reference; "
              f"the next sent {len(got)}, {second.group(1)} by reference")
        assert int(first.group(1)) > 0, first.group(0)
        assert got == want, len(got)
        assert int(second.group(1)) >= len(want) // 2, second.group(0)


def test_server_killed_with_runs_out(tmp_path):
    want = txsum_stream()
    with txsum_booted("txlendsv", tmp_path, "txsum-musl:5557,iperf3:-s:-1 syscount=1",
                      posix="restart=on-crash") as rig:
        a = stalled(rig, 5557)
        time.sleep(3)                   # its runs fill the area, and stay
        mark = rig.qemu.mark()
        assert rig.control("kill posix-server") == "ok"
        rig.qemu.wait_for(r"^txsum: listening on 5557", timeout=180, since=mark)
        got_b = read_all(rig.connect(5557))
        lent = rig.qemu.wait_for(LENT_LINE, timeout=60, since=mark)
        got_a = read_all(a)
        # And Debian's iperf3 from Mica, by reference too.
        rig.qemu.wait_for(r"Server listening on 5201", timeout=60, since=mark)
        iperf = rig.run("iperf3", "-c", GUEST, "-R", "-t", "2", timeout=60, check=False)
        rate = re.findall(r"([\d.]+ [MG]bits/sec) .*receiver", iperf.stdout)
        print(f"txlendsv: after the server's restart a new connection got {len(got_b)} bytes, "
              f"{lent.group(1)} by reference; the stalled one then {len(got_a)}; "
              f"iperf3 -R: {rate}")
        assert got_b == want, len(got_b)
        assert int(lent.group(1)) > 0, lent.group(0)
        assert 0 < len(got_a) < len(want) and got_a == want[:len(got_a)], len(got_a)
        assert iperf.returncode == 0 and rate, iperf.stdout + iperf.stderr
