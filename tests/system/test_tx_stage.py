"""A stream's writes staged by the POSIX server (docs/posix.md, "iperf3";
posix-server/socket_io.c, send_any): each write is copied into the
session buffer a buffer's worth at a time (no more than the room the last
SEND left) and offered to the netstack from where its last take ended;
a blocking write that found no room waits and goes on where it stopped.
Over tap0 in a namespace: the NIC driver, the netstack, netecho and the
POSIX server running tests/posix/txsum.c with syscount=1.

- txsum writes 160 pieces of a 2 MiB buffer (14.5 MB), from places
  stepping over its pages, with write and writev, while the namespace
  first reads nothing for two seconds (so writes wait for room and go on
  after it): the namespace receives every byte as sent (FNV-1a and count
  equal), the server's count line says its sockets sent exactly those
  bytes, and some calls were made again after waiting; at least half of
  them went by reference from the session's send area (SOCK_SEND_LENT).
"""
import re
import time

import pytest

from netns import Netns, can_run
from test_rx_lend import LendRig, fnv

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

# posix-server/syscall.c's count line at the process's end.
COUNT_LINE = re.compile(r"^posix: txsum-musl \(pid \d+\) calls: \d+ in all, (\d+) made again "
                        r"after waiting; sockets sent (\d+) received \d+ bytes")
# posix-server/socket_net.c's netstack calls line after it: the bytes the
# netstack took by reference (SOCK_SEND_LENT).
LENT_LINE = (r"^posix: txsum-musl \(pid \d+\) netstack calls: .*; "
             r"by reference: (\d+) bytes$")


def test_staged_writes_arrive_whole(tmp_path):
    with Netns("txstage") as ns, LendRig(ns, tmp_path, "virtio-net",
                                         "txsum-musl:5557 syscount=1") as rig:
        rig.qemu.wait_for(r"^txsum: listening on 5557", timeout=180)
        s = rig.connect(5557)
        s.settimeout(120)
        time.sleep(2)                   # the guest's writes fill the window and wait
        got = bytearray()
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got += b
        s.close()
        m = rig.qemu.wait_for(r"^txsum: (\d+) bytes fnv1a ([0-9a-f]{16})$", timeout=60)
        assert int(m.group(1)) == len(got), (m.group(0), len(got))
        assert int(m.group(2), 16) == fnv(got), m.group(0)
        c = rig.qemu.wait_for(COUNT_LINE.pattern, timeout=60)
        lent = rig.qemu.wait_for(LENT_LINE, timeout=60)
        print(f"txstage: {len(got)} bytes arrived whole, {lent.group(1)} sent by reference")
        assert int(c.group(2)) == len(got), c.group(0)
        assert int(c.group(1)) > 0, c.group(0)
        # Most of it went by reference from the session's send area.
        assert int(lent.group(1)) >= len(got) // 2, lent.group(0)
