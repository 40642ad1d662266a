"""A socket client that dies: the netstack notices (the notification the
session was opened with dies with the client's task) and ends its session:
connections end, listening ports are free again, and the management
counters say so (sock_sessions, sock_clients_died)."""
import re
import time

import pytest

from netns import Netns, can_run
from test_net import NetRig

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

NETECHO_SESSIONS = 5    # tcp-echo, udp-echo, tcp-client, stats, control


def console(rig, line, expect, timeout=60):
    mark = rig.qemu.mark()
    rig.qemu.send(line)
    return rig.qemu.wait_for(expect, timeout=timeout, since=mark)


def test_killed_client_sockets_are_freed(tmp_path):
    with Netns("sockdeath") as ns, NetRig(ns, tmp_path, "e1000", console=True) as rig:
        q = rig.qemu
        q.wait_for(r"^netecho: echo on TCP and UDP port 7")
        q.wait_for(r"^console: ready")
        before = rig.stats()
        assert before["sock_sessions"] == NETECHO_SESSIONS, before
        assert before["sock_clients_died"] == 0, before
        # A connection netecho serves, beside its listening sockets.
        s = rig.connect(7)
        s.sendall(b"hello")
        s.settimeout(30)
        assert s.recv(16) == b"hello"
        console(rig, "kill netecho", r"^init: netecho killed at \d+ ms; restart=never, left down$")
        # The connection ends (a FIN or a reset), without the host closing it.
        try:
            assert s.recv(16) == b""
        except ConnectionResetError:
            pass
        s.close()
        time.sleep(1)       # every session is looked at each 250 ms
        # Its ports are free: a new instance listens on them again.
        mark = q.mark()
        q.send("start netecho")
        q.wait_for(r"^netecho: echo on TCP and UDP port 7", since=mark)
        assert not re.search(r"^netecho: .*error", "\n".join(q.output().splitlines()[mark:]),
                             re.M), q.output()
        after = rig.stats()
        assert after["sock_sessions"] == NETECHO_SESSIONS, after
        assert after["sock_clients_died"] == NETECHO_SESSIONS, after
        s = rig.connect(7)
        s.sendall(b"again")
        s.settimeout(30)
        assert s.recv(16) == b"again"
        s.close()
