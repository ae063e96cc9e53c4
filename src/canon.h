#ifndef POSTIE_CANON_H
#define POSTIE_CANON_H

#include <stddef.h>

#include "buf.h"

/*
 * Line-ending canonicalisation, streaming.  NUL bytes are dropped and
 * counted first (postie's NUL policy: strip and warn, never truncate),
 * so "\r\0\n" is "\r\n".  Then, by the mode chosen before the first
 * byte is fed:
 *
 *   CANON_LF (the default): a line ends at an LF, and any CRs right
 *   before it ("\r\n", "\r\r\n") are part of that one line end.  Any
 *   other CR is a stray CR and becomes a space, one for each CR: it is
 *   never sent, since SMTP forbids a bare CR (RFC 5321 2.3.8) and
 *   receivers disagree on what it means, and it never ends a line, so a
 *   CR in a header value cannot start a field of its own.
 *
 *   CANON_CR: CR-only input (classic Mac OS).  CR, LF and CRLF each end
 *   a line.  Which mode applies is decided once per message, never per
 *   line; message.c says how.
 *
 * Every line end is written as CRLF.  Feed any chunking of the input (a
 * run of CRs may span chunks: it waits for the byte after it); the output
 * is the same.  Runs of ordinary bytes are found with memchr and copied
 * whole.  After canon_finish() the output ends in CRLF (unless it is
 * empty) and contains no CR or LF that is not part of a CRLF pair.
 * bytes_out counts every byte appended by feed and finish.  One feed of
 * n bytes appends at most 2n + 2 bytes, plus a space for each CR held
 * over from earlier feeds.
 */
enum canon_mode {
	CANON_LF,
	CANON_CR
};

struct canon {
	enum canon_mode	 mode;
	unsigned long long pending_cr;	/* CRs waiting for the next byte that
					 * is neither CR nor NUL */
	int		 at_bol;	/* output is at a line start */
	unsigned long long nuls;	/* NUL bytes dropped */
	unsigned long long bytes_out;
	int		 has_8bit;	/* saw a byte >= 0x80 */
};

/* Start in CANON_LF. */
void	canon_init(struct canon *);
/* Choose the mode; only between canon_init() and the first feed. */
void	canon_set_mode(struct canon *, enum canon_mode);
/* Append the canonical form of `n` bytes of input to `out`. */
void	canon_feed(struct canon *, const char *in, size_t n, struct buf *out);
/* Settle held CRs (at the end of input nothing follows them: in CANON_LF
 * they are spaces) and add the final CRLF when the input lacked one
 * (empty input stays empty).  The state is then at a line start. */
void	canon_finish(struct canon *, struct buf *out);

#endif
