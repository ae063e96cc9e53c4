#ifndef POSTIE_HTTP_H
#define POSTIE_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "tls.h"

/*
 * A minimal HTTPS client for OAuth2 token endpoints: one request per
 * connection (Connection: close), through postie's own TLS layer with
 * the same verification as SMTP and no way to turn it off.
 *
 * The response parser is separate from the I/O so that it can be unit
 * tested and fuzzed: it takes the server's bytes in pieces of any size
 * and checks every one of them.  What it accepts:
 *   - a status line "HTTP/1.1 NNN reason" or "HTTP/1.0 NNN reason",
 *     NNN 100..599; 1xx interim responses (100 Continue) are skipped,
 *     at most HTTP_MAX_INTERIM of them; 101 is refused (postie never
 *     asks to switch protocols);
 *   - at most HTTP_MAX_HEADERS header fields in at most HTTP_MAX_HEAD
 *     bytes (status line and CRLFs included); a field name is a token
 *     followed at once by ':', compared case-insensitively; a value
 *     holds no NUL and no control character but HTAB; obsolete line
 *     folding is refused;
 *   - every line ends in CR LF: a bare LF or a lone CR is refused
 *     (RFC 9112 2.2 allows a client to accept a bare LF; a token
 *     endpoint never needs it, and refusing it leaves no room for
 *     disagreeing about where the head ends);
 *   - the body by Content-Length (repeats must agree), by
 *     "Transfer-Encoding: chunked" (chunk extensions ignored, trailer
 *     fields checked and dropped), or up to the end of the connection
 *     when neither is given (HTTP/1.0, or 1.1 closing, RFC 9112 6.3:
 *     the end must then be a TLS close_notify, not a bare close);
 *     none for 1xx, 204 and 304.  Both headers together, another
 *     transfer coding, a negative, malformed or overflowing size, and a
 *     body over the caller's cap are refused.
 * Only Content-Length, Transfer-Encoding, Content-Type, Connection,
 * WWW-Authenticate and Location are kept or acted on.
 */

#define HTTP_MAX_HEADERS	 100
#define HTTP_MAX_HEAD		 16384	/* status line + fields; trailers too */
#define HTTP_MAX_CHUNK_LINE	 1024	/* chunk size, extensions, CR LF */
#define HTTP_MAX_INTERIM	 8	/* 1xx responses before the final one */

struct http_response {
	int		 status;	/* 200..599 once complete */
	int		 minor;		/* HTTP/1.minor */
	int		 close;		/* "Connection: close" was given */
	struct buf	 content_type;	/* the values as sent, OWS trimmed */
	struct buf	 www_authenticate; /* repeats joined with ", " */
	struct buf	 location;
	struct buf	 body;		/* may hold secrets: release wipes it */
};

void	http_response_init(struct http_response *);
/* Wipe (the body may be a token) and free; reusable afterwards. */
void	http_response_release(struct http_response *);

enum http_state {
	HTTP_MORE,	/* everything fed was taken: feed more, or the EOF */
	HTTP_DONE,	/* the response is complete */
	HTTP_BAD	/* malformed or over a limit; *why says how */
};

struct http_parser {
	struct http_response *resp;
	size_t		 body_max;
	int		 state;		/* internal */
	struct buf	 line;		/* the line being read (wiped) */
	size_t		 head_len;	/* bytes of head (or trailer) so far */
	size_t		 nheaders;
	int		 ninterim;
	long long	 clen;		/* Content-Length, -1 when none */
	int		 chunked;
	unsigned long long left;	/* of this chunk or of the length */
};

/*
 * Parse into `resp` (set up with http_response_init(); the parser
 * empties it, wiped) a body of at most `body_max` bytes.
 */
void	http_parser_init(struct http_parser *, struct http_response *,
	    size_t body_max);
