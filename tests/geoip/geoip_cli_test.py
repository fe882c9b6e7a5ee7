#!/usr/bin/env python3
"""geoip_cli_test.py - `wrapd check` and `wrapd match` with GeoIP rules.

    geoip_cli_test.py WRAPD DBDIR check|match

check: exact diagnostics (file:line:col: severity: message) for country=
       and asn= patterns in tables and /file lists, for patterns without
       their database, and for databases wrapd refuses; exit codes.
match: the country and AS number looked up, in text and JSON (new keys
       only: the old ones keep their names and meaning), decisions by
       them, IPv6 and IPv4-mapped clients, a client in no network, and a
       rule reached without its database.

The databases place 127.0.0.2 in XX (AS 64500), 127.0.0.3 in DE (AS 64501),
::1 in JP (AS 64502); 127.0.0.4 is in no network (make_mmdb.pl).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

WRAPD = DBDIR = None
FAILS = []
COUNT = 0


def check(cond, what, detail=""):
    global COUNT
    COUNT += 1
    if not cond:
        FAILS.append(what)
        print("FAIL: %s\n%s" % (what, detail), flush=True)


def run(args, cwd):
    p = subprocess.run([WRAPD] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=cwd, timeout=60)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


class Dir:
    """A private directory (wrapd check refuses files others could
    change) holding copies of the databases."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="wrapd-geoip-cli-")
        for f in os.listdir(DBDIR):
            if f.endswith(".mmdb"):
                shutil.copyfile(os.path.join(DBDIR, f),
                                os.path.join(self.path, f))

    def write(self, name, text):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(text)
        return name

    def close(self):
        shutil.rmtree(self.path)


DBS = ["--geoip-country", "country.mmdb", "--geoip-asn", "asn.mmdb"]

NODB = ('no GeoIP %s database is configured (geoip.%s in wrapd.yaml, '
        '--geoip-%s): the rule cannot be decided')
NODB_C = NODB % ("country", "country", "country")
NODB_A = NODB % ("ASN", "asn", "asn")

CHECK_CASES = [
    # (deny table, list file, flags, exit, exact stdout lines); @DIR@ is
    # the directory the files are in, %s an offset.
    ("ALL: country=XX, asn=64500 EXCEPT joe@country=de\n", None, DBS, 0, []),
    ("ALL: country=XX\n", None, [], 1,
     ['deny:1:6: error: "country=XX": ' + NODB_C]),
    ("sshd: 10.0.0.1 asn=3320\n", None, ["--geoip-country", "country.mmdb"],
     1, ['deny:1:16: error: "asn=3320": ' + NODB_A]),
    ("ALL: @DIR@/list\n", "10.0.0.1\n  asn=3320\n", ["--geoip-country",
                                                    "country.mmdb"], 1,
     ['@DIR@/list:2:3: error: "asn=3320": ' + NODB_A]),
    ("ALL: country=DEU asn=AS3320 asn=4294967296\n", None, DBS, 1, [
        'deny:1:6: error: "country=DEU": not a country: write an ISO '
        '3166-1 alpha-2 code, two letters such as country=DE',
        'deny:1:18: error: "asn=AS3320": not an AS number: write a number '
        'from 1 to 4294967295, without "AS"',
        'deny:1:29: error: "asn=4294967296": not an AS number: write a '
        'number from 1 to 4294967295']),
    ("ALL: country=UK\n", None, DBS, 0, [
        'deny:1:6: warning: "country=UK": UK is not an ISO 3166-1 country '
        "code (the United Kingdom's is GB): it matches only clients a "
        'database gives that code']),
    ("sshd@country=DE: ALL\n", None, DBS, 1, [
        'deny:1:6: error: "country=DE": country= and asn= patterns are '
        'about the client: not in daemon@host, which names the server']),
    # Databases wrapd would refuse: an error about the file itself, and
    # its patterns then have no database.
    ("ALL: country=XX\n", None, ["--geoip-country", "asn.mmdb"], 1, [
        'asn.mmdb:0:0: error: database type "GeoLite2-ASN" is not a country '
        'database (one whose type names Country, City or Enterprise)',
        'deny:1:6: error: "country=XX": ' + NODB_C]),
    ("ALL: asn=1\n", None, ["--geoip-asn", "nonexistent.mmdb"], 1, [
        'nonexistent.mmdb:0:0: error: cannot open: No such file or '
        'directory',
        'deny:1:6: error: "asn=1": ' + NODB_A]),
    ("ALL: country=XX\n", None, ["--geoip-country", "country-badcode.mmdb"],
     1, ['country-badcode.mmdb:0:0: error: not a database of this kind: the '
         'country.iso_code of the record at offset %s is "D1", not two '
         'letters', 'deny:1:6: error: "country=XX": ' + NODB_C]),
]


