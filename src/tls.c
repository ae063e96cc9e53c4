#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <idn2.h>

#include "buf.h"
#include "iobuf.h"
#include "tls.h"
#include "util.h"
#include "xmalloc.h"

/* TLS 1.2 is the floor on top of the system's priorities. */
#define TLS_FLOOR	"-VERS-TLS1.1:-VERS-TLS1.0:-VERS-SSL3.0:-VERS-DTLS1.0"
#define KP_ANY		"2.5.29.37.0"	/* anyExtendedKeyUsage */
#define MAX_SOFT_ERRORS	64	/* non-fatal GnuTLS codes in a row */

enum pin_kind {
	PIN_NONE = 0,
	PIN_CERT,	/* SHA-256 of the DER certificate (msmtp) */
	PIN_SPKI	/* SHA-256 of the SubjectPublicKeyInfo DER */
};

struct tls {
	gnutls_session_t		 session;
	gnutls_certificate_credentials_t cred;
	int				 fd;
	int				 established;
	int				 last_error;	/* GnuTLS code */
	char				*host;		/* as configured */
	char				*name;		/* A-label, or NULL (IP) */
	unsigned char			 ip[16];
	size_t				 iplen;
	gnutls_typed_vdata_st		 vdata[2];
	enum pin_kind			 pin_kind;
	unsigned char			 pin[32];
	int				 check_san;
	struct buf			 why;	/* set by our callbacks */
};

static ssize_t	tls_read(void *, void *, size_t);
static ssize_t	tls_write(void *, const void *, size_t);
static size_t	tls_pending(void *);
static int	tls_direction(void *);
static int	wait_fd(int, int, long long);
static int	parse_ip(const char *, unsigned char *, size_t *);
static int	parse_fingerprint(const char *, enum pin_kind *,
		    unsigned char *, struct buf *);
static int	hexval(int);
static int	to_alabel(const char *, char **, struct buf *);
static int	setup_creds(struct tls *, const struct tls_params *,
		    struct buf *);
static int	leaf_cert(gnutls_session_t, gnutls_x509_crt_t *);
static void	add_time(struct buf *, time_t);
static int	hex_sha256(struct buf *, const gnutls_datum_t *);
static int	spki_sha256(gnutls_x509_crt_t, unsigned char *);
static int	spki_pin(struct buf *, gnutls_x509_crt_t);
static int	pin_verify(gnutls_session_t);
static int	san_hook(gnutls_session_t, unsigned, unsigned, unsigned,
		    const gnutls_datum_t *);
static int	dates_ok(struct tls *, gnutls_x509_crt_t);
static int	purpose_ok(gnutls_x509_crt_t);
static void	status_reason(struct tls *, unsigned, struct buf *);
static void	handshake_reason(struct tls *, int, struct buf *);

const struct io_ops tls_io_ops = {
	tls_read,
	tls_write,
	tls_pending,
	tls_direction
};

struct tls *
tls_new(void)
{
	struct tls	*t;

	t = xcalloc(1, sizeof(*t));
	t->fd = -1;
	buf_init(&t->why);
	return t;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	if (t->session != NULL)
		gnutls_deinit(t->session);
	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	free(t->host);
	free(t->name);
	buf_release(&t->why);
	free(t);
}

/*
 * An IP literal: dotted IPv4, IPv6, either in brackets, "[IPv6:...]" as
 * in SMTP, an IPv6 zone ("%eth0") ignored.  Returns 1 and fills ip/len.
 */
static int
parse_ip(const char *host, unsigned char *ip, size_t *len)
{
	char	 s[INET6_ADDRSTRLEN + 32];
	size_t	 n;
	char	*pct;

	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
		if (n > 5 && strncasecmp(host, "IPv6:", 5) == 0) {
			host += 5;
			n -= 5;
		}
	}
	if (n == 0 || n >= sizeof(s))
		return 0;
	memcpy(s, host, n);
	s[n] = '\0';
	if (inet_pton(AF_INET, s, ip) == 1) {
		*len = 4;
		return 1;
	}
	if ((pct = strchr(s, '%')) != NULL)
		*pct = '\0';
	if (inet_pton(AF_INET6, s, ip) == 1) {
		*len = 16;
		return 1;
	}
	return 0;
}

