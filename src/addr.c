#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "addr.h"
#include "xmalloc.h"

/*
 * The header parser is a small recursive-descent parser over tokens
 * (RFC 5322 3.2): comments and folding white space are skipped between
 * tokens, so every CFWS the grammar allows (and the obsolete forms of
 * section 4.4 allow more) comes for free.  Tokens remember their offsets
 * in the value, which is what `ends` reports.
 */

#define LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define PATH_MAX_OCTETS	254	/* 256 for the path minus the brackets */
#define SUBJECT_MAX	100	/* bytes of an address quoted in a message */

enum tok_type {
	T_END,
	T_ATOM,		/* 1*atext (UTF-8 bytes count as atext) */
	T_QSTR,		/* "..." including the quotes */
	T_DLIT,		/* [...] including the brackets */
	T_SPECIAL	/* one of < > : ; @ , . */
};

struct tok {
	enum tok_type	 type;
	int		 ch;		/* for T_SPECIAL */
	size_t		 start;		/* offsets into the value */
	size_t		 end;
};

struct parser {
	const char	*s;
	size_t		 pos;		/* where the next token starts */
	struct tok	 t;		/* the current token */
	struct buf	*err;
	struct strlist	*out;
	size_t		*ends;
	size_t		 nends;
	size_t		 capends;
	int		 in_group;
	struct buf	 pending;	/* the mailbox just read, not yet added */
	size_t		 pending_end;
	int		 have_pending;
};

static int	is_atext(unsigned char);
static int	is_ctl(unsigned char);
static int	skip_cfws(struct parser *);
static int	lex(struct parser *);
static int	is_word(const struct tok *);
static int	is_special(const struct tok *, int);
static void	unexpected(struct parser *);
static void	add_qcontent(struct buf *, const char *, size_t, size_t);
static void	add_dlit(struct buf *, const char *, size_t, size_t);
static int	parse_domain(struct parser *, struct buf *, size_t *);
static int	parse_addr_spec(struct parser *);
static int	parse_angle(struct parser *);
static int	parse_address(struct parser *);
static int	parse_group(struct parser *);
static void	commit(struct parser *);
static int	check_envelope(const char *, int, const char *, int,
		    struct buf *);
static const char *domain_sep(const char *);

/* atext (RFC 5322 3.2.3), plus every byte >= 0x80 (RFC 6532 3.2). */
static int
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Control characters never go out raw: the message may reach a
 * terminal or a log. */
void
addr_quote(struct buf *b, const char *s)
{
	size_t	 i;

	buf_addch(b, '\'');
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (i == SUBJECT_MAX) {
			buf_addstr(b, "...");
			break;
		}
		if (c == '\r')
			buf_addstr(b, "\\r");
		else if (c == '\n')
			buf_addstr(b, "\\n");
		else if (c == '\t')
			buf_addstr(b, "\\t");
		else if (is_ctl(c))
			buf_addf(b, "\\x%02x", c);
		else
			buf_addch(b, c);
	}
	buf_addch(b, '\'');
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

/* Skip white space (CR and LF count: the value may still be folded) and
 * comments, which nest and may hold quoted-pairs. */
static int
skip_cfws(struct parser *p)
{
	const char	*s = p->s;
	int		 depth;

	for (;;) {
		while (s[p->pos] == ' ' || s[p->pos] == '\t' ||
		    s[p->pos] == '\r' || s[p->pos] == '\n')
			p->pos++;
		if (s[p->pos] != '(')
			return 0;
		depth = 0;
		do {
			switch (s[p->pos]) {
			case '\0':
				buf_addstr(p->err, "unterminated comment");
				return -1;
			case '(':
				depth++;
				break;
			case ')':
				depth--;
				break;
			case '\\':
				if (s[p->pos + 1] != '\0')
					p->pos++;
				break;
			}
			p->pos++;
		} while (depth > 0);
	}
}

