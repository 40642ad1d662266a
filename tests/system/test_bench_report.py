"""bench/report.py, the writer of docs/benchmarks.md, on made-up
measurements in a temporary tree (no QEMU): the sections measured in a run
are stamped with the version that run built, the others keep their own
numbers and stamps, and every figure that moved is printed."""
import importlib.util
import json
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_report(tmp):
    """bench/report.py with its paths moved into tmp."""
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    (tmp / "bench").mkdir()
    (tmp / "docs").mkdir()
    (tmp / "build" / "bench").mkdir(parents=True)
    shutil.copy(ROOT / "bench" / "benchmarks.md.in", tmp / "bench")
    report.ROOT = str(tmp)
    report.BUILD = str(tmp / "build" / "bench")
    report.RESULTS = str(tmp / "bench" / "results.json")
    report.REPORT = str(tmp / "docs" / "benchmarks.md")
    return report


def ipc(round_trip):
    return {"qemu": "QEMU emulator version 0.0",
            "configs": [{"key": "fast", "name": "instructions (fast path)"},
                        {"key": "general", "name": "instructions (general path)"},
                        {"key": "ticks", "name": "TCG ticks (fast path)"}],
            "rows": [{"key": "ipc_call_reply_cross_task", "label": "round trip"}],
            "results": {"fast": {"ipc_call_reply_cross_task": round_trip},
                        "general": {"ipc_call_reply_cross_task": 1000.0},
                        "ticks": {}},
            "fastpath_hits": {"fast": 7, "general": 0, "ticks": 7}}


NIC = {"seconds": 5, "window": 64,
       "results": [{"nic": "e1000", "frame": 64, "fps": 1000.0, "mbit": 0.5}]}


def run(report, tmp, version, measured, ran):
    """One make bench: .started, then the measurements, then the report."""
    bench = tmp / "build" / "bench"
    (bench / ".started").write_text(version + "\n")
    now = os.path.getmtime(bench / ".started")
    for old in bench.glob("*.json"):                # earlier runs'
        os.utime(old, (now - 100, now - 100))
    os.utime(bench / ".started", (now - 10, now - 10))
    for name, data in measured.items():
        (bench / f"{name}.json").write_text(json.dumps(data))
    assert report.main(ran) == 0
    return (tmp / "docs" / "benchmarks.md").read_text()


def test_report_keeps_sections_not_run_and_prints_what_moved(tmp_path, capsys):
    report = load_report(tmp_path)
    text = run(report, tmp_path, "v1", {"ipc": ipc(600.0), "nic": NIC}, ["ipc", "nic"])
    assert "| round trip | 600 | 1000 | n/a |" in text
    assert "| e1000 | 64 B | 1000 | 0.5 |" in text
    assert text.count("at commit `v1`") == 2
    assert "Not measured yet" in text              # net and outage
    assert "@" not in text.replace("<!--", "")      # every placeholder filled
    capsys.readouterr()

    # The second run measures IPC only; its older nic.json is not this run's.
    text = run(report, tmp_path, "v2", {"ipc": ipc(500.0)}, ["ipc", "nic"])
    assert "| round trip | 500 | 1000 | n/a |" in text
    assert "at commit `v2`" in text and "at commit `v1`" in text
    out = capsys.readouterr().out
    assert "round trip, instructions (fast path): 600 -> 500 (-16.7%)" in out
    assert "general path" not in out                # 1000 -> 1000 did not move
    assert "nic: no numbers from this run" in out
    saved = json.loads((tmp_path / "bench" / "results.json").read_text())["sections"]
    assert saved["ipc"]["commit"] == "v2" and saved["nic"]["commit"] == "v1"


def profile(netstack_share, us):
    summary = {"components": {"idle": 0.1, "kernel": 0.1, "driver": 0.8 - netstack_share,
                              "netstack": netstack_share},
               "parts": {"netstack: lwIP TCP": netstack_share / 2,
                         "netstack: checksums": netstack_share / 2, "driver": 0.3},
               "top": [["netstack: tcp_input", 0.2]], "us_per_frame": us,
               "frames_per_s": 1000.0, "qemu_vcpu_cpu": 0.75, "qemu_other_cpu": 0.2,
               "qemu_us_per_frame": us, "rwnd_limited": 0.4}
    return {"sample_ms": 2, "window_s": 5, "elapsed_s": 30, "host_load_at_start": 1.0,
            "results": [{"nic": "e1000", "direction": "to guest", "samples": 2000,
                         "data_frames": 5000, "summary": summary},
                        {"nic": "virtio-net", "direction": "to guest",
                         "error": "the transfer did not last through the sampling"}]}


def test_report_profile_section(tmp_path, capsys):
    report = load_report(tmp_path)
    text = run(report, tmp_path, "v1", {"profile": profile(0.5, 10.0)}, ["profile"])
    assert ("| e1000 | to guest | 10.0 | 75% | 20% | 2000 | 1000 | 10.0 | 10% | 10% | 30% "
            "| 50% |") in text
    assert "| virtio-net | to guest | — |" in text
    assert "Not completed: virtio-net to guest: the transfer did not last" in text
    assert "| lwIP TCP | 25% |" in text and "| checksums | 25% |" in text
    assert "| e1000 | to guest | netstack: tcp_input 20% |" in text
    assert "busy time (Linux's `rwnd_limited`, over the whole connection): e1000 40%." in text
    capsys.readouterr()
    # Shares move in points (more than 5), times relatively (more than 10%).
    run(report, tmp_path, "v2", {"profile": profile(0.4, 10.5)}, ["profile"])
    out = capsys.readouterr().out
    assert "e1000 to guest, netstack % of samples: 50.00 -> 40.00 (-10 points)" in out
    assert "e1000 to guest, driver % of samples: 30.00 -> 40.00 (+10 points)" in out
    assert "QEMU CPU µs per data frame" not in out


def iperf3(mica_to, calls_per_mib):
    rows = [{"nic": "virtio-net", "direction": d, "linux_mbit": 1000.0,
             "linux_runs": [900.0, 1000.0, 1100.0], "mica_mbit": m, "mica_runs": [m],
             "ratio": m / 1000.0} for d, m in (("to guest", mica_to), ("from guest", 500.0))]
    return {"seconds": 5, "runs": 3, "elapsed_s": 60, "host_load_at_start": 2.0,
            "linux": "linux-image-test", "skipped": {}, "results": rows,
            "syscalls": {"to guest": {"calls": 4000, "again": 10, "bytes": 100 * 2**20,
                                      "per_mib": calls_per_mib,
                                      "top": [["read", 16.0], ["pselect6", 8.0]]}}}


def test_report_iperf3_section(tmp_path, capsys):
    report = load_report(tmp_path)
    text = run(report, tmp_path, "v1", {"iperf3": iperf3(1200.0, 40.0)}, ["iperf3"])
    assert "| virtio-net | to guest | 1000 (900–1100) | 1200 | 1.20 |" in text
    assert "| virtio-net | from guest | 1000 (900–1100) | 500 | 0.50 |" in text
    assert "| to guest | 100 | 4000 | 40.0 | 10 | read 16.0, pselect6 8.0 |" in text
    assert "@" not in text.replace("<!--", "")
    capsys.readouterr()
    run(report, tmp_path, "v2", {"iperf3": iperf3(1000.0, 30.0)}, ["iperf3"])
    out = capsys.readouterr().out
    assert "virtio-net to guest, Mica/Linux: 1.20 -> 1.00 (-16.7%)" in out
    assert "Mica to guest, system calls per MiB: 40.00 -> 30.00 (-25.0%)" in out
