#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "canon.h"
#include "conf.h"
#include "envelope.h"
#include "exitcode.h"
#include "header.h"
#include "message.h"
#include "strlist.h"
#include "util.h"
#include "xmalloc.h"

#define HDR_MAX		(4 * 1024 * 1024)	/* bound on the header section */
#define CHUNK		(64 * 1024)		/* read and write size */

/*
 * Where the header section of the (canonical) input ends, found while
 * the input arrives.
 */
struct hscan {
	size_t	 scan;		/* start of the next line to look at */
	size_t	 skip;		/* bytes of a leading mbox "From " line */
	int	 have_field;	/* a field line has been seen */
	int	 found;
	size_t	 hdr_end;	/* end of the header fields */
	size_t	 body_start;	/* where the body starts (past an empty line) */
};

/* Fields whose bare local names get qualified. */
static const char *const qualified_fields[] = {
	"From", "Sender", "Reply-To", "To", "Cc",
	"Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc", NULL
};
static const char *const resent_fields[] = {
	"Resent-From", "Resent-Date", "Resent-To", "Resent-Cc", "Resent-Bcc",
	"Resent-Message-ID", "Resent-Sender", NULL
};
static const char *const rcpt_fields[] = { "To", "Cc", "Bcc", NULL };
static const char *const resent_rcpt_fields[] = {
	"Resent-To", "Resent-Cc", "Resent-Bcc", NULL
};

static int	 fail(int *, int, struct buf *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	 in_set(const char *, const char *const *);
static int	 has_8bit(const char *, size_t);
static int	 is_wsp(int);
static int	 read_some(int, char *, size_t, size_t *, int *, struct buf *);
static int	 spool_out(struct message *, struct buf *, int *, struct buf *);
static void	 scan_header(struct hscan *, const struct buf *, int);
static int	 collect_rcpts(const struct hdrlist *, const struct msg_opts *,
		    struct strlist *, int *, struct buf *);
static int	 line_mode(const struct buf *, size_t *, int,
		    enum canon_mode *);
static int	 feed(struct canon *, const char *, size_t, struct buf *,
		    int *, struct buf *);
static void	 qualify_field(struct hdrlist *, size_t, const char *);
static const char *default_domain(const struct msg_opts *);
static void	 add_phrase(struct buf *, const char *);
static void	 from_value(const struct msg_opts *, struct buf *);
static void	 date_value(struct buf *);
static void	 msgid_value(const struct msg_opts *, struct buf *);
static int	 rewrite_headers(struct hdrlist *, const struct msg_opts *,
		    struct message *, int *, struct buf *);

static int
fail(int *le, int code, struct buf *err, const char *fmt, ...)
{
	va_list	 ap;

	*le = code;
	va_start(ap, fmt);
	buf_vaddf(err, fmt, ap);
	va_end(ap);
	return -1;
}

static int
in_set(const char *name, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcasecmp(name, *set) == 0)
			return 1;
	return 0;
}

static int
has_8bit(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

void
message_init(struct message *m)
{
	memset(m, 0, sizeof(*m));
	spool_init(&m->spool);
	strlist_init(&m->hdr_rcpts);
}

void
message_release(struct message *m)
{
	spool_release(&m->spool);
	strlist_release(&m->hdr_rcpts);
	free(m->hdr_from);
	message_init(m);
}

/*
 * Read up to `n` bytes; *got is 0 at end of input.  EINTR is retried and
 * a non-blocking descriptor is waited for, so the caller sees only data,
 * end of input or a real error.
 */
static int
read_some(int fd, char *p, size_t n, size_t *got, int *le, struct buf *err)
{
	struct pollfd	 pfd;
	ssize_t		 r;

	for (;;) {
		r = read(fd, p, n);
		if (r >= 0) {
			*got = (size_t)r;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, -1);
			continue;
		}
		return fail(le, LE_LOCALIO, err, "cannot read the message: %s",
		    strerror(errno));
	}
}

