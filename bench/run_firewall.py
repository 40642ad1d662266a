#!/usr/bin/python3
"""The firewall through the router: Mica beside a Linux router with
nftables, side by side in one run (docs/benchmarks.md). Runs as root.

The namespaces of tests/system/test_router.py: a LAN host (192.168.10.2),
a WAN host (10.99.0.2) and the router (QEMU, `-machine pc -cpu max -m
256M`, TCG, one vCPU; lan on an e1000, wan on a virtio-net). The Mica
router is the kernel, init, both drivers and the netstack with an
appliance configuration; the Linux router is Debian 12's kernel with
`nft` (bench/linux-router.py), the same rules written for nftables. Rule
sets:

  route        no rules: forwarding alone
  masq50       masquerade on wan and 50 filter rules (48 that never match,
               then `ct state established,related accept`, then lan to wan)
  rules-N      N rules that never match before the `ct state` rule, so
               every packet is compared with all of them (N = 10, 100, 1000)

For each: iperf 2 TCP from the LAN host to the WAN host (Mbit/s, the WAN
host's count), 64-byte UDP datagrams (iperf -u -l 64; datagrams/s the WAN
host received), and with masq50 new TCP connections a second through NAT
(connect, close, CONN_SECONDS). The per-packet cost of N rules is
1/rate(rules-N) - 1/rate(route) for the 64-byte datagrams, in µs.

Writes build/bench/firewall.md and build/bench/firewall.json. Never fails:
what does not complete is reported as such.
"""
import gzip
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from netns import can_run                                    # noqa: E402
from qemu import Qemu                                        # noqa: E402
from net_rig import IPERF_PIN                                # noqa: E402
from run_net import Background                               # noqa: E402
from test_firewall import IFACES, FirewallRouter, Server     # noqa: E402
from report import FIREWALL_SETS, firewall_cost_us, md_firewall_table  # noqa: E402
from test_router import LAN_HOST, LAN_ROUTER, MODELS, WAN_HOST, WAN_ROUTER, Router, \
    hosts, run                                                # noqa: E402

SECONDS = int(os.environ.get("MICA_BENCH_FW_SECONDS", "8"))
CONN_SECONDS = 5
RULE_COUNTS = (10, 100, 1000)
UDP_REPORT = re.compile(r"\]\s+[\d.]+-\s*([\d.]+) sec\s+\d+ KBytes\s+\d+ Kbits/sec\s+[\d.]+ ms\s+"
                        r"(-?\d+)/\s*(\d+)")
TCP_REPORT = re.compile(r"\]\s+[\d.]+-\s*([\d.]+) sec\s+(\d+) KBytes\s+(\d+) Kbits/sec")


def never(i):
    """A rule that passes the interface and protocol checks and fails on
    the destination (172.16.0.0/12, where nothing goes)."""
    return (f"iif lan oif wan ip daddr 172.{16 + i // 256 % 16}.{i % 256}.0/24 drop",
            f'iifname "lan" oifname "wan" ip daddr 172.{16 + i // 256 % 16}.{i % 256}.0/24 drop')


def ruleset(before):
    """(Mica's chains, nftables' ruleset): `before` rules that never match,
    then established/related, then lan to wan; masquerade on wan."""
    mica = ["chain forward {", "    policy drop"]
    nft = ["table ip fw {", "  chain forward {",
           "    type filter hook forward priority 0; policy drop;"]
    for i in range(before):
        m, n = never(i)
        mica.append("    " + m)
        nft.append("    " + n)
    mica += ["    ct state established,related accept", "    iif lan oif wan accept", "}",
             "chain postrouting { oif wan masquerade }"]
    nft += ["    ct state established,related accept", '    iifname "lan" oifname "wan" accept',
            "  }", "  chain postrouting {", "    type nat hook postrouting priority 100;",
            '    oifname "wan" masquerade', "  }", "}"]
    return "\n".join(mica) + "\n", "\n".join(nft) + "\n"


SETS = [("route", None), ("masq50", 48)] + [(f"rules-{n}", n) for n in RULE_COUNTS]
assert [k for k, _ in SETS] == FIREWALL_SETS


class MicaRouter(FirewallRouter):
    name = "Mica"

    def __init__(self, tmp_path, lan, wan, before):
        chains = ruleset(before)[0] if before is not None else ""
        super().__init__(pathlib.Path(tmp_path), lan, wan, conf=IFACES + chains)


