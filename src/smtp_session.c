#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "outcome.h"
#include "iobuf.h"
#include "net.h"
#include "reply.h"
#include "route.h"
#include "smtp.h"
#include "smtp_int.h"
#include "tls.h"
#include "util.h"
#include "xmalloc.h"

/*
 * The SMTP session, apart from the transactions sent over it (smtp.c):
 * creating it, fetching the AUTH secret, connect, implicit TLS, the
 * greeting, EHLO/LHLO with the HELO fallback, STARTTLS, AUTH (through
 * smtp_auth.c), moving on to the route's next host when one fails for a
 * reason another may not share, QUIT and close, and what -S shows.
 */

#define OPEN_STEPS	 10	/* smtp_open() gets 10 T per host */
/* The summary of the hosts that failed before the last one stays one
 * readable line: so many hosts, so many bytes of each one's reason. */
#define EARLIER_MAX	 5
#define EARLIER_TEXT_MAX 120

static const char *helo_name(struct smtp_session *, struct buf *);
static int	ehlo(struct smtp_session *);
static void	choose_tls(struct smtp_session *,
		    const struct sockaddr_storage *);
static int	tls_start(struct smtp_session *, enum phase);
static int	starttls(struct smtp_session *);
static int	fetch_secret(struct smtp_session *);
static size_t	ntargets(const struct smtp_session *);
static int	connect_host(struct smtp_session *);
static int	greeting(struct smtp_session *);
static int	open_host(struct smtp_session *, const struct buf *);
static int	next_host_may_help(const struct smtp_status *);
static void	add_cut(struct buf *, const char *, size_t);
static void	summarise(struct smtp_session *, const struct buf *, size_t);
static void	hangup(struct smtp_session *);
static void	host_reset(struct smtp_session *);
static void	indented(struct buf *, const char *, const char *);
static void	describe_oauth(const struct smtp_session *, struct buf *);
static int	open_again(struct smtp_session *, const struct buf *);

struct smtp_session *
smtp_new(const struct route *rt, smtp_trace_fn trace, void *trace_arg)
{
	struct smtp_session	*s = xcalloc(1, sizeof(*s));

	s->rt = rt;
	s->trace = trace;
	s->trace_arg = trace_arg;
	s->fd = -1;
	s->st.phase = PH_LOCAL;
	buf_init(&s->st.text);
	reply_init(&s->r);
	s->tmo_ms = (long long)rt->timeout * 1000;
	(void)snprintf(s->tls_version, sizeof(s->tls_version), "off");
	s->auth = "off";
	return s;
}

/* The EHLO argument: route_helo()'s, else our address literal on this
 * connection. */
