#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "exitcode.h"
#include "iobuf.h"
#include "net.h"
#include "reply.h"
#include "smtp.h"
#include "smtp_int.h"
#include "tls.h"
#include "util.h"

/*
 * The SMTP session, apart from the transactions sent over it: the
 * command and reply I/O with its deadlines and failure wording (shared
 * with smtp.c and smtp_auth.c through smtp_int.h), connect, implicit
 * TLS, the greeting, EHLO/LHLO with the HELO fallback, STARTTLS, QUIT
 * and close, the limits set up before connecting, and -S
 * (smtp_serverinfo).  One session may carry several transactions;
 * smtp.c holds MAIL/RCPT/DATA and -bv.
 */

#define DEFAULT_TIMEOUT	 60
#define QUIT_MAX_MS	 5000
#define MIB		 (1024LL * 1024)


static int	is_localhost(const char *);
static const char *helo_name(struct session *, struct buf *);
static int	ehlo(struct session *);
static int	is_loopback(const struct sockaddr_storage *);
static int	choose_tls(struct session *, const struct sockaddr_storage *);
static int	tls_start(struct session *, enum phase);
static int	starttls(struct session *);
static int	is_on(const char *);
static int	is_off(const char *);
static void	info_lines(struct session *, const char *, const char *);
static void	info_reply(struct session *, const char *);
static void	info_tls(struct session *, const char *);

/* Record the outcome: phase, reply code, local error, one-line reason. */
void
sess_fail(struct session *s, enum phase ph, int code, enum local_err le,
    const char *fmt, ...)
{
	va_list	 ap;

	s->res->phase = ph;
	s->res->code = code;
	s->res->lerr = le;
	s->res->status = exit_status(ph, code, le);
	buf_reset(&s->res->msg);
	va_start(ap, fmt);
	buf_vaddf(&s->res->msg, fmt, ap);
	va_end(ap);
	if (le == LE_TIMEOUT || le == LE_DROPPED || le == LE_NETIO ||
	    le == LE_PROTOCOL || le == LE_LOCALIO)
		s->broken = 1;
}

/* An absolute deadline `ms` from now, never past the total deadline. */
long long
deadline_in(struct session *s, long long ms)
{
	long long	 d = now_ms() + ms;

	s->hit_total = d >= s->total_deadline;
	return s->hit_total ? s->total_deadline : d;
}

void
sess_trace(struct session *s, char dir, const char *line, size_t len)
{
	if (s->p->trace != NULL)
		s->p->trace(s->p->trace_arg, dir, line, len);
}

/* Queue one command line (CRLF added) and trace it. */
void
cmd(struct session *s, const char *fmt, ...)
{
	va_list	 ap;

	buf_reset(&s->tmp);
	va_start(ap, fmt);
	buf_vaddf(&s->tmp, fmt, ap);
	va_end(ap);
	sess_trace(s, '>', s->tmp.data, s->tmp.len);
	buf_addstr(&s->tmp, "\r\n");
	iobuf_queue(&s->io, s->tmp.data, s->tmp.len);
}

/* Describe a failed write or read for the result. */
void
io_failed(struct session *s, enum phase ph, enum io_result ior, int sending,
    int quiet)
{
	int	 e = errno;
	long long secs = (s->hit_total ? s->total_ms : s->tmo_ms) / 1000;

	if (quiet) {
		s->broken = 1;
		return;
	}
	switch (ior) {
	case IO_TIMEOUT:
		if (!sending && ph != PH_GREETING) {
			buf_reset(&s->tmp);
			buf_addf(&s->tmp, "the reply to %s", s->what.data);
			buf_reset(&s->what);
			buf_addstr(&s->what, s->tmp.data);
		}
		if (s->hit_total)
			sess_fail(s, ph, 0, LE_TIMEOUT,
			    "total time limit of %lld s "
			    "exceeded %s %s", secs, sending ? "sending" :
			    "waiting for", s->what.data);
		else
			sess_fail(s, ph, 0, LE_TIMEOUT,
			    "timed out after %lld s %s "
			    "%s", secs, sending ? "sending" : "waiting for",
			    s->what.data);
		break;
	case IO_EOF:
		sess_fail(s, ph, 0, LE_DROPPED,
		    "connection closed by the server "
		    "%s", ph == PH_GREETING ? "before the greeting" :
		    sending ? "while sending" : "after");
		if (ph != PH_GREETING) {
			buf_addch(&s->res->msg, ' ');
			buf_addstr(&s->res->msg, s->what.data);
		}
		break;
	case IO_TOOLONG:
		sess_fail(s, ph, 0, LE_PROTOCOL, "malformed reply to %s: reply "
		    "line too long", s->what.data);
		break;
	default:
		if (e == EPIPE || e == ECONNRESET)
			sess_fail(s, ph, 0, LE_DROPPED,
			    "connection %s by the server "
			    "%s %s", e == EPIPE ? "closed" : "reset",
			    sending ? "while sending" : "after", s->what.data);
		else
			sess_fail(s, ph, 0, LE_NETIO, "%s error %s %s: %s",
			    sending ? "write" : "read", sending ? "sending" :
			    "after", s->what.data, strerror(e));
		break;
	}
}

