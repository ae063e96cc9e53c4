/*
 * The SASL client (sasl.h) against a hostile server, plus sasl_choose(),
 * sasl_lookup() and the base64 pair over input-derived strings.
 *
 * Byte 0 of the input sets the client up:
 *   bits 0-3	the mechanism, modulo SASL_NMECHS + 1 (every enum
 *		sasl_mech, and SASL_NMECHS itself, which must be refused)
 *   bit 4	channel-binding data is set; its type comes from the
 *		secret's length: tls-exporter, tls-unique or "a,b" (bad)
 *   bit 5	sasl_initial() first (the initial response goes with
 *		AUTH); else every challenge goes to sasl_step() from step 0
 *		(for PLAIN and the like the first is the server's empty 334)
 *   bits 6-7	sasl_set_offered(): not called, a list without -PLUS, a
 *		list with SCRAM-SHA-256-PLUS, or the third field
 * The rest is split at NUL into fields: the user name, the secret, the
 * AUTH list (bits 6-7 = 3 only), then the server's challenges (decoded
 * bytes), fed to sasl_step() in order until one is refused, as the
 * engine does (empty ones alternately as NULL).  A SCRAM server-first
 * with an iteration count above 4096 ends the exchange: PBKDF2 would
 * take the same path, only slower.  The SCRAM client nonce is the one
 * of RFC 5802 / RFC 7677 (sasl_set_nonce_for_test), so the examples of
 * those RFCs are seeds.
 *
 * Invariants: results in range; a response bounded by the credentials
 * and the challenge; a refusal with a one-line printable bounded reason,
 * a success with none; the fixed parts of the PLAIN, LOGIN, CRAM-MD5 and
 * SCRAM first responses; sasl_done() is 1 for a SCRAM client exactly
 * when the RFC example was replayed byte for byte (a server signature
 * that is not the right one can never verify, and the right one must);
 * sasl_choose() returns a mechanism of the offered list whose needs are
 * all met (so PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER never without
 * SASL_HAVE_TLS) or -1 with a reason; base64 round trips both ways and a
 * refused decode leaves the buffer as it was (or a valid empty string).
 * Leaks are the sanitizer build's job.
 */
#include "config.h"
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "sasl.h"
#include "fuzz.h"

/* RFC 5802 section 5 and RFC 7677 section 3 (user "user", "pencil"). */
#define N1	"fyko+d2lbbFgONRv9qkxdawL"
#define SF1	"r=" N1 "3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
#define SV1	"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="
#define N256	"rOprNGfwEbeRWgbNEkqO"
#define SF256	"r=" N256 "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"	\
		"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define SV256	"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

#define HOST		"smtp.example.org"
#define PORT		587
#define MAX_ERR		512	/* longest reason sasl.c writes, bounded */
#define MAX_SRVMSG	(512 + 3)
/*
 * PBKDF2 with a count the client accepts costs milliseconds to a second;
 * every count in range takes the same path, so only the cheapest runs.
 */
#define CHEAP_ITER	4096
#define SASL_MAX_ITER	1000000

static const char *const cb_types[] = { "tls-exporter", "tls-unique", "a,b" };
static const char cb_data[] = "\x01\x02 channel\0binding\xff\x80";

struct field {
	const char	*p;
	size_t		 n;
};

static char	*dup_field(const struct field *);
static int	 printable_line(const struct buf *, size_t);
static int	 word_in(const char *, const char *);
static int	 is_scram(int);
static int	 is_plus(int);
static int	 slow_iter(const char *, size_t);
static void	 check_choose(const char *, unsigned);
static void	 check_b64(const void *, size_t);
static void	 check_first(int, const struct buf *, const char *,
		    const char *, const struct buf *, const struct buf *);
static void	 run_client(int, unsigned, const struct field *, size_t,
		    size_t, const char *);

/* A NUL-terminated heap copy of exactly the field (for ASan). */
static char *
dup_field(const struct field *f)
{
	char	*s;

	if ((s = malloc(f->n + 1)) == NULL)
		abort();
	if (f->n > 0)
		memcpy(s, f->p, f->n);
	s[f->n] = '\0';
	return s;
}

/* Non-empty, printable ASCII (so one line), at most `max` bytes. */
static int
printable_line(const struct buf *b, size_t max)
{
	size_t	 i;

	if (b->len == 0 || b->len > max || b->data[b->len] != '\0')
		return 0;
	for (i = 0; i < b->len; i++)
		if (b->data[i] < 0x20 || b->data[i] > 0x7e)
			return 0;
	return 1;
}