/* Append `out` to the spool and empty it. */
static int
spool_out(struct message *m, struct buf *out, int *le, struct buf *err)
{
	enum local_err	 e = LE_NONE;

	if (out->len > 0 && spool_write(&m->spool, out->data, out->len, &e,
	    err) == -1) {
		*le = e;
		return -1;
	}
	buf_reset(out);
	return 0;
}

/*
 * Look for the end of the header section in the canonical (CRLF-only)
 * bytes of `hb` that arrived so far.  The section ends at an empty line
 * (dropped; the body starts after it) or at the first line that is
 * neither a field nor the continuation of one (it starts the body).  A
 * first line "From ..." that is not a field is an mbox separator and
 * is skipped.  At `eof` every byte has arrived and a section that never
 * ended is the whole input.
 */
static void
scan_header(struct hscan *s, const struct buf *hb, int eof)
{
	const char	*l, *nl;
	size_t		 rest, n;

	while (!s->found && s->scan < hb->len) {
		l = hb->data + s->scan;
		rest = hb->len - s->scan;
		if ((nl = memchr(l, '\n', rest)) == NULL) {
			/* A partial line: is it already plainly not a field? */
			if (s->scan == 0 && (rest < 5 ||
			    memcmp(l, "From ", 5) == 0))
				break;
			if (is_wsp((unsigned char)l[0]) ? !s->have_field :
			    hdr_field_prefix(l, rest) == 0) {
				s->found = 1;
				s->hdr_end = s->body_start = s->scan;
			}
			break;
		}
		/* Canonical input: every LF has its CR. */
		n = nl > l ? (size_t)(nl - l) - 1 : 0;
		if (n == 0) {
			s->found = 1;
			s->hdr_end = s->scan;
			s->body_start = s->scan + 2;
			break;
		}
		if (s->scan == 0 && n >= 5 && memcmp(l, "From ", 5) == 0 &&
		    !hdr_is_field_start(l, n)) {
			s->skip = n + 2;
		} else if (is_wsp((unsigned char)l[0]) ? !s->have_field :
		    !hdr_is_field_start(l, n)) {
			s->found = 1;
			s->hdr_end = s->body_start = s->scan;
			break;
		} else
			s->have_field = 1;
		s->scan += n + 2;
	}
	if (!s->found && eof) {
		s->found = 1;
		s->hdr_end = s->body_start = hb->len;
	}
}

/*
 * With -t: the recipients of To/Cc/Bcc, or of Resent-To/Cc/Bcc when the
 * message has any Resent- field, in the order the fields appear, aliases
 * applied, bare names qualified, duplicates dropped.
 */
static int
collect_rcpts(const struct hdrlist *h, const struct msg_opts *o,
    struct strlist *out, int *le, struct buf *err)
{
	const char *const *set = rcpt_fields;
	struct strlist	 addrs = STRLIST_INIT, exp = STRLIST_INIT;
	struct buf	 v = BUF_INIT, e = BUF_INIT;
	size_t		 i, j;
	char		*q;
	int		 rc = 0;

	for (i = 0; i < h->n; i++)
		if (in_set(h->f[i].name, resent_fields))
			set = resent_rcpt_fields;
	for (i = 0; i < h->n && rc == 0; i++) {
		if (!in_set(h->f[i].name, set))
			continue;
		hdr_value(&h->f[i], &v);
		if (addr_parse_list(buf_str(&v), &addrs, NULL, &e) == -1) {
			rc = fail(le, LE_DATAERR, err,
			    "malformed address list in the %s header: %s",
			    h->f[i].name, buf_str(&e));
			break;
		}
	}
	for (i = 0; i < addrs.n && rc == 0; i++) {
		if (o->aliases != NULL)
			aliases_expand(o->aliases, addrs.v[i], &exp);
		else
			strlist_add(&exp, addrs.v[i]);
	}
	for (j = 0; j < exp.n && rc == 0; j++) {
		if (o->qualify_domain != NULL) {
			q = addr_qualify(exp.v[j], o->qualify_domain);
			strlist_add_unique(out, q);
			free(q);
		} else
			strlist_add_unique(out, exp.v[j]);
	}
	strlist_release(&addrs);
	strlist_release(&exp);
	buf_release(&v);
	buf_release(&e);
	return rc;
}

