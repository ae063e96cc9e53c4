#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "outcome.h"
#include "iobuf.h"
#include "reply.h"
#include "route.h"
#include "sasl.h"
#include "smtp.h"
#include "smtp_int.h"
#include "tls.h"

/*
 * SMTP AUTH (RFC 4954) for the engine: choose the mechanism, relay
 * challenges and responses through sasl.c with the secret smtp_open()
 * fetched before connecting, and leave no copy of the secret or its
 * encodings behind.  The transcript shows AUTH lines redacted.
 */

#define AUTH_MAX_STEPS	 10	/* 334 challenges per AUTH */
#define AUTH_MAX_LINE	 12288	/* RFC 4954 4: AUTH line with its response */

static int	send_secret(struct smtp_session *, struct buf *, const char *);
static void	encode_into(struct buf *, const struct buf *);
static int	auth_exchange(struct smtp_session *, struct sasl_client *,
		    const char *);
static unsigned	what_we_have(struct smtp_session *, struct buf *,
		    const char **);
static int	pick_mech(struct smtp_session *, unsigned);
static const char *keyword(const char *, char *, size_t);
static int	auth_again(struct smtp_session *, int, const char *,
		    const char *);

/* `name` is in the space-separated EHLO AUTH list. */
int
auth_offered(const char *list, const char *name)
{
	size_t	 n = strlen(name), w;

	while (*list != '\0') {
		while (*list == ' ')
			list++;
		w = strcspn(list, " ");
		if (w == n && strncasecmp(list, name, n) == 0)
			return 1;
		list += w;
	}
	return 0;
}

/*
 * Queue a line that holds AUTH data, trace `shown` instead, send it and
 * leave no copy behind: the write buffer starts empty and large enough
 * (no realloc leaves a stale copy) and is wiped after the flush.
 */
static int
send_secret(struct smtp_session *s, struct buf *line, const char *shown)
{
	int	 rc;

	buf_wipe(&s->io.wbuf);
	buf_grow(&s->io.wbuf, line->len + 2);
	sess_trace(s, '>', shown, strlen(shown));
	iobuf_queue(&s->io, line->data != NULL ? line->data : "", line->len);
	iobuf_queue(&s->io, "\r\n", 2);
	buf_wipe(line);
	rc = sess_flush(s, PH_AUTH, 0);
	buf_wipe(&s->io.wbuf);
	return rc;
}

/* Base64 of `in` into an empty `out` sized up front (no stale copies). */
static void
encode_into(struct buf *out, const struct buf *in)
{
	buf_grow(out, (in->len + 2) / 3 * 4 + 4);
	if (in->len > 0)
		sasl_b64_encode(in->data, in->len, out);
}

/*
 * AUTH NAME [initial-response], then one response per 334 challenge, at
 * most AUTH_MAX_STEPS of them (a challenge line is bounded by the reply
 * parser's REPLY_MAX_LINE).  No fallback to another mechanism.
 */
