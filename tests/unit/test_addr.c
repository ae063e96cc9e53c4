#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "strlist.h"
#include "t.h"

/*
 * Address lists (RFC 5322 3.4), envelope checks, command-line splitting,
 * IDNA and the aliases file.
 */

static void	 join(const struct strlist *, size_t, struct buf *);
static void	 expand(const struct aliases *, const char *, int,
		    const char *, int);
static void	 load_bad(const char *, const char *, int);
static void	 check_list(const char *, int, const char *, const char *,
		    int);
static void	 check_env(const char *, int, int, const char *, int);
static void	 check_split(const char *, int, const char *, const char *,
		    int);
static char	*write_temp(const char *);
static void	 test_parse_ok(void);
static void	 test_parse_bad(void);
static void	 test_ends(void);
static void	 test_envelope(void);
static void	 test_split(void);
static void	 test_small(void);
static void	 test_idna(void);
static void	 test_aliases(void);
static void	 test_property(void);
static size_t	 prop_rand(size_t);
static int	 is_word_tok(const char *);
static void	 prop_sep(struct buf *, const char *, const char *);
static void	 prop_toks(struct buf *, const char *const *, const char **,
		    size_t *);

/* The list joined with '|', for compact expectations. */
static void
join(const struct strlist *l, size_t from, struct buf *b)
{
	size_t	 i;

	for (i = from; i < l->n; i++) {
		if (i > from)
			buf_addch(b, '|');
		buf_addstr(b, l->v[i]);
	}
}

/*
 * Parse `value`; expect return `rc`, the addresses `want` ('|'-joined)
 * and, when `ends` is not NULL, the offsets ','-joined.  When `reason`
 * is not NULL the error must contain it.
 */
static void
check_list(const char *value, int rc, const char *want, const char *reason,
    int line)
{
	struct strlist	 l = STRLIST_INIT;
	struct buf	 err = BUF_INIT, got = BUF_INIT;
	size_t		*ends = NULL;
	int		 r;

	r = addr_parse_list(value, &l, &ends, &err);
	join(&l, 0, &got);
	if (r != rc || strcmp(buf_str(&got), want) != 0 ||
	    (reason != NULL && strstr(buf_str(&err), reason) == NULL)) {
		t_fail++;
		fprintf(stderr, "test_addr.c:%d: [%s] -> %d [%s] err \"%s\"; "
		    "want %d [%s] \"%s\"\n", line, value, r, buf_str(&got),
		    buf_str(&err), rc, want, reason ? reason : "");
	} else
		t_pass++;
	/* Reasons are lowercase, without a full stop. */
	if (r == -1) {
		CHECK(err.len > 0 && err.data[err.len - 1] != '.');
		CHECK(err.len > 0 && !(err.data[0] >= 'A' && err.data[0] <= 'Z'));
	}
	CHECK(ends != NULL);
	free(ends);
	strlist_release(&l);
	buf_release(&err);
	buf_release(&got);
}

#define OK(v, want)		check_list(v, 0, want, NULL, __LINE__)
#define BAD(v, want, why)	check_list(v, -1, want, why, __LINE__)

