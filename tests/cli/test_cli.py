#!/usr/bin/env python3
"""Tests of `wrapd check` and `wrapd match`, run on the built binary.

usage: test_cli.py WRAPD check|match|tcpdmatch|run

check:     exact diagnostics (file:line:col: severity: message) for each
           problem class in fixtures/, exit codes 0/1/2.
match:     text and JSON output, --expand sanitisation of hostile names,
           usage errors (exit 2), exit 0 whatever the verdict.
tcpdmatch: wrapd match against Debian's real `tcpdmatch -d` in a temp dir.
run:       `wrapd --user`: a numeric uid must be digits only and fit uid_t
           (no " 0", no 4294967296 wrapping to root).

Every expectation is either derived independently (the sanitising rule of
hosts_access(5), Python's json parser) or written from the semantics notes;
nothing is read back from wrapd itself.
"""
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")
WRAPD = None
FAILS = []
COUNT = 0
NOFILE = "/nonexistent/wrapd-cli-test"
EMPTY = "empty"  # fixtures/empty: a table with no rules


def check(cond, what, detail=""):
    global COUNT
    COUNT += 1
    if not cond:
        FAILS.append(what)
        print("FAIL: %s\n%s" % (what, detail), flush=True)


def run(args, cwd=None):
    p = subprocess.run([WRAPD] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=cwd, timeout=60)
    return p.returncode, p.stdout, p.stderr


def text(b):
    return b.decode("utf-8", "replace")


# ---------------------------------------------------------------- check

CHECK_CASES = [
    # (allow fixture, deny fixture, exit, exact stdout lines)
    ("clean.allow", "clean.deny", 0, []),
    ("nocolon.allow", None, 0,
     ['nocolon.allow:1:0: warning: missing ":" separator: line ignored']),
    ("badopt.allow", None, 1, [
        'badopt.allow:1:12: error: bad option name: "nosuchoption" '
        '(a match of this rule denies)',
        'badopt.allow:2:15: error: bad umask value: "999" '
        '(a match of this rule denies)',
        'badopt.allow:3:12: error: option "allow" must be at end '
        '(a match of this rule denies)']),
    (None, "noeol.deny", 1, [
        'noeol.deny:2:0: error: missing newline at end of file: every '
        'request that reaches this line is denied']),
    (None, "toolong.deny", 1, [
        'toolong.deny:1:0: error: line too long (over 2046 characters): '
        'every request that reaches this line is denied',
        # tcpdchk goes on with the rest of the physical line, as libwrap's
        # reader would hand it over.
        'toolong.deny:1:0: warning: missing ":" separator: line ignored']),
    ("v6.allow", None, 1, [
        'v6.allow:1:7: warning: unbracketed IPv6 address "2001:db8::1" is '
        'cut at its first colon: write [addr] or [net]/len',
        'v6.allow:1:12: error: bad option name: "db8" '
        '(a match of this rule denies)']),
    ("netmask.allow", None, 0, [
        'netmask.allow:1:7: warning: bad net/mask "10.0.0.0/255.255.0.255.0":'
        ' never matches (mask 255.255.255.255, /0 or length over 32; use the '
        'bare address)',
        'netmask.allow:2:7: warning: net/mask "10.0.0.1/24" has host bits '
        'set: never matches',
        'netmask.allow:3:7: warning: bad net/mask "10.0.0.0/33": never '
        'matches (mask 255.255.255.255, /0 or length over 32; use the bare '
        'address)',
        'netmask.allow:4:7: warning: bad IPv6 prefix length in '
        '"[2001:db8::]/129": never matches']),
    ("lists.allow", None, 0, [
        'lists.allow:1:6: warning: empty client list: the rule never matches',
        'lists.allow:2:1: warning: empty daemon list: the rule never matches',
        'lists.allow:3:11: warning: client list ends in EXCEPT',
        'lists.allow:4:7: warning: client list starts with EXCEPT: it never '
        'matches']),
    # A /file list that cannot be read matches nothing, as in libwrap, but
    # wrapd refuses to run with it: a deny list would silently lose every
    # entry.
    ("file.allow", None, 1, [
        'file.allow:1:7: error: /nonexistent/wrapd-list does not exist: '
        'never matches']),
    # A table named on purpose that does not exist: a typo, not "no rules".
    ("clean.allow", "missing.deny", 1, [
        'missing.deny:0:0: error: missing.deny does not exist: a table named '
        'on purpose must exist (only the default /etc/hosts.deny may be '
        'missing; libwrap would read it as empty)']),
    ("daemon.allow", None, 0, [
        'daemon.allow:1:1: warning: daemon pattern "@grp" starts with "@": '
        'netgroups are not supported here, matched literally',
        'daemon.allow:2:1: warning: daemon pattern ".sshd" starts with a dot',
        'daemon.allow:3:1: warning: daemon pattern "sshd." ends in a dot',
        'daemon.allow:4:1: warning: daemon pattern "/x" starts with "/": '
        'files are not supported here, matched literally',
        'daemon.allow:5:6: warning: user pattern "alice." ends in a dot']),
    ("misc.allow", None, 0, [
        'misc.allow:1:7: warning: "FAIL": FAIL is obsolete, it is matched as '
        'a host name',
        'misc.allow:2:7: warning: numeric pattern ".10.0.0" starts with a dot',
        'misc.allow:3:7: warning: host name "foo.example.com." ends in a dot: '
        'it is matched as a prefix']),
    (None, "shadow.deny", 0, [
        'shadow.deny:2:1: warning: rule never decides anything: line 1 '
        'matches every request it matches']),
    # libwrap's comments start in column 1 only.
    ("comment.allow", None, 0, [
        'comment.allow:1:16: warning: "#": a "#" starts a comment only in '
        'column 1; here it and the words after it are read as patterns',
        'comment.allow:2:2: warning: "#in.ftpd": a "#" starts a comment '
        'only in column 1; here it and the words after it are read as '
        'patterns']),
    # A net without its trailing dot is a whole address, never matched.
    ("shortnet.allow", None, 0, [
        'shortnet.allow:1:7: warning: "192.168.1" is not a net: without its '
        'trailing dot it is matched as a whole address and never matches '
        '(write "192.168.1." for the net)',
        'shortnet.allow:2:12: warning: "172.16" is not a net: without its '
        'trailing dot it is matched as a whole address and never matches '
        '(write "172.16." for the net)']),
    # What the options name on disk: programs, banner directories.
    ("programs.allow", None, 0, [
        'programs.allow:1:12: warning: spawn: program '
        '"/nonexistent/wrapd-prog" does not exist: the command fails when '
        'it runs',
        'programs.allow:1:46: warning: banners: directory '
        '"/nonexistent/wrapd-banners" does not exist: no banner is sent',
        'programs.allow:2:15: warning: aclexec: program "/etc/passwd" is '
        'not executable: the command fails when it runs',
        'programs.allow:3:15: warning: banners: "/etc/passwd" is not a '
        'directory: no banner is sent']),
]


