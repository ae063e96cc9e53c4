#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "canon.h"
#include "dotstuff.h"
#include "t.h"

/*
 * Line-ending canonicalisation (both modes) and dot-stuffing: table
 * cases, then a property test over random inputs and random chunkings,
 * checked against a byte-at-a-time reference written here.
 */

static uint64_t	 rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint32_t	 rng(void);
static size_t	 rng_below(size_t);
static void	 ref_canon(const char *, size_t, enum canon_mode, struct buf *,
		    unsigned long long *);
static void	 canon_chunked(const char *, size_t, size_t, int,
		    enum canon_mode, struct buf *, struct canon *);
static void	 stuff_chunked(const char *, size_t, size_t, int,
		    struct buf *);
static void	 check_canon_case(const char *, size_t, enum canon_mode,
		    const char *, size_t, unsigned long long, int);
static void	 check_dot_case(const char *, const char *);
static int	 bare_cr_lf(const char *, size_t);
static int	 unstuff(const char *, size_t, struct buf *);
static int	 dot_line_before_end(const char *, size_t);
static size_t	 count_seq(const char *, size_t, const char *, size_t);
static void	 test_table_lf(void);
static void	 test_table_cr(void);
static void	 test_long_cr_run(void);
static void	 test_counters(void);
static void	 test_dot_table(void);
static void	 test_property(void);

/* xorshift64*: fixed seed, the same sequence on every platform. */
static uint32_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * UINT64_C(0x2545F4914F6CDD1D)) >> 32);
}

static size_t
rng_below(size_t n)
{
	return n == 0 ? 0 : (size_t)rng() % n;
}

/*
 * The reference: drop NULs; then in CANON_LF turn an LF with the CRs
 * right before it into CRLF and every other CR into a space, in CANON_CR
 * turn CRLF, CR and LF into CRLF; then terminate a non-empty last line.
 * One byte at a time, obviously right.
 */
static void
ref_canon(const char *in, size_t n, enum canon_mode mode, struct buf *out,
    unsigned long long *nuls)
{
	struct buf	 t = BUF_INIT;
	size_t		 i, j;

	*nuls = 0;
	for (i = 0; i < n; i++) {
		if (in[i] == '\0')
			(*nuls)++;
		else
			buf_addch(&t, in[i]);
	}
	for (i = 0; i < t.len; i++) {
		if (t.data[i] == '\r' && mode == CANON_LF) {
			for (j = i; j < t.len && t.data[j] == '\r'; j++)
				;
			if (j < t.len && t.data[j] == '\n') {
				buf_add(out, "\r\n", 2);
				i = j;
			} else
				buf_addch(out, ' ');
		} else if (t.data[i] == '\r') {
			buf_add(out, "\r\n", 2);
			if (i + 1 < t.len && t.data[i + 1] == '\n')
				i++;
		} else if (t.data[i] == '\n')
			buf_add(out, "\r\n", 2);
		else
			buf_addch(out, t.data[i]);
	}
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_add(out, "\r\n", 2);
	buf_release(&t);
}

/*
 * Feed `in` through canon in chunks: of `chunk` bytes each when `random`
 * is 0, else of random sizes up to `chunk` (empty chunks included).
 */
static void
canon_chunked(const char *in, size_t n, size_t chunk, int random,
    enum canon_mode mode, struct buf *out, struct canon *c)
{
	size_t	 off = 0, k;

	canon_init(c);
	canon_set_mode(c, mode);
	while (off < n) {
		k = random ? rng_below(chunk + 1) : chunk;
		if (k > n - off)
			k = n - off;
		canon_feed(c, in + off, k, out);
		off += k;
	}
	canon_finish(c, out);
}

static void
stuff_chunked(const char *in, size_t n, size_t chunk, int random,
    struct buf *out)
{
	struct dotstuff	 d;
	size_t		 off = 0, k;

