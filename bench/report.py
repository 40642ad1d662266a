#!/usr/bin/python3
"""Write docs/benchmarks.md, its plots and bench/results.json from the
measurements of `make bench` (docs/benchmarks.md says what each measures).

Usage: bench/report.py --start         when make bench begins
       bench/report.py [SECTION...]   SECTION: ipc nic net profile outage router firewall posix
                                      iperf3

The named sections were measured in this run: each takes its numbers from
build/bench/SECTION.json (written by bench/run_SECTION.py), provided that
file is newer than build/bench/.started (made by --start when `make
bench` began, holding the version it built and measured: the commit, and
"-dirty" if files other than this script's outputs differ from it), and is
stamped with today's date, that version and the QEMU version.
Every other section keeps what bench/results.json holds from an earlier
run, with that run's stamp; so a partial run (`make bench BENCH=ipc`)
regenerates the whole report. For each figure measured again, the change
against the previous report is printed.

Plots (PNG, gnuplot) go to docs/bench-*.png; without gnuplot they are
left as they were. Never fails on what was measured: a section with no
numbers says so.
"""
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build", "bench")
RESULTS = os.path.join(ROOT, "bench", "results.json")
REPORT = os.path.join(ROOT, "docs", "benchmarks.md")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
SECTIONS = ["ipc", "nic", "net", "profile", "outage", "router", "firewall", "posix", "iperf3"]

# How far a figure must move to be called a change: instruction counts
# are exact; throughput and times vary from run to run under TCG.
EXACT, NOISY = 0.005, 0.10
# Shares in percent move by a few points from run to run: a change is
# more than this many points (an absolute tolerance).
POINTS = ("points", 5.0)


def git(*args):
    r = subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "unknown"


# What this script writes: changes to them do not make a checkout dirty.
OUTPUTS = ["docs/benchmarks.md", "docs/bench-*.png", "bench/results.json"]


def source_version():
    """The checkout's commit, "-dirty" if anything but OUTPUTS changed."""
    commit = git("describe", "--always")
    changed = git("status", "--porcelain", "--", ".", *(f":!{p}" for p in OUTPUTS))
    return commit + ("-dirty" if changed else "")


def start():
    """make bench begins: build/bench/.started, holding the version built."""
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, ".started"), "w") as f:
        f.write(source_version() + "\n")


def built_version():
    """The version make bench built (its .started), else the checkout's."""
    try:
        with open(os.path.join(BUILD, ".started")) as f:
            version = f.read().strip()
        if version:
            return version
    except OSError:
        pass
    return source_version()


def qemu_version():
    try:
        r = subprocess.run([QEMU, "--version"], capture_output=True, text=True)
        return r.stdout.splitlines()[0]
    except (OSError, IndexError):
        return "QEMU (version unknown)"


def fresh(section, ran):
    """This run's numbers for section, or None."""
    path = os.path.join(BUILD, f"{section}.json")
    started = os.path.join(BUILD, ".started")
    if section not in ran or not os.path.exists(path):
        return None
    if os.path.exists(started) and os.path.getmtime(path) < os.path.getmtime(started):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# ---- figures: (name, value, tolerance) per section, for the comparison ----