def test_check():
    for allow, deny, want_rc, want in CHECK_CASES:
        args = ["check", "--allow", allow or EMPTY, "--deny", deny or EMPTY]
        rc, out, err = run(args, cwd=FIX)
        got = text(out).splitlines()
        name = "check %s %s" % (allow, deny)
        check(rc == want_rc, name + ": exit %d, want %d" % (rc, want_rc),
              text(out) + text(err))
        check(got == want, name + ": diagnostics",
              "got:\n  %s\nwant:\n  %s" % ("\n  ".join(got),
                                           "\n  ".join(want)))
    # An unopenable table (ENOTDIR) is an error with the file's name.
    rc, out, _ = run(["check", "--allow", "clean.allow/x", "--deny",
                      "clean.deny"], cwd=FIX)
    lines = text(out).splitlines()
    check(rc == 1 and len(lines) == 1 and
          lines[0].startswith("clean.allow/x:0:0: error: cannot open "
                              "clean.allow/x: Not a directory"),
          "check: unopenable table", text(out))
    # Every line of every diagnostic has the file:line:col: severity: form.
    for allow, deny, _, _ in CHECK_CASES:
        rc, out, _ = run(["check", "--allow", allow or EMPTY, "--deny",
                          deny or EMPTY], cwd=FIX)
        for ln in text(out).splitlines():
            parts = ln.split(":", 4)
            ok = (len(parts) == 5 and parts[1].isdigit() and
                  parts[2].isdigit() and
                  parts[3] in (" error", " warning"))
            check(ok, "check: diagnostic format: " + ln)
    # Usage errors.
    for args in (["check", "--bogus"], ["check", "extra"],
                 ["check", "--allow"], ["check", "--dns", "x", "y"]):
        rc, out, err = run(args, cwd=FIX)
        check(rc == 2, "check usage error %r: exit %d" % (args, rc))
        check(out == b"", "check usage error %r: stdout empty" % (args,))
    rc, out, _ = run(["check", "--help"])
    check(rc == 0 and b"usage: wrapd check" in out, "check --help")
    # --dns.  Name look-ups must not leave the machine, so they run in a
    # private mount namespace whose /etc/hosts and /etc/nsswitch.conf
    # (hosts: files) are our own; the real files are not touched.
    test_check_dns()
    test_check_default_missing()
    test_check_trust()
    test_check_config()


def in_private_etc(etc, argv):
    """argv in a private mount namespace whose /etc is the directory etc
    (bind-mounted over it); returns (rc, stdout, stderr) as text, or None
    when that cannot be set up (not root, no unshare(1), no mounts)."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        return None
    p = subprocess.run(
        [unshare, "-m", "--", "sh", "-c",
         'mount --bind "$1" /etc && shift && exec "$@"', "sh", etc] + argv,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0 and b"mount" in p.stderr and p.stdout == b"":
        return None
    return p.returncode, text(p.stdout), text(p.stderr)


def test_check_default_missing():
    """libwrap's default tables may be missing: "no rules", a warning."""
    with tempfile.TemporaryDirectory() as d:
        etc = os.path.join(d, "etc")
        shutil.copytree("/etc", etc, symlinks=True)
        for f in ("hosts.allow", "hosts.deny"):
            if os.path.lexists(os.path.join(etc, f)):
                os.unlink(os.path.join(etc, f))
        r = in_private_etc(etc, [WRAPD, "check"])
        if r is None:
            print("SKIP: check without /etc/hosts.allow needs root, "
                  "unshare(1) and bind mounts")
            return
        rc, out, err = r
        want = ['/etc/hosts.allow:0:0: warning: /etc/hosts.allow does not '
                'exist: an empty table, as in libwrap',
                '/etc/hosts.deny:0:0: warning: /etc/hosts.deny does not '
                'exist: an empty table, as in libwrap']
        check(rc == 0 and out.splitlines() == want,
              "check: missing default tables are warnings, exit 0",
              "exit %d\n%s%s" % (rc, out, err))


def check_trust_case(name, d, allow, want_rc, want):
    """wrapd check --allow ALLOW --deny d/empty in d: exit and stdout."""
    rc, out, err = run(["check", "--allow", allow, "--deny",
                        os.path.join(d, "empty")])
    got = text(out).splitlines()
    check(rc == want_rc and got == want, "check: " + name,
          "exit %d (want %d)\ngot:\n  %s\nwant:\n  %s\n%s" %
          (rc, want_rc, "\n  ".join(got), "\n  ".join(want), text(err)))


def test_check_trust():
    """Files someone else could change are errors (StrictModes)."""
    d = tempfile.mkdtemp(prefix="wrapd-cli-trust-")
    try:
        os.chmod(d, 0o755)
        allow = os.path.join(d, "hosts.allow")
        with open(allow, "w") as f:
            f.write("sshd: ALL\n")
        os.chmod(allow, 0o644)
        open(os.path.join(d, "empty"), "w").close()
        check_trust_case("trusted files", d, allow, 0, [])
        os.chmod(allow, 0o666)
        check_trust_case("world-writable table", d, allow, 1, [
            '%s:0:0: error: unsafe permissions: file %s is writable by '
            'others (mode 0666)' % (allow, allow)])
        os.chmod(allow, 0o644)
        os.chmod(d, 0o775)
        check_trust_case("group-writable directory", d, allow, 1, [
            '%s:0:0: error: unsafe permissions: directory %s is writable '
            'by its group (mode 0775)' % (allow, d),
            '%s:0:0: error: unsafe permissions: directory %s is writable '
            'by its group (mode 0775)' % (os.path.join(d, "empty"), d)])
        os.chmod(d, 0o755)
        # A symbolic link is followed: what it points to is checked.
        bad = os.path.join(d, "bad")
        with open(bad, "w") as f:
            f.write("sshd: ALL\n")
        os.chmod(bad, 0o622)
        link = os.path.join(d, "link")
        os.symlink("bad", link)
        check_trust_case("link to a world-writable file", d, link, 1, [
            '%s:0:0: error: unsafe permissions: file %s is writable by '
            'others (mode 0622)' % (link, bad)])
        # A banners directory and a /file list are checked where named.
        with open(allow, "w") as f:
            f.write("sshd: %s: banners %s\n" % (bad, d))
        os.chmod(d, 0o770)
        check_trust_case("banners directory and /file list", d, allow, 1, [
            '%s:0:0: error: unsafe permissions: directory %s is writable '
            'by its group (mode 0770)' % (allow, d),
            '%s:1:7: error: unsafe permissions: directory %s is writable '
            'by its group (mode 0770)' % (allow, d),
            '%s:1:%d: error: unsafe permissions: directory %s is writable '
            'by its group (mode 0770)' % (allow, 9 + len(bad), d),
            '%s:0:0: error: unsafe permissions: directory %s is writable '
            'by its group (mode 0770)' % (os.path.join(d, "empty"), d)])
        os.chmod(d, 0o755)
        if os.geteuid() != 0:
            print("SKIP: check of files owned by another user needs root")
            return
        import pwd
        nobody = pwd.getpwnam("nobody").pw_uid
        with open(allow, "w") as f:
            f.write("sshd: ALL\n")
        os.chown(allow, nobody, -1)
        check_trust_case("table owned by nobody", d, allow, 1, [
            '%s:0:0: error: unsafe permissions: file %s is owned by uid '
            '%d (nobody), not by root' % (allow, allow, nobody)])
        # Directly in the sticky, root-owned /tmp: accepted.
        fd, tmp = tempfile.mkstemp(prefix="wrapd-cli-sticky-", dir="/tmp")
        os.close(fd)
        try:
            check_trust_case("file in sticky /tmp", d, tmp, 0, [])
        finally:
            os.unlink(tmp)
    finally:
        subprocess.call(["rm", "-rf", d])


