#!/usr/bin/env python3
"""failclosed_test.py - wrapd keeps its promise under attack and under load:
nobody gets in whom the rules keep out, and what is let in arrives whole,
or the other side learns (by a reset) that it did not.

    failclosed_test.py WRAPD TESTNAME

Each test is the reproduction of a defect found in review, written so it
failed before the fix.  Same conventions as proxy_test.py (whose helpers
it uses): real wrapd, real sockets on loopback, every wait bounded, no
timed assertions, every process stopped by PID.
"""
import fcntl
import os
import re
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_test import (DEADLINE, SKIP, Backend, Identd, Wrapd,  # noqa: E402
                        check, connect, connect_outcome, echo_handler,
                        echo_proxy, free_port, ident_addr, kv, outcome, run,
                        wait_for)

SIOCATMARK = 0x8905


def recv_until_reset(s):
    """Everything s receives, and how it ended: ('eof'|'reset', bytes)."""
    out = []
    while True:
        try:
            d = s.recv(1 << 20)
        except ConnectionResetError:
            return "reset", b"".join(out)
        if not d:
            return "eof", b"".join(out)
        out.append(d)


def served(port, msg, src=None):
    """Does a new connection get its echo within 10 s? (A worker frozen or
    a service full would leave it waiting.)"""
    o = connect(port, src=src)
    o.settimeout(10)
    got = b""
    try:
        o.sendall(msg)
        while len(got) < len(msg):
            d = o.recv(len(msg) - len(got))
            if not d:
                break
            got += d
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        o.close()
    return got == msg


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------ urgent data

class UrgentSink:
    """A backend that reads everything with SO_OOBINLINE, noting the stream
    offsets at which an urgent mark stood, until EOF."""

    def __init__(self):
        self.done = threading.Event()
        self.total = 0
        self.marks = []
        self.data = bytearray()
        self.be = Backend(self.handler)

    def handler(self, c):
        c.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
        while True:
            # Look for the mark only once bytes are there: a recv that
            # blocks first would read an urgent byte that arrives while it
            # waits without ever seeing its mark.
            select.select([c], [], [], DEADLINE)
            at = struct.unpack("i", fcntl.ioctl(c, SIOCATMARK,
                                                struct.pack("i", 0)))[0]
            if at and (not self.marks or self.marks[-1] != self.total):
                self.marks.append(self.total)
            d = c.recv(1 << 16)
            if not d:
                break
            self.data += d[:max(0, 64 - len(self.data))] if self.total < 64 else b""
            self.total += len(d)
        self.done.set()


def urgent_case(t, before, after):
    sink = UrgentSink()
    port = free_port()
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", sink.be.addr,
                  "--no-syslog", "--workers", "1"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    sink.done.clear()
    s = connect(port)
    chunk = b"a" * 65536
    left = before
    while left > 0:
        s.sendall(chunk[:min(left, len(chunk))])
        left -= min(left, len(chunk))
    s.send(b"!", socket.MSG_OOB)
    # While the urgent byte waits for wrapd, wrapd must not spin on it.
    cpu0 = proc_cpu_seconds(w.p.pid)
    time.sleep(1.0)
    cpu1 = proc_cpu_seconds(w.p.pid)
    s.sendall(b"b" * after)
    s.shutdown(socket.SHUT_WR)
    check(sink.done.wait(DEADLINE), "backend never saw the end")
    want = before + 1 + after
    check(sink.total == want, "backend got %d bytes, sent %d" % (sink.total, want))
    check(before in sink.marks,
          "the urgent mark was not passed on at offset %d: marks %r" % (before, sink.marks))
    check(cpu1 - cpu0 < 0.5, "wrapd used %.2f s of CPU in 1 s with one idle "
          "connection holding urgent data" % (cpu1 - cpu0))
    s.close()
    w.wait_log(r"in=%d .*reason=eof" % want)


