#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dotstuff.h"
#include "envelope.h"
#include "outcome.h"
#include "iobuf.h"
#include "reply.h"
#include "route.h"
#include "smtp.h"
#include "smtp_int.h"
#include "spool.h"
#include "xmalloc.h"

/*
 * The transactions of a session: MAIL, RCPT..., DATA, the content and
 * the reply to it (smtp_send), the -bv probe (smtp_verify) and RSET
 * (smtp_reset).  Each recipient gets its own verdict in the result; a
 * failure of the message as a whole is the session's status (sess_fail).
 *
 * The content goes either after DATA (send_body: dot-stuffed, then the
 * final dot) or, when the server offers CHUNKING (RFC 3030), as one
 * "BDAT <size> LAST" chunk: the spool exactly as it is.  A small message
 * goes in the same write as MAIL and RCPT, so a submission costs one
 * round trip from MAIL to the final reply.  LMTP keeps DATA.
 */

#define BODY_CHUNK	 65536
#define EOM_WAIT_MS	 (10 * 60 * 1000LL)	/* RFC 5321 4.5.3.2.6 */
#define SEND_STEPS	 10			/* 10 T, plus T per MiB */
#define MIB		 (1024LL * 1024)
/*
 * Up to this size BDAT goes in the MAIL/RCPT group, before the server has
 * said whether it takes any recipient: sending it for nothing costs less
 * than the round trip saved.  A larger message waits for the RCPT replies.
 */
#define BDAT_EARLY_MAX	 (256 * 1024LL)
#define SENDFILE_PIECE	 (256 * 1024LL)	/* each within one command timeout */

/* One transaction: which recipients go in it and what RCPT said. */
struct txn {
	const struct envelope	*env;
	struct smtp_result	*res;
	size_t			*idx;	/* indexes into env->rcpts */
	size_t			 n;
	unsigned char		*ok;	/* per idx: RCPT accepted */
	unsigned char		*again;	/* per idx: "too many recipients" */
	size_t			 naccepted;
	size_t			 ndelivered;
	int			 pipelining;
	int			 chunking;	/* BDAT instead of DATA */
	int			 data_sent;	/* the last one sent content */
	int			 probe;		/* -bv: RCPT's 2xx is the verdict */
};

static void	status_copy(struct smtp_status *, const struct smtp_status *);
static void	result_setup(struct smtp_result *, const struct envelope *);
static void	verdict(struct smtp_session *, struct smtp_rcpt *, enum phase);
static void	message_verdict(struct smtp_session *, struct txn *,
		    enum phase, int);
static int	too_many(const struct reply *);
static void	txn_init(struct txn *, const struct envelope *,
		    struct smtp_result *);
static void	txn_release(struct txn *);
static int	txn_next(struct txn *);
static void	add_xtext(struct buf *, const char *);
static void	rcpt_cmd(struct smtp_session *, const struct envelope *,
		    const char *);
static int	mail_cmd(struct smtp_session *, const struct envelope *, int,
		    struct buf *);
static int	mail_group(struct smtp_session *, struct txn *, const char *,
		    const char *, const struct spool *);
static int	rcpt_replies(struct smtp_session *, struct txn *);
static int	send_empty_data(struct smtp_session *);
static int	queue_out(struct smtp_session *, const char *, size_t);
static int	send_body(struct smtp_session *, const struct spool *);
static int	queue_chunk(struct smtp_session *, const struct spool *);
static int	send_chunk(struct smtp_session *, const struct spool *);
static int	chunked(struct smtp_session *, struct txn *, const char *,
		    const struct spool *);
static int	final_replies(struct smtp_session *, struct txn *);
static int	data_phase(struct smtp_session *, struct txn *,
		    const struct spool *);
static int	transaction(struct smtp_session *, struct txn *,
		    const struct spool *);
static int	step_start(struct smtp_session *, const struct envelope *,
		    struct smtp_result *);
static int	step_end(struct smtp_session *, struct smtp_result *, int,
		    enum phase);

