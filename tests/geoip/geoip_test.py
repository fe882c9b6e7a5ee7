#!/usr/bin/env python3
"""geoip_test.py - country= and asn= rules in the real wrapd daemon.

    geoip_test.py WRAPD DBDIR TESTNAME

DBDIR holds the databases of make_mmdb.pl, which place loopback clients in
countries and networks: 127.0.0.2 in XX (AS 64500), 127.0.0.3 in DE
(AS 64501), 127.0.0.4 in no network, ::1 in JP (AS 64502); country-v2.mmdb
swaps XX and DE.  Each test copies what it needs into its own directory
(wrapd refuses files others could change) and uses the helpers of
tests/proxy/proxy_test.py: every wait is bounded, every process started is
stopped by its PID.  Exits 0 (pass), 1 (fail) or 77 (skip).
"""
import os
import re
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "proxy"))
import proxy_test  # noqa: E402
from proxy_test import (DEADLINE, SKIP, Backend, Fail, Wrapd, check,  # noqa: E402
                        connect, connect_outcome, echo_handler, free_port,
                        kv)

DBDIR = None


def db(t, name, as_name=None):
    """Copy DBDIR/name into the test's directory; its path there."""
    dst = os.path.join(t.dir, as_name or name)
    shutil.copyfile(os.path.join(DBDIR, name), dst + ".tmp")
    os.chmod(dst + ".tmp", 0o644)
    os.rename(dst + ".tmp", dst)
    return dst


def served(port, src, host="127.0.0.1"):
    s = connect(port, host, src)
    s.sendall(b"ping")
    got = s.recv(10)
    s.close()
    return got == b"ping"


def refused(port, src, host="127.0.0.1"):
    return connect_outcome(port, host, src) in ("closed", "reset")


def line_for(w, client):
    """The log line of the last connection from client (address only)."""
    lines = [l for l in w.conn_lines()
             if kv(l).get("client", "").rsplit(":", 1)[0].strip("[]") == client]
    return kv(lines[-1]) if lines else None


def geo_proxy(t, allow, deny, *flags, listen=("127.0.0.1",)):
    port = free_port()
    be = Backend(echo_handler)
    args = []
    for h in listen:
        args += ["--listen", ("[%s]:%d" if ":" in h else "%s:%d") % (h, port)]
    w = Wrapd(t, args + ["--backend", be.addr, "--no-syslog"] + list(flags)
              + t.rules(allow, deny))
    w.wait_listen(port, listen[0])
    return port, be, w


def test_decide(t):
    """Clients decided by country and AS number, IPv4 and IPv6."""
    port, be, w = geo_proxy(
        t, "ALL: asn=64501 country=jp\n",
        "ALL: country=XX\nALL: ALL EXCEPT 127.0.0.4\n",
        "--geoip-country", db(t, "country.mmdb"),
        "--geoip-asn", db(t, "asn.mmdb"), listen=("127.0.0.1", "::1"))
    check(refused(port, "127.0.0.2"), "127.0.0.2 (XX) was served")
    check(served(port, "127.0.0.3"), "127.0.0.3 (AS 64501) was refused")
    check(served(port, "127.0.0.4"), "127.0.0.4 (no network) was refused")
    check(refused(port, "127.0.0.5"), "127.0.0.5 (no country) was served")
    check(served(port, "::1", "::1"), "::1 (JP) was refused")
    w.wait_log(r"conn=\d+ .*client=\[::1\]")
    want = {"127.0.0.2": ("deny", "hosts.deny:1"),
            "127.0.0.3": ("grant", "hosts.allow:1"),
            "127.0.0.4": ("grant", "none"),
            "127.0.0.5": ("deny", "hosts.deny:2"),
            "::1": ("grant", "hosts.allow:1")}
    for client, (verdict, rule) in want.items():
        d = line_for(w, client)
        check(d is not None, "no log line for %s" % client)
        check(d["verdict"] == verdict and d["rule"].endswith(rule),
              "%s: %r, want %s %s" % (client, d, verdict, rule))