/* Write what is queued; the deadline is one command timeout. */
int
sess_flush(struct session *s, enum phase ph, int quiet)
{
	enum io_result	 ior;

	ior = iobuf_flush(&s->io, deadline_in(s, quiet && s->tmo_ms >
	    QUIT_MAX_MS ? QUIT_MAX_MS : s->tmo_ms));
	if (ior == IO_OK)
		return 0;
	io_failed(s, ph, ior, 1, quiet);
	return -1;
}

/*
 * Read one complete reply into s->r.  Each reply has its own absolute
 * deadline, one command timeout from when we start waiting for it (for a
 * pipelined group: from the previous reply), capped by the total
 * deadline.  `quiet`: failures only mark the stream broken (QUIT).
 */
int
sess_read_reply(struct session *s, enum phase ph, int quiet)
{
	enum io_result	 ior;
	enum reply_state st;
	const char	*line, *why;
	size_t		 len;
	long long	 dl;

	dl = deadline_in(s, quiet && s->tmo_ms > QUIT_MAX_MS ? QUIT_MAX_MS :
	    s->tmo_ms);
	reply_reset(&s->r);
	for (;;) {
		ior = iobuf_getline(&s->io, &line, &len, REPLY_MAX_LINE, dl);
		if (ior != IO_OK) {
			io_failed(s, ph, ior, 0, quiet);
			return -1;
		}
		if (s->redact && len >= 3 && memcmp(line, "334", 3) == 0)
			sess_trace(s, '<', "334 [redacted]", 14);
		else
			sess_trace(s, '<', line, len);
		st = reply_feed(&s->r, line, len, &why);
		if (st == REPLY_DONE)
			break;
		if (st == REPLY_BAD) {
			if (quiet)
				s->broken = 1;
			else
				sess_fail(s, ph, 0, LE_PROTOCOL,
				    "malformed reply "
				    "to %s: %s", s->what.data, why);
			return -1;
		}
	}
	if (!quiet)
		s->res->code = s->r.code;
	return 0;
}

/* The server said no (4xx/5xx) to s->what. */
void
rejected(struct session *s, enum phase ph)
{
	buf_reset(&s->tmp);
	reply_summary(&s->r, &s->tmp);
	if (ph == PH_GREETING)
		sess_fail(s, ph, s->r.code, LE_NONE, "the server refused the "
		    "connection: %s", s->tmp.data);
	else if (ph == PH_EOM)
		sess_fail(s, ph, s->r.code, LE_NONE, "the message was rejected "
		    "after the data: %s", s->tmp.data);
	else
		sess_fail(s, ph, s->r.code, LE_NONE, "%s rejected: %s",
		    s->what.data, s->tmp.data);
}

/* The reply does not fit the command (a 354 to MAIL, a 250 to DATA):
 * reject 4xx/5xx normally, anything else is a protocol error.  Returns
 * -1 always. */
int
sess_unexpected(struct session *s, enum phase ph)
{
	int	 c = s->r.code / 100;

	if (c == 4 || c == 5) {
		rejected(s, ph);
		return -1;
	}
	buf_reset(&s->tmp);
	reply_summary(&s->r, &s->tmp);
	sess_fail(s, ph, s->r.code, LE_PROTOCOL, "unexpected reply to %s: %s",
	    s->what.data, s->tmp.data);
	return -1;
}

static int
is_localhost(const char *name)
{
	return name == NULL || name[0] == '\0' ||
	    strcasecmp(name, "localhost") == 0 ||
	    strncasecmp(name, "localhost.", 10) == 0;
}

/*
 * The EHLO argument: the caller's name, the account's `domain`, this
 * host's FQDN, else our address literal on this connection.  Never
 * "localhost", which servers reject or treat as a forgery.
 */
