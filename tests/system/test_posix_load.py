"""/proc/loadavg sampled on the POSIX server's timer every 5 s, as Linux
samples it (docs/posix.md, /proc): tests/posix/prio.c's `loadavg` mode
forks a child that computes for 12 s while nobody reads the averages;
read after the child ended, the 1-minute average has risen. Mica only:
the host's load is everybody's on a shared machine (prio.c's other
checks are compared with Linux's in test_posix.py)."""
import re

from posix_runs import run_list


def test_posix_loadavg_sampled_while_nobody_reads(tmp_path):
    out = run_list(tmp_path, "load", [("prio-musl", ["loadavg"])], timeout=300)
    m = re.search(r"^load rose while a child computed: (\w+) \(([\d.]+), then ([\d.]+)\)", out, re.M)
    assert m, out
    assert m.group(1) == "yes", m.group(0)