static int
auth_exchange(struct smtp_session *s, struct sasl_client *c, const char *name)
{
	struct buf	 resp = BUF_INIT, line = BUF_INIT, chal = BUF_INIT;
	struct buf	 err = BUF_INIT, shown = BUF_INIT;
	int		 steps = 0, rc = -1, pending = 0, initial;
	size_t		 hint;

	awaiting(s, "AUTH %s", name);
	buf_addf(&shown, "AUTH %s", name);
	/* Room for any response up front: growing would leave copies of
	 * the secret in freed memory. */
	hint = c->user.len + c->secret.len + c->host.len + c->cbind.len + 512;
	buf_grow(&resp, hint);
	if ((initial = sasl_initial(c, &resp)) == -1) {
		sess_fail(s, PH_AUTH, 0, LE_CONFIG, "AUTH %s cannot start with "
		    "these credentials; nothing was sent", name);
		goto out;
	}
	if (initial && 5 + strlen(name) + 1 + (resp.len + 2) / 3 * 4 + 2 >
	    AUTH_MAX_LINE)
		pending = 1;	/* sent after the first, empty, 334 */
	buf_grow(&line, 5 + strlen(name) + 2 + (resp.len + 2) / 3 * 4 + 4);
	buf_addf(&line, "AUTH %s", name);
	if (initial && !pending) {
		buf_addch(&line, ' ');
		if (resp.len == 0)
			buf_addch(&line, '=');
		else
			encode_into(&line, &resp);
		buf_addstr(&shown, " [redacted]");
		buf_wipe(&resp);
	}
	s->redact = 1;
	if (send_secret(s, &line, shown.data) == -1)
		goto out;
	for (;;) {
		if (sess_read_reply(s, PH_AUTH, 0) == -1)
			goto out;
		if (s->r.code != 334)
			break;
		if (++steps > AUTH_MAX_STEPS) {
			sess_fail(s, PH_AUTH, s->r.code, LE_PROTOCOL,
			    "the server "
			    "sent more than %d AUTH %s challenges",
			    AUTH_MAX_STEPS, name);
			goto out;
		}
		buf_wipe(&chal);
		if (s->r.nlines != 1 || sasl_b64_decode(s->r.text.data,
		    s->r.text.len, &chal) == -1) {
			sess_fail(s, PH_AUTH, s->r.code, LE_PROTOCOL,
			    "malformed "
			    "AUTH %s challenge (not one line of base64)", name);
			goto out;
		}
		if (pending)
			pending = 0;	/* resp holds the initial response */
		else {
			buf_wipe(&resp);
			buf_grow(&resp, hint);
			if (sasl_step(c, (const unsigned char *)chal.data,
			    chal.len, &resp, &err) == -1) {
				/* RFC 4954 4: cancel with "*". */
				buf_addstr(&line, "*");
				if (send_secret(s, &line, "*") == 0)
					(void)sess_read_reply(s, PH_AUTH, 1);
				sess_fail(s, PH_AUTH, 0, LE_PROTOCOL,
				    "AUTH %s: %s",
				    name, err.data != NULL ? err.data :
				    "the server's challenge is not valid");
				goto out;
			}
		}
		encode_into(&line, &resp);
		buf_wipe(&resp);
		if (send_secret(s, &line, "[redacted]") == -1)
			goto out;
	}
	s->redact = 0;
	if (s->r.code == 235 && !sasl_done(c)) {
		sess_fail(s, PH_AUTH, s->r.code, LE_PROTOCOL,
		    "the server accepted "
		    "AUTH %s without proving that it knows the password; "
		    "nothing was sent", name);
		goto out;
	}
	if (s->r.code == 235)
		rc = 0;
	else {
		(void)sess_unexpected(s, PH_AUTH);
		if (sasl_server_message(c) != NULL)
			buf_addf(&s->st.text, " (%s)", sasl_server_message(c));
	}
out:
	s->redact = 0;
	buf_wipe(&resp);
	buf_wipe(&line);
	buf_wipe(&chal);
	buf_release(&err);
	buf_release(&shown);
	return rc;
}

/* What we can offer a mechanism; channel-binding data into `cb`. */
static unsigned
what_we_have(struct smtp_session *s, struct buf *cb, const char **cbtype)
{
	const struct route	*rt = s->rt;
	unsigned		 have = 0;
	int			 token;

	token = rt->oauth || (rt->auth == RA_MECH &&
	    (rt->mech == SASL_XOAUTH2 || rt->mech == SASL_OAUTHBEARER));
	if (rt->user != NULL)
		have |= token ? SASL_HAVE_TOKEN : SASL_HAVE_PASSWORD;
	if (s->tls != NULL) {
		if (tls_client_cert_sent(s->tls))
			have |= SASL_HAVE_CERT;
		if (tls_channel_binding(s->tls, cb, cbtype) == 0)
			have |= SASL_HAVE_CBIND;
		if (s->tls_verified)
			have |= SASL_HAVE_TLS;
	}
	return have;
}

/* A mechanism as the `auth` keyword spells it ("scram-sha-256-plus"),
 * for messages that tell the user what to change. */
static const char *
keyword(const char *name, char *out, size_t size)
{
	size_t	 i;

	for (i = 0; name[i] != '\0' && i + 1 < size; i++)
		out[i] = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	out[i] = '\0';
	return out;
}

/*
 * RA_ANY: the strongest mechanism offered that fits what we have;
 * RA_MECH: that one or nothing.  -1 after sess_fail, nothing sent.
 */
static int
pick_mech(struct smtp_session *s, unsigned have)
{
	const struct route	*rt = s->rt;
	struct buf		 err = BUF_INIT;
	const char		*name = sasl_name((enum sasl_mech)rt->mech);
	char			 kw[32];
	int			 mech = -1;

	if (rt->auth == RA_ANY) {
		if ((mech = sasl_choose(s->caps.auth, have, &err)) == -1)
			sess_fail(s, PH_AUTH, 0, LE_NONE, "no usable AUTH "
			    "mechanism (the server offers %s): %s; nothing "
			    "was sent", s->caps.auth, buf_str(&err));
	} else if (!auth_offered(s->caps.auth, name))
		sess_fail(s, PH_AUTH, 0, LE_NONE, "the server does not offer "
		    "AUTH %s (it offers %s); nothing was sent", name,
		    s->caps.auth);
	else if (sasl_needs_tls(rt->mech) && !(have & SASL_HAVE_TLS))
		sess_fail(s, PH_AUTH, 0, LE_CONFIG, "auth %s sends the secret "
		    "in a readable form: refused without a verified TLS "
		    "session (tls on, tls_certcheck on); nothing was sent",
		    keyword(name, kw, sizeof(kw)));
	else if ((rt->mech == SASL_SCRAM_SHA_1_PLUS ||
	    rt->mech == SASL_SCRAM_SHA_256_PLUS) && !(have & SASL_HAVE_CBIND))
		sess_fail(s, PH_AUTH, 0, LE_CONFIG, "auth %s needs TLS channel "
		    "binding, which this session does not have",
		    keyword(name, kw, sizeof(kw)));
	else if (rt->mech == SASL_EXTERNAL && !(have & SASL_HAVE_CERT))
		sess_fail(s, PH_AUTH, 0, LE_CONFIG, "auth external needs a "
		    "client certificate (tls_cert_file, tls_key_file) sent "
		    "over TLS");
	else
		mech = rt->mech;
	buf_release(&err);
	return mech;
}

