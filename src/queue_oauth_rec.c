#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "buf.h"
#include "crypto.h"
#include "queue.h"
#include "queue_int.h"

/*
 * The token store's record (queue.h, queue_oauth.c), as text: pure code
 * over buffers.  A record is at most OAUTH_SLOT_SIZE bytes, every value
 * VSCHAR (%x20-7E, so no value can hold a newline):
 *
 *	postie-oauth 1
 *	generation N
 *	client_id VALUE
 *	token_url VALUE
 *	refresh_token VALUE
 *	access_token VALUE		(empty: none cached)
 *	expires N			(epoch seconds; 0: unknown)
 *	sha256 HEX			(lowercase, over every byte above)
 *
 * Numbers are decimal, without sign or leading zero.  After the record
 * only padding may follow: newlines (a system store's slot is a record
 * padded with them to OAUTH_SLOT_SIZE) or NULs (a slot never written).
 * Anything else (a line missing or out of order, another version, a
 * bad checksum) makes the record invalid: a torn write, a crash's
 * leftovers or a hand's edit is refused, never half-read.
 */

static const char *const keys[] = {
	"postie-oauth", "generation", "client_id", "token_url",
	"refresh_token", "access_token", "expires", "sha256"
};
enum { K_VERSION, K_GENERATION, K_CLIENT_ID, K_TOKEN_URL, K_REFRESH,
	K_ACCESS, K_EXPIRES, K_SHA256, K_N };

static int	 vschar(const char *, size_t);
static int	 number(const char *, size_t, long long *);
static int	 sha256_hex(const char *, size_t, char *);
static int	 only_padding(const char *, size_t);

void
oauth_record_init(struct oauth_record *r)
{
	buf_init(&r->refresh_token);
	buf_init(&r->access_token);
	buf_init(&r->client_id);
	buf_init(&r->token_url);
	r->expires = 0;
	r->generation = 0;
}

void
oauth_record_release(struct oauth_record *r)
{
	buf_wipe(&r->refresh_token);
	buf_wipe(&r->access_token);
	buf_wipe(&r->client_id);
	buf_wipe(&r->token_url);
	r->expires = 0;
	r->generation = 0;
}

