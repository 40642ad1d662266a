"""Boot tests: the ISO through GRUB, the network boot through iPXE with both
NIC models, and the test kernel's exception path."""
import os
import re
import subprocess

import pytest

from qemu import EXIT_FAIL, EXIT_PASS, Qemu, build_path, module_files

BANNER = r"^Mica \S+ \(x86_64 microkernel\)"


def check_common_boot(q, modules=None, user_space=True, nic=None):
    """What every boot must show: banner, CPU, memory totals, modules,
    timer; then init running the manifest's programs (or, with no init
    module, the kernel idling with the timer ticking)."""
    modules = module_files() if modules is None else modules
    q.wait_for(BANNER)
    q.wait_for(r"cpu: features:.* lm")
    usable = q.wait_for(r"mem: usable frames: (\d+(\.\d)?) MiB in (\d+) (ranges?)$")
    assert usable.group(4) == ("range" if usable.group(3) == "1" else "ranges"), usable.group(0)
    # 256 MiB guest: a little goes to the BIOS and the kernel, and the
    # modules' size (the bundle's 22 MiB with the POSIX server's root
    # filesystem) to the modules.
    modules_mib = sum(os.path.getsize(path) for _, path in modules) / (1 << 20)
    assert 240 - modules_mib <= float(usable.group(1)) <= 256 - modules_mib, usable.group(0)
    q.wait_for(r"mem: .* available$")
    q.wait_for(rf"boot: {len(modules)} {'module' if len(modules) == 1 else 'modules'}$")
    for name, path in modules:
        size = os.path.getsize(path)
        q.wait_for(rf"boot:   module \d+: {re.escape(name)} at [0-9a-f]+, {size} bytes")
    q.wait_for(r"timer: local APIC timer \d+ ticks/ms")
    if user_space:
        q.wait_for(r"mica: boot complete, entering user space")
        q.wait_for(r"^init: bundle: \d+ modules, ")
        q.wait_for(r"^init: manifest: 5 programs$")
        q.wait_for(r"^console: ready; type help$")
        # The POSIX server runs Debian's iperf3 as shipped: `iperf3 -s`.
        q.wait_for(r"^init: started posix-server ")
        q.wait_for(r"^posix: started iperf3 \(pid 1\)$")
        q.wait_for(r"^Server listening on 5201", timeout=120)
        # The default manifest: a driver for the NIC there is, and the
        # netstack on it, with an address from QEMU's DHCP server; the
        # other driver reports its device missing.
        if nic == "e1000":
            q.wait_for(r"^init: virtio-net: no free PCI device 1af4:1041")
            q.wait_for(r"^eth0: e1000 at 00:0[0-9a-f]\.0, MAC 52:54:00:12:34:56")
        elif nic == "virtio-net-pci":
            q.wait_for(r"^init: e1000: no free PCI device 8086:100e")
            q.wait_for(r"^eth0: virtio-net at 00:0[0-9a-f]\.0, MAC 52:54:00:12:34:56")
        else:
            q.wait_for(r"^init: virtio-net: no free PCI device 1af4:1041")
            return
        q.wait_for(r"^netstack: eth0 attached, MAC 52:54:00:12:34:56, asking DHCP")
        q.wait_for(r"^netstack: eth0 up, 10\.0\.2\.15/24 \(dhcp\)$", timeout=60)
    else:
        q.wait_for(r"mica: boot complete, idle")
        # The uptime is the clock (the TSC), the ticks the timer
        # interrupts handled: 100 a second, fewer when QEMU drops periods
        # on a loaded host, never more.
        ticks = q.wait_for(r"timer: uptime 1 s, (\d+) ticks")
        assert 0 < int(ticks.group(1)) <= 105


def test_iso_boots_with_grub():
    with Qemu(["-cdrom", build_path("mica.iso"), "-boot", "d"], name="iso") as q:
        q.wait_for(r"boot: loaded by GRUB")
        check_common_boot(q)


@pytest.mark.parametrize("nic", ["e1000", "virtio-net-pci"])
def test_pxe_boot(nic):
    tftp = os.path.dirname(build_path("tftp", "boot.ipxe"))
    args = ["-boot", "order=n",
            "-netdev", f"user,id=net0,restrict=on,tftp={tftp},bootfile=boot.ipxe",
            "-device", f"{nic},netdev=net0" + (",disable-legacy=on" if "virtio" in nic else "")]
    with Qemu(args, name=f"pxe-{nic}") as q:
        q.wait_for(r"boot: loaded by iPXE")
        q.wait_for(r'boot: command line "tftp://\S+/kernel ')
        check_common_boot(q, nic=nic)


def test_direct_kernel_boot():
    """qemu -kernel: QEMU's own Multiboot loader (a.out kludge, ELF64)."""
    with Qemu(["-kernel", build_path("kernel.elf"), "-append", "loglevel=2",
               "-initrd", ",".join(f"{p} {n}" for n, p in module_files())],
              name="direct") as q:
        q.wait_for(r"boot: loaded by qemu")
        check_common_boot(q)


