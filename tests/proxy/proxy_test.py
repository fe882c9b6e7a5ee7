#!/usr/bin/env python3
"""proxy_test.py - integration tests of wrapd's proxy runtime.

Each test drives the real wrapd binary with real sockets on loopback:
    proxy_test.py WRAPD TESTNAME
exits 0 (pass), 1 (fail) or 77 (skip).  Every wait is bounded (DEADLINE);
no assertion depends on how long something took.  Every process a test
starts is stopped by its PID at the end, whatever happened.
"""
import hashlib
import json
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE = 30.0
SKIP = 77


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_for(pred, what, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise Fail("timed out waiting for " + what)


def free_port():
    rnd = random.SystemRandom()
    for _ in range(500):
        port = rnd.randint(10000, 19999)  # below the ephemeral range
        ok = True
        for fam, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = socket.socket(fam, socket.SOCK_STREAM)
            try:
                s.bind((host, port))
            except OSError:
                ok = False
            finally:
                s.close()
            if not ok:
                break
        if ok:
            return port
    raise Fail("no free port")


# ------------------------------------------------------------- peers

class Backend:
    """A threaded TCP/UNIX server; handler(conn) runs per connection."""

    def __init__(self, handler, unix=None, host="127.0.0.1"):
        if unix:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix)
            self.addr = "unix:" + unix
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((host, 0))
            self.addr = "%s:%d" % (host, self.sock.getsockname()[1])
        self.sock.listen(128)
        self.handler = handler
        self.accepted = 0
        self.errors = []
        self.lock = threading.Lock()
        t = threading.Thread(target=self._loop, daemon=True)
        t.start()

    def _loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
            threading.Thread(target=self._run, args=(c,), daemon=True).start()

    def _run(self, c):
        try:
            c.settimeout(DEADLINE)
            self.handler(c)
        except Exception as e:  # recorded, checked by tests
            self.errors.append(repr(e))
        finally:
            c.close()

    def close(self):
        self.sock.close()


def echo_handler(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)


class Wrapd:
    def __init__(self, t, args, env=None, pass_fds=(), stdin=None, wrap=None):
        self.t = t
        self.log = os.path.join(t.dir, "wrapd%d.log" % len(t.procs))
        self.logf = open(self.log, "wb")
        cmd = [t.wrapd] + args
        if wrap:
            cmd = wrap + cmd
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen(cmd, stdout=self.logf, stderr=self.logf,
                                  env=e, pass_fds=pass_fds,
                                  stdin=stdin if stdin is not None else subprocess.DEVNULL)
        t.procs.append(self.p)

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def conn_lines(self):
        out = []
        for line in self.text().splitlines():
            if " verdict=" in line or '"verdict"' in line:
                out.append(line)
        return out

    def wait_log(self, regex, count=1):
        r = re.compile(regex)
        return wait_for(lambda: len([l for l in self.text().splitlines()
                                     if r.search(l)]) >= count,
                        "log line /%s/ x%d in:\n%s" % (regex, count, self.text()))

    def wait_listen(self, port, host="127.0.0.1"):
        def ok():
            if self.p.poll() is not None:
                raise Fail("wrapd exited %s:\n%s" % (self.p.returncode, self.text()))
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.settimeout(1)
            try:
                s.connect((host, port))
                return True
            except ConnectionResetError:
                return True  # accepted, then reset before connect() returned
            except OSError:
                return False
            finally:
                s.close()
        wait_for(ok, "wrapd listening on %s:%d" % (host, port))
        # That probe was a connection too: wait for its line so tests can
        # count lines exactly.
        self.wait_log(r'conn=\d+ |"conn":', 1)

    def signal(self, sig):
        self.p.send_signal(sig)

    def wait_exit(self):
        try:
            return self.p.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            raise Fail("wrapd did not exit:\n" + self.text())


class T:
    def __init__(self, wrapd):
        self.wrapd = wrapd
        self.dir = tempfile.mkdtemp(prefix="wrapd-proxy-")
        self.procs = []

    def write(self, name, text):
        p = os.path.join(self.dir, name)
        with open(p + ".tmp", "w") as f:
            f.write(text)
        os.rename(p + ".tmp", p)
        return p

    def rules(self, allow, deny):
        return ["--allow", self.write("hosts.allow", allow),
                "--deny", self.write("hosts.deny", deny)]

    def cleanup(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        subprocess.call(["rm", "-rf", self.dir])


def connect(port, host="127.0.0.1", src=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(DEADLINE)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def recv_all(s):
    out = []
    while True:
        d = s.recv(65536)
        if not d:
            return b"".join(out)
        out.append(d)


def outcome(s):
    """'closed' (EOF), 'reset', or the bytes received first."""
    try:
        d = s.recv(100)
    except ConnectionResetError:
        return "reset"
    return "closed" if not d else d


def connect_outcome(port, host="127.0.0.1", src=None):
    """outcome() of a new connection, which wrapd may reset so soon that
    connect() itself reports it."""
    try:
        s = connect(port, host, src)
    except ConnectionResetError:
        return "reset"
    try:
        return outcome(s)
    finally:
        s.close()


def kv(line):
    return dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', line))


# ------------------------------------------------------------- tests


def echo_proxy(t, allow, deny, *flags):
    """wrapd in quick mode on a free 127.0.0.1 port, in front of an echo
    backend, with these rules and extra flags; returns (port, backend, wrapd)
    once it listens."""
    port = free_port()
    be = Backend(echo_handler)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + list(flags) + t.rules(allow, deny))
    w.wait_listen(port)
    return port, be, w

def test_quick_tcp(t):
    port, be, w = echo_proxy(t, "ptest: 127.0.0.1\n", "ALL: ALL\n",
                             "--daemon", "ptest")
    s = connect(port)
    s.sendall(b"hello\n")
    check(s.recv(100) == b"hello\n", "no echo")
    s.close()
    w.wait_log(r"conn=\d+ .*in=6 out=6")
    line = [l for l in w.conn_lines() if "in=6" in l][0]
    d = kv(line)
    check(d["service"] == "ptest", line)
    check(d["client"].startswith("127.0.0.1:"), line)
    check(d["verdict"] == "grant", line)
    check(d["rule"].endswith("hosts.allow:1"), line)
    check(d["name"] == "-" and d["user"] == "-", line)
    check(d["reason"] == "eof", line)
    check("ms" in d, line)


def test_deny(t):
    port, be, w = echo_proxy(t, "ptest: 127.0.0.1\n", "ptest: 127.0.0.2\n",
                             "--daemon", "ptest")
    before = be.accepted
    s = connect(port, src="127.0.0.2")
    try:
        s.sendall(b"x" * 10)
    except OSError:
        pass
    r = outcome(s)
    check(r in ("closed", "reset"), "denied client got %r" % (r,))
    w.wait_log(r"verdict=deny")
    line = [l for l in w.conn_lines() if "verdict=deny" in l][0]
    check(kv(line)["rule"].endswith("hosts.deny:1"), line)
    check("warning" in line, "a deny is logged at warning: " + line)
    # An allowed connection after it: the backend sees only that one.
    s = connect(port)
    s.sendall(b"ok")
    check(s.recv(10) == b"ok", "allowed client got no echo")
    s.close()
    check(be.accepted == before + 1, "denied client reached the backend")


def test_unix_backend(t):
    port = free_port()
    path = os.path.join(t.dir, "be.sock")
    be = Backend(echo_handler, unix=path)
    w = Wrapd(t, ["--listen", "[::1]:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port, "::1")
    s = connect(port, "::1")
    s.sendall(b"over unix")
    check(s.recv(100) == b"over unix", "no echo over unix backend")
    s.close()
    w.wait_log(r"client=\[::1\]:\d+ .*verdict=grant")


def test_exec(t):
    port = free_port()
    script = t.write("svc.sh", "#!/bin/sh\n"
                     "echo \"addr=$REMOTE_ADDR port=$REMOTE_PORT svc=$WRAPD_SERVICE\"\n"
                     "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo\n"
                     "exec cat\n")
    os.chmod(script, 0o755)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--no-syslog",
                  "--daemon", "svc"] + t.rules("ALL: ALL\n", "") +
              ["--", "/bin/sh", script])
    w.wait_listen(port)
    s = connect(port)
    f = s.makefile("rb")
    line = f.readline().decode()
    check(re.match(r"addr=127\.0\.0\.1 port=%d svc=svc" % s.getsockname()[1], line),
          "exec env: " + line)
    fds = f.readline().decode().split()
    # 0 1 2 and the one ls itself opens: nothing else leaked from wrapd.
    check(fds[:3] == ["0", "1", "2"] and len(fds) <= 4,
          "child inherited extra fds: %r" % fds)
    s.sendall(b"through cat\n")
    check(f.readline() == b"through cat\n", "cat did not echo")
    s.shutdown(socket.SHUT_WR)
    check(f.read() == b"", "no EOF after cat exits")
    s.close()
    w.wait_log(r"conn=\d+ .*verdict=grant.*reason=exit exit=0")


def test_exec_missing(t):
    port = free_port()
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--no-syslog"] +
              t.rules("ALL: ALL\n", "") + ["--", "/nonexistent/prog"])
    w.wait_listen(port)
    w.wait_log(r"reason=exec-failed")
    check(connect_outcome(port) == "reset", "client of a failed exec not reset")


