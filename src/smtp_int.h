#ifndef POSTIE_SMTP_INT_H
#define POSTIE_SMTP_INT_H

/*
 * Inside the SMTP engine only: the session state that smtp.c (connect,
 * TLS, transaction) and smtp_auth.c (the AUTH exchange) share, and the
 * few helpers they both call.  Not a public interface: smtp.h is.
 */

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

/* smtp_auth.c: AUTH wanted by the account; the whole AUTH exchange. */
int	smtp_want_auth(const struct account *);
int	smtp_auth(struct session *);

#endif
