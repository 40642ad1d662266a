"""init: the boot manifest, program loading, restart policy, name service."""
import re
import subprocess

import pytest

from qemu import boot_init, build_path


def boot_with_manifest(tmp_path, text, name, files=()):
    """Boot init with this manifest, hello, and more boot modules
    (files: (module name, contents))."""
    modules = [(build_path("programs", "hello.elf"), "hello")]
    for module, contents in files:
        path = tmp_path / module
        path.write_text(contents)
        modules.append((str(path), module))
    return boot_init(tmp_path, text, modules, name)


def test_program_crash_restart_then_give_up(tmp_path):
    text = "program hello priority=50 quota=256 restart=on-crash retries=2\n    args crash 9\n"
    with boot_with_manifest(tmp_path, text, "giveup") as q:
        q.wait_for(r"^init: started hello \(priority 50, quota 256 KiB\)$")
        q.wait_for(r"^init: hello: page fault at 10 \(ip [0-9a-f]+, write\) refused$")
        # Backoff: 100 ms, then twice that.
        q.wait_for(r"^init: hello crashed; restarting in 100 ms \(1 of 2\)$")
        q.wait_for(r"^init: hello crashed; restarting in 200 ms \(2 of 2\)$")
        q.wait_for(r"^hello: started \(run 3\)")
        q.wait_for(r"^init: hello crashed at \d+ ms; gave up after 3 crashes in a row, left down$")


def test_restart_never_leaves_it_down(tmp_path):
    text = "program hello restart=never\n    args crash 1\n"
    with boot_with_manifest(tmp_path, text, "never") as q:
        q.wait_for(r"^init: hello crashed at \d+ ms; restart=never, left down$")


def test_two_programs_find_each_other(tmp_path):
    # Two instances of the same executable under different names.
    text = ("program alpha\n    module hello\n"
            "program beta priority=120\n    module hello\n")
    with boot_with_manifest(tmp_path, text, "two") as q:
        q.wait_for(r"^alpha: heap ok$")
        q.wait_for(r"^alpha: name service ok \(found a capability of type 1\)$")
        q.wait_for(r"^beta: name service ok \(found a capability of type 1\)$")
        q.wait_for(r"^init: alpha exited$")
        q.wait_for(r"^init: beta exited$")


@pytest.mark.parametrize("text,line,message", [
    ("program hello\nstrat hello\n", 2, "unknown keyword 'strat'"),
    ("program hello priority=500\n", 1, "priority must be 1..199, got '500'"),
    ("# comment\n\nprogram a\n    irq 99\n", 4, "'irq' needs an IOAPIC input 0..23"),
    ("program a\nprogram a\n", 2, "program 'a' is declared twice (first on line 1)"),
    ("    args x\n", 1, "'args' outside a program"),
])
def test_bad_manifest_names_the_line(tmp_path, text, line, message):
    with boot_with_manifest(tmp_path, text, "badmanifest") as q:
        m = q.wait_for(r"^init: manifest:(\d+): (.*)$")
        assert int(m.group(1)) == line
        assert message in m.group(2)
        q.wait_for(r"^init: nothing started$")


def test_missing_module_is_reported(tmp_path):
    text = "program ghost\nprogram hello\n"
    with boot_with_manifest(tmp_path, text, "ghost") as q:
        q.wait_for(r"^init: ghost: cannot load module 'ghost': no such boot module$")
        q.wait_for(r"^hello: name service ok")


def test_a_quota_init_cannot_give_says_what_is_left(tmp_path):
    """A program whose quota= is more than init's kernel quota has left is
    not started, and init says how much is left and how to get more (a user
    who adds to the image or the manifest meets this first); the next
    program starts."""
    text = "program hog quota=1048576 restart=never\n    module hello\nprogram hello\n"
    with boot_with_manifest(tmp_path, text, "quotahog") as q:
        m = q.wait_for(r"^init: hog: cannot start: kernel memory quota or physical memory "
                       r"exhausted \(its quota 1 GiB; init's kernel quota has ([\d.]+) MiB left: "
                       r"more memory, or the kernel command line's kmem=, gives init more\)$")
        assert 1 < float(m.group(1)) < 1024, m.group(0)
        q.wait_for(r"^hello: name service ok")
    print("init: a program over init's kernel quota: told what is left "
          f"({m.group(1)} MiB) and how to get more")