def halfclose_handler(c):
    """Read to EOF, then answer with the byte count and close."""
    n = len(recv_all(c))
    c.sendall(b"got %d\n" % n)


def test_halfclose_client_first(t):
    port = free_port()
    be = Backend(halfclose_handler)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    s = connect(port)
    s.sendall(b"a" * 100000)
    s.shutdown(socket.SHUT_WR)
    # The backend only answers after it saw our EOF, through wrapd.
    check(recv_all(s) == b"got 100000\n", "half-close not passed to backend")
    s.close()
    w.wait_log(r"in=100000 out=11 .*reason=eof")


def test_halfclose_backend_first(t):
    port = free_port()
    got = {}

    def h(c):
        c.sendall(b"banner\n")
        c.shutdown(socket.SHUT_WR)
        got["n"] = len(recv_all(c))
        # The client side keeps its direction open after our EOF.

    be = Backend(h)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    s = connect(port)
    check(recv_all(s) == b"banner\n", "backend EOF not passed on")
    # Our direction still flows after the other one ended.
    s.sendall(b"b" * 50000)
    s.shutdown(socket.SHUT_WR)
    wait_for(lambda: got.get("n") == 50000, "backend reading after its EOF")
    s.close()
    w.wait_log(r"in=50000 out=7 .*reason=eof")


def test_payload(t):
    size = int(os.environ.get("WRAPD_PROXY_PAYLOAD", 64 << 20))
    port = free_port()
    seed = os.urandom(16)

    def stream(n, salt):
        h = hashlib.sha256()
        block = hashlib.sha256(seed + salt).digest() * 2048  # 64 KiB
        i = 0
        while i < n:
            chunk = block[: min(len(block), n - i)]
            yield chunk
            i += len(chunk)

    def digest(n, salt):
        h = hashlib.sha256()
        for c in stream(n, salt):
            h.update(c)
        return h.hexdigest()

    res = {}

    def be_handler(c):
        # Send and receive at once, so both directions are busy together.
        def send():
            try:
                for chunk in stream(size, b"down"):
                    c.sendall(chunk)
                c.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # wait_listen's probe connection hangs up at once
        th = threading.Thread(target=send)
        th.start()
        h = hashlib.sha256()
        n = 0
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            h.update(d)
            n += len(d)
        th.join()
        res["up"] = (n, h.hexdigest())

    be = Backend(be_handler)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    s = connect(port)
    s.settimeout(120)

    def send():
        for chunk in stream(size, b"up"):
            s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
    th = threading.Thread(target=send)
    th.start()
    h = hashlib.sha256()
    n = 0
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        h.update(d)
        n += len(d)
    th.join()
    s.close()
    check(n == size and h.hexdigest() == digest(size, b"down"),
          "backend -> client: %d bytes, digest mismatch" % n)
    wait_for(lambda: "up" in res, "backend finishing")
    check(res["up"] == (size, digest(size, b"up")),
          "client -> backend: %d bytes, digest mismatch" % res["up"][0])
    w.wait_log(r"in=%d out=%d .*reason=eof" % (size, size))


def test_backend_refused(t):
    port = free_port()
    dead = free_port()
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend",
                  "127.0.0.1:%d" % dead, "--no-syslog"] +
              t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    check(connect_outcome(port) == "reset", "client not reset")
    w.wait_log(r"verdict=grant .*reason=backend-refused")
    w.wait_log(r"backend 127\.0\.0\.1:%d: Connection refused" % dead)


def test_backend_vanishes(t):
    port = free_port()

    def h(c):
        c.recv(10)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    be = Backend(h)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    s = connect(port)
    s.sendall(b"x")
    check(outcome(s) in ("closed", "reset"), "client not closed")
    w.wait_log(r"reason=backend-(read-error|write-error|reset)")


