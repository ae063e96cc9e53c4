#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "buf.h"
#include "envelope.h"
#include "queue_env.h"
#include "strlist.h"
#include "util.h"
#include "xmalloc.h"

/*
 * A queue entry's envelope file: one field a line, "key value", its
 * format version first and "end" last, so that a file cut short by a
 * crash or a full disk never reads as a complete entry.
 */

static void	 put_escaped(struct buf *, const char *, int);
static char	*take_escaped(const char *, size_t, int *);
static int	 parse_line(struct qentry *, const char *, const char *,
		    size_t, unsigned *, struct buf *);
static int	 parse_num(const char *, size_t, long long, long long,
		    long long *);
static int	 parse_rcpt(struct qentry *, const char *, size_t,
		    struct buf *);
static int	 parse_override(struct qentry *, const char *, size_t,
		    struct buf *);

void
qentry_init(struct qentry *e)
{
	memset(e, 0, sizeof(*e));
	envelope_init(&e->env);
	strlist_init(&e->overrides);
	e->fd = -1;
	e->synced = 1;
}

void
qentry_release(struct qentry *e)
{
	size_t	 i;

	for (i = 0; i < e->env.rcpts.n; i++)
		free(e->rcpt[i].reason);
	free(e->rcpt);
	envelope_release(&e->env);
	free(e->config);
	free(e->account);
	free(e->notify);
	free(e->ret);
	free(e->envid);
	strlist_release(&e->overrides);
	if (e->fd != -1)
		close(e->fd);
	qentry_init(e);
}

int
queue_id_ok(const char *id)
{
	size_t	 i;

	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return i == 16;
}

void
qentry_drop_rcpt(struct qentry *e, size_t i)
{
	struct strlist	*l = &e->env.rcpts;

	if (i >= l->n)
		return;
	free(l->v[i]);
	free(e->rcpt[i].reason);
	memmove(l->v + i, l->v + i + 1, (l->n - i) * sizeof(*l->v));
	memmove(e->rcpt + i, e->rcpt + i + 1,
	    (l->n - i - 1) * sizeof(*e->rcpt));
	l->n--;
}

void
qentry_note(struct qentry *e, size_t i, int code, const char *ecode,
    const char *reason)
{
	struct qrcpt	*r = &e->rcpt[i];

	r->code = code;
	(void)snprintf(r->ecode, sizeof(r->ecode), "%s",
	    ecode != NULL ? ecode : "");
	free(r->reason);
	r->reason = reason != NULL ? xstrdup(reason) : NULL;
}

/*
 * One field a line, "key value"; version first.  Strings are escaped so
 * that a value is always one printable line: a backslash, a control byte
 * and (with `space`, for fields followed by others) a space become
 * "\xHH".  Bytes >= 0x80 pass (UTF-8 addresses stay readable).
 */
static void
put_escaped(struct buf *b, const char *s, int space)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\' ||
		    (space && *p == ' ')) {
			buf_addstr(b, "\\x");
			buf_addch(b, hex[*p >> 4]);
			buf_addch(b, hex[*p & 0x0f]);
		} else
			buf_addch(b, *p);
}

void
queue_env_write(const struct qentry *e, struct buf *out)
{
	const struct envelope	*env = &e->env;
	size_t			 i;

	buf_addf(out, "postie-queue %d\n", QUEUE_VERSION);
	buf_addf(out, "id %s\n", e->id);
	buf_addstr(out, "config ");
	put_escaped(out, e->config != NULL ? e->config : "", 0);
	buf_addstr(out, "\naccount ");
	put_escaped(out, e->account != NULL ? e->account : "", 0);
	buf_addf(out, "\nuid %ld\narrival %lld\nlast %lld\nnext %lld\n"
	    "attempts %u\nsize %lld\n", e->uid, e->arrival, e->last, e->next,
	    e->attempts, (long long)env->size);
	buf_addf(out, "body %s\n", env->body_type == BODY_7BIT ? "7bit" :
	    env->body_type == BODY_8BITMIME ? "8bitmime" : "auto");
	buf_addf(out, "8bit %d\nsmtputf8 %d\nrequest-utf8 %d\n",
	    env->body_8bit != 0, env->smtputf8 != 0, env->request_utf8 != 0);
	if (e->notify != NULL) {
		buf_addstr(out, "notify ");
		put_escaped(out, e->notify, 0);
		buf_addch(out, '\n');
	}
	if (e->ret != NULL) {
		buf_addstr(out, "ret ");
		put_escaped(out, e->ret, 0);
		buf_addch(out, '\n');
	}
	if (e->envid != NULL) {
		buf_addstr(out, "envid ");
		put_escaped(out, e->envid, 0);
		buf_addch(out, '\n');
	}
	for (i = 0; i + 1 < e->overrides.n; i += 2) {
		buf_addstr(out, "override ");
		put_escaped(out, e->overrides.v[i], 1);
		buf_addch(out, ' ');
		put_escaped(out, e->overrides.v[i + 1], 0);
		buf_addch(out, '\n');
	}
	buf_addstr(out, "from ");
	put_escaped(out, env->from[0] != '\0' ? env->from : "<>", 1);
	buf_addch(out, '\n');
	for (i = 0; i < env->rcpts.n; i++) {
		buf_addstr(out, "rcpt ");
		put_escaped(out, env->rcpts.v[i], 1);
		buf_addf(out, " %d %s", e->rcpt[i].code,
		    e->rcpt[i].ecode[0] != '\0' ? e->rcpt[i].ecode : "-");
		if (e->rcpt[i].reason != NULL) {
			buf_addch(out, ' ');
			put_escaped(out, e->rcpt[i].reason, 0);
		}
		buf_addch(out, '\n');
	}
	buf_addstr(out, "end\n");
}


