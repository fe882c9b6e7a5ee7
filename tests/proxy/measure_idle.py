#!/usr/bin/env python3
"""measure_idle.py - user memory per idle established connection.

    ulimit -n 65536; tests/proxy/measure_idle.py WRAPD [N] [WORKERS]

Starts wrapd (quick mode, TCP backend on loopback), opens N connections
through it (default 5000), moves one byte each way on each so every one is
fully established and relayed, then leaves them idle and reads wrapd's
VmRSS and its heap in use (from /proc/PID/smaps_rollup: Private_Dirty +
Anonymous).  Prints the increase per connection against a baseline taken
with 100 connections open (so one-time costs -- threads, arenas, pool --
are not counted per connection).  Not a pass/fail test: a measurement.
"""
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time


def rss(pid):
    st = open("/proc/%d/status" % pid).read()
    vm = int(re.search(r"VmRSS:\s+(\d+) kB", st).group(1))
    roll = open("/proc/%d/smaps_rollup" % pid).read()
    anon = int(re.search(r"Anonymous:\s+(\d+) kB", roll).group(1))
    return vm, anon


def main():
    wrapd = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    workers = sys.argv[3] if len(sys.argv) > 3 else "0"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * n + 200
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))
    d = tempfile.mkdtemp(prefix="wrapd-idle-")
    open(d + "/allow", "w").write("ALL: ALL\n")
    open(d + "/deny", "w").write("")

    be = socket.socket()
    be.bind(("127.0.0.1", 0))
    be.listen(4096)
    be.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(be, selectors.EVENT_READ)
    held = []

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    p = subprocess.Popen([wrapd, "--listen", "127.0.0.1:%d" % port,
                          "--backend", "127.0.0.1:%d" % be.getsockname()[1],
                          "--allow", d + "/allow", "--deny", d + "/deny",
                          "--no-syslog", "--no-stderr", "--workers", workers,
                          "--max-connections", str(n + 1000)])
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        clients = []

        def open_conns(k):
            for _ in range(k):
                c = socket.create_connection(("127.0.0.1", port), 10)
                clients.append(c)
                c.sendall(b"x")
            # Backend: accept, echo the byte back.
            deadline = time.monotonic() + 60
            while len(held) < len(clients) and time.monotonic() < deadline:
                for _key, _ev in sel.select(0.1):
                    while True:
                        try:
                            s, _ = be.accept()
                        except BlockingIOError:
                            break
                        s.setblocking(True)
                        s.settimeout(10)
                        held.append(s)
                        s.sendall(s.recv(1))
            for c in clients[-k:]:
                assert c.recv(1) == b"x"

        open_conns(100)
        time.sleep(1)
        base_vm, base_anon = rss(p.pid)
        open_conns(n)
        time.sleep(1)
        vm, anon = rss(p.pid)
        print("wrapd workers=%s: baseline (100 conns) VmRSS %d KiB anon %d KiB"
              % (workers, base_vm, base_anon))
        print("with %d more idle connections: VmRSS %d KiB anon %d KiB"
              % (n, vm, anon))
        print("per idle connection: VmRSS %.0f bytes, anon %.0f bytes"
              % ((vm - base_vm) * 1024.0 / n, (anon - base_anon) * 1024.0 / n))
    finally:
        p.terminate()
        p.wait(30)
        subprocess.call(["rm", "-rf", d])


if __name__ == "__main__":
    main()