	dot_init(&d);
	while (off < n) {
		k = random ? rng_below(chunk + 1) : chunk;
		if (k > n - off)
			k = n - off;
		dot_feed(&d, in + off, k, out);
		off += k;
	}
	dot_finish(&d, out);
}

/* Check one case whole, byte by byte, and split at every position. */
static void
check_canon_case(const char *in, size_t n, enum canon_mode mode,
    const char *want, size_t wantlen, unsigned long long nuls, int line)
{
	struct buf	 out = BUF_INIT, ref = BUF_INIT;
	struct canon	 c;
	unsigned long long rnuls;
	size_t		 split;
	int		 ok;

	canon_chunked(in, n, n == 0 ? 1 : n, 0, mode, &out, &c);
	ok = out.len == wantlen && memcmp(buf_str(&out), want, wantlen) == 0;
	if (!ok)
		fprintf(stderr, "test_canon.c:%d: table case differs\n", line);
	CHECK(ok);
	CHECK_INT(c.nuls, nuls);
	CHECK_INT(c.bytes_out, wantlen);

	ref_canon(in, n, mode, &ref, &rnuls);
	CHECK(ref.len == wantlen && memcmp(buf_str(&ref), want, wantlen) == 0);
	CHECK_INT(rnuls, nuls);

	buf_reset(&out);
	canon_chunked(in, n, 1, 0, mode, &out, &c);
	ok = out.len == wantlen && memcmp(buf_str(&out), want, wantlen) == 0;
	if (!ok)
		fprintf(stderr, "test_canon.c:%d: byte by byte differs\n", line);
	CHECK(ok);

	for (split = 0; split <= n; split++) {
		buf_reset(&out);
		canon_init(&c);
		canon_set_mode(&c, mode);
		canon_feed(&c, in, split, &out);
		canon_feed(&c, in + split, n - split, &out);
		canon_finish(&c, &out);
		ok = out.len == wantlen &&
		    memcmp(buf_str(&out), want, wantlen) == 0;
		if (!ok)
			fprintf(stderr, "test_canon.c:%d: split at %zu "
			    "differs\n", line, split);
		CHECK(ok);
	}
	buf_release(&out);
	buf_release(&ref);
}

#define CANON(in, want, nuls)	\
	check_canon_case(in, sizeof(in) - 1, CANON_LF, want, sizeof(want) - 1, \
	    nuls, __LINE__)
#define CANON_MAC(in, want, nuls)	\
	check_canon_case(in, sizeof(in) - 1, CANON_CR, want, sizeof(want) - 1, \
	    nuls, __LINE__)

/* The default: an LF (and the CRs right before it) ends a line, any other
 * CR is a space. */
