#ifndef POSTIE_DELIVER_H
#define POSTIE_DELIVER_H

#include <stddef.h>

#include "buf.h"
#include "smtp.h"

struct qentry;

/*
 * What one delivery attempt of a queued message means for it: which
 * recipients are done (delivered), which are refused for good (the caller
 * is told, or the sender gets a bounce), and which stay queued, and why.
 * The same rules serve the submitting postie and a queue run; only what
 * happens to the refused ones differs.
 */

struct verdict {
	unsigned char	*done;		/* per recipient: delivered */
	unsigned char	*final;		/* per recipient: refused for good */
	unsigned char	*kept;		/* per recipient: stays queued */
	size_t		 ndone;
	size_t		 nfinal;
	size_t		 nkept;
	/* The failure of the message as a whole (a session problem: the
	 * network, TLS, AUTH, a 4xx) that left recipients undecided; NULL
	 * when it did not fail so. */
	const struct smtp_status *why;
	int		 account;	/* `why` is the account's or the
					 * server's, not the message's */
};

/*
 * 1 when a failure of the message as a whole is its own permanent
 * refusal, so keeping it cannot help: a 5xx to MAIL, RCPT, DATA or the
 * content, a message over the server's SIZE, an address the server
 * cannot take.  Everything else (a 4xx, the network, TLS, the account's
 * AUTH or secret, a 5xx greeting) may pass or be fixed: the queue keeps
 * the message.
 */
int	outcome_final(const struct smtp_status *);

/* The verdict on `res`; release it with verdict_release(). */
void	verdict_of(const struct smtp_result *, struct verdict *);
void	verdict_release(struct verdict *);

/*
 * The exit status for the submitter when the queue keeps what `v` says:
 * 0 unless some recipients were refused for good, else the status of
 * that refusal (exit_status()'s table).
 */
int	verdict_status(const struct smtp_result *, const struct verdict *);

/*
 * Apply an attempt at time `now` to entry `e` (whose recipients are those
 * of `res`, in order): delivered and refused recipients leave it, kept
 * ones get their last reply (or the session's failure) as the reason;
 * attempts, last and next (backoff, see deliver_backoff()) move on.
 */
void	deliver_apply(struct qentry *, const struct smtp_result *,
	    const struct verdict *, long long now);

/* An attempt that could not start (no session): every recipient keeps
 * `why` as its reason; attempts, last and next move on. */
void	deliver_defer_all(struct qentry *, const struct smtp_status *why,
	    long long now);

/*
 * Seconds to wait after attempt number `attempts` (1, 2, ...): 5 minutes
 * doubling up to an hour, each shortened by up to a tenth at random so
 * that entries that failed together do not come back together.
 */
long long deliver_backoff(unsigned attempts);

#endif
