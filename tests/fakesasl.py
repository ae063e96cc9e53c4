#!/usr/bin/env python3
"""fakesasl.py -- the server side of postie's SASL mechanisms, for tests.

Python 3 standard library only.  tests/fakesmtp.py imports it to serve
AUTH; it computes the real values (SCRAM proofs and signatures, CRAM-MD5
digests, channel bindings), so a client that gets anything wrong fails.

    Server(mech, users, tokens, cbind, cbind_type, external_ok,
           bad_server_signature=False, offered=None, iterations=4096,
           salt=None, server_nonce=None, challenge=None)

    mech         "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1",
                 "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS",
                 "XOAUTH2", "OAUTHBEARER", "EXTERNAL" (any case)
    users        {user: password} (str: UTF-8 on the wire)
    tokens       {user: bearer token}
    cbind        the channel-binding data of this connection (bytes) or
                 None when there is none (no TLS, or TLS 1.3 without an
                 exporter)
    cbind_type   "tls-unique" / "tls-exporter" / None
    external_ok  EXTERNAL succeeds (a verified client certificate)
    bad_server_signature  SCRAM's server-final carries a wrong v=
    offered      the mechanisms the EHLO offered (list of str) or None.
                 Used for RFC 5802's "y" flag: a client that says "y"
                 (I can bind, I think you cannot) fails when the server
                 offered any SCRAM-*-PLUS.  None: -PLUS counts as
                 offered when cbind is not None.
    iterations, salt (bytes), server_nonce (str), challenge (bytes, the
                 CRAM-MD5 challenge): fixed values for test vectors;
                 random by default

    start(initial) -> result     initial: the decoded initial response,
                                 b"" for "=", None when AUTH had none
    step(response) -> result     response: the decoded client response

    result is one of
        ("challenge", bytes)  send "334 " + base64(bytes), call step()
        ("ok", None)          235
        ("ok", bytes)         success with additional data (SCRAM's
                              server-final): send it as a 334, read the
                              client's (empty) response, then 235
        ("fail", "535 5.7.8 ...")  send that reply line

XOAUTH2 and OAUTHBEARER reject a bad token with a JSON challenge first;
the client answers it (empty, or ^A for OAUTHBEARER) and then gets the
535.  Each Server serves one AUTH exchange.

    python3 tests/fakesasl.py --selftest
runs a Python client against every mechanism (RFC 5802 / RFC 7677 /
RFC 2195 example values included) and exits 0 when all pass.
"""

import base64
import hashlib
import hmac
import json
import os
import sys

FAIL = "535 5.7.8 Error: authentication failed"
MECHS = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256",
         "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN", "XOAUTH2",
         "OAUTHBEARER", "EXTERNAL"]


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text, validate=True)


def saslname_decode(name):
    """RFC 5802 saslname: =2C and =3D; any other '=' is an error."""
    out, i = [], 0
    while i < len(name):
        if name[i] == "=":
            if name[i:i + 3] == "=2C":
                out.append(",")
            elif name[i:i + 3] == "=3D":
                out.append("=")
            else:
                raise ValueError("bad saslname escape")
            i += 3
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


def saslname_encode(name):
    return name.replace("=", "=3D").replace(",", "=2C")


def scram_keys(hname, password, salt, iterations):
    """(StoredKey, ServerKey, ClientKey) for a password."""
    salted = hashlib.pbkdf2_hmac(hname, password, salt, iterations)
    ckey = hmac.new(salted, b"Client Key", hname).digest()
    skey = hmac.new(salted, b"Server Key", hname).digest()
    return hashlib.new(hname, ckey).digest(), skey, ckey


