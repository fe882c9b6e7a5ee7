#!/usr/bin/python3
"""e2e.py - the small real peers the end-to-end tests put around wrapd.

Run with Debian's python3 (/usr/bin/python3); standard library only.

  freeport                      print a TCP port free on 127.0.0.1 and ::1
  echo     --listen H:P|--unix PATH --log F --ready F [--vanish]
                                echo server; logs "accept PEER" and
                                "data PEER LINE" for each connection
  client   --src A --to H:P --send TEXT [--wait-file F --send2 TEXT]
                                one connection; prints its outcome word:
                                echo | closed | refused | reset | timeout |
                                data:<repr>
  banner   --src A --to H:P     read what the server says first, print
                                "closed" (nothing before EOF) or data:<repr>
  load     --src A --to H:P --count N --parallel K --out F [--stop-file F]
                                up to N echo connections (fewer once the
                                stop file exists); writes "ok=X fail=Y"
  big-server --listen H:P --size N --mode M --report F --ready F
  big-client --src A --to H:P --size N --mode M --report F
                                one connection moving N random bytes each
                                way; M is simul | client-first | backend-first;
                                each side reports byte counts and sha256
  flood    --listen H:P --log F --ready F
                                one connection: write until all buffers are
                                full, log how many bytes the peer's kernel
                                acknowledged, then reset the connection
  drain    --src A --to H:P --wait-file F
                                connect, wait for F, read all: bytes=N end=W
  ftp-hijack --to H:P --victim-src A --attacker-src B --file PATH
                                attacker takes the victim's PASV port first;
                                prints attacker=<bytes> victim=<RETR reply>
  dns      --listen A --log F --ready F --release F
                                UDP DNS server that holds every query until
                                the file F exists, then answers NXDOMAIN
  logcheck FILE [--count N|--min N] [--wait S] [--json] COND...
                                count wrapd's per-connection lines matching
                                every COND (key=value exact, key~regex,
                                key$=suffix); exit 0 when the count is right
Every network operation has a deadline, so a broken wrapd makes a test fail,
never hang.
"""
import argparse
import errno
import hashlib
import json
import os
import random
import re
import select
import socket
import struct
import sys
import threading
import time

DEADLINE = 60.0  # seconds any single network operation may take


