#ifndef POSTIE_SETUP_H
#define POSTIE_SETUP_H

#include <sys/stat.h>

#include "aliases.h"
#include "buf.h"
#include "conf.h"
#include "route.h"
#include "strlist.h"

/*
 * A configuration file loaded and one account of it made ready to use,
 * with every check the front end makes, for a submission and for a queue
 * run alike: the account exists and is supported, it names a server, a
 * file holding a password is private, the command line's per-keyword
 * overrides applied, the route resolved, the aliases file read.
 */
struct setup {
	int			 system;	/* the system configuration,
						 * as itself: see setup_load() */
	struct stat		 st;		/* its file as opened (system) */
	struct conf		 conf;
	const struct account	*acct;
	struct account		 copy;		/* the account with overrides */
	int			 have_copy;
	struct route		 route;
	struct aliases		 aliases;
	int			 have_aliases;
	struct oauth_src	*oauth;		/* an OAuth account's token
						 * source, or NULL */
};

struct oauth_cfg;
struct queue;

void	setup_init(struct setup *);
void	setup_release(struct setup *);

/*
 * Load `path` and pick `account` (NULL: the account whose `from` matches
 * `from` when given, else the default).  `overrides` are "keyword",
 * "value" pairs (may be NULL).  Returns EX_OK, or the exit status with
 * one line in `err`: EX_CONFIG, or EX_USAGE for a bad override.
 *
 * `system`: `path` is the system configuration, found as such (no -C,
 * no user file, no per-keyword option) or named by an entry of the
 * system queue.  Its file is opened with the group raised (priv_raise(),
 * for that open only); while postie holds the group it must be a regular
 * file owned by root and writable by nobody else.  Its queue is the
 * system queue.
 *
 * A file holding a password must be the user's and private
 * (secret_check_file()), or, when it is SYSCONFDIR's own (however it was
 * reached), may instead be shared as root:GROUP without write for the
 * group and nothing for others (secret_check_shared()).
 */
int	setup_load(struct setup *, const char *path, int system,
	    const char *account, const char *from,
	    const struct strlist *overrides, struct buf *err);

/*
 * Where this configuration's queue lives: the account's queue_dir; else
 * the system queue (SPOOLDIR) for the system configuration; else the
 * user's, $XDG_STATE_HOME/postie/queue or ~/.local/state/postie/queue.
 * Returns 0, or -1 (no home directory for a user queue) with `err`.
 * *system is set for the system configuration's queue (SPOOLDIR or its
 * queue_dir): the queue to open with QUEUE_SYSTEM.
 */
int	setup_queue_dir(const struct setup *, struct buf *dir, int *system,
	    struct buf *err);

/*
 * An OAuth account's settings and its token store (the queue directory's,
 * opened on first use, made when missing): 0, or -1 with `err`.  The
 * route's secret callback uses them; so do --oauth-authorize and -P.
 * *cfg is NULL (and 0 returned) for an account without oauth_provider.
 */
int	setup_oauth(const struct setup *, const struct oauth_cfg **cfg,
	    struct queue **store, struct buf *err);

#endif