static void
test_parse_ok(void)
{
	/* simple and multiple */
	OK("a@b", "a@b");
	OK("a@example.org", "a@example.org");
	OK("a@x, b@y", "a@x|b@y");
	OK("a@x,b@y,c@z", "a@x|b@y|c@z");
	OK("", "");
	OK("   ", "");
	OK("a@x, a@x", "a@x|a@x");	/* duplicates: the caller's business */

	/* name-addr */
	OK("Name <a@b>", "a@b");
	OK("<a@b>", "a@b");
	OK("John Q. Public <jqp@example.org>", "jqp@example.org");
	OK("\"quoted, name\" <a@b>", "a@b");
	OK("\"quoted, name\" <a@b>, Other <c@d>", "a@b|c@d");
	OK("\"Joe \\\"the\\\" Plumber\" <joe@x>", "joe@x");
	OK("  Name   <  a@b  >  ", "a@b");
	OK("=?utf-8?q?J=C3=B6rg?= <j@x>", "j@x");
	OK("J\xc3\xb6rg <j@x>", "j@x");

	/* comments everywhere */
	OK("a@b (comment)", "a@b");
	OK("a@b (comment (nested))", "a@b");
	OK("(c) a (c) @ (c) b (c)", "a@b");
	OK("a@b (with \\) escaped paren)", "a@b");
	OK("Name (c) <a@b> (c)", "a@b");
	OK("(only a comment)", "");
	OK("a(c)@b.(c)example", "a@b.example");

	/* white space and folding inside the addr-spec (obs) */
	OK("a . b @ x . y", "a.b@x.y");
	OK("a@b,\r\n c@d", "a@b|c@d");

	/* groups */
	OK("undisclosed-recipients:;", "");
	OK("undisclosed-recipients: ;", "");
	OK("undisclosed-recipients:", "");	/* no ';': lenient */
	OK("team: a@x, b@y;", "a@x|b@y");
	OK("team: a@x, b@y;, c@z", "a@x|b@y|c@z");
	OK("one: a@x;, two: b@y, Name <c@z>;", "a@x|b@y|c@z");
	OK("a@x, empty:;, b@y", "a@x|b@y");
	OK("\"my team\" (c): a@x (c) ; (c)", "a@x");
	OK("team: ,,a@x,,;", "a@x");

	/* quoted local parts */
	OK("\"john doe\"@x", "\"john doe\"@x");
	OK("\"john\\ doe\"@x", "\"john doe\"@x");
	OK("\"a\\\"b\"@x", "\"a\\\"b\"@x");
	OK("\"a\\\\b\"@x", "\"a\\\\b\"@x");
	OK("\"a,b\"@x, c@y", "\"a,b\"@x|c@y");
	OK("\"a@b\"@x", "\"a@b\"@x");
	OK("Name <\"john doe\"@x>", "\"john doe\"@x");
	OK("\"john\".doe@x", "\"john.doe\"@x");	/* obs-local-part */
	OK("\"john\"@x", "\"john\"@x");

	/* domain literals */
	OK("a@[192.0.2.1]", "a@[192.0.2.1]");
	OK("a@[IPv6:2001:db8::1]", "a@[IPv6:2001:db8::1]");
	OK("a@[ 192.0.2.1 ]", "a@[192.0.2.1]");

	/* obs-route */
	OK("<@a,@b:x@y>", "x@y");
	OK("Name <@a.example,@b.example:x@y>", "x@y");
	OK("<,@a,,@b:x@y>", "x@y");
	OK("< @a : x@y >", "x@y");

	/* obs-addr-list: empty elements */
	OK(",a@x", "a@x");
	OK("a@x,", "a@x");
	OK("a@x,,b@y", "a@x|b@y");
	OK(", ,", "");

	/* bare local names */
	OK("root", "root");
	OK("Root User <root>", "root");
	OK("root, admin@x", "root|admin@x");
	OK("root (the boss)", "root");

	/* UTF-8 (RFC 6532) */
	OK("j\xc3\xb6rg@b\xc3\xbc" "cher.de", "j\xc3\xb6rg@b\xc3\xbc" "cher.de");

	/* lenient dots in local parts (old systems) */
	OK("john..doe@x", "john..doe@x");
	OK("john.@x", "john.@x");
}

static void
test_parse_bad(void)
{
	BAD("<a@b", "", "missing '>'");
	BAD("a@b>", "", "unexpected '>'");
	BAD("\"unterminated@x", "", "unterminated quoted string");
	BAD("a@b (unterminated", "", "unterminated comment");
	BAD("a@b (nested (unterminated)", "", "unterminated comment");
	BAD("a@[1.2.3.4", "", "unterminated domain literal");
	BAD("a@", "", "missing domain after '@'");
	BAD("a@b.", "", "malformed domain");
	BAD("a@.b", "", "missing domain after '@'");
	BAD("@b", "", "missing local part before '@'");
	BAD("John Doe", "", "unexpected 'Doe'");
	BAD("John Doe, a@x", "", "unexpected 'Doe'");
	BAD("a@x, <>", "a@x", "empty address '<>'");
	BAD("<a@b> c@d", "", "unexpected 'c'");
	BAD("a@b c@d", "", NULL);
	BAD("g1: g2: a@x;;", "", "group inside a group");
	BAD("a@b;", "", "unexpected ';'");
	BAD("<@a x@y>", "", "malformed route");
	BAD("a@x, b@y)", "a@x", "unexpected ')'");
	BAD("a\x01@x", "", "control character");
	BAD("\"a\\\r\nb\"@x", "", "control character");
	BAD("a\\b@x", "", "unexpected '\\'");
	BAD("<a@b>>", "", "unexpected '>'");
	BAD("a@[x[y]", "", "'[' inside a domain literal");
	BAD("[1.2.3.4]", "", NULL);
}

