#!/usr/bin/env python3
"""rules_load_test.py - wrapd fails closed when it loads its rules.

    rules_load_test.py WRAPD TESTNAME

Each test runs the real wrapd binary on loopback (the helpers of
proxy_test.py) and checks that rules which cannot be trusted or read as
written never go live: wrapd refuses to start with them (exit 1, naming
file:line:col), and a reload keeps the rules in force (the client that was
denied stays denied).  Exits 0 (pass), 1 (fail) or 77 (skip: most tests
need root, for --user nobody and for files owned by someone else).
"""
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import proxy_test
from proxy_test import (DEADLINE, SKIP, Backend, Fail, Wrapd, check, connect,
                        echo_handler, echo_proxy, free_port, outcome,
                        wait_for)

# What the tests write must not depend on the caller's umask.
os.umask(0o022)

DENIED = "127.0.0.2"  # the client hosts.deny names


def granted(port, src="127.0.0.1"):
    s = connect(port, src=src)
    s.sendall(b"ping")
    got = s.recv(10)
    s.close()
    return got == b"ping"


def denied(port, src=DENIED):
    s = connect(port, src=src)
    try:
        s.sendall(b"x")
    except OSError:
        pass
    r = outcome(s)
    s.close()
    return r in ("closed", "reset")


def serving_as_before(port):
    check(denied(port), "%s is no longer denied" % DENIED)
    check(granted(port), "127.0.0.1 is no longer granted")


def refused_at_start(t, args, *want):
    """wrapd with args must exit 1 before it serves, its log matching each
    regex of want."""
    w = Wrapd(t, args)
    wait_for(lambda: w.p.poll() is not None or " ready: " in w.text(),
             "wrapd to exit or serve")
    text = w.text()
    check(w.p.poll() is not None,
          "wrapd started with rules it must refuse:\n" + text)
    check(w.p.returncode == 1, "exit %d, want 1:\n%s" % (w.p.returncode, text))
    for regex in want + (r"error: not starting|^wrapd: ",):
        check(re.search(regex, text, re.M),
              "no /%s/ in:\n%s" % (regex, text))
    return text


RELOAD_END = re.compile(r"reload: (done|failed|configuration has errors)")


def reload_outcome(w, n):
    """Send SIGHUP; return the log line that ends reload number n."""
    def ended():
        lines = [l for l in w.text().splitlines() if RELOAD_END.search(l)]
        return lines[n - 1] if len(lines) >= n else None
    w.signal(signal.SIGHUP)
    return wait_for(ended, "reload %d to end:\n%s" % (n, w.text()))


def reload_refused(w, n, *want):
    line = reload_outcome(w, n)
    text = w.text()
    check("reload: done" not in line, "reload %d taken:\n%s" % (n, text))
    for regex in want:
        check(re.search(regex, text), "no /%s/ in:\n%s" % (regex, text))


def deny_proxy(t, deny, *flags):
    """Quick mode: hosts.allow empty, hosts.deny as given; once it serves,
    DENIED is denied and 127.0.0.1 granted."""
    port, be, w = echo_proxy(t, "", deny, "--daemon", "rl", *flags)
    serving_as_before(port)
    return port, w


def need_root():
    return os.geteuid() != 0


# ------------------------------------------------------------ /file lists


def test_file_unreadable_as_user(t):
    """The issue's case: a root-only /file list, wrapd run with --user
    nobody, then SIGHUP.  The reload reads as nobody; the list must not
    quietly match nothing (which grants everyone it lists)."""
    if need_root():
        return SKIP
    os.chmod(t.dir, 0o755)  # nobody reads the tables on reload
    lists = os.path.join(t.dir, "lists")
    os.mkdir(lists, 0o700)  # ... but not the list
    lst = os.path.join(lists, "deny.list")
    with open(lst, "w") as f:
        f.write(DENIED + "\n")
    port, w = deny_proxy(t, "ALL: %s\n" % lst, "--user", "nobody")
    w.wait_log(r"running as user nobody")
    reload_refused(w, 1,
                   re.escape(t.dir) + r"/hosts\.deny:1:6: cannot open " +
                   re.escape(lst) + r": Permission denied: never matches",
                   r"rules: 1 error\(s\)")
    serving_as_before(port)


def file_refused(t, make_bad, *want):
    """hosts.deny names a /file list that make_bad(path) breaks: refused
    at start, and on reload the running rules stay."""
    lst = os.path.join(t.dir, "deny.list")
    deny = "ALL: %s\n" % lst
    make_bad(lst)
    refused_at_start(t, ["--listen", "127.0.0.1:%d" % free_port(),
                         "--backend", "127.0.0.1:9", "--no-syslog"] +
                     t.rules("", deny), *want)
    subprocess.call(["rm", "-rf", lst])
    t.write("deny.list", DENIED + "\n")
    port, w = deny_proxy(t, deny)
    subprocess.call(["rm", "-rf", lst])
    make_bad(lst)
    reload_refused(w, 1, *want)
    serving_as_before(port)


