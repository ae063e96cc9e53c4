#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "buf.h"
#include "crypto.h"
#include "sasl.h"

/*
 * SASL client mechanisms.  Everything is pure code over buffers; the
 * crypto is GnuTLS's (hash, HMAC, PBKDF2, random).  Secrets (password,
 * token, SCRAM's SaltedPassword and the keys derived from it) are wiped
 * with explicit_bzero as soon as they are no longer needed, and the
 * buffers that carry them are sized once up front so that a realloc
 * never leaves a stray copy behind.
 */

#define SCRAM_NONCE_BYTES	24
#define SCRAM_MAX_HASH		32	/* SHA-256 */
/*
 * Iteration count bounds.  RFC 5802 and RFC 7677 ask for at least 4096.
 * A lower count is refused, not just frowned upon: without channel
 * binding a man in the middle picks the salt and the count, and a count
 * of 1 would make an offline dictionary attack on the ClientProof it
 * gets 4096 times cheaper.  The upper bound keeps a hostile server from
 * making us spin for minutes (10^6 rounds of HMAC-SHA-256 take well
 * under a second).
 */
#define SCRAM_MIN_ITER		4096
#define SCRAM_MAX_ITER		1000000
/* Longest server-first-message we accept (real ones are ~100 bytes). */
#define SCRAM_MAX_CHAL		4096

static const char *const names[SASL_NMECHS] = {
	[SASL_EXTERNAL] = "EXTERNAL",
	[SASL_SCRAM_SHA_256_PLUS] = "SCRAM-SHA-256-PLUS",
	[SASL_SCRAM_SHA_1_PLUS] = "SCRAM-SHA-1-PLUS",
	[SASL_SCRAM_SHA_256] = "SCRAM-SHA-256",
	[SASL_SCRAM_SHA_1] = "SCRAM-SHA-1",
	[SASL_CRAM_MD5] = "CRAM-MD5",
	[SASL_OAUTHBEARER] = "OAUTHBEARER",
	[SASL_XOAUTH2] = "XOAUTH2",
	[SASL_PLAIN] = "PLAIN",
	[SASL_LOGIN] = "LOGIN",
};

static int	 is_scram(enum sasl_mech);
static int	 is_plus(enum sasl_mech);
static int	 offered_has(const char *, const char *);
static void	 add_offered(struct buf *, const char *);
static void	 add_saslname(struct buf *, const char *);
static int	 has_ctla(const struct buf *);
static int	 scram_initial(struct sasl_client *, struct buf *);
static int	 scram_first(struct sasl_client *, const unsigned char *,
		    size_t, struct buf *, struct buf *);
static int	 scram_final(struct sasl_client *, const unsigned char *,
		    size_t, struct buf *, struct buf *);
static void	 gs2_header(const struct sasl_client *, struct buf *);
static void	 add_printable(struct buf *, const void *, size_t, size_t);

const char *
sasl_name(enum sasl_mech m)
{
	if ((int)m < 0 || m >= SASL_NMECHS)
		return "?";
	return names[m];
}

int
sasl_lookup(const char *name)
{
	int	 i;

	if (name == NULL)
		return -1;
	for (i = 0; i < SASL_NMECHS; i++)
		if (strcasecmp(name, names[i]) == 0)
			return i;
	return -1;
}

int
sasl_needs_tls(enum sasl_mech m)
{
	return m == SASL_PLAIN || m == SASL_LOGIN || m == SASL_XOAUTH2 ||
	    m == SASL_OAUTHBEARER;
}

static int
is_scram(enum sasl_mech m)
{
	return m == SASL_SCRAM_SHA_256_PLUS || m == SASL_SCRAM_SHA_1_PLUS ||
	    m == SASL_SCRAM_SHA_256 || m == SASL_SCRAM_SHA_1;
}