def figures(section, data):
    if not data:
        return []
    out = []
    if section == "ipc":
        for row in data["rows"]:
            for c in data["configs"]:
                if c["key"] == "ticks":
                    continue            # host-speed dependent
                v = data["results"].get(c["key"], {}).get(row["key"])
                out.append((f"{row['label']}, {c['name']}", v, EXACT))
    elif section == "nic":
        for r in data["results"]:
            out.append((f"{r['nic']} {r['frame']} B frames/s", r["fps"], NOISY))
    elif section == "net":
        for r in data["results"]:
            out.append((f"{r['nic']} {r['direction']}, Linux Mbit/s", r["linux_mbit"], NOISY))
            out.append((f"{r['nic']} {r['direction']}, Mica Mbit/s", r["mica_mbit"], NOISY))
            out.append((f"{r['nic']} {r['direction']}, Mica/Linux", r["ratio"], NOISY))
    elif section == "profile":
        for r in data["results"]:
            s = r.get("summary")
            if not s:
                continue
            cell_name = f"{r['nic']} {r['direction']}"
            out.append((f"{cell_name}, QEMU CPU µs per data frame", s.get("qemu_us_per_frame"),
                        NOISY))
            out.append((f"{cell_name}, host µs per data frame sampled", s["us_per_frame"], NOISY))
            for c in PROFILE_COMPONENTS:
                out.append((f"{cell_name}, {c} % of samples",
                            100 * s["components"].get(c, 0), POINTS))
    elif section == "router":
        for r in data["results"]:
            for who in ("linux", "mica", "ratio"):
                out.append((f"{r['nics']} {r['test']}, {who}", r[who], NOISY))
    elif section == "outage":
        for r in data:
            for what in ("restarts_ms", "outages_ms"):
                v = median(r[what])
                out.append((f"{r['model']} {r['guest']} {what[:-4]} median ms", v, NOISY))
    elif section == "posix":
        # Instruction counts, but Linux's fork and copies move by several
        # percent from boot to boot (its timer and memory layout).
        for r in data["results"]:
            tol = EXACT if r["key"] in ("getpid", "pipe_latency", "clock_gettime") else NOISY
            for who in ("linux", "mica"):
                out.append((f"{r['key']}, {who} instructions", r[who], tol))
            out.append((f"{r['key']}, Mica/Linux", r["ratio"], tol))
    elif section == "iperf3":
        for r in data["results"]:
            out.append((f"{r['nic']} {r['direction']}, Linux Mbit/s", r["linux_mbit"], NOISY))
            out.append((f"{r['nic']} {r['direction']}, Mica Mbit/s", r["mica_mbit"], NOISY))
            out.append((f"{r['nic']} {r['direction']}, Mica/Linux", r["ratio"], NOISY))
        for r in data.get("udp") or []:
            # (to the guest unnamed, as before UDP was measured both ways)
            way = " from guest" if r.get("direction") == "from guest" else ""
            for who in ("linux", "mica"):
                out.append((f"{r['nic']} UDP {r['rate']}{way}, {who} datagrams/s",
                            r[f"{who}_dps"], NOISY))
                out.append((f"{r['nic']} UDP {r['rate']}{way}, {who} lost %",
                            r[f"{who}_lost_pct"], NOISY))
        for direction, c in (data.get("syscalls") or {}).items():
            out.append((f"Mica {direction}, system calls per MiB", c.get("per_mib"), NOISY))
    elif section == "firewall":
        for r in data["results"]:
            for what in ("tcp_mbit", "udp64_pps", "conn_per_s"):
                if what in r:
                    out.append((f"{r['guest']} {r['set']} {what}", r[what], NOISY))
    return out


def compare(section, old, new):
    """Lines saying where this run's figures moved against the previous."""
    before = {name: v for name, v, _ in figures(section, old)}
    lines = []
    for name, v, tol in figures(section, new):
        b = before.get(name)
        if v is None or b is None:
            if v is not None or b is not None:
                lines.append(f"  {name}: {fmt(b)} -> {fmt(v)}")
            continue
        if isinstance(tol, tuple):
            if abs(v - b) > tol[1]:
                lines.append(f"  {name}: {fmt(b)} -> {fmt(v)} ({v - b:+.0f} points)")
            continue
        if b == 0 or abs(v - b) / abs(b) > tol:
            rel = f" ({(v - b) / abs(b) * 100:+.1f}%)" if b else ""
            lines.append(f"  {name}: {fmt(b)} -> {fmt(v)}{rel}")
    return lines


def fmt(v):
    if v is None:
        return "n/a"
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}"


# ---- the plots ----

def gnuplot(script, name):
    """Run a gnuplot script writing docs/NAME; False without gnuplot."""
    if not shutil.which("gnuplot"):
        return False
    head = ("set terminal pngcairo size 800,420 font 'sans,10'\n"
            f"set output '{os.path.join(ROOT, 'docs', name)}'\n"
            "set style data histograms\nset style histogram clustered gap 1\n"
            "set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
            "set grid ytics\nset key top left\nset yrange [0:*]\n")
    r = subprocess.run(["gnuplot"], input=head + script, capture_output=True, text=True)
    if r.returncode:
        print(f"bench/report.py: gnuplot for {name}: {r.stderr.strip()}")
    return r.returncode == 0


