#ifndef POSTIE_TLS_INT_H
#define POSTIE_TLS_INT_H

/*
 * Inside the TLS module only: the session object that tls.c (credentials,
 * session, handshake, record I/O, channel binding, teardown) and
 * tls_verify.c (is this peer the right one) share, and the helpers they
 * both call.  Not a public interface: tls.h is.
 */

#include <stddef.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "buf.h"
#include "tls.h"

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
	/* The CA check's files, loaded by its verify function (valid
	 * during the handshake only: the caller's strings). */
	const char			*trust_file;
	const char			*crl_file;
	int				 trust_loaded;
	/* Session resumption (tls_resume.c). */
	const struct tls_store		*store;
	void				*store_ctx;
	char				 store_name[65];
	int				 offered;	/* a stored session */
	int				 dropped;	/* ... and removed */
	int				 resumed;
	int				 resumed_cc;	/* it had sent a client
							 * certificate */
};

/* Parse a tls_fingerprint value into its kind and 32 bytes; 0, or -1
 * with the reason in `err` (SHA-1 and MD5 are refused). */
int	tls_parse_fingerprint(const char *, enum pin_kind *, unsigned char *,
	    struct buf *);
/* Install the certificate check on t->session before the handshake:
 * the pin, nothing (certcheck 0), or the CA, name or address and key
 * purpose checks (the trust store and CRL loaded when the certificate
 * arrives).  `isip`: t->ip holds the host's address. */
void	tls_verify_setup(struct tls *, const struct tls_params *, int isip);
/* Before the handshake: offer the session stored for these parameters,
 * if there is a usable one (tls_resume.c). */
void	tls_resume_offer(struct tls *, const struct tls_params *);
/* After a failed handshake: remove the session offered, if any. */
void	tls_resume_drop(struct tls *);
/* The peer's leaf certificate, to free with gnutls_x509_crt_deinit();
 * 0, or -1 when there is none or it does not parse. */
int	tls_leaf_cert(gnutls_session_t, gnutls_x509_crt_t *);
/* "YYYY-MM-DD HH:MM:SS UTC", or "(unknown)". */
void	tls_add_time(struct buf *, time_t);
/* "AB:CD:..." of the SHA-256 of `der`; 0, or -1 adding nothing. */
int	tls_hex_sha256(struct buf *, const gnutls_datum_t *);
/* "sha256//BASE64" of the certificate's public key; 0, or -1. */
int	tls_spki_pin(struct buf *, gnutls_x509_crt_t);
/* One line from the verification status bits, most telling first. */
void	tls_status_reason(struct tls *, unsigned, struct buf *);

#endif