static int
is_plus(enum sasl_mech m)
{
	return m == SASL_SCRAM_SHA_256_PLUS || m == SASL_SCRAM_SHA_1_PLUS;
}

/* Is `name` a word of the space-separated, case-insensitive list? */
static int
offered_has(const char *offered, const char *name)
{
	const char	*p = offered, *q;
	size_t		 n = strlen(name);

	if (offered == NULL)
		return 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		for (q = p; *q != '\0' && *q != ' ' && *q != '\t'; q++)
			;
		if ((size_t)(q - p) == n && strncasecmp(p, name, n) == 0)
			return 1;
		p = q;
	}
}

/* Bytes from the server, shown in an error: printable ASCII, bounded. */
static void
add_printable(struct buf *b, const void *p, size_t len, size_t max)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < len && i < max; i++)
		buf_addch(b, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
	if (len > max)
		buf_addstr(b, "...");
}

static void
add_offered(struct buf *err, const char *offered)
{
	const char	*p;
	size_t		 n;
	int		 sp = 0;

	buf_addstr(err, "offered: ");
	/* Collapse white space; at most 200 bytes of it. */
	for (p = offered, n = 0; *p != '\0' && n < 200; p++, n++) {
		if (*p == ' ' || *p == '\t') {
			sp = 1;
			continue;
		}
		if (sp && err->len > 0 && err->data[err->len - 1] != ' ')
			buf_addch(err, ' ');
		sp = 0;
		add_printable(err, p, 1, 1);
	}
	if (*p != '\0')
		buf_addstr(err, "...");
}

/*
 * The preference order, strongest first.
 *
 * EXTERNAL when a client certificate was sent: nothing secret crosses
 * the wire and the TLS layer already proved who we are.  A token goes
 * only to the token mechanisms (it is not a password).  With a password,
 * SCRAM comes first, -PLUS when the TLS session gives channel binding
 * data: it never reveals the password, the server proves it knows it
 * too, and -PLUS ties the exchange to this TLS session.  Then PLAIN and
 * LOGIN, only over verified TLS.
 *
 * CRAM-MD5 comes last, after PLAIN and LOGIN.  Over verified TLS the
 * wire is already protected, so CRAM-MD5's only gain (the password does
 * not cross the wire) is small, while it forces the server to keep the
 * password in clear or in an equivalent form, and is HMAC-MD5 with a
 * transcript open to an offline dictionary attack.  Without TLS (only
 * possible on loopback or with an explicit `tls off`) it is the only
 * password mechanism besides SCRAM that does not send the password
 * itself, so it stays usable there.
 */
static const struct pref {
	enum sasl_mech	 mech;
	unsigned	 need;		/* every one of these */
} prefs[] = {
	{ SASL_EXTERNAL,		SASL_HAVE_CERT },
	{ SASL_OAUTHBEARER,		SASL_HAVE_TOKEN | SASL_HAVE_TLS },
	{ SASL_XOAUTH2,			SASL_HAVE_TOKEN | SASL_HAVE_TLS },
	{ SASL_SCRAM_SHA_256_PLUS,	SASL_HAVE_PASSWORD | SASL_HAVE_CBIND },
	{ SASL_SCRAM_SHA_1_PLUS,	SASL_HAVE_PASSWORD | SASL_HAVE_CBIND },
	{ SASL_SCRAM_SHA_256,		SASL_HAVE_PASSWORD },
	{ SASL_SCRAM_SHA_1,		SASL_HAVE_PASSWORD },
	{ SASL_PLAIN,			SASL_HAVE_PASSWORD | SASL_HAVE_TLS },
	{ SASL_LOGIN,			SASL_HAVE_PASSWORD | SASL_HAVE_TLS },
	{ SASL_CRAM_MD5,		SASL_HAVE_PASSWORD },
};