static int
lex(struct parser *p)
{
	const char	*s = p->s;
	size_t		 i;
	unsigned char	 c;

	if (skip_cfws(p) == -1)
		return -1;
	i = p->pos;
	c = (unsigned char)s[i];
	p->t.start = i;
	p->t.ch = 0;
	if (c == '\0') {
		p->t.type = T_END;
	} else if (c == '"' || c == '[') {
		int	 close = c == '"' ? '"' : ']';

		p->t.type = c == '"' ? T_QSTR : T_DLIT;
		for (i++; s[i] != close; i++) {
			c = (unsigned char)s[i];
			if (c == '\0' || (c == '\\' && s[i + 1] == '\0')) {
				buf_addstr(p->err, close == '"' ?
				    "unterminated quoted string" :
				    "unterminated domain literal");
				return -1;
			}
			if (c == '\\') {
				/* obs-qp may quote CR, LF, NUL: never. */
				c = (unsigned char)s[++i];
				if (is_ctl(c) && c != '\t') {
					buf_addstr(p->err, "control character "
					    "in address");
					return -1;
				}
			} else if (close == ']' && c == '[') {
				buf_addstr(p->err, "'[' inside a domain "
				    "literal");
				return -1;
			}
			if (is_ctl(c) && c != '\t' && c != '\r' &&
			    c != '\n') {
				buf_addstr(p->err, "control character in "
				    "address");
				return -1;
			}
		}
		i++;
	} else if (strchr("<>:;@,.", c) != NULL) {
		p->t.type = T_SPECIAL;
		p->t.ch = c;
		i++;
	} else if (is_atext(c)) {
		p->t.type = T_ATOM;
		while (is_atext((unsigned char)s[i]))
			i++;
	} else {
		if (is_ctl(c))
			buf_addstr(p->err, "control character in address");
		else
			buf_addf(p->err, "unexpected '%c'", c);
		return -1;
	}
	p->t.end = i;
	p->pos = i;
	return 0;
}

static int
is_word(const struct tok *t)
{
	return t->type == T_ATOM || t->type == T_QSTR;
}

static int
is_special(const struct tok *t, int ch)
{
	return t->type == T_SPECIAL && t->ch == ch;
}

/* The error for a token that does not fit where it stands. */
static void
unexpected(struct parser *p)
{
	struct buf	 text = BUF_INIT;

	if (p->t.type == T_END) {
		buf_addstr(p->err, "unexpected end of address list");
		return;
	}
	buf_add(&text, p->s + p->t.start, p->t.end - p->t.start);
	buf_addstr(p->err, "unexpected ");
	addr_quote(p->err, buf_str(&text));
	buf_release(&text);
}

/* ------------------------------------------------------------------ */
/* Canonical text                                                      */

/*
 * Append the content of a quoted string (s[from, to), quotes excluded)
 * in canonical form: folding line breaks go, and a quoted-pair keeps its
 * backslash only where one is needed ('"' and '\').
 */
static void
add_qcontent(struct buf *b, const char *s, size_t from, size_t to)
{
	size_t	 i;

	for (i = from; i < to; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '\\' && i + 1 < to) {
			i++;
			if (s[i] == '"' || s[i] == '\\')
				buf_addch(b, '\\');
		}
		buf_addch(b, s[i]);
	}
}

/* A domain literal without its white space. */
static void
add_dlit(struct buf *b, const char *s, size_t from, size_t to)
{
	size_t	 i;

	for (i = from; i < to; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n')
			continue;
		if (s[i] == '\\' && i + 1 < to)
			buf_addch(b, s[i++]);
		buf_addch(b, s[i]);
	}
}

/* ------------------------------------------------------------------ */
/* Grammar                                                             */

/* domain = dot-atom / domain-literal / obs-domain; appended to `b`.
 * The current token is the first one after the '@'. */
