"""A hostile host against the appliance's servers rather than its stack:
the netstack's iperf server, netecho's echo, init's name service and the
netstack's calls to its drivers (issue 15's review of the servers). Each
test replays what was found, checks the behaviour it must have now
(docs/netstack.md, docs/manifest.md) and then that the appliance is healthy
(test_hostile.assert_healthy).
"""
import re
import socket
import subprocess
import time

import pytest

from netns import can_run
from test_hostile import Rig, assert_healthy
from test_net import GUEST, HOST

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

HOGS = ["10.1.0.21", "10.1.0.22", "10.1.0.23", "10.1.0.24"]


def hog_connections(ns, sources):
    """One TCP connection to the iperf server per source address (from
    the namespace), each sent one byte; [(source, socket)]."""
    def make(src):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.settimeout(10)
        s.connect((GUEST, 5001))
        s.send(b"x")
        return s
    return [(src, ns.in_ns(lambda: make(src))) for src in sources]


def was_reset(s):
    """Whether the guest reset s (the iperf server sends nothing else)."""
    s.settimeout(0.05)
    try:
        return s.recv(16) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def trickle(hogs, alive):
    """One byte on every hog connection still alive."""
    for i, (_, s) in enumerate(hogs):
        if alive[i]:
            try:
                s.send(b"x")
            except OSError:
                alive[i] = False


def test_iperf_slots_cannot_be_hogged(tmp_path):
    """Finding 1: one host opening the iperf server's 8 test slots and
    sending a byte every 2 s on each held them all (the idle timeout never
    fired) and every other client was refused. Now one host gets at most
    2 (more are reset after their handshake), a newcomer when all are
    taken ends the least active test, and a test moving under 8 KiB in
    10 s is ended."""
    with Rig(tmp_path, "iperfhog") as t:
        ns = t.ns
        for src in HOGS:
            ns.exec_quiet("ip", "addr", "add", f"{src}/24", "dev", "tap0")
        hogs = hog_connections(ns, [HOGS[0]] * 8 + [src for src in HOGS[1:] for _ in range(2)])
        alive = [True] * len(hogs)
        iperf = subprocess.Popen(ns.prefix() + ["iperf", "-c", GUEST, "-t", "3", "-f", "k"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            while iperf.poll() is None and time.monotonic() < deadline:
                time.sleep(2)
                trickle(hogs, alive)
            out, _ = iperf.communicate(timeout=30)
        finally:
            if iperf.poll() is None:
                iperf.kill()
                iperf.wait()
        console = t.rig.qemu.output()
        assert iperf.returncode == 0, (out, console)
        rates = re.findall(r"([\d.]+) Kbits/sec", out)
        assert rates and float(rates[-1]) > 0, (out, console)
        t.rig.qemu.wait_for(rf"^netstack: iperf: server done with {re.escape(HOST)}:\d+, "
                            r"\d+ bytes", timeout=30)
        # Six of the first host's eight were reset after their handshake,
        # and one test of the eight that held the slots made room.
        resets = [src for src, s in hogs if was_reset(s)]
        assert resets.count(HOGS[0]) in (6, 7) and len(resets) == 7, (resets, console)
        assert len(re.findall(rf"^netstack: iperf: refused a test from {HOGS[0]} \(reset\): "
                              r"it has 2 already", console, re.M)) == 6, console
        evicted = re.findall(r"^netstack: iperf: aborted here \(the least active test, for a "
                             r"newcomer\) with (10\.1\.0\.2\d):", console, re.M)
        assert len(evicted) == 1, console
        # The trickle goes on: each of the seven left is ended within a
        # period or two of 10 s (it moves a few bytes, under 8 KiB).
        alive = [not was_reset(s) for _, s in hogs]
        assert sum(alive) == 7, alive
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            ended = re.findall(r"^netstack: iperf: aborted here \(\d+ B in 10 s, under 8 KiB\) "
                               r"with (10\.1\.0\.2\d):", t.rig.qemu.output(), re.M)
            if len(ended) == 7:
                break
            time.sleep(2)
            trickle(hogs, alive)
        assert sorted(ended) == sorted(src for (src, _), a in zip(hogs, alive) if a), \
            t.rig.qemu.output()
        for _, s in hogs:
            s.close()
        assert_healthy(t.rig)