def test_urgent_after_bulk(t):
    """6 MB (past the copy threshold: only splice moves bytes), one MSG_OOB
    byte, 100 kB, half-close: all 6,100,001 bytes arrive, urgent mark
    included, and the worker does not spin."""
    urgent_case(t, 6000000, 100000)


def test_urgent_small(t):
    """The same on a fresh connection (the recv/send copy path)."""
    urgent_case(t, 100, 100)


# ------------------------------------------------------- look-up deadlines

def test_aclexec_then_deny_name(t):
    """The look-up deadline must not switch off a deny rule: an aclexec in
    hosts.allow that takes longer than the look-up timeout and fails sends
    the scan on to hosts.deny, whose name rule must still be asked."""
    port, be, w = echo_proxy(
        t, "echo: ALL: aclexec sleep 2; exit 1\n", "echo: localhost\n",
        "--daemon", "echo", "--lookup-timeout", "1s")
    before = be.accepted
    s = connect(port)
    s.sendall(b"x")
    check(outcome(s) in ("closed", "reset"), "client from localhost not denied")
    line = w.wait_log(r"verdict=deny") and [
        l for l in w.conn_lines() if "verdict=" in l and "verdict=grant" not in l][-1]
    d = kv(line)
    check(d["rule"].endswith("hosts.deny:1"), "not denied by the name rule: " + line)
    check(d["name"] == "localhost", line)
    check(be.accepted == before, "a denied client reached the backend")


def test_slow_ident_then_name(t):
    """A client's own silent ident server must not use up the time of a
    later name rule: the client from 127.0.0.1 (localhost) is still asked
    for its name, and the deny rule that names it decides."""
    if os.getuid() != 0:
        return SKIP  # port 113
    try:
        Identd("127.0.0.1", lambda q: None)
    except OSError:
        return SKIP  # something else serves ident on 127.0.0.1
    port, be, w = echo_proxy(
        t, "echo: nobody@ALL\n", "echo: localhost\n",
        "--daemon", "echo", "--lookup-timeout", "1s")
    s = connect(port)
    s.sendall(b"x")
    check(outcome(s) in ("closed", "reset"), "not denied")
    w.wait_log(r"verdict=deny")
    line = [l for l in w.conn_lines() if "verdict=deny" in l][-1]
    d = kv(line)
    check(d["user"] == "unknown", line)
    check(d["name"] == "localhost", "the name was never asked: " + line)


