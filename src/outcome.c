#include "config.h"

#include "outcome.h"

static const char *const phase_names[PH_NPHASES] = {
	[PH_LOCAL] = "local",
	[PH_CONNECT] = "CONNECT",
	[PH_GREETING] = "GREETING",
	[PH_EHLO] = "EHLO",
	[PH_HELO] = "HELO",
	[PH_STARTTLS] = "STARTTLS",
	[PH_TLS] = "TLS",
	[PH_AUTH] = "AUTH",
	[PH_MAIL] = "MAIL",
	[PH_RCPT] = "RCPT",
	[PH_DATA] = "DATA",
	[PH_BODY] = "BODY",
	[PH_EOM] = "EOM",
	[PH_RSET] = "RSET",
	[PH_QUIT] = "QUIT",
};

const char *
phase_name(enum phase ph)
{
	if ((unsigned)ph >= PH_NPHASES)
		return "?";
	return phase_names[ph];
}