/* `ends` points just past each addr-spec. */
static void
test_ends(void)
{
	struct strlist	 l = STRLIST_INIT;
	struct buf	 err = BUF_INIT;
	size_t		*ends = NULL;
	const char	*v;

	v = "root";
	CHECK_INT(addr_parse_list(v, &l, &ends, &err), 0);
	CHECK_INT(l.n, 1);
	CHECK_INT(ends[0], 4);
	free(ends);
	strlist_release(&l);

	v = "Root User <root>";
	CHECK_INT(addr_parse_list(v, &l, &ends, &err), 0);
	CHECK_INT(l.n, 1);
	CHECK_INT(ends[0], strlen("Root User <root"));
	CHECK_INT(v[ends[0]], '>');
	free(ends);
	strlist_release(&l);

	v = "root (c), a@x.y (c), team: b, \"q r\"@z;, Name <c> ";
	CHECK_INT(addr_parse_list(v, &l, &ends, &err), 0);
	CHECK_INT(l.n, 5);
	CHECK_INT(ends[0], 4);
	CHECK_INT(ends[1], strlen("root (c), a@x.y"));
	CHECK_INT(ends[2], strlen("root (c), a@x.y (c), team: b"));
	CHECK_INT(ends[3], strlen("root (c), a@x.y (c), team: b, \"q r\"@z"));
	CHECK_INT(ends[4], strlen("root (c), a@x.y (c), team: b, "
	    "\"q r\"@z;, Name <c"));
	free(ends);
	strlist_release(&l);

	/* An address with a domain literal ends after the ']'. */
	v = "a@[1.2.3.4] (c)";
	CHECK_INT(addr_parse_list(v, &l, &ends, &err), 0);
	CHECK_INT(ends[0], 11);
	free(ends);
	strlist_release(&l);

	/* Appending to a list that already holds entries: ends[i] is for
	 * out->v[old n + i]. */
	strlist_add(&l, "old@x");
	v = "new";
	CHECK_INT(addr_parse_list(v, &l, &ends, &err), 0);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.v[1], "new");
	CHECK_INT(ends[0], 3);
	free(ends);
	strlist_release(&l);

	/* No addresses: still an array the caller may free. */
	CHECK_INT(addr_parse_list("undisclosed-recipients:;", &l, &ends,
	    &err), 0);
	CHECK(ends != NULL);
	CHECK_INT(l.n, 0);
	free(ends);

	/* ends may be NULL. */
	CHECK_INT(addr_parse_list("a@b, c", &l, NULL, &err), 0);
	CHECK_INT(l.n, 2);
	strlist_release(&l);
	buf_release(&err);
}

static void
check_env(const char *addr, int allow_empty, int rc, const char *want,
    int line)
{
	struct buf	 err = BUF_INIT;
	int		 r;

	r = addr_check_envelope(addr, allow_empty, &err);
	if (r != rc || (want != NULL && strcmp(buf_str(&err), want) != 0)) {
		t_fail++;
		fprintf(stderr, "test_addr.c:%d: check_envelope -> %d \"%s\", "
		    "want %d \"%s\"\n", line, r, buf_str(&err), rc,
		    want ? want : "");
	} else
		t_pass++;
	buf_release(&err);
}

#define ENV_OK(a, e)		check_env(a, e, 0, "", __LINE__)
#define ENV_BAD(a, e, why)	check_env(a, e, -1, why, __LINE__)

