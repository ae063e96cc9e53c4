#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "dotstuff.h"
#include "envelope.h"
#include "exitcode.h"
#include "iobuf.h"
#include "net.h"
#include "reply.h"
#include "secret.h"
#include "smtp.h"
#include "smtp_int.h"
#include "tls.h"
#include "util.h"
#include "xmalloc.h"

/*
 * The engine is split so that later work plugs in without rewrites:
 *
 *   session_open()   connect, implicit TLS, greeting, EHLO/LHLO (HELO
 *                    fallback), STARTTLS (iobuf_set_ops(), refuse
 *                    read-ahead, EHLO again, forget the caps), AUTH
 *                    (smtp_auth.c; smtp_int.h holds the shared session)
 *   transaction()    MAIL, RCPT..., DATA, body, final reply; one message,
 *                    so a queue runner can call it again on the same
 *                    session (RSET between messages)
 *   send_body()      the content after 354; BDAT/CHUNKING would be a
 *                    second body sender beside it
 *   session_close()  QUIT when the stream is in a known state, close
 *
 * Only sess_fail() writes the outcome into the result; every status comes from
 * exit_status().
 */

#define DEFAULT_TIMEOUT	 60
#define QUIT_MAX_MS	 5000
#define BODY_CHUNK	 65536
#define MIB		 (1024LL * 1024)