/*
 * The server refused the access token: revoked, or expired before the
 * time it was said to live.  A fresh one, once; RFC 4954 lets the
 * client start AUTH again after a failure.
 */
static int
auth_again(struct smtp_session *s, int mech, const char *name,
    const char *host)
{
	static const char	 note[] = "the server refused the access "
	    "token: getting a fresh one";
	struct sasl_client	 c;
	struct buf		 err = BUF_INIT, was = BUF_INIT, what = BUF_INIT;
	int			 rc, temp = 0;

	sess_trace(s, '*', note, sizeof(note) - 1);
	rc = s->rt->secret(s->rt->secret_arg, 1, &s->secret, &temp, &what,
	    &err);
	if (what.len > 0)
		sess_trace(s, '*', what.data, what.len);
	buf_release(&what);
	if (rc == -1) {
		buf_addstr(&was, buf_str(&s->st.text));
		sess_fail(s, PH_AUTH, 0, temp ? LE_NETIO : LE_CONFIG, "%s; "
		    "and no fresh token: %s", buf_str(&was), buf_str(&err));
		buf_release(&was);
		buf_release(&err);
		buf_wipe(&s->secret);
		return -1;
	}
	buf_release(&err);
	sasl_init(&c, (enum sasl_mech)mech, s->rt->user != NULL ?
	    s->rt->user : "", buf_str(&s->secret), host, s->rt->port);
	buf_wipe(&s->secret);
	sasl_set_offered(&c, s->caps.auth);
	rc = auth_exchange(s, &c, name);
	sasl_release(&c);
	return rc;
}

/* Choose the mechanism, run the exchange, wipe. */
int
smtp_auth(struct smtp_session *s)
{
	const struct route	*rt = s->rt;
	struct sasl_client	 c;
	struct buf		 cb = BUF_INIT;
	const char		*cbtype = NULL, *host, *name;
	unsigned		 have;
	int			 mech, rc = -1;

	host = s->host != NULL ? s->host : "localhost";
	if (!(s->caps.flags & CAP_AUTH) || s->caps.auth[0] == '\0') {
		sess_fail(s, PH_AUTH, 0, LE_NONE, "credentials are configured "
		    "but the server does not offer AUTH%s; nothing was sent",
		    s->tls == NULL ? " on this plaintext connection ('tls on' "
		    "may help)" : "");
		goto out;
	}
	have = what_we_have(s, &cb, &cbtype);
	if ((mech = pick_mech(s, have)) == -1)
		goto out;
	name = sasl_name((enum sasl_mech)mech);
	if (mech != SASL_EXTERNAL && s->secret.data == NULL) {
		/* RA_ANY without a user picked a password mechanism: only
		 * possible when sasl_choose() is wrong. */
		sess_fail(s, PH_AUTH, 0, LE_CONFIG, "no secret for AUTH %s",
		    name);
		goto out;
	}
	sasl_init(&c, (enum sasl_mech)mech, rt->user != NULL ? rt->user : "",
	    buf_str(&s->secret), host, rt->port);
	buf_wipe(&s->secret);
	/* Plain SCRAM gets the binding too, for RFC 5802's "y" flag. */
	if (have & SASL_HAVE_CBIND)
		sasl_set_cbind(&c, cb.data, cb.len, cbtype);
	sasl_set_offered(&c, s->caps.auth);
	buf_wipe(&cb);
	rc = auth_exchange(s, &c, name);
	sasl_release(&c);
	if (rc == -1 && s->rt->oauth && s->st.lerr == LE_NONE &&
	    s->r.code == 535)
		rc = auth_again(s, mech, name, host);
	if (rc == 0)
		s->auth = name;
out:
	buf_wipe(&s->secret);
	buf_wipe(&cb);
	return rc;
}
