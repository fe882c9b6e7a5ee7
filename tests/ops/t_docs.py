#!/usr/bin/python3
"""t_docs.py WRAPD SRCDIR - every subcommand and every long option that
`wrapd --help` and each subcommand's --help print is documented in the
man pages (man/*.8), as mdoc writes them: a subcommand as "Cm NAME", an
option as "Fl \\-NAME".  The YAML keys are checked against wrapd.yaml(5)
by tests/conf (test_conf_schema).  Exit 0 (all documented) or 1.
"""
import glob
import re
import subprocess
import sys


def help_text(wrapd, *args):
    r = subprocess.run([wrapd, *args, "--help"], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        sys.exit("%s %s --help exited %d" % (wrapd, " ".join(args),
                                              r.returncode))
    return r.stdout


def main():
    wrapd, src = sys.argv[1], sys.argv[2]
    top = help_text(wrapd)
    subs = re.findall(r"^\s+(?:usage: )?wrapd ([a-z]+) ", top, re.M)
    if not {"check", "match", "audit", "import"} <= set(subs):
        sys.exit("wrapd --help lists subcommands %r" % subs)
    man = ""
    for path in sorted(glob.glob(src + "/man/*.8")):
        with open(path, encoding="utf-8") as f:
            man += f.read()
    missing = []
    for sub in subs:
        if not re.search(r"^\.(?:Nm|It Nm) Cm %s\b" % sub, man, re.M) and \
                not re.search(r"^\.Cm %s\b" % sub, man, re.M):
            missing.append("subcommand %s" % sub)
    for where in [()] + [(s,) for s in subs]:
        text = help_text(wrapd, *where)
        for opt in sorted(set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]+)",
                                         text))):
            mdoc = "Fl \\-" + opt.replace("-", "\\-")
            if not re.search(re.escape(mdoc) + r"(?![\w\\])", man):
                missing.append("wrapd %s--%s (want '%s' in man/*.8)" % (
                    where[0] + " " if where else "", opt, mdoc))
    for m in missing:
        print("not documented: " + m)
    print("%d subcommand(s), %d missing" % (len(subs), len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
