#!/usr/bin/env bash
# The environment of a program wrapd execs per connection, with hostile
# facts: in a private network namespace the client's ident server (act.py)
# answers with shell syntax, escapes and 8-bit bytes, and the namespace's
# /etc/hosts gives the client a name full of metacharacters.  The program
# is /usr/bin/env, writing its environment to the client: REMOTE_IDENT and
# REMOTE_HOST must be exactly what %u and %n give a command (cut and
# sanitised), never the raw bytes.
#   run: bash tests/actions/t_exec_env.sh WRAPD SRCDIR
. "${2:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
ACT="$SRCDIR/tests/actions/act.py"
e2e_require_root_netns

e2e_netns
NS=$E2E_NS
NAME='evil;touch${IFS}x;$(id)|`id`&h>y'
mkdir -p "/etc/netns/$NS"
printf '127.0.0.1 localhost\n127.0.0.2 %s\n' "$NAME" >"/etc/netns/$NS/hosts"
printf 'nameserver 127.0.0.1\n' >"/etc/netns/$NS/resolv.conf"
# One word (ident ends the user at a blank or a newline): command
# substitution, backticks, ;|&<>, quotes, a terminal escape, DEL, 8-bit.
"$PY" -c 'import sys; sys.stdout.buffer.write(b"u;$(touch${IFS}/tmp/x)`id`|&<>\x27\"\\\x1b]0;owned\x07\x7f\xff" + b"A" * 200)' \
	>"$W/ident-user"

e2e_write "$W/hosts.allow" <<EOF
envd: ALL: rfc931 : setenv WANT_NAME %n
EOF
e2e_write "$W/hosts.deny" </dev/null
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
services:
  - { name: env, daemon: envd, listen: ["127.0.0.1:9301"], exec: ["/usr/bin/env"] }
EOF
e2e_bg identd ip netns exec "$NS" "$PY" "$ACT" identd \
	--listen 127.0.0.2:113 --user-file "$W/ident-user" --ready "$W/identd.ready"
e2e_wait_file "$W/identd.ready" "$E2E_LAST_PID"
e2e_bg wrapd ip netns exec "$NS" "$WRAPD" --config "$W/wrapd.yaml"
e2e_wait_listen 9301 "$NS" "$E2E_LAST_PID"

ip netns exec "$NS" "$PY" "$ACT" talk --src 127.0.0.2 --to 127.0.0.1:9301 \
	>"$W/env.out"
e2e_logcheck "$W/wrapd.err" service=env verdict=grant
# What %u / %n give: the first 127 bytes, then every byte outside
# [0-9A-Za-z!@%-_=+:,./] replaced by "_".
"$PY" - "$W/env.out" "$W/ident-user" "$NAME" <<'EOF' || e2e_fail "exec environment"
import ast, re, sys
env = ast.literal_eval(open(sys.argv[1]).read())
user = open(sys.argv[2], "rb").read()
name = sys.argv[3].encode()
def sanitise(b):
    return re.sub(rb"[^0-9A-Za-z!@%\-_=+:,./]", b"_", b[:127])
got = dict(l.split(b"=", 1) for l in env.split(b"\n") if b"=" in l)
ok = True
for var, raw in ((b"REMOTE_IDENT", user), (b"REMOTE_HOST", name)):
    want = sanitise(raw)
    if got.get(var) != want:
        print("%s: got %r, want %r" % (var.decode(), got.get(var), want))
        ok = False
if got.get(b"WANT_NAME") != got.get(b"REMOTE_HOST"):
    print("REMOTE_HOST %r differs from %%n %r"
          % (got.get(b"REMOTE_HOST"), got.get(b"WANT_NAME")))
    ok = False
for l in env.split(b"\n"):
    if re.search(rb"[\x00-\x1f\x7f-\xff`$;|&<>]", l.partition(b"=")[2]) and \
            l.startswith((b"REMOTE_", b"WANT_")):
        print("unsafe byte in %r" % l)
        ok = False
sys.exit(0 if ok else 1)
EOF
e2e_log "ok: REMOTE_IDENT and REMOTE_HOST sanitised as %u and %n"
exit 0