def histogram(name, title, ylabel, rows, titles, extra=""):
    """A clustered bar chart of rows (label, value per title); a series
    with no value at all is left out (its table cell says why)."""
    keep = [i for i in range(len(titles)) if any(r[i + 1] is not None for r in rows)]
    if not keep:
        return False
    data = ["$d << EOD"]
    for label, *vals in rows:
        data.append(f'"{label}" ' + " ".join("NaN" if vals[i] is None else f"{vals[i]:g}"
                                            for i in keep))
    plots = [f"$d using {n + 2}" + (":xtic(1)" if n == 0 else "") + f" title '{titles[i]}'"
             for n, i in enumerate(keep)]
    return gnuplot("\n".join(data) + "\nEOD\n" + f"set title '{title}'\nset ylabel '{ylabel}'\n"
                   + extra + "plot " + ", ".join(plots) + "\n", name)


def plot_ipc(data):
    labels = {"null_syscall": "null syscall", "clock_syscall": "clock",
              "ipc_call_reply_cross_task": "call+reply",
              "ipc_send_one_way_cross_task": "one-way send",
              "mem_map_unmap_one_page": "map+unmap page"}
    res = data["results"]
    rows = [(labels.get(r["key"], r["key"]), res.get("fast", {}).get(r["key"]),
             res.get("general", {}).get(r["key"])) for r in data["rows"]]
    return histogram("bench-ipc.png", "Kernel costs in guest instructions (QEMU -icount)",
                     "instructions per operation", rows, ["fast path", "general path"])


def plot_net(data):
    rows = [(f"{r['nic']} {r['direction']}", r["linux_mbit"], r["mica_mbit"])
            for r in data["results"]]
    return histogram("bench-net.png", "iperf TCP throughput, median of runs (TCG, one vCPU)",
                     "Mbit/s", rows, ["Linux", "Mica"])


def plot_iperf3(data):
    rows = [(f"{r['nic']} {r['direction']}", r["linux_mbit"], r["mica_mbit"])
            for r in data["results"]]
    return histogram("bench-iperf3.png", "iperf3 TCP, the Debian binary on both, median of runs (TCG)",
                     "Mbit/s", rows, ["Linux", "Mica"])


def plot_router(data):
    def nics(pair):         # one name for a pair of one model, both for a mixed one
        models = pair.split("+")
        return models[0] if len(set(models)) == 1 else pair
    rows = [(f"{nics(r['nics'])} {r['test'][4:]}", r["linux"], r["mica"])
            for r in data["results"] if r["unit"] == "Mbit/s"]
    return histogram("bench-router.png", "iperf3 TCP through the router, median of runs (TCG)",
                     "Mbit/s", rows, ["Linux", "Mica"])


def plot_posix(data):
    labels = {"getpid": "getpid", "pipe_latency": "pipe latency",
              "pipe_bandwidth": "pipe 64 KiB", "fork": "fork+exit+wait",
              "clock_gettime": "clock_gettime"}
    rows = [(labels.get(r["key"], r["key"]), r["ratio"], r["target"]) for r in data["results"]]
    return histogram("bench-posix.png", "POSIX calls: Mica over Linux, guest instructions (QEMU -icount)",
                     "Mica / Linux (1 = as Linux)", rows, ["Mica / Linux", "target"],
                     "set key top right\n")


def median(xs):
    """As the benchmarks compute it (the mean of the middle two of an even
    count)."""
    return statistics.median(xs) if xs else None


def plot_outage(data):
    by = {}
    for r in data:
        by.setdefault(r["model"], {})[r["guest"]] = r
    rows = [(model, *(median(g.get(guest, {}).get(what, []))
                      for guest in ("Mica", "Linux") for what in ("restarts_ms", "outages_ms")))
            for model, g in by.items()]
    return histogram("bench-outage.png", "NIC driver restart under load, median per kill",
                     "ms (log scale)", rows,
                     ["Mica restart", "Mica outage", "Linux restart", "Linux outage"],
                     "set logscale y\nset yrange [1:*]\n")