def test_file_missing(t):
    file_refused(t, lambda p: None,
                 r"hosts\.deny:1:6: .*deny\.list does not exist: never "
                 r"matches")


def test_file_too_big(t):
    def big(p):
        with open(p, "wb") as f:
            f.truncate(64 * 1024 * 1024 + 1)  # sparse: no disk used
    file_refused(t, big, r"hosts\.deny:1:6: .*deny\.list is larger than "
                 r"64 MiB: never matches")


def test_file_not_regular(t):
    file_refused(t, lambda p: os.mkdir(p),
                 r"hosts\.deny:1:6: .*deny\.list is not a regular file")


# ------------------------------------------------------------ tables


def yaml_rules(t, allow, deny, port, backend):
    return t.write("wrapd.yaml",
                   "rules:\n  allow: %s\n  deny: %s\nlog:\n  syslog: false\n"
                   "services:\n  - name: rl\n    listen: [\"127.0.0.1:%d\"]\n"
                   "    backend: \"%s\"\n" % (allow, deny, port, backend))


def test_table_missing_named(t):
    """A table path named in the configuration or on the command line
    that does not exist is a typo, not "no rules"."""
    allow = t.write("hosts.allow", "")
    typo = os.path.join(t.dir, "hosts.denny")
    conf = yaml_rules(t, allow, typo, free_port(), "127.0.0.1:9")
    refused_at_start(t, ["--config", conf],
                     re.escape(typo) + r":0:0: .*hosts\.denny does not "
                     r"exist: a table named on purpose must exist")
    refused_at_start(t, ["--listen", "127.0.0.1:%d" % free_port(),
                         "--backend", "127.0.0.1:9", "--no-syslog",
                         "--allow", allow, "--deny", typo],
                     re.escape(typo) + r":0:0: .*does not exist")
    # On reload: the running rules stay.
    port = free_port()
    be = Backend(echo_handler)
    deny = t.write("hosts.deny", "ALL: %s\n" % DENIED)
    conf = yaml_rules(t, allow, deny, port, be.addr)
    w = Wrapd(t, ["--config", conf])
    w.wait_listen(port)
    serving_as_before(port)
    yaml_rules(t, allow, typo, port, be.addr)
    reload_refused(w, 1, re.escape(typo) + r":0:0: .*does not exist")
    serving_as_before(port)


def test_table_missing_default(t):
    """libwrap's default tables may be missing: that is "no rules", a
    warning.  Run in a private mount namespace whose /etc has neither."""
    unshare = shutil.which("unshare")
    if need_root() or unshare is None:
        return SKIP
    etc = os.path.join(t.dir, "etc")
    shutil.copytree("/etc", etc, symlinks=True)
    for f in ("hosts.allow", "hosts.deny"):
        if os.path.lexists(os.path.join(etc, f)):
            os.unlink(os.path.join(etc, f))
    port = free_port()
    be = Backend(echo_handler)
    # unshare(1) and sh exec: the PID Wrapd records is wrapd's own.
    w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend", be.addr,
                  "--no-syslog"],
              wrap=[unshare, "-m", "--", "sh", "-c",
                    'mount --bind "$1" /etc && shift && exec "$@"', "sh",
                    etc])
    wait_for(lambda: w.p.poll() is not None or " ready: " in w.text(),
             "wrapd to exit or serve")
    if w.p.poll() is not None and "mount" in w.text():
        print("SKIP: no bind mount in a mount namespace: " + w.text())
        return SKIP
    w.wait_listen(port)
    check(granted(port, DENIED), "no rules: everyone is granted")
    for f in ("/etc/hosts.allow", "/etc/hosts.deny"):
        w.wait_log(re.escape(f) + r":0:0: " + re.escape(f) +
                   r" does not exist: an empty table, as in libwrap")


def test_start_strict(t):
    """Rules a reload refuses are refused at start too: a restart must
    not put broken rules live."""
    args = ["--listen", "127.0.0.1:%d" % free_port(), "--backend",
            "127.0.0.1:9", "--no-syslog"]
    refused_at_start(t, args + t.rules("", "ALL: 127.0.0.3\nALL: %s" %
                                       DENIED),
                     r"hosts\.deny:2:0: missing newline at end of file")
    refused_at_start(t, args + t.rules("ALL: %s\n" % ("x" * 3000), ""),
                     r"hosts\.allow:1:0: line too long")
    # An option error (libwrap denies when the rule matches) is an error
    # in the rules like any other.
    refused_at_start(t, args + t.rules("rl: 127.0.0.1: setenv FOO=bar\n",
                                       ""),
                     r"hosts\.allow:1:16: bad setenv name in \"FOO=bar\"")


# ------------------------------------------------------------ permissions