def test_deadline_fails_closed(t):
    """A name look-up cut off by wrapd's deadline is not an answer: when the
    verdict depends on it, the client is denied, logged with the reason,
    even though no rule matched (libwrap's default would grant)."""
    if os.getuid() != 0:
        return SKIP
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, "..", "e2e", "lib.sh")
    if not os.path.exists(script):
        return SKIP
    # A private resolver whose reverse zone never answers: run wrapd in a
    # network namespace whose resolv.conf points at a silent server.
    ns = "wrapd-fc-%d" % os.getpid()
    etc = "/etc/netns/" + ns
    made = not os.path.isdir("/etc/netns")
    os.makedirs(etc, exist_ok=True)
    try:
        with open(etc + "/hosts", "w") as f:
            f.write("127.0.0.1 localhost\n")
        with open(etc + "/resolv.conf", "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:30 attempts:1\n")
        with open(etc + "/nsswitch.conf", "w") as f:
            f.write("hosts: files dns\n")
        subprocess.check_call(["ip", "netns", "add", ns])
        subprocess.check_call(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"])
        subprocess.check_call(["ip", "netns", "exec", ns, "ip", "addr", "add",
                               "127.0.0.9/8", "dev", "lo"])
        # A DNS "server" that reads and never answers.
        silent = subprocess.Popen(
            ["ip", "netns", "exec", ns, "python3", "-c",
             "import socket,time\n"
             "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
             "s.bind(('127.0.0.1',53))\n"
             "end=time.time()+120\n"
             "while time.time()<end:\n"
             "  s.settimeout(1)\n"
             "  try: s.recv(512)\n"
             "  except OSError: pass\n"],
            stdin=subprocess.DEVNULL)
        t.procs.append(silent)
        port = 18000 + os.getpid() % 1000
        t.rules("", "echo: .evil.example\n")
        w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend",
                      "127.0.0.1:9", "--no-syslog", "--daemon", "echo",
                      "--lookup-timeout", "500ms",
                      "--allow", os.path.join(t.dir, "hosts.allow"),
                      "--deny", os.path.join(t.dir, "hosts.deny")],
                  wrap=["ip", "netns", "exec", ns])
        w.wait_log("ready")

        def try_connect():
            r = subprocess.run(
                ["ip", "netns", "exec", ns, "python3", "-c",
                 "import socket\n"
                 "s=socket.socket()\n"
                 "s.bind(('127.0.0.9',0))\n"
                 "s.settimeout(20)\n"
                 "s.connect(('127.0.0.1',%d))\n"
                 "s.sendall(b'x')\n"
                 "try:\n"
                 "  d=s.recv(10)\n"
                 "  print('eof' if not d else 'data')\n"
                 "except ConnectionResetError:\n"
                 "  print('reset')\n" % port],
                capture_output=True, text=True, timeout=DEADLINE)
            return r.stdout.strip()
        check(try_connect() in ("eof", "reset"), "client was not denied")
        w.wait_log(r"verdict=deny")
        line = [l for l in w.conn_lines() if "verdict=deny" in l][-1]
        d = kv(line)
        check(d["reason"] == "lookup-timeout", "reason: " + line)
        check(d["name"] == "unknown", line)
    finally:
        subprocess.call(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        subprocess.call(["rm", "-rf", etc])
        if made:
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass


# ------------------------------------------------------------- idle timeout

def test_idle_slow_reader(t):
    """--idle-timeout 1s, the backend sends 6 MB, the client reads steadily
    at about 800 kB/s: every byte arrives, then a clean EOF."""
    size = 6000000
    payload = os.urandom(size)

    def h(c):
        c.sendall(payload)
    be = Backend(h)
    port = free_port()
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog", "--idle-timeout", "1s"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    got = bytearray()
    how = "eof"
    while True:
        try:
            d = s.recv(20000)
        except ConnectionResetError:
            how = "reset"
            break
        if not d:
            break
        got += d
        time.sleep(0.025)  # 20 kB / 25 ms = 800 kB/s
    check(len(got) == size and bytes(got) == payload,
          "slow reader got %d of %d bytes (%s)" % (len(got), size, how))
    check(how == "eof", "ended with " + how)


def test_idle_timeout_resets(t):
    """A connection cut by the idle timeout is cut: both sides get a reset,
    never a clean EOF that looks like the end of the data."""
    ends = []

    def h(c):
        c.sendall(b"hello")
        try:
            ends.append(recv_until_reset(c)[0])
        except OSError as e:
            ends.append(repr(e))
    be = Backend(h)
    port = free_port()
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog", "--idle-timeout", "1s"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    wait_for(lambda: ends, "the probe connection's end")  # wait_listen's
    s = connect(port)
    how, data = recv_until_reset(s)
    check(data == b"hello", "client got %r" % data)
    check(how == "reset", "idle timeout ended the client side with " + how)
    wait_for(lambda: len(ends) == 2, "backend end")
    check(ends[1] == "reset", "backend side ended with " + ends[1])
    w.wait_log(r"reason=idle-timeout")


# ------------------------------------------------------------ errors -> RST

def test_backend_reset_resets_client(t):
    """A backend that resets after 100 kB: the client gets the 100 kB and
    then a reset, so it can tell a truncated reply from a whole one."""
    n = 100000

    def h(c):
        c.sendall(b"r" * n)
        time.sleep(0.3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    be = Backend(h)
    port = free_port()
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    s = connect(port)
    how, data = recv_until_reset(s)
    check(len(data) == n, "client got %d of %d bytes" % (len(data), n))
    check(how == "reset", "client saw a clean end (%s) after a backend reset" % how)
    w.wait_log(r"out=%d .*reason=backend-reset" % n)


def test_client_reset_resets_backend(t):
    """The client resets mid-request: the backend gets what was sent and
    then a reset, not a clean EOF that would look like a whole request."""
    ends = []

    def h(c):
        first = c.recv(100)
        if not first:
            return  # wait_listen's probe
        try:
            how, rest = recv_until_reset(c)
        except OSError as e:
            how, rest = repr(e), b""
        ends.append((how, first + rest))
    be = Backend(h)
    port = free_port()
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    s = connect(port)
    s.sendall(b"partial request")
    wait_for(lambda: be.accepted >= 2, "backend reached")
    time.sleep(0.2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    wait_for(lambda: ends, "the backend to see the end")
    how, data = ends[0]
    check(data == b"partial request", "backend got %r" % data)
    check(how == "reset", "backend saw %s after a client reset" % how)


def test_backend_refused_resets(t):
    """A backend that refuses: the client is reset, not closed cleanly."""
    port = free_port()
    dead = free_port()
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend",
                  "127.0.0.1:%d" % dead, "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_log("ready")
    how = connect_outcome(port)
    check(how == "reset", "client got %r" % (how,))


# -------------------------------------------------------------- linger

def test_linger_never_blocks(t):
    """`linger N` must not let a client that does not read freeze the
    worker: wrapd's own closes never block.  The client reads nothing and
    has a tiny window, so when both sides have ended wrapd closes a socket
    whose send queue still holds bytes."""
    def h(c):
        first = c.recv(1)
        if first == b"S":  # the stuck client: more than its window
            c.sendall(b"z" * 12000)
            return
        c.sendall(first)
        echo_handler(c)
    be = Backend(h)
    port = free_port()
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog", "--workers", "1"] +
              t.rules("ALL: 127.0.0.2: linger 1000\nALL: ALL\n", ""))
    w.wait_listen(port)
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    stuck.bind(("127.0.0.2", 0))
    stuck.connect(("127.0.0.1", port))
    stuck.sendall(b"S")
    stuck.shutdown(socket.SHUT_WR)
    w.wait_log(r"client=127\.0\.0\.2:.*reason=eof")
    check(served(port, b"alive"), "the worker froze behind a lingering close")
    stuck.close()


# --------------------------------------------------------------- descriptors

def test_no_pipe_keeps_data(t):
    """prlimit --nofile=40, nine clients that pause before reading 4 MB:
    when pipes run out, established connections are never killed; each
    gets its 4 MB and a clean EOF.  (A new connection that finds no
    descriptor for its backend socket waits for one, up to the connect
    timeout: made long here, so every client is served in the end.)"""
    size = 4 << 20
    payload = os.urandom(size)

    def h(c):
        c.sendall(payload)
    be = Backend(h)
    port = free_port()
    lim = 40

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
    t.rules("ALL: ALL\n", "")
    log = open(os.path.join(t.dir, "wrapd0.log"), "wb")
    p = subprocess.Popen([t.wrapd, "--listen", "127.0.0.1:%d" % port,
                          "--backend", be.addr, "--no-syslog",
                          "--connect-timeout", "60s",
                          "--allow", os.path.join(t.dir, "hosts.allow"),
                          "--deny", os.path.join(t.dir, "hosts.deny")],
                         stdout=log, stderr=log, preexec_fn=low,
                         stdin=subprocess.DEVNULL)
    t.procs.append(p)

    def text():
        return open(os.path.join(t.dir, "wrapd0.log"), "rb").read().decode()
    wait_for(lambda: "ready" in text(), "wrapd ready")
    socks = [connect(port) for _ in range(9)]
    time.sleep(3)
    results = [None] * len(socks)

    def reader(i, s):
        results[i] = recv_until_reset(s)
    th = [threading.Thread(target=reader, args=(i, s)) for i, s in enumerate(socks)]
    for x in th:
        x.start()
    # Connections wait for descriptors in turn: give all of them together
    # a generous bound, not each one DEADLINE.
    end = time.monotonic() + 4 * DEADLINE
    for x in th:
        x.join(max(0.0, end - time.monotonic()))
    for i, r in enumerate(results):
        check(r is not None, "client %d never finished" % i)
        how, data = r
        check(len(data) == size and data == payload,
              "client %d got %d of %d bytes (%s):\n%s" % (i, len(data), size, how, text()))
        check(how == "eof", "client %d ended with %s" % (i, how))
    check("no-pipe" not in text(), "a connection was closed for want of a pipe")


def test_nofile_raised(t):
    """At start wrapd raises its soft RLIMIT_NOFILE to the hard limit, and
    warns when max_connections cannot be met."""
    port = free_port()
    be = Backend(echo_handler)

    def lim():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 4096))
    t.rules("ALL: ALL\n", "")
    log = open(os.path.join(t.dir, "wrapd0.log"), "wb")
    p = subprocess.Popen([t.wrapd, "--listen", "127.0.0.1:%d" % port,
                          "--backend", be.addr, "--no-syslog",
                          "--max-connections", "100000",
                          "--allow", os.path.join(t.dir, "hosts.allow"),
                          "--deny", os.path.join(t.dir, "hosts.deny")],
                         stdout=log, stderr=log, preexec_fn=lim,
                         stdin=subprocess.DEVNULL)
    t.procs.append(p)

    def text():
        return open(os.path.join(t.dir, "wrapd0.log"), "rb").read().decode()
    wait_for(lambda: "ready" in text(), "wrapd ready:\n" + text())
    with open("/proc/%d/limits" % p.pid) as f:
        row = [l for l in f if l.startswith("Max open files")][0].split()
    check(row[3] == "4096" and row[4] == "4096", "limits: %r" % row)
    check(re.search(r"max_connections.*descriptors", text()),
          "no warning that 4096 descriptors cannot hold 100000 connections:\n" + text())


