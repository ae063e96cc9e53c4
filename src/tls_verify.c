#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "buf.h"
#include "crypto.h"
#include "tls.h"
#include "tls_int.h"
#include "util.h"

/*
 * Is this peer the right one: the part of the TLS module that judges the
 * server's certificate.  It owns the trust store and CRL, the reading of
 * tls_fingerprint (a certificate fingerprint or a sha256// public-key
 * pin), the CA check's verify function (trust store loaded on first use,
 * chain, host name or IP address, key purpose, and no name found only
 * in the subject CN), the verify function that checks a pin with the
 * dates and key purpose, and the one-line reason made from GnuTLS's
 * verification status.  tls.c owns the session around it (credentials,
 * handshake, record I/O, channel binding, teardown); tls_int.h is what
 * the two share.
 */

#define KP_ANY		"2.5.29.37.0"	/* anyExtendedKeyUsage */

static int	spki_sha256(gnutls_x509_crt_t, unsigned char *);
static int	pin_verify(gnutls_session_t);
static int	trust_setup(struct tls *, struct buf *);
static int	has_san(struct tls *, gnutls_session_t);
static int	ca_verify(gnutls_session_t);
static int	dates_ok(struct tls *, gnutls_x509_crt_t);
static int	purpose_ok(gnutls_x509_crt_t);


/*
 * "sha256//BASE64" (a public-key pin) or 32 hex bytes separated by
 * colons (msmtp's SHA-256 certificate fingerprint; the colons may be
 * left out).  SHA-1 and MD5 fingerprints, which msmtp still takes for
 * old configs, are refused: they no longer identify a certificate.
 */
int
tls_parse_fingerprint(const char *fp, enum pin_kind *kind, unsigned char *out,
    struct buf *err)
{
	gnutls_datum_t	 in, dec = { NULL, 0 };
	size_t		 n = 0;
	const char	*p;
	int		 hi, lo;

	if (strncasecmp(fp, "sha256//", 8) == 0) {
		in.data = (unsigned char *)(uintptr_t)(fp + 8);
		in.size = (unsigned)strlen(fp + 8);
		if (gnutls_base64_decode2(&in, &dec) < 0 || dec.size != 32) {
			gnutls_free(dec.data);
			buf_addf(err, "invalid public-key pin '%s' (expected "
			    "sha256// and the base64 of 32 bytes)", fp);
			return -1;
		}
		memcpy(out, dec.data, 32);
		gnutls_free(dec.data);
		*kind = PIN_SPKI;
		return 0;
	}
	for (p = fp; *p != '\0';) {
		if (n == 32 || (hi = hex_digit(p[0])) < 0 ||
		    (lo = hex_digit(p[1])) < 0)
			goto bad;
		out[n++] = (unsigned char)(hi << 4 | lo);
		p += 2;
		if (*p == ':' && p[1] != '\0')
			p++;
	}
	if (n == 32) {
		*kind = PIN_CERT;
		return 0;
	}
	if (n == 20 || n == 16) {
		buf_addf(err, "tls_fingerprint '%s' is %s; only SHA-256 "
		    "fingerprints are accepted", fp, n == 20 ? "SHA-1" : "MD5");
		return -1;
	}
bad:
	buf_addf(err, "invalid tls_fingerprint '%s' (expected a SHA-256 "
	    "fingerprint AB:CD:... or a pin sha256//BASE64)", fp);
	return -1;
}

int
tls_fingerprint_check(const char *fp, struct buf *err)
{
	enum pin_kind	 kind;
	unsigned char	 pin[32];

	if (crypto_ready() == -1) {
		buf_addstr(err, "GnuTLS cannot start");
		return -1;
	}
	return tls_parse_fingerprint(fp, &kind, pin, err);
}

/*
 * The trust store, and the CRL when given, into t->cred: only for the
 * CA check, and only once the server's certificate is there to check.
 */
