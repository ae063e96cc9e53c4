#ifndef POSTIE_OAUTH_H
#define POSTIE_OAUTH_H

#include "buf.h"
#include "oauth_json.h"

struct account;
struct http_response;
struct queue;

/*
 * OAuth2 accounts: the provider's endpoints and the client, resolved
 * from the account (presets for google and microsoft, the oauth_*
 * keywords for custom or to override them); the access token for AUTH,
 * kept in the queue's token store and refreshed when it is about to
 * expire; the token endpoint requests --oauth-authorize makes too.
 * Tokens and the client secret never leave the buffers given here, and
 * those are wiped.
 */

struct oauth_cfg {
	const char	*account;	/* the account's name */
	const char	*provider;	/* "google", "microsoft", "custom" */
	const char	*client_id;
	char		*token_url;	/* allocated; NULL: none */
	char		*auth_url;
	char		*device_url;
	char		*scope;
	const char	*trust_file;	/* NULL: the system's */
	int		 timeout;	/* seconds per step, > 0 */
	const struct account *acct;	/* the client secret's sources */
	struct oauth_kept *kept;	/* the client secret once fetched */
};

/* 0, or -1 with "account 'NAME': ..." in `err` (EX_CONFIG). */
int	oauth_cfg_from_account(struct oauth_cfg *, const struct account *,
	    struct buf *err);
void	oauth_cfg_release(struct oauth_cfg *);

/* The client secret (oauth_client_secret, oauth_client_secret_eval, the
 * credential postie-ACCOUNT-oauth-client-secret): 1 found, 0 none (a
 * public client), -1 error.  The caller wipes `out`.  Fetched once per
 * cfg and kept (wiped by oauth_cfg_release()): the device grant asks the
 * endpoint every few seconds, and an eval command that asks a password
 * manager must not run, or prompt, each time. */
int	oauth_client_secret(const struct oauth_cfg *, struct buf *out,
	    struct buf *err);

/*
 * POST `form` (wiped here) to `url`, one of the provider's endpoints
 * (token, device authorization), with the client's credentials added as
 * a token endpoint takes them (client_id, and client_secret when there
 * is one).  0 when the endpoint answered 200, its body in `resp` (set up
 * with http_response_init()) for the caller to read; else -1 with one
 * line in `err` ("URL: invalid_client: DESC", "URL: HTTP status 502", a
 * network failure), the OAuth error code in `oerr` when the answer was
 * one (empty otherwise), and *temp 1 when trying again later may help.
 */
int	oauth_client_post(const struct oauth_cfg *, const char *url,
	    struct buf *form, struct http_response *resp, struct buf *oerr,
	    int *temp, struct buf *err);

/*
 * POST `form` (wiped here) to the token endpoint with the client's
 * credentials added (client_id, and client_secret when there is one),
 * and read the answer: 0 with the token reply, or -1 with one line in
 * `err` and the OAuth error code in `oerr` when the endpoint answered
 * one ("invalid_grant", "authorization_pending"; empty otherwise).
 * *temp is 1 when trying again later may help (network, 5xx).
 */
int	oauth_token_request(const struct oauth_cfg *, struct buf *form,
	    struct oauth_token_reply *, struct buf *oerr, int *temp,
	    struct buf *err);

/* Store a grant's answer as the account's record (refresh token, access
 * token, its expiry), bound to the client id and the token URL, under
 * the store's lock. */
int	oauth_store_reply(const struct oauth_cfg *, struct queue *,
	    const struct oauth_token_reply *, struct buf *err);

/*
 * The access token to send: the cached one until 60 s before its
 * expiry, else a refreshed one, under the store's lock (read again once
 * locked: whoever held it may have refreshed already); a rotated refresh
 * token is stored.  `renew`: the server refused the cached token, so
 * refresh regardless.  0 with the token in `token`, or -1 with one line
 * in `err` and *final 1 for an account failure that waiting will not
 * cure (invalid_grant, no record: the text says to run postie
 * --oauth-authorize ACCOUNT), 0 for a temporary one.  `note` (may be
 * NULL) gets what was done, for the -v transcript and never a token:
 * "OAuth: the access token of account 'X' was refreshed at URL;
 * it expires in 3599 s", or "... is cached; it expires in 1200 s".
 */
int	oauth_access_token(const struct oauth_cfg *, struct queue *,
	    int renew, struct buf *token, int *final, struct buf *note,
	    struct buf *err);

#endif
