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
};

#endif
