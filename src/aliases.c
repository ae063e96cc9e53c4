#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "aliases.h"
#include "xmalloc.h"

static long	find_name(const struct aliases *, const char *);
static int	is_local_target(const char *);
static int	parse_line(struct aliases *, char *, size_t, const char *,
		    unsigned long, struct buf *);

void
aliases_init(struct aliases *a)
{
	strlist_init(&a->names);
	a->lists = NULL;
}

void
aliases_release(struct aliases *a)
{
	size_t	 i;

	for (i = 0; i < a->names.n; i++)
		strlist_release(&a->lists[i]);
	free(a->lists);
	strlist_release(&a->names);
	aliases_init(a);
}

static long
find_name(const struct aliases *a, const char *name)
{
	size_t	 i;

	for (i = 0; i < a->names.n; i++)
		if (strcasecmp(a->names.v[i], name) == 0)
			return (long)i;
	return -1;
}

/* One line of the file, without its line ending; `len` bytes. */
/*
 * A pipe, a file or an :include: list, as /etc/aliases may hold: only a
 * local delivery agent can honour them.  Sent on, they would become
 * strange addresses at the smarthost (RCPT TO:<|/bin/cat@host>).
 */
static int
is_local_target(const char *t)
{
	if (*t == '"')
		t++;
	return *t == '|' || *t == '/' || strncasecmp(t, ":include:", 9) == 0;
}

static int
parse_line(struct aliases *a, char *line, size_t len, const char *path,
    unsigned long lineno, struct buf *err)
{
	struct strlist	 list = STRLIST_INIT;
	struct buf	 e = BUF_INIT;
	char		*p, *colon, *name, *end;
	size_t		 i;

	if (memchr(line, '\0', len) != NULL) {
		buf_addf(err, "%s:%lu: NUL byte", path, lineno);
		return -1;
	}
	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	for (p = line; isspace((unsigned char)*p); p++)
		;
	if (*p == '\0')
		return 0;
	if ((colon = strchr(p, ':')) == NULL) {
		buf_addf(err, "%s:%lu: missing ':'", path, lineno);
		return -1;
	}

	name = p;
	for (end = colon; end > name && isspace((unsigned char)end[-1]); end--)
		;
	*end = '\0';
	for (i = 0; name[i] != '\0'; i++)
		if (isspace((unsigned char)name[i]) || name[i] == '@' ||
		    name[i] == ',' || name[i] == '"' || name[i] == '<' ||
		    name[i] == '>' || (unsigned char)name[i] < 0x20)
			break;
	if (name[0] == '\0' || name[i] != '\0') {
		buf_addf(err, "%s:%lu: invalid alias name ", path, lineno);
		addr_quote(err, name);
		return -1;
	}
	if (find_name(a, name) >= 0) {
		buf_addf(err, "%s:%lu: duplicate alias ", path, lineno);
		addr_quote(err, name);
		return -1;
	}

	/* The value: trailing blanks (and a CR from a CRLF file) go. */
	p = colon + 1;
	for (end = p + strlen(p); end > p && isspace((unsigned char)end[-1]);
	    end--)
		;
	*end = '\0';
	if (addr_split_arg(p, &list, &e) == -1) {
		buf_addf(err, "%s:%lu: %s", path, lineno, buf_str(&e));
		buf_release(&e);
		strlist_release(&list);
		return -1;
	}
	if (list.n == 0) {
		buf_addf(err, "%s:%lu: no address for alias '%s'", path,
		    lineno, name);
		return -1;
	}
	for (i = 0; i < list.n; i++)
		if (is_local_target(list.v[i])) {
			buf_addf(err, "%s:%lu: alias '%s': '%s' is a pipe, "
			    "file or :include: (postie relays to addresses "
			    "only)", path, lineno, name, list.v[i]);
			strlist_release(&list);
			return -1;
		}

	for (i = 0; name[i] != '\0'; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	a->lists = xreallocarray(a->lists, a->names.n + 1, sizeof(*a->lists));
	a->lists[a->names.n] = list;
	strlist_add(&a->names, name);
	return 0;
}

int
aliases_load(struct aliases *a, const char *path, struct buf *err)
{
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	unsigned long	 lineno = 0;
	int		 r = 0;

	aliases_init(a);
	if ((f = fopen(path, "r")) == NULL) {
		buf_addf(err, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	errno = 0;
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (parse_line(a, line, (size_t)n, path, lineno, err) == -1) {
			r = -1;
			break;
		}
	}
	if (r == 0 && ferror(f)) {
		buf_addf(err, "cannot read '%s': %s", path, strerror(errno));
		r = -1;
	}
	free(line);
	fclose(f);
	if (r == -1)
		aliases_release(a);
	return r;
}

int
aliases_expand(const struct aliases *a, const char *addr,
    struct strlist *out)
{
	const struct strlist	*list;
	long			 i;
	size_t			 k;

	if (a == NULL || addr[0] == '\0' || !addr_is_local(addr)) {
		strlist_add(out, addr);
		return 0;
	}
	if ((i = find_name(a, addr)) < 0 && (i = find_name(a, "default")) < 0) {
		strlist_add(out, addr);
		return 0;
	}
	list = &a->lists[i];
	for (k = 0; k < list->n; k++)
		strlist_add(out, list->v[k]);
	return 1;
}
