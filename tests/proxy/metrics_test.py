#!/usr/bin/env python3
"""metrics_test.py - the Prometheus endpoint (`metrics:`, `--metrics`),
scraped from the real wrapd while real connections go through it.

    metrics_test.py WRAPD TESTNAME

Same conventions as proxy_test.py (whose helpers it uses): every wait
bounded, no timed assertions, every process stopped by its PID.  Each
test makes a known number of connections and bytes, then scrapes and
checks the exact counts; the hostile scrapers check that nothing they do
crashes wrapd or holds up a connection.  `promtool check metrics` runs
when promtool can be had: in PATH, $PROMTOOL, or unpacked from the
prometheus package that contrib/install-deps.sh downloads (never
installed: it would start a service); else that test is skipped.
"""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_test import (DEADLINE, SKIP, Backend, Fail, Wrapd,  # noqa: E402
                        check, connect, echo_handler, free_port, recv_all,
                        run, wait_for)

DENIED = b"DENIED\r\n"
PROMETHEUS_DEB = "/var/cache/wrapd-tests/prometheus_*.deb"


# ---------------------------------------------------------------- HTTP

def http(port, request, host="127.0.0.1"):
    """Send request bytes, read to the end: (status, headers, body, how the
    connection ended: 'eof' or 'reset')."""
    s = connect(port, host)
    try:
        s.sendall(request)
        data, end = b"", "eof"
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                end = "reset"
                break
            if not d:
                break
            data += d
    finally:
        s.close()
    if not data:
        return None, {}, b"", end
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body, end


def get(port, path="/metrics", method="GET"):
    return http(port, ("%s %s HTTP/1.1\r\nHost: wrapd\r\n\r\n" %
                       (method, path)).encode())


LABELS = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n"
                  else m.group(1), v)


