#ifndef POSTIE_SMTP_H
#define POSTIE_SMTP_H

#include <stddef.h>

#include "buf.h"
#include "envelope.h"
#include "outcome.h"

/*
 * The SMTP client engine, in steps a queue runner can drive:
 *
 *	s = smtp_new(route, trace, arg);
 *	if (smtp_open(s) == 0)			connect, greeting, EHLO, TLS, AUTH
 *		for each message:
 *			smtp_send(s, env, spool, &res);	per-recipient results
 *			smtp_reset(s);			ready for the next one
 *	smtp_close(s);				QUIT, close, free
 *
 * It takes a resolved route (route.h), never the configuration; it never
 * prints, never exits and picks no exit status: the caller turns the
 * results into one (exit_for_result()) and into messages.  Blocking and
 * straight-line; every wait is bounded (see smtp_open() and smtp_send()).
 */

struct route;
struct spool;
struct smtp_session;

/* How a step ended: the reply or local error that decided it. */
struct smtp_status {
	enum phase	 phase;
	int		 code;		/* the reply code, 0 when none */
	char		 ecode[16];	/* its enhanced code "x.y.z" or "" */
	enum local_err	 lerr;		/* LE_NONE when the server answered */
	struct buf	 text;		/* one line: why; "" on success */
};

enum rcpt_state {
	RCPT_UNKNOWN,	/* no verdict: the message ended before one (the
			 * result's `st` says why); when RCPT had accepted
			 * it, phase, code and text are that reply's */
	RCPT_ACCEPTED,	/* delivered (for -bv: RCPT accepted) */
	RCPT_DEFERRED,	/* a 4xx: try again later */
	RCPT_REFUSED	/* a 5xx: permanent */
};

struct smtp_rcpt {
	enum rcpt_state	 state;
	enum phase	 phase;		/* the reply that decided it: PH_RCPT,
					 * PH_EOM (the data's reply), or
					 * PH_MAIL / PH_DATA for the message */
	int		 code;
	char		 ecode[16];
	char		*text;		/* reply_summary() of it, or NULL */
};

struct smtp_result {
	/*
	 * The message as a whole.  `aborted` is 0 when the exchange came to
	 * a defined end and every recipient has its own verdict (delivered,
	 * or refused one by one: at RCPT, or by LMTP after the data); `st`
	 * is then the last reply to the data, or the last RCPT reply when
	 * no recipient was accepted.  `aborted` is 1 when the message failed
	 * as a whole: the session broke (timeout, drop, TLS, protocol), or
	 * the server refused MAIL, DATA or the content; `st` says how, and
	 * recipients it left undecided are RCPT_UNKNOWN.
	 */
	struct smtp_status	 st;
	int			 aborted;
	/* One per envelope recipient, in the envelope's order. */
	struct smtp_rcpt	*rcpt;
	size_t			 nrcpt;
	size_t			 ntxn;		/* MAIL transactions used */
};

/* Called for every line sent (dir '>') or received ('<'), for -v, and
 * for a note on the session ('*': "TLS1.3 session resumed").  AUTH
 * payloads arrive already redacted: "AUTH PLAIN [redacted]", each
 * response as "[redacted]", each 334 challenge as "334 [redacted]". */
typedef void (*smtp_trace_fn)(void *arg, char dir, const char *line,
	    size_t len);

void	smtp_result_init(struct smtp_result *);
void	smtp_result_release(struct smtp_result *);
/* Recipients of `res` in `state`. */
size_t	smtp_result_count(const struct smtp_result *, enum rcpt_state);

/* A session over `rt` (which must outlive it); nothing is connected. */
struct smtp_session *smtp_new(const struct route *rt, smtp_trace_fn trace,
	    void *trace_arg);

/*
 * Fetch the AUTH secret when the route needs one (before connecting: a
 * slow passwordeval never holds a socket), connect, greeting, EHLO (HELO
 * when EHLO is refused), TLS, AUTH.  0 when the session is ready for
 * smtp_send(), else -1 and smtp_failure() says why.
 *
 * Failover: the route's hosts are tried in order, from the first (or
 * smtp_set_first_host()'s).  The secret is fetched once, for all of
 * them.  A host that fails in a way the next one may not is left (QUIT
 * when the stream is in a known state, as smtp_close()) with a warning
 * line "HOST[ADDR]:PORT failed (REASON); trying NEXT" in
 * smtp_warnings(), and the next host starts from scratch: a local error
 * LE_CONNECT, LE_DNSTEMP, LE_NOHOST, LE_TIMEOUT, LE_DROPPED, LE_NETIO,
 * LE_TLS or LE_PROTOCOL, or any 4xx reply (a 421 greeting, a 454 to
 * STARTTLS or AUTH).  Anything else is final, on that host: a 5xx reply
 * (a 554 greeting, EHLO and HELO refused, 535 to AUTH), no usable AUTH
 * (code 0), LE_CONFIG and other local errors.  When no host is left,
 * smtp_failure() is the last host's failure; when hosts failed before
 * it, its text goes on "HOST: REASON; earlier: HOST1: REASON1; ...",
 * the earlier reasons cut short, still one line.
 *
 * T is the route's timeout: every command's reply and every handshake
 * waits at most T; each host tried gets at most 10 T, so the whole of
 * smtp_open() takes at most 10 T per host.
 *
 * TLS (RT_TLS_AUTO: required unless the peer is loopback or a unix
 * socket).  Every TLS failure is LE_TLS with nothing sent beyond
 * EHLO/STARTTLS/QUIT, except bytes pipelined after the 220 to STARTTLS,
 * which are LE_PROTOCOL.  AUTH: none offered or no usable mechanism is
 * PH_AUTH with code 0 and nothing sent; a forced mechanism that needs a
 * verified TLS session without one, or no secret, is LE_CONFIG; 5xx and
 * 4xx replies are kept; a SCRAM server signature that does not verify
 * and malformed, endless or oversized challenges are LE_PROTOCOL.
 */
