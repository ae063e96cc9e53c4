#ifndef POSTIE_CANON_H
#define POSTIE_CANON_H

#include <stddef.h>

#include "buf.h"

/*
 * Line-ending canonicalisation, streaming: LF, CRLF, lone CR and any mix
 * all become CRLF; NUL bytes are dropped and counted (postie's NUL policy:
 * strip and warn, never truncate); they go before line endings are
 * looked at, so "\r\0\n" is one CRLF.  Feed any chunking of the input
 * (a CR may end one chunk and its LF start the next); the output is the
 * same.  Runs of ordinary bytes are found with memchr and copied whole.
 * After canon_finish() the output ends in CRLF (unless it is empty) and
 * contains no CR or LF that is not part of a CRLF pair.  bytes_out counts
 * every byte appended by feed and finish.
 */
struct canon {
	int		 pending_cr;	/* a CR waits for the next non-NUL byte */
	int		 at_bol;	/* output is at a line start */
	unsigned long long nuls;	/* NUL bytes dropped */
	unsigned long long bytes_out;
	int		 has_8bit;	/* saw a byte >= 0x80 */
};

void	canon_init(struct canon *);
/* Append the canonical form of `n` bytes of input to `out`. */
void	canon_feed(struct canon *, const char *in, size_t n, struct buf *out);
/* Flush a pending CR and add the final CRLF when the input lacked one
 * (empty input stays empty).  The state is then at a line start. */
void	canon_finish(struct canon *, struct buf *out);

#endif
