#!/usr/bin/env python3
"""mailcheck.py -- check a message delivered by the tests' Postfix.

usage: mailcheck.py FILE [--body BODYFILE] [--header 'Name: value']...
                        [--no-header Name]... [--addrs Name=a@x,b@y]...
                        [--return-path ADDR] [--delivered-to ADDR]

FILE is a Maildir file as virtual(8) wrote it (LF line ends, Postfix's
Return-Path, X-Original-To, Delivered-To and Received on top).  Always
checked, as the real-caller tests require of every message:
  - exactly one Date and one Message-ID header;
  - no Bcc or Resent-Bcc header arrived (the tests' Postfix prepends
    X-Postie-Test-Saw-Bcc when one did: cleanup(8) would drop it);
  - every address in From, Sender, Reply-To, To and Cc (and their
    Resent- forms) has a domain: no bare name is left.
Options:
  --body F          the body (after the first empty line) equals F's bytes
  --header 'N: v'   a header N whose unfolded value is v exists
  --no-header N     no header N exists
  --addrs N=list    the addresses of header N are exactly these (any order)
  --return-path A   Postfix's Return-Path is <A> (the envelope sender)
  --delivered-to A  Postfix's Delivered-To is A (the envelope recipient)
Exit 0 when all hold; else 1 with one line per failed check.
"""
import email.utils
import sys

ADDR_FIELDS = ["from", "sender", "reply-to", "to", "cc",
               "resent-from", "resent-sender", "resent-to", "resent-cc"]


def parse(data):
    head, sep, body = data.partition(b"\n\n")
    if not sep:
        head, body = data, b""
    fields = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += b"\n" + line
            continue
        name, _, value = line.partition(b":")
        fields.append([name.decode("utf-8", "replace"), value])
    return fields, body


def unfold(value):
    return value.replace(b"\n", b"").decode("utf-8", "replace").strip()


def values(fields, name):
    return [unfold(v) for n, v in fields if n.lower() == name.lower()]


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    data = open(argv[1], "rb").read()
    fields, body = parse(data)
    errors = []
    for name in ("Date", "Message-ID"):
        n = len(values(fields, name))
        if n != 1:
            errors.append("%d %s headers (want exactly 1)" % (n, name))
    for name in ("Bcc", "Resent-Bcc", "X-Postie-Test-Saw-Bcc"):
        if values(fields, name):
            errors.append("a %s header arrived: %r"
                          % (name, values(fields, name)))
    for name in ADDR_FIELDS:
        for v in values(fields, name):
            for _, a in email.utils.getaddresses([v]):
                if a and "@" not in a:
                    errors.append("bare name %r in %s: %r" % (a, name, v))
    args = argv[2:]
    while args:
        opt = args.pop(0)
        if not args:
            errors.append("option %s needs a value" % opt)
            break
        arg = args.pop(0)
        if opt == "--body":
            want = open(arg, "rb").read()
            if body != want:
                errors.append("body differs: want %r, got %r"
                              % (want[:300], body[:300]))
        elif opt == "--header":
            name, _, want = arg.partition(":")
            got = values(fields, name)
            if want.strip() not in got:
                errors.append("no %s: %r (have %r)" % (name, want.strip(), got))
        elif opt == "--no-header":
            if values(fields, arg):
                errors.append("unexpected %s: %r" % (arg, values(fields, arg)))
        elif opt == "--addrs":
            name, _, want = arg.partition("=")
            want_set = sorted(a for a in want.split(",") if a)
            got = []
            for v in values(fields, name):
                got += [a for _, a in email.utils.getaddresses([v]) if a]
            if sorted(got) != want_set:
                errors.append("%s addresses %r, want %r"
                              % (name, sorted(got), want_set))
        elif opt == "--return-path":
            got = values(fields, "Return-Path")
            if got[:1] != ["<%s>" % arg]:
                errors.append("Return-Path %r, want <%s>" % (got, arg))
        elif opt == "--delivered-to":
            got = values(fields, "Delivered-To")
            if got[:1] != [arg]:
                errors.append("Delivered-To %r, want %s" % (got, arg))
        else:
            errors.append("unknown option %s" % opt)
    for e in errors:
        print("mailcheck: %s: %s" % (argv[1], e))
    if errors:
        print("mailcheck: header was:")
        sys.stdout.write(data.partition(b"\n\n")[0].decode("utf-8", "replace"))
        print()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
