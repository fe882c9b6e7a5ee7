#!/usr/bin/env python3
"""limits_test.py - rates, bans, time windows and the control socket, with
the real wrapd in front of a real echo backend on loopback.

    limits_test.py WRAPD TESTNAME

Same conventions as proxy_test.py (whose helpers it uses): every wait
bounded, no timed assertions (rates are per hour and bans last minutes
where a test must see them in force; windows have half an hour of margin),
every process stopped by PID.  Every 127.x.y.z address is local on Linux,
so each source is a source address of its own.
"""
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_test import (DEADLINE, SKIP, Backend, Fail, Wrapd,  # noqa: E402
                        check, connect, echo_handler, free_port, kv, run,
                        wait_for)

ABUSER = "127.0.0.9"
GOOD = "127.0.0.10"
DENIED = b"DENIED\r\n"


def attempt(port, src, msg=b"hi"):
    """One connection from src: 'refused' (closed or reset before a byte
    came: refused at accept), 'denied' (the on_deny reply), 'served' (the
    echo), or what came."""
    try:
        s = connect(port, src=src)
    except ConnectionResetError:
        return "refused"
    try:
        s.settimeout(DEADLINE)
        try:
            s.sendall(msg)
        except (BrokenPipeError, ConnectionResetError):
            pass
        got = b""
        while True:
            try:
                d = s.recv(100)
            except ConnectionResetError:
                # The reply, then a reset for the "hi" that came after
                # wrapd closed, is still the reply.
                break
            if not d:
                break
            got += d
            if got == msg:
                return "served"
        if got == DENIED:
            return "denied"
        return got if got else "refused"
    finally:
        s.close()


def served(port, src=GOOD):
    return attempt(port, src) == "served"


class Setup:
    """wrapd with a configuration file and a control socket in t.dir."""

    def __init__(self, t, service, allow="ALL: %s\n" % GOOD, deny="ALL: ALL\n",
                 env=None, top=""):
        self.t = t
        self.be = Backend(echo_handler)
        self.port = free_port()
        self.control = os.path.join(t.dir, "run", "control.sock")
        self.conf = t.write("wrapd.yaml", """\
rules: { allow: %s, deny: %s }
log: { syslog: false }
control: %s
%sservices:
  - name: echo
    listen: ["127.0.0.1:%d"]
    backend: "%s"
    on_deny: { reply: "DENIED\\r\\n" }
%s""" % (t.write("hosts.allow", allow), t.write("hosts.deny", deny),
                self.control, top, self.port, self.be.addr, service))
        self.w = Wrapd(t, ["--config", self.conf], env=env)
        self.w.wait_listen(self.port)

    def ask(self, what, *args, user=None):
        """wrapd bans|status --control ... : (exit status, stdout, stderr)."""
        cmd = [self.t.wrapd, what, "--control", self.control] + list(args)
        if user is not None:
            cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user,
                   "--clear-groups", "--"] + cmd
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=DEADLINE)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def json(self, what):
        rc, out, err = self.ask(what, "--json")
        check(rc == 0, "wrapd %s --json: exit %d: %s" % (what, rc, err))
        return json.loads(out)

    def service(self):
        return self.json("status")["services"][0]


def ban_line(text, source):
    for line in text.splitlines():
        if line.startswith("ban ") and kv(line).get("source") == source:
            return kv(line)
    return None


# ------------------------------------------------------------------ bans