int
sasl_choose(const char *offered, unsigned have, struct buf *err)
{
	size_t		 i;
	int		 tls_would_help = 0, any = 0;
	const char	*what;

	if (offered == NULL)
		offered = "";
	for (i = 0; i < sizeof(prefs) / sizeof(prefs[0]); i++) {
		if (!offered_has(offered, names[prefs[i].mech]))
			continue;
		any = 1;
		if ((prefs[i].need & have) == prefs[i].need)
			return prefs[i].mech;
		if ((prefs[i].need & ~SASL_HAVE_TLS & have) ==
		    (prefs[i].need & ~SASL_HAVE_TLS))
			tls_would_help = 1;
	}
	if (err == NULL)
		return -1;
	if (strspn(offered, " \t") == strlen(offered)) {
		buf_addstr(err, "the server offers no AUTH mechanism");
		return -1;
	}
	if ((have & (SASL_HAVE_PASSWORD | SASL_HAVE_TOKEN |
	    SASL_HAVE_CERT)) == 0) {
		buf_addstr(err, "no credentials to authenticate with (");
		add_offered(err, offered);
		buf_addch(err, ')');
		return -1;
	}
	if (tls_would_help) {
		buf_addstr(err, "the server offers no mechanism postie can "
		    "use safely (");
		add_offered(err, offered);
		buf_addstr(err, (have & SASL_HAVE_TLS) ? ")" :
		    "; TLS is not in use)");
		return -1;
	}
	if ((have & SASL_HAVE_TOKEN) && !(have & SASL_HAVE_PASSWORD))
		what = "an OAuth token";
	else if ((have & SASL_HAVE_PASSWORD) && !(have & SASL_HAVE_TOKEN))
		what = "a password";
	else
		what = "the configured credentials";
	buf_addf(err, "the server offers no mechanism postie %s with %s (",
	    any ? "can use" : "knows to use", what);
	add_offered(err, offered);
	buf_addch(err, ')');
	return -1;
}

void
sasl_init(struct sasl_client *c, enum sasl_mech mech, const char *user,
    const char *secret, const char *host, int port)
{
	size_t	 n;

	/* CRAM-MD5 and SCRAM need GnuTLS; when it cannot start, its calls
	 * fail and say so where they are made. */
	(void)crypto_ready();
	memset(c, 0, sizeof(*c));
	c->mech = mech;
	c->plus_offered = -1;
	buf_addstr(&c->user, user != NULL ? user : "");
	if (secret != NULL) {
		n = strlen(secret);
		/* One allocation: no stray copy. */
		buf_grow(&c->secret, n);
		buf_add(&c->secret, secret, n);
	}
	buf_addstr(&c->host, host != NULL ? host : "");
	c->port = port;
}

void
sasl_set_cbind(struct sasl_client *c, const void *data, size_t len,
    const char *type)
{
	buf_reset(&c->cbind);
	buf_add(&c->cbind, data, len);
	c->cbind_type = type;
}

/*
 * RFC 5802's "y" flag means "I can bind, and I think you cannot": only
 * when the server offers no SCRAM-*-PLUS at all.  When it offers one
 * (even for another hash), a forced plain SCRAM says "n": a server that
 * reads "supports channel binding" broadly would fail a "y", and an
 * attacker stripping only one -PLUS gains nothing, as sasl_choose()
 * then picks the other.
 */
void
sasl_set_offered(struct sasl_client *c, const char *offered)
{
	const char	*p = offered, *q;

	c->plus_offered = 0;
	if (offered == NULL)
		return;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return;
		for (q = p; *q != '\0' && *q != ' ' && *q != '\t'; q++)
			;
		if (q - p > 10 && strncasecmp(p, "SCRAM-", 6) == 0 &&
		    strncasecmp(q - 5, "-PLUS", 5) == 0) {
			c->plus_offered = 1;
			return;
		}
		p = q;
	}
}

void
sasl_set_nonce_for_test(struct sasl_client *c, const char *nonce)
{
	buf_reset(&c->nonce);
	buf_addstr(&c->nonce, nonce);
}