void
smtp_result_init(struct smtp_result *res)
{
	memset(res, 0, sizeof(*res));
	buf_init(&res->st.text);
	res->st.phase = PH_LOCAL;
}

void
smtp_result_release(struct smtp_result *res)
{
	size_t	 i;

	for (i = 0; i < res->nrcpt; i++)
		free(res->rcpt[i].text);
	free(res->rcpt);
	buf_release(&res->st.text);
	smtp_result_init(res);
}

size_t
smtp_result_count(const struct smtp_result *res, enum rcpt_state st)
{
	size_t	 i, n = 0;

	for (i = 0; i < res->nrcpt; i++)
		if (res->rcpt[i].state == st)
			n++;
	return n;
}

static void
status_copy(struct smtp_status *dst, const struct smtp_status *src)
{
	dst->phase = src->phase;
	dst->code = src->code;
	dst->lerr = src->lerr;
	(void)strlcpy(dst->ecode, src->ecode, sizeof(dst->ecode));
	buf_reset(&dst->text);
	buf_addstr(&dst->text, buf_str(&src->text));
}

/* Every recipient undecided, as a step starts. */
static void
result_setup(struct smtp_result *res, const struct envelope *env)
{
	smtp_result_release(res);
	res->nrcpt = env->rcpts.n;
	res->rcpt = xcalloc(res->nrcpt > 0 ? res->nrcpt : 1,
	    sizeof(*res->rcpt));
}

/* The reply in s->r decides recipient `r`. */
static void
verdict(struct smtp_session *s, struct smtp_rcpt *r, enum phase ph)
{
	int	 c = s->r.code / 100;

	r->state = c == 2 ? RCPT_ACCEPTED : c == 4 ? RCPT_DEFERRED :
	    c == 5 ? RCPT_REFUSED : RCPT_UNKNOWN;
	r->phase = ph;
	r->code = s->r.code;
	(void)strlcpy(r->ecode, s->r.ecode, sizeof(r->ecode));
	buf_reset(&s->tmp);
	reply_summary(&s->r, &s->tmp);
	free(r->text);
	r->text = xstrdup(buf_str(&s->tmp));
}

/* A reply to MAIL, DATA or the data decides for the whole transaction:
 * every recipient in it, or (`accepted_only`) those RCPT accepted. */
static void
message_verdict(struct smtp_session *s, struct txn *t, enum phase ph,
    int accepted_only)
{
	size_t	 k;

	for (k = 0; k < t->n; k++)
		if (!accepted_only || t->ok[k])
			verdict(s, &t->res->rcpt[t->idx[k]], ph);
}

/* RFC 5321 4.5.3.1.10: 452, or the 552 of RFC 821's days when its
 * enhanced code says "too many recipients" (5.5.3). */
static int
too_many(const struct reply *r)
{
	return r->code == 452 || (r->code == 552 &&
	    strcmp(r->ecode, "5.5.3") == 0);
}

static void
txn_init(struct txn *t, const struct envelope *env, struct smtp_result *res)
{
	size_t	 i, n = env->rcpts.n > 0 ? env->rcpts.n : 1;

	memset(t, 0, sizeof(*t));
	t->env = env;
	t->res = res;
	t->idx = xreallocarray(NULL, n, sizeof(*t->idx));
	t->ok = xcalloc(n, 1);
	t->again = xcalloc(n, 1);
	for (i = 0; i < env->rcpts.n; i++)
		t->idx[i] = i;
	t->n = env->rcpts.n;
}

static void
txn_release(struct txn *t)
{
	free(t->idx);
	free(t->ok);
	free(t->again);
}

/*
 * After a completed transaction: the next one carries the recipients
 * told "too many", as long as this one delivered to somebody (else the
 * server would only say the same again).  Returns 1 when there is one.
 */
