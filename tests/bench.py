#!/usr/bin/env python3
"""bench.py -- `make bench`: postie beside msmtp, in one run, one table.

Not a test: it prints figures (and checks only that every message it
timed was really delivered).  Needs root (it starts the private Postfix
of tests/postfix-env.sh and makes network namespaces), and installs
Debian's msmtp package when msmtp is missing.

    bench.py POSTIE [--runs N] [--big-mib M] [--queue-n N] [--rtt-ms R]
                    [--only SECTION,...] [--json FILE]

Sections (all by default, in this order):
  wall   wall time per 2 KB message to the real Postfix (Dovecot SASL):
         plain port, submission with STARTTLS + AUTH PLAIN, implicit TLS
         + AUTH PLAIN.  N runs (default 50) per tool and port after 5
         warm-up runs, the two tools taking turns, 30 ms apart so that
         Postfix has delivered the last message; median, p90, minimum.
         Each run is a whole process, as a caller pays it.  postie runs
         with its queue on (the default) in a scratch queue_dir, so its
         TLS runs resume the session the run before kept; the row "full
         handshake" removes it before each run (msmtp keeps none).  Then
         the floor: a minimal client inside this process (no process
         start, the fewest writes, QUIT not awaited; Python's ssl module
         resuming as postie does), for each row: what Postfix and
         Dovecot themselves take, and how much that varies (its p90/min
         is the server's own share of a client's spread).
  rtt    round trips: the same three submissions over a link with an
         added round-trip delay (tests/netdelay.py: two network
         namespaces joined by TUN devices and a forwarder that holds each
         packet; this kernel has no sch_netem), to tests/fakesmtp.py,
         which sets TCP_NODELAY and answers a pipelined group in one
         write, as Postfix does.  Reported as (median wall at R ms -
         median wall at 0 ms) / R.
  big    a message of M MiB (default 1024) with LF line ends and lines
         that need dot-stuffing, to a discard sink (this file, --sink:
         one process, 4 MiB reads, no parsing of the content beyond the
         end marker), plain and implicit TLS: throughput, CPU seconds
         (user, system) per GiB and peak RSS.  The sink's own capacity,
         fed by a trivial sender, is printed beside it.  The floor is
         tests/bench-floor.c "spool": stdin copied into a new file, then
         sent as it is (sendfile in plain), as any client with a queue
         must.  postie and the floor take turns, 3 runs each, median
         shown; the first run is shown too, because a page the kernel
         has not used for a while can cost far more to fill than one it
         just freed (in a VM whose balloon takes free pages back, by a
         factor of 3 to 4).
  instr  instructions per submission (valgrind --tool=callgrind, the
         process itself, not Postfix): plain and STARTTLS + AUTH PLAIN,
         resumed and with a full handshake.  The floor is bench-floor
         "handshake": one verified TLS handshake with GnuTLS's defaults
         on Postfix's implicit TLS port, a greeting and QUIT.
  rss    peak RSS for a 1 KB message, plain and implicit TLS (the 1 GiB
         figures are in big), and of bench-floor "handshake".
  queue  tests/bench-queue.sh: postie -q flushing N queued messages
         (default 2000) beside msmtpq.

Both tools get the same settings: AUTH PLAIN (the protocol's fewest
round trips), the test CA as trust file, the certificate's name as the
TLS host, syslog off.  Postfix delivers while the runs go on, as it
would in real use; its fsync before each 250 is in every figure."""
import argparse
import base64
import json
import os
import platform
import re
import resource
import shlex
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PFENV = os.path.join(HERE, "postfix-env.sh")
NETDELAY = os.path.join(HERE, "netdelay.py")
FAKESMTP = os.path.join(HERE, "fakesmtp.py")
FLOOR_C = os.path.join(HERE, "bench-floor.c")
SECTIONS = ["wall", "rtt", "big", "instr", "rss", "queue"]
# "-full": postie's kept TLS session is removed before each run, so that
# each makes a full handshake (msmtp keeps none: its runs are the same).
MODES = [("plain", "plain port"),
         ("starttls", "STARTTLS + AUTH"),
         ("starttls-full", "STARTTLS + AUTH, full handshake"),
         ("smtps", "implicit TLS + AUTH")]
WARMUP = 5
BIG_ROUNDS = 3  # 1 GiB runs of postie and of the floor, taking turns
PAUSE = 0.03    # seconds between timed runs
TLS_HOST = "mail.example.test"  # the name in the test certificate


