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
import socket
import struct
import subprocess
import threading
import time

import pytest

from netns import Netns, can_run
from qemu import Qemu, build_path, stop_process
from test_net import GUEST, HOST, MODELS, NetRig
from test_offload import echo_byte_identical
from test_router import LAN_HOST, LAN_ROUTER, WAN_HOST, WAN_ROUTER, Iperf3, Router, hosts, run, tcp_transfer

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


def assert_zero_copy_cut(k, v, e):
    """Every segment the netstack cut for eth{e} from eth{v}'s aggregates
    went without copying its payload, unless the aggregate itself had been
    copied out of the pool on its way in (lwIP held its share: rx_copied)."""
    assert k[f"eth{e}.tx_gso_zero_copy"] > 0, k
    if k[f"eth{v}.rx_copied"] == 0:
        assert k[f"eth{e}.tx_gso_zero_copy"] == k[f"eth{e}.tx_gso_segments"], k


@pytest.mark.parametrize("tso", ["on", "off"], ids=lambda t: f"e1000-tso-{t}")
@pytest.mark.parametrize("models", [("virtio-net", "e1000"), ("e1000", "virtio-net")],
                         ids=lambda m: "+".join(m))
def test_virtio_and_e1000_byte_identical_both_ways(models, tso, tmp_path):
    """Aggregates from the virtio-net side leave whole for e1000 to cut
    (its TCP segmentation: tx_tso, zero-copy) or, with txtso=off, are cut
    here without a payload copy: each segment a header buffer and slices
    of the buffers the aggregate arrived in (tx_gso_zero_copy). The other
    way, e1000's frames leave by virtio-net from the buffers they arrived
    in (tx_zero_copy)."""
    lan, wan = hosts()
    v, e = (0, 1) if models[0] == "virtio-net" else (1, 0)
    args = ["", ""]
    args[e] = "" if tso == "on" else "txtso=off"
    with lan, wan, Router(tmp_path, lan, wan, models, driver_args=tuple(args)) as r:
        r.qemu.wait_for(rf"eth{e}: transmit: chains on, segmentation \(TSO\) {tso}")
        both_ways(lan, wan)
        k = r.stats()
        assert k[f"eth{v}.rx_aggregates"] > 0, k
        if tso == "on":
            # Whole, from the buffers they arrived in; only an aggregate
            # lwIP had to copy out of the pool is cut here.
            assert k[f"eth{e}.tx_tso"] >= k[f"eth{v}.rx_aggregates"] * 3 // 4, k
            assert k[f"eth{e}.tx_zero_copy"] >= k[f"eth{e}.tx_tso"], k
            assert k[f"eth{e}.drv_tx_errors"] == 0, k
        else:
            assert k[f"eth{e}.tx_tso"] == 0, k
            assert_zero_copy_cut(k, v, e)
        assert k[f"eth{v}.tx_zero_copy"] > 1000, k
        # Frames waiting in the slower NIC's tx ring are not lwIP's to keep:
        # nothing received was copied out of the pool on the way through.
        assert k["eth0.rx_copied"] + k["eth1.rx_copied"] == 0, k
        # Each segment cut here had its TCP checksum left to e1000 or
        # summed here, and says so.
        assert k[f"eth{e}.tx_csum_offloaded"] + k[f"eth{e}.tx_csum_software"] >= \
            k[f"eth{e}.tx_gso_segments"], k
        assert k["tcp_chkerr"] == 0 and k["ip_chkerr"] == 0, k


def test_copied_segments_without_chains(tmp_path):
    """An e1000 that takes no chains (txsg=off, so no TSO either): the
    netstack cuts the aggregates and copies each segment's payload into a
    buffer of its own, as before netq 5; still byte-identical."""
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, ("virtio-net", "e1000"),
                          driver_args=("", "txsg=off")) as r:
        r.qemu.wait_for(r"eth1: transmit: chains off, segmentation \(TSO\) off")
        sent, received, count = tcp_transfer(lan, wan, 4 << 20)
        assert count == 4 << 20 and received == sent
        k = r.stats()
        assert k["eth0.rx_aggregates"] > 0 and k["eth1.tx_gso_segments"] > 0, k
        assert k["eth1.tx_gso_zero_copy"] == 0 and k["eth1.tx_tso"] == 0, k
        assert k["eth1.tx_csum_offloaded"] + k["eth1.tx_csum_software"] >= \
            k["eth1.tx_gso_segments"], k


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
        assert_zero_copy_cut(k, 0, 1)


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


