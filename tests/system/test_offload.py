"""Checksum offload (docs/netq.md, "Offloads"; docs/netstack.md,
"Checksum offload"), on and off, for e1000 and virtio-net on a tap whose
QEMU side speaks virtio-net headers (so the host leaves checksums partial
and marks them valid, and completes ours).

Each test runs with the drivers' defaults (every offload on) and with
every offload switched off by the driver's manifest arguments: 16 MiB of
random data through netecho's TCP echo come back byte-identical (sha256)
and the counters say which path the checksums took; frames with wrong
checksums that no device vouched for are dropped and counted; UDP with
checksum 0 is answered; TCP with urgent data and IP options is echoed.
The frames forwarded with their checksums left partial are
test_forwarded_partial_checksums_are_completed's.
"""
import hashlib
import random
import re
import socket

import pytest

from netns import Netns, can_run
from test_net import GUEST, NetRig, flood_malformed, tcp_echo, wait_up
from test_router import Router, hosts, tcp_transfer

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

OFF = {"e1000": "txcsum=off rxcsum=off itr=0 txheap=off",
       "virtio-net": "txcsum=off rxcsum=off mrgrxbuf=off eventidx=off rxtso=off txtso=off"}
ECHO_BYTES = 16 << 20


@pytest.fixture(scope="module", params=[("e1000", "on"), ("e1000", "off"), ("virtio-net", "on"),
                                        ("virtio-net", "off")],
                ids=lambda p: f"{p[0]}-offload-{p[1]}")
def booted(request, tmp_path_factory):
    """One boot per setting, shared by the module's three tests of it
    (each looks at how the counters moved during it, not at their values):
    (setting, namespace, rig)."""
    model, onoff = request.param
    tmp = tmp_path_factory.mktemp("offload")
    with Netns("offload") as ns, NetRig(ns, tmp, model,
                                        driver_args=OFF[model] if onoff == "off" else "") as rig:
        wait_up(rig)
        yield request.param, ns, rig


def echo_byte_identical(rig, payload):
    """payload through netecho's TCP echo, back byte-identical (sha256),
    no checksum error counted; returns the counters' changes."""
    wait_up(rig)
    before = rig.stats()
    got = tcp_echo(rig, payload)
    assert len(got) == len(payload)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(payload).hexdigest()
    k = rig.stats()
    d = {key: k[key] - before[key] for key in k}
    assert d["tcp_chkerr"] == 0 and d["ip_chkerr"] == 0, d
    return d


def test_tcp_16mib_echo_byte_identical(booted):
    (model, onoff), ns, rig = booted
    payload = random.Random(16).randbytes(ECHO_BYTES)
    rig.qemu.wait_for(rf"eth0: {model} at .* checksum offload: tx {onoff}, rx {onoff}")
    if model == "virtio-net":
        rig.qemu.wait_for(rf"eth0: virtio features: mergeable buffers {onoff}, "
                          rf"event index {onoff}, large segments: rx {onoff}, tx {onoff}")
    else:
        itr = 488 if onoff == "on" else 0
        rig.qemu.wait_for(rf"eth0: interrupt moderation: itr {itr} x 256 ns")
        # Receive merging needs receive checksum offload (rxcsum=off).
        assert re.search(rf"eth0: transmit: .*; receive merging {onoff}", rig.qemu.output())
    d = echo_byte_identical(rig, payload)
    # Every segment the netstack sent had its checksum finished one
    # way or the other: by the NIC, or by the netstack itself.
    segments = ECHO_BYTES // 1460
    if onoff == "on":
        assert d["eth0.tx_csum_offloaded"] >= segments and d["eth0.tx_csum_software"] == 0, d
        if model == "virtio-net":
            # The host left its checksums partial or vouched for
            # them, every frame's but a few: ARP, and what the
            # host's stack sends with its checksum complete (a
            # reset, an ACK for a connection it no longer has:
            # ip_send_unicast_reply) — more of those on a loaded
            # host (a slack of 4 failed one run in two there). It
            # hands us its segments merged (GUEST_TSO4), which lwIP
            # takes whole.
            assert d["eth0.rx_csum_trusted"] >= d["eth0.rx_packets"] - 16, d
        # virtio-net: the host merges (GUEST_TSO4); e1000: the
        # driver does (drivers/net/rx_merge.c), and lwIP takes the
        # aggregates whole.
        assert d["eth0.rx_aggregates"] > 0, d
    else:
        assert d["eth0.tx_csum_software"] >= segments and d["eth0.tx_csum_offloaded"] == 0, d
        assert d["eth0.rx_csum_trusted"] == 0, d
    # Both drivers read lwIP's heap (NETQ_OFFLOAD_TX_HEAP), virtio-net's
    # with or without offloads: every segment went from there, not copied
    # into a pool buffer. e1000's off setting also says txheap=off: every
    # segment copied.
    if model == "virtio-net" or onoff == "on":
        assert d["eth0.tx_by_reference"] >= segments, d
    else:
        assert d["eth0.tx_by_reference"] == 0, d
        assert re.search(r"eth0: transmit: .* from the client's heap off;", rig.qemu.output())


