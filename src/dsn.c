#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "buf.h"
#include "dsn.h"
#include "header.h"

/*
 * The text part, the delivery-status part and the attached header are
 * built first, each in a buffer of its own, because the boundary can
 * only be chosen once their bytes are known; then the header and the
 * parts are appended to the caller's buffer.  Every value from the
 * caller is checked before anything is built, so no field can need a
 * line break, and nothing fails after the checks.  The checks and the
 * limits below keep each line within 998 bytes: a made-safe diagnostic
 * is at most DIAG_MAX + 6 bytes in one word; an address is at most
 * ADDR_MAX bytes, 3 times that in the text part, and cut to fit in the
 * delivery status.
 */

#define LINE_LIMIT	998		/* RFC 5322 2.1.1, without the CRLF */
#define FOLD_AT		78		/* RFC 5322's SHOULD, for fields */
#define WRAP_AT		72		/* the text part */
#define DIAG_MAX	900		/* bytes of made-safe diagnostic */
#define ADDR_MAX	254		/* RFC 5321 4.5.3.1.3's path, less <> */
#define NAME_MAX_LEN	255		/* a host name (RFC 1035 2.3.4) */
#define ID_MAX		100		/* an ENVID (RFC 3461 4.4), queue ID */
#define TEXT_MAX	100		/* `lifetime` */
#define ATTACH_MAX	(64 * 1024)	/* of the original header */
#define TIME_MAX	253402300799LL	/* 9999-12-31 23:59:59 UTC */
#define BOUNDARY_PREFIX	"=_postie_"	/* then random hex */

/*
 * Not "Undelivered Mail Returned to Sender" (Postfix's): the message is
 * not returned, only its header.  This is what the notification is, in
 * the words Gmail's and Exchange's use, which people know.
 */
#define SUBJECT		"Delivery Status Notification (Failure)"

enum kind {
	K_NAME,		/* printable ASCII without space: names and IDs */
	K_TEXT,		/* printable ASCII and space */
	K_ADDR		/* no control character; UTF-8 allowed */
};

struct parts {
	struct buf	 text;		/* text/plain */
	struct buf	 status;	/* message/delivery-status */
	struct buf	 hdr;		/* text/rfc822-headers */
	size_t		 left_out;	/* header fields not attached */
};

static const char *opt(const char *);
static int	 check(const char *, const char *, enum kind, size_t,
		    struct buf *);
static int	 check_time(const char *, long long, struct buf *);
static int	 check_input(const struct dsn_info *, const struct dsn_rcpt *,
		    size_t, struct buf *);
static int	 has_8bit(const char *, size_t);
static long	 utf8_next(const unsigned char *, size_t, size_t *);
static int	 utf8_valid(const char *);
static void	 add_text_addr(struct buf *, const char *);
static void	 add_typed_addr(struct buf *, const char *, const char *);
static void	 utc(long long, struct tm *);
static void	 add_date(struct buf *, long long);
static void	 add_hex(struct buf *, const unsigned char *, size_t);
static void	 add_safe(struct buf *, const char *);
static size_t	 add_wrapped(struct buf *, size_t, const char *, const char *,
		    size_t);
static void	 add_para(struct buf *, const char *);
static int	 status_ok(const char *);
static const char *status_of(const struct dsn_info *,
		    const struct dsn_rcpt *);
static void	 build_parts(struct parts *, const struct dsn_info *,
		    const struct dsn_rcpt *, size_t);
static void	 attach_header(struct parts *, const char *, size_t);
static size_t	 longest_line(const char *, size_t);
static void	 choose_boundary(struct buf *, const struct parts *,
		    const unsigned char *);

/* "" is as good as NULL for the optional values. */
static const char *
opt(const char *v)
{
	return v != NULL && *v != '\0' ? v : NULL;
}

/* A value that is going into a field: present, within `max` bytes, and
 * nothing in it that could end a line or break the field's syntax. */
static int
check(const char *what, const char *v, enum kind k, size_t max,
    struct buf *err)
{
	const unsigned char	*p;
	const char		*why = NULL;

