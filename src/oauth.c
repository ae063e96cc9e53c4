#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "http.h"
#include "oauth.h"
#include "oauth_json.h"
#include "queue.h"
#include "secret.h"
#include "util.h"
#include "xmalloc.h"

/*
 * OAuth2 for AUTH XOAUTH2 / OAUTHBEARER: the refresh token grant (RFC
 * 6749 6) against the provider's token endpoint, with the answer kept in
 * the queue's token store, so that a message sent days after the last
 * one (or from the queue, long after it was submitted) still gets a
 * fresh access token, and concurrent postie processes refresh once.
 */

#define REFRESH_MARGIN	60		/* seconds before expiry: refresh */
#define TOKEN_BODY_MAX	(64 * 1024)	/* a token endpoint's answer */
#define MS_TENANT_DEFAULT "common"

/* The client secret, fetched once (oauth.h). */
struct oauth_kept {
	struct buf	 secret;	/* wiped */
	int		 have;		/* secret_get_client()'s answer */
	int		 fetched;
};

struct preset {
	const char	*name;
	const char	*auth_url;	/* "%s": the tenant (microsoft) */
	const char	*token_url;
	const char	*device_url;	/* NULL: no device grant */
	const char	*scope;
};

/*
 * Google refuses the mail scope for the device grant (it lists the
 * scopes a "TV and limited input" client may ask for), so Google
 * accounts use the authorization code grant with a loopback redirect.
 */
static const struct preset presets[] = {
	{ "google",
	  "https://accounts.google.com/o/oauth2/v2/auth",
	  "https://oauth2.googleapis.com/token",
	  NULL,
	  "https://mail.google.com/" },
	{ "microsoft",
	  "https://login.microsoftonline.com/%s/oauth2/v2.0/authorize",
	  "https://login.microsoftonline.com/%s/oauth2/v2.0/token",
	  "https://login.microsoftonline.com/%s/oauth2/v2.0/devicecode",
	  "https://outlook.office.com/SMTP.Send offline_access" },
};

static const struct preset *find_preset(const char *);
static char	*fill(const char *, const char *, const char *);
static int	 tenant_ok(const char *);
static int	 check_account(const struct account *, const char *,
		    struct buf *);
static void	 http_setup(const struct oauth_cfg *, struct tls_params *,
		    struct http_opts *);
static void	 judge_error(const char *, const struct http_response *,
		    struct buf *, int *, struct buf *);
static int	 same(const struct buf *, const char *);
static int	 bound_here(const struct oauth_cfg *,
		    const struct oauth_record *, struct buf *);
static int	 usable(const struct oauth_record *, long long);
static int	 no_record(const struct oauth_cfg *, const struct queue *,
		    struct buf *);
static void	 say(const struct oauth_cfg *, const struct oauth_record *,
		    int, struct buf *);
static int	 refresh(const struct oauth_cfg *, struct queue *,
		    struct oauth_record *, int *, struct buf *);

static const struct preset *
find_preset(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

/* The account's own URL, else the preset's with the tenant filled in. */
static char *
fill(const char *own, const char *preset, const char *tenant)
{
	struct buf	 b = BUF_INIT;
	const char	*p;

	if (own != NULL)
		return xstrdup(own);
	if (preset == NULL)
		return NULL;
	if ((p = strstr(preset, "%s")) == NULL)
		return xstrdup(preset);
	buf_add(&b, preset, (size_t)(p - preset));
	buf_addstr(&b, tenant);
	buf_addstr(&b, p + 2);
	return buf_detach(&b);
}

/* A Microsoft tenant: "common", "organizations", "consumers", a domain
 * or a GUID; it goes into a URL path. */
static int
tenant_ok(const char *t)
{
	size_t	 i;

	if (t[0] == '\0' || t[0] == '.' || t[0] == '-')
		return 0;
	for (i = 0; t[i] != '\0'; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= '0' && t[i] <= '9') || t[i] == '.' ||
		    t[i] == '-' || t[i] == '_'))
			return 0;
	return i <= 128;
}

