#!/usr/bin/env python3
"""Attach this terminal to a serial console QEMU serves on a Unix socket.

Usage: tools/console.py [SOCKET]   (default: build/console.sock, make gdb's)

What is typed goes to the guest, what it prints comes here. On attaching
it sends the console a Ctrl-L, which makes Mica's console draw its prompt
and the line being typed again (it was drawn before anyone listened).
Ctrl-] leaves (QEMU keeps running; attach again later); Ctrl-A X quits
QEMU and Ctrl-A C switches to its monitor, as in `make run`. Only Python's standard library
is used, so nothing needs installing.
"""
import os
import select
import socket
import sys
import termios
import time
import tty

DETACH = b"\x1d"  # Ctrl-]
REDRAW = b"\x0c"  # Ctrl-L: the guest's console draws its line again


def connect(path, timeout=10.0):
    """A connection to the socket at path, waiting up to timeout seconds
    for it to appear (QEMU may still be starting)."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def relay(sock, fd_in, fd_out):
    """Copy between the socket and the terminal until Ctrl-] or either
    side closes. Returns why it stopped."""
    while True:
        ready, _, _ = select.select([sock, fd_in], [], [])
        if sock in ready:
            data = sock.recv(4096)
            if not data:
                return "QEMU closed the console"
            os.write(fd_out, data)
        if fd_in in ready:
            data = os.read(fd_in, 1024)
            if not data:
                return "end of input"
            if DETACH in data:
                sock.sendall(data[:data.index(DETACH)])
                return "detached"
            sock.sendall(data)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "console.sock")
    try:
        sock = connect(path)
    except OSError as e:
        sys.exit(f"console: cannot connect to {path}: {e.strerror} (is make gdb running?)")
    sock.sendall(REDRAW)
    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    saved = termios.tcgetattr(fd_in) if os.isatty(fd_in) else None
    if saved:
        print(f"console: attached to {path}; Ctrl-] leaves", flush=True)
        tty.setraw(fd_in)
        # Raw input, but keep output processing: the guest ends lines with
        # a bare newline now and then.
        attrs = termios.tcgetattr(fd_in)
        attrs[1] |= termios.OPOST | termios.ONLCR
        termios.tcsetattr(fd_in, termios.TCSANOW, attrs)
    try:
        why = relay(sock, fd_in, fd_out)
    finally:
        if saved:
            termios.tcsetattr(fd_in, termios.TCSADRAIN, saved)
        sock.close()
    if saved:
        print(f"\r\nconsole: {why}")


if __name__ == "__main__":
    main()