	if (v == NULL || *v == '\0') {
		buf_addf(err, "%s is missing", what);
		return -1;
	}
	for (p = (const unsigned char *)v; *p != '\0' && why == NULL; p++) {
		if (*p < 0x20 || *p == 0x7f)
			why = "holds a control character";
		else if (*p >= 0x80 && k != K_ADDR)
			why = "is not ASCII";
		else if (*p == ' ' && k == K_NAME)
			why = "holds a space";
	}
	if (why == NULL && strlen(v) > max)
		why = "is too long";
	if (why == NULL)
		return 0;
	buf_addf(err, "%s ", what);
	addr_quote(err, v);
	buf_addf(err, " %s", why);
	return -1;
}

static int
check_time(const char *what, long long t, struct buf *err)
{
	if (t >= 0 && t <= TIME_MAX && (long long)(time_t)t == t)
		return 0;
	buf_addf(err, "%s %lld is out of range", what, t);
	return -1;
}

static int
check_input(const struct dsn_info *in, const struct dsn_rcpt *r, size_t n,
    struct buf *err)
{
	const char	*dom;
	size_t		 i;

	if (n == 0) {
		buf_addstr(err, "no recipients to report");
		return -1;
	}
	if (in->random == NULL || in->nrandom < DSN_RANDOM) {
		buf_addf(err, "%d random bytes needed, %zu given", DSN_RANDOM,
		    in->random == NULL ? 0 : in->nrandom);
		return -1;
	}
	/* RFC 5321 6.1: nothing is ever sent back to the null sender, or
	 * two systems could bounce a notification back and forth. */
	if (in->rcpt != NULL && (*in->rcpt == '\0' ||
	    strcmp(in->rcpt, "<>") == 0)) {
		buf_addstr(err, "the sender is <>: no notification goes to it");
		return -1;
	}
	if (check("sender", in->rcpt, K_ADDR, ADDR_MAX, err) == -1 ||
	    check("postmaster", in->postmaster, K_ADDR, ADDR_MAX, err) == -1 ||
	    check("reporting MTA", in->reporting_mta, K_NAME, NAME_MAX_LEN,
	    err) == -1 ||
	    check("queue ID", in->queue_id, K_NAME, ID_MAX, err) == -1 ||
	    (opt(in->envid) != NULL &&
	    check("envelope ID", in->envid, K_NAME, ID_MAX, err) == -1) ||
	    (opt(in->lifetime) != NULL &&
	    check("lifetime", in->lifetime, K_TEXT, TEXT_MAX, err) == -1) ||
	    check_time("time", in->now, err) == -1 ||
	    (in->arrival != 0 &&
	    check_time("arrival time", in->arrival, err) == -1))
		return -1;
	/* These two are used as addresses, not only shown. */
	if (!utf8_valid(in->rcpt) || !utf8_valid(in->postmaster)) {
		buf_addstr(err, "sender or postmaster is not valid UTF-8");
		return -1;
	}
	dom = opt(in->msgid_domain) != NULL ? in->msgid_domain :
	    in->reporting_mta;
	if (check("Message-ID domain", dom, K_NAME, NAME_MAX_LEN, err) == -1)
		return -1;
	if (strpbrk(dom, "()<>@,;\\\"") != NULL) {
		buf_addstr(err, "Message-ID domain ");
		addr_quote(err, dom);
		buf_addstr(err, " holds a special character");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (check("recipient", r[i].addr, K_ADDR, ADDR_MAX,
		    err) == -1 ||
		    (opt(r[i].orcpt) != NULL && check("original recipient",
		    r[i].orcpt, K_ADDR, ADDR_MAX, err) == -1) ||
		    (opt(r[i].remote_mta) != NULL && check("remote MTA",
		    r[i].remote_mta, K_NAME, NAME_MAX_LEN, err) == -1) ||
		    (r[i].last_attempt != 0 && check_time("last attempt time",
		    r[i].last_attempt, err) == -1))
			return -1;
		if (r[i].code != 0 && (r[i].code < 200 || r[i].code > 599)) {
			buf_addf(err, "reply code %d is out of range",
			    r[i].code);
			return -1;
		}
	}
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

/*
 * The code point at `s` (n > 0 bytes) and its length in *len, or -1 with
 * *len 1 when `s` does not start a well-formed UTF-8 sequence (RFC 3629:
 * no overlong forms, no surrogates, nothing past U+10FFFF).
 */
static long
utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	long	 cp, min;
	size_t	 k, i;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		k = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		k = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		k = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return -1;
	if (n < k)
		return -1;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = k;
	return cp;
}