static int
trust_setup(struct tls *t, struct buf *err)
{
	int	 r;

	if (t->trust_loaded)
		return 0;
	if (t->trust_file == NULL || strcmp(t->trust_file, "system") == 0) {
		r = gnutls_certificate_set_x509_system_trust(t->cred);
		if (r < 0) {
			buf_addf(err, "cannot load the system trust store: %s",
			    gnutls_strerror(r));
			return -1;
		}
		if (r == 0) {
			buf_addstr(err, "the system trust store holds no "
			    "certificate (set tls_trust_file)");
			return -1;
		}
	} else {
		r = gnutls_certificate_set_x509_trust_file(t->cred,
		    t->trust_file, GNUTLS_X509_FMT_PEM);
		if (r < 0) {
			buf_addf(err, "cannot load trust file '%s': %s",
			    t->trust_file, gnutls_strerror(r));
			return -1;
		}
		if (r == 0) {
			buf_addf(err, "trust file '%s' holds no certificate",
			    t->trust_file);
			return -1;
		}
	}
	if (t->crl_file != NULL) {
		r = gnutls_certificate_set_x509_crl_file(t->cred, t->crl_file,
		    GNUTLS_X509_FMT_PEM);
		if (r < 0) {
			buf_addf(err, "cannot load CRL file '%s': %s",
			    t->crl_file, gnutls_strerror(r));
			return -1;
		}
	}
	t->trust_loaded = 1;
	return 0;
}

int
tls_leaf_cert(gnutls_session_t s, gnutls_x509_crt_t *crt)
{
	const gnutls_datum_t	*certs;
	unsigned		 n = 0;

	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0)
		return -1;
	if (gnutls_x509_crt_init(crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(*crt, &certs[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(*crt);
		return -1;
	}
	return 0;
}

void
tls_add_time(struct buf *b, time_t when)
{
	struct tm	 tm;
	char		 s[64];

	if (when == (time_t)-1 || gmtime_r(&when, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		buf_addstr(b, "(unknown)");
	else
		buf_addstr(b, s);
}

/* "AB:CD:..." of the SHA-256 of `der`. */
int
tls_hex_sha256(struct buf *b, const gnutls_datum_t *der)
{
	unsigned char	 md[32];
	size_t		 i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, md) < 0)
		return -1;
	for (i = 0; i < sizeof(md); i++)
		buf_addf(b, "%s%02X", i > 0 ? ":" : "", md[i]);
	return 0;
}

/* SHA-256 of the certificate's SubjectPublicKeyInfo (DER), raw. */
static int
spki_sha256(gnutls_x509_crt_t crt, unsigned char *md)
{
	gnutls_pubkey_t	 pub;
	gnutls_datum_t	 der = { NULL, 0 };
	int		 r = -1;

	if (gnutls_pubkey_init(&pub) < 0)
		return -1;
	if (gnutls_pubkey_import_x509(pub, crt, 0) >= 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) >= 0 &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, md) >= 0)
		r = 0;
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	return r;
}

/* "sha256//BASE64" of the certificate's public key. */
int
tls_spki_pin(struct buf *b, gnutls_x509_crt_t crt)
{
	unsigned char	 md[32];
	gnutls_datum_t	 in, out = { NULL, 0 };

	if (spki_sha256(crt, md) < 0)
		return -1;
	in.data = md;
	in.size = sizeof(md);
	if (gnutls_base64_encode2(&in, &out) < 0)
		return -1;
	buf_addstr(b, "sha256//");
	buf_add(b, out.data, out.size);
	gnutls_free(out.data);
	return 0;
}

static int
dates_ok(struct tls *t, gnutls_x509_crt_t crt)
{
	time_t	 now = time(NULL), from, until;

	from = gnutls_x509_crt_get_activation_time(crt);
	until = gnutls_x509_crt_get_expiration_time(crt);
	if (until != (time_t)-1 && now > until) {
		buf_addstr(&t->why, "certificate has expired (not after ");
		tls_add_time(&t->why, until);
		buf_addch(&t->why, ')');
		return 0;
	}
	if (from != (time_t)-1 && now < from) {
		buf_addstr(&t->why, "certificate is not yet valid (not before ");
		tls_add_time(&t->why, from);
		buf_addch(&t->why, ')');
		return 0;
	}
	return 1;
}

/* No extended key usage, or one that allows TLS servers. */
static int
purpose_ok(gnutls_x509_crt_t crt)
{
	char		 oid[128];
	size_t		 size;
	unsigned	 i;
	int		 r;

	for (i = 0;; i++) {
		size = sizeof(oid);
		r = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size,
		    NULL);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return i == 0;
		if (r < 0)
			return 0;
		if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0 ||
		    strcmp(oid, KP_ANY) == 0)
			return 1;
	}
}

