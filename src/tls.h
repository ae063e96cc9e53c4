#ifndef POSTIE_TLS_H
#define POSTIE_TLS_H

#include <stddef.h>

#include "buf.h"
#include "iobuf.h"

/*
 * TLS client sessions on GnuTLS.  Verification happens inside the
 * handshake (a verify function, gnutls_certificate_verify_peers with the
 * TLS-server key purpose), so it cannot be forgotten: chain to the trust
 * store (and the CRL, when given), host name or IP address, key purpose,
 * validity dates, must-staple.  A host name must be in a
 * subjectAltName: a certificate that has it only in its subject CN is
 * refused.  The trust store is loaded when the server's certificate
 * arrives: a resumed session, which brings none, never loads it.
 *
 * A pin or fingerprint replaces the chain check and the host name (it
 * names the one server certificate or key to accept); the validity dates
 * and the key purpose (when the certificate states one) are still
 * checked, and GnuTLS still checks that the server holds the key.
 * certcheck 0 verifies nothing at all, unless a fingerprint is given:
 * that is always checked (so certcheck || fingerprint means verified).
 *
 * TLS 1.2 is the floor on top of the system priorities unless
 * `priorities` is given.  Nothing here prints or exits.
 */

/*
 * Where TLS sessions are kept between invocations, so that the next
 * connection to the same server resumes (one round trip and no
 * certificate check saved): the caller's files.  `get` fills `out` with
 * what `put` stored under `name` (64 hex digits) and returns 0, or -1
 * when there is nothing; `put` replaces it, best effort (empty data:
 * removes it).  What is stored
 * lets whoever reads it pose as the server to postie: keep it private.
 */
struct tls_store {
	int	(*get)(void *ctx, const char *name, struct buf *out);
	void	(*put)(void *ctx, const char *name, const struct buf *data);
};

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
	int		 certcheck;	/* 0: verify nothing (warned by caller)
					 * unless `fingerprint` is set */
	const char	*priorities;	/* NULL: system default + TLS1.2 floor */
	const char	*cert_file;	/* client certificate (file or PKCS#11 URI) */
	const char	*key_file;
	/* Session resumption: NULL store, none.  A session is stored under
	 * a name made of `cache_name` (the server as connected, host:port)
	 * and every setting above that decides whom the handshake trusts,
	 * the trust and CRL files' identity (device, inode, size, mtime)
	 * included: a changed host, port, tls_fingerprint, trust file,
	 * certcheck or client certificate never resumes a session made
	 * under the old ones.  A session older than an hour is not
	 * resumed either. */
	const struct tls_store *store;
	void		*store_ctx;
	const char	*cache_name;
};

struct tls;

/* A new, unconnected session object. */
struct tls	*tls_new(void);
/* Free it (NULL is fine); the fd stays open: the caller closes it. */
void		 tls_free(struct tls *);

/*
 * Handshake over a connected non-blocking fd, bounded by `deadline`
 * (now_ms() clock), verifying as above.  Once per struct tls.  Returns 0,
 * or -1 with a one-line reason appended to `err`, lowercase, no prefix
 * and never "handshake failed" (the caller says that once):
 *   certificate has expired (not after 2021-01-01 00:00:00 UTC)
 *   certificate is not yet valid (not before ...)
 *   certificate is not valid for 'HOST'
 *   certificate is not valid for 'HOST' (the name is only in its subject
 *     CN, without subjectAltName)
 *   certificate issuer is unknown (not in the trust store); trust its
 *     CA with tls_trust_file or, to pin it, ... (how to pin, as below)
 *   certificate is self-signed and not in the trust store; to pin it,
 *     check the fingerprint that 'postie -S --tls-certcheck=off' shows
 *     and set tls_fingerprint to it
 *   certificate was issued by a certificate that is not a CA
 *   certificate is not for TLS servers (key purpose)
 *   certificate requires an OCSP staple (must-staple) and the server
 *     sent none
 *   certificate has been revoked
 *   certificate does not match tls_fingerprint (the server's is AB:..)
 *   public key does not match the pin in tls_fingerprint (the server's
 *     is sha256//...)
 *   server offers only TLS versions postie refuses (older than TLS 1.2)
 *   timed out
 *   the server closed the connection
 *   refused by the server: ALERT
 *   GNUTLS-TEXT (does the server speak TLS here?)
 *   GNUTLS-TEXT   (anything else)
 *   invalid tls_priorities at 'REST-OF-STRING'
 *   cannot load trust file 'F': ...   (and other setup errors)
 */
