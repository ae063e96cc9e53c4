/*
 * dsn_build() (dsn.h) with values and a header section from the input:
 *
 *   byte 0      flags: 1 expired, 2 a lifetime, 4 an ENVID, 8 an arrival
 *               time, 16 a Message-ID domain of its own
 *   bytes 1-24  the random bytes (zeros past the end of the input)
 *   then        NUL-separated values up to the first "\0\0": sender,
 *               postmaster, reporting MTA, queue ID, ENVID, lifetime,
 *               Message-ID domain, then per recipient (at most 8) its
 *               address, ORCPT, status, reply code (decimal), diagnostic
 *               and remote MTA; an empty required value takes a good
 *               default, an empty optional one is left out
 *   the rest    the original header section (NULs and all)
 *
 * Invariants: a refusal leaves `out` as it was with one line in `err`.
 * A notification passes tests/unit/dsn_check.h's reader (CRLF only,
 * lines of 998 bytes at most, the MIME structure, the part types, one
 * delivery-status block per recipient); its boundary occurs nowhere in
 * the parts; the delivery status is 7-bit and dsn_8bit() says 1 exactly
 * when the header, the text or the attachment holds 8-bit bytes; the
 * attachment is the input's header fields (as hdr_parse() makes them,
 * up to a NUL) in order, leaving out exactly those with a line over 998
 * bytes or that would take it past 64 KiB.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "dsn.h"
#include "header.h"
#include "fuzz.h"
#include "../unit/dsn_check.h"

#define NVALUES		(7 + 8 * 6)
#define ATTACH_MAX	(64 * 1024)

static const char *value(char **, size_t, const char *);
static int	 eight(const char *, size_t);
static size_t	 longest_line(const char *);
static void	 check_attached(const char *, size_t, const char *, size_t);

/* Value i, or `def` when it is empty or missing. */
static const char *
value(char **v, size_t i, const char *def)
{
	return i < NVALUES && v[i] != NULL && *v[i] != '\0' ? v[i] : def;
}

