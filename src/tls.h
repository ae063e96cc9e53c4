#ifndef POSTIE_TLS_H
#define POSTIE_TLS_H

#include <stddef.h>

#include "buf.h"
#include "iobuf.h"

/*
 * TLS client sessions on GnuTLS.  Verification happens inside the
 * handshake (gnutls_session_set_verify_cert2 with the TLS-server key
 * purpose), so it cannot be forgotten: chain to the trust store, host
 * name, key purpose, validity dates, must-staple.  A pin or fingerprint
 * replaces the chain check only.  TLS 1.2 is the floor on top of the
 * system priorities unless `priorities` is given.
 */

struct tls_params {
	const char	*host;		/* name to check and send as SNI (the
					 * smarthost or tls_host_override); an
					 * IP literal gets no SNI and is checked
					 * against the certificate's IP entries */
	const char	*trust_file;	/* NULL or "system": the system store */
	const char	*crl_file;	/* or NULL */
	const char	*fingerprint;	/* msmtp's SHA-256 "AB:CD:..." or a
					 * public-key pin "sha256//BASE64";
					 * NULL: CA check */
	int		 certcheck;	/* 0: verify nothing (warned by caller) */
	const char	*priorities;	/* NULL: system default + TLS1.2 floor */
	const char	*cert_file;	/* client certificate (file or PKCS#11 URI) */
	const char	*key_file;
};

struct tls;

/* A new, unconnected session object. */
struct tls	*tls_new(void);
void		 tls_free(struct tls *);

/*
 * Handshake over a connected non-blocking fd, bounded by `deadline`
 * (now_ms() clock), verifying as above.  Returns 0, or -1 with a one-line
 * reason in `err` ("certificate has expired", "certificate is for
 * 'a.example', not 'b.example'", "unknown issuer", ...).
 */
int		 tls_handshake(struct tls *, int fd, const struct tls_params *,
		    long long deadline, struct buf *err);

/* iobuf ops over an established session; ctx is the struct tls *. */
extern const struct io_ops tls_io_ops;

/* Send close_notify (best effort, bounded). */
void		 tls_bye(struct tls *, long long deadline);

/* "TLS1.3", "TLS1.2", ... */
const char	*tls_version(const struct tls *);
/* Multi-line description for -S: version, cipher suite, certificate
 * subject, issuer, validity, SHA-256 fingerprint, public-key pin. */
void		 tls_describe(const struct tls *, struct buf *out);
/*
 * Channel-binding data for SCRAM-*-PLUS: "tls-exporter" (RFC 9266) on
 * TLS 1.3, "tls-unique" on TLS 1.2.  Returns 0 and sets *type, or -1.
 */
int		 tls_channel_binding(struct tls *, struct buf *out,
		    const char **type);
/* A client certificate was sent (SASL EXTERNAL makes sense). */
int		 tls_client_cert_sent(const struct tls *);

#endif