class Server:
    def __init__(self, mech, users, tokens, cbind=None, cbind_type=None,
                 external_ok=False, bad_server_signature=False,
                 offered=None, iterations=4096, salt=None,
                 server_nonce=None, challenge=None):
        self.mech = mech.upper()
        self.users = users or {}
        self.tokens = tokens or {}
        self.cbind = cbind
        self.cbind_type = cbind_type
        self.external_ok = bool(external_ok)
        self.bad_sig = bad_server_signature
        self.offered = [m.upper() for m in offered] if offered else None
        self.iterations = iterations
        self.salt = salt
        self.server_nonce = server_nonce
        self.challenge = challenge
        self.state = "start"
        self.user = None        # who authenticated (for the log)
        self.why = None         # why it failed (for the log)

    # -- plumbing ---------------------------------------------------------

    def fail(self, why, line=FAIL):
        self.why = why
        self.state = "done"
        return ("fail", line)

    def ok(self, user, data=None):
        self.user = user
        self.state = "done"
        return ("ok", data)

    def start(self, initial):
        if self.mech not in MECHS:
            return self.fail("unknown mechanism", "504 5.5.4 Unsupported "
                             "authentication mechanism")
        if self.mech == "LOGIN":
            if initial:
                self.user = initial.decode("utf-8", "replace")
                self.state = "password"
                return ("challenge", b"Password:")
            self.state = "username"
            return ("challenge", b"Username:")
        if self.mech == "CRAM-MD5":
            if initial is not None:
                return self.fail("CRAM-MD5 with an initial response",
                                 "501 5.5.2 Error: CRAM-MD5 takes no "
                                 "initial response")
            self.challenge = self.challenge or (
                "<%d.%d@fakesmtp.example>" % (
                    int.from_bytes(os.urandom(4), "big"),
                    os.getpid())).encode("ascii")
            self.state = "cram"
            return ("challenge", self.challenge)
        if initial is None:
            self.state = "initial"
            return ("challenge", b"")
        return self.first(initial)

    def step(self, response):
        if self.state == "initial":
            return self.first(response)
        if self.state == "username":
            self.user = response.decode("utf-8", "replace")
            self.state = "password"
            return ("challenge", b"Password:")
        if self.state == "password":
            if self.users.get(self.user) == response.decode("utf-8",
                                                            "replace"):
                return self.ok(self.user)
            return self.fail("LOGIN: wrong user or password")
        if self.state == "cram":
            return self.cram(response)
        if self.state == "scram-final":
            return self.scram_final(response)
        if self.state == "oauth-error":
            if self.mech == "OAUTHBEARER" and response != b"\x01":
                return self.fail("OAUTHBEARER: the answer to the error "
                                 "challenge was not ^A")
            if self.mech == "XOAUTH2" and response != b"":
                return self.fail("XOAUTH2: the answer to the error "
                                 "challenge was not empty")
            return self.fail(self.why_token)
        return self.fail("one response too many")

    def first(self, data):
        m = self.mech
        if m == "PLAIN":
            return self.plain(data)
        if m == "EXTERNAL":
            if not self.external_ok:
                return self.fail("EXTERNAL without a verified client "
                                 "certificate")
            if data != b"":
                return self.fail("EXTERNAL with an authorization identity")
            return self.ok("(certificate)")
        if m == "XOAUTH2":
            return self.xoauth2(data)
        if m == "OAUTHBEARER":
            return self.oauthbearer(data)
        return self.scram_first(data)

    # -- simple mechanisms ------------------------------------------------

    def plain(self, data):
        parts = data.split(b"\0")
        if len(parts) != 3:
            return self.fail("PLAIN: not authzid NUL authcid NUL passwd")
        authz, user, pw = (p.decode("utf-8", "replace") for p in parts)
        if authz not in ("", user):
            return self.fail("PLAIN: authzid %r is not %r" % (authz, user))
        if user in self.users and self.users[user] == pw:
            return self.ok(user)
        return self.fail("PLAIN: wrong user or password")

    def cram(self, data):
        text = data.decode("utf-8", "replace")
        user, _, digest = text.rpartition(" ")
        pw = self.users.get(user)
        if pw is None:
            return self.fail("CRAM-MD5: unknown user %r" % user)
        want = hmac.new(pw.encode("utf-8"), self.challenge,
                        "md5").hexdigest()
        if hmac.compare_digest(want, digest):
            return self.ok(user)
        return self.fail("CRAM-MD5: wrong digest")

    def token_error(self, why, challenge):
        self.why_token = why
        self.why = why
        self.state = "oauth-error"
        return ("challenge", challenge)

    def xoauth2(self, data):
        if not data.endswith(b"\x01\x01"):
            return self.fail("XOAUTH2: not ended by ^A^A")
        fields = data[:-2].split(b"\x01")
        if len(fields) != 2 or not fields[0].startswith(b"user=") or \
                not fields[1].startswith(b"auth=Bearer "):
            return self.fail("XOAUTH2: malformed")
        user = fields[0][5:].decode("utf-8", "replace")
        token = fields[1][12:].decode("utf-8", "replace")
        if user in self.tokens and hmac.compare_digest(
                self.tokens[user].encode(), token.encode()):
            return self.ok(user)
        return self.token_error(
            "XOAUTH2: bad token for %r" % user,
            json.dumps({"status": "400", "schemes": "Bearer",
                        "scope": "https://mail.google.com/"}).encode())

    def oauthbearer(self, data):
        # gs2-header "n,a=USER," (or "n,,") then ^A kvpairs ^A ^A
        if not data.endswith(b"\x01\x01"):
            return self.fail("OAUTHBEARER: not ended by ^A^A")
        head, sep, rest = data.partition(b"\x01")
        if not sep:
            return self.fail("OAUTHBEARER: no ^A after the gs2 header")
        try:
            gs2 = head.decode("utf-8").split(",")
            if len(gs2) != 3 or gs2[0] != "n" or gs2[2] != "":
                raise ValueError("gs2 header")
            user = None
            if gs2[1]:
                if not gs2[1].startswith("a="):
                    raise ValueError("authzid")
                user = saslname_decode(gs2[1][2:])
        except ValueError as e:
            return self.fail("OAUTHBEARER: malformed %s" % e)
        kv = {}
        for pair in rest[:-2].split(b"\x01"):
            k, eq, v = pair.partition(b"=")
            if not eq or not k:
                return self.fail("OAUTHBEARER: malformed key=value")
            kv[k.decode("ascii", "replace")] = v.decode("utf-8", "replace")
        auth = kv.get("auth", "")
        if not auth.startswith("Bearer "):
            return self.fail("OAUTHBEARER: no auth=Bearer")
        token = auth[7:]
        self.kv = kv
        if user is not None and user in self.tokens and \
                hmac.compare_digest(self.tokens[user].encode(),
                                    token.encode()):
            return self.ok(user)
        return self.token_error(
            "OAUTHBEARER: bad token for %r" % user,
            json.dumps({"status": "invalid_token", "scope": "email",
                        "openid-configuration":
                        "https://example.com/.well-known/"
                        "openid-configuration"}).encode())

    # -- SCRAM (RFC 5802, 7677; channel binding RFC 5929, 9266) ----------

    def hname(self):
        return "sha256" if self.mech.startswith("SCRAM-SHA-256") else "sha1"

    def scram_first(self, data):
        plus = self.mech.endswith("-PLUS")
        try:
            text = data.decode("utf-8")
            flag, authz, bare = text.split(",", 2)
        except ValueError:
            return self.fail("SCRAM: malformed client-first-message")
        if authz and not authz.startswith("a="):
            return self.fail("SCRAM: malformed authzid")
        if flag.startswith("p="):
            if not plus:
                return self.fail("SCRAM: p= with a non-PLUS mechanism")
            if self.cbind is None:
                return self.fail("SCRAM: the client asks for channel "
                                 "binding and there is none")
            if flag[2:] != self.cbind_type:
                return self.fail("SCRAM: channel binding type %r, not %r"
                                 % (flag[2:], self.cbind_type))
        elif plus:
            return self.fail("SCRAM-PLUS without p=")
        elif flag == "y":
            if self.offered is not None:
                supports = any(m.startswith("SCRAM-") and
                               m.endswith("-PLUS") for m in self.offered)
            else:
                supports = self.cbind is not None
            if supports:
                return self.fail("SCRAM: client says 'y' but the server "
                                 "offered -PLUS (downgrade)")
        elif flag != "n":
            return self.fail("SCRAM: bad gs2 flag %r" % flag)
        self.gs2 = (flag + "," + authz + ",").encode("utf-8")
        attrs = bare.split(",")
        if len(attrs) < 2 or not attrs[0].startswith("n=") or \
                not attrs[1].startswith("r=") or len(attrs[1]) < 3:
            return self.fail("SCRAM: malformed client-first-message-bare")
        if bare.startswith("m="):
            return self.fail("SCRAM: mandatory extension")
        try:
            user = saslname_decode(attrs[0][2:])
        except ValueError:
            return self.fail("SCRAM: bad saslname")
        if user not in self.users:
            return self.fail("SCRAM: unknown user %r" % user)
        self.user_try = user
        cnonce = attrs[1][2:]
        snonce = self.server_nonce or b64(os.urandom(18))
        self.nonce = cnonce + snonce
        salt = self.salt or os.urandom(16)
        self.stored, self.skey, _ = scram_keys(
            self.hname(), self.users[user].encode("utf-8"), salt,
            self.iterations)
        self.client_first_bare = bare.encode("utf-8")
        self.server_first = ("r=%s,s=%s,i=%d" % (
            self.nonce, b64(salt), self.iterations)).encode("ascii")
        self.state = "scram-final"
        return ("challenge", self.server_first)

    def scram_final(self, data):
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            return self.fail("SCRAM: client-final-message not ASCII")
        without, sep, proof = text.rpartition(",p=")
        attrs = without.split(",")
        if not sep or len(attrs) < 2 or not attrs[0].startswith("c=") or \
                not attrs[1].startswith("r="):
            return self.fail("SCRAM: malformed client-final-message")
        want_c = self.gs2
        if self.mech.endswith("-PLUS"):
            want_c += self.cbind
        try:
            if unb64(attrs[0][2:]) != want_c:
                return self.fail("SCRAM: channel binding (c=) mismatch")
            proof = unb64(proof)
        except ValueError:
            return self.fail("SCRAM: bad base64")
        if attrs[1][2:] != self.nonce:
            return self.fail("SCRAM: nonce mismatch")
        authmsg = self.client_first_bare + b"," + self.server_first + \
            b"," + without.encode("ascii")
        h = self.hname()
        csig = hmac.new(self.stored, authmsg, h).digest()
        if len(proof) != len(csig):
            return self.fail("SCRAM: proof of the wrong length")
        ckey = bytes(a ^ b for a, b in zip(proof, csig))
        if not hmac.compare_digest(hashlib.new(h, ckey).digest(),
                                   self.stored):
            return self.fail("SCRAM: wrong proof (password)")
        ssig = hmac.new(self.skey, authmsg, h).digest()
        if self.bad_sig:
            ssig = bytes([ssig[0] ^ 1]) + ssig[1:]
        return self.ok(self.user_try, b"v=" + b64(ssig).encode("ascii"))


