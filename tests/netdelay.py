#!/usr/bin/env python3
"""netdelay.py -- a private network link with an added round-trip delay.

Python 3.11 standard library only (ctypes for setns(2) and prctl(2)); runs
as root on Linux.  The benchmark counts SMTP round trips: it runs postie in
one network namespace and a server in another, with a link between them
that adds a known delay, so that every round trip postie waits for shows
up as time.

WHY NOT tc/netem
    This kernel has no sch_netem, so the delay cannot come from a qdisc.

WHY TUN AND NOT A TCP PROXY
    A proxy that accepts the connection and opens another one terminates
    TCP: the client then talks to the proxy's kernel, and the proxy decides
    when bytes go on.  That hides the client's own segmentation, Nagle and
    delayed-ACK behaviour -- exactly what the benchmark must see.  Here
    each IP packet is carried as it is, so the two TCP stacks talk to each
    other end to end and only the wire is slower.

HOW IT WORKS
    Two new network namespaces, "client" and "server", are each held open
    by a holder process (`unshare --net sleep infinity`).  A forwarder
    process enters each namespace with setns(2), opens a TUN device there
    (IFF_TUN|IFF_NO_PI: bare IP packets, MTU 1500) and configures it:

        client  nd-client  10.254.0.1/32; routes to 10.254.0.2, .3, .4
        server  nd-server  10.254.0.2/32, .3/32 and .4/32; route to
                           10.254.0.1

    (plus lo up, rp_filter off).  Nothing changes in the machine's own
    namespace: no device, route or /run/netns name is added there.  The
    forwarder then reads every packet from one TUN device and writes it to
    the other RTT/2 ms later, in each direction, so a TCP connect (SYN,
    SYN-ACK) costs one RTT.  The delay is the same for every packet, so
    each direction's queue is a FIFO ordered by due time: order is kept,
    and the next due time is its head.  The loop sleeps in select(2),
    whose timeout has microsecond resolution (poll and epoll have
    milliseconds, which would add up to 1 ms per hop), with the timer
    slack set to 1 ns.  Even so a sleep of 10-25 ms overruns by 0.1-0.2
    ms on this VM, so the loop sleeps only until 0.5 ms before a due
    time and polls (select with a zero timeout, still reading new
    packets) from there: a held packet then goes out within a few
    microseconds of its due time, for at most 0.5 ms of CPU per due time
    (a 2 KB SMTP session over a 20 ms link costs the forwarder about
    9 ms of CPU).  With --rtt-ms 0 a packet is written as soon as it is
    read.  At exit the forwarder logs how late held packets went out.

    Packets to a --drop address are discarded: a SYN to it gets no answer
    at all (a blackhole, for a Happy Eyeballs test).  10.254.0.3 is the
    address meant for that: it belongs to the server and the client routes
    it into the link, so without --drop it answers like 10.254.0.2;
    10.254.0.4 is a second one, for two black holes at once.

    The TCP stacks in the new namespaces start with the kernel's default
    net.* sysctls, not the machine's (e.g. tcp_congestion_control may
    differ): that is the same for every run, which is what matters here.

USAGE
    netdelay.py start DIR [--rtt-ms R] [--drop ADDR]...
        Set everything up (DIR is created if missing) and return once a
        real TCP connect from the client namespace to a listener in the
        server namespace has worked.  R is the added round-trip time in
        milliseconds (default 0).
    netdelay.py exec DIR client|server CMD [ARG]...
        Run CMD inside that namespace: the process execs CMD, so stdin,
        stdout, stderr, the exit status, uid, cwd and environment are the
        caller's.  Exit 127 if CMD is not found, 126 if it cannot run.
    netdelay.py stop DIR
        Kill every process left inside either namespace, then the
        forwarder and the holders.  Safe to repeat; removes no file.
    netdelay.py selftest
        Start links for RTT 0, 20 and 51 ms in a temporary directory,
        measure the TCP connect time and a small request/response time
        (median of 20) and check that a --drop address does not answer
        within 1 s.  Exit 1 if a figure is more than 1 ms off the asked
        RTT, or the blackhole answers.

FILES (in DIR)
    env             shell assignments, e.g. for `set -a; . DIR/env`:
                      NETDELAY_CLIENT=10.254.0.1
                      NETDELAY_SERVER=10.254.0.2
                      NETDELAY_CLIENT_NS=/proc/PID/ns/net
                      NETDELAY_SERVER_NS=/proc/PID/ns/net
                      NETDELAY_RTT_MS=R
                      NETDELAY_SERVER_ALT=10.254.0.3
                      NETDELAY_DROP='ADDR ...'   (empty: none)
                    written only once the link works
    pids            one line per process: ROLE PID STARTTIME, ROLE being
                    client, server (the holders) or forwarder; STARTTIME
                    (field 22 of /proc/PID/stat) guards against pid reuse
    forwarder.pid   the forwarder's pid
    forwarder.log   what the forwarder said: errors, and its packet counts
                    when it stops

EXIT STATUS
    0 success, 1 failure (a message on stderr), 2 usage error.
"""

