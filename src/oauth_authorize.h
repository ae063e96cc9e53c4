#ifndef POSTIE_OAUTH_AUTHORIZE_H
#define POSTIE_OAUTH_AUTHORIZE_H

#include <stddef.h>

#include "buf.h"

struct oauth_cfg;
struct queue;

/*
 * --oauth-authorize: the interactive grant that gives an OAuth account
 * its refresh token, once.  The device authorization grant (RFC 8628)
 * when the provider has a device endpoint: a URL and a code for the user
 * to enter there, from any device, while postie polls the token
 * endpoint.  Otherwise the authorization code grant with PKCE S256 (RFC
 * 7636) and a loopback redirect (RFC 8252 7.3): a URL for a browser on
 * this machine, which brings the code back to a one-shot listener on
 * 127.0.0.1 (oauth_loopback.h).  The answer goes into the token store
 * through oauth_store_reply().
 *
 * Nothing here prints or exits: the lines the user must read go to the
 * caller's `say`, and the outcome comes back as a class the front end
 * turns into an exit status, with one line in `err`.  Codes, the PKCE
 * verifier, the device code and tokens stay in buffers that are wiped.
 */

enum oauth_authz {
	OAUTHZ_OK,
	OAUTHZ_CONFIG,		/* the account or the client is wrong */
	OAUTHZ_DENIED,		/* the user or the provider said no */
	OAUTHZ_TEMP,		/* unreachable, timed out, expired: again */
	OAUTHZ_PROTOCOL,	/* a malformed or unexpected answer */
	OAUTHZ_STORE,		/* the token could not be stored */
	OAUTHZ_OSERR		/* no listening socket, no hash */
};

/* A line for the user to read (no newline): the caller shows it at once. */
struct oauth_say {
	void	(*line)(void *arg, const char *);
	void	*arg;
};

/* How long the user has, at most, to finish in the browser. */
#define OAUTHZ_BROWSER_MS	(5 * 60 * 1000)

/*
 * Authorize the account of `cfg` and store the answer in `store`.  The
 * lines said are, for the device grant,
 *   To authorize account 'NAME', open URI and enter the code CODE
 *   or open URI_COMPLETE (the code filled in)      (when the server gave it)
 * and for the authorization code grant
 *   To authorize account 'NAME', open this URL in a browser:
 *   URL
 * OAUTHZ_OK, or another class with one line in `err`, "cannot authorize
 * account 'NAME': ...".
 */
enum oauth_authz oauth_authorize(const struct oauth_cfg *, struct queue *store,
	    const struct oauth_say *, struct buf *err);

/* Base64url without padding (RFC 4648 section 5, RFC 7636 appendix A),
 * appended to `out`. */
void	oauth_b64url(const void *, size_t, struct buf *out);

/* The PKCE S256 challenge of `verifier`: BASE64URL(SHA256(verifier))
 * (RFC 7636 4.2), appended to `out`: 0, or -1 when GnuTLS cannot hash. */
int	oauth_pkce_s256(const char *verifier, struct buf *out);

/*
 * The authorization request (RFC 6749 4.1.1, RFC 7636 4.3): cfg's
 * auth_url with response_type=code, client_id, redirect_uri, scope (when
 * there is one), state, code_challenge and code_challenge_method=S256,
 * each value form-encoded (http_form_encode()), after a '?' (a '&' when
 * the URL has a query already); for Google also access_type=offline and
 * prompt=consent, without which it returns no refresh token.  Appended
 * to `out`.
 */
void	oauth_auth_request(const struct oauth_cfg *, const char *redirect_uri,
	    const char *state, const char *challenge, struct buf *out);

#endif
