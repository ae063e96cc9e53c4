#include "config.h"

#include <string.h>

#include "dotstuff.h"

/*
 * Lines are found with memchr(3) and copied whole with memcpy; the only
 * byte ever inserted is the extra '.' in front of a line that starts with
 * one.  A line "starts" after every LF: over canonical input each LF
 * ends a CRLF pair.
 */

void
dot_init(struct dotstuff *d)
{
	d->at_bol = 1;
}

void
dot_feed(struct dotstuff *d, const char *in, size_t n, struct buf *out)
{
	const char	*p, *end, *lf;
	char		*o;
	size_t		 run;

	/* Before any arithmetic: `in` may be NULL when n is 0. */
	if (n == 0)
		return;
	p = in;
	end = in + n;
	/* Worst case (non-canonical input): a '.' added for every byte. */
	buf_grow(out, 2 * n);
	o = out->data + out->len;

	while (p < end) {
		if (d->at_bol && *p == '.')
			*o++ = '.';
		lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL) {
			run = (size_t)(end - p);
			d->at_bol = 0;
		} else {
			run = (size_t)(lf - p) + 1;
			d->at_bol = 1;
		}
		memcpy(o, p, run);
		o += run;
		p += run;
	}

	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

void
dot_finish(struct dotstuff *d, struct buf *out)
{
	/* Canonical input ends in CRLF; never let a stray tail join the
	 * terminator line. */
	if (!d->at_bol)
		buf_add(out, "\r\n", 2);
	buf_add(out, ".\r\n", 3);
	d->at_bol = 1;
}
