"""A hostile DHCP server (docs/netstack.md, "Hardening"): lwIP 2.1.3 bound
whatever it was offered (a /32 or /0 netmask, a router that is the
offered address or off its subnet, the address 0.0.0.0, a broadcast,
multicast or loopback address, no server identifier), and with a 20 s
lease it never renewed: its lease timers tick once a minute and the
lease ran out at the tick that should have renewed it. The netstack
refuses such offers and acknowledgements before lwIP sees them (and any
in fragments, which it could not check whole) and takes a lease shorter
than 120 s as 120 s, and lwIP then renews it.

The server is this test: scapy frames on the namespace's tap, from the
namespace's address (so the guest's unicast renewal reaches the tap).
"""
import time

import pytest

from netns import Netns, can_run
from test_hostile import Wire
from test_net import GUEST, HOST, NetRig

scapy_dhcp = pytest.importorskip("scapy.layers.dhcp", reason="needs python3-scapy")
scapy_inet = pytest.importorskip("scapy.layers.inet", reason="needs python3-scapy")
scapy_l2 = pytest.importorskip("scapy.layers.l2", reason="needs python3-scapy")
BOOTP, DHCP = scapy_dhcp.BOOTP, scapy_dhcp.DHCP
IP, UDP, fragment = scapy_inet.IP, scapy_inet.UDP, scapy_inet.fragment
Ether = scapy_l2.Ether

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

MASK = "255.255.255.0"
GOOD = dict(yiaddr=GUEST, server_id=HOST, subnet_mask=MASK, router=HOST, lease_time=20)
# Each is refused, as an offer and as an acknowledgement.
BAD = [
    dict(GOOD, subnet_mask="255.255.255.255"),
    dict(GOOD, subnet_mask="0.0.0.0"),
    dict(GOOD, router=GUEST),
    dict(GOOD, router="10.2.0.1"),
    dict(GOOD, yiaddr="0.0.0.0"),
    dict(GOOD, yiaddr="255.255.255.255"),
    dict(GOOD, yiaddr="10.1.0.255"),
    dict(GOOD, yiaddr="224.0.0.1"),
    dict(GOOD, yiaddr="127.0.0.1"),
    dict(GOOD, server_id=None),
    dict(GOOD, lease_time=None),
]


def dhcp_type(f):
    """The DHCP message type of a frame from the guest to a server, or None."""
    if DHCP not in f or f[UDP].dport != 67:
        return None
    for opt in f[DHCP].options:
        if isinstance(opt, tuple) and opt[0] == "message-type":
            return opt[1]
    return None


def reply(wire, request, msg_type, yiaddr, server_id, subnet_mask, router, lease_time,
          fragsize=None):
    options = [("message-type", msg_type)]
    for name, value in (("server_id", server_id), ("subnet_mask", subnet_mask),
                        ("router", router), ("lease_time", lease_time)):
        if value is not None:
            options.append((name, value))
    pkt = (IP(src=HOST, dst="255.255.255.255") / UDP(sport=67, dport=68) /
           BOOTP(op=2, xid=request[BOOTP].xid, yiaddr=yiaddr, chaddr=request[BOOTP].chaddr) /
           DHCP(options=options + ["end"]))
    for part in fragment(pkt, fragsize) if fragsize else [pkt]:
        wire.send_raw(bytes(Ether(src=wire.host_mac, dst=request[Ether].src) / part))


def wait_type(wire, types, timeout):
    return wire.wait(lambda f: dhcp_type(f) in types, timeout)


def test_dhcp_offers_checked_and_short_lease_renewed(tmp_path):
    with Netns("dhcpbad") as ns:
        rig = NetRig(ns, tmp_path, "virtio-net", netstack_args="nic=eth0 eth0.addr=dhcp")
        wire = Wire(ns)
        try:
            with rig:
                discover = wait_type(wire, [1], 30)
                assert discover, ("no DHCPDISCOVER", rig.qemu.output())
                reply(wire, discover, 2, **GOOD, fragsize=128)     # good, but in fragments
                for bad in BAD:
                    reply(wire, discover, 2, **bad)
                got = wait_type(wire, [3], 2)
                assert not got, ("a request for a bad offer", got[BOOTP].xid, got[DHCP].options)
                discover = wait_type(wire, [1], 30)     # the guest asks again
                assert discover, ("no DHCPDISCOVER after the bad offers", rig.qemu.output())
                reply(wire, discover, 2, **GOOD)
                request = wait_type(wire, [3], 5)
                assert request, ("no DHCPREQUEST for the good offer", rig.qemu.output())
                for bad in BAD:
                    reply(wire, request, 5, **bad)
                time.sleep(1)
                assert "eth0 up" not in rig.qemu.output(), rig.qemu.output()
                request = wait_type(wire, [3], 10) or request     # it asks again
                reply(wire, request, 5, **GOOD)
                rig.qemu.wait_for(r"netstack: eth0 up, 10\.1\.0\.2/24 \(dhcp\)", timeout=10)
                bound = time.monotonic()
                out = rig.qemu.output()
                for why in ("in fragments", "a netmask that is not /1 to /30",     # the first
                            "a router that is not another host of the subnet",  # 10 lines:
                            "an address that is not a host's"):                 # rate-limited
                    assert f"netstack: eth0: DHCP reply from 10.1.0.1 refused: {why}" in out, out
                # lwIP renews at its first minute tick (T1 of 120 s): a
                # request from its address, no new discovery before it. A
                # minute of the guest's clock, which runs slower than ours
                # when the machine is busy (QEMU's TCG).
                renew = wire.wait(lambda f: dhcp_type(f) in (1, 3), 240)
                took = time.monotonic() - bound
                assert renew and dhcp_type(renew) == 3 and renew[BOOTP].ciaddr == GUEST, \
                    (took, renew and renew.summary(), rig.qemu.output())
                reply(wire, renew, 5, **GOOD)
                time.sleep(1)
                stats = rig.stats()
                assert stats["dhcp_refused"] == 2 * len(BAD) + 1, stats
                assert stats["dhcp_lease_raised"] == 3, stats           # offer, ack, ack
                out = rig.qemu.output()
                assert "eth0 down" not in out and out.count("eth0 up") == 1, out
                r = rig.run("ping", "-c", "3", "-i", "0.2", "-W", "5", GUEST, timeout=60,
                            check=False)
                assert " 0% packet loss" in r.stdout, r.stdout
        finally:
            wire.close()