def test_ban_abuser(t):
    """127.0.0.9 is denied 3 times, then refused at accept (no reply, no
    log line of its own) while 127.0.0.10 is served; wrapd bans lists it,
    as text and JSON; the ban survives a reload."""
    s = Setup(t, "    ban: { after: 3, within: 60s, for: 10m }\n")
    for i in range(3):
        r = attempt(s.port, ABUSER)
        check(r == "denied", "denial %d: %r" % (i + 1, r))
    s.w.wait_log(r"service echo: banned 127\.0\.0\.9 for 600s after 3 "
                 r"denials within 60s; the last: denied by the rules")
    lines = len(s.w.conn_lines())
    for i in range(5):
        r = attempt(s.port, ABUSER)
        check(r == "refused", "banned source got %r" % (r,))
        check(served(s.port), "another source was not served")
    s.w.wait_log(r"service echo: refused \d+ connection\(s\) from banned "
                 r"sources, the last from 127\.0\.0\.9")
    # Refused at accept: no decision, no per-connection line.
    check(len([l for l in s.w.conn_lines() if "127.0.0.9" in l]) == 3,
          "a refused connection was decided:\n" + s.w.text())
    check(len(s.w.conn_lines()) == lines + 5, "the served ones are logged")

    rc, out, err = s.ask("bans")
    check(rc == 0, "wrapd bans: %d %s" % (rc, err))
    b = ban_line(out, ABUSER)
    check(b is not None, "not listed:\n" + out)
    check(b["service"] == "echo" and b["denials"] == "3", out)
    check(int(b["refused"]) >= 5 and int(b["remaining_ms"]) > 0, out)
    check(kv([l for l in out.splitlines() if l.startswith("bans ")][0])
          ["total"] == "1", out)
    j = s.json("bans")
    check(len(j["bans"]) == 1 and j["summary"]["total"] == 1, repr(j))
    jb = j["bans"][0]
    check(jb["source"] == ABUSER and jb["service"] == "echo", repr(j))
    check(isinstance(jb["expires"], int) and jb["expires"] > jb["set"],
          repr(j))
    svc = s.service()
    check(svc["banned"] == 1 and svc["bans_set"] == 1, repr(svc))
    check(svc["refused_banned"] >= 5, repr(svc))

    # A reload keeps the ban (the service state outlives the snapshot).
    s.w.signal(signal.SIGHUP)
    s.w.wait_log(r"reload: done")
    check(attempt(s.port, ABUSER) == "refused", "a reload lifted the ban")
    check(ban_line(s.ask("bans")[1], ABUSER) is not None, "not listed")
    check(served(s.port), "another source was not served after the reload")


def test_ban_expires(t):
    """A ban ends after `for`: the end is logged, the source is decided by
    the rules again (denied with the reply, not refused), and it is no
    longer listed."""
    s = Setup(t, "    ban: { after: 2, for: 2s }\n")
    for i in range(2):
        check(attempt(s.port, ABUSER) == "denied", "denial %d" % (i + 1))
    s.w.wait_log(r"banned 127\.0\.0\.9 for 2s")
    s.w.wait_log(r"service echo: ban of 127\.0\.0\.9 expired after 2s")
    check(attempt(s.port, ABUSER) == "denied",
          "after the ban the rules decide again")
    rc, out, err = s.ask("bans")
    check(rc == 0 and ban_line(out, ABUSER) is None, out + err)
    svc = s.service()
    check(svc["banned"] == 0 and svc["bans_expired"] == 1, repr(svc))


def test_ban_table_flood(t):
    """10,000 distinct sources are denied once each, with a table of 1,000:
    the table stays at 1,000 sources, forgets the oldest (counted and
    logged), the abusive source banned first stays banned, and a good
    source is served all along."""
    s = Setup(t, "    ban: { after: 2, for: 30m, max_sources: 1000 }\n")
    check(attempt(s.port, ABUSER) == "denied", "first denial")
    check(attempt(s.port, ABUSER) == "denied", "second denial")
    s.w.wait_log(r"banned 127\.0\.0\.9")
    for i in range(10000):
        src = "127.1.%d.%d" % (i // 250, 1 + i % 250)
        r = attempt(s.port, src)
        check(r == "denied", "%s: %r" % (src, r))
        if i % 1000 == 999:
            check(served(s.port), "the good source was not served")
    svc = s.service()
    check(svc["tracked"] + svc["banned"] <= 1000, repr(svc))
    check(svc["tracks_evicted"] >= 9000, repr(svc))
    check(svc["banned"] == 1 and svc["bans_evicted"] == 0, repr(svc))
    s.w.wait_log(r"the ban table is full \(ban.max_sources 1000\): forgot "
                 r"the denials of \d+ source")
    check(attempt(s.port, ABUSER) == "refused", "the abuser was unbanned")
    check(served(s.port), "the good source was not served")


def test_rate_one_source(t):
    """--per-source-rate 3/hour: the fourth connection from one source is
    refused at accept; another source is served; the refusals are logged
    in summary and counted."""
    be = Backend(echo_handler)
    port = free_port()
    control = os.path.join(t.dir, "ctl", "control.sock")
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog", "--per-source-rate", "3/hour",
                  "--control", control] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    for i in range(3):
        check(attempt(port, ABUSER) == "served", "connection %d" % (i + 1))
    for i in range(3):
        check(attempt(port, ABUSER) == "refused", "over the rate, served")
        check(served(port), "another source refused")
    w.wait_log(r"service wrapd: refused \d+ connection\(s\) over "
               r"per_source.rate \(3 per 3600s\), the last from 127\.0\.0\.9")
    p = subprocess.run([t.wrapd, "status", "--control", control, "--json"],
                       stdout=subprocess.PIPE, timeout=DEADLINE)
    svc = json.loads(p.stdout)["services"][0]
    check(svc["refused_rate"] == 3 and svc["per_source_rate"] == "3/3600s",
          repr(svc))


