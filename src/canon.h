#ifndef POSTIE_CANON_H
#define POSTIE_CANON_H

#include <stddef.h>

#include "buf.h"

/*
 * Line-ending canonicalisation, streaming: LF, CRLF, lone CR and any mix
 * all become CRLF; NUL bytes are dropped and counted (postie's NUL policy:
 * strip and warn, never truncate).  Feed any chunking of the input; the
 * output is the same.  After canon_finish() the output ends in CRLF
 * (unless it is empty) and contains no CR or LF that is not part of a
 * CRLF pair.
 */
struct canon {
	int		 pending_cr;	/* the last byte fed was a CR */
	int		 at_bol;	/* output is at a line start */
	unsigned long long nuls;	/* NUL bytes dropped */
	unsigned long long bytes_out;
	int		 has_8bit;	/* saw a byte >= 0x80 */
};

void	canon_init(struct canon *);
void	canon_feed(struct canon *, const char *in, size_t n, struct buf *out);
/* Flush a pending CR and add the final CRLF when the input lacked one. */
void	canon_finish(struct canon *, struct buf *out);

#endif
