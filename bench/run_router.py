#!/usr/bin/python3
"""Forwarding through a router: Mica against a reference Linux guest as a
router, side by side in one run (docs/benchmarks.md). Runs as root.

Both routers run on the same QEMU machine (`-machine pc -cpu max -m 256M
-smp 1`, TCG) with the same two NICs (two virtio-net, two e1000, and
virtio-net on the LAN with e1000 on the WAN) at PCI 00:03.0 (LAN) and
00:04.0 (WAN), each on a tap in the router's namespace bridged to a host's
namespace: the LAN host 192.168.10.2/24 (default route by the router's
192.168.10.1), the WAN host 10.99.0.2/24 (the LAN by the router's
10.99.0.1). Mica forwards with `forwarding=on`; Linux with ip_forward=1
and the same two connected networks (bench/linux-guest.sh, mica.if= and
mica.forward=1). Debian's iperf3 runs on the hosts:

  TCP LAN->WAN   the server on the WAN host, the client on the LAN host
  TCP WAN->LAN   the same with -R
  UDP 64 B       64-byte frames (18 bytes of UDP payload) from the LAN
                 host as fast as iperf3 sends them (-b 0); the datagrams
                 per second the WAN host received

Each run boots each router afresh and takes all three, Linux and Mica
taking turns so that both see the same host load; QEMU's threads and the
namespaces' iperf3 are placed on the host's CPUs as MICA_BENCH_PIN says
(bench/net_rig.py's PIN_MODES; in router.json as pinning). The median of RUNS runs is reported.

Prints a Markdown table, also written to build/bench/router.md and, with
every run's number, build/bench/router.json. Never fails: what does not
complete is reported as such.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

from netns import Netns, can_run, ip      # noqa: E402
from net_rig import IPERF_PIN, NICS, pinning, start_qemu, write_results  # noqa: E402
from run_net import available_guests, side_by_side  # noqa: E402
from report import qemu_version  # noqa: E402

SECONDS = int(os.environ.get("MICA_BENCH_ROUTER_SECONDS", "5"))
RUNS = int(os.environ.get("MICA_BENCH_ROUTER_RUNS", "3"))
# The mixed pair: TCP aggregates from virtio-net (GUEST_TSO4) leave by
# e1000, cut by its TSO (docs/netstack.md, "Large segments").
PAIRS = [("virtio-net", "virtio-net"), ("e1000", "e1000"), ("virtio-net", "e1000")]
LAN_ROUTER, LAN_HOST = "192.168.10.1", "192.168.10.2"
WAN_ROUTER, WAN_HOST = "10.99.0.1", "10.99.0.2"
MACS = ("52:54:00:00:00:01", "52:54:00:00:01:01")
UDP_PAYLOAD = 18            # + UDP 8, IP 20, Ethernet 14 and FCS 4: 64 bytes
SLACK = 60

TESTS = {
    "TCP LAN->WAN": [],
    "TCP WAN->LAN": ["-R"],
    "UDP 64 B": ["-u", "-l", str(UDP_PAYLOAD), "-b", "0"],
}


def linux_args(tmp):
    return ["-kernel", os.path.join(BUILD, "bench", "linux", "vmlinuz"),
            "-initrd", os.path.join(BUILD, "bench", "linux", "initrd.img"),
            "-append", f"console=ttyS0 loglevel=4 mica.if={MACS[0]},{LAN_ROUTER}/24 "
                       f"mica.if={MACS[1]},{WAN_ROUTER}/24 mica.forward=1"]


def mica_args(tmp, pair):
    manifest = os.path.join(tmp, "manifest")
    with open(manifest, "w") as f:
        for i, model in enumerate(pair):
            f.write(f"program eth{i} dma=64 priority=150 restart=never\n"
                    f"    module {NICS[model][1]}\n    pci 00:{3 + i:02x}.0\n"
                    f"    args name=eth{i}\n")
        f.write("program netstack dma=4096 priority=100\n"
                "    lookup eth0\n    lookup eth1\n"
                f"    args nic=eth0,eth1 eth0.addr={LAN_ROUTER}/24 eth1.addr={WAN_ROUTER}/24 "
                "forwarding=on iperf=off\n")
    mods = [(os.path.join(BUILD, "init.elf"), "init"), (manifest, "manifest"),
            (os.path.join(BUILD, "drivers", "e1000.elf"), "e1000"),
            (os.path.join(BUILD, "drivers", "virtio-net.elf"), "virtio-net"),
            (os.path.join(BUILD, "netstack.elf"), "netstack")]
    return ["-kernel", os.path.join(BUILD, "kernel.elf"), "-append", "loglevel=2",
            "-initrd", ",".join(f"{p} {n}" for p, n in mods)]


READY = {"Linux": r"^linux-guest: ready router, ip_forward=1",
         "Mica": r"^netstack: eth1 up, 10\.99\.0\.1/24"}


def link(router, i, host, dev, addr, net, via):
    """tap{i} in the router's namespace bridged to a veth whose other end
    is dev in host's, with addr and a route to net by via."""
    tap = router.add_tap(f"tap{i}")
    ip("-n", router.name, "link", "add", f"br{i}", "type", "bridge")
    ip("-n", router.name, "link", "add", f"v{i}", "type", "veth", "peer", "name", dev)
    ip("-n", router.name, "link", "set", dev, "netns", host.name)
    for d in (tap, f"v{i}"):
        ip("-n", router.name, "link", "set", d, "master", f"br{i}")
    for d in (f"v{i}", f"br{i}"):
        ip("-n", router.name, "link", "set", d, "up")
    ip("-n", host.name, "addr", "add", f"{addr}/24", "dev", dev)
    ip("-n", host.name, "link", "set", dev, "up")
    ip("-n", host.name, "route", "add", net, "via", via)
    return tap