def newc_entries(data):
    """(name, data offset, size) of each entry of a cpio newc archive, as
    cpio(5) lays it out (read here independently of lib/cpio.c)."""
    at, entries = 0, []
    while True:
        assert data[at:at + 6] == b"070701", at
        size, namesize = int(data[at + 54:at + 62], 16), int(data[at + 94:at + 102], 16)
        name = data[at + 110:at + 110 + namesize]
        assert name.endswith(b"\0"), name
        name = name.split(b"\0")[0].decode()
        offset = (at + 110 + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return entries
        entries.append((name, offset, size))
        at = (offset + size + 3) & ~3


def test_bundle_holds_the_modules_each_on_a_page():
    """The default image's bundle (tools/mkbundle.c): every module but init
    and the manifest, each one's bytes as built and starting on a page of
    the archive; GNU cpio lists the same names."""
    path = dict(module_files())["bundle"]
    with open(path, "rb") as f:
        data = f.read()
    entries = newc_entries(data)
    built = {"e1000": ("drivers", "e1000.elf"), "virtio-net": ("drivers", "virtio-net.elf"),
             "reflector": ("programs", "reflector.elf"), "netstack": ("netstack.elf",),
             "console": ("appliance", "console.elf"), "posix-server": ("posix-server.elf",),
             "rootfs": ("posix", "rootfs.cpio")}
    assert [name for name, _, _ in entries] == list(built)
    for name, offset, size in entries:
        assert offset % 4096 == 0, (name, offset)
        with open(build_path(*built[name]), "rb") as f:
            assert data[offset:offset + size] == f.read(), name
    listed = subprocess.run(["cpio", "-t", "--quiet"], input=data, capture_output=True,
                            check=True).stdout.decode().split()
    assert listed == list(built)


def test_kernel_without_init_idles_with_timer():
    manifest = [(n, p) for n, p in module_files() if n == "manifest"]
    args = ["-kernel", build_path("kernel.elf"), "-append", "loglevel=2",
            "-initrd", ",".join(f"{p} {n}" for n, p in manifest)]
    with Qemu(args, name="no-init") as q:
        q.wait_for(r"warning: root: no boot module named 'init'")
        check_common_boot(q, manifest, user_space=False)


@pytest.mark.parametrize("fault,vector,name", [
    ("pf", 14, "page fault"),
    ("ud", 6, "invalid opcode"),
    ("de", 0, "divide error"),
    ("gp", 13, "general protection"),
])
def test_kernel_exception_dumps_registers_and_fails(fault, vector, name):
    args = ["-kernel", build_path("kernel-test.elf"), "-append", f"kfault={fault}"]
    with Qemu(args, name=f"kfault-{fault}", test_device=True) as q:
        q.wait_for(rf"EXCEPTION {vector} \({name}\) in kernel mode")
        if fault == "pf":
            q.wait_for(r"faulting address 0000000000001000")
            q.wait_for(r"page fault: not-present page, write access in kernel mode")
        q.wait_for(r"^  rip ffffffff8[0-9a-f]{7}  cs 0008")
        q.wait_for(r"^  rax [0-9a-f]{16}  rbx")
        q.wait_for(r"^  cr2 [0-9a-f]{16}  cr3")
        q.wait_for(rf"PANIC at .*: unhandled exception {vector}")
        assert q.wait_exit() == EXIT_FAIL


def test_unknown_kfault_is_reported_and_boot_continues():
    args = ["-kernel", build_path("kernel-test.elf"), "-append", "kfault=bogus"]
    with Qemu(args, name="kfault-bogus", test_device=True) as q:
        q.wait_for(r"warning: kfault: unknown fault 'bogus'")
        q.wait_for(r"mica: boot complete, idle")


def test_bad_loglevel_is_reported():
    args = ["-kernel", build_path("kernel.elf"), "-append", "loglevel=9"]
    with Qemu(args, name="loglevel") as q:
        q.wait_for(r"warning: cmdline: loglevel=9 ignored \(0\.\.3\)")
        q.wait_for(r"mica: boot complete, idle")


def test_kernel_selftests():
    """Paging, kernel allocator, frame exhaustion, the clock and a stray
    interrupt on the legacy PIC's vectors, checked inside the test kernel; it exits QEMU with the pass status only if all
    pass."""
    args = ["-kernel", build_path("kernel-test.elf"), "-append", "kselftest"]
    with Qemu(args, name="kselftest", test_device=True) as q:
        status = q.wait_exit()
        out = q.output()
        checks = re.findall(r"^kselftest (\S+): (OK|FAIL)$", out, re.M)
        assert len(checks) == 5, out
        assert all(r == "OK" for _, r in checks), out
        assert "kselftest: 5 passed, 0 failed" in out
        assert status == EXIT_PASS
