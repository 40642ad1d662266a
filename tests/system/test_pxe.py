"""Network boot from a real DHCP/TFTP server, as the router will boot:
dnsmasq in a namespace serves the tree `make tftp` builds; QEMU's NIC ROM
(iPXE) gets its address and boot.ipxe from it and fetches the kernel and
the modules by TFTP; the appliance then gets its address by DHCP from the
same dnsmasq and answers ping. QEMU has no user network, so dnsmasq is the
only way to the files. Each test runs for e1000 and for virtio-net.
`make pxe-run NET=tap`, the same through make, is in test_workflow.py.
"""
import os
import re
import subprocess

import pytest

from netns import Dnsmasq, Netns, can_run
from qemu import Qemu, build_path, module_files

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

HOST = "10.1.0.1"
GUEST = "10.1.0.2"
GUEST_MAC = "52:54:00:00:00:01"

MODELS = {
    "e1000": "e1000",
    "virtio-net": "virtio-net-pci,disable-legacy=on",
}


@pytest.fixture(params=sorted(MODELS))
def model(request):
    return request.param


def netns_exists(name):
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return name in [line.split()[0] for line in out.splitlines() if line.strip()]


def test_pxe_boot_from_dnsmasq(model, tmp_path):
    """iPXE's DHCP and every file from dnsmasq on the tap; the appliance's
    DHCP lease from it too (its fixed address for the NIC's MAC); ping;
    dnsmasq and the namespace gone afterwards."""
    tftp = os.path.dirname(build_path("tftp", "boot.ipxe"))
    with open(os.path.join(tftp, "manifest")) as f:
        assert re.search(r"\beth0\.addr=dhcp\b", f.read()), \
            f"{tftp}/manifest does not ask DHCP (built with NET=tap?): run make tftp"
    files = ["boot.ipxe", "kernel"] + [name for name, _ in module_files()]

    with Netns("pxe") as ns:
        ns.add_tap("tap0")
        ns.exec_quiet("ip", "addr", "add", f"{HOST}/24", "dev", "tap0")
        args = ["-boot", "n",
                "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
                "-device", f"{MODELS[model]},netdev=n0,mac={GUEST_MAC}"]
        q = Qemu(args, name=f"pxe-dnsmasq-{model}", prefix=ns.prefix())
        assert not any(a.startswith("user") or "tftp=" in a for a in q.cmd), q.cmd
        with Dnsmasq(ns, "tap0", tmp_path, "10.1.0.100,10.1.0.199,255.255.255.0,1h",
                     hosts=[(GUEST_MAC, GUEST)], tftp_root=tftp) as dnsmasq, q:
            q.wait_for(r"boot: loaded by iPXE")
            q.wait_for(rf'boot: command line "tftp://{re.escape(HOST)}/kernel ')
            for name, _ in module_files():
                q.wait_for(rf'boot:   module \d+: {name} at .*"tftp://{re.escape(HOST)}/{name} '
                           rf'{name}"')
            q.wait_for(rf"^netstack: eth0 up, {re.escape(GUEST)}/24 \(dhcp\)$", timeout=60)
            r = subprocess.run(ns.prefix() + ["ping", "-c", "3", "-i", "0.2", "-W", "5", GUEST],
                               capture_output=True, text=True, timeout=60)
            assert " 0% packet loss" in r.stdout, f"{r.stdout}{r.stderr}\n{q.output()}"

            log = dnsmasq.log()
            for name in files:
                assert f"sent {tftp}/{name} to {GUEST}" in log, \
                    f"dnsmasq did not send {name}:\n{log}"
            # iPXE's exchange (tagged ipxe) was given the boot file; the
            # appliance's (lwIP names itself mica) got the same address.
            assert re.search(r"tags: known, ipxe, tap0", log), log
            assert re.search(r"option: 67 bootfile-name +boot\.ipxe", log), log
            assert f"DHCPACK(tap0) {GUEST} {GUEST_MAC} mica" in log, log
            assert re.search(rf"^\d+ {GUEST_MAC} {re.escape(GUEST)} mica ", dnsmasq.leases(),
                             re.M), dnsmasq.leases()
        assert dnsmasq.proc.poll() is not None
        assert q.proc.poll() is not None
    assert not netns_exists(ns.name)