def test_manifest_hands_a_boot_module_as_a_read_only_file(tmp_path):
    text = ("program reader restart=never\n    module hello\n    file notes.conf\n"
            "    args file notes.conf\n"
            "program writer restart=never\n    module hello\n    file notes.conf\n"
            "    args file-write notes.conf\n")
    contents = "first line of the file\nsecond line\n" + "x" * 5000
    with boot_with_manifest(tmp_path, text, "files", [("notes.conf", contents)]) as q:
        q.wait_for(rf"^reader: file notes.conf: {len(contents)} bytes, "
                   r"first line 'first line of the file'$")
        q.wait_for(r"^init: reader exited$")
        q.wait_for(r"^writer: writing to file notes.conf$")
        q.wait_for(r"^init: writer: page fault at 380000000000 \(ip [0-9a-f]+, write\) refused$")
        q.wait_for(r"^init: writer crashed at \d+ ms; restart=never, left down$")


def test_empty_file_is_a_file(tmp_path):
    text = "program hello restart=never\n    file empty.conf\n    args file empty.conf\n"
    with boot_with_manifest(tmp_path, text, "emptyfile", [("empty.conf", "")]) as q:
        q.wait_for(r"^hello: file empty.conf: 0 bytes, first line ''$")
        q.wait_for(r"^init: hello exited$")


def test_a_capability_init_does_not_keep_is_dropped(tmp_path):
    # A capability left in init's receive slot would make it refuse the
    # next one: every later registration would fail.
    text = "program hello restart=never\n    args capstuff\n"
    with boot_with_manifest(tmp_path, text, "capstuff") as q:
        q.wait_for(r"^hello: a capability sent with INIT_PAGES_FREE: argument out of range$")
        q.wait_for(r"^hello: name service ok \(found a capability of type 1\)$")


def test_missing_file_module_is_reported(tmp_path):
    text = ("program hello\n    file nowhere.conf\n    args file nowhere.conf\n"
            "program other\n    module hello\n")
    with boot_with_manifest(tmp_path, text, "nofile") as q:
        q.wait_for(r"^init: hello: file 'nowhere.conf': no such boot module "
                   r"\(manifest line 1\)$")
        q.wait_for(r"^other: name service ok")


def mkbundle(tmp_path, files):
    """build/bundle's way (tools/mkbundle.c): files (module name, host
    path) in a cpio archive, each one's data on a page; its path."""
    out = tmp_path / "bundle"
    subprocess.run([build_path("host", "mkbundle"), str(out)] + [f"{p}:{n}" for n, p in files],
                   check=True)
    return out


def test_programs_and_files_come_from_the_bundle(tmp_path):
    """Modules in the bundle are modules: a program's executable, its
    files (read-only, mapped from the bundle), and the same messages for
    one that is missing; a module given to the loader beside the bundle
    is taken before the bundle's of the same name."""
    notes = "first line of the file\nsecond line\n" + "x" * 5000
    (tmp_path / "notes.conf").write_text(notes)
    (tmp_path / "which.conf").write_text("the bundle's\n")
    (tmp_path / "plain.conf").write_text("the loader's own\n")
    bundle = mkbundle(tmp_path, [("hello", build_path("programs", "hello.elf")),
                                 ("notes.conf", tmp_path / "notes.conf"),
                                 ("which.conf", tmp_path / "which.conf")])
    text = ("program reader restart=never\n    module hello\n    file notes.conf\n"
            "    args file notes.conf\n"
            "program writer restart=never\n    module hello\n    file notes.conf\n"
            "    args file-write notes.conf\n"
            "program which restart=never\n    module hello\n    file which.conf\n"
            "    args file which.conf\n"
            "program ghost\n"
            "program nofile\n    module hello\n    file nowhere.conf\n")
    modules = [(str(bundle), "bundle"), (str(tmp_path / "plain.conf"), "which.conf")]
    with boot_init(tmp_path, text, modules, "bundle") as q:
        q.wait_for(r"^init: bundle: 3 modules, ")
        q.wait_for(rf"^reader: file notes.conf: {len(notes)} bytes, "
                   r"first line 'first line of the file'$")
        q.wait_for(r"^init: reader exited$")
        q.wait_for(r"^init: writer: page fault at 380000000000 \(ip [0-9a-f]+, write\) refused$")
        q.wait_for(r"^which: file which.conf: 17 bytes, first line 'the loader's own'$")
        q.wait_for(r"^init: ghost: cannot load module 'ghost': no such boot module$")
        q.wait_for(r"^init: nofile: file 'nowhere.conf': no such boot module "
                   r"\(manifest line 14\)$")


