#!/usr/bin/env python3
"""Put the files of Debian binary packages named in posix-server/programs.list
(PACKAGE:PATH lines) into the POSIX server's root filesystem tree, as the
packages ship them (docs/posix.md, "The root filesystem and adding a
program").

    tools/rootfs-debs.py DEBS ROOT PACKAGE:PATH...

DEBS/PACKAGE is the package unpacked (dpkg-deb -x); each PATH goes in at
ROOT/PATH, a symbolic link as a link. What a user copies from `ldd` need
not be the package's own spelling: Debian's /lib is /usr/lib (merged /usr),
so a PATH under lib/, lib64/, bin/ or sbin/ is also looked for under usr/
and the other way round. A symbolic link's target that no other line puts
into the image is taken from the same package too (a soname link and its
library), so no link in the image dangles; one the package does not have
either stops the build, as does a PATH the package does not have (with the
package's files of that name, or its list)."""
import os
import shutil
import sys

MERGED = ("lib", "lib32", "lib64", "libx32", "bin", "sbin")   # /X is /usr/X
LINKS_MAX = 8           # links followed one after the other, at most
LIST_MAX = 20           # files of a package shown when a PATH is not in it


def alternates(path):
    """path and what it is under merged /usr."""
    first = path.split("/", 1)[0]
    if first == "usr" and path.split("/")[1:2] and path.split("/")[1] in MERGED:
        return [path, path[len("usr/"):]]
    if first in MERGED:
        return [path, "usr/" + path]
    return [path]


def locate(pkgdir, path):
    """The package's own spelling of path, or None."""
    for p in alternates(path):
        if os.path.lexists(os.path.join(pkgdir, p)):
            return p
    return None


def package_files(pkgdir):
    for top, dirs, files in os.walk(pkgdir):
        dirs.sort()
        for name in sorted(files) + sorted(d for d in dirs if os.path.islink(os.path.join(top, d))):
            if name != ".unpacked":
                yield os.path.relpath(os.path.join(top, name), pkgdir)


def missing(package, pkgdir, path, why):
    base = os.path.basename(path)
    files = list(package_files(pkgdir))
    named = [f for f in files if os.path.basename(f) == base]
    lines = [f"posix-server/programs.list: {package}:{path}: {why}"]
    if named:
        lines.append(f"  {package} has a file of that name: " + ", ".join(named))
    else:
        lines.append(f"  {package}'s files (dpkg-deb -c shows them all):")
        lines += ["    " + f for f in files[:LIST_MAX]]
        if len(files) > LIST_MAX:
            lines.append(f"    ... {len(files) - LIST_MAX} more")
    sys.exit("\n".join(lines))


def confined(base, rel, what):
    """base/rel, when rel is a relative path that stays inside base, its
    directories' links followed too; else the build stops, saying what."""
    norm = os.path.normpath(rel) if rel else ""
    if not norm or os.path.isabs(rel) or norm == ".." or norm.startswith("../"):
        sys.exit(f"posix-server/programs.list: {what}: {rel!r} is not a path inside the package "
                 "or the image")
    path = os.path.join(base, norm)
    real_base = os.path.realpath(base)
    if os.path.commonpath([real_base, os.path.realpath(os.path.dirname(path))]) != real_base:
        sys.exit(f"posix-server/programs.list: {what}: {rel!r} leads out of {base} by a link")
    return path


def copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.lexists(dst):
        return
    if os.path.islink(src):
        os.symlink(os.readlink(src), dst)
    elif os.path.isdir(src):
        shutil.copytree(src, dst, symlinks=True)
    else:
        shutil.copy2(src, dst)


def link_target(dest, target):
    """Where in the image a link at dest to target points (relative to the
    image's root)."""
    if target.startswith("/"):
        return os.path.normpath(target.lstrip("/"))
    return os.path.normpath(os.path.join(os.path.dirname(dest), target))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    debs, root = sys.argv[1], sys.argv[2]
    links = []          # (package, the link's path in the image, in the package)
    for entry in sys.argv[3:]:
        package, _, path = entry.partition(":")
        if not package or "/" in package or package.startswith("."):
            sys.exit(f"posix-server/programs.list: {entry}: {package!r} is not a package name")
        pkgdir = os.path.join(debs, package)
        confined(pkgdir, path, entry)
        own = locate(pkgdir, path)
        if own is None:
            missing(package, pkgdir, path, f"{package} has no {' nor '.join(alternates(path))}")
        if own != path:
            print(f"  DEB     {package}: {path} is {own} in the package; put in at /{path}")
        copy(confined(pkgdir, own, entry), confined(root, path, entry))
        if os.path.islink(os.path.join(pkgdir, own)):
            links.append((package, path, own))
    # Every link's target in the image: from its package when no line put
    # it there (the lines are all in first, so one may name it later).
    for package, dest, own in links:
        pkgdir = os.path.join(debs, package)
        for _ in range(LINKS_MAX):
            target = os.readlink(os.path.join(pkgdir, own))
            what = f"{package}:{dest} -> {target}"
            dest_target = link_target(dest, target)
            if os.path.lexists(confined(root, dest_target, what)):
                break
            own_target = locate(pkgdir, os.path.relpath(
                confined(pkgdir, link_target(own, target), what), pkgdir))
            if own_target is None:
                sys.exit(f"posix-server/programs.list: {package}:{dest} is a symbolic link to "
                         f"{target}, which neither the image nor {package} has: add the line "
                         f"PACKAGE:{dest_target} of the package that has it (dpkg -S on the host "
                         "names it)")
            print(f"  DEB     {package}: {dest} -> {target}: /{dest_target} put in too")
            copy(confined(pkgdir, own_target, what), confined(root, dest_target, what))
            if not os.path.islink(os.path.join(pkgdir, own_target)):
                break
            dest, own = dest_target, own_target
        else:
            sys.exit(f"posix-server/programs.list: {package}:{dest}: more than {LINKS_MAX} "
                     "symbolic links in a row")


if __name__ == "__main__":
    main()