static int
parse_domain(struct parser *p, struct buf *b, size_t *end)
{
	if (p->t.type == T_DLIT) {
		add_dlit(b, p->s, p->t.start, p->t.end);
		*end = p->t.end;
		return lex(p);
	}
	if (p->t.type != T_ATOM) {
		buf_addstr(p->err, "missing domain after '@'");
		return -1;
	}
	for (;;) {
		buf_add(b, p->s + p->t.start, p->t.end - p->t.start);
		*end = p->t.end;
		if (lex(p) == -1)
			return -1;
		if (!is_special(&p->t, '.'))
			return 0;
		buf_addch(b, '.');
		if (lex(p) == -1)
			return -1;
		if (p->t.type != T_ATOM) {
			buf_addstr(p->err, "malformed domain");
			return -1;
		}
	}
}

/*
 * addr-spec, or a bare local name (no '@': the caller qualifies it).
 * The local part is words and dots; the obsolete forms (CFWS between
 * them, and leniently stray dots as some old systems wrote them) are
 * accepted.  A local part of one quoted string stays quoted; one that
 * mixes quoted strings and atoms becomes a single quoted string, the
 * only form SMTP knows.
 */
static int
parse_addr_spec(struct parser *p)
{
	struct buf	 local = BUF_INIT, spec = BUF_INIT;
	size_t		 end = 0, nwords = 0;
	int		 quoted = 0, prev_word = 0, r = -1;
	size_t		 first = p->t.start;

	while (is_word(&p->t) || is_special(&p->t, '.')) {
		if (is_word(&p->t)) {
			if (prev_word) {
				/* "John Doe" with no '<' after it */
				unexpected(p);
				goto out;
			}
			nwords++;
			if (p->t.type == T_QSTR)
				quoted = 1;
		}
		prev_word = is_word(&p->t);
		end = p->t.end;
		if (lex(p) == -1)
			goto out;
	}
	if (nwords == 0) {
		if (is_special(&p->t, '@'))
			buf_addstr(p->err, "missing local part before '@'");
		else
			unexpected(p);
		goto out;
	}

	/* Render the local part from s[first, end). */
	{
		struct parser	 q;
		struct buf	 scratch = BUF_INIT;
		int		 single = quoted && nwords == 1;

		q = *p;
		q.pos = first;
		q.err = &scratch;	/* cannot fail: lexed once already */
		if (quoted && !single)
			buf_addch(&local, '"');
		while (lex(&q) == 0 && q.t.start < end) {
			if (q.t.type == T_QSTR) {
				if (single)
					buf_addch(&local, '"');
				add_qcontent(&local, q.s, q.t.start + 1,
				    q.t.end - 1);
				if (single)
					buf_addch(&local, '"');
			} else if (quoted && !single) {
				/* an atom or dot inside the new quotes */
				add_qcontent(&local, q.s, q.t.start, q.t.end);
			} else
				buf_add(&local, q.s + q.t.start,
				    q.t.end - q.t.start);
		}
		if (quoted && !single)
			buf_addch(&local, '"');
		buf_release(&scratch);
	}

	buf_add(&spec, local.data, local.len);
	if (is_special(&p->t, '@')) {
		buf_addch(&spec, '@');
		if (lex(p) == -1 || parse_domain(p, &spec, &end) == -1)
			goto out;
	}

	buf_reset(&p->pending);
	buf_add(&p->pending, spec.data, spec.len);
	p->pending_end = end;
	p->have_pending = 1;
	r = 0;
out:
	buf_release(&local);
	buf_release(&spec);
	return r;
}

/*
 * angle-addr / obs-angle-addr: "<" [obs-route] addr-spec ">".  The route
 * ("@a,@b:") is read and dropped, as RFC 5321 C says receivers should.
 * The current token is '<'.
 */
