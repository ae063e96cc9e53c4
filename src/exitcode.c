#include "config.h"

#include <stddef.h>
#include <sysexits.h>

#include "exitcode.h"
#include "smtp.h"

#define ANY	(-1)

/*
 * First match wins.  A 4xx anywhere, and every failure that might go away
 * by itself (network, timeout, DNS trouble), is EX_TEMPFAIL so that the
 * caller keeps the message; permanent verdicts are reserved for 5xx and
 * for local errors a retry cannot fix.
 */
static const struct exit_rule rules[] = {
	{ PH_EOM,  2,   LE_NONE,     EX_OK,
	  "the server accepted the message (2xx to the final dot)" },
	{ ANY,     ANY, LE_USAGE,    EX_USAGE,
	  "invalid command line" },
	{ ANY,     ANY, LE_DATAERR,  EX_DATAERR,
	  "invalid input: a bad address, or an address that needs SMTPUTF8 the server does not offer" },
	{ ANY,     ANY, LE_CONFIG,   EX_CONFIG,
	  "configuration error" },
	{ ANY,     ANY, LE_NOHOST,   EX_NOHOST,
	  "the server's host name does not exist in the DNS" },
	{ ANY,     ANY, LE_RESOURCE, EX_TEMPFAIL,
	  "local resources ran out for now (disk full, quota, too many open files)" },
	{ ANY,     ANY, LE_LOCALIO,  EX_IOERR,
	  "local input/output error (reading the message, the spool)" },
	{ ANY,     ANY, LE_OSERR,    EX_OSERR,
	  "system error (out of memory, cannot create a process)" },
	{ ANY,     ANY, LE_SOFTWARE, EX_SOFTWARE,
	  "internal error" },
	{ ANY,     ANY, LE_PROTOCOL, EX_PROTOCOL,
	  "the server sent a malformed or unexpected reply" },
	{ ANY,     ANY, LE_TOOBIG,   EX_UNAVAILABLE,
	  "the message is larger than the server's advertised SIZE limit" },
	{ ANY,     ANY, LE_TLS,      EX_TEMPFAIL,
	  "TLS could not be established; nothing was sent" },
	{ ANY,     ANY, LE_DNSTEMP,  EX_TEMPFAIL,
	  "temporary DNS failure" },
	{ ANY,     ANY, LE_CONNECT,  EX_TEMPFAIL,
	  "the connection could not be made" },
	{ ANY,     ANY, LE_TIMEOUT,  EX_TEMPFAIL,
	  "a deadline passed (per-command or total timeout)" },
	{ ANY,     ANY, LE_DROPPED,  EX_TEMPFAIL,
	  "the server closed the connection" },
	{ ANY,     ANY, LE_NETIO,    EX_TEMPFAIL,
	  "network read or write error" },
	{ ANY,     4,   LE_NONE,     EX_TEMPFAIL,
	  "the server answered 4xx (temporary failure)" },
	{ PH_AUTH, 0,   LE_NONE,     EX_UNAVAILABLE,
	  "credentials are configured but the server offers no AUTH, or no usable mechanism; nothing was sent" },
	{ PH_AUTH, 5,   LE_NONE,     EX_NOPERM,
	  "the server rejected the credentials (5xx to AUTH)" },
	{ PH_RCPT, 5,   LE_NONE,     EX_NOUSER,
	  "a recipient was rejected permanently (5xx to RCPT)" },
	{ ANY,     5,   LE_NONE,     EX_UNAVAILABLE,
	  "the server answered 5xx (permanent failure)" },
	{ ANY,     ANY, LE_NONE,     EX_PROTOCOL,
	  "the server answered with a code that does not fit the command" },
};

static const struct exit_summary summaries[] = {
	{ EX_OK,		"sent, or kept in the queue to send later" },
	{ EX_USAGE,		"invalid command line" },
	{ EX_DATAERR,		"bad address or input; SMTPUTF8 needed, not offered" },
	{ EX_NOINPUT,		"--queue-delete: no queue entry with that ID" },
	{ EX_NOUSER,		"a recipient was refused for good (5xx to RCPT)" },
	{ EX_NOHOST,		"the server's host name is not in the DNS" },
	{ EX_UNAVAILABLE,	"the server refused for good (5xx, SIZE, no AUTH)" },
	{ EX_SOFTWARE,		"internal error" },
	{ EX_OSERR,		"system error (out of memory, no process)" },
	{ EX_IOERR,		"local input/output error (the message, the spool)" },
	{ EX_TEMPFAIL,		"temporary failure: try again later" },
	{ EX_PROTOCOL,		"the server's reply was malformed or unexpected" },
	{ EX_NOPERM,		"credentials or access refused; a queue entry not yours" },
	{ EX_CONFIG,		"configuration error" },
};

const struct exit_summary *
exit_summaries(unsigned *n)
{
	*n = sizeof(summaries) / sizeof(summaries[0]);
	return summaries;
}

int
exit_status(enum phase ph, int code, enum local_err le)
{
	size_t	 i;
	int	 rclass = code / 100;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].phase != ANY && rules[i].phase != (int)ph)
			continue;
		if (rules[i].rclass != ANY && rules[i].rclass != rclass)
			continue;
		if (rules[i].lerr != ANY && rules[i].lerr != (int)le)
			continue;
		return rules[i].status;
	}
	return EX_SOFTWARE;
}

const struct exit_rule *
exit_rules(unsigned *n)
{
	*n = sizeof(rules) / sizeof(rules[0]);
	return rules;
}

const char *
exit_name(int status)
{
	switch (status) {
	case EX_OK:		return "EX_OK";
	case EX_USAGE:		return "EX_USAGE";
	case EX_DATAERR:	return "EX_DATAERR";
	case EX_NOINPUT:	return "EX_NOINPUT";
	case EX_NOUSER:		return "EX_NOUSER";
	case EX_NOHOST:		return "EX_NOHOST";
	case EX_UNAVAILABLE:	return "EX_UNAVAILABLE";
	case EX_SOFTWARE:	return "EX_SOFTWARE";
	case EX_OSERR:		return "EX_OSERR";
	case EX_CANTCREAT:	return "EX_CANTCREAT";
	case EX_IOERR:		return "EX_IOERR";
	case EX_TEMPFAIL:	return "EX_TEMPFAIL";
	case EX_PROTOCOL:	return "EX_PROTOCOL";
	case EX_NOPERM:		return "EX_NOPERM";
	case EX_CONFIG:		return "EX_CONFIG";
	default:		return "?";
	}
}

long
exit_rcpt_reported(const struct smtp_result *res)
{
	size_t	 i;
	long	 refused = -1;

	if (res->aborted)
		return -1;
	for (i = 0; i < res->nrcpt; i++) {
		if (res->rcpt[i].state == RCPT_DEFERRED)
			return (long)i;
		if (res->rcpt[i].state != RCPT_ACCEPTED && refused == -1)
			refused = (long)i;
	}
	return refused;
}

int
exit_for_result(const struct smtp_result *res)
{
	long	 i;

	if (res->aborted)
		return exit_status(res->st.phase, res->st.code, res->st.lerr);
	if ((i = exit_rcpt_reported(res)) == -1)
		return EX_OK;	/* every recipient has it */
	return exit_status(PH_RCPT, res->rcpt[i].code, LE_NONE);
}
