#ifndef POSTIE_EXITCODE_H
#define POSTIE_EXITCODE_H

/*
 * The one place that turns an outcome into a sysexits(3) status.
 *
 * An outcome is the protocol phase it happened in, the server's reply
 * code (0 when there was none) and a local error class (LE_NONE when
 * the server answered).  The rules are a table, walked in order, first
 * match wins; exit_rules() exposes it so the unit test and the man page's
 * EXIT STATUS section are written from the same data.
 */

enum phase {
	PH_LOCAL,	/* before any connection: usage, config, input */
	PH_CONNECT,
	PH_GREETING,
	PH_EHLO,
	PH_HELO,
	PH_STARTTLS,
	PH_TLS,		/* the handshake itself */
	PH_AUTH,
	PH_MAIL,
	PH_RCPT,
	PH_DATA,	/* the DATA command, before 354 */
	PH_BODY,	/* sending the content */
	PH_EOM,		/* the reply to the final dot */
	PH_QUIT,
	PH_NPHASES
};

enum local_err {
	LE_NONE,	/* the server answered; look at the code */
	LE_USAGE,	/* bad command line */
	LE_DATAERR,	/* bad input: address syntax, NUL policy, SMTPUTF8 */
	LE_CONFIG,	/* configuration error */
	LE_NOHOST,	/* DNS: the host name does not exist */
	LE_DNSTEMP,	/* DNS: temporary failure */
	LE_CONNECT,	/* connection refused / unreachable */
	LE_TIMEOUT,	/* a deadline passed */
	LE_DROPPED,	/* the server closed the connection */
	LE_NETIO,	/* read/write error on the connection */
	LE_PROTOCOL,	/* malformed or unexpected reply */
	LE_TLS,		/* TLS handshake or verification failure */
	LE_TOOBIG,	/* message larger than the server's SIZE */
	LE_LOCALIO,	/* local I/O: reading stdin, the spool */
	LE_OSERR,	/* fork, memory, other system failure */
	LE_SOFTWARE,	/* internal error */
	LE_NLOCAL
};

struct exit_rule {
	int		 phase;		/* enum phase, or -1 for any */
	int		 rclass;	/* reply code / 100, or -1 for any, 0 for none */
	int		 lerr;		/* enum local_err, or -1 for any */
	int		 status;	/* sysexits value */
	const char	*why;		/* one line for the man page */
};

/* Map an outcome to an exit status. */
int		 exit_status(enum phase, int reply_code, enum local_err);

/* The rule table and its length. */
const struct exit_rule *exit_rules(unsigned *n);

/* "MAIL", "RCPT", ... for messages and transcripts. */
const char	*phase_name(enum phase);

/* "EX_TEMPFAIL" etc. for a sysexits value; "EX_OK" for 0. */
const char	*exit_name(int status);

#endif