static void
test_table_lf(void)
{
	CANON("", "", 0);
	CANON("a\n", "a\r\n", 0);
	CANON("a\r\n", "a\r\n", 0);
	CANON("a", "a\r\n", 0);
	CANON("\n", "\r\n", 0);
	CANON("\r\n", "\r\n", 0);
	CANON("\n\n", "\r\n\r\n", 0);
	/* A run of CRs before an LF is one line end. */
	CANON("\r\r\n", "\r\n", 0);
	CANON("a\r\r\r\nb\r\r\n", "a\r\nb\r\n", 0);
	CANON("To: a\r\r\nBcc: s\r\r\n\r\r\nbody\r\r\n",
	    "To: a\r\nBcc: s\r\n\r\nbody\r\n", 0);
	CANON("\n\r\r\n\n", "\r\n\r\n\r\n", 0);
	/* Stray CRs: a space each, never a line end. */
	CANON("a\rb\n", "a b\r\n", 0);
	CANON("Subject: hi\rBcc: victim@x\n",
	    "Subject: hi Bcc: victim@x\r\n", 0);
	CANON("a\r\r\rb", "a   b\r\n", 0);
	CANON("\ra\n", " a\r\n", 0);
	CANON("\r", " \r\n", 0);
	CANON("\r\r", "  \r\n", 0);
	CANON("a\r", "a \r\n", 0);
	CANON("a\n\r", "a\r\n \r\n", 0);
	CANON("\n\r", "\r\n \r\n", 0);
	CANON("\r\n\r", "\r\n \r\n", 0);
	CANON("a\rb\r\nc\r\r\n\rd\n", "a b\r\nc\r\n d\r\n", 0);
	CANON("one\r\ntwo\nthree\rfour\n", "one\r\ntwo\r\nthree four\r\n",
	    0);
	CANON(".\n", ".\r\n", 0);
	CANON(".\r.\n", ". .\r\n", 0);
	CANON("..", "..\r\n", 0);
	CANON("a\n.\nb", "a\r\n.\r\nb\r\n", 0);
	CANON("no final newline", "no final newline\r\n", 0);
	/* NULs go first, inside a run of CRs too. */
	CANON("\0", "", 1);
	CANON("a\0b\n", "ab\r\n", 1);
	CANON("\0\0\0", "", 3);
	CANON("a\0", "a\r\n", 1);
	CANON("\r\0\n", "\r\n", 1);
	CANON("\r\0\r\0\n", "\r\n", 2);
	CANON("\r\0\0x", " x\r\n", 2);
	CANON("\r\0", " \r\n", 1);
	CANON("x\r\0\r\n", "x\r\n", 1);
	CANON("x\r\0y\r\n", "x y\r\n", 1);
	CANON("\xff\xfe\r", "\xff\xfe \r\n", 0);
	CANON("\xff\r\xfe\n", "\xff \xfe\r\n", 0);
}

/* CR-only input: CR, LF and CRLF each end a line. */
static void
test_table_cr(void)
{
	CANON_MAC("", "", 0);
	CANON_MAC("a\n", "a\r\n", 0);
	CANON_MAC("a\r\n", "a\r\n", 0);
	CANON_MAC("a\r", "a\r\n", 0);
	CANON_MAC("a", "a\r\n", 0);
	CANON_MAC("\n", "\r\n", 0);
	CANON_MAC("\r", "\r\n", 0);
	CANON_MAC("\r\n", "\r\n", 0);
	CANON_MAC("\n\n", "\r\n\r\n", 0);
	CANON_MAC("\r\r", "\r\n\r\n", 0);
	CANON_MAC("\n\r", "\r\n\r\n", 0);
	CANON_MAC("\r\r\n", "\r\n\r\n", 0);
	CANON_MAC("\r\n\r", "\r\n\r\n", 0);
	CANON_MAC("a\nb\rc\r\nd", "a\r\nb\r\nc\r\nd\r\n", 0);
	CANON_MAC("Subject: s\rTo: a@x\r\rbody\r",
	    "Subject: s\r\nTo: a@x\r\n\r\nbody\r\n", 0);
	CANON_MAC("one\r\ntwo\nthree\rfour\n",
	    "one\r\ntwo\r\nthree\r\nfour\r\n", 0);
	CANON_MAC(".\r", ".\r\n", 0);
	CANON_MAC("a\r.\rb", "a\r\n.\r\nb\r\n", 0);
	CANON_MAC("\0", "", 1);
	CANON_MAC("a\0b\r", "ab\r\n", 1);
	CANON_MAC("\r\0\n", "\r\n", 1);
	CANON_MAC("\r\0\0x", "\r\nx\r\n", 2);
	CANON_MAC("\r\0", "\r\n", 1);
	CANON_MAC("x\r\0\r\n", "x\r\n\r\n", 1);
	CANON_MAC("\xff\xfe\r", "\xff\xfe\r\n", 0);
}

/*
 * A run of CRs longer than the feed that settles it (the space reserved
 * per feed does not cover it), fed a byte at a time and in one piece.
 */