def test_check_dns():
    with tempfile.TemporaryDirectory() as d:
        allow = os.path.join(d, "allow")
        empty = os.path.join(d, "empty")
        open(empty, "w").close()
        hosts = ("127.0.0.1 localhost\n::1 localhost\n"
                 "127.0.0.5 twice.test\n127.0.0.6 twice.test\n"
                 "127.0.0.7 once.test\n")
        with open(allow, "w") as f:
            f.write("sshd: nosuchhost.test localhost, twice.test\n"
                    "ALL@nosuchhost.test: once.test\n")

        def dns_check(extra):
            return in_private_hosts(hosts, [WRAPD, "check"] + extra +
                                    ["--allow", allow, "--deny", empty])

        r = dns_check(["--dns"])
        if r is None:
            print("SKIP: check --dns needs root, unshare(1) and bind mounts")
            return
        rc, out, err = r
        want = [
            allow + ':1:7: warning: host name "nosuchhost.test" does not '
            'resolve (Name or service not known)',
            allow + ':1:34: warning: host name "twice.test" resolves to 2 '
            'addresses of one family',
            allow + ':2:5: warning: host name "nosuchhost.test" does not '
            'resolve (Name or service not known)']
        check(rc == 0, "check --dns: warnings only, exit 0", out + err)
        check(out.splitlines() == want, "check --dns: diagnostics",
              "got:\n  %s\nwant:\n  %s" % ("\n  ".join(out.splitlines()),
                                           "\n  ".join(want)))
        rc, out, err = dns_check([])
        check(rc == 0 and out == "", "check without --dns: no look-ups",
              out + err)


# -------------------------------------------------------- check --config

CONF = """rules:
  allow: %(d)s/hosts.allow
  deny: %(d)s/hosts.deny
services:
  - name: ftp
    daemon: vsftpd
    listen: ["127.0.0.1:2100"]
    exec: ["%(exec)s"]
  - name: smtp
    daemon: exim
    listen: ["127.0.0.1:2500"]
    backend: "%(backend)s"
    on_deny:
      reply: "554 5.7.1 no\\r\\n"
"""


def write_conf(d, exec_path="/bin/cat", backend="127.0.0.1:1", extra="",
               allow="vsftpd, exim: 10.0.0.0/8\n", deny="ALL: ALL\n"):
    """A trusted directory d with wrapd.yaml and its two tables."""
    os.chmod(d, 0o755)
    for name, body in (("hosts.allow", allow), ("hosts.deny", deny)):
        with open(os.path.join(d, name), "w") as f:
            f.write(body)
    conf = os.path.join(d, "wrapd.yaml")
    with open(conf, "w") as f:
        f.write(CONF % {"d": d, "exec": exec_path, "backend": backend} +
                extra)
    os.chmod(conf, 0o644)
    return conf


def check_config_case(name, args, want_rc, want):
    rc, out, err = run(["check"] + args)
    got = text(out).splitlines()
    check(rc == want_rc and got == want, "check --config: " + name,
          "exit %d (want %d)\ngot:\n  %s\nwant:\n  %s\n%s" %
          (rc, want_rc, "\n  ".join(got), "\n  ".join(want), text(err)))
    return text(err)


def pending(sock):
    """Has a connection arrived on the listening socket?  (No wait.)"""
    r, _, _ = select.select([sock], [], [], 0)
    return bool(r)


def test_check_config():
    d = tempfile.mkdtemp(prefix="wrapd-cli-conf-")
    try:
        conf = write_conf(d)
        err = check_config_case("clean", ["--config", conf], 0, [])
        check("wrapd check: %s (%s/hosts.allow, %s/hosts.deny): 0 error(s)"
              % (conf, d, d) in err, "check --config: summary", err)
        # The tables are the configuration's: their problems are found.
        conf = write_conf(d, allow="vsftpd: 10.0.0.1/24\n")
        check_config_case("its tables", ["--config", conf], 0, [
            '%s/hosts.allow:1:9: warning: net/mask "10.0.0.1/24" has host '
            'bits set: never matches' % d])
        # ... unless the command line names others.
        open(os.path.join(d, "other"), "w").close()
        check_config_case("--allow wins", ["--config", conf, "--allow",
                                           os.path.join(d, "other")], 0, [])
        # Daemon names no service has; the exec program.
        conf = write_conf(d, exec_path="/nonexistent/vsftpd",
                          allow="vsftpd, in.fptd: ALL\n"
                          "ALL EXCEPT telnetd, 22: 10.0.0.1\n")
        check_config_case("exec program, daemon names", ["--config", conf],
                          0, [
            '%s:5:5: warning: service "ftp": exec program '
            '"/nonexistent/vsftpd" does not exist: every connection fails'
            % conf,
            '%s/hosts.allow:1:9: warning: daemon pattern "in.fptd" matches '
            'no service\'s daemon in %s (a typo, or a rule for another '
            'program)' % (d, conf),
            '%s/hosts.allow:2:12: warning: daemon pattern "telnetd" matches '
            'no service\'s daemon in %s (a typo, or a rule for another '
            'program)' % (d, conf)])
        conf = write_conf(d, exec_path="/etc/passwd")
        check_config_case("exec program not executable",
                          ["--config", conf], 0, [
            '%s:5:5: warning: service "ftp": exec program "/etc/passwd" is '
            'not executable: every connection fails' % conf])
        # What wrapd would not load: errors at file:line:col, exit 1.
        conf = write_conf(d, extra="  - name: bad\n    listen: [nowhere]\n"
                          "    backend: 127.0.0.1:1\n")
        rc, out, _ = run(["check", "--config", conf])
        lines = text(out).splitlines()
        check(rc == 1 and lines == [
            conf + ':16:14: error: listen "nowhere": missing ":PORT"'],
              "check --config: a bad value", text(out))
        with open(conf, "a") as f:
            f.write("services: [\n")
        rc, out, _ = run(["check", "--config", conf])
        check(rc == 1 and text(out).startswith(conf + ":") and
              ": error: " in text(out), "check --config: YAML syntax",
              text(out))
        conf = write_conf(d, extra="geoip:\n  country: /nonexistent/c.mmdb\n")
        rc, out, _ = run(["check", "--config", conf])
        check(rc == 1 and text(out).startswith(
            "/nonexistent/c.mmdb:0:0: error: "),
              "check --config: its GeoIP database", text(out))
        conf = write_conf(d)
        os.chmod(conf, 0o666)
        check_config_case("world-writable", ["--config", conf], 1, [
            '%s:0:0: error: unsafe permissions: file %s is writable by '
            'others (mode 0666)' % (conf, conf)])
        rc, out, _ = run(["check", "--config", os.path.join(d, "nosuch")])
        check(rc == 1 and ": error: " in text(out),
              "check --config: missing file", text(out))
        test_check_connect(d)
        # Usage.
        for args in (["--connect"], ["--config"], ["--connect", "--dns"]):
            rc, out, _ = run(["check"] + args)
            check(rc == 2 and out == b"", "check usage error %r" % (args,))
    finally:
        subprocess.call(["rm", "-rf", d])