static int
parse_angle(struct parser *p)
{
	struct buf	 discard = BUF_INIT;
	size_t		 end;
	int		 r = -1;

	if (lex(p) == -1)
		goto out;
	if (is_special(&p->t, '>')) {
		buf_addstr(p->err, "empty address '<>'");
		goto out;
	}
	if (is_special(&p->t, '@') || is_special(&p->t, ',')) {
		for (;;) {
			while (is_special(&p->t, ','))
				if (lex(p) == -1)
					goto out;
			if (!is_special(&p->t, '@')) {
				buf_addstr(p->err, "malformed route");
				goto out;
			}
			if (lex(p) == -1 ||
			    parse_domain(p, &discard, &end) == -1)
				goto out;
			if (is_special(&p->t, ':'))
				break;
			if (!is_special(&p->t, ',')) {
				buf_addstr(p->err, "malformed route");
				goto out;
			}
		}
		if (lex(p) == -1)
			goto out;
	}
	if (parse_addr_spec(p) == -1)
		goto out;
	if (!is_special(&p->t, '>')) {
		if (p->t.type == T_END || is_special(&p->t, ','))
			buf_addstr(p->err, "missing '>'");
		else
			unexpected(p);
		goto out;
	}
	r = lex(p);
out:
	buf_release(&discard);
	return r;
}

/*
 * address = mailbox / group.  A display name (words and, in the obsolete
 * syntax, dots) decides between them by what follows it: ':' opens a
 * group, '<' an angle-addr; anything else means there was no display
 * name, so go back and read an addr-spec.
 */
static int
parse_address(struct parser *p)
{
	struct parser	 saved = *p;
	size_t		 nwords = 0;

	while (is_word(&p->t) || is_special(&p->t, '.')) {
		nwords++;
		if (lex(p) == -1)
			return -1;
	}
	if (is_special(&p->t, '<'))
		return parse_angle(p);
	if (is_special(&p->t, ':')) {
		if (p->in_group) {
			buf_addstr(p->err, "group inside a group");
			return -1;
		}
		return parse_group(p);
	}
	/* Rewind: the words were the addr-spec (or there are none, and
	 * parse_addr_spec() says what is wrong). */
	p->pos = saved.pos;
	p->t = saved.t;
	return parse_addr_spec(p);
}

/* Add the mailbox just read: it is followed by what may follow it. */
static void
commit(struct parser *p)
{
	if (!p->have_pending)
		return;
	strlist_add(p->out, buf_str(&p->pending));
	if (p->nends == p->capends) {
		p->capends = p->capends == 0 ? 8 : p->capends * 2;
		p->ends = xreallocarray(p->ends, p->capends,
		    sizeof(*p->ends));
	}
	p->ends[p->nends++] = p->pending_end;
	p->have_pending = 0;
}

/* group = display-name ":" [group-list] ";".  The current token is ':'.
 * A group left open at the end of the value is accepted. */
static int
parse_group(struct parser *p)
{
	p->in_group = 1;
	if (lex(p) == -1)
		return -1;
	for (;;) {
		if (p->t.type == T_END)
			break;
		if (is_special(&p->t, ';')) {
			if (lex(p) == -1)
				return -1;
			break;
		}
		if (is_special(&p->t, ',')) {
			if (lex(p) == -1)
				return -1;
			continue;
		}
		if (parse_address(p) == -1)
			return -1;
		if (!is_special(&p->t, ',') && !is_special(&p->t, ';') &&
		    p->t.type != T_END) {
			unexpected(p);
			return -1;
		}
		commit(p);
	}
	p->in_group = 0;
	return 0;
}

int
addr_parse_list(const char *value, struct strlist *out, size_t **ends,
    struct buf *err)
{
	struct parser	 p;
	int		 r = -1;

	memset(&p, 0, sizeof(p));
	p.s = value;
	p.err = err;
	p.out = out;

	if (lex(&p) == -1)
		goto out;
	for (;;) {
		if (p.t.type == T_END)
			break;
		if (is_special(&p.t, ',')) {
			/* obs-addr-list: empty elements */
			if (lex(&p) == -1)
				goto out;
			continue;
		}
		if (parse_address(&p) == -1)
			goto out;
		if (p.t.type != T_END && !is_special(&p.t, ',')) {
			unexpected(&p);
			goto out;
		}
		commit(&p);
	}
	r = 0;
out:
	buf_release(&p.pending);
	if (ends != NULL) {
		if (p.ends == NULL)
			p.ends = xmalloc(sizeof(*p.ends));
		*ends = p.ends;
	} else
		free(p.ends);
	return r;
}