static int
vschar(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* A decimal number, no sign, no leading zero, at most LLONG_MAX. */
static int
number(const char *s, size_t n, long long *out)
{
	long long	 v = 0;
	size_t		 i;
	int		 d;

	if (n == 0 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = s[i] - '0';
		if (v > (LLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* The SHA-256 of `n` bytes as 64 lowercase hex digits and a NUL. */
static int
sha256_hex(const char *p, size_t n, char *hex)
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 md[32];
	size_t			 i;

	if (crypto_ready() == -1 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, md) < 0)
		return -1;
	for (i = 0; i < sizeof(md); i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * sizeof(md)] = '\0';
	return 0;
}

/* Newlines (the padding) or NULs (never written) only. */
static int
only_padding(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (p[i] != '\n' && p[i] != '\0')
			return 0;
	return 1;
}

int
queue_oauth_format(const struct oauth_record *r,
    unsigned long long generation, struct buf *out, struct buf *err)
{
	const struct buf *const v[] = { &r->client_id, &r->token_url,
	    &r->refresh_token, &r->access_token };
	char		 gen[24], exp[24], hex[65];
	size_t		 need, start, i;

	if (r->expires < 0 || generation > LLONG_MAX) {
		buf_addstr(err, "its expiry or generation is out of range");
		return -1;
	}
	(void)snprintf(gen, sizeof(gen), "%llu", generation);
	(void)snprintf(exp, sizeof(exp), "%lld", r->expires);
	/* Every line: its key, a space, its value, a newline. */
	need = strlen(keys[K_VERSION]) + 3 + strlen(keys[K_GENERATION]) +
	    strlen(gen) + 2 + strlen(keys[K_EXPIRES]) + strlen(exp) + 2 +
	    strlen(keys[K_SHA256]) + 64 + 2;
	for (i = 0; i < 4; i++) {
		if (!vschar(buf_str(v[i]), v[i]->len)) {
			buf_addf(err, "its %s holds a byte outside %%x20-7E",
			    keys[K_CLIENT_ID + i]);
			return -1;
		}
		need += strlen(keys[K_CLIENT_ID + i]) + v[i]->len + 2;
	}
	if (need > OAUTH_SLOT_SIZE) {
		buf_addf(err, "it would be %zu bytes, more than %d", need,
		    OAUTH_SLOT_SIZE);
		return -1;
	}
	/* One allocation (the caller's, or this one): no copy of a token
	 * left behind by a realloc. */
	buf_grow(out, need + 64);
	start = out->len;
	buf_addf(out, "%s 1\n%s %s\n", keys[K_VERSION], keys[K_GENERATION],
	    gen);
	for (i = 0; i < 4; i++) {
		buf_addf(out, "%s ", keys[K_CLIENT_ID + i]);
		buf_add(out, buf_str(v[i]), v[i]->len);
		buf_addch(out, '\n');
	}
	buf_addf(out, "%s %s\n", keys[K_EXPIRES], exp);
	if (sha256_hex(out->data + start, out->len - start, hex) == -1) {
		explicit_bzero(out->data + start, out->len - start);
		buf_truncate(out, start);
		buf_addstr(err, "cannot compute its checksum: GnuTLS did not "
		    "start");
		return -1;
	}
	buf_addf(out, "%s %s\n", keys[K_SHA256], hex);
	return 0;
}

int
queue_oauth_parse(const char *p, size_t len, struct oauth_record *r,
    struct buf *why)
{
	const char	*val[K_N], *s = p, *end = p + len, *nl;
	size_t		 vlen[K_N], klen, body = 0;
	long long	 gen, expires;
	char		 hex[65];
	int		 i;

	if (only_padding(p, len)) {
		buf_addstr(why, "empty");
		return -1;
	}
	for (i = 0; i < K_N; i++) {
		klen = strlen(keys[i]);
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL ||
		    (size_t)(nl - s) < klen + 1 ||
		    memcmp(s, keys[i], klen) != 0 || s[klen] != ' ') {
			buf_addf(why, "no '%s' line", keys[i]);
			return -1;
		}
		val[i] = s + klen + 1;
		vlen[i] = (size_t)(nl - val[i]);
		if (!vschar(val[i], vlen[i])) {
			buf_addf(why, "a byte outside %%x20-7E in its '%s' "
			    "line", keys[i]);
			return -1;
		}
		if (i == K_VERSION && (vlen[i] != 1 || val[i][0] != '1')) {
			buf_addstr(why, "unknown version");
			return -1;
		}
		if (i == K_SHA256)
			body = (size_t)(s - p);
		s = nl + 1;
	}
	if (!only_padding(s, (size_t)(end - s))) {
		buf_addstr(why, "bytes after its checksum");
		return -1;
	}
	if (number(val[K_GENERATION], vlen[K_GENERATION], &gen) == -1 ||
	    number(val[K_EXPIRES], vlen[K_EXPIRES], &expires) == -1) {
		buf_addstr(why, "a bad number");
		return -1;
	}
	if (sha256_hex(p, body, hex) == -1) {
		buf_addstr(why, "cannot compute its checksum: GnuTLS did not "
		    "start");
		return -1;
	}
	if (vlen[K_SHA256] != 64 || memcmp(val[K_SHA256], hex, 64) != 0) {
		buf_addstr(why, "a bad checksum");
		return -1;
	}
	/* Into empty buffers: one allocation each, nothing to wipe but
	 * what oauth_record_release() wipes. */
	oauth_record_release(r);
	buf_add(&r->client_id, val[K_CLIENT_ID], vlen[K_CLIENT_ID]);
	buf_add(&r->token_url, val[K_TOKEN_URL], vlen[K_TOKEN_URL]);
	buf_add(&r->refresh_token, val[K_REFRESH], vlen[K_REFRESH]);
	buf_add(&r->access_token, val[K_ACCESS], vlen[K_ACCESS]);
	r->expires = expires;
	r->generation = (unsigned long long)gen;
	return 0;
}

int
queue_oauth_pick(const char *p, size_t len, struct oauth_record *r,
    struct buf *why)
{
	struct oauth_record	 slot[2];
	struct buf		 w[2] = { BUF_INIT, BUF_INIT };
	int			 ok[2], i, best = -1;

	if (len != 2 * OAUTH_SLOT_SIZE) {
		buf_addf(why, "it is %zu bytes, not %d", len,
		    2 * OAUTH_SLOT_SIZE);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		oauth_record_init(&slot[i]);
		ok[i] = queue_oauth_parse(p + i * OAUTH_SLOT_SIZE,
		    OAUTH_SLOT_SIZE, &slot[i], &w[i]) == 0;
	}
	/* A tie (both slots as root first wrote them): the first. */
	if (ok[0])
		best = 0;
	if (ok[1] && (best == -1 || slot[1].generation > slot[0].generation))
		best = 1;
	if (best == -1)
		buf_addf(why, "first slot: %s; second slot: %s", buf_str(&w[0]),
		    buf_str(&w[1]));
	else {
		oauth_record_release(r);
		*r = slot[best];
		oauth_record_init(&slot[best]);
	}
	for (i = 0; i < 2; i++) {
		oauth_record_release(&slot[i]);
		buf_release(&w[i]);
	}
	return best;
}
