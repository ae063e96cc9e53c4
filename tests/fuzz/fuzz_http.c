/*
 * http_parse() and http_parse_eof() (http.h) over a server's bytes: the
 * input is parsed whole, then again in pieces (their sizes taken from
 * the input itself), with a small body cap; both runs must agree on the
 * state, the reason, the status, the kept fields and the body, and what
 * is accepted must hold the header's promises.
 */
#include "config.h"
#include <string.h>
#include "buf.h"
#include "http.h"
#include "fuzz.h"

#define CAP	 1024

struct run {
	struct http_response	 r;
	enum http_state		 st;
	const char		*why;
	size_t			 used;
};

static void	run_pieces(struct run *, const uint8_t *, size_t, int);
static int	same_buf(const struct buf *, const struct buf *);

/* Feed in pieces of 1..16 bytes chosen by the bytes (0: all at once). */
static void
run_pieces(struct run *x, const uint8_t *d, size_t n, int pieces)
{
	struct http_parser	 p;
	size_t			 off = 0, k, used;

	http_response_init(&x->r);
	http_parser_init(&p, &x->r, CAP);
	x->st = HTTP_MORE;
	x->used = 0;
	x->why = NULL;
	while (off < n && x->st == HTTP_MORE) {
		k = pieces ? 1 + (size_t)d[off] % 16 : n - off;
		if (k > n - off)
			k = n - off;
		x->st = http_parse(&p, (const char *)d + off, k, &used,
		    &x->why);
		FUZZ_ASSERT(used <= k);
		FUZZ_ASSERT(x->st != HTTP_MORE || used == k);
		x->used += used;
		off += k;
	}
	if (x->st == HTTP_MORE)
		x->st = http_parse_eof(&p, 1, &x->why);
	FUZZ_ASSERT(x->st != HTTP_MORE);
	http_parser_release(&p);
}

static int
same_buf(const struct buf *a, const struct buf *b)
{
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	 whole, split;

	run_pieces(&whole, data, size, 0);
	run_pieces(&split, data, size, 1);

	FUZZ_ASSERT(whole.st == split.st);
	if (whole.st == HTTP_BAD) {
		FUZZ_ASSERT(whole.why != NULL && *whole.why != '\0');
		FUZZ_ASSERT(split.why != NULL &&
		    strcmp(whole.why, split.why) == 0);
	} else {
		FUZZ_ASSERT(whole.used == split.used && whole.used <= size);
		FUZZ_ASSERT(whole.r.status >= 200 && whole.r.status <= 599);
		FUZZ_ASSERT(whole.r.minor == 0 || whole.r.minor == 1);
		FUZZ_ASSERT(whole.r.body.len <= CAP);
		FUZZ_ASSERT(whole.r.status == split.r.status);
		FUZZ_ASSERT(whole.r.close == split.r.close);
		FUZZ_ASSERT(same_buf(&whole.r.body, &split.r.body));
		FUZZ_ASSERT(same_buf(&whole.r.content_type,
		    &split.r.content_type));
		FUZZ_ASSERT(same_buf(&whole.r.location, &split.r.location));
		FUZZ_ASSERT(same_buf(&whole.r.www_authenticate,
		    &split.r.www_authenticate));
		/* Kept fields hold no NUL, CR or LF. */
		FUZZ_ASSERT(whole.r.location.len == 0 ||
		    strcspn(whole.r.location.data, "\r\n") ==
		    whole.r.location.len);
		FUZZ_ASSERT(whole.r.content_type.len == 0 ||
		    strcspn(whole.r.content_type.data, "\r\n") ==
		    whole.r.content_type.len);
	}
	http_response_release(&whole.r);
	http_response_release(&split.r);
	return 0;
}
