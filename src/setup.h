#ifndef POSTIE_SETUP_H
#define POSTIE_SETUP_H

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
	struct conf		 conf;
	const struct account	*acct;
	struct account		 copy;		/* the account with overrides */
	int			 have_copy;
	struct route		 route;
	struct aliases		 aliases;
	int			 have_aliases;
};

void	setup_init(struct setup *);
void	setup_release(struct setup *);

/*
 * Load `path` (NULL: the file conf_find_file() finds) and pick `account`
 * (NULL: the account whose `from` matches `from` when given, else the
 * default).  `overrides` are "keyword", "value" pairs (may be NULL).
 * Returns EX_OK, or the exit status with one line in `err`: EX_CONFIG,
 * or EX_USAGE for a bad override.
 */
int	setup_load(struct setup *, const char *path, const char *account,
	    const char *from, const struct strlist *overrides,
	    struct buf *err);

/*
 * Where this configuration's queue lives: the account's queue_dir; else
 * the system queue (SPOOLDIR) for the system configuration; else the
 * user's, $XDG_STATE_HOME/postie/queue or ~/.local/state/postie/queue.
 * Returns 0, or -1 (no home directory for a user queue) with `err`.
 * *system is set for the system queue.
 */
int	setup_queue_dir(const struct setup *, struct buf *dir, int *system,
	    struct buf *err);

#endif