def iperf3(lan, wan, args):
    """One iperf3 test through the router: (client JSON, server JSON), or
    None with the reason printed."""
    server = subprocess.Popen(wan.prefix() + IPERF_PIN + [
        "timeout", str(SECONDS + SLACK), "iperf3", "-s", "-1", "-J", "-B", WAN_HOST],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 10
        while ":5201" not in subprocess.run(wan.prefix() + ["ss", "-Hltn"], capture_output=True,
                                            text=True).stdout:
            if time.monotonic() > deadline or server.poll() is not None:
                print("  iperf3 -s did not start")
                return None
            time.sleep(0.1)
        r = subprocess.run(lan.prefix() + IPERF_PIN + [
            "timeout", str(SECONDS + SLACK), "iperf3", "-J", "-c", WAN_HOST, "-t", str(SECONDS),
            "--connect-timeout", "10000", *args], capture_output=True, text=True,
            timeout=SECONDS + SLACK + 10)
        sout, _ = server.communicate(timeout=30)
        client = json.loads(r.stdout or "{}")
        if r.returncode or "error" in client:
            print(f"  iperf3 {' '.join(args)}: {client.get('error') or r.stderr.strip()}")
            return None
        return client, json.loads(sout)
    except (subprocess.TimeoutExpired, ValueError) as e:
        print(f"  iperf3 {' '.join(args)}: {e}")
        return None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def figure(test, got):
    """Mbit/s of TCP the receiver counted; UDP datagrams a second received."""
    if not got:
        return None
    client, server = got
    if test.startswith("TCP"):
        return client["end"]["sum_received"]["bits_per_second"] / 1e6
    s = server["end"]["sum_received"]
    return (s["packets"] - s["lost_packets"]) / s["seconds"] if s["seconds"] else None


def one_run(guest, pair, tmp, runs):
    """Boot the router, take every test once; results appended to runs."""
    lan, wan, router = Netns("rlan"), Netns("rwan"), Netns("router")
    with lan, wan, router:
        taps = [link(router, 0, lan, "h0", LAN_HOST, "default", LAN_ROUTER),
                link(router, 1, wan, "h1", WAN_HOST, "192.168.10.0/24", WAN_ROUTER)]
        args = linux_args(tmp) if guest.name == "Linux" else mica_args(tmp, pair)
        for i, model in enumerate(pair):
            args += ["-netdev", f"tap,id=n{i},ifname={taps[i]},script=no,downscript=no",
                     "-device", f"{NICS[model][0]},netdev=n{i},mac={MACS[i]},addr={3 + i}"]
        q = start_qemu(args, f"router-{guest.name}-{'+'.join(pair)}", router)
        try:
            q.wait_for(READY[guest.name])
            warm = subprocess.run(lan.prefix() + ["ping", "-c", "1", "-w", "20", WAN_HOST],
                                  capture_output=True, text=True, timeout=30)
            if warm.returncode:
                print(f"  {guest.name} {'+'.join(pair)}: no ping through:\n{warm.stdout}")
                return
            for test, targs in TESTS.items():
                v = figure(test, iperf3(lan, wan, targs))
                got = runs.setdefault((guest.name, pair, test), [])
                if v is not None:
                    got.append(v)
                print(f"  {guest.name} {'+'.join(pair)} {test}: "
                      + ("failed" if v is None else f"{v:.1f}"), flush=True)
        finally:
            q.stop()


def main():
    if not can_run():
        print("bench/run_router.py: needs root and /dev/net/tun; skipped")
        return 0
    began = time.monotonic()
    named, skipped = available_guests("bench/run_router.py")
    guests = list(named.values())
    load = os.getloadavg()[0]
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pair in PAIRS:
            for _ in range(RUNS):
                for guest in guests:
                    try:
                        one_run(guest, pair, tmp, runs)
                    except (AssertionError, OSError, subprocess.SubprocessError) as e:
                        print(f"  {guest.name} {'+'.join(pair)}: {str(e).splitlines()[0]}")

    rows = []
    for pair in PAIRS:
        for test in TESTS:
            linux, mica, lm, mm, ratio = side_by_side(runs, pair, test)
            rows.append({"nics": "+".join(pair), "test": test,
                         "unit": "Mbit/s" if test.startswith("TCP") else "datagrams/s",
                         "linux": lm, "linux_runs": linux, "mica": mm, "mica_runs": mica,
                         "ratio": ratio})
    table = ["| NICs | test | unit | Linux | Mica | Mica/Linux |",
             "|---|---|---|---:|---:|---:|"]
    for r in rows:
        cells = ["n/a" if v is None else f"{v:.1f}" for v in (r["linux"], r["mica"])]
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        table.append(f"| {r['nics']} | {r['test']} | {r['unit']} | {cells[0]} | {cells[1]} "
                     f"| {ratio} |")
    version = qemu_version()
    elapsed = time.monotonic() - began
    text = (f"iperf3 through the router, {SECONDS} s per test, median of {RUNS}; {version}, "
            f"TCG; {elapsed:.0f} s in all; host load {load:.1f} at the start.\n\n"
            + "\n".join(table) + "\n")
    for name, why in skipped.items():
        text += f"\n{name} skipped: {why}\n"
    print(text)
    write_results("router", text, {
        "qemu": version, "seconds": SECONDS, "runs": RUNS, "elapsed_s": round(elapsed),
        "host_load_at_start": round(load, 2), "pinning": pinning(),
        "linux": named["Linux"].version() if "Linux" in named else None,
        "mica": named["Mica"].version() if "Mica" in named else None,
        "skipped": skipped, "results": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
