#!/usr/bin/env python3
"""fakehttps.py -- a scripted HTTPS server for tests/http.bats.

    fakehttps.py --dir DIR --cert PEM --key KEY --mode MODE
                 [--connections N] [--max-seconds S]

Listens on 127.0.0.1, an ephemeral port, written to DIR/port once it
listens.  Serves N connections (default 1) one after the other, then
exits; always exits after --max-seconds (default 20).  For each
connection it reads the request head and as many body bytes as its
Content-Length says, records them in DIR/request-K (exact bytes), and
answers as MODE says:

  length    200, Content-Type: application/json, Content-Length
  chunked   200, chunked in three chunks (an extension, a trailer)
  continue  100 Continue, then what length sends
  echo      200 with the request (head and body) as the body
  stall     nothing: holds the connection open until the client leaves
  cut       Content-Length: 100 and 10 bytes, then closes
  big       Content-Length: 70000 and that many bytes
  badstatus "HTTP/1.1 OK" as the status line
  eof       HTTP/1.0, no length: the body ends with the connection, which
            ends with a TLS close_notify
  eof-cut   the same without the close_notify (a bare close)

A handshake that fails (the client refused the certificate) is noted in
DIR/log and the next connection is waited for.
"""

import argparse
import os
import socket
import ssl
import sys
import time

TOKEN = b'{"access_token":"tok-123","expires_in":3599}'


def read_request(conn, deadline):
    data = b""
    while b"\r\n\r\n" not in data:
        if time.monotonic() > deadline or len(data) > 65536:
            return data
        chunk = conn.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length and time.monotonic() < deadline:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def answer(mode, request):
    if mode in ("length", "continue"):
        r = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             b"Content-Length: %d\r\nConnection: close\r\n\r\n"
             % len(TOKEN) + TOKEN)
        if mode == "continue":
            r = b"HTTP/1.1 100 Continue\r\n\r\n" + r
        return r
    if mode == "chunked":
        parts = [TOKEN[:10], TOKEN[10:30], TOKEN[30:]]
        r = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n")
        for i, p in enumerate(parts):
            ext = b";name=value" if i == 1 else b""
            r += b"%x%s\r\n%s\r\n" % (len(p), ext, p)
        return r + b"0\r\nX-Trailer: yes\r\n\r\n"
    if mode == "echo":
        return (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                % len(request) + request)
    if mode == "cut":
        return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"
    if mode == "big":
        return (b"HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n"
                + b"x" * 70000)
    if mode in ("eof", "eof-cut"):
        return b"HTTP/1.0 200 OK\r\n\r\n" + TOKEN
    if mode == "badstatus":
        return b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n"
    return None


def serve_one(ctx, lsock, args, k, deadline, log):
    raw, _ = lsock.accept()
    raw.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as e:
        log.write("conn %d: handshake failed: %s\n" % (k, e))
        raw.close()
        return
    try:
        request = read_request(conn, deadline)
        with open(os.path.join(args.dir, "request-%d" % k), "wb") as f:
            f.write(request)
        reply = answer(args.mode, request)
        if reply is None:       # stall: until the client goes away
            while time.monotonic() < deadline:
                if not conn.recv(4096):
                    break
        else:
            conn.sendall(reply)
            if args.mode == "eof":
                conn = conn.unwrap()    # close_notify, and the client's
    except (ssl.SSLError, OSError) as e:
        log.write("conn %d: %s\n" % (k, e))
    finally:
        conn.close()
        log.write("conn %d: done\n" % k)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--mode", default="length")
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=20)
    args = ap.parse_args()
    deadline = time.monotonic() + args.max_seconds

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    lsock.settimeout(args.max_seconds)
    tmp = os.path.join(args.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(tmp, os.path.join(args.dir, "port"))
    with open(os.path.join(args.dir, "log"), "a", buffering=1) as log:
        for k in range(1, args.connections + 1):
            try:
                serve_one(ctx, lsock, args, k, deadline, log)
            except socket.timeout:
                log.write("no connection %d\n" % k)
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