def test_wrong_checksums_dropped_counted_udp_zero_answered(booted):
    per_kind = 50
    _, ns, rig = booted
    kinds, delta, lost = flood_malformed(rig, ns, per_kind,
                                         ("ip_chkerr", "udp_chkerr", "tcp_chkerr"))
    for counter in kinds:
        assert per_kind - lost <= delta[counter] <= per_kind, f"{counter}: {delta}"

    def udp_zero():
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, 11, 1)      # SO_NO_CHECK: checksum 0
        u.settimeout(2)
        try:
            for _ in range(5):
                u.sendto(b"no checksum here", (GUEST, 7))
                try:
                    return u.recvfrom(2048)[0]
                except socket.timeout:
                    continue
        finally:
            u.close()
    assert ns.in_ns(udp_zero) == b"no checksum here"


def test_tcp_urgent_data_and_ip_options_echoed(booted):
    _, ns, rig = booted
    first, second = random.Random(1).randbytes(100000), random.Random(2).randbytes(100000)

    def exchange():
        s = socket.create_connection((GUEST, 7), timeout=30)
        # Four NOPs: every segment of ours carries IP options, so the
        # TCP header (and a partial checksum's start) moves by 4.
        s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b"\x01\x01\x01\x01")
        s.sendall(first)
        s.send(b"!", socket.MSG_OOB)
        s.sendall(second)
        s.shutdown(socket.SHUT_WR)
        got = bytearray()
        s.settimeout(60)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        s.close()
        return bytes(got)
    assert ns.in_ns(exchange) == first + b"!" + second


@pytest.mark.parametrize("tso", ["on", "off"], ids=lambda t: f"tso-{t}")
def test_forwarded_partial_checksums_are_completed(tso, tmp_path):
    """The LAN side is virtio-net, whose host leaves the LAN host's
    checksums partial; the router completes them before they leave by
    e1000, whose host checks them (a wrong one would stall the transfer).
    With large segments on, the host hands them over merged (GUEST_TSO4)
    and they leave whole for e1000 to cut (its TSO), each segment's
    checksum summed afresh by the NIC. The other way, e1000 frames arrive
    complete and leave as they are."""
    lan, wan = hosts()
    args = ("" if tso == "on" else "rxtso=off txtso=off", "")
    with lan, wan, Router(tmp_path, lan, wan, ("virtio-net", "e1000"), driver_args=args) as r:
        sent, received, count = tcp_transfer(lan, wan, 4 << 20)
        assert count == 4 << 20 and received == sent
        k = r.stats()
        segments = (4 << 20) // 1460
        if tso == "off":
            assert k["eth0.rx_csum_completed"] >= segments, k
            assert k["eth0.fwd_packets"] >= segments, k
            assert k["eth0.rx_aggregates"] == 0 and k["eth1.tx_gso_segments"] == 0, k
        else:
            assert k["eth0.rx_aggregates"] > 0 and k["eth1.tx_tso"] > 0, k
            assert k["eth1.tx_bytes"] >= 4 << 20, k