def test_std_fds_closed(t):
    """Started with fds 0, 1 and 2 closed, wrapd puts /dev/null there, so
    no socket of its own can become its standard error."""
    port = free_port()
    be = Backend(echo_handler)
    t.rules("ALL: ALL\n", "")
    p = subprocess.Popen(
        ["/bin/sh", "-c", 'exec "$@" <&- >&- 2>&-', "sh", t.wrapd,
         "--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
         "--allow", os.path.join(t.dir, "hosts.allow"),
         "--deny", os.path.join(t.dir, "hosts.deny")])
    t.procs.append(p)

    def up():
        try:
            s = connect(port)
            s.sendall(b"1")
            ok = s.recv(1) == b"1"
            s.close()
            return ok
        except OSError:
            return False
    wait_for(up, "wrapd serving")
    for fd in (0, 1, 2):
        target = os.readlink("/proc/%d/fd/%d" % (p.pid, fd))
        check(target == "/dev/null", "fd %d is %s" % (fd, target))


# -------------------------------------------------------------- fairness

def test_per_source_default(t):
    """600 idle connections from one address with default settings must not
    take every slot: a client from another address is still served."""
    port, be, w = echo_proxy(t, "ALL: ALL\n", "")
    hog = []
    for _ in range(600):
        try:
            hog.append(connect(port, src="127.0.0.9"))
        except OSError:
            continue  # refused before connect() returned
    check(served(port, b"fair", src="127.0.0.10"),
          "a second source was starved by 600 idle connections")
    w.wait_log(r"per.source")
    for s in hog:
        s.close()