def test_check_connect(d):
    """--connect: one connection to each backend; none without it."""
    up = socket.socket()
    up.bind(("127.0.0.1", 0))
    up.listen(8)
    down = socket.socket()  # bound, not listening: refused
    down.bind(("127.0.0.1", 0))
    try:
        conf = write_conf(d, backend="127.0.0.1:%d" % up.getsockname()[1])
        check_config_case("backend up, not asked", ["--config", conf], 0, [])
        check(not pending(up), "check without --connect connects nowhere")
        check_config_case("backend up", ["--config", conf, "--connect"], 0,
                          [])
        check(pending(up), "check --connect connects to the backend")
        conf = write_conf(d, backend="127.0.0.1:%d" %
                          down.getsockname()[1])
        check_config_case("backend down", ["--config", conf, "--connect"],
                          0, [
            '%s:9:5: warning: service "smtp": backend 127.0.0.1:%d is '
            'down: Connection refused' % (conf, down.getsockname()[1])])
        conf = write_conf(d, backend="unix:%s/nosuch.sock" % d)
        check_config_case("UNIX backend missing",
                          ["--config", conf, "--connect"], 0, [
            '%s:9:5: warning: service "smtp": backend unix:%s/nosuch.sock '
            'is down: No such file or directory' % (conf, d)])
    finally:
        up.close()
        down.close()


# ---------------------------------------------------------------- match

# hosts_access(5): every byte of an expansion that is not one of these
# becomes "_".
SAFE = set(b"0123456789abcdefghijklmnopqrstuvwxyz"
           b"ABCDEFGHIJKLMNOPQRSTUVWXYZ!@%-_=+:,./")


def libwrap_clean(raw: bytes) -> str:
    raw = raw[:127]  # request strings are kept to STRING_LENGTH - 1
    return "".join(chr(b) if b in SAFE else "_" for b in raw)


def match(d, args, allow="", deny=""):
    a = os.path.join(d, "hosts.allow")
    n = os.path.join(d, "hosts.deny")
    with open(a, "w") as f:
        f.write(allow)
    with open(n, "w") as f:
        f.write(deny)
    return run(["match", "--allow", a, "--deny", n] + args)


def match_json(d, args, allow="", deny=""):
    rc, out, err = match(d, ["--json"] + args, allow, deny)
    lines = out.splitlines()
    obj = None
    try:
        obj = json.loads(out)
    except ValueError as e:
        check(False, "match --json output parses: %s" % e, text(out))
    check(len(lines) == 1, "match --json is one line", text(out))
    check(rc == 0, "match --json exit 0", text(err))
    return obj or {}


def last_line(out):
    lines = text(out).splitlines()
    return lines[-1] if lines else ""