def test_a_bundle_from_plain_cpio_runs_programs_but_maps_no_files(tmp_path):
    """A bundle written by GNU cpio (data on 4 bytes, not pages) and cut
    short in its third entry: the program in it runs, its file (which
    would have to be copied to be mapped) is refused with why, and init
    says where the archive breaks."""
    (tmp_path / "hello").write_bytes(open(build_path("programs", "hello.elf"), "rb").read())
    (tmp_path / "notes.conf").write_text("some notes\n")
    (tmp_path / "lost.conf").write_text("y" * 1000)
    archive = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=tmp_path,
                             input=b"hello\nnotes.conf\nlost.conf\n", capture_output=True,
                             check=True).stdout
    cut = archive.index(b"lost.conf") + 100
    (tmp_path / "bundle").write_bytes(archive[:cut])
    text = ("program hello restart=never\n"
            "program reader restart=never\n    module hello\n    file notes.conf\n"
            "    args file notes.conf\n"
            "program lost restart=never\n    module hello\n    file lost.conf\n")
    with boot_init(tmp_path, text, [(str(tmp_path / "bundle"), "bundle")], "cpio-bundle") as q:
        q.wait_for(r"^init: bundle: 2 modules, ")
        start = archive.index(b"070701", archive.index(b"notes.conf"))
        q.wait_for(rf"^init: bundle: malformed at byte {start}: the modules from there on are "
                   r"missing$")
        q.wait_for(r"^hello: name service ok")
        q.wait_for(r"^init: reader: file 'notes.conf': not on a page in the bundle ")
        q.wait_for(r"^init: lost: file 'lost.conf': no such boot module \(manifest line 6\)$")


def test_pages_for_pagers_are_charged_and_revoked(tmp_path):
    text = ("program pager memory=512 restart=never\n    module hello\n    args pages\n"
            "program nomemory restart=never\n    module hello\n    args pages\n")
    with boot_with_manifest(tmp_path, text, "pages") as q:
        q.wait_for(r"^nomemory: pages 8 KiB: kernel memory quota or physical memory exhausted$")
        q.wait_for(r"^pager: pages 8 KiB: ok$")
        q.wait_for(r"^pager: pages hold 1024 of 1024 words$")
        q.wait_for(r"^pager: pages past the allowance: kernel memory quota or physical "
                   r"memory exhausted$")
        q.wait_for(r"^pager: pages free: success$")
        q.wait_for(r"^pager: pages free again: argument out of range$")
        q.wait_for(r"^pager: pages again: ok, zeroed yes$")
        q.wait_for(r"^pager: touching freed pages$")
        q.wait_for(r"^init: pager: page fault at 58[0-9a-f]{10} \(ip [0-9a-f]+, read\) refused$")
        q.wait_for(r"^init: pager crashed at \d+ ms; restart=never, left down$")


def test_nonzero_exit_is_a_crash_and_zero_is_done(tmp_path):
    # on-crash: status 3 is a failure, restarted after the backoff like a
    # crash; status 0 is a clean end. always: status 0 is restarted too.
    text = ("program failing restart=on-crash retries=1\n    module hello\n    args exit 3\n"
            "program clean restart=on-crash\n    module hello\n    args exit 0\n"
            "program again restart=always retries=1\n    module hello\n    args exit 0\n")
    with boot_with_manifest(tmp_path, text, "exitstatus") as q:
        q.wait_for(r"^init: failing exited with status 3; restarting in 100 ms \(1 of 1\)$")
        q.wait_for(r"^failing: started \(run 2\)")
        q.wait_for(r"^init: failing exited with status 3 at \d+ ms; gave up after 2 crashes in a row, "
                   r"left down$")
        q.wait_for(r"^init: again exited; restarting in 100 ms \(1 of 1\)$")
        q.wait_for(r"^init: again exited at \d+ ms; gave up after 2 crashes in a row, left down$")
        q.wait_for(r"^init: clean exited$")
        assert not re.search(r"^clean: started \(run 2\)", q.output(), re.M)


def boot_on_e1000(tmp_path, text, others, name):
    """boot_init with e1000's driver (module e1000) before the other
    modules (path, module name) and one e1000 NIC on QEMU's restricted
    user network."""
    q = boot_init(tmp_path, text, [(build_path("drivers", "e1000.elf"), "e1000")] + others, name)
    q.cmd += ["-netdev", "user,id=n0,restrict=on", "-device", "e1000,netdev=n0"]
    return q