def test_check():
    d = Dir()
    try:
        for deny, lst, flags, want_rc, want in CHECK_CASES:
            d.write("allow", "")
            d.write("deny", deny.replace("@DIR@", d.path))
            want = [w.replace("@DIR@", d.path) for w in want]
            if lst is not None:
                d.write("list", lst)
            rc, out, err = run(["check", "--allow", "allow", "--deny", "deny"]
                               + flags, d.path)
            lines = out.splitlines()
            ok = rc == want_rc and len(lines) == len(want)
            for got, w in zip(lines, want):
                if "%s" in w:
                    pre, post = w.split("%s")
                    ok = ok and got.startswith(pre) and got.endswith(post)
                else:
                    ok = ok and got == w
            check(ok, "check %r %r" % (deny, flags),
                  "rc %d (want %d)\n%s%s" % (rc, want_rc, out, err))
        # A database cut short is refused, whatever the cut.
        data = open(os.path.join(d.path, "country.mmdb"), "rb").read()
        for cut in (1, 100, len(data) // 2, len(data) - 1):
            with open(os.path.join(d.path, "cut.mmdb"), "wb") as f:
                f.write(data[:cut])
            d.write("deny", "ALL: country=XX\n")
            rc, out, err = run(["check", "--allow", "allow", "--deny", "deny",
                                "--geoip-country", "cut.mmdb"], d.path)
            check(rc == 1 and out.startswith(
                "cut.mmdb:0:0: error: not a MaxMind DB file, or cut short"),
                "cut at %d" % cut, out + err)
        # Usage.
        rc, out, err = run(["check", "--help"], d.path)
        check(rc == 0 and "--geoip-country FILE" in out, "check --help", out)
    finally:
        d.close()


def match(d, args, deny, allow=""):
    d.write("allow", allow)
    d.write("deny", deny)
    return run(["match", "--allow", "allow", "--deny", "deny"] + args, d.path)


def test_match():
    d = Dir()
    try:
        deny = "ALL: country=XX\nALL: asn=64501 EXCEPT 127.0.0.3\n"
        rc, out, err = match(d, DBS + ["sshd", "127.0.0.2"], deny)
        check(rc == 0 and out == (
            "client:   address  127.0.0.2\n"
            "client:   country  XX\n"
            "client:   asn      64500\n"
            "server:   process  sshd\n"
            "matched:  deny table, deny:1\n"
            "rule:     ALL: country=XX\n"
            "reason:   denied\n"
            "priority: warning\n"
            "access: denied\n"), "match text 127.0.0.2", out + err)
        rc, out, err = match(d, DBS + ["sshd", "127.0.0.3"], deny)
        check(rc == 0 and "client:   country  DE\n" in out
              and "client:   asn      64501\n" in out
              and out.endswith("matched:  no rule matched\n"
                               "priority: info\naccess: granted\n"),
              "match text 127.0.0.3", out + err)
        # In no network, IPv6, IPv4-mapped.
        rc, out, err = match(d, DBS + ["sshd", "127.0.0.4"], deny)
        check("client:   country  none (in no network of the database)\n"
              in out and "client:   asn      none (in no network of the "
              "database)\n" in out and out.endswith("access: granted\n"),
              "match 127.0.0.4", out + err)
        rc, out, err = match(d, DBS + ["sshd", "::ffff:127.0.0.2"], deny)
        check("client:   country  XX\n" in out
              and out.endswith("access: denied\n"), "match mapped", out + err)
        rc, out, err = match(d, DBS + ["sshd", "::1"], "ALL: country=jp\n")
        check("client:   asn      64502\n" in out
              and out.endswith("access: denied\n"), "match ::1", out + err)

        # JSON: the old keys as they were, the new ones added.
        rc, out, err = match(d, DBS + ["--json", "sshd", "127.0.0.2"], deny)
        j = json.loads(out)
        check(rc == 0 and j["verdict"] == "deny" and j["table"] == "deny"
              and j["file"] == "deny" and j["line"] == 1
              and j["rule"] == "ALL: country=XX"
              and j["client"] == {"address": "127.0.0.2", "name": None,
                                  "port": None}
              and j["table_error"] is False and j["error_file"] is None
              and j["country"] == "XX" and j["asn"] == 64500
              and j["geoip"] == {"country": "found", "asn": "found"}
              and j["fact_error"] is False, "match json", out + err)
        rc, out, err = match(d, DBS + ["--json", "sshd", "127.0.0.4"], deny)
        j = json.loads(out)
        check(j["verdict"] == "grant" and j["country"] is None
              and j["asn"] is None
              and j["geoip"] == {"country": "none", "asn": "none"},
              "match json none", out + err)

        # Without the databases, as wrapd would: the rule reached has no
        # answer and denies there; without --geoip-* nothing is shown
        # unless a rule asks.
        rc, out, err = match(d, ["sshd", "127.0.0.3"], deny,
                             allow="sshd: 127.0.0.3\n")
        check(rc == 0 and "country" not in out
              and out.endswith("access: granted\n"), "match no geo", out + err)
        rc, out, err = match(d, ["sshd", "127.0.0.3"], deny)
        check(rc == 0 and out == (
            "client:   address  127.0.0.3\n"
            "client:   country  unknown (no database: --geoip-country)\n"
            "client:   asn      unknown (no database: --geoip-asn)\n"
            "server:   process  sshd\n"
            "error:    no answer for the GeoIP fact a pattern of deny:1 "
            "needs (wrapd denies there)\n"
            "reason:   denied\n"
            "priority: warning\n"
            "access: denied\n"), "match without databases", out + err)
        check('deny:1:6: error: "country=XX": ' + NODB_C in err,
              "match reports the rules' errors", err)
        rc, out, err = match(d, ["--json", "sshd", "127.0.0.3"], deny)
        j = json.loads(out)
        check(j["verdict"] == "deny" and j["fact_error"] is True
              and j["table_error"] is False and j["error_file"] == "deny"
              and j["error_line"] == 1 and j["rule"] is None
              and j["geoip"]["country"] == "no-database",
              "match json without databases", out + err)
        # A database that cannot be used: reported; its fact has none.
        rc, out, err = match(d, ["--geoip-country", "asn.mmdb", "sshd",
                                 "127.0.0.2"], deny)
        check(rc == 0 and "asn.mmdb:0:0: error: database type" in err
              and "client:   country  unknown (the database could not be "
              "used)\n" in out and out.endswith("access: denied\n"),
              "match bad database", out + err)
        rc, out, err = run(["match", "--help"], d.path)
        check(rc == 0 and "--geoip-asn FILE" in out, "match --help", out)
    finally:
        d.close()


def main():
    global WRAPD, DBDIR
    if len(sys.argv) != 4 or sys.argv[3] not in ("check", "match"):
        print("usage: geoip_cli_test.py WRAPD DBDIR check|match",
              file=sys.stderr)
        return 2
    WRAPD = os.path.abspath(sys.argv[1])
    DBDIR = os.path.abspath(sys.argv[2])
    {"check": test_check, "match": test_match}[sys.argv[3]]()
    print("%d passed, %d failed" % (COUNT - len(FAILS), len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
