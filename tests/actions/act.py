#!/usr/bin/env python3
"""act.py - client and peer helpers of the actions tests (no third-party
modules).  Every network wait is bounded by --timeout.

  act.py talk --to HOST:PORT [--src ADDR] [--send TEXT] [--timeout S]
      connect, optionally send TEXT + "\\n", read until EOF (or 64 KiB);
      print the bytes received as a Python repr (b'...').
  act.py identd --listen HOST:PORT --user TEXT|--user-file F --ready F
      a hostile RFC 1413 server: answers every query with TEXT as the user.
  act.py fingerd --listen HOST:PORT --reply-file F --ready F
      a hostile finger server: sends the file's bytes, then closes.
  act.py flood --to HOST:PORT --count N --parallel P --out F [--src ADDR]
      N connections that read until close; outcome counts as JSON in F.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time


def split_hostport(s):
    if s.startswith("["):
        h, _, p = s[1:].partition("]:")
        return h, int(p)
    h, _, p = s.rpartition(":")
    return h, int(p)


def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def connect(to, src, timeout):
    h, p = split_hostport(to)
    s = socket.socket(fam(h), socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((h, p))
    return s


def read_all(s, limit=65536):
    buf = b""
    try:
        while len(buf) < limit:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except socket.timeout:
        buf += b"<timeout>"
    except ConnectionResetError:
        buf += b"<reset>"
    return buf


def cmd_hold(a):
    """Connect, see our line echoed, touch --ready, keep the connection
    until --release exists (bounded by --timeout), then close."""
    s = connect(a.to, a.src, a.timeout)
    want = (a.send + "\n").encode()
    s.sendall(want)
    got = b""
    while len(got) < len(want):
        d = s.recv(4096)
        if not d:
            break
        got += d
    print(repr(got), flush=True)
    open(a.ready, "w").close()
    end = time.monotonic() + a.timeout
    while not os.path.exists(a.release) and time.monotonic() < end:
        time.sleep(0.05)
    s.close()
    return 0


def cmd_talk(a):
    try:
        s = connect(a.to, a.src, a.timeout)
    except OSError as e:
        print("connect-error:%s" % e)
        return 0
    try:
        if a.send is not None:
            s.sendall((a.send + "\n").encode())
            if a.shut:
                s.shutdown(socket.SHUT_WR)
        print(repr(read_all(s)))
    except OSError as e:
        print("error:%s" % e)
    finally:
        s.close()
    return 0


def serve(listen, ready, handler):
    h, p = split_hostport(listen)
    ls = socket.socket(fam(h), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((h, p))
    ls.listen(64)
    if ready:
        open(ready, "w").close()
    while True:
        c, _ = ls.accept()
        c.settimeout(10)
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def cmd_identd(a):
    def h(c):
        # The file is read per query, so a test can change the answer.
        user = (a.user.encode() if a.user is not None
                else open(a.user_file, "rb").read())
        try:
            q = b""
            while b"\n" not in q and len(q) < 1000:
                d = c.recv(1000)
                if not d:
                    break
                q += d
            ports = q.split(b"\r")[0].split(b"\n")[0].strip()
            c.sendall(ports + b" : USERID : UNIX :" + user + b"\r\n")
        except OSError:
            pass
        finally:
            c.close()
    serve(a.listen, a.ready, h)


def cmd_fingerd(a):
    data = open(a.reply_file, "rb").read()

    def h(c):
        try:
            c.recv(1000)
            c.sendall(data)
        except OSError:
            pass
        finally:
            c.close()
    serve(a.listen, a.ready, h)


def cmd_flood(a):
    lock = threading.Lock()
    counts = {}
    todo = [a.count]

    def worker():
        while True:
            with lock:
                if todo[0] <= 0:
                    return
                todo[0] -= 1
                i = todo[0]
            src = a.src
            if a.src_spread:
                # one source address per connection: 127.X.Y.Z
                src = "%s.%d.%d" % (a.src_spread, i // 250, i % 250 + 1)
            try:
                s = connect(a.to, src, a.timeout)
                if a.send is not None:
                    # An echo: read our line back, then hang up.
                    want = (a.send + "\n").encode()
                    s.sendall(want)
                    got = b""
                    while len(got) < len(want):
                        d = s.recv(65536)
                        if not d:
                            break
                        got += d
                else:
                    got = read_all(s)
                s.close()
                if a.send is not None and got.startswith((a.send + "\n").encode()):
                    r = "echo"
                else:
                    r = "closed" if got == b"" else "data"
            except OSError as e:
                r = type(e).__name__
            with lock:
                counts[r] = counts.get(r, 0) + 1
    ts = [threading.Thread(target=worker) for _ in range(a.parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(a.out, "w") as f:
        json.dump(counts, f)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("talk")
    t.add_argument("--to", required=True)
    t.add_argument("--src")
    t.add_argument("--send")
    t.add_argument("--shut", action="store_true")
    t.add_argument("--timeout", type=float, default=20)
    h = sub.add_parser("hold")
    h.add_argument("--to", required=True)
    h.add_argument("--src")
    h.add_argument("--send", default="hold")
    h.add_argument("--ready", required=True)
    h.add_argument("--release", required=True)
    h.add_argument("--timeout", type=float, default=30)
    i = sub.add_parser("identd")
    i.add_argument("--listen", required=True)
    i.add_argument("--user")
    i.add_argument("--user-file")
    i.add_argument("--ready")
    f = sub.add_parser("fingerd")
    f.add_argument("--listen", required=True)
    f.add_argument("--reply-file", required=True)
    f.add_argument("--ready")
    fl = sub.add_parser("flood")
    fl.add_argument("--to", required=True)
    fl.add_argument("--src")
    fl.add_argument("--src-spread", help="e.g. 127.1: 127.1.Y.Z per connection")
    fl.add_argument("--send")
    fl.add_argument("--count", type=int, required=True)
    fl.add_argument("--parallel", type=int, default=8)
    fl.add_argument("--out", required=True)
    fl.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    return {"talk": cmd_talk, "hold": cmd_hold, "identd": cmd_identd, "fingerd": cmd_fingerd,
            "flood": cmd_flood}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