@pytest.mark.parametrize("granted", ["netstack", "both", "none"])
def test_a_drivers_endpoint_goes_only_to_programs_with_its_lookup_line(granted, tmp_path):
    """A NIC driver's name is private (proto/netq.h): its endpoint would let
    a program attach in the netstack's place and read and send any frame.
    Only a program with `lookup eth0` gets it, badged and send-only;
    without the line, drvgate (tests/programs/drvgate.c) is refused and
    init says why; a netstack without it says what the manifest lacks.
    From nothing drvgate can look up can it copy capabilities with other
    badges (2026-12-02's review: an unbadged endpoint lets its holder pick
    any badge)."""
    line = "    lookup eth0\n"
    text = ("program e1000 priority=150 dma=64 restart=never\n    pci 8086:100e\n"
            "    args name=eth0\n"
            "program netstack priority=100 dma=4096 restart=never\n" +
            (line if granted in ("netstack", "both") else "") +
            "    args nic=eth0 eth0.addr=10.0.2.15/24 iperf=off\n"
            "program drvgate priority=90 restart=never\n" + (line if granted == "both" else ""))
    q = boot_on_e1000(tmp_path, text, [(build_path("netstack.elf"), "netstack"),
                                       (build_path("programs", "drvgate.elf"), "drvgate")],
                      "drvgate")
    with q:
        if granted == "both":
            q.wait_for(r"^drvgate: eth0 given: badge 1, can receive: no$", timeout=120)
            q.wait_for(r"^drvgate: eth0 answered NETQ_STATS: error 0$")
        else:
            q.wait_for(r"^drvgate: eth0 refused: capability lacks a needed right$", timeout=120)
            assert re.search(r"^init: drvgate may not look up the private name 'eth0' "
                             r"\(no 'lookup' line\)$", q.output(), re.M), q.output()
        made = q.wait_for(r"^drvgate: copies with other badges: (\d+) made of (\d+)$")
        assert made.group(1) == "0" and int(made.group(2)) >= 10, made.group(0)
        q.wait_for(r"^init: drvgate exited$")
        if granted == "none":
            q.wait_for(r"^netstack: init will not give us the driver's name 'eth0': the "
                       r"manifest needs `lookup eth0` under the netstack$")
            assert "netstack: eth0 attached" not in q.output()
        else:
            q.wait_for(r"^netstack: eth0 attached, MAC ", timeout=60)


def test_a_driver_gives_its_nic_only_the_memory_its_client_mapped(tmp_path):
    """NETQ_ATTACH says where the client's pool and heap lie in physical
    memory, and the NIC reads and writes there: the driver checks both
    against what the kernel mapped (mem_phys) and refuses a claim that
    differs (2026-12-02's review: a client naming the kernel's memory as
    its pool had the NIC send the kernel's strings), and takes only DMA
    memory from init, which init keeps when the client dies (the next
    review: a pool in the client's ordinary pages, told truly, was
    attached, and frames would have been written there after init gave
    those pages to another program). dmaclaim (tests/programs/dmaclaim.c)
    says its pool lies at the kernel's memory, then its heap where its
    pool is, then puts its pool and then its heap in its .bss, then the
    truth."""
    text = ("program e1000 priority=150 dma=64 restart=never\n    pci 8086:100e\n"
            "    args name=eth0\n"
            "program dmaclaim priority=90 dma=256 restart=never\n    lookup eth0\n")
    q = boot_on_e1000(tmp_path, text, [(build_path("programs", "dmaclaim.elf"), "dmaclaim")],
                      "dmaclaim")
    with q:
        q.wait_for(r"^init: dmaclaim exited", timeout=120)
        out = q.output()
    said = dict(re.findall(r"^dmaclaim: ([^:]+): (.*)$", out, re.M))
    assert said.get("both where they are") == "attached", out
    for lie, part in (("pool said at 0x110000", "pool"), ("heap said where the pool is", "heap")):
        assert said.get(lie) not in (None, "attached"), out
        assert re.search(rf"^eth0: attach refused: the {part} is not at the physical address "
                         r"given$", out, re.M), out
    for lie, part in (("pool in bss", "pool"), ("heap in bss", "heap")):
        assert said.get(lie) not in (None, "attached"), out
        assert re.search(rf"^eth0: attach refused: the {part} is not DMA memory from init$",
                         out, re.M), out