# ---- the Markdown ----

def stamp(sec):
    return (f"Measured {sec['date']} at commit `{sec['commit']}` with {sec['qemu']}, "
            "TCG (no KVM), machine `pc`, `-cpu max`, one vCPU.")


def cell(v, digits=0):
    return "n/a" if v is None else f"{v:.{digits}f}"


def md_ipc(sec):
    data = sec["data"]
    res = data["results"]
    cols = data["configs"]
    lines = ["| operation | " + " | ".join(c["name"] for c in cols) + " |",
             "|---|" + "---:|" * len(cols)]
    for r in data["rows"]:
        lines.append(f"| {r['label']} | " + " | ".join(
            cell(res.get(c["key"], {}).get(r["key"])) for c in cols) + " |")
    hits = data.get("fastpath_hits", {})
    fast = res.get("fast", {})
    rt = fast.get("ipc_call_reply_cross_task")
    one = fast.get("ipc_send_one_way_cross_task")
    text = "\n".join(lines) + "\n\n"
    text += (f"The kernel counted {cell(hits.get('fast'))} fast-path IPCs in the fast-path run "
             f"and {cell(hits.get('general'))} with `nofastpath`.\n\n")
    text += "![Kernel costs in guest instructions](bench-ipc.png)\n\n"
    text += ("### Beside the published seL4 numbers\n\n"
             "| | Mica (this table) | seL4 x86_64 (published) |\n|---|---|---|\n"
             f"| call + reply round trip | {cell(rt)} guest instructions | call about 850 cycles "
             "+ reply about 830 cycles (Skylake, seL4 performance page) |\n"
             f"| one-way IPC | {cell(one)} guest instructions (general path) | 301 cycles "
             "(Haswell, 2013 table of Elphinstone & Heiser's SOSP'13 paper) |\n\n")
    return text


def md_nic(sec):
    lines = ["| NIC | frame | frames/s | Mbit/s (one way) |", "|---|---|---:|---:|"]
    for r in sec["data"]["results"]:
        lines.append(f"| {r['nic']} | {r['frame']} B | {r['fps']:.0f} | {r['mbit']:.1f} |")
    return "\n".join(lines) + "\n"


def rng(xs):
    return f" ({min(xs):.0f}–{max(xs):.0f})" if len(xs) > 1 else ""


def with_range(v, runs):
    """A median and the range of the runs it is the median of."""
    return cell(v) + rng(runs) if v else "n/a"


def md_side_by_side(d, what, heads, keys, linux, mica):
    """The lines of a table of Linux beside Mica from a run's data d: what
    ran (what: the test and its seconds) with the run's median, time, load
    and Linux guest; the header (heads: every column but Mica/Linux); a
    row per result (its keys' fields, then the fields linux and mica with
    their ranges, and the ratio); a line per guest skipped."""
    mode = pin_mode(d)
    lines = [f"{what}, median (and range) of {d['runs']} runs; {d['elapsed_s']} s in all; "
             f"host load {d['host_load_at_start']} at the start; "
             + (f"QEMU pinned: `{mode}` (`MICA_BENCH_PIN`); " if mode else "")
             + f"Linux guest {d.get('linux') or 'skipped'}.", "",
             "| " + " | ".join(heads + ["Mica/Linux"]) + " |",
             "|" + "---|" * len(keys) + "---:|" * 3]
    for r in d["results"]:
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append("| " + " | ".join(str(r[k]) for k in keys) + " | "
                     f"{with_range(r[linux], r['linux_runs'])} | "
                     f"{with_range(r[mica], r['mica_runs'])} | {ratio} |")
    for guest, why in (d.get("skipped") or {}).items():
        lines += ["", f"{guest} was skipped in that run: {why}"]
    return lines


