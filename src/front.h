#ifndef POSTIE_FRONT_H
#define POSTIE_FRONT_H

/*
 * The front end's state for one invocation, and the helpers its files
 * share: main.c (options, dispatch), front.c (the account, the sender,
 * reading the message, delivery without a queue), submit.c (the queue:
 * submission, -q, -bp, --queue-delete), modes.c (-bs, -bv, -S, -P) and
 * authorize.c (--oauth-authorize).
 * Not a library interface: only the program links these.
 */

#include <stddef.h>

#include "buf.h"
#include "envelope.h"
#include "message.h"
#include "options.h"
#include "queue.h"
#include "report.h"
#include "setup.h"
#include "smtp.h"
#include "strlist.h"

struct spool;

struct run {
	struct options		 opts;
	struct setup		 su;		/* the configuration and account */
	const struct account	*acct;		/* su.acct */
	struct queue		 q;		/* its queue, when have_q */
	int			 have_q;
	struct qentry		 entry;		/* the message's queue entry */
	char			*env_from;
	const char		*qualify_domain;
	struct message		 msg;
	struct envelope		 env;
};

/* front.c */

/* Load the configuration and account the options name (said on error). */
int	load_account(struct run *);
/* Settle the envelope sender (see the comment in main.c). */
int	pick_sender(struct run *, const char *given, int provisional);
/* Spool `infd` (into `into` when not NULL) and build the envelope;
 * failures are said, and added to `why` when not NULL. */
int	read_message(struct run *, int infd, const struct strlist *rcpts,
	    struct buf *why, const struct spool *into);
/* DSN, BODY= and SMTPUTF8 requests into the envelope. */
void	envelope_requests(struct run *);
/* The -v transcript hook for the engine. */
void	transcript(void *, char, const char *, size_t);
/* What report.c needs of this run and session `s`. */
void	report_ctx(const struct run *, const struct smtp_session *,
	    struct report_ctx *);
/* Send the message without a queue, over a session of its own. */
int	deliver(struct run *, struct smtp_result *);

/* submit.c */

/* The message on standard input, queued first unless `queue off`. */
int	submit(struct run *);
/* -bp, -q, --queue-delete. */
int	queue_mode(struct run *);

/* authorize.c */

/* --oauth-authorize: the account's first tokens, interactively. */
int	authorize(struct run *);

/* modes.c */

int	smtp_stdio(struct run *);	/* -bs */
int	pretend(const struct run *);	/* -P */
int	serverinfo(const struct run *);	/* -S */
int	verify_addrs(struct run *);	/* -bv */
int	newaliases(struct run *);	/* -bi */

#endif