/* ------------------------------------------------------------------ */
/* Envelope addresses                                                  */

/*
 * The checks behind addr_check_envelope(); `noun` names the address in
 * messages ("address", "sender", "recipient").
 */
static int
check_envelope(const char *addr, int allow_empty, const char *noun,
    int quoted_ws, struct buf *err)
{
	const char	*at = NULL;
	size_t		 i, len, local;
	int		 inq = 0, nat = 0, q = 0;

	if (addr[0] == '\0' || (allow_empty && strcmp(addr, "<>") == 0)) {
		if (allow_empty)
			return 0;
		buf_addf(err, "empty %s", noun);
		return -1;
	}
	if (addr[0] == '-') {
		buf_addf(err, "%s ", noun);
		addr_quote(err, addr);
		buf_addstr(err, " starts with '-'");
		return -1;
	}
	for (i = 0; addr[i] != '\0'; i++) {
		unsigned char	 c = (unsigned char)addr[i];
		const char	*why = NULL;

		if (c == '"' && (i == 0 || addr[i - 1] != '\\'))
			q = !q;
		if ((c == ' ' || c == '\t') && !(quoted_ws && q))
			why = "contains white space";
		else if (c == '\r' || c == '\n')
			why = "contains a line break";
		else if (is_ctl(c))
			why = "contains a control character";
		else if (c == '<' || c == '>')
			why = "contains '<' or '>'";
		if (why != NULL) {
			buf_addf(err, "%s ", noun);
			addr_quote(err, addr);
			buf_addf(err, " %s", why);
			return -1;
		}
	}
	for (i = 0; addr[i] != '\0'; i++) {
		if (inq && addr[i] == '\\' && addr[i + 1] != '\0')
			i++;
		else if (addr[i] == '"')
			inq = !inq;
		else if (!inq && addr[i] == '@') {
			nat++;
			at = addr + i;
		}
	}
	len = i;
	if (inq) {
		buf_addf(err, "%s ", noun);
		addr_quote(err, addr);
		buf_addstr(err, " has an unterminated quote");
		return -1;
	}
	if (nat > 1) {
		buf_addf(err, "%s ", noun);
		addr_quote(err, addr);
		buf_addstr(err, " contains more than one '@'");
		return -1;
	}
	local = at == NULL ? len : (size_t)(at - addr);
	if (at != NULL && local == 0) {
		buf_addf(err, "%s ", noun);
		addr_quote(err, addr);
		buf_addstr(err, " has an empty local part");
		return -1;
	}
	if (at != NULL && at[1] == '\0') {
		buf_addf(err, "%s ", noun);
		addr_quote(err, addr);
		buf_addstr(err, " has an empty domain");
		return -1;
	}
	if (local > LOCAL_MAX) {
		buf_addf(err, "%s ", noun);
		addr_quote(err, addr);
		buf_addf(err, " has a local part longer than %d octets",
		    LOCAL_MAX);
		return -1;
	}
	if (len > PATH_MAX_OCTETS) {
		buf_addf(err, "%s ", noun);
		addr_quote(err, addr);
		buf_addf(err, " is longer than %d octets", PATH_MAX_OCTETS);
		return -1;
	}
	return 0;
}

int
addr_check_envelope(const char *addr, int allow_empty, struct buf *err)
{
	return check_envelope(addr, allow_empty,
	    allow_empty ? "sender" : "address", 0, err);
}

int
addr_check_parsed(const char *addr, struct buf *err)
{
	return check_envelope(addr, 0, "address", 1, err);
}

