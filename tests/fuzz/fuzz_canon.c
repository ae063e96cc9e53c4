/*
 * canon_feed()/canon_finish() and dot_feed()/dot_finish() (canon.h,
 * dotstuff.h) over a message body fed in chunks chosen by the input's
 * first byte, whose top bit picks the mode: the same output as one feed,
 * no bare CR or LF, NULs gone and counted, canonical text unchanged by a
 * second pass; in CANON_LF a line end for each LF of the input and no
 * other (plus the one added after an unterminated last line); after
 * dot-stuffing exactly one terminator, at the end, and un-stuffing gives
 * back the canonical text.
 */
#include "config.h"
#include <string.h>
#include "buf.h"
#include "canon.h"
#include "dotstuff.h"
#include "fuzz.h"

static void	no_bare(const struct buf *);

static void
no_bare(const struct buf *b)
{
	size_t	 i;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\r')
			FUZZ_ASSERT(i + 1 < b->len && b->data[i + 1] == '\n');
		if (b->data[i] == '\n')
			FUZZ_ASSERT(i > 0 && b->data[i - 1] == '\r');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct canon	 c1, c2;
	enum canon_mode	 mode;
	struct dotstuff	 d1, d2;
	struct buf	 whole = BUF_INIT, chunked = BUF_INIT;
	struct buf	 s1 = BUF_INIT, s2 = BUF_INIT, un = BUF_INIT;
	const char	*in;
	unsigned	 seed;
	size_t		 off, n, i, nuls = 0, bol, lfs = 0, crlfs = 0;
	int		 tail = 0;

	if (size < 1)
		return 0;
	/* The first byte picks the chunk sizes; the rest is the text. */
	seed = data[0];
	mode = seed & 0x80 ? CANON_CR : CANON_LF;
	in = (const char *)data + 1;
	size--;
	for (i = 0; i < size; i++) {
		if (in[i] == '\0')
			nuls++;
		else if (in[i] == '\n') {
			lfs++;
			tail = 0;
		} else
			tail = 1;	/* a byte after the last LF */
	}

	canon_init(&c1);
	canon_set_mode(&c1, mode);
	canon_feed(&c1, in, size, &whole);
	canon_finish(&c1, &whole);

	canon_init(&c2);
	canon_set_mode(&c2, mode);
	for (off = 0; off < size; off += n) {
		n = 1 + (seed + off) % 7;
		if (n > size - off)
			n = size - off;
		canon_feed(&c2, in + off, n, &chunked);
	}
	canon_finish(&c2, &chunked);

	FUZZ_ASSERT(whole.len == chunked.len);
	FUZZ_ASSERT(whole.len == 0 ||
	    memcmp(whole.data, chunked.data, whole.len) == 0);
	FUZZ_ASSERT(c1.nuls == nuls && c2.nuls == nuls);
	FUZZ_ASSERT(c1.bytes_out == whole.len && c2.bytes_out == whole.len);
	FUZZ_ASSERT(whole.len == 0 || memchr(whole.data, '\0', whole.len) == NULL);
	FUZZ_ASSERT((whole.len == 0) == (size == nuls));
	no_bare(&whole);
	if (whole.len > 0)
		FUZZ_ASSERT(whole.len >= 2 && whole.data[whole.len - 2] == '\r' &&
		    whole.data[whole.len - 1] == '\n');
	/* In CANON_LF only an LF ends a line: a CR never does. */
	for (i = 0; i < whole.len; i++)
		if (whole.data[i] == '\n')
			crlfs++;
	if (mode == CANON_LF)
		FUZZ_ASSERT(crlfs == lfs + (size_t)tail);

	/* Canonical text is a fixed point. */
	buf_reset(&s2);
	canon_init(&c2);
	canon_set_mode(&c2, mode);
	canon_feed(&c2, whole.data, whole.len, &s2);
	canon_finish(&c2, &s2);
	FUZZ_ASSERT(s2.len == whole.len && c2.nuls == 0);
	FUZZ_ASSERT(whole.len == 0 || memcmp(s2.data, whole.data, whole.len) == 0);
	buf_reset(&s2);

	/* Dot-stuff the canonical text, whole and in chunks (an empty
	 * buffer's data is NULL: dot_feed() takes NULL with 0). */
	dot_init(&d1);
	dot_feed(&d1, whole.data, whole.len, &s1);
	dot_finish(&d1, &s1);
	dot_init(&d2);
	for (off = 0; off < whole.len; off += n) {
		n = 1 + (seed * 7 + off) % 11;
		if (n > whole.len - off)
			n = whole.len - off;
		dot_feed(&d2, whole.data + off, n, &s2);
	}
	dot_finish(&d2, &s2);
	FUZZ_ASSERT(s1.len == s2.len && memcmp(s1.data, s2.data, s1.len) == 0);
	no_bare(&s1);

	/* Exactly one ".\r\n" line, and it is the last. */
	FUZZ_ASSERT(s1.len >= 3);
	FUZZ_ASSERT(memcmp(s1.data + s1.len - 3, ".\r\n", 3) == 0);
	FUZZ_ASSERT(s1.len == 3 || s1.data[s1.len - 4] == '\n');
	for (bol = 0; bol < s1.len; ) {
		const char *nl = memchr(s1.data + bol, '\n', s1.len - bol);

		FUZZ_ASSERT(nl != NULL);
		n = (size_t)(nl - (s1.data + bol)) + 1;
		if (bol + n < s1.len) {
			/* Not the terminator: un-stuff it. */
			FUZZ_ASSERT(!(n == 3 && s1.data[bol] == '.'));
			if (s1.data[bol] == '.') {
				FUZZ_ASSERT(n > 1 && s1.data[bol + 1] == '.');
				buf_add(&un, s1.data + bol + 1, n - 1);
			} else
				buf_add(&un, s1.data + bol, n);
		}
		bol += n;
	}
	FUZZ_ASSERT(un.len == whole.len);
	FUZZ_ASSERT(un.len == 0 || memcmp(un.data, whole.data, un.len) == 0);

	/* Over text that is not canonical (outside the contract, but it
	 * must not crash) the terminator is still a line of its own. */
	buf_reset(&s2);
	dot_init(&d2);
	dot_feed(&d2, in, size, &s2);
	dot_finish(&d2, &s2);
	FUZZ_ASSERT(s2.len >= 3 &&
	    memcmp(s2.data + s2.len - 3, ".\r\n", 3) == 0);
	FUZZ_ASSERT(s2.len == 3 || s2.data[s2.len - 4] == '\n');

	buf_release(&whole);
	buf_release(&chunked);
	buf_release(&s1);
	buf_release(&s2);
	buf_release(&un);
	return 0;
}
