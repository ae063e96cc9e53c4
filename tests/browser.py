#!/usr/bin/env python3
"""browser.py -- the browser's part in postie --oauth-authorize's
authorization code grant (RFC 8252 loopback redirect), for the tests.

Python 3 standard library only.

USAGE
    browser.py --cafile CA --stdout FILE [--timeout S]
               [--hostile] [--idle] [--no-answer]

    --stdout FILE  postie's standard output, being written: read (again
                   and again, up to --timeout, default 20 s) until it
                   holds the line "To authorize account 'NAME', open
                   this URL in a browser:" and the URL after it
    --cafile CA    whom to trust for the authorization endpoint (https)
    --hostile      before the real answer, send postie's listener what
                   it must refuse and survive (see below)
    --idle         first open a connection to the listener that never
                   sends anything, and keep it open to the end (what a
                   browser's preconnect does)
    --no-answer    stop after checking the redirect: never bring it to
                   the listener

WHAT IT DOES
    1. GET the authorization URL from the authorization server (the
       test CA verifies it), without following the redirect, and print
           authorize HTTP STATUS
       A 302 must point at the redirect_uri of the URL (http://127.0.0.1:
       PORT/) with that URL's state, and a code or an error: it prints
           redirect code
       or  redirect error=ERROR
       Anything else: a line saying what, exit 1.
    2. With --hostile, each of these on a connection of its own, each
       printed as "NAME HTTP STATUS" (or "NAME closed" when the listener
       closed without an answer):
           wrong-state  the redirect with the state's last character
                        changed
           no-state     the redirect without its state
           twice        the redirect with its code given twice
           post         the redirect as a POST
           path         the redirect with the path /x
           bad-escape   the redirect with "%zz" added to the code
           long         8192 bytes of request line, no end
    3. GET the redirect from the listener and print
           listener HTTP STATUS
           content-type VALUE
           connection VALUE
       then the body's lines as they are.
    Exit 0 when all of that could be done.
"""

import argparse
import http.client
import re
import socket
import ssl
import sys
import time
import urllib.parse

INSTRUCTION = re.compile(r"^To authorize account '.*', open this URL in a "
                         r"browser:$")


def fail(msg):
    sys.stderr.write("browser.py: %s\n" % msg)
    sys.exit(1)


def read_url(path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            lines = []
        for i, line in enumerate(lines[:-1]):
            if INSTRUCTION.match(line) and i + 1 < len(lines) - 1:
                return lines[i + 1]
        time.sleep(0.05)
    fail("no authorization URL in %s within %d s" % (path, timeout))


def authorize(url, cafile):
    u = urllib.parse.urlsplit(url)
    if u.scheme != "https":
        fail("the authorization URL is not https: " + url)
    ctx = ssl.create_default_context(cafile=cafile)
    c = http.client.HTTPSConnection(u.hostname, u.port or 443, context=ctx,
                                    timeout=20)
    c.request("GET", u.path + "?" + u.query)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, r.getheader("Location")


def check_redirect(url, location):
    """The redirect's target, checked against the authorization URL."""
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    want = urllib.parse.urlsplit(q.get("redirect_uri", ""))
    got = urllib.parse.urlsplit(location or "")
    if want.scheme != "http" or want.hostname != "127.0.0.1" or \
            want.path != "/" or want.query or not want.port:
        fail("redirect_uri is not http://127.0.0.1:PORT/: %r" %
             q.get("redirect_uri"))
    if (got.scheme, got.hostname, got.port, got.path) != \
            (want.scheme, want.hostname, want.port, want.path):
        fail("the redirect does not go to the redirect_uri")
    params = urllib.parse.parse_qs(got.query)
    if params.get("state") != [q.get("state")]:
        fail("the redirect does not carry the request's state")
    if "code" in params:
        print("redirect code")
    elif "error" in params:
        print("redirect error=" + params["error"][0])
    else:
        fail("the redirect has neither code nor error")
    return got.port, got.query


def exchange(port, raw):
    """Send raw bytes to the listener; (status or None, head, body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(raw)
    data = b""
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        data += b
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", head)
    return (int(m.group(1)) if m else None), head, body


def get(port, target, method="GET"):
    return exchange(port, ("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                           "Connection: close\r\n\r\n"
                           % (method, target, port)).encode())


def hostile(port, query):
    params = urllib.parse.parse_qsl(query)
    state = dict(params)["state"]
    wrong = state[:-1] + ("A" if state[-1] != "A" else "B")

    def with_params(ps):
        return "/?" + urllib.parse.urlencode(ps)

    tries = [
        ("wrong-state", lambda: get(port, with_params(
            [(k, wrong if k == "state" else v) for k, v in params]))),
        ("no-state", lambda: get(port, with_params(
            [(k, v) for k, v in params if k != "state"]))),
        ("twice", lambda: get(port, with_params(
            params + [(k, v) for k, v in params if k in ("code", "error")]))),
        ("post", lambda: get(port, "/?" + query, "POST")),
        ("path", lambda: get(port, "/x?" + query)),
        ("bad-escape", lambda: get(port, "/?" + query + "%zz")),
        ("long", lambda: exchange(port, b"GET /?" + b"a" * 8186)),
    ]
    for name, run in tries:
        status, head, body = run()
        print("%s %s" % (name, "HTTP %d" % status if status else "closed"))


def main():
    ap = argparse.ArgumentParser(prog="browser.py")
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--stdout", required=True)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--hostile", action="store_true")
    ap.add_argument("--idle", action="store_true")
    ap.add_argument("--no-answer", action="store_true")
    a = ap.parse_args()

    url = read_url(a.stdout, a.timeout)
    status, location = authorize(url, a.cafile)
    print("authorize HTTP %d" % status)
    if status != 302:
        return 1
    port, query = check_redirect(url, location)
    if a.no_answer:
        return 0
    idle = socket.create_connection(("127.0.0.1", port)) if a.idle else None
    if a.hostile:
        hostile(port, query)
    status, head, body = get(port, "/?" + query)
    if idle is not None:
        idle.close()
    print("listener %s" % ("HTTP %d" % status if status else "closed"))
    for line in head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.lower() in ("content-type", "connection"):
            print("%s %s" % (k.lower(), v.strip()))
    sys.stdout.write(body.decode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