def test_match():
    with tempfile.TemporaryDirectory() as d:
        path_a = os.path.join(d, "hosts.allow")
        path_d = os.path.join(d, "hosts.deny")
        # Text output: granted by the allow table, file:line shown.
        rc, out, _ = match(d, ["sshd", "10.0.0.1"],
                           allow="# c\nsshd: 10.0.0.1\n", deny="ALL: ALL\n")
        t = text(out)
        check(rc == 0 and last_line(out) == "access: granted",
              "match: allow table grants", t)
        check("%s:2" % path_a in t, "match: names file:line", t)
        check(sum(l.startswith("access:") for l in t.splitlines()) == 1,
              "match: exactly one access line", t)
        # Denied, still exit 0.
        rc, out, _ = match(d, ["sshd", "10.0.0.2"],
                           allow="sshd: 10.0.0.1\n", deny="ALL: ALL\n")
        check(rc == 0 and last_line(out) == "access: denied",
              "match: deny table denies, exit 0", text(out))
        check("%s:1" % path_d in text(out), "match: deny file:line",
              text(out))
        # No rule: granted, and says so.
        rc, out, _ = match(d, ["sshd", "10.0.0.2"], allow="", deny="")
        check(last_line(out) == "access: granted" and
              "no rule matched" in text(out), "match: no rule matched",
              text(out))
        # twist -> delegated / "twist".
        rc, out, _ = match(d, ["sshd", "10.0.0.1"],
                           allow="sshd: ALL: twist echo hi %a\n")
        check(last_line(out) == "access: delegated", "match: twist",
              text(out))
        check("echo hi 10.0.0.1" in text(out), "match: twist expanded",
              text(out))
        o = match_json(d, ["sshd", "10.0.0.1"],
                       allow="sshd: ALL: spawn echo %d: twist echo %a\n")
        check(o.get("verdict") == "twist" and o.get("line") == 1 and
              o.get("file") == path_a and o.get("table") == "allow",
              "match --json: twist, file, line", json.dumps(o))
        opts = o.get("options", [])
        check([x.get("name") for x in opts] == ["spawn", "twist"] and
              opts[0].get("value") == "echo %d" and
              opts[0].get("expanded") == "echo sshd" and
              opts[1].get("expanded") == "echo 10.0.0.1",
              "match --json: options with expansions", json.dumps(opts))
        # No match: line null.
        o = match_json(d, ["sshd", "10.0.0.9"], allow="sshd: 10.0.0.1\n")
        check(o.get("verdict") == "grant" and o.get("line") is None and
              o.get("file") is None and o.get("options") == [],
              "match --json: no rule -> null line", json.dumps(o))
        # Option error: denied, and why.
        rc, out, _ = match(d, ["sshd", "10.0.0.1"],
                           allow="sshd: ALL: nosuchoption\n")
        check(last_line(out) == "access: denied" and
              "nosuchoption" in text(out), "match: option error denies",
              text(out))
        o = match_json(d, ["sshd", "10.0.0.1"],
                       allow="sshd: ALL: umask 999\n")
        check(o.get("verdict") == "deny" and o.get("option_error"),
              "match --json: option_error", json.dumps(o))
        # Table error (missing final newline) in hosts.deny denies.
        o = match_json(d, ["sshd", "10.0.0.1"], deny="in.ftpd: 10.9.9.9")
        check(o.get("verdict") == "deny" and o.get("table_error") is True,
              "match --json: table_error", json.dumps(o))
        # aclexec: dry run, said so.
        rc, out, _ = match(d, ["sshd", "10.0.0.1"],
                           deny="sshd: ALL: aclexec /bin/false %a\n")
        t = text(out)
        check("aclexec not run" in t and last_line(out) ==
              "access: denied", "match: aclexec is a dry run", t)
        # The commands are never run.
        marker = os.path.join(d, "ran")
        rc, out, _ = match(d, ["sshd", "10.0.0.1"],
                           allow="sshd: ALL: spawn touch %s: aclexec touch "
                           "%s\n" % (marker, marker),
                           deny="x: ALL: twist touch %s\n" % marker)
        check(not os.path.exists(marker), "match: spawn/aclexec not run")
        # setenv and banners.
        bdir = os.path.join(d, "banners")
        os.mkdir(bdir)
        with open(os.path.join(bdir, "sshd"), "w") as f:
            f.write("hello %a\n")
        o = match_json(d, ["sshd", "10.0.0.1"],
                       allow="sshd: ALL: setenv X %%d: banners %s\n" % bdir)
        opts = o.get("options", [])
        check(len(opts) == 2 and opts[0].get("expanded") == "X sshd" and
              opts[1].get("name") == "banners" and
              "hello 10.0.0.1" in (opts[1].get("expanded") or ""),
              "match --json: setenv and banners", json.dumps(opts))
        rc, out, _ = match(d, ["sshd", "10.0.0.1"],
                           allow="sshd: ALL: setenv X  %%d : banners %s\n"
                           % bdir)
        t = text(out).splitlines()
        check("env:      X=sshd" in t and "banner: | hello 10.0.0.1" in t,
              "match text: setenv and banner lines", text(out))
        # IPv4-mapped client is IPv4 for every pattern.
        o = match_json(d, ["sshd", "::ffff:10.0.0.1"],
                       deny="sshd: 10.0.0.0/255.0.0.0\n")
        check(o.get("verdict") == "deny" and o.get("line") == 1,
              "match: ::ffff: client", json.dumps(o))
        # IPv6 client.
        o = match_json(d, ["sshd", "2001:db8::1"],
                       deny="sshd: [2001:db8::]/32\n")
        check(o.get("verdict") == "deny", "match: IPv6 prefix",
              json.dumps(o))
        # unknown daemon and unknown client address.
        o = match_json(d, ["unknown", "unknown"],
                       deny="UNKNOWN: UNKNOWN\n")
        check(o.get("verdict") == "deny" and o.get("line") == 1,
              "match: unknown daemon and client", json.dumps(o))
        # --name, KNOWN / PARANOID / unknown.
        for name, pat, verdict in (("foo.example.com", "KNOWN", "deny"),
                                   ("paranoid", "KNOWN", "grant"),
                                   ("paranoid", "PARANOID", "deny"),
                                   ("unknown", "UNKNOWN", "deny"),
                                   ("host1", "LOCAL", "deny"),
                                   ("foo.example.com", ".example.com",
                                    "deny")):
            o = match_json(d, ["--name", name, "sshd", "10.0.0.1"],
                           deny="sshd: %s\n" % pat)
            check(o.get("verdict") == verdict and o.get("name") == name,
                  "match --name %s vs %s" % (name, pat), json.dumps(o))
            check(o.get("lookups") == 0, "match --name: no DNS look-up",
                  json.dumps(o))
        # --user and user@host.
        o = match_json(d, ["--user", "alice", "sshd", "10.0.0.1"],
                       deny="sshd: alice@10.0.0.1\n")
        check(o.get("verdict") == "deny" and o.get("user") == "alice",
              "match --user", json.dumps(o))
        o = match_json(d, ["sshd", "10.0.0.1"],
                       deny="sshd: alice@10.0.0.1\n")
        check(o.get("verdict") == "grant" and o.get("user") == "unknown",
              "match: no --user -> user unknown", json.dumps(o))
        # --server / --server-name / --server-port.
        o = match_json(d, ["--server", "10.0.0.254", "--server-port", "22",
                           "sshd", "10.0.0.1"], deny="22: ALL\n")
        check(o.get("verdict") == "deny", "match --server-port",
              json.dumps(o))
        o = match_json(d, ["--server", "10.0.0.254", "--server-port", "2222",
                           "sshd", "10.0.0.1"], deny="22: ALL\n")
        check(o.get("verdict") == "grant", "match --server-port other",
              json.dumps(o))
        o = match_json(d, ["--server", "10.0.0.254", "--server-name",
                           "srv.example.com", "sshd", "10.0.0.1"],
                       deny="sshd@srv.example.com: ALL\n")
        check(o.get("verdict") == "deny", "match --server-name",
              json.dumps(o))
        # --client-port is %r.
        o = match_json(d, ["--client-port", "40000", "--expand", "%r",
                           "sshd", "10.0.0.1"])
        check(o.get("expanded") == "40000", "match --client-port %r",
              json.dumps(o))
        # Lazy look-up: a rule that needs no name makes no look-up.
        o = match_json(d, ["sshd", "127.0.0.1"], deny="sshd: 127.0.0.1\n")
        check(o.get("lookups") == 0 and o.get("name") is None,
              "match: no look-up unless a rule needs it", json.dumps(o))
        # ... and one that does makes exactly one (127.0.0.1 resolves
        # through /etc/hosts, no network).
        o = match_json(d, ["sshd", "127.0.0.1"], deny="sshd: KNOWN\n")
        check(o.get("lookups") == 1 and isinstance(o.get("name"), str),
              "match: look-up when a rule needs the name", json.dumps(o))

        # --expand: sanitised exactly as libwrap does.
        hostile = [b"a;rm -rf /", b"x\ny\rz", b"$(id)`id`|&<>'\"",
                   "\u00e9t\u00e9".encode(), b"n" * 8192,
                   b"ok.example.com", b"!@%-_=+:,./"]
        match(d, ["sshd", "10.0.0.1"])  # empty tables: no rule, granted
        for raw in hostile:
            want = libwrap_clean(raw)
            p = subprocess.run([WRAPD, "match", "--allow", path_a,
                                "--deny", path_d, "--json", "--name",
                                raw, "--expand", "[%n|%h|%c]", "sshd",
                                "10.0.0.1"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            try:
                o = json.loads(p.stdout)
            except ValueError:
                o = {}
            check(p.returncode == 0 and
                  o.get("expanded") == "[%s|%s|%s]" % (want, want, want),
                  "match --expand sanitises %r" % raw[:20],
                  "got %r want %r" % (o.get("expanded"), want))
            p = subprocess.run([WRAPD, "match", "--allow", path_a,
                                "--deny", path_d, "--name", raw, "--expand",
                                "%n", "sshd", "10.0.0.1"],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            lines = p.stdout.split(b"\n")
            exp = [l for l in lines if l.startswith(b"expanded: ")]
            check(len(exp) == 1 and exp[0] == b"expanded: " +
                  want.encode(), "match text --expand %r" % raw[:20],
                  repr(exp))
            check(p.stdout.endswith(b"access: granted\n"),
                  "match text output ends in the access line",
                  repr(raw[:20]))
        # Invalid UTF-8 and control bytes still give valid JSON.
        p = subprocess.run([WRAPD, "match", "--json", "--allow", path_a,
                            "--deny", path_d, "--name", b"\xff\xfe\x01\"\\",
                            "sshd", "10.0.0.1"], stdout=subprocess.PIPE,
                           timeout=60)
        try:
            o = json.loads(p.stdout.decode("utf-8"))
            ok = isinstance(o.get("name"), str)
        except ValueError:
            ok = False
        check(ok, "match --json: hostile bytes escaped", repr(p.stdout))

        # Usage errors: exit 2, nothing on stdout.
        usage = [[], ["sshd"], ["sshd", "10.0.0.1", "extra"],
                 ["sshd", "10.0.0.300"], ["sshd", "not an address!"],
                 ["sshd", "-bad.example"], ["sshd", "a..b.example"],
                 ["--server-port", "70000", "sshd", "10.0.0.1"],
                 ["--server-port", "abc", "sshd", "10.0.0.1"],
                 ["--client-port", "-1", "sshd", "10.0.0.1"],
                 ["--server", "bogus", "sshd", "10.0.0.1"],
                 ["--frobnicate", "sshd", "10.0.0.1"],
                 ["--name"]]
        for args in usage:
            rc, out, err = run(["match"] + args)
            check(rc == 2 and out == b"",
                  "match usage error %r: exit %d" % (args, rc), text(err))
        rc, out, _ = run(["match", "--help"])
        check(rc == 0 and b"usage: wrapd match" in out, "match --help")
        # "--" ends the options: a daemon name may start with a dash.
        o = match_json(d, ["--", "-odd", "10.0.0.1"], deny="-odd: ALL\n")
        check(o.get("verdict") == "deny" and o.get("daemon") == "-odd",
              "match -- DAEMON", json.dumps(o))
        test_match_plan(d)
    test_match_names()
    test_match_config()


def banner_dir(d, name, data):
    bdir = os.path.join(d, "banners-" + name)
    os.makedirs(bdir, exist_ok=True)
    with open(os.path.join(bdir, "sshd"), "wb") as f:
        f.write(data)
    return bdir


def test_match_plan(d):
    """The daemon's plan: exact banner bytes, options that fail when they
    run, the log line's reason and priority."""
    # The bytes the daemon sends: LF as CR LF, a NUL line dropped.
    bdir = banner_dir(d, "issue", b"hello %a\r\nsecond line\n\0hidden\n"
                      b"third %d\n")
    want = "hello 10.0.0.1\r\r\nsecond line\r\nthird sshd\r\n"
    o = match_json(d, ["sshd", "10.0.0.1"],
                   allow="sshd: ALL: banners %s\n" % bdir)
    opts = o.get("options") or [{}]
    check(opts[0].get("expanded") == want and o.get("sent") == want and
          opts[0].get("exists") is True and
          opts[0].get("file") == os.path.join(bdir, "sshd"),
          "match --json: banner bytes as the daemon sends them",
          json.dumps(o))
    rc, out, _ = match(d, ["sshd", "10.0.0.1"],
                       allow="sshd: ALL: banners %s\n" % bdir)
    lines = text(out).splitlines()
    check(["banner: | hello 10.0.0.1\\x0d", "banner: | second line",
           "banner: | third sshd"] == [l for l in lines
                                      if l.startswith("banner: |")],
          "match text: banner lines, escaped", text(out))
    # Leading NUL bytes kept (\u0000 in JSON), a last line without LF.
    bdir = banner_dir(d, "nul", b"\0\0x\nlast %a")
    rc, out, _ = match(d, ["--json", "sshd", "10.0.0.1"],
                       allow="sshd: ALL: banners %s\n" % bdir)
    check(b'"sent":"\\u0000\\u0000x\\r\\nlast 10.0.0.1"' in out,
          "match --json: NUL as \\u0000", text(out))
    rc, out, _ = match(d, ["sshd", "10.0.0.1"],
                       allow="sshd: ALL: banners %s\n" % bdir)
    check("banner: | \\x00\\x00x\nbanner: | last 10.0.0.1\nnote:     the "
          "last line has no CR LF\n" in text(out),
          "match text: NUL bytes, last line", text(out))
    o = match_json(d, ["sshd", "10.0.0.1"],
                   allow="sshd: ALL: banners %s/nosuch\n" % d)
    opts = o.get("options") or [{}]
    check(opts[0].get("exists") is False and "expanded" not in opts[0] and
          o.get("sent") == "", "match --json: no banner file", json.dumps(o))
    # An option that fails only when it runs denies, as in the daemon;
    # what comes after it is not reached.
    o = match_json(d, ["--user", "a=b", "sshd", "10.0.0.1"],
                   allow="sshd: ALL: setenv %u x: spawn /bin/true\n")
    opts = o.get("options") or [{}, {}]
    check(o.get("verdict") == "deny" and o.get("reason") == "setenv failed"
          and opts[0].get("error") == "setenv failed" and
          opts[0].get("reached") is True and opts[1].get("reached") is False
          and o.get("priority") == "warning",
          "match --json: setenv fails when it runs", json.dumps(o))
    rc, out, _ = match(d, ["--user", "a=b", "sshd", "10.0.0.1"],
                       allow="sshd: ALL: setenv %u x: spawn /bin/true\n")
    t = text(out)
    check("reason:   setenv failed\n" in t and "note:     not reached: an "
          "earlier option denies\n" in t and
          last_line(out) == "access: denied", "match text: setenv fails", t)
    o = match_json(d, ["sshd", "10.0.0.1"],
                   allow="sshd: ALL: spawn %s\n" % ("%d" * 900),
                   deny="")
    check(o.get("verdict") == "grant", "match: 900 x %d of sshd fits",
          json.dumps(o)[:300])
    o = match_json(d, ["--", "d" * 64, "10.0.0.1"],
                   allow="%s: ALL: spawn %s\n" % ("d" * 64, "%d" * 900))
    check(o.get("verdict") == "deny" and
          o.get("reason") == "expansion too long",
          "match: expansion too long denies", json.dumps(o)[:300])
    # reason and priority, as the daemon's connection line has them.
    for allow, deny, verdict, reason, prio in (
            ("sshd: ALL\n", "", "grant", None, "info"),
            ("", "ALL: ALL\n", "deny", "denied", "warning"),
            ("sshd: ALL: twist /bin/echo\n", "", "twist", "twist",
             "warning"),
            ("sshd: ALL: severity mail.notice\n", "", "grant", None,
             "notice"),
            ("", "sshd: ALL: severity emerg\n", "deny", "denied", "crit"),
            ("sshd: ALL: nosuchoption\n", "", "deny",
             'bad option name: "nosuchoption"', "warning")):
        o = match_json(d, ["sshd", "10.0.0.1"], allow=allow, deny=deny)
        check((o.get("verdict"), o.get("reason"), o.get("priority")) ==
              (verdict, reason, prio),
              "match --json: reason and priority of %r" % (allow + deny),
              json.dumps(o))
    rc, out, _ = match(d, ["sshd", "10.0.0.1"], deny="ALL: ALL\n")
    check(text(out).endswith("reason:   denied\npriority: warning\n"
                             "access: denied\n"),
          "match text: reason and priority lines", text(out))
    # The plan's notes, setenv's variable, aclexec's dry run.
    o = match_json(d, ["sshd", "10.0.0.1"],
                   allow="sshd: ALL: setenv X %d: linger 5: aclexec /bin/x\n")
    opts = o.get("options") or [{}, {}, {}]
    check(o.get("notes") == [{"option": "linger", "priority": "debug",
                              "text": "not set: closes never wait"}] and
          opts[0].get("env") == "X=sshd" and
          opts[2].get("assumed_exit") == 0 and opts[2].get("run") is False,
          "match --json: notes, env, aclexec", json.dumps(o))


def in_private_hosts(hosts, argv):
    """argv with /etc/hosts holding `hosts` and only files for host names
    (private mount namespace): (rc, stdout, stderr) as text, or None when
    that cannot be set up (not root, no unshare(1), no mounts)."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        hp = os.path.join(d, "hosts")
        nss = os.path.join(d, "nsswitch.conf")
        with open(hp, "w") as f:
            f.write(hosts)
        with open(nss, "w") as f:
            f.write("hosts: files\n")
        p = subprocess.run(
            [unshare, "-m", "--", "sh", "-c",
             'mount --bind "$1" /etc/hosts && '
             'mount --bind "$2" /etc/nsswitch.conf && '
             'shift 2 && exec "$@"', "sh", hp, nss] + argv,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0 and b"mount" in p.stderr and p.stdout == b"":
        return None
    return p.returncode, text(p.stdout), text(p.stderr)


def test_match_names():
    """A client given by name: each of its addresses decided."""
    hosts = "127.0.0.1 localhost\n127.0.0.5 dual.test\n2001:db8::5 " \
        "dual.test\n"
    with tempfile.TemporaryDirectory() as d:
        allow = os.path.join(d, "allow")
        deny = os.path.join(d, "deny")
        with open(allow, "w") as f:
            f.write("")
        with open(deny, "w") as f:
            f.write("sshd: 127.0.0.5\n")
        base = [WRAPD, "match", "--allow", allow, "--deny", deny]
        r = in_private_hosts(hosts, base + ["sshd", "dual.test"])
        if r is None:
            print("SKIP: match by host name needs root, unshare(1) and "
                  "bind mounts")
            return
        rc, out, err = r
        blocks = out.split("\n\n")
        check(rc == 0 and len(blocks) == 2 and
              blocks[0].startswith("client:   host     dual.test (address 1 "
                                   "of 2)\nclient:   address  127.0.0.5\n")
              and blocks[0].endswith("access: denied") and
              blocks[1].startswith("client:   host     dual.test (address 2 "
                                   "of 2)\nclient:   address  2001:db8::5\n")
              and blocks[1].endswith("access: granted\n"),
              "match NAME: one block per address", out + err)
        rc, out, err = in_private_hosts(
            hosts, base + ["--json", "sshd", "dual.test"])
        try:
            o = json.loads(out)
        except ValueError:
            o = {}
        res = o.get("results") or [{}, {}]
        check(rc == 0 and len(out.splitlines()) == 1 and
              o.get("host") == "dual.test" and len(res) == 2 and
              res[0].get("client", {}).get("address") == "127.0.0.5" and
              res[0].get("verdict") == "deny" and res[0].get("line") == 1 and
              res[1].get("client", {}).get("address") == "2001:db8::5" and
              res[1].get("verdict") == "grant",
              "match --json NAME: host and results", out + err)
        # The name only finds the addresses: each is looked up again, as
        # the daemon would see a connection from it.
        rc, out, err = in_private_hosts(
            hosts, base + ["--json", "--expand", "%n", "sshd", "localhost"])
        try:
            o = json.loads(out)
        except ValueError:
            o = {}
        res = o.get("results") or [{}]
        check(rc == 0 and len(res) == 1 and
              res[0].get("expanded") == "localhost" and
              res[0].get("lookups") == 1, "match NAME: names looked up",
              out + err)
        rc, out, err = in_private_hosts(hosts, base + ["sshd", "nosuch.test"])
        check(rc == 1 and out == "" and "nosuch.test" in err,
              "match NAME: no address is exit 1", out + err)


def test_match_config():
    """--config and --service: tables, daemon, databases, on_deny."""
    d = tempfile.mkdtemp(prefix="wrapd-cli-mconf-")
    try:
        conf = write_conf(d)
        rc, out, err = run(["match", "--json", "--config", conf,
                            "--service", "smtp", "192.0.2.1"])
        try:
            o = json.loads(out)
        except ValueError:
            o = {}
        check(rc == 0 and o.get("daemon") == "exim" and
              o.get("service") == "smtp" and
              o.get("file") == os.path.join(d, "hosts.deny") and
              o.get("verdict") == "deny" and
              o.get("sent") == "554 5.7.1 no\r\n" and
              o.get("on_deny") == {"reply": "554 5.7.1 no\r\n",
                                   "finger": False, "mail": None},
              "match --service: the service's daemon, tables, on_deny",
              text(out) + text(err))
        rc, out, err = run(["match", "--config", conf, "--service", "smtp",
                            "192.0.2.1"])
        check(rc == 0 and "service:  smtp\n" in text(out) and
              "reply:  | 554 5.7.1 no\n" in text(out) and
              last_line(out) == "access: denied",
              "match --service: text", text(out) + text(err))
        o = json.loads(run(["match", "--json", "--config", conf,
                            "--service", "smtp", "10.0.0.2"])[1] or b"{}")
        check(o.get("verdict") == "grant" and o.get("on_deny") is None and
              o.get("sent") == "", "match --service: a grant", json.dumps(o))
        rc, out, err = run(["match", "--json", "--config", conf, "exim",
                            "192.0.2.1"])
        o = json.loads(out or b"{}")
        check(rc == 0 and o.get("service") is None and
              o.get("file") == os.path.join(d, "hosts.deny") and
              o.get("sent") == "", "match --config DAEMON", text(out))
        # Outside its access_times the service denies before the rules.
        day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][
            (time.localtime().tm_wday + 3) % 7]
        conf = write_conf(d, extra='    access_times: ["%s 00:00-23:00"]\n'
                          % day)
        o = json.loads(run(["match", "--json", "--config", conf,
                            "--service", "smtp", "10.0.0.2"])[1] or b"{}")
        check(o.get("verdict") == "deny" and
              o.get("reason") == "access-times" and
              o.get("access_times") is False and o.get("file") is None and
              o.get("sent") == "554 5.7.1 no\r\n",
              "match --service: outside access_times", json.dumps(o))
        rc, out, err = run(["match", "--config", conf, "--service", "smtp",
                            "10.0.0.2"])
        check("matched:  no rule: outside the service's access_times" in
              text(out) and last_line(out) == "access: denied",
              "match --service text: outside access_times", text(out))
        conf = write_conf(d, extra="geoip:\n  country: /nonexistent/c.mmdb\n")
        rc, out, err = run(["match", "--config", conf, "exim", "192.0.2.1"])
        check(rc == 0 and "/nonexistent/c.mmdb:0:0: error" in text(err)
              and "client:   country  unknown (the database could not be "
              "used)\n" in text(out),
              "match --config: its GeoIP database", text(out) + text(err))
        conf = write_conf(d)
        for args in (["--service", "nosuch", "192.0.2.1"],
                     ["--service", "smtp", "exim", "192.0.2.1"],
                     ["--service", "smtp"]):
            rc, out, err = run(["match", "--config", conf] + args)
            check(rc == 2 and out == b"", "match usage %r" % (args,),
                  text(err))
        os.chmod(conf, 0o666)
        rc, out, err = run(["match", "--config", conf, "exim", "192.0.2.1"])
        check(rc == 2 and out == b"" and "unsafe permissions" in text(err),
              "match --config: an untrusted file", text(err))
    finally:
        subprocess.call(["rm", "-rf", d])


# ------------------------------------------------------------ tcpdmatch

TCPD_CASES = [
    # (allow, deny, tcpdmatch args, wrapd match args)
    ("sshd: 10.0.0.1\n", "ALL: ALL\n", ["sshd", "10.0.0.1"],
     ["sshd", "10.0.0.1"]),
    ("sshd: 10.0.0.1\n", "ALL: ALL\n", ["sshd", "10.0.0.2"],
     ["sshd", "10.0.0.2"]),
    ("", "ALL EXCEPT in.ftpd: 10.0.0.0/255.0.0.0\n", ["in.ftpd", "10.0.0.2"],
     ["in.ftpd", "10.0.0.2"]),
    ("sshd: ALL: twist echo hi\n", "", ["sshd", "10.0.0.1"],
     ["sshd", "10.0.0.1"]),
    ("sshd: ALL: nosuchoption\n", "", ["sshd", "10.0.0.1"],
     ["sshd", "10.0.0.1"]),
    ("sshd: alice@10.0.0.1\n", "ALL: ALL\n", ["sshd", "alice@10.0.0.1"],
     ["--user", "alice", "sshd", "10.0.0.1"]),
    ("sshd: alice@10.0.0.1\n", "ALL: ALL\n", ["sshd", "bob@10.0.0.1"],
     ["--user", "bob", "sshd", "10.0.0.1"]),
    ("sshd@10.0.0.254: ALL\n", "ALL: ALL\n", ["sshd@10.0.0.254", "10.0.0.1"],
     ["--server", "10.0.0.254", "sshd", "10.0.0.1"]),
    ("", "sshd: [2001:db8::]/32\n", ["sshd", "2001:db8::5"],
     ["sshd", "2001:db8::5"]),
    ("", "sshd: 10.0.0.0/8\n", ["sshd", "::ffff:10.0.0.1"],
     ["sshd", "::ffff:10.0.0.1"]),
    ("", "sshd: 10.0.0.1\n", ["sshd", "10.0.0.1"], ["sshd", "10.0.0.1"]),
    ("", "sshd: KNOWN\n", ["sshd", "10.0.0.1"],
     ["--name", "unknown", "sshd", "10.0.0.1"]),
    ("", "sshd: UNKNOWN\n", ["sshd", "10.0.0.1"],
     ["--name", "unknown", "sshd", "10.0.0.1"]),
    ("", "sshd: 10.0.0.1", ["sshd", "10.0.0.2"], ["sshd", "10.0.0.2"]),
    ("sshd: 10.0.0.9\nsshd: 10.0.0.2", "", ["sshd", "10.0.0.2"],
     ["sshd", "10.0.0.2"]),
    ("sshd: ALL: spawn echo %a: DENY\n", "", ["sshd", "10.0.0.1"],
     ["sshd", "10.0.0.1"]),
]


def test_tcpdmatch():
    tcpdmatch = shutil.which("tcpdmatch") or (
        "/usr/sbin/tcpdmatch" if os.path.exists("/usr/sbin/tcpdmatch")
        else None)
    if tcpdmatch is None:
        print("SKIP: tcpdmatch not installed (Debian package tcpd)")
        return 77
    for allow, deny, targs, wargs in TCPD_CASES:
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "hosts.allow"), "w") as f:
                f.write(allow)
            with open(os.path.join(d, "hosts.deny"), "w") as f:
                f.write(deny)
            p = subprocess.run([tcpdmatch, "-d"] + targs, cwd=d,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            # tcpdmatch aligns its columns ("access:   granted"); wrapd's
            # contract is "access: granted": compare the words.
            theirs = [" ".join(l.split()) for l in text(p.stdout).splitlines()
                      if l.startswith("access:")]
            rc, out, _ = run(["match", "--allow", "hosts.allow", "--deny",
                              "hosts.deny"] + wargs, cwd=d)
            ours = [l for l in text(out).splitlines()
                    if l.startswith("access:")]
            check(len(theirs) == 1 and ours == theirs,
                  "tcpdmatch %r / %r: %r vs wrapd %r" %
                  (allow + deny, targs, theirs, ours), text(p.stderr))
    return 0


# ---------------------------------------------------------------- run

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_user(user, until):
    """Start quick-mode wrapd with --user USER and return its stderr, read
    until it exits or a line contains `until` (bounded: 30 s); then stop
    it if it is still running."""
    args = [WRAPD, "--listen", "127.0.0.1:%d" % free_port(),
            "--backend", "127.0.0.1:%d" % free_port(), "--no-syslog",
            "--user", user]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = b""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and until.encode() not in err:
            r, _, _ = select.select([p.stderr], [], [], 1)
            if r:
                chunk = os.read(p.stderr.fileno(), 4096)
                if not chunk:
                    break
                err += chunk
    finally:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        p.stderr.close()
    return text(err)


def test_run():
    # Not a user name and not a valid uid: refused before serving, by the
    # file's syntax check of "user" or because no such user exists.
    for bad in ("4294967296", "18446744073709551616", " 0", "+0", "-1",
                "0x0", "1e3", "4294967295"):
        err = run_user(bad, "no such user")
        check("no such user" in err or
              ('--user: user "%s": ' % bad) in err,
              "--user %r: refused" % bad, err)
    if os.geteuid() != 0:
        print("SKIP: --user with a valid uid needs root")
        return
    # The control: the same path with a real numeric uid does switch.
    err = run_user("65534", "running as user")
    check("running as user" in err and "(uid 65534," in err,
          "--user 65534: switches to uid 65534", err)


def main():
    global WRAPD
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    WRAPD = os.path.abspath(sys.argv[1])
    what = sys.argv[2]
    rc = 0
    if what == "check":
        test_check()
    elif what == "match":
        test_match()
    elif what == "tcpdmatch":
        rc = test_tcpdmatch()
    elif what == "run":
        test_run()
    else:
        print(__doc__)
        return 2
    print("%d checks, %d failed" % (COUNT, len(FAILS)))
    if FAILS:
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
