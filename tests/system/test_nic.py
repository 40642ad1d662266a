"""NIC drivers with the reflector, over tap devices in a test namespace.

Frames go from a raw socket in the namespace through the tap into QEMU's
NIC, through the user-level driver to the reflector and back; they must
come back byte-identical with the addresses swapped. Counters are read
over the wire (a statistics request frame the reflector answers).
"""
import random
import re
import struct
import time

import pytest

from netns import Netns, can_run
from qemu import Qemu, build_path

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

TEST_TYPE = 0x88B5            # local experimental EtherType
STATS_TYPE = 0x88B6           # the reflector's statistics request
HOST_MAC = bytes.fromhex("020000000001")

NICS = {
    # model: (QEMU device, manifest module)
    "e1000": ("e1000", "e1000"),
    "virtio-net": ("virtio-net-pci,disable-legacy=on", "virtio-net"),
}


def guest_mac(i):
    return bytes.fromhex(f"5254000000{i + 1:02x}")


class Rig:
    """QEMU with NICs on taps in one namespace, running drivers and the
    reflector; one raw socket per tap."""

    def __init__(self, ns, tmp_path, models, mtu=1500, txqueuelen=1000, driver_args=None,
                 reflector_per_nic=False):
        self.ns = ns
        self.models = models
        self.socks = []
        manifest = []
        args = ["-kernel", build_path("kernel.elf"), "-append", "loglevel=2"]
        for i, model in enumerate(models):
            device, module = NICS[model]
            tap = ns.add_tap(f"tap{i}", mtu=mtu, txqueuelen=txqueuelen)
            mac = ":".join(f"{b:02x}" for b in guest_mac(i))
            args += ["-netdev", f"tap,id=n{i},ifname={tap},script=no,downscript=no",
                     "-device", f"{device},netdev=n{i},mac={mac},addr={3 + i}"]
            extra = (driver_args or {}).get(i, "")
            manifest.append(f"program eth{i} dma=64 priority=150 restart=never\n"
                            f"    module {module}\n    pci 00:{3 + i:02x}.0\n"
                            f"    args name=eth{i} {extra}\n")
        if reflector_per_nic:
            for i in range(len(models)):
                manifest.append(f"program refl{i} dma=2048\n    module reflector\n"
                                f"    lookup eth{i}\n    args nic=eth{i}\n")
        else:
            nics = ",".join(f"eth{i}" for i in range(len(models)))
            manifest.append(f"program reflector dma={2048 * len(models)}\n" +
                            "".join(f"    lookup eth{i}\n" for i in range(len(models))) +
                            f"    args nic={nics}\n")
        self.ready = r"^reflector: reflecting on" if not reflector_per_nic else None
        path = tmp_path / "manifest"
        path.write_text("".join(manifest))
        mods = [(build_path("init.elf"), "init"), (str(path), "manifest"),
                (build_path("drivers", "e1000.elf"), "e1000"),
                (build_path("drivers", "virtio-net.elf"), "virtio-net"),
                (build_path("programs", "reflector.elf"), "reflector")]
        args += ["-initrd", ",".join(f"{p} {n}" for p, n in mods)]
        self.qemu = Qemu(args, name="-".join(models), prefix=ns.prefix())

    def __enter__(self):
        self.qemu.start()
        try:
            if self.ready:
                self.qemu.wait_for(self.ready)
            for tap in self.ns.taps:
                self.socks.append(self.ns.raw_socket(tap))
        except BaseException:
            self.qemu.stop()
            raise
        return self

    def __exit__(self, *exc):
        for s in self.socks:
            s.close()
        self.qemu.stop()

    def stats(self, i, timeout=30):
        """The reflector's and driver's counters for interface i."""
        sock = self.socks[i]
        req = guest_mac(i) + HOST_MAC + struct.pack("!H", STATS_TYPE) + b"\0" * 46
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.send(req)
            end = time.monotonic() + 3
            while time.monotonic() < end:
                f = sock.recv(end - time.monotonic())
                if f and f[12:14] == struct.pack("!H", STATS_TYPE) and f[6:12] == guest_mac(i):
                    text = f[14:].split(b"\n")[0].decode()
                    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", text)}
        raise AssertionError(f"no statistics from eth{i}; console:\n{self.qemu.output()}")


def make_frame(i, seq, size, src=HOST_MAC):
    head = guest_mac(i) + src + struct.pack("!HI", TEST_TYPE, seq)
    rnd = random.Random(seq)
    return head + bytes(rnd.getrandbits(8) for _ in range(size - len(head)))


def expected_reflection(frame):
    return frame[6:12] + frame[0:6] + frame[12:]


