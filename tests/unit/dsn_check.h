#ifndef POSTIE_DSN_CHECK_H
#define POSTIE_DSN_CHECK_H

/*
 * A reader's check of what dsn_build() made, shared by test_dsn.c and
 * tests/fuzz/fuzz_dsn.c.  It knows nothing of how the notification was
 * built; it reads it as a receiving program would:
 *
 *   - lines: CRLF only (no lone CR or LF, no NUL), each at most 998
 *     bytes, the last one ended;
 *   - the header: fields up to an empty line, each of From, To, Subject,
 *     Date, Message-ID, Auto-Submitted, MIME-Version and Content-Type
 *     exactly once, Content-Type multipart/report with
 *     report-type=delivery-status and a quoted boundary of 1 to 70
 *     RFC 2046 bchars;
 *   - the body (RFC 2046 5.1.1): no line that starts with "--BOUNDARY"
 *     other than the delimiters, exactly three parts, then the close
 *     delimiter and nothing after it;
 *   - each part: a header with one Content-Type, an empty line, content;
 *     the types text/plain (charset us-ascii, or utf-8 with
 *     Content-Transfer-Encoding: 8bit), message/delivery-status,
 *     text/rfc822-headers; a part with 8-bit bytes says 8bit, and the
 *     delivery-status part has none;
 *   - the delivery-status content (RFC 3464 2.1): blocks of fields
 *     separated by single empty lines, the first with one Reporting-MTA,
 *     each next one with one Final-Recipient, "Action: failed" and a
 *     Status of 4.x.x or 5.x.x.
 *
 * dsn_check() returns NULL, or what is wrong.  On success `v` has the
 * boundary, where each part's content is, and the recipient blocks.
 */

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "header.h"

struct dsn_view {
	char		 boundary[71];
	const char	*body[3];	/* each part's content */
	size_t		 bodylen[3];
	size_t		 nrcpt;		/* recipient blocks */
};

static const char *dsn_check_lines(const char *, size_t);
static const char *dsn_check_fields(const char *, size_t, size_t *,
		    const char *const *, struct hdrlist *);
static const char *dsn_check_type(const char *, size_t, int, const char **,
		    size_t *);
static const char *dsn_check_status(const char *, size_t, size_t *);
static const char *dsn_check(const char *, size_t, struct dsn_view *);

static const char *
dsn_check_lines(const char *p, size_t n)
{
	size_t	 i, col = 0;

	if (n < 2 || p[n - 2] != '\r' || p[n - 1] != '\n')
		return "the last line is not ended by CRLF";
	for (i = 0; i < n; i++) {
		if (p[i] == '\0')
			return "a NUL byte";
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return "a CR not followed by LF";
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return "an LF not after a CR";
		if (p[i] == '\r')
			continue;
		if (p[i] == '\n')
			col = 0;
		else if (++col > 998)
			return "a line longer than 998 bytes";
	}
	return NULL;
}

/*
 * The fields at p[0..n) up to an empty line, each name in `once` exactly
 * once; *used is where the empty line ends.  `h` keeps them.
 */
static const char *
dsn_check_fields(const char *p, size_t n, size_t *used,
    const char *const *once, struct hdrlist *h)
{
	size_t	 c;

	(void)hdr_parse(h, p, n, &c);
	if (n - c < 2 || p[c] != '\r' || p[c + 1] != '\n')
		return "a header line that is not a field, or no empty line";
	*used = c + 2;
	for (; *once != NULL; once++)
		if (hdr_count(h, *once) != 1)
			return "a field missing or given twice";
	return NULL;
}

