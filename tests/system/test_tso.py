"""Large segments (docs/netq.md, "Offloads"; docs/netstack.md, "Large
segments"): virtio-net's host hands the netstack TCP aggregates of up to
64 KiB over several pool buffers (GUEST_TSO4 with MRG_RXBUF), which the
router forwards whole to a virtio-net that cuts them (HOST_TSO4) or cuts
itself (GSO) toward e1000, a smaller MTU, or a NIC with the switch off.

Byte-identical (sha256) transfers through the router both ways for
virtio->virtio with large segments on and off, virtio->e1000 and
e1000->virtio; path-MTU discovery against the segments' size; the
counters say which path the frames took. The endpoint's 16 MiB echo with
offloads on and off is test_offload's (the netstack's own segments
merged, the default), here with merging on and off (merge=off); the
hostile driver's chains are test_net's fakenic test.
"""
import os
import random
import re
import subprocess
import time

import pytest

from netns import Netns, can_run
from qemu import stop_process
from test_net import GUEST, HOST, MODELS, NetRig
from test_offload import echo_byte_identical
from test_router import LAN_HOST, WAN_HOST, Iperf3, Router, hosts, run, tcp_transfer

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

NBYTES = 16 << 20
OFF = "rxtso=off txtso=off"


def both_ways(lan, wan):
    for src, dst, addr in ((lan, wan, WAN_HOST), (wan, lan, LAN_HOST)):
        sent, received, count = tcp_transfer(src, dst, NBYTES, to=addr, port=5556)
        assert count == NBYTES and received == sent


@pytest.mark.parametrize("tso", ["on", "off"], ids=lambda t: f"tso-{t}")
def test_virtio_to_virtio_byte_identical_both_ways(tso, tmp_path):
    """With large segments on, aggregates arrive on either side and leave
    whole for the other virtio-net to cut (tx_tso); off, frame by frame."""
    lan, wan = hosts()
    args = ("", "") if tso == "on" else (OFF, OFF)
    with lan, wan, Router(tmp_path, lan, wan, ("virtio-net", "virtio-net"),
                          driver_args=args) as r:
        r.qemu.wait_for(rf"eth0: virtio features: .* large segments: rx {tso}, tx {tso}")
        both_ways(lan, wan)
        k = r.stats()
        if tso == "on":
            # Most leave whole: an aggregate lwIP had to copy out of the
            # pool (it held its share) is cut here instead.
            for i, o in ((0, 1), (1, 0)):
                assert k[f"eth{i}.rx_aggregates"] > 0, k
                assert k[f"eth{o}.tx_tso"] >= k[f"eth{i}.rx_aggregates"] * 3 // 4, k
        else:
            for i in (0, 1):
                assert k[f"eth{i}.rx_aggregates"] == 0 and k[f"eth{i}.tx_tso"] == 0, k
        assert k["tcp_chkerr"] == 0 and k["ip_chkerr"] == 0, k


@pytest.mark.parametrize("models", [("virtio-net", "e1000"), ("e1000", "virtio-net")],
                         ids=lambda m: "+".join(m))
def test_virtio_and_e1000_byte_identical_both_ways(models, tmp_path):
    """Aggregates from the virtio-net side are cut here for e1000 (GSO),
    each segment's checksum left to e1000 or summed afresh."""
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, models) as r:
        both_ways(lan, wan)
        k = r.stats()
        v, e = (0, 1) if models[0] == "virtio-net" else (1, 0)
        assert k[f"eth{v}.rx_aggregates"] > 0 and k[f"eth{e}.tx_gso_segments"] > 0, k
        assert k[f"eth{e}.tx_tso"] == 0, k


def test_software_segmentation_without_tx_tso(tmp_path):
    """The WAN virtio-net does not segment (txtso=off): aggregates from the
    LAN are cut here, into frames it takes one by one."""
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, ("virtio-net", "virtio-net"),
                          driver_args=("", "txtso=off")) as r:
        sent, received, count = tcp_transfer(lan, wan, NBYTES)
        assert count == NBYTES and received == sent
        k = r.stats()
        assert k["eth0.rx_aggregates"] > 0 and k["eth1.tx_gso_segments"] > 0, k
        assert k["eth1.tx_tso"] == 0, k


def test_pmtu_discovery_against_the_segment_size(tmp_path):
    """A smaller WAN MTU (1400): the LAN host's aggregates carry DF and
    1448-byte segments, so each gets fragmentation needed (mtu 1400), as
    Linux answers for GSO; its kernel lowers the path MTU and the transfer
    completes, the smaller segments still merged on the way in."""
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, ("virtio-net", "virtio-net"), wan_mtu=1400,
                          wan_tap_mtu=1400) as r:
        Iperf3(lan, wan).tcp("-t", "2")
        assert re.search(r"\bmtu 1400\b", run(lan, "ip", "route", "get", WAN_HOST).stdout)
        k = r.stats()
        assert k["eth0.fwd_too_big"] >= 1 and k["eth0.fwd_icmp_sent"] >= 1, k
        assert k["eth0.rx_aggregates"] > 0, k
        sent, received, count = tcp_transfer(lan, wan, 4 << 20)
        assert count == 4 << 20 and received == sent


