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
 * every local name not listed.  Names compare case-insensitively.
 * Expansion is one level: a local name in a list stays a local name (the
 * caller qualifies it).  Each address in a list must pass the same checks
 * as a command-line recipient (addr_split_arg); "Name <addr>" items keep
 * addr.  Lines have no length limit.
 */
struct aliases {
	struct strlist	 names;		/* names.v[i] maps to lists[i]; lowercase */
	struct strlist	*lists;
};

#define ALIASES_INIT	{ STRLIST_INIT, NULL }

void	 aliases_init(struct aliases *);
/*
 * Read the file at `path` into an aliases struct (set up here: it need
 * not be initialised).  Returns 0, or -1 with a reason in `err`:
 * "cannot open 'PATH': ...", or "PATH:LINE: missing ':'" and the like for
 * a bad line (the struct is then empty; aliases_release() is still safe).
 */
int	 aliases_load(struct aliases *, const char *path, struct buf *err);
void	 aliases_release(struct aliases *);
/* Append what `addr` expands to (itself when not an alias) to `out`.
 * Only local names are looked up; a NULL aliases pointer expands
 * nothing.  Returns 1 when an alias applied, else 0. */
int	 aliases_expand(const struct aliases *, const char *addr,
	    struct strlist *out);

#endif