/* The unescaped copy of `n` bytes at `s`; NULL (and *bad) when an escape
 * is malformed or gives a NUL. */
static char *
take_escaped(const char *s, size_t n, int *bad)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;
	int		 hi, lo;

	buf_addstr(&b, "");
	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			buf_addch(&b, s[i]);
			continue;
		}
		if (i + 3 >= n || s[i + 1] != 'x' ||
		    (hi = hex_digit(s[i + 2])) == -1 ||
		    (lo = hex_digit(s[i + 3])) == -1 || (hi | lo) == 0) {
			*bad = 1;
			buf_release(&b);
			return NULL;
		}
		buf_addch(&b, hi << 4 | lo);
		i += 3;
	}
	return buf_detach(&b);
}

static int
parse_num(const char *s, size_t n, long long min, long long max,
    long long *out)
{
	long long	 v = 0;
	size_t		 i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    v > (LLONG_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "rcpt ADDR CODE ECODE [REASON]" (after "rcpt "). */
static int
parse_rcpt(struct qentry *e, const char *s, size_t n, struct buf *err)
{
	const char	*sp1, *sp2, *sp3, *end = s + n;
	char		*addr = NULL, *reason = NULL;
	long long	 code;
	size_t		 k;
	int		 bad = 0;

	if ((sp1 = memchr(s, ' ', n)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL)
		goto bad;
	sp3 = memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1));
	if (sp3 == NULL)
		sp3 = end;
	if (parse_num(sp1 + 1, (size_t)(sp2 - sp1 - 1), 0, 599, &code) == -1 ||
	    (size_t)(sp3 - sp2 - 1) >= sizeof(e->rcpt[0].ecode) ||
	    sp3 == sp2 + 1)
		goto bad;
	addr = take_escaped(s, (size_t)(sp1 - s), &bad);
	if (sp3 < end)
		reason = take_escaped(sp3 + 1, (size_t)(end - sp3 - 1), &bad);
	if (bad || addr[0] == '\0')
		goto bad;
	k = e->env.rcpts.n;
	strlist_add(&e->env.rcpts, addr);
	e->rcpt = xreallocarray(e->rcpt, k + 1, sizeof(*e->rcpt));
	memset(&e->rcpt[k], 0, sizeof(e->rcpt[k]));
	e->rcpt[k].code = (int)code;
	if (!(sp3 - sp2 - 1 == 1 && sp2[1] == '-'))
		memcpy(e->rcpt[k].ecode, sp2 + 1, (size_t)(sp3 - sp2 - 1));
	e->rcpt[k].reason = reason;
	free(addr);
	return 0;
bad:
	free(addr);
	free(reason);
	buf_addstr(err, "a malformed rcpt line");
	return -1;
}

/* "override KEYWORD VALUE" (after "override "). */
static int
parse_override(struct qentry *e, const char *s, size_t n, struct buf *err)
{
	const char	*sp = memchr(s, ' ', n);
	char		*k = NULL, *v = NULL;
	int		 bad = 0;

	if (sp != NULL && sp > s) {
		k = take_escaped(s, (size_t)(sp - s), &bad);
		v = take_escaped(sp + 1, n - (size_t)(sp - s) - 1, &bad);
	}
	if (k == NULL || v == NULL || bad) {
		free(k);
		free(v);
		buf_addstr(err, "a malformed override line");
		return -1;
	}
	strlist_add(&e->overrides, k);
	strlist_add(&e->overrides, v);
	free(k);
	free(v);
	return 0;
}

/* Keys that must be present, as bits. */
#define HAVE_ID		0x001
#define HAVE_CONFIG	0x002
#define HAVE_ACCOUNT	0x004
#define HAVE_TIMES	0x008
#define HAVE_SIZE	0x010
#define HAVE_FROM	0x020
#define HAVE_END	0x040
#define HAVE_ALL	0x07f

/* One "key value" line. */
static int
parse_line(struct qentry *e, const char *key, const char *v, size_t n,
    unsigned *have, struct buf *err)
{
	long long	 num;
	char		*s = NULL, **dst = NULL;
	int		 bad = 0;

	if (*have & HAVE_END) {
		buf_addstr(err, "text after its end");
		return -1;
	}
	if (strcmp(key, "rcpt") == 0)
		return parse_rcpt(e, v, n, err);
	if (strcmp(key, "override") == 0)
		return parse_override(e, v, n, err);
	if (strcmp(key, "end") == 0 && n == 0) {
		*have |= HAVE_END;
		return 0;
	}
	if (strcmp(key, "id") == 0) {
		if (n >= sizeof(e->id))
			goto bad;
		memcpy(e->id, v, n);
		e->id[n] = '\0';
		if (!queue_id_ok(e->id))
			goto bad;
		*have |= HAVE_ID;
		return 0;
	}
	if (strcmp(key, "uid") == 0 || strcmp(key, "arrival") == 0 ||
	    strcmp(key, "last") == 0 || strcmp(key, "next") == 0 ||
	    strcmp(key, "attempts") == 0 || strcmp(key, "size") == 0 ||
	    strcmp(key, "8bit") == 0 || strcmp(key, "smtputf8") == 0 ||
	    strcmp(key, "request-utf8") == 0) {
		if (parse_num(v, n, 0, LLONG_MAX, &num) == -1)
			goto bad;
		if (strcmp(key, "uid") == 0 && num <= LONG_MAX)
			e->uid = (long)num;
		else if (strcmp(key, "arrival") == 0) {
			e->arrival = num;
			*have |= HAVE_TIMES;
		} else if (strcmp(key, "last") == 0)
			e->last = num;
		else if (strcmp(key, "next") == 0)
			e->next = num;
		else if (strcmp(key, "attempts") == 0 && num <= UINT_MAX)
			e->attempts = (unsigned)num;
		else if (strcmp(key, "size") == 0) {
			e->env.size = (off_t)num;
			*have |= HAVE_SIZE;
		} else if (strcmp(key, "8bit") == 0 && num <= 1)
			e->env.body_8bit = (int)num;
		else if (strcmp(key, "smtputf8") == 0 && num <= 1)
			e->env.smtputf8 = (int)num;
		else if (strcmp(key, "request-utf8") == 0 && num <= 1)
			e->env.request_utf8 = (int)num;
		else
			goto bad;
		return 0;
	}
	if (strcmp(key, "body") == 0) {
		if (n == 4 && memcmp(v, "auto", 4) == 0)
			e->env.body_type = BODY_AUTO;
		else if (n == 4 && memcmp(v, "7bit", 4) == 0)
			e->env.body_type = BODY_7BIT;
		else if (n == 8 && memcmp(v, "8bitmime", 8) == 0)
			e->env.body_type = BODY_8BITMIME;
		else
			goto bad;
		return 0;
	}
	if (strcmp(key, "config") == 0) {
		dst = &e->config;
		*have |= HAVE_CONFIG;
	} else if (strcmp(key, "account") == 0) {
		dst = &e->account;
		*have |= HAVE_ACCOUNT;
	} else if (strcmp(key, "notify") == 0)
		dst = &e->notify;
	else if (strcmp(key, "ret") == 0)
		dst = &e->ret;
	else if (strcmp(key, "envid") == 0)
		dst = &e->envid;
	else if (strcmp(key, "from") == 0) {
		dst = &e->env.from;
		*have |= HAVE_FROM;
	} else {
		buf_addf(err, "an unknown field '%.40s'", key);
		return -1;
	}
	if (*dst != NULL || (s = take_escaped(v, n, &bad)) == NULL)
		goto bad;
	if (dst == &e->env.from && strcmp(s, "<>") == 0)
		s[0] = '\0';
	*dst = s;
	return 0;
bad:
	buf_addf(err, "a malformed %.40s line", key);
	return -1;
}

int
queue_env_parse(const char *text, size_t len, struct qentry *e,
    struct buf *err)
{
	const char	*p = text, *end = text + len, *nl, *sp;
	char		 key[32];
	unsigned	 have = 0;
	size_t		 n;
	long long	 version;

	qentry_release(e);
	if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len)) {
		buf_addstr(err, "not a complete text file");
		return -1;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	if ((size_t)(nl - p) < 13 || memcmp(p, "postie-queue ", 13) != 0 ||
	    parse_num(p + 13, (size_t)(nl - p) - 13, 1, 1000, &version) == -1) {
		buf_addstr(err, "not a postie queue envelope");
		return -1;
	}
	if (version != QUEUE_VERSION) {
		buf_addf(err, "envelope format %lld, this postie reads %d",
		    version, QUEUE_VERSION);
		return -1;
	}
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		sp = memchr(p, ' ', (size_t)(nl - p));
		n = (size_t)((sp != NULL ? sp : nl) - p);
		if (n == 0 || n >= sizeof(key)) {
			buf_addstr(err, "a malformed line");
			goto fail;
		}
		memcpy(key, p, n);
		key[n] = '\0';
		if (parse_line(e, key, sp != NULL ? sp + 1 : nl,
		    sp != NULL ? (size_t)(nl - sp - 1) : 0, &have, err) == -1)
			goto fail;
	}
	if (have != HAVE_ALL || e->env.rcpts.n == 0) {
		buf_addstr(err, "fields are missing");
		goto fail;
	}
	e->env.notify = e->notify;
	e->env.ret = e->ret;
	e->env.envid = e->envid;
	return 0;
fail:
	qentry_release(e);
	return -1;
}