@pytest.mark.parametrize("merge", ["", "merge=off"], ids=["merge-default", "merge-off"])
def test_merged_segments_echo_byte_identical(merge, tmp_path):
    """By default the netstack's own segments leave merged (tx_tso) and
    virtio-net's host cuts them; with merge=off each leaves alone: 16 MiB
    of TCP echo come back intact either way."""
    payload = random.Random(17).randbytes(NBYTES)
    with Netns("merge") as ns, NetRig(ns, tmp_path, "virtio-net",
                                          netstack_args=f"nic=eth0 eth0.addr={GUEST}/24 "
                                                        f"eth0.gw={HOST} {merge}") as rig:
        d = echo_byte_identical(rig, payload)
        if merge:
            assert d["eth0.tx_tso"] == 0, d
        else:
            assert d["eth0.tx_tso"] > 0, d


@pytest.mark.parametrize("model", list(MODELS))
def test_netstack_iperf_client_sends_merged(model, tmp_path):
    """The netstack's own iperf client (iperf.client=, iperf.time=2) to
    `iperf -s` in the namespace: the server reports, the netstack says it
    is done, and over virtio-net lwIP's segments left merged (tx_tso; by
    default), over e1000 one by one. The guest times its 2 s on its own
    clock, which a loaded host slows: the waits are generous, bounded."""
    with Netns("client") as ns:
        ns.add_tap("tap0")
        server = subprocess.Popen(ns.prefix() + ["timeout", "200", "iperf", "-s", "-p", "5001",
                                                 "-f", "k"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            with NetRig(ns, tmp_path, model,
                        netstack_args=f"nic=eth0 eth0.addr={GUEST}/24 eth0.gw={HOST} "
                                      f"iperf.client={HOST} iperf.time=2") as rig:
                m = rig.qemu.wait_for(r"netstack: iperf: client done with 10\.1\.0\.1:5001, "
                                      r"(\d+) bytes", timeout=150)
                assert int(m.group(1)) > 0
                d = rig.stats()
                if model == "virtio-net":
                    assert d["eth0.tx_tso"] > 0, d
                else:
                    assert d["eth0.tx_tso"] == 0, d
        finally:
            stop_process(server)
        out = server.stdout.read()
        rates = re.findall(r"\s(\d+) Kbits/sec", out)
        assert rates and int(rates[-1]) > 0, out


SOAK_RUNS = int(os.environ.get("MICA_SOAK_SEND_RUNS", "0"))


def received_bytes(ns, port):
    """What the namespace's connections on local port have received (ss)."""
    out = subprocess.run(ns.prefix() + ["ss", "-Hti", f"sport = :{port}"],
                         capture_output=True, text=True, timeout=10).stdout
    return sum(int(n) for n in re.findall(r"bytes_received:(\d+)", out))


@pytest.mark.skipif(SOAK_RUNS <= 0, reason="a soak: `make soak-send` (MICA_SOAK_SEND_RUNS=N)")
def test_netstack_sends_soak(tmp_path):
    """`make soak-send`: MICA_SOAK_SEND_RUNS runs, each on a fresh boot, of
    the netstack's own iperf client sending merged segments over
    virtio-net for 3 s (its clock) to `iperf -s` in the namespace. A run
    fails when the server receives nothing for 20 s before the netstack
    says it is done; the console and the server's output are shown."""
    with Netns("soak") as ns:
        ns.add_tap("tap0")
        ns.exec_quiet("ip", "addr", "add", f"{HOST}/24", "dev", "tap0")
        for i in range(SOAK_RUNS):
            server = subprocess.Popen(ns.prefix() + ["timeout", "600", "iperf", "-s", "-p",
                                                     "5001", "-f", "k"],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)
            try:
                with NetRig(ns, tmp_path, "virtio-net", netecho=False, host_addr=False,
                            netstack_args=f"nic=eth0 eth0.addr={GUEST}/24 eth0.gw={HOST} "
                                          f"iperf.client={HOST} iperf.time=3") as rig:
                    rig.qemu.wait_for(r"netstack: eth0 up")
                    got, moved, began = 0, time.monotonic(), time.monotonic()
                    while "netstack: iperf: client done" not in rig.qemu.output():
                        assert "netstack: iperf: aborted" not in rig.qemu.output(), \
                            f"run {i}:\n{rig.qemu.output()}"
                        now = received_bytes(ns, 5001)
                        if now != got:
                            got, moved = now, time.monotonic()
                        assert time.monotonic() - moved < 20 and time.monotonic() - began < 300, \
                            f"run {i}: stalled at {got} bytes received; console:\n" \
                            f"{rig.qemu.output()}"
                        time.sleep(1)
                    print(f"run {i}: {got} bytes received", flush=True)
            finally:
                stop_process(server)