def parse(text):
    """{(name, frozenset of (label, value)): value} of a scrape; checks
    that every family has HELP and TYPE before its samples."""
    out, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#"):
            continue
        m = re.match(r'([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
        check(m is not None, "not a sample line: %r" % line)
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        check(name in typed or base in typed, "no TYPE before " + line)
        labels = frozenset((k, unescape(v))
                           for k, v in LABELS.findall(m.group(2) or ""))
        check((name, labels) not in out, "duplicate series: " + line)
        out[(name, labels)] = float(m.group(3))
    return out


def scrape(port):
    """A GET /metrics answered whole: the parsed samples."""
    status, headers, body, end = get(port)
    check(status == 200, "scrape: status %r" % status)
    check(headers.get("content-type") ==
          "text/plain; version=0.0.4; charset=utf-8", repr(headers))
    check(int(headers["content-length"]) == len(body),
          "Content-Length %s, body %d" % (headers["content-length"],
                                          len(body)))
    check(headers.get("connection") == "close", repr(headers))
    check(end == "eof", "the scrape ended with a reset")
    return parse(body.decode("utf-8"))


def val(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    check(key in samples, "no sample %s%r" % (name, labels))
    return samples[key]


# ------------------------------------------------------------- set-up

class Setup:
    """wrapd with a configuration file whose `metrics` is a free port."""

    def __init__(self, t, services, allow, deny, top="", metrics=None):
        self.t = t
        self.be = Backend(echo_handler)
        self.mport = free_port()
        self.allow = t.write("hosts.allow", allow)
        self.deny = t.write("hosts.deny", deny)
        self.top = top
        self.services = services
        self.metrics = metrics or "127.0.0.1:%d" % self.mport
        self.conf = self.write_conf(self.metrics)
        self.w = Wrapd(t, ["--config", self.conf])
        wait_for(lambda: self.ready(), "wrapd ready")

    def write_conf(self, metrics):
        return self.t.write("wrapd.yaml", """\
rules: { allow: %s, deny: %s }
log: { syslog: false }
control: null
metrics: %s
%sservices:
%s""" % (self.allow, self.deny, metrics, self.top,
         self.services.replace("BACKEND", self.be.addr)))

    def ready(self):
        if self.w.p.poll() is not None:
            raise Fail("wrapd exited %d:\n%s" % (self.w.p.returncode,
                                                 self.w.text()))
        return "ready:" in self.w.text()

    def reload(self, n):
        self.w.signal(signal.SIGHUP)
        self.w.wait_log(r"reload: (done|failed|configuration has errors)",
                        n)


def service(name, port, extra=""):
    return ("  - name: %s\n    listen: [\"127.0.0.1:%d\"]\n"
            "    backend: \"BACKEND\"\n%s" % (name, port, extra))


def echo(port, src, n):
    """n bytes through the echo service from src, back whole, then EOF."""
    s = connect(port, src=src)
    data = os.urandom(n)
    s.sendall(data)
    got = b""
    while len(got) < n:
        d = s.recv(65536)
        check(d, "echo cut at %d of %d" % (len(got), n))
        got += d
    check(got == data, "echo changed the bytes")
    s.close()


def denied(port, src):
    """A denied connection: the on_deny reply, then EOF."""
    s = connect(port, src=src)
    got = recv_all(s)
    s.close()
    check(got == DENIED, "denied client got %r" % got)


def conn_lines(w, service):
    return [l for l in w.conn_lines() if "service=%s " % service in l]


# -------------------------------------------------------------- tests

ALLOW = """# metrics test: line numbers matter
echo: 127.0.0.10
echo: 127.0.0.11 : spawn /bin/true
"""
DENY = """echo: 127.0.0.9
ALL: ALL
"""


def test_counts(t):
    """A known number of grants and denies by known rules, a known number
    of bytes each way, an action: the scrape says exactly that."""
    port = free_port()
    s = Setup(t, service("echo", port,
                         "    on_deny: { reply: \"DENIED\\r\\n\" }\n"),
              ALLOW, DENY)
    s.w.wait_listen(port)  # one probe, from 127.0.0.1: deny:2
    for _ in range(5):
        echo(port, "127.0.0.10", 1000)
    for _ in range(2):
        echo(port, "127.0.0.11", 10)
    for _ in range(3):
        denied(port, "127.0.0.9")
    for _ in range(2):
        denied(port, "127.0.0.12")
    s.w.wait_log(r"service=echo ", 13)
    m = scrape(s.mport)
    svc = dict(service="echo")
    check(val(m, "wrapd_connections_total", verdict="grant", **svc) == 7,
          "grants")
    check(val(m, "wrapd_connections_total", verdict="deny", **svc) == 6,
          "denies")
    check(val(m, "wrapd_connections_total", verdict="twist", **svc) == 0,
          "twists")
    check(val(m, "wrapd_connections_total", verdict="-", **svc) == 0,
          "undecided")
    check(val(m, "wrapd_connections_active", **svc) == 0, "active")
    for rule, table, n in (("%s:2" % s.allow, "allow", 5),
                           ("%s:3" % s.allow, "allow", 2),
                           ("%s:1" % s.deny, "deny", 3),
                           ("%s:2" % s.deny, "deny", 3)):
        check(val(m, "wrapd_rule_matches_total", rule=rule, table=table,
                  **svc) == n, "matches of %s" % rule)
    rules = [k for k in m if k[0] == "wrapd_rule_matches_total"]
    check(len(rules) == 4, "rule series: %r" % rules)
    # The log's in= and out=: the echoes, and 8 bytes per deny reply.
    check(val(m, "wrapd_bytes_total", direction="client_to_backend",
              **svc) == 5020, "bytes in")
    check(val(m, "wrapd_bytes_total", direction="backend_to_client",
              **svc) == 5020 + 6 * len(DENIED), "bytes out")
    logged = [re.search(r" in=(\d+) out=(\d+)", l).groups()
              for l in conn_lines(s.w, "echo")]
    check(sum(int(a) for a, b in logged) == 5020 and
          sum(int(b) for a, b in logged) == 5068, "the log disagrees")
    check(val(m, "wrapd_actions_total", action="spawn", outcome="run") == 2,
          "spawns")
    check(val(m, "wrapd_actions_total", action="spawn",
              outcome="skipped") == 0, "spawns skipped")
    check(val(m, "wrapd_lookups_total", kind="dns", outcome="answered") == 0,
          "no rule asked for a name")
    check(val(m, "wrapd_build_info", version=re.search(
        r"wrapd (\S+) ready", s.w.text()).group(1)) == 1, "build info")
    # Active while it lasts.
    held = connect(port, src="127.0.0.10")
    held.sendall(b"x")
    check(held.recv(1) == b"x", "no echo")
    m = scrape(s.mport)
    check(val(m, "wrapd_connections_active", **svc) == 1, "active: 1")
    check(val(m, "wrapd_connections_total", verdict="grant", **svc) == 8,
          "a grant counts when it is delivered, not when it ends")
    held.close()


def test_reload_rules(t):
    """A rule that stays at its file:line keeps counting over reloads; one
    moved by a line inserted above counts on at its new position from 0,
    the old series kept; reloads are counted by outcome; the service's
    counters survive."""
    port = free_port()
    s = Setup(t, service("echo", port), "echo: 127.0.0.10\n", "ALL: ALL\n")
    s.w.wait_listen(port)
    for _ in range(2):
        echo(port, "127.0.0.10", 10)
    s.reload(1)
    echo(port, "127.0.0.10", 10)
    s.w.wait_log(r"service=echo ", 4)
    m = scrape(s.mport)
    rule = dict(service="echo", rule="%s:1" % s.allow, table="allow")
    check(val(m, "wrapd_rule_matches_total", **rule) == 3,
          "a reload reset the rule's count")
    check(val(m, "wrapd_reloads_total", outcome="ok") == 1, "reloads")
    t.write("hosts.allow", "# a line above\necho: 127.0.0.10\n")
    s.reload(2)
    echo(port, "127.0.0.10", 10)
    s.w.wait_log(r"service=echo ", 5)
    m = scrape(s.mport)
    check(val(m, "wrapd_rule_matches_total", **rule) == 3,
          "the old position's series changed")
    check(val(m, "wrapd_rule_matches_total", service="echo",
              rule="%s:2" % s.allow, table="allow") == 1, "the new position")
    check(val(m, "wrapd_connections_total", service="echo",
              verdict="grant") == 4, "the service's counters were reset")
    t.write("wrapd.yaml", "services: [")
    s.reload(3)
    m = scrape(s.mport)
    check(val(m, "wrapd_reloads_total", outcome="failed") == 1, "failed")
    check(val(m, "wrapd_reloads_total", outcome="ok") == 2, "ok")


def test_pause(t):
    """max_connections 1, one worker: every accept at the limit pauses the
    listener once; a client queued meanwhile is served when one closes."""
    port = free_port()
    mport = free_port()
    be = Backend(echo_handler)
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog", "--workers", "1", "--max-connections", "1",
                  "--metrics", "127.0.0.1:%d" % mport] +
              t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    a = connect(port)
    a.sendall(b"a")
    check(a.recv(1) == b"a", "first")
    b = connect(port)  # waits in the kernel's queue
    b.sendall(b"b")
    m = scrape(mport)
    svc = dict(service="wrapd")
    check(val(m, "wrapd_listener_pauses_total", reason="max_connections",
              **svc) == 2, "pauses: the probe's and a's")
    check(val(m, "wrapd_connections_active", **svc) == 1, "active")
    a.close()
    check(b.recv(1) == b"b", "the queued client was not served")
    b.close()
    w.wait_log(r"reason=eof", 3)
    m = scrape(mport)
    check(val(m, "wrapd_listener_pauses_total", reason="max_connections",
              **svc) == 3, "pauses: and b's")
    check(val(m, "wrapd_listener_pauses_total", reason="emfile", **svc) == 0,
          "emfile")
    check(val(m, "wrapd_connections_total", verdict="grant", **svc) == 3,
          "grants")


def test_emfile(t):
    """Out of descriptors: accepting backs off (counted as an emfile
    pause), then serves again, and the endpoint answers afterwards."""
    import resource
    port, mport, lim = free_port(), free_port(), 40
    be = Backend(echo_handler)
    t.rules("ALL: ALL\n", "")
    log = os.path.join(t.dir, "wrapd0.log")
    p = subprocess.Popen(
        [t.wrapd, "--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
         "--no-syslog", "--workers", "1", "--metrics", "127.0.0.1:%d" % mport,
         "--allow", os.path.join(t.dir, "hosts.allow"),
         "--deny", os.path.join(t.dir, "hosts.deny")],
        stdout=open(log, "wb"), stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                              (lim, lim)))
    t.procs.append(p)

    def text():
        with open(log, "rb") as f:
            return f.read().decode("utf-8", "replace")
    wait_for(lambda: "ready:" in text(), "wrapd ready:\n" + text())
    socks = [connect(port) for _ in range(lim)]
    wait_for(lambda: "deferring connections" in text(),
             "running out of descriptors:\n" + text())
    for s in socks:
        s.close()

    def served():
        try:
            echo(port, "127.0.0.1", 1)
            return True
        except (OSError, Fail):
            return False
    wait_for(served, "served again:\n" + text())
    m = wait_for(lambda: scrape_or_none(mport), "a scrape")
    check(val(m, "wrapd_listener_pauses_total", service="wrapd",
              reason="emfile") >= 1, "no emfile pause counted")
    check(p.poll() is None, "wrapd died")