/* One part: its header, what it says it holds, its content. */
static const char *
dsn_check_type(const char *p, size_t n, int k, const char **body,
    size_t *bodylen)
{
	static const char *const once[] = { "Content-Type", NULL };
	struct hdrlist	 h;
	struct buf	 ct = BUF_INIT, cte = BUF_INIT;
	const char	*why;
	size_t		 used, i;
	int		 eight = 0;

	hdr_init(&h);
	if ((why = dsn_check_fields(p, n, &used, once, &h)) != NULL) {
		hdr_release(&h);
		return why;
	}
	*body = p + used;
	*bodylen = n - used;
	for (i = used; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			eight = 1;
	hdr_value(hdr_get(&h, "Content-Type", 0), &ct);
	if (hdr_count(&h, "Content-Transfer-Encoding") == 1)
		hdr_value(hdr_get(&h, "Content-Transfer-Encoding", 0), &cte);
	if (k == 0 &&
	    strcmp(buf_str(&ct), "text/plain; charset=us-ascii") != 0 &&
	    strcmp(buf_str(&ct), "text/plain; charset=utf-8") != 0)
		why = "part 1 is not text/plain";
	else if (k == 1 && strcmp(buf_str(&ct), "message/delivery-status") != 0)
		why = "part 2 is not message/delivery-status";
	else if (k == 2 && strcmp(buf_str(&ct), "text/rfc822-headers") != 0)
		why = "part 3 is not text/rfc822-headers";
	else if (eight && (k == 1 || strcmp(buf_str(&cte), "8bit") != 0))
		why = "8-bit content without Content-Transfer-Encoding: 8bit";
	else if (cte.len > 0 && strcmp(buf_str(&cte), "8bit") != 0)
		why = "an unexpected Content-Transfer-Encoding";
	else if (k == 0 && eight && strstr(buf_str(&ct), "utf-8") == NULL)
		why = "8-bit text that does not say utf-8";
	buf_release(&ct);
	buf_release(&cte);
	hdr_release(&h);
	return why;
}

/* The delivery-status content; *nrcpt counts the recipient blocks. */
static const char *
dsn_check_status(const char *p, size_t n, size_t *nrcpt)
{
	static const char *const first[] = { "Reporting-MTA", NULL };
	static const char *const each[] = {
		"Final-Recipient", "Action", "Status", NULL
	};
	struct hdrlist	 h;
	struct buf	 v = BUF_INIT;
	const char	*why = NULL, *s;
	size_t		 pos = 0, used, block;

	*nrcpt = 0;
	for (block = 0; why == NULL && pos < n; block++) {
		hdr_init(&h);
		/* The last block ends the content: no empty line after
		 * it, so give it one to find. */
		if (pos + 2 <= n && p[pos] == '\r')
			why = "two empty lines in a row";
		else {
			struct buf	 b = BUF_INIT;

			buf_add(&b, p + pos, n - pos);
			buf_addstr(&b, "\r\n");
			why = dsn_check_fields(b.data, b.len, &used,
			    block == 0 ? first : each, &h);
			buf_release(&b);
			pos += used;
		}
		if (why == NULL && block > 0) {
			hdr_value(hdr_get(&h, "Action", 0), &v);
			if (strcmp(buf_str(&v), "failed") != 0)
				why = "an Action that is not failed";
			buf_reset(&v);
			hdr_value(hdr_get(&h, "Status", 0), &v);
			s = buf_str(&v);
			if ((s[0] != '4' && s[0] != '5') || s[1] != '.' ||
			    strspn(s + 2, "0123456789.") != strlen(s + 2))
				why = "a Status that is not 4.x.x or 5.x.x";
			buf_reset(&v);
			(*nrcpt)++;
		}
		hdr_release(&h);
	}
	if (why == NULL && pos != n + 2)
		why = "the delivery status does not end with a field";
	if (why == NULL && *nrcpt == 0)
		why = "no recipient in the delivery status";
	buf_release(&v);
	return why;
}

static const char *
dsn_check(const char *p, size_t n, struct dsn_view *v)
{
	static const char *const once[] = {
		"From", "To", "Subject", "Date", "Message-ID",
		"Auto-Submitted", "MIME-Version", "Content-Type", NULL
	};
	static const char bchars[] = "0123456789"
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "'()+_,-./:=? ";
	struct hdrlist	 h;
	struct buf	 ct = BUF_INIT;
	const char	*why, *b, *e, *line, *end = p + n, *start = NULL;
	char		 dl[80];
	size_t		 used, bl, dlen, k = 0, i;
	int		 closed = 0;

	memset(v, 0, sizeof(*v));
	if ((why = dsn_check_lines(p, n)) != NULL)
		return why;
	hdr_init(&h);
	why = dsn_check_fields(p, n, &used, once, &h);
	if (why == NULL)
		hdr_value(hdr_get(&h, "Content-Type", 0), &ct);
	hdr_release(&h);
	if (why != NULL) {
		buf_release(&ct);
		return why;
	}
	/* Unfolded, the parameters may be apart by a tab. */
	b = buf_str(&ct) + 46;
	if (strncmp(buf_str(&ct), "multipart/report; "
	    "report-type=delivery-status;", 46) != 0 ||
	    (b += strspn(b, " \t"), strncmp(b, "boundary=\"", 10)) != 0 ||
	    (e = strchr(b + 10, '"')) == NULL || e[1] != '\0') {
		buf_release(&ct);
		return "not a multipart/report of delivery status";
	}
	b += 10;
	bl = (size_t)(e - b);
	if (bl < 1 || bl > 70 || strspn(b, bchars) < bl || b[bl - 1] == ' ') {
		buf_release(&ct);
		return "a boundary RFC 2046 does not allow";
	}
	memcpy(v->boundary, b, bl);
	v->boundary[bl] = '\0';
	buf_release(&ct);
	dlen = (size_t)snprintf(dl, sizeof(dl), "--%s", v->boundary);

	/* The body, line by line: a delimiter line ends the content
	 * before it together with its own leading CRLF. */
	for (line = p + used; line < end; line = e + 2) {
		e = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (closed)
			return "something after the close delimiter";
		if ((size_t)(end - line) < dlen ||
		    memcmp(line, dl, dlen) != 0)
			continue;
		if (e == line + dlen) {
			;
		} else if (e == line + dlen + 2 && line[dlen] == '-' &&
		    line[dlen + 1] == '-')
			closed = 1;
		else
			return "a line that starts like a delimiter";
		if (start != NULL) {
			if (k == 3)
				return "more than three parts";
			if (line - start < 2)
				return "a part without a header";
			if ((why = dsn_check_type(start,
			    (size_t)(line - 2 - start), (int)k, &v->body[k],
			    &v->bodylen[k])) != NULL)
				return why;
			k++;
		}
		if (closed && start == NULL)
			return "closed before the first part";
		start = e + 2;
	}
	if (!closed)
		return "no close delimiter";
	if (k != 3)
		return "not three parts";
	for (i = 0; i < v->bodylen[1]; i++)
		if ((unsigned char)v->body[1][i] >= 0x80)
			return "8-bit bytes in the delivery status";
	return dsn_check_status(v->body[1], v->bodylen[1], &v->nrcpt);
}

#endif
