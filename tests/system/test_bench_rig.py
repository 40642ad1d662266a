"""bench/net_rig.py's wait before a benchmark's first connection
(wait_answering): it returns once the guest answers, not after a fixed
pause, so a connect made right after it is not refused for an unresolved
address ("No route to host", the first `iperf3 -R` after a boot on a
loaded host); and it gives up in its time when nothing answers. One Mica
guest (the NIC driver and the netstack, as bench/run_net.py boots it) in
a namespace of the test's own."""
import os
import socket
import sys
import time

import pytest

from netns import Netns, can_run

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import net_rig  # noqa: E402
import run_net  # noqa: E402

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")


def test_wait_answering_waits_for_the_guest(tmp_path):
    with Netns("benchrig") as ns:
        net_rig.add_host_tap(ns)
        # Nobody there yet: it gives up in its time (one ping a second).
        started = time.monotonic()
        assert not net_rig.wait_answering(ns, timeout=2)
        assert time.monotonic() - started < 8
        guest = run_net.MicaGuest()
        qemu = run_net.start_guest(guest, ns, "virtio-net", str(tmp_path), client=False)
        try:
            # Called as soon as QEMU starts: it returns when the guest is up.
            assert net_rig.wait_answering(ns, timeout=120), qemu.output()
            assert "netstack: eth0 up" in qemu.output(), qemu.output()
            # A connection at once: the netstack's iperf server takes it.
            s = ns.in_ns(lambda: socket.create_connection((net_rig.GUEST_ADDR, run_net.PORT),
                                                          timeout=10))
            s.close()
        finally:
            qemu.stop()