def scrape_or_none(port):
    try:
        return scrape(port)
    except (OSError, Fail):
        return None


def test_lookups(t):
    """A rule that needs the client's name: one answered DNS look-up per
    connection, observed in the histogram; a silent ident server: a
    timed-out ident look-up, not faster than its deadline."""
    port = free_port()
    s = Setup(t, service("echo", port, "    timeouts: { lookup: 300ms }\n"),
              "echo: localhost\n", "ALL: ALL\n")
    s.w.wait_listen(port)
    for _ in range(3):
        echo(port, "127.0.0.1", 5)
    s.w.wait_log(r"name=localhost .*verdict=grant", 4)
    m = scrape(s.mport)
    check(val(m, "wrapd_lookups_total", kind="dns", outcome="answered") == 4,
          "dns look-ups")
    check(val(m, "wrapd_lookup_duration_seconds_count", kind="dns") == 4,
          "histogram count")
    check(val(m, "wrapd_lookup_duration_seconds_bucket", kind="dns",
              le="+Inf") == 4, "+Inf bucket")
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in m.items()
                     if k[0] == "wrapd_lookup_duration_seconds_bucket" and
                     dict(k[1])["kind"] == "dns" and
                     dict(k[1])["le"] != "+Inf")
    check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])),
          "buckets not cumulative: %r" % buckets)
    check(val(m, "wrapd_rule_matches_total", service="echo",
              rule="%s:1" % s.allow, table="allow") == 4, "by name")
    if os.getuid() != 0:
        print("SKIP the ident part: port 113 needs root")
        return
    from proxy_test import Identd, ident_addr
    addr = ident_addr()
    Identd(addr, lambda q: None)
    t.write("hosts.allow", "echo: alice@%s\n" % addr)
    s.reload(1)
    c = connect(port, src=addr)
    check(c.recv(1) == b"", "a user nobody confirmed was let in")
    c.close()
    s.w.wait_log(r"user=unknown verdict=deny")
    m = scrape(s.mport)
    check(val(m, "wrapd_lookups_total", kind="ident",
              outcome="timed_out") == 1, "ident timed out")
    check(val(m, "wrapd_lookup_duration_seconds_bucket", kind="ident",
              le="0.25") == 0, "a 300 ms deadline counted as faster")
    check(val(m, "wrapd_lookup_duration_seconds_sum", kind="ident") >= 0.3,
          "the sum is short of the deadline")