def test_rate_then_ban(t):
    """Refusals over per_source.rate count for the ban."""
    s = Setup(t, "    per_source: { rate: 2/hour }\n"
                 "    ban: { after: 2 }\n", allow="ALL: ALL\n", deny="")
    for i in range(2):
        check(attempt(s.port, ABUSER) == "served", "within the rate")
    check(attempt(s.port, ABUSER) == "refused", "over the rate")
    check(attempt(s.port, ABUSER) == "refused", "over the rate")
    s.w.wait_log(r"banned 127\.0\.0\.9 for 600s after 2 denials within "
                 r"600s; the last: over per_source.rate")
    check(ban_line(s.ask("bans")[1], ABUSER) is not None, "not listed")
    check(served(s.port), "another source refused")


# ------------------------------------------------------- control socket

def test_status(t):
    """wrapd status, text and JSON: the service and its counters, the
    listener, and a connection in flight with its state and age."""
    s = Setup(t, "    per_source: { connections: 5 }\n")
    held = connect(s.port, src=GOOD)
    held.sendall(b"x")
    check(held.recv(1) == b"x", "not relaying")
    j = s.json("status")
    check(j["wrapd"]["pid"] == s.w.p.pid, repr(j["wrapd"]))
    check(j["wrapd"]["generation"] == 1, repr(j["wrapd"]))
    svc = j["services"][0]
    check(svc["name"] == "echo" and svc["active"] == 1, repr(svc))
    check(svc["per_source_connections"] == 5 and svc["sources"] == 1,
          repr(svc))
    check(j["listeners"] == [{"service": "echo",
                              "listen": "127.0.0.1:%d" % s.port}],
          repr(j["listeners"]))
    mine = [c for c in j["connections"]
            if c["client"] == "%s:%d" % (GOOD, held.getsockname()[1])]
    check(len(mine) == 1, repr(j["connections"]))
    check(mine[0]["state"] == "relaying" and mine[0]["age_ms"] >= 0 and
          mine[0]["in"] == 1 and mine[0]["out"] == 1, repr(mine))
    check(j["conns"]["total"] == 1 and j["conns"]["relaying"] == 1 and
          j["conns"]["unanswered_workers"] == 0, repr(j["conns"]))
    rc, out, err = s.ask("status")
    check(rc == 0, err)
    recs = [l.split(" ", 1)[0] for l in out.splitlines()]
    check(recs[0] == "wrapd" and "service" in recs and "listener" in recs
          and "conn" in recs and recs[-1] == "conns", out)
    conn = [kv(l) for l in out.splitlines() if l.startswith("conn ")][0]
    check(conn["state"] == "relaying" and conn["service"] == "echo", out)
    held.close()