/* What an OAuth account cannot have or must have. */
static int
check_account(const struct account *a, const char *name, struct buf *err)
{
	if (a->oauth_client_id == NULL)
		buf_addf(err, "account '%s': oauth_provider needs "
		    "oauth_client_id", name);
	else if (a->password != NULL || a->passwordeval != NULL)
		buf_addf(err, "account '%s': %s cannot be used with "
		    "oauth_provider (the token comes from the token store)",
		    name, a->password != NULL ? "password" : "passwordeval");
	else if (a->user == NULL || a->user[0] == '\0')
		buf_addf(err, "account '%s': oauth_provider needs 'user' (the "
		    "mailbox the token is for)", name);
	else if (a->auth != NULL && strcmp(a->auth, "on") != 0 &&
	    strcmp(a->auth, "oauthbearer") != 0 &&
	    strcmp(a->auth, "xoauth2") != 0)
		buf_addf(err, "account '%s': oauth_provider needs auth "
		    "oauthbearer, xoauth2 or on, not '%s'", name, a->auth);
	else
		return 0;
	return -1;
}

int
oauth_cfg_from_account(struct oauth_cfg *c, const struct account *a,
    struct buf *err)
{
	const struct preset	*p = NULL;
	const char		*name = a->name != NULL ? a->name : "default";
	const char		*tenant;

	memset(c, 0, sizeof(*c));
	c->account = name;
	c->acct = a;
	if (a->oauth_provider == NULL) {
		buf_addf(err, "account '%s' has no oauth_provider", name);
		return -1;
	}
	c->provider = a->oauth_provider;
	if (check_account(a, name, err) == -1)
		return -1;
	tenant = a->oauth_tenant != NULL ? a->oauth_tenant : MS_TENANT_DEFAULT;
	if (strcmp(c->provider, "custom") != 0)
		p = find_preset(c->provider);
	if (a->oauth_tenant != NULL && strcmp(c->provider, "microsoft") != 0) {
		buf_addf(err, "account '%s': oauth_tenant is for oauth_provider "
		    "microsoft", name);
		return -1;
	}
	if (!tenant_ok(tenant)) {
		buf_addf(err, "account '%s': invalid oauth_tenant '%s'", name,
		    tenant);
		return -1;
	}
	c->client_id = a->oauth_client_id;
	c->token_url = fill(a->oauth_token_url, p ? p->token_url : NULL, tenant);
	c->auth_url = fill(a->oauth_auth_url, p ? p->auth_url : NULL, tenant);
	c->device_url = fill(a->oauth_device_url, p ? p->device_url : NULL,
	    tenant);
	c->scope = fill(a->oauth_scope, p ? p->scope : NULL, tenant);
	if (c->token_url == NULL) {
		buf_addf(err, "account '%s': oauth_provider custom needs "
		    "oauth_token_url", name);
		oauth_cfg_release(c);
		return -1;
	}
	c->trust_file = a->oauth_trust_file != NULL &&
	    strcmp(a->oauth_trust_file, "system") != 0 ?
	    a->oauth_trust_file : NULL;
	c->timeout = a->timeout > 0 ? a->timeout : 60;
	c->kept = xcalloc(1, sizeof(*c->kept));
	return 0;
}

