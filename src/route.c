#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "route.h"
#include "sasl.h"
#include "secret.h"
#include "strlist.h"
#include "util.h"
#include "xmalloc.h"

/*
 * The one place that reads the account's TLS and AUTH keywords as the
 * strings conf.c keeps ("on", "off", NULL for unset) and turns them into
 * the engine's enums, and that splits `host` into the hosts to try.
 */

static int	is_on(const char *);
static int	is_off(const char *);
static int	split_hosts(const char *, struct strlist *);
static int	account_secret(const void *, int, struct buf *, int *,
		    struct buf *, struct buf *);
static int	is_loopback(const struct sockaddr_storage *);

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

/*
 * `host` as conf.c accepted it: names separated by commas, blanks around
 * each dropped.  -1 when a name is empty ("a,,b", "a,"): conf.c refuses
 * that with the file and line, so only a route built some other way
 * gets here with one.
 */
static int
split_hosts(const char *list, struct strlist *out)
{
	const char	*p, *e, *end;
	char		*name;

	for (p = list;; p = end + 1) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		for (e = end; e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (e == p)
			return -1;
		name = xstrndup(p, (size_t)(e - p));
		strlist_add(out, name);
		free(name);
		if (*end == '\0')
			return 0;
	}
}

/*
 * The route's secret callback: the account's sources, in secret.h's
 * order.  One secret serves every host of the list (it is fetched once,
 * before the first connection), so the netrc entry and the prompt are
 * those of the first host.
 */
static int
account_secret(const void *arg, int renew, struct buf *out, int *temp,
    struct buf *note, struct buf *err)
{
	const struct account	*a = arg;
	struct strlist		 hosts = STRLIST_INIT;
	int			 rc;

	*temp = 0;
	(void)note;
	if (renew) {
		buf_addstr(err, "a password cannot be renewed");
		return -1;
	}
	if (a->host != NULL)
		(void)split_hosts(a->host, &hosts);
	rc = secret_get(a, hosts.n > 0 ? hosts.v[0] : "localhost", a->user,
	    out, err);
	strlist_release(&hosts);
	return rc;
}

int
route_from_account(struct route *rt, const struct account *a,
    struct buf *err)
{
	memset(rt, 0, sizeof(*rt));
	strlist_init(&rt->hosts);
	rt->name = a->name != NULL ? a->name : "default";
	if (a->host != NULL && split_hosts(a->host, &rt->hosts) == -1) {
		buf_addf(err, "account '%s': host '%s' has an empty name in "
		    "its list", rt->name, a->host);
		return -1;
	}
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
	/* The caller puts in the token source (setup.c). */
	rt->oauth = a->oauth_provider != NULL;
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

/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static int
is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	const unsigned char		*b;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family != AF_INET6)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
		return 1;
	b = sin6->sin6_addr.s6_addr;
	return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && b[12] == 127;
}

/* Secure by default: RT_TLS_AUTO requires TLS unless the peer is
 * loopback or a unix socket. */
int
route_tls_decide(const struct route *rt, const struct sockaddr_storage *peer,
    struct buf *why)
{
	const char	*reason;
	int		 required;

	if (rt->tls == RT_TLS_OFF) {
		required = 0;
		reason = "tls off";
	} else if (rt->tls == RT_TLS_ON) {
		required = 1;
		reason = "tls on";
	} else if (peer == NULL) {
		required = 1;
		reason = "tls unset: the default for an address that is not "
		    "loopback; off if the name resolves to loopback";
	} else if (peer->ss_family == AF_UNIX) {
		required = 0;
		reason = "tls unset: a unix socket";
	} else if (is_loopback(peer)) {
		required = 0;
		reason = "tls unset: a loopback address";
	} else {
		required = 1;
		reason = "tls unset: the default for an address that is not "
		    "loopback";
	}
	if (why != NULL)
		buf_addf(why, "%s (%s)", !required ? "off" :
		    rt->tls_start == RT_IMPLICIT ? "required, implicit TLS" :
		    "required, STARTTLS", reason);
	return required;
}

/* Before connecting, only a unix socket or an address literal tells. */
int
route_tls_preview(const struct route *rt, const char *host, struct buf *why)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (void *)&ss;
	struct sockaddr_in6	*sin6 = (void *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (host == NULL)
		ss.ss_family = AF_UNIX;
	else if (inet_pton(AF_INET, host, &sin->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		return route_tls_decide(rt, NULL, why);
	return route_tls_decide(rt, &ss, why);
}

/*
 * Never "localhost", which servers reject or treat as a forgery; a
 * dotless host name is no FQDN either (Postfix's
 * reject_non_fqdn_helo_hostname): the caller uses the address literal.
 */
const char *
route_helo(const struct route *rt)
{
	const char	*n;

	if (!is_localhost(rt->helo))
		return rt->helo;
	if ((n = local_fqdn()) != NULL && !is_localhost(n) &&
	    strchr(n, '.') != NULL)
		return n;
	return NULL;
}