def yaml_conf(t, services, extra=""):
    allow = t.write("hosts.allow", "a: 127.0.0.1\nb: 127.0.0.1\n")
    deny = t.write("hosts.deny", "ALL: ALL\n")
    text = ("rules:\n  allow: %s\n  deny: %s\nlog:\n  syslog: false\n%s"
            "services:\n" % (allow, deny, extra))
    for s in services:
        text += "  - name: %s\n    listen: [\"%s\"]\n    backend: \"%s\"\n" % s
    return t.write("wrapd.yaml", text)


def test_config_mode(t):
    p1, p2 = free_port(), free_port()
    be = Backend(echo_handler)
    conf = yaml_conf(t, [("a", "127.0.0.1:%d" % p1, be.addr),
                         ("c", "127.0.0.1:%d" % p2, be.addr)],
                     extra="  format: json\n")
    w = Wrapd(t, ["--config", conf])
    w.wait_listen(p1)
    w.wait_listen(p2)
    s = connect(p1)
    s.sendall(b"svc a")
    check(s.recv(10) == b"svc a", "service a not relayed")
    s.close()
    s = connect(p2)
    check(outcome(s) in ("closed", "reset"), "service c not denied")

    def lines():
        # Every line on stderr is one JSON object (jq reads the stream):
        # messages as much as connection lines, each with ts and level.
        out = []
        for l in w.text().splitlines():
            try:
                d = json.loads(l)
            except ValueError:
                raise Fail("not a JSON line: %r" % l)
            check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                           d.get("ts", "")) and "level" in d, "line %r" % l)
            out.append(d)
        return out
    wait_for(lambda: any(d.get("service") == "a" and d["in"] == 5
                         for d in lines()), "json line for a")
    wait_for(lambda: any(d.get("service") == "c" and d["verdict"] == "deny"
                         for d in lines()), "json deny line for c")
    d = [d for d in lines() if d.get("service") == "a" and d["in"] == 5][0]
    check(d["verdict"] == "grant" and d["rule"].endswith("hosts.allow:1")
          and d["name"] is None and d["out"] == 5, repr(d))
    check(any("ready" in d.get("msg", "") for d in lines()),
          "the ready message is not a JSON line")


def test_deny_reply_counted(t):
    """The on_deny reply and a banner are bytes the client got: out= counts
    them."""
    port = free_port()
    be = Backend(echo_handler)
    reply = "421 4.7.0 Access denied\r\n"
    os.mkdir(os.path.join(t.dir, "banners"))
    t.write("banners/c", "hello %a\n")
    conf = yaml_conf(t, [("c", "127.0.0.1:%d" % port, be.addr)])
    with open(conf, "a") as f:
        f.write("    on_deny: { reply: \"421 4.7.0 Access denied\\r\\n\" }\n")
    t.write("hosts.allow", "c: 127.0.0.2: banners %s\n" % os.path.join(t.dir, "banners"))
    w = Wrapd(t, ["--config", conf])
    w.wait_listen(port)
    s = connect(port)
    check(recv_all(s) == reply.encode(), "no reply")
    w.wait_log(r"client=127\.0\.0\.1:\d+ .*verdict=deny .*out=%d " % len(reply))
    s = connect(port, src="127.0.0.2")
    check(s.recv(100) == b"hello 127.0.0.2\r\n", "no banner")
    s.close()
    w.wait_log(r"client=127\.0\.0\.2:\d+ .*verdict=grant .*out=17 ")


def test_config_errors(t):
    conf = t.write("bad.yaml", "services:\n  - name: x\n    listen: [\"nope\"]\n"
                   "    backend: \"127.0.0.1:1\"\n    bogus: 1\n")
    p = subprocess.run([t.wrapd, "--config", conf], capture_output=True,
                       timeout=DEADLINE)
    check(p.returncode == 1, "exit %d for a bad config" % p.returncode)
    err = p.stderr.decode()
    check(re.search(re.escape(conf) + r":\d+:\d+: ", err), "no file:line:col in: " + err)
    p = subprocess.run([t.wrapd, "--listen"], capture_output=True, timeout=DEADLINE)
    check(p.returncode == 2, "exit %d for a usage error" % p.returncode)
    p = subprocess.run([t.wrapd, "--help"], capture_output=True, timeout=DEADLINE)
    check(p.returncode == 0 and b"--listen" in p.stdout and b"--backend" in p.stdout,
          "--help")


def test_reload(t):
    port, be, w = echo_proxy(t, "ALL: 127.0.0.1\n", "ALL: ALL\n")
    # A connection in flight across the reload.
    old = connect(port)
    old.sendall(b"1")
    check(old.recv(1) == b"1", "first echo")
    # New rules: 127.0.0.1 denied.  Written atomically, then SIGHUP.
    t.write("hosts.allow", "ALL: 127.0.0.2\n")
    w.signal(signal.SIGHUP)
    w.wait_log(r"reload: done")
    s = connect(port)
    check(outcome(s) in ("closed", "reset"), "new rules not in force")
    s = connect(port, src="127.0.0.2")
    s.sendall(b"2")
    check(s.recv(1) == b"2", "127.0.0.2 not allowed after reload")
    s.close()
    # The old connection keeps flowing under its old snapshot.
    for i in range(20):
        old.sendall(b"%d" % (i % 10))
        check(old.recv(1) == b"%d" % (i % 10), "old connection broken by reload")
    # A broken config (reload of rules with an error) keeps the old set.
    t.write("hosts.allow", "ALL: 127.0.0.2\nno newline at end: 127.0.0.1")
    w.signal(signal.SIGHUP)
    w.wait_log(r"reload: (done|failed)", 2)
    old.close()
    # The listener kept its socket: still serving.
    s = connect(port, src="127.0.0.2")
    s.sendall(b"3")
    check(s.recv(1) == b"3", "listener lost across reload")
    s.close()


def test_reload_bad_config(t):
    p1 = free_port()
    be = Backend(echo_handler)
    conf = yaml_conf(t, [("a", "127.0.0.1:%d" % p1, be.addr)])
    w = Wrapd(t, ["--config", conf])
    w.wait_listen(p1)
    good = open(conf).read()
    t.write("wrapd.yaml", good + "bogus_key: 1\n")
    w.signal(signal.SIGHUP)
    w.wait_log(r"reload: configuration has errors")
    w.wait_log(re.escape(conf) + r":\d+:\d+: ")
    s = connect(p1)
    s.sendall(b"still")
    check(s.recv(10) == b"still", "old config not kept")
    s.close()
    # A new listener added by a good reload, the old one kept.
    p2 = free_port()
    t.write("wrapd.yaml", good + "  - name: b\n    listen: [\"127.0.0.1:%d\"]\n"
            "    backend: \"%s\"\n" % (p2, be.addr))
    w.signal(signal.SIGHUP)
    w.wait_log(r"reload: done")
    s = connect(p2)
    s.sendall(b"new")
    check(s.recv(10) == b"new", "new listener not serving")
    s.close()