static int
utf8_valid(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), len;

	for (; n > 0; p += len, n -= len)
		if (utf8_next(p, n, &len) == -1)
			return 0;
	return 1;
}

/* An address for people: as it is, but well-formed UTF-8 (the text part
 * says it is), with U+FFFD for what is not. */
static void
add_text_addr(struct buf *out, const char *a)
{
	const unsigned char	*p = (const unsigned char *)a;
	size_t			 n = strlen(a), len;

	for (; n > 0; p += len, n -= len) {
		if (utf8_next(p, n, &len) == -1)
			buf_addstr(out, "\xef\xbf\xbd");
		else
			buf_add(out, p, len);
	}
}

/*
 * "Name: rfc822; addr", or for an address that is not ASCII "Name: utf-8;
 * " and RFC 6533's utf-8-addr-xtext: each non-ASCII character, and the
 * space, '\', '+' and '=', as \x{HEX}; invalid UTF-8 as \x{FFFD}.
 * message/delivery-status is 7-bit (RFC 6533 3: the raw form belongs in
 * message/global-delivery-status only).  That form can take 8 bytes for
 * one, so an address made of such bytes is cut where the line would
 * pass 998 bytes; the text part still shows all of it.
 */
static void
add_typed_addr(struct buf *out, const char *name, const char *a)
{
	const unsigned char	*p = (const unsigned char *)a;
	size_t			 n = strlen(a), len, start = out->len;
	char			 esc[16];
	long			 cp;

	if (!has_8bit(a, n)) {
		buf_addf(out, "%s: rfc822; %s\r\n", name, a);
		return;
	}
	buf_addf(out, "%s: utf-8; ", name);
	for (; n > 0; p += len, n -= len) {
		if ((cp = utf8_next(p, n, &len)) == -1)
			cp = 0xfffd;
		if (cp >= 0x80 || cp <= 0x20 || cp == 0x7f || cp == '\\' ||
		    cp == '+' || cp == '=')
			(void)snprintf(esc, sizeof(esc), "\\x{%02lX}", cp);
		else
			(void)snprintf(esc, sizeof(esc), "%c", (int)cp);
		if (out->len - start + strlen(esc) > LINE_LIMIT)
			break;
		buf_addstr(out, esc);
	}
	buf_addstr(out, "\r\n");
}

/* `t` (it passed check_time()) broken down in UTC. */
static void
utc(long long t, struct tm *tm)
{
	time_t	 tt = (time_t)t;

	if (gmtime_r(&tt, tm) == NULL)
		memset(tm, 0, sizeof(*tm));
}

/* RFC 5322 3.3 date-time in UTC. */
static void
add_date(struct buf *out, long long t)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	 tm;

	utc(t, &tm);
	buf_addf(out, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
add_hex(struct buf *out, const unsigned char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		buf_addf(out, "%02x", p[i]);
}

/*
 * A server's words, made safe to show and to put in a field: line breaks
 * ("\r\n" or "\n") between lines become "; " (empty lines and a break at
 * either end go), a tab or a lone CR a space, any other control
 * character, 8-bit byte or '\' "\xNN" (reply_summary()'s form), cut with
 * "..." after DIAG_MAX bytes.  Only printable ASCII comes out.
 */
static void
add_safe(struct buf *out, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 start = out->len;
	int			 brk = 0;

	for (; *p != '\0'; p++) {
		if (out->len - start >= DIAG_MAX) {
			buf_addstr(out, "...");
			break;
		}
		if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
			p += *p == '\r';
			brk = out->len > start;
			continue;
		}
		if (brk && *p != ' ' && *p != '\t' && *p != '\r') {
			buf_addstr(out, "; ");
			brk = 0;
		}
		if (*p == '\r' || *p == '\t')
			buf_addch(out, ' ');
		else if (*p < 0x20 || *p >= 0x7f || *p == '\\') {
			buf_addstr(out, "\\x");
			buf_addch(out, hex[*p >> 4]);
			buf_addch(out, hex[*p & 0xf]);
		} else
			buf_addch(out, *p);
	}
}

