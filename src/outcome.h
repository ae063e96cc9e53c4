#ifndef POSTIE_OUTCOME_H
#define POSTIE_OUTCOME_H

/*
 * What an outcome is made of: the protocol phase it happened in and, when
 * the server did not answer, the class of the local error.  The engine
 * reports these facts; exitcode.h turns them into an exit status, so the
 * engine never needs to know about exit statuses.
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
	PH_RSET,	/* RSET between messages */
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
	LE_RESOURCE,	/* local resources exhausted for now: disk full,
			 * quota, descriptors, memory */
	LE_OSERR,	/* fork, memory, other system failure */
	LE_SOFTWARE,	/* internal error */
	LE_NLOCAL
};

/* "MAIL", "RCPT", ... for messages and transcripts. */
const char	*phase_name(enum phase);

#endif
