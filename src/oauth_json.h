#ifndef POSTIE_OAUTH_JSON_H
#define POSTIE_OAUTH_JSON_H

#include <stddef.h>

#include "buf.h"

/*
 * The JSON a token endpoint answers (RFC 6749 5.1 and 5.2, RFC 8628
 * 3.2), read with jansson: an object with no key twice, in a bounded
 * buffer.  Strings that reach a terminal (user_code, URIs, error
 * descriptions) hold no control character; tokens hold only VSCHARs
 * (%x20-7E).  Reasons never quote a token.
 */

struct oauth_token_reply {
	struct buf	 access_token;	/* 1..16384 VSCHARs; wiped */
	struct buf	 refresh_token;	/* empty when none was given; wiped */
	struct buf	 scope;		/* empty when none */
	long long	 expires_in;	/* seconds; -1 when not given */
};

void	oauth_token_reply_init(struct oauth_token_reply *);
/* Wipe and free; reusable afterwards. */
void	oauth_token_reply_release(struct oauth_token_reply *);

/*
 * A successful token response: access_token a non-empty string of
 * VSCHARs, token_type "Bearer" in any case (required), expires_in a
 * positive integer or a string of digits (Azure AD v1 sends "3599"), at
 * most ten years; refresh_token optional (VSCHARs), scope optional;
 * other members ignored.  0, or -1 with a lowercase reason in `err`
 * ("expires_in is not a number").
 */
int	oauth_json_token(const char *body, size_t len,
	    struct oauth_token_reply *, struct buf *err);

/*
 * An error response: 0 with `error` (required: NQSCHARs, %x20-21 /
 * %x23-5B / %x5D-7E) and the error_description, when given, in `desc`
 * (control characters dropped, cut to 200 bytes); -1 when the body is
 * not one.
 */
int	oauth_json_error(const char *body, size_t len, struct buf *error,
	    struct buf *desc);

struct oauth_device_reply {		/* RFC 8628 3.2 */
	struct buf	 device_code;	/* wiped */
	struct buf	 user_code;
	struct buf	 verification_uri; /* "verification_url" too (Google) */
	struct buf	 verification_uri_complete; /* empty when none */
	long long	 expires_in;	/* required, > 0 */
	long long	 interval;	/* 5 when not given */
};

void	oauth_device_reply_init(struct oauth_device_reply *);
void	oauth_device_reply_release(struct oauth_device_reply *);
/* A device authorization response: 0, or -1 with a reason in `err`. */
int	oauth_json_device(const char *body, size_t len,
	    struct oauth_device_reply *, struct buf *err);

/* Once, before any other call: every byte jansson frees is wiped
 * first, since tokens pass through its strings. */
void	oauth_json_setup(void);

/* For tests: `hook` (NULL: none) sees each block jansson frees, with
 * its size, after the wipe and before free(3). */
void	oauth_json_free_hook(void (*hook)(const void *, size_t));

#endif
