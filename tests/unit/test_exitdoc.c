#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exitcode.h"
#include "t.h"

/*
 * The man page's EXIT STATUS section is written from the exit table.
 * This test reads doc/postie.8 and checks that every rule of
 * exit_rules() has an item of this form in that section:
 *
 *	.It Sy 75 Pq EX_TEMPFAIL
 *	the server answered 4xx (temporary failure)
 *
 * (the text may be broken over several lines), and that the section lists
 * no status the table lacks.  On failure it prints the lines to paste.
 *
 * --help ends with exit_summaries(), one line a status.  That list must
 * hold every status of the rule table and every EX_ name the sources in
 * src/ use, once each and in order, and each of its statuses must have an
 * item in the man page's section too.
 */

#define MAX_ITEMS	128

struct item {
	int		 status;
	char		 name[32];
	struct buf	 text;		/* body, white space collapsed */
};

static struct item	 items[MAX_ITEMS];
static unsigned		 nitems;

static void	add_words(struct buf *, const char *);
static int	parse_item(const char *, struct item *);
static int	read_section(const char *);
static int	has_rule(const struct exit_rule *);
static int	summarised(const char *);
static void	check_summaries(const struct exit_rule *, unsigned);
static void	check_sources(const char *);
static void	check_source_file(const char *);

/* Append `s` to `b`, white space runs turned into one space. */
static void
add_words(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			if (b->len > 0 && b->data[b->len - 1] != ' ')
				buf_addch(b, ' ');
		} else
			buf_addch(b, *s);
	}
	if (b->len > 0 && b->data[b->len - 1] != ' ')
		buf_addch(b, ' ');
}

/* ".It Sy 75 Pq EX_TEMPFAIL" -> 75, "EX_TEMPFAIL". */
static int
parse_item(const char *line, struct item *it)
{
	const char	*p;
	char		*end;
	long		 v;
	size_t		 n;

	if (strncmp(line, ".It Sy ", 7) != 0)
		return -1;
	p = line + 7;
	v = strtol(p, &end, 10);
	if (end == p || v < 0 || v > 255)
		return -1;
	it->status = (int)v;
	it->name[0] = '\0';
	p = end;
	while (*p == ' ')
		p++;
	if (strncmp(p, "Pq ", 3) == 0) {
		p += 3;
		n = strcspn(p, " \t\n");
		if (n >= sizeof(it->name))
			n = sizeof(it->name) - 1;
		memcpy(it->name, p, n);
		it->name[n] = '\0';
	}
	return 0;
}

static int
read_section(const char *path)
{
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0;
	int		 in = 0, found = 0;
	struct item	*cur = NULL;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "cannot open '%s'\n", path);
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".Sh ", 4) == 0) {
			in = strcmp(line, ".Sh EXIT STATUS") == 0;
			found |= in;
			cur = NULL;
			continue;
		}
		if (!in)
			continue;
		if (strncmp(line, ".It", 3) == 0) {
			cur = NULL;
			if (nitems == MAX_ITEMS)
				continue;
			if (parse_item(line, &items[nitems]) == 0) {
				cur = &items[nitems++];
				buf_init(&cur->text);
			} else if (strncmp(line, ".It Sy", 6) == 0)
				fprintf(stderr, "unexpected item: %s\n", line);
		} else if (strncmp(line, ".El", 3) == 0 ||
		    strncmp(line, ".Bl", 3) == 0 ||
		    strncmp(line, ".Pp", 3) == 0)
			cur = NULL;
		else if (cur != NULL && line[0] != '.')
			add_words(&cur->text, line);
	}
	free(line);
	fclose(f);
	if (!found) {
		fprintf(stderr, "%s: no \".Sh EXIT STATUS\" section\n", path);
		return -1;
	}
	return 0;
}

static int
has_rule(const struct exit_rule *r)
{
	struct buf	 want = BUF_INIT;
	unsigned	 i;
	int		 ok = 0;

	add_words(&want, r->why);
	for (i = 0; i < nitems && !ok; i++)
		if (items[i].status == r->status &&
		    strcmp(items[i].name, exit_name(r->status)) == 0 &&
		    strstr(buf_str(&items[i].text), buf_str(&want)) != NULL)
			ok = 1;
	buf_release(&want);
	return ok;
}

/* The summary of the status named `name` ("EX_NOINPUT"), or 0. */
static int
summarised(const char *name)
{
	const struct exit_summary	*e;
	unsigned			 n, i;

	e = exit_summaries(&n);
	for (i = 0; i < n; i++)
		if (strcmp(exit_name(e[i].status), name) == 0)
			return 1;
	return 0;
}

