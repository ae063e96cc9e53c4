#ifndef POSTIE_REPORT_H
#define POSTIE_REPORT_H

#include "buf.h"
#include "envelope.h"
#include "smtp.h"

/*
 * The front end's words for what the engine did: the lines on stderr and
 * syslog, the logfile line, the -bs reason and the -bv verdicts.  The
 * engine reports facts (struct smtp_result); this is the one place that
 * phrases them, so the front end and a queue runner say the same.
 */

/* What a report needs to know besides the result. */
struct report_ctx {
	const char		*account;	/* its name */
	int			 lmtp;		/* verdicts after the data are
						 * per recipient */
	const struct smtp_session *s;		/* for server, TLS, AUTH */
	const struct envelope	*env;
};

/* Each line of `warnings` ("a\nb\n") as a warning. */
void	report_warnings(const char *warnings);

/*
 * One line for a step that failed as a whole: "account 'A', server S,
 * PHASE: TEXT" (without the server before a connection was made).
 */
void	report_failure(const struct report_ctx *, const struct smtp_status *);

/*
 * A message's outcome with exit status `status`: the engine's warnings;
 * one line per recipient refused on its own when several were, or when
 * the message then failed as a whole; the summary line unless `status`
 * is 0; and the logfile/syslog outcome line.
 */
void	report_delivery(const struct report_ctx *, const struct smtp_result *,
	    int status);

/*
 * The one-line reason for a message that did not reach everybody, into
 * `out`: the failure of the message, or the recipients' ("RCPT
 * TO:<a@b> rejected: 550 ...", "2 of 3 recipients rejected (the others
 * got the message)").  Returns the phase it is about.
 */
enum phase report_summary(const struct report_ctx *,
	    const struct smtp_result *, struct buf *out);

/* 1 when recipient `i` was refused or deferred by a reply of its own (RCPT,
 * or LMTP's reply after the data), not by a verdict on the message. */
int	report_own_verdict(const struct report_ctx *,
	    const struct smtp_result *, size_t i);

struct verdict;

/*
 * A queued message's first attempt, `v` saying what the queue keeps:
 * with nothing kept, as report_delivery(); else each recipient refused
 * for good gets an error line, the kept ones one line "queued as ID: ..."
 * saying why and how it will be retried (up to `lifetime` seconds), and
 * the logfile/syslog line records the queue ID.
 */
void	report_attempt(const struct report_ctx *, const struct smtp_result *,
	    const struct verdict *, int status, const char *qid,
	    int lifetime);

/* "5 days", "4 hours", "90 seconds": a lifetime for messages. */
void	report_duration(struct buf *, int seconds);

/* -bv: "addr: deliverable (250 2.1.5 ok)", "addr: rejected (550 ...)" or
 * "addr: temporary failure (450 ...)", one line per recipient answered. */
void	report_verdicts(const struct report_ctx *, const struct smtp_result *,
	    struct buf *out);

#endif