def test_per_source_flag(t):
    """--per-source 2: the third connection from one address is refused at
    once; another address is not affected; a closed one frees its slot."""
    port, be, w = echo_proxy(t, "ALL: ALL\n", "", "--per-source", "2")
    a = [connect(port, src="127.0.0.9") for _ in range(2)]
    for s in a:
        s.sendall(b"k")
        check(s.recv(1) == b"k", "first two not served")
    third = connect_outcome(port, src="127.0.0.9")
    check(third in ("closed", "reset"), "third connection served")
    o = connect(port, src="127.0.0.10")
    o.sendall(b"o")
    check(o.recv(1) == b"o", "other source refused")
    a[0].close()

    def again():
        try:
            s = connect(port, src="127.0.0.9")
        except OSError:
            return False  # refused while the closed one is still counted
        s.settimeout(5)
        try:
            s.sendall(b"z")
            return s.recv(1) == b"z"
        except OSError:
            return False
        finally:
            s.close()
    wait_for(again, "a slot freed by a closed connection")


def test_deciding_cannot_starve(t):
    """Connections waiting on their own silent ident servers, from many
    addresses, cannot take the slots of clients whose rules decide on the
    address alone."""
    if os.getuid() != 0:
        return SKIP
    addrs = []
    for i in range(8):
        a = ident_addr()
        Identd(a, lambda q: None)
        addrs.append(a)
    port, be, w = echo_proxy(
        t, "ALL: 127.0.0.10\nALL: ALL@ALL\n", "ALL: ALL\n",
        "--max-connections", "16", "--per-source", "4",
        "--lookup-timeout", "20s")
    held = []
    for a in addrs:
        for _ in range(4):
            try:
                held.append(connect(port, src=a))
            except OSError:
                pass
    check(served(port, b"ok", src="127.0.0.10"),
          "clients waiting on look-ups starved an address rule")
    for s in held:
        s.close()