int
tls_host_is_ip(const char *host)
{
	unsigned char	 ip[16];
	size_t		 len;

	return host != NULL && parse_ip(host, ip, &len);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * "sha256//BASE64" (a public-key pin) or 32 hex bytes separated by
 * colons (msmtp's SHA-256 certificate fingerprint; the colons may be
 * left out).  SHA-1 and MD5 fingerprints, which msmtp still takes for
 * old configs, are refused: they no longer identify a certificate.
 */
static int
parse_fingerprint(const char *fp, enum pin_kind *kind, unsigned char *out,
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
		if (n == 32 || (hi = hexval(p[0])) < 0 ||
		    (lo = hexval(p[1])) < 0)
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

	return parse_fingerprint(fp, &kind, pin, err);
}

/* The A-label form of a host name (IDNA2008); ASCII names as they are. */
static int
to_alabel(const char *host, char **out, struct buf *err)
{
	const unsigned char	*p;
	char			*a;
	size_t			 n;
	int			 rc;

	for (p = (const unsigned char *)host; *p != '\0'; p++)
		if (*p >= 0x80)
			break;
	if (*p == '\0')
		a = xstrdup(host);
	else {
		rc = idn2_to_ascii_8z(host, &a,
		    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			buf_addf(err, "invalid host name '%s': %s", host,
			    idn2_strerror(rc));
			return -1;
		}
		/* idn2 allocates with malloc: keep ours uniform. */
		*out = xstrdup(a);
		idn2_free(a);
		a = *out;
	}
	n = strlen(a);
	if (n > 1 && a[n - 1] == '.')
		a[n - 1] = '\0';
	*out = a;
	return 0;
}

static int
setup_creds(struct tls *t, const struct tls_params *p, struct buf *err)
{
	const char	*key;
	int		 r;

	if ((r = gnutls_certificate_allocate_credentials(&t->cred)) < 0) {
		buf_addf(err, "TLS setup failed: %s", gnutls_strerror(r));
		return -1;
	}
	/* Only the CA check needs a trust store. */
	if (p->certcheck && p->fingerprint == NULL) {
		if (p->trust_file == NULL ||
		    strcmp(p->trust_file, "system") == 0) {
			r = gnutls_certificate_set_x509_system_trust(t->cred);
			if (r < 0) {
				buf_addf(err, "cannot load the system trust "
				    "store: %s", gnutls_strerror(r));
				return -1;
			}
			if (r == 0) {
				buf_addstr(err, "the system trust store holds "
				    "no certificate (set tls_trust_file)");
				return -1;
			}
		} else {
			r = gnutls_certificate_set_x509_trust_file(t->cred,
			    p->trust_file, GNUTLS_X509_FMT_PEM);
			if (r < 0) {
				buf_addf(err, "cannot load trust file '%s': %s",
				    p->trust_file, gnutls_strerror(r));
				return -1;
			}
			if (r == 0) {
				buf_addf(err, "trust file '%s' holds no "
				    "certificate", p->trust_file);
				return -1;
			}
		}
		if (p->crl_file != NULL) {
			r = gnutls_certificate_set_x509_crl_file(t->cred,
			    p->crl_file, GNUTLS_X509_FMT_PEM);
			if (r < 0) {
				buf_addf(err, "cannot load CRL file '%s': %s",
				    p->crl_file, gnutls_strerror(r));
				return -1;
			}
		}
	}
	if (p->cert_file == NULL && p->key_file != NULL) {
		buf_addstr(err, "tls_key_file is set but tls_cert_file is not");
		return -1;
	}
	if (p->cert_file != NULL) {
		key = p->key_file != NULL ? p->key_file : p->cert_file;
		r = gnutls_certificate_set_x509_key_file2(t->cred,
		    p->cert_file, key, GNUTLS_X509_FMT_PEM, NULL, 0);
		if (r < 0) {
			buf_addf(err, "cannot load client certificate '%s' "
			    "with key '%s': %s", p->cert_file, key,
			    gnutls_strerror(r));
			return -1;
		}
	}
	return 0;
}

/* Wait until fd is ready in `dir`; 0, or -1 when the deadline passed. */
static int
wait_fd(int fd, int dir, long long deadline)
{
	struct pollfd	 pfd;
	int		 ms, r;

	for (;;) {
		if ((ms = ms_left(deadline)) == 0)
			return -1;
		pfd.fd = fd;
		pfd.events = (short)dir;
		pfd.revents = 0;
		r = poll(&pfd, 1, ms);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0)
			return -1;
		/* Ready, or an error the next GnuTLS call reports. */
		return 0;
	}
}