static void
test_envelope(void)
{
	char	 big[400];

	ENV_OK("a@b", 0);
	ENV_OK("root", 0);
	ENV_OK("fail2ban", 1);
	ENV_OK("\"a@b\"@x", 0);
	ENV_OK("\"a\\\"b\"@x", 0);
	ENV_OK("a@[192.0.2.1]", 0);
	ENV_OK("j\xc3\xb6rg@b\xc3\xbc" "cher.de", 0);
	ENV_OK("a-b@x", 0);
	ENV_OK("", 1);
	ENV_OK("<>", 1);

	ENV_BAD("", 0, "empty address");
	ENV_BAD("<>", 0, "address '<>' contains '<' or '>'");
	ENV_BAD("-oQ/tmp", 0, "address '-oQ/tmp' starts with '-'");
	ENV_BAD("-f", 1, "sender '-f' starts with '-'");
	ENV_BAD("a b@x", 0, "address 'a b@x' contains white space");
	ENV_BAD("a\tb@x", 0, "address 'a\\tb@x' contains white space");
	ENV_BAD("a@x\r\nRCPT TO:<b@y>", 0,
	    "address 'a@x\\r\\nRCPT TO:<b@y>' contains a line break");
	ENV_BAD("a@x\r\nb", 0, "address 'a@x\\r\\nb' contains a line break");
	ENV_BAD("a@x\n", 0, "address 'a@x\\n' contains a line break");
	ENV_BAD("a\x01@x", 0,
	    "address 'a\\x01@x' contains a control character");
	ENV_BAD("a\x7f@x", 0,
	    "address 'a\\x7f@x' contains a control character");
	ENV_BAD("<a@x>", 0, "address '<a@x>' contains '<' or '>'");
	ENV_BAD("a@b@c", 0, "address 'a@b@c' contains more than one '@'");
	ENV_BAD("@x", 0, "address '@x' has an empty local part");
	ENV_BAD("a@", 0, "address 'a@' has an empty domain");
	ENV_BAD("\"a@x", 0, "address '\"a@x' has an unterminated quote");

	/* 64 octets of local part is fine, 65 is not. */
	memset(big, 'l', 64);
	memcpy(big + 64, "@x", 3);
	ENV_OK(big, 0);
	memset(big, 'l', 65);
	memcpy(big + 65, "@x", 3);
	check_env(big, 0, -1, NULL, __LINE__);
	memset(big, 'l', 65);
	big[65] = '\0';
	check_env(big, 0, -1, NULL, __LINE__);	/* bare name, too long */

	/* 254 octets in all is fine, 255 is not. */
	memset(big, 'd', sizeof(big));
	memcpy(big, "a@", 2);
	big[254] = '\0';
	ENV_OK(big, 0);
	big[254] = 'd';
	big[255] = '\0';
	check_env(big, 0, -1, NULL, __LINE__);
	{
		struct buf	 err = BUF_INIT;

		addr_check_envelope(big, 0, &err);
		CHECK(strstr(buf_str(&err), "longer than 254 octets") != NULL);
		/* the subject is cut, not echoed whole */
		CHECK(err.len < 160);
		CHECK(strstr(buf_str(&err), "...") != NULL);
		buf_release(&err);
	}
}

static void
check_split(const char *arg, int rc, const char *want, const char *why,
    int line)
{
	struct strlist	 l = STRLIST_INIT;
	struct buf	 err = BUF_INIT, got = BUF_INIT;
	int		 r;

	r = addr_split_arg(arg, &l, &err);
	join(&l, 0, &got);
	if (r != rc || strcmp(buf_str(&got), want) != 0 ||
	    (why != NULL && strcmp(buf_str(&err), why) != 0)) {
		t_fail++;
		fprintf(stderr, "test_addr.c:%d: split [%s] -> %d [%s] \"%s\"; "
		    "want %d [%s] \"%s\"\n", line, arg, r, buf_str(&got),
		    buf_str(&err), rc, want, why ? why : "");
	} else
		t_pass++;
	strlist_release(&l);
	buf_release(&err);
	buf_release(&got);
}

#define SPLIT_OK(a, want)	check_split(a, 0, want, NULL, __LINE__)
#define SPLIT_BAD(a, want, why)	check_split(a, -1, want, why, __LINE__)

static void
test_split(void)
{
	SPLIT_OK("a@x", "a@x");
	SPLIT_OK("a@x,b@y", "a@x|b@y");
	SPLIT_OK(" a@x , ,b@y ", "a@x|b@y");
	SPLIT_OK("Name <a@x>, b@y", "a@x|b@y");
	SPLIT_OK("\"Doe, John\" <j@x>", "j@x");
	SPLIT_OK("<a@x>", "a@x");
	SPLIT_OK("root", "root");
	SPLIT_OK("\"a,b\"@x", "\"a,b\"@x");
	SPLIT_OK("", "");
	SPLIT_OK(",,", "");
	SPLIT_OK("\ta@x\t", "a@x");

	SPLIT_BAD("-oQ", "", "recipient '-oQ' starts with '-'");
	SPLIT_BAD("-oQ/tmp", "", "recipient '-oQ/tmp' starts with '-'");
	SPLIT_BAD("a@x,-oQ", "a@x", "recipient '-oQ' starts with '-'");
	SPLIT_BAD("a@x, b y@z", "a@x",
	    "recipient 'b y@z' contains white space");
	SPLIT_BAD("a@x\r\nDATA", "",
	    "recipient 'a@x\\r\\nDATA' contains a line break");
	SPLIT_BAD("Name <>", "", "empty recipient");
	SPLIT_BAD("<a@x", "", "recipient '<a@x' contains '<' or '>'");
	SPLIT_BAD("a@x>", "", "recipient 'a@x>' contains '<' or '>'");
	SPLIT_BAD("Name <a@x> junk", "",
	    "recipient 'Name <a@x> junk' contains white space");
}

