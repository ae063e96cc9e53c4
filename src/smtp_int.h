#ifndef POSTIE_SMTP_INT_H
#define POSTIE_SMTP_INT_H

/*
 * Inside the SMTP engine only: the session state shared by its files,
 * which call only downward, never back:
 *
 *   smtp.c           the transactions (smtp_send, smtp_verify)
 *   smtp_session.c   connect, TLS, greeting, EHLO, QUIT, -S
 *     smtp_auth.c    the AUTH exchange
 *       smtp_io.c    command and reply I/O, deadlines, failure wording
 *
 * Not a public interface: smtp.h is.
 */

#include <sys/types.h>

#include <stddef.h>

#include "buf.h"
#include "outcome.h"
#include "iobuf.h"
#include "reply.h"
#include "smtp.h"

#define QUIT_MAX_MS	 5000	/* QUIT, RSET after a failure, close_notify */

struct route;
struct tls;

enum tls_mode { TM_PLAIN, TM_STARTTLS, TM_IMPLICIT };

struct smtp_session {
	const struct route	*rt;
	smtp_trace_fn		 trace;
	void			*trace_arg;
	size_t			 first_host;	/* smtp_open() starts here */
	size_t			 host_index;	/* in use, or tried last */
	const char		*host;		/* its name (rt->hosts), NULL
						 * with a socket or no host */
	struct smtp_status	 st;		/* the last failure */
	int			 fd;
	int			 have_io;
	int			 ready;		/* open: commands may be sent */
	int			 broken;	/* stream state unknown: no QUIT */
	int			 in_txn;	/* MAIL accepted, no final reply */
	long long		 tmo_ms;	/* per-command timeout */
	long long		 wait_ms;	/* the wait deadline_in() set last */
	long long		 total_ms;	/* the current step's budget */
	long long		 total_deadline;
	int			 hit_total;	/* the last deadline was the total */
	struct iobuf		 io;
	struct reply		 r;
	struct caps		 caps;
	struct buf		 what;		/* the command awaiting a reply */
	struct buf		 tmp;
	enum tls_mode		 tls_mode;
	struct tls		*tls;		/* non-NULL once established */
	int			 tls_verified;	/* certificate or pin checked */
	const struct tls_store	*tls_store;	/* sessions kept, or NULL */
	void			*tls_store_ctx;
	int			 resume_off;	/* not for this connection */
	int			 resume_failed;	/* the server choked on one */
	int			 redact;	/* trace 334 lines redacted */
	struct buf		 secret;	/* for AUTH; wiped once used (a
						 * copy per host: smtp_open()) */
	/* What the caller may show or log. */
	struct buf		 server;	/* "host[addr]:port" or socket */
	struct buf		 warn;
	char			 tls_version[16];
	const char		*auth;		/* static string */
	/* For -S (smtp_describe). */
	struct buf		 greeting;
	struct buf		 caps_plain;	/* EHLO reply before TLS */
	struct buf		 caps_tls;	/* EHLO reply inside TLS */
	int			 connected;
};

/*
 * smtp_io.c: the command and reply I/O that every phase uses.
 */

/* Record a failure: phase, reply code (its enhanced code is taken from
 * s->r when it is that reply's), local error, one-line reason. */
void	sess_fail(struct smtp_session *, enum phase, int, enum local_err,
	    const char *, ...) __attribute__((format(printf, 5, 6)));
/* Hand a line to the -v trace callback. */
void	sess_trace(struct smtp_session *, char, const char *, size_t);
/* Write what is queued within one command timeout; -1 after sess_fail
 * (or, with `quiet`, after marking the stream broken). */
int	sess_flush(struct smtp_session *, enum phase, int quiet);
/* Read one complete reply into s->r, waiting at most `ms` (capped by the
 * total deadline); -1 as sess_flush. */
int	sess_read_reply_within(struct smtp_session *, enum phase, int quiet,
	    long long ms);
/* The same within one command timeout. */
int	sess_read_reply(struct smtp_session *, enum phase, int quiet);
/* A reply that does not fit: 4xx/5xx rejected, else a protocol error;
 * returns -1. */
int	sess_unexpected(struct smtp_session *, enum phase);
/* The server said no (4xx/5xx) to s->what: record it. */
void	rejected(struct smtp_session *, enum phase);

/* Start a step's total budget: `ms` from now. */
void	sess_budget(struct smtp_session *, long long ms);
/* An absolute deadline `ms` from now, never past the total deadline
 * (sets s->hit_total). */
long long deadline_in(struct smtp_session *, long long);
/* Queue one command line (CRLF added) and trace it. */
void	cmd(struct smtp_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Name the command awaiting a reply, for messages. */
void	awaiting(struct smtp_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Describe a failed write (`sending`) or read; with `quiet`, only mark
 * the stream broken. */
void	io_failed(struct smtp_session *, enum phase, enum io_result, int, int);

/* smtp_auth.c: the whole AUTH exchange, with s->secret (wiped after). */
int	smtp_auth(struct smtp_session *);
/* `name` is in the space-separated EHLO AUTH list `list` (any case). */
int	auth_offered(const char *list, const char *name);

#endif
