#ifndef POSTIE_ENVELOPE_H
#define POSTIE_ENVELOPE_H

#include <sys/types.h>

#include "strlist.h"

/*
 * What goes into MAIL FROM and RCPT TO, plus the facts about the content
 * that pick MAIL parameters.  Addresses are bare addr-specs (no angle
 * brackets); `from` is "" for the null sender <>.
 */
struct envelope {
	char		*from;
	struct strlist	 rcpts;
	int		 body_8bit;	/* content has bytes >= 0x80 */
	int		 smtputf8;	/* an address or header needs SMTPUTF8 */
	off_t		 size;		/* exact size of the spooled message */

	/*
	 * What the caller asked for (-N -R -V -B -U, or the account's
	 * dsn_notify / dsn_return).  Each is sent only when the server
	 * offers the extension and silently left out otherwise, as
	 * sendmail does.  The strings are borrowed: they belong to the
	 * options or the account and outlive the envelope.
	 */
	const char	*notify;	/* NULL, "never" or a list of success,
					 * failure, delay: NOTIFY= on each RCPT */
	const char	*ret;		/* NULL, "FULL" or "HDRS": RET= */
	const char	*envid;		/* NULL or the raw id: ENVID= (xtext) */
	int		 body_type;	/* BODY_AUTO, BODY_7BIT, BODY_8BITMIME */
	int		 request_utf8;	/* -U: SMTPUTF8 whenever offered */
};

/* An empty envelope; release frees `from` and the recipients (not the
 * borrowed DSN strings). */
void	envelope_init(struct envelope *);
void	envelope_release(struct envelope *);

/* body_type: BODY_AUTO says BODY=8BITMIME only for 8-bit content. */
#define BODY_AUTO	0
#define BODY_7BIT	1
#define BODY_8BITMIME	2

#endif
