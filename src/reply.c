#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "reply.h"

#define SUMMARY_MAX	 300

static int	parse_ecode(struct reply *, const char *, size_t);
static int	ci_eq(const char *, size_t, const char *);
static void	add_mechs(struct caps *, const char *, size_t);
static void	parse_size(struct caps *, const char *, size_t);
static void	caps_line(struct caps *, const char *, size_t);

void
reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text);
}

void
reply_release(struct reply *r)
{
	buf_release(&r->text);
	r->code = 0;
	r->ecode[0] = '\0';
	r->nlines = 0;
}

void
reply_reset(struct reply *r)
{
	buf_reset(&r->text);
	r->code = 0;
	r->ecode[0] = '\0';
	r->nlines = 0;
}

/*
 * RFC 3463 "class.subject.detail" at the start of the first line's text:
 * class the same digit as the reply's (2, 4 or 5), subject and detail one
 * to three digits, then a space or the end.  Returns 1 when taken.
 */
static int
parse_ecode(struct reply *r, const char *t, size_t n)
{
	size_t	 i = 0, k, part;

	if (n < 5 || t[0] != '0' + r->code / 100 || t[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (k = 0; i < n && k < 4 && t[i] >= '0' && t[i] <= '9'; k++)
			i++;
		if (k == 0 || k > 3)
			return 0;
		if (part == 0) {
			if (i >= n || t[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && t[i] != ' ')
		return 0;
	if (i >= sizeof(r->ecode))
		return 0;
	memcpy(r->ecode, t, i);
	r->ecode[i] = '\0';
	return 1;
}

enum reply_state
reply_feed(struct reply *r, const char *line, size_t len, const char **why)
{
	const unsigned char	*u = (const unsigned char *)line;
	size_t			 i;
	int			 code, last;

	*why = NULL;
	if (len > REPLY_MAX_LINE) {
		*why = "reply line too long";
		return REPLY_BAD;
	}
	if (r->nlines >= REPLY_MAX_LINES) {
		*why = "too many reply lines";
		return REPLY_BAD;
	}
	if (len < 3) {
		*why = len == 0 ? "empty reply line" : "reply line too short";
		return REPLY_BAD;
	}
	for (i = 0; i < 3; i++)
		if (u[i] < '0' || u[i] > '9') {
			*why = "reply code is not three digits";
			return REPLY_BAD;
		}
	if (u[0] < '2' || u[0] > '5') {
		*why = "reply code out of range";
		return REPLY_BAD;
	}
	code = (u[0] - '0') * 100 + (u[1] - '0') * 10 + (u[2] - '0');
	if (r->nlines > 0 && code != r->code) {
		*why = "reply code changed between lines";
		return REPLY_BAD;
	}
	if (len == 3)
		last = 1;
	else if (u[3] == ' ')
		last = 1;
	else if (u[3] == '-')
		last = 0;
	else {
		*why = "bad separator after the reply code";
		return REPLY_BAD;
	}
	for (i = 4; i < len; i++)
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
			*why = u[i] == '\0' ? "NUL byte in reply" :
			    u[i] == '\r' ? "CR in reply" :
			    "control character in reply";
			return REPLY_BAD;
		}
	if (r->nlines == 0) {
		r->code = code;
		if (len > 4)
			(void)parse_ecode(r, line + 4, len - 4);
	} else
		buf_addch(&r->text, '\n');
	if (len > 4)
		buf_add(&r->text, line + 4, len - 4);
	else if (r->text.data == NULL)
		buf_add(&r->text, "", 0);
	r->nlines++;
	return last ? REPLY_DONE : REPLY_MORE;
}

void
reply_summary(const struct reply *r, struct buf *out)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*t;
	size_t			 i, start;

	if (r->code == 0)
		return;
	start = out->len;
	buf_addf(out, "%d", r->code);
	if (r->text.len > 0)
		buf_addch(out, ' ');
	t = (const unsigned char *)buf_str(&r->text);
	for (i = 0; i < r->text.len; i++) {
		if (out->len - start >= SUMMARY_MAX) {
			buf_addstr(out, "...");
			break;
		}
		if (t[i] == '\n')
			buf_addstr(out, "; ");
		else if (t[i] == '\t')
			buf_addch(out, ' ');
		else if (t[i] < 0x20 || t[i] >= 0x7f || t[i] == '\\') {
			buf_addch(out, '\\');
			buf_addch(out, 'x');
			buf_addch(out, hex[t[i] >> 4]);
			buf_addch(out, hex[t[i] & 0xf]);
		} else
			buf_addch(out, t[i]);
	}
}

/* Is the `n` bytes at `s` equal to the upper-case keyword `kw`? */
static int
ci_eq(const char *s, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(s, kw, n) == 0;
}

/* Add the space-separated mechanism names in s[0..n) to caps->auth, upper
 * case, each once, dropping names with characters SASL does not allow. */
static void
add_mechs(struct caps *c, const char *s, size_t n)
{
	char	 mech[64];
	size_t	 i = 0, k, have, mlen;
	int	 ok;
	const char *p;

	while (i < n) {
		while (i < n && s[i] == ' ')
			i++;
		for (k = i; k < n && s[k] != ' '; k++)
			;
		mlen = k - i;
		ok = mlen > 0 && mlen < sizeof(mech);
		for (p = s + i; ok && p < s + k; p++) {
			char	 ch = *p;

			if (ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 'a' + 'A');
			if (!((ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
				ok = 0;
			else
				mech[p - (s + i)] = ch;
		}
		i = k;
		if (!ok)
			continue;
		mech[mlen] = '\0';
		/* Already there? */
		have = strlen(c->auth);
		for (p = c->auth; *p != '\0'; p += *p == ' ') {
			size_t	 wl = strcspn(p, " ");

			if (wl == mlen && memcmp(p, mech, mlen) == 0)
				break;
			p += wl;
		}
		if (*p != '\0')
			continue;
		if (have + (have > 0) + mlen + 1 > sizeof(c->auth))
			continue;	/* bounded: drop what does not fit */
		if (have > 0)
			c->auth[have++] = ' ';
		memcpy(c->auth + have, mech, mlen + 1);
	}
}

/* "SIZE" [SP number]: digits only, no overflow; otherwise no known limit. */
static void
parse_size(struct caps *c, const char *s, size_t n)
{
	unsigned long long	 v = 0;
	size_t			 i;

	c->flags |= CAP_SIZE;
	c->size = 0;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n == 0 || n > 20)
		return;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return;
		if (v > (UINT64_MAX - (unsigned)(s[i] - '0')) / 10)
			return;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	c->size = v;
}

static void
caps_line(struct caps *c, const char *s, size_t n)
{
	size_t	 k;
	const char *arg;
	size_t	 alen;

	while (n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	for (k = 0; k < n && s[k] != ' ' && s[k] != '='; k++)
		;
	arg = s + k;
	alen = n - k;
	if (alen > 0) {
		arg++;
		alen--;
	}
	if (ci_eq(s, k, "PIPELINING"))
		c->flags |= CAP_PIPELINING;
	else if (ci_eq(s, k, "SIZE") && (k == n || s[k] == ' '))
		parse_size(c, arg, alen);
	else if (ci_eq(s, k, "8BITMIME"))
		c->flags |= CAP_8BITMIME;
	else if (ci_eq(s, k, "SMTPUTF8"))
		c->flags |= CAP_SMTPUTF8;
	else if (ci_eq(s, k, "STARTTLS"))
		c->flags |= CAP_STARTTLS;
	else if (ci_eq(s, k, "AUTH")) {
		/* "AUTH PLAIN LOGIN" and the old "AUTH=PLAIN LOGIN". */
		c->flags |= CAP_AUTH;
		add_mechs(c, arg, alen);
	} else if (ci_eq(s, k, "DSN"))
		c->flags |= CAP_DSN;
	else if (ci_eq(s, k, "CHUNKING"))
		c->flags |= CAP_CHUNKING;
	else if (ci_eq(s, k, "ENHANCEDSTATUSCODES"))
		c->flags |= CAP_ENHANCED;
	else if (ci_eq(s, k, "BINARYMIME"))
		c->flags |= CAP_BINARYMIME;
}

void
caps_parse(struct caps *c, const struct reply *r)
{
	const char	*t = buf_str(&r->text), *end = t + r->text.len, *nl;

	memset(c, 0, sizeof(*c));
	/* Skip the first line: the server's name and greeting text. */
	if ((nl = memchr(t, '\n', r->text.len)) == NULL)
		return;
	t = nl + 1;
	while (t < end) {
		nl = memchr(t, '\n', (size_t)(end - t));
		if (nl == NULL)
			nl = end;
		caps_line(c, t, (size_t)(nl - t));
		t = nl + 1;
	}
}
