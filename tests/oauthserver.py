#!/usr/bin/env python3
"""oauthserver.py -- a local OAuth2 authorization server for postie's tests.

Python 3 standard library only.  It serves HTTPS on 127.0.0.1 (an
ephemeral port), one thread per connection, and implements what postie's
built-in OAuth2 needs from a provider: the token endpoint with the
refresh-token grant (RFC 6749 6), the authorization-code grant with PKCE
S256 (RFC 6749 4.1, RFC 7636) for an RFC 8252 loopback redirect, and the
device authorization grant (RFC 8628); plus token introspection in the
form Dovecot 2.3's `oauth2` passdb asks for, so that a real Postfix+Dovecot
accepts exactly the access tokens this server minted and still considers
valid.  Tests steer it while it runs (faults, approvals, revocation,
expiry) through a control endpoint, and read back what it did.

USAGE
    oauthserver.py --dir DIR --tls-cert PEM --tls-key KEY
                   [--client ID:SECRET]... [--public-client ID]...
                   [--user NAME] [--refresh-token USER:TOKEN]...
                   [--expires-in S] [--rotate] [--scope SCOPE]
                   [--interval S] [--slow-down-step S] [--device-expires S]
                   [--code-expires S] [--framing MODE] [--chunk-size N]
                   [--listen ADDR] [--port N] [--port-file FILE]
                   [--max-seconds S]

    --dir DIR          where every record is written (created if missing)
    --tls-cert PEM     the server certificate (chain) and its key.  Use
    --tls-key KEY      tests/certs.sh's valid.pem/valid.key: it names
                       mail.example.test, 127.0.0.1 and ::1 (not
                       "localhost"), so a client connects to
                       https://127.0.0.1:PORT and verifies the IP address
                       against the test CA (ca.pem)
    --client ID:SECRET a confidential client (repeatable).  Default, when
                       neither --client nor --public-client is given:
                       postie-test:postie-secret
    --public-client ID a public client: it authenticates with client_id
                       alone; sending any client_secret is invalid_client
    --user NAME        the resource owner who approves authorization
                       requests and device codes unless told otherwise
                       (default alice@example.org)
    --refresh-token USER:TOKEN  pre-seed a refresh token (repeatable),
                       bound to the first client given (see also the
                       control command `seed`)
    --expires-in S     access token lifetime in seconds (default 3600)
    --rotate           each refresh-token grant invalidates the refresh
                       token it used and returns a new `refresh_token`;
                       without it the response has no refresh_token and
                       the old one stays valid
    --scope SCOPE      the scope granted when a request names none
                       (default "mail")
    --interval S       the device flow's polling interval (default 5)
    --slow-down-step S how much a slow_down adds to that device code's
                       interval (default 5, as RFC 8628 3.5 says)
    --device-expires S device code lifetime (default 600)
    --code-expires S   authorization code lifetime (default 60)
    --framing MODE     how response bodies are delimited: content-length
                       (default), chunked (Transfer-Encoding: chunked, in
                       --chunk-size pieces, default 16 bytes) or eof (no
                       length; the server closes the connection after it)
    --listen ADDR      127.0.0.1 (default) or ::1
    --port N           0 (default): an ephemeral port
    --port-file FILE   default DIR/port
    --max-seconds S    overall lifetime (default 60): the server then
                       exits 3 whatever it is doing, so a stuck test never
                       hangs the suite.  SIGTERM exits 0.

ENDPOINTS (fixed paths; base https://127.0.0.1:PORT)
    POST /token        the token endpoint.  Body form-encoded (any other
                       Content-Type is invalid_request).  Client
                       authentication: client_id + client_secret in the
                       body, or HTTP Basic (RFC 6749 2.3.1, both parts
                       form-urlencoded), not both (invalid_request).  A
                       wrong or unknown client: 401 invalid_client (with
                       WWW-Authenticate when Basic was used).
        grant_type=refresh_token refresh_token=T [scope=S]
            unknown, revoked, rotated-away, or another client's token:
            invalid_grant; scope wider than the token's: invalid_scope
        grant_type=authorization_code code=C redirect_uri=U code_verifier=V
            C unknown, used, expired or another client's, U not the
            authorize request's, or BASE64URL(SHA256(V)) not its
            code_challenge: invalid_grant; a missing parameter:
            invalid_request.  A failed attempt leaves C usable; success
            uses it up.
        grant_type=urn:ietf:params:oauth:grant-type:device_code device_code=D
            D unknown, used or another client's: invalid_grant; past its
            lifetime: expired_token; denied: access_denied; not yet
            approved: authorization_pending, or slow_down when polled
            less than its interval after the previous poll or when the
            control `slow_down` asked for one (and its interval then
            grows by --slow-down-step); approved: tokens (whatever the
            polling rate), and D is used up.  Each poll of a known D is
            a line "device poll user_code=X OUTCOME" in `log`, with the
            time it was answered.
        Success: 200 {"access_token", "token_type": "Bearer",
        "expires_in", "scope"} plus "refresh_token" for the code and
        device grants and for a rotating refresh.  Errors: 400 (401 for
        invalid_client) {"error", "error_description"}.  Every JSON
        answer has Cache-Control: no-store.
    POST /device       device authorization (RFC 8628 3.1): client
                       authentication as above, optional scope.  200
                       {"device_code", "user_code" (XXXX-XXXX),
                       "verification_uri" (BASE/verify),
                       "verification_uri_complete", "expires_in",
                       "interval"}
    GET  /verify       a small HTML page (what a user would open); it
                       approves nothing: use the control `approve`
    GET  /authorize    response_type=code client_id redirect_uri state
                       code_challenge code_challenge_method=S256 [scope]
                       [login_hint].  An unknown client, or a redirect_uri
                       that is not http://127.0.0.1:PORT/... or
                       http://[::1]:PORT/... (an explicit port; "localhost"
                       is refused), gets a 400 text page and no redirect.
                       Otherwise 302 to redirect_uri with code and state
                       (the user is login_hint, else the control
                       `authorize user=`, else --user), or with
                       error=access_denied (control `authorize
                       decision=deny`), error=unsupported_response_type,
                       or error=invalid_request (no or malformed
                       code_challenge, method other than S256).  Tests act
                       as the browser with `oauthserver.py browse URL`.
    POST /introspect   Dovecot's introspection_mode = post: body
                       token=ACCESS_TOKEN.  Also GET /introspect with
                       "Authorization: Bearer TOKEN" (introspection_mode =
                       auth) or ?token=/?access_token= (get).  No client
                       authentication.  200 {"active": true, "username",
                       "client_id", "scope", "exp", "token_type":
                       "Bearer"} while the token is valid, else
                       {"active": false}.  Checked with Dovecot 2.3.19
                       (tests/oauthserver.bats): passdb { driver = oauth2,
                       mechanisms = plain oauthbearer xoauth2, args = FILE }
                       where FILE says introspection_mode = post,
                       introspection_url = BASE/introspect,
                       username_attribute = username, active_attribute =
                       active, active_value = true, tls_ca_cert_file = a
                       copy of ca.pem that Dovecot's unprivileged auth
                       process can read.  Dovecot keeps its connection
                       open between requests; every framing works.
    GET  /.well-known/oauth-authorization-server   RFC 8414 metadata
    POST /control      the control endpoint, below
    Anything else: 404 {"error": "not_found"}; a wrong method: 405.

CONTROL (no restart needed)
    POST /control with header "X-Admin: SECRET" (the random secret in
    DIR/admin, mode 600) and form fields cmd=COMMAND plus its arguments;
    the answer is 200 JSON (403 without the secret, 400 for a bad
    command).  From a shell: oauthserver.py ctl --dir DIR COMMAND
    [NAME=VALUE...], which prints the answer's fields as NAME=VALUE lines
    (tests/oauth.bash: oauth_ctl).  Control requests appear in `log`, not
    in `requests` or `counts`.
        seed user=U [token=T] [client_id=C] [scope=S]
                            add a refresh token (random unless T given)
                            -> refresh_token
        mint user=U [client_id=C] [scope=S]
                            an access token without any grant (for
                            Dovecot tests) -> access_token, expires_in
        approve [user_code=X] [user=U]   approve a pending device code
                            (default: the newest pending one) for U
                            (default --user) -> user_code, user
        deny [user_code=X]  deny it -> user_code
        slow_down [user_code=X]   answer that pending device code's next
                            poll slow_down, however late it comes (and
                            grow its interval) -> user_code
        revoke token=T      revoke a refresh or access token -> revoked=1
        revoke user=U       revoke all of U's refresh and access tokens
                            -> revoked=N
        expire [what=access|device|code|all]   expire now all access
                            tokens (default), device codes, authorization
                            codes, or all three -> expired=N
        authorize [decision=approve|deny] [user=U]   how GET /authorize
                            answers from now on
        set [expires_in=S] [rotate=0|1] [interval=S]   change options
        fault mode=M [endpoint=E] [count=N] [seconds=S] [bytes=B]
                            damage the answers to the next N requests
                            (default 0: every one until `fault
                            mode=none`) to endpoint E (token, device,
                            authorize, introspect, or all: the default).
                            A damaged request changes no state (except
                            delay, which answers normally afterwards).
            delay           wait S seconds (default 5), then answer
            malformed       200 with a JSON body cut off mid-object
            http500         500 with a text/html body
            truncated       the head promises a whole token response,
                            half the body (half the chunked encoding in
                            chunked framing) is sent, then the server
                            closes.  With --framing eof the half body is
                            what the client gets
            oversized       200 with a valid JSON token response of B
                            bytes (default 4194304; at least 64), its
                            access_token "AAAA..." filling it
            close           half the status line and headers, then close
            drop            close without answering
            none            no fault
        framing mode=content-length|chunked|eof [chunk=N]   switch the
                            response framing (as --framing)
        stats               the counters (as in DIR/counts)

RECORDS (in DIR; readable by root, the tests' user)
    port        the port, written atomically once the server listens
                (after admin)
    admin       the control secret (mode 600)
    log         what the server did, one event a line, for humans
                (handshake failures, control commands, faults)
    requests    one line per request to a non-control endpoint, appended
                just before its answer is sent (so a client that has the
                answer finds the line):
                    METHOD PATH GRANT CLIENT OUTCOME [NAME=VALUE...]
                GRANT is refresh_token, authorization_code, device_code
                (the RFC 8628 URN), the grant_type as given, or "-" (not
                the token endpoint, or none given); CLIENT the
                authenticated (or claimed) client_id or "-"; OUTCOME
                "ok", the OAuth error code, "active"/"inactive"
                (introspection), or "fault-MODE".  Details: user=U,
                user_code=X, and tokens only as "#" plus the first 8 hex
                digits of their SHA-256 (`printf %s "$tok" | sha256sum |
                cut -c1-8`): rt= (presented refresh token), new_rt=, at=
                (issued), token= (introspected).  No secret appears.
    counts      rewritten atomically after each request: "KEY N" lines,
                sorted, KEY being GRANT.OUTCOME for the token endpoint
                (refresh_token.ok, device_code.slow_down, token.invalid_
                client when the grant is unknown ...) and
                ENDPOINT.OUTCOME for the others (device.ok, authorize.ok,
                authorize.access_denied, introspect.active, ...)
    stdout, stderr  (by tests/oauth.bash) the process's own output

CLIENT SUBCOMMANDS (what tests use instead of curl)
    oauthserver.py request --dir DIR (--cafile CA | --insecure)
                   [--name HOST] [--basic ID:SECRET] [--bearer TOKEN]
                   [--content-type TYPE] [--timeout S]
                   METHOD PATH [NAME=VALUE...]
        One request over a fresh TLS connection (verified against CA for
        HOST, default 127.0.0.1), "Connection: close".  NAME=VALUE pairs
        go to the query (GET) or a form-encoded body (POST).  Prints:
            HTTP STATUS           (HTTP none: no complete status line)
            framing content-length|chunked|eof
            complete yes|no       the body arrived as its framing says
            location URL          when there is a Location header
            www-authenticate V    when there is one
            NAME=VALUE            for a JSON object body, one per key,
                                  sorted; strings as they are, other
                                  values as JSON (true, 3600)
            bytes N / body TEXT   for any other body: its length, and
                                  its first 200 bytes escaped
        Exit 0 when anything was received, 1 on a connection failure.
        Give a random value as --bearer=TOKEN: a token may begin with "-".
    oauthserver.py ctl --dir DIR COMMAND [NAME=VALUE...]
        a control command (above); prints the answer's NAME=VALUE lines;
        exit 1 unless the answer was 200
    oauthserver.py browse --cafile CA [--name HOST] URL
        the browser stand-in: GET URL (the authorization request) and
        follow redirects, including the one to the client's loopback
        http:// listener.  Prints "redirect URL" per redirect, then
        "HTTP STATUS" of the last answer and "body TEXT" (escaped).
"""

