#ifndef POSTIE_DOTSTUFF_H
#define POSTIE_DOTSTUFF_H

#include <stddef.h>

#include "buf.h"

/*
 * SMTP transparency (RFC 5321 4.5.2) over canonical input (CRLF only, as
 * canon.h produces): a '.' at the start of a line gets another '.' in
 * front.  Streaming: any chunking gives the same output.  dot_finish()
 * appends the one terminator ".\r\n" (the input already ends in CRLF).
 */
struct dotstuff {
	int	 at_bol;
};

void	dot_init(struct dotstuff *);
void	dot_feed(struct dotstuff *, const char *in, size_t n, struct buf *out);
void	dot_finish(struct dotstuff *, struct buf *out);

#endif
