#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "buf.h"
#include "crypto.h"
#include "http.h"
#include "oauth.h"
#include "oauth_authorize.h"
#include "oauth_json.h"
#include "oauth_loopback.h"
#include "sasl.h"
#include "util.h"

/*
 * The two interactive grants of --oauth-authorize (oauth_authorize.h).
 * The client authenticates to the device and token endpoints through
 * oauth_client_post() and oauth_token_request(), as the refresh does.
 */

#define DEVICE_GRANT	"urn:ietf:params:oauth:grant-type:device_code"
#define SLOW_DOWN_MS	5000		/* RFC 8628 3.5: slow_down adds 5 s */
#define BACKOFF_MAX_MS	60000		/* polling after network failures */
#define SECRET_BYTES	32		/* state and PKCE verifier: 43 chars */

struct authz {
	const struct oauth_cfg	*cfg;
	struct queue		*store;
	const struct oauth_say	*say;
	struct buf		*err;
};

static void	 say(const struct authz *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static enum oauth_authz fail(const struct authz *, enum oauth_authz,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static int	 same(const struct buf *, const char *);
static enum oauth_authz failure_class(const struct buf *, int);
static enum oauth_authz check_url(const struct authz *, const char *,
		    const char *);
static enum oauth_authz check(const struct authz *);
static void	 nap_until(long long);
static enum oauth_authz store(const struct authz *,
		    const struct oauth_token_reply *);
static enum oauth_authz expired(const struct authz *);
static enum oauth_authz device_poll(const struct authz *,
		    const struct oauth_device_reply *);
static enum oauth_authz device_flow(const struct authz *);
static enum oauth_authz redirect_error(const struct authz *,
		    const struct oauth_redirect *);
static enum oauth_authz exchange(const struct authz *,
		    const struct oauth_redirect *, const char *,
		    const struct buf *);
static void	 random_b64url(struct buf *);
static enum oauth_authz code_flow(const struct authz *);

static void
say(const struct authz *a, const char *fmt, ...)
{
	struct buf	 b = BUF_INIT;
	va_list		 ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	a->say->line(a->say->arg, buf_str(&b));
	buf_release(&b);
}

/* "cannot authorize account 'NAME': " and the reason, in err. */
static enum oauth_authz
fail(const struct authz *a, enum oauth_authz rc, const char *fmt, ...)
{
	va_list		 ap;

	buf_addf(a->err, "cannot authorize account '%s': ", a->cfg->account);
	va_start(ap, fmt);
	buf_vaddf(a->err, fmt, ap);
	va_end(ap);
	return rc;
}

static int
same(const struct buf *b, const char *s)
{
	return strcmp(buf_str(b), s) == 0;
}

/*
 * What a failed request to the device or token endpoint means: `oerr`
 * the OAuth error it answered (empty: none, the answer was malformed or
 * unexpected), `temp` whether waiting may help.  A grant that expired or
 * was used (invalid_grant) needs a new authorization; the client's own
 * errors (invalid_client, invalid_scope, ...) a change of the account.
 */
static enum oauth_authz
failure_class(const struct buf *oerr, int temp)
{
	if (temp)
		return OAUTHZ_TEMP;
	if (oerr->len == 0)
		return OAUTHZ_PROTOCOL;
	if (same(oerr, "access_denied"))
		return OAUTHZ_DENIED;
	if (same(oerr, "expired_token") || same(oerr, "invalid_grant"))
		return OAUTHZ_TEMP;
	return OAUTHZ_CONFIG;
}

static enum oauth_authz
check_url(const struct authz *a, const char *keyword, const char *url)
{
	struct http_url	 u;
	struct buf	 why = BUF_INIT;
	enum oauth_authz rc = OAUTHZ_OK;

	memset(&u, 0, sizeof(u));
	if (http_url_parse(&u, url, &why) == -1)
		rc = fail(a, OAUTHZ_CONFIG, "%s: %s", keyword, buf_str(&why));
	http_url_release(&u);
	buf_release(&why);
	return rc;
}

/*
 * Before the user is asked to do anything: the endpoints this grant
 * needs are there and are https URLs, and the client secret, when the
 * account has a source for one, can be had.
 */
static enum oauth_authz
check(const struct authz *a)
{
	const struct oauth_cfg	*c = a->cfg;
	struct buf		 secret = BUF_INIT, why = BUF_INIT;
	enum oauth_authz	 rc;

	if (c->device_url == NULL && c->auth_url == NULL)
		return fail(a, OAUTHZ_CONFIG, "it needs oauth_device_url or "
		    "oauth_auth_url (the provider's device authorization or "
		    "authorization endpoint)");
	if ((rc = check_url(a, "oauth_token_url", c->token_url)) !=
	    OAUTHZ_OK)
		return rc;
	if (c->device_url != NULL)
		rc = check_url(a, "oauth_device_url", c->device_url);
	else
		rc = check_url(a, "oauth_auth_url", c->auth_url);
	if (rc != OAUTHZ_OK)
		return rc;
	if (oauth_client_secret(c, &secret, &why) == -1)
		rc = fail(a, OAUTHZ_CONFIG, "%s", buf_str(&why));
	buf_wipe(&secret);
	buf_release(&why);
	return rc;
}

/* Sleep until `when` (now_ms()), signals or not. */
static void
nap_until(long long when)
{
	while (ms_left(when) > 0)
		(void)poll(NULL, 0, ms_left(when));
}

static enum oauth_authz
store(const struct authz *a, const struct oauth_token_reply *tr)
{
	struct buf		 why = BUF_INIT;
	enum oauth_authz	 rc = OAUTHZ_OK;

	/* No refresh token: the scope lacks offline access, which the
	 * account's settings decide. */
	if (oauth_store_reply(a->cfg, a->store, tr, &why) == -1)
		rc = fail(a, tr->refresh_token.len == 0 ? OAUTHZ_CONFIG :
		    OAUTHZ_STORE, "%s", buf_str(&why));
	buf_release(&why);
	return rc;
}

static enum oauth_authz
expired(const struct authz *a)
{
	return fail(a, OAUTHZ_TEMP, "the code expired before the "
	    "authorization was finished; run postie --oauth-authorize %s "
	    "again", a->cfg->account);
}

/*
 * RFC 8628 3.4 and 3.5: ask the token endpoint every `interval` seconds
 * until the user has answered or the device code expires; slow_down adds
 * five seconds for good, a network failure doubles the wait for the next
 * try (up to a minute).
 */
static enum oauth_authz
device_poll(const struct authz *a, const struct oauth_device_reply *dr)
{
	struct oauth_token_reply tr;
	struct buf		 form = BUF_INIT, oerr = BUF_INIT;
	struct buf		 why = BUF_INIT;
	long long		 deadline, interval, wait, next;
	enum oauth_authz	 rc;
	int			 temp, last_temp = 0;

	oauth_token_reply_init(&tr);
	deadline = now_ms() + dr->expires_in * 1000;
	interval = (dr->interval > 0 ? dr->interval : 1) * 1000;
	wait = interval;
	for (;;) {
		next = now_ms() + wait;
		nap_until(next < deadline ? next : deadline);
		if (ms_left(deadline) == 0) {
			rc = last_temp ? fail(a, OAUTHZ_TEMP, "%s",
			    buf_str(&why)) : expired(a);
			break;
		}
		http_form_add(&form, "grant_type", DEVICE_GRANT);
		http_form_add(&form, "device_code", buf_str(&dr->device_code));
		buf_reset(&why);
		if (oauth_token_request(a->cfg, &form, &tr, &oerr, &temp,
		    &why) == 0) {
			rc = store(a, &tr);
			break;
		}
		last_temp = temp;
		if (same(&oerr, "authorization_pending"))
			wait = interval;
		else if (same(&oerr, "slow_down")) {
			interval += SLOW_DOWN_MS;
			wait = interval;
		} else if (temp)
			wait = wait * 2 < BACKOFF_MAX_MS ? wait * 2 :
			    BACKOFF_MAX_MS;
		else {
			if (same(&oerr, "expired_token"))
				rc = expired(a);
			else if (same(&oerr, "access_denied"))
				rc = fail(a, OAUTHZ_DENIED, "access was denied "
				    "(%s)", buf_str(&why));
			else
				rc = fail(a, failure_class(&oerr, temp), "%s",
				    buf_str(&why));
			break;
		}
	}
	oauth_token_reply_release(&tr);
	buf_release(&oerr);
	buf_release(&why);
	return rc;
}

/* RFC 8628 3.1-3.3: a device code for the client and scope, shown. */
static enum oauth_authz
device_flow(const struct authz *a)
{
	const struct oauth_cfg	*c = a->cfg;
	struct oauth_device_reply dr;
	struct http_response	 resp;
	struct buf		 form = BUF_INIT, oerr = BUF_INIT;
	struct buf		 why = BUF_INIT;
	enum oauth_authz	 rc;
	int			 temp;

	oauth_device_reply_init(&dr);
	http_response_init(&resp);
	if (c->scope != NULL)
		http_form_add(&form, "scope", c->scope);
	if (oauth_client_post(c, c->device_url, &form, &resp, &oerr, &temp,
	    &why) == -1)
		rc = fail(a, failure_class(&oerr, temp), "%s", buf_str(&why));
	else if (oauth_json_device(resp.body.data, resp.body.len, &dr,
	    &why) == -1)
		rc = fail(a, OAUTHZ_PROTOCOL, "%s: malformed device "
		    "authorization answer: %s", c->device_url, buf_str(&why));
	else {
		/* oauth_json_device() let no control character through. */
		say(a, "To authorize account '%s', open %s and enter the code "
		    "%s", c->account, buf_str(&dr.verification_uri),
		    buf_str(&dr.user_code));
		if (dr.verification_uri_complete.len > 0)
			say(a, "or open %s (the code filled in)",
			    buf_str(&dr.verification_uri_complete));
		rc = device_poll(a, &dr);
	}
	http_response_release(&resp);
	oauth_device_reply_release(&dr);
	buf_release(&oerr);
	buf_release(&why);
	return rc;
}

/* RFC 6749 4.1.2.1: the authorization server said no, or failed. */
static enum oauth_authz
redirect_error(const struct authz *a, const struct oauth_redirect *rd)
{
	const char	*sep = rd->error_description.len > 0 ? ": " : "";

	if (same(&rd->error, "access_denied"))
		return fail(a, OAUTHZ_DENIED, "access was denied (%s%s%s)",
		    buf_str(&rd->error), sep, buf_str(&rd->error_description));
	return fail(a, same(&rd->error, "temporarily_unavailable") ||
	    same(&rd->error, "server_error") ? OAUTHZ_TEMP : OAUTHZ_CONFIG,
	    "the authorization server answered %s%s%s", buf_str(&rd->error),
	    sep, buf_str(&rd->error_description));
}

/* RFC 6749 4.1.3 with RFC 7636 4.5: the code for tokens. */
static enum oauth_authz
exchange(const struct authz *a, const struct oauth_redirect *rd,
    const char *redirect_uri, const struct buf *verifier)
{
	struct oauth_token_reply tr;
	struct buf		 form = BUF_INIT, oerr = BUF_INIT;
	struct buf		 why = BUF_INIT;
	enum oauth_authz	 rc;
	int			 temp;

	oauth_token_reply_init(&tr);
	http_form_add(&form, "grant_type", "authorization_code");
	http_form_add(&form, "code", buf_str(&rd->code));
	http_form_add(&form, "redirect_uri", redirect_uri);
	http_form_add(&form, "code_verifier", buf_str(verifier));
	if (oauth_token_request(a->cfg, &form, &tr, &oerr, &temp, &why) == 0)
		rc = store(a, &tr);
	else
		rc = fail(a, failure_class(&oerr, temp), "%s", buf_str(&why));
	oauth_token_reply_release(&tr);
	buf_release(&oerr);
	buf_release(&why);
	return rc;
}

/* 32 random bytes, base64url: a state or a PKCE verifier (RFC 7636
 * 4.1 asks for 32 octets of entropy and 43 to 128 characters). */
static void
random_b64url(struct buf *out)
{
	unsigned char	 rnd[SECRET_BYTES];

	arc4random_buf(rnd, sizeof(rnd));
	oauth_b64url(rnd, sizeof(rnd), out);
	explicit_bzero(rnd, sizeof(rnd));
}

/*
 * RFC 6749 4.1 with PKCE (RFC 7636) and a loopback redirect (RFC 8252):
 * the URL shown, the browser's answer awaited, the code exchanged, and
 * only then the page answered, so that it tells what happened.
 */
static enum oauth_authz
code_flow(const struct authz *a)
{
	const struct oauth_cfg	*c = a->cfg;
	struct loopback		 lb;
	struct oauth_redirect	 rd;
	struct buf		 state = BUF_INIT, verifier = BUF_INIT;
	struct buf		 challenge = BUF_INIT, uri = BUF_INIT;
	struct buf		 url = BUF_INIT, why = BUF_INIT;
	struct buf		 page = BUF_INIT;
	enum oauth_authz	 rc;
	int			 got;

	oauth_redirect_init(&rd);
	if (loopback_open(&lb, &why) == -1) {
		rc = fail(a, OAUTHZ_OSERR, "%s", buf_str(&why));
		goto out;
	}
	buf_addf(&uri, "http://127.0.0.1:%d/", lb.port);
	random_b64url(&state);
	random_b64url(&verifier);
	if (oauth_pkce_s256(buf_str(&verifier), &challenge) == -1) {
		rc = fail(a, OAUTHZ_OSERR, "cannot compute the PKCE challenge "
		    "(SHA-256)");
		goto out;
	}
	oauth_auth_request(c, buf_str(&uri), buf_str(&state),
	    buf_str(&challenge), &url);
	say(a, "To authorize account '%s', open this URL in a browser:",
	    c->account);
	say(a, "%s", buf_str(&url));
	got = loopback_wait(&lb, buf_str(&state),
	    now_ms() + OAUTHZ_BROWSER_MS, &rd, &why);
	if (got == -1)
		rc = fail(a, OAUTHZ_OSERR, "%s", buf_str(&why));
	else if (got == 0)
		rc = fail(a, OAUTHZ_TEMP, "no answer from the browser within "
		    "%d minutes", OAUTHZ_BROWSER_MS / 60000);
	else if (rd.error.len > 0)
		rc = redirect_error(a, &rd);
	else
		rc = exchange(a, &rd, buf_str(&uri), &verifier);
	if (rc == OAUTHZ_OK)
		buf_addf(&page, "postie: account %s is authorized; you may "
		    "close this window.", c->account);
	else
		buf_addf(&page, "postie: %s", buf_str(a->err));
	loopback_answer(&lb, buf_str(&page));
out:
	loopback_close(&lb);
	oauth_redirect_release(&rd);
	buf_wipe(&state);
	buf_wipe(&verifier);
	buf_release(&challenge);
	buf_release(&uri);
	buf_release(&url);
	buf_release(&why);
	buf_release(&page);
	return rc;
}

enum oauth_authz
oauth_authorize(const struct oauth_cfg *c, struct queue *q,
    const struct oauth_say *s, struct buf *err)
{
	struct authz		 a;
	enum oauth_authz	 rc;

	a.cfg = c;
	a.store = q;
	a.say = s;
	a.err = err;
	if ((rc = check(&a)) != OAUTHZ_OK)
		return rc;
	return c->device_url != NULL ? device_flow(&a) : code_flow(&a);
}

void
oauth_b64url(const void *p, size_t len, struct buf *out)
{
	size_t	 i, start = out->len;

	sasl_b64_encode(p, len, out);
	for (i = start; i < out->len; i++)
		if (out->data[i] == '+')
			out->data[i] = '-';
		else if (out->data[i] == '/')
			out->data[i] = '_';
	while (out->len > start && out->data[out->len - 1] == '=')
		buf_truncate(out, out->len - 1);
}

int
oauth_pkce_s256(const char *verifier, struct buf *out)
{
	unsigned char	 md[32];

	if (crypto_ready() == -1 || gnutls_hash_fast(GNUTLS_DIG_SHA256,
	    verifier, strlen(verifier), md) < 0)
		return -1;
	oauth_b64url(md, sizeof(md), out);
	explicit_bzero(md, sizeof(md));
	return 0;
}

void
oauth_auth_request(const struct oauth_cfg *c, const char *redirect_uri,
    const char *state, const char *challenge, struct buf *out)
{
	struct buf	 q = BUF_INIT;

	http_form_add(&q, "response_type", "code");
	http_form_add(&q, "client_id", c->client_id);
	http_form_add(&q, "redirect_uri", redirect_uri);
	if (c->scope != NULL)
		http_form_add(&q, "scope", c->scope);
	http_form_add(&q, "state", state);
	http_form_add(&q, "code_challenge", challenge);
	http_form_add(&q, "code_challenge_method", "S256");
	/* Google returns a refresh token only for offline access, and
	 * again only when the user is asked again. */
	if (strcmp(c->provider, "google") == 0) {
		http_form_add(&q, "access_type", "offline");
		http_form_add(&q, "prompt", "consent");
	}
	buf_addstr(out, c->auth_url);
	buf_addch(out, strchr(c->auth_url, '?') != NULL ? '&' : '?');
	buf_add(out, q.data, q.len);
	buf_release(&q);
}
