#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <idn2.h>

#include "buf.h"
#include "crypto.h"
#include "iobuf.h"
#include "tls.h"
#include "tls_int.h"
#include "util.h"
#include "xmalloc.h"

/* TLS 1.2 is the floor on top of the system's priorities. */
#define TLS_FLOOR	"-VERS-TLS1.1:-VERS-TLS1.0:-VERS-SSL3.0:-VERS-DTLS1.0"
#define MAX_SOFT_ERRORS	64	/* non-fatal GnuTLS codes in a row */

static ssize_t	tls_read(void *, void *, size_t);
static ssize_t	tls_write(void *, const void *, size_t);
static size_t	tls_pending(void *);
static int	tls_direction(void *);
static int	wait_fd(int, int, long long);
static int	parse_ip(const char *, unsigned char *, size_t *);
static int	to_alabel(const char *, char **, struct buf *);
static int	setup_creds(struct tls *, const struct tls_params *,
		    struct buf *);
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

	if (dir & POLLIN)
		io_ack_now(fd);
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

/*
 * Why the handshake failed, without saying that it did: the caller's
 * message ("TLS handshake with 'HOST' failed: ...") says that once.
 */
static void
handshake_reason(struct tls *t, int r, struct buf *err)
{
	gnutls_alert_description_t	 a;

	switch (r) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		tls_status_reason(t,
		    gnutls_session_get_verify_cert_status(t->session), err);
		return;
	case GNUTLS_E_CERTIFICATE_ERROR:
		if (t->why.len > 0) {
			buf_addstr(err, t->why.data);
			return;
		}
		break;
	case GNUTLS_E_TIMEDOUT:
		buf_addstr(err, "timed out");
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
			buf_addf(err, "refused by the server "
			    "(%s): no protocol version or cipher suite in "
			    "common", gnutls_alert_get_name(a));
		else
			buf_addf(err, "refused by the server: %s",
			    gnutls_alert_get_name(a));
		return;
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		buf_addstr(err, "the server closed the connection");
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
		buf_addf(err, "%s (does the server speak TLS here?)",
		    gnutls_strerror(r));
		return;
	default:
		break;
	}
	buf_addstr(err, gnutls_strerror(r));
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
	if (crypto_ready() == -1) {
		buf_addstr(err, "TLS setup failed: GnuTLS cannot start");
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
	    tls_parse_fingerprint(p->fingerprint, &t->pin_kind, t->pin, err) < 0)
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

	tls_verify_setup(t, p, isip);
	tls_resume_offer(t, p);

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
				buf_addstr(err, "timed out");
				return -1;
			}
			continue;
		}
		if (!gnutls_error_is_fatal(r) && ++soft < MAX_SOFT_ERRORS &&
		    ms_left(deadline) > 0)
			continue;
		t->last_error = r;
		handshake_reason(t, r, err);
		/* Not after a timeout: a stalled server would be waited
		 * for twice. */
		tls_resume_drop(t);
		return -1;
	}
	t->established = 1;
	t->resumed = gnutls_session_is_resumed(t->session) != 0;
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

int
tls_eof_clean(const struct tls *t)
{
	return t != NULL && t->last_error != GNUTLS_E_PREMATURE_TERMINATION;
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
	if (certs == NULL || n == 0 || tls_leaf_cert(t->session, &crt) < 0) {
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
	tls_add_time(out, gnutls_x509_crt_get_activation_time(crt));
	buf_addstr(out, "\ncertificate valid until: ");
	tls_add_time(out, gnutls_x509_crt_get_expiration_time(crt));
	buf_addstr(out, "\nSHA-256 fingerprint: ");
	(void)tls_hex_sha256(out, &certs[0]);
	buf_addstr(out, "\npublic-key pin: ");
	(void)tls_spki_pin(out, crt);
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
	if (t == NULL || !t->established)
		return 0;
	if (t->resumed)
		return t->resumed_cc;
	return gnutls_certificate_get_ours(t->session) != NULL;
}

int
tls_resumed(const struct tls *t)
{
	return t != NULL && t->established && t->resumed;
}