static int
leaf_cert(gnutls_session_t s, gnutls_x509_crt_t *crt)
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

static void
add_time(struct buf *b, time_t when)
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
static int
hex_sha256(struct buf *b, const gnutls_datum_t *der)
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
static int
spki_pin(struct buf *b, gnutls_x509_crt_t crt)
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
		add_time(&t->why, until);
		buf_addch(&t->why, ')');
		return 0;
	}
	if (from != (time_t)-1 && now < from) {
		buf_addstr(&t->why, "certificate is not yet valid (not before ");
		add_time(&t->why, from);
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
	if (certs == NULL || n == 0 || leaf_cert(s, &crt) < 0) {
		buf_addstr(&t->why, "server sent no usable certificate");
		return -1;
	}
	if (t->pin_kind == PIN_CERT) {
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data,
		    certs[0].size, md) < 0 || memcmp(md, t->pin, 32) != 0) {
			buf_addstr(&t->why, "certificate does not match "
			    "tls_fingerprint (the server's is ");
			(void)hex_sha256(&t->why, &certs[0]);
			buf_addch(&t->why, ')');
			goto out;
		}
	} else {
		if (spki_sha256(crt, md) < 0 || memcmp(md, t->pin, 32) != 0) {
			buf_addstr(&t->why, "public key does not match the "
			    "pin in tls_fingerprint (the server's is ");
			(void)spki_pin(&t->why, crt);
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
 * Before the client's Finished: a certificate that names the host only in
 * its subject CN (no subjectAltName) passes GnuTLS's check, which still
 * falls back to the CN; RFC 6125 and the CA/B forum have dropped that, and
 * so does postie.  Runs after GnuTLS verified the chain.
 */
static int
san_hook(gnutls_session_t s, unsigned htype, unsigned when,
    unsigned incoming, const gnutls_datum_t *msg)
{
	struct tls		*t = gnutls_session_get_ptr(s);
	gnutls_x509_crt_t	 crt;
	char			 san[256];
	size_t			 size;
	unsigned		 i;
	int			 r, found = 0;

	(void)htype;
	(void)when;
	(void)msg;
	if (incoming || !t->check_san)
		return 0;
	if (leaf_cert(s, &crt) < 0) {
		buf_addstr(&t->why, "server sent no usable certificate");
		return GNUTLS_E_CERTIFICATE_ERROR;
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
	if (found)
		return 0;
	buf_addf(&t->why, "certificate is not valid for '%s' (the name is "
	    "only in its subject CN, without subjectAltName)", t->host);
	return GNUTLS_E_CERTIFICATE_ERROR;
}

/* One line from the verification status bits, most telling first. */
static void
status_reason(struct tls *t, unsigned st, struct buf *err)
{
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 out = { NULL, 0 };
	int			 have = leaf_cert(t->session, &crt) == 0;

	if (st & GNUTLS_CERT_SIGNER_NOT_FOUND) {
		if (have && gnutls_x509_crt_check_issuer(crt, crt))
			buf_addstr(err, "certificate is self-signed and not "
			    "in the trust store");
		else
			buf_addstr(err, "certificate issuer is unknown (not "
			    "in the trust store)");
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
			add_time(err, gnutls_x509_crt_get_expiration_time(crt));
			buf_addch(err, ')');
		}
	} else if (st & GNUTLS_CERT_NOT_ACTIVATED) {
		buf_addstr(err, "certificate is not yet valid");
		if (have &&
		    gnutls_x509_crt_get_activation_time(crt) > time(NULL)) {
			buf_addstr(err, " (not before ");
			add_time(err, gnutls_x509_crt_get_activation_time(crt));
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

static void
handshake_reason(struct tls *t, int r, struct buf *err)
{
	gnutls_alert_description_t	 a;

	switch (r) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		status_reason(t,
		    gnutls_session_get_verify_cert_status(t->session), err);
		return;
	case GNUTLS_E_CERTIFICATE_ERROR:
		if (t->why.len > 0) {
			buf_addstr(err, t->why.data);
			return;
		}
		break;
	case GNUTLS_E_TIMEDOUT:
		buf_addstr(err, "timed out during the TLS handshake");
		return;
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
		buf_addstr(err, "server offers only TLS versions postie "
		    "refuses (older than TLS 1.2)");
		return;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		a = gnutls_alert_get(t->session);
		if (a == GNUTLS_A_PROTOCOL_VERSION)
			buf_addstr(err, "server offers only TLS versions "
			    "postie refuses (older than TLS 1.2)");
		else if (a == GNUTLS_A_HANDSHAKE_FAILURE ||
		    a == GNUTLS_A_INSUFFICIENT_SECURITY)
			buf_addf(err, "TLS handshake refused by the server "
			    "(%s): no protocol version or cipher suite in "
			    "common", gnutls_alert_get_name(a));
		else
			buf_addf(err, "TLS handshake refused by the server: "
			    "%s", gnutls_alert_get_name(a));
		return;
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		buf_addstr(err, "the server closed the connection during the "
		    "TLS handshake");
		return;
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
	case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
		buf_addf(err, "no TLS cipher suite in common with the server "
		    "(%s)", gnutls_strerror(r));
		return;
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
	case GNUTLS_E_UNEXPECTED_PACKET:
	case GNUTLS_E_DECRYPTION_FAILED:
		buf_addf(err, "TLS handshake failed: %s (does the server "
		    "speak TLS here?)", gnutls_strerror(r));
		return;
	default:
		break;
	}
	buf_addf(err, "TLS handshake failed: %s", gnutls_strerror(r));
}

int
tls_handshake(struct tls *t, int fd, const struct tls_params *p,
    long long deadline, struct buf *err)
{
	const char	*errpos = NULL;
	int		 r, soft = 0, isip;

	if (t->host != NULL) {
		buf_addstr(err, "TLS session already used");
		return -1;
	}
	if (p->host == NULL || *p->host == '\0') {
		buf_addstr(err, "no host name to verify the TLS certificate "
		    "against");
		return -1;
	}
	t->fd = fd;
	t->host = xstrdup(p->host);
	isip = parse_ip(p->host, t->ip, &t->iplen);
	if (!isip && to_alabel(p->host, &t->name, err) < 0)
		return -1;
	/* A fingerprint is checked even with certcheck 0: it was asked for. */
	if (p->fingerprint != NULL &&
	    parse_fingerprint(p->fingerprint, &t->pin_kind, t->pin, err) < 0)
		return -1;
	if (setup_creds(t, p, err) < 0)
		return -1;

	if ((r = gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK))
	    < 0) {
		t->session = NULL;
		buf_addf(err, "TLS setup failed: %s", gnutls_strerror(r));
		return -1;
	}
	gnutls_session_set_ptr(t->session, t);
	if (p->priorities != NULL) {
		r = gnutls_priority_set_direct(t->session, p->priorities,
		    &errpos);
		if (r < 0) {
			if (r == GNUTLS_E_INVALID_REQUEST && errpos != NULL)
				buf_addf(err, "invalid tls_priorities at "
				    "'%s'", errpos);
			else
				buf_addf(err, "invalid tls_priorities '%s': "
				    "%s", p->priorities, gnutls_strerror(r));
			return -1;
		}
	} else {
		r = gnutls_set_default_priority_append(t->session, TLS_FLOOR,
		    &errpos, 0);
		if (r < 0) {
			buf_addf(err, "cannot set the TLS priorities: %s",
			    gnutls_strerror(r));
			return -1;
		}
	}
	r = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE,
	    t->cred);
	if (r < 0) {
		buf_addf(err, "TLS setup failed: %s", gnutls_strerror(r));
		return -1;
	}
	/* SNI: the A-label; none for an address literal (RFC 6066). */
	if (t->name != NULL) {
		r = gnutls_server_name_set(t->session, GNUTLS_NAME_DNS,
		    t->name, strlen(t->name));
		if (r < 0) {
			buf_addf(err, "cannot send the host name '%s': %s",
			    t->name, gnutls_strerror(r));
			return -1;
		}
	}

	if (t->pin_kind != PIN_NONE)
		gnutls_session_set_verify_function(t->session, pin_verify);
	else if (!p->certcheck)
		;	/* verify nothing: the caller warned */
	else {
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
		gnutls_session_set_verify_cert2(t->session, t->vdata, 2, 0);
		if (t->check_san)
			gnutls_handshake_set_hook_function(t->session,
			    GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_PRE,
			    san_hook);
	}

	gnutls_transport_set_int(t->session, fd);
	/* GnuTLS's own bound (40 s by default) follows our deadline. */
	gnutls_handshake_set_timeout(t->session, (unsigned)ms_left(deadline));
	for (;;) {
		r = gnutls_handshake(t->session);
		if (r == GNUTLS_E_SUCCESS)
			break;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			if (wait_fd(fd, gnutls_record_get_direction(t->session)
			    ? POLLOUT : POLLIN, deadline) < 0) {
				buf_addstr(err, "timed out during the TLS "
				    "handshake");
				return -1;
			}
			continue;
		}
		if (!gnutls_error_is_fatal(r) && ++soft < MAX_SOFT_ERRORS &&
		    ms_left(deadline) > 0)
			continue;
		t->last_error = r;
		handshake_reason(t, r, err);
		return -1;
	}
	t->established = 1;
	return 0;
}

static ssize_t
tls_read(void *ctx, void *p, size_t n)
{
	struct tls	*t = ctx;
	ssize_t		 r;
	int		 soft = 0;

	for (;;) {
		r = gnutls_record_recv(t->session, p, n);
		if (r >= 0)
			return r;
		switch (r) {
		case GNUTLS_E_INTERRUPTED:
			continue;
		case GNUTLS_E_AGAIN:
			errno = EAGAIN;
			return -1;
		case GNUTLS_E_PREMATURE_TERMINATION:
			/* Closed without close_notify: an end of stream the
			 * engine judges (after the final 250 it is fine). */
			t->last_error = (int)r;
			return 0;
		default:
			break;
		}
		/* A warning alert, a refused renegotiation request, ... */
		if (!gnutls_error_is_fatal((int)r) &&
		    ++soft < MAX_SOFT_ERRORS)
			continue;
		t->last_error = (int)r;
		errno = EIO;
		return -1;
	}
}

static ssize_t
tls_write(void *ctx, const void *p, size_t n)
{
	struct tls	*t = ctx;
	ssize_t		 r;

	/* After EAGAIN iobuf calls again with the same bytes, as GnuTLS
	 * requires. */
	r = gnutls_record_send(t->session, p, n);
	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN) {
		errno = EAGAIN;
		return -1;
	}
	if (r == GNUTLS_E_INTERRUPTED) {
		errno = EINTR;
		return -1;
	}
	t->last_error = (int)r;
	errno = EIO;
	return -1;
}