static const char *
helo_name(struct session *s, struct buf *out)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 a[INET6_ADDRSTRLEN];
	const char		*n;

	if (!is_localhost(s->p->helo_name))
		return s->p->helo_name;
	if (!is_localhost(s->acct->domain))
		return s->acct->domain;
	/* A dotless host name is no FQDN (Postfix's
	 * reject_non_fqdn_helo_hostname): the literal is better. */
	if ((n = local_fqdn()) != NULL && !is_localhost(n) &&
	    strchr(n, '.') != NULL)
		return n;
	buf_reset(out);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == -1)
		ss.ss_family = AF_UNSPEC;
	if (ss.ss_family == AF_INET6 && inet_ntop(AF_INET6,
	    &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a)) != NULL)
		buf_addf(out, "[IPv6:%s]", a);
	else if (ss.ss_family == AF_INET && inet_ntop(AF_INET,
	    &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a)) != NULL)
		buf_addf(out, "[%s]", a);
	else
		buf_addstr(out, "[127.0.0.1]");	/* a unix socket */
	return out->data;
}

static int
ehlo(struct session *s)
{
	struct buf	 lit = BUF_INIT;
	const char	*name = helo_name(s, &lit);
	const char	*verb = s->lmtp ? "LHLO" : "EHLO";
	int		 rc = -1;

	buf_reset(&s->what);
	buf_addf(&s->what, "%s %s", verb, name);
	cmd(s, "%s %s", verb, name);
	if (sess_flush(s, PH_EHLO, 0) == -1 ||
	    sess_read_reply(s, PH_EHLO, 0) == -1)
		goto out;
	if (s->r.code == 250) {
		caps_parse(&s->caps, &s->r);
		info_reply(s, s->tls != NULL ? "Capabilities (inside TLS)" :
		    "Capabilities");
		rc = 0;
		goto out;
	}
	/* RFC 5321 4.1.4: an old server may not know EHLO.  LMTP has no
	 * HELO. */
	if (s->r.code / 100 != 5 || s->lmtp) {
		sess_unexpected(s, PH_EHLO);
		goto out;
	}
	memset(&s->caps, 0, sizeof(s->caps));
	buf_reset(&s->what);
	buf_addf(&s->what, "HELO %s", name);
	cmd(s, "HELO %s", name);
	if (sess_flush(s, PH_HELO, 0) == -1 ||
	    sess_read_reply(s, PH_HELO, 0) == -1)
		goto out;
	if (s->r.code != 250) {
		sess_unexpected(s, PH_HELO);
		goto out;
	}
	rc = 0;
out:
	buf_release(&lit);
	return rc;
}

int
session_open(struct session *s)
{
	struct net_target	 t;
	struct buf		 err = BUF_INIT, addr = BUF_INIT;
	struct sockaddr_storage	 peer;
	socklen_t		 plen = sizeof(peer);
	enum local_err		 le;

	memset(&t, 0, sizeof(t));
	t.host = s->acct->host;
	t.port = s->port;
	t.socket = s->acct->socket;
	t.source_ip = s->acct->source_ip;
	if (t.socket == NULL && t.host != NULL)
		buf_addf(&s->res->server, strchr(t.host, ':') != NULL ?
		    "[%s]" : "%s", t.host);
	else if (t.socket != NULL)
		buf_addstr(&s->res->server, t.socket);
	s->fd = net_connect(&t, deadline_in(s, s->tmo_ms), &le, &err, &addr);
	if (s->fd == -1) {
		if (t.socket == NULL)
			buf_addf(&s->res->server, ":%d", t.port);
		sess_fail(s, PH_CONNECT, 0, le, "%s", err.data != NULL ?
		    err.data : "cannot connect");
		buf_release(&err);
		buf_release(&addr);
		return -1;
	}
	if (t.socket == NULL)
		buf_addf(&s->res->server, "[%s]:%d", addr.data, t.port);
	buf_release(&err);
	buf_release(&addr);
	iobuf_init(&s->io, s->fd);
	s->have_io = 1;

	memset(&peer, 0, sizeof(peer));
	if (t.socket != NULL)
		peer.ss_family = AF_UNIX;
	else if (getpeername(s->fd, (struct sockaddr *)&peer, &plen) == -1)
		peer.ss_family = AF_UNSPEC;
	if (choose_tls(s, &peer) == -1)
		return -1;
	if (s->tls_mode == TM_IMPLICIT && tls_start(s, PH_TLS) == -1)
		return -1;

	buf_reset(&s->what);
	buf_addstr(&s->what, "the greeting");
	if (sess_read_reply(s, PH_GREETING, 0) == -1)
		return -1;
	if (s->r.code != 220) {
		sess_unexpected(s, PH_GREETING);
		return -1;
	}
	if (s->info != NULL) {
		buf_addf(s->info, "SMTP server at %s\n",
		    buf_str(&s->res->server));
		if (s->tls != NULL && s->tls_mode == TM_IMPLICIT)
			info_tls(s, "TLS (implicit)");
		info_reply(s, "Greeting");
	}
	if (ehlo(s) == -1)
		return -1;
	if (s->tls_mode == TM_STARTTLS && starttls(s) == -1)
		return -1;
	if (s->info == NULL && smtp_want_auth(s->acct) && smtp_auth(s) == -1)
		return -1;
	return 0;
}

