"""Repeating log lines are rate-limited (lib/ratelimit.h): a program whose
server is gone backs off (up to a second between tries) and prints a
burst, then one line a second with a "(last message repeated N times)"
summary, instead of flooding the console.
No NIC is needed: the netstack serves sockets without one."""
import re
import time

from qemu import boot_init, build_path


def test_netecho_errors_stay_bounded_once_the_netstack_is_gone(tmp_path):
    text = ("program netstack dma=4096 priority=100 restart=never\n"
            "    args nic=eth0 eth0.addr=10.9.0.2/24 iperf=off\n"
            "program netecho priority=90 restart=never\n"
            "program console priority=160 control=yes\n    irq 4\n")
    q = boot_init(tmp_path, text,
                  [(build_path("netstack.elf"), "netstack"),
                   (build_path("programs", "netecho.elf"), "netecho"),
                   (build_path("appliance", "console.elf"), "console")], "ratelimit")
    with q:
        q.wait_for(r"^netecho: echo on TCP and UDP port 7")
        q.wait_for(r"^console: ready")
        mark = q.mark()
        q.send("kill netstack")
        q.wait_for(r"^init: netstack killed at \d+ ms; restart=never, left down$", since=mark)
        # Without the limiter the UDP loop alone printed about 30,000
        # lines a second here; without the backoff it still tried as often
        # (the limiter said "last message repeated" thousands of times).
        # Each loop now waits twice as long after each error, up to a
        # second: over 8 s, a few dozen tries in all, every one said
        # (within each role's burst of 10, then one a second).
        time.sleep(8)
        lines = q.output().splitlines()[mark:]
        errors = [l for l in lines if re.match(r"^netecho: [\w-]+: \w+: error \d+$", l)]
        held = [int(n) for n in re.findall(r"^netecho: \(last message repeated (\d+) times\)$",
                                            "\n".join(lines), re.M)]
        assert errors, "\n".join(lines)
        assert len(errors) < 60, "\n".join(lines)
        assert len(errors) + sum(held) < 100, "\n".join(lines)