def test_control_not_root(t):
    """The control socket is root's: nobody cannot reach it (mode 0700
    directory, 0600 socket), and if its modes are opened by mistake, wrapd
    still refuses a client that is not root (SO_PEERCRED)."""
    if os.getuid() != 0:
        return SKIP
    s = Setup(t, "")
    st = os.stat(s.control)
    check(st.st_mode & 0o777 == 0o600, "socket mode %o" % st.st_mode)
    check(os.stat(os.path.dirname(s.control)).st_mode & 0o777 == 0o700,
          "directory mode")
    nobody = 65534
    rc, out, err = s.ask("bans", user=nobody)
    check(rc == 1 and out == "" and "only root may use it" in err,
          "nobody: %d %r %r" % (rc, out, err))
    # Modes opened by mistake: the server still refuses.
    os.chmod(os.path.dirname(s.control), 0o755)
    os.chmod(t.dir, 0o755)
    os.chmod(s.control, 0o666)
    rc, out, err = s.ask("status", user=nobody)
    check(rc == 1 and out == "" and "not authorised" in err,
          "nobody: %d %r %r" % (rc, out, err))
    s.w.wait_log(r"control socket: refused a client of uid 65534")
    rc, out, err = s.ask("bans")
    check(rc == 0, "root refused: " + err)


def test_control_hostile(t):
    """Hostile clients: a long request, garbage, a client that sends
    nothing; at most 8 at once; the socket keeps serving root."""
    s = Setup(t, "")

    def raw(data):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(DEADLINE)
        c.connect(s.control)
        try:
            c.sendall(data)
        except OSError:
            pass
        out = b""
        while True:
            try:
                d = c.recv(4096)
            except ConnectionResetError:
                break
            if not d:
                break
            out += d
        c.close()
        return out
    check(raw(b"x" * 100000) == b"error request too long\n", "long")
    check(raw(b"bans\x00\n") == b"error unknown request\n", "NUL")
    check(raw(b"shutdown\n") == b"error unknown request\n", "unknown")
    check(raw(b"bans\nstatus\n").startswith(b"error one request"), "two")
    check(raw(b"status\n").startswith(b"ok wrapd-control 1\nwrapd "), "ok")
    idle = []
    for _ in range(8):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(s.control)
        idle.append(c)
    # The ninth is closed at once, without an answer.
    rc, out, err = s.ask("bans")
    check(rc == 1 and out == "", "a ninth client was served: %r" % out)
    # A silent client is dropped after its 5 s.
    idle[0].settimeout(DEADLINE)
    check(idle[0].recv(10) == b"", "a silent client was kept")
    for c in idle:
        c.close()
    wait_for(lambda: s.ask("bans")[0] == 0, "the socket serving again")
    check(s.w.p.poll() is None, "wrapd died")
    # Clients still connected when wrapd stops: a clean exit (its socket
    # closed before theirs, in whatever order libuv calls back).
    left = []
    for req in (b"", b"sta"):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(s.control)
        c.sendall(req)
        left.append(c)
    wait_for(lambda: "wrapd" in s.ask("status")[1], "status")
    s.w.signal(signal.SIGTERM)
    check(s.w.wait_exit() == 0, "exit status with control clients open")
    check(not os.path.exists(s.control), "the socket was left behind")
    for c in left:
        c.close()


def test_sigusr1(t):
    """SIGUSR1 does not kill wrapd: it logs the status, and wrapd serves on
    (in quick mode, without a control socket too)."""
    be = Backend(echo_handler)
    port = free_port()
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"] + t.rules("ALL: ALL\n", ""))
    w.wait_listen(port)
    for i in range(3):
        w.signal(signal.SIGUSR1)
        w.wait_log(r"status: service name=wrapd .*active=", i + 1)
    w.wait_log(r"status: conns total=\d+ .*unanswered_workers=0")
    check(w.p.poll() is None, "SIGUSR1 killed wrapd: %r" % w.p.returncode)
    check(served(port), "not served after SIGUSR1")
    w.signal(signal.SIGTERM)
    check(w.wait_exit() == 0, "exit status after SIGTERM")


# ---------------------------------------------------------- time windows

def tz_for(local_hh_mm):
    """A POSIX TZ whose local time now is about local_hh_mm, and the
    weekday (0 = Monday) it is there."""
    now = datetime.datetime.now(datetime.timezone.utc)
    h, m = local_hh_mm
    off = (h * 60 + m - (now.hour * 60 + now.minute)) % 1440
    if off > 720:
        off -= 1440
    # POSIX: "WRP-2" is two hours east of UTC.
    tz = "WRP%s%d:%02d" % ("-" if off >= 0 else "+", abs(off) // 60,
                           abs(off) % 60)
    local = now + datetime.timedelta(minutes=off)
    return tz, local.weekday()


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def window_setup(t, tz, times, extra=""):
    return Setup(t, "    access_times: %s\n%s" % (json.dumps(times), extra),
                 allow="ALL: ALL\n", deny="", env={"TZ": tz})