static size_t
tls_pending(void *ctx)
{
	struct tls	*t = ctx;

	return gnutls_record_check_pending(t->session);
}

static int
tls_direction(void *ctx)
{
	struct tls	*t = ctx;

	return gnutls_record_get_direction(t->session) ? POLLOUT : POLLIN;
}

void
tls_bye(struct tls *t, long long deadline)
{
	int	 r;

	if (t == NULL || !t->established)
		return;
	for (;;) {
		r = gnutls_bye(t->session, GNUTLS_SHUT_WR);
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED)
			return;
		if (wait_fd(t->fd, gnutls_record_get_direction(t->session) ?
		    POLLOUT : POLLIN, deadline) < 0)
			return;
	}
}

const char *
tls_version(const struct tls *t)
{
	const char	*v;

	if (t == NULL || t->session == NULL)
		return "none";
	v = gnutls_protocol_get_name(gnutls_protocol_get_version(t->session));
	return v != NULL ? v : "unknown";
}

const char *
tls_last_error(const struct tls *t)
{
	if (t == NULL || t->last_error == 0)
		return "no TLS error";
	if (t->last_error == GNUTLS_E_PREMATURE_TERMINATION)
		return "the server closed the connection without a TLS "
		    "close_notify";
	return gnutls_strerror(t->last_error);
}

