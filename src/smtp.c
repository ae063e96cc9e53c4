#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dotstuff.h"
#include "envelope.h"
#include "exitcode.h"
#include "iobuf.h"
#include "reply.h"
#include "smtp.h"
#include "smtp_int.h"
#include "xmalloc.h"

/*
 * The engine is split so that later work plugs in without rewrites:
 *
 *   session_open()   connect, implicit TLS, greeting, EHLO/LHLO (HELO
 *                    fallback), STARTTLS (iobuf_set_ops(), refuse
 *                    read-ahead, EHLO again, forget the caps), AUTH
 *                    (smtp_auth.c; smtp_int.h holds the shared session);
 *                    in smtp_session.c with the reply/command I/O
 *   transaction()    MAIL, RCPT..., DATA, body, final reply; one message,
 *                    so a queue runner can call it again on the same
 *                    session (RSET between messages)
 *   send_body()      the content after 354; BDAT/CHUNKING would be a
 *                    second body sender beside it
 *   session_close()  QUIT when the stream is in a known state, close
 *                    (smtp_session.c)
 *
 * Only sess_fail() writes the outcome into the result; every status comes from
 * exit_status().
 */

#define BODY_CHUNK	 65536


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
