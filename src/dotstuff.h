#ifndef POSTIE_DOTSTUFF_H
#define POSTIE_DOTSTUFF_H

#include <stddef.h>

#include "buf.h"

/*
 * SMTP transparency (RFC 5321 4.5.2) over canonical input (CRLF only, as
 * canon.h produces): a '.' at the start of a line gets another '.' in
 * front.  Streaming: any chunking gives the same output; lines are found
 * with memchr and copied whole.  dot_finish() appends the one terminator
 * ".\r\n" (the input already ends in CRLF; should it not, a CRLF is
 * added first so the terminator is always a line of its own).  Empty
 * input gives just ".\r\n".
 */
struct dotstuff {
	int	 at_bol;
};

void	dot_init(struct dotstuff *);
void	dot_feed(struct dotstuff *, const char *in, size_t n, struct buf *out);
void	dot_finish(struct dotstuff *, struct buf *out);

#endif
