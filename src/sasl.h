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
 * separated) usable with `have`; -1 with a reason in `err` when none.
 * Order: EXTERNAL (cert), SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS,
 * SCRAM-SHA-256, SCRAM-SHA-1, then (TLS only) PLAIN, LOGIN; CRAM-MD5
 * only without TLS... see sasl.c for the reasoning; OAUTHBEARER/XOAUTH2
 * when a token is what we have.
 */
int		 sasl_choose(const char *offered, unsigned have, struct buf *err);

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
};

void	 sasl_init(struct sasl_client *, enum sasl_mech, const char *user,
	    const char *secret, const char *host, int port);
/* Set channel-binding data (for -PLUS) before the first step. */
void	 sasl_set_cbind(struct sasl_client *, const void *, size_t,
	    const char *type);
/* The initial response, sent with AUTH (RFC 4954); returns 1 when the
 * mechanism has one (written to out), 0 when it waits for a challenge. */
int	 sasl_initial(struct sasl_client *, struct buf *out);
/* Answer a challenge.  0 with the response in `out`, or -1 with a reason
 * (a SCRAM server signature that does not verify, a malformed challenge). */
int	 sasl_step(struct sasl_client *, const unsigned char *chal, size_t len,
	    struct buf *out, struct buf *err);
/* After the server's 235: 1 when the mechanism is satisfied (SCRAM: the
 * server proved it knows the password), else 0. */
int	 sasl_done(const struct sasl_client *);
/* Wipe and free everything. */
void	 sasl_release(struct sasl_client *);

/* Base64 (RFC 4648) for AUTH lines; decode returns -1 on bad input. */
void	 sasl_b64_encode(const void *, size_t, struct buf *out);
int	 sasl_b64_decode(const char *, size_t, struct buf *out);

#endif