/* Is `w` a word of the space/tab-separated list (case-insensitive)? */
static int
word_in(const char *list, const char *w)
{
	const char	*p = list, *q;
	size_t		 n = strlen(w);

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		for (q = p; *q != '\0' && *q != ' ' && *q != '\t'; q++)
			;
		if ((size_t)(q - p) == n && strncasecmp(p, w, n) == 0)
			return 1;
		p = q;
	}
}

static int
is_scram(int m)
{
	return m == SASL_SCRAM_SHA_256_PLUS || m == SASL_SCRAM_SHA_1_PLUS ||
	    m == SASL_SCRAM_SHA_256 || m == SASL_SCRAM_SHA_1;
}

static int
is_plus(int m)
{
	return m == SASL_SCRAM_SHA_256_PLUS || m == SASL_SCRAM_SHA_1_PLUS;
}

/* An "i=" field whose count the client would accept but is not the
 * cheapest: the harness skips it. */
static int
slow_iter(const char *p, size_t n)
{
	size_t		 k, j;
	unsigned long	 v;

	for (k = 0; k + 2 < n; k++) {
		if ((k > 0 && p[k - 1] != ',') || p[k] != 'i' ||
		    p[k + 1] != '=')
			continue;
		for (j = k + 2, v = 0; j < n && p[j] >= '0' && p[j] <= '9' &&
		    j < k + 12; j++)
			v = v * 10 + (unsigned long)(p[j] - '0');
		if (v > CHEAP_ITER && v <= SASL_MAX_ITER)
			return 1;
	}
	return 0;
}

static void
check_choose(const char *offered, unsigned have)
{
	static const unsigned need[SASL_NMECHS] = {
		[SASL_EXTERNAL] = SASL_HAVE_CERT,
		[SASL_OAUTHBEARER] = SASL_HAVE_TOKEN | SASL_HAVE_TLS,
		[SASL_XOAUTH2] = SASL_HAVE_TOKEN | SASL_HAVE_TLS,
		[SASL_SCRAM_SHA_256_PLUS] = SASL_HAVE_PASSWORD |
		    SASL_HAVE_CBIND,
		[SASL_SCRAM_SHA_1_PLUS] = SASL_HAVE_PASSWORD |
		    SASL_HAVE_CBIND,
		[SASL_SCRAM_SHA_256] = SASL_HAVE_PASSWORD,
		[SASL_SCRAM_SHA_1] = SASL_HAVE_PASSWORD,
		[SASL_PLAIN] = SASL_HAVE_PASSWORD | SASL_HAVE_TLS,
		[SASL_LOGIN] = SASL_HAVE_PASSWORD | SASL_HAVE_TLS,
		[SASL_CRAM_MD5] = SASL_HAVE_PASSWORD,
	};
	struct buf	 err = BUF_INIT;
	int		 m;

	m = sasl_choose(offered, have, &err);
	FUZZ_ASSERT(m == sasl_choose(offered, have, NULL));
	FUZZ_ASSERT(m >= -1 && m < SASL_NMECHS);
	if (m == -1) {
		FUZZ_ASSERT(printable_line(&err, MAX_ERR));
	} else {
		FUZZ_ASSERT(err.len == 0);
		FUZZ_ASSERT(offered != NULL && word_in(offered, sasl_name(m)));
		FUZZ_ASSERT((have & need[m]) == need[m]);
		if (!(have & SASL_HAVE_TLS))
			FUZZ_ASSERT(!sasl_needs_tls(m));
		FUZZ_ASSERT(sasl_lookup(sasl_name(m)) == m);
	}
	buf_release(&err);
}

/* decode(encode(x)) == x; encode(decode(s)) == s when s decodes; a
 * refused decode leaves the buffer as it was. */