# ----------------------------------------------------------- inherited fds

def test_listen_fdnames_empty(t):
    """LISTEN_FDNAMES with an empty name must not shift the other sockets
    onto the wrong service."""
    be1 = Backend(lambda c: c.sendall(b"one"))
    be2 = Backend(lambda c: c.sendall(b"two"))
    l1 = socket.socket()
    l1.bind(("127.0.0.1", 0))
    l1.listen(8)
    l2 = socket.socket()
    l2.bind(("127.0.0.1", 0))
    l2.listen(8)
    conf = t.write("wrapd.yaml", """\
rules: { allow: %s, deny: %s }
log: { syslog: false }
services:
  - name: one
    listen: [systemd]
    backend: %s
  - name: two
    listen: [systemd]
    backend: %s
""" % (t.write("hosts.allow", "ALL: ALL\n"), t.write("hosts.deny", ""),
       be1.addr, be2.addr))
    os.dup2(l1.fileno(), 3)
    os.dup2(l2.fileno(), 4)
    w = Wrapd(t, ["--config", conf],
              env={"LISTEN_FDS": "2", "LISTEN_FDNAMES": ":two"},
              pass_fds=(3, 4), wrap=["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"'])
    os.close(3)
    os.close(4)
    w.wait_log("ready")
    s = connect(l2.getsockname()[1])
    check(s.recv(3) == b"two", "the socket named two did not reach service two")
    s.close()
    w.wait_log(r"fd 3 \(name \)? ?matches no service|fd 3 .*matches no service")
    l1.close()
    l2.close()


def test_stdin_config_error_stays_private(t):
    """inetd nowait: fds 0-2 are the client's socket, so a configuration
    error must go to syslog, never to the client."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.create_connection(ls.getsockname(), timeout=DEADLINE)
    a, _ = ls.accept()
    bad = t.write("wrapd.yaml", "services:\n  - name: x\n    listen: [stdin]\n    bogus: 1\n")
    p = subprocess.Popen([t.wrapd, "--config", bad], stdin=a.fileno(),
                         stdout=a.fileno(), stderr=a.fileno())
    t.procs.append(p)
    a.close()
    p.wait(DEADLINE)
    check(p.returncode != 0, "a bad configuration was accepted")
    how, data = recv_until_reset(c)
    check(data == b"", "the client received %r" % data[:200])


TESTS = {n[5:]: f for n, f in list(globals().items()) if n.startswith("test_")}


if __name__ == "__main__":
    sys.exit(run(TESTS, sys.argv))