import argparse
import contextlib
import ctypes
import fcntl
import ipaddress
import math
import os
import select
import shlex
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import deque

PROG = "netdelay"
ROLES = ("client", "server")
CLIENT_ADDR = "10.254.0.1"
SERVER_ADDR = "10.254.0.2"
SERVER_ALT_ADDR = "10.254.0.3"
SERVER_ALT2_ADDR = "10.254.0.4"     # a second address to black-hole
DEVICE = {"client": "nd-client", "server": "nd-server"}

# ip(8) batch input run inside each namespace once its TUN device exists.
IP_SETUP = {
    "client": [
        "link set lo up",
        "link set nd-client up",
        "address add %s/32 dev nd-client" % CLIENT_ADDR,
        "route add %s/32 dev nd-client src %s" % (SERVER_ADDR, CLIENT_ADDR),
        "route add %s/32 dev nd-client src %s" % (SERVER_ALT_ADDR,
                                                  CLIENT_ADDR),
        "route add %s/32 dev nd-client src %s" % (SERVER_ALT2_ADDR,
                                                  CLIENT_ADDR),
    ],
    "server": [
        "link set lo up",
        "link set nd-server up",
        "address add %s/32 dev nd-server" % SERVER_ADDR,
        "address add %s/32 dev nd-server" % SERVER_ALT_ADDR,
        "address add %s/32 dev nd-server" % SERVER_ALT2_ADDR,
        "route add %s/32 dev nd-server src %s" % (CLIENT_ADDR, SERVER_ADDR),
    ],
}

RTT_MAX_MS = 10000.0
READ_SIZE = 65536       # more than any packet a TUN device can hand over
READ_BURST = 64         # packets read from one device per wakeup, at most
QUEUE_LIMIT = 4096      # packets held per direction; more are lost
SPIN_MARGIN = 0.0005    # seconds before a due time to stop sleeping
LATE_SAMPLES = 100000   # how late packets went out: the last so many
START_TIMEOUT = 10.0    # seconds for the namespaces and forwarder to appear
KILL_GRACE = 2.0        # seconds between SIGTERM and SIGKILL

SELFTEST_RTTS = (0, 20, 51)
SELFTEST_SAMPLES = 20
SELFTEST_TOLERANCE_MS = 1.0

CLONE_NEWNET = 0x40000000
PR_SET_TIMERSLACK = 29
TUNSETIFF = 0x400454ca
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

_libc = ctypes.CDLL(None, use_errno=True)


class Failure(Exception):
    """An error worth one line on stderr and exit status 1."""


def _check(ret):
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def setns(fd):
    """Move the calling thread into the network namespace open as fd."""
    _check(_libc.setns(fd, CLONE_NEWNET))


@contextlib.contextmanager
def netns(path):
    """Run the body inside the network namespace at path, then return.

    Sockets made inside stay in that namespace after the body ends."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(home)


def format_ms(ms):
    return "%g" % ms


# --- processes -------------------------------------------------------------

def proc_stat(pid):
    """(state, starttime) of pid from /proc/PID/stat, or None if gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return fields[0].decode(), int(fields[19])


def alive(pid, start):
    """True if pid runs and is the process that started at start."""
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X") and st[1] == start


def ns_name(pid):
    """The "net:[INODE]" name of pid's network namespace, or None."""
    try:
        return os.readlink("/proc/%s/ns/net" % pid)
    except OSError:
        return None


