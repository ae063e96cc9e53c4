#!/usr/bin/env python3
"""fakesmtp.py -- a scriptable fake SMTP/LMTP server for postie's tests.

Python 3 standard library only.  It listens on loopback (or a unix
socket), serves a number of connections one after the other, records every
byte the client sends, and answers as a scenario file tells it to.  With no
scenario it is a well-behaved server that accepts everything.

USAGE
    fakesmtp.py --dir DIR [--scenario FILE] [--listen ADDR] [--port N]
                [--unix PATH] [--port-file FILE] [--connections N]
                [--max-seconds S] [--lmtp]
                [--tls-cert PEM --tls-key KEY] [--tls-wrap]
                [--tls-client-ca PEM] [--tls-max 1.2]
                [--tls-lib ssl|pyopenssl] [--tls-choke-on-resumption]

    --dir DIR         where every record is written (created if missing)
    --scenario FILE   the scenario (format below); default: accept all
    --listen ADDR     127.0.0.1 (default) or ::1
    --port N          0 (default): an ephemeral port
    --unix PATH       listen on a unix socket instead of TCP
    --port-file FILE  default DIR/port; written (atomically) once the
                      server listens: the port number, or the socket path
    --connections N   serve N connections, then exit 0 (default 1; 0 means
                      until the lifetime ends)
    --max-seconds S   overall lifetime (default 30): whatever state it is
                      in, the server then exits 3, so a stuck test never
                      hangs the suite
    --lmtp            LMTP mode (also the `lmtp` scenario directive)
    --tls-cert PEM    server certificate (chain) for TLS; with it the
    --tls-key KEY     plaintext EHLO offers STARTTLS and STARTTLS answers
                      220 and does the handshake (Python's ssl module)
    --tls-wrap        implicit TLS: the handshake comes before the greeting
    --tls-client-ca PEM  ask for a client certificate and verify it with
                      this CA (SASL EXTERNAL accepts a verified one)
    --tls-max 1.2     highest TLS version (1.2: tls-unique channel binding)
    --tls-lib LIB     "ssl" (default): Python's ssl module, which gives
                      tls-unique on TLS 1.2 only; "pyopenssl": pyOpenSSL
                      (Debian python3-openssl), which also exports the
                      TLS 1.3 keying material for tls-exporter (RFC 9266),
                      so SCRAM-*-PLUS is offered on TLS 1.3 too
    --tls-choke-on-resumption  (with --tls-lib pyopenssl) a full handshake
                      works, a resumed one fails with an internal_error
                      alert: a server misconfigured in OpenSSL's way

RECORDS (in DIR; N counts connections from 1, M counts messages from 1)
    port            the port (or unix socket path), once listening
    log             what the server did, one event a line (for humans)
    conn-N.raw      every byte the client sent on connection N, exactly
    conn-N.recv     one line per recv() call: the bytes that call returned,
                    escaped (see ESCAPES).  "MAIL, RCPT and DATA arrived in
                    one write" shows as one line holding all three.  This
                    is a heuristic: TCP keeps no write boundaries, but on
                    loopback one write() of a small group arrives as one
                    recv(), and separate writes separated by a wait for a
                    reply can never share a line.  A client that writes a
                    group in pieces without waiting usually, not always,
                    shows several lines.
    conn-N.cmds     one line per command (not the message content), the
                    line as received minus its CRLF, control bytes escaped
    conn-N.sent     every byte the server sent on connection N
    conn-N.done     created when connection N has ended
    conn-N.peer     the client's address and port ("127.0.0.2 40312"), or
                    "unix" on a unix socket
    conn-N.tls      one line per command line (AUTH responses included):
                    "T " when it arrived inside TLS, "P " in plaintext,
                    then the line as in conn-N.cmds
    conn-N.clear    every byte the client sent before TLS started (all
                    of them on a plaintext connection): what an observer
                    on the wire could read
    conn-N.tlsinfo  after a handshake: version, cipher, "client-cert
                    SUBJECT" when the client sent a verified certificate,
                    and "resumed" when the client resumed a session (the
                    server's tickets last as long as the server runs)
    msg-M           the content of the M-th message whose DATA ended
                    (terminator seen), dot-unstuffed: exactly the bytes
                    the client meant, its final CRLF included, without the
                    terminating ".CRLF"
    msg-M.raw       the same as received: from the byte after the DATA
                    command line up to and including the terminating
                    "CRLF.CRLF" (dot-stuffing intact)
    msg-M.env       the envelope: the MAIL line, then each accepted RCPT
                    line, as received
    msg-M.reply     the code(s) of the reply to the final dot, one per
                    line (LMTP: one per accepted recipient).  A message is
                    "accepted" when this holds 250.
    msg-M.bdat      for a message sent with BDAT (RFC 3030; offer it with
                    "capabilities ... CHUNKING"): its BDAT command lines.
                    msg-M and msg-M.raw then both hold the chunks'
                    bytes, exactly as received (BDAT does no stuffing).
    A bare CR or LF inside a message is noted in `log` ("bare CR/LF").

SCENARIO FORMAT (a text file, one directive a line)
    # comment             (a line whose first non-blank is #)
    hostname NAME         the name in the greeting and EHLO reply
                          (default fake.example.org)
    capabilities A, B C   the EHLO keywords, comma separated, replacing the
                          defaults; "capabilities" alone: none at all.
                          Default: PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
                          ENHANCEDSTATUSCODES.  "SIZE 1000" sets a limit
                          that the default MAIL and final-dot replies
                          enforce (552).
    lmtp                  LMTP mode: LHLO instead of EHLO, one reply per
                          accepted recipient after the final dot
    no-starttls           do not add STARTTLS to the plaintext EHLO reply
                          even with --tls-cert (a stripped capability)
    auth ARG...           serve AUTH with tests/fakesasl.py; the EHLO reply
                          gets "AUTH <mechanisms>".  Several lines add up:
                            auth mechs PLAIN LOGIN ...  the offered list
                                 (default: every mechanism fakesasl has)
                            auth users NAME:PASS ...    password accounts
                            auth tokens NAME:TOKEN ...  OAuth bearer tokens
                                 (ESCAPES apply: \\x20 is a space)
                            auth external               EXTERNAL accepts a
                                 verified client certificate
                            auth bad-server-signature   SCRAM's server
                                 signature is corrupted
                            auth tls-only               AUTH only offered
                                 (and accepted) inside TLS
                          Each response line is recorded in conn-N.cmds.
    on EVENT[#K][@C] [PATTERN] => ACTION
    on EVENT[#K][@C] [PATTERN]
        ACTION            (indented lines: several actions, in order)
        ACTION

    EVENT is a command verb (EHLO HELO LHLO MAIL RCPT DATA QUIT RSET NOOP
    VRFY EXPN HELP STARTTLS AUTH BDAT), UNKNOWN (any other verb), * (any
    command), CONNECT (the greeting) or DOT (the reply to the final dot;
    in LMTP mode it happens once per accepted recipient and PATTERN is
    matched against that recipient's RCPT line; in SMTP mode its line is
    empty, so only a rule without PATTERN applies).  #K: only the K-th
    time that event happens on the connection (LMTP: each recipient's DOT
    counts).  @C: only on connection C.
    PATTERN: the rule applies only when the command line (as received,
    without CRLF) contains it, case-sensitively.  The first rule that
    matches wins; no match: the default behaviour below.

    ACTIONS (TEXT takes the ESCAPES below; trailing blanks are dropped,
    write \\x20 to keep one)
    reply TEXT            send TEXT and CRLF.  A multi-line reply is
                          several `reply` actions: reply 250-a / reply 250 b
    raw TEXT              send TEXT exactly, no CRLF added (malformed
                          replies, unsolicited bytes, half lines)
    default               what the server does without a rule (so
                          `sleep 500` then `default` delays the usual reply)
    ignore                send nothing and read the next command
    sleep MS              wait MS milliseconds (pending output is sent first)
    trickle MS TEXT       send TEXT and CRLF one byte every MS milliseconds
    endless TEXT          send TEXT and CRLF again and again until the
                          client closes (or the lifetime ends)
    drop                  close the connection now (FIN)
    reset                 close the connection now with a TCP RST
    stall                 never answer again: keep reading (and recording)
                          until the client closes or the lifetime ends
    freeze                never answer and never read again (the client's
                          writes block once the socket buffers fill) until
                          the lifetime ends or the server is killed
    starttls              send what is pending, then do the server side
                          of the TLS handshake (what STARTTLS does by
                          default after its 220): `reply 220 go` /
                          `raw 250 injected\r\n` / `starttls` injects a
                          line into the same segment as the 220

    What the server does next follows from the reply it sent, as a real
    server's state does: a 2xx to MAIL opens the transaction, a 2xx to RCPT
    accepts the recipient, a 354 to DATA reads the message, QUIT closes
    after its actions.  The reply code is that of the last line sent for
    the event that has a space (or nothing) after three digits.

    ESCAPES: \\r \\n \\t \\0 \\\\ \\xHH (one byte).  Non-ASCII text is sent
    as UTF-8.

    DEFAULTS: greeting 220; EHLO the hostname and capabilities; HELO 250;
    MAIL 250 (503 before HELO/EHLO or inside a transaction, 552 over the
    SIZE limit, 555 for SMTPUTF8 or BODY=8BITMIME when not offered); RCPT
    250 (503 without MAIL); DATA 354 (503 without MAIL, 554 when no
    recipient was accepted); final dot 250 (552 over the SIZE limit); BDAT: the chunk is read
    whatever the reply, 501 for a bad argument, 503 without MAIL, 554
    without an accepted recipient, 250 for a chunk, and for the LAST one
    the final dot's reply (DOT rules apply to it unless a BDAT rule
    matches); RSET,
    NOOP 250; QUIT 221 then close; STARTTLS 220 and the handshake with
    --tls-cert (503 inside TLS), else 454; AUTH: the exchange with
    fakesasl.py when an `auth` directive is given (235, or the 535/5xx it
    says), else 502; anything else 502.  A response "*" cancels (501).  Replies to pipelined commands
    are sent together once no complete command is left in the input, as
    Postfix does.  EHLO/HELO in LMTP mode, and LHLO in SMTP mode, get 500.

    EXAMPLES
        on RCPT <bad@example.org> => reply 550 5.1.1 <bad@example.org>: no such user
        on CONNECT => stall
        on DOT
            sleep 200
            reply 452 4.3.1 out of space
        on EHLO
            reply 250-fake.example.org
            raw 250 SIZE\\x00\\r\\n

    Inside TLS the EHLO reply lists the same capabilities minus STARTTLS;
    rules can tell the two apart with #K (the second EHLO).
"""

