#ifndef POSTIE_EXITCODE_H
#define POSTIE_EXITCODE_H

#include "outcome.h"

/*
 * The one place that turns an outcome into a sysexits(3) status.
 *
 * An outcome is the protocol phase it happened in, the server's reply
 * code (0 when there was none) and a local error class (LE_NONE when
 * the server answered).  The rules are a table, walked in order, first
 * match wins; exit_rules() exposes it so the unit test and the man page's
 * EXIT STATUS section are written from the same data.
 */

struct exit_rule {
	int		 phase;		/* enum phase, or -1 for any */
	int		 rclass;	/* reply code / 100, or -1 for any, 0 for none */
	int		 lerr;		/* enum local_err, or -1 for any */
	int		 status;	/* sysexits value */
	const char	*why;		/* one line for the man page */
};

/* Map an outcome to an exit status. */
int		 exit_status(enum phase, int reply_code, enum local_err);

struct smtp_result;

/*
 * The exit status for a message the engine handled: a message that
 * failed as a whole maps through its status; otherwise the recipients
 * decide, as RCPT verdicts: 0 when every one got it, else the first that
 * failed temporarily (so the caller keeps the message, even though some
 * recipients may get it twice), else the first refused.
 */
int		 exit_for_result(const struct smtp_result *);
/* The recipient (index) whose failure exit_for_result() reports, or -1
 * when none failed or the message failed as a whole. */
long		 exit_rcpt_reported(const struct smtp_result *);

/* The rule table and its length. */
const struct exit_rule *exit_rules(unsigned *n);

/*
 * Every status postie exits with, once, in increasing order, with what it
 * means in a few words: the end of --help.  It covers the rule table and
 * the statuses set outside it (66 from --queue-delete); test_exitdoc
 * checks both against the sources and the man page.
 */
struct exit_summary {
	int		 status;
	const char	*what;		/* at most 56 characters */
};
const struct exit_summary *exit_summaries(unsigned *n);

/* "EX_TEMPFAIL" etc. for a sysexits value; "EX_OK" for 0. */
const char	*exit_name(int status);

#endif