void
tls_describe(const struct tls *t, struct buf *out)
{
	const gnutls_datum_t	*certs;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 dn;
	const char		*cs;
	unsigned		 n = 0;

	if (t == NULL || !t->established)
		return;
	buf_addf(out, "TLS version: %s\n", tls_version(t));
	if ((cs = gnutls_ciphersuite_get(t->session)) == NULL)
		cs = "unknown";
	buf_addf(out, "cipher suite: %s\n", cs);
	certs = gnutls_certificate_get_peers(t->session, &n);
	if (certs == NULL || n == 0 || leaf_cert(t->session, &crt) < 0) {
		buf_addstr(out, "certificate: none\n");
		return;
	}
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
		buf_addstr(out, "certificate subject: ");
		buf_add(out, dn.data, dn.size);
		buf_addch(out, '\n');
		gnutls_free(dn.data);
	}
	if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) >= 0) {
		buf_addstr(out, "certificate issuer: ");
		buf_add(out, dn.data, dn.size);
		buf_addch(out, '\n');
		gnutls_free(dn.data);
	}
	buf_addstr(out, "certificate valid from: ");
	add_time(out, gnutls_x509_crt_get_activation_time(crt));
	buf_addstr(out, "\ncertificate valid until: ");
	add_time(out, gnutls_x509_crt_get_expiration_time(crt));
	buf_addstr(out, "\nSHA-256 fingerprint: ");
	(void)hex_sha256(out, &certs[0]);
	buf_addstr(out, "\npublic-key pin: ");
	(void)spki_pin(out, crt);
	buf_addch(out, '\n');
	gnutls_x509_crt_deinit(crt);
}

int
tls_channel_binding(struct tls *t, struct buf *out, const char **type)
{
	gnutls_datum_t	 cb = { NULL, 0 };
	int		 ver, r;

	if (t == NULL || !t->established)
		return -1;
	ver = gnutls_protocol_get_version(t->session);
	if (ver == GNUTLS_TLS1_3) {
		r = gnutls_session_channel_binding(t->session,
		    GNUTLS_CB_TLS_EXPORTER, &cb);
		*type = "tls-exporter";
	} else {
		/* Without the extended master secret (RFC 7627) tls-unique
		 * does not bind the session (the triple handshake attack). */
		if (!gnutls_session_ext_master_secret_status(t->session))
			return -1;
		r = gnutls_session_channel_binding(t->session,
		    GNUTLS_CB_TLS_UNIQUE, &cb);
		*type = "tls-unique";
	}
	if (r < 0)
		return -1;
	buf_add(out, cb.data, cb.size);
	gnutls_free(cb.data);
	return 0;
}

int
tls_client_cert_sent(const struct tls *t)
{
	return t != NULL && t->established &&
	    gnutls_certificate_get_ours(t->session) != NULL;
}