def pin_mode(d):
    """How the run placed QEMU's threads on the host's CPUs (bench/net_rig.py's
    PIN_MODES), or None if it did not say. Runs before the modes had a
    taskset prefix for all of QEMU or none."""
    p = d.get("pinning")
    if not p:
        return None
    return p.get("mode") or ("all" if p.get("qemu") else "none")


# Columns of the iperf tables: NIC and direction, then Mbit/s.
IPERF_COLUMNS = (["NIC", "direction", "Linux Mbit/s", "Mica Mbit/s"], ["nic", "direction"],
                 "linux_mbit", "mica_mbit")


STARVED_MS = 500       # a run whose QEMU waited this long for a host CPU is named


def md_starved(d):
    """A line naming the runs in which QEMU was runnable without a host CPU
    for STARVED_MS or longer (run_net.py's and run_iperf3.py's *_starved_ms), or none."""
    named = []
    for r in d["results"]:
        for guest in ("linux", "mica"):
            for i, ms in enumerate(r.get(f"{guest}_starved_ms") or []):
                if ms is not None and ms >= STARVED_MS:
                    named.append(f"{r['nic']} {r['direction']}, {guest.capitalize()}'s "
                                 f"run {i + 1}: {ms / 1000:.1f} s")
    if not named:
        return []
    return ["", "QEMU runnable but without a host CPU for 0.5 s or more at a stretch "
            "during the transfer (the host starved it; such a run collapses, "
            "docs/drivers.md): " + "; ".join(named) + "."]


def md_vcpu_waiting(d):
    """A line with the share of each transfer that QEMU's virtual CPU's
    thread spent runnable waiting for a host CPU (*_vcpu_waiting_pct,
    bench/qemu_sched.py), median per guest and cell, or none if the run did
    not sample it."""
    cells = []
    for r in d["results"]:
        got = {}
        for guest in ("linux", "mica"):
            xs = [x for x in r.get(f"{guest}_vcpu_waiting_pct") or [] if x is not None]
            if xs:
                got[guest] = statistics.median(xs)
        if got:
            cells.append(f"{r['nic']} {r['direction']} " + ", ".join(
                f"{g.capitalize()} {v:.0f}%" for g, v in got.items()))
    if not cells:
        return []
    return ["", "QEMU's virtual CPU's thread runnable but waiting for a host CPU, share of "
            "the transfer (median): " + "; ".join(cells) + "."]


def md_net(sec):
    d = sec["data"]
    lines = md_side_by_side(d, f"iperf 2 TCP, {d['seconds']} s per run", *IPERF_COLUMNS)
    lines += md_starved(d) + md_vcpu_waiting(d)
    return "\n".join(lines) + "\n\n![TCP throughput, Mica beside Linux](bench-net.png)\n"


def md_iperf3(sec):
    d = sec["data"]
    lines = md_side_by_side(d, f"Debian's iperf3 TCP, {d['seconds']} s per run", *IPERF_COLUMNS)
    lines += md_starved(d) + md_vcpu_waiting(d)
    udp = d.get("udp") or []
    if udp:
        lines += ["", f"UDP at {udp[0]['rate']}bit/s (`-u -b {udp[0]['rate']}`, datagrams of "
                  "1460 bytes, 8,560 a second asked), to the guest and from it (`-R`: the "
                  "guest's iperf3 paces itself to the rate): the datagrams a second the "
                  "receiving iperf3 got, and the share lost, median (and range):", "",
                  "| NIC | direction | Linux datagrams/s | Mica datagrams/s | Linux lost % "
                  "| Mica lost % |", "|---|---|---:|---:|---:|---:|"]
        def lost(v, xs):
            return "n/a" if v is None else cell(v, 1) + (
                f" ({min(xs):.1f}–{max(xs):.1f})" if len(xs) > 1 else "")
        for r in udp:
            lines.append(f"| {r['nic']} | {r.get('direction', 'to guest')} | "
                         f"{with_range(r['linux_dps'], [x[0] for x in r['linux_runs']])} | "
                         f"{with_range(r['mica_dps'], [x[0] for x in r['mica_runs']])} | "
                         f"{lost(r['linux_lost_pct'], [x[1] for x in r['linux_runs']])} | "
                         f"{lost(r['mica_lost_pct'], [x[1] for x in r['mica_runs']])} |")
    calls = d.get("syscalls") or {}
    if calls:
        lines += ["", "Mica's iperf3 on virtio-net, its system calls counted by the POSIX "
                  "server (`syscount=1`, one `iperf3 -s -1` test each way and one of UDP "
                  "each way):", "",
                  "| direction | MiB moved | calls | calls per MiB | made again after waiting "
                  "| the most frequent, per MiB |", "|---|---:|---:|---:|---:|---|"]
        for direction, c in calls.items():
            top = ", ".join(f"{n} {v:.1f}" for n, v in c.get("top", []))
            lines.append(f"| {direction} | {c['bytes'] / 2**20:.0f} | {c['calls']} | "
                         f"{cell(c.get('per_mib'), 1)} | {c.get('again', 'n/a')} | {top} |")
    return "\n".join(lines) + "\n\n![Debian's iperf3, Mica beside Linux](bench-iperf3.png)\n"


