"""The POSIX server booted alone with a run list (`args runfile=runs`):
it runs each line's program with its arguments, one after the other, and
says "posix: all programs ended" after the last. With `memlog=1` it logs
its memory and kernel quota before each program and after the last
(MEMORY matches those lines)."""
import re

from qemu import boot_init, build_path

MANIFEST = """program posix-server priority=90 quota=40960 memory=65536
    file rootfs
    file runs
    ioports 0x70-0x71
    args runfile=runs{args}
"""
MEMORY = re.compile(r"^posix: memory: (\d+) pages in use, (\d+) kept; "
                    r"kernel quota (\d+) bytes used$", re.M)


def run_list(tmp, name, runs, memlog=False, timeout=600, args=()):
    """Boot the server with runs ([(program, [arg, ...])], an argument with
    a space quoted) in tmp, and args (more of the server's own, such as
    "syscount=1"); the console output once every program ended."""
    quoted = lambda arg: f"'{arg}'" if " " in arg else arg
    path = tmp / "runs"
    path.write_text("".join(f"{prog} {' '.join(map(quoted, args))}\n" for prog, args in runs))
    modules = [(build_path("posix-server.elf"), "posix-server"),
               (build_path("posix", "rootfs.cpio"), "rootfs"), (str(path), "runs")]
    manifest = MANIFEST.format(args="".join(f" {a}" for a in (["memlog=1"] if memlog else []) +
                                            list(args)))
    with boot_init(tmp, manifest, modules, name) as q:
        q.wait_for(r"^posix: all programs ended; memory: ", timeout=timeout)
        out = q.output()
    (tmp / "console.log").write_text(out)
    return out
