#include "config.h"

#include <stdint.h>
#include <string.h>

#include "canon.h"

/*
 * The input is scanned with memchr(3) for the three bytes that need work
 * (CR, LF, NUL); the runs between them are copied with one memcpy each
 * into space reserved once per feed.  The next position of each special
 * byte is remembered, so every byte is searched at most once per kind.
 *
 * NUL bytes are dropped before line endings are looked at: "\r\0\n" is
 * one CRLF, exactly as if the NUL had never been there.
 *
 * A CR is only counted when it is read; what it becomes is known at the
 * next byte that is neither CR nor NUL (in CANON_CR, at the next byte
 * that is not NUL).  CRs held over from an earlier feed are settled
 * before space is reserved: there may be more of them than bytes in
 * this feed.
 */

#define SPACES_MAX	4096	/* spaces appended per step by settle() */

static int	has_high_bit(const unsigned char *, size_t);
static const char *next_of(const char *, const char *, int);
static void	settle(struct canon *, int, struct buf *);

void
canon_init(struct canon *c)
{
	c->mode = CANON_LF;
	c->pending_cr = 0;
	c->at_bol = 1;
	c->nuls = 0;
	c->bytes_out = 0;
	c->has_8bit = 0;
}

void
canon_set_mode(struct canon *c, enum canon_mode mode)
{
	c->mode = mode;
}

/* Does any of the n bytes at p have its top bit set?  A word at a time. */
static int
has_high_bit(const unsigned char *p, size_t n)
{
	const uint64_t	 mask = UINT64_C(0x8080808080808080);
	uint64_t	 w, acc = 0;
	unsigned char	 tail = 0;

	while (n >= 32) {
		memcpy(&w, p, 8);
		acc |= w;
		memcpy(&w, p + 8, 8);
		acc |= w;
		memcpy(&w, p + 16, 8);
		acc |= w;
		memcpy(&w, p + 24, 8);
		acc |= w;
		if (acc & mask)
			return 1;
		p += 32;
		n -= 32;
	}
	while (n >= 8) {
		memcpy(&w, p, 8);
		acc |= w;
		p += 8;
		n -= 8;
	}
	while (n > 0) {
		tail |= *p++;
		n--;
	}
	return (acc & mask) != 0 || (tail & 0x80) != 0;
}

/* The next `ch` in [p, end), or `end` when there is none. */
static const char *
next_of(const char *p, const char *end, int ch)
{
	const char	*q;

	q = memchr(p, ch, (size_t)(end - p));
	return q == NULL ? end : q;
}

/*
 * End the run of held CRs: one line end when an LF follows it (`lf`; the
 * caller skips the LF) or in CANON_CR, else a space for each CR.
 */
static void
settle(struct canon *c, int lf, struct buf *out)
{
	size_t	 k;

	if (lf || c->mode == CANON_CR) {
		buf_add(out, "\r\n", 2);
		c->bytes_out += 2;
		c->at_bol = 1;
	} else {
		while (c->pending_cr > 0) {
			k = c->pending_cr < SPACES_MAX ?
			    (size_t)c->pending_cr : SPACES_MAX;
			buf_grow(out, k);
			memset(out->data + out->len, ' ', k);
			out->len += k;
			out->data[out->len] = '\0';
			c->bytes_out += k;
			c->pending_cr -= k;
		}
		c->at_bol = 0;
	}
	c->pending_cr = 0;
}

void
canon_feed(struct canon *c, const char *in, size_t n, struct buf *out)
{
	const char	*p, *end, *cr, *lf, *nul, *stop;
	char		*o, *start;
	size_t		 run;

	/* Before any arithmetic: `in` may be NULL when n is 0. */
	if (n == 0)
		return;
	p = in;
	end = in + n;

	/* CRs held over from the last feed, up to the byte that settles them. */
	while (c->pending_cr > 0 && p < end) {
		if (*p == '\0') {
			c->nuls++;
			p++;
		} else if (*p == '\r' && c->mode == CANON_LF) {
			c->pending_cr++;
			p++;
		} else {
			settle(c, *p == '\n', out);
			if (*p == '\n')
				p++;
		}
	}
	if (p == end)
		return;

	/*
	 * From here every CR is one of this feed's: each becomes at most one
	 * byte, or with its LF one CRLF.  Worst case: every byte an LF.
	 */
	buf_grow(out, 2 * (size_t)(end - p) + 2);
	start = o = out->data + out->len;

	cr = next_of(p, end, '\r');
	lf = next_of(p, end, '\n');
	nul = next_of(p, end, '\0');
	while (p < end) {
		if (c->pending_cr > 0) {
			if (*p == '\0') {
				c->nuls++;
				p++;
				continue;
			}
			if (*p == '\r' && c->mode == CANON_LF) {
				c->pending_cr++;
				p++;
				continue;
			}
			if (*p == '\n' || c->mode == CANON_CR) {
				*o++ = '\r';
				*o++ = '\n';
				c->at_bol = 1;
				if (*p == '\n')
					p++;
			} else {
				/* Stray CRs, no more than were read here. */
				memset(o, ' ', (size_t)c->pending_cr);
				o += c->pending_cr;
				c->at_bol = 0;
			}
			c->pending_cr = 0;
			continue;
		}

		if (cr < p)
			cr = next_of(p, end, '\r');
		if (lf < p)
			lf = next_of(p, end, '\n');
		if (nul < p)
			nul = next_of(p, end, '\0');
		stop = cr;
		if (lf < stop)
			stop = lf;
		if (nul < stop)
			stop = nul;

		run = (size_t)(stop - p);
		if (run > 0) {
			if (!c->has_8bit &&
			    has_high_bit((const unsigned char *)p, run))
				c->has_8bit = 1;
			memcpy(o, p, run);
			o += run;
			c->at_bol = 0;
			p = stop;
		}
		if (p == end)
			break;

		switch (*p++) {
		case '\0':
			c->nuls++;
			break;
		case '\n':
			*o++ = '\r';
			*o++ = '\n';
			c->at_bol = 1;
			break;
		default:	/* '\r': decided by the bytes after it */
			c->pending_cr = 1;
			break;
		}
	}

	c->bytes_out += (unsigned long long)(o - start);
	out->len += (size_t)(o - start);
	out->data[out->len] = '\0';
}

void
canon_finish(struct canon *c, struct buf *out)
{
	if (c->pending_cr > 0)
		settle(c, 0, out);
	if (!c->at_bol) {
		buf_add(out, "\r\n", 2);
		c->bytes_out += 2;
	}
	c->at_bol = 1;
}