int	smtp_open(struct smtp_session *);

/*
 * Send one message: MAIL, RCPT..., DATA (pipelined when offered), the
 * spooled content dot-stuffed, the reply to the final dot (LMTP: one per
 * accepted recipient).  `spool` holds the message exactly as it goes out
 * (canonical CRLF, final CRLF present) and `env->size` its size.
 *
 * Recipients refused with 452 (or 552 5.5.3), "too many recipients",
 * are sent again in further transactions on the same session once the
 * accepted ones have the message (RFC 5321 4.5.3.1.10), as long as each
 * transaction makes progress.
 *
 * Deadlines: T per reply and per IOBUF_WFLUSH bytes of content; the
 * reply to the final dot gets max(10 min, T) (RFC 5321 4.5.3.2.6); all
 * of it at most 10 T + T per MiB (counting a partial MiB as one).
 *
 * `res` is filled (see struct smtp_result); returns 0 when the exchange
 * came to a defined end (not aborted), else -1.
 */
int	smtp_send(struct smtp_session *, const struct envelope *,
	    const struct spool *, struct smtp_result *);

/*
 * -bv: MAIL and one RCPT per recipient (pipelined when offered), then
 * RSET; never DATA.  Each recipient's RCPT reply is its verdict
 * (RCPT_ACCEPTED: deliverable).  Returns as smtp_send().
 */
int	smtp_verify(struct smtp_session *, const struct envelope *,
	    struct smtp_result *);

/* Ready for the next message: RSET when a transaction is still open
 * (nothing to do after a completed one).  0, or -1 (smtp_failure()). */
int	smtp_reset(struct smtp_session *);

/* 1 while the session can take another message (open, not broken). */
int	smtp_usable(const struct smtp_session *);

/* QUIT when the stream is in a known state, close, free.  NULL is fine. */
void	smtp_close(struct smtp_session *);

/* Free the session and close its descriptor without a byte on the wire:
 * for a process that handed the open session on to a child. */
void	smtp_abandon(struct smtp_session *);

/*
 * -S: what was learnt from the host in use (or the last one tried),
 * whether or not smtp_open() succeeded, one item a line: "SMTP server at ...", with implicit TLS "TLS (implicit):" and
 * tls_describe()'s lines, "Greeting:" and the greeting indented by 4,
 * "Capabilities:" (the EHLO reply), after STARTTLS "TLS (STARTTLS):" and
 * "Capabilities (inside TLS):", then "AUTH mechanisms: ..." when offered.
 */
void	smtp_describe(const struct smtp_session *, struct buf *out);

/* Why the last step failed (phase PH_LOCAL, no text before any). */
const struct smtp_status *smtp_failure(const struct smtp_session *);
/* "host[addr]:port", "[v6addr]:port" or the socket path of the host in
 * use, or of the last one tried; "" before smtp_open(). */
const char *smtp_server(const struct smtp_session *);
/* "TLS1.3" etc., or "off". */
const char *smtp_tls_version(const struct smtp_session *);
/* The AUTH mechanism used ("SCRAM-SHA-256"), or "off". */
const char *smtp_auth_mech(const struct smtp_session *);
/*
 * Make smtp_open() start at host `i` of the route's list (0, the first,
 * is the default), so that a queue runner can resume after a host that
 * failed in the middle of a transaction.  Before smtp_open(); an `i` past
 * the last host (with a socket: past 0) makes smtp_open() fail with
 * LE_SOFTWARE.
 */
void	smtp_set_first_host(struct smtp_session *, size_t i);
/*
 * Keep TLS sessions in `store` (tls.h; `ctx` is its argument), so that
 * the next session to the same server with the same TLS settings
 * resumes: the handshake saves a round trip and the certificate check,
 * which was made when the session was.  Before smtp_open(); none by
 * default.  -v shows "*** TLS1.3 session resumed" when it happens.
 */
struct tls_store;
void	smtp_set_tls_store(struct smtp_session *, const struct tls_store *,
	    void *ctx);
/* The index in the route's hosts of the host in use, or of the last one
 * tried; before smtp_open(), of the first it will try. */
size_t	smtp_host_index(const struct smtp_session *);
/* Warnings for the caller to show once, one a line ("tls_certcheck is
 * off: ..."), without a "postie: " prefix; "" when none. */
const char *smtp_warnings(const struct smtp_session *);
/* Forget the warnings said so far (a queue run says each once, not once
 * per message of the session). */
void	smtp_clear_warnings(struct smtp_session *);

#endif