/* -S: `title`, then every line of `text` indented by 4. */
static void
info_lines(struct session *s, const char *title, const char *text)
{
	const char	*t, *nl;

	if (s->info == NULL)
		return;
	buf_addf(s->info, "%s:\n", title);
	for (t = text; *t != '\0'; t = nl != NULL ? nl + 1 : t + strlen(t)) {
		nl = strchr(t, '\n');
		buf_addf(s->info, "    %.*s\n", nl != NULL ? (int)(nl - t) :
		    (int)strlen(t), t);
	}
}

/* -S: the reply just read. */
static void
info_reply(struct session *s, const char *title)
{
	info_lines(s, title, buf_str(&s->r.text));
}

/* -S: the TLS session just established. */
static void
info_tls(struct session *s, const char *title)
{
	struct buf	 d = BUF_INIT;

	if (s->info == NULL)
		return;
	tls_describe(s->tls, &d);
	info_lines(s, title, buf_str(&d));
	buf_release(&d);
}

/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static int
is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	const unsigned char		*b;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family != AF_INET6)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
		return 1;
	b = sin6->sin6_addr.s6_addr;
	return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && b[12] == 127;
}

static int
is_on(const char *v)
{
	return v != NULL && strcmp(v, "on") == 0;
}

static int
is_off(const char *v)
{
	return v != NULL && strcmp(v, "off") == 0;
}

/*
 * Secure by default: `tls` unset means TLS is required unless the peer
 * is loopback or a unix socket.  Implicit TLS with `tls_starttls off`, or
 * when it is unset and the port is 465.
 */
static int
choose_tls(struct session *s, const struct sockaddr_storage *peer)
{
	const struct account	*a = s->acct;
	int			 required;

	if (is_off(a->tls))
		required = 0;
	else if (is_on(a->tls))
		required = 1;
	else
		required = peer->ss_family != AF_UNIX && !is_loopback(peer);
	if (!required) {
		s->tls_mode = TM_PLAIN;
		return 0;
	}
	if (is_off(a->tls_starttls) ||
	    (a->tls_starttls == NULL && a->socket == NULL && s->port == 465))
		s->tls_mode = TM_IMPLICIT;
	else
		s->tls_mode = TM_STARTTLS;
	return 0;
}

/*
 * Handshake on the connected fd and swap the iobuf ops.  Whatever was
 * read ahead has been refused by the caller already.
 */
static int
tls_start(struct session *s, enum phase ph)
{
	const struct account	*a = s->acct;
	struct tls_params	 tp;
	struct buf		 err = BUF_INIT;

	memset(&tp, 0, sizeof(tp));
	tp.host = a->tls_host_override != NULL ? a->tls_host_override :
	    a->host != NULL ? a->host : "localhost";
	tp.trust_file = a->tls_trust_file;
	tp.crl_file = a->tls_crl_file;
	tp.fingerprint = a->tls_fingerprint;
	tp.certcheck = !is_off(a->tls_certcheck);
	tp.priorities = a->tls_priorities;
	tp.cert_file = a->tls_cert_file;
	tp.key_file = a->tls_key_file;
	if (!tp.certcheck && tp.fingerprint == NULL)
		buf_addf(&s->res->warn, "tls_certcheck is off: the identity of "
		    "'%s' is not verified", tp.host);
	s->tls = tls_new();
	buf_reset(&s->what);
	buf_addstr(&s->what, "the TLS handshake");
	if (tls_handshake(s->tls, s->fd, &tp, deadline_in(s, s->tmo_ms),
	    &err) == -1) {
		sess_fail(s, ph, 0, LE_TLS,
		    "TLS handshake with '%s' failed: %s",
		    tp.host, err.data != NULL ? err.data : "unknown error");
		/* Nothing more may be sent in plaintext or otherwise. */
		s->broken = 1;
		buf_release(&err);
		tls_free(s->tls);
		s->tls = NULL;
		return -1;
	}
	buf_release(&err);
	(void)iobuf_set_ops(&s->io, &tls_io_ops, s->tls);
	s->tls_verified = tp.certcheck || tp.fingerprint != NULL;
	(void)snprintf(s->res->tls, sizeof(s->res->tls), "%s",
	    tls_version(s->tls));
	return 0;
}

