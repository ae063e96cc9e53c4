#!/usr/bin/env python3
"""make bench: how fast postie moves a large message, how much memory it
needs and how many system calls it makes per MiB.  Not a test: it prints
figures.  Usage: bench.py POSTIE [MIB ...]  (default sizes: 16 256 1024)

The sink is a minimal SMTP server that discards the content with large
reads (a separate process, so it does not share postie's core budget for
long).  Each size runs postie twice: once for time and peak RSS
(getrusage of the child), once under strace -c for write/read counts
when strace is installed."""
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def sink(port_file):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    while True:
        conn, _ = srv.accept()
        serve(conn)


def serve(conn):
    conn.sendall(b"220 sink ESMTP\r\n")
    buf = b""
    in_data = False
    while True:
        chunk = conn.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
        while True:
            if in_data:
                end = buf.find(b"\r\n.\r\n")
                if end < 0:
                    buf = buf[-4:]
                    break
                buf = buf[end + 5:]
                in_data = False
                conn.sendall(b"250 2.0.0 ok\r\n")
                continue
            nl = buf.find(b"\r\n")
            if nl < 0:
                break
            line, buf = buf[:nl], buf[nl + 2:]
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.sendall(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go\r\n")
                in_data = True
                buf = b"\r\n" + buf  # so a dot first line still matches
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                conn.close()
                return
            else:
                conn.sendall(b"250 ok\r\n")
    conn.close()


def make_message(path, mib):
    line = (b"The quick brown fox jumps over the lazy dog; " * 2)[:76]
    block = bytearray()
    block += b"Subject: bench\nTo: sink@example.org\n\n"
    while len(block) < 1 << 20:
        block += line + b"\n"
        block += b".a line that needs dot-stuffing\n"
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(block[: 1 << 20])


def run(postie, config, msg, strace=False):
    cmd = [postie, "-C", config, "sink@example.org"]
    if strace:
        out = msg + ".strace"
        cmd = ["strace", "-f", "-c", "-o", out, "-e",
               "trace=read,write,sendto,recvfrom,poll"] + cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(msg, "rb") as stdin:
        rc = subprocess.run(cmd, stdin=stdin).returncode
    elapsed = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return rc, elapsed, after.ru_maxrss, after.ru_utime - before.ru_utime, \
        after.ru_stime - before.ru_stime


def syscalls(path):
    counts = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and parts[-1] in (
                    "read", "write", "sendto", "recvfrom", "poll"):
                counts[parts[-1]] = int(parts[3])
    return counts


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--sink":
        sink(sys.argv[2])
        return
    postie = sys.argv[1]
    sizes = [int(x) for x in sys.argv[2:]] or [16, 256, 1024]
    tmp = tempfile.mkdtemp(prefix="postie-bench-")
    port_file = os.path.join(tmp, "port")
    server = subprocess.Popen([sys.executable, __file__, "--sink", port_file])
    try:
        while not os.path.exists(port_file):
            time.sleep(0.05)
        port = open(port_file).read()
        config = os.path.join(tmp, "config")
        with open(config, "w") as f:
            f.write("account default\nhost 127.0.0.1\nport %s\n"
                    "from bench@example.org\ndomain bench.example.org\n"
                    "syslog off\n" % port)
        os.chmod(config, 0o600)
        print("%8s %9s %9s %10s %8s %8s  %s" % (
            "MiB", "seconds", "MiB/s", "maxRSS KiB", "user s", "sys s",
            "syscalls (per MiB)"))
        for mib in sizes:
            msg = os.path.join(tmp, "msg")
            make_message(msg, mib)
            rc, el, rss, ut, st = run(postie, config, msg)
            if rc != 0:
                print("postie exited %d" % rc)
                sys.exit(1)
            calls = ""
            if shutil.which("strace"):
                run(postie, config, msg, strace=True)
                c = syscalls(msg + ".strace")
                calls = " ".join("%s=%d(%.1f)" % (k, v, v / mib)
                                 for k, v in sorted(c.items()))
            print("%8d %9.2f %9.1f %10d %8.2f %8.2f  %s" % (
                mib, el, mib / el, rss, ut, st, calls))
            os.unlink(msg)
    finally:
        server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
