"""The kernel clock keeps real time when QEMU falls behind: it is the TSC
(calibrated at boot), not a count of timer interrupts, which QEMU drops
when its process does not run (TCG on a loaded host; here SIGSTOP). QEMU's
virtual clock and TSC go on in host time while the process is stopped; the
APIC's periodic timer fires once on waking, for all the periods missed."""
import os
import re
import signal
import time

from qemu import boot_init, build_path

STOP_S = 3.0


def tick(q, since):
    """(guest clock in ms, host time seen) of the next ticker line."""
    m = q.wait_for(r"^ticker: tick \d+ of \d+ at clock (\d+) ms$", since=since, timeout=60)
    return int(m.group(1)), time.monotonic()


def test_clock_keeps_host_time_across_a_stopped_qemu(tmp_path):
    text = "program ticker priority=50 restart=never\n    args count=200 period=200 clock=1\n"
    q = boot_init(tmp_path, text, [(build_path("programs", "ticker.elf"), "ticker")], "clock")
    with q:
        q.wait_for(r"^ticker: tick 2 of 200 at clock")
        mark = q.mark()
        guest_a, host_a = tick(q, mark)
        stopped = time.monotonic()
        os.kill(q.proc.pid, signal.SIGSTOP)
        try:
            time.sleep(STOP_S)
        finally:
            os.kill(q.proc.pid, signal.SIGCONT)
        stopped = time.monotonic() - stopped
        guest_b, host_b = tick(q, q.mark())
        guest_s, host_s = (guest_b - guest_a) / 1000, host_b - host_a
        # The guest's clock went on through the stop (a tick-count clock
        # advanced by one period or so), and not faster than the host's.
        assert guest_s >= 0.8 * stopped, f"guest {guest_s:.3f} s over a {stopped:.3f} s stop"
        # (The host side is when the test read each line: allow for the
        # delay of reading the first.)
        assert guest_s <= host_s + 1.5, f"guest {guest_s:.3f} s, host {host_s:.3f} s"