import argparse
import os
import re
import signal
import base64
import socket
import ssl
import struct
import sys
import time

DEFAULT_CAPS = ["PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8",
                "ENHANCEDSTATUSCODES"]
KNOWN_VERBS = {"EHLO", "HELO", "LHLO", "MAIL", "RCPT", "DATA", "QUIT",
               "RSET", "NOOP", "VRFY", "EXPN", "HELP", "STARTTLS", "AUTH",
               "BDAT"}
EVENTS = KNOWN_VERBS | {"UNKNOWN", "*", "CONNECT", "DOT"}
ACTIONS = {"reply", "raw", "default", "ignore", "sleep", "trickle",
           "endless", "drop", "reset", "stall", "freeze", "starttls"}
AUTH_MECHS = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256",
              "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN", "XOAUTH2",
              "OAUTHBEARER"]
MAX_LINE = 1 << 20          # a command line longer than this is cut
MAX_MESSAGE = 256 << 20     # message content kept in memory at most


class ScenarioError(Exception):
    pass


def unescape(text):
    """Turn TEXT with \\r \\n \\t \\0 \\\\ \\xHH escapes into bytes."""
    out = bytearray()
    raw = text.encode("utf-8")
    i = 0
    while i < len(raw):
        c = raw[i]
        if c != 0x5c or i + 1 >= len(raw):
            out.append(c)
            i += 1
            continue
        n = chr(raw[i + 1])
        if n == "r":
            out.append(13)
        elif n == "n":
            out.append(10)
        elif n == "t":
            out.append(9)
        elif n == "0":
            out.append(0)
        elif n == "\\":
            out.append(0x5c)
        elif n == "x" and re.fullmatch(rb"[0-9A-Fa-f]{2}", raw[i + 2:i + 4]):
            out.append(int(raw[i + 2:i + 4], 16))
            i += 2
        else:
            raise ScenarioError("bad escape \\" + n)
        i += 2
    return bytes(out)