/*
 * The verify function for tls_fingerprint: the leaf must match the
 * fingerprint or pin, which replaces the chain to a CA and the host name
 * (the pin names the one server key to accept); its validity dates and
 * key purpose are still checked.  GnuTLS checks that the server holds
 * the key (the handshake signature) as always.
 */
static int
pin_verify(gnutls_session_t s)
{
	struct tls		*t = gnutls_session_get_ptr(s);
	const gnutls_datum_t	*certs;
	gnutls_x509_crt_t	 crt;
	unsigned char		 md[32];
	unsigned		 n = 0;
	int			 ok = 0;

	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0 || tls_leaf_cert(s, &crt) < 0) {
		buf_addstr(&t->why, "server sent no usable certificate");
		return -1;
	}
	if (t->pin_kind == PIN_CERT) {
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data,
		    certs[0].size, md) < 0 || memcmp(md, t->pin, 32) != 0) {
			buf_addstr(&t->why, "certificate does not match "
			    "tls_fingerprint (the server's is ");
			(void)tls_hex_sha256(&t->why, &certs[0]);
			buf_addch(&t->why, ')');
			goto out;
		}
	} else {
		if (spki_sha256(crt, md) < 0 || memcmp(md, t->pin, 32) != 0) {
			buf_addstr(&t->why, "public key does not match the "
			    "pin in tls_fingerprint (the server's is ");
			(void)tls_spki_pin(&t->why, crt);
			buf_addch(&t->why, ')');
			goto out;
		}
	}
	if (!dates_ok(t, crt))
		goto out;
	if (!purpose_ok(crt)) {
		buf_addstr(&t->why, "certificate is not for TLS servers "
		    "(key purpose)");
		goto out;
	}
	ok = 1;
out:
	gnutls_x509_crt_deinit(crt);
	return ok ? 0 : -1;
}

/*
 * A certificate that names the host only in its subject CN (no
 * subjectAltName) passes GnuTLS's check, which still falls back to the
 * CN; RFC 6125 and the CA/B forum have dropped that, and so does postie.
 */
static int
has_san(struct tls *t, gnutls_session_t s)
{
	gnutls_x509_crt_t	 crt;
	char			 san[256];
	size_t			 size;
	unsigned		 i;
	int			 r, found = 0;

	if (tls_leaf_cert(s, &crt) < 0) {
		buf_addstr(&t->why, "server sent no usable certificate");
		return 0;
	}
	for (i = 0; !found; i++) {
		size = sizeof(san);
		r = gnutls_x509_crt_get_subject_alt_name(crt, i, san, &size,
		    NULL);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (r == GNUTLS_SAN_DNSNAME || r == GNUTLS_SAN_IPADDRESS ||
		    r == GNUTLS_E_SHORT_MEMORY_BUFFER)
			found = 1;
	}
	gnutls_x509_crt_deinit(crt);
	if (!found)
		buf_addf(&t->why, "certificate is not valid for '%s' (the "
		    "name is only in its subject CN, without subjectAltName)",
		    t->host);
	return found;
}

/*
 * The CA check, when the server's certificate has arrived: the trust
 * store loaded now (a resumed session never gets here), then GnuTLS's
 * own check of the chain, the name or address and the key purpose, then
 * the subjectAltName rule.
 */
static int
ca_verify(gnutls_session_t s)
{
	struct tls	*t = gnutls_session_get_ptr(s);
	unsigned	 st = 0;
	int		 r;

	if (trust_setup(t, &t->why) < 0)
		return -1;
	r = gnutls_certificate_verify_peers(s, t->vdata, 2, &st);
	if (r < 0) {
		buf_addf(&t->why, "cannot verify the certificate: %s",
		    gnutls_strerror(r));
		return -1;
	}
	if (st != 0) {
		tls_status_reason(t, st, &t->why);
		return -1;
	}
	if (t->check_san && !has_san(t, s))
		return -1;
	return 0;
}