static int
txn_next(struct txn *t)
{
	struct smtp_rcpt	*r;
	size_t			 k, n = 0;

	for (k = 0; k < t->n; k++)
		n += t->again[k];
	if (t->ndelivered == 0 || n == 0)
		return 0;
	n = 0;
	for (k = 0; k < t->n; k++) {
		if (!t->again[k])
			continue;
		r = &t->res->rcpt[t->idx[k]];
		free(r->text);
		memset(r, 0, sizeof(*r));
		t->idx[n++] = t->idx[k];
	}
	t->n = n;
	memset(t->ok, 0, n);
	memset(t->again, 0, n);
	t->naccepted = t->ndelivered = 0;
	t->data_sent = 0;
	return 1;
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
rcpt_cmd(struct smtp_session *s, const struct envelope *env,
    const char *addr)
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
mail_cmd(struct smtp_session *s, const struct envelope *env, int with_size,
    struct buf *mail)
{
	if (env->smtputf8 && !(s->caps.flags & CAP_SMTPUTF8)) {
		sess_fail(s, PH_MAIL, 0, LE_DATAERR, "the message needs "
		    "SMTPUTF8 (an address is not ASCII) and the server does "
		    "not offer it");
		return -1;
	}
	if (with_size && (s->caps.flags & CAP_SIZE) && s->caps.size > 0 &&
	    (unsigned long long)env->size > s->caps.size) {
		sess_fail(s, PH_MAIL, 0, LE_TOOBIG, "the message (%lld bytes) "
		    "is larger than the server's limit of %llu bytes",
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
 * Send MAIL (with PIPELINING also every RCPT and `last` -- DATA, RSET or
 * a BDAT command followed by the content of `body` -- in the same write,
 * `last` may be NULL) and read MAIL's reply.  Returns 0 when MAIL was
 * accepted.  Otherwise the refusal decides for every recipient, the
 * replies to the rest of a pipelined group are drained quietly (503s,
 * most likely), and -1.
 */
static int
mail_group(struct smtp_session *s, struct txn *t, const char *mail,
    const char *last, const struct spool *body)
{
	size_t	 k, nrest = t->n;

	cmd(s, "%s", mail);
	if (t->pipelining) {
		for (k = 0; k < t->n; k++)
			rcpt_cmd(s, t->env, t->env->rcpts.v[t->idx[k]]);
		if (last != NULL) {
			cmd(s, "%s", last);
			nrest++;
			if (body != NULL && queue_chunk(s, body) == -1)
				return -1;
		}
	}
	awaiting(s, "MAIL FROM:<%s>", t->env->from);
	if (sess_flush(s, PH_MAIL, 0) == -1 ||
	    sess_read_reply(s, PH_MAIL, 0) == -1)
		return -1;
	if (s->r.code / 100 == 2) {
		s->in_txn = 1;
		return 0;
	}
	sess_unexpected(s, PH_MAIL);
	message_verdict(s, t, PH_MAIL, 0);
	for (k = 0; t->pipelining && !s->broken && k < nrest; k++)
		if (sess_read_reply(s, PH_RCPT, 1) == -1)
			break;
	return -1;
}

/*
 * The RCPT replies of a transaction (sending each RCPT first when not
 * pipelined): each decides its recipient.  Returns -1 when the session
 * cannot go on (a 421, a reply that does not fit, I/O), after sess_fail.
 */
static int
rcpt_replies(struct smtp_session *s, struct txn *t)
{
	const char	*addr;
	size_t		 k;

	for (k = 0; k < t->n; k++) {
		addr = t->env->rcpts.v[t->idx[k]];
		awaiting(s, "RCPT TO:<%s>", addr);
		if (!t->pipelining) {
			rcpt_cmd(s, t->env, addr);
			if (sess_flush(s, PH_RCPT, 0) == -1)
				return -1;
		}
		if (sess_read_reply(s, PH_RCPT, 0) == -1)
			return -1;
		/* 421 is not about this recipient: the server is closing
		 * the channel, so nothing more may be sent. */
		if (s->r.code == 421) {
			rejected(s, PH_RCPT);
			s->broken = 1;
			return -1;
		}
		if (s->r.code / 100 != 2 && s->r.code / 100 != 4 &&
		    s->r.code / 100 != 5)
			return sess_unexpected(s, PH_RCPT);
		verdict(s, &t->res->rcpt[t->idx[k]], PH_RCPT);
		if (s->r.code / 100 == 2) {
			/* Not delivered yet: the reply to the data decides. */
			if (!t->probe)
				t->res->rcpt[t->idx[k]].state = RCPT_UNKNOWN;
			t->ok[k] = 1;
			t->naccepted++;
		} else if (too_many(&s->r))
			t->again[k] = 1;
	}
	return 0;
}

/*
 * DATA got 354 but no recipient was accepted (possible with PIPELINING):
 * end the data at once.  The reply does not matter: there is nobody to
 * deliver to.
 */
static int
send_empty_data(struct smtp_session *s)
{
	awaiting(s, "the end of the (empty) data");
	sess_trace(s, '>', ".", 1);
	iobuf_queue(&s->io, ".\r\n", 3);
	if (sess_flush(s, PH_EOM, 1) == -1 ||
	    sess_read_reply(s, PH_EOM, 1) == -1)
		return -1;
	s->in_txn = 0;
	return 0;
}

/*
 * Queue `n` bytes of content in pieces of half a flush: each call writes
 * at most one IOBUF_WFLUSH block, and each block gets a full T.
 */
static int
queue_out(struct smtp_session *s, const char *p, size_t n)
{
	size_t		 done, piece;
	enum io_result	 ior;

	for (done = 0; done < n; done += piece) {
		piece = n - done;
		if (piece > IOBUF_WFLUSH / 2)
			piece = IOBUF_WFLUSH / 2;
		ior = iobuf_queue_data(&s->io, p + done, piece,
		    deadline_in(s, s->tmo_ms));
		if (ior != IO_OK) {
			io_failed(s, PH_BODY, ior, 1, 0);
			return -1;
		}
	}
	return 0;
}

/*
 * The content after 354: the spool from offset 0, dot-stuffed, in large
 * writes, then the terminator.  A local read error leaves a half-sent
 * message: the stream is broken, so the connection is dropped without
 * the final dot and nothing is delivered.
 */
static int
send_body(struct smtp_session *s, const struct spool *sp)
{
	struct dotstuff	 ds;
	struct buf	 out = BUF_INIT;
	char		*chunk;
	off_t		 off = 0;
	ssize_t		 n;
	int		 rc = -1;

	chunk = xmalloc(BODY_CHUNK);
	dot_init(&ds);
	awaiting(s, "the message");
	while ((n = spool_read_at(sp, chunk, BODY_CHUNK, off)) > 0) {
		off += n;
		buf_reset(&out);
		dot_feed(&ds, chunk, (size_t)n, &out);
		if (queue_out(s, out.data, out.len) == -1)
			goto out;
	}
	if (n == -1) {
		sess_fail(s, PH_BODY, 0, spool_errclass(errno), "cannot read "
		    "the spooled message: %s", strerror(errno));
		goto out;
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
 * The content of the BDAT chunk, queued after its command: the spool
 * exactly as it is, every one of the sp->size bytes the command
 * announced.  If the spool cannot give them all, the stream is broken
 * (sess_fail with a local I/O class): the server is waiting for bytes
 * that will never come, so the connection is dropped and nothing is
 * delivered.
 */
static int
queue_chunk(struct smtp_session *s, const struct spool *sp)
{
	char		*chunk;
	off_t		 off = 0;
	ssize_t		 n;
	int		 rc = -1;

	chunk = xmalloc(BODY_CHUNK);
	while (off < sp->size &&
	    (n = spool_read_at(sp, chunk, BODY_CHUNK, off)) > 0) {
		if (n > sp->size - off)
			n = (ssize_t)(sp->size - off);
		off += n;
		if (queue_out(s, chunk, (size_t)n) == -1)
			goto out;
	}
	if (off < sp->size) {
		sess_fail(s, PH_BODY, 0, n == -1 ? spool_errclass(errno) :
		    LE_LOCALIO, "cannot read the spooled message: %s",
		    n == -1 ? strerror(errno) : "it is shorter than it was");
		goto out;
	}
	rc = 0;
out:
	free(chunk);
	return rc;
}

/*
 * The reply to the final dot: one for SMTP, deciding for every accepted
 * recipient; one per accepted recipient (in RCPT order) for LMTP.  Each
 * may take RFC 5321's 10 minutes (or T when larger): giving up earlier
 * on a server that is still delivering would make the caller send the
 * message again.  -1 when the message failed as a whole.
 */
static int
final_replies(struct smtp_session *s, struct txn *t)
{
	long long	 wait = s->tmo_ms > EOM_WAIT_MS ? s->tmo_ms : EOM_WAIT_MS;
	size_t		 k;

	awaiting(s, "the end of the data");
	if (!s->rt->lmtp) {
		if (sess_read_reply_within(s, PH_EOM, 0, wait) == -1)
			return -1;
		s->in_txn = 0;
		if (s->r.code / 100 != 2) {
			sess_unexpected(s, PH_EOM);
			message_verdict(s, t, PH_EOM, 1);
			return -1;
		}
		message_verdict(s, t, PH_EOM, 1);
		t->ndelivered = t->naccepted;
		return 0;
	}
	for (k = 0; k < t->n; k++) {
		if (!t->ok[k])
			continue;
		awaiting(s, "the end of the data for <%s>",
		    t->env->rcpts.v[t->idx[k]]);
		if (sess_read_reply_within(s, PH_EOM, 0, wait) == -1)
			return -1;
		if (s->r.code / 100 == 3)
			return sess_unexpected(s, PH_EOM);
		verdict(s, &t->res->rcpt[t->idx[k]], PH_EOM);
		if (s->r.code / 100 == 2)
			t->ndelivered++;
	}
	s->in_txn = 0;
	return 0;
}

/* DATA's reply, the content and the replies to it.  0 or -1 as
 * transaction(). */
static int
data_phase(struct smtp_session *s, struct txn *t, const struct spool *sp)
{
	awaiting(s, "DATA");
	if (!t->pipelining) {
		if (t->naccepted == 0)
			return 0;
		cmd(s, "DATA");
		if (sess_flush(s, PH_DATA, 0) == -1)
			return -1;
	}
	if (sess_read_reply(s, PH_DATA, 0) == -1)
		return -1;
	if (t->naccepted == 0) {
		/* Pipelined: DATA went out before the verdicts. */
		if (s->r.code == 354)
			(void)send_empty_data(s);
		return 0;
	}
	if (s->r.code != 354) {
		sess_unexpected(s, PH_DATA);
		if (s->r.code / 100 == 4 || s->r.code / 100 == 5)
			message_verdict(s, t, PH_DATA, 1);
		return -1;
	}
	t->data_sent = 1;
	if (send_body(s, sp) == -1)
		return -1;
	return final_replies(s, t);
}

/*
 * A chunk sent on its own (not pipelined with MAIL), after its command:
 * when large and on a plain connection, straight from the spool file to
 * the socket (sendfile); else copied, so that a small one leaves in the
 * same write as its command.
 */
static int
send_chunk(struct smtp_session *s, const struct spool *sp)
{
	off_t		 off = 0, piece;
	enum io_result	 ior;

	if (sp->size <= BDAT_EARLY_MAX)
		return queue_chunk(s, sp);
	while (off < sp->size) {
		piece = sp->size - off;
		if (piece > SENDFILE_PIECE)
			piece = SENDFILE_PIECE;
		ior = iobuf_sendfile(&s->io, sp->fd, &off, (size_t)piece,
		    deadline_in(s, s->tmo_ms));
		if (ior == IO_OK)
			continue;
		if (ior == IO_ERROR && off == 0 && (errno == EOPNOTSUPP ||
		    errno == EINVAL || errno == ENOSYS))
			return queue_chunk(s, sp);
		if (ior == IO_ERROR && errno == ENODATA)
			sess_fail(s, PH_BODY, 0, LE_LOCALIO, "cannot read the "
			    "spooled message: it is shorter than it was");
		else
			io_failed(s, PH_BODY, ior, 1, 0);
		return -1;
	}
	return 0;
}

/*
 * The transaction with CHUNKING: MAIL, RCPT... and "BDAT <size> LAST"
 * with the content; 0 or -1 as transaction().  With PIPELINING a small
 * message goes in the same write as MAIL; otherwise BDAT waits for the
 * RCPT replies and is not sent when nobody was accepted.
 */
static int
chunked(struct smtp_session *s, struct txn *t, const char *mail,
    const struct spool *sp)
{
	struct buf	 bdat = BUF_INIT;
	int		 early = t->pipelining && sp->size <= BDAT_EARLY_MAX;
	int		 rc = -1;

	buf_addf(&bdat, "BDAT %lld LAST", (long long)sp->size);
	if (mail_group(s, t, mail, early ? bdat.data : NULL,
	    early ? sp : NULL) == -1 || rcpt_replies(s, t) == -1)
		goto out;
	if (t->naccepted == 0) {
		/* Sent before the verdicts: its reply (an error) does
		 * not matter, there is nobody to deliver to. */
		awaiting(s, "BDAT");
		if (early)
			(void)sess_read_reply(s, PH_EOM, 1);
		rc = 0;
		goto out;
	}
	if (!early) {
		cmd(s, "%s", bdat.data);
		if (send_chunk(s, sp) == -1)
			goto out;
	}
	awaiting(s, "the message");
	t->data_sent = 1;
	if (!early && sess_flush(s, PH_BODY, 0) == -1)
		goto out;
	rc = final_replies(s, t);
out:
	buf_release(&bdat);
	return rc;
}

/*
 * One message to the recipients of `t`.  0 when it came to a defined end
 * (each recipient has its verdict, possibly that nobody was accepted);
 * -1 when it failed as a whole (the session's status says how).
 */
static int
transaction(struct smtp_session *s, struct txn *t, const struct spool *sp)
{
	struct buf	 mail = BUF_INIT;
	int		 rc = -1;

	t->pipelining = (s->caps.flags & CAP_PIPELINING) != 0;
	t->chunking = (s->caps.flags & CAP_CHUNKING) != 0 && !s->rt->lmtp;
	if (mail_cmd(s, t->env, 1, &mail) == -1)
		goto out;
	if (t->chunking) {
		rc = chunked(s, t, mail.data, sp);
		goto out;
	}
	if (mail_group(s, t, mail.data, "DATA", NULL) == -1) {
		/* A pipelined DATA may have been answered 354 anyway. */
		if (t->pipelining && !s->broken && s->r.code == 354)
			(void)send_empty_data(s);
		goto out;
	}
	if (rcpt_replies(s, t) == -1)
		goto out;
	rc = data_phase(s, t, sp);
out:
	buf_release(&mail);
	return rc;
}

/* A step may start: the session is open and usable.  Clears the last
 * failure. */
static int
step_start(struct smtp_session *s, const struct envelope *env,
    struct smtp_result *res)
{
	result_setup(res, env);
	if (!s->ready || s->broken) {
		if (s->st.text.len == 0)
			sess_fail(s, PH_LOCAL, 0, LE_SOFTWARE,
			    "the session is not open");
		return step_end(s, res, -1, PH_LOCAL);
	}
	s->st.phase = PH_LOCAL;
	s->st.code = 0;
	s->st.ecode[0] = '\0';
	s->st.lerr = LE_NONE;
	buf_reset(&s->st.text);
	if (env->rcpts.n == 0) {
		sess_fail(s, PH_LOCAL, 0, LE_USAGE, "no recipients");
		return step_end(s, res, -1, PH_LOCAL);
	}
	if (s->in_txn && smtp_reset(s) == -1)
		return step_end(s, res, -1, PH_LOCAL);
	return 0;
}

/*
 * The outcome of a step into `res`; returns `rc`.  A step that ended
 * well ends with the reply s->r holds, in phase `ph` (PH_EOM: the reply
 * to the data; PH_RCPT: no recipient was accepted, or -bv).
 */
static int
step_end(struct smtp_session *s, struct smtp_result *res, int rc,
    enum phase ph)
{
	res->aborted = rc == -1;
	if (rc == -1) {
		status_copy(&res->st, &s->st);
		if (s->broken)
			s->ready = 0;
		return -1;
	}
	res->st.phase = ph;
	res->st.code = s->r.code;
	(void)strlcpy(res->st.ecode, s->r.ecode, sizeof(res->st.ecode));
	res->st.lerr = LE_NONE;
	buf_reset(&res->st.text);
	return 0;
}

int
smtp_send(struct smtp_session *s, const struct envelope *env,
    const struct spool *sp, struct smtp_result *res)
{
	struct txn	 t;
	long long	 budget;
	int		 rc;

	if (step_start(s, env, res) == -1)
		return -1;
	budget = SEND_STEPS * s->tmo_ms + ((long long)env->size / MIB + 1) *
	    s->tmo_ms;
	txn_init(&t, env, res);
	do {
		sess_budget(s, budget);
		res->ntxn++;
		rc = transaction(s, &t, sp);
	} while (rc == 0 && txn_next(&t));
	txn_release(&t);
	return step_end(s, res, rc, t.data_sent ? PH_EOM : PH_RCPT);
}

int
smtp_verify(struct smtp_session *s, const struct envelope *env,
    struct smtp_result *res)
{
	struct txn	 t;
	struct buf	 mail = BUF_INIT;
	int		 rc = -1;

	if (step_start(s, env, res) == -1)
		return -1;
	sess_budget(s, (SEND_STEPS + 1) * s->tmo_ms);
	txn_init(&t, env, res);
	t.pipelining = (s->caps.flags & CAP_PIPELINING) != 0;
	t.probe = 1;
	res->ntxn = 1;
	if (mail_cmd(s, env, 0, &mail) == -1 ||
	    mail_group(s, &t, mail.data, "RSET", NULL) == -1 ||
	    rcpt_replies(s, &t) == -1)
		goto out;
	/* RSET ends the transaction; its reply changes no verdict. */
	awaiting(s, "RSET");
	if (!t.pipelining) {
		cmd(s, "RSET");
		if (sess_flush(s, PH_RSET, 1) == -1)
			goto done;
	}
	if (sess_read_reply(s, PH_RSET, 1) == 0 && s->r.code / 100 == 2)
		s->in_txn = 0;
done:
	rc = 0;
out:
	if (s->in_txn && !s->broken)
		s->broken = 1;	/* RSET went unanswered: state unknown */
	buf_release(&mail);
	txn_release(&t);
	return step_end(s, res, rc, PH_RCPT);
}

int
smtp_usable(const struct smtp_session *s)
{
	return s->ready && !s->broken;
}

int
smtp_reset(struct smtp_session *s)
{
	if (!s->ready || s->broken)
		return -1;
	if (!s->in_txn)
		return 0;
	awaiting(s, "RSET");
	cmd(s, "RSET");
	if (sess_flush(s, PH_RSET, 0) == -1 ||
	    sess_read_reply(s, PH_RSET, 0) == -1)
		goto fail;
	if (s->r.code / 100 != 2) {
		sess_unexpected(s, PH_RSET);
		s->broken = 1;	/* a server that cannot reset is done */
		goto fail;
	}
	s->in_txn = 0;
	return 0;
fail:
	s->ready = 0;
	return -1;
}
