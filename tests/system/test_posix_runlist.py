"""The POSIX server's run list (posix-server/runlist_parse.c; docs/posix.md,
"Running it: the manifest"): an argument may hold a comma or a colon. In
the manifest's `run=` a backslash makes the next character part of the
word; in a run file (`runfile=`) they are ordinary characters. Debian's
echo prints its arguments on Mica as on the host's Linux."""
from posix_runs import run_list
from qemu import boot_init, build_path
from test_posix import on_linux, on_mica

# A comma, a colon and a backslash in arguments.
ARGS = ["a,b", "c:d", "e\\f"]


def test_posix_runfile_argument_holds_commas_and_colons(tmp_path):
    out = run_list(tmp_path, "posix-runfile", [("echo", ARGS)], timeout=180)
    assert on_mica(out, "echo") == on_linux("echo", ARGS), out


def test_posix_run_argument_backslash_makes_commas_and_colons_its_own(tmp_path):
    manifest = ("program posix-server priority=90 quota=40960 memory=65536\n"
                "    file rootfs\n"
                "    args run=echo:a\\,b:c\\:d:e\\\\f,echo:two\n")
    modules = [(build_path("posix-server.elf"), "posix-server"),
               (build_path("posix", "rootfs.cpio"), "rootfs")]
    with boot_init(tmp_path, manifest, modules, "posix-run-escapes") as q:
        q.wait_for(r"^posix: all programs ended; memory: ", timeout=180)
        out = q.output()
    assert on_mica(out, "echo") == on_linux("echo", ARGS), out
    assert on_mica(out, "echo", 1) == (["two"], "exited with status 0"), out
