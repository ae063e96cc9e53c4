#ifndef POSTIE_RUNQ_H
#define POSTIE_RUNQ_H

#include <stdio.h>

#include "buf.h"
#include "smtp.h"
#include "strlist.h"

struct queue;
struct setup;

/*
 * Working through a queue: `postie -q` (and its -qI/-qR/-qS selections,
 * --due), the detached child that goes on after a submission, `mailq`
 * and --queue-delete.  Entries are grouped by configuration file and
 * account, and each group is sent over one session (TLS and AUTH once),
 * up to RUNQ_PER_SESSION messages a session.
 */

#define RUNQ_PER_SESSION	 100
#define RUNQ_TIMEOUTS		 2	/* in a row, and the group waits */

struct runq {
	struct queue	*q;
	const char	*only_id;	/* -qI: the ID contains this */
	const char	*only_rcpt;	/* -qR: a recipient contains this */
	const char	*only_sender;	/* -qS: the sender contains this */
	int		 due;		/* only entries whose attempt is due */
	int		 skip_recent;	/* skip entries tried in the last this
					 * many seconds */
	int		 verbose;	/* a line per entry on stdout */
	smtp_trace_fn	 trace;		/* -v -v: the dialogue */
	/*
	 * A session that is open already, for the configuration `config`
	 * and account `account` (a submission's, handed on to its child);
	 * runq_run() uses it for their entries and closes it; with
	 * `session_only`, it tries no other entries.  NULL: none.
	 */
	struct smtp_session *session;
	int		 session_only;
	const struct setup *setup;
	const char	*config;
	const char	*account;
};

/*
 * Try the selected entries now.  A delivered recipient leaves its entry;
 * one refused for good leaves it with a bounce to the sender; the others
 * wait for the next attempt (backoff), and the whole entry bounces when
 * its lifetime is over.  When an account cannot be used (its file, its
 * AUTH, its server, or RUNQ_TIMEOUTS messages in a row timed out), its
 * entries wait and one error line says why, once per run.  Returns 0 when the run went through the queue (whatever each
 * entry's fate), else an exit status with `err`.
 */
int	runq_run(struct runq *, struct buf *err);

/*
 * mailq: the entries, sendmail's way (ID, size, arrival, sender, each
 * recipient with its last reason, a total), or with `json` one JSON
 * object a line as Postfix's `postqueue -j`.
 */
int	runq_list(struct queue *, int json, FILE *out, struct buf *err);

/*
 * --queue-delete: remove the entries named in `ids` (root: any; others:
 * their own).  One line on stdout per entry removed, one error line each
 * for the others; returns EX_OK when all went, else EX_NOINPUT /
 * EX_NOPERM / EX_TEMPFAIL for the first failure.
 */
int	runq_delete(struct queue *, const struct strlist *ids, long uid);

#endif
