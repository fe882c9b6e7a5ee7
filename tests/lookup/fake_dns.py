#!/usr/bin/env python3
"""fake_dns.py ADDR PORT LIFETIME [--release FILE] [--log FILE] - a tiny,
hostile-on-purpose DNS server for the name look-up tests.  It only ever
runs inside the test's own network namespace.  Answers come from the table
below: some honest, some lying (a PTR whose name does not map back), some
never answered (to exercise the deadline), some with names no host could
have.  Exits after LIFETIME seconds whatever happens, so it can never
outlive a broken test for long.

Dead zones (HELD, below) stand for networks whose reverse zone never
answers: their queries are held, unanswered, while FILE does not exist,
and answered NXDOMAIN as soon as it does (so a test ends them when it
wants, with no clock).  With --log, one line per held query ("held NAME")
and per release ("released NAME"), flushed at once.
"""
import argparse
import os
import re
import socket
import struct
import time

LONG = "a" * 60 + "." + "b" * 60 + "." + "c" * 60 + ".long.test"

# (qname lower-case, qtype) -> list of answers, None = drop, "NX" = NXDOMAIN
PTR, A, CNAME = 12, 1, 5
TABLE = {
    ("3.0.0.127.in-addr.arpa", PTR): [(PTR, "liar.test")],
    ("liar.test", A): [(A, "127.0.0.9")],
    ("12.0.0.127.in-addr.arpa", PTR): [(PTR, LONG)],
    (LONG, A): [(A, "127.0.0.12")],
    ("13.0.0.127.in-addr.arpa", PTR): [(PTR, b"we\"ird $(id);`x`.test")],
    ("14.0.0.127.in-addr.arpa", PTR): "NX",
    ("15.0.0.127.in-addr.arpa", PTR): [(PTR, "nxfwd.test")],
    ("nxfwd.test", A): "NX",
    ("16.0.0.127.in-addr.arpa", PTR): [(PTR, "dnsgood.test")],
    ("dnsgood.test", A): [(A, "127.0.0.17"), (A, "127.0.0.16")],
    ("18.0.0.127.in-addr.arpa", PTR): [(PTR, "cname.test")],
    ("cname.test", A): [(CNAME, "real.test"), (A, "127.0.0.18")],
    ("19.0.0.127.in-addr.arpa", PTR): [(PTR, "UPPER.Test")],
    ("upper.test", A): [(A, "127.0.0.19")],
    ("20.0.0.127.in-addr.arpa", PTR): [(PTR, "slowfwd.test")],
    ("slowfwd.test", A): None,
    ("21.0.0.127.in-addr.arpa", PTR): None,
}

# Dead zones: held until the release file exists, then NXDOMAIN.
HELD = (
    ".1.0.127.in-addr.arpa",        # 127.0.1.0/24: one dead reverse zone
    ".1.127.in-addr.arpa",          # 127.1.0.0/16: 256 dead /24 zones
    ".d.a.e.d.0.0.d.f.ip6.arpa",    # fd00:dead::/32
    ".stuckfwd.test",               # the names 127.0.2.0/24 points at
)
# 127.0.2.0/24: a reverse zone that answers at once, with names whose
# own (forward) zone is dead.
STUCK_FORWARD_PTR = re.compile(r"^(\d+)\.2\.0\.127\.in-addr\.arpa$")


def held(name):
    return any(name.endswith(z) for z in HELD)


def entry_for(name, qtype):
    m = STUCK_FORWARD_PTR.match(name)
    if m and qtype == PTR:
        return [(PTR, "h%s.stuckfwd.test" % m.group(1))]
    return TABLE.get((name, qtype), "NX")


def encode_name(name):
    if isinstance(name, str):
        name = name.encode()
    out = b""
    for label in name.split(b"."):
        out += bytes([len(label)]) + label
    return out + b"\0"


def parse_question(msg):
    """Return (qname, qtype, end offset) of the first question."""
    pos, labels = 12, []
    while True:
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        labels.append(msg[pos:pos + n])
        pos += n
    qtype, = struct.unpack("!H", msg[pos:pos + 2])
    name = b".".join(labels).decode("latin-1").lower()
    return name, qtype, pos + 4


def answer(msg, entry=None):
    qid, = struct.unpack("!H", msg[:2])
    name, qtype, end = parse_question(msg)
    if entry is None:
        entry = entry_for(name, qtype)
    if entry is None:
        return None
    question = msg[12:end]
    if entry == "NX":
        return struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question
    rrs, owner = b"", b"\xc0\x0c"  # first answer's owner: the question name
    for rtype, value in entry:
        if rtype == A:
            rdata = socket.inet_aton(value)
        else:
            rdata = encode_name(value)
        rrs += owner + struct.pack("!HHIH", rtype, 1, 60, len(rdata)) + rdata
        if rtype == CNAME:
            owner = encode_name(value)
    return struct.pack("!HHHHHH", qid, 0x8180, 1, len(entry), 0, 0) + \
        question + rrs


class Log:
    def __init__(self, path):
        self.f = open(path, "a") if path else None

    def write(self, what, msg):
        if self.f:
            self.f.write("%s %s\n" % (what, parse_question(msg)[0]))
            self.f.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("lifetime", type=float)
    p.add_argument("--release", help="answer the dead zones once it exists")
    p.add_argument("--log")
    a = p.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((a.addr, a.port))
    log = Log(a.log)
    waiting = []  # (query, peer) of the dead zones, not answered yet
    deadline = time.monotonic() + a.lifetime
    def released():
        return a.release is not None and os.path.exists(a.release)

    while time.monotonic() < deadline:
        if released():
            for msg, peer in waiting:
                sock.sendto(answer(msg, "NX"), peer)
                log.write("released", msg)
            waiting = []
        sock.settimeout(max(0.01, min(0.05, deadline - time.monotonic())))
        try:
            msg, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        try:
            # Asked now: the test may have removed the file meanwhile.
            if held(parse_question(msg)[0]) and not released():
                waiting.append((msg, peer))
                log.write("held", msg)
                continue
            reply = answer(msg)
        except (IndexError, struct.error):
            continue
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