def trust_refused(t, make_bad, undo, *want):
    """Refused at start once make_bad() ran; then, started after undo(),
    a reload after make_bad() (and a hosts.deny that would grant DENIED)
    keeps the running rules."""
    deny = "ALL: %s\n" % DENIED
    t.rules("", deny)
    make_bad()
    refused_at_start(t, ["--listen", "127.0.0.1:%d" % free_port(),
                         "--backend", "127.0.0.1:9", "--no-syslog",
                         "--allow", os.path.join(t.dir, "hosts.allow"),
                         "--deny", os.path.join(t.dir, "hosts.deny")],
                     r"unsafe permissions: ", *want)
    undo()
    port, w = deny_proxy(t, deny)
    t.write("hosts.deny", "")  # would grant DENIED if it went live
    make_bad()
    reload_refused(w, 1, r"unsafe permissions: ", *want)
    serving_as_before(port)


def test_trust_world_writable(t):
    p = os.path.join(t.dir, "hosts.deny")
    trust_refused(t, lambda: os.chmod(p, 0o666), lambda: os.chmod(p, 0o644),
                  re.escape(p) + r":0:0: unsafe permissions: file " +
                  re.escape(p) + r" is writable by others \(mode 0666\)")


def test_trust_group_dir(t):
    trust_refused(t, lambda: os.chmod(t.dir, 0o770),
                  lambda: os.chmod(t.dir, 0o700),
                  r"hosts\.deny:0:0: unsafe permissions: directory " +
                  re.escape(t.dir) + r" is writable by its group "
                  r"\(mode 0770\)")


def test_trust_owner(t):
    if need_root():
        return SKIP
    p = os.path.join(t.dir, "hosts.deny")
    nobody = pwd.getpwnam("nobody").pw_uid
    trust_refused(t, lambda: os.chown(p, nobody, -1),
                  lambda: os.chown(p, 0, -1),
                  re.escape(p) + r":0:0: unsafe permissions: file " +
                  re.escape(p) + r" is owned by uid %d \(nobody\), not by "
                  r"root" % nobody)


def test_trust_sticky_tmp(t):
    """Rule files directly in /tmp (root-owned, sticky): accepted, at
    start and on reload."""
    made = []
    try:
        for name, text in (("allow", ""), ("deny", "ALL: %s\n" % DENIED)):
            fd, p = tempfile.mkstemp(prefix="wrapd-rl-%s-" % name,
                                     dir="/tmp")
            os.write(fd, text.encode())
            os.close(fd)
            made.append(p)
        st = os.stat("/tmp")
        if st.st_uid != 0 or not st.st_mode & 0o1000:
            print("SKIP: /tmp is not root-owned and sticky")
            return SKIP
        port = free_port()
        be = Backend(echo_handler)
        w = Wrapd(t, ["--listen", "127.0.0.1:%d" % port, "--backend",
                      be.addr, "--no-syslog", "--allow", made[0],
                      "--deny", made[1]])
        w.wait_listen(port)
        serving_as_before(port)
        check("reload: done" in reload_outcome(w, 1), "reload refused:\n" +
              w.text())
        check("unsafe" not in w.text(), w.text())
    finally:
        for p in made:
            os.unlink(p)


def test_trust_config(t):
    """The configuration file is checked too, at start and on reload."""
    port = free_port()
    be = Backend(echo_handler)
    allow = t.write("hosts.allow", "")
    deny = t.write("hosts.deny", "ALL: %s\n" % DENIED)
    conf = yaml_rules(t, allow, deny, port, be.addr)
    os.chmod(conf, 0o666)
    want = (re.escape(conf) + r": unsafe permissions: file " +
            re.escape(conf) + r" is writable by others \(mode 0666\)")
    refused_at_start(t, ["--config", conf], want)
    os.chmod(conf, 0o644)
    w = Wrapd(t, ["--config", conf])
    w.wait_listen(port)
    serving_as_before(port)
    yaml_rules(t, allow, os.path.join(t.dir, "empty"), port, be.addr)
    t.write("empty", "")  # the new config would grant DENIED
    os.chmod(conf, 0o666)
    reload_refused(w, 1, want, r"reload: configuration has errors")
    serving_as_before(port)


def test_trust_banners(t):
    """A banners directory is where wrapd reads text for clients: checked
    like the rule files, where the rule names it."""
    banners = os.path.join(t.dir, "banners")
    os.mkdir(banners)
    os.chmod(banners, 0o775)
    rule = "rl: 127.0.0.1: banners %s\n" % banners
    args = ["--listen", "127.0.0.1:%d" % free_port(), "--backend",
            "127.0.0.1:9", "--no-syslog", "--daemon", "rl"]
    want = (r"hosts\.allow:1:16: unsafe permissions: directory " +
            re.escape(banners) + r" is writable by its group \(mode 0775\)")
    refused_at_start(t, args + t.rules(rule, ""), want)
    os.chmod(banners, 0o755)
    port, w = deny_proxy(t, "ALL: %s\n" % DENIED)
    t.write("hosts.allow", rule)
    os.chmod(banners, 0o775)
    reload_refused(w, 1, want)
    serving_as_before(port)


if __name__ == "__main__":
    sys.exit(proxy_test.run({k[5:]: v for k, v in globals().items()
                             if k.startswith("test_")}, sys.argv))