def die(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.exit(1)


def note(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


# ---- the discard sink --------------------------------------------------------

def sink(port_file, cert=None, key=None):
    """Serve SMTP on loopback and throw the content away.  DATA ends at
    CRLF.CRLF; BDAT n [LAST] is counted off.  With CERT and KEY the
    handshake comes first (implicit TLS)."""
    ctx = None
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    buf = bytearray(4 << 20)
    while True:
        conn, _ = srv.accept()
        if ctx is not None:
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                continue
        try:
            SinkConn(conn, buf).run()
        except (ssl.SSLError, OSError):
            pass
        conn.close()


class SinkConn:
    def __init__(self, conn, buf):
        self.conn = conn
        self.buf = buf
        self.view = memoryview(buf)
        self.pending = b""      # command bytes not yet parsed

    def run(self):
        self.conn.sendall(b"220 sink ESMTP\r\n")
        while True:
            line = self.line()
            if line is None:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.conn.sendall(b"250-sink\r\n250-PIPELINING\r\n"
                                  b"250-CHUNKING\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                self.conn.sendall(b"354 go\r\n")
                if not self.data():
                    return
                self.conn.sendall(b"250 2.0.0 ok\r\n")
            elif verb == b"BDAT":
                words = line.split()
                if not self.skip(int(words[1])):
                    return
                self.conn.sendall(b"250 2.0.0 ok\r\n")
            elif verb == b"QUIT":
                self.conn.sendall(b"221 bye\r\n")
                return
            else:
                self.conn.sendall(b"250 ok\r\n")

    def line(self):
        while b"\n" not in self.pending:
            n = self.conn.recv_into(self.buf)
            if n == 0:
                return None
            self.pending += bytes(self.view[:n])
        line, _, self.pending = self.pending.partition(b"\n")
        return line.rstrip(b"\r")

    def data(self):
        """Read up to CRLF.CRLF; what follows it stays pending.  The
        content is searched where it was read, never copied."""
        term = b"\r\n.\r\n"
        probe = b"\r\n" + self.pending     # so a dot first line matches
        self.pending = b""
        end = probe.find(term)
        if end >= 0:
            self.pending = probe[end + 5:]
            return True
        tail = probe[-4:]
        while True:
            n = self.conn.recv_into(self.buf)
            if n == 0:
                return False
            # a terminator that starts in the previous read
            head = tail + bytes(self.buf[:min(n, 4)])
            end = head.find(term)
            if end >= 0:
                self.pending = bytes(self.buf[end + 5 - len(tail):n])
                return True
            end = self.buf.find(term, 0, n)
            if end >= 0:
                self.pending = bytes(self.buf[end + 5:n])
                return True
            tail = (tail + bytes(self.buf[max(0, n - 4):n]))[-4:]

    def skip(self, count):
        take = min(count, len(self.pending))
        self.pending = self.pending[take:]
        count -= take
        while count > 0:
            n = self.conn.recv_into(self.view[:min(count, len(self.buf))])
            if n == 0:
                return False
            count -= n
        return True


def sink_capacity(port, tls_ctx, mib):
    """A trivial sender: one DATA of MIB MiB, from a buffer, no stuffing."""
    sock = socket.create_connection(("127.0.0.1", port))
    if tls_ctx is not None:
        sock = tls_ctx.wrap_socket(sock, server_hostname="mail.example.test")
    f = sock.makefile("rb")
    f.readline()
    sock.sendall(b"EHLO bench\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
                 b"DATA\r\n")
    while not f.readline().startswith(b"354"):
        pass
    block = (b"x" * 78 + b"\r\n") * ((4 << 20) // 80)
    total = 0
    t0 = time.perf_counter()
    while total < mib << 20:
        sock.sendall(block)
        total += len(block)
    sock.sendall(b".\r\n")
    f.readline()
    el = time.perf_counter() - t0
    sock.sendall(b"QUIT\r\n")
    sock.close()
    return total / el / 1e6


# ---- running a client ---------------------------------------------------------

def run(cmd, stdin_path, rss=False):
    """Run CMD with STDIN_PATH as input; (status, wall s, rusage, peak RSS
    KiB or None).  The peak RSS comes from GNU time (-f %M) because a child
    forked from this Python process keeps Python's own peak as its
    ru_maxrss through exec."""
    out = None
    if rss:
        out = tempfile.mktemp(prefix="postie-bench-rss-")
        cmd = ["/usr/bin/time", "-f", "%M", "-o", out] + cmd
    with open(stdin_path, "rb") as stdin:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=stdin)
        _, status, ru = os.wait4(p.pid, 0)
        el = time.perf_counter() - t0
    peak = None
    if out:
        with open(out) as f:
            peak = int(f.read().split()[-1])
        os.unlink(out)
    return os.waitstatus_to_exitcode(status), el, ru, peak


def quantiles(xs):
    s = sorted(xs)
    p90 = s[max(0, -(-len(s) * 9 // 10) - 1)]
    return statistics.median(s), p90, s[0]


def floor_client(port, msg, mode="plain", tls=None):
    """The least any client can take for one submission to this server:
    no process start, one write per group the RFCs allow (MAIL, RCPT,
    BDAT LAST with the content when CHUNKING is offered), QUIT not
    waited for.  Seconds from connect to the final reply.  For a TLS
    mode, `tls` is {"ctx": an ssl.SSLContext, "auth": the AUTH PLAIN
    line, "session": the session to resume or None (updated)}."""
    with open(msg, "rb") as f:
        data = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    t0 = time.perf_counter()
    raw = socket.create_connection(("127.0.0.1", port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock = raw
    cur = [raw]

    def ack_now():
        # as postie does: no delayed ACK for the server's Nagle to wait on
        cur[0].setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def wrap():
        ack_now()
        s = tls["ctx"].wrap_socket(raw, server_hostname=TLS_HOST,
                                   session=tls["session"])
        cur[0] = s
        return s, s.makefile("rb")

    if mode == "smtps":
        sock, f = wrap()
    else:
        f = sock.makefile("rb")

    def replies():
        ack_now()
        lines = []
        while True:
            line = f.readline()
            lines.append(line)
            if line[3:4] != b"-":
                return lines
    replies()
    sock.sendall(b"EHLO bench.postie.test\r\n")
    caps = replies()
    if mode == "starttls":
        sock.sendall(b"STARTTLS\r\n")
        replies()
        sock, f = wrap()
        sock.sendall(b"EHLO bench.postie.test\r\n")
        caps = replies()
    if mode != "plain":
        sock.sendall(tls["auth"])
        if replies()[-1][:3] != b"235":
            die("the minimal client's AUTH was refused")
        tls["session"] = sock.session
    chunking = any(l[4:].strip().upper() == b"CHUNKING" for l in caps)
    head = b"MAIL FROM:<bench@postie.test>\r\nRCPT TO:<box-bench-floor" \
        b"@example.org>\r\n"
    if chunking:
        sock.sendall(head + b"BDAT %d LAST\r\n" % len(data) + data)
    else:
        sock.sendall(head + b"DATA\r\n")
        [replies() for _ in range(3)]
        body = b"\r\n".join(b"." + l if l.startswith(b".") else l
                             for l in data.split(b"\r\n"))
        sock.sendall(body + b".\r\n")
    codes = [replies()[-1][:3] for _ in range(3 if chunking else 1)]
    el = time.perf_counter() - t0
    sock.sendall(b"QUIT\r\n")
    sock.close()
    if codes[-1] != b"250":
        die("the minimal client was refused: %r" % codes)
    return el


class Bench:
    def __init__(self, args):
        self.a = args
        self.postie = os.path.abspath(args.postie)
        self.w = tempfile.mkdtemp(prefix="postie-bench-")
        os.chmod(self.w, 0o755)
        self.pf = None
        self.results = {}
        self.msmtp = shutil.which("msmtp")
        self.tools = ["postie", "msmtp"]
        self.boxes = self.tools + ["floor"]
        self.floor_exe = None   # bench-floor, built by build_floor()

    # ---- setup -------------------------------------------------------------
    def build_floor(self):
        """tests/bench-floor.c, with GnuTLS's own pkg-config flags (the
        same library postie uses: a build dependency, so it is here)."""
        flags = subprocess.run(["pkg-config", "--cflags", "--libs",
                                "gnutls"], capture_output=True, text=True)
        if flags.returncode:
            die("pkg-config knows no gnutls (libgnutls28-dev)")
        self.floor_exe = os.path.join(self.w, "bench-floor")
        if subprocess.run(["cc", "-O2", "-o", self.floor_exe, FLOOR_C] +
                          flags.stdout.split()).returncode:
            die("cannot build %s" % FLOOR_C)

    def ensure_tools(self):
        """msmtp (the package, not msmtp-mta, which would take
        /usr/sbin/sendmail) and GNU time, installed when missing."""
        need = [pkg for pkg, exe in (("msmtp", "msmtp"),
                                     ("time", "/usr/bin/time"))
                if not shutil.which(exe)]
        if not need:
            return
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            die("%s not installed and cannot be installed here" %
                " and ".join(need))
        note("installing %s" % " ".join(need))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q",
                     "--no-install-recommends"] + need):
            if subprocess.run(cmd, env=env,
                              stdout=subprocess.DEVNULL).returncode != 0:
                die("cannot install %s" % " ".join(need))
        self.msmtp = shutil.which("msmtp") or die("no msmtp after install")

    def start_postfix(self):
        if subprocess.run(["sh", PFENV, "check", "--auth"]).returncode:
            die("the private Postfix is not available "
                "(sh tests/postfix-env.sh fetch)")
        self.pf = os.path.join(self.w, "pf")
        boxes = ["box-bench-%s" % t for t in self.boxes]
        if subprocess.run(["sh", PFENV, "start", self.pf, "--auth",
                           "--certs", os.path.join(self.w, "certs")] + boxes,
                          stdout=subprocess.DEVNULL).returncode:
            die("cannot start Postfix")
        self.env = {}
        with open(os.path.join(self.pf, "env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if k:
                    self.env[k] = shlex.split(v)[0] if v else ""
        self.certs = os.path.dirname(self.env["PF_CA_FILE"])
        self.sent = {t: 0 for t in self.boxes}

    def stop_postfix(self):
        if self.pf:
            subprocess.run(["sh", PFENV, "stop", self.pf])
            self.pf = None

    def delivered(self):
        """Every message a tool had accepted is in its Maildir."""
        for t in self.boxes:
            box, n = "box-bench-%s" % t, self.sent[t]
            if n == 0:
                continue
            r = subprocess.run(["sh", PFENV, "wait-mail", self.pf, box,
                                str(n), "600"], stdout=subprocess.DEVNULL)
            if r.returncode:
                die("%s: not all %d messages arrived" % (box, n))
        subprocess.run(["sh", PFENV, "settle", self.pf, "600"], check=True)
        for t in self.boxes:
            box, n = "box-bench-%s" % t, self.sent[t]
            got = int(subprocess.run(["sh", PFENV, "count", self.pf, box],
                                     capture_output=True,
                                     text=True).stdout.strip() or 0)
            if got != n:
                die("%s holds %d messages, not %d" % (box, got, n))

    def message(self, name, size):
        path = os.path.join(self.w, name)
        head = ("From: Bench <bench@postie.test>\n"
                "To: <box-bench@example.org>\n"
                "Subject: benchmark, %d bytes\n"
                "Date: Thu, 03 Dec 2026 12:00:00 +0000\n"
                "Message-ID: <bench-%d@postie.test>\n\n" % (size, size))
        line = "The quick brown fox jumps over the lazy dog, again.\n"
        body = (line * (size // len(line) + 1))
        with open(path, "w") as f:
            f.write((head + body)[:size - 1] + "\n")
        return path

    def config(self, tool, name, host, port, mode, extra=()):
        """A config file for TOOL; the same keywords for both tools."""
        mode = mode.split("-")[0]
        lines = ["account default", "host %s" % host, "port %d" % port,
                 "from bench@postie.test", "domain bench.postie.test",
                 "timeout 60", "syslog off"]
        if mode == "plain":
            lines += ["tls off", "auth off"]
        else:
            lines += ["tls on",
                      "tls_starttls %s" % ("on" if mode == "starttls"
                                           else "off"),
                      "tls_trust_file %s" % os.path.join(self.certs,
                                                         "ca.pem"),
                      "tls_host_override %s" % TLS_HOST,
                      "auth plain", "user %s" % self.env["PF_AUTH_USER"],
                      "password %s" % self.env["PF_AUTH_PASSWORD"]]
        if tool == "postie":
            qdir = os.path.join(self.w, "queue-" + name)
            lines += ["queue on", "queue_dir %s" % qdir]
        lines += list(extra)
        path = os.path.join(self.w, "%s-%s.conf" % (tool, name))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)
        return path

    def forget_sessions(self, tool, name, mode):
        """Before a "-full" run: postie's kept TLS sessions removed."""
        if tool == "postie" and mode.endswith("-full"):
            shutil.rmtree(os.path.join(self.w, "queue-" + name, "tls"),
                          ignore_errors=True)

    def cmd(self, tool, conf, rcpt):
        exe = self.postie if tool == "postie" else self.msmtp
        return [exe, "-C", conf, "-i", "-f", "bench@postie.test", rcpt]

    def port(self, mode):
        return int(self.env[{"plain": "PF_SMTP_PORT",
                             "starttls": "PF_SUBMISSION_PORT",
                             "smtps": "PF_SMTPS_PORT"}[mode.split("-")[0]]])

    def pf_config(self, tool, mode):
        return self.config(tool, "pf-" + mode, "127.0.0.1", self.port(mode),
                           mode)

    def check(self, rc, what):
        if rc != 0:
            die("%s exited %d" % (what, rc))

    # ---- wall --------------------------------------------------------------
    def wall(self):
        msg = self.message("msg-2k", 2048)
        for mode, label in MODES:
            note("wall: %s, %d runs each" % (label, self.a.runs))
            times = {t: [] for t in self.tools}
            confs = {t: self.pf_config(t, mode) for t in self.tools}
            for i in range(WARMUP + self.a.runs):
                for t in self.tools:
                    self.forget_sessions(t, "pf-" + mode, mode)
                    rc, el, _, _ = run(self.cmd(t, confs[t],
                                             "box-bench-%s@example.org" % t),
                                    msg)
                    self.check(rc, "%s (%s)" % (t, label))
                    self.sent[t] += 1
                    if i >= WARMUP:
                        times[t].append(el * 1000)
                    # Postfix delivers what it took (virtual(8), an
                    # fsync) before the next run starts: that work is
                    # not any client's, and on 2 cores it would land in
                    # the next run's time.
                    time.sleep(PAUSE)
            self.results["wall " + mode] = {
                t: quantiles(times[t]) for t in self.tools}
        for mode, _ in MODES:
            self.results["floor " + mode] = self.floor(mode, msg)
        self.delivered()

    def floor(self, mode, msg):
        """floor_client()'s quantiles for `mode` (a TLS session resumed
        from run to run unless the mode is "-full", as postie does)."""
        tls = None
        if mode != "plain":
            ctx = ssl.create_default_context(
                cafile=os.path.join(self.certs, "ca.pem"))
            cred = "\0%s\0%s" % (self.env["PF_AUTH_USER"],
                                  self.env["PF_AUTH_PASSWORD"])
            tls = {"ctx": ctx, "session": None,
                   "auth": b"AUTH PLAIN %s\r\n" % base64.b64encode(
                       cred.encode())}
        times = []
        for i in range(WARMUP + self.a.runs):
            if mode.endswith("-full"):
                tls["session"] = None
            el = floor_client(self.port(mode), msg, mode.split("-")[0], tls)
            self.sent["floor"] += 1
            time.sleep(PAUSE)
            if i >= WARMUP:
                times.append(el * 1000)
        return quantiles(times)

    # ---- rss ---------------------------------------------------------------
    def rss(self):
        msg = self.message("msg-1k", 1024)
        for mode in ("plain", "smtps"):
            peak = {}
            for t in self.tools:
                conf = self.pf_config(t, mode)
                peak[t] = 0
                for _ in range(3):
                    rc, _, _, kib = run(self.cmd(
                        t, conf, "box-bench-%s@example.org" % t), msg,
                        rss=True)
                    self.check(rc, t)
                    self.sent[t] += 1
                    peak[t] = max(peak[t], kib)
            self.results["rss 1k " + mode] = peak
        peak = 0
        for _ in range(3):
            rc, _, _, kib = run(self.floor_handshake(), msg, rss=True)
            self.check(rc, "bench-floor handshake")
            peak = max(peak, kib)
        self.results["rss floor"] = peak
        self.delivered()

    def floor_handshake(self):
        """One verified TLS handshake with Postfix's implicit TLS port and
        nothing else: what any GnuTLS client pays."""
        return [self.floor_exe, "handshake", str(self.port("smtps")),
                os.path.join(self.certs, "ca.pem"), TLS_HOST]

    # ---- instr -------------------------------------------------------------
    def instr(self):
        if not shutil.which("valgrind"):
            note("instr: no valgrind, section left out")
            return
        msg = self.message("msg-2k", 2048)
        for mode in ("plain", "starttls", "starttls-full"):
            counts = {}
            for t in self.tools:
                conf = self.pf_config(t, mode)
                out = os.path.join(self.w, "callgrind.err")
                cmd = ["valgrind", "--tool=callgrind",
                       "--callgrind-out-file=/dev/null",
                       "--log-file=" + out] + \
                    self.cmd(t, conf, "box-bench-%s@example.org" % t)
                # the second run counts: the first warms caches on disk
                for _ in range(2):
                    self.forget_sessions(t, "pf-" + mode, mode)
                    rc, _, _, _ = run(cmd, msg)
                    self.check(rc, "%s under callgrind" % t)
                    self.sent[t] += 1
                with open(out) as f:
                    m = re.search(r"Collected : (\d+)", f.read())
                counts[t] = int(m.group(1)) if m else None
            self.results["instr " + mode] = counts
        out = os.path.join(self.w, "callgrind.err")
        cmd = ["valgrind", "--tool=callgrind",
               "--callgrind-out-file=/dev/null",
               "--log-file=" + out] + self.floor_handshake()
        for _ in range(2):
            rc, _, _, _ = run(cmd, msg)
            self.check(rc, "bench-floor handshake under callgrind")
        with open(out) as f:
            m = re.search(r"Collected : (\d+)", f.read())
        self.results["instr floor"] = int(m.group(1)) if m else None
        self.delivered()

    # ---- big ---------------------------------------------------------------
    def big_message(self, mib):
        path = os.path.join(self.w, "msg-big")
        line = (b"The quick brown fox jumps over the lazy dog; " * 2)[:76]
        block = bytearray(b"Subject: bench\nTo: sink@example.org\n\n")
        while len(block) < 1 << 20:
            block += line + b"\n"
            block += b".a line that needs dot-stuffing\n"
        block = bytes(block[:(1 << 20) - 1]) + b"\n"
        with open(path, "wb") as f:
            for _ in range(mib):
                f.write(block)
        return path

    def start_sink(self, tls):
        pfile = os.path.join(self.w, "sink-port-%s" % tls)
        cmd = [sys.executable, __file__, "--sink", pfile]
        if tls:
            cmd += [os.path.join(self.certs, "valid.pem"),
                    os.path.join(self.certs, "valid.key")]
        proc = subprocess.Popen(cmd)
        for _ in range(200):
            if os.path.exists(pfile):
                break
            time.sleep(0.05)
        with open(pfile) as f:
            return proc, int(f.read())

    def big(self):
        mib = self.a.big_mib
        note("big: writing a %d MiB message" % mib)
        msg = self.big_message(mib)
        spool = os.path.join(self.w, "floor-spool")
        os.makedirs(spool, exist_ok=True)
        for tls in (False, True):
            proc, port = self.start_sink(tls)
            try:
                ctx = None
                if tls:
                    ctx = ssl.create_default_context(
                        cafile=os.path.join(self.certs, "ca.pem"))
                row = {"sink": sink_capacity(port, ctx, min(mib, 1024))}
                mode = "smtps" if tls else "plain"
                cmds = {t: self.cmd(t, self.config(
                    t, "sink-" + mode, "127.0.0.1", port, mode,
                    ["auth off"]), "sink@example.org") for t in self.tools}
                cmds["floor"] = [self.floor_exe, "spool", str(port), spool]
                if tls:
                    cmds["floor"] += [os.path.join(self.certs, "ca.pem"),
                                      TLS_HOST]
                # postie and the floor both write a spool, so they take
                # turns, BIG_ROUNDS times each, each going first in turn
                # (the first run meets the coldest memory); msmtp keeps
                # none and runs once (it takes longest).
                runs = {t: [] for t in cmds}
                for i in range(BIG_ROUNDS):
                    for t in (("postie", "floor"), ("floor", "postie"))[i % 2]:
                        runs[t].append(self.big_run(t, cmds[t], msg, tls))
                runs["msmtp"].append(self.big_run("msmtp", cmds["msmtp"],
                                                  msg, tls))
                for t, rs in runs.items():
                    mid = sorted(rs, key=lambda r: r["MB/s"])[len(rs) // 2]
                    row[t] = dict(mid, first=rs[0]["MB/s"],
                                  rss=max(r["rss"] for r in rs))
                self.results["big " + mode] = row
            finally:
                proc.kill()
                proc.wait()
        os.unlink(msg)

    def big_run(self, tool, cmd, msg, tls):
        note("big: %s, %s" % (tool, "TLS" if tls else "plain"))
        rc, el, ru, kib = run(cmd, msg, rss=True)
        self.check(rc, "%s to the sink" % tool)
        gib = self.a.big_mib / 1024
        return {"MB/s": (self.a.big_mib << 20) / el / 1e6,
                "user": ru.ru_utime / gib, "sys": ru.ru_stime / gib,
                "rss": kib}

    # ---- rtt ---------------------------------------------------------------
    def rtt(self):
        if not os.path.exists(NETDELAY):
            note("rtt: no tests/netdelay.py, section left out")
            return
        runs = max(5, self.a.runs // 5)
        msg = self.message("msg-2k", 2048)
        walls = {}
        for delay in (0, self.a.rtt_ms):
            nd = os.path.join(self.w, "link-%d" % delay)
            subprocess.run([sys.executable, NETDELAY, "start", nd,
                            "--rtt-ms", str(delay)], check=True,
                           stdout=subprocess.DEVNULL)
            try:
                walls[delay] = self.rtt_runs(nd, msg, runs)
            finally:
                subprocess.run([sys.executable, NETDELAY, "stop", nd])
        for mode, _ in MODES:
            self.results["rtt " + mode] = {
                t: (walls[self.a.rtt_ms][mode][t] - walls[0][mode][t]) /
                self.a.rtt_ms for t in self.tools}
        self.results["rtt ms"] = self.a.rtt_ms

    def rtt_runs(self, nd, msg, runs):
        env = {}
        with open(os.path.join(nd, "env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if k:
                    env[k] = shlex.split(v)[0] if v else ""
        addr = env["NETDELAY_SERVER"]
        scen = os.path.join(self.w, "fake.scenario")
        with open(scen, "w") as f:
            # what Postfix offers (CHUNKING since 3.4), AUTH PLAIN
            f.write("capabilities PIPELINING, SIZE 10485760, 8BITMIME, "
                    "ENHANCEDSTATUSCODES, CHUNKING\n"
                    "auth mechs PLAIN\nauth users %s:%s\n" % (
                        self.env["PF_AUTH_USER"],
                        self.env["PF_AUTH_PASSWORD"]))
        servers, ports = [], {}
        try:
            for name, wrap in (("starttls", False), ("smtps", True)):
                d = os.path.join(nd, "fake-" + name)
                cmd = [sys.executable, NETDELAY, "exec", nd, "server",
                       sys.executable, FAKESMTP, "--dir", d, "--scenario",
                       scen, "--listen", addr, "--connections", "0",
                       "--max-seconds", "3600",
                       "--tls-cert", os.path.join(self.certs, "valid.pem"),
                       "--tls-key", os.path.join(self.certs, "valid.key")]
                servers.append(subprocess.Popen(
                    cmd + (["--tls-wrap"] if wrap else [])))
                pfile = os.path.join(d, "port")
                for _ in range(200):
                    if os.path.exists(pfile):
                        break
                    time.sleep(0.05)
                with open(pfile) as f:
                    ports[name] = int(f.read())
            ports["plain"] = ports["starttls"]
            out = {}
            for mode, label in MODES:
                times = {t: [] for t in self.tools}
                confs = {t: self.config(t, "rtt-" + mode, addr,
                                        ports[mode.split("-")[0]], mode)
                         for t in self.tools}
                for i in range(2 + runs):
                    for t in self.tools:
                        self.forget_sessions(t, "rtt-" + mode, mode)
                        cmd = [sys.executable, NETDELAY, "exec", nd,
                               "client"] + self.cmd(t, confs[t],
                                                    "rtt@example.org")
                        rc, el, _, _ = run(cmd, msg)
                        self.check(rc, "%s (%s, delayed link)" % (t, label))
                        if i >= 2:
                            times[t].append(el * 1000)
                out[mode] = {t: statistics.median(times[t])
                             for t in self.tools}
            return out
        finally:
            for s in servers:
                s.terminate()
                s.wait()

    # ---- queue -------------------------------------------------------------
    def queue(self):
        note("queue: flushing %d messages (postie, then msmtpq)" %
             self.a.queue_n)
        r = subprocess.run(["sh", os.path.join(HERE, "bench-queue.sh"),
                            self.postie, str(self.a.queue_n)],
                           capture_output=True, text=True)
        if r.returncode:
            sys.stderr.write(r.stderr)
            die("bench-queue.sh failed")
        rates = {}
        for line in r.stdout.splitlines():
            m = re.match(r"(postie|msmtpq) flush .* ([\d.]+)$", line)
            if m:
                rates["postie" if m.group(1) == "postie" else "msmtp"] = \
                    float(m.group(2))
        rates["n"] = self.a.queue_n
        self.results["queue"] = rates

    # ---- report ------------------------------------------------------------
    def machine(self):
        ver = "?"
        try:
            import ctypes
            lib = ctypes.CDLL("libgnutls.so.30")
            lib.gnutls_check_version.restype = ctypes.c_char_p
            ver = lib.gnutls_check_version(None).decode()
        except OSError:
            pass
        model = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        pv = subprocess.run([self.postie, "--version"], capture_output=True,
                            text=True).stdout.splitlines()
        mv = subprocess.run([self.msmtp, "--version"], capture_output=True,
                            text=True).stdout.splitlines()
        return {"cores": os.cpu_count(), "cpu": model,
                "kernel": platform.release(),
                "gnutls": ver,
                "postie": pv[0] if pv else "?",
                "msmtp": mv[0] if mv else "?"}

    def report(self):
        m = self.results["machine"]
        print("machine: %d cores (%s), Linux %s, GnuTLS %s" % (
            m["cores"], m["cpu"], m["kernel"], m["gnutls"]))
        print("tools:   %s; %s" % (m["postie"], m["msmtp"]))
        print("%-44s %12s %12s %8s" % ("", "postie", "msmtp",
                                       "postie/msmtp"))
        r = self.results

        def row(label, p, q, fmt="%12.1f"):
            ps = fmt % p if p is not None else "%12s" % "-"
            qs = fmt % q if q is not None else "%12s" % "-"
            ratio = "%8.2f" % (p / q) if p and q else "%8s" % "-"
            print("%-44s %s %s %s" % (label, ps, qs, ratio))

        for mode, label in MODES:
            k = "wall " + mode
            if k in r:
                for i, what in enumerate(("median", "p90", "min")):
                    row("wall ms, %s, %s" % (label, what),
                        r[k]["postie"][i], r[k]["msmtp"][i], "%12.2f")
                row("  p90/min, %s" % label,
                    r[k]["postie"][1] / r[k]["postie"][2],
                    r[k]["msmtp"][1] / r[k]["msmtp"][2], "%12.2f")
        for mode, label in MODES:
            k = "floor " + mode
            if k in r:
                print("%-44s %12.2f  (p90/min %.2f)" % (
                    "  least a client takes, %s" % label, r[k][0],
                    r[k][1] / r[k][2]))
        for mode, label in MODES:
            k = "rtt " + mode
            if k in r:
                row("round trips at %d ms RTT, %s" % (r["rtt ms"], label),
                    r[k]["postie"], r[k]["msmtp"], "%12.1f")
        def floor(label, value, fmt):
            print("%-44s %s" % ("  least a client takes, " + label,
                                 fmt % value))

        for mode, label in (("plain", "plain"), ("smtps", "TLS")):
            k = "big " + mode
            if k in r:
                b, f = r[k], r[k]["floor"]
                mib = self.a.big_mib
                row("%d MiB %s: MB/s (sink alone %.0f)" % (
                    mib, label, b["sink"]), b["postie"]["MB/s"],
                    b["msmtp"]["MB/s"], "%12.0f")
                floor("spool + send", f["MB/s"], "%12.0f")
                row("  first of %d runs (memory new to the kernel)" %
                    BIG_ROUNDS, b["postie"]["first"], b["msmtp"]["first"],
                    "%12.0f")
                floor("first run", f["first"], "%12.0f")
                row("%d MiB %s: user CPU s per GiB" % (mib, label),
                    b["postie"]["user"], b["msmtp"]["user"], "%12.2f")
                row("%d MiB %s: system CPU s per GiB" % (mib, label),
                    b["postie"]["sys"], b["msmtp"]["sys"], "%12.2f")
                floor("user + system", f["user"] + f["sys"], "%12.2f")
                row("%d MiB %s: peak RSS KiB" % (mib, label),
                    b["postie"]["rss"], b["msmtp"]["rss"], "%12d")
        for mode, label in (("plain", "plain"), ("smtps", "implicit TLS")):
            k = "rss 1k " + mode
            if k in r:
                row("1 KB message, %s: peak RSS KiB" % label,
                    r[k]["postie"], r[k]["msmtp"], "%12d")
        if "rss floor" in r:
            floor("one TLS handshake", r["rss floor"], "%12d")
        for mode, label in (("plain", "plain"),
                            ("starttls", "STARTTLS + AUTH"),
                            ("starttls-full", "STARTTLS + AUTH, full")):
            k = "instr " + mode
            if k in r:
                row("instructions (M), %s" % label,
                    r[k]["postie"] / 1e6 if r[k]["postie"] else None,
                    r[k]["msmtp"] / 1e6 if r[k]["msmtp"] else None,
                    "%12.2f")
        if r.get("instr floor"):
            floor("one TLS handshake", r["instr floor"] / 1e6, "%12.2f")
        if "queue" in r:
            q = r["queue"]
            row("queue flush, %d messages: messages/s (msmtpq)" % q["n"],
                q.get("postie"), q.get("msmtp"), "%12.1f")

    def main(self):
        want = self.a.only.split(",") if self.a.only else SECTIONS
        for s in want:
            if s not in SECTIONS:
                die("unknown section '%s' (%s)" % (s, ", ".join(SECTIONS)))
        self.ensure_tools()
        self.build_floor()
        try:
            self.start_postfix()
            self.results["machine"] = self.machine()
            for s in SECTIONS:
                if s in want and s != "queue":
                    getattr(self, s)()
            self.stop_postfix()
            if "queue" in want:
                self.queue()
        finally:
            self.stop_postfix()
            shutil.rmtree(self.w, ignore_errors=True)
        self.report()
        if self.a.json:
            with open(self.a.json, "w") as f:
                json.dump(self.results, f, indent=1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--sink":
        sink(*sys.argv[2:])
        return
    ap = argparse.ArgumentParser(prog="bench.py")
    ap.add_argument("postie")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--queue-n", type=int, default=2000)
    ap.add_argument("--rtt-ms", type=int, default=51)
    ap.add_argument("--only", default="")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    if os.geteuid() != 0:
        die("run me as root (Postfix, network namespaces)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    Bench(args).main()


if __name__ == "__main__":
    main()