def test_a_name_stays_its_first_registrants_across_restarts(tmp_path):
    """A name is the program's that registered it first (init's claims):
    when the NIC driver crashes, a program watching its name cannot
    register it in the moment before the driver is back (2026-12-02's
    review: namesquat's forerunner got the name, and the netstack
    attached to it and handed it its pool, rings and heap); init says
    whose it is, the restarted driver gets it and the netstack attaches
    again. Without claims namesquat prints "registering eth0: yes". The
    squatter has `lookup eth0` (a client's right): watching a private name
    needs it (next test)."""
    text = ("program e1000 priority=150 dma=64 restart=on-crash retries=3\n"
            "    pci 8086:100e\n    args name=eth0\n"
            "program netstack priority=100 dma=4096 restart=never\n    lookup eth0\n"
            "    args nic=eth0 eth0.addr=10.0.2.15/24 iperf=off\n"
            "program kick priority=90 restart=never\n    module namesquat\n"
            "    lookup eth0\n    args mode=kick\n"
            "program squat priority=90 restart=never\n    module namesquat\n"
            "    lookup eth0\n    args mode=squat\n")
    q = boot_on_e1000(tmp_path, text, [(build_path("netstack.elf"), "netstack"),
                                       (build_path("programs", "namesquat.elf"), "namesquat")],
                      "namesquat")
    with q:
        q.wait_for(r"^netstack: eth0 attached, MAC ", timeout=120)
        q.wait_for(r"^namesquat: kicked the driver: ", timeout=60)
        mark = q.mark()
        got = q.wait_for(r"^namesquat: registering eth0: (.*)$", timeout=60)
        assert got.group(1) == "capability lacks a needed right", q.output()
        assert re.search(r"^init: squat may not register the name 'eth0': it is e1000's "
                         r"\(registered by it first\)$", q.output(), re.M), q.output()
        q.wait_for(r"^netstack: eth0 re-attached to a new driver ", since=mark, timeout=60)


@pytest.mark.parametrize("granted", [True, False])
def test_watching_a_private_name_needs_its_lookup_line(granted, tmp_path):
    """NS_WATCH on a private name asks for the right NS_LOOKUP asks for (a
    `lookup` line): without it a program would time another's restarts.
    namesquat (mode=watch) runs before the driver, so its first watch is
    taken before eth0 is registered: the registration is told only to a
    program with the line; its second watch, after, is refused without
    it, and init says why. Without the check: "told of eth0: yes" and
    "watching eth0: yes" both times."""
    text = ("program watch priority=190 restart=never\n    module namesquat\n" +
            ("    lookup eth0\n" if granted else "") + "    args mode=watch\n"
            "program e1000 priority=150 dma=64 restart=never\n    pci 8086:100e\n"
            "    args name=eth0\n")
    q = boot_on_e1000(tmp_path, text, [(build_path("programs", "namesquat.elf"), "namesquat")],
                      "namesquat")
    with q:
        told = q.wait_for(r"^namesquat: told of eth0: (yes|no)$", timeout=120)
        q.wait_for(r"^init: watch exited$", timeout=60)
        out = q.output()
        first, second = re.findall(r"^namesquat: watching eth0: (.*)$", out, re.M)
        assert first == "yes", out
        assert re.search(r"^eth0: ", out, re.M), out    # the driver ran
        refused = re.search(r"^init: watch may not watch the private name 'eth0' "
                            r"\(no 'lookup' line\)$", out, re.M)
        if granted:
            assert told.group(1) == "yes" and second == "yes" and not refused, out
        else:
            assert told.group(1) == "no", out
            assert second == "capability lacks a needed right" and refused, out


def test_two_drivers_asking_for_one_name_are_told_who_has_it(tmp_path):
    """Two NICs, both drivers named eth0: the second is told the name is
    taken and what to do, and init says which program holds it."""
    text = ("program e1000 priority=150 dma=64 restart=never\n    pci 8086:100e\n"
            "    args name=eth0\n"
            "program virtio-net priority=150 dma=64 restart=never\n    pci 1af4:1041\n"
            "    args name=eth0\n")
    q = boot_init(tmp_path, text, [(build_path("drivers", "e1000.elf"), "e1000"),
                                   (build_path("drivers", "virtio-net.elf"), "virtio-net")],
                  "two-eth0")
    q.cmd += ["-netdev", "user,id=n0,restrict=on", "-device", "e1000,netdev=n0",
              "-netdev", "user,id=n1,restrict=on",
              "-device", "virtio-net-pci,disable-legacy=on,netdev=n1"]
    with q:
        q.wait_for(r"^init: virtio-net asked for the name 'eth0', which e1000 has$")
        q.wait_for(r"^eth0: eth0 is taken by another program \(init says which\); give this "
                   r"driver another name= in the manifest$")
        q.wait_for(r"^init: virtio-net exited with status 1 at \d+ ms; restart=never, left down$")
        assert "destination slot is not empty" not in q.output()
