#!/usr/bin/env python3
"""match_daemon_test.py - `wrapd match` against the daemon it predicts.

usage: match_daemon_test.py WRAPD

For each case, the same rule files are given to `wrapd match --json` and to
the real daemon (quick mode, --log-format json, one JSON object per line),
one client connects, and these must be the same:

  verdict   match's "verdict"        the connection line's "verdict"
  rule      match's file:line        its "rule" ("none" when no rule)
  reason    match's "reason"         its "reason" (denies and twists; a
                                     grant's reason says how the relay ended)
  priority  match's "priority"       its "level"
  bytes     match's "sent"           every byte the client got before the
                                     backend's (or the twist command's) data

Rules with an option error are refused by the daemon at start: there the
daemon's error line must name the rule and the error match names.  Every
difference is a failure.  Cases that need root (an ident server on port
113, a daemon that drops to nobody) are skipped without it, said so.
Every wait is bounded; every process started is stopped by its PID.
"""
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "proxy"))
import proxy_test as pt  # noqa: E402  (helpers to run the real daemon)

WRAPD = None
FAILS = []
BACKEND_DATA = b"<backend-data>"
TWIST_DATA = b"<twist-data>"
# The banner file of the issue: CR LF, a NUL line, expansions.
ISSUE_BANNER = b"hello %a\r\nsecond line\n\0hidden\nthird %d\n"
LONG_DAEMON = "d" * 64  # the longest daemon name a service may have


def backend_handler(c):
    c.sendall(BACKEND_DATA)


class Case:
    def __init__(self, name, allow, deny="", daemon="echo", banners=None,
                 ident=None, as_nobody=False, reply=None, closed=False):
        self.name = name
        self.allow = allow
        self.deny = deny
        self.daemon = daemon
        self.banners = banners or {}  # file name in BDIR -> bytes
        self.ident = ident            # the ident server's user, or None
        self.as_nobody = as_nobody    # daemon and match run as nobody
        # Configuration mode (wrapd --config, match --service): the
        # service's on_deny reply (YAML text), access_times closed now.
        self.reply = reply
        self.closed = closed
        self.conf = reply is not None or closed


CASES = [
    Case("banners: CR LF, NUL, expansions", "echo: ALL: banners BDIR\n",
         banners={"echo": ISSUE_BANNER}),
    Case("banners: %r %A %R %c", "echo: ALL: banners BDIR\n",
         banners={"echo": b"%r %A %R %c\n\0\0lead\nno newline %a"}),
    Case("banners: no file", "echo: ALL: banners BDIR\n"),
    Case("banners: directory is a file", "echo: ALL: banners BDIR/f\n",
         banners={"f": b"x\n"}),
    Case("banners: file is a directory", "echo: ALL: banners BDIR\n",
         banners={"echo/x": b"x\n"}),
    Case("banners: unreadable directory", "echo: ALL: banners BDIR\n",
         banners={"echo": b"hi\n"}, as_nobody=True),
    Case("banners then deny keyword", "echo: ALL: banners BDIR: deny\n",
         banners={"echo": b"go away %a\n"}),
    Case("spawn", "echo: ALL: spawn /bin/true %a %d\n"),
    Case("twist", "echo: ALL: banners BDIR: twist /bin/echo -n '%s'\n"
         % TWIST_DATA.decode(), banners={"echo": b"before twist\n"}),
    Case("aclexec exits 0", "echo: ALL: aclexec /bin/true %a\n"),
    Case("setenv", "echo: ALL: setenv FOO %d: spawn /bin/true\n"),
    Case("setenv: a runtime failure (ident user a=b)",
         "echo: ALL: banners BDIR: setenv %u x: spawn /bin/true\n",
         banners={"echo": b"sent before the deny\n"}, ident="a=b"),
    Case("rfc931 and %u in a banner", "echo: ALL: rfc931 5: banners BDIR\n",
         banners={"echo": b"user %u, client %c\n"}, ident="alice"),
    Case("expansion too long", "%s: ALL: spawn %s\n"
         % (LONG_DAEMON, "%d" * 900), daemon=LONG_DAEMON),
    Case("umask", "echo: ALL: umask 027: spawn /bin/true\n"),
    Case("user and group", "echo: ALL: user nobody: group nogroup: "
         "spawn /bin/true\n"),
    Case("user.group", "echo: ALL: user nobody.nogroup: spawn /bin/true\n"),
    Case("nice", "echo: ALL: nice 5: spawn /bin/true\n"),
    Case("keepalive", "echo: ALL: keepalive\n"),
    Case("linger", "echo: ALL: linger 5\n"),
    Case("severity on a grant", "echo: ALL: severity notice\n"),
    Case("severity on a deny", "", "echo: ALL: severity mail.crit\n"),
    Case("severity debug", "echo: ALL: severity debug\n"),
    Case("allow keyword in hosts.deny", "", "echo: ALL: allow\n"),
    Case("deny keyword in hosts.allow", "echo: ALL: deny\n", "ALL: ALL\n"),
    Case("deny table", "other: ALL\n", "ALL: ALL\n"),
    Case("on_deny reply after the banners", "echo: ALL: banners BDIR: deny\n",
         banners={"echo": b"banner %a\n"}, reply="554 no\\r\\n"),
    Case("outside access_times", "echo: ALL\n", reply="closed\\r\\n",
         closed=True),
    Case("no rule", "other: ALL\n", "other: ALL\n"),
    # Refused by the daemon at start: compared with its error line.
    Case("option error", "echo: ALL: spawn /bin/true: nosuchoption\n"),
    Case("option error first", "echo: ALL: nosuchoption\n"),
    Case("unknown user", "echo: ALL: user nosuchuser-wrapd\n"),
    Case("bad setenv name", "echo: ALL: setenv a=b c\n"),
]