/*
 * Append the words of `text` (separated by runs of spaces) to a line
 * that already holds `col` bytes, breaking the line before a word that
 * would take it past `width` and starting each new line with `indent`.
 * The first word stays on the current line.  With a one-space indent
 * this is RFC 5322 folding: the space that separated the words follows
 * the CRLF.  Returns the column where it ends.
 */
static size_t
add_wrapped(struct buf *out, size_t col, const char *indent,
    const char *text, size_t width)
{
	const char	*w, *e;
	size_t		 wl;
	int		 first = 1;

	for (w = text; ; w = e) {
		while (*w == ' ')
			w++;
		if (*w == '\0')
			break;
		for (e = w; *e != '\0' && *e != ' '; e++)
			;
		wl = (size_t)(e - w);
		if (!first && col + 1 + wl > width) {
			buf_addf(out, "\r\n%s", indent);
			col = strlen(indent);
		} else if (!first) {
			buf_addch(out, ' ');
			col++;
		}
		buf_add(out, w, wl);
		col += wl;
		first = 0;
	}
	return col;
}

/* A paragraph of the text part, wrapped, its last line ended. */
static void
add_para(struct buf *out, const char *text)
{
	(void)add_wrapped(out, 0, "", text, WRAP_AT);
	buf_addstr(out, "\r\n");
}

