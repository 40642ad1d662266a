"""tools/rootfs-debs.py, which puts posix-server/programs.list's
PACKAGE:PATH files into the POSIX server's root filesystem: a PATH as `ldd`
spells it (/lib) found where the package has it (/usr/lib), a symbolic
link's target taken from its package, a dangling link and a missing PATH
refused with what the package has. On made-up unpacked packages (no
download, no boot)."""
import os
import subprocess

from qemu import BUILD

TOOL = os.path.join(os.path.dirname(BUILD), "tools", "rootfs-debs.py")


def package(debs, name, files):
    """An unpacked package: path -> bytes (a file) or "->target" (a link)."""
    for path, what in files.items():
        full = os.path.join(debs, name, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if isinstance(what, str):
            os.symlink(what[2:], full)
        else:
            with open(full, "wb") as f:
                f.write(what)


def build(tmp_path, *entries):
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    r = subprocess.run(["/usr/bin/python3", TOOL, str(tmp_path / "debs"), str(root), *entries],
                       capture_output=True, text=True, timeout=30)
    return r, root


def test_a_lib_path_is_found_under_usr_lib_with_the_link_target(tmp_path):
    package(tmp_path / "debs", "libjq1", {
        "usr/lib/x86_64-linux-gnu/libjq.so.1": "->libjq.so.1.0.4",
        "usr/lib/x86_64-linux-gnu/libjq.so.1.0.4": b"library",
        "usr/share/doc/libjq1/copyright": b"text"})
    r, root = build(tmp_path, "libjq1:lib/x86_64-linux-gnu/libjq.so.1")
    assert r.returncode == 0, r.stderr
    link = root / "lib/x86_64-linux-gnu/libjq.so.1"
    assert os.readlink(link) == "libjq.so.1.0.4"
    assert (root / "lib/x86_64-linux-gnu/libjq.so.1.0.4").read_bytes() == b"library"
    assert "is usr/lib/x86_64-linux-gnu/libjq.so.1 in the package" in r.stdout
    assert "libjq.so.1.0.4 put in too" in r.stdout


def test_a_target_named_by_another_line_and_an_absolute_link(tmp_path):
    package(tmp_path / "debs", "libc6", {
        "lib64/ld-linux-x86-64.so.2": "->/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": b"loader",
        "usr/lib/x86_64-linux-gnu/libc.so.6": b"libc"})
    r, root = build(tmp_path, "libc6:lib64/ld-linux-x86-64.so.2",
                    "libc6:lib/x86_64-linux-gnu/libc.so.6")
    assert r.returncode == 0, r.stderr
    assert (root / "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2").read_bytes() == b"loader"
    assert (root / "lib/x86_64-linux-gnu/libc.so.6").read_bytes() == b"libc"
    # The same target listed itself: no second copy, nothing said.
    r, root = build(tmp_path, "libc6:lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                    "libc6:lib64/ld-linux-x86-64.so.2")
    assert r.returncode == 0 and "put in too" not in r.stdout, r.stdout


def test_a_dangling_link_and_a_missing_path_stop_the_build(tmp_path):
    package(tmp_path / "debs", "tool", {
        "usr/bin/tool": "->../lib/libgone.so.3",
        "usr/bin/other": b"program"})
    r, _ = build(tmp_path, "tool:usr/bin/tool")
    assert r.returncode != 0
    assert "tool:usr/bin/tool is a symbolic link to ../lib/libgone.so.3" in r.stderr, r.stderr
    r, _ = build(tmp_path, "tool:bin/nothere")
    assert r.returncode != 0
    assert "tool has no bin/nothere nor usr/bin/nothere" in r.stderr, r.stderr
    assert "    usr/bin/other" in r.stderr, r.stderr
    r, _ = build(tmp_path, "tool:lib/other")
    assert r.returncode != 0
    assert "tool has a file of that name: usr/bin/other" in r.stderr, r.stderr


def test_nothing_outside_the_package_or_the_image(tmp_path):
    """A list line's PATH or package, or a package's link, that leads out
    of the unpacked package or the image tree stops the build, and nothing
    is written or read outside them (the second review: '..' in a PATH
    wrote beside the tree, and a link's target '../../../outside' copied a
    host file into the image)."""
    outside = tmp_path / "outside-target"
    outside.write_bytes(b"host file")
    package(tmp_path / "debs", "evil", {
        "usr/lib/a": b"a",
        "usr/lib/up": "->../../../../outside-target",
        "usr/lib/abs": "->/../../outside-target"})
    around = sorted(os.listdir(tmp_path.parent))
    for entry in ("evil:../evil/usr/lib/a", "evil:/usr/lib/a", "../debs/evil:usr/lib/a",
                  "evil:usr/lib/up", "evil:usr/lib/abs"):
        r, root = build(tmp_path, entry)
        assert r.returncode != 0, (entry, r.stdout)
        assert "not a p" in r.stderr or "leads out" in r.stderr, (entry, r.stderr)
    assert sorted(os.listdir(tmp_path)) == ["debs", "outside-target", "root"]
    assert sorted(os.listdir(tmp_path.parent)) == around
    for top, _, files in os.walk(tmp_path / "root"):
        for name in files:
            path = os.path.join(top, name)
            assert os.path.islink(path) or open(path, "rb").read() != b"host file", path


def test_a_list_name_nothing_builds_is_named_before_anything_is_built():
    """A name of programs.list no rule builds (no tests/posix/NAME.c, or
    no NAME-musl style suffix) stops make with the list's name and what
    the list takes, not make's "No rule to make target"; a name that
    builds is not named. (POSIX_LIST as make's variable: the file is not
    touched, and the check fails before the root filesystem is made.)"""
    root = os.path.dirname(BUILD)
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    target = os.path.join(os.path.relpath(BUILD, root), "posix", "rootfs.cpio")
    r = subprocess.run(["make", target, "POSIX_LIST=hello-musl nosuch-musl prebuilt"],
                       cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "No rule to make target" not in r.stderr, r.stderr
    for name in ("nosuch-musl", "prebuilt"):
        assert (f"posix-server/programs.list: {name}: nothing builds it: NAME-musl, "
                "NAME-glibc, NAME-glibc-pie and NAME-dyn are built from tests/posix/NAME.c"
                in r.stderr), r.stderr
    assert "programs.list: hello-musl" not in r.stderr, r.stderr
    print("programs.list: names nothing builds are named with what the list takes")