/*
 * Insert "@domain" after every bare local name in field `i`, in the raw
 * bytes, so its folding and everything else stay as they were.  A field
 * that does not parse, or has no bare name, is left byte-identical.
 */
static void
qualify_field(struct hdrlist *h, size_t i, const char *domain)
{
	struct strlist	 addrs = STRLIST_INIT;
	struct buf	 v = BUF_INIT, e = BUF_INIT, raw = BUF_INIT;
	const char	*old = h->f[i].raw;
	size_t		*map = NULL, *ends = NULL, j, at, from = 0;
	int		 changed = 0;

	hdr_value_map(&h->f[i], &v, &map);
	if (addr_parse_list(buf_str(&v), &addrs, &ends, &e) == 0) {
		for (j = 0; j < addrs.n; j++) {
			if (!addr_is_local(addrs.v[j]) ||
			    addrs.v[j][0] == '\0' || ends[j] == 0 ||
			    ends[j] > v.len)
				continue;
			at = map[ends[j] - 1] + 1;
			if (at < from)
				continue;	/* offsets out of order */
			buf_add(&raw, old + from, at - from);
			buf_addf(&raw, "@%s", domain);
			from = at;
			changed = 1;
		}
	}
	if (changed) {
		buf_addstr(&raw, old + from);
		hdr_set_raw(h, i, buf_detach(&raw));
	}
	strlist_release(&addrs);
	free(ends);
	free(map);
	buf_release(&v);
	buf_release(&e);
	buf_release(&raw);
}

static const char *
default_domain(const struct msg_opts *o)
{
	if (o->qualify_domain != NULL && *o->qualify_domain != '\0')
		return o->qualify_domain;
	return local_fqdn();
}

/* A display name: as it is when it is plain words, else a quoted-string.
 * CR, LF and other controls never get into the header. */
static void
add_phrase(struct buf *out, const char *name)
{
	const char	*p;
	int		 quote = 0;

	for (p = name; *p != '\0'; p++)
		if (strchr("()<>[]:;@\\,.\"", *p) != NULL ||
		    (unsigned char)*p < 0x20 || *p == 0x7f)
			quote = 1;
	if (!quote) {
		buf_addstr(out, name);
		return;
	}
	buf_addch(out, '"');
	for (p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_addch(out, '\\');
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			buf_addch(out, ' ');
		else
			buf_addch(out, *p);
	}
	buf_addch(out, '"');
}

/* "Full Name <sender>" or "sender"; the null sender shows the user. */
static void
from_value(const struct msg_opts *o, struct buf *out)
{
	struct buf	 addr = BUF_INIT;
	const char	*dom;
	char		*q;

	if (o->env_from == NULL || *o->env_from == '\0') {
		buf_addstr(&addr, login_name());
		if ((dom = default_domain(o)) != NULL)
			buf_addf(&addr, "@%s", dom);
	} else if ((dom = default_domain(o)) != NULL) {
		q = addr_qualify(o->env_from, dom);
		buf_addstr(&addr, q);
		free(q);
	} else
		buf_addstr(&addr, o->env_from);
	if (o->full_name != NULL && *o->full_name != '\0') {
		add_phrase(out, o->full_name);
		buf_addf(out, " <%s>", buf_str(&addr));
	} else
		buf_addstr(out, buf_str(&addr));
	buf_release(&addr);
}

/* RFC 5322 3.3, local time with its numeric zone. */
static void
date_value(struct buf *out)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	 tm;
	time_t		 now = time(NULL);
	long		 off;
	char		 sign = '+';

	localtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	buf_addf(out, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    sign, off / 60, off % 60);
}