def test_one_buffer_aggregates_are_cut_into_segments(tmp_path):
    """An aggregate small enough for one pool buffer (the LAN host sends
    segments of 914 bytes, at most two per aggregate: 1882 bytes with
    their headers) is an aggregate all the same: forwarded as segments
    that fit the WAN's MTU 1500, never as one 1868-byte datagram cut into
    IP fragments (the route's MTU is locked, so Linux sends without DF)
    or answered with fragmentation needed."""
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, ("virtio-net", "virtio-net")) as r:
        run(lan, "ip", "link", "set", "h0", "gso_max_segs", "2")
        run(lan, "ip", "route", "replace", "default", "via", LAN_ROUTER, "mtu", "lock", "954")
        sent, received, count = tcp_transfer(lan, wan, 4 << 20)
        assert count == 4 << 20 and received == sent
        k = r.stats()
        assert (k["eth0.fwd_fragmented"], k["eth0.fwd_too_big"]) == (0, 0)
        assert k["eth0.rx_aggregates"] > 0, k
        assert k["eth1.tx_tso"] + k["eth1.tx_gso_segments"] > 0, k


@pytest.mark.parametrize("model,merge", [("virtio-net", ""), ("virtio-net", "merge=off"),
                                         ("e1000", "")],
                         ids=["virtio-net-merge-default", "virtio-net-merge-off", "e1000-merge-default"])
def test_merged_segments_echo_byte_identical(model, merge, tmp_path):
    """By default the netstack's own segments leave merged (tx_tso) and the
    NIC cuts them (virtio-net's host; e1000's TSO); with merge=off each
    leaves alone: 16 MiB of TCP echo come back intact either way."""
    payload = random.Random(17).randbytes(NBYTES)
    with Netns("merge") as ns, NetRig(ns, tmp_path, model,
                                          netstack_args=f"nic=eth0 eth0.addr={GUEST}/24 "
                                                        f"eth0.gw={HOST} {merge}") as rig:
        d = echo_byte_identical(rig, payload)
        if merge:
            assert d["eth0.tx_tso"] == 0, d
        else:
            assert d["eth0.tx_tso"] > 0, d
        # tx_packets counts frames given to the driver, a merged
        # aggregate as one, as the driver counts what it takes (a few
        # may be in tx-ready when either is read).
        assert abs(d["eth0.tx_packets"] - d["eth0.drv_tx_packets"]) <= 8, d



def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def test_hostile_tso_requests_are_refused_by_e1000(tmp_path):
    """A client that lies (txhostile, standing in for a hostile netstack)
    pushes TSO4 frames each wrong in one way, a chain one descriptor too
    long, a good aggregate whose first
    descriptor holds only its headers, a plain frame, and a chain whose end
    never comes: e1000's driver refuses every bad one (tx_errors) and hands
    back every descriptor, and the NIC still sends: the good aggregate
    arrives as three segments with right lengths, IDs, sequence numbers and
    checksums, the plain frame after it; nothing of the bad ones leaves."""
    guest = "525400000001"
    with Netns("txhostile") as ns:
        tap = ns.add_tap("tap0")
        sock = ns.raw_socket(tap)
        manifest = tmp_path / "manifest"
        manifest.write_text("program eth0 dma=64 priority=150 restart=never\n"
                            "    module e1000\n    pci 00:03.0\n    args name=eth0\n"
                            "program txhostile dma=256\n    lookup eth0\n"
                            "    args nic=eth0 dst=020000000001\n")
        mods = [(build_path("init.elf"), "init"), (str(manifest), "manifest"),
                (build_path("drivers", "e1000.elf"), "e1000"),
                (build_path("programs", "txhostile.elf"), "txhostile")]
        args = ["-kernel", build_path("kernel.elf"), "-append", "loglevel=2",
                "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
                "-device", "e1000,netdev=n0,mac=52:54:00:00:00:01,addr=3",
                "-initrd", ",".join(f"{p} {n}" for p, n in mods)]
        try:
            with Qemu(args, name="txhostile", prefix=ns.prefix()) as q:
                q.wait_for(r"^txhostile: done")
                out = q.output()
                bad, total = map(int, re.search(r"pushed (\d+) bad frames, (\d+) descriptors",
                                                out).groups())
                errors, back, pushed = map(int, re.search(
                    r"driver tx_errors (\d+), descriptors back (\d+) of (\d+)", out).groups())
                assert bad == 10 and errors == bad, out
                assert back == pushed == total, out
                frames = []
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and len(frames) < 8:
                    f = sock.recv(deadline - time.monotonic())
                    if f and f[6:12].hex() == guest and f[12:14] == b"\x08\x00":
                        frames.append(f)
        finally:
            sock.close()
    ports = [struct.unpack("!H", f[34:36])[0] for f in frames]
    assert 6666 not in ports, ports
    # QEMU's e1000 sends what it holds at EOP unless that is less than the
    # headers, so an aggregate whose payload is a multiple of the segment
    # size is followed by a segment of headers only (docs/drivers.md).
    empty = [f for f in frames if struct.unpack("!H", f[16:18])[0] == 40 and ports[frames.index(f)] == 7777]
    for f in empty:
        assert struct.unpack("!I", f[38:42])[0] == 0x10000000 + 3000, f[14:54].hex()
    frames = [f for f in frames if f not in empty]
    ports = [struct.unpack("!H", f[34:36])[0] for f in frames]
    assert ports == [7777, 7777, 7777, 7778], ports
    payload = b""
    for k, f in enumerate(frames[:3]):
        ip, tcp = f[14:34], f[34:54]
        assert struct.unpack("!H", ip[2:4])[0] == 1040 and len(f) >= 1054, (k, f[:54].hex())
        assert struct.unpack("!H", ip[4:6])[0] == 0x1234 + k
        assert ones_sum(ip) == 0xFFFF, f"IPv4 checksum of segment {k}"
        assert struct.unpack("!I", tcp[4:8])[0] == 0x10000000 + 1000 * k
        assert bool(tcp[13] & 0x08) == (k == 2), f"PSH on the last segment only ({k})"
        seg = f[34:14 + 1040]
        pseudo = ip[12:20] + struct.pack("!HH", 6, len(seg))
        assert ones_sum(pseudo + seg) == 0xFFFF, f"TCP checksum of segment {k}"
        payload += seg[20:]
    assert payload == bytes((i * 7) & 0xFF for i in range(3000))