static void
test_small(void)
{
	char	*s;

	s = addr_qualify("root", "example.org");
	CHECK_STR(s, "root@example.org");
	free(s);
	s = addr_qualify("a@b", "example.org");
	CHECK_STR(s, "a@b");
	free(s);
	s = addr_qualify("\"a@b\"", "example.org");
	CHECK_STR(s, "\"a@b\"@example.org");
	free(s);
	s = addr_qualify("", "example.org");
	CHECK_STR(s, "");
	free(s);
	s = addr_qualify("root", NULL);
	CHECK_STR(s, "root");
	free(s);

	CHECK_INT(addr_is_local("root"), 1);
	CHECK_INT(addr_is_local("a@b"), 0);
	CHECK_INT(addr_is_local("\"a@b\""), 1);
	CHECK_INT(addr_is_local("\"a\\\"@b\""), 1);
	CHECK_INT(addr_is_local("\"a@b\"@c"), 0);

	{
		struct buf	 b = BUF_INIT;

		addr_quote(&b, "a\r\n\t\x01\x7f\xc3\xa9");
		CHECK_STR(buf_str(&b), "'a\\r\\n\\t\\x01\\x7f\xc3\xa9'");
		buf_release(&b);
	}

	CHECK_INT(addr_needs_utf8("a@b"), 0);
	CHECK_INT(addr_needs_utf8("a@b\xc3\xbc"), 1);
	CHECK_INT(addr_needs_utf8("\xc3\xbc@b"), 1);
}

static void
test_idna(void)
{
	struct buf	 err = BUF_INIT;
	char		*s;

	s = addr_envelope_form("a@b\xc3\xbc" "cher.de", &err);
	CHECK_STR(s, "a@xn--bcher-kva.de");
	free(s);
	s = addr_envelope_form("a@B\xc3\x9c" "CHER.de", &err);
	CHECK_STR(s, "a@xn--bcher-kva.de");
	free(s);
	s = addr_envelope_form("a@example.org", &err);
	CHECK_STR(s, "a@example.org");
	free(s);
	s = addr_envelope_form("root", &err);
	CHECK_STR(s, "root");
	free(s);
	s = addr_envelope_form("", &err);
	CHECK_STR(s, "");
	free(s);
	/* A non-ASCII local part: unchanged, the caller needs SMTPUTF8. */
	s = addr_envelope_form("j\xc3\xb6rg@b\xc3\xbc" "cher.de", &err);
	CHECK_STR(s, "j\xc3\xb6rg@b\xc3\xbc" "cher.de");
	free(s);
	/* Address literals are left alone. */
	s = addr_envelope_form("a@[192.0.2.1]", &err);
	CHECK_STR(s, "a@[192.0.2.1]");
	free(s);
	/* The '@' inside quotes is not the domain separator. */
	s = addr_envelope_form("\"x@\xc3\xbc\"@example.org", &err);
	CHECK_STR(s, "\"x@\xc3\xbc\"@example.org");
	free(s);
	/* Nontransitional: sharp s is kept (IDNA2008). */
	s = addr_envelope_form("a@fa\xc3\x9f.de", &err);
	CHECK_STR(s, "a@xn--fa-hia.de");
	free(s);
	CHECK_INT(err.len, 0);

	/* A domain IDNA refuses. */
	s = addr_envelope_form("a@-\xc3\xbc.de", &err);
	CHECK(s == NULL);
	CHECK(strncmp(buf_str(&err), "cannot convert domain '", 23) == 0);
	free(s);
	buf_release(&err);
}

static char *
write_temp(const char *text)
{
	char	 tmpl[] = "/tmp/postie-test-aliases.XXXXXX";
	int	 fd;
	size_t	 n = strlen(text);

	fd = mkstemp(tmpl);
	if (fd == -1)
		return NULL;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		unlink(tmpl);
		return NULL;
	}
	close(fd);
	return strdup(tmpl);
}

static void
expand(const struct aliases *a, const char *addr, int rc, const char *want,
    int line)
{
	struct strlist	 l = STRLIST_INIT;
	struct buf	 got = BUF_INIT;
	int		 r;

	r = aliases_expand(a, addr, &l);
	join(&l, 0, &got);
	if (r != rc || strcmp(buf_str(&got), want) != 0) {
		t_fail++;
		fprintf(stderr, "test_addr.c:%d: expand %s -> %d [%s], want "
		    "%d [%s]\n", line, addr, r, buf_str(&got), rc, want);
	} else
		t_pass++;
	strlist_release(&l);
	buf_release(&got);
}

