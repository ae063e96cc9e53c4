#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strlist.h"
#include "xmalloc.h"

static int	addr_equal(const char *, const char *);

void
strlist_init(struct strlist *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
}

void
strlist_release(struct strlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	strlist_init(l);
}

void
strlist_add(struct strlist *l, const char *s)
{
	if (l->n + 1 >= l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(s);
	l->v[l->n] = NULL;
}

static int
addr_equal(const char *a, const char *b)
{
	const char	*ata, *atb;
	size_t		 la, lb;

	ata = strrchr(a, '@');
	atb = strrchr(b, '@');
	la = ata == NULL ? strlen(a) : (size_t)(ata - a);
	lb = atb == NULL ? strlen(b) : (size_t)(atb - b);
	if (la != lb || memcmp(a, b, la) != 0)
		return 0;
	if (ata == NULL || atb == NULL)
		return ata == atb;
	return strcasecmp(ata, atb) == 0;
}

long
strlist_find(const struct strlist *l, const char *s)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (addr_equal(l->v[i], s))
			return (long)i;
	return -1;
}

int
strlist_add_unique(struct strlist *l, const char *s)
{
	if (strlist_find(l, s) >= 0)
		return 0;
	strlist_add(l, s);
	return 1;
}