def escape(data):
    """Bytes as one printable line: control bytes and backslash escaped,
    bytes >= 0x80 kept (UTF-8 stays readable)."""
    out = []
    for c in data:
        if c == 13:
            out.append(b"\\r")
        elif c == 10:
            out.append(b"\\n")
        elif c == 9:
            out.append(b"\\t")
        elif c == 0x5c:
            out.append(b"\\\\")
        elif c < 0x20 or c == 0x7f:
            out.append(b"\\x%02x" % c)
        else:
            out.append(bytes([c]))
    return b"".join(out)


class Rule:
    def __init__(self, lineno, event, nth, conn, pattern):
        self.lineno = lineno
        self.event = event
        self.nth = nth
        self.conn = conn
        self.pattern = pattern
        self.actions = []

    def matches(self, event, count, conn, line):
        if self.event != "*" and self.event != event:
            return False
        if self.event == "*" and event in ("CONNECT", "DOT"):
            return False
        if self.nth is not None and self.nth != count:
            return False
        if self.conn is not None and self.conn != conn:
            return False
        return self.pattern.encode("utf-8") in line


class Scenario:
    def __init__(self):
        self.hostname = "fake.example.org"
        self.caps = list(DEFAULT_CAPS)
        self.lmtp = False
        self.rules = []
        self.no_starttls = False
        self.auth = False
        self.auth_mechs = None
        self.auth_users = {}
        self.auth_tokens = {}
        self.auth_external = False
        self.auth_bad_sig = False
        self.auth_tls_only = False

    @staticmethod
    def parse_action(lineno, text):
        name, _, arg = text.strip().partition(" ")
        arg = arg.rstrip()
        if name not in ACTIONS:
            raise ScenarioError("line %d: unknown action '%s'" % (lineno, name))
        if name in ("reply", "raw", "endless"):
            return (name, unescape(arg))
        if name in ("sleep", "trickle"):
            ms, _, rest = arg.partition(" ")
            if not ms.isdigit():
                raise ScenarioError("line %d: %s needs milliseconds"
                                    % (lineno, name))
            return (name, int(ms), unescape(rest.rstrip()))
        if arg:
            raise ScenarioError("line %d: %s takes no argument"
                                % (lineno, name))
        return (name,)

    @classmethod
    def load(cls, path):
        sc = cls()
        if path is None:
            return sc
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        rule = None
        for lineno, line in enumerate(lines, 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if line[0] in " \t":
                if rule is None:
                    raise ScenarioError("line %d: action outside a rule"
                                        % lineno)
                rule.actions.append(cls.parse_action(lineno, stripped))
                continue
            rule = None
            word, _, rest = stripped.partition(" ")
            rest = rest.strip()
            if word == "hostname":
                sc.hostname = rest
            elif word == "capabilities":
                sc.caps = [c.strip() for c in rest.split(",") if c.strip()]
            elif word == "lmtp":
                sc.lmtp = True
            elif word == "no-starttls":
                sc.no_starttls = True
            elif word == "auth":
                sc.auth = True
                what, _, args = rest.partition(" ")
                args = args.split()
                if what == "mechs":
                    sc.auth_mechs = [m.upper() for m in args]
                elif what in ("users", "tokens"):
                    d = sc.auth_users if what == "users" else sc.auth_tokens
                    for a in args:
                        u, sep, pw = a.partition(":")
                        if not sep:
                            raise ScenarioError("line %d: auth %s wants "
                                                "NAME:SECRET" % (lineno, what))
                        d[unescape(u).decode("utf-8")] = \
                            unescape(pw).decode("utf-8")
                elif what == "external":
                    sc.auth_external = True
                elif what == "bad-server-signature":
                    sc.auth_bad_sig = True
                elif what == "tls-only":
                    sc.auth_tls_only = True
                else:
                    raise ScenarioError("line %d: unknown auth '%s'"
                                        % (lineno, what))
            elif word == "on":
                head, arrow, action = rest.partition("=>")
                ev, _, pattern = head.strip().partition(" ")
                m = re.fullmatch(r"([A-Za-z*]+)(?:#(\d+))?(?:@(\d+))?", ev)
                if m is None or m.group(1).upper() not in EVENTS:
                    raise ScenarioError("line %d: unknown event '%s'"
                                        % (lineno, ev))
                rule = Rule(lineno, m.group(1).upper(),
                            int(m.group(2)) if m.group(2) else None,
                            int(m.group(3)) if m.group(3) else None,
                            pattern.strip())
                sc.rules.append(rule)
                if arrow:
                    rule.actions.append(cls.parse_action(lineno, action))
                    rule = None
            else:
                raise ScenarioError("line %d: unknown directive '%s'"
                                    % (lineno, word))
        for r in sc.rules:
            if not r.actions:
                raise ScenarioError("line %d: rule without actions"
                                    % r.lineno)
        return sc

    def size_limit(self):
        for c in self.caps:
            parts = c.split()
            if parts and parts[0].upper() == "SIZE" and len(parts) > 1:
                if parts[1].isdigit() and int(parts[1]) > 0:
                    return int(parts[1])
        return None

    def has_cap(self, name):
        return any(c.split()[0].upper() == name for c in self.caps if c)


class Closed(Exception):
    """The connection is over (client closed, drop, stall ended)."""


class PyTLS:
    """A server-side pyOpenSSL connection with the few methods of
    ssl.SSLSocket that Conn uses."""

    def __init__(self, ctx, sock):
        from OpenSSL import SSL
        self.SSL = SSL
        self.raw = sock
        self.c = SSL.Connection(ctx, sock)
        self.c.set_accept_state()
        try:
            self.c.do_handshake()
        except SSL.Error as e:
            raise ssl.SSLError("pyopenssl handshake: %s" % (e,))

    def recv(self, n):
        try:
            return self.c.recv(n)
        except (self.SSL.ZeroReturnError, self.SSL.SysCallError,
                self.SSL.Error):
            return b""

    def sendall(self, data):
        try:
            self.c.sendall(data)
        except self.SSL.Error as e:
            raise OSError("pyopenssl send: %s" % (e,))

    def close(self):
        self.raw.close()

    def setsockopt(self, *a):
        self.raw.setsockopt(*a)

    def settimeout(self, t):
        self.raw.settimeout(t)

    def unwrap(self):
        try:
            self.c.shutdown()
        except self.SSL.Error:
            pass
        return self.raw

    def version(self):
        return self.c.get_protocol_version_name()

    def cipher(self):
        return (self.c.get_cipher_name(),)

    def getpeercert(self):
        cert = self.c.get_peer_certificate()
        if cert is None:
            return None
        return {"subject": str(cert.get_subject())}

    @property
    def session_reused(self):
        from OpenSSL._util import lib
        return bool(lib.SSL_session_reused(self.c._ssl))

    def channel_binding(self):
        if self.version() == "TLSv1.3":
            return (self.c.export_keying_material(
                b"EXPORTER-Channel-Binding", 32), "tls-exporter")
        return self.c.get_peer_finished(), "tls-unique"


class Server:
    def __init__(self, args, scenario):
        self.args = args
        self.sc = scenario
        self.dir = args.dir
        self.nconn = 0
        self.nmsg = 0
        self.logf = open(os.path.join(self.dir, "log"), "a", buffering=1)
        self.ctx = None
        if args.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(args.tls_cert, args.tls_key)
            if args.tls_max == "1.2":
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            if args.tls_client_ca:
                ctx.verify_mode = ssl.CERT_OPTIONAL
                ctx.load_verify_locations(args.tls_client_ca)
            self.ctx = ctx
            if args.tls_lib == "pyopenssl":
                from OpenSSL import SSL
                pctx = SSL.Context(SSL.TLS_SERVER_METHOD)
                pctx.use_certificate_chain_file(args.tls_cert)
                pctx.use_privatekey_file(args.tls_key)
                if args.tls_max == "1.2":
                    pctx.set_max_proto_version(SSL.TLS1_2_VERSION)
                if args.tls_client_ca:
                    pctx.load_verify_locations(args.tls_client_ca)
                    pctx.set_verify(SSL.VERIFY_PEER,
                                    lambda conn, cert, err, depth, ok: ok)
                if args.tls_choke_on_resumption:
                    # OpenSSL's own trap: asking for client certificates
                    # without a session ID context fails every resumed
                    # handshake with an internal_error alert.
                    pctx.set_verify(SSL.VERIFY_PEER,
                                    lambda conn, cert, err, depth, ok: ok)
                else:
                    pctx.set_session_id(b"fakesmtp")
                self.ctx = pctx

    def log(self, fmt, *a):
        self.logf.write("%.3f %s\n" % (time.time(), fmt % a if a else fmt))

    def path(self, name):
        return os.path.join(self.dir, name)

    def listen(self):
        a = self.args
        if a.unix:
            try:
                os.unlink(a.unix)
            except FileNotFoundError:
                pass
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(a.unix)
            where = a.unix
        else:
            fam = socket.AF_INET6 if ":" in a.listen else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a.listen, a.port))
            where = str(s.getsockname()[1])
        s.listen(16)
        pf = a.port_file or self.path("port")
        with open(pf + ".tmp", "w") as f:
            f.write(where + "\n")
        os.rename(pf + ".tmp", pf)
        self.log("listening on %s", where)
        return s

    def serve(self):
        ls = self.listen()
        while self.args.connections == 0 or self.nconn < self.args.connections:
            sock, peer = ls.accept()
            self.nconn += 1
            self.log("connection %d from %s", self.nconn, peer)
            with open(self.path("conn-%d.peer" % self.nconn), "w") as f:
                f.write("%s %s\n" % peer[:2] if isinstance(peer, tuple)
                        else "unix\n")
            conn = Conn(self, sock, self.nconn)
            try:
                conn.run()
            except Closed as e:
                self.log("connection %d: %s", self.nconn, e)
            except OSError as e:
                self.log("connection %d: error %s", self.nconn, e)
            finally:
                conn.close()
                open(self.path("conn-%d.done" % self.nconn), "w").close()
        ls.close()
        self.log("done after %d connection(s)", self.nconn)