static void
test_long_cr_run(void)
{
	static const size_t chunks[] = { 1, 7, 4096, 20000 };
	struct buf	 in = BUF_INIT, out = BUF_INIT, want = BUF_INIT;
	struct canon	 c;
	size_t		 i, k;
	int		 lf;

	for (lf = 0; lf < 2; lf++) {
		buf_reset(&in);
		buf_reset(&want);
		buf_addch(&in, 'a');
		buf_addch(&want, 'a');
		for (i = 0; i < 10000; i++) {
			buf_addch(&in, i % 1000 == 999 ? '\0' : '\r');
			if (!lf && i % 1000 != 999)
				buf_addch(&want, ' ');
		}
		buf_addstr(&in, lf ? "\nb" : "b");
		buf_addstr(&want, lf ? "\r\nb\r\n" : "b\r\n");
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			buf_reset(&out);
			canon_chunked(in.data, in.len, chunks[k], 0, CANON_LF,
			    &out, &c);
			CHECK_INT(out.len, want.len);
			CHECK(memcmp(buf_str(&out), buf_str(&want),
			    want.len) == 0);
			CHECK_INT(c.nuls, 10);
			CHECK_INT(c.bytes_out, want.len);
		}
		/* Everything but the byte that settles the run, then it. */
		buf_reset(&out);
		canon_init(&c);
		canon_feed(&c, in.data, in.len - (lf ? 2 : 1), &out);
		CHECK_INT(out.len, 1);
		canon_feed(&c, in.data + in.len - (lf ? 2 : 1), lf ? 2 : 1,
		    &out);
		canon_finish(&c, &out);
		CHECK_STR(buf_str(&out), buf_str(&want));
	}
	buf_release(&in);
	buf_release(&out);
	buf_release(&want);
}

static void
test_counters(void)
{
	struct buf	 out = BUF_INIT;
	struct canon	 c;
	char		 big[300];

	canon_init(&c);
	canon_feed(&c, "plain ascii\n", 12, &out);
	canon_finish(&c, &out);
	CHECK_INT(c.has_8bit, 0);
	CHECK_INT(c.bytes_out, out.len);

	/* A high byte deep in a long run, and one in a short tail. */
	memset(big, 'x', sizeof(big));
	big[277] = (char)0xc3;
	buf_reset(&out);
	canon_init(&c);
	canon_feed(&c, big, sizeof(big), &out);
	canon_finish(&c, &out);
	CHECK_INT(c.has_8bit, 1);
	CHECK_INT(c.bytes_out, sizeof(big) + 2);
	CHECK_INT(out.len, sizeof(big) + 2);

	buf_reset(&out);
	canon_init(&c);
	canon_feed(&c, "ab\n\x80", 4, &out);
	CHECK_INT(c.has_8bit, 1);
	canon_finish(&c, &out);
	CHECK_STR(buf_str(&out), "ab\r\n\x80\r\n");

	/* 0x7f is not 8-bit. */
	buf_reset(&out);
	canon_init(&c);
	canon_feed(&c, "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", 9, &out);
	CHECK_INT(c.has_8bit, 0);

	/* An empty feed changes nothing. */
	canon_init(&c);
	buf_reset(&out);
	canon_feed(&c, "", 0, &out);
	canon_finish(&c, &out);
	CHECK_INT(out.len, 0);
	CHECK_INT(c.bytes_out, 0);

	/* canon_finish twice adds nothing the second time. */
	canon_init(&c);
	buf_reset(&out);
	canon_feed(&c, "x", 1, &out);
	canon_finish(&c, &out);
	canon_finish(&c, &out);
	CHECK_STR(buf_str(&out), "x\r\n");
	buf_release(&out);
}

