"""bench/net_rig.py's wait before a benchmark's first connection
(wait_answering): it returns once the guest answers, not after a fixed
pause, so a connect made right after it is not refused for an unresolved
address ("No route to host", the first `iperf3 -R` after a boot on a
loaded host); and it gives up in its time when nothing answers. Then the
placement of QEMU's threads on the host's CPUs (MICA_BENCH_PIN's modes,
net_rig.pin_threads) and bench/qemu_sched.py's figures for the virtual
CPU's thread, which it tells by name. One Mica guest (the NIC driver and
the netstack, as bench/run_net.py boots it) in a namespace of the test's
own."""
import os
import re
import socket
import sys
import time

import pytest

from netns import Netns, can_run

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import net_rig  # noqa: E402
import run_net  # noqa: E402

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")


def placement(pid):
    """{comm: set of CPUs} of QEMU's threads, every thread of a name alike."""
    out = {}
    for tid, name in net_rig.thread_names(pid).items():
        out.setdefault(name, set()).update(os.sched_getaffinity(tid))
    return out


def check_placement(pid, mode):
    """QEMU's threads are where mode puts them: the virtual CPU's thread
    (and, for "all", every other) on VCPU_CPU; for "vcpu" the others on
    OTHER_CPU, for "vcpu-free" and "none" on every CPU."""
    every = set(os.sched_getaffinity(0))
    vcpu_cpus = net_rig.VCPU_CPU if mode != "none" else every
    others = {"all": net_rig.VCPU_CPU, "vcpu": net_rig.OTHER_CPU}.get(mode, every)
    got = placement(pid)
    vcpus = [n for n in got if re.match(r"^CPU \d+/TCG$", n)]
    assert vcpus, got
    for name, cpus in got.items():
        assert cpus == (vcpu_cpus if name in vcpus else others), (mode, got)


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
            qemu.transfer_began = time.time()
            s = ns.in_ns(lambda: socket.create_connection((net_rig.GUEST_ADDR, run_net.PORT),
                                                          timeout=10))
            # 16 MiB to the guest (tens of ms of its virtual CPU's time,
            # several samples: one MiB was seen to fit in two samples and
            # less than a ms of CPU on a loaded host), which closes once
            # it has read it all.
            s.sendall(bytes(16 << 20))
            s.shutdown(socket.SHUT_WR)
            s.settimeout(60)
            while s.recv(4096):
                pass
            s.close()
            # The sampler (every 20 ms) has seen the transfer's end.
            ended = time.time()
            deadline = time.monotonic() + 10
            while (not any(t > ended for t, _ in qemu.sched.samples)
                   and time.monotonic() < deadline):
                time.sleep(0.05)
            # Placed as the bench's mode says (the default unless
            # MICA_BENCH_PIN is set), and moved as each other mode says.
            if len(os.sched_getaffinity(0)) >= 2:
                check_placement(qemu.proc.pid, net_rig.PIN)
                assert net_rig.pinning()["mode"] == net_rig.PIN
                for mode in ("vcpu", "vcpu-free"):
                    net_rig.pin_threads(qemu.proc.pid, mode)
                    check_placement(qemu.proc.pid, mode)
        finally:
            sched = run_net.stop_guest(qemu)
        # 16 MiB received: the virtual CPU's thread ran, and the sampler
        # told it from QEMU's other threads by its name.
        assert sched and sched["vcpu_on_cpu_ms"] > 0, sched
        assert sched["on_cpu_ms"] >= sched["vcpu_on_cpu_ms"], sched
