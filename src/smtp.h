#ifndef POSTIE_SMTP_H
#define POSTIE_SMTP_H

#include <sys/types.h>

#include "buf.h"
#include "conf.h"
#include "envelope.h"
#include "exitcode.h"
#include "strlist.h"

/*
 * The SMTP client engine: one transaction from connect to QUIT.  It takes
 * the resolved account, the envelope and the spooled message (an fd whose
 * content is already canonical: CRLF line endings, final CRLF present;
 * the engine only dot-stuffs it) and reports the outcome.  It never exits
 * and never prints: the front end turns the result into messages.
 */

struct smtp_rcpt_failure {
	char	*addr;
	int	 code;
	char	*text;		/* the server's reply, one line */
};

struct smtp_result {
	int			 status;	/* sysexits value */
	enum phase		 phase;		/* where it ended */
	int			 code;		/* last reply code or 0 */
	enum local_err		 lerr;
	struct buf		 msg;		/* one-line reason, "" on success */
	/* Recipients refused with 4xx or 5xx, in order: at RCPT, and for
	 * LMTP also after the data.  Not the 503s that follow a refused
	 * MAIL. */
	struct smtp_rcpt_failure *failed;
	size_t			 nfailed;
	size_t			 naccepted;
	int			 rcpt_verdict;	/* status is the recipients' */
	struct buf		 server;	/* "host[addr]:port" or socket */
	/* Warnings for the front end to print once, one a line, each
	 * without "postie: " ("tls_certcheck is off: ..."); "" when none. */
	struct buf		 warn;
	/* What the session used, for the log line: "TLS1.3" or "off";
	 * the mechanism name or "off". */
	char			 tls[16];
	const char		*auth;		/* static string */
};

/* Called for every line sent (dir '>') or received ('<'), for -v.  AUTH
 * payloads arrive already redacted: "AUTH PLAIN [redacted]", each
 * response as "[redacted]", each 334 challenge as "334 [redacted]". */
typedef void (*smtp_trace_fn)(void *arg, char dir, const char *line,
	    size_t len);

struct smtp_params {
	const struct account	*acct;
	const char		*helo_name;	/* NULL: derive (never localhost) */
	int			 timeout;	/* seconds per command */
	int			 total_timeout;	/* seconds for everything */
	smtp_trace_fn		 trace;
	void			*trace_arg;
};

void	smtp_result_init(struct smtp_result *);
void	smtp_result_release(struct smtp_result *);

/*
 * Run the transaction.  Returns res->status (0 only after 250 to the
 * final dot with every recipient accepted; 67 or 75 when some were
 * refused even though the others got the message: see res->failed and
 * res->naccepted).  The port is acct->port, else 25 (24 for LMTP).
 * params->timeout bounds every command (each reply wait, each flush of
 * up to IOBUF_WFLUSH bytes of content); the whole session is bounded by
 * 10 T + T per MiB of message, or params->total_timeout when that is
 * smaller and > 0.
 *
 * TLS (from the account): `tls off` is plaintext; `tls on` requires TLS;
 * `tls` unset requires TLS except when the peer is a loopback address
 * (127.0.0.0/8, ::1) or a unix socket, where plaintext is used.
 * Required TLS is implicit (handshake before the greeting) when
 * `tls_starttls off`, or when it is unset and the port is 465; else
 * STARTTLS.  Every TLS failure is LE_TLS (75) with nothing sent beyond
 * EHLO/STARTTLS/QUIT, except bytes pipelined after the 220 to STARTTLS,
 * which are a protocol error (76).
 *
 * AUTH when `auth` is on or a mechanism, or when it is unset and `user`
 * is set.  The secret comes from secret_get() right before AUTH and is
 * wiped right after.  No AUTH offered or no usable mechanism: PH_AUTH,
 * code 0 (69), nothing sent; a forced mechanism that needs a verified
 * TLS session without one: LE_CONFIG (78); 535 and other 5xx: 77; 4xx:
 * 75; a SCRAM server signature that does not verify, malformed, endless
 * or oversized challenges: 76.
 */
int	smtp_submit(const struct smtp_params *, const struct envelope *,
	    int spool_fd, struct smtp_result *res);

/*
 * -S/--serverinfo: connect as smtp_submit() would (same TLS decision and
 * checks), then QUIT without AUTH or mail.  `out` gets, one item a line:
 * "SMTP server at ...", "Greeting:" and the greeting lines indented by 4,
 * "Capabilities:" (the EHLO reply), with TLS "TLS (STARTTLS):" or "TLS
 * (implicit):" and tls_describe()'s lines, "Capabilities (inside TLS):",
 * then "AUTH mechanisms: ..." when offered.  Returns res->status: 0, or
 * the failure as smtp_submit() reports it (with what was learnt so far
 * in `out`).
 */
int	smtp_serverinfo(const struct smtp_params *, struct buf *out,
	    struct smtp_result *res);

/*
 * -bv: open the session as smtp_submit() does (TLS decision, AUTH), send
 * MAIL FROM and one RCPT TO per recipient (pipelined when offered), then
 * RSET and QUIT; never DATA.  `verdicts` gets one line per recipient the
 * server answered, "addr: deliverable (250 2.1.5 ok)", "addr: rejected
 * (550 ...)" or "addr: temporary failure (450 ...)".  Returns res->status:
 * 0 when all are deliverable; else as smtp_submit() would (67 or 75 with
 * res->rcpt_verdict set and res->failed listing the refusals, or the
 * session's failure).  env->size is not used (no SIZE=).
 */
int	smtp_verify(const struct smtp_params *, const struct envelope *,
	    struct buf *verdicts, struct smtp_result *res);

#endif