static long long deadline_in(struct session *, long long);
static void	cmd(struct session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	io_failed(struct session *, enum phase, enum io_result, int,
		    int);
static void	rejected(struct session *, enum phase);
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
static int	session_open(struct session *);
static void	session_setup(struct session *, const struct smtp_params *,
		    struct smtp_result *, off_t);
static void	session_close(struct session *, int);
static void	add_failure(struct session *, const char *, int);
static int	send_empty_data(struct session *);
static int	send_body(struct session *, int, off_t);
static int	final_replies(struct session *, const struct envelope *,
		    const unsigned char *);
static void	rcpt_outcome(struct session *, enum phase);
static int	mail_group(struct session *, const struct envelope *,
		    const char *, const char *, int);
static int	rcpt_replies(struct session *, const struct envelope *, int,
		    unsigned char *, struct buf *);
static int	transaction(struct session *, const struct envelope *, int);
static int	mail_cmd(struct session *, const struct envelope *, int,
		    struct buf *);
static int	verify(struct session *, const struct envelope *,
		    struct buf *);

void
smtp_result_init(struct smtp_result *res)
{
	memset(res, 0, sizeof(*res));
	buf_init(&res->msg);
	buf_init(&res->server);
	buf_init(&res->warn);
	res->phase = PH_LOCAL;
	(void)snprintf(res->tls, sizeof(res->tls), "off");
	res->auth = "off";
}

void
smtp_result_release(struct smtp_result *res)
{
	size_t	 i;

	for (i = 0; i < res->nfailed; i++) {
		free(res->failed[i].addr);
		free(res->failed[i].text);
	}
	free(res->failed);
	res->failed = NULL;
	res->nfailed = 0;
	buf_release(&res->msg);
	buf_release(&res->server);
	buf_release(&res->warn);
}

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
static long long
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
static void
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
static void
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
static void
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

static int
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
static void
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

static void
add_failure(struct session *s, const char *addr, int code)
{
	struct smtp_result	*res = s->res;
	struct smtp_rcpt_failure *f;

	res->failed = xreallocarray(res->failed, res->nfailed + 1,
	    sizeof(*res->failed));
	f = &res->failed[res->nfailed++];
	f->addr = xstrdup(addr);
	f->code = code;
	buf_reset(&s->tmp);
	reply_summary(&s->r, &s->tmp);
	f->text = xstrdup(buf_str(&s->tmp));
}

/*
 * DATA got 354 but no recipient was accepted (possible with PIPELINING):
 * end the data at once.  The reply does not matter: there is nobody to
 * deliver to.
 */
static int
send_empty_data(struct session *s)
{
	buf_reset(&s->what);
	buf_addstr(&s->what, "the end of the (empty) data");
	sess_trace(s, '>', ".", 1);
	iobuf_queue(&s->io, ".\r\n", 3);
	if (sess_flush(s, PH_EOM, 1) == -1 ||
	    sess_read_reply(s, PH_EOM, 1) == -1)
		return -1;
	return 0;
}

/*
 * The content after 354: the spool from offset 0, dot-stuffed, in large
 * writes (each IOBUF_WFLUSH piece within one command timeout), then the
 * terminator.  A local read error leaves a half-sent message: the caller
 * drops the connection without the final dot so nothing is delivered.
 */
static int
send_body(struct session *s, int fd, off_t size)
{
	struct dotstuff	 ds;
	struct buf	 out = BUF_INIT;
	char		*chunk;
	off_t		 off = 0;
	size_t		 done, piece;
	ssize_t		 n;
	enum io_result	 ior;
	int		 rc = -1;

	(void)size;
	chunk = xmalloc(BODY_CHUNK);
	dot_init(&ds);
	buf_reset(&s->what);
	buf_addstr(&s->what, "the message");
	for (;;) {
		n = pread(fd, chunk, BODY_CHUNK, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			sess_fail(s, PH_BODY, 0, LE_LOCALIO, "cannot read the "
			    "spooled message: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += n;
		buf_reset(&out);
		dot_feed(&ds, chunk, (size_t)n, &out);
		/* Pieces of half a flush: each call writes at most one
		 * IOBUF_WFLUSH block, and each block gets a full T. */
		for (done = 0; done < out.len; done += piece) {
			piece = out.len - done;
			if (piece > IOBUF_WFLUSH / 2)
				piece = IOBUF_WFLUSH / 2;
			ior = iobuf_queue_data(&s->io, out.data + done, piece,
			    deadline_in(s, s->tmo_ms));
			if (ior != IO_OK) {
				io_failed(s, PH_BODY, ior, 1, 0);
				goto out;
			}
		}
	}
	buf_reset(&out);
	dot_finish(&ds, &out);
	iobuf_queue(&s->io, out.data, out.len);
	sess_trace(s, '>', ".", 1);
	if (sess_flush(s, PH_BODY, 0) == -1)
		goto out;
	rc = 0;
out:
	buf_release(&out);
	free(chunk);
	return rc;
}

/*
 * The reply to the final dot: one for SMTP, one per accepted recipient
 * (in RCPT order) for LMTP.  `ok[i]` says whether rcpt i was accepted.
 * Returns the number of recipients the message reached, -1 on failure.
 */
static int
final_replies(struct session *s, const struct envelope *env,
    const unsigned char *ok)
{
	size_t	 i, delivered = 0;

	buf_reset(&s->what);
	buf_addstr(&s->what, "the end of the data");
	if (!s->lmtp) {
		if (sess_read_reply(s, PH_EOM, 0) == -1)
			return -1;
		if (s->r.code != 250) {
			sess_unexpected(s, PH_EOM);
			return -1;
		}
		return (int)s->res->naccepted;
	}
	for (i = 0; i < env->rcpts.n; i++) {
		if (!ok[i])
			continue;
		buf_reset(&s->what);
		buf_addf(&s->what, "the end of the data for <%s>",
		    env->rcpts.v[i]);
		if (sess_read_reply(s, PH_EOM, 0) == -1)
			return -1;
		if (s->r.code / 100 == 2)
			delivered++;
		else if (s->r.code / 100 == 4 || s->r.code / 100 == 5) {
			add_failure(s, env->rcpts.v[i], s->r.code);
			s->res->naccepted--;
		} else
			return sess_unexpected(s, PH_EOM);
	}
	return (int)delivered;
}

/*
 * Status when some or all recipients failed.  The representative failure
 * is the first temporary one (a retry may still reach it), else the
 * first.  LMTP's per-recipient verdicts after the data count as RCPT
 * verdicts.
 */
static void
rcpt_outcome(struct session *s, enum phase ph)
{
	struct smtp_result	*res = s->res;
	const struct smtp_rcpt_failure *f = &res->failed[0];
	const char		*what;
	size_t			 i;

	for (i = 0; i < res->nfailed; i++)
		if (res->failed[i].code / 100 == 4) {
			f = &res->failed[i];
			break;
		}
	res->phase = ph;
	res->code = f->code;
	res->lerr = LE_NONE;
	res->status = exit_status(PH_RCPT, f->code, LE_NONE);
	/* LMTP: refused after the data rather than at RCPT. */
	what = ph == PH_EOM ? "delivery to " : "RCPT TO:";
	buf_reset(&res->msg);
	if (res->naccepted == 0 && res->nfailed == 1)
		buf_addf(&res->msg, "%s<%s> rejected: %s", what, f->addr,
		    f->text);
	else if (res->naccepted == 0)
		buf_addf(&res->msg, "all %zu recipients rejected",
		    res->nfailed);
	else if (res->nfailed == 1)
		buf_addf(&res->msg, "%s<%s> rejected (the other recipients "
		    "got the message): %s", what, f->addr, f->text);
	else
		buf_addf(&res->msg, "%zu of %zu recipients rejected (the "
		    "others got the message)", res->nfailed,
		    res->nfailed + res->naccepted);
	/* The front end lists each refusal only when there are several. */
	res->rcpt_verdict = 1;
}

/*
 * RFC 3461 section 4: xtext.  Bytes outside "!".."~", and "+" and "="
 * themselves, go as "+" and two upper-case hex digits.
 */
static void
add_xtext(struct buf *b, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < '!' || *p > '~' || *p == '+' || *p == '=') {
			buf_addch(b, '+');
			buf_addch(b, hex[*p >> 4]);
			buf_addch(b, hex[*p & 0x0f]);
		} else
			buf_addch(b, *p);
}

/* RCPT TO, with NOTIFY= when asked for and the server offers DSN. */
static void
rcpt_cmd(struct session *s, const struct envelope *env, const char *addr)
{
	struct buf	 b = BUF_INIT;
	const char	*p;

	buf_addf(&b, "RCPT TO:<%s>", addr);
	if (env->notify != NULL && (s->caps.flags & CAP_DSN)) {
		/* The keywords are case-insensitive; sent as the RFC
		 * spells them. */
		buf_addstr(&b, " NOTIFY=");
		for (p = env->notify; *p != '\0'; p++)
			buf_addch(&b, *p >= 'a' && *p <= 'z' ?
			    (char)(*p - 'a' + 'A') : *p);
	}
	cmd(s, "%s", buf_str(&b));
	buf_release(&b);
}

/*
 * The MAIL FROM command with its parameters, into `mail`.  `with_size`:
 * a message follows (SIZE= and the server's limit apply).  Returns -1
 * with the outcome recorded when the envelope cannot go to this server.
 */
static int
mail_cmd(struct session *s, const struct envelope *env, int with_size,
    struct buf *mail)
{
	if (env->smtputf8 && !(s->caps.flags & CAP_SMTPUTF8)) {
		sess_fail(s, PH_MAIL, 0, LE_DATAERR,
		    "the message needs SMTPUTF8 "
		    "(an address is not ASCII) and the server does not "
		    "offer it");
		return -1;
	}
	if (with_size && (s->caps.flags & CAP_SIZE) && s->caps.size > 0 &&
	    (unsigned long long)env->size > s->caps.size) {
		sess_fail(s, PH_MAIL, 0, LE_TOOBIG,
		    "the message (%lld bytes) is "
		    "larger than the server's limit of %llu bytes",
		    (long long)env->size, s->caps.size);
		return -1;
	}
	buf_addf(mail, "MAIL FROM:<%s>", env->from);
	if (with_size && (s->caps.flags & CAP_SIZE))
		buf_addf(mail, " SIZE=%lld", (long long)env->size);
	/*
	 * -B picks the BODY= value, but the content wins: 8-bit content
	 * is declared 8BITMIME even under -B 7BIT, since telling the server
	 * 7BIT for 8-bit bytes would be a lie it may act on (downgrade,
	 * bounce).  Without 8BITMIME offered, no BODY= at all.
	 */
	if (s->caps.flags & CAP_8BITMIME) {
		if (env->body_8bit || env->body_type == BODY_8BITMIME)
			buf_addstr(mail, " BODY=8BITMIME");
		else if (env->body_type == BODY_7BIT)
			buf_addstr(mail, " BODY=7BIT");
	}
	if (env->smtputf8 ||
	    (env->request_utf8 && (s->caps.flags & CAP_SMTPUTF8)))
		buf_addstr(mail, " SMTPUTF8");
	if (s->caps.flags & CAP_DSN) {
		if (env->ret != NULL)
			buf_addf(mail, " RET=%s", env->ret);
		if (env->envid != NULL) {
			buf_addstr(mail, " ENVID=");
			add_xtext(mail, env->envid);
		}
	}
	return 0;
}

/*
 * Send MAIL (with PIPELINING also every RCPT and `last`, DATA or RSET,
 * in the same write) and read MAIL's reply.  Returns 0 when MAIL was
 * accepted.  Otherwise the refusal is the outcome, and the replies to the
 * rest of a pipelined group are drained quietly (503s, most likely); -1.
 */
static int
mail_group(struct session *s, const struct envelope *env, const char *mail,
    const char *last, int pipelining)
{
	size_t	 i;

	cmd(s, "%s", mail);
	if (pipelining) {
		for (i = 0; i < env->rcpts.n; i++)
			rcpt_cmd(s, env, env->rcpts.v[i]);
		cmd(s, "%s", last);
	}
	buf_reset(&s->what);
	buf_addf(&s->what, "MAIL FROM:<%s>", env->from);
	if (sess_flush(s, PH_MAIL, 0) == -1 ||
	    sess_read_reply(s, PH_MAIL, 0) == -1)
		return -1;
	if (s->r.code / 100 == 2)
		return 0;
	sess_unexpected(s, PH_MAIL);
	for (i = 0; pipelining && !s->broken && i <= env->rcpts.n; i++)
		if (sess_read_reply(s, PH_RCPT, 1) == -1)
			break;
	return -1;
}

/*
 * The RCPT replies of a transaction (sending each RCPT first when not
 * pipelined).  Accepted recipients are marked in `ok`, refused ones
 * recorded as failures; with `verdicts` (-bv) every answer also gets a
 * line there.  Returns -1 when the session cannot go on (a 421, a reply
 * that does not fit, I/O): the outcome is recorded already.
 */
static int
rcpt_replies(struct session *s, const struct envelope *env, int pipelining,
    unsigned char *ok, struct buf *verdicts)
{
	size_t	 i;
	int	 cls;

	for (i = 0; i < env->rcpts.n; i++) {
		buf_reset(&s->what);
		buf_addf(&s->what, "RCPT TO:<%s>", env->rcpts.v[i]);
		if (!pipelining) {
			rcpt_cmd(s, env, env->rcpts.v[i]);
			if (sess_flush(s, PH_RCPT, 0) == -1)
				return -1;
		}
		if (sess_read_reply(s, PH_RCPT, 0) == -1)
			return -1;
		/* 421 is not about this recipient: the server is closing
		 * the channel, so nothing more may be sent. */
		if (s->r.code == 421) {
			rejected(s, PH_RCPT);
			return -1;
		}
		cls = s->r.code / 100;
		if (cls == 2) {
			if (ok != NULL)
				ok[i] = 1;
			s->res->naccepted++;
		} else if (cls == 4 || cls == 5)
			add_failure(s, env->rcpts.v[i], s->r.code);
		else {
			sess_unexpected(s, PH_RCPT);
			return -1;
		}
		if (verdicts != NULL) {
			buf_reset(&s->tmp);
			reply_summary(&s->r, &s->tmp);
			buf_addf(verdicts, "%s: %s (%s)\n", env->rcpts.v[i],
			    cls == 2 ? "deliverable" : cls == 4 ?
			    "temporary failure" : "rejected", s->tmp.data);
		}
	}
	return 0;
}

/* One message: MAIL, RCPT..., DATA, content, final reply. */
static int
transaction(struct session *s, const struct envelope *env, int spool_fd)
{
	unsigned char	*ok;
	int		 pipelining, got354 = 0, rc = -1;
	struct buf	 mail = BUF_INIT;

	if (mail_cmd(s, env, 1, &mail) == -1)
		goto out_mail;
	pipelining = (s->caps.flags & CAP_PIPELINING) != 0;
	ok = xcalloc(env->rcpts.n, 1);

	if (mail_group(s, env, mail.data, "DATA", pipelining) == -1) {
		/* A pipelined DATA may have been answered 354 anyway. */
		if (pipelining && s->r.code == 354)
			(void)send_empty_data(s);
		goto out;
	}

	if (rcpt_replies(s, env, pipelining, ok, NULL) == -1)
		goto out;

	buf_reset(&s->what);
	buf_addstr(&s->what, "DATA");
	if (!pipelining) {
		if (s->res->naccepted == 0) {
			rcpt_outcome(s, PH_RCPT);
			goto out;
		}
		cmd(s, "DATA");
		if (sess_flush(s, PH_DATA, 0) == -1)
			goto out;
	}
	if (sess_read_reply(s, PH_DATA, 0) == -1)
		goto out;
	got354 = s->r.code == 354;
	if (s->res->naccepted == 0) {
		/* Pipelined: DATA went out before the verdicts. */
		if (got354)
			(void)send_empty_data(s);
		rcpt_outcome(s, PH_RCPT);
		goto out;
	}
	if (!got354) {
		sess_unexpected(s, PH_DATA);
		goto out;
	}

	if (send_body(s, spool_fd, env->size) == -1)
		goto out;
	switch (final_replies(s, env, ok)) {
	case -1:
		goto out;
	case 0:
		/* LMTP: every recipient refused after the data. */
		rcpt_outcome(s, PH_EOM);
		goto out;
	default:
		break;
	}
	if (s->res->nfailed > 0)
		rcpt_outcome(s, s->lmtp ? PH_EOM : PH_RCPT);
	else {
		s->res->phase = PH_EOM;
		s->res->lerr = LE_NONE;
		s->res->status = exit_status(PH_EOM, s->r.code, LE_NONE);
		buf_reset(&s->res->msg);
	}
	rc = 0;
out:
	free(ok);
out_mail:
	buf_release(&mail);
	return rc;
}

/*
 * -bv: MAIL, one RCPT per address, RSET; never DATA.  Each answered
 * recipient gets a line in `out`.  The outcome is that of the worst
 * verdict, as for delivery.
 */
static int
verify(struct session *s, const struct envelope *env, struct buf *out)
{
	int		 pipelining;
	struct buf	 mail = BUF_INIT;

	if (mail_cmd(s, env, 0, &mail) == -1)
		goto out;
	pipelining = (s->caps.flags & CAP_PIPELINING) != 0;
	if (mail_group(s, env, mail.data, "RSET", pipelining) == -1)
		goto out;
	if (rcpt_replies(s, env, pipelining, NULL, out) == -1)
		goto out;
	/* RSET ends the transaction; its reply changes no verdict. */
	buf_reset(&s->what);
	buf_addstr(&s->what, "RSET");
	if (!pipelining) {
		cmd(s, "RSET");
		if (sess_flush(s, PH_RCPT, 1) == -1)
			goto verdict;
	}
	(void)sess_read_reply(s, PH_RCPT, 1);
verdict:
	if (s->res->nfailed > 0) {
		rcpt_outcome(s, PH_RCPT);
		buf_reset(&s->res->msg);
		buf_addf(&s->res->msg, "%zu of %zu addresses not deliverable",
		    s->res->nfailed, s->res->nfailed + s->res->naccepted);
	} else {
		s->res->phase = PH_QUIT;
		s->res->lerr = LE_NONE;
		s->res->status = 0;
		buf_reset(&s->res->msg);
	}
out:
	buf_release(&mail);
	return s->res->status == 0 ? 0 : -1;
}

/* The session before connecting: limits from the params and the size. */
static void
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

int
smtp_submit(const struct smtp_params *p, const struct envelope *env,
    int spool_fd, struct smtp_result *res)
{
	struct session	 s;

	session_setup(&s, p, res, env->size);
	res->status = -1;
	if (env->rcpts.n == 0)
		sess_fail(&s, PH_LOCAL, 0, LE_USAGE, "no recipients");
	else if (session_open(&s) == 0)
		(void)transaction(&s, env, spool_fd);
	if (res->status == -1) {
		/* Every path above records an outcome; be safe anyway. */
		sess_fail(&s, PH_LOCAL, 0, LE_SOFTWARE, "no outcome recorded");
	}
	/* A 421 means the server is closing: QUIT is pointless but
	 * harmless.  After a timeout, drop or garbage: just close. */
	session_close(&s, 1);

	reply_release(&s.r);
	buf_release(&s.what);
	buf_release(&s.tmp);
	return res->status;
}

int
smtp_verify(const struct smtp_params *p, const struct envelope *env,
    struct buf *verdicts, struct smtp_result *res)
{
	struct session	 s;

	session_setup(&s, p, res, 0);
	res->status = -1;
	if (env->rcpts.n == 0)
		sess_fail(&s, PH_LOCAL, 0, LE_USAGE, "no recipients");
	else if (session_open(&s) == 0)
		(void)verify(&s, env, verdicts);
	if (res->status == -1)
		sess_fail(&s, PH_LOCAL, 0, LE_SOFTWARE, "no outcome recorded");
	session_close(&s, 1);
	reply_release(&s.r);
	buf_release(&s.what);
	buf_release(&s.tmp);
	return res->status;
}