void
oauth_cfg_release(struct oauth_cfg *c)
{
	if (c->kept != NULL)
		buf_wipe(&c->kept->secret);
	free(c->kept);
	free(c->token_url);
	free(c->auth_url);
	free(c->device_url);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

int
oauth_client_secret(const struct oauth_cfg *c, struct buf *out,
    struct buf *err)
{
	struct oauth_kept	*k = c->kept;

	buf_wipe(out);
	if (k == NULL)
		return secret_get_client(c->acct, out, err);
	if (!k->fetched) {
		if ((k->have = secret_get_client(c->acct, &k->secret,
		    err)) == -1)
			return -1;
		k->fetched = 1;
	}
	if (k->have == 1)
		buf_add(out, k->secret.data, k->secret.len);
	return k->have;
}

/* The token endpoint is trusted as the system trusts it, or as
 * oauth_trust_file says: never by the smarthost's settings. */
static void
http_setup(const struct oauth_cfg *c, struct tls_params *tp,
    struct http_opts *o)
{
	memset(tp, 0, sizeof(*tp));
	tp->trust_file = c->trust_file;
	tp->certcheck = 1;
	memset(o, 0, sizeof(*o));
	o->tls = tp;
	o->step_ms = c->timeout * 1000;
	o->deadline = now_ms() + 3LL * c->timeout * 1000;
	o->body_max = TOKEN_BODY_MAX;
}

/*
 * An endpoint's answer other than 200: an error reply (RFC 6749 5.2 says
 * 400; 401 for a client that failed to authenticate), or anything else,
 * which waiting may cure when it is a 5xx or 429.
 */
static void
judge_error(const char *url, const struct http_response *resp,
    struct buf *oerr, int *temp, struct buf *err)
{
	struct buf	 desc = BUF_INIT;

	if (oauth_json_error(resp->body.data, resp->body.len, oerr,
	    &desc) == 0) {
		buf_addf(err, "%s: %s%s%s", url, buf_str(oerr),
		    desc.len > 0 ? ": " : "", buf_str(&desc));
		*temp = strcmp(buf_str(oerr), "temporarily_unavailable") == 0 ||
		    strcmp(buf_str(oerr), "server_error") == 0;
	} else {
		buf_addf(err, "%s: HTTP status %d", url, resp->status);
		*temp = resp->status >= 500 || resp->status == 429;
	}
	buf_release(&desc);
}

int
oauth_client_post(const struct oauth_cfg *c, const char *url,
    struct buf *form, struct http_response *resp, struct buf *oerr,
    int *temp, struct buf *err)
{
	struct http_opts	 o;
	struct tls_params	 tp;
	struct buf		 secret = BUF_INIT;
	int			 rc = -1, have;

	*temp = 0;
	buf_reset(oerr);
	if ((have = oauth_client_secret(c, &secret, err)) == -1) {
		buf_wipe(form);
		return -1;
	}
	/* RFC 6749 2.3.1: the credentials in the body, which Google and
	 * Microsoft both take (Basic would also do). */
	http_form_add(form, "client_id", c->client_id);
	if (have == 1)
		http_form_add(form, "client_secret", buf_str(&secret));
	buf_wipe(&secret);
	http_setup(c, &tp, &o);
	if (http_post_form(url, form, &o, resp, err) == -1)
		*temp = 1;
	else if (resp->status == 200)
		rc = 0;
	else
		judge_error(url, resp, oerr, temp, err);
	buf_wipe(form);
	return rc;
}

int
oauth_token_request(const struct oauth_cfg *c, struct buf *form,
    struct oauth_token_reply *tr, struct buf *oerr, int *temp,
    struct buf *err)
{
	struct http_response	 resp;
	struct buf		 why = BUF_INIT;
	int			 rc = -1;

	oauth_token_reply_release(tr);
	http_response_init(&resp);
	if (oauth_client_post(c, c->token_url, form, &resp, oerr, temp,
	    err) == 0) {
		if (oauth_json_token(resp.body.data, resp.body.len, tr,
		    &why) == 0)
			rc = 0;
		else
			buf_addf(err, "%s: malformed token answer: %s",
			    c->token_url, buf_str(&why));
	}
	http_response_release(&resp);
	buf_release(&why);
	return rc;
}

int
oauth_store_reply(const struct oauth_cfg *c, struct queue *q,
    const struct oauth_token_reply *tr, struct buf *err)
{
	struct oauth_record	 rec;
	int			 rc, lock;

	oauth_record_init(&rec);
	buf_addstr(&rec.client_id, c->client_id);
	buf_addstr(&rec.token_url, c->token_url);
	buf_add(&rec.refresh_token, tr->refresh_token.data,
	    tr->refresh_token.len);
	buf_add(&rec.access_token, tr->access_token.data,
	    tr->access_token.len);
	rec.expires = tr->expires_in > 0 ? (long long)time(NULL) +
	    tr->expires_in : 0;
	if (rec.refresh_token.len == 0) {
		buf_addf(err, "%s: the answer holds no refresh token (the "
		    "scope may lack offline access)", c->token_url);
		rc = -1;
	} else if ((lock = queue_oauth_lock(q, c->account,
	    (3 * c->timeout + 5) * 1000, err)) == -1)
		rc = -1;
	else {
		/* Not in the middle of someone's refresh of the old one. */
		rc = queue_oauth_save(q, c->account, &rec, err);
		queue_oauth_unlock(q, lock);
	}
	oauth_record_release(&rec);
	return rc;
}

static int
same(const struct buf *b, const char *s)
{
	return strcmp(buf_str(b), s) == 0;
}

/* A record made for another client or endpoint is of no use here. */
static int
bound_here(const struct oauth_cfg *c, const struct oauth_record *r,
    struct buf *err)
{
	if (same(&r->client_id, c->client_id) &&
	    same(&r->token_url, c->token_url))
		return 1;
	buf_addf(err, "the token of account '%s' was authorized for another "
	    "%s (run: postie --oauth-authorize %s)", c->account,
	    same(&r->client_id, c->client_id) ? "token URL" : "client id",
	    c->account);
	return 0;
}

static int
usable(const struct oauth_record *r, long long now)
{
	return r->access_token.len > 0 &&
	    (r->expires == 0 || r->expires - REFRESH_MARGIN > now);
}

static int
no_record(const struct oauth_cfg *c, const struct queue *q, struct buf *err)
{
	if (q->system && geteuid() != 0)
		buf_addf(err, "no token for account '%s' in the system store: "
		    "root must run postie --oauth-authorize %s", c->account,
		    c->account);
	else
		buf_addf(err, "no token for account '%s' (run: postie "
		    "--oauth-authorize %s)", c->account, c->account);
	return -1;
}

/* For -v: what the token is, never the token. */
static void
say(const struct oauth_cfg *c, const struct oauth_record *r, int fresh,
    struct buf *note)
{
	buf_addf(note, "OAuth: the access token of account '%s' ", c->account);
	if (fresh)
		buf_addf(note, "was refreshed at %s", c->token_url);
	else
		buf_addstr(note, "is cached");
	if (r->expires == 0)
		buf_addstr(note, "; its expiry is unknown");
	else
		buf_addf(note, "; it expires in %lld s",
		    r->expires - (long long)time(NULL));
}

/* The refresh token grant, under the lock; the record updated. */
static int
refresh(const struct oauth_cfg *c, struct queue *q, struct oauth_record *r,
    int *final, struct buf *err)
{
	struct oauth_token_reply tr;
	struct buf		 form = BUF_INIT, oerr = BUF_INIT;
	struct buf		 why = BUF_INIT;
	int			 temp, rc = -1;

	oauth_token_reply_init(&tr);
	http_form_add(&form, "grant_type", "refresh_token");
	http_form_add(&form, "refresh_token", buf_str(&r->refresh_token));
	if (oauth_token_request(c, &form, &tr, &oerr, &temp, &why) == -1) {
		*final = !temp;
		if (same(&oerr, "invalid_grant"))
			buf_addf(err, "the refresh token of account '%s' was "
			    "refused (%s): run postie --oauth-authorize %s",
			    c->account, buf_str(&why), c->account);
		else
			buf_addf(err, "cannot refresh the token of account "
			    "'%s': %s", c->account, buf_str(&why));
		goto out;
	}
	/* RFC 6749 6: a new refresh token replaces the old, which the
	 * server may revoke at once; none given keeps the old. */
	if (tr.refresh_token.len > 0) {
		buf_wipe(&r->refresh_token);
		buf_add(&r->refresh_token, tr.refresh_token.data,
		    tr.refresh_token.len);
	}
	buf_wipe(&r->access_token);
	buf_add(&r->access_token, tr.access_token.data, tr.access_token.len);
	r->expires = tr.expires_in > 0 ? (long long)time(NULL) +
	    tr.expires_in : 0;
	if (queue_oauth_save(q, c->account, r, &why) == -1) {
		*final = 1;
		buf_addf(err, "cannot store the refreshed token of account "
		    "'%s': %s", c->account, buf_str(&why));
		goto out;
	}
	rc = 0;
out:
	oauth_token_reply_release(&tr);
	buf_release(&oerr);
	buf_release(&why);
	return rc;
}

int
oauth_access_token(const struct oauth_cfg *c, struct queue *q, int renew,
    struct buf *token, int *final, struct buf *note, struct buf *err)
{
	struct oauth_record	 r;
	int			 lock = -1, rc = -1, got, fresh = 0;

	*final = 1;
	buf_wipe(token);
	oauth_record_init(&r);
	if ((got = queue_oauth_load(q, c->account, &r, err)) == -1)
		goto out;
	if (got == 0) {
		no_record(c, q, err);
		goto out;
	}
	if (!bound_here(c, &r, err))
		goto out;
	if (!renew && usable(&r, (long long)time(NULL)))
		goto use;
	/* Whoever held the lock may have refreshed: read it again. */
	if ((lock = queue_oauth_lock(q, c->account,
	    (3 * c->timeout + 5) * 1000, err)) == -1) {
		*final = 0;
		goto out;
	}
	oauth_record_release(&r);
	if ((got = queue_oauth_load(q, c->account, &r, err)) != 1) {
		if (got == 0)
			no_record(c, q, err);
		goto out;
	}
	if (!bound_here(c, &r, err))
		goto out;
	if (renew || !usable(&r, (long long)time(NULL))) {
		if (refresh(c, q, &r, final, err) == -1)
			goto out;
		fresh = 1;
	}
use:
	buf_add(token, r.access_token.data, r.access_token.len);
	if (note != NULL)
		say(c, &r, fresh, note);
	rc = 0;
out:
	if (lock != -1)
		queue_oauth_unlock(q, lock);
	oauth_record_release(&r);
	return rc;
}
