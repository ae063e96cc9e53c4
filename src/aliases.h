#ifndef POSTIE_ALIASES_H
#define POSTIE_ALIASES_H

#include "buf.h"
#include "strlist.h"

/*
 * msmtp's aliases file (as /etc/aliases, without pipes or includes):
 *   # comment
 *   root: admin@example.org
 *   team: a@example.org, b@example.org
 *   default: fallback@example.org
 * Local names (no '@') are replaced by their alias list; `default` catches
 * every local name not listed.  Expansion is one level, like msmtp.
 */
struct aliases {
	struct strlist	 names;		/* names.v[i] maps to lists[i] */
	struct strlist	*lists;
};

int	 aliases_load(struct aliases *, const char *path, struct buf *err);
void	 aliases_release(struct aliases *);
/* Append what `addr` expands to (itself when not an alias) to `out`.
 * Returns 1 when an alias applied, else 0. */
int	 aliases_expand(const struct aliases *, const char *addr,
	    struct strlist *out);

#endif
