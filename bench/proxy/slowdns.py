#!/usr/bin/env python3
"""slowdns.py - a deliberately bad DNS server for the resolver benchmark.

    slowdns.py ADDR PORT delay SECONDS   answer every query with NXDOMAIN
                                         after SECONDS
    slowdns.py ADDR PORT drop            never answer

It stands in for a slow or dead resolver so bench/run.sh can measure whether
one client's slow reverse lookup delays other clients' connections.  It only
binds the address it is given (a loopback address inside the benchmark's own
network namespace) and exits after --max-seconds (default 600) whatever
happens, so a forgotten instance cannot linger.
"""
import heapq
import select
import socket
import sys
import time


def nxdomain(query):
    """Echo the header and question back with QR=1, RA=1, RCODE=3."""
    if len(query) < 12:
        return None
    qid = query[0:2]
    flags = bytes([0x80 | (query[2] & 0x79), 0x83])
    # keep only the first question: QNAME labels, then QTYPE and QCLASS
    i = 12
    while i < len(query) and query[i] != 0:
        i += 1 + query[i]
    end = i + 5
    if end > len(query):
        return None
    counts = b"\x00\x01\x00\x00\x00\x00\x00\x00"
    return qid + flags + counts + query[12:end]


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: slowdns.py ADDR PORT {delay SECONDS|drop}")
    addr, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    delay = float(sys.argv[4]) if mode == "delay" else None
    stop_at = time.monotonic() + 600
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, port))
    print("ready", flush=True)
    pending = []  # (due, seq, reply, peer)
    seq = 0
    while time.monotonic() < stop_at:
        timeout = 1.0
        if pending:
            timeout = max(0.0, min(timeout, pending[0][0] - time.monotonic()))
        ready, _, _ = select.select([sock], [], [], timeout)
        if ready:
            data, peer = sock.recvfrom(4096)
            reply = nxdomain(data)
            if delay is not None and reply is not None:
                seq += 1
                heapq.heappush(pending,
                               (time.monotonic() + delay, seq, reply, peer))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, reply, peer = heapq.heappop(pending)
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