static void
check_b64(const void *x, size_t n)
{
	struct buf	 e = BUF_INIT, d = BUF_INIT, k = BUF_INIT;
	int		 rc;

	sasl_b64_encode(x, n, &e);
	FUZZ_ASSERT(e.len == (n + 2) / 3 * 4);
	FUZZ_ASSERT(e.len == 0 || e.data[e.len] == '\0');
	FUZZ_ASSERT(sasl_b64_decode(e.data, e.len, &d) == 0);
	FUZZ_ASSERT(d.len == n && (n == 0 || memcmp(d.data, x, n) == 0));
	FUZZ_ASSERT(d.len == 0 || d.data[d.len] == '\0');

	/* The bytes themselves as base64 text, into an empty buffer... */
	buf_release(&d);
	rc = sasl_b64_decode(x, n, &d);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	FUZZ_ASSERT(d.data == NULL || d.data[d.len] == '\0');
	if (rc == 0) {
		FUZZ_ASSERT(n % 4 == 0 && d.len <= n / 4 * 3);
		buf_reset(&e);
		sasl_b64_encode(d.data, d.len, &e);
		FUZZ_ASSERT(e.len == n &&
		    (n == 0 || memcmp(e.data, x, n) == 0));
	} else
		FUZZ_ASSERT(d.len == 0);

	/* ... and appended to a buffer that holds something. */
	buf_addstr(&k, "keep");
	FUZZ_ASSERT(sasl_b64_decode(x, n, &k) == rc);
	FUZZ_ASSERT(k.len == 4 + d.len && memcmp(k.data, "keep", 4) == 0);
	FUZZ_ASSERT(d.len == 0 || memcmp(k.data + 4, d.data, d.len) == 0);
	FUZZ_ASSERT(k.data[k.len] == '\0');

	buf_release(&e);
	buf_release(&d);
	buf_release(&k);
}

/* What the client sends first (sasl_initial()'s 1, or sasl_step()'s
 * answer at step 0): mechanism-specific fixed parts. */
static void
check_first(int mech, const struct buf *out, const char *user,
    const char *secret, const struct buf *gs2, const struct buf *nonce)
{
	size_t	 ul = strlen(user), sl = strlen(secret);
	const char *r;

	switch (mech) {
	case SASL_PLAIN:
		FUZZ_ASSERT(out->len == ul + sl + 2);
		FUZZ_ASSERT(out->data[0] == '\0' && out->data[ul + 1] == '\0');
		FUZZ_ASSERT(memcmp(out->data + 1, user, ul) == 0);
		FUZZ_ASSERT(memcmp(out->data + ul + 2, secret, sl) == 0);
		break;
	case SASL_EXTERNAL:
		FUZZ_ASSERT(out->len == 0);
		break;
	case SASL_XOAUTH2:
	case SASL_OAUTHBEARER:
		FUZZ_ASSERT(out->len > sl + 2 &&
		    memcmp(out->data + out->len - 2, "\001\001", 2) == 0 &&
		    memcmp(out->data + out->len - 2 - sl, secret, sl) == 0);
		break;
	case SASL_LOGIN:
		FUZZ_ASSERT(out->len == ul &&
		    (ul == 0 || memcmp(out->data, user, ul) == 0));
		break;
	default:	/* SCRAM */
		FUZZ_ASSERT(out->len > gs2->len + 2 &&
		    memcmp(out->data, gs2->data, gs2->len) == 0 &&
		    memcmp(out->data + gs2->len, "n=", 2) == 0);
		FUZZ_ASSERT((r = strstr(out->data, ",r=")) != NULL &&
		    strcmp(r + 3, nonce->data) == 0);
		break;
	}
}

/*
 * One exchange.  f[0] and f[1] are the user name and the secret,
 * f[first..nf) the challenges; `offered` is given to sasl_set_offered()
 * unless NULL.
 */
