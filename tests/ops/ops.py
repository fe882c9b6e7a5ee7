#!/usr/bin/python3
"""ops.py - helpers of the tests of wrapd's admin tools (audit, import).

Run with Debian's python3; standard library only.

  listen --proto tcp|udp --addr A --port P --comm NAME --ready F
        bind (and for TCP listen) on A:P with the process name NAME (a
        Python escape string, so any byte can be named: '\\x1b[31m'),
        touch F, then sleep until killed (at most 10 minutes).
  finger --src A --to H:P
        send an RFC 1288 query (an empty line) from A, print the reply
        ("reply:" and its first line), "closed", "reset" or "refused";
        every step has a 20 s deadline.
  notify --socket PATH --out FILE
        an sd_notify socket: bind a datagram socket at PATH, append each
        message received to FILE (one per line), for at most 10 minutes.
  audit-json FILE CHECK...
        parse FILE (wrapd audit --json) and check each CHECK, written as
        proto:port:field=value (value true/false/null, a number or text;
        field process.name and process.pid reach into the object);
        exit 0 when all hold, else print what differs and exit 1.
"""
import json
import os
import socket
import sys
import time


def cmd_listen(args):
    opts = dict(zip(args[0::2], args[1::2]))
    name = opts["--comm"].encode("latin-1").decode("unicode_escape")
    with open("/proc/self/comm", "wb") as f:
        f.write(name.encode("latin-1")[:15])
    fam = socket.AF_INET6 if ":" in opts["--addr"] else socket.AF_INET
    kind = socket.SOCK_STREAM if opts["--proto"] == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((opts["--addr"], int(opts["--port"])))
    if kind == socket.SOCK_STREAM:
        s.listen(8)
    open(opts["--ready"], "w").close()
    time.sleep(600)


def cmd_finger(args):
    opts = dict(zip(args[0::2], args[1::2]))
    host, _, port = opts["--to"].rpartition(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    s.bind((opts["--src"], 0))
    try:
        s.connect((host, int(port)))
        s.sendall(b"\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionRefusedError:
        print("refused")
        return 0
    except ConnectionResetError:
        print("reset" if not data else "reply:" + repr(data))
        return 0
    print("reply:" + data.decode("latin-1").splitlines()[0] if data
          else "closed")
    return 0


def cmd_notify(args):
    opts = dict(zip(args[0::2], args[1::2]))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(opts["--socket"])
    s.settimeout(600)
    with open(opts["--out"], "a") as out:
        while True:
            try:
                msg = s.recv(4096)
            except socket.timeout:
                return 0
            out.write(msg.decode("utf-8", "replace").replace("\n", " ")
                      + "\n")
            out.flush()


def lookup(row, field):
    v = row
    for part in field.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return v


def want_value(text):
    if text in ("true", "false", "null"):
        return json.loads(text)
    try:
        return int(text)
    except ValueError:
        return text


def cmd_audit_json(args):
    with open(args[0], "rb") as f:
        rows = json.loads(f.read().decode("utf-8"))
    assert isinstance(rows, list), "not a list"
    bad = 0
    for check in args[1:]:
        where, _, cond = check.partition("=")
        proto, port, field = where.split(":", 2)
        want = want_value(cond)
        hits = [r for r in rows
                if r["proto"] == proto and r["port"] == int(port)]
        if not hits:
            print("no %s row for port %s" % (proto, port))
            bad += 1
            continue
        for r in hits:
            got = lookup(r, field)
            if got != want:
                print("%s: got %r, want %r in %s" % (check, got, want, r))
                bad += 1
    for r in rows:
        for k in ("proto", "address", "port", "process", "exposed",
                  "wrapped"):
            if k not in r:
                print("row without %s: %r" % (k, r))
                bad += 1
    return 1 if bad else 0


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "listen":
        return cmd_listen(args)
    if cmd == "notify":
        return cmd_notify(args)
    if cmd == "finger":
        return cmd_finger(args)
    if cmd == "audit-json":
        return cmd_audit_json(args)
    print("unknown command " + cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main() or 0)
