#!/usr/bin/env python3
"""A stand-in for syslogd: bind a unix datagram socket (the test binds it
at /dev/log inside a private mount namespace) and append every datagram,
one per line, to a file.  Writes FILE.ready once listening and exits
after --max-seconds so no test can hang on it."""
import os
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(0.2)
open(out + ".ready", "w").close()
end = time.monotonic() + limit
with open(out, "ab", buffering=0) as f:
    while time.monotonic() < end:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        f.write(data + b"\n")
os.unlink(path)