class LinuxRouter(Router):
    """Debian's kernel routing with nftables: the same links as Router's."""
    name = "Linux"

    def __init__(self, tmp_path, lan, wan, before):
        super().__init__(pathlib.Path(tmp_path), lan, wan)
        self.nft = ruleset(before)[1] if before is not None else None

    def __enter__(self):
        self.ns.__enter__()
        try:
            taps = [self._link(0, self.lan, LAN_HOST, "default", LAN_ROUTER),
                    self._link(1, self.wan, WAN_HOST, "192.168.10.0/24", WAN_ROUTER)]
            initrd = os.path.join(BUILD, "bench", "linux", "router-initrd.img")
            if self.nft:
                initrd = self._with_rules(initrd)
            args = ["-kernel", os.path.join(BUILD, "bench", "linux", "vmlinuz"),
                    "-initrd", initrd,
                    "-append", "console=ttyS0 loglevel=4 mica.lan=52:54:00:00:00:01 "
                               "mica.wan=52:54:00:00:01:01 "
                               f"mica.lan_addr={LAN_ROUTER}/24 mica.wan_addr={WAN_ROUTER}/24"]
            for i, model in enumerate(self.models):
                args += ["-netdev", f"tap,id=n{i},ifname={taps[i]},script=no,downscript=no",
                         "-device", f"{MODELS[model][0]},netdev=n{i},mac=52:54:00:00:0{i}:01,"
                                    f"addr={3 + i}"]
            self.qemu = Qemu(args, name="linux-router", prefix=self.ns.prefix())
            self.qemu.start()
            m = self.qemu.wait_for(r"^linux-router: (ready|nft .* failed)", timeout=120)
            if m.group(1) != "ready":
                raise RuntimeError(m.group(0))
            # The links come up a moment after `ready` (e1000's
            # autonegotiation): the first ARP requests may go unanswered.
            for _ in range(10):
                if run(self.lan, "ping", "-c", "1", "-w", "5", WAN_HOST, timeout=30,
                       check=False).returncode == 0:
                    break
            else:
                raise RuntimeError("the LAN host does not reach the WAN host through it")
        except BaseException:
            self.__exit__()
            raise
        return self

    def _with_rules(self, initrd):
        """The router's initramfs with /etc/fw.nft appended."""
        tmp = self.tmp_path
        os.makedirs(tmp / "rules" / "etc", exist_ok=True)
        (tmp / "rules" / "etc" / "fw.nft").write_text(self.nft)
        cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=tmp / "rules",
                              input=b"etc\netc/fw.nft\n", capture_output=True, check=True).stdout
        path = tmp / "initrd-rules.img"
        path.write_bytes(open(initrd, "rb").read() + gzip.compress(cpio))
        return str(path)


def iperf(lan, wan, udp):
    """TCP Mbit/s or 64-byte UDP datagrams/s, as the WAN host counted."""
    server = Background(wan, ["iperf", "-s", "-f", "k"] + (["-u"] if udp else []),
                        SECONDS + 40)
    try:
        time.sleep(0.5)
        cmd = ["iperf", "-c", WAN_HOST, "-t", str(SECONDS), "-f", "k"]
        if udp:
            cmd += ["-u", "-l", "64", "-b", "200M"]
        subprocess.run(lan.prefix() + IPERF_PIN + ["timeout", str(SECONDS + 30)] + cmd,
                       capture_output=True, timeout=SECONDS + 40)
        m = server.wait_for(UDP_REPORT if udp else TCP_REPORT, 15)
        if not m:
            return None
        if udp:
            lost, total = int(m.group(2)), int(m.group(3))
            return (total - max(lost, 0)) / float(m.group(1))
        return int(m.group(3)) / 1000.0
    finally:
        server.stop()


def connections_per_second(lan, wan):
    server = Server(wan, WAN_HOST, 5555)
    n = 0
    try:
        deadline = time.monotonic() + CONN_SECONDS
        while time.monotonic() < deadline:
            try:
                s = lan.in_ns(lambda: socket.create_connection((WAN_HOST, 5555), timeout=3))
                s.close()
                n += 1
            except OSError:
                pass
    finally:
        server.close()
    return n / CONN_SECONDS


def measure(cls, key, before, tmp):
    lan, wan = hosts()
    result = {"guest": cls.name, "set": key}
    path = os.path.join(tmp, f"{cls.name}-{key}")
    os.makedirs(path, exist_ok=True)
    try:
        with lan, wan, cls(path, lan, wan, before):
            result["tcp_mbit"] = iperf(lan, wan, udp=False)
            result["udp64_pps"] = iperf(lan, wan, udp=True)
            if key == "masq50":
                result["conn_per_s"] = connections_per_second(lan, wan)
    except Exception as e:         # reported, never fatal
        result["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    print(f"  {cls.name} {key}: " + ", ".join(f"{k} {v}" for k, v in result.items()
                                              if k not in ("guest", "set")), flush=True)
    return result


def main():
    if not can_run():
        print("bench/run_firewall.py: needs root and /dev/net/tun; skipped")
        return 0
    start = time.monotonic()
    linux = None
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "linux-router.py")],
                       capture_output=True, text=True)
    if r.returncode == 0:
        linux = open(os.path.join(BUILD, "bench", "linux", "kernel-package")).read().strip()
    else:
        print("bench/run_firewall.py: no Linux router: " + (r.stderr.strip().splitlines() or ["?"])[-1])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, before in SETS:
            for cls in ([LinuxRouter] if linux else []) + [MicaRouter]:
                rows.append(measure(cls, key, before, tmp))
    data = {"seconds": SECONDS, "linux": linux, "results": rows,
            "elapsed_s": round(time.monotonic() - start),
            "cost_us": {g: {str(n): firewall_cost_us(rows, g, f"rules-{n}") for n in RULE_COUNTS}
                        for g in ("Linux", "Mica")}}
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    with open(os.path.join(BUILD, "bench", "firewall.json"), "w") as f:
        json.dump(data, f, indent=1)
    text = md_firewall_table(data)
    with open(os.path.join(BUILD, "bench", "firewall.md"), "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
