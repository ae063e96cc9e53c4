#ifndef POSTIE_BOUNCE_H
#define POSTIE_BOUNCE_H

#include <stddef.h>

#include "buf.h"

struct qentry;
struct queue;

/* A recipient the message did not reach, and the last word on it. */
struct bounce_rcpt {
	const char	*addr;
	int		 code;		/* the last reply, 0: none */
	const char	*ecode;		/* its enhanced code, or "" */
	const char	*text;		/* the last reply or reason, or NULL */
};

/* Who reports: this host's name (Reporting-MTA) and the domain of the
 * notification's From (MAILER-DAEMON@domain); NULL: the host's FQDN. */
struct bounce_from {
	const char	*host;
	const char	*domain;
};

/*
 * Queue a delivery status notification (RFC 3464) about entry `e` to its
 * sender, for the recipients in `r`: refused for good, or, with
 * `expired`, not delivered within `lifetime` seconds.  It becomes a new
 * entry of `q` with the null sender, through the same configuration and
 * account, and its ID goes to `id` (QUEUE_ID_MAX bytes).  A message whose
 * sender is null is never bounced (a bounce of a bounce could loop): 0
 * with `id` empty.  `remote_mta` names the server that answered (NULL:
 * none).  0, or -1 with one line in `err`.
 */
int	bounce_queue(struct queue *q, const struct qentry *e,
	    const struct bounce_rcpt *r, size_t n, int expired, int lifetime,
	    const char *remote_mta, const struct bounce_from *from, char *id,
	    struct buf *err);

#endif
