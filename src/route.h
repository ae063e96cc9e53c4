#ifndef POSTIE_ROUTE_H
#define POSTIE_ROUTE_H

#include "buf.h"
#include "strlist.h"
#include "tls.h"

/*
 * A route: everything the SMTP engine needs to reach and use a smarthost,
 * decided once from the account before anything is connected.  The
 * engine reads only this (never the configuration's own types or its
 * "on"/"off" strings), so a queue runner can build routes of its own and
 * the config format can change without touching the engine.
 *
 * Strings are borrowed from the account the route was built from, which
 * must outlive it; `hosts` is the route's own copy.
 */

/* Seconds per command when the account sets no timeout. */
#define ROUTE_DEFAULT_TIMEOUT	60

enum route_tls {
	RT_TLS_OFF,	/* plaintext: `tls off` */
	RT_TLS_ON,	/* TLS required: `tls on` */
	RT_TLS_AUTO	/* `tls` unset: required unless the peer is loopback
			 * (127.0.0.0/8, ::1) or a unix socket */
};

enum route_tls_start {
	RT_STARTTLS,	/* plaintext greeting and EHLO, then STARTTLS */
	RT_IMPLICIT	/* handshake before the greeting (port 465 style) */
};

enum route_auth {
	RA_OFF,		/* no AUTH */
	RA_ANY,		/* the strongest usable mechanism the server offers */
	RA_MECH		/* exactly `mech`, or nothing */
};

/*
 * Fetch the secret for AUTH into `out` (wiped first): 0, or -1 with one
 * line in `err` and *temp 1 when trying later may help (a token
 * endpoint that did not answer), 0 when it will not.  Called by
 * smtp_open() once, before it connects to the first host, so that a
 * slow passwordeval or a terminal prompt never holds a socket open; the
 * same secret serves every host it tries.  With `renew` (only for a
 * route whose `oauth` is set): the server refused the access token it
 * was given, get a fresh one.  `note` may get a line for the -v
 * transcript (never a secret): what the source did.
 */
typedef int (*route_secret_fn)(const void *arg, int renew, struct buf *out,
	    int *temp, struct buf *note, struct buf *err);

struct route {
	const char	*name;		/* the account's name, for messages */
	struct strlist	 hosts;		/* smarthosts, tried in order (`host`
					 * split at its commas); port, TLS
					 * and AUTH apply to each */
	const char	*socket;	/* unix socket path instead of hosts */
	int		 port;		/* resolved: the account's, 465 kept,
					 * else 25 (24 for LMTP) */
	const char	*source_ip;	/* NULL: any */
	int		 lmtp;
	const char	*helo;		/* EHLO argument, NULL: derive one */
	int		 timeout;	/* seconds per command, > 0 */

	enum route_tls	 tls;
	enum route_tls_start tls_start;
	/* Verification and client credentials; `host` is the name to check
	 * on every host (tls_host_override) or NULL: each host is checked
	 * against its own name. */
	struct tls_params tlsp;

	enum route_auth	 auth;
	int		 mech;		/* RA_MECH: an enum sasl_mech */
	const char	*user;		/* NULL: none */
	route_secret_fn	 secret;	/* NULL: no secret can be had */
	int		 oauth;		/* the secret is an OAuth access token
					 * that `secret` can renew: AUTH on
					 * means OAUTHBEARER or XOAUTH2, and
					 * a refused token is renewed once */
	const void	*secret_arg;
};

struct account;

/*
 * Resolve `a` into `rt`: 0, or -1 with one line in `err` (a setting the
 * engine cannot act on, e.g. an unknown mechanism or an empty name in
 * the host list); the caller exits EX_CONFIG.  route_release() is safe
 * after either.
 */
int	route_from_account(struct route *rt, const struct account *a,
	    struct buf *err);
void	route_release(struct route *);

struct sockaddr_storage;

/*
 * The TLS decision for one peer, the one smtp_open() acts on: 1 when
 * TLS is required there, 0 when the session stays in plaintext.  `why`,
 * when not NULL, gets it in words: "required, STARTTLS (tls unset: the
 * default for an address that is not loopback)", "off (tls off)".
 * `peer` NULL: a name not resolved yet (required, unless it resolves to
 * loopback when `tls` is unset).
 */
int	route_tls_decide(const struct route *,
	    const struct sockaddr_storage *peer, struct buf *why);
/* The same before connecting to `host` (NULL: the route's socket): an
 * address literal is decided as its peer would be, a name as above. */
int	route_tls_preview(const struct route *, const char *host,
	    struct buf *why);

/* The EHLO name when the connection does not decide it: the account's
 * `domain`, else this host's FQDN; NULL means the address literal of the
 * connection's own end ("[192.0.2.1]"). */
const char *route_helo(const struct route *);

/* AUTH needs a secret from rt->secret: a password or token mechanism,
 * or `auth on` with a user (EXTERNAL needs none). */
int	route_needs_secret(const struct route *);

#endif