def md_outage(sec):
    lines = ["| NIC | guest | kills | restart median (min–max), ms | outage median (min–max), ms "
             "| TCP transfer survived |", "|---|---|---:|---|---|---|"]
    for r in sec["data"]:
        s, o = r["restarts_ms"], r["outages_ms"]
        if not o:
            lines.append(f"| {r['model']} | {r['guest']} | 0 | — | — | {r['note'] or 'no'} |")
            continue
        lines.append(f"| {r['model']} | {r['guest']} | {len(o)} | {median(s):.0f} "
                     f"({min(s)}–{max(s)}) | {median(o):.0f} ({min(o)}–{max(o)}) | "
                     f"{'yes' if r['survived'] else 'no'} {r['note']} |")
    return "\n".join(lines) + "\n\n![Driver restart and outage](bench-outage.png)\n"


def md_router(sec):
    d = sec["data"]
    lines = md_side_by_side(d, f"iperf3, {d['seconds']} s per test",
                            ["NICs", "test", "unit", "Linux", "Mica"], ["nics", "test", "unit"],
                            "linux", "mica")
    return "\n".join(lines) + "\n\n![TCP through the router, Mica beside Linux](bench-router.png)\n"


PROFILE_COMPONENTS = ["idle", "kernel", "driver", "netstack"]


def pct(x):
    return "—" if x is None else f"{100 * x:.0f}%"


