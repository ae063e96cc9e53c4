#ifndef POSTIE_STRLIST_H
#define POSTIE_STRLIST_H

#include <stddef.h>

/*
 * An ordered list of owned C strings.  v[n] is always NULL when v is
 * not NULL, so the list can be walked like argv.
 */
struct strlist {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

#define STRLIST_INIT	{ NULL, 0, 0 }

void	 strlist_init(struct strlist *);
void	 strlist_release(struct strlist *);
/* Append a copy of `s`. */
void	 strlist_add(struct strlist *, const char *s);
/* Append a copy of `s` unless an equal string is already there; returns
 * 1 when added, 0 when it was a duplicate.  Comparison is exact except
 * that the part after the last '@' compares case-insensitively (domains
 * are case-insensitive, local parts are not). */
int	 strlist_add_unique(struct strlist *, const char *s);
/* Index of a string equal to `s` (same comparison), or -1. */
long	 strlist_find(const struct strlist *, const char *s);

#endif