int
addr_split_arg(const char *arg, struct strlist *out, struct buf *err)
{
	const char	*item, *p, *e, *lt, *gt;
	char		*a;
	int		 inq, depth, r;

	/*
	 * A line break or control byte anywhere in the argument is refused
	 * before splitting: a display name must not be a place to hide
	 * "\r\nRCPT TO:<...>".
	 */
	for (p = arg; *p != '\0'; p++)
		if (is_ctl((unsigned char)*p) && *p != '\t')
			return check_envelope(arg, 0, "recipient", 0, err);

	for (item = arg; *item != '\0'; item = *e == ',' ? e + 1 : e) {
		/* Find the end of the item: a ',' outside "" and <>. */
		inq = depth = 0;
		lt = gt = NULL;
		for (e = item; *e != '\0'; e++) {
			if (inq) {
				if (*e == '\\' && e[1] != '\0')
					e++;
				else if (*e == '"')
					inq = 0;
			} else if (*e == '"')
				inq = 1;
			else if (*e == '<') {
				if (depth++ == 0 && lt == NULL)
					lt = e;
			} else if (*e == '>') {
				if (depth > 0 && --depth == 0)
					gt = e;
			} else if (*e == ',' && depth == 0)
				break;
		}
		/* Trim blanks (not line breaks: the check rejects those). */
		for (p = item; p < e && (*p == ' ' || *p == '\t'); p++)
			;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (p == e) {
			while (*e == ' ' || *e == '\t')
				e++;
			continue;
		}
		/* "Name <addr>": keep addr, when the '>' ends the item. */
		if (lt != NULL && gt != NULL && gt == e - 1 && lt >= p)
			a = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		else
			a = xstrndup(p, (size_t)(e - p));
		r = check_envelope(a, 0, "recipient", 0, err);
		if (r == 0)
			strlist_add(out, a);
		free(a);
		if (r == -1)
			return -1;
		/* Back to the separator (trimming moved e). */
		while (*e != '\0' && *e != ',')
			e++;
	}
	return 0;
}

/* The unquoted '@' that starts the domain, or NULL. */
static const char *
domain_sep(const char *addr)
{
	const char	*at = NULL;
	int		 inq = 0;
	size_t		 i;

	for (i = 0; addr[i] != '\0'; i++) {
		if (inq && addr[i] == '\\' && addr[i + 1] != '\0')
			i++;
		else if (addr[i] == '"')
			inq = !inq;
		else if (!inq && addr[i] == '@')
			at = addr + i;
	}
	return at;
}

int
addr_is_local(const char *addr)
{
	return domain_sep(addr) == NULL;
}

char *
addr_qualify(const char *addr, const char *domain)
{
	struct buf	 b = BUF_INIT;

	if (addr[0] == '\0' || domain == NULL || domain[0] == '\0' ||
	    !addr_is_local(addr))
		return xstrdup(addr);
	buf_addf(&b, "%s@%s", addr, domain);
	return buf_detach(&b);
}

int
addr_needs_utf8(const char *addr)
{
	for (; *addr != '\0'; addr++)
		if ((unsigned char)*addr >= 0x80)
			return 1;
	return 0;
}

char *
addr_envelope_form(const char *addr, struct buf *err)
{
	const char	*at;
	char		*ace = NULL, *local, *r;
	struct buf	 b = BUF_INIT;
	int		 rc;

	at = domain_sep(addr);
	if (at == NULL || at[1] == '[' || !addr_needs_utf8(at + 1))
		return xstrdup(addr);
	local = xstrndup(addr, (size_t)(at - addr));
	if (addr_needs_utf8(local)) {
		/* SMTPUTF8 is needed anyway: keep the address as written. */
		free(local);
		return xstrdup(addr);
	}

	/* IDNA2008 with UTS #46 mapping; like curl, fall back to
	 * transitional processing for names only IDNA2003 allowed. */
	rc = idn2_to_ascii_8z(at + 1, &ace,
	    IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc == IDN2_DISALLOWED)
		rc = idn2_to_ascii_8z(at + 1, &ace,
		    IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
	if (rc != IDN2_OK) {
		buf_addstr(err, "cannot convert domain ");
		addr_quote(err, at + 1);
		buf_addf(err, " to ASCII: %s", idn2_strerror(rc));
		free(local);
		return NULL;
	}
	buf_addf(&b, "%s@%s", local, ace);
	idn2_free(ace);
	free(local);
	r = buf_detach(&b);
	return r;
}