def test_drain(t):
    port, be, w = echo_proxy(t, "ALL: ALL\n", "", "--drain-timeout", "60s")
    s = connect(port)
    s.sendall(b"a")
    check(s.recv(1) == b"a", "echo")
    w.signal(signal.SIGTERM)
    w.wait_log(r"draining")

    def refused():
        try:
            c = connect(port)
        except ConnectionRefusedError:
            return True
        c.close()
        return False
    wait_for(refused, "listener closed after SIGTERM")
    # The connection in flight still works, and wrapd waits for it.
    s.sendall(b"b")
    check(s.recv(1) == b"b", "connection broken by drain")
    check(w.p.poll() is None, "wrapd exited with a connection in flight")
    s.close()
    rc = w.wait_exit()
    check(rc == 0, "exit status %d after drain" % rc)
    check(re.search(r"in=2 out=2 .*reason=eof", w.text()), "drained conn line")


def test_drain_deadline(t):
    port, be, w = echo_proxy(t, "ALL: ALL\n", "", "--drain-timeout", "200ms")
    s = connect(port)
    s.sendall(b"a")
    check(s.recv(1) == b"a", "echo")
    w.signal(signal.SIGTERM)
    rc = w.wait_exit()
    check(rc == 0, "exit %d" % rc)
    check(outcome(s) in ("closed", "reset"), "idle conn not closed at deadline")
    check(re.search(r"reason=shutdown", w.text()), "no shutdown line")


def test_max_connections(t):
    port, be, w = echo_proxy(t, "ALL: ALL\n", "",
                             "--max-connections", "1", "--workers", "2")
    a = connect(port)
    a.sendall(b"a")
    check(a.recv(1) == b"a", "first")
    b = connect(port)  # queued in the backlog
    b.sendall(b"b")
    b.settimeout(0.5)
    try:
        got = b.recv(1)
    except socket.timeout:
        got = None
    check(got is None, "second connection served beyond max_connections")
    check(be.accepted == 1 + 1, "backend saw the queued connection")  # probe + a
    a.close()
    b.settimeout(DEADLINE)
    check(b.recv(1) == b"b", "queued connection not served after a close")
    b.close()


def test_idle_timeout(t):
    port, be, w = echo_proxy(t, "ALL: ALL\n", "", "--idle-timeout", "300ms")
    s = connect(port)
    s.sendall(b"a")
    check(s.recv(1) == b"a", "echo")
    check(outcome(s) in ("closed", "reset"), "idle connection not closed")
    w.wait_log(r"reason=idle-timeout")


def test_dualstack(t):
    port = free_port()
    be = Backend(echo_handler)
    w = Wrapd(t, ["--listen", "[::]:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: 127.0.0.1\n", "ALL: ALL\n"))
    w.wait_listen(port, "::1")
    # IPv4 through the dual-stack socket: normalised, matches the v4 rule.
    s = connect(port, "127.0.0.1")
    s.sendall(b"v4")
    check(s.recv(2) == b"v4", "v4-mapped client not allowed by v4 rule")
    s.close()
    w.wait_log(r"client=127\.0\.0\.1:\d+ .*verdict=grant")
    s = connect(port, "::1")
    check(outcome(s) in ("closed", "reset"), "::1 should be denied")