const char *
sasl_server_message(const struct sasl_client *c)
{
	return c->server_msg.len > 0 ? c->server_msg.data : NULL;
}

/*
 * RFC 5802 saslname: ',' and '=' escaped as =2C and =3D.  Full SASLprep
 * (RFC 4013) is not applied to the user name or the password: their
 * bytes go through as configured (UTF-8 expected).  ASCII credentials,
 * the usual case, are unaffected; a non-ASCII password works when the
 * server stored it in the same normalisation form.
 */
static void
add_saslname(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == ',')
			buf_addstr(b, "=2C");
		else if (*s == '=')
			buf_addstr(b, "=3D");
		else
			buf_addch(b, *s);
	}
}

/* A ^A inside would break the OAuth key/value framing. */
static int
has_ctla(const struct buf *b)
{
	return b->len > 0 && memchr(b->data, '\001', b->len) != NULL;
}

int
sasl_initial(struct sasl_client *c, struct buf *out)
{
	size_t	 ul = c->user.len, sl = c->secret.len;

	buf_reset(out);
	switch (c->mech) {
	case SASL_PLAIN:
		/* authzid (empty) NUL authcid NUL passwd; RFC 4616. */
		buf_grow(out, ul + sl + 2);
		buf_addch(out, '\0');
		buf_add(out, c->user.data, ul);
		buf_addch(out, '\0');
		buf_add(out, c->secret.data, sl);
		c->step = 1;
		return 1;
	case SASL_EXTERNAL:
		/* Empty: the authzid is derived from the certificate. */
		c->step = 1;
		return 1;
	case SASL_XOAUTH2:
		if (has_ctla(&c->user) || has_ctla(&c->secret))
			return -1;
		buf_grow(out, ul + sl + 32);
		buf_addstr(out, "user=");
		buf_add(out, c->user.data, ul);
		buf_addstr(out, "\001auth=Bearer ");
		buf_add(out, c->secret.data, sl);
		buf_addstr(out, "\001\001");
		c->step = 1;
		return 1;
	case SASL_OAUTHBEARER:
		if (has_ctla(&c->user) || has_ctla(&c->secret) ||
		    has_ctla(&c->host))
			return -1;
		/* RFC 7628: gs2 header, then key=value pairs. */
		buf_grow(out, 3 * ul + c->host.len + sl + 64);
		buf_addstr(out, "n,");
		if (ul > 0) {
			buf_addstr(out, "a=");
			add_saslname(out, c->user.data);
		}
		buf_addstr(out, ",\001");
		if (c->host.len > 0) {
			buf_addstr(out, "host=");
			buf_add(out, c->host.data, c->host.len);
			buf_addch(out, '\001');
		}
		if (c->port > 0)
			buf_addf(out, "port=%d\001", c->port);
		buf_addstr(out, "auth=Bearer ");
		buf_add(out, c->secret.data, sl);
		buf_addstr(out, "\001\001");
		c->step = 1;
		return 1;
	case SASL_SCRAM_SHA_256_PLUS:
	case SASL_SCRAM_SHA_1_PLUS:
	case SASL_SCRAM_SHA_256:
	case SASL_SCRAM_SHA_1:
		return scram_initial(c, out);
	case SASL_LOGIN:
	case SASL_CRAM_MD5:
	case SASL_NMECHS:
		break;
	}
	return 0;
}

int
sasl_step(struct sasl_client *c, const unsigned char *chal, size_t len,
    struct buf *out, struct buf *err)
{
	unsigned char	 mac[16];
	size_t		 i;
	int		 r;

