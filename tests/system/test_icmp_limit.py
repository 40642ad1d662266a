"""The ICMP errors the netstack sends as an endpoint are rate-limited, as
Linux's are (icmp(7): icmp_ratelimit, icmp_msgs_per_sec; docs/netstack.md,
"Hardening"): 3,000 datagrams to closed UDP ports from one host were
answered 2,557 times. Now a destination gets a burst of 6 and then one a
second, and what is held back is counted (icmp_limited). Frames are sent
with scapy through a raw socket on the tap of a namespace the test makes
(tests/system/test_hostile.py's Rig).
"""
import time

import pytest

from netns import can_run
from test_hostile import ICMP, IP, UDP, Ether, Rig, assert_healthy, guest_ip_frames
from test_net import GUEST, GUEST_MAC, HOST

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

DATAGRAMS = 3000


def test_port_unreachable_is_rate_limited(tmp_path):
    with Rig(tmp_path, "icmplim") as t:
        before = t.rig.stats()
        list(t.wire.frames(0.3))               # what came before
        frames = [bytes(Ether(src=t.wire.host_mac, dst=GUEST_MAC) / IP(src=HOST, dst=GUEST) /
                        UDP(sport=5555, dport=20000 + i % 20000) / b"closed")
                  for i in range(DATAGRAMS)]
        start = time.monotonic()
        for f in frames:
            t.wire.send_raw(f)
        answers = [f for f in guest_ip_frames(t.wire.frames(3))
                   if ICMP in f and f[ICMP].type == 3 and f[ICMP].code == 3]
        elapsed = time.monotonic() - start
        after = t.rig.stats()
        limited = after["icmp_limited"] - before["icmp_limited"]
        # A burst of 6, then one a second (the guest's clock, near the
        # host's: 2 a second allowed).
        assert 1 <= len(answers) <= 6 + 2 * (elapsed + 1), (len(answers), elapsed)
        # What reached lwIP (udp_drop: no socket for it; the NIC's ring
        # may drop part of the burst before) and was not answered was
        # counted.
        dropped = after["udp_drop"] - before["udp_drop"]
        assert dropped >= 100, dropped
        assert dropped - len(answers) - 5 <= limited <= dropped, (dropped, len(answers), limited)
        # An echo request is no error: answered at once, over the limit.
        t.wire.send(IP(src=HOST, dst=GUEST) / ICMP(id=9, seq=1) / b"ping", t.wire.host_mac)
        assert t.wire.wait(lambda f: ICMP in f and f[ICMP].type == 0 and f[ICMP].id == 9)
        assert_healthy(t.rig)