import argparse
import base64
import collections
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_SHORT = {"refresh_token": "refresh_token",
               "authorization_code": "authorization_code",
               DEVICE_GRANT: "device_code"}
ENDPOINTS = {"/token": "token", "/device": "device", "/verify": "verify",
             "/authorize": "authorize", "/introspect": "introspect",
             "/control": "control",
             "/.well-known/oauth-authorization-server": "metadata"}
FAULTS = ("none", "delay", "malformed", "http500", "truncated", "oversized",
          "close", "drop")
FRAMINGS = ("content-length", "chunked", "eof")
USER_CODE_CHARS = "BCDFGHJKLMNPQRSTVWXZ"   # RFC 8628 6.1: no vowels
MAX_BODY = 64 << 10
VERIFIER_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")


class OAuthError(Exception):
    def __init__(self, error, description, status=400, basic=False):
        Exception.__init__(self, error)
        self.error = error
        self.description = description
        self.status = status
        self.basic = basic


def new_token():
    return secrets.token_urlsafe(32)        # 43 characters


def short_hash(token):
    return "#" + hashlib.sha256(token.encode()).hexdigest()[:8]


def s256(verifier):
    d = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode("ascii")


def escape(data):
    out = []
    for c in data:
        if c == 0x5c:
            out.append("\\\\")
        elif c < 0x20 or c >= 0x7f:
            out.append("\\x%02x" % c)
        else:
            out.append(chr(c))
    return "".join(out)


