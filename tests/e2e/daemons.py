#!/usr/bin/env python3
"""daemons.py - client helpers of the daemon tests (t14..t16).

Every socket operation has a deadline; each subcommand prints one result
line and exits 0 when it could run (the test judges the result).

  ftp-race   --to H:P --victim-src A --third-src B [--denied-ns NS] --file F
      The victim logs in and asks for passive mode; before it connects, a
      third host (another address) and a host in the denied namespace try
      the data port.  Prints "third=N denied=N victim=N": the bytes each got.
  ftp-active --to H:P --src A
      Logs in, sends PORT and EPRT; prints the reply codes "PORT=502 EPRT=502".
  grab       --to H:P [--src A]
      Connects and reads until EOF; prints the bytes got (0 on refusal).
  proxy-send --to H:P --src A --header TEXT
      Sends TEXT (\\r\\n escapes allowed) and reads the first line:
      "data:<line>", "closed" or "reset".
"""
import argparse
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import connect, split_hostport  # noqa: E402  (the shared helpers)


def read_reply(f):
    """One FTP reply (multi-line aware): (code, text)."""
    line = f.readline()
    if not line:
        raise EOFError("closed")
    code = line[:3]
    if line[3:4] == "-":
        while True:
            more = f.readline()
            if not more or (more[:3] == code and more[3:4] == " "):
                break
    return int(code), line.strip()


def cmd(s, f, text):
    s.sendall(text.encode() + b"\r\n")
    return read_reply(f)


def login(to, src):
    s = connect(src, to)
    f = s.makefile("r", encoding="latin-1", newline="\r\n")
    code, _ = read_reply(f)
    if code != 220:
        raise RuntimeError("banner %d" % code)
    cmd(s, f, "USER anonymous")
    code, _ = cmd(s, f, "PASS x@")
    if code != 230:
        raise RuntimeError("login %d" % code)
    cmd(s, f, "TYPE I")
    return s, f


def grab(to, src=None):
    try:
        d = connect(src, to)
    except OSError:
        return 0
    n = 0
    try:
        while True:
            b = d.recv(65536)
            if not b:
                break
            n += len(b)
    except OSError:
        pass
    d.close()
    return n


def cmd_ftp_race(a):
    s, f = login(a.to, a.victim_src)
    code, text = cmd(s, f, "EPSV")
    m = re.search(r"\(\|\|\|(\d+)\|\)", text)
    if code != 229 or not m:
        print("epsv-failed %s" % text)
        return
    host, _ = split_hostport(a.to)
    data = "[%s]:%s" % (host, m.group(1)) if ":" in host else \
        "%s:%s" % (host, m.group(1))
    third = grab(data, a.third_src)
    denied = 0
    if a.denied_ns:
        out = subprocess.run(
            ["timeout", "20", "ip", "netns", "exec", a.denied_ns,
             sys.executable, __file__, "grab", "--to", data],
            capture_output=True, text=True, check=False).stdout.strip()
        denied = int(out) if out.isdigit() else -1
    d = connect(a.victim_src, data)
    s.sendall(("RETR %s\r\n" % a.file).encode())
    n = 0
    while True:
        b = d.recv(65536)
        if not b:
            break
        n += len(b)
    d.close()
    read_reply(f)
    read_reply(f)
    s.close()
    print("third=%d denied=%d victim=%d" % (third, denied, n))


def cmd_ftp_active(a):
    s, f = login(a.to, a.src)
    c1, _ = cmd(s, f, "PORT 127,0,0,1,0,25")
    c2, _ = cmd(s, f, "EPRT |1|127.0.0.1|25|")
    c3, _ = cmd(s, f, "NOOP")
    s.close()
    print("PORT=%d EPRT=%d NOOP=%d" % (c1, c2, c3))


def cmd_grab(a):
    print(grab(a.to, a.src))


def cmd_proxy_send(a):
    header = a.header.encode().decode("unicode_escape").encode("latin-1")
    try:
        s = connect(a.src, a.to)
        s.sendall(header)
        buf = b""
        while b"\n" not in buf:
            b = s.recv(4096)
            if not b:
                break
            buf += b
        print("data:%s" % buf.split(b"\n")[0].decode("latin-1").strip()
              if buf else "closed")
    except ConnectionResetError:
        print("reset")
    except socket.timeout:
        print("timeout")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("ftp-race")
    r.add_argument("--to", required=True)
    r.add_argument("--victim-src", required=True)
    r.add_argument("--third-src", required=True)
    r.add_argument("--denied-ns")
    r.add_argument("--file", required=True)
    ac = sub.add_parser("ftp-active")
    ac.add_argument("--to", required=True)
    ac.add_argument("--src")
    g = sub.add_parser("grab")
    g.add_argument("--to", required=True)
    g.add_argument("--src")
    ps = sub.add_parser("proxy-send")
    ps.add_argument("--to", required=True)
    ps.add_argument("--src")
    ps.add_argument("--header", required=True)
    a = p.parse_args()
    {"ftp-race": cmd_ftp_race, "ftp-active": cmd_ftp_active,
     "grab": cmd_grab, "proxy-send": cmd_proxy_send}[a.cmd](a)


if __name__ == "__main__":
    main()