	if (chal == NULL)	/* an empty challenge from an empty buffer */
		chal = (const unsigned char *)"";
	buf_reset(out);
	switch (c->mech) {
	case SASL_PLAIN:
	case SASL_EXTERNAL:
	case SASL_XOAUTH2:
	case SASL_OAUTHBEARER:
		if (c->step == 0) {
			/* AUTH was sent without the initial response. */
			r = sasl_initial(c, out);
			if (r < 0)
				goto cannot;
			return 0;
		}
		if (c->step == 1 && (c->mech == SASL_XOAUTH2 ||
		    c->mech == SASL_OAUTHBEARER)) {
			/*
			 * An error report (JSON); answer it so that the
			 * server sends its final 5xx: empty for XOAUTH2,
			 * a lone ^A for OAUTHBEARER (RFC 7628 3.2.3).
			 */
			buf_reset(&c->server_msg);
			add_printable(&c->server_msg, chal, len, 512);
			if (c->mech == SASL_OAUTHBEARER)
				buf_addch(out, '\001');
			c->step = 2;
			return 0;
		}
		break;
	case SASL_LOGIN:
		/* Any prompt text: "Username:" then "Password:". */
		if (c->step == 0) {
			buf_add(out, c->user.data, c->user.len);
			c->step = 1;
			return 0;
		}
		if (c->step == 1) {
			buf_grow(out, c->secret.len);
			buf_add(out, c->secret.data, c->secret.len);
			c->step = 2;
			return 0;
		}
		break;
	case SASL_CRAM_MD5:
		if (c->step != 0)
			break;
		if (len == 0) {
			buf_addstr(err, "empty CRAM-MD5 challenge");
			return -1;
		}
		if (gnutls_hmac_fast(GNUTLS_MAC_MD5, c->secret.data,
		    c->secret.len, chal, len, mac) < 0) {
			buf_addstr(err, "HMAC-MD5 is not available");
			return -1;
		}
		buf_add(out, c->user.data, c->user.len);
		buf_addch(out, ' ');
		for (i = 0; i < sizeof(mac); i++)
			buf_addf(out, "%02x", mac[i]);
		explicit_bzero(mac, sizeof(mac));
		c->step = 1;
		return 0;
	case SASL_SCRAM_SHA_256_PLUS:
	case SASL_SCRAM_SHA_1_PLUS:
	case SASL_SCRAM_SHA_256:
	case SASL_SCRAM_SHA_1:
		if (c->step == 0) {
			r = scram_initial(c, out);
			if (r < 0)
				goto cannot;
			return 0;
		}
		if (c->step == 1)
			return scram_first(c, chal, len, out, err);
		if (c->step == 2)
			return scram_final(c, chal, len, out, err);
		break;
	case SASL_NMECHS:
		break;
	}
	buf_addf(err, "unexpected %s challenge from the server",
	    sasl_name(c->mech));
	return -1;
cannot:
	buf_addf(err, "cannot start %s with these credentials",
	    sasl_name(c->mech));
	return -1;
}

int
sasl_done(const struct sasl_client *c)
{
	if (is_scram(c->mech))
		return c->verified;
	return 1;
}

void
sasl_release(struct sasl_client *c)
{
	buf_wipe(&c->user);
	buf_wipe(&c->secret);
	buf_wipe(&c->host);
	buf_wipe(&c->cbind);
	buf_wipe(&c->nonce);
	buf_wipe(&c->first_bare);
	buf_wipe(&c->server_sig);
	buf_wipe(&c->server_msg);
	c->cbind_type = NULL;
	c->verified = 0;
	c->step = 0;
}

/* ---- SCRAM (RFC 5802, RFC 7677, channel binding RFC 5929/9266) ---- */

static void
gs2_header(const struct sasl_client *c, struct buf *b)
{
	if (is_plus(c->mech))
		buf_addf(b, "p=%s,,", c->cbind_type);
	else if (c->cbind.len > 0 && c->plus_offered == 0)
		/* We could bind, but the server did not offer -PLUS. */
		buf_addstr(b, "y,,");
	else
		buf_addstr(b, "n,,");
}