# ---- self-test: a Python client against the server ------------------------

class ScramClient:
    def __init__(self, mech, user, password, cnonce, cbind=None,
                 cbind_type=None, flag=None):
        self.h = "sha256" if mech.startswith("SCRAM-SHA-256") else "sha1"
        self.password = password.encode("utf-8")
        if mech.endswith("-PLUS"):
            self.gs2 = ("p=%s,," % cbind_type).encode()
            self.cb = self.gs2 + cbind
        else:
            self.gs2 = (flag or "n").encode() + b",,"
            self.cb = self.gs2
        self.bare = ("n=%s,r=%s" % (saslname_encode(user), cnonce)).encode()
        self.cnonce = cnonce

    def first(self):
        return self.gs2 + self.bare

    def final(self, server_first, password=None):
        attrs = dict(a.split("=", 1) for a in
                     server_first.decode().split(","))
        assert attrs["r"].startswith(self.cnonce)
        salted = hashlib.pbkdf2_hmac(self.h, password or self.password,
                                     unb64(attrs["s"]), int(attrs["i"]))
        without = ("c=%s,r=%s" % (b64(self.cb), attrs["r"])).encode()
        am = self.bare + b"," + server_first + b"," + without
        ckey = hmac.new(salted, b"Client Key", self.h).digest()
        stored = hashlib.new(self.h, ckey).digest()
        csig = hmac.new(stored, am, self.h).digest()
        skey = hmac.new(salted, b"Server Key", self.h).digest()
        self.want_v = b"v=" + b64(hmac.new(skey, am, self.h).digest()
                                  ).encode()
        proof = bytes(a ^ b for a, b in zip(ckey, csig))
        return without + b",p=" + b64(proof).encode()