def fail(case, what, detail):
    FAILS.append("%s: %s" % (case.name, what))
    print("FAIL: %s: %s\n%s" % (case.name, what, detail), flush=True)


def nobody_ids():
    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


def as_nobody():
    uid, gid = nobody_ids()
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


CONF = """rules:
  allow: %(allow)s
  deny: %(deny)s
log:
  syslog: false
  stderr: true
  format: json
services:
  - name: svc
    daemon: %(daemon)s
    listen: ["127.0.0.1:%(port)d"]
    backend: "%(backend)s"
"""


def closed_window():
    """An access_times window that is not open today or tomorrow."""
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    return "%s 00:00-23:00" % days[(time.localtime().tm_wday + 3) % 7]


def write_conf(case, d, allow, deny, port, backend):
    text = CONF % {"allow": allow, "deny": deny, "daemon": case.daemon,
                   "port": port, "backend": backend.addr}
    if case.reply is not None:
        text += "    on_deny:\n      reply: \"%s\"\n" % case.reply
    if case.closed:
        text += "    access_times: [\"%s\"]\n" % closed_window()
    path = os.path.join(d, "wrapd.yaml")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def write_case(t, case):
    """The rule files and banner files of case in a fresh directory that
    nobody can read (rules) but not the banner directory when the case
    says so; returns (dir, allow, deny)."""
    d = os.path.join(t.dir, "c%d" % CASES.index(case))
    os.mkdir(d)
    os.chmod(d, 0o755)
    bdir = os.path.join(d, "banners")
    os.mkdir(bdir)
    os.chmod(bdir, 0o700 if case.as_nobody else 0o755)
    for name, data in case.banners.items():
        path = os.path.join(bdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
    paths = []
    for name, text in (("hosts.allow", case.allow), ("hosts.deny", case.deny)):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text.replace("BDIR", bdir))
        os.chmod(p, 0o644)
        paths.append(p)
    return d, paths[0], paths[1]


def run_match(case, files, client, cport, port):
    args = [WRAPD, "match", "--json", "--server", "127.0.0.1",
            "--server-port", str(port), "--client-port", str(cport)]
    if case.ident is not None:
        args += ["--user", case.ident]
    if case.conf:
        args += ["--config", files["conf"], "--service", "svc", "--", client]
    else:
        args += ["--allow", files["allow"], "--deny", files["deny"], "--",
                 case.daemon, client]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60,
                       preexec_fn=as_nobody if case.as_nobody else None)
    if p.returncode != 0:
        return None, p.stderr.decode("utf-8", "replace")
    return json.loads(p.stdout), p.stderr.decode("utf-8", "replace")


def start_daemon(t, case, files, port, backend):
    if case.conf:
        args = ["--config", files["conf"]]
    else:
        args = ["--listen", "127.0.0.1:%d" % port, "--backend", backend.addr,
                "--daemon", case.daemon, "--allow", files["allow"],
                "--deny", files["deny"], "--no-syslog", "--log-format",
                "json"]
    args += ["--verbose", "--workers", "1"]
    if case.as_nobody:
        args += ["--user", "nobody"]
    return pt.Wrapd(t, args)


def log_records(w):
    out = []
    for line in w.text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def wait_ready_or_exit(w):
    """True once the daemon says it is ready, False once it has exited."""
    def state():
        if any("ready:" in r.get("msg", "") for r in log_records(w)):
            return "ready"
        if w.p.poll() is not None:
            return "exited"
        return None
    return pt.wait_for(state, "wrapd ready or exited") == "ready"


def stop(w):
    if w.p.poll() is None:
        w.p.send_signal(signal.SIGTERM)
    try:
        w.p.wait(pt.DEADLINE)
    except subprocess.TimeoutExpired:
        w.p.send_signal(signal.SIGKILL)
        w.p.wait(pt.DEADLINE)