/* RFC 3463 4.x.x or 5.x.x (a failure), each number 1 to 3 digits. */
static int
status_ok(const char *s)
{
	size_t	 i = 2, d;
	int	 part;

	if (s == NULL || (s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	for (part = 0; part < 2; part++) {
		for (d = 0; s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d < 1 || d > 3)
			return 0;
		if (part == 0 && s[i++] != '.')
			return 0;
	}
	return s[i] == '\0';
}

/*
 * The recipient's own code when it has a good one.  Else what the reply
 * says: permanent (5.0.0) for a 5xx; for an expired message with a 4xx
 * or no reply, 4.4.7 (RFC 3463: delivery time expired); for a refusal
 * without a 5xx, 4.0.0 after a 4xx and 5.0.0 after no reply (a local,
 * permanent reason).
 */
static const char *
status_of(const struct dsn_info *in, const struct dsn_rcpt *r)
{
	if (status_ok(r->status))
		return r->status;
	if (r->code >= 500)
		return "5.0.0";
	if (in->expired)
		return "4.4.7";
	return r->code >= 400 ? "4.0.0" : "5.0.0";
}

/* The text part and the delivery-status part, one pass over the
 * recipients; the attachment is already in p->hdr. */
static void
build_parts(struct parts *p, const struct dsn_info *in,
    const struct dsn_rcpt *r, size_t n)
{
	struct buf	 line = BUF_INIT, diag = BUF_INIT;
	const char	*who = n == 1 ? "recipient" : "recipients";
	size_t		 i, col;
	int		 words;

	buf_addf(&line, "This is the mail system at %s.", in->reporting_mta);
	add_para(&p->text, buf_str(&line));
	buf_addstr(&p->text, "\r\n");
	buf_reset(&line);
	buf_addf(&line, "Your message could not be delivered to the %s "
	    "below. ", who);
	if (!in->expired)
		buf_addstr(&line, "It was refused, so delivery will not be "
		    "tried again.");
	else if (opt(in->lifetime) != NULL)
		buf_addf(&line, "Delivery was tried for %s without success "
		    "and has been given up.", in->lifetime);
	else
		buf_addstr(&line, "Delivery was tried for as long as the "
		    "queue keeps a message, without success, and has been "
		    "given up.");
	add_para(&p->text, buf_str(&line));

	/* RFC 3464 2.2: the per-message fields, in the grammar's order
	 * (extension fields last). */
	if (opt(in->envid) != NULL)
		buf_addf(&p->status, "Original-Envelope-Id: %s\r\n", in->envid);
	buf_addf(&p->status, "Reporting-MTA: dns; %s\r\n", in->reporting_mta);
	if (in->arrival != 0) {
		buf_addstr(&p->status, "Arrival-Date: ");
		add_date(&p->status, in->arrival);
		buf_addstr(&p->status, "\r\n");
	}
	buf_addf(&p->status, "X-Postie-Queue-ID: %s\r\n", in->queue_id);

	for (i = 0; i < n; i++) {
		buf_reset(&diag);
		if (r[i].code != 0)
			buf_addf(&diag, "%d ", r[i].code);
		if (r[i].diagnostic != NULL)
			add_safe(&diag, r[i].diagnostic);
		words = diag.len > strspn(buf_str(&diag), " ");

		buf_reset(&line);
		buf_addch(&line, '<');
		add_text_addr(&line, r[i].addr);
		buf_addstr(&line, ">:");
		if (r[i].code != 0)
			buf_addf(&line, " %s replied:",
			    opt(r[i].remote_mta) != NULL ? r[i].remote_mta :
			    "the mail server");
		else if (!words)
			buf_addstr(&line, " no reply from a mail server was "
			    "recorded.");
		buf_addstr(&p->text, "\r\n");
		add_para(&p->text, buf_str(&line));
		if (words) {
			buf_addstr(&p->text, "    ");
			(void)add_wrapped(&p->text, 4, "    ", buf_str(&diag),
			    WRAP_AT);
			buf_addstr(&p->text, "\r\n");
		}

		/* RFC 3464 2.3: the per-recipient fields, in order. */
		buf_addstr(&p->status, "\r\n");
		if (opt(r[i].orcpt) != NULL)
			add_typed_addr(&p->status, "Original-Recipient",
			    r[i].orcpt);
		add_typed_addr(&p->status, "Final-Recipient", r[i].addr);
		buf_addf(&p->status, "Action: failed\r\nStatus: %s\r\n",
		    status_of(in, &r[i]));
		if (opt(r[i].remote_mta) != NULL)
			buf_addf(&p->status, "Remote-MTA: dns; %s\r\n",
			    r[i].remote_mta);
		if (words) {
			col = p->status.len;
			buf_addstr(&p->status, r[i].code != 0 ?
			    "Diagnostic-Code: smtp; " :
			    "Diagnostic-Code: X-Postie; ");
			(void)add_wrapped(&p->status, p->status.len - col, " ",
			    buf_str(&diag), FOLD_AT);
			buf_addstr(&p->status, "\r\n");
		}
		if (r[i].last_attempt != 0) {
			buf_addstr(&p->status, "Last-Attempt-Date: ");
			add_date(&p->status, r[i].last_attempt);
			buf_addstr(&p->status, "\r\n");
		}
	}

	buf_reset(&line);
	buf_addstr(&line, "The header of your message is attached below; "
	    "its body is not included.");
	if (p->left_out == 1)
		buf_addstr(&line, " 1 header field was left out for its size.");
	else if (p->left_out > 1)
		buf_addf(&line, " %zu header fields were left out for their "
		    "size.", p->left_out);
	buf_addstr(&p->text, "\r\n");
	add_para(&p->text, buf_str(&line));
	buf_addstr(&p->text, "\r\n");
	buf_reset(&line);
	buf_addf(&line, "Queue ID: %s", in->queue_id);
	add_para(&p->text, buf_str(&line));
	buf_release(&line);
	buf_release(&diag);
}

/* The length of the longest CRLF-ended line in p[0..n). */
static size_t
longest_line(const char *p, size_t n)
{
	const char	*e, *end = p + n;
	size_t		 max = 0;

	for (; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		if ((size_t)(e - p) > max)
			max = (size_t)(e - p);
	}
	return max;	/* the CR counts: a line of 998 + CR is 999 */
}

/*
 * The original header, field by field as hdr_parse() splits it (which
 * also makes sure of CRLF line ends, whatever the caller hands over).
 * A field that cannot go into a message (a line over 998 bytes) or would
 * make the attachment bigger than ATTACH_MAX is left out, so a huge
 * header cannot make the notification itself too big to send.
 */
static void
attach_header(struct parts *p, const char *hdr, size_t len)
{
	struct hdrlist	 h;
	const char	*nul, *raw;
	size_t		 i, rl;

	if (hdr == NULL || len == 0)
		return;
	if ((nul = memchr(hdr, '\0', len)) != NULL)
		len = (size_t)(nul - hdr);
	hdr_init(&h);
	(void)hdr_parse(&h, hdr, len, NULL);
	for (i = 0; i < h.n; i++) {
		raw = h.f[i].raw;
		rl = strlen(raw);
		if (longest_line(raw, rl) > LINE_LIMIT + 1 ||
		    p->hdr.len + rl > ATTACH_MAX)
			p->left_out++;
		else
			buf_add(&p->hdr, raw, rl);
	}
	hdr_release(&h);
}

/*
 * BOUNDARY_PREFIX and the hex of 12 random bytes; if that occurs anywhere
 * in a part (not only at a line start: some readers match a boundary by
 * its prefix), "_1", "_2", ... after it until one does not.  Each try
 * that fails is a different string found in the parts, so this ends.
 */
static void
choose_boundary(struct buf *b, const struct parts *p,
    const unsigned char *rnd)
{
	size_t	 base, k;

	buf_addstr(b, BOUNDARY_PREFIX);
	add_hex(b, rnd, 12);
	base = b->len;
	for (k = 1; memmem(p->text.data, p->text.len, b->data, b->len) !=
	    NULL || memmem(p->status.data, p->status.len, b->data,
	    b->len) != NULL || (p->hdr.len > 0 && memmem(p->hdr.data,
	    p->hdr.len, b->data, b->len) != NULL); k++) {
		buf_truncate(b, base);
		buf_addf(b, "_%zu", k);
	}
}

int
dsn_build(const struct dsn_info *in, const struct dsn_rcpt *r, size_t n,
    const char *hdr, size_t hdrlen, struct buf *out, struct buf *err)
{
	struct parts	 p;
	struct buf	 bnd = BUF_INIT;
	struct tm	 tm;
	const char	*dom;

	if (check_input(in, r, n, err) == -1)
		return -1;
	buf_init(&p.text);
	buf_init(&p.status);
	buf_init(&p.hdr);
	p.left_out = 0;
	attach_header(&p, hdr, hdrlen);
	build_parts(&p, in, r, n);
	choose_boundary(&bnd, &p, in->random + 12);

	buf_addstr(out, "From: Mail Delivery System <");
	buf_addstr(out, in->postmaster);
	buf_addstr(out, ">\r\nTo: <");
	buf_addstr(out, in->rcpt);
	buf_addstr(out, ">\r\nSubject: " SUBJECT "\r\nDate: ");
	add_date(out, in->now);
	utc(in->now, &tm);
	/* message.c's form: the time in UTC, random hex, the domain. */
	buf_addf(out, "\r\nMessage-ID: <%04d%02d%02d%02d%02d%02d.",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	add_hex(out, in->random, 12);
	dom = opt(in->msgid_domain) != NULL ? in->msgid_domain :
	    in->reporting_mta;
	buf_addf(out, "@%s>\r\n", dom);
	/* RFC 3834 5: so that vacation programs do not answer it. */
	buf_addstr(out, "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"");
	buf_add(out, bnd.data, bnd.len);
	buf_addstr(out, "\"\r\n\r\nThis is a MIME-encapsulated message.\r\n");

	buf_addf(out, "\r\n--%s\r\n", bnd.data);
	buf_addstr(out, "Content-Description: Notification\r\n");
	if (has_8bit(p.text.data, p.text.len))
		buf_addstr(out, "Content-Type: text/plain; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: 8bit\r\n");
	else
		buf_addstr(out,
		    "Content-Type: text/plain; charset=us-ascii\r\n");
	buf_addstr(out, "\r\n");
	buf_add(out, p.text.data, p.text.len);

	buf_addf(out, "\r\n--%s\r\n", bnd.data);
	buf_addstr(out, "Content-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n\r\n");
	buf_add(out, p.status.data, p.status.len);

	buf_addf(out, "\r\n--%s\r\n", bnd.data);
	buf_addstr(out, "Content-Description: Undelivered message header\r\n"
	    "Content-Type: text/rfc822-headers\r\n");
	if (has_8bit(p.hdr.data, p.hdr.len))
		buf_addstr(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_addstr(out, "\r\n");
	buf_add(out, p.hdr.data, p.hdr.len);
	buf_addf(out, "\r\n--%s--\r\n", bnd.data);

	buf_release(&bnd);
	buf_release(&p.text);
	buf_release(&p.status);
	buf_release(&p.hdr);
	return 0;
}

int
dsn_8bit(const char *msg, size_t len)
{
	return has_8bit(msg, len);
}