/* One line from the verification status bits, most telling first. */
void
tls_status_reason(struct tls *t, unsigned st, struct buf *err)
{
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 out = { NULL, 0 };
	int			 have = tls_leaf_cert(t->session, &crt) == 0;

	/* Say how to trust it: -S with the check off is the one way to
	 * see the fingerprint of a certificate that cannot be verified. */
	if (st & GNUTLS_CERT_SIGNER_NOT_FOUND) {
		if (have && gnutls_x509_crt_check_issuer(crt, crt))
			buf_addstr(err, "certificate is self-signed and not "
			    "in the trust store; ");
		else
			buf_addstr(err, "certificate issuer is unknown (not "
			    "in the trust store); trust its CA with "
			    "tls_trust_file or, ");
		buf_addstr(err, "to pin it, check the fingerprint that "
		    "'postie -S --tls-certcheck=off' shows and set "
		    "tls_fingerprint to it");
	} else if (st & GNUTLS_CERT_SIGNER_NOT_CA)
		buf_addstr(err, "certificate was issued by a certificate "
		    "that is not a CA");
	else if (st & GNUTLS_CERT_REVOKED)
		buf_addstr(err, "certificate has been revoked");
	else if (st & GNUTLS_CERT_EXPIRED) {
		buf_addstr(err, "certificate has expired");
		if (have && (st & GNUTLS_CERT_EXPIRED) &&
		    gnutls_x509_crt_get_expiration_time(crt) < time(NULL)) {
			buf_addstr(err, " (not after ");
			tls_add_time(err, gnutls_x509_crt_get_expiration_time(crt));
			buf_addch(err, ')');
		}
	} else if (st & GNUTLS_CERT_NOT_ACTIVATED) {
		buf_addstr(err, "certificate is not yet valid");
		if (have &&
		    gnutls_x509_crt_get_activation_time(crt) > time(NULL)) {
			buf_addstr(err, " (not before ");
			tls_add_time(err, gnutls_x509_crt_get_activation_time(crt));
			buf_addch(err, ')');
		}
	} else if (st & GNUTLS_CERT_INSECURE_ALGORITHM)
		buf_addstr(err, "certificate is signed with an insecure "
		    "algorithm");
	else if (st & GNUTLS_CERT_SIGNATURE_FAILURE)
		buf_addstr(err, "certificate signature is invalid");
	else if (st & GNUTLS_CERT_UNEXPECTED_OWNER)
		buf_addf(err, "certificate is not valid for '%s'", t->host);
	else if (st & GNUTLS_CERT_PURPOSE_MISMATCH)
		buf_addstr(err, "certificate is not for TLS servers "
		    "(key purpose)");
	else if (st & GNUTLS_CERT_MISSING_OCSP_STATUS)
		buf_addstr(err, "certificate requires an OCSP staple "
		    "(must-staple) and the server sent none");
	else if (st & GNUTLS_CERT_INVALID_OCSP_STATUS)
		buf_addstr(err, "the server's stapled OCSP response is "
		    "invalid");
	else if (st & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)
		buf_addstr(err, "certificate violates its issuer's "
		    "constraints");
	else if (st & GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS)
		buf_addstr(err, "certificate has an unknown critical "
		    "extension");
	else if (gnutls_certificate_verification_status_print(st,
	    GNUTLS_CRT_X509, &out, 0) >= 0) {
		buf_addstr(err, "certificate is not trusted: ");
		buf_add(err, out.data, out.size);
		gnutls_free(out.data);
	} else
		buf_addstr(err, "certificate is not trusted");
	if (have)
		gnutls_x509_crt_deinit(crt);
}

/*
 * Install what the handshake checks (see tls.h): the pin's verify
 * function, nothing (certcheck 0), or the CA check's.
 */
void
tls_verify_setup(struct tls *t, const struct tls_params *p, int isip)
{
	if (t->pin_kind != PIN_NONE) {
		gnutls_session_set_verify_function(t->session, pin_verify);
		return;
	}
	if (!p->certcheck)
		return;		/* verify nothing: the caller warned */
	if (isip) {
		t->vdata[0].type = GNUTLS_DT_IP_ADDRESS;
		t->vdata[0].data = t->ip;
		t->vdata[0].size = (unsigned)t->iplen;
	} else {
		t->vdata[0].type = GNUTLS_DT_DNS_HOSTNAME;
		t->vdata[0].data = (unsigned char *)t->name;
		t->vdata[0].size = 0;
		t->check_san = 1;
	}
	t->vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	t->vdata[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	t->vdata[1].size = 0;
	t->trust_file = p->trust_file;
	t->crl_file = p->crl_file;
	gnutls_session_set_verify_function(t->session, ca_verify);
}