def split_hostport(s):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
    else:
        host, _, port = s.rpartition(":")
    return host, int(port)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def connect(src, to, timeout=DEADLINE):
    host, port = split_hostport(to)
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def listen_sock(spec, backlog=128):
    if spec.startswith("unix:"):
        path = spec[5:]
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        # Any user may connect: wrapd may have dropped its privileges.
        os.chmod(path, 0o666)
    else:
        host, port = split_hostport(spec)
        s = socket.socket(family_of(host), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family_of(host) == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
    s.listen(backlog)
    return s


def touch(path):
    if path:
        with open(path + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(path + ".tmp", path)


def peer_text(addr):
    if isinstance(addr, tuple):
        return "%s:%d" % (addr[0], addr[1])
    return "unix"


# ---------------------------------------------------------------- freeport

def cmd_freeport(a):
    rnd = random.SystemRandom()
    for _ in range(200):
        port = rnd.randint(20000, 32000)
        ok = True
        for fam, host in ((socket.AF_INET, "127.0.0.1"),
                          (socket.AF_INET6, "::1"),
                          (socket.AF_INET, "0.0.0.0")):
            s = socket.socket(fam, socket.SOCK_STREAM)
            try:
                s.bind((host, port))
            except OSError:
                ok = False
            finally:
                s.close()
            if not ok:
                break
        if ok:
            print(port)
            return 0
    print("no free port found", file=sys.stderr)
    return 1


# ---------------------------------------------------------------- echo

class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", buffering=1)

    def write(self, line):
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()


def echo_conn(c, peer, log, vanish):
    c.settimeout(DEADLINE)
    first = True
    buf = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            if first:
                buf += d
                if b"\n" in buf or len(buf) > 200:
                    line = buf.split(b"\n", 1)[0]
                    log.write("data %s %s" % (peer, line.decode("ascii", "replace")))
                    first = False
            c.sendall(d)
            if vanish and not first:
                # Go away abruptly (RST) right after the first echo.
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
                log.write("vanish %s" % peer)
                break
    except OSError as e:
        log.write("error %s %s" % (peer, e))
    finally:
        c.close()
        log.write("close %s" % peer)


def cmd_echo(a):
    spec = "unix:" + a.unix if a.unix else a.listen
    s = listen_sock(spec)
    log = Log(a.log)
    touch(a.ready)
    while True:
        c, addr = s.accept()
        peer = peer_text(addr)
        log.write("accept %s" % peer)
        threading.Thread(target=echo_conn, args=(c, peer, log, a.vanish),
                         daemon=True).start()


# ---------------------------------------------------------------- client

def outcome_of_exc(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, ConnectionResetError):
        return "reset"
    return "error:%s" % e


def read_line(s):
    buf = b""
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf


def echo_once(s, text):
    msg = (text + "\n").encode()
    s.sendall(msg)
    got = read_line(s)
    if got == msg:
        return "echo"
    if got == b"":
        return "closed"
    return "data:%r" % got


def cmd_client(a):
    try:
        s = connect(a.src, a.to, a.timeout)
    except OSError as e:
        print(outcome_of_exc(e))
        return 0
    try:
        r = echo_once(s, a.send)
        if r == "echo" and a.wait_file:
            touch(a.ready)
            end = time.monotonic() + a.timeout
            while not os.path.exists(a.wait_file):
                if time.monotonic() > end:
                    print("timeout waiting for %s" % a.wait_file)
                    return 0
                time.sleep(0.05)
            r = echo_once(s, a.send2)
        if r == "echo" and a.expect_eof:
            # Nothing more is sent: how does the stream end, FIN or RST?
            try:
                d = s.recv(4096)
                r = "echo+closed" if d == b"" else "echo+data:%r" % d
            except OSError as e:
                r = "echo+" + outcome_of_exc(e)
        print(r)
    except OSError as e:
        print(outcome_of_exc(e))
    finally:
        s.close()
    return 0


def cmd_banner(a):
    try:
        s = connect(a.src, a.to, a.timeout)
    except OSError as e:
        print(outcome_of_exc(e))
        return 0
    buf = b""
    try:
        while len(buf) < 4096:
            d = s.recv(4096)
            if not d:
                break
            buf += d
            if a.first_line and b"\n" in buf:
                break
        print("data:%r" % buf if buf else "closed")
    except OSError as e:
        print("data:%r" % buf if buf else outcome_of_exc(e))
    finally:
        s.close()
    return 0


# ---------------------------------------------------------------- load

def cmd_load(a):
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "fail": []}

    def worker(wid):
        while True:
            with lock:
                i = state["next"]
                if i >= a.count:
                    return
                if a.stop_file and i >= a.min_count and os.path.exists(a.stop_file):
                    return
                state["next"] += 1
            text = "load %d worker %d" % (i, wid)
            try:
                s = connect(a.src, a.to, a.timeout)
                try:
                    r = echo_once(s, text)
                finally:
                    s.close()
            except OSError as e:
                r = outcome_of_exc(e)
            with lock:
                if r == "echo":
                    state["ok"] += 1
                else:
                    state["fail"].append("%d %s" % (i, r))

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(a.parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(a.out + ".tmp", "w") as f:
        f.write("ok=%d fail=%d\n" % (state["ok"], len(state["fail"])))
        for x in state["fail"]:
            f.write(x + "\n")
    os.rename(a.out + ".tmp", a.out)
    return 0


# ---------------------------------------------------------------- big transfer

CHUNK = 1 << 20
POOL = (32 << 20) + 12345


def big_side(s, size, policy, report):
    """policy: 'first' sends at once; 'after' sends only after the peer's EOF."""
    res = {"sent": 0, "recv": 0, "error": None}
    peer_eof = threading.Event()

    def reader():
        h = hashlib.sha256()
        n = 0
        # One reused buffer: a fresh 1 MiB bytes object per recv() would
        # cost an mmap and page faults each time.
        buf = bytearray(CHUNK)
        mv = memoryview(buf)
        try:
            while True:
                k = s.recv_into(buf)
                if not k:
                    break
                h.update(mv[:k])
                n += k
        except OSError as e:
            res["error"] = "recv: %s" % e
        res["recv"] = n
        res["recv_sha"] = h.hexdigest()
        peer_eof.set()

    t = threading.Thread(target=reader)
    t.start()
    if policy == "after":
        peer_eof.wait()
    # The payload: slices of a 32 MiB random pool at offsets that step by a
    # prime, so no two chunks in a row are alike and a lost, repeated or
    # reordered chunk changes the hash; generating fresh random bytes for
    # each chunk would make Python the bottleneck.
    pool = memoryview(os.urandom(POOL))
    h = hashlib.sha256()
    left = size
    i = 0
    try:
        while left > 0:
            off = (i * 1000003) % (POOL - CHUNK)
            d = pool[off:off + min(CHUNK, left)]
            i += 1
            h.update(d)
            s.sendall(d)
            left -= len(d)
            res["sent"] += len(d)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        res["error"] = "send: %s" % e
    res["sent_sha"] = h.hexdigest()
    t.join()
    s.close()
    with open(report + ".tmp", "w") as f:
        json.dump(res, f)
    os.rename(report + ".tmp", report)


POLICY = {
    # mode: (client policy, backend policy)
    "simul": ("first", "first"),
    "client-first": ("first", "after"),
    "backend-first": ("after", "first"),
}


def cmd_big_server(a):
    s = listen_sock(a.listen)
    touch(a.ready)
    c, _ = s.accept()
    c.settimeout(DEADLINE * 5)
    s.close()
    big_side(c, a.size, POLICY[a.mode][1], a.report)
    return 0


def cmd_big_client(a):
    s = connect(a.src, a.to, DEADLINE * 5)
    big_side(s, a.size, POLICY[a.mode][0], a.report)
    return 0


# ---------------------------------------------------------------- flood / reset

SIOCOUTQ = 0x5411      # TIOCOUTQ: bytes not yet acknowledged by the peer
SIOCOUTQNSD = 0x894B   # bytes not yet sent


def ioctl_int(sock, req):
    import fcntl
    buf = fcntl.ioctl(sock.fileno(), req, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


def cmd_flood(a):
    """Accept one connection, write until every buffer on the way is full
    (the reader does not read), wait until nothing is in flight, note how
    many bytes the peer's kernel acknowledged, then close with a reset."""
    s = listen_sock(a.listen)
    log = Log(a.log)
    touch(a.ready)
    c, addr = s.accept()
    s.close()
    log.write("accept %s" % peer_text(addr))
    c.setblocking(False)
    block = os.urandom(65536)
    written = 0
    stalls = 0
    end = time.monotonic() + DEADLINE
    # Fill: keep writing until the send buffer stays full for a while.
    while stalls < 20 and time.monotonic() < end:
        try:
            written += c.send(block)
            stalls = 0
        except BlockingIOError:
            stalls += 1
            select.select([], [c], [], 0.05)
    # Quiesce: everything sent has been acknowledged (nothing in flight).
    while time.monotonic() < end:
        if ioctl_int(c, SIOCOUTQ) == ioctl_int(c, SIOCOUTQNSD):
            break
        time.sleep(0.01)
    acked = written - ioctl_int(c, SIOCOUTQ)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    log.write("reset written=%d acked=%d" % (written, acked))
    return 0


def cmd_drain(a):
    """Connect, wait for a file, then read everything: bytes=N end=WHY."""
    try:
        s = connect(a.src, a.to, a.timeout)
    except OSError as e:
        print("bytes=0 end=%s" % outcome_of_exc(e))
        return 0
    touch(a.ready)
    end = time.monotonic() + a.timeout
    while not os.path.exists(a.wait_file):
        if time.monotonic() > end:
            print("bytes=0 end=timeout-waiting")
            return 0
        time.sleep(0.05)
    n = 0
    why = "closed"
    buf = bytearray(1 << 20)
    try:
        while True:
            k = s.recv_into(buf)
            if not k:
                break
            n += k
    except OSError as e:
        why = outcome_of_exc(e)
    print("bytes=%d end=%s" % (n, why))
    return 0


# ---------------------------------------------------------------- ftp

def cmd_ftp_hijack(a):
    """The FTP data-port hijack of a proxied vsftpd (legacy-daemons.md):
    the victim asks for a passive port; the attacker connects to it first;
    the victim then asks for a file.  Prints attacker=<bytes it got>
    victim=<reply to RETR>."""
    import ftplib
    host, port = split_hostport(a.to)
    f = ftplib.FTP(timeout=a.timeout)
    f.connect(host, port, source_address=(a.victim_src, 0))
    f.login()
    f.voidcmd("TYPE I")
    resp = f.sendcmd("PASV")
    m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", resp)
    dport = int(m.group(5)) * 256 + int(m.group(6))
    att = socket.socket()
    att.settimeout(a.timeout)
    att.bind((a.attacker_src, 0))
    got = b""
    try:
        att.connect((host, dport))
        # The victim's RETR goes out while the attacker holds the port.
        f.putcmd("RETR " + a.file)
        reply = f.getresp()
        try:
            while True:
                d = att.recv(65536)
                if not d:
                    break
                got += d
        except OSError:
            pass
    except ftplib.Error as e:
        reply = str(e)
    except OSError as e:
        reply = "attacker connect: %s" % e
    finally:
        att.close()
    try:
        f.close()
    except OSError:
        pass
    print("attacker=%d victim=%s" % (len(got), reply.split()[0] if reply else "-"))
    return 0


# ---------------------------------------------------------------- dns

def dns_qname(pkt):
    labels, i = [], 12
    while i < len(pkt) and pkt[i] != 0:
        n = pkt[i]
        labels.append(pkt[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels), i + 5  # end of the question (name, type, class)


def dns_nxdomain(pkt):
    name, qend = dns_qname(pkt)
    flags = struct.unpack("!H", pkt[2:4])[0]
    rflags = 0x8000 | (flags & 0x7900) | 0x0080 | 3  # QR, opcode+RD, RA, NXDOMAIN
    return pkt[0:2] + struct.pack("!HHHHH", rflags, 1, 0, 0, 0) + pkt[12:qend]


def cmd_dns(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.listen, 53))
    log = Log(a.log)
    touch(a.ready)
    held = []
    while True:
        r, _, _ = select.select([s], [], [], 0.05)
        released = os.path.exists(a.release)
        if r:
            pkt, peer = s.recvfrom(4096)
            if len(pkt) < 12:
                continue
            name, _ = dns_qname(pkt)
            log.write("query %s" % name)
            held.append((pkt, peer))
        if released:
            for pkt, peer in held:
                s.sendto(dns_nxdomain(pkt), peer)
                log.write("answered %s" % dns_qname(pkt)[0])
            held = []


# ---------------------------------------------------------------- logcheck

KV = re.compile(r'([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_line(line, want_json):
    """A dict for a per-connection line (one with a verdict), else None."""
    if want_json:
        i = line.find("{")
        if i < 0:
            return None
        try:
            d = json.loads(line[i:])
        except ValueError:
            return None
        if not isinstance(d, dict) or "verdict" not in d:
            return None
        d = {k: ("" if v is None else str(v)) for k, v in d.items()}
        d["_line"] = line
        return d
    d = {}
    for k, v in KV.findall(line):
        if v.startswith('"'):
            v = bytes(v[1:-1], "utf-8").decode("unicode_escape")
        d[k] = v
    d["_line"] = line
    return d if "verdict" in d else None


def client_addr(v):
    """'127.0.0.2:5555' / '[::1]:5555' / '::1' -> bare address."""
    m = re.match(r"^\[([^\]]+)\](?::\d+)?$", v)
    if m:
        v = m.group(1)
    elif v.count(":") == 1:
        v = v.split(":")[0]
    if v.lower().startswith("::ffff:") and "." in v:
        v = v[7:]
    return v


def cond_ok(d, cond):
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_.-]*)(=|~|\$=)(.*)$", cond)
    if not m:
        raise SystemExit("bad condition %r" % cond)
    key, op, want = m.groups()
    if key not in d:
        return False
    v = d[key]
    if key == "client" and op == "=":
        v = client_addr(v)
    if op == "=":
        return v == want
    if op == "~":
        return re.search(want, v) is not None
    return v.endswith(want)


def cmd_logcheck(a):
    end = time.monotonic() + a.wait
    while True:
        try:
            with open(a.file, errors="replace") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            lines = []
        recs = [(l, parse_line(l, a.json)) for l in lines]
        recs = [(l, d) for l, d in recs if d is not None]
        hits = [l for l, d in recs if all(cond_ok(d, c) for c in a.cond)]
        if a.count is not None:
            good = len(hits) == a.count
        else:
            good = len(hits) >= a.min
        if good or time.monotonic() >= end:
            break
        time.sleep(0.1)
    if a.json and a.strict_json:
        bad = [l for l in lines if "{" in l and parse_line(l, True) is None
               and '"verdict"' in l]
        if bad:
            print("logcheck: unparsable JSON lines:\n  " + "\n  ".join(bad))
            return 1
    if good:
        return 0
    want = ("exactly %d" % a.count) if a.count is not None else ("at least %d" % a.min)
    print("logcheck: %s: want %s line(s) with %s, found %d" %
          (a.file, want, " ".join(a.cond), len(hits)))
    print("  per-connection lines seen:")
    for l, _ in recs:
        print("    " + l)
    if not recs:
        print("    (none; whole log follows)")
        for l in lines[-40:]:
            print("    " + l)
    return 1


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)

    sub.add_parser("freeport")

    e = sub.add_parser("echo")
    e.add_argument("--listen")
    e.add_argument("--unix")
    e.add_argument("--log", required=True)
    e.add_argument("--ready")
    e.add_argument("--vanish", action="store_true")

    for name in ("client", "banner", "load", "big-client"):
        c = sub.add_parser(name)
        c.add_argument("--src", default=None)
        c.add_argument("--to", required=True)
        c.add_argument("--timeout", type=float, default=DEADLINE)
        if name == "client":
            c.add_argument("--send", default="hello")
            c.add_argument("--wait-file")
            c.add_argument("--ready")
            c.add_argument("--send2", default="again")
            c.add_argument("--expect-eof", action="store_true",
                           help="after the echo, read on: echo+closed "
                           "or echo+reset")
        if name == "banner":
            c.add_argument("--first-line", action="store_true")
        if name == "load":
            c.add_argument("--count", type=int, required=True)
            c.add_argument("--parallel", type=int, default=2)
            c.add_argument("--out", required=True)
            c.add_argument("--stop-file", help="stop early once it exists")
            c.add_argument("--min-count", type=int, default=0,
                           help="connections made even if --stop-file exists")
        if name == "big-client":
            c.add_argument("--size", type=int, required=True)
            c.add_argument("--mode", choices=POLICY, required=True)
            c.add_argument("--report", required=True)

    b = sub.add_parser("big-server")
    b.add_argument("--listen", required=True)
    b.add_argument("--size", type=int, required=True)
    b.add_argument("--mode", choices=POLICY, required=True)
    b.add_argument("--report", required=True)
    b.add_argument("--ready")

    f = sub.add_parser("flood")
    f.add_argument("--listen", required=True)
    f.add_argument("--log", required=True)
    f.add_argument("--ready")

    r = sub.add_parser("drain")
    r.add_argument("--src", default=None)
    r.add_argument("--to", required=True)
    r.add_argument("--timeout", type=float, default=DEADLINE)
    r.add_argument("--wait-file", required=True)
    r.add_argument("--ready")

    h = sub.add_parser("ftp-hijack")
    h.add_argument("--to", required=True)
    h.add_argument("--victim-src", required=True)
    h.add_argument("--attacker-src", required=True)
    h.add_argument("--file", required=True)
    h.add_argument("--timeout", type=float, default=30)

    d = sub.add_parser("dns")
    d.add_argument("--listen", required=True)
    d.add_argument("--log", required=True)
    d.add_argument("--ready")
    d.add_argument("--release", required=True)

    l = sub.add_parser("logcheck")
    l.add_argument("file")
    l.add_argument("cond", nargs="+")
    l.add_argument("--count", type=int)
    l.add_argument("--min", type=int, default=1)
    l.add_argument("--wait", type=float, default=0)
    l.add_argument("--json", action="store_true")
    l.add_argument("--strict-json", action="store_true")

    a = p.parse_args()
    f = {
        "freeport": cmd_freeport, "echo": cmd_echo, "client": cmd_client,
        "banner": cmd_banner, "load": cmd_load, "big-server": cmd_big_server,
        "big-client": cmd_big_client, "dns": cmd_dns, "logcheck": cmd_logcheck,
        "flood": cmd_flood, "drain": cmd_drain, "ftp-hijack": cmd_ftp_hijack,
    }[a.cmd]
    return f(a) or 0


if __name__ == "__main__":
    sys.exit(main())