static void
check_summaries(const struct exit_rule *rules, unsigned nrules)
{
	const struct exit_summary	*e;
	unsigned			 n, i, j;
	int				 found;

	e = exit_summaries(&n);
	CHECK(n > 0);
	for (i = 0; i < n; i++) {
		/* Increasing, so each status is there once. */
		CHECK(i == 0 || e[i - 1].status < e[i].status);
		CHECK(strcmp(exit_name(e[i].status), "?") != 0);
		CHECK(e[i].what != NULL && strlen(e[i].what) <= 56);
		found = 0;
		for (j = 0; j < nitems; j++)
			if (items[j].status == e[i].status &&
			    strcmp(items[j].name, exit_name(e[i].status)) == 0)
				found = 1;
		if (found) {
			t_pass++;
			continue;
		}
		t_fail++;
		fprintf(stderr, "doc/postie.8: EXIT STATUS has no \".It Sy %d "
		    "Pq %s\" (--help lists it)\n", e[i].status,
		    exit_name(e[i].status));
	}
	for (i = 0; i < nrules; i++) {
		if (summarised(exit_name(rules[i].status))) {
			t_pass++;
			continue;
		}
		t_fail++;
		fprintf(stderr, "exit_summaries() lacks status %d (%s) of the "
		    "rule table\n", rules[i].status, exit_name(rules[i].status));
	}
}

/* Every EX_ name a source file uses has its line in --help. */
static void
check_source_file(const char *path)
{
	FILE		*f;
	char		*line = NULL, name[32];
	const char	*p;
	size_t		 cap = 0, k;

	if ((f = fopen(path, "r")) == NULL) {
		t_fail++;
		fprintf(stderr, "cannot open '%s'\n", path);
		return;
	}
	while (getline(&line, &cap, f) != -1)
		for (p = line; (p = strstr(p, "EX_")) != NULL; p += k) {
			k = 3 + strspn(p + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
			if (k == 3 || k >= sizeof(name) ||
			    (p > line && (p[-1] == '_' || (p[-1] >= 'A' &&
			    p[-1] <= 'Z'))))
				continue;
			memcpy(name, p, k);
			name[k] = '\0';
			if (summarised(name))
				continue;
			t_fail++;
			fprintf(stderr, "%s uses %s, which exit_summaries() "
			    "(the end of --help) lacks\n", path, name);
		}
	free(line);
	fclose(f);
}

static void
check_sources(const char *top)
{
	DIR		*d;
	struct dirent	*de;
	struct buf	 dir = BUF_INIT, path = BUF_INIT;
	size_t		 n, files = 0;

	buf_addf(&dir, "%s/src", top);
	if ((d = opendir(buf_str(&dir))) == NULL) {
		t_fail++;
		fprintf(stderr, "cannot open '%s'\n", buf_str(&dir));
		buf_release(&dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		/* exitcode.c names them all, for exit_name(). */
		if (n < 3 || strcmp(de->d_name + n - 2, ".c") != 0 ||
		    strcmp(de->d_name, "exitcode.c") == 0)
			continue;
		buf_reset(&path);
		buf_addf(&path, "%s/%s", buf_str(&dir), de->d_name);
		check_source_file(buf_str(&path));
		files++;
	}
	closedir(d);
	CHECK(files > 10);
	buf_release(&path);
	buf_release(&dir);
}

int
main(void)
{
	const struct exit_rule	*rules;
	const char		*top;
	struct buf		 path = BUF_INIT;
	unsigned		 n, i, j;
	int			 known;

	top = getenv("TOP_SRCDIR");
	buf_addf(&path, "%s/doc/postie.8", top != NULL ? top : ".");
	CHECK(read_section(buf_str(&path)) == 0);
	rules = exit_rules(&n);
	CHECK(n > 0);

	for (i = 0; i < n; i++) {
		if (has_rule(&rules[i])) {
			t_pass++;
			continue;
		}
		t_fail++;
		fprintf(stderr, "%s: EXIT STATUS lacks this rule; paste:\n"
		    ".It Sy %d Pq %s\n%s\n", buf_str(&path),
		    rules[i].status, exit_name(rules[i].status),
		    rules[i].why);
	}

	check_summaries(rules, n);
	check_sources(top != NULL ? top : ".");

	/* No status in the page that postie does not exit with. */
	for (i = 0; i < nitems; i++) {
		known = summarised(items[i].name);
		for (j = 0; j < n; j++)
			if (rules[j].status == items[i].status)
				known = 1;
		if (known && strcmp(items[i].name,
		    exit_name(items[i].status)) == 0) {
			t_pass++;
			continue;
		}
		t_fail++;
		fprintf(stderr, "%s: EXIT STATUS lists \".It Sy %d Pq %s\" "
		    "but postie has no such status: remove it\n",
		    buf_str(&path), items[i].status, items[i].name);
	}

	for (i = 0; i < nitems; i++)
		buf_release(&items[i].text);
	buf_release(&path);
	return t_done();
}
