"""How QEMU's threads got the host's CPUs during a run: sampled from
/proc/PID/task/*/schedstat (Linux's Documentation/scheduler/sched-stats.rst:
time on a CPU, time runnable waiting for one, in ns) and /proc/PID/task/*/stat
(the state letter) every PERIOD seconds on a thread of ours; the virtual
CPU's thread told by its name (/proc/PID/task/TID/comm, "CPU 0/TCG" when
QEMU runs with `-name ...,debug-threads=on`, as bench/net_rig.start_qemu
starts it).

A run of a guest collapses when QEMU is runnable but gets no host CPU for
seconds (docs/drivers.md, "e1000 from the guest: where it stops"): the
guest stops, its peer's acknowledgements wait on the tap, and when it
runs again lwIP's retransmission timer has expired. `longest_starved_ms`
says how long the longest such stretch was, so a run's figure can be read
beside it.
"""
import os
import re
import threading
import time

PERIOD = 0.02
VCPU_THREAD = re.compile(r"^CPU \d+/TCG$")


def _threads(pid):
    """{tid: (state, ns on a CPU, ns runnable waiting)} of pid's threads."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait, _ = f.read().split()
        except (OSError, ValueError):
            continue                    # the thread ended meanwhile
        out[tid] = (stat[stat.rindex(")") + 2], int(run), int(wait))
    return out


class SchedSampler:
    """Samples pid's threads from start() to stop(); samples are
    (wall time, _threads(pid))."""

    def __init__(self, pid):
        self.pid = pid
        self.samples = []
        self.names = {}                 # tid: comm, read once
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self):
        while not self._stop.is_set():
            try:
                threads = _threads(self.pid)
            except OSError:
                return                  # the process is gone
            self.samples.append((time.time(), threads))
            for tid in threads:
                if tid not in self.names:
                    try:
                        with open(f"/proc/{self.pid}/task/{tid}/comm") as f:
                            self.names[tid] = f.read().strip()
                    except OSError:
                        self.names[tid] = ""
            self._stop.wait(PERIOD)

    def summary(self, t0=None, t1=None):
        """Between wall times t0 and t1 (default: all): ms sampled, ms on
        a CPU and ms runnable waiting (all threads), the same for the
        virtual CPU's threads alone (vcpu_on_cpu_ms, vcpu_waiting_ms; 0
        when QEMU's threads are not named) and the share of the time
        sampled that they waited (vcpu_waiting_pct), and the longest
        stretch in which some thread was runnable and none ran
        (longest_starved_ms). None when fewer than two samples."""
        inside = [(t, th) for t, th in self.samples
                  if (t0 is None or t >= t0) and (t1 is None or t <= t1)]
        if len(inside) < 2:
            return None
        on_cpu = waiting = vcpu_on = vcpu_wait = 0
        vcpu = {t for t, n in self.names.items() if VCPU_THREAD.match(n)}
        longest = stretch = 0.0
        for (ta, a), (tb, b) in zip(inside, inside[1:]):
            ran = sum(b[t][1] - a[t][1] for t in b if t in a)
            on_cpu += ran
            waiting += sum(b[t][2] - a[t][2] for t in b if t in a)
            vcpu_on += sum(b[t][1] - a[t][1] for t in b if t in a and t in vcpu)
            vcpu_wait += sum(b[t][2] - a[t][2] for t in b if t in a and t in vcpu)
            runnable = any(s == "R" for s, _, _ in a.values()) and \
                any(s == "R" for s, _, _ in b.values())
            if runnable and ran == 0:
                stretch += tb - ta
                longest = max(longest, stretch)
            else:
                stretch = 0.0
        sampled = inside[-1][0] - inside[0][0]
        return {"sampled_ms": round(sampled * 1000),
                "on_cpu_ms": round(on_cpu / 1e6), "waiting_ms": round(waiting / 1e6),
                "vcpu_on_cpu_ms": round(vcpu_on / 1e6), "vcpu_waiting_ms": round(vcpu_wait / 1e6),
                "vcpu_waiting_pct": round(100 * vcpu_wait / 1e9 / sampled, 1) if sampled else None,
                "longest_starved_ms": round(longest * 1000)}

    def describe(self, t0=None, t1=None):
        s = self.summary(t0, t1)
        if not s:
            return "QEMU's scheduling: too few samples"
        return (f"QEMU in {s['sampled_ms']} ms: {s['on_cpu_ms']} ms on a host CPU, "
                f"{s['waiting_ms']} ms runnable waiting for one (the virtual CPU's thread "
                f"{s['vcpu_waiting_ms']}), longest stretch runnable "
                f"without a CPU {s['longest_starved_ms']} ms")