def test_http_hostile(t):
    """Garbage, a huge head, a slow scraper, 404, 405, HEAD, HTTP/1.0,
    junk after the request: each gets its answer (or is dropped) while the
    service goes on serving and the endpoint goes on answering."""
    port = free_port()
    s = Setup(t, service("echo", port), "ALL: ALL\n", "")
    s.w.wait_listen(port)

    def alive():
        echo(port, "127.0.0.1", 100)
        scrape(s.mport)
    st, h, body, end = http(s.mport, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc")
    check(st == 400 and end == "eof", "TLS hello: %r %r" % (st, end))
    alive()
    st, h, body, end = http(s.mport, b"GET / HTTP/1.1\r\nX: " + b"a" * 8000)
    check(st == 431, "huge head: %r" % st)
    alive()
    st, h, body, end = get(s.mport, "/nope")
    check(st == 404 and int(h["content-length"]) == len(body), "404")
    st, h, body, end = get(s.mport, "/metrics", "DELETE")
    check(st == 405 and h.get("allow") == "GET, HEAD", "405: %r" % h)
    st, h, body, end = get(s.mport, "/metrics", "HEAD")
    check(st == 200 and body == b"" and int(h["content-length"]) > 1000,
          "HEAD: %r %r" % (h, body[:50]))
    st, h, body, end = http(s.mport, b"GET / HTTP/1.0\n\n")
    check(st == 200 and body.startswith(b"# HELP wrapd_"), "GET / 1.0")
    # Junk after the request (below the drain bound): the whole answer,
    # then a clean close, not a reset that could cut it.
    st, h, body, end = http(s.mport, b"GET /metrics HTTP/1.1\r\n\r\n" +
                            b"j" * 20000)
    check(st == 200 and int(h["content-length"]) == len(body) and
          end == "eof", "junk after: %r %r" % (st, end))
    # A slow scraper holds a slot only until its deadline.
    slow = connect(s.mport)
    slow.sendall(b"GET /metr")
    alive()
    r = None
    try:
        r = slow.recv(10)
    except ConnectionResetError:
        r = "reset"
    check(r in (b"", "reset"), "the slow scraper got %r" % (r,))
    slow.close()
    alive()
    check(s.w.p.poll() is None, "wrapd died")


def test_scrapers(t):
    """Twenty scrapers at once that never ask: at most 8 are kept, the
    others reset at once (logged); a connection is served meanwhile; once
    they are gone, scrapes are answered again."""
    port = free_port()
    s = Setup(t, service("echo", port), "ALL: ALL\n", "")
    s.w.wait_listen(port)
    # Those past 8 may be reset so soon that connect() itself says so.
    idle, ended = [], []
    for _ in range(20):
        try:
            idle.append(connect(s.mport))
        except ConnectionResetError:
            ended.append("reset")
    s.w.wait_log(r"metrics 127\.0\.0\.1:%d: 8 scrapers at once already; "
                 r"reset one" % s.mport)
    echo(port, "127.0.0.1", 1000)

    def wait_end(c):
        try:
            ended.append(c.recv(10))
        except ConnectionResetError:
            ended.append("reset")
    threads = [threading.Thread(target=wait_end, args=(c,)) for c in idle]
    for th in threads:
        th.start()
    for th in threads:
        th.join(DEADLINE)
    check(len(ended) == 20 and all(e in (b"", "reset") for e in ended),
          "scrapers not all dropped: %r" % ended)
    for c in idle:
        c.close()
    wait_for(lambda: scrape_or_none(s.mport), "scrapes answered again")
    echo(port, "127.0.0.1", 1000)
    check(s.w.p.poll() is None, "wrapd died")


def listen_inode(port):
    """The inode of the socket listening on 127.0.0.1:port (/proc/net/tcp)."""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            p = line.split()
            if p[1] == want and p[3] == "0A":
                return p[9]
    return None


def test_reload_address(t):
    """An unchanged address keeps its socket; a changed one is bound anew
    and the old one closed; one that cannot be bound keeps the old (logged);
    null stops serving."""
    port = free_port()
    s = Setup(t, service("echo", port), "ALL: ALL\n", "")
    s.w.wait_listen(port)
    before = listen_inode(s.mport)
    check(before is not None, "no listening socket")
    s.reload(1)
    check(listen_inode(s.mport) == before, "an unchanged address rebound")
    scrape(s.mport)
    new = free_port()
    s.write_conf("127.0.0.1:%d" % new)
    s.reload(2)
    s.w.wait_log(r"metrics on 127\.0\.0\.1:%d" % new)
    scrape(new)
    check(listen_inode(s.mport) is None, "the old address still listens")
    # Taken by someone else: the reload keeps the running address.
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy = free_port()
    taken.bind(("127.0.0.1", busy))
    taken.listen(1)
    s.write_conf("127.0.0.1:%d" % busy)
    s.reload(3)
    s.w.wait_log(r"reload: metrics 127\.0\.0\.1:%d: cannot listen: .*; still "
                 r"serving 127\.0\.0\.1:%d" % (busy, new))
    m = scrape(new)
    check(val(m, "wrapd_reloads_total", outcome="ok") == 3,
          "the reload as a whole took")
    taken.close()
    # Once free, the same configuration binds it.
    s.reload(4)
    s.w.wait_log(r"metrics on 127\.0\.0\.1:%d" % busy)
    scrape(busy)
    s.write_conf("null")
    s.reload(5)
    s.w.wait_log(r"reload: metrics no longer served")
    check(listen_inode(busy) is None, "still listening after null")
    echo(port, "127.0.0.1", 10)


def test_config(t):
    """A metrics address that is taken stops the start (exit 1); a host
    name is an error at file:line:col; a bad --metrics is a usage error
    (exit 2); an address that is not loopback is a warning."""
    port = free_port()
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    busy = taken.getsockname()[1]
    rules = t.rules("ALL: ALL\n", "")
    base = [t.wrapd, "--listen", "127.0.0.1:%d" % port, "--backend",
            "127.0.0.1:9", "--no-syslog"] + rules
    p = subprocess.run(base + ["--metrics", "127.0.0.1:%d" % busy],
                       capture_output=True, text=True, timeout=DEADLINE)
    check(p.returncode == 1 and "metrics 127.0.0.1:%d: cannot listen: "
          "Address already in use; not starting" % busy in p.stderr,
          "busy: %d %r" % (p.returncode, p.stderr))
    taken.close()
    p = subprocess.run(base + ["--metrics", "localhost:9414"],
                       capture_output=True, text=True, timeout=DEADLINE)
    check(p.returncode == 2 and '--metrics: metrics "localhost:9414": '
          "expected ADDR:PORT with a numeric address" in p.stderr,
          "--metrics localhost: %d %r" % (p.returncode, p.stderr))
    conf = t.write("bad.yaml", "rules: { allow: %s, deny: %s }\n"
                   "metrics: 9414\nservices:\n%s" % (
                       rules[1], rules[3],
                       service("x", port).replace("BACKEND", "127.0.0.1:9")))
    p = subprocess.run([t.wrapd, "--config", conf, "--no-syslog"],
                       capture_output=True, text=True, timeout=DEADLINE)
    check(p.returncode == 1 and "bad.yaml:2:10: metrics \"9414\": expected "
          "ADDR:PORT" in p.stderr, "file: %d %r" % (p.returncode, p.stderr))
    mport = free_port()
    w = Wrapd(t, base[1:] + ["--metrics", "0.0.0.0:%d" % mport])
    w.wait_log(r'metrics "0\.0\.0\.0:%d" is not a loopback address' % mport)
    w.wait_listen(port)
    scrape(mport)


def promtool(t):
    """A promtool to run: PATH, $PROMTOOL, or unpacked from the prometheus
    package of contrib/install-deps.sh into the test's directory."""
    exe = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if exe:
        return exe
    debs = sorted(glob.glob(PROMETHEUS_DEB))
    if not debs or not shutil.which("dpkg-deb"):
        return None
    dest = os.path.join(t.dir, "prometheus")
    os.mkdir(dest)
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", debs[-1]],
                           stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", dest, "./usr/bin/promtool"],
                   stdin=tar.stdout, timeout=120, check=True)
    tar.wait(timeout=120)
    exe = os.path.join(dest, "usr/bin/promtool")
    return exe if os.access(exe, os.X_OK) else None