class Conn:
    def __init__(self, srv, sock, num):
        self.srv = srv
        self.sc = srv.sc
        self.sock = sock
        self.num = num
        if sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        p = lambda ext: srv.path("conn-%d.%s" % (num, ext))
        self.f_raw = open(p("raw"), "wb", buffering=0)
        self.f_recv = open(p("recv"), "wb", buffering=0)
        self.f_cmds = open(p("cmds"), "wb", buffering=0)
        self.f_sent = open(p("sent"), "wb", buffering=0)
        self.f_tls = open(p("tls"), "wb", buffering=0)
        self.f_clear = open(p("clear"), "wb", buffering=0)
        self.tls = False
        self.client_cert = False
        self.authed = False
        self.inbuf = bytearray()
        self.out = bytearray()
        self.event_out = bytearray()
        self.counts = {}
        self.helo = False
        self.mail = None
        self.rcpts = []
        self.eof = False
        self.open = True

    # -- I/O -------------------------------------------------------------
    def recv_more(self):
        """Read once more from the client; False at end of file."""
        if self.eof:
            return False
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ConnectionAbortedError):
            data = b""
        if not data:
            self.eof = True
            self.srv.log("connection %d: client closed", self.num)
            return False
        self.f_raw.write(data)
        if not self.tls:
            self.f_clear.write(data)
        self.f_recv.write(escape(data) + b"\n")
        self.inbuf += data
        return True

    def send(self, data):
        self.out += data
        self.event_out += data

    def flush(self):
        if not self.out:
            return
        data = bytes(self.out)
        self.out.clear()
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise Closed("send failed: %s" % e)
        self.f_sent.write(data)

    def close(self):
        if self.open:
            try:
                self.flush()
            except Closed:
                pass
            self.sock.close()
            self.open = False

    def start_tls(self):
        """The server side of the handshake, after what is pending."""
        self.flush()
        if self.srv.ctx is None:
            raise Closed("starttls without --tls-cert")
        if self.inbuf:
            # Postfix throws pipelined plaintext away: so do we.
            self.srv.log("connection %d: %d plaintext bytes after STARTTLS "
                         "discarded", self.num, len(self.inbuf))
            self.inbuf.clear()
        try:
            if self.srv.args.tls_lib == "pyopenssl":
                self.sock = PyTLS(self.srv.ctx, self.sock)
            else:
                self.sock = self.srv.ctx.wrap_socket(self.sock,
                                                     server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.srv.log("connection %d: TLS handshake failed: %s",
                         self.num, e)
            raise Closed("TLS handshake failed")
        self.tls = True
        self.helo = False
        self.mail, self.rcpts = None, []
        cert = self.sock.getpeercert()
        self.client_cert = bool(cert)
        info = "%s %s\n" % (self.sock.version(), self.sock.cipher()[0])
        if cert:
            info += "client-cert %s\n" % (cert.get("subject"),)
        if self.sock.session_reused:
            info += "resumed\n"
        with open(self.srv.path("conn-%d.tlsinfo" % self.num), "w") as f:
            f.write(info)
        self.srv.log("connection %d: TLS established: %s", self.num,
                     info.strip())

    def record_line(self, line):
        self.f_cmds.write(escape(line) + b"\n")
        self.f_tls.write((b"T " if self.tls else b"P ") + escape(line) +
                         b"\n")

    def channel_binding(self):
        if self.tls and isinstance(self.sock, PyTLS):
            return self.sock.channel_binding()
        if self.tls and self.sock.version() == "TLSv1.2":
            return self.sock.get_channel_binding("tls-unique"), "tls-unique"
        return None, None

    def auth_mechs(self):
        sc = self.sc
        if not sc.auth or (sc.auth_tls_only and not self.tls):
            return []
        mechs = list(sc.auth_mechs) if sc.auth_mechs is not None else \
            (["EXTERNAL"] if sc.auth_external else []) + AUTH_MECHS
        if self.channel_binding()[0] is None:
            mechs = [m for m in mechs if not m.endswith("-PLUS")]
        return mechs

    def has_line(self):
        return b"\n" in self.inbuf or len(self.inbuf) >= MAX_LINE

    def next_line(self):
        """The next command line without its line ending, or None at EOF.
        Replies are flushed whenever we must wait for input, so pipelined
        commands get their replies together."""
        while not self.has_line():
            self.flush()
            if not self.recv_more():
                return None
        i = self.inbuf.find(b"\n")
        if i < 0 or i >= MAX_LINE:
            line = bytes(self.inbuf[:MAX_LINE])
            del self.inbuf[:MAX_LINE]
            self.srv.log("connection %d: command line too long", self.num)
            return line
        line = bytes(self.inbuf[:i])
        del self.inbuf[:i + 1]
        if line.endswith(b"\r"):
            line = line[:-1]
        else:
            self.srv.log("connection %d: bare LF ends a command", self.num)
        return line

    # -- events ----------------------------------------------------------
    def last_code(self):
        """Code of the last final reply line sent for this event."""
        code = None
        for ln in bytes(self.event_out).split(b"\r\n"):
            m = re.match(rb"(\d{3})(?: |$)", ln)
            if m:
                code = int(m.group(1))
        return code

    def event(self, ev, line, default):
        self.counts[ev] = self.counts.get(ev, 0) + 1
        self.event_out = bytearray()
        rule = None
        for r in self.sc.rules:
            if r.matches(ev, self.counts[ev], self.num, line):
                rule = r
                break
        if rule is None:
            default()
        else:
            self.srv.log("connection %d: %s: rule at line %d", self.num, ev,
                         rule.lineno)
            for act in rule.actions:
                self.do_action(act, default)
        return self.last_code()

    def do_action(self, act, default):
        name = act[0]
        if name == "reply":
            self.send(act[1] + b"\r\n")
        elif name == "raw":
            self.send(act[1])
        elif name == "default":
            default()
        elif name == "ignore":
            pass
        elif name == "sleep":
            self.flush()
            time.sleep(act[1] / 1000.0)
        elif name == "trickle":
            self.flush()
            for b in act[2] + b"\r\n":
                self.send(bytes([b]))
                self.flush()
                time.sleep(act[1] / 1000.0)
        elif name == "endless":
            self.flush()
            chunk = (act[1] + b"\r\n") * max(1, 4096 // (len(act[1]) + 2))
            self.srv.log("connection %d: endless reply", self.num)
            while True:
                self.send(chunk)
                self.flush()
        elif name == "drop":
            self.flush()
            self.sock.close()
            self.open = False
            raise Closed("dropped by the scenario")
        elif name == "reset":
            self.out.clear()
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
            self.sock.close()
            self.open = False
            raise Closed("reset by the scenario")
        elif name == "stall":
            self.flush()
            self.srv.log("connection %d: stalled", self.num)
            self.inbuf.clear()
            while self.recv_more():
                self.inbuf.clear()
            raise Closed("stalled until the client closed")
        elif name == "freeze":
            self.flush()
            self.srv.log("connection %d: frozen", self.num)
            while True:
                time.sleep(3600)
        elif name == "starttls":
            self.start_tls()

    def reply(self, *lines):
        for ln in lines:
            self.send(ln.encode("utf-8") + b"\r\n")

    # -- the protocol ------------------------------------------------------
    def run(self):
        greet = "LMTP" if self.sc.lmtp else "ESMTP"
        if self.srv.args.tls_wrap:
            self.start_tls()
        self.event("CONNECT", b"", lambda: self.reply(
            "220 %s %s fakesmtp" % (self.sc.hostname, greet)))
        while True:
            line = self.next_line()
            if line is None:
                return
            self.record_line(line)
            if self.inbuf and not self.sc.has_cap("PIPELINING"):
                self.srv.log("connection %d: command pipelined without "
                             "PIPELINING: %s", self.num, escape(line).decode(
                                 "utf-8", "replace"))
            self.command(line)

    def command(self, line):
        verb = line.split(b" ", 1)[0].upper().decode("ascii", "replace")
        if verb == "BDAT":
            self.bdat(line)
            return
        ev = verb if verb in KNOWN_VERBS else "UNKNOWN"
        default = getattr(self, "do_" + verb, None) if ev != "UNKNOWN" \
            else None
        if default is None:
            default = self.do_UNKNOWN
        code = self.event(ev, line, lambda: default(line))
        ok = code is not None and 200 <= code < 300
        if verb in ("EHLO", "HELO", "LHLO") and ok:
            self.helo = True
            self.mail, self.rcpts = None, []
        elif verb == "MAIL" and ok:
            self.mail, self.rcpts = line, []
        elif verb == "RCPT" and ok:
            self.rcpts.append(line)
        elif verb == "RSET" and ok:
            self.mail, self.rcpts = None, []
            self.chunks = None
        elif verb == "DATA" and code == 354:
            self.data()
        elif verb == "QUIT":
            if self.tls and self.open:
                # close_notify, best effort
                try:
                    self.flush()
                    self.sock.settimeout(2)
                    self.sock = self.sock.unwrap()
                except (ssl.SSLError, OSError, Closed):
                    pass
            self.close()
            raise Closed("QUIT")

    def do_EHLO(self, line):
        if self.sc.lmtp:
            return self.reply("500 5.5.1 this is LMTP: use LHLO")
        self.ehlo_reply()

    def do_LHLO(self, line):
        if not self.sc.lmtp:
            return self.reply("500 5.5.1 this is SMTP: use EHLO")
        self.ehlo_reply()

    def ehlo_reply(self):
        caps = list(self.sc.caps)
        if self.srv.ctx is not None and not self.tls and \
                not self.srv.args.tls_wrap and not self.sc.no_starttls:
            caps.append("STARTTLS")
        mechs = self.auth_mechs()
        if mechs:
            caps.append("AUTH " + " ".join(mechs))
        lines = [self.sc.hostname] + caps
        self.reply(*["250%s%s" % ("-" if i < len(lines) - 1 else " ", l)
                     for i, l in enumerate(lines)])

    def do_HELO(self, line):
        if self.sc.lmtp:
            return self.reply("500 5.5.1 this is LMTP: use LHLO")
        self.reply("250 %s" % self.sc.hostname)

    def do_MAIL(self, line):
        params = line.upper().split(b">", 1)[-1].split()
        limit = self.sc.size_limit()
        if not self.helo:
            return self.reply("503 5.5.1 Error: send HELO/EHLO first")
        if self.mail is not None:
            return self.reply("503 5.5.1 Error: nested MAIL command")
        for p in params:
            if p == b"SMTPUTF8" and not self.sc.has_cap("SMTPUTF8"):
                return self.reply("555 5.5.4 Unsupported option: SMTPUTF8")
            if p.startswith(b"BODY=8BITMIME") and \
                    not self.sc.has_cap("8BITMIME"):
                return self.reply("555 5.5.4 Unsupported option: BODY")
            if p.startswith(b"SIZE=") and limit is not None and \
                    p[5:].isdigit() and int(p[5:]) > limit:
                return self.reply("552 5.3.4 Message size exceeds fixed "
                                  "limit")
        self.reply("250 2.1.0 Ok")

    def do_RCPT(self, line):
        if self.mail is None:
            return self.reply("503 5.5.1 Error: need MAIL command")
        self.reply("250 2.1.5 Ok")

    def do_DATA(self, line):
        if self.mail is None:
            return self.reply("503 5.5.1 Error: need RCPT command")
        if not self.rcpts:
            return self.reply("554 5.5.1 Error: no valid recipients")
        self.reply("354 End data with <CR><LF>.<CR><LF>")

    def do_RSET(self, line):
        self.reply("250 2.0.0 Ok")

    def do_NOOP(self, line):
        self.reply("250 2.0.0 Ok")

    def do_QUIT(self, line):
        self.reply("221 2.0.0 Bye")

    def do_STARTTLS(self, line):
        if self.srv.ctx is None:
            return self.reply("454 4.7.0 TLS not available")
        if self.tls:
            return self.reply("503 5.5.1 Error: TLS already active")
        self.reply("220 2.0.0 Ready to start TLS")
        self.start_tls()

    def do_AUTH(self, line):
        sc = self.sc
        mechs = self.auth_mechs()
        if not mechs:
            return self.reply("502 5.5.1 AUTH not implemented")
        if not self.helo:
            return self.reply("503 5.5.1 Error: send HELO/EHLO first")
        if self.authed:
            return self.reply("503 5.5.1 Error: already authenticated")
        parts = line.split()
        mech = parts[1].upper().decode("ascii", "replace") \
            if len(parts) > 1 else ""
        if mech not in mechs:
            return self.reply("504 5.5.4 Unsupported authentication "
                              "mechanism")
        initial = None
        if len(parts) > 2:
            try:
                initial = b"" if parts[2] == b"=" else \
                    base64.b64decode(parts[2], validate=True)
            except ValueError:
                return self.reply("501 5.5.2 Cannot decode response")
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import fakesasl
        cbind, cbtype = self.channel_binding()
        server = fakesasl.Server(mech, sc.auth_users, sc.auth_tokens, cbind,
                                 cbtype, sc.auth_external and
                                 self.client_cert,
                                 bad_server_signature=sc.auth_bad_sig,
                                 offered=mechs)
        result = server.start(initial)
        steps = 0
        while True:
            kind, data = result
            if kind == "fail":
                self.srv.log("connection %d: AUTH %s failed: %s", self.num,
                             mech, data)
                return self.reply(data)
            if kind == "ok" and not data:
                break
            self.reply("334 " + base64.b64encode(data).decode("ascii"))
            resp = self.next_line()
            if resp is None:
                raise Closed("client closed inside AUTH")
            self.record_line(resp)
            if resp == b"*":
                return self.reply("501 5.7.0 Authentication aborted")
            try:
                resp = base64.b64decode(resp, validate=True)
            except ValueError:
                return self.reply("501 5.5.2 Cannot decode response")
            if kind == "ok":
                break
            steps += 1
            if steps > 20:
                return self.reply("535 5.7.8 too many steps")
            result = server.step(resp)
        self.authed = True
        self.srv.log("connection %d: AUTH %s ok", self.num, mech)
        self.reply("235 2.7.0 Authentication successful")

    def do_UNKNOWN(self, line):
        self.reply("502 5.5.2 Error: command not recognized")

    def data(self):
        """Read the message after a 354, store it, answer the final dot."""
        self.flush()
        # The CRLF that ended the DATA line counts as the start of the
        # first "CRLF . CRLF" so an empty message is just ".CRLF".
        scan_from = 0
        while True:
            buf = self.inbuf
            if buf.startswith(b".\r\n"):
                end = 3
                break
            i = buf.find(b"\r\n.\r\n", max(0, scan_from - 4))
            if i >= 0:
                end = i + 5
                break
            if len(buf) > MAX_MESSAGE:
                raise Closed("message too large for the fake server")
            scan_from = len(buf)
            if not self.recv_more():
                self.srv.log("connection %d: EOF inside DATA (%d bytes)",
                             self.num, len(self.inbuf))
                raise Closed("client closed inside DATA")
        raw = bytes(self.inbuf[:end])
        del self.inbuf[:end]
        content = raw[:-3]          # drop ".CRLF", keep the last CRLF
        lines = content.split(b"\r\n")
        content = b"\r\n".join(l[1:] if l.startswith(b".") else l
                               for l in lines)
        self.store_message(raw, content, self.final_reply)

    def store_message(self, raw, content, answer):
        """Record a complete message (RAW as received, CONTENT as meant)
        and its envelope, then ANSWER(m, too_big) sends the final
        reply(s) and returns their codes."""
        self.srv.nmsg += 1
        m = self.srv.nmsg
        bare = re.search(rb"\r(?!\n)|(?<!\r)\n", raw)
        if bare:
            self.srv.log("message %d: bare CR/LF at offset %d", m,
                         bare.start())
        p = self.srv.path
        with open(p("msg-%d.raw" % m), "wb") as f:
            f.write(raw)
        with open(p("msg-%d" % m), "wb") as f:
            f.write(content)
        with open(p("msg-%d.env" % m), "wb") as f:
            f.write(b"".join(escape(l) + b"\n"
                             for l in [self.mail] + self.rcpts))
        self.srv.log("connection %d: message %d, %d bytes", self.num, m,
                     len(content))
        limit = self.sc.size_limit()
        codes = answer(m, limit is not None and len(content) > limit)
        with open(p("msg-%d.reply" % m), "w") as f:
            f.write("".join("%s\n" % c for c in codes))
        self.mail, self.rcpts = None, []

    def final_reply(self, m, big):
        """The reply to the end of the content (DOT events): one, or in
        LMTP one per accepted recipient."""
        codes = []
        if self.sc.lmtp:
            for r in self.rcpts:
                addr = r.split(b":", 1)[-1].split(b">")[0] + b">"
                addr = addr.strip().decode("utf-8", "replace")
                codes.append(self.event("DOT", r, lambda: self.reply(
                    "552 5.3.4 Message too big" if big else
                    "250 2.1.5 %s Ok" % addr)))
        else:
            codes.append(self.event("DOT", b"", lambda: self.reply(
                "552 5.3.4 Message too big" if big else
                "250 2.0.0 Ok: queued as FAKE%d" % m)))
        return codes

    def read_exactly(self, n):
        """N bytes of chunk data (RFC 3030), whatever they hold."""
        while len(self.inbuf) < n:
            if len(self.inbuf) > MAX_MESSAGE:
                raise Closed("chunk too large for the fake server")
            if not self.recv_more():
                self.srv.log("connection %d: EOF inside a BDAT chunk",
                             self.num)
                raise Closed("client closed inside BDAT")
        data = bytes(self.inbuf[:n])
        del self.inbuf[:n]
        return data

    def bdat(self, line):
        """BDAT SIZE [LAST]: the chunk is read whatever the reply will
        be.  Chunks add up in msg-M (the content) and msg-M.raw (the
        same bytes: BDAT sends content as it is); the BDAT command lines
        go to msg-M.bdat.  The reply to the LAST chunk is a BDAT rule's,
        else the DOT event's (as after DATA's final dot)."""
        words = line.split()
        last = len(words) == 3 and words[2].upper() == b"LAST"
        if len(words) not in (2, 3) or not words[1].isdigit() or \
                (len(words) == 3 and not last):
            return self.event("BDAT", line, lambda: self.reply(
                "501 5.5.4 Syntax: BDAT count [LAST]"))
        data = self.read_exactly(int(words[1]))
        if self.mail is None or not self.rcpts:
            self.chunks = None
            return self.event("BDAT", line, lambda: self.reply(
                "503 5.5.1 Error: need MAIL command" if self.mail is None
                else "554 5.5.1 Error: no valid recipients"))
        if getattr(self, "chunks", None) is None:
            self.chunks, self.bdat_lines = bytearray(), []
        self.chunks += data
        self.bdat_lines.append(line)
        if not last:
            return self.event("BDAT", line, lambda: self.reply(
                "250 2.0.0 Ok: %d bytes" % len(data)))
        content, self.chunks = bytes(self.chunks), None
        with open(self.srv.path("msg-%d.bdat" % (self.srv.nmsg + 1)),
                  "wb") as f:
            f.write(b"".join(escape(l) + b"\n" for l in self.bdat_lines))

        def answer(m, big):
            finals = []
            code = self.event("BDAT", line, lambda: finals.extend(
                self.final_reply(m, big)))
            return finals or [code]
        self.store_message(content, content, answer)


def main():
    ap = argparse.ArgumentParser(description="scriptable fake SMTP server")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--scenario")
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--unix")
    ap.add_argument("--port-file")
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--max-seconds", type=int, default=30)
    ap.add_argument("--lmtp", action="store_true")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-wrap", action="store_true")
    ap.add_argument("--tls-client-ca")
    ap.add_argument("--tls-max", choices=["1.2", "1.3"])
    ap.add_argument("--tls-lib", choices=["ssl", "pyopenssl"], default="ssl")
    ap.add_argument("--tls-choke-on-resumption", action="store_true")
    args = ap.parse_args()

    def lifetime(signum, frame):
        sys.stderr.write("fakesmtp: lifetime of %d s reached\n"
                         % args.max_seconds)
        os._exit(3)
    signal.signal(signal.SIGALRM, lifetime)
    signal.alarm(args.max_seconds)
    signal.signal(signal.SIGTERM, lambda s, f: os._exit(0))

    os.makedirs(args.dir, exist_ok=True)
    try:
        sc = Scenario.load(args.scenario)
    except (ScenarioError, OSError, UnicodeDecodeError) as e:
        sys.stderr.write("fakesmtp: %s: %s\n" % (args.scenario, e))
        return 2
    if args.lmtp:
        sc.lmtp = True
    Server(args, sc).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