def end_processes(procs):
    """SIGTERM every {pid: starttime} still alive, SIGKILL the stubborn."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        left = {p: s for p, s in procs.items() if alive(p, s)}
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + KILL_GRACE
        while left and time.monotonic() < deadline:
            time.sleep(0.01)
            left = {p: s for p, s in left.items() if alive(p, s)}
        if not left:
            return True
    return False


def procs_in(names):
    """{pid: starttime} of the live processes in the namespaces named."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or ns_name(entry) not in names:
            continue
        st = proc_stat(int(entry))
        if st is not None and st[0] not in ("Z", "X"):
            found[int(entry)] = st[1]
    return found


def read_pids(dirpath):
    """{role: (pid, starttime)} from DIR/pids; {} if there is none."""
    procs = {}
    try:
        with open(os.path.join(dirpath, "pids")) as f:
            for line in f:
                role, pid, start = line.split()
                procs[role] = (int(pid), int(start))
    except FileNotFoundError:
        pass
    except ValueError:
        raise Failure("'%s' is not a pids file"
                      % os.path.join(dirpath, "pids"))
    return procs


def write_file(path, text):
    """Write path whole: a reader sees the old contents or the new."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def read_env(dirpath):
    env = {}
    with open(os.path.join(dirpath, "env")) as f:
        for line in f:
            name, _, value = line.rstrip("\n").partition("=")
            env[name] = " ".join(shlex.split(value))
    return env


# --- start -----------------------------------------------------------------

def start(dirpath, rtt_ms, drops):
    os.makedirs(dirpath, exist_ok=True)
    for role, (pid, st) in read_pids(dirpath).items():
        if alive(pid, st):
            raise Failure("a link is already running in '%s' (%s %d); "
                          "stop it first" % (dirpath, role, pid))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(dirpath, "env"))

    started = {}
    try:
        holders = start_holders(started)
        fwd = start_forwarder(dirpath, holders, rtt_ms, drops, started)
        lines = ["%s %d %d\n" % (role, pid, started[pid])
                 for role, pid in (("client", holders["client"]),
                                   ("server", holders["server"]),
                                   ("forwarder", fwd))]
        write_file(os.path.join(dirpath, "pids"), "".join(lines))
        write_file(os.path.join(dirpath, "forwarder.pid"), "%d\n" % fwd)

        nspath = {r: "/proc/%d/ns/net" % holders[r] for r in ROLES}
        timeout = 3.0 + 3 * rtt_ms / 1000.0
        targets = [SERVER_ADDR] + [a for a in (SERVER_ALT_ADDR,
                                               SERVER_ALT2_ADDR)
                                   if a not in drops]
        for addr in targets:
            try:
                check_connect(nspath, addr, timeout)
            except OSError as e:
                raise Failure("the link does not work: a TCP connect "
                              "to %s: %s" % (addr, e))

        env = [("NETDELAY_CLIENT", CLIENT_ADDR),
               ("NETDELAY_SERVER", SERVER_ADDR),
               ("NETDELAY_CLIENT_NS", nspath["client"]),
               ("NETDELAY_SERVER_NS", nspath["server"]),
               ("NETDELAY_RTT_MS", format_ms(rtt_ms)),
               ("NETDELAY_SERVER_ALT", SERVER_ALT_ADDR),
               ("NETDELAY_DROP", " ".join(drops))]
        write_file(os.path.join(dirpath, "env"),
                   "".join("%s=%s\n" % (n, shlex.quote(v)) for n, v in env))
    except BaseException:
        end_processes(started)
        raise


def start_holders(started):
    """Start one `unshare --net sleep infinity` per role; {role: pid}."""
    holders = {}
    procs = {}
    for role in ROLES:
        try:
            p = subprocess.Popen(
                ["unshare", "--net", "--", "sleep", "infinity"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, cwd="/", start_new_session=True)
        except OSError as e:
            raise Failure("cannot run 'unshare': %s" % e.strerror)
        procs[role] = p
        holders[role] = p.pid
        st = proc_stat(p.pid)
        started[p.pid] = st[1] if st is not None else 0

    # unshare(2) happens after Popen returns: wait for the namespace.
    home = ns_name("self")
    deadline = time.monotonic() + START_TIMEOUT
    for role, p in procs.items():
        while ns_name(p.pid) in (home, None):
            if p.poll() is not None:
                msg = p.stderr.read().decode(errors="replace").strip()
                raise Failure("cannot make a network namespace: %s"
                              % (msg or "unshare exited %d"
                                 % p.returncode))
            if time.monotonic() > deadline:
                raise Failure("the %s namespace did not appear" % role)
            time.sleep(0.002)
        p.stderr.close()
    return holders


def start_forwarder(dirpath, holders, rtt_ms, drops, started):
    """Start the forwarder and wait until its devices are set up."""
    logpath = os.path.join(dirpath, "forwarder.log")
    cmd = [sys.executable, os.path.abspath(__file__), "_forward",
           "--client-ns", "/proc/%d/ns/net" % holders["client"],
           "--server-ns", "/proc/%d/ns/net" % holders["server"],
           "--rtt-ms", repr(rtt_ms)]
    for addr in drops:
        cmd += ["--drop", addr]
    rfd, wfd = os.pipe()
    try:
        with open(logpath, "ab") as log:
            p = subprocess.Popen(cmd + ["--ready-fd", str(wfd)],
                                 stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=log, cwd="/", pass_fds=(wfd,),
                                 start_new_session=True)
        st = proc_stat(p.pid)
        started[p.pid] = st[1] if st is not None else 0
        os.close(wfd)
        wfd = -1
        said = b""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            r, _, _ = select.select([rfd], [], [],
                                    deadline - time.monotonic())
            if not r:
                break
            chunk = os.read(rfd, 256)
            if not chunk:
                break
            said += chunk
    finally:
        os.close(rfd)
        if wfd >= 0:
            os.close(wfd)
    if said != b"ready\n":
        raise Failure("the forwarder did not start; see '%s'" % logpath)
    return p.pid


def check_connect(nspath, addr, timeout):
    """Connect from the client namespace to a listener on addr in the
    server namespace and send one byte each way; OSError if it fails."""
    with contextlib.ExitStack() as stack:
        with netns(nspath["server"]):
            lsock = stack.enter_context(socket.socket())
            lsock.bind((addr, 0))
            lsock.listen(1)
        with netns(nspath["client"]):
            csock = stack.enter_context(socket.socket())
        lsock.settimeout(timeout)
        csock.settimeout(timeout)
        csock.connect(lsock.getsockname())
        conn = stack.enter_context(lsock.accept()[0])
        conn.settimeout(timeout)
        csock.sendall(b"?")
        if conn.recv(1) != b"?":
            raise OSError("the byte sent did not arrive")
        conn.sendall(b"!")
        if csock.recv(1) != b"!":
            raise OSError("the byte sent back did not arrive")


# --- the forwarder ---------------------------------------------------------

class Forwarder:
    """Moves packets between two TUN fds, each held for hold seconds."""

    def __init__(self, fds, hold, drops):
        self.fds = fds                  # {role: fd}
        self.hold = hold
        self.drops = drops              # set of packed addresses
        self.peer = {fds["client"]: fds["server"],
                     fds["server"]: fds["client"]}
        self.queue = {fd: deque() for fd in self.peer}  # (due, packet)
        self.forwarded = 0
        self.dropped = 0
        self.lost = 0
        self.late = deque(maxlen=LATE_SAMPLES)  # seconds past due
        self.stopping = False

    def run(self, wake_fd):
        readers = list(self.peer) + [wake_fd]
        while not self.stopping:
            now = time.monotonic()
            due = None
            for src, q in self.queue.items():
                while q and q[0][0] <= now:
                    t, pkt = q.popleft()
                    self.late.append(now - t)
                    self.put(self.peer[src], pkt)
                if q and (due is None or q[0][0] < due):
                    due = q[0][0]
            # Sleep until SPIN_MARGIN before the next due time, then
            # poll: a sleep here overruns by 0.1-0.2 ms.
            timeout = None if due is None else max(0.0,
                                                   due - now - SPIN_MARGIN)
            try:
                ready, _, _ = select.select(readers, [], [], timeout)
            except InterruptedError:
                continue
            for fd in ready:
                if fd == wake_fd:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_fd, 64)
                else:
                    self.take(fd)

    def take(self, src):
        """Read what src has (a bounded burst) and queue or send it."""
        for _ in range(READ_BURST):
            try:
                pkt = os.read(src, READ_SIZE)
            except BlockingIOError:
                return
            except InterruptedError:
                continue
            now = time.monotonic()
            if not pkt or self.blackholed(pkt):
                self.dropped += 1
            elif self.hold == 0:
                self.put(self.peer[src], pkt)
            elif len(self.queue[src]) >= QUEUE_LIMIT:
                self.lost += 1
            else:
                self.queue[src].append((now + self.hold, pkt))

    def blackholed(self, pkt):
        version = pkt[0] >> 4
        if version == 4:
            return pkt[16:20] in self.drops
        if version == 6:
            return pkt[24:40] in self.drops
        return False

    def put(self, dst, pkt):
        while True:
            try:
                os.write(dst, pkt)
                self.forwarded += 1
                return
            except InterruptedError:
                continue
            except OSError as e:
                self.lost += 1
                if self.lost <= 10:
                    log("cannot write a packet of %d bytes: %s"
                        % (len(pkt), e.strerror))
                return


def log(msg):
    sys.stderr.write("%s %s forwarder[%d]: %s\n"
                     % (time.strftime("%Y-%m-%d %H:%M:%S"), PROG,
                        os.getpid(), msg))
    sys.stderr.flush()


def open_tun(name):
    try:
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise Failure("cannot open '/dev/net/tun': %s" % e.strerror)
    try:
        ifr = struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI)
        fcntl.ioctl(fd, TUNSETIFF, ifr)
    except OSError as e:
        os.close(fd)
        raise Failure("cannot make TUN device '%s': %s" % (name, e.strerror))
    return fd


def set_sysctl(path, value):
    with open("/proc/sys/net/" + path, "w") as f:
        f.write(value)


def configure(role):
    """Set up lo and role's TUN device in the current namespace."""
    dev = DEVICE[role]
    # A fresh namespace has rp_filter 0 here; make sure of it anyway:
    # the source check must never eat a packet of the link.
    for conf in ("all", "default", dev):
        set_sysctl("ipv4/conf/%s/rp_filter" % conf, "0")
    batch = "".join(line + "\n" for line in IP_SETUP[role])
    try:
        r = subprocess.run(["ip", "-batch", "-"], input=batch.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        raise Failure("cannot run 'ip': %s" % e.strerror)
    if r.returncode != 0:
        raise Failure("cannot set up the %s namespace: %s"
                      % (role, r.stdout.decode(errors="replace").strip()))


def forward(args):
    """The forwarder's main: set up, say "ready", forward until SIGTERM."""
    hold = args.rtt_ms / 2000.0
    drops = {ipaddress.ip_address(a).packed for a in args.drop}
    nspath = {"client": args.client_ns, "server": args.server_ns}
    ready = args.ready_fd

    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    fwd = None

    def on_signal(signum, frame):
        if fwd is not None:
            fwd.stopping = True
        else:
            raise SystemExit(0)

    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # select() sleeps may overrun by the timer slack (50 us by default).
    _check(_libc.prctl(PR_SET_TIMERSLACK, ctypes.c_ulong(1), 0, 0, 0))

    fds = {}
    nsfds = []
    try:
        for role in ROLES:
            # This fd stays open: `stop` finds the namespace through it.
            nsfds.append(os.open(nspath[role], os.O_RDONLY | os.O_CLOEXEC))
            with netns(nspath[role]):
                fds[role] = open_tun(DEVICE[role])
                configure(role)
    except (Failure, OSError) as e:
        log(str(e))
        return 1
    fwd = Forwarder(fds, hold, drops)
    log("forwarding, rtt %s ms, drop %s"
        % (format_ms(args.rtt_ms), " ".join(args.drop) or "nothing"))
    os.write(ready, b"ready\n")
    os.close(ready)

    fwd.run(wake_r)

    for fd in list(fds.values()) + nsfds:
        os.close(fd)
    log("stopped: %d packets forwarded, %d dropped, %d lost"
        % (fwd.forwarded, fwd.dropped, fwd.lost))
    if fwd.late:
        late = sorted(fwd.late)
        log("held packets went out late by %s (median, 90%%, 99%%, max)"
            % ", ".join("%.0f us" % (late[i] * 1e6) for i in
                        (len(late) // 2, len(late) * 9 // 10,
                         len(late) * 99 // 100, -1)))
    return 0


# --- exec, stop ------------------------------------------------------------

def run_in(dirpath, role, argv):
    """Exec argv inside role's namespace; returns only on failure."""
    if not argv:
        raise Failure("exec: no command given")
    procs = read_pids(dirpath)
    if role not in procs:
        raise Failure("no link in '%s'" % dirpath)
    pid, st = procs[role]
    try:
        fd = os.open("/proc/%d/ns/net" % pid, os.O_RDONLY | os.O_CLOEXEC)
    except PermissionError as e:
        raise Failure("cannot enter the %s namespace: %s"
                      % (role, e.strerror))
    except OSError:
        fd = -1
    # Checked after the open: the fd then names the holder's namespace.
    if fd < 0 or not alive(pid, st):
        raise Failure("the link in '%s' is not running" % dirpath)
    try:
        setns(fd)
    except OSError as e:
        raise Failure("cannot enter the %s namespace: %s"
                      % (role, e.strerror))
    os.close(fd)
    # Python ignores these two; an exec'd program must not inherit that.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        sys.stderr.write("%s: cannot run '%s': %s\n"
                         % (PROG, argv[0], e.strerror))
        return 127 if isinstance(e, FileNotFoundError) else 126


def stop(dirpath):
    procs = read_pids(dirpath)
    live = {role: p for role, p in procs.items() if alive(*p)}

    # The namespaces are known through live holders and the forwarder's
    # namespace fds; once they are gone there is nothing left to find.
    names = set()
    for role in ROLES:
        if role in live:
            names.add(ns_name(live[role][0]))
    if "forwarder" in live:
        fdir = "/proc/%d/fd" % live["forwarder"][0]
        with contextlib.suppress(OSError):
            for fd in os.listdir(fdir):
                with contextlib.suppress(OSError):
                    link = os.readlink(os.path.join(fdir, fd))
                    if link.startswith("net:["):
                        names.add(link)
        # Never the machine's own namespace, whatever happens.
        names.discard(ns_name(live["forwarder"][0]))
    names.discard(ns_name(1))
    names.discard(None)

    keep = {p[0] for p in live.values()} | {os.getpid()}
    ok = True
    for _ in range(10):
        victims = {p: s for p, s in procs_in(names).items() if p not in keep}
        if not victims:
            break
        ok = end_processes(victims) and ok
    if "forwarder" in live:
        ok = end_processes(dict([live["forwarder"]])) and ok
    ok = end_processes(dict(live[r] for r in ROLES if r in live)) and ok
    if not ok:
        raise Failure("some processes of '%s' would not die" % dirpath)


# --- selftest --------------------------------------------------------------

def selftest():
    me = os.path.abspath(__file__)
    results = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="netdelay-") as tmp:
        for rtt in SELFTEST_RTTS:
            d = os.path.join(tmp, "rtt%d" % rtt)
            cmd = [sys.executable, me, "start", d, "--rtt-ms", str(rtt),
                   "--drop", SERVER_ALT_ADDR]
            try:
                if subprocess.run(cmd).returncode != 0:
                    raise Failure("start failed for rtt %d ms" % rtt)
                results[rtt] = measure(read_env(d))
            finally:
                subprocess.run([sys.executable, me, "stop", d])

    print("%s selftest: median of %d, in ms; \"added\" is over the 0 ms link"
          % (PROG, SELFTEST_SAMPLES))
    print("%6s %9s %7s %7s %9s %7s %7s  %s" % ("asked", "connect", "off",
          "added", "req/resp", "off", "added", "blackhole"))
    base = results[SELFTEST_RTTS[0]]
    for rtt in SELFTEST_RTTS:
        conn, rr, hole = results[rtt]
        bad = (abs(conn - rtt) > SELFTEST_TOLERANCE_MS
               or abs(rr - rtt) > SELFTEST_TOLERANCE_MS or hole != "silent")
        failed = failed or bad
        added = (lambda v, b: "-" if rtt == 0 else "%.3f" % (v - b))
        print("%6.1f %9.3f %+7.3f %7s %9.3f %+7.3f %7s  %-9s %s"
              % (rtt, conn, conn - rtt, added(conn, base[0]), rr, rr - rtt,
                 added(rr, base[1]), hole, "FAIL" if bad else "ok"))
    return 1 if failed else 0


def measure(env):
    """(connect ms, request/response ms, blackhole verdict) on a link."""
    server = env["NETDELAY_SERVER"]
    with netns(env["NETDELAY_SERVER_NS"]):
        lsock = socket.socket()
        lsock.bind((server, 0))
        lsock.listen(64)
    port = lsock.getsockname()[1]
    child = os.fork()
    if child == 0:
        try:
            signal.alarm(120)
            echo_server(lsock)
        finally:
            os._exit(0)
    lsock.close()
    try:
        with netns(env["NETDELAY_CLIENT_NS"]):
            conn = [time_connect(server, port)
                    for _ in range(SELFTEST_SAMPLES + 1)][1:]
            rr = time_requests(server, port)
            hole = try_blackhole(env["NETDELAY_SERVER_ALT"], port)
    finally:
        os.kill(child, signal.SIGTERM)
        os.waitpid(child, 0)
    return statistics.median(conn), statistics.median(rr), hole


def echo_server(lsock):
    while True:
        conn, _ = lsock.accept()
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                conn.sendall(data)


def time_connect(addr, port):
    with socket.socket() as s:
        s.settimeout(5)
        t0 = time.perf_counter()
        s.connect((addr, port))
        return (time.perf_counter() - t0) * 1000


def time_requests(addr, port):
    times = []
    request = b"x" * 64
    with socket.socket() as s:
        s.settimeout(5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.connect((addr, port))
        for i in range(SELFTEST_SAMPLES + 2):
            t0 = time.perf_counter()
            s.sendall(request)
            got = 0
            while got < len(request):
                data = s.recv(4096)
                if not data:
                    raise Failure("the echo server closed the connection")
                got += len(data)
            if i >= 2:
                times.append((time.perf_counter() - t0) * 1000)
    return times


def try_blackhole(addr, port):
    """"silent" if a connect to addr gets no answer within 1 s."""
    with socket.socket() as s:
        s.settimeout(1.0)
        try:
            s.connect((addr, port))
        except TimeoutError:
            return "silent"
        except OSError as e:
            return "answered (%s)" % (e.strerror or e)
        return "answered"


# --- command line ----------------------------------------------------------

def rtt_arg(text):
    try:
        ms = float(text)
    except ValueError:
        ms = math.nan
    if not 0 <= ms <= RTT_MAX_MS:
        raise argparse.ArgumentTypeError(
            "'%s' is not a number of milliseconds from 0 to %g"
            % (text, RTT_MAX_MS))
    return ms


def addr_arg(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not an IP address" % text)


def main():
    ap = argparse.ArgumentParser(
        prog="netdelay.py",
        description="a private network link with an added round-trip delay")
    sub = ap.add_subparsers(dest="cmd", required=True,
                            metavar="{start,exec,stop,selftest}")
    p = sub.add_parser("start", help="set up a link in DIR")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--rtt-ms", type=rtt_arg, default=0.0, metavar="R",
                   help="added round-trip time in ms (default 0)")
    p.add_argument("--drop", type=addr_arg, action="append", default=[],
                   metavar="ADDR", help="discard packets to ADDR")
    p = sub.add_parser("exec", help="run a command in a namespace")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("side", choices=ROLES)
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD")
    p = sub.add_parser("stop", help="stop the link in DIR")
    p.add_argument("dir", metavar="DIR")
    sub.add_parser("selftest", help="measure links of 0, 20 and 51 ms")
    p = sub.add_parser("_forward")      # internal: run by start
    p.add_argument("--client-ns", required=True)
    p.add_argument("--server-ns", required=True)
    p.add_argument("--rtt-ms", type=rtt_arg, required=True)
    p.add_argument("--drop", type=addr_arg, action="append", default=[])
    p.add_argument("--ready-fd", type=int, required=True)
    args = ap.parse_args()

    try:
        if args.cmd == "start":
            start(args.dir, args.rtt_ms, args.drop)
        elif args.cmd == "exec":
            cmd = args.command
            if cmd[:1] == ["--"]:
                cmd = cmd[1:]
            return run_in(args.dir, args.side, cmd)
        elif args.cmd == "stop":
            stop(args.dir)
        elif args.cmd == "selftest":
            return selftest()
        elif args.cmd == "_forward":
            return forward(args)
    except Failure as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