static int
scram_initial(struct sasl_client *c, struct buf *out)
{
	unsigned char	 raw[SCRAM_NONCE_BYTES];

	if (is_plus(c->mech) && (c->cbind.len == 0 || c->cbind_type == NULL ||
	    strpbrk(c->cbind_type, ",=") != NULL || *c->cbind_type == '\0'))
		return -1;
	if (c->nonce.len == 0) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw)) < 0)
			return -1;
		sasl_b64_encode(raw, sizeof(raw), &c->nonce);
	}
	buf_reset(&c->first_bare);
	buf_addstr(&c->first_bare, "n=");
	add_saslname(&c->first_bare, c->user.data);
	buf_addstr(&c->first_bare, ",r=");
	buf_add(&c->first_bare, c->nonce.data, c->nonce.len);
	gs2_header(c, out);
	buf_add(out, c->first_bare.data, c->first_bare.len);
	c->step = 1;
	return 1;
}

/* Find attribute `a` ("r=") at the start of field `p`. */
static const char *
field(const char *p, const char *end, char a, size_t *flen)
{
	const char	*q;

	if (end - p < 2 || p[0] != a || p[1] != '=')
		return NULL;
	p += 2;
	q = memchr(p, ',', (size_t)(end - p));
	*flen = (size_t)((q != NULL ? q : end) - p);
	return p;
}

static int
scram_first(struct sasl_client *c, const unsigned char *chal, size_t len,
    struct buf *out, struct buf *err)
{
	const char		*p = (const char *)chal, *end = p + len;
	const char		*nonce, *salt, *iter;
	size_t			 nlen, slen, ilen, i, hlen;
	unsigned long		 n = 0;
	gnutls_mac_algorithm_t	 mac;
	gnutls_digest_algorithm_t dig;
	gnutls_datum_t		 key, sd;
	struct buf		 saltb = BUF_INIT, authmsg = BUF_INIT;
	unsigned char		 salted[SCRAM_MAX_HASH], ckey[SCRAM_MAX_HASH];
	unsigned char		 skey[SCRAM_MAX_HASH], stored[SCRAM_MAX_HASH];
	unsigned char		 csig[SCRAM_MAX_HASH], proof[SCRAM_MAX_HASH];
	int			 rc = -1;

	if (c->mech == SASL_SCRAM_SHA_256 || c->mech ==
	    SASL_SCRAM_SHA_256_PLUS) {
		mac = GNUTLS_MAC_SHA256;
		dig = GNUTLS_DIG_SHA256;
		hlen = 32;
	} else {
		mac = GNUTLS_MAC_SHA1;
		dig = GNUTLS_DIG_SHA1;
		hlen = 20;
	}
	if (len > SCRAM_MAX_CHAL) {
		buf_addstr(err, "SCRAM server-first-message too long");
		return -1;
	}
	for (i = 0; i < len; i++)
		if (chal[i] < 0x20 || chal[i] > 0x7e) {
			buf_addstr(err, "SCRAM server-first-message is not "
			    "printable text");
			return -1;
		}
	if (len >= 2 && p[0] == 'e' && p[1] == '=') {
		buf_addstr(err, "SCRAM: the server says: ");
		add_printable(err, p + 2, len - 2, 200);
		return -1;
	}
	if (len >= 2 && p[0] == 'm' && p[1] == '=') {
		buf_addstr(err, "SCRAM server requires an unknown extension");
		return -1;
	}
	if ((nonce = field(p, end, 'r', &nlen)) == NULL ||
	    nonce + nlen == end ||
	    (salt = field(nonce + nlen + 1, end, 's', &slen)) == NULL ||
	    salt + slen == end ||
	    (iter = field(salt + slen + 1, end, 'i', &ilen)) == NULL) {
		buf_addstr(err, "malformed SCRAM server-first-message: ");
		add_printable(err, chal, len, 200);
		return -1;
	}
	if (nlen <= c->nonce.len ||
	    memcmp(nonce, c->nonce.data, c->nonce.len) != 0) {
		buf_addstr(err, "SCRAM server nonce does not extend ours");
		return -1;
	}
	if (slen == 0 || sasl_b64_decode(salt, slen, &saltb) < 0 ||
	    saltb.len == 0) {
		buf_addstr(err, "SCRAM salt is not valid base64");
		goto out;
	}
	if (ilen == 0 || ilen > 9) {
		buf_addstr(err, "SCRAM iteration count out of range");
		goto out;
	}
	for (i = 0; i < ilen; i++) {
		if (iter[i] < '0' || iter[i] > '9') {
			buf_addstr(err, "SCRAM iteration count is not a "
			    "number");
			goto out;
		}
		n = n * 10 + (unsigned long)(iter[i] - '0');
	}
	if (n < SCRAM_MIN_ITER || n > SCRAM_MAX_ITER) {
		buf_addf(err, "SCRAM iteration count %lu out of range "
		    "(%d-%d)", n, SCRAM_MIN_ITER, SCRAM_MAX_ITER);
		goto out;
	}