/* Free the parser's own storage, wiped; not the response. */
void	http_parser_release(struct http_parser *);
/*
 * Feed `n` bytes.  *used receives how many were taken: all of them on
 * HTTP_MORE, up to the end of the response on HTTP_DONE (the rest is
 * not the response's); on HTTP_BAD *why is a static, lowercase reason
 * ("malformed chunk size").  After DONE, feeding takes nothing and
 * says DONE again; after BAD, BAD again.
 */
enum http_state http_parse(struct http_parser *, const char *, size_t n,
	    size_t *used, const char **why);
/* The connection ended: DONE when that ends the body (no length given)
 * and the end is `clean` (over TLS: with a close_notify, without which
 * the body may have been cut short), BAD ("connection closed in the
 * body", ...) anywhere else. */
enum http_state http_parse_eof(struct http_parser *, int clean,
	    const char **why);

/*
 * Append `name`=`value` to an application/x-www-form-urlencoded body
 * (RFC 6749 appendix B), with '&' before it unless `form` is empty:
 * ALPHA, DIGIT, "-", ".", "_" and "*" stay, a space becomes '+', every
 * other byte %XX (uppercase hex).  The form may hold secrets: buf_wipe()
 * it.
 */
void	http_form_add(struct buf *form, const char *name, const char *value);
/* The same encoding of one string, appended to `out`. */
void	http_form_encode(struct buf *out, const char *);

/* An https URL taken apart.  `host` is bare (no brackets for IPv6). */
struct http_url {
	char		 host[256];
	int		 port;		/* 443 when not given */
	struct buf	 target;	/* path and query, "/" at least */
	struct buf	 name;		/* "https://HOST[:PORT]/PATH" without
					 * the query: for error messages */
};

/*
 * Parse an absolute https URL: "https://" host [":" port] [path-abempty]
 * ["?" query]; no user info, no fragment, no other scheme ("http" is
 * refused: tokens never travel in clear).  The host is a DNS name, an
 * IPv4 literal or a bracketed IPv6 literal.  Returns 0, or -1 with a
 * reason in `err` that quotes no more than the scheme and host.
 */
int	http_url_parse(struct http_url *, const char *url, struct buf *err);
void	http_url_release(struct http_url *);

struct http_opts {
	/* Whom to trust: trust_file (NULL or "system"), crl_file,
	 * fingerprint, priorities, cert_file/key_file are used; `host` is
	 * always the URL's, `certcheck` always 1 and no session is stored
	 * or resumed, whatever the caller's says. */
	const struct tls_params *tls;
	/* HTTP Basic client authentication (RFC 6749 2.3.1: both
	 * form-encoded, then joined by ':'), when client_id is not NULL. */
	const char	*client_id;
	const char	*client_secret;
	int		 step_ms;	/* connect, handshake, each write and
					 * read wait; 0: only the deadline */
	long long	 deadline;	/* the whole exchange (now_ms()) */
	size_t		 body_max;	/* refuse a larger body */
};

/*
 * POST the form body `form` (application/x-www-form-urlencoded) to `url`
 * and read the response into `resp` (set up with http_response_init();
 * any status: the caller judges it; emptied on failure).
 * The request carries Host, User-Agent: postie/VERSION, Accept:
 * application/json, Content-Type, Content-Length, Connection: close and,
 * with client_id, Authorization: Basic; every buffer that held it is
 * wiped.  Returns 0, or -1 with one line in `err`: the URL's name (no
 * query), ": " and the reason, e.g.
 *   https://oauth2.example.com/token: malformed chunk size
 *   https://oauth2.example.com/token: TLS handshake failed: certificate
 *     issuer is unknown ...
 *   https://oauth2.example.com/token: timed out reading the response
 * The form and the secrets never appear in it.
 */
int	http_post_form(const char *url, const struct buf *form,
	    const struct http_opts *, struct http_response *resp,
	    struct buf *err);
/* The same with GET and no body. */
int	http_get(const char *url, const struct http_opts *,
	    struct http_response *resp, struct buf *err);

#endif
