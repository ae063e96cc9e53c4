#include "config.h"

#include <string.h>

#include "buf.h"
#include "conf.h"
#include "route.h"
#include "sasl.h"
#include "secret.h"
#include "strlist.h"

/*
 * The one place that reads the account's TLS and AUTH keywords as the
 * strings conf.c keeps ("on", "off", NULL for unset) and turns them into
 * the engine's enums.
 */

static int	is_on(const char *);
static int	is_off(const char *);
static int	account_secret(const void *, struct buf *, struct buf *);

static int
is_on(const char *v)
{
	return v != NULL && strcmp(v, "on") == 0;
}

static int
is_off(const char *v)
{
	return v != NULL && strcmp(v, "off") == 0;
}

/* The route's secret callback: the account's sources, in secret.h's
 * order; the host names the netrc entry and the prompt. */
static int
account_secret(const void *arg, struct buf *out, struct buf *err)
{
	const struct account	*a = arg;

	return secret_get(a, a->host != NULL ? a->host : "localhost",
	    a->user, out, err);
}

int
route_from_account(struct route *rt, const struct account *a,
    struct buf *err)
{
	memset(rt, 0, sizeof(*rt));
	strlist_init(&rt->hosts);
	rt->name = a->name != NULL ? a->name : "default";
	if (a->host != NULL)
		strlist_add(&rt->hosts, a->host);
	rt->socket = a->socket;
	rt->lmtp = a->protocol == PROTO_LMTP;
	rt->port = a->port > 0 ? a->port : rt->lmtp ? 24 : 25;
	rt->source_ip = a->source_ip;
	rt->helo = a->domain;
	rt->timeout = a->timeout > 0 ? a->timeout : ROUTE_DEFAULT_TIMEOUT;

	rt->tls = is_off(a->tls) ? RT_TLS_OFF : is_on(a->tls) ? RT_TLS_ON :
	    RT_TLS_AUTO;
	if (is_off(a->tls_starttls) ||
	    (a->tls_starttls == NULL && a->socket == NULL && rt->port == 465))
		rt->tls_start = RT_IMPLICIT;
	else
		rt->tls_start = RT_STARTTLS;
	rt->tlsp.host = a->tls_host_override;
	rt->tlsp.trust_file = a->tls_trust_file;
	rt->tlsp.crl_file = a->tls_crl_file;
	rt->tlsp.fingerprint = a->tls_fingerprint;
	rt->tlsp.certcheck = !is_off(a->tls_certcheck);
	rt->tlsp.priorities = a->tls_priorities;
	rt->tlsp.cert_file = a->tls_cert_file;
	rt->tlsp.key_file = a->tls_key_file;

	/* msmtp: `auth` unset means on when a user is set. */
	rt->user = a->user != NULL && a->user[0] != '\0' ? a->user : NULL;
	if (a->auth == NULL)
		rt->auth = rt->user != NULL ? RA_ANY : RA_OFF;
	else if (is_off(a->auth))
		rt->auth = RA_OFF;
	else if (is_on(a->auth))
		rt->auth = RA_ANY;
	else if ((rt->mech = sasl_lookup(a->auth)) == -1) {
		buf_addf(err, "account '%s': auth '%s' is not supported",
		    rt->name, a->auth);
		return -1;
	} else
		rt->auth = RA_MECH;
	rt->secret = account_secret;
	rt->secret_arg = a;
	return 0;
}

void
route_release(struct route *rt)
{
	strlist_release(&rt->hosts);
	memset(rt, 0, sizeof(*rt));
}

int
route_needs_secret(const struct route *rt)
{
	switch (rt->auth) {
	case RA_MECH:
		return rt->mech != SASL_EXTERNAL;
	case RA_ANY:
		return rt->user != NULL;
	default:
		return 0;
	}
}