def assert_pool_back(rig):
    """Once sending is over, every pool buffer is free or posted for
    receiving again (nothing pinned for sending, nothing kept by lwIP),
    and the receive half is posted whole again (but one: e1000's ring of
    256 holds 255, and rx-free 256 more). Read a few times: the counter
    reads themselves pass through for a moment."""
    for _ in range(10):
        k = rig.stats()
        if k["eth0.bufs_tx"] == 0 and k["eth0.bufs_lwip"] == 0 and \
                k["eth0.bufs_free"] + k["eth0.bufs_rx_posted"] == k["eth0.bufs_total"] and \
                k["eth0.bufs_rx_posted"] >= k["eth0.bufs_total"] // 2 - 1:
            return
        time.sleep(1)
    raise AssertionError(f"pool buffers not back: {k}")


CLIENT_DONE = r"netstack: iperf: client done with 10\.1\.0\.1:5001, (\d+) bytes"


@pytest.mark.parametrize("model", list(MODELS))
def test_netstack_iperf_client_sends_merged(model, tmp_path):
    """The netstack's own iperf client (iperf.client=, iperf.time=8) to
    `iperf -s` in the namespace: the server reports, the netstack says it
    is done, and lwIP's segments left merged (tx_tso, by default) for the
    NIC to cut (virtio-net's host, e1000's TSO), by reference from lwIP's
    heap (tx_by_reference). While it sends, copies for
    sending hold at most their quarter of the pool and received buffers
    are posted again as soon as lwIP lets go of them (without sending's
    own cap the free stack stayed below half the pool, and what was
    received went to the free stack, not back to rx-free: seen draining
    on virtio-net); after, every buffer is back. The
    guest times its 8 s on its own clock, which a loaded host slows: the
    waits are generous, bounded. Counters are read once 1 MiB has
    arrived (with 4 s and 4 MiB the client was done before the first
    read once in CI: the read itself takes a console round trip).
    netecho, which reads them, runs above the netstack here: over e1000
    the netstack and the driver sending never wait now (the netstack's
    round gives the driver its frames when tx-ready fills), so a program
    below them would run only once sending ended."""
    with Netns("client") as ns:
        ns.add_tap("tap0")
        server = subprocess.Popen(ns.prefix() + ["timeout", "300", "iperf", "-s", "-p", "5001",
                                                 "-f", "k"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            with NetRig(ns, tmp_path, model,
                        netstack_args=f"nic=eth0 eth0.addr={GUEST}/24 eth0.gw={HOST} "
                                      f"iperf.client={HOST} iperf.time=8",
                        netecho_priority=110) as rig:
                deadline = time.monotonic() + 150
                while received_bytes(ns, 5001) < 1 << 20 and time.monotonic() < deadline \
                        and not re.search(CLIENT_DONE, rig.qemu.output()):
                    time.sleep(0.2)
                samples = []
                while len(samples) < 3 and not re.search(CLIENT_DONE, rig.qemu.output()):
                    k = rig.stats()
                    if re.search(CLIENT_DONE, rig.qemu.output()):
                        break                   # read after sending ended
                    samples.append(k)
                    time.sleep(0.3)
                assert samples, ("the client was done before a counter read "
                                 f"({received_bytes(ns, 5001)} bytes arrived)",
                                 "\n".join(rig.qemu.output().splitlines()[-40:]))
                print("while sending (tx, rx_posted, free, lwip):",
                      [(k["eth0.bufs_tx"], k["eth0.bufs_rx_posted"], k["eth0.bufs_free"],
                        k["eth0.bufs_lwip"]) for k in samples])
                for k in samples:
                    assert k["eth0.bufs_tx"] <= k["eth0.bufs_total"] // 4
                    # Every received buffer lwIP let go of was posted
                    # again: the receive half is posted or in lwIP's hands
                    # (but one: e1000's ring of 256 holds 255).
                    assert k["eth0.bufs_rx_posted"] + k["eth0.bufs_lwip"] >= \
                        k["eth0.bufs_total"] // 2 - 1
                m = rig.qemu.wait_for(CLIENT_DONE, timeout=150)
                assert int(m.group(1)) > 0
                d = rig.stats()
                assert d["eth0.tx_tso"] > 0, d      # both NICs cut merged segments
                # Its data (a pattern in lwIP's heap, queued by reference)
                # went to the driver by reference, headers and data a
                # chain of the heap, not copied (tx_heap.c; most of it:
                # past TX_HEAP_REFS held a frame is copied), and once
                # sending ended nothing stays held.
                assert d["eth0.tx_by_reference"] > int(m.group(1)) // 1460 // 2, d
                assert_pool_back(rig)
                for _ in range(20):
                    if rig.stats()["eth0.tx_heap_held"] == 0:
                        break
                    time.sleep(0.5)
                assert rig.stats()["eth0.tx_heap_held"] == 0
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


ETH_P_ARP = 0x0806
ROUTER_WAN_MAC = bytes.fromhex("525400000101")   # Router: eth1's mac=52:54:00:00:01:01


@pytest.mark.skipif(not os.environ.get("MICA_SOAK"),
                    reason="five minutes of traffic: run by `make soak-arp`")
def test_arp_refresh_while_forwarding_aggregates(tmp_path):
    """lwIP refreshes the ARP entry of a next hop in use 270 s after
    learning it (ARP_AGE_REREQUEST_USED_UNICAST): a unicast request sent
    from etharp_output just before the datagram that uses it. When that
    datagram is a forwarded aggregate, the request is a frame of its own
    and must go out as one, not be taken for the aggregate (and dropped,
    the entry then lost at 300 s). The WAN host never asks the router
    (a permanent neighbour entry), so nothing else refreshes the router's
    entry; from the LAN host only paced bulk TCP goes out, every data
    frame an aggregate, until the router asks (at most 10 minutes)."""
    lan, wan = hosts()
    with lan, wan, Router(tmp_path, lan, wan, ("virtio-net", "virtio-net")) as r:
        learnt = time.monotonic()       # Router's pings made the entry
        run(wan, "ip", "neigh", "replace", WAN_ROUTER, "lladdr", ROUTER_WAN_MAC.hex(":"),
            "dev", "h1", "nud", "permanent")
        wan_mac = bytes.fromhex(re.search(r"link/ether ([0-9a-f:]+)",
                                          run(wan, "ip", "link", "show", "h1").stdout)
                                .group(1).replace(":", ""))
        sniffer = wan.in_ns(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                                  socket.htons(ETH_P_ARP)))
        sniffer.bind(("h1", 0))
        sniffer.settimeout(1)
        seen, stop = [], threading.Event()

        def sniff():
            while not stop.is_set():
                try:
                    f = sniffer.recv(128)
                except socket.timeout:
                    continue
                if len(f) >= 42 and f[6:12] == ROUTER_WAN_MAC:
                    seen.append((round(time.monotonic() - learnt), f[:6].hex(),
                                 struct.unpack("!H", f[20:22])[0]))

        listener = wan.in_ns(lambda: socket.create_server((WAN_HOST, 5557)))
        listener.settimeout(60)

        def receive():
            c, _ = listener.accept()
            c.settimeout(60)
            while c.recv(1 << 20):
                pass
            c.close()

        threads = [threading.Thread(target=sniff), threading.Thread(target=receive)]
        for t in threads:
            t.start()
        try:
            s = lan.in_ns(lambda: socket.create_connection((WAN_HOST, 5557), timeout=30))
            s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_MAX_PACING_RATE", 47), 1 << 20)
            block = bytes(1 << 16)
            # Until the router asks for the WAN host's address again: 270
            # s of the guest's clock, which may lag the host's under load.
            while not seen and time.monotonic() - learnt < 600:
                s.sendall(block)
            s.close()
        finally:
            threads[1].join(timeout=90)
            stop.set()
            threads[0].join(timeout=10)
            listener.close()
            sniffer.close()
        k = r.stats()
        assert k["eth0.rx_aggregates"] > 1000, k
        # The first ARP frame from the router is that refresh, a request
        # to the WAN host itself. (Taken for the aggregate, no refresh
        # left at all, and in a run of 600 s nothing else did either.)
        assert seen and seen[0][1:] == (wan_mac.hex(), 1), seen
