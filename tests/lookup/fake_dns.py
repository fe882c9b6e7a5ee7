#!/usr/bin/env python3
"""fake_dns.py ADDR PORT LIFETIME - a tiny, hostile-on-purpose DNS server for
the name look-up tests.  It only ever runs inside the test's own network
namespace.  Answers come from the table below: some honest, some lying
(a PTR whose name does not map back), some never answered (to exercise
the deadline), some with names no host could have.  Exits after LIFETIME
seconds whatever happens, so it can never outlive a broken test for long.
"""
import socket
import struct
import sys
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


def answer(msg):
    qid, = struct.unpack("!H", msg[:2])
    name, qtype, end = parse_question(msg)
    entry = TABLE.get((name, qtype), "NX")
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


def main():
    addr, port, lifetime = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, port))
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            msg, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        try:
            reply = answer(msg)
        except (IndexError, struct.error):
            continue
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