/* "<YYYYMMDDhhmmss.RANDOM@domain>", the time in UTC. */
static void
msgid_value(const struct msg_opts *o, struct buf *out)
{
	unsigned char	 rnd[12];
	struct tm	 tm;
	time_t		 now = time(NULL);
	const char	*dom;
	size_t		 i;

	arc4random_buf(rnd, sizeof(rnd));
	dom = o->msgid_domain != NULL && *o->msgid_domain != '\0' ?
	    o->msgid_domain : default_domain(o);
	if (dom == NULL)
		dom = "localhost";
	gmtime_r(&now, &tm);
	buf_addf(out, "<%04d%02d%02d%02d%02d%02d.", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	for (i = 0; i < sizeof(rnd); i++)
		buf_addf(out, "%02x", rnd[i]);
	buf_addf(out, "@%s>", dom);
}

/* The header work, on the parsed fields, in msmtp's order of ideas. */
static int
rewrite_headers(struct hdrlist *h, const struct msg_opts *o,
    struct message *m, int *le, struct buf *err)
{
	struct strlist	 addrs = STRLIST_INIT;
	struct buf	 v = BUF_INIT, e = BUF_INIT;
	const struct hdr_field *f;
	size_t		 i;
	int		 rc = 0;

	/* -t reads the recipients before anything is removed. */
	if (o->extract && collect_rcpts(h, o, &m->hdr_rcpts, le, err) == -1)
		return -1;

	if (o->qualify_domain != NULL && *o->qualify_domain != '\0')
		for (i = 0; i < h->n; i++)
			if (in_set(h->f[i].name, qualified_fields))
				qualify_field(h, i, o->qualify_domain);

	hdr_remove(h, "Bcc");
	hdr_remove(h, "Resent-Bcc");

	if (o->undisclosed) {
		hdr_remove(h, "To");
		hdr_remove(h, "Cc");
		hdr_append(h, "To", "undisclosed-recipients:;");
	}

	if (o->set_from == HDR_ON ||
	    (o->set_from == HDR_AUTO && hdr_count(h, "From") == 0)) {
		from_value(o, &v);
		for (i = 0; i < h->n; i++)
			if (strcasecmp(h->f[i].name, "From") == 0)
				break;
		if (i < h->n) {
			/* Replace the first in place, drop the others. */
			hdr_set(h, i, buf_str(&v));
			for (i++; i < h->n; )
				if (strcasecmp(h->f[i].name, "From") == 0)
					hdr_delete(h, i);
				else
					i++;
		} else
			hdr_append(h, "From", buf_str(&v));
		buf_reset(&v);
	}

	if (o->set_date != HDR_OFF && hdr_count(h, "Date") == 0) {
		date_value(&v);
		hdr_append(h, "Date", buf_str(&v));
		buf_reset(&v);
	}

	if (o->set_msgid != HDR_OFF && hdr_count(h, "Message-ID") == 0) {
		msgid_value(o, &v);
		hdr_append(h, "Message-ID", buf_str(&v));
		buf_reset(&v);
	}

	if (rc == 0 && o->set_to == HDR_ON && hdr_count(h, "To") == 0 &&
	    hdr_count(h, "Cc") == 0)
		hdr_append(h, "To", "undisclosed-recipients:;");

	if (rc == 0 && (f = hdr_get(h, "From", 0)) != NULL) {
		hdr_value(f, &v);
		if (addr_parse_list(buf_str(&v), &addrs, NULL, &e) == 0 &&
		    addrs.n > 0)
			m->hdr_from = xstrdup(addrs.v[0]);
	}
	strlist_release(&addrs);
	buf_release(&v);
	buf_release(&e);
	return rc;
}

/*
 * Which line endings the message uses, decided once for the whole message
 * and never per line.  It is CR-only (classic Mac OS; every CR is a line
 * end, see canon.h) when its first HDR_MAX bytes, or all of it when it is
 * shorter, hold a CR and no LF; else only an LF ends a line and a stray
 * CR becomes a space.  An application that lets a CR through into a
 * header value ("Subject: hi\rBcc: victim@x") still ends its own lines
 * with LF, so its message holds an LF and is read in LF mode, where that
 * CR cannot start a field.  To be read as CR-only it would need 4 MiB
 * without an LF from its very first byte, and even then the LFs the
 * application writes after it give it away: an LF in a message read as
 * CR-only is refused (feed()).  A real CR-only message has no LF at all.
 * HDR_MAX also bounds the raw input held here while the question is
 * open.
 *
 * `raw` is the input read so far; its first *looked bytes were looked at
 * before and hold no LF.  Returns 1 with *mode set once it can tell
 * (an LF seen, HDR_MAX bytes read, or `eof`), else 0.
 */
static int
line_mode(const struct buf *raw, size_t *looked, int eof,
    enum canon_mode *mode)
{
	size_t	 n = raw->len < HDR_MAX ? raw->len : HDR_MAX;

	if (n > *looked &&
	    memchr(raw->data + *looked, '\n', n - *looked) != NULL) {
		*mode = CANON_LF;
		return 1;
	}
	*looked = n;
	if (n < HDR_MAX && !eof)
		return 0;
	*mode = n > 0 && memchr(raw->data, '\r', n) != NULL ?
	    CANON_CR : CANON_LF;
	return 1;
}

/*
 * Canonicalise `n` more bytes into `out`.  A message read as CR-only that
 * turns out to hold an LF is refused rather than guessed at: its first
 * 4 MiB may be an attacker's value ("X: a\rBcc: victim@x\r\r" and
 * padding) ahead of the application's own LF lines.
 */
static int
feed(struct canon *c, const char *p, size_t n, struct buf *out, int *le,
    struct buf *err)
{
	if (c->mode == CANON_CR && n > 0 && memchr(p, '\n', n) != NULL)
		return fail(le, LE_DATAERR, err, "the message ends its lines "
		    "with CR alone for its first 4 MiB, then with LF: mixed "
		    "line endings are refused");
	canon_feed(c, p, n, out);
	return 0;
}

int
message_spool(struct message *m, int infd, const struct msg_opts *o,
    const struct strlist *argv_rcpts, int *le, struct buf *err)
{
	struct canon	 c;
	struct hscan	 s;
	struct hdrlist	 h;
	struct buf	 hb = BUF_INIT, out = BUF_INIT;
	struct buf	 raw = BUF_INIT;	/* until its line endings are known */
	enum canon_mode	 mode = CANON_LF;
	size_t		 looked = 0;
	int		 decided = 0;
	char		*chunk;
	size_t		 got;
	enum local_err	 e = LE_NONE;
	int		 eof = 0, rc = -1, eightbit = 0;

	(void)argv_rcpts;	/* the envelope joins them; see message_envelope */
	spool_release(&m->spool);
	if (o->into != NULL)
		m->spool = *o->into;
	else if (spool_create(&m->spool, o->tmpdir, &e, err) == -1) {
		*le = e;
		return -1;
	}
	chunk = xmalloc(CHUNK);
	canon_init(&c);
	hdr_init(&h);
	memset(&s, 0, sizeof(s));

	/* The header section, canonical, into memory (bounded). */
	while (!s.found) {
		if (read_some(infd, chunk, CHUNK, &got, le, err) == -1)
			goto out;
		eof = got == 0;
		if (!decided) {
			/* Held raw until its line endings are known. */
			buf_add(&raw, chunk, got);
			if (!(decided = line_mode(&raw, &looked, eof, &mode)))
				continue;
			canon_set_mode(&c, mode);
			if (feed(&c, raw.data, raw.len, &hb, le, err) == -1)
				goto out;
			buf_release(&raw);
		} else if (feed(&c, chunk, got, &hb, le, err) == -1)
			goto out;
		if (eof)
			canon_finish(&c, &hb);
		scan_header(&s, &hb, eof);
		if (!s.found && hb.len > HDR_MAX) {
			fail(le, LE_DATAERR, err,
			    "header section larger than 4 MiB");
			goto out;
		}
	}
	/* buf_str(): an empty input leaves hb.data NULL. */
	hdr_parse(&h, buf_str(&hb) + s.skip, s.hdr_end - s.skip, NULL);
	if (rewrite_headers(&h, o, m, le, err) == -1)
		goto out;

	/* Header, the empty line, then the body as it streams through. */
	hdr_write(&h, &out);
	buf_add(&out, "\r\n", 2);
	eightbit = has_8bit(out.data, out.len);
	if (hb.len > s.body_start) {
		buf_add(&out, hb.data + s.body_start, hb.len - s.body_start);
		eightbit |= has_8bit(hb.data + s.body_start,
		    hb.len - s.body_start);
	}
	buf_release(&hb);
	c.has_8bit = 0;		/* from here on it speaks for the body */
	while (!eof) {
		if (out.len >= CHUNK && spool_out(m, &out, le, err) == -1)
			goto out;
		if (read_some(infd, chunk, CHUNK, &got, le, err) == -1)
			goto out;
		if (got == 0) {
			canon_finish(&c, &out);
			eof = 1;
		} else if (feed(&c, chunk, got, &out, le, err) == -1)
			goto out;
	}
	if (spool_out(m, &out, le, err) == -1)
		goto out;
	m->size = m->spool.size;
	m->nuls = c.nuls;
	m->body_8bit = eightbit || c.has_8bit;
	rc = 0;
out:
	if (rc == -1)
		spool_release(&m->spool);
	free(chunk);
	hdr_release(&h);
	buf_release(&hb);
	buf_release(&raw);
	buf_release(&out);
	return rc;
}

int
message_envelope(const struct message *m, const struct msg_opts *o,
    const struct strlist *argv_rcpts, struct envelope *env, int *le,
    struct buf *err)
{
	struct strlist	 all = STRLIST_INIT, exp = STRLIST_INIT;
	struct buf	 e = BUF_INIT;
	const char	*dom = o->qualify_domain;
	char		*q, *form;
	size_t		 i;
	int		 rc = 0;

	if (o->env_from == NULL)
		env->from = xstrdup("");
	else if (*o->env_from != '\0' && dom != NULL && *dom != '\0')
		env->from = addr_qualify(o->env_from, dom);
	else
		env->from = xstrdup(o->env_from);
	if (addr_check_envelope(env->from, 1, &e) == -1) {
		rc = fail(le, LE_DATAERR, err, "%s", buf_str(&e));
		goto out;
	}
	if ((form = addr_envelope_form(env->from, &e)) == NULL) {
		rc = fail(le, LE_DATAERR, err, "invalid sender '%s': %s",
		    env->from, buf_str(&e));
		goto out;
	}
	free(env->from);
	env->from = form;
	env->smtputf8 = addr_needs_utf8(env->from);

	if (argv_rcpts != NULL)
		for (i = 0; i < argv_rcpts->n; i++)
			strlist_add(&all, argv_rcpts->v[i]);
	if (o->extract)
		for (i = 0; i < m->hdr_rcpts.n; i++)
			strlist_add(&all, m->hdr_rcpts.v[i]);
	for (i = 0; i < all.n; i++) {
		if (o->aliases != NULL)
			aliases_expand(o->aliases, all.v[i], &exp);
		else
			strlist_add(&exp, all.v[i]);
	}
	for (i = 0; i < exp.n && rc == 0; i++) {
		q = dom != NULL && *dom != '\0' ? addr_qualify(exp.v[i], dom) :
		    xstrdup(exp.v[i]);
		buf_reset(&e);
		/* argv recipients passed the strict check already; header
		 * ones may hold a quoted "john doe" local part. */
		if (addr_check_parsed(q, &e) == -1)
			rc = fail(le, LE_DATAERR, err, "%s", buf_str(&e));
		else if ((form = addr_envelope_form(q, &e)) == NULL)
			rc = fail(le, LE_DATAERR, err, "%s", buf_str(&e));
		else {
			if (addr_needs_utf8(form))
				env->smtputf8 = 1;
			strlist_add_unique(&env->rcpts, form);
			free(form);
		}
		free(q);
	}
	if (rc == 0 && env->rcpts.n == 0)
		rc = fail(le, LE_USAGE, err, "%s", o->extract ?
		    "no recipients found in the message or on the command line" :
		    "no recipients");
	env->body_8bit = m->body_8bit;
	env->size = m->size;
out:
	strlist_release(&all);
	strlist_release(&exp);
	buf_release(&e);
	return rc;
}
