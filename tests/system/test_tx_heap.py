"""Frames sent by reference from lwIP's heap (docs/netstack.md, "Sending
from lwIP's heap"; proto/netq.h, NETQ_OFFLOAD_TX_HEAP): with the
netstack's dma= room for its heap, the segments lwIP builds go to
the NIC's driver (virtio-net's, e1000's) from where lwIP built them, each
held by a pbuf reference until the driver's tx-done, instead of being
copied into a pool buffer.

For each NIC model, in one boot (its driver, the netstack, netecho for the counters and a
control port, and the POSIX server): a POSIX process (busybox nc) sends
a file of the root filesystem to the namespace, which receives it
byte-identical (sha256) while the interface's tx_by_reference counts its
segments, and nothing stays held afterwards (tx_heap_held 0). Then Debian's
iperf3 on Mica sends (`iperf3 -R`) while the driver is killed: init
restarts it, the netstack takes back every reference the dead driver
held (had one stayed, lwIP could never send that segment again and the
connection would stall), TCP carries on and the test completes, and a
second file transfer is byte-identical again.

In a boot of its own, a driver that loses one frame (its fault
`withhold`: the 100th of lwIP's heap is neither sent nor given back in
tx-done, so TCP must send that segment again) does not stall the
connection: the netstack gives the reference up after 2 s
(tx_heap_given_up), TCP sends the segment again and the file arrives
whole.
"""
import hashlib
import json
import socket
import subprocess
import time

import pytest

from netns import Netns, can_run
from qemu import build_path
from test_net import GUEST, HOST, NetRig

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

SUPERVISED = "restart=on-crash retries=3 heartbeat=250"
FILE = "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"     # 4.6 MiB of the root filesystem
PORT = 7100
# busybox nc sends the file and half-closes at its end (then exits at
# ours); it is tried until the namespace listens, a second apart, twice:
# once for each transfer below.
SEND = (f"'for i in $(busybox seq 1 300); do busybox nc {HOST} {PORT} < {FILE} && break; "
        f"busybox sleep 1; done'")
RUNS = f"busybox sh -c {SEND}\niperf3 -s -1\nbusybox sh -c {SEND}\n"
CLIENT_TIMEOUT = 120


def posix_rig(ns, tmp, model, runs, driver_args=""):
    """The NetRig with the POSIX server running `runs`, up and answering."""
    (tmp / "runs").write_text(runs)
    extra = ("program posix-server priority=90 quota=40960 memory=131072\n"
             "    file rootfs\n    file runs\n    ioports 0x70-0x71\n"
             "    args runfile=runs\n")
    mods = [(build_path("posix-server.elf"), "posix-server"),
            (build_path("posix", "rootfs.cpio"), "rootfs"), (str(tmp / "runs"), "runs")]
    return NetRig(ns, tmp, model, driver=SUPERVISED, driver_args=driver_args, control=True,
                  extra=extra, extra_mods=mods, memory="512M")


def started(r):
    r.qemu.wait_for(r"netstack: eth0 up, 10\.1\.0\.2/24")
    r.qemu.wait_for(r"netecho: echo on TCP and UDP port 7")
    r.files = 0
    return r


@pytest.fixture(scope="module", params=["virtio-net", "e1000"])
def rig(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("txheap")
    with Netns("txheap") as ns, posix_rig(ns, tmp, request.param, RUNS) as r:
        yield started(r)


def receive_file(rig, stall=60):
    """What the next busybox nc sends, received in the namespace until it
    half-closes (bounded in time; what came when nothing more did for
    `stall` seconds). The run list goes on only once it has (rig.files
    counts them)."""
    server = rig.ns.in_ns(lambda: socket.create_server((HOST, PORT)))
    server.settimeout(CLIENT_TIMEOUT)
    try:
        conn, _ = server.accept()
    finally:
        server.close()
    conn.settimeout(stall)
    data = bytearray()
    deadline = time.monotonic() + CLIENT_TIMEOUT
    with conn:
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(1 << 16)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    rig.files += 1
    return bytes(data)


def expected_file():
    with open(build_path("posix", "root") + FILE, "rb") as f:
        return f.read()


def settled(rig):
    """The counters once no frame of lwIP's heap is held by the driver any
    more (an answer or ACK in flight is given back within moments)."""
    for _ in range(20):
        k = rig.stats()
        if k["eth0.tx_heap_held"] == 0:
            return k
        time.sleep(0.5)
    raise AssertionError(f"frames still held by reference: {k}")


def test_posix_process_send_goes_by_reference_byte_identical(rig):
    want = expected_file()
    before = rig.stats()
    got = receive_file(rig)
    assert len(got) == len(want)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest()
    k = settled(rig)
    d = {key: k[key] - before[key] for key in k}
    # Every segment of the file went by reference (merged or not): none
    # was copied into a pool buffer, none was refused.
    assert d["eth0.tx_by_reference"] >= len(want) // 1460, d
    assert d["eth0.bad_desc"] == 0 and d["tcp_chkerr"] == 0, d


def test_driver_killed_while_iperf3_sends_every_reference_back(rig):
    if rig.files == 0:
        receive_file(rig)       # the first test's (not run: -k), before iperf3 starts
    rig.qemu.wait_for(r"^Server listening on 5201", timeout=120)
    before = rig.stats()
    args = ["iperf3", "-J", "-c", GUEST, "-t", "8", "-R", "--connect-timeout", "10000"]
    proc = subprocess.Popen(rig.ns.prefix() + ["timeout", str(CLIENT_TIMEOUT)] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        answer = rig.control("kill eth0")
        out, err = proc.communicate(timeout=CLIENT_TIMEOUT + 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, f"{answer}\n{out}\n{err}\n{rig.qemu.output()[-6000:]}"
    res = json.loads(out)
    assert res["end"]["sum_received"]["bytes"] > 1 << 20, res["end"]
    rig.qemu.wait_for(r"^netstack: eth0 re-attached to a new driver at \d+ ms$", timeout=60)
    k = settled(rig)
    d = {key: k[key] - before[key] for key in k}
    assert d["eth0.driver_restarts"] == 1, d
    assert d["eth0.bufs_reclaimed"] > 0, d
    assert d["eth0.tx_by_reference"] > 0, d
    # And the path works as before through the new driver.
    want = expected_file()
    got = receive_file(rig)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest()
    assert rig.stats()["eth0.tx_by_reference"] - k["eth0.tx_by_reference"] >= len(want) // 1460


def test_driver_withholding_a_tx_done_stalls_no_connection(tmp_path):
    with Netns("txwithhold") as ns, \
            posix_rig(ns, tmp_path, "virtio-net", f"busybox sh -c {SEND}\n", "fault=6") as r:
        started(r)
        want = expected_file()
        start = time.monotonic()
        got = receive_file(r, stall=20)
        took = time.monotonic() - start
        print(f"withheld tx-done: {len(got)} of {len(want)} bytes in {took:.1f} s")
        assert "withheld the frame at heap offset" in r.qemu.output(), r.qemu.output()[-3000:]
        stalled = len(got) != len(want)
        assert not stalled, f"the connection stalled at {len(got)} of {len(want)} bytes behind " \
                            "a withheld tx-done"
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest()
        r.qemu.wait_for(r"netstack: eth0: the driver kept a frame of lwIP's heap .* given up")
        k = r.stats()
        assert k["eth0.tx_heap_given_up"] >= 1, k