static const char *
helo_name(struct smtp_session *s, struct buf *out)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 a[INET6_ADDRSTRLEN];
	const char		*n;

	if ((n = route_helo(s->rt)) != NULL)
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
ehlo(struct smtp_session *s)
{
	struct buf	 lit = BUF_INIT;
	const char	*name = helo_name(s, &lit);
	const char	*verb = s->rt->lmtp ? "LHLO" : "EHLO";
	int		 rc = -1;

	awaiting(s, "%s %s", verb, name);
	cmd(s, "%s %s", verb, name);
	if (sess_flush(s, PH_EHLO, 0) == -1 ||
	    sess_read_reply(s, PH_EHLO, 0) == -1)
		goto out;
	if (s->r.code == 250) {
		caps_parse(&s->caps, &s->r);
		buf_addstr(s->tls != NULL ? &s->caps_tls : &s->caps_plain,
		    buf_str(&s->r.text));
		rc = 0;
		goto out;
	}
	/* RFC 5321 4.1.4: an old server may not know EHLO.  LMTP has no
	 * HELO. */
	if (s->r.code / 100 != 5 || s->rt->lmtp) {
		sess_unexpected(s, PH_EHLO);
		goto out;
	}
	memset(&s->caps, 0, sizeof(s->caps));
	awaiting(s, "HELO %s", name);
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

/* The route decides; the session remembers how TLS starts. */
static void
choose_tls(struct smtp_session *s, const struct sockaddr_storage *peer)
{
	struct buf	 why = BUF_INIT;

	if (!route_tls_decide(s->rt, peer, s->trace != NULL ? &why : NULL))
		s->tls_mode = TM_PLAIN;
	else if (s->rt->tls_start == RT_IMPLICIT)
		s->tls_mode = TM_IMPLICIT;
	else
		s->tls_mode = TM_STARTTLS;
	/* With -v, before the greeting: why this session has TLS or not. */
	if (s->trace != NULL) {
		buf_reset(&s->tmp);
		buf_addf(&s->tmp, "connected to %s; TLS %s",
		    buf_str(&s->server), buf_str(&why));
		sess_trace(s, '*', s->tmp.data, s->tmp.len);
	}
	buf_release(&why);
}

/*
 * Handshake on the connected fd and swap the iobuf ops.  Whatever was
 * read ahead has been refused by the caller already.
 */
static int
tls_start(struct smtp_session *s, enum phase ph)
{
	const struct route	*rt = s->rt;
	struct tls_params	 tp = rt->tlsp;
	struct buf		 err = BUF_INIT, name = BUF_INIT;

	if (tp.host == NULL)
		tp.host = s->host != NULL ? s->host : "localhost";
	/* Sessions are the server's as connected: host and port. */
	tp.store = s->resume_off ? NULL : s->tls_store;
	tp.store_ctx = s->tls_store_ctx;
	if (tp.store != NULL && rt->socket != NULL)
		buf_addstr(&name, rt->socket);
	else if (tp.store != NULL)
		buf_addf(&name, "%s:%d", s->host != NULL ? s->host : "",
		    rt->port);
	tp.cache_name = buf_str(&name);
	if (!tp.certcheck && tp.fingerprint == NULL)
		buf_addf(&s->warn, "tls_certcheck is off: the identity of "
		    "'%s' is not verified\n", tp.host);
	s->tls = tls_new();
	awaiting(s, "the TLS handshake");
	if (tls_handshake(s->tls, s->fd, &tp, deadline_in(s, s->tmo_ms),
	    &err) == -1) {
		sess_fail(s, ph, 0, LE_TLS, "TLS handshake with '%s' failed: "
		    "%s", tp.host, err.data != NULL ? err.data :
		    "unknown error");
		/* Nothing more may be sent in plaintext or otherwise. */
		s->broken = 1;
		s->resume_failed = tls_resume_dropped(s->tls);
		buf_release(&err);
		buf_release(&name);
		tls_free(s->tls);
		s->tls = NULL;
		return -1;
	}
	buf_release(&err);
	buf_release(&name);
	if (tls_resumed(s->tls)) {
		buf_reset(&s->tmp);
		buf_addf(&s->tmp, "%s session resumed", tls_version(s->tls));
		sess_trace(s, '*', s->tmp.data, s->tmp.len);
	}
	(void)iobuf_set_ops(&s->io, &tls_io_ops, s->tls);
	s->tls_verified = tp.certcheck || tp.fingerprint != NULL;
	(void)snprintf(s->tls_version, sizeof(s->tls_version), "%s",
	    tls_version(s->tls));
	return 0;
}

/*
 * STARTTLS alone (the last command of its group), then the handshake,
 * then EHLO again with every plaintext capability forgotten.
 */
static int
starttls(struct smtp_session *s)
{
	const char	*where = s->rt->socket != NULL ? s->rt->socket :
	    s->host != NULL ? s->host : "";

	if (!(s->caps.flags & CAP_STARTTLS)) {
		sess_fail(s, PH_STARTTLS, 0, LE_TLS, "the server %s does not "
		    "offer STARTTLS; refusing to send in plaintext (write "
		    "'tls off' in the account to allow it)", where);
		return -1;
	}
	awaiting(s, "STARTTLS");
	cmd(s, "STARTTLS");
	if (sess_flush(s, PH_STARTTLS, 0) == -1 ||
	    sess_read_reply(s, PH_STARTTLS, 0) == -1)
		return -1;
	if (s->r.code / 100 == 4 || s->r.code / 100 == 5) {
		buf_reset(&s->tmp);
		reply_summary(&s->r, &s->tmp);
		sess_fail(s, PH_STARTTLS, s->r.code, LE_TLS, "STARTTLS "
		    "refused: %s; nothing was sent in plaintext", s->tmp.data);
		return -1;
	}
	if (s->r.code != 220)
		return sess_unexpected(s, PH_STARTTLS);
	/* Bytes after the 220 were written before our handshake: an
	 * attacker's injection (CVE-2011-0411 and kin). */
	if (iobuf_unread(&s->io) > 0) {
		sess_fail(s, PH_STARTTLS, s->r.code, LE_PROTOCOL, "the server "
		    "sent %zu unexpected bytes after its 220 to STARTTLS "
		    "(possible injection); nothing more was sent",
		    iobuf_unread(&s->io));
		return -1;
	}
	if (tls_start(s, PH_TLS) == -1)
		return -1;
	memset(&s->caps, 0, sizeof(s->caps));
	return ehlo(s);
}

/* Before connecting: whatever a passwordeval or a prompt takes, no
 * server is kept waiting for it. */
static int
fetch_secret(struct smtp_session *s)
{
	struct buf	 err = BUF_INIT, note = BUF_INIT;
	int		 rc = 0, temp = 0;

	if (!route_needs_secret(s->rt))
		return 0;
	if (s->rt->secret == NULL)
		buf_addstr(&err, "no secret source");
	else
		rc = s->rt->secret(s->rt->secret_arg, 0, &s->secret, &temp,
		    &note, &err);
	if (note.len > 0)
		sess_trace(s, '*', note.data, note.len);
	buf_release(&note);
	if (s->rt->secret == NULL || rc == -1) {
		/* A token endpoint that did not answer: later may do. */
		sess_fail(s, PH_AUTH, 0, temp ? LE_NETIO : LE_CONFIG,
		    "cannot get the password or token: %s", buf_str(&err));
		rc = -1;
	}
	buf_release(&err);
	return rc;
}

/* What smtp_open() can try: the socket, else each host (a route with
 * none still gets one try, which fails with "no host configured"). */
static size_t
ntargets(const struct smtp_session *s)
{
	if (s->rt->socket != NULL || s->rt->hosts.n == 0)
		return 1;
	return s->rt->hosts.n;
}

static int
connect_host(struct smtp_session *s)
{
	const struct route	*rt = s->rt;
	struct net_target	 t;
	struct buf		 err = BUF_INIT, addr = BUF_INIT;
	enum local_err		 le;

	memset(&t, 0, sizeof(t));
	t.host = s->host;
	t.port = rt->port;
	t.socket = rt->socket;
	t.source_ip = rt->source_ip;
	buf_reset(&s->server);
	if (t.socket != NULL)
		buf_addstr(&s->server, t.socket);
	else if (t.host != NULL)
		buf_addf(&s->server, strchr(t.host, ':') != NULL ? "[%s]" :
		    "%s", t.host);
	s->fd = net_connect(&t, deadline_in(s, s->tmo_ms), &le, &err, &addr);
	if (s->fd == -1) {
		if (t.socket == NULL)
			buf_addf(&s->server, ":%d", t.port);
		sess_fail(s, PH_CONNECT, 0, le, "%s", err.data != NULL ?
		    err.data : "cannot connect");
	} else if (t.socket == NULL)
		buf_addf(&s->server, "[%s]:%d", addr.data, t.port);
	buf_release(&err);
	buf_release(&addr);
	if (s->fd == -1)
		return -1;
	iobuf_init(&s->io, s->fd);
	s->have_io = 1;
	s->connected = 1;
	return 0;
}

static int
greeting(struct smtp_session *s)
{
	awaiting(s, "the greeting");
	if (sess_read_reply(s, PH_GREETING, 0) == -1)
		return -1;
	if (s->r.code != 220)
		return sess_unexpected(s, PH_GREETING);
	buf_addstr(&s->greeting, buf_str(&s->r.text));
	return 0;
}

/*
 * One host, from connect to AUTH, within its own budget.  `secret` is
 * what fetch_secret() got: smtp_auth() wipes its copy once used, so each
 * host gets a fresh one.
 */
static int
open_host(struct smtp_session *s, const struct buf *secret)
{
	struct sockaddr_storage	 peer;
	socklen_t		 plen = sizeof(peer);

	sess_budget(s, OPEN_STEPS * s->tmo_ms);
	if (connect_host(s) == -1)
		return -1;
	memset(&peer, 0, sizeof(peer));
	if (s->rt->socket != NULL)
		peer.ss_family = AF_UNIX;
	else if (getpeername(s->fd, (struct sockaddr *)&peer, &plen) == -1)
		peer.ss_family = AF_UNSPEC;
	choose_tls(s, &peer);
	if (s->tls_mode == TM_IMPLICIT && tls_start(s, PH_TLS) == -1)
		return -1;
	if (greeting(s) == -1 || ehlo(s) == -1)
		return -1;
	if (s->tls_mode == TM_STARTTLS && starttls(s) == -1)
		return -1;
	if (s->rt->auth == RA_OFF)
		return 0;
	if (secret->data != NULL) {
		buf_wipe(&s->secret);
		buf_add(&s->secret, secret->data, secret->len);
	}
	return smtp_auth(s);
}

/*
 * A failure that the next host may not have: the network, the name
 * lookup (another name may resolve), a deadline, a dropped or garbled
 * session, TLS, or a 4xx.  A 5xx is the verdict of the service behind
 * every host, and a local or configuration error would recur on each;
 * both are final.
 */
static int
next_host_may_help(const struct smtp_status *st)
{
	switch (st->lerr) {
	case LE_CONNECT:
	case LE_DNSTEMP:
	case LE_NOHOST:
	case LE_TIMEOUT:
	case LE_DROPPED:
	case LE_NETIO:
	case LE_TLS:
	case LE_PROTOCOL:
		return 1;
	case LE_NONE:
		return st->code / 100 == 4;
	default:
		return 0;
	}
}

/* `text`, or its first `max` bytes (never half a UTF-8 sequence) and
 * "...". */
static void
add_cut(struct buf *out, const char *text, size_t max)
{
	size_t	 n = strlen(text);

	if (n <= max) {
		buf_add(out, text, n);
		return;
	}
	n = max;
	while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;
	buf_add(out, text, n);
	buf_addstr(out, "...");
}

/*
 * Lead the last host's reason with the hosts that failed before it, in
 * the order tried: "mx2: REASON; earlier: mx1: REASON".  `earlier` holds
 * them already cut to length, `nearlier` counts every one.
 */
static void
summarise(struct smtp_session *s, const struct buf *earlier, size_t nearlier)
{
	struct buf	 sum = BUF_INIT;

	buf_addf(&sum, "%s: %s; earlier: %s", s->host, buf_str(&s->st.text),
	    buf_str(earlier));
	if (nearlier > EARLIER_MAX)
		buf_addf(&sum, "; and %zu more", nearlier - EARLIER_MAX);
	buf_release(&s->st.text);
	s->st.text = sum;
}

/*
 * The handshake failed after offering a stored TLS session: servers
 * that cannot resume should fall back to a full handshake, and one that
 * chokes instead must not cost the message its attempt.  The same host
 * once more, from scratch, without the store.
 */
static int
open_again(struct smtp_session *s, const struct buf *secret)
{
	static const char	 note[] = "the stored TLS session failed; "
	    "connecting again for a full handshake";
	int			 rc;

	sess_trace(s, '*', note, sizeof(note) - 1);
	hangup(s);
	host_reset(s);
	s->resume_off = 1;
	rc = open_host(s, secret);
	s->resume_off = 0;
	return rc;
}

int
smtp_open(struct smtp_session *s)
{
	struct buf	 secret = BUF_INIT, earlier = BUF_INIT;
	size_t		 n = ntargets(s), i, nearlier = 0;
	int		 rc = -1;

	if (s->first_host >= n) {
		sess_fail(s, PH_CONNECT, 0, LE_SOFTWARE, "no host number %zu: "
		    "the route has %zu", s->first_host + 1, n);
		return -1;
	}
	if (fetch_secret(s) == -1)
		return -1;
	/* Fetched once for every host: keep it aside for each one's
	 * AUTH. */
	secret = s->secret;
	buf_init(&s->secret);
	for (i = s->first_host;; i++) {
		s->host_index = i;
		s->host = s->rt->socket == NULL && s->rt->hosts.n > 0 ?
		    s->rt->hosts.v[i] : NULL;
		if (open_host(s, &secret) == 0 || (s->resume_failed &&
		    open_again(s, &secret) == 0)) {
			rc = 0;
			break;
		}
		if (i + 1 == n || !next_host_may_help(&s->st))
			break;
		buf_addf(&s->warn, "%s failed (%s); trying %s\n",
		    buf_str(&s->server), buf_str(&s->st.text),
		    s->rt->hosts.v[i + 1]);
		if (++nearlier <= EARLIER_MAX) {
			buf_addf(&earlier, "%s%s: ", nearlier > 1 ? "; " : "",
			    s->host);
			add_cut(&earlier, buf_str(&s->st.text),
			    EARLIER_TEXT_MAX);
		}
		hangup(s);
		host_reset(s);
	}
	buf_wipe(&secret);
	buf_wipe(&s->secret);
	if (rc == 0)
		s->ready = 1;
	else if (nearlier > 0)
		summarise(s, &earlier, nearlier);
	buf_release(&earlier);
	return rc;
}

/*
 * End the connection, as the server should see it end: QUIT when the
 * stream is in a known state, then TLS's close_notify.  The session
 * itself stays, to be closed or to try another host.
 */
static void
hangup(struct smtp_session *s)
{
	if (s->have_io) {
		/* A 421 means the server is closing: QUIT is pointless but
		 * harmless.  After a timeout, drop or garbage: just close.
		 * RFC 5321 4.1.1.10 says the client SHOULD wait for the
		 * 221; it cannot change an outcome that is settled by now,
		 * and waiting would cost every submission a round trip, so
		 * QUIT and close_notify go out and the reply is not read. */
		if (!s->broken) {
			/* A reply has been read inside TLS by now: a TLS 1.3
			 * server's ticket came before it. */
			tls_save_session(s->tls);
			awaiting(s, "QUIT");
			cmd(s, "QUIT");
			if (sess_flush(s, PH_QUIT, 1) == 0 && s->tls != NULL)
				tls_bye(s->tls, deadline_in(s, QUIT_MAX_MS));
			if (!s->broken && s->fd != -1)
				net_end_gently(s->fd);
		}
		/* Anything that ever held AUTH data. */
		buf_wipe(&s->io.wbuf);
		iobuf_release(&s->io);
		s->have_io = 0;
	}
	tls_free(s->tls);
	s->tls = NULL;
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}

/* After hangup(): nothing learnt from the last host carries over to the
 * next (its capabilities, TLS, greeting, failure); warnings do. */
static void
host_reset(struct smtp_session *s)
{
	s->st.phase = PH_LOCAL;
	s->st.code = 0;
	s->st.ecode[0] = '\0';
	s->st.lerr = LE_NONE;
	buf_reset(&s->st.text);
	s->ready = 0;
	s->broken = 0;
	s->in_txn = 0;
	reply_reset(&s->r);
	memset(&s->caps, 0, sizeof(s->caps));
	s->tls_mode = TM_PLAIN;
	s->tls_verified = 0;
	s->resume_failed = 0;
	s->redact = 0;
	buf_wipe(&s->secret);
	buf_reset(&s->server);
	(void)snprintf(s->tls_version, sizeof(s->tls_version), "off");
	s->auth = "off";
	buf_reset(&s->greeting);
	buf_reset(&s->caps_plain);
	buf_reset(&s->caps_tls);
	s->connected = 0;
}

/* `title`, then every line of `text` indented by 4. */
static void
indented(struct buf *out, const char *title, const char *text)
{
	const char	*t, *nl;

	buf_addf(out, "%s:\n", title);
	for (t = text; *t != '\0'; t = nl != NULL ? nl + 1 : t + strlen(t)) {
		nl = strchr(t, '\n');
		buf_addf(out, "    %.*s\n", nl != NULL ? (int)(nl - t) :
		    (int)strlen(t), t);
	}
}

/* What an OAuth account (oauth_provider) can use here. */
static void
describe_oauth(const struct smtp_session *s, struct buf *out)
{
	int	 bearer = auth_offered(s->caps.auth, "OAUTHBEARER");
	int	 x = auth_offered(s->caps.auth, "XOAUTH2");

	if (bearer || x)
		buf_addf(out, "OAuth mechanisms: %s%s%s\n",
		    bearer ? "OAUTHBEARER" : "", bearer && x ? " " : "",
		    x ? "XOAUTH2" : "");
	else
		buf_addstr(out, "OAuth mechanisms: none (an account with "
		    "oauth_provider needs OAUTHBEARER or XOAUTH2)\n");
}

void
smtp_describe(const struct smtp_session *s, struct buf *out)
{
	struct buf	 d = BUF_INIT;

	if (s->greeting.len == 0)
		return;
	buf_addf(out, "SMTP server at %s\n", buf_str(&s->server));
	if (s->tls != NULL)
		tls_describe(s->tls, &d);
	if (s->tls != NULL && s->tls_mode == TM_IMPLICIT)
		indented(out, "TLS (implicit)", buf_str(&d));
	if (s->greeting.len > 0)
		indented(out, "Greeting", buf_str(&s->greeting));
	if (s->caps_plain.len > 0)
		indented(out, "Capabilities", buf_str(&s->caps_plain));
	if (s->tls != NULL && s->tls_mode == TM_STARTTLS)
		indented(out, "TLS (STARTTLS)", buf_str(&d));
	if (s->caps_tls.len > 0)
		indented(out, "Capabilities (inside TLS)",
		    buf_str(&s->caps_tls));
	if (s->ready && s->caps.auth[0] != '\0')
		buf_addf(out, "AUTH mechanisms: %s\n", s->caps.auth);
	if (s->ready && s->caps.auth[0] != '\0')
		describe_oauth(s, out);
	buf_release(&d);
}

void
smtp_abandon(struct smtp_session *s)
{
	if (s == NULL)
		return;
	s->broken = 1;		/* no QUIT, no close_notify */
	smtp_close(s);
}

void
smtp_close(struct smtp_session *s)
{
	if (s == NULL)
		return;
	hangup(s);
	buf_wipe(&s->secret);
	buf_release(&s->st.text);
	reply_release(&s->r);
	buf_release(&s->what);
	buf_release(&s->tmp);
	buf_release(&s->server);
	buf_release(&s->warn);
	buf_release(&s->greeting);
	buf_release(&s->caps_plain);
	buf_release(&s->caps_tls);
	free(s);
}

const struct smtp_status *
smtp_failure(const struct smtp_session *s)
{
	return &s->st;
}

const char *
smtp_server(const struct smtp_session *s)
{
	return buf_str(&s->server);
}

void
smtp_set_tls_store(struct smtp_session *s, const struct tls_store *st,
    void *ctx)
{
	s->tls_store = st;
	s->tls_store_ctx = ctx;
}

void
smtp_set_first_host(struct smtp_session *s, size_t i)
{
	s->first_host = i;
	s->host_index = i;
}

size_t
smtp_host_index(const struct smtp_session *s)
{
	return s->host_index;
}

const char *
smtp_tls_version(const struct smtp_session *s)
{
	return s->tls_version;
}

const char *
smtp_auth_mech(const struct smtp_session *s)
{
	return s->auth;
}

const char *
smtp_warnings(const struct smtp_session *s)
{
	return buf_str(&s->warn);
}

void
smtp_clear_warnings(struct smtp_session *s)
{
	buf_reset(&s->warn);
}