def talk(sock):
    """Every byte until the connection ends (EOF or reset), bounded."""
    sock.settimeout(pt.DEADLINE)
    data = b""
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                break
            data += d
    except ConnectionResetError:
        pass
    return data


def before_data(data, verdict):
    """What wrapd itself sent: the bytes before the backend's or the
    twist command's data."""
    mark = {"grant": BACKEND_DATA, "twist": TWIST_DATA}.get(verdict)
    if mark is None:
        return data
    i = data.find(mark)
    return data[:i] if i >= 0 else data + b"<no data from behind wrapd>"


def where(m):
    if m.get("file") is not None:
        return "%s:%d" % (m["file"], m["line"])
    if m.get("table_error"):
        return "%s:%d" % (m["error_file"], m["error_line"])
    return "none"


def compare_refused(case, w, m):
    """The daemon refused the rules: they must be the ones match flags."""
    errs = [r.get("msg", "") for r in log_records(w)
            if r.get("level") == "error"]
    want = "%s:%d:%d: %s" % (m.get("file"), m.get("line") or 0,
                             m.get("option_error_col") or 0,
                             m.get("option_error"))
    if m.get("option_error") is None or m.get("verdict") != "deny":
        fail(case, "the daemon refused rules match finds no error in",
             json.dumps(m) + "\n" + w.text())
    elif not any(e.startswith(want) for e in errs):
        fail(case, "the daemon's refusal is not match's option error",
             "match: %s\ndaemon:\n%s" % (want, "\n".join(errs)))
    elif m.get("reason") != m.get("option_error"):
        fail(case, "match's reason is not its option error",
             json.dumps(m))
    else:
        print("ok: %s: refused at start: %s" % (case.name, want))


def compare(case, m, rec, got):
    want = {"verdict": m.get("verdict"), "rule": where(m),
            "reason": m.get("reason"), "priority": m.get("priority"),
            "bytes": m.get("sent", "").encode("utf-8")}
    have = {"verdict": rec.get("verdict"), "rule": rec.get("rule"),
            "reason": rec.get("reason") if rec.get("verdict") != "grant"
            else None,
            "priority": rec.get("level"),
            "bytes": before_data(got, rec.get("verdict"))}
    same = True
    for k in want:
        if want[k] != have[k]:
            same = False
            fail(case, "%s: match %r, daemon %r" % (k, want[k], have[k]),
                 "match: %s\ndaemon: %s" % (json.dumps(m), json.dumps(rec)))
    if same:
        print("ok: %s: %s %s %s %s %r" % (case.name, want["verdict"],
                                         want["rule"], want["reason"],
                                         want["priority"], want["bytes"]))


def run_case(t, case, backend):
    if (case.ident is not None or case.as_nobody) and os.geteuid() != 0:
        print("SKIP: %s (needs root)" % case.name)
        return
    d, allow, deny = write_case(t, case)
    port = pt.free_port()
    files = {"allow": allow, "deny": deny}
    if case.conf:
        files["conf"] = write_conf(case, d, allow, deny, port, backend)
    client = pt.ident_addr() if case.ident is not None else "127.0.0.1"
    identd = None
    if case.ident is not None:
        identd = pt.Identd(client, lambda q, u=case.ident: (
            b"%s : USERID : UNIX : %s\r\n" % (q.strip(), u.encode())))
    w = start_daemon(t, case, files, port, backend)
    try:
        ready = wait_ready_or_exit(w)
        # The client's port is known before match runs: %r is exact.
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((client, 0))
            m, merr = run_match(case, files, client, s.getsockname()[1],
                                port)
            if m is None:
                fail(case, "wrapd match failed", merr)
                return
            if not ready:
                compare_refused(case, w, m)
                return
            s.settimeout(pt.DEADLINE)
            s.connect(("127.0.0.1", port))
            got = talk(s)
        finally:
            s.close()
        recs = pt.wait_for(lambda: [r for r in log_records(w)
                                    if "verdict" in r],
                           "the connection line")
        compare(case, m, recs[0], got)
        if len(recs) != 1:
            fail(case, "one connection, %d lines" % len(recs), w.text())
    finally:
        stop(w)
        if identd is not None:
            identd.sock.close()


def main():
    global WRAPD
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    WRAPD = os.path.abspath(sys.argv[1])
    t = pt.T(WRAPD)
    os.chmod(t.dir, 0o755)  # nobody reads the rules of as_nobody cases
    backend = pt.Backend(backend_handler)
    try:
        for case in CASES:
            try:
                run_case(t, case, backend)
            except pt.Fail as e:
                fail(case, str(e), "")
    finally:
        backend.close()
        t.cleanup()
    print("%d cases, %d failed" % (len(CASES), len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