/* Load `text` and expect failure with exactly "PATH:" + `why`. */
static void
load_bad(const char *text, const char *why, int line)
{
	struct aliases	 a;
	struct buf	 err = BUF_INIT, want = BUF_INIT;
	char		*path;

	path = write_temp(text);
	CHECK(path != NULL);
	if (path == NULL)
		return;
	buf_addf(&want, "%s:%s", path, why);
	if (aliases_load(&a, path, &err) != -1 ||
	    strcmp(buf_str(&err), buf_str(&want)) != 0) {
		t_fail++;
		fprintf(stderr, "test_addr.c:%d: aliases error \"%s\", want "
		    "\"%s\"\n", line, buf_str(&err), buf_str(&want));
	} else
		t_pass++;
	CHECK_INT(a.names.n, 0);
	aliases_release(&a);
	unlink(path);
	free(path);
	buf_release(&err);
	buf_release(&want);
}

static void
test_aliases(void)
{
	struct aliases	 a = ALIASES_INIT;
	struct buf	 err = BUF_INIT, big = BUF_INIT;
	char		*path;
	size_t		 i;

	path = write_temp(
	    "# aliases for this host\n"
	    "\n"
	    "root: admin@example.org\n"
	    "   Team :a@example.org,b@example.org  # the team\n"
	    "postmaster: root\n"
	    "named: Admin <admin@example.org>, \"x,y\"@example.org\r\n"
	    "default: fallback@example.org\n"
	    "last: last@example.org");
	CHECK(path != NULL);
	CHECK_INT(aliases_load(&a, path, &err), 0);
	CHECK_STR(buf_str(&err), "");
	CHECK_INT(a.names.n, 6);

	expand(&a, "root", 1, "admin@example.org", __LINE__);
	expand(&a, "ROOT", 1, "admin@example.org", __LINE__);
	expand(&a, "team", 1, "a@example.org|b@example.org", __LINE__);
	expand(&a, "TeAm", 1, "a@example.org|b@example.org", __LINE__);
	/* one level: postmaster -> root, not further */
	expand(&a, "postmaster", 1, "root", __LINE__);
	expand(&a, "named", 1, "admin@example.org|\"x,y\"@example.org",
	    __LINE__);
	expand(&a, "last", 1, "last@example.org", __LINE__);
	/* default catches unlisted local names only */
	expand(&a, "nobody", 1, "fallback@example.org", __LINE__);
	expand(&a, "root@example.org", 0, "root@example.org", __LINE__);
	expand(&a, "x@y", 0, "x@y", __LINE__);
	expand(&a, "", 0, "", __LINE__);
	expand(NULL, "root", 0, "root", __LINE__);
	aliases_release(&a);
	aliases_release(&a);	/* twice is harmless */
	unlink(path);
	free(path);

	/* Without default, unlisted names stay. */
	path = write_temp("root: admin@example.org\n");
	CHECK_INT(aliases_load(&a, path, &err), 0);
	expand(&a, "nobody", 0, "nobody", __LINE__);
	aliases_release(&a);
	unlink(path);
	free(path);

	/* No line-length limit. */
	buf_addstr(&big, "many: ");
	for (i = 0; i < 2000; i++)
		buf_addf(&big, "%suser%zu@example.org", i ? ", " : "", i);
	buf_addch(&big, '\n');
	path = write_temp(buf_str(&big));
	CHECK_INT(aliases_load(&a, path, &err), 0);
	CHECK_INT(a.names.n, 1);
	CHECK_INT(a.lists[0].n, 2000);
	CHECK_STR(a.lists[0].v[1999], "user1999@example.org");
	aliases_release(&a);
	unlink(path);
	free(path);

	/* An empty file is fine. */
	path = write_temp("");
	CHECK_INT(aliases_load(&a, path, &err), 0);
	CHECK_INT(a.names.n, 0);
	aliases_release(&a);
	unlink(path);
	free(path);

	/* Errors name the file and the line. */
	load_bad("root admin@x\n", "1: missing ':'", __LINE__);
	load_bad("# c\nroot: a@x\nbad line\n", "3: missing ':'", __LINE__);
	load_bad("root: a@x\nROOT: b@x\n", "2: duplicate alias 'ROOT'",
	    __LINE__);
	load_bad(": a@x\n", "1: invalid alias name ''", __LINE__);
	load_bad("a@b: c@x\n", "1: invalid alias name 'a@b'", __LINE__);
	load_bad("two words: c@x\n", "1: invalid alias name 'two words'",
	    __LINE__);
	load_bad("a\x01" "b: c@x\n", "1: invalid alias name 'a\\x01b'",
	    __LINE__);
	load_bad("root:\n", "1: no address for alias 'root'", __LINE__);
	load_bad("root: , ,\n", "1: no address for alias 'root'", __LINE__);
	load_bad("root: -oQ/tmp\n",
	    "1: recipient '-oQ/tmp' starts with '-'", __LINE__);
	load_bad("root: a b@x\n",
	    "1: recipient 'a b@x' contains white space", __LINE__);
	/* /etc/aliases's local targets: only a delivery agent has them. */
#define LOCAL_T " is a pipe, file or :include: " \
	    "(postie relays to addresses only)"
	load_bad("root: a@x, |/usr/bin/procmail\n",
	    "1: alias 'root': '|/usr/bin/procmail'" LOCAL_T, __LINE__);
	load_bad("log: /var/log/mail.txt\n",
	    "1: alias 'log': '/var/log/mail.txt'" LOCAL_T, __LINE__);
	load_bad("list: :include:/etc/list\n",
	    "1: alias 'list': ':include:/etc/list'" LOCAL_T, __LINE__);
	load_bad("p: \"|/bin/cat\"\n", "1: alias 'p': '\"|/bin/cat\"'" LOCAL_T,
	    __LINE__);
#undef LOCAL_T

	/* A missing file. */
	buf_reset(&err);
	CHECK_INT(aliases_load(&a, "/nonexistent/postie/aliases", &err), -1);
	CHECK_STR(buf_str(&err), "cannot open '/nonexistent/postie/aliases': "
	    "No such file or directory");
	aliases_release(&a);

	buf_release(&err);
	buf_release(&big);
}