	/* client-final-message-without-proof */
	buf_addstr(out, "c=");
	{
		struct buf	 cb = BUF_INIT;

		gs2_header(c, &cb);
		if (is_plus(c->mech))
			buf_add(&cb, c->cbind.data, c->cbind.len);
		sasl_b64_encode(cb.data, cb.len, out);
		buf_release(&cb);
	}
	buf_addstr(out, ",r=");
	buf_add(out, nonce, nlen);

	buf_add(&authmsg, c->first_bare.data, c->first_bare.len);
	buf_addch(&authmsg, ',');
	buf_add(&authmsg, chal, len);
	buf_addch(&authmsg, ',');
	buf_add(&authmsg, out->data, out->len);

	key.data = (unsigned char *)c->secret.data;
	key.size = (unsigned)c->secret.len;
	sd.data = (unsigned char *)saltb.data;
	sd.size = (unsigned)saltb.len;
	if (key.data == NULL)
		key.data = (unsigned char *)"";
	if (gnutls_pbkdf2(mac, &key, &sd, (unsigned)n, salted, hlen) < 0 ||
	    gnutls_hmac_fast(mac, salted, hlen, "Client Key", 10, ckey) < 0 ||
	    gnutls_hash_fast(dig, ckey, hlen, stored) < 0 ||
	    gnutls_hmac_fast(mac, stored, hlen, authmsg.data, authmsg.len,
	    csig) < 0 ||
	    gnutls_hmac_fast(mac, salted, hlen, "Server Key", 10, skey) < 0) {
		buf_addstr(err, "SCRAM: the hash functions failed");
		buf_reset(out);
		goto out;
	}
	for (i = 0; i < hlen; i++)
		proof[i] = ckey[i] ^ csig[i];
	buf_reset(&c->server_sig);
	buf_grow(&c->server_sig, hlen);
	c->server_sig.len = hlen;
	c->server_sig.data[hlen] = '\0';
	if (gnutls_hmac_fast(mac, skey, hlen, authmsg.data, authmsg.len,
	    c->server_sig.data) < 0) {
		buf_addstr(err, "SCRAM: the hash functions failed");
		buf_reset(out);
		goto out;
	}
	buf_addstr(out, ",p=");
	sasl_b64_encode(proof, hlen, out);
	c->step = 2;
	rc = 0;
out:
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(ckey, sizeof(ckey));
	explicit_bzero(skey, sizeof(skey));
	explicit_bzero(stored, sizeof(stored));
	explicit_bzero(csig, sizeof(csig));
	explicit_bzero(proof, sizeof(proof));
	buf_wipe(&saltb);
	buf_wipe(&authmsg);
	return rc;
}

static int
scram_final(struct sasl_client *c, const unsigned char *chal, size_t len,
    struct buf *out, struct buf *err)
{
	const char	*p = (const char *)chal, *end = p + len, *v;
	size_t		 vlen;
	struct buf	 sig = BUF_INIT;
	int		 rc = -1;

