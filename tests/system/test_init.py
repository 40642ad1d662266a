"""init: the boot manifest, program loading, restart policy, name service."""
import os

import pytest

from qemu import Qemu, build_path


def boot_with_manifest(tmp_path, text, name):
    manifest = tmp_path / "manifest"
    manifest.write_text(text)
    modules = [(build_path("init.elf"), "init"), (str(manifest), "manifest"),
               (build_path("programs", "hello.elf"), "hello")]
    args = ["-kernel", build_path("kernel.elf"), "-append", "loglevel=2",
            "-initrd", ",".join(f"{p} {n}" for p, n in modules)]
    return Qemu(args, name=name)


def test_program_crash_restart_then_give_up(tmp_path):
    text = "program hello priority=50 quota=256 restart=on-crash retries=2\n    args crash 9\n"
    with boot_with_manifest(tmp_path, text, "giveup") as q:
        q.wait_for(r"^init: started hello \(priority 50, quota 256 KiB\)$")
        q.wait_for(r"^init: hello: page fault at 10 \(ip [0-9a-f]+, write\) refused$")
        # Backoff: 100 ms, then twice that.
        q.wait_for(r"^init: hello crashed; restarting in 100 ms \(1 of 2\)$")
        q.wait_for(r"^init: hello crashed; restarting in 200 ms \(2 of 2\)$")
        q.wait_for(r"^hello: started \(run 3\)")
        q.wait_for(r"^init: hello crashed; gave up after 3 crashes in a row, left down$")


def test_restart_never_leaves_it_down(tmp_path):
    text = "program hello restart=never\n    args crash 1\n"
    with boot_with_manifest(tmp_path, text, "never") as q:
        q.wait_for(r"^init: hello crashed; restart=never, left down$")


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
