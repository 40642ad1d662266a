"""The netstack's read-only management capability (NETMGMT_RO_NAME,
docs/netmgmt.md), the one the POSIX server holds: tests/programs/
mgmtro.c reads through it, and every change it asks (a route added or
removed, the firewall reloaded, the connection table flushed) is refused
with ERR_NO_RIGHTS, while the same requests through the full capability
are answered as their arguments deserve. No NIC is needed."""
import re

from qemu import boot_init, build_path

ERR_NO_RIGHTS = 3
CHANGES = ["route add", "route del", "fw reload", "ct flush"]


def test_the_full_management_capability_needs_the_manifests_line(tmp_path):
    """netmgmt (routes, the firewall's rules, the connection table) is a
    private name: a program without `lookup netmgmt` is refused it, and
    init says why (netmgmt-ro stays for everybody)."""
    text = ("program netstack dma=4096 priority=100 restart=never\n"
            "    args nic=eth0 eth0.addr=10.9.0.2/24 iperf=off\n"
            "program mgmtro priority=90 restart=never\n")
    q = boot_init(tmp_path, text, [(build_path("netstack.elf"), "netstack"),
                                   (build_path("programs", "mgmtro.elf"), "mgmtro")], "mgmtro")
    with q:
        q.wait_for(r"^mgmtro: netmgmt refused: capability lacks a needed right$", timeout=120)
        assert re.search(r"^init: mgmtro may not look up the private name 'netmgmt'",
                         q.output(), re.M), q.output()


def test_read_only_management_badge_refuses_changes(tmp_path):
    text = ("program netstack dma=4096 priority=100 restart=never\n"
            "    args nic=eth0 eth0.addr=10.9.0.2/24 iperf=off\n"
            "program mgmtro priority=90 restart=never\n    lookup netmgmt\n")
    q = boot_init(tmp_path, text, [(build_path("netstack.elf"), "netstack"),
                                   (build_path("programs", "mgmtro.elf"), "mgmtro")], "mgmtro")
    with q:
        q.wait_for(r"^mgmtro: done$", timeout=120)
        out = q.output()
    got = {(m.group(1), m.group(2)): int(m.group(3))
           for m in re.finditer(r"^mgmtro: (ro|full) ([a-z ]+): error (\d+)$", out, re.M)}
    for what in ("if info", "arp", "proto stats"):
        assert got[("ro", what)] == 0, out
    for what in CHANGES:
        assert got[("ro", what)] == ERR_NO_RIGHTS, out
        assert got[("full", what)] != ERR_NO_RIGHTS, out
    assert got[("full", "ct flush")] == 0, out
