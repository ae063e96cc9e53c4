#ifndef POSTIE_SMTP_INT_H
#define POSTIE_SMTP_INT_H

/*
 * Inside the SMTP engine only: the session state that smtp_session.c
 * (connect, TLS, EHLO, QUIT, the command/reply I/O), smtp.c (the
 * transaction) and smtp_auth.c (the AUTH exchange) share, and the few
 * helpers they call across files.  Not a public interface: smtp.h is.
 */

#include <sys/types.h>

#include <stddef.h>

#include "buf.h"
#include "conf.h"
#include "exitcode.h"
#include "iobuf.h"
#include "reply.h"
#include "smtp.h"

struct tls;

enum tls_mode { TM_PLAIN, TM_STARTTLS, TM_IMPLICIT };

struct session {
	const struct smtp_params *p;
	const struct account	*acct;
	struct smtp_result	*res;
	int			 fd;
	int			 have_io;
	int			 broken;	/* stream state unknown: no QUIT */
	int			 lmtp;
	int			 port;
	long long		 tmo_ms;	/* per-command timeout */
	long long		 total_ms;
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
	int			 redact;	/* trace 334 lines redacted */
	struct buf		*info;		/* -S: what the server says */
};

/*
 * smtp_session.c: the command and reply I/O that every phase uses.
 */

/* Record the outcome: phase, reply code, local error, one-line reason
 * (the only writer of res->status). */
void	sess_fail(struct session *, enum phase, int, enum local_err,
	    const char *, ...) __attribute__((format(printf, 5, 6)));
/* Hand a line to the -v trace callback. */
void	sess_trace(struct session *, char, const char *, size_t);
/* Write what is queued within one command timeout; -1 after sess_fail
 * (or, with `quiet`, after marking the stream broken). */
int	sess_flush(struct session *, enum phase, int quiet);
/* Read one complete reply into s->r, bounded; -1 as sess_flush. */
int	sess_read_reply(struct session *, enum phase, int quiet);
/* A reply that does not fit: 4xx/5xx rejected, else a protocol error;
 * returns -1. */
int	sess_unexpected(struct session *, enum phase);

/* An absolute deadline `ms` from now, never past the total deadline
 * (sets s->hit_total). */
long long deadline_in(struct session *, long long);
/* Queue one command line (CRLF added) and trace it. */
void	cmd(struct session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Describe a failed write (`sending`) or read for the result; with
 * `quiet`, only mark the stream broken. */
void	io_failed(struct session *, enum phase, enum io_result, int, int);
/* The server said no (4xx/5xx) to s->what: record it. */
void	rejected(struct session *, enum phase);

/* The session before connecting: limits from the params and the
 * message size. */
void	session_setup(struct session *, const struct smtp_params *,
	    struct smtp_result *, off_t);
/* Connect, TLS, greeting, EHLO (HELO), STARTTLS, AUTH; -1 after
 * sess_fail. */
int	session_open(struct session *);
/* QUIT (with `quit`, when the stream is in a known state) and close.
 * Never changes the outcome. */
void	session_close(struct session *, int);

/* smtp_auth.c: AUTH wanted by the account; the whole AUTH exchange. */
int	smtp_want_auth(const struct account *);
int	smtp_auth(struct session *);

#endif