static int
eight(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* The longest line of a CRLF-ended field, its CR not counted. */
static size_t
longest_line(const char *raw)
{
	const char	*e;
	size_t		 max = 0;

	for (; *raw != '\0'; raw = e + 1) {
		if ((e = strchr(raw, '\n')) == NULL)
			break;
		if ((size_t)(e - raw) - 1 > max)
			max = (size_t)(e - raw) - 1;
	}
	return max;
}

static void
check_attached(const char *hdr, size_t hlen, const char *got, size_t glen)
{
	struct hdrlist	 h;
	const char	*nul;
	size_t		 i, rl, at = 0;

	if ((nul = memchr(hdr, '\0', hlen)) != NULL)
		hlen = (size_t)(nul - hdr);
	hdr_init(&h);
	(void)hdr_parse(&h, hdr, hlen, NULL);
	for (i = 0; i < h.n; i++) {
		rl = strlen(h.f[i].raw);
		if (longest_line(h.f[i].raw) > 998 || at + rl > ATTACH_MAX)
			continue;
		FUZZ_ASSERT(at + rl <= glen &&
		    memcmp(got + at, h.f[i].raw, rl) == 0);
		at += rl;
	}
	FUZZ_ASSERT(at == glen);
	hdr_release(&h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn_info	 in;
	struct dsn_rcpt	 r[8];
	struct dsn_view	 v;
	struct buf	 out = BUF_INIT, err = BUF_INIT, copy = BUF_INIT;
	unsigned char	 rnd[DSN_RANDOM];
	char		*vals[NVALUES], *p, *end, *sep;
	const char	*hdr = "", *why, *e;
	size_t		 hlen = 0, nv = 0, n = 0, i, k, hl;
	int		 flags = size > 0 ? data[0] : 0, rc;

	memset(rnd, 0, sizeof(rnd));
	if (size > 1)
		memcpy(rnd, data + 1, size - 1 < DSN_RANDOM ? size - 1 :
		    DSN_RANDOM);
	/* A private copy with a NUL after it, to split in place. */
	if (size > 1 + DSN_RANDOM)
		buf_add(&copy, data + 1 + DSN_RANDOM, size - 1 - DSN_RANDOM);
	memset(vals, 0, sizeof(vals));
	if (copy.len > 0) {
		p = copy.data;
		end = copy.data + copy.len;
		if ((sep = memmem(p, copy.len, "\0\0", 2)) != NULL) {
			hdr = sep + 2;
			hlen = (size_t)(end - hdr);
			end = sep;
		}
		while (p <= end && nv < NVALUES) {
			vals[nv++] = p;
			p += strlen(p) + 1;
		}
	}

	memset(&in, 0, sizeof(in));
	in.rcpt = value(vals, 0, "alice@example.org");
	in.postmaster = value(vals, 1, "MAILER-DAEMON@mail.example.org");
	in.reporting_mta = value(vals, 2, "mail.example.org");
	in.queue_id = value(vals, 3, "4F2A9C01");
	in.envid = flags & 4 ? value(vals, 4, "ENV") : NULL;
	in.lifetime = flags & 2 ? value(vals, 5, NULL) : NULL;
	in.msgid_domain = flags & 16 ? value(vals, 6, NULL) : NULL;
	in.expired = flags & 1;
	in.arrival = flags & 8 ? 1699568000 + rnd[0] : 0;
	in.now = 1700000000 + rnd[1];
	in.random = rnd;
	in.nrandom = sizeof(rnd);
	for (k = 7; k < nv && n < 8; k += 6, n++) {
		memset(&r[n], 0, sizeof(r[n]));
		r[n].addr = value(vals, k, "bob@example.net");
		r[n].orcpt = value(vals, k + 1, NULL);
		r[n].status = value(vals, k + 2, NULL);
		r[n].code = (int)strtol(value(vals, k + 3, "0"), NULL, 10);
		r[n].diagnostic = value(vals, k + 4, NULL);
		r[n].remote_mta = value(vals, k + 5, NULL);
		r[n].last_attempt = (flags & 32) ? 1699999000 + rnd[2] : 0;
	}
	if (n == 0 && (flags & 64) == 0) {
		memset(&r[0], 0, sizeof(r[0]));
		r[0].addr = "bob@example.net";
		r[0].code = 550;
		n = 1;
	}

	buf_addstr(&out, "kept");
	rc = dsn_build(&in, r, n, hdr, hlen, &out, &err);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_ASSERT(out.len == 4 && memcmp(out.data, "kept", 4) == 0);
		FUZZ_ASSERT(err.len > 0 &&
		    memchr(err.data, '\n', err.len) == NULL &&
		    memchr(err.data, '\r', err.len) == NULL);
		goto done;
	}
	FUZZ_ASSERT(err.len == 0);
	if ((why = dsn_check(out.data + 4, out.len - 4, &v)) != NULL)
		fuzz_fail(__FILE__, __LINE__, why);
	FUZZ_ASSERT(v.nrcpt == n);
	for (i = 0; i < 3; i++)
		FUZZ_ASSERT(memmem(v.body[i], v.bodylen[i], v.boundary,
		    strlen(v.boundary)) == NULL);
	FUZZ_ASSERT(!eight(v.body[1], v.bodylen[1]));
	/* The header is what comes before the first part. */
	e = memmem(out.data + 4, out.len - 4, "\r\n\r\n", 4);
	FUZZ_ASSERT(e != NULL);
	hl = (size_t)(e - (out.data + 4));
	FUZZ_ASSERT(dsn_8bit(out.data + 4, out.len - 4) ==
	    (eight(out.data + 4, hl) || eight(v.body[0], v.bodylen[0]) ||
	    eight(v.body[2], v.bodylen[2])));
	check_attached(hdr, hlen, v.body[2], v.bodylen[2]);
done:
	buf_release(&out);
	buf_release(&err);
	buf_release(&copy);
	return 0;
}