def exchange(rig, i, sizes, window=16, timeout=60):
    """Send frames of the given sizes on interface i, at most `window` in
    flight; return {seq: reflected frame}."""
    sock = rig.socks[i]
    sent, got = {}, {}
    seq = 0
    deadline = time.monotonic() + timeout
    while len(got) < len(sizes) and time.monotonic() < deadline:
        while seq < len(sizes) and seq - len(got) < window:
            sent[seq] = make_frame(i, seq, sizes[seq])
            sock.send(sent[seq])
            seq += 1
        f = sock.recv(2.0)
        if f is None:
            # Nothing for a while: resend whatever is missing (bounded by
            # the deadline).
            for s in sent:
                if s not in got:
                    sock.send(sent[s])
            continue
        if f[12:14] == struct.pack("!H", TEST_TYPE):
            s = struct.unpack("!I", f[14:18])[0]
            if s in sent:
                got.setdefault(s, f)
    return sent, got


def sweep(n):
    """n sizes from 60 to 1514, both ends included, shuffled."""
    sizes = [60 + (1514 - 60) * k // (n - 1) for k in range(n)]
    random.Random(n).shuffle(sizes)
    return sizes


@pytest.mark.parametrize("model", ["e1000", "virtio-net"])
def test_reflector_returns_every_frame(model, tmp_path):
    with Netns(model) as ns, Rig(ns, tmp_path, [model]) as rig:
        before = rig.stats(0)
        sizes = sweep(300)
        sent, got = exchange(rig, 0, sizes)
        assert len(got) == len(sent), f"{len(sent) - len(got)} of {len(sent)} frames lost"
        for s, frame in sent.items():
            assert got[s] == expected_reflection(frame), f"frame {s} ({len(frame)} bytes) differs"
        after = rig.stats(0)
        n = len(sizes) + 1             # and the second statistics request
        # Resends (after a loss) would make these larger; none were needed
        # if every counter moved by exactly n.
        assert after["rx"] - before["rx"] == n
        assert after["reflected"] - before["reflected"] == n
        assert after["drv_rx"] - before["drv_rx"] == n
        assert after["drv_tx"] - before["drv_tx"] == n
        assert after["drv_rx_bytes"] - before["drv_rx_bytes"] == sum(sizes) + 60
        assert after["malformed"] == before["malformed"] == 0
        assert after["drv_interrupts"] > before["drv_interrupts"]
        assert after["drv_link"] == 1


def test_two_nics_at_once(tmp_path):
    """An e1000 and a virtio-net, each on its own tap, served together."""
    import threading
    with Netns("two") as ns, Rig(ns, tmp_path, ["e1000", "virtio-net"]) as rig:
        results = {}

        def run(i):
            results[i] = exchange(rig, i, sweep(200))
        threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i in (0, 1):
            sent, got = results[i]
            assert len(got) == len(sent), f"eth{i}: {len(sent) - len(got)} frames lost"
            assert all(got[s] == expected_reflection(f) for s, f in sent.items())
            st = rig.stats(i)
            assert st["drv_rx"] >= len(sent) and st["drv_link"] == 1


@pytest.mark.parametrize("model", ["e1000", "virtio-net"])
def test_bad_frames_and_overrun_are_dropped_and_counted(model, tmp_path):
    with Netns(model) as ns, Rig(ns, tmp_path, [model], mtu=9000, txqueuelen=200) as rig:
        sock = rig.socks[0]
        before = rig.stats(0)
        # A group address as source: the reflector must not send it back.
        for k in range(20):
            sock.send(make_frame(0, 100000 + k, 100, src=bytes.fromhex("030000000001")))
        # Longer than 1518 bytes but within a 2 KiB buffer: the driver (or
        # the NIC's own counter) sees and drops them.
        for size in [1519, 1600, 2000] * 5:
            sock.send(make_frame(0, 200000 + size, size))
        # Far too long: dropped by the NIC model itself.
        for size in [4000, 9000] * 3:
            sock.send(make_frame(0, 300000 + size, size))
        after = rig.stats(0)
        assert after["malformed"] - before["malformed"] == 20
        assert after["drv_rx_oversize"] - before["drv_rx_oversize"] >= 15
        # Nothing of that came back.
        while (f := sock.recv(0.5)) is not None:
            assert f[12:14] != struct.pack("!H", TEST_TYPE), "a bad frame was reflected"

        # A bounded flood, far faster than TCG can take it.
        tap_before = ns.link_stats("tap0")["tx"]["dropped"]
        sock.drops()
        n = 4000
        flood = [make_frame(0, 400000 + k, 60) for k in range(n)]
        for f in flood:
            sock.send(f)
        back = set()
        while (f := sock.recv(3.0)) is not None:
            if f[12:14] == struct.pack("!H", TEST_TYPE):
                back.add(struct.unpack("!I", f[14:18])[0])
        st = rig.stats(0)
        tap_dropped = ns.link_stats("tap0")["tx"]["dropped"] - tap_before
        mica_dropped = (st["drv_rx_no_buffer"] - after["drv_rx_no_buffer"]
                        + st["no_room"] - after["no_room"])
        sock_dropped = sock.drops()
        print(f"flood: {n} sent, {len(back)} reflected, {tap_dropped} dropped by the tap, "
              f"{mica_dropped} counted by Mica, {sock_dropped} by our socket")
        assert len(back) < n, "the flood did not overrun anything"
        assert len(back) + tap_dropped + mica_dropped + sock_dropped == n

        # And it still works.
        sent, got = exchange(rig, 0, sweep(50))
        assert len(got) == len(sent)
        assert all(got[s] == expected_reflection(f) for s, f in sent.items())


@pytest.mark.parametrize("fault,report", [
    (1, r"^init: eth0: page fault at [0-9a-f]+ \(ip [0-9a-f]+, write\) refused$"),   # past its BAR
    (2, r"^init: eth0: exception 13 at ip [0-9a-f]+$"),           # an I/O port not given
    (3, r"^init: eth0: page fault at ffffffff80100000 "),         # kernel memory
])
def test_driver_fault_hits_only_the_driver(fault, report, tmp_path):
    """A driver that touches what it was not given dies alone: the other
    NIC, its driver and its reflector carry on."""
    with Netns(f"fault{fault}") as ns, \
            Rig(ns, tmp_path, ["e1000", "virtio-net"], driver_args={0: f"fault={fault}"},
                reflector_per_nic=True) as rig:
        rig.qemu.wait_for(report)
        rig.qemu.wait_for(r"^init: eth0 crashed at \d+ ms; restart=never, left down$")
        rig.qemu.wait_for(r"^reflector: eth1 attached")
        sent, got = exchange(rig, 1, sweep(100))
        assert len(got) == len(sent)
        assert all(got[s] == expected_reflection(f) for s, f in sent.items())
        assert "panic" not in rig.qemu.output()


@pytest.mark.parametrize("model", ["e1000", "virtio-net"])
def test_driver_corrupting_the_rings_is_survived(model, tmp_path):
    """A driver that pushes wrong descriptors (outside the pool, misaligned,
    bad lengths, buffers it does not own) to rx-ready and tx-done, then goes
    on working: the client refuses every one, and frames still flow."""
    with Netns(f"corrupt-{model}") as ns, \
            Rig(ns, tmp_path, [model], driver_args={0: "fault=5"}) as rig:
        m = rig.qemu.wait_for(r"^eth0: pushed (\d+) bad descriptors to rx-ready, (\d+) to tx-done$")
        pushed = int(m.group(1)) + int(m.group(2))
        # 20 kinds of wrong, then 8 frames in buffers the driver does not hold.
        assert int(m.group(1)) == int(m.group(2)) == 28
        sent, got = exchange(rig, 0, sweep(100))
        assert len(got) == len(sent), f"{len(sent) - len(got)} of {len(sent)} frames lost"
        assert all(got[s] == expected_reflection(f) for s, f in sent.items())
        st = rig.stats(0)
        assert st["bad_desc"] == pushed, (st, rig.qemu.output())
        assert st["rx"] == st["drv_rx"] and st["malformed"] == 0
        assert "panic" not in rig.qemu.output()


def test_virtio_msix_queue_vector_refused_falls_back_to_intx(tmp_path):
    """A device that reads a queue's MSI-X vector back as NO_VECTOR (it
    could not take it: virtio 1.x, 4.1.5.1.2) leaves the driver on INTx,
    with MSI-X given back, and frames go both ways. The test hook
    msixbadvector=on gives the queues a vector past QEMU's table, which
    QEMU's model refuses so."""
    with Netns("msixnv") as ns, Rig(ns, tmp_path, ["virtio-net"],
                                    driver_args={0: "msixbadvector=on"}) as rig:
        out = rig.qemu.output()
        assert re.search(r"^eth0: MSI-X: the device reads a vector back as NO_VECTOR; "
                         r"INTx instead$", out, re.M), out
        before = rig.stats(0)
        sent, got = exchange(rig, 0, sweep(50))
        assert len(got) == len(sent)
        for seq, frame in sent.items():
            assert got[seq] == expected_reflection(frame)
        assert rig.stats(0)["drv_interrupts"] > before["drv_interrupts"]


@pytest.mark.parametrize("msix", ["on", "off"])
def test_virtio_interrupts_by_msix_or_intx(msix, tmp_path):
    """virtio-net takes its interrupts by MSI-X (two vectors, no ISR read)
    unless the manifest says msix=off: then by its INTx line. Frames go
    both ways either way, and interrupts come."""
    args = {0: "msix=off"} if msix == "off" else None
    with Netns("msix") as ns, Rig(ns, tmp_path, ["virtio-net"], driver_args=args) as rig:
        out = rig.qemu.output()
        if msix == "on":
            assert re.search(r"eth0: virtio-net at .*, msi-x 2 from vector 0x[0-9a-f]+, checksum", out), out
        else:
            assert re.search(r"eth0: virtio-net at .*, irq \d+, checksum", out), out
        assert "MSI-X:" not in out, out
        before = rig.stats(0)
        sizes = sweep(100)
        sent, got = exchange(rig, 0, sizes)
        assert len(got) == len(sent)
        for s, frame in sent.items():
            assert got[s] == expected_reflection(frame)
        after = rig.stats(0)
        assert after["drv_interrupts"] > before["drv_interrupts"]
        assert after["drv_link"] == 1