/*
 * STARTTLS alone (the last command of its group), then the handshake,
 * then EHLO again with every plaintext capability forgotten.
 */
static int
starttls(struct session *s)
{
	const char	*where = s->acct->socket != NULL ? s->acct->socket :
	    s->acct->host;

	if (!(s->caps.flags & CAP_STARTTLS)) {
		sess_fail(s, PH_STARTTLS, 0, LE_TLS,
		    "the server %s does not offer "
		    "STARTTLS; refusing to send in plaintext (write 'tls off' "
		    "in the account to allow it)", where != NULL ? where : "");
		return -1;
	}
	buf_reset(&s->what);
	buf_addstr(&s->what, "STARTTLS");
	cmd(s, "STARTTLS");
	if (sess_flush(s, PH_STARTTLS, 0) == -1 ||
	    sess_read_reply(s, PH_STARTTLS, 0) == -1)
		return -1;
	if (s->r.code / 100 == 4 || s->r.code / 100 == 5) {
		buf_reset(&s->tmp);
		reply_summary(&s->r, &s->tmp);
		sess_fail(s, PH_STARTTLS, s->r.code, LE_TLS,
		    "STARTTLS refused: %s; "
		    "nothing was sent in plaintext", s->tmp.data);
		return -1;
	}
	if (s->r.code != 220)
		return sess_unexpected(s, PH_STARTTLS);
	/* Bytes after the 220 were written before our handshake: an
	 * attacker's injection (CVE-2011-0411 and kin). */
	if (iobuf_unread(&s->io) > 0) {
		sess_fail(s, PH_STARTTLS, s->r.code, LE_PROTOCOL,
		    "the server sent "
		    "%zu unexpected bytes after its 220 to STARTTLS (possible "
		    "injection); nothing more was sent", iobuf_unread(&s->io));
		return -1;
	}
	if (tls_start(s, PH_TLS) == -1)
		return -1;
	info_tls(s, "TLS (STARTTLS)");
	memset(&s->caps, 0, sizeof(s->caps));
	if (ehlo(s) == -1)
		return -1;
	return 0;
}

/* QUIT (when the stream is in a known state) and close.  Never changes
 * the outcome. */
void
session_close(struct session *s, int quit)
{
	if (s->have_io) {
		if (quit && !s->broken) {
			buf_reset(&s->what);
			buf_addstr(&s->what, "QUIT");
			cmd(s, "QUIT");
			if (sess_flush(s, PH_QUIT, 1) == 0)
				(void)sess_read_reply(s, PH_QUIT, 1);
		}
		if (s->tls != NULL && !s->broken)
			tls_bye(s->tls, deadline_in(s, QUIT_MAX_MS));
		/* Anything that ever held AUTH data. */
		buf_wipe(&s->io.wbuf);
		iobuf_release(&s->io);
		s->have_io = 0;
	}
	if (s->tls != NULL) {
		tls_free(s->tls);
		s->tls = NULL;
	}
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
}
/* The session before connecting: limits from the params and the size. */
void
session_setup(struct session *s, const struct smtp_params *p,
    struct smtp_result *res, off_t size)
{
	long long	 t, total;

	memset(s, 0, sizeof(*s));
	s->p = p;
	s->acct = p->acct;
	s->res = res;
	s->fd = -1;
	s->lmtp = p->acct->protocol == PROTO_LMTP;
	s->port = p->acct->port > 0 ? p->acct->port : s->lmtp ? 24 : 25;
	reply_init(&s->r);
	buf_init(&s->what);
	buf_init(&s->tmp);

	/* T per command; the whole session gets 10 T plus T per MiB. */
	t = p->timeout > 0 ? p->timeout : DEFAULT_TIMEOUT;
	total = 10 * t + ((long long)size / MIB + 1) * t;
	if (p->total_timeout > 0 && p->total_timeout < total)
		total = p->total_timeout;
	s->tmo_ms = t * 1000;
	s->total_ms = total * 1000;
	s->total_deadline = now_ms() + s->total_ms;
}

int
smtp_serverinfo(const struct smtp_params *p, struct buf *out,
    struct smtp_result *res)
{
	struct session	 s;

	session_setup(&s, p, res, 0);
	s.info = out;
	res->status = -1;
	if (session_open(&s) == 0) {
		if (s.caps.auth[0] != '\0')
			buf_addf(out, "AUTH mechanisms: %s\n", s.caps.auth);
		res->phase = PH_QUIT;
		res->status = 0;
	}
	session_close(&s, 1);
	reply_release(&s.r);
	buf_release(&s.what);
	buf_release(&s.tmp);
	return res->status;
}
