#ifndef POSTIE_QUEUE_ENV_H
#define POSTIE_QUEUE_ENV_H

#include <stddef.h>

#include "buf.h"
#include "envelope.h"
#include "strlist.h"

/*
 * A queue entry as the program holds it, and its envelope file: one
 * field a line, "key value", the format version first and "end" last.
 * queue.h keeps entries on disk; this is what they say.  Pure code.
 */

#define QUEUE_ID_MAX	 24	/* 16 hex digits and a NUL, with room */
#define QUEUE_VERSION	 1

/* What is known of one recipient still to be delivered. */
struct qrcpt {
	int		 code;		/* the last reply, 0: none yet */
	char		 ecode[16];	/* its enhanced code or "" */
	char		*reason;	/* the last reply or local reason, one
					 * printable line; NULL: none yet */
};

struct qentry {
	char		 id[QUEUE_ID_MAX];
	char		*config;	/* the configuration file it came by */
	char		*account;
	long		 uid;		/* who submitted it */
	long long	 arrival;	/* seconds since the epoch */
	long long	 last;		/* the last attempt, 0: none */
	long long	 next;		/* the next automatic attempt */
	unsigned	 attempts;
	/* The envelope of the recipients still to do; env.notify, ret and
	 * envid point into the strings below. */
	struct envelope	 env;
	struct qrcpt	*rcpt;		/* parallel to env.rcpts */
	char		*notify;
	char		*ret;
	char		*envid;
	/* The command line's per-keyword options it was sent with
	 * ("keyword", "value" pairs), so that later attempts use them. */
	struct strlist	 overrides;
	int		 fd;		/* the msg file, locked; -1 when not held */
	int		 synced;	/* its files and its name in q/ are on
					 * disk (fsynced); 1 for an entry read
					 * from the queue */
};

/* A fresh, empty entry (fd -1). */
void	qentry_init(struct qentry *);
/* Free it and let its lock go (closes the msg file). */
void	qentry_release(struct qentry *);

/* Remove recipient `i` from the entry (delivered, or given up). */
void	qentry_drop_rcpt(struct qentry *, size_t i);

/* Record the last reply or reason for recipient `i`. */
void	qentry_note(struct qentry *, size_t i, int code, const char *ecode,
	    const char *reason);

/* The envelope text of `e`. */
void	queue_env_write(const struct qentry *, struct buf *out);
/* Parse envelope text into a fresh `e`: 0, or -1 with the reason. */
int	queue_env_parse(const char *text, size_t len, struct qentry *e,
	    struct buf *err);
/* Is `id` the shape of an ID (16 lower-case hex digits)? */
int	queue_id_ok(const char *id);

#endif