/*
 * Property: lists built from known addresses, with random comments,
 * white space, folds, display names, groups and empty elements between
 * the tokens, parse back to exactly those addresses, and `ends` points
 * just past each one's last token.
 */
static uint64_t	 prop_state = UINT64_C(0x2545f4914f6cdd1d);

static size_t
prop_rand(size_t n)
{
	prop_state ^= prop_state << 13;
	prop_state ^= prop_state >> 7;
	prop_state ^= prop_state << 17;
	return (size_t)(prop_state % n);
}

static int
is_word_tok(const char *t)
{
	return strlen(t) > 1 || strchr("@.:;<>,", t[0]) == NULL;
}

/* Random CFWS between two tokens; never empty between two words. */
static void
prop_sep(struct buf *b, const char *prev, const char *next)
{
	static const char *const seps[] = {
		"", "", "", " ", "  ", "\t", "(c)", " (a comment) ",
		"(nested (comment) here)", "(esc \\) paren)", "\r\n ",
		" (c)\r\n\t(d) "
	};
	size_t	 k;

	k = prop_rand(sizeof(seps) / sizeof(seps[0]));
	if (k < 3 && prev != NULL && next != NULL && is_word_tok(prev) &&
	    is_word_tok(next))
		k = 3;
	buf_addstr(b, seps[k]);
}

static void
prop_toks(struct buf *b, const char *const *toks, const char **prev,
    size_t *end)
{
	size_t	 i;

	for (i = 0; toks[i] != NULL; i++) {
		prop_sep(b, *prev, toks[i]);
		buf_addstr(b, toks[i]);
		*prev = toks[i];
		if (end != NULL)
			*end = b->len;
	}
}