int		 tls_handshake(struct tls *, int fd, const struct tls_params *,
		    long long deadline, struct buf *err);

/* 1 when `host` is an IP literal (1.2.3.4, ::1, [::1], [IPv6:::1]): it
 * gets no SNI and is checked against the certificate's IP entries. */
int		 tls_host_is_ip(const char *host);

/* Check a tls_fingerprint value before connecting (config time): 0, or
 * -1 with the reason in `err`.  SHA-1 and MD5 fingerprints are refused. */
int		 tls_fingerprint_check(const char *, struct buf *err);

/* After read said EOF: 1 when the server ended with a close_notify, 0
 * when it just closed the connection (so the end may be an attacker's
 * cut, RFC 8446 6.1). */
int		 tls_eof_clean(const struct tls *);

/* After an I/O op failed with EIO (or read said EOF): GnuTLS's reason,
 * for messages ("the server closed the connection without a TLS
 * close_notify" after a read of 0). */
const char	*tls_last_error(const struct tls *);

/*
 * iobuf ops over an established session; ctx is the struct tls *.  read
 * returns 0 (end of stream) also when the server closed without
 * close_notify, so that the engine can accept that after the final 250;
 * other TLS errors are -1 with errno EIO (see tls_last_error()).
 */
extern const struct io_ops tls_io_ops;

/* Send close_notify (gnutls_bye SHUT_WR; best effort, bounded). */
void		 tls_bye(struct tls *, long long deadline);

/* "TLS1.3", "TLS1.2", ... */
const char	*tls_version(const struct tls *);
/*
 * Multi-line description for -S, appended to `out`, one "label: value"
 * line each: "TLS version", "cipher suite", "certificate subject",
 * "certificate issuer", "certificate valid from", "certificate valid
 * until" (YYYY-MM-DD HH:MM:SS UTC), "SHA-256 fingerprint" (AB:CD:..., as
 * tls_fingerprint takes it), "public-key pin" (sha256//BASE64).
 */
void		 tls_describe(const struct tls *, struct buf *out);
/*
 * Channel-binding data for SCRAM-*-PLUS, appended to `out`: "tls-exporter"
 * (RFC 9266, 32 bytes) on TLS 1.3, "tls-unique" (the first Finished, 12
 * bytes) on TLS 1.2.  Returns 0 and sets *type, or -1: no session, or
 * TLS 1.2 without the extended master secret, where tls-unique binds
 * nothing (RFC 7627); -PLUS is then not offered.
 */
int		 tls_channel_binding(struct tls *, struct buf *out,
		    const char **type);
/* A client certificate was sent (SASL EXTERNAL makes sense); in a
 * resumed session: it was in the session resumed. */
int		 tls_client_cert_sent(const struct tls *);
/* The handshake resumed a stored session (no certificate was checked:
 * it was, when the session was made). */
int		 tls_resumed(const struct tls *);
/* The handshake failed (other than by timing out) after offering a
 * stored session, which is now removed from the store (when the store
 * lets this user write): a server that cannot resume it may still take
 * a full handshake, on a new connection without the store. */
int		 tls_resume_dropped(const struct tls *);
/* Keep the session for the next connection (tls_params's store), when
 * the server gave one: call after a reply has been read inside TLS (a
 * TLS 1.3 server sends its ticket after the handshake) and before
 * tls_bye(). */
void		 tls_save_session(struct tls *);

#endif