	(void)out;
	c->step = 3;
	if (len >= 2 && p[0] == 'e' && p[1] == '=') {
		buf_addstr(err, "SCRAM: the server says: ");
		add_printable(err, p + 2, len - 2, 200);
		return -1;
	}
	if ((v = field(p, end, 'v', &vlen)) == NULL) {
		buf_addstr(err, "malformed SCRAM server-final-message: ");
		add_printable(err, chal, len, 200);
		return -1;
	}
	if (sasl_b64_decode(v, vlen, &sig) < 0 ||
	    sig.len != c->server_sig.len ||
	    gnutls_memcmp(sig.data, c->server_sig.data, sig.len) != 0) {
		buf_addstr(err, "SCRAM server signature does not verify: "
		    "the server does not know the password (or someone is "
		    "in the middle)");
		goto out;
	}
	c->verified = 1;
	rc = 0;	/* the response to this last challenge is empty */
out:
	buf_release(&sig);
	return rc;
}

/* ---- base64 (RFC 4648 section 4, padded, strict) ---- */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
sasl_b64_encode(const void *p, size_t len, struct buf *out)
{
	const unsigned char	*s = p;
	size_t			 i;
	uint32_t		 v;
	char			 q[4];

	if (len == 0)
		return;
	buf_grow(out, (len + 2) / 3 * 4);
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		q[0] = b64chars[v >> 18 & 63];
		q[1] = b64chars[v >> 12 & 63];
		q[2] = b64chars[v >> 6 & 63];
		q[3] = b64chars[v & 63];
		buf_add(out, q, 4);
	}
	if (len - i == 1) {
		v = (uint32_t)s[i] << 16;
		q[0] = b64chars[v >> 18 & 63];
		q[1] = b64chars[v >> 12 & 63];
		q[2] = q[3] = '=';
		buf_add(out, q, 4);
	} else if (len - i == 2) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		q[0] = b64chars[v >> 18 & 63];
		q[1] = b64chars[v >> 12 & 63];
		q[2] = b64chars[v >> 6 & 63];
		q[3] = '=';
		buf_add(out, q, 4);
	}
}

static int
b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int
sasl_b64_decode(const char *s, size_t len, struct buf *out)
{
	size_t		 i, start = out->len, pad = 0;
	int		 d[4], k;
	unsigned char	 o[3];

	if (len % 4 != 0)
		return -1;
	if (len > 0 && s[len - 1] == '=')
		pad = (len > 1 && s[len - 2] == '=') ? 2 : 1;
	if (len == 0)
		return 0;
	buf_grow(out, len / 4 * 3);
	for (i = 0; i < len; i += 4) {
		for (k = 0; k < 4; k++) {
			if (i + (size_t)k >= len - pad) {
				d[k] = 0;	/* padding, at the very end */
				continue;
			}
			if ((d[k] = b64val((unsigned char)s[i + k])) < 0)
				goto bad;
		}
		o[0] = (unsigned char)(d[0] << 2 | d[1] >> 4);
		o[1] = (unsigned char)((d[1] & 15) << 4 | d[2] >> 2);
		o[2] = (unsigned char)((d[2] & 3) << 6 | d[3]);
		if (i + 4 == len && pad > 0) {
			/* The bits the padding drops must be zero. */
			if ((pad == 2 && (d[1] & 15) != 0) ||
			    (pad == 1 && (d[2] & 3) != 0))
				goto bad;
			buf_add(out, o, 3 - pad);
		} else
			buf_add(out, o, 3);
	}
	return 0;
bad:
	/* Not buf_truncate(): when nothing was added yet, the fresh
	 * allocation of buf_grow() may not hold its NUL. */
	out->len = start;
	out->data[start] = '\0';
	return -1;
}