static void
test_property(void)
{
	static const char *const specs[][8] = {
		{ "a", "@", "b", ".", "c", NULL },
		{ "john", ".", "doe", "@", "example", ".", "org", NULL },
		{ "\"john doe\"", "@", "x", NULL },
		{ "root", NULL },
		{ "a", "@", "[192.0.2.1]", NULL },
		{ "j\xc3\xb6rg", "@", "b\xc3\xbc" "cher", ".", "de", NULL },
		{ "\"a,b;c<d>\"", "@", "x", NULL },
		{ "x+tag", "@", "y", NULL },
		{ "o'brien", "@", "ie", NULL },
	};
	static const char *const names[][5] = {
		{ "Name", NULL },
		{ "John", "Q", ".", "Public", NULL },
		{ "\"Doe, John\"", NULL },
		{ "=?utf-8?q?x?=", "y", NULL },
	};
	const size_t	 nspecs = sizeof(specs) / sizeof(specs[0]);
	const size_t	 nnames = sizeof(names) / sizeof(names[0]);
	struct buf	 v = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	struct buf	 err = BUF_INIT, one = BUF_INIT;
	struct strlist	 l = STRLIST_INIT;
	size_t		 iter, nel, e, k, i, n, wends[64], *ends;
	const char	*prev;
	int		 bad = 0, in_group, r;

	for (iter = 0; iter < 5000 && bad < 10; iter++) {
		buf_reset(&v);
		buf_reset(&want);
		buf_reset(&got);
		buf_reset(&err);
		n = 0;
		prev = NULL;
		in_group = 0;
		nel = 1 + prop_rand(5);
		for (e = 0; e < nel; e++) {
			if (e > 0 || prop_rand(8) == 0) {
				prop_sep(&v, prev, ",");
				buf_addch(&v, ',');
				prev = ",";
			}
			if (prop_rand(8) == 0) {	/* empty element */
				prop_sep(&v, prev, ",");
				buf_addch(&v, ',');
				prev = ",";
			}
			if (!in_group && prop_rand(6) == 0) {
				prop_toks(&v, names[prop_rand(nnames)], &prev,
				    NULL);
				prop_sep(&v, prev, ":");
				buf_addch(&v, ':');
				prev = ":";
				in_group = 1;
				if (prop_rand(3) == 0)
					goto close;	/* empty group */
			}
			k = prop_rand(nspecs);
			buf_reset(&one);
			for (i = 0; specs[k][i] != NULL; i++)
				buf_addstr(&one, specs[k][i]);
			if (want.len > 0)
				buf_addch(&want, '|');
			buf_addstr(&want, buf_str(&one));
			if (prop_rand(2) == 0) {
				prop_toks(&v, specs[k], &prev, &wends[n]);
			} else {
				if (prop_rand(2) == 0)
					prop_toks(&v, names[prop_rand(nnames)],
					    &prev, NULL);
				prop_sep(&v, prev, "<");
				buf_addch(&v, '<');
				prev = "<";
				if (prop_rand(4) == 0) {
					static const char *const route[] = {
						"@", "r", ".", "example", ",",
						"@", "s", ":", NULL
					};
					prop_toks(&v, route, &prev, NULL);
				}
				prop_toks(&v, specs[k], &prev, &wends[n]);
				prop_sep(&v, prev, ">");
				buf_addch(&v, '>');
				prev = ">";
			}
			n++;
			if (in_group && prop_rand(2) == 0) {
close:
				prop_sep(&v, prev, ";");
				buf_addch(&v, ';');
				prev = ";";
				in_group = 0;
			}
		}
		if (in_group) {
			prop_sep(&v, prev, ";");
			buf_addch(&v, ';');
		}
		prop_sep(&v, prev, NULL);

		ends = NULL;
		r = addr_parse_list(buf_str(&v), &l, &ends, &err);
		join(&l, 0, &got);
		if (r != 0 || strcmp(buf_str(&got), buf_str(&want)) != 0 ||
		    l.n != n) {
			fprintf(stderr, "property failed: [%s] -> %d [%s] "
			    "\"%s\", want [%s]\n", buf_str(&v), r,
			    buf_str(&got), buf_str(&err), buf_str(&want));
			bad++;
		} else {
			for (i = 0; i < n; i++)
				if (ends[i] != wends[i]) {
					fprintf(stderr, "property: ends[%zu] "
					    "= %zu, want %zu in [%s]\n", i,
					    ends[i], wends[i], buf_str(&v));
					bad++;
				}
		}
		free(ends);
		strlist_release(&l);
	}
	CHECK_INT(bad, 0);
	CHECK_INT(iter, 5000);
	buf_release(&v);
	buf_release(&want);
	buf_release(&got);
	buf_release(&err);
	buf_release(&one);
}

/* Header recipients may have a quoted local part with spaces; argv may not. */
static void
test_parsed(void)
{
	struct buf	 err = BUF_INIT;

	CHECK_INT(addr_check_parsed("\"john doe\"@example.org", &err), 0);
	CHECK_INT(addr_check_envelope("\"john doe\"@example.org", 0, &err),
	    -1);
	buf_reset(&err);
	CHECK_INT(addr_check_parsed("john doe@example.org", &err), -1);
	CHECK(strstr(buf_str(&err), "white space") != NULL);
	buf_reset(&err);
	CHECK_INT(addr_check_parsed("\"a\r\nb\"@example.org", &err), -1);
	buf_release(&err);
}

int
main(void)
{
	test_parse_ok();
	test_parse_bad();
	test_ends();
	test_envelope();
	test_split();
	test_parsed();
	test_small();
	test_idna();
	test_aliases();
	test_property();
	return t_done();
}