static void
check_dot_case(const char *in, const char *want)
{
	struct buf	 out = BUF_INIT;
	struct dotstuff	 d;
	size_t		 n = strlen(in), split;

	stuff_chunked(in, n, n == 0 ? 1 : n, 0, &out);
	CHECK_STR(buf_str(&out), want);
	buf_reset(&out);
	stuff_chunked(in, n, 1, 0, &out);
	CHECK_STR(buf_str(&out), want);
	for (split = 0; split <= n; split++) {
		buf_reset(&out);
		dot_init(&d);
		dot_feed(&d, in, split, &out);
		dot_feed(&d, in + split, n - split, &out);
		dot_finish(&d, &out);
		CHECK_STR(buf_str(&out), want);
	}
	buf_release(&out);
}

static void
test_dot_table(void)
{
	check_dot_case("", ".\r\n");
	check_dot_case("a\r\n", "a\r\n.\r\n");
	check_dot_case(".\r\n", "..\r\n.\r\n");
	check_dot_case("..\r\n", "...\r\n.\r\n");
	check_dot_case(".a\r\n", "..a\r\n.\r\n");
	check_dot_case("a.\r\n", "a.\r\n.\r\n");
	check_dot_case("a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n");
	check_dot_case("\r\n.\r\n", "\r\n..\r\n.\r\n");
	check_dot_case(".\r\n.\r\n.\r\n", "..\r\n..\r\n..\r\n.\r\n");
	check_dot_case("x\r\n\r\n", "x\r\n\r\n.\r\n");
	/* Not canonical (the caller broke the contract): still no
	 * terminator can be formed early. */
	check_dot_case("a", "a\r\n.\r\n");
}

/* A CR not followed by LF, or an LF not preceded by CR? */
static int
bare_cr_lf(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return 1;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 1;
	}
	return 0;
}

static size_t
count_seq(const char *p, size_t n, const char *seq, size_t m)
{
	size_t	 i, k = 0;

	for (i = 0; i + m <= n; i++)
		if (memcmp(p + i, seq, m) == 0)
			k++;
	return k;
}

/* Is there a line holding just "." anywhere but the last line? */
static int
dot_line_before_end(const char *p, size_t n)
{
	size_t	 i = 0, eol;

	while (i < n) {
		for (eol = i; eol + 1 < n; eol++)
			if (p[eol] == '\r' && p[eol + 1] == '\n')
				break;
		if (eol + 1 >= n)
			return 0;	/* unterminated tail: not a line */
		if (eol - i == 1 && p[i] == '.' && eol + 2 < n)
			return 1;
		i = eol + 2;
	}
	return 0;
}

/* Undo stuffing: drop the terminator, then one leading '.' per line. */
static int
unstuff(const char *p, size_t n, struct buf *out)
{
	size_t	 i = 0;
	int	 bol = 1;

	if (n < 3 || memcmp(p + n - 3, ".\r\n", 3) != 0)
		return -1;
	n -= 3;
	for (i = 0; i < n; i++) {
		if (bol && p[i] == '.') {
			bol = 0;
			continue;
		}
		buf_addch(out, p[i]);
		bol = p[i] == '\n';
	}
	return 0;
}

