#ifndef POSTIE_OAUTH_LOOPBACK_H
#define POSTIE_OAUTH_LOOPBACK_H

#include <stddef.h>

#include "buf.h"

/*
 * The loopback redirect of the authorization code grant (RFC 8252 7.3):
 * a one-shot HTTP listener on 127.0.0.1, an ephemeral port, that waits
 * for the browser to bring the authorization server's answer
 * (http://127.0.0.1:PORT/?code=...&state=...).  Any local program can
 * connect to it, so it believes only a request that carries the state
 * postie made up, answers anything else 400 and goes on waiting, and
 * never repeats what it was sent.  Every buffer that held a request is
 * wiped: it may hold the code.
 */

#define LOOPBACK_HEAD_MAX	8192	/* request line and header fields */
#define LOOPBACK_CONN_MS	10000	/* for one connection's request */
#define LOOPBACK_CONNS		8	/* connections read at once */
#define LOOPBACK_DESC_MAX	200	/* error_description kept */

/* What the browser brought: a code, or the server's error. */
struct oauth_redirect {
	struct buf	 code;		/* wiped */
	struct buf	 error;		/* empty when a code came */
	struct buf	 error_description; /* printable ASCII, cut short */
};

void	oauth_redirect_init(struct oauth_redirect *);
/* Wipe and free; reusable afterwards. */
void	oauth_redirect_release(struct oauth_redirect *);

/*
 * The `len` bytes of a request head (request line and header fields,
 * up to and including the empty line) as the authorization server's
 * redirect, for the state `state`.  What is taken: "GET /?QUERY
 * HTTP/1.1" (or 1.0), the path "/" exactly; QUERY's parameters
 * form-decoded ('+' a space, %XX a byte; a bad escape refuses the
 * request); code, state, error and error_description each at most once
 * (RFC 6749 3.1), others ignored; state present and equal to `state`
 * (compared in constant time); exactly one of code (1*VSCHAR) and error
 * (1*NQSCHAR, RFC 6749 A.7), error_description with anything outside
 * %x20-7E made '?' and cut to LOOPBACK_DESC_MAX bytes.  0 with `r`
 * filled, or -1 with a static lowercase reason in *why ("no state",
 * "state does not match") and `r` empty.
 */
int	oauth_redirect_parse(struct oauth_redirect *r, const char *head,
	    size_t len, const char *state, const char **why);

/*
 * An HTTP/1.1 response with `status` (200 or 400) and a small HTML page
 * saying `text`, HTML-escaped, with Connection: close, appended to `out`.
 */
void	oauth_redirect_page(struct buf *out, int status, const char *text);

struct loopback_conn {
	int		 fd;		/* -1: free */
	long long	 deadline;	/* now_ms() */
	struct buf	 head;		/* wiped */
};

struct loopback {
	int		 fd;		/* the listening socket, or -1 */
	int		 port;
	int		 answer_fd;	/* the redirect's connection, waiting
					 * for its page; or -1 */
	struct loopback_conn conns[LOOPBACK_CONNS];
};

/* Listen on 127.0.0.1, a port of the kernel's choice: 0, or -1 with
 * `err`.  loopback_close() in any case. */
int	loopback_open(struct loopback *, struct buf *err);

/*
 * Accept and read connections, LOOPBACK_CONNS at a time, each given
 * LOOPBACK_CONN_MS and LOOPBACK_HEAD_MAX bytes for its request head,
 * until one brings the redirect for `state` (1: `r` filled, the
 * connection kept for loopback_answer()) or `deadline` (now_ms()) passes
 * (0).  A request that is not the redirect gets a 400 page and is
 * closed.  -1 with `err` when the listener fails.
 */
int	loopback_wait(struct loopback *, const char *state, long long deadline,
	    struct oauth_redirect *r, struct buf *err);

/* Answer the redirect's connection with a 200 page saying `text`, within
 * LOOPBACK_CONN_MS, and close it.  Without one, nothing. */
void	loopback_answer(struct loopback *, const char *text);

/* Close the listener and every connection. */
void	loopback_close(struct loopback *);

#endif