def test_dualstack_pair(t):
    """0.0.0.0:P and [::]:P together, as the README shows for vsftpd: the
    IPv6 wildcard is bound IPv6-only beside the IPv4 one, and both serve."""
    port = free_port()
    be = Backend(echo_handler)
    w = Wrapd(t, ["--listen", "0.0.0.0:%d" % port, "--listen", "[::]:%d" % port,
                  "--backend", be.addr, "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    for host in ("127.0.0.1", "::1"):
        s = connect(port, host)
        s.sendall(b"ds")
        check(s.recv(2) == b"ds", "not served over " + host)
        s.close()


def test_stdin_nowait(t):
    be = Backend(echo_handler)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.create_connection(ls.getsockname(), timeout=DEADLINE)
    a, _ = ls.accept()
    w = Wrapd(t, ["--listen", "stdin", "--backend", be.addr, "--no-syslog"] +
              t.rules("ALL: ALL\n", ""), stdin=a.fileno())
    a.close()
    c.sendall(b"inetd")
    check(c.recv(5) == b"inetd", "nowait connection not relayed")
    c.shutdown(socket.SHUT_WR)
    check(recv_all(c) == b"", "no EOF")
    rc = w.wait_exit()
    check(rc == 0, "exit %d" % rc)
    # One connection, one line, and its id is the process's own (unique
    # among the wrapd processes inetd runs at once).
    lines = w.text().splitlines()
    check(len(lines) == 1, "nowait logged %d lines: %r" % (len(lines), lines))
    check(kv(lines[0])["conn"] == str(w.p.pid), lines[0])


def test_stdin_wait(t):
    be = Backend(echo_handler)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    w = Wrapd(t, ["--listen", "stdin", "--backend", be.addr, "--no-syslog"] +
              t.rules("ALL: ALL\n", ""), stdin=ls.fileno())
    ls.close()
    for i in range(3):
        s = connect(port)
        s.sendall(b"w%d" % i)
        check(s.recv(2) == b"w%d" % i, "inetd wait listener not served")
        s.close()
    w.signal(signal.SIGTERM)
    check(w.wait_exit() == 0, "exit status")


def test_systemd(t):
    be = Backend(echo_handler)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    npath = os.path.join(t.dir, "notify")
    notify.bind(npath)
    notify.settimeout(DEADLINE)
    os.dup2(ls.fileno(), 3) if ls.fileno() != 3 else None
    # LISTEN_PID must be wrapd's own pid: the shell execs it.
    conf_args = ["--listen", "systemd", "--backend", be.addr, "--no-syslog",
                 "--daemon", "web"] + t.rules("web: ALL\n", "ALL: ALL\n")
    w = Wrapd(t, conf_args, env={"LISTEN_FDS": "1", "LISTEN_FDNAMES": "web",
                                 "NOTIFY_SOCKET": npath},
              pass_fds=(3,), wrap=["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"'])
    os.close(3)
    ls.close()
    check(notify.recv(100) == b"READY=1", "no READY=1")
    s = connect(port)
    s.sendall(b"sd")
    check(s.recv(2) == b"sd", "systemd socket not served")
    s.close()
    w.signal(signal.SIGHUP)
    m = notify.recv(200)
    check(m.startswith(b"RELOADING=1\nMONOTONIC_USEC="), "reload notify: %r" % m)
    check(notify.recv(100) == b"READY=1", "no READY=1 after reload")
    w.signal(signal.SIGTERM)
    check(notify.recv(100) == b"STOPPING=1", "no STOPPING=1")
    check(w.wait_exit() == 0, "exit")


def test_systemd_accept(t):
    """Accept=yes style: LISTEN_FDS carries one connected socket."""
    be = Backend(echo_handler)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.create_connection(ls.getsockname(), timeout=DEADLINE)
    a, _ = ls.accept()
    os.dup2(a.fileno(), 3)
    a.close()
    w = Wrapd(t, ["--listen", "systemd", "--backend", be.addr, "--no-syslog"] +
              t.rules("ALL: ALL\n", ""), env={"LISTEN_FDS": "1"},
              pass_fds=(3,), wrap=["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"'])
    os.close(3)
    c.sendall(b"acc")
    check(c.recv(3) == b"acc", "Accept=yes connection not relayed")
    c.close()
    check(w.wait_exit() == 0, "exit")


def test_privdrop(t):
    if os.getuid() != 0:
        return SKIP
    port = free_port()
    be = Backend(echo_handler)
    t.rules("ALL: ALL\n", "")
    os.chmod(t.dir, 0o755)
    for f in ("hosts.allow", "hosts.deny"):
        os.chmod(os.path.join(t.dir, f), 0o644)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog", "--user", "nobody",
                  "--allow", os.path.join(t.dir, "hosts.allow"),
                  "--deny", os.path.join(t.dir, "hosts.deny")])
    w.wait_listen(port)
    st = open("/proc/%d/status" % w.p.pid).read()
    uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", st, re.M).groups()
    import pwd
    nobody = str(pwd.getpwnam("nobody").pw_uid)
    check(uid == (nobody,) * 3, "uids after drop: %r" % (uid,))
    s = connect(port)
    s.sendall(b"x")
    check(s.recv(1) == b"x", "no echo after privdrop")
    s.close()


def test_workers_spread(t):
    """Several workers: many concurrent connections all served."""
    port, be, w = echo_proxy(t, "ALL: ALL\n", "", "--workers", "4",
                             "--per-source", "200")
    socks = [connect(port) for _ in range(200)]
    for i, s in enumerate(socks):
        s.sendall(b"%05d" % i)
    for i, s in enumerate(socks):
        check(s.recv(5) == b"%05d" % i, "conn %d" % i)
        s.close()
    w.wait_log(r"reason=eof", 200)


def test_names(t):
    """A host-name rule makes wrapd look the client's name up (async)."""
    port, be, w = echo_proxy(t, "ALL: localhost\n", "ALL: ALL\n")
    s = connect(port)
    s.sendall(b"n")
    check(s.recv(1) == b"n", "localhost (by name) not allowed")
    s.close()
    w.wait_log(r"name=localhost .*verdict=grant .*hosts.allow:1")


class Identd:
    """A fake RFC 1413 server on ADDR:113; reply(query) -> bytes or None
    (None: accept and say nothing, to test the deadline)."""

    def __init__(self, addr, reply):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, 113))
        self.sock.listen(16)
        self.queries = []
        self.held = []
        self.reply = reply
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.settimeout(DEADLINE)
            q = b""
            try:
                while b"\n" not in q:
                    d = c.recv(100)
                    if not d:
                        break
                    q += d
            except OSError:
                pass
            self.queries.append(q)
            r = self.reply(q)
            if r is None:
                self.held.append(c)
                continue
            try:
                c.sendall(r)
            except OSError:
                pass
            c.close()


def ident_addr():
    # A loopback address of our own, so port 113 on it is free.
    for _ in range(50):
        a = "127.%d.%d.%d" % (random.randint(100, 250), random.randint(0, 255),
                              random.randint(2, 250))
        s = socket.socket()
        try:
            s.bind((a, 113))
            return a
        except OSError:
            continue
        finally:
            s.close()
    raise Fail("no free loopback address for an ident server")


def test_ident(t):
    if os.getuid() != 0:
        return SKIP  # port 113
    port = free_port()
    addr = ident_addr()

    def reply(q):
        cport, sport = [int(x) for x in q.decode().strip().split(",")]
        return b"%d , %d : USERID : UNIX : alice\r\n" % (cport, sport)

    idd = Identd(addr, reply)
    be = Backend(echo_handler)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] +
              t.rules("ALL: alice@%s\n" % addr, "ALL: ALL\n"))
    w.wait_listen(port)
    s = connect(port, src=addr)
    s.sendall(b"i")
    check(s.recv(1) == b"i", "alice not allowed by ident rule")
    # The query names the client's port and wrapd's public port.
    check(idd.queries[-1].replace(b" ", b"") ==
          b"%d,%d\r\n" % (s.getsockname()[1], port), repr(idd.queries))
    s.close()
    w.wait_log(r"user=alice verdict=grant")


def test_ident_deadline(t):
    """A silent ident server: one deadline, then user unknown -> deny."""
    if os.getuid() != 0:
        return SKIP
    port = free_port()
    addr = ident_addr()
    idd = Identd(addr, lambda q: None)
    be = Backend(echo_handler)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog", "--lookup-timeout", "300ms"] +
              t.rules("ALL: alice@%s\nALL: 127.0.0.1\n" % addr, "ALL: ALL\n"))
    w.wait_listen(port)
    # Meanwhile other clients are served without waiting.
    s = connect(port, src=addr)
    o = connect(port)
    o.sendall(b"o")
    check(o.recv(1) == b"o", "other client stalled behind an ident lookup")
    o.close()
    check(outcome(s) in ("closed", "reset"), "silent identd: not denied")
    w.wait_log(r"user=unknown verdict=deny")
    check(len(idd.queries) == 1, "queries: %r" % idd.queries)