def md_profile_tables(rows):
    """bench/run_profile.py's tables: the components' shares per run, the
    netstack's parts, the top functions."""
    ok = [r for r in rows if r.get("summary")]
    lines = ["| NIC | direction | QEMU CPU µs per data frame | QEMU vCPU thread | "
             "QEMU other threads | samples | data frames/s sampled | host µs per data frame "
             "sampled | idle | kernel | driver | netstack |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        s = r.get("summary")
        if not s:
            lines.append(f"| {r['nic']} | {r['direction']} |" + " — |" * 10)
            continue
        c = s["components"]
        lines.append(f"| {r['nic']} | {r['direction']} | {cell(s.get('qemu_us_per_frame'), 1)} | "
                     f"{pct(s.get('qemu_vcpu_cpu'))} | {pct(s.get('qemu_other_cpu'))} | "
                     f"{r['samples']} | {s['frames_per_s']:.0f} | {cell(s['us_per_frame'], 1)} | "
                     + " | ".join(pct(c.get(k)) for k in PROFILE_COMPONENTS) + " |")
    errors = [f"{r['nic']} {r['direction']}: {r['error']}" for r in rows if r.get("error")]
    if errors:
        lines += ["", "Not completed: " + "; ".join(errors) + "."]
    windows = [f"{r['nic']} {pct(r['summary']['rwnd_limited'])}" for r in ok
               if r["summary"].get("rwnd_limited") is not None]
    if windows:
        lines += ["", "The namespace's sender (to guest) waited for Mica's receive window "
                  "for this share of its busy time (Linux's `rwnd_limited`, over the whole "
                  "connection): " + ", ".join(windows) + "."]
    if not ok:
        return "\n".join(lines) + "\n"
    parts = sorted({p for r in ok for p in r["summary"]["parts"] if p.startswith("netstack:")},
                   key=lambda p: -max(r["summary"]["parts"].get(p, 0) for r in ok))
    shown = [p for p in parts if max(r["summary"]["parts"].get(p, 0) for r in ok) >= 0.01]
    rest = [p for p in parts if p not in shown]
    lines += ["", "The netstack's samples by part (percent of all samples; parts under 1% "
              "everywhere together as \"the rest\"):", "",
              "| part | " + " | ".join(f"{r['nic']} {r['direction']}" for r in ok) + " |",
              "|---|" + "---:|" * len(ok)]
    for p in shown:
        lines.append(f"| {p[len('netstack: '):]} | "
                     + " | ".join(pct(r["summary"]["parts"].get(p, 0)) for r in ok) + " |")
    if rest:
        lines.append("| the rest | " + " | ".join(
            pct(sum(r["summary"]["parts"].get(p, 0) for p in rest)) for r in ok) + " |")
    lines += ["", "The functions with the most samples (percent of all samples; the idle "
              "`hlt` left out):", "", "| NIC | direction | functions |", "|---|---|---|"]
    for r in ok:
        lines.append(f"| {r['nic']} | {r['direction']} | "
                     + ", ".join(f"{f} {pct(v)}" for f, v in r["summary"]["top"]) + " |")
    return "\n".join(lines) + "\n"


def md_profile(sec):
    d = sec["data"]
    head = (f"A sample every {d['sample_ms']:g} ms for {d['window_s']:g} s of each transfer; "
            f"{d['elapsed_s']} s in all; host load {d['host_load_at_start']} at the start.")
    return head + "\n\n" + md_profile_tables(d["results"])


FIREWALL_SETS = ["route", "masq50", "rules-10", "rules-100", "rules-1000"]


def firewall_cost_us(rows, guest, key):
    """The per-packet cost of a rule set against forwarding alone, µs:
    1/rate(set) - 1/rate(route) for 64-byte datagrams."""
    rate = {r["set"]: r.get("udp64_pps") for r in rows if r["guest"] == guest}
    if not rate.get("route") or not rate.get(key):
        return None
    return (1.0 / rate[key] - 1.0 / rate["route"]) * 1e6


def md_firewall_table(d):
    """The firewall section's tables from bench/run_firewall.py's data."""
    rows = d["results"]

    def get(guest, key, what):
        return next((r.get(what) for r in rows if r["guest"] == guest and r["set"] == key), None)

    lines = [f"iperf 2 through the router (LAN e1000, WAN virtio-net), {d['seconds']} s each; "
             f"Linux router {d.get('linux') or 'skipped'}.", "",
             "| rule set | Linux TCP Mbit/s | Mica TCP Mbit/s | Mica/Linux | Linux 64 B datagrams/s "
             "| Mica 64 B datagrams/s |", "|---|---:|---:|---:|---:|---:|"]
    for key in FIREWALL_SETS:
        lx, mc = get("Linux", key, "tcp_mbit"), get("Mica", key, "tcp_mbit")
        ratio = mc / lx if mc and lx else None
        lines.append(f"| {key} | {cell(lx)} | {cell(mc)} | {cell(ratio, 2)} | "
                     f"{cell(get('Linux', key, 'udp64_pps'))} | {cell(get('Mica', key, 'udp64_pps'))} |")
    lines += ["", "| | Linux | Mica |", "|---|---:|---:|",
              f"| new TCP connections/s through NAT (masq50) | "
              f"{cell(get('Linux', 'masq50', 'conn_per_s'))} | {cell(get('Mica', 'masq50', 'conn_per_s'))} |"]
    for key in FIREWALL_SETS[2:]:
        lines.append(f"| per-packet cost of {key[6:]} rules, µs (64 B datagrams, against route) | "
                     f"{cell(firewall_cost_us(rows, 'Linux', key), 2)} | "
                     f"{cell(firewall_cost_us(rows, 'Mica', key), 2)} |")
    errors = [f"{r['guest']} {r['set']}: {r['error']}" for r in rows if r.get("error")]
    if errors:
        lines += ["", "Not completed: " + "; ".join(errors) + "."]
    return "\n".join(lines) + "\n"


def md_firewall(sec):
    return md_firewall_table(sec["data"])


def md_posix(sec):
    d = sec["data"]
    n = d.get("iterations", {})
    lines = [f"Guest instructions per operation (QEMU `-icount shift=0`), the same static binary "
             f"on both; {d['elapsed_s']} s in all.", "",
             "| operation | iterations | Linux | Mica | Mica/Linux | target |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in d["results"]:
        ratio = cell(r["ratio"], 2)
        target = f"<= {r['target']}" if r["target"] else ""
        met = "" if r["ratio"] is None or not r["target"] else (
            " (met)" if r["ratio"] <= r["target"] else " (missed)")
        lines.append(f"| {r['label']} | {cell(n.get(r['key']))} | {cell(r['linux'])} | "
                     f"{cell(r['mica'])} | {ratio}{met} | {target} |")
    bw = next((r for r in d["results"] if r["key"] == "pipe_bandwidth"), None)
    if bw and (bw.get("linux_mib_s") or bw.get("mica_mib_s")):
        lines += ["", f"Pipe bandwidth in guest time (1 instruction per ns): Linux "
                  f"{cell(bw.get('linux_mib_s'))} MiB/s, Mica {cell(bw.get('mica_mib_s'))} MiB/s."]
    return "\n".join(lines) + "\n\n![POSIX calls, Mica over Linux](bench-posix.png)\n"


MD = {"ipc": md_ipc, "nic": md_nic, "net": md_net, "profile": md_profile, "outage": md_outage,
      "router": md_router, "firewall": md_firewall, "posix": md_posix, "iperf3": md_iperf3}
PLOT = {"ipc": plot_ipc, "net": plot_net, "outage": plot_outage, "router": plot_router,
        "posix": plot_posix, "iperf3": plot_iperf3}


def section_text(name, sec):
    if not sec:
        return "Not measured yet: run `make bench`."
    return (stamp(sec) + "\n\n" + MD[name](sec)).rstrip("\n")


def main(argv):
    if argv[:1] == ["--start"]:
        start()
        return 0
    ran = [a for a in argv if a in SECTIONS]
    try:
        with open(RESULTS) as f:
            previous = json.load(f).get("sections", {})
    except (OSError, ValueError):
        previous = {}
    today = datetime.date.today().isoformat()
    commit, qemu = built_version(), qemu_version()
    sections, moved = {}, []
    for name in SECTIONS:
        data = fresh(name, ran)
        old = previous.get(name)
        if data is None:
            sections[name] = old
            if name in ran:
                print(f"bench/report.py: {name}: no numbers from this run; keeping "
                      + (f"those of {old['date']}" if old else "nothing"))
            continue
        sections[name] = {"date": today, "commit": commit, "qemu": qemu, "data": data}
        lines = compare(name, old["data"] if old else None, data)
        if old:
            moved.append(f"{name} (against {old['date']}, {old['commit']}):")
            moved += lines or ["  no figure moved"]
        else:
            moved.append(f"{name}: first measurement, nothing to compare with")
    with open(RESULTS, "w") as f:
        json.dump({"sections": sections}, f, indent=1, sort_keys=True)
        f.write("\n")
    for name, plot in PLOT.items():
        if sections.get(name) and (name in ran or not os.path.exists(
                os.path.join(ROOT, "docs", f"bench-{name}.png"))):
            plot(sections[name]["data"])
    template = open(os.path.join(ROOT, "bench", "benchmarks.md.in")).read()
    text = template
    for name in SECTIONS:
        text = text.replace(f"@{name.upper()}@", section_text(name, sections.get(name)))
    with open(REPORT, "w") as f:
        f.write(text)
    print(f"bench/report.py: wrote {os.path.relpath(REPORT, ROOT)} and "
          f"{os.path.relpath(RESULTS, ROOT)}")
    if moved:
        print("Changes against the previous report:")
        print("\n".join(moved))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