static void
test_property(void)
{
	static const char alphabet[] = {
		'\r', '\r', '\r', '\n', '\n', '\n', '.', '.', '.', '\0',
		'a', 'a', (char)0xff, ' '
	};
	struct buf	 in = BUF_INIT, c1 = BUF_INIT, c2 = BUF_INIT;
	struct buf	 ref = BUF_INIT, s1 = BUF_INIT, s2 = BUF_INIT;
	struct buf	 un = BUF_INIT;
	struct canon	 cs1, cs2;
	enum canon_mode	 mode;
	unsigned long long rnuls;
	size_t		 iter, len, i, maxchunk;
	int		 bad = 0, eight;

	for (iter = 0; iter < 20000 && bad < 10; iter++) {
		buf_reset(&in);
		buf_reset(&c1);
		buf_reset(&c2);
		buf_reset(&ref);
		buf_reset(&s1);
		buf_reset(&s2);
		buf_reset(&un);

		len = iter % 50 == 0 ? rng_below(5000) : rng_below(64);
		eight = 0;
		for (i = 0; i < len; i++) {
			char	 ch;

			ch = alphabet[rng_below(sizeof(alphabet))];
			if ((unsigned char)ch >= 0x80)
				eight = 1;
			buf_addch(&in, ch);
		}
		maxchunk = 1 + rng_below(len + 2);
		mode = iter % 2 == 0 ? CANON_LF : CANON_CR;

		canon_chunked(in.data, in.len, maxchunk, 1, mode, &c1, &cs1);
		canon_chunked(in.data, in.len, 1 + rng_below(7), 1, mode, &c2,
		    &cs2);
		ref_canon(in.data, in.len, mode, &ref, &rnuls);

		/* (e) the reference, and the counters */
		if (c1.len != ref.len ||
		    memcmp(buf_str(&c1), buf_str(&ref), ref.len) != 0 ||
		    cs1.nuls != rnuls || cs1.bytes_out != c1.len ||
		    cs1.has_8bit != eight) {
			fprintf(stderr, "property (e) failed at iteration "
			    "%zu\n", iter);
			bad++;
		}
		/* (d) chunking does not matter */
		if (c1.len != c2.len ||
		    memcmp(buf_str(&c1), buf_str(&c2), c1.len) != 0) {
			fprintf(stderr, "property (d) failed at iteration "
			    "%zu\n", iter);
			bad++;
		}
		if (bare_cr_lf(buf_str(&c1), c1.len)) {
			fprintf(stderr, "canonical output has a bare CR or LF "
			    "at iteration %zu\n", iter);
			bad++;
		}

		stuff_chunked(buf_str(&c1), c1.len, 1 + rng_below(c1.len + 2),
		    1, &s1);
		stuff_chunked(buf_str(&c1), c1.len, 1 + rng_below(5), 1, &s2);
		if (s1.len != s2.len ||
		    memcmp(buf_str(&s1), buf_str(&s2), s1.len) != 0) {
			fprintf(stderr, "property (d) failed for stuffing at "
			    "iteration %zu\n", iter);
			bad++;
		}
		/* (a) no bare CR or LF in what goes on the wire */
		if (bare_cr_lf(buf_str(&s1), s1.len)) {
			fprintf(stderr, "property (a) failed at iteration "
			    "%zu\n", iter);
			bad++;
		}
		/* (b) one terminator, at the very end */
		if (c1.len == 0) {
			if (s1.len != 3 || memcmp(s1.data, ".\r\n", 3) != 0) {
				fprintf(stderr, "property (b) failed for the "
				    "empty message at iteration %zu\n", iter);
				bad++;
			}
		} else if (count_seq(s1.data, s1.len, "\r\n.\r\n", 5) != 1 ||
		    s1.len < 5 ||
		    memcmp(s1.data + s1.len - 5, "\r\n.\r\n", 5) != 0 ||
		    memcmp(s1.data, ".\r\n", 3) == 0 ||
		    dot_line_before_end(s1.data, s1.len)) {
			fprintf(stderr, "property (b) failed at iteration "
			    "%zu\n", iter);
			bad++;
		}
		/* (c) un-stuffing gives the canonical form back */
		if (unstuff(s1.data, s1.len, &un) != 0 || un.len != c1.len ||
		    memcmp(buf_str(&un), buf_str(&c1), c1.len) != 0) {
			fprintf(stderr, "property (c) failed at iteration "
			    "%zu\n", iter);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
	CHECK(iter >= 20000);

	buf_release(&in);
	buf_release(&c1);
	buf_release(&c2);
	buf_release(&ref);
	buf_release(&s1);
	buf_release(&s2);
	buf_release(&un);
}

int
main(void)
{
	test_table_lf();
	test_table_cr();
	test_long_cr_run();
	test_counters();
	test_dot_table();
	test_property();
	return t_done();
}