def test_proxy_protocol(t):
    for ver in ("v1", "v2"):
        port = free_port()
        got = {}

        def h(c):
            need = 1 if ver == "v1" else 16
            buf = b""
            while len(buf) < need or (ver == "v1" and b"\r\n" not in buf):
                buf += c.recv(200)
            if ver == "v2" and len(buf) >= 16:
                n = struct.unpack("!H", buf[14:16])[0]
                while len(buf) < 16 + n:
                    buf += c.recv(200)
            if ver == "v1":
                i = buf.index(b"\r\n") + 2
            else:
                i = 16 + struct.unpack("!H", buf[14:16])[0]
            got["hdr"], rest = buf[:i], buf[i:]
            if rest:
                c.sendall(rest)
            echo_handler(c)

        be = Backend(h)
        w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                      "--no-syslog", "--proxy-protocol", ver] +
                  t.rules("ALL: ALL\n", ""))
        w.wait_listen(port)
        s = connect(port, src="127.0.0.9")
        cport = s.getsockname()[1]
        s.sendall(b"pp")
        check(s.recv(2) == b"pp", "no echo after PROXY header")
        s.close()
        hdr = got["hdr"]
        if ver == "v1":
            want = b"PROXY TCP4 127.0.0.9 127.0.0.1 %d %d\r\n" % (cport, port)
            check(hdr == want, "v1 header %r, want %r" % (hdr, want))
        else:
            want = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" +
                    socket.inet_aton("127.0.0.9") + socket.inet_aton("127.0.0.1") +
                    struct.pack("!HH", cport, port))
            check(hdr == want, "v2 header %r, want %r" % (hdr, want))
        w.signal(signal.SIGTERM)
        w.wait_exit()
        be.close()


def test_connect_timeout(t):
    """A backend whose listen queue is full drops SYNs: connect times out."""
    port = free_port()
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    bport = full.getsockname()[1]
    # Fill the queue (never accepted); later SYNs are dropped.
    fillers = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(("127.0.0.1", bport))
        except BlockingIOError:
            pass
        fillers.append(f)
    time.sleep(0.2)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend",
                  "127.0.0.1:%d" % bport, "--no-syslog",
                  "--connect-timeout", "300ms"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    s = connect(port)
    check(outcome(s) in ("closed", "reset"), "client not closed")
    w.wait_log(r"reason=connect-timeout")


def test_out_of_fds(t):
    """Out of descriptors: wrapd defers accepting, then recovers."""
    import resource
    port = free_port()
    be = Backend(echo_handler)
    lim = 40

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
    t.rules("ALL: ALL\n", "")
    cmd = [t.wrapd, "--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
           "--no-syslog", "--workers", "1",
           "--allow", os.path.join(t.dir, "hosts.allow"),
           "--deny", os.path.join(t.dir, "hosts.deny")]
    log = open(os.path.join(t.dir, "wrapd0.log"), "wb")
    p = subprocess.Popen(cmd, stdout=log, stderr=log, preexec_fn=low,
                         stdin=subprocess.DEVNULL)
    t.procs.append(p)
    wait_for(lambda: b"ready" in open(os.path.join(t.dir, "wrapd0.log"), "rb").read(),
             "wrapd ready")
    socks = []
    for i in range(lim):
        s = connect(port)
        socks.append(s)
    def text():
        return open(os.path.join(t.dir, "wrapd0.log"), "rb").read().decode()
    wait_for(lambda: "deferring connections" in text() or
             "no pipe" in text() or "backend-failed" in text(),
             "running out of descriptors:\n" + text())
    check(p.poll() is None, "wrapd died when out of fds:\n" + text())
    for s in socks:
        s.close()
    # Recovered: a new connection is served once descriptors are free.
    def served():
        try:
            s = connect(port)
            s.settimeout(5)
            s.sendall(b"r")
            ok = s.recv(1) == b"r"
            s.close()
            return ok
        except OSError:
            return False
    wait_for(served, "a connection served after the fds came back:\n" + text())


def test_backend_reset_delivers(t):
    """Bytes the backend sent (and wrapd's kernel acknowledged) before it
    reset reach the client, then a reset (the stream was cut), while the
    client was not even reading."""
    import fcntl
    import termios
    port = free_port()
    go = threading.Event()
    sent = {}
    payload = os.urandom(64 << 20)

    def h(c):
        # Fill every buffer on the way (wrapd's receive queue included):
        # write until the send buffer stays full for a while.
        c.setblocking(False)
        n = 0
        stalls = 0
        end = time.monotonic() + DEADLINE
        while n < len(payload) and stalls < 20 and time.monotonic() < end:
            try:
                n += c.send(payload[n:n + 65536])
                stalls = 0
            except BlockingIOError:
                stalls += 1
                time.sleep(0.05)
        # Wait until nothing is in flight: every byte sent is acknowledged
        # (SIOCOUTQ, all unacknowledged bytes, equals SIOCOUTQNSD, the
        # unsent ones); the rest stays unsent in our buffer.
        def q(req):
            return struct.unpack("i", fcntl.ioctl(c, req, struct.pack("i", 0)))[0]
        SIOCOUTQNSD = 0x894B
        while time.monotonic() < end:
            if q(termios.TIOCOUTQ) == q(SIOCOUTQNSD):
                break
            time.sleep(0.01)
        sent["n"] = n - q(termios.TIOCOUTQ)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        go.set()

    def handler(c):
        try:
            h(c)
        except OSError:
            pass  # wait_listen's probe connection hangs up at once

    be = Backend(handler)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    go.clear()
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    check(go.wait(DEADLINE), "backend never finished sending")
    out = []
    end = "eof"
    while True:
        try:
            d = s.recv(1 << 20)
        except ConnectionResetError:
            end = "reset"
            break
        if not d:
            break
        out.append(d)
    data = b"".join(out)
    n = sent["n"]
    # At least what was acknowledged when the backend looked; wrapd may
    # have taken more before the reset, if it kept draining (a loaded
    # machine): all of it, in order, and as much as wrapd logs.
    check(n > 0 and len(data) >= n and data == payload[:len(data)],
          "client got %d bytes, backend's kernel had %d acknowledged" % (len(data), n))
    check(end == "reset", "the cut stream ended with a clean EOF")
    w.wait_log(r"out=%d .*reason=backend-reset" % len(data))


# ------------------------------------------------- relay partial sends

class StallSender:
    """Send DATA in random-sized chunks (1..9000 bytes) on a non-blocking
    socket, then shut the write side.  Every send() that finds the socket
    full counts one stall: the whole chain behind it (wrapd's pipe and
    buffers included) is full, so the far reader can resume."""

    def __init__(self, sock, data, rnd):
        self.sock = sock
        self.data = data
        self.rnd = rnd
        self.stalls = 0
        self.done = False
        self.error = None
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _acked(self, end):
        import fcntl
        import termios
        for _ in range(50):
            q = struct.unpack("i", fcntl.ioctl(self.sock, termios.TIOCOUTQ,
                                               struct.pack("i", 0)))[0]
            if q == 0 or time.monotonic() > end:
                return
            time.sleep(0.0002)

    def _run(self):
        import select
        try:
            self.sock.setblocking(False)
            off = 0
            end = time.monotonic() + DEADLINE
            while off < len(self.data):
                n = self.rnd.randint(1, 9000)
                chunk = self.data[off:off + n]
                sent = 0
                while sent < len(chunk):
                    if time.monotonic() > end:
                        raise Fail("sender stuck at %d" % (off + sent))
                    try:
                        sent += self.sock.send(chunk[sent:])
                        # Until the chain first fills, let each chunk reach
                        # wrapd's kernel on its own (acknowledged), so wrapd
                        # reads one small chunk per event (relay_copy) when
                        # its destination fills up.
                        if self.stalls == 0:
                            self._acked(end)
                    except BlockingIOError:
                        self.stalls += 1
                        # Retry on a short poll, not only when writable:
                        # each retry that still fails is a fresh stall.
                        select.select([], [self.sock], [], 0.05)
                off += len(chunk)
            self.sock.shutdown(socket.SHUT_WR)
        except Exception as e:
            self.error = repr(e)
        finally:
            self.done = True