def test_reload(t):
    """SIGHUP reads the databases anew: a replaced one changes verdicts, a
    connection in flight keeps its own, and a broken one keeps the old."""
    country = db(t, "country.mmdb")
    port, be, w = geo_proxy(t, "", "ALL: country=XX\n",
                            "--geoip-country", country)
    check(refused(port, "127.0.0.2"), "127.0.0.2 (XX) was served")
    inflight = connect(port, src="127.0.0.3")
    inflight.sendall(b"1")
    check(inflight.recv(1) == b"1", "127.0.0.3 (DE) was not served")

    # Rewritten in place, as cp(1) does: the running snapshot's copy is
    # its own, so nothing reads the half-written file.
    shutil.copyfile(os.path.join(DBDIR, "country-v2.mmdb"), country)
    w.signal(signal.SIGHUP)
    w.wait_log(r"reload: done")
    check(served(port, "127.0.0.2"), "127.0.0.2 (DE now) was refused")
    check(refused(port, "127.0.0.3"), "127.0.0.3 (XX now) was served")
    for i in range(5):
        inflight.sendall(b"%d" % i)
        check(inflight.recv(1) == b"%d" % i,
              "the connection in flight broke on reload")

    # A database cut short: the reload fails, naming it; the rules and
    # the database in force stay.
    data = open(os.path.join(DBDIR, "country.mmdb"), "rb").read()
    with open(country, "wb") as f:
        f.write(data[:len(data) // 2])
    w.signal(signal.SIGHUP)
    w.wait_log(r"reload: failed")
    w.wait_log(re.escape(country) + r": not a MaxMind DB file, or cut short")
    check(served(port, "127.0.0.2"), "127.0.0.2 refused after a failed reload")
    check(refused(port, "127.0.0.3"), "127.0.0.3 served after a failed reload")
    inflight.sendall(b"x")
    check(inflight.recv(1) == b"x", "the connection in flight broke")
    inflight.close()


def start_fails(t, args, *want):
    p = subprocess.run([t.wrapd] + args, capture_output=True,
                       timeout=DEADLINE)
    err = p.stderr.decode("utf-8", "replace")
    check(p.returncode == 1, "exit %d, want 1:\n%s" % (p.returncode, err))
    for r in want:
        check(re.search(r, err), "no /%s/ in:\n%s" % (r, err))


def test_start_errors(t):
    """wrapd does not start with a database it cannot trust to decide."""
    port = free_port()
    base = ["--listen", "127.0.0.1:%d" % port, "--backend", "127.0.0.1:9",
            "--no-syslog"]
    rules = t.rules("", "ALL: country=XX\nALL: asn=64500\n")
    deny = re.escape(rules[3])
    # A database of the other type.
    start_fails(t, base + rules + ["--geoip-country", db(t, "asn.mmdb"),
                                   "--geoip-asn", db(t, "asn.mmdb")],
                r'asn\.mmdb: database type "GeoLite2-ASN" is not a country '
                r'database')
    # A pattern without its database: file:line:col.
    start_fails(t, base + rules + ["--geoip-country", db(t, "country.mmdb")],
                deny + r':2:6: .*no GeoIP ASN database is configured')
    # Cut short, corrupt, or wrong records.
    data = open(os.path.join(DBDIR, "country.mmdb"), "rb").read()
    cut = t.write("cut.mmdb", "")
    with open(cut, "wb") as f:
        f.write(data[:-40])
    start_fails(t, base + rules + ["--geoip-country", cut,
                                   "--geoip-asn", db(t, "asn.mmdb")],
                re.escape(cut) + r': not a MaxMind DB file, or cut short')
    start_fails(t, base + rules + ["--geoip-country",
                                   db(t, "country-badcode.mmdb"),
                                   "--geoip-asn", db(t, "asn.mmdb")],
                r'is "D1", not two letters')
    start_fails(t, base + rules + ["--geoip-country", db(t, "country.mmdb"),
                                   "--geoip-asn", db(t, "asn-huge.mmdb")],
                r'is 5000000000, over 4294967295')
    # A database others could change.
    loose = db(t, "country.mmdb", "loose.mmdb")
    os.chmod(loose, 0o666)
    start_fails(t, base + rules + ["--geoip-country", loose,
                                   "--geoip-asn", db(t, "asn.mmdb")],
                r'loose\.mmdb.*writable by others')
    # A bad value in the rules.
    bad = t.rules("", "ALL: asn=4294967296\n")
    start_fails(t, base + bad + ["--geoip-asn", db(t, "asn.mmdb")],
                re.escape(bad[3]) + r':1:6: .*not an AS number')
    # The flags belong to quick mode.
    p = subprocess.run([t.wrapd, "--config", "/nonexistent",
                        "--geoip-country", "x"], capture_output=True,
                       timeout=DEADLINE)
    check(p.returncode == 2 and b"geoip.country" in p.stderr,
          "--geoip-country with --config: exit %d %r"
          % (p.returncode, p.stderr))


def test_config_mode(t):
    """geoip: in wrapd.yaml, paths relative to the file."""
    port = free_port()
    be = Backend(echo_handler)
    db(t, "country.mmdb")
    db(t, "asn.mmdb")
    allow = t.write("hosts.allow", "")
    deny = t.write("hosts.deny", "ALL: country=XX asn=64501\n")
    conf = t.write("wrapd.yaml",
                   "rules: { allow: hosts.allow, deny: hosts.deny }\n"
                   "geoip:\n  country: country.mmdb\n  asn: asn.mmdb\n"
                   "log: { syslog: false }\n"
                   "services:\n  - name: s\n    listen: [\"127.0.0.1:%d\"]\n"
                   "    backend: \"%s\"\n" % (port, be.addr))
    del allow, deny
    w = Wrapd(t, ["--config", conf])
    w.wait_listen(port)
    check(refused(port, "127.0.0.2"), "127.0.0.2 (XX) was served")
    check(refused(port, "127.0.0.3"), "127.0.0.3 (AS 64501) was served")
    check(served(port, "127.0.0.4"), "127.0.0.4 was refused")


def test_privdrop_reload(t):
    """After --user nobody, a reload reads the database as nobody."""
    if os.getuid() != 0:
        return SKIP
    os.chmod(t.dir, 0o755)
    country = db(t, "country.mmdb")
    port, be, w = geo_proxy(t, "", "ALL: country=XX\n",
                            "--geoip-country", country, "--user", "nobody")
    for f in ("hosts.allow", "hosts.deny"):
        os.chmod(os.path.join(t.dir, f), 0o644)
    check(refused(port, "127.0.0.2"), "127.0.0.2 (XX) was served")
    check(served(port, "127.0.0.3"), "127.0.0.3 (DE) was refused")
    db(t, "country-v2.mmdb", "country.mmdb")  # by rename
    w.signal(signal.SIGHUP)
    w.wait_log(r"reload: done")
    check(served(port, "127.0.0.2"), "127.0.0.2 (DE now) was refused")
    check(refused(port, "127.0.0.3"), "127.0.0.3 (XX now) was served")
    # Unreadable for nobody: the reload fails, the database in force stays.
    os.chmod(country, 0o600)
    w.signal(signal.SIGHUP)
    w.wait_log(r"reload: failed")
    w.wait_log(re.escape(country) + r": cannot open: Permission denied")
    check(refused(port, "127.0.0.3"), "127.0.0.3 served after a failed reload")


TESTS = {k[5:]: v for k, v in globals().items() if k.startswith("test_")}

if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: geoip_test.py WRAPD DBDIR TEST", file=sys.stderr)
        sys.exit(2)
    DBDIR = os.path.abspath(sys.argv[2])
    sys.exit(proxy_test.run(TESTS, [sys.argv[0], sys.argv[1], sys.argv[3]]))