def parse_form(raw):
    """Form fields as a dict; a repeated name is invalid_request."""
    try:
        pairs = urllib.parse.parse_qsl(raw.decode("utf-8"),
                                       keep_blank_values=True)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "body is not UTF-8")
    form = {}
    for k, v in pairs:
        if k in form:
            raise OAuthError("invalid_request", "repeated parameter " + k)
        form[k] = v
    return form


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, threading.get_ident())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


class State:
    """Everything the server knows; every access holds self.lock."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.clients = {}
        for c in args.client or []:
            cid, sep, sec = c.partition(":")
            if not sep:
                raise SystemExit("--client wants ID:SECRET")
            self.clients[cid] = sec
        for cid in args.public_client or []:
            self.clients[cid] = None
        if not self.clients:
            self.clients["postie-test"] = "postie-secret"
        self.first_client = next(iter(self.clients))
        self.expires_in = args.expires_in
        self.rotate = args.rotate
        self.interval = args.interval
        self.refresh = {}     # token -> {user, client, scope, valid}
        self.access = {}      # token -> {user, client, scope, exp, valid}
        self.devices = {}     # device_code -> {...}
        self.codes = {}       # code -> {...}
        self.counts = collections.Counter()
        self.fault = None     # {mode, endpoint, count, seconds, bytes}
        self.framing = args.framing
        self.chunk = args.chunk_size
        self.auth_decision = "approve"
        self.auth_user = None
        self.logf = open(os.path.join(args.dir, "log"), "a", buffering=1)
        self.reqf = open(os.path.join(args.dir, "requests"), "a",
                         buffering=1)
        for rt in args.refresh_token or []:
            user, sep, tok = rt.partition(":")
            if not sep or not user or not tok:
                raise SystemExit("--refresh-token wants USER:TOKEN")
            self.refresh[tok] = dict(user=user, client=self.first_client,
                                     scope=args.scope, valid=True)
        write_atomic(os.path.join(args.dir, "counts"), "")

    def log(self, fmt, *a):
        self.logf.write("%.3f %s\n" % (time.time(), fmt % a if a else fmt))

    def record(self, method, path, grant, client, outcome, detail):
        """Caller holds the lock."""
        line = " ".join([method, path, grant or "-", client or "-",
                         outcome] + ["%s=%s" % kv for kv in detail])
        self.reqf.write(line + "\n")

    def count(self, key):
        """Caller holds the lock."""
        self.counts[key] += 1
        write_atomic(os.path.join(self.args.dir, "counts"), "".join(
            "%s %d\n" % kv for kv in sorted(self.counts.items())))

    def take_fault(self, endpoint):
        """Caller holds the lock."""
        f = self.fault
        if not f or f["endpoint"] not in ("all", endpoint):
            return None
        if f["count"]:
            f["count"] -= 1
            if f["count"] == 0:
                self.fault = None
        return dict(f)

    # ---- grants (caller holds the lock) ----

    def issue(self, user, client, scope, with_refresh, detail):
        at = new_token()
        self.access[at] = dict(user=user, client=client, scope=scope,
                               exp=time.time() + self.expires_in,
                               valid=True)
        resp = {"access_token": at, "token_type": "Bearer",
                "expires_in": self.expires_in, "scope": scope}
        detail.append(("at", short_hash(at)))
        if with_refresh:
            rt = new_token()
            self.refresh[rt] = dict(user=user, client=client, scope=scope,
                                    valid=True)
            resp["refresh_token"] = rt
            detail.append(("new_rt", short_hash(rt)))
        return resp

    def grant_refresh(self, client, form, detail):
        tok = form.get("refresh_token")
        if not tok:
            raise OAuthError("invalid_request", "refresh_token missing")
        detail.append(("rt", short_hash(tok)))
        r = self.refresh.get(tok)
        if not r or not r["valid"]:
            raise OAuthError("invalid_grant", "refresh token is invalid")
        if r["client"] != client:
            raise OAuthError("invalid_grant", "refresh token of another "
                             "client")
        detail.append(("user", r["user"]))
        scope = r["scope"]
        if form.get("scope"):
            if not set(form["scope"].split()) <= set(scope.split()):
                raise OAuthError("invalid_scope", "scope exceeds the grant")
            scope = form["scope"]
        if self.rotate:
            r["valid"] = False
        return self.issue(r["user"], client, scope, self.rotate, detail)

    def grant_code(self, client, form, detail):
        for p in ("code", "redirect_uri", "code_verifier"):
            if not form.get(p):
                raise OAuthError("invalid_request", p + " missing")
        c = self.codes.get(form["code"])
        if not c or c["used"]:
            raise OAuthError("invalid_grant", "authorization code is "
                             "invalid")
        if time.time() >= c["exp"]:
            raise OAuthError("invalid_grant", "authorization code expired")
        if c["client"] != client:
            raise OAuthError("invalid_grant", "code of another client")
        if c["redirect_uri"] != form["redirect_uri"]:
            raise OAuthError("invalid_grant", "redirect_uri differs")
        v = form["code_verifier"]
        if not VERIFIER_RE.fullmatch(v) or not hmac.compare_digest(
                s256(v), c["challenge"]):
            raise OAuthError("invalid_grant", "PKCE verification failed")
        c["used"] = True
        detail.append(("user", c["user"]))
        return self.issue(c["user"], client, c["scope"], True, detail)

    def grant_device(self, client, form, detail):
        """A poll; one of a known device code is logged with its time."""
        try:
            resp = self.poll_device(client, form, detail)
        except OAuthError as e:
            self.log_poll(detail, e.error)
            raise
        self.log_poll(detail, "ok")
        return resp

    def log_poll(self, detail, outcome):
        uc = dict(detail).get("user_code")
        if uc:
            self.log("device poll user_code=%s %s", uc, outcome)

    def poll_device(self, client, form, detail):
        dc = form.get("device_code")
        if not dc:
            raise OAuthError("invalid_request", "device_code missing")
        d = self.devices.get(dc)
        if not d or d["state"] == "used" or d["client"] != client:
            raise OAuthError("invalid_grant", "device code is invalid")
        detail.append(("user_code", d["user_code"]))
        now = time.monotonic()
        if now >= d["exp"]:
            raise OAuthError("expired_token", "device code expired")
        if d["state"] == "denied":
            raise OAuthError("access_denied", "the user denied access")
        if d["state"] == "pending":
            last, d["last_poll"] = d["last_poll"], now
            if d.pop("force_slow", False) or (
                    last is not None and now - last < d["interval"]):
                d["interval"] += self.args.slow_down_step
                raise OAuthError("slow_down", "polling too fast")
            raise OAuthError("authorization_pending", "not yet approved")
        d["state"] = "used"
        detail.append(("user", d["user"]))
        return self.issue(d["user"], client, d["scope"], True, detail)

    def new_device(self, client, scope, base):
        dc = new_token()
        while True:
            uc = "".join(secrets.choice(USER_CODE_CHARS) for _ in range(8))
            uc = uc[:4] + "-" + uc[4:]
            if all(d["user_code"] != uc for d in self.devices.values()):
                break
        self.devices[dc] = dict(
            user_code=uc, client=client, scope=scope, state="pending",
            user=None, last_poll=None, interval=self.interval,
            exp=time.monotonic() + self.args.device_expires,
            issued=len(self.devices))
        return {"device_code": dc, "user_code": uc,
                "verification_uri": base + "/verify",
                "verification_uri_complete": base + "/verify?user_code=" + uc,
                "expires_in": self.args.device_expires,
                "interval": self.interval}

    def find_device(self, user_code):
        if user_code:
            for d in self.devices.values():
                if d["user_code"] == user_code:
                    return d
            raise OAuthError("invalid_request", "no such user_code")
        pending = [d for d in self.devices.values()
                   if d["state"] == "pending"]
        if not pending:
            raise OAuthError("invalid_request", "no pending device code")
        return max(pending, key=lambda d: d["issued"])

    def introspect(self, token):
        a = self.access.get(token)
        if not a or not a["valid"] or time.time() >= a["exp"]:
            return {"active": False}
        return {"active": True, "username": a["user"],
                "client_id": a["client"], "scope": a["scope"],
                "exp": int(a["exp"]), "token_type": "Bearer"}

    # ---- control (caller holds the lock) ----

    def control(self, form):
        cmd = form.get("cmd", "")
        a = self.args
        if cmd == "seed":
            user = form.get("user") or a.user
            tok = form.get("token") or new_token()
            self.refresh[tok] = dict(
                user=user, client=form.get("client_id", self.first_client),
                scope=form.get("scope", a.scope), valid=True)
            return {"refresh_token": tok}
        if cmd == "mint":
            detail = []
            r = self.issue(form.get("user") or a.user,
                           form.get("client_id", self.first_client),
                           form.get("scope", a.scope), False, detail)
            return {"access_token": r["access_token"],
                    "expires_in": r["expires_in"]}
        if cmd == "slow_down":
            d = self.find_device(form.get("user_code"))
            if d["state"] != "pending":
                raise OAuthError("invalid_request", "device code is " +
                                 d["state"])
            d["force_slow"] = True
            return {"user_code": d["user_code"]}
        if cmd in ("approve", "deny"):
            d = self.find_device(form.get("user_code"))
            if d["state"] != "pending":
                raise OAuthError("invalid_request", "device code is " +
                                 d["state"])
            if cmd == "deny":
                d["state"] = "denied"
                return {"user_code": d["user_code"]}
            d["state"] = "approved"
            d["user"] = form.get("user") or a.user
            return {"user_code": d["user_code"], "user": d["user"]}
        if cmd == "revoke":
            n = 0
            if form.get("token"):
                for table in (self.refresh, self.access):
                    t = table.get(form["token"])
                    if t and t["valid"]:
                        t["valid"] = False
                        n += 1
            elif form.get("user"):
                for table in (self.refresh, self.access):
                    for t in table.values():
                        if t["user"] == form["user"] and t["valid"]:
                            t["valid"] = False
                            n += 1
            else:
                raise OAuthError("invalid_request", "revoke token= or user=")
            return {"revoked": n}
        if cmd == "expire":
            what = form.get("what", "access")
            if what not in ("access", "device", "code", "all"):
                raise OAuthError("invalid_request", "expire what?")
            n = 0
            now, mono = time.time(), time.monotonic()
            if what in ("access", "all"):
                for t in self.access.values():
                    if t["exp"] > now:
                        t["exp"] = now
                        n += 1
            if what in ("device", "all"):
                for d in self.devices.values():
                    if d["exp"] > mono:
                        d["exp"] = mono
                        n += 1
            if what in ("code", "all"):
                for c in self.codes.values():
                    if c["exp"] > now:
                        c["exp"] = now
                        n += 1
            return {"expired": n}
        if cmd == "authorize":
            dec = form.get("decision", "approve")
            if dec not in ("approve", "deny"):
                raise OAuthError("invalid_request", "decision?")
            self.auth_decision = dec
            self.auth_user = form.get("user") or None
            return {"decision": dec, "user": self.auth_user or a.user}
        if cmd == "set":
            out = {}
            for name in ("expires_in", "rotate", "interval"):
                if name in form:
                    if not form[name].isdigit():
                        raise OAuthError("invalid_request", name + "?")
                    v = int(form[name])
                    if name == "rotate":
                        v = bool(v)
                    setattr(self, name, v)
                    out[name] = v
            return out
        if cmd == "fault":
            mode = form.get("mode", "")
            ep = form.get("endpoint", "all")
            if mode not in FAULTS or ep not in (
                    "all", "token", "device", "authorize", "introspect"):
                raise OAuthError("invalid_request", "fault mode or endpoint?")
            try:
                f = dict(mode=mode, endpoint=ep,
                         count=int(form.get("count", "0")),
                         seconds=float(form.get("seconds", "5")),
                         bytes=int(form.get("bytes", "4194304")))
            except ValueError:
                raise OAuthError("invalid_request", "not a number")
            self.fault = None if mode == "none" else f
            return {"mode": mode, "endpoint": ep, "count": f["count"]}
        if cmd == "framing":
            mode = form.get("mode", "")
            if mode not in FRAMINGS:
                raise OAuthError("invalid_request", "framing mode?")
            self.framing = mode
            if form.get("chunk", "").isdigit() and int(form["chunk"]) > 0:
                self.chunk = int(form["chunk"])
            return {"mode": mode, "chunk": self.chunk}
        if cmd == "stats":
            return dict(self.counts)
        raise OAuthError("invalid_request", "unknown command " + cmd)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oauthserver/1"
    timeout = 30

    def log_message(self, fmt, *args):
        self.server.st.log("%s " + fmt, self.client_address[0], *args)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline(100).split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n",
                                                            b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline(10)
                if len(body) > MAX_BODY:
                    raise OAuthError("invalid_request", "body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise OAuthError("invalid_request", "body too large")
        return self.rfile.read(n) if n else b""

    def dispatch(self, method):
        st = self.server.st
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        ep = ENDPOINTS.get(path)
        rec = dict(grant=None, client=None, outcome="ok", detail=[])
        self.rec = None if ep == "control" else rec
        try:
            try:
                body = self.read_body() if method == "POST" else b""
            except ValueError:
                raise OAuthError("invalid_request", "bad request body")
            if ep == "control":
                return self.control(method, body)
            if ep is None:
                rec["outcome"] = "not_found"
                return self.answer(404, {"error": "not_found"})
            want = "POST" if ep in ("token", "device") else (
                "GET" if ep in ("authorize", "verify", "metadata") else None)
            if want and method != want:
                rec["outcome"] = "method_not_allowed"
                return self.answer(405, {"error": "invalid_request",
                                         "error_description":
                                         "use " + want}, [("Allow", want)])
            with st.lock:
                fault = st.take_fault(ep)
            if fault and fault["mode"] == "delay":
                st.log("fault delay %.3f s on %s", fault["seconds"], path)
                time.sleep(fault["seconds"])
            elif fault:
                rec["outcome"] = "fault-" + fault["mode"]
                if ep == "token":
                    rec["grant"] = self.peek_grant(body)
                st.log("fault %s on %s", fault["mode"], path)
                return self.damaged(fault)
            getattr(self, "ep_" + ep)(method, url, body, rec)
        except OAuthError as e:
            rec["outcome"] = e.error
            hdrs = []
            if e.basic:
                hdrs.append(("WWW-Authenticate", 'Basic realm="oauthserver"'))
            self.answer(e.status, {"error": e.error,
                                   "error_description": e.description}, hdrs)
        except OSError as e:
            st.log("%s %s: %s", method, path, e)
            self.close_connection = True
        finally:
            self.record()

    def record(self):
        """Write the request's line and count it, once: just before its
        answer goes out, so that a client holding the answer finds it."""
        rec, self.rec = self.rec, None
        if rec is None:
            return
        st = self.server.st
        ep = ENDPOINTS.get(urllib.parse.urlsplit(self.path).path)
        with st.lock:
            st.record(self.command, urllib.parse.urlsplit(self.path).path,
                      rec["grant"], rec["client"], rec["outcome"],
                      rec["detail"])
            key = rec["grant"] if ep == "token" and rec["grant"] \
                in GRANT_SHORT.values() else (ep or "unknown")
            st.count("%s.%s" % (key, rec["outcome"]))

    @staticmethod
    def peek_grant(body):
        try:
            g = parse_form(body).get("grant_type")
        except OAuthError:
            return None
        return GRANT_SHORT.get(g, g)

    # ---- answers ----

    def framed(self, status, body, ctype, headers=()):
        """(head bytes, payload bytes) for the current framing."""
        st = self.server.st
        with st.lock:
            framing, chunk = st.framing, st.chunk
        lines = ["HTTP/1.1 %d %s" % (status, HTTPStatus(status).phrase),
                 "Date: " + self.date_time_string(),
                 "Server: " + self.server_version,
                 "Content-Type: " + ctype,
                 "Cache-Control: no-store", "Pragma: no-cache"]
        lines += ["%s: %s" % h for h in headers]
        if framing == "content-length":
            lines.append("Content-Length: %d" % len(body))
            payload = body
        elif framing == "chunked":
            lines.append("Transfer-Encoding: chunked")
            payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + chunk]),
                                                  body[i:i + chunk])
                               for i in range(0, len(body), chunk))
            payload += b"0\r\n\r\n"
        else:
            payload = body
            self.close_connection = True
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), payload

    def answer(self, status, obj, headers=(), ctype=None):
        if isinstance(obj, (bytes, str)):
            body = obj.encode("utf-8") if isinstance(obj, str) else obj
            ctype = ctype or "text/plain; charset=utf-8"
        else:
            body = json.dumps(obj).encode("utf-8")
            ctype = "application/json;charset=UTF-8"
        head, payload = self.framed(status, body, ctype, headers)
        self.record()
        self.wfile.write(head + payload)
        self.wfile.flush()

    def damaged(self, f):
        mode = f["mode"]
        self.close_connection = True
        if mode != "http500" and mode != "malformed":
            self.record()
        if mode == "drop":
            return
        if mode == "http500":
            return self.answer(500, "<html><body><h1>500 Internal Server "
                               "Error</h1></body></html>\n",
                               ctype="text/html")
        if mode == "malformed":
            return self.answer(200, b'{"access_token": "x", "token_type": '
                               b'"Bearer", "expires_in": ',
                               ctype="application/json;charset=UTF-8")
        if mode == "oversized":
            pre, post = (b'{"access_token": "',
                         b'", "token_type": "Bearer", "expires_in": 3600}')
            body = pre + b"A" * max(0, f["bytes"] - len(pre) - len(post)) \
                + post
            head, payload = self.framed(200, body, "application/json")
            self.wfile.write(head)
            for i in range(0, len(payload), 65536):
                self.wfile.write(payload[i:i + 65536])
            return
        body = json.dumps({"access_token": new_token(), "token_type":
                           "Bearer", "expires_in": 3600}).encode()
        head, payload = self.framed(200, body, "application/json")
        if mode == "truncated":
            self.wfile.write(head + payload[:len(payload) // 2])
        elif mode == "close":
            self.wfile.write(head[:len(head) // 2])
        self.wfile.flush()

    # ---- endpoints ----

    def client_auth(self, form, rec):
        st = self.server.st
        authz = self.headers.get("Authorization", "")
        basic = authz[:6].lower() == "basic "
        if basic:
            try:
                raw = base64.b64decode(authz[6:].strip(),
                                       validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", "bad Basic credentials",
                                 401, True)
            cid, sep, sec = raw.partition(":")
            if not sep:
                raise OAuthError("invalid_client", "bad Basic credentials",
                                 401, True)
            cid = urllib.parse.unquote_plus(cid)
            sec = urllib.parse.unquote_plus(sec)
            rec["client"] = cid
            if "client_secret" in form:
                raise OAuthError("invalid_request", "two client "
                                 "authentication methods")
            if form.get("client_id", cid) != cid:
                raise OAuthError("invalid_client", "client_id differs",
                                 401, True)
        else:
            cid, sec = form.get("client_id"), form.get("client_secret")
            rec["client"] = cid
            if not cid:
                raise OAuthError("invalid_client", "no client "
                                 "authentication", 401)
        with st.lock:
            known = cid in st.clients
            expected = st.clients.get(cid)
        if not known:
            raise OAuthError("invalid_client", "unknown client", 401, basic)
        if expected is None:
            if sec is not None:
                raise OAuthError("invalid_client", "a public client has no "
                                 "secret", 401, basic)
        elif sec is None or not hmac.compare_digest(sec.encode(),
                                                    expected.encode()):
            raise OAuthError("invalid_client", "wrong client secret", 401,
                             basic)
        return cid

    def form_body(self, body):
        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() != \
                "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "not form-encoded")
        return parse_form(body)

    def ep_token(self, method, url, body, rec):
        st = self.server.st
        form = self.form_body(body)
        g = form.get("grant_type")
        rec["grant"] = GRANT_SHORT.get(g, g)
        client = self.client_auth(form, rec)
        handler = {"refresh_token": st.grant_refresh,
                   "authorization_code": st.grant_code,
                   DEVICE_GRANT: st.grant_device}.get(g)
        if not g:
            raise OAuthError("invalid_request", "grant_type missing")
        if handler is None:
            raise OAuthError("unsupported_grant_type", "grant_type " + g)
        with st.lock:
            resp = handler(client, form, rec["detail"])
        self.answer(200, resp)

    def base_url(self):
        host, port = self.server.server_address[:2]
        if ":" in host:
            host = "[%s]" % host
        return "https://%s:%d" % (host, port)

    def ep_device(self, method, url, body, rec):
        st = self.server.st
        form = self.form_body(body)
        client = self.client_auth(form, rec)
        with st.lock:
            resp = st.new_device(client, form.get("scope") or
                                 st.args.scope, self.base_url())
        rec["detail"].append(("user_code", resp["user_code"]))
        self.answer(200, resp)

    def ep_verify(self, method, url, body, rec):
        q = dict(urllib.parse.parse_qsl(url.query))
        self.answer(200, "<html><body><p>Enter the code shown by your "
                    "device: %s</p></body></html>\n"
                    % html.escape(q.get("user_code", "")),
                    ctype="text/html; charset=utf-8")

    def ep_metadata(self, method, url, body, rec):
        b = self.base_url()
        self.answer(200, {
            "issuer": b, "token_endpoint": b + "/token",
            "authorization_endpoint": b + "/authorize",
            "device_authorization_endpoint": b + "/device",
            "introspection_endpoint": b + "/introspect",
            "grant_types_supported": ["refresh_token", "authorization_code",
                                      DEVICE_GRANT],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic", "client_secret_post", "none"]})

    def ep_authorize(self, method, url, body, rec):
        st = self.server.st
        try:
            q = parse_form(url.query.encode())
        except OAuthError as e:
            rec["outcome"] = e.error
            return self.answer(400, "bad request: %s\n" % e.description)
        cid = q.get("client_id")
        rec["client"] = cid
        with st.lock:
            known = cid in st.clients
        ru = q.get("redirect_uri", "")
        try:
            p = urllib.parse.urlsplit(ru)
            port = p.port
        except ValueError:
            p, port = None, None
        if not known:
            rec["outcome"] = "invalid_client"
            return self.answer(400, "unknown client_id\n")
        if not p or p.scheme != "http" or port is None or \
                p.hostname not in ("127.0.0.1", "::1") or p.fragment:
            rec["outcome"] = "invalid_redirect_uri"
            return self.answer(400, "redirect_uri must be http://127.0.0.1:"
                               "PORT/... or http://[::1]:PORT/...\n")

        def back(params):
            if "state" in q:
                params["state"] = q["state"]
            sep = "&" if p.query else "?"
            loc = ru + sep + urllib.parse.urlencode(params)
            self.answer(302, "", [("Location", loc)])

        if q.get("response_type") != "code":
            rec["outcome"] = "unsupported_response_type"
            return back({"error": "unsupported_response_type"})
        if q.get("code_challenge_method") != "S256" or \
                not CHALLENGE_RE.fullmatch(q.get("code_challenge", "")):
            rec["outcome"] = "invalid_request"
            return back({"error": "invalid_request", "error_description":
                         "PKCE S256 code_challenge required"})
        with st.lock:
            deny = st.auth_decision == "deny"
            user = q.get("login_hint") or st.auth_user or st.args.user
            code = new_token()
            if not deny:
                st.codes[code] = dict(
                    client=cid, redirect_uri=ru, user=user,
                    challenge=q["code_challenge"], used=False,
                    scope=q.get("scope") or st.args.scope,
                    exp=time.time() + st.args.code_expires)
        if deny:
            rec["outcome"] = "access_denied"
            return back({"error": "access_denied"})
        rec["detail"].append(("user", user))
        back({"code": code})

    def ep_introspect(self, method, url, body, rec):
        st = self.server.st
        if method == "POST":
            tok = self.form_body(body).get("token", "")
        else:
            authz = self.headers.get("Authorization", "")
            q = dict(urllib.parse.parse_qsl(url.query))
            tok = authz[7:].strip() if authz[:7].lower() == "bearer " \
                else q.get("token") or q.get("access_token", "")
        if tok:
            rec["detail"].append(("token", short_hash(tok)))
        with st.lock:
            resp = st.introspect(tok)
        rec["outcome"] = "active" if resp["active"] else "inactive"
        if resp["active"]:
            rec["detail"].append(("user", resp["username"]))
        self.answer(200, resp)

    def control(self, method, body):
        st = self.server.st
        if method != "POST" or not hmac.compare_digest(
                self.headers.get("X-Admin", "").encode(),
                self.server.admin.encode()):
            st.log("control: refused")
            return self.answer(403, {"error": "forbidden"})
        form = parse_form(body)
        st.log("control: %s", " ".join(
            "%s=%s" % kv for kv in sorted(form.items())))
        with st.lock:
            resp = st.control(form)
        self.answer(200, resp)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, st, ctx, admin):
        self.address_family = socket.AF_INET6 if ":" in addr[0] \
            else socket.AF_INET
        self.st = st
        self.ctx = ctx
        self.admin = admin
        ThreadingHTTPServer.__init__(self, addr, Handler)

    def finish_request(self, request, client_address):
        # The handshake happens here, in the connection's own thread, so
        # a client that never completes one blocks nobody else.
        request.settimeout(Handler.timeout)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.st.log("handshake with %s failed: %s", client_address[0], e)
            return
        try:
            Handler(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        self.st.log("error with %s: %s", client_address[0],
                    sys.exc_info()[1])


def serve_main(argv):
    ap = argparse.ArgumentParser(prog="oauthserver.py",
                                 description="local OAuth2 server for tests")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tls-cert", required=True)
    ap.add_argument("--tls-key", required=True)
    ap.add_argument("--client", action="append")
    ap.add_argument("--public-client", action="append")
    ap.add_argument("--user", default="alice@example.org")
    ap.add_argument("--refresh-token", action="append")
    ap.add_argument("--expires-in", type=int, default=3600)
    ap.add_argument("--rotate", action="store_true")
    ap.add_argument("--scope", default="mail")
    ap.add_argument("--interval", type=int, default=5)
    ap.add_argument("--slow-down-step", type=int, default=5)
    ap.add_argument("--device-expires", type=int, default=600)
    ap.add_argument("--code-expires", type=int, default=60)
    ap.add_argument("--framing", choices=FRAMINGS, default="content-length")
    ap.add_argument("--chunk-size", type=int, default=16)
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--max-seconds", type=int, default=60)
    args = ap.parse_args(argv)
    if args.chunk_size < 1:
        ap.error("--chunk-size must be positive")

    def lifetime(signum, frame):
        sys.stderr.write("oauthserver: lifetime of %d s reached\n"
                         % args.max_seconds)
        os._exit(3)
    signal.signal(signal.SIGALRM, lifetime)
    signal.alarm(args.max_seconds)
    signal.signal(signal.SIGTERM, lambda s, f: os._exit(0))

    os.makedirs(args.dir, exist_ok=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    st = State(args)
    admin = secrets.token_hex(16)
    srv = Server((args.listen, args.port), st, ctx, admin)
    ap_path = os.path.join(args.dir, "admin")
    fd = os.open(ap_path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(admin + "\n")
    os.rename(ap_path + ".tmp", ap_path)
    port = str(srv.server_address[1])
    write_atomic(args.port_file or os.path.join(args.dir, "port"),
                 port + "\n")
    st.log("listening on %s port %s", args.listen, port)
    srv.serve_forever()
    return 0


# ---- client side -------------------------------------------------------------

def read_dir_file(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read().strip()


def http_exchange(args, method, path, pairs, headers):
    """Send one request, read until the server closes; return raw bytes."""
    port = int(read_dir_file(args.dir, "port"))
    if getattr(args, "insecure", False) or not getattr(args, "cafile", None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=args.cafile)
    enc = urllib.parse.urlencode(pairs)
    body = b""
    if method == "GET" and enc:
        path += ("&" if "?" in path else "?") + enc
    elif method != "GET":
        body = enc.encode()
        headers = [("Content-Type", args.content_type or
                    "application/x-www-form-urlencoded")] + headers
        headers.append(("Content-Length", str(len(body))))
    req = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % port,
           "Connection: close"] + ["%s: %s" % h for h in headers]
    data = ("\r\n".join(req) + "\r\n\r\n").encode() + body
    raw = socket.create_connection(("127.0.0.1", port),
                                   timeout=args.timeout)
    s = ctx.wrap_socket(raw, server_hostname=args.name)
    s.sendall(data)
    out = bytearray()
    while True:
        try:
            b = s.recv(65536)
        except (ssl.SSLError, ConnectionResetError):
            break
        if not b:
            break
        out += b
    s.close()
    return bytes(out)


def parse_response(raw):
    """(status or None, headers dict lower-case, framing, complete, body)"""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    if not sep or not m:
        return None, {}, "eof", False, b""
    hdrs = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        hdrs[k.strip().lower()] = v.strip()
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        body, complete = bytearray(), False
        while True:
            line, sep, rest = rest.partition(b"\r\n")
            if not sep:
                break
            try:
                n = int(line.split(b";")[0], 16)
            except ValueError:
                break
            if n == 0:
                complete = True
                break
            if len(rest) < n + 2:
                body += rest[:n]
                break
            body += rest[:n]
            rest = rest[n + 2:]
        return int(m.group(1)), hdrs, "chunked", complete, bytes(body)
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        return (int(m.group(1)), hdrs, "content-length", len(rest) == n,
                rest[:n])
    return int(m.group(1)), hdrs, "eof", True, rest


def print_body(body):
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        obj = None
    if isinstance(obj, dict):
        for k in sorted(obj):
            v = obj[k]
            print("%s=%s" % (k, v if isinstance(v, str) else json.dumps(v)))
    elif body:
        print("bytes %d" % len(body))
        print("body " + escape(body[:200]))


def client_parser(prog):
    ap = argparse.ArgumentParser(prog="oauthserver.py " + prog)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cafile")
    ap.add_argument("--insecure", action="store_true")
    ap.add_argument("--name", default="127.0.0.1")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--content-type")
    return ap


def pairs_of(words):
    out = []
    for w in words:
        k, sep, v = w.partition("=")
        if not sep:
            raise SystemExit("not NAME=VALUE: " + w)
        out.append((k, v))
    return out


def request_main(argv):
    ap = client_parser("request")
    ap.add_argument("--basic")
    ap.add_argument("--bearer")
    ap.add_argument("method")
    ap.add_argument("path")
    ap.add_argument("pairs", nargs="*")
    a = ap.parse_args(argv)
    if not a.cafile and not a.insecure:
        ap.error("--cafile CA or --insecure")
    headers = []
    if a.basic:
        cid, _, sec = a.basic.partition(":")
        cred = "%s:%s" % (urllib.parse.quote_plus(cid),
                          urllib.parse.quote_plus(sec))
        headers.append(("Authorization", "Basic " +
                        base64.b64encode(cred.encode()).decode()))
    if a.bearer:
        headers.append(("Authorization", "Bearer " + a.bearer))
    try:
        raw = http_exchange(a, a.method, a.path, pairs_of(a.pairs), headers)
    except (OSError, ssl.SSLError) as e:
        sys.stderr.write("oauthserver request: %s\n" % e)
        return 1
    status, hdrs, framing, complete, body = parse_response(raw)
    print("HTTP %s" % (status if status else "none"))
    print("framing " + framing)
    print("complete " + ("yes" if complete else "no"))
    for h in ("location", "www-authenticate"):
        if h in hdrs:
            print("%s %s" % (h, hdrs[h]))
    print_body(body)
    return 0


def ctl_main(argv):
    ap = client_parser("ctl")
    ap.add_argument("cmd")
    ap.add_argument("pairs", nargs="*")
    a = ap.parse_args(argv)
    headers = [("X-Admin", read_dir_file(a.dir, "admin"))]
    raw = http_exchange(a, "POST", "/control",
                        [("cmd", a.cmd)] + pairs_of(a.pairs), headers)
    status, hdrs, framing, complete, body = parse_response(raw)
    print_body(body)
    return 0 if status == 200 and complete else 1


def browse_main(argv):
    ap = argparse.ArgumentParser(prog="oauthserver.py browse")
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("url")
    a = ap.parse_args(argv)

    class Redirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, hdrs, newurl):
            print("redirect " + newurl)
            return urllib.request.HTTPRedirectHandler.redirect_request(
                self, req, fp, code, msg, hdrs, newurl)

    ctx = ssl.create_default_context(cafile=a.cafile)
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ctx), Redirects,
        urllib.request.ProxyHandler({}))
    try:
        with opener.open(a.url, timeout=a.timeout) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        sys.stderr.write("oauthserver browse: %s\n" % e)
        return 1
    print("HTTP %d" % status)
    print("body " + escape(body[:200]))
    return 0


def main():
    argv = sys.argv[1:]
    sub = {"request": request_main, "ctl": ctl_main, "browse": browse_main}
    if argv and argv[0] in sub:
        return sub[argv[0]](argv[1:])
    return serve_main(argv)


if __name__ == "__main__":
    sys.exit(main())