def stall_reader(sock, sender, every):
    """Read to EOF, stalling first until SENDER finds its socket full
    (everything in between, wrapd included, is full) or is done.  With
    EVERY, stall again each time EVERY more bytes were read while the
    sender has data left.  Returns (bytes, sha256, stalls honoured)."""
    import select
    h = hashlib.sha256()
    n = 0
    point = 0
    honoured = 0
    end = time.monotonic() + DEADLINE
    while True:
        if point is not None and n >= point:
            s0 = sender.stalls
            wait_for(lambda: sender.stalls > s0 or sender.done,
                     "sender to stall (reader at %d)" % n)
            if sender.stalls > s0:
                honoured += 1
            point = n + every if every and not sender.done else None
        if time.monotonic() > end:
            raise Fail("reader stuck at %d" % n)
        want = 65536 if point is None else max(1, min(65536, point - n))
        r, _, _ = select.select([sock], [], [], 1.0)
        if not r:
            continue
        d = sock.recv(want)
        if not d:
            return n, h.hexdigest(), honoured
        h.update(d)
        n += len(d)


def test_relay_partial_send(t):
    """relay_copy's partial send: the destination takes only part of an
    8 KiB read, the rest is parked in a pipe and the splice flush takes
    over.  Receivers with a tiny SO_RCVBUF that do not read until their
    sender is stalled force it, both ways at once, many times over; the
    streams must arrive byte-identical, each followed by its EOF."""
    # More than wrapd's buffers and pipe hold (a few MiB with autotuning),
    # so the reader's stalls reach the sender; the first RELAY_COPY_MAX
    # (4 MiB) of each direction is where every event starts with
    # relay_copy.
    size = int(os.environ.get("WRAPD_PROXY_PARTIAL", 8 << 20))
    port = free_port()
    rnd = random.Random(os.urandom(8))
    # (name, stall again every N bytes read, stalls that must be seen)
    variants = [("stall-at-start", None, 1),
                ("stall-mid-stream", 128 << 10, 3)]
    jobs = {}
    res = {}

    def be_handler(c):
        key = c.recv(1)  # which variant (the probe sends nothing)
        if not key:
            return
        job = jobs[key]
        # A small send buffer, so the chain behind it fills sooner.
        c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, ls_small)
        snd = StallSender(c, job["down"], random.Random(job["seed"] + 1))
        job["be_sender"] = snd
        # Wait (bounded) for the client's sender to exist, then read
        # behind its stalls.
        wait_for(lambda: "cl_sender" in job, "client sender")
        res[key] = stall_reader(c, job["cl_sender"], job["every"])
        snd.th.join(DEADLINE)

    ls_small = 4096
    be = Backend(be_handler)
    # Accepted sockets inherit the listener's tiny receive buffer.
    be.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, ls_small)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    for i, (name, every, need) in enumerate(variants):
        key = b"%d" % i
        job = {"up": os.urandom(size), "down": os.urandom(size),
               "seed": rnd.random(), "every": every}
        jobs[key] = job
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, ls_small)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, ls_small)
        s.settimeout(DEADLINE)
        s.connect(("127.0.0.1", port))
        s.sendall(key)
        job["cl_sender"] = StallSender(s, job["up"], random.Random(job["seed"]))
        wait_for(lambda: "be_sender" in job, "backend sender")
        n, dig, honoured = stall_reader(s, job["be_sender"], every)
        job["cl_sender"].th.join(DEADLINE)
        wait_for(lambda: key in res, "backend reader at EOF")
        s.close()
        for who in ("cl_sender", "be_sender"):
            check(job[who].error is None, "%s %s: %s" % (name, who, job[who].error))
        check(n == size and dig == hashlib.sha256(job["down"]).hexdigest(),
              "%s: backend -> client %d of %d bytes, digest mismatch" %
              (name, n, size))
        un, udig, uhon = res[key]
        check(un == size and udig == hashlib.sha256(job["up"]).hexdigest(),
              "%s: client -> backend %d of %d bytes, digest mismatch" %
              (name, un, size))
        # Each reader saw its sender stall while it did not read: wrapd
        # was held back both ways, NEED times (not read in one go).
        check(honoured >= need and uhon >= need,
              "%s: sender stalls seen down %d up %d, want %d" %
              (name, honoured, uhon, need))
        w.wait_log(r"in=%d out=%d .*reason=eof" % (size + 1, size), i + 1)
    check(not be.errors, "backend: %r" % be.errors)


# ------------------------------------------------- reload, big /file list

def big_list(gen, n, extra=()):
    """N distinct patterns (addresses, IPv4 and IPv6 CIDRs) that cover no
    loopback address, different for each GEN, then EXTRA at the end (so a
    list read short would miss them)."""
    out = []
    a = 20 + 2 * gen  # first octet: 20..  (never 127)
    for i in range(n):
        k = i % 10
        if k == 0:
            out.append("%d.%d.%d.0/24" % (a + 1, (i >> 8) & 255, i & 255))
        elif k == 1:
            out.append("[2001:db8:%x:%x::]/64" % (gen, i))
        else:
            out.append("%d.%d.%d.%d" % (a, i >> 16, (i >> 8) & 255, i & 255))
    return "\n".join(out + list(extra)) + "\n"


