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
 * line in `err`.  Called by smtp_open() once, before it connects to the
 * first host, so that a slow passwordeval or a terminal prompt never
 * holds a socket open; the same secret serves every host it tries.
 */
typedef int (*route_secret_fn)(const void *arg, struct buf *out,
	    struct buf *err);

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

/* AUTH needs a secret from rt->secret: a password or token mechanism,
 * or `auth on` with a user (EXTERNAL needs none). */
int	route_needs_secret(const struct route *);

#endif