def test_access_times_midnight(t):
    """At 23:30 local time, a window of 23:00-01:00 (across midnight) is
    open; one of 01:00-02:00 is not: the connection is denied before the
    rules (no look-up: the rule that would need the client's name is never
    reached), on_deny runs, and the deny does not count for the ban."""
    tz, _ = tz_for((23, 30))
    s = window_setup(t, tz, ["23:00-01:00"])
    check(served(s.port), "closed inside 23:00-01:00")
    check(s.service()["access_times"] == "open", "status")
    t2 = T2(t)
    s2 = Setup(t2, "    access_times: [\"01:00-02:00\"]\n"
                   "    ban: { after: 1 }\n",
               allow="ALL: .example.org\n", deny="", env={"TZ": tz})
    for i in range(2):
        r = attempt(s2.port, GOOD)
        check(r == "denied", "outside the window: %r" % (r,))
    s2.w.wait_log(r"client=127\.0\.0\.10:\d+ name=- .*verdict=deny "
                  r"rule=none .*reason=access-times", 2)
    check("banned" not in s2.w.text(), "a time deny counted for the ban")
    check(s2.service()["access_times"] == "closed", "status")


def test_access_times_days(t):
    """At 00:30 local time, "DAY 22:00-02:00" is open when DAY is
    yesterday (the window started then) and closed when DAY is today."""
    tz, wd = tz_for((0, 30))
    yesterday, today = DAYS[(wd + 6) % 7], DAYS[wd]
    s = window_setup(t, tz, ["%s 22:00-02:00" % yesterday])
    check(served(s.port), "closed in yesterday's window after midnight")
    t2 = T2(t)
    s2 = window_setup(t2, tz, ["%s 22:00-02:00" % today,
                               "%s 08:00-18:00" % yesterday])
    check(attempt(s2.port, GOOD) == "denied", "open in today's window "
          "that starts tonight")


class T2:
    """A second directory under t (its processes stopped by t)."""

    def __init__(self, t):
        self.wrapd = t.wrapd
        self.dir = tempfile.mkdtemp(prefix="second-", dir=t.dir)
        self.procs = t.procs

    def write(self, name, text):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            f.write(text)
        return p


# -------------------------------------------------------------- errors

def test_config_errors(t):
    """The malformed values of the issue are refused at start, each with
    its file:line:col."""
    cases = [
        ("    per_source: { rate: 0/s }\n", r":7:25: per_source.rate: bad "
         r"rate \"0/s\": the count must be a number from 1"),
        ("    access_times: [\"25:00-26:00\"]\n", r":7:20: access_times: "
         r"\"25:00-26:00\": hour 25 is out of range"),
        ("    ban: { after: 0 }\n", r":7:19: ban.after: expected a whole "
         r"number from 1"),
    ]
    import re
    for text, want in cases:
        conf = t.write("bad.yaml", """\
rules: { allow: %s, deny: %s }
log: { syslog: false }
services:
  - name: echo
    listen: ["127.0.0.1:%d"]
    backend: "127.0.0.1:9"
%s""" % (t.write("hosts.allow", ""), t.write("hosts.deny", ""), free_port(),
         text))
        p = subprocess.run([t.wrapd, "--config", conf], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=DEADLINE)
        err = p.stderr.decode()
        check(p.returncode == 1, "accepted: %s" % text)
        check(re.search(re.escape(conf) + want, err), "%s\n%s" % (want, err))
    # And on the command line.
    p = subprocess.run([t.wrapd, "--listen", "127.0.0.1:1", "--backend",
                        "127.0.0.1:2", "--per-source-rate", "0/s"],
                       stderr=subprocess.PIPE, timeout=DEADLINE)
    check(p.returncode == 2 and b"the count must be" in p.stderr, p.stderr)


TESTS = {n[5:]: f for n, f in list(globals().items()) if n.startswith("test_")}


if __name__ == "__main__":
    sys.exit(run(TESTS, sys.argv))
