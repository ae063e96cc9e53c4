#ifndef POSTIE_SASL_H
#define POSTIE_SASL_H

#include <stddef.h>

#include "buf.h"

/*
 * SASL client mechanisms, all built on GnuTLS's crypto (no libgsasl).
 * Pure code over buffers: the engine sends AUTH and relays challenges;
 * nothing here touches a socket.  Challenges and responses here are the
 * decoded bytes; base64 is sasl_b64_*'s job.
 */

enum sasl_mech {
	SASL_EXTERNAL,
	SASL_SCRAM_SHA_256_PLUS,
	SASL_SCRAM_SHA_1_PLUS,
	SASL_SCRAM_SHA_256,
	SASL_SCRAM_SHA_1,
	SASL_CRAM_MD5,
	SASL_OAUTHBEARER,
	SASL_XOAUTH2,
	SASL_PLAIN,
	SASL_LOGIN,
	SASL_NMECHS
};

/* What the client has to offer, for sasl_choose(). */
#define SASL_HAVE_PASSWORD	0x01	/* a password */
#define SASL_HAVE_TOKEN		0x02	/* an OAuth bearer token */
#define SASL_HAVE_CERT		0x04	/* a client certificate was sent */
#define SASL_HAVE_CBIND		0x08	/* channel binding available */
#define SASL_HAVE_TLS		0x10	/* verified TLS session */

/* "SCRAM-SHA-256-PLUS" etc. */
const char	*sasl_name(enum sasl_mech);
/* Case-insensitive lookup; -1 when unknown. */
int		 sasl_lookup(const char *name);
/* 1 for mechanisms that send the secret in a recoverable form (PLAIN,
 * LOGIN, XOAUTH2, OAUTHBEARER): never without a verified TLS session. */
int		 sasl_needs_tls(enum sasl_mech);
/*
 * The strongest mechanism in `offered` (the EHLO AUTH list, space
 * separated, case-insensitive) usable with `have`; -1 with a one-line
 * reason appended to `err` when none ("the server offers no mechanism
 * postie can use safely (offered: PLAIN LOGIN; TLS is not in use)").
 * Order: EXTERNAL (cert sent); OAUTHBEARER, XOAUTH2 (token, TLS);
 * SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS (cbind), SCRAM-SHA-256,
 * SCRAM-SHA-1, PLAIN (TLS), LOGIN (TLS), CRAM-MD5 (password).  See
 * sasl.c for the reasoning.
 */
int		 sasl_choose(const char *offered, unsigned have,
		    struct buf *err);

struct sasl_client {
	enum sasl_mech	 mech;
	int		 step;
	struct buf	 user;
	struct buf	 secret;	/* password or token; wiped */
	struct buf	 host;		/* for OAUTHBEARER's host= */
	int		 port;
	struct buf	 cbind;		/* channel-binding data */
	const char	*cbind_type;	/* "tls-exporter" / "tls-unique" */
	/* SCRAM state */
	struct buf	 nonce;		/* client nonce */
	struct buf	 first_bare;	/* client-first-message-bare */
	struct buf	 server_sig;	/* expected ServerSignature */
	int		 verified;	/* server signature checked */
	int		 plus_offered;	/* -1 unknown; see sasl_set_offered */
	struct buf	 server_msg;	/* see sasl_server_message */
};

/* Copies user, secret (in one allocation, wiped by sasl_release) and
 * host; the caller wipes its own copy of the secret.  port > 0 and a
 * non-empty host go into OAUTHBEARER's port= and host=. */
void	 sasl_init(struct sasl_client *, enum sasl_mech, const char *user,
	    const char *secret, const char *host, int port);
/*
 * Set channel-binding data before the first step: required for -PLUS
 * (type "tls-exporter" or "tls-unique"; the string must outlive the
 * client).  For a plain SCRAM it may be set too: the client then tells
 * the server it could bind ("y,,", RFC 5802 section 6) when
 * sasl_set_offered() saw no SCRAM-*-PLUS in the AUTH list, so that a
 * stripped -PLUS is detected; otherwise it sends "n,,".
 */
void	 sasl_set_cbind(struct sasl_client *, const void *, size_t,
	    const char *type);
/* Give the EHLO AUTH list to a SCRAM client (for the "y" flag above);
 * without this call a plain SCRAM always sends "n,,".  Any mechanism. */
void	 sasl_set_offered(struct sasl_client *, const char *offered);
/*
 * The initial response, sent with AUTH (RFC 4954); returns 1 when the
 * mechanism has one (written to out, replacing its contents; it may be
 * empty: EXTERNAL's is, and RFC 4954 sends an empty initial response as
 * "="), 0 when it waits for a challenge, -1 when the mechanism cannot
 * start with what it was given (-PLUS without channel-binding data, a
 * ^A in an OAuth user or token).  If the engine sends AUTH without the
 * initial response, sasl_step() answers the server's empty 334 with it.
 */
int	 sasl_initial(struct sasl_client *, struct buf *out);
/*
 * Answer a challenge (`chal` may be NULL when `len` is 0).  0 with the
 * response in `out` (replaced; may be empty), or -1 with a one-line,
 * printable reason appended to `err` (a SCRAM server signature that does
 * not verify, a server nonce that does not extend ours, an iteration
 * count outside 4096..1000000, a malformed challenge, one challenge too
 * many, a SCRAM "e=" error with its text).  SCRAM's server-final comes
 * in a 334 and is answered with an empty response.  XOAUTH2 and
 * OAUTHBEARER answer a challenge after their initial response (the
 * server's JSON error) with an empty response and "\x01" so that the
 * server sends its final 5xx; the JSON is then in sasl_server_message().
 */
int	 sasl_step(struct sasl_client *, const unsigned char *chal, size_t len,
	    struct buf *out, struct buf *err);
/* The server's error report (XOAUTH2/OAUTHBEARER JSON, printable and
 * bounded) or NULL; for the 5xx message. */
const char *sasl_server_message(const struct sasl_client *);
/* After the server's 235: 1 when the mechanism is satisfied (SCRAM: the
 * server proved it knows the password), else 0. */
int	 sasl_done(const struct sasl_client *);
/* Wipe and free everything. */
void	 sasl_release(struct sasl_client *);

/*
 * Base64 (RFC 4648 section 4, with padding) for AUTH lines; both append
 * to `out`.  Decode is strict: no white space, length a multiple of 4,
 * padding only at the end, unused bits zero; -1 on bad input (out left
 * as it was).
 */
void	 sasl_b64_encode(const void *, size_t, struct buf *out);
int	 sasl_b64_decode(const char *, size_t, struct buf *out);

/*
 * For unit tests only: use `nonce` (printable, no ',') as the SCRAM
 * client nonce instead of 24 random bytes (RFC test vectors).
 */
void	 sasl_set_nonce_for_test(struct sasl_client *, const char *nonce);

#endif