def test_reload_big_file_list(t):
    """Issue 5: reloading rules whose hosts.deny names a 100,000-entry
    /file list, under load, drops no connection.  Four clients loop
    connect/echo/close from one loopback source while the list is
    rewritten and wrapd reloaded five times; the last reload denies the
    clients' address.  Every connection wrapd granted must have completed
    its echo; every connection begun after the last "reload: done" must be
    denied; the log has exactly one line per connection."""
    n = int(os.environ.get("WRAPD_PROXY_BIGLIST", 100000))
    nthreads = 4
    per_thread = 2000
    port = free_port()
    cl = "127.%d.%d.%d" % (random.randint(100, 250), random.randint(0, 255),
                           random.randint(2, 250))
    cover = "127.%s.0.0/16" % cl.split(".")[1]
    be = Backend(echo_handler)
    lst = t.write("deny.list", big_list(0, n))
    allow_cl = "ALL: 127.0.0.1 %s\n" % cl
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog", "--workers", "2"] +
              t.rules(allow_cl, "ALL: %s\n" % lst))
    w.wait_listen(port)

    lock = threading.Lock()
    recs = []  # (phase at start, client port or None, outcome)
    phase = {"v": 0}  # 0: before the deny SIGHUP, 1: in between, 2: after done
    stop = threading.Event()
    end = time.monotonic() + 50
    nextport = [20000]  # below the ephemeral range, on our own address

    def one():
        ph = phase["v"]
        msg = os.urandom(random.randint(1, 2000))
        # Each connection its own source port, never reused (the kernel
        # reuses ports freely), so log lines map to connections exactly.
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(DEADLINE)
        for _ in range(100):
            with lock:
                sport = nextport[0]
                nextport[0] += 1
            try:
                s.bind((cl, sport))
                break
            except OSError:
                continue  # a wildcard listener of someone else's
        try:
            s.connect(("127.0.0.1", port))
        except OSError as e:
            s.close()
            return ph, None, "connect: %r" % e
        cport = s.getsockname()[1]
        try:
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                d = s.recv(len(msg) - len(got))
                if not d:
                    break
                got += d
            if got != msg:
                return ph, cport, "closed" if not got else "short %d/%d" % (
                    len(got), len(msg))
            s.shutdown(socket.SHUT_WR)
            rest = recv_all(s)
            return ph, cport, "ok" if rest == b"" else "extra %r" % rest[:20]
        except ConnectionResetError:
            return ph, cport, "reset"
        except BrokenPipeError:
            return ph, cport, "reset"
        except OSError as e:
            return ph, cport, "error %r" % e
        finally:
            s.close()

    def loop():
        for _ in range(per_thread):
            if stop.is_set() or time.monotonic() > end:
                return
            r = one()
            with lock:
                recs.append(r)

    ths = [threading.Thread(target=loop, daemon=True) for _ in range(nthreads)]
    for th in ths:
        th.start()

    def done_at_least(k):
        with lock:
            return len(recs) >= k

    def reloads(k):
        # A reload of 100k entries may take long under sanitizers.
        wait_for(lambda: len(re.findall(r"reload: done", w.text())) >= k,
                 "reload %d done:\n%s" % (k, w.text()[-2000:]), deadline=60)

    # Reloads 1..4 keep the clients allowed: fresh 100k lists, the third
    # one covering them (hosts.allow still wins); reload 5 denies them.
    step = per_thread * nthreads // 8
    for gen in range(1, 5):
        wait_for(lambda: done_at_least(gen * step), "load progress")
        t.write("deny.list", big_list(gen, n, [cover] if gen == 3 else []))
        w.signal(signal.SIGHUP)
        reloads(gen)
    wait_for(lambda: done_at_least(5 * step), "load progress")
    t.write("deny.list", big_list(5, n, [cl]))
    t.write("hosts.allow", "ALL: 127.0.0.1\n")
    with lock:
        phase["v"] = 1
        nbefore = len(recs)
    w.signal(signal.SIGHUP)
    reloads(5)
    with lock:
        phase["v"] = 2
        nmid = len(recs)
    wait_for(lambda: done_at_least(nmid + 100 + nthreads), "denied load")
    stop.set()
    for th in ths:
        th.join(DEADLINE)
        check(not th.is_alive(), "a client thread hung")

    connected = [r for r in recs if r[1] is not None]
    bad = [r for r in recs if r[1] is None]
    check(not bad, "refused/failed connects: %r" % bad[:5])
    ports = [r[1] for r in connected]
    check(len(set(ports)) == len(ports), "a client port was reused")
    # One log line per connection (the probe's from 127.0.0.1 apart).
    pat = re.compile(r"client=%s:(\d+) " % re.escape(cl))

    def lines():
        return [l for l in w.conn_lines() if pat.search(l)]
    wait_for(lambda: len(lines()) >= len(connected),
             "%d connection lines" % len(connected), deadline=60)
    by_port = {}
    for l in lines():
        p = int(pat.search(l).group(1))
        check(p not in by_port, "two lines for one connection: " + l)
        by_port[p] = kv(l)
    check(set(by_port) == set(ports),
          "log lines %d vs connections %d" % (len(by_port), len(ports)))
    ok = grant = deny = 0
    for ph, p, res in connected:
        d = by_port[p]
        if d["verdict"] == "grant":
            grant += 1
            # Accepted: must have completed, whatever the reloads did.
            check(res == "ok", "granted connection (phase %d) %s: %r" %
                  (ph, res, d))
            check(d["rule"].endswith("hosts.allow:1"), repr(d))
            ok += 1
        else:
            check(d["verdict"] == "deny" and d["rule"].endswith("hosts.deny:1"),
                  "unexpected verdict: %r" % d)
            check(res in ("closed", "reset"),
                  "denied connection got %s" % res)
            check(ph != 0, "connection denied before the deny reload: %r" % d)
            deny += 1
    after = [r for r in connected if r[0] == 2]
    check(after and all(by_port[r[1]]["verdict"] == "deny" for r in after),
          "connections begun after the deny reload were not all denied")
    check(ok >= nbefore and nbefore >= 5 * step,
          "only %d echoes completed before the deny reload" % ok)
    print("connections %d: granted+echoed %d, denied %d (%d after reload 5)"
          % (len(connected), ok, deny, len(after)))
    check(not be.errors, "backend: %r" % be.errors[:5])


TESTS = {k[5:]: v for k, v in globals().items() if k.startswith("test_")}


def run(tests, argv):
    """The command line of a test file: PROG WRAPD TEST -> 0, 1 or 77."""
    prog = os.path.basename(argv[0])
    if len(argv) != 3 or argv[2] not in tests:
        print("usage: %s WRAPD TEST\ntests: %s" % (prog, " ".join(tests)),
              file=sys.stderr)
        return 2
    t = T(os.path.abspath(argv[1]))
    try:
        rc = tests[argv[2]](t)
        if rc == SKIP:
            print("SKIP")
            return SKIP
        print("PASS")
        return 0
    except Fail as e:
        print("FAIL: %s" % e)
        for f in sorted(os.listdir(t.dir)):
            if f.endswith(".log"):
                print("--- %s" % f)
                print(open(os.path.join(t.dir, f), errors="replace").read()[-4000:])
        return 1
    finally:
        t.cleanup()


if __name__ == "__main__":
    sys.exit(run(TESTS, sys.argv))