def test_promtool(t):
    """promtool check metrics accepts a scrape with every kind of series,
    from a rule file whose name has a quote, a backslash and a byte that
    is not UTF-8 (quick mode: the command line carries any bytes)."""
    exe = promtool(t)
    if exe is None:
        print("SKIP: no promtool (not in PATH, $PROMTOOL unset, no %s: "
              "run contrib/install-deps.sh)" % PROMETHEUS_DEB)
        return SKIP
    port, mport = free_port(), free_port()
    be = Backend(echo_handler)
    odd = os.path.join(t.dir, 'allow "odd" \\ ').encode() + b"\xe9"
    with open(odd, "wb") as f:
        f.write(b"ALL: 127.0.0.10 : spawn /bin/true\nALL: localhost\n")
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog", "--metrics", "127.0.0.1:%d" % mport,
                  "--allow", odd,
                  "--deny", t.write("hosts.deny", "ALL: ALL\n")])
    w.wait_listen(port)
    echo(port, "127.0.0.10", 10)
    echo(port, "127.0.0.1", 10)
    c = connect(port, src="127.0.0.9")
    check(c.recv(10) == b"", "denied client served")
    c.close()
    w.wait_log(r"conn=\d+ ", 4)
    status, headers, body, end = get(mport)
    check(status == 200, "scrape")
    check(b'rule="%s:1"' % odd.replace(b"\\", b"\\\\").replace(
        b'"', b'\\"').replace(b"\xe9", b"\xef\xbf\xbd") in body,
        "the odd file name is not escaped as expected:\n" + body.decode())
    p = subprocess.run([exe, "check", "metrics"], input=body,
                       capture_output=True, timeout=DEADLINE)
    check(p.returncode == 0, "promtool: %d %s %s" % (
        p.returncode, p.stdout.decode(), p.stderr.decode()))
    print("promtool check metrics: ok (%s)" % exe)


TESTS = {k[5:]: v for k, v in globals().items() if k.startswith("test_")}

if __name__ == "__main__":
    sys.exit(run(TESTS, sys.argv))