static void
run_client(int mech, unsigned flags, const struct field *f, size_t first,
    size_t nf, const char *offered)
{
	struct sasl_client c;
	struct buf	 out = BUF_INIT, err = BUF_INIT, gs2 = BUF_INIT;
	char		*user, *secret, *chal;
	const char	*cbt = NULL, *sf, *sv, *msg;
	size_t		 ul, sl, bound, i, errlen, svl;
	int		 rc, before, sf_ok = 0, sv_ok = 0, cb, bad_start, oauth;

	oauth = mech == SASL_XOAUTH2 || mech == SASL_OAUTHBEARER;
	user = dup_field(&f[0]);
	secret = dup_field(&f[1]);
	ul = strlen(user);
	sl = strlen(secret);
	sasl_init(&c, mech, user, secret, HOST, PORT);
	if (is_scram(mech))
		sasl_set_nonce_for_test(&c, mech == SASL_SCRAM_SHA_256 ||
		    mech == SASL_SCRAM_SHA_256_PLUS ? N256 : N1);
	if ((cb = (flags & 0x10) != 0)) {
		cbt = cb_types[sl % 3];
		sasl_set_cbind(&c, cb_data, sizeof(cb_data) - 1, cbt);
	}
	if (offered != NULL) {
		sasl_set_offered(&c, offered);
		FUZZ_ASSERT(c.plus_offered == 0 || c.plus_offered == 1);
		if (word_in(offered, "SCRAM-SHA-256-PLUS") ||
		    word_in(offered, "SCRAM-SHA-1-PLUS"))
			FUZZ_ASSERT(c.plus_offered == 1);
	} else
		FUZZ_ASSERT(c.plus_offered == -1);

	/* The gs2 header the client must send; may it start at all? */
	if (is_plus(mech))
		buf_addf(&gs2, "p=%s,,", cbt != NULL ? cbt : "");
	else if (cb && c.plus_offered == 0)
		buf_addstr(&gs2, "y,,");
	else
		buf_addstr(&gs2, "n,,");
	bad_start = (is_plus(mech) && (!cb || strchr(cbt, ',') != NULL)) ||
	    (oauth && (strchr(user, '\001') != NULL ||
	    strchr(secret, '\001') != NULL)) || mech == SASL_NMECHS;
	bound = 4 * (ul + sl + strlen(HOST) + sizeof(cb_data)) + 256;

	if (flags & 0x20) {
		rc = sasl_initial(&c, &out);
		FUZZ_ASSERT(out.data == NULL || out.data[out.len] == '\0');
		FUZZ_ASSERT(out.len <= bound);
		if (mech == SASL_LOGIN || mech == SASL_CRAM_MD5 ||
		    mech == SASL_NMECHS)
			FUZZ_ASSERT(rc == 0 && c.step == 0);
		else if (bad_start)
			FUZZ_ASSERT(rc == -1);
		else {
			FUZZ_ASSERT(rc == 1 && c.step == 1);
			check_first(mech, &out, user, secret, &gs2, &c.nonce);
		}
		if (rc == -1)
			goto done;
	}

	for (i = first; i < nf; i++) {
		before = c.step;
		if (is_scram(mech) && before == 1 && slow_iter(f[i].p, f[i].n))
			break;
		chal = dup_field(&f[i]);
		errlen = err.len;
		rc = sasl_step(&c, f[i].n == 0 && i % 2 ? NULL :
		    (const unsigned char *)chal, f[i].n, &out, &err);
		FUZZ_ASSERT(rc == 0 || rc == -1);
		FUZZ_ASSERT(out.data == NULL || out.data[out.len] == '\0');
		FUZZ_ASSERT(out.len <= bound + f[i].n);
		if (rc == -1)
			FUZZ_ASSERT(printable_line(&err, MAX_ERR));
		else
			FUZZ_ASSERT(err.len == errlen);

		/* Which steps must be answered, and how. */
		if (mech == SASL_NMECHS)
			FUZZ_ASSERT(rc == -1);
		else if (before == 0 && mech == SASL_CRAM_MD5) {
			FUZZ_ASSERT(rc == (f[i].n == 0 ? -1 : 0));
			if (rc == 0) {
				FUZZ_ASSERT(out.len == ul + 33 &&
				    out.data[ul] == ' ' &&
				    memcmp(out.data, user, ul) == 0);
				FUZZ_ASSERT(strspn(out.data + ul + 1,
				    "0123456789abcdef") == 32);
			}
		} else if (before == 0) {
			FUZZ_ASSERT(rc == (bad_start ? -1 : 0));
			if (rc == 0) {
				FUZZ_ASSERT(c.step == 1);
				check_first(mech, &out, user, secret, &gs2,
				    &c.nonce);
			}
		} else if (before == 1 && mech == SASL_LOGIN) {
			FUZZ_ASSERT(rc == 0 && out.len == sl &&
			    (sl == 0 || memcmp(out.data, secret, sl) == 0));
		} else if (before == 1 && oauth) {
			/* The server's error: answered so it sends 5xx. */
			FUZZ_ASSERT(rc == 0 && c.step == 2);
			FUZZ_ASSERT(mech == SASL_XOAUTH2 ? out.len == 0 :
			    (out.len == 1 && out.data[0] == '\001'));
			FUZZ_ASSERT(f[i].n == 0 ? sasl_server_message(&c) ==
			    NULL : sasl_server_message(&c) != NULL);
		} else if (before == 1 && is_scram(mech)) {
			if (rc == 0) {
				FUZZ_ASSERT(c.step == 2);
				FUZZ_ASSERT(strncmp(out.data, "c=", 2) == 0);
				sf = mech == SASL_SCRAM_SHA_256 ? SF256 : SF1;
				sf_ok = f[i].n == strlen(sf) &&
				    memcmp(chal, sf, f[i].n) == 0;
			} else
				FUZZ_ASSERT(sasl_done(&c) == 0);
		} else if (before == 2 && is_scram(mech)) {
			FUZZ_ASSERT(c.step == 3);
			if (rc == 0) {
				FUZZ_ASSERT(out.len == 0);
				sv = mech == SASL_SCRAM_SHA_256 ? SV256 : SV1;
				svl = strlen(sv);
				sv_ok = f[i].n >= svl &&
				    memcmp(chal, sv, svl) == 0 &&
				    (f[i].n == svl || chal[svl] == ',');
			}
		} else {
			/* One challenge too many. */
			FUZZ_ASSERT(rc == -1);
		}
		free(chal);
		if (rc == -1)
			break;
	}

done:
	if (is_scram(mech)) {
		/* Verified exactly when the RFC example was replayed. */
		FUZZ_ASSERT(sasl_done(&c) == (sf_ok && sv_ok &&
		    strcmp(gs2.data, "n,,") == 0 &&
		    (mech == SASL_SCRAM_SHA_1 || mech == SASL_SCRAM_SHA_256) &&
		    strcmp(user, "user") == 0 &&
		    strcmp(secret, "pencil") == 0));
	} else
		FUZZ_ASSERT(sasl_done(&c) == 0 || sasl_done(&c) == 1);
	msg = sasl_server_message(&c);
	if (!oauth)
		FUZZ_ASSERT(msg == NULL);
	else if (msg != NULL)
		FUZZ_ASSERT(printable_line(&c.server_msg, MAX_SRVMSG) &&
		    msg == c.server_msg.data);
	sasl_release(&c);
	FUZZ_ASSERT(c.secret.data == NULL && c.user.data == NULL &&
	    c.server_sig.data == NULL);
	free(user);
	free(secret);
	buf_release(&out);
	buf_release(&err);
	buf_release(&gs2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const lists[] = {
		NULL,
		"PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256 CRAM-MD5",
		"SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN LOGIN",
	};
	struct field	*f = NULL;
	const char	*p, *end, *nul, *offered;
	char		*s, *list = NULL;
	size_t		 nf = 0, first, i;
	unsigned	 flags, have;
	int		 mech, m;

	if (size == 0)
		return 0;
	flags = data[0];
	mech = (int)(flags & 0x0f) % (SASL_NMECHS + 1);

	/* The fields after byte 0, split at NUL. */
	p = (const char *)data + 1;
	end = (const char *)data + size;
	for (;;) {
		if ((f = realloc(f, (nf + 1) * sizeof(*f))) == NULL)
			abort();
		nul = memchr(p, '\0', (size_t)(end - p));
		f[nf].p = p;
		f[nf].n = (size_t)((nul != NULL ? nul : end) - p);
		nf++;
		if (nul == NULL)
			break;
		p = nul + 1;
	}
	while (nf < 2) {	/* user and secret may be missing */
		if ((f = realloc(f, (nf + 1) * sizeof(*f))) == NULL)
			abort();
		f[nf].p = "";
		f[nf].n = 0;
		nf++;
	}

	/* The AUTH list. */
	first = 2;
	if ((flags & 0xc0) == 0xc0) {
		if (nf > 2)
			list = dup_field(&f[first++]);
		offered = list != NULL ? list : "";
	} else
		offered = lists[(flags >> 6) & 3];
	for (have = 0; have < 32; have++)
		check_choose(offered != NULL ? offered : lists[1], have);
	check_choose(NULL, flags & 31);

	run_client(mech, flags, f, first, nf, offered);

	/* Every field as a mechanism name, an AUTH list and base64. */
	for (i = 0; i < nf; i++) {
		s = dup_field(&f[i]);
		if ((m = sasl_lookup(s)) != -1) {
			FUZZ_ASSERT(m >= 0 && m < SASL_NMECHS);
			FUZZ_ASSERT(strcasecmp(sasl_name(m), s) == 0);
		}
		check_choose(s, (unsigned)(i + flags) & 31);
		check_b64(f[i].p, f[i].n);
		free(s);
	}
	check_b64(data, size);
	FUZZ_ASSERT(strcmp(sasl_name(SASL_NMECHS), "?") == 0);

	free(list);
	free(f);
	return 0;
}