def selftest():
    failures = []

    def check(what, got, want):
        if got != want:
            failures.append("%s: got %r, want %r" % (what, got, want))

    users = {"user": "pencil", "tim": "tanstaaftanstaaf", "a,b=c": "pw"}
    tokens = {"someuser@example.com": "ya29.token", "u@example.com": "T"}

    # RFC 5802 section 5 (SCRAM-SHA-1), byte for byte.
    s = Server("SCRAM-SHA-1", users, {}, salt=unb64("QSXCR+Q6sek8bf92"),
               server_nonce="3rfcNHYJY1ZVvWVs7j")
    r = s.start(b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
    check("5802 server-first", r, ("challenge",
          b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
          b"s=QSXCR+Q6sek8bf92,i=4096"))
    r = s.step(b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
               b"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")
    check("5802 server-final", r, ("ok", b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="))
    # RFC 7677 section 3 (SCRAM-SHA-256).
    s = Server("SCRAM-SHA-256", users, {},
               salt=unb64("W22ZaJ0SNY7soEsUEjb6gQ=="),
               server_nonce="%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
    r = s.start(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
    check("7677 server-first", r, ("challenge",
          b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
          b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
    r = s.step(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
               b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    check("7677 server-final", r,
          ("ok", b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))

    # The Python client against random salts and nonces, every variant.
    cb = b"\x01\x02binding\x00\xff"
    for mech in ("SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
                 "SCRAM-SHA-256-PLUS"):
        for ctype in ("tls-unique", "tls-exporter"):
            for user in ("user", "a,b=c"):
                s = Server(mech, users, {}, cb, ctype)
                c = ScramClient(mech, user, users[user], "cn0nce", cb, ctype)
                kind, sf = s.start(c.first())
                check(mech + " first", kind, "challenge")
                r = s.step(c.final(sf))
                check("%s %s %s" % (mech, ctype, user), r, ("ok", c.want_v))
                check(mech + " user", s.user, user)
        # Wrong password, bad server signature.
        s = Server(mech, users, {}, cb, "tls-unique")
        c = ScramClient(mech, "user", "pencil", "n", cb, "tls-unique")
        kind, sf = s.start(c.first())
        check(mech + " wrong password", s.step(c.final(sf, b"penciL"))[0],
              "fail")
        s = Server(mech, users, {}, cb, "tls-unique",
                   bad_server_signature=True)
        kind, sf = s.start(c.first())
        kind, v = s.step(c.final(sf))
        check(mech + " bad signature ok", kind, "ok")
        check(mech + " bad signature differs", v != c.want_v, True)
    # -PLUS: other binding data, other type, no binding at all.
    s = Server("SCRAM-SHA-256-PLUS", users, {}, cb, "tls-unique")
    c = ScramClient("SCRAM-SHA-256-PLUS", "user", "pencil", "n", cb + b"x",
                    "tls-unique")
    kind, sf = s.start(c.first())
    check("wrong cbind", s.step(c.final(sf))[0], "fail")
    s = Server("SCRAM-SHA-256-PLUS", users, {}, cb, "tls-unique")
    c = ScramClient("SCRAM-SHA-256-PLUS", "user", "pencil", "n", cb,
                    "tls-exporter")
    check("wrong cbind type", s.start(c.first())[0], "fail")
    s = Server("SCRAM-SHA-256-PLUS", users, {}, None, None)
    check("no cbind", s.start(c.first())[0], "fail")
    s = Server("SCRAM-SHA-256", users, {}, cb, "tls-unique")
    check("p= on non-PLUS", s.start(c.first())[0], "fail")
    # The "y" flag: fails when -PLUS was offered (or cbind exists).
    for offered, cbind, want in (
            (None, cb, "fail"), (None, None, "ok"),
            (["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"], cb, "fail"),
            (["SCRAM-SHA-256", "SCRAM-SHA-1-PLUS"], cb, "fail"),
            (["SCRAM-SHA-256", "PLAIN"], None, "ok"),
            (["SCRAM-SHA-256"], cb, "ok")):
        s = Server("SCRAM-SHA-256", users, {}, cbind, "tls-unique",
                   offered=offered)
        c = ScramClient("SCRAM-SHA-256", "user", "pencil", "n", flag="y")
        kind, sf = s.start(c.first())
        got = kind if kind == "fail" else s.step(c.final(sf))[0]
        check("y flag %r %r" % (offered, cbind), got, want)
    # Malformed SCRAM messages, unknown users, a wrong nonce.
    for first in (b"", b"n,,", b"x,,n=user,r=a", b"n,,r=a,n=user",
                  b"n,,n=nobody,r=a", b"n,,n=us=er,r=a", b"n,,n=user,r="):
        s = Server("SCRAM-SHA-1", users, {})
        check("bad first %r" % first, s.start(first)[0], "fail")
    s = Server("SCRAM-SHA-1", users, {})
    c = ScramClient("SCRAM-SHA-1", "user", "pencil", "abc")
    kind, sf = s.start(c.first())
    final = c.final(sf).replace(b",r=abc", b",r=abd")
    check("nonce changed", s.step(final)[0], "fail")
    s = Server("SCRAM-SHA-1", users, {})
    s.start(None)
    kind, sf = s.step(c.first())
    check("no initial response", kind, "challenge")
    check("no initial response, final", s.step(c.final(sf)),
          ("ok", c.want_v))
    check("step after done", s.step(b"")[0], "fail")

    # PLAIN, LOGIN, CRAM-MD5 (RFC 2195 example), EXTERNAL.
    check("plain", Server("PLAIN", users, {}).start(
        b"\0tim\0tanstaaftanstaaf"), ("ok", None))
    check("plain authzid", Server("PLAIN", users, {}).start(
        b"tim\0tim\0tanstaaftanstaaf"), ("ok", None))
    check("plain other authzid", Server("PLAIN", users, {}).start(
        b"root\0tim\0tanstaaftanstaaf")[0], "fail")
    check("plain wrong", Server("PLAIN", users, {}).start(
        b"\0tim\0x")[0], "fail")
    check("plain malformed", Server("PLAIN", users, {}).start(
        b"\0tim")[0], "fail")
    s = Server("PLAIN", users, {})
    check("plain no initial", s.start(None), ("challenge", b""))
    check("plain after 334", s.step(b"\0user\0pencil"), ("ok", None))
    s = Server("LOGIN", users, {})
    check("login 1", s.start(None), ("challenge", b"Username:"))
    check("login 2", s.step(b"user"), ("challenge", b"Password:"))
    check("login 3", s.step(b"pencil"), ("ok", None))
    s = Server("LOGIN", users, {})
    check("login initial", s.start(b"user"), ("challenge", b"Password:"))
    check("login wrong", s.step(b"pen")[0], "fail")
    chal = b"<1896.697170952@postoffice.reston.mci.net>"
    s = Server("CRAM-MD5", users, {}, challenge=chal)
    check("cram 1", s.start(None), ("challenge", chal))
    check("cram 2", s.step(b"tim b913a602c7eda7a495b4e6e7334d3890"),
          ("ok", None))
    s = Server("CRAM-MD5", users, {}, challenge=chal)
    s.start(None)
    check("cram wrong", s.step(b"tim b913a602c7eda7a495b4e6e7334d3891")[0],
          "fail")
    check("cram random", Server("CRAM-MD5", users, {}).start(None)[0],
          "challenge")
    check("external", Server("EXTERNAL", {}, {}, external_ok=True).start(b""),
          ("ok", None))
    check("external refused", Server("EXTERNAL", {}, {}).start(b"")[0],
          "fail")
    check("external authzid", Server("EXTERNAL", {}, {},
          external_ok=True).start(b"root")[0], "fail")
    s = Server("EXTERNAL", {}, {}, external_ok=True)
    check("external no initial", s.start(None), ("challenge", b""))
    check("external after 334", s.step(b""), ("ok", None))

    # XOAUTH2 and OAUTHBEARER, with the error dance.
    good = b"user=someuser@example.com\x01auth=Bearer ya29.token\x01\x01"
    check("xoauth2", Server("XOAUTH2", {}, tokens).start(good), ("ok", None))
    s = Server("XOAUTH2", {}, tokens)
    kind, chal = s.start(good.replace(b"ya29", b"ya30"))
    check("xoauth2 bad", kind, "challenge")
    check("xoauth2 json", json.loads(chal)["status"], "400")
    check("xoauth2 final", s.step(b"")[0], "fail")
    check("xoauth2 malformed", Server("XOAUTH2", {}, tokens).start(
        b"user=x\x01auth=Bearer y")[0], "fail")
    good = (b"n,a=u@example.com,\x01host=server.example.com\x01port=587"
            b"\x01auth=Bearer T\x01\x01")
    s = Server("OAUTHBEARER", {}, tokens)
    check("oauthbearer", s.start(good), ("ok", None))
    check("oauthbearer host", s.kv.get("host"), "server.example.com")
    s = Server("OAUTHBEARER", {}, tokens)
    kind, chal = s.start(good.replace(b"Bearer T", b"Bearer X"))
    check("oauthbearer bad", kind, "challenge")
    check("oauthbearer json", json.loads(chal)["status"], "invalid_token")
    check("oauthbearer final", s.step(b"\x01")[0], "fail")
    s = Server("OAUTHBEARER", {}, tokens)
    s.start(good.replace(b"Bearer T", b"Bearer X"))
    check("oauthbearer final not ^A", s.step(b"")[0], "fail")
    check("oauthbearer escaped", Server("OAUTHBEARER", {}, {"a,b=c": "T"})
          .start(b"n,a=a=2Cb=3Dc,\x01auth=Bearer T\x01\x01"), ("ok", None))
    for bad in (b"n,,auth=Bearer T\x01\x01", b"y,a=u@example.com,\x01"
                b"auth=Bearer T\x01\x01", b"n,a=u@example.com,\x01auth=T"
                b"\x01\x01", b"n,a=u@example.com,\x01auth=Bearer T\x01"):
        check("oauthbearer malformed %r" % bad,
              Server("OAUTHBEARER", {}, tokens).start(bad)[0], "fail")

    check("unknown mech", Server("GSSAPI", {}, {}).start(None)[0], "fail")

    for f in failures:
        print("FAIL " + f)
    print("fakesasl selftest: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        sys.exit(selftest())
    sys.stderr.write("usage: fakesasl.py --selftest (or import it)\n")
    sys.exit(2)
