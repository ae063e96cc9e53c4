#ifndef POSTIE_REPLY_H
#define POSTIE_REPLY_H

#include <stddef.h>

#include "buf.h"

/*
 * The one SMTP reply parser (RFC 5321 4.2).  Lines are fed one at a time
 * (without their line ending); every byte is checked: three digits 2xx-5xx,
 * then '-' or ' ' (or end of line on the last line), the same code on every
 * line, printable text only (HTAB, and bytes >= 0x80 allowed; no NUL, no
 * CR, no other control character), each line at most REPLY_MAX_LINE bytes
 * and at most REPLY_MAX_LINES lines.  Anything else is malformed and ends
 * the session with EX_PROTOCOL.
 */

#define REPLY_MAX_LINE	 2048
#define REPLY_MAX_LINES	 256

struct reply {
	int		 code;		/* 200..599, 0 before the first line */
	char		 ecode[16];	/* enhanced status "x.y.z" or "" */
	struct buf	 text;		/* text of every line, '\n' between */
	size_t		 nlines;
};

enum reply_state {
	REPLY_MORE,	/* a continuation line: feed the next one */
	REPLY_DONE,	/* the last line arrived; the reply is complete */
	REPLY_BAD	/* malformed; *why says how (static string) */
};

void	reply_init(struct reply *);
void	reply_release(struct reply *);
/* Forget the previous reply, keeping storage. */
void	reply_reset(struct reply *);
/* Feed one line; `line` excludes CRLF (a trailing CR is the caller's to strip). */
enum reply_state reply_feed(struct reply *, const char *line, size_t len,
	    const char **why);
/* Append the code and the whole text on one line ("; " between lines)
 * for error messages: "550 5.1.1 <x@y>: user unknown".  Bytes outside
 * printable ASCII and '\' become "\xNN", HTAB a space; cut with "..."
 * after about 300 bytes.  Nothing for an empty reply. */
void	reply_summary(const struct reply *, struct buf *out);

/* What an EHLO reply advertised. */
#define CAP_PIPELINING	 0x0001
#define CAP_SIZE	 0x0002
#define CAP_8BITMIME	 0x0004
#define CAP_SMTPUTF8	 0x0008
#define CAP_STARTTLS	 0x0010
#define CAP_AUTH	 0x0020
#define CAP_DSN		 0x0040
#define CAP_CHUNKING	 0x0080
#define CAP_ENHANCED	 0x0100	/* ENHANCEDSTATUSCODES */
#define CAP_BINARYMIME	 0x0200

struct caps {
	unsigned		 flags;
	unsigned long long	 size;	/* SIZE limit, 0 when none given */
	char			 auth[512]; /* AUTH mechanisms, space separated */
};

/* Parse the keyword lines of a complete EHLO reply (the first line is the
 * greeting part and is skipped).  Keywords compare case-insensitively. */
void	caps_parse(struct caps *, const struct reply *);

#endif
