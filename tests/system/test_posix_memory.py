"""Memory spread far and many mappings, differentially against the host's
Linux (tests/posix/mapspread.c): 1000 abutting anonymous mmaps and one
munmap of them all (the server merges neighbouring regions, as Linux
merges mappings; a process has at most AS_MAX_REGIONS), mprotect round
trips, and 200 MiB touched in chunks unmapped as it goes or sparsely (the
kernel frees a page table when nothing in it is mapped any more, and
gives its charge back to the process's quota, PROCESS_QUOTA)."""
import re

import pytest

from posix_runs import run_list
from test_posix import on_linux, on_mica

RUNS = [("mapspread-musl", []), ("mapspread-glibc", []), ("mapspread-dyn", [])]


@pytest.fixture(scope="module")
def spread_output(tmp_path_factory):
    return run_list(tmp_path_factory.mktemp("posix-memory"), "posix-memory", RUNS, timeout=600)


@pytest.mark.parametrize("name,args", RUNS, ids=[name for name, _ in RUNS])
def test_posix_mappings_merge_and_spread_memory_runs_as_on_linux(spread_output, name, args):
    linux_lines, linux_end = on_linux(name, args, timeout=60)
    mica_lines, mica_end = on_mica(spread_output, name)
    assert "mapspread: done" in linux_lines, linux_lines
    assert mica_lines == linux_lines, f"{name}: Linux printed\n" + "\n".join(linux_lines)
    assert mica_end == linux_end
    assert not re.search(r"out of memory", spread_output), spread_output
