#ifndef POSTIE_BS_H
#define POSTIE_BS_H

#include "buf.h"
#include "strlist.h"

/*
 * -bs: an SMTP server on stdin/stdout for programs that submit that way
 * (Alpine, Symfony Mailer).  Commands: HELO, EHLO (PIPELINING, 8BITMIME,
 * ENHANCEDSTATUSCODES), MAIL, RCPT, DATA, RSET, NOOP, HELP, VRFY (252),
 * QUIT.  Input is read buffered, replies are written in order and flushed
 * before waiting for input, so pipelined clients work.
 *
 * Each message's content, dot-unstuffed and byte for byte, goes to an
 * unlinked temporary file; at the final dot `send` is called with it
 * (positioned at 0) and the reply to the dot is the real outcome: 250, or
 * 451/450 for a temporary failure, 554/550 for a permanent one (550/450
 * when the smarthost refused recipients: postie only learns that when it
 * delivers, so the final dot's reply carries it).  A local failure that
 * may pass (EX_OSERR, EX_IOERR: no memory, a full disk) is 451 too.
 */

struct bs_result {
	int		 status;	/* sysexits value, 0 when delivered */
	int		 rcpt;		/* the refusal was of recipients */
	struct buf	 reason;	/* one line, for the reply */
};

/* Deliver one message; `from` is "" for the null sender, `rcpts` are as
 * the client gave them (checked, not qualified).  Returns res->status. */
typedef int (*bs_send_fn)(void *arg, const char *from,
	    const struct strlist *rcpts, int fd, struct bs_result *res);

/*
 * Run the session until QUIT or end of input.  `domain` names this host
 * in the greeting.  While it runs, `outfd` is reserved with
 * log_protocol_fd(): a "logfile -" line goes to stderr, not into the
 * replies.  Returns 0 when every message got its reply (whatever
 * the reply), EX_DATAERR when input ended inside DATA, EX_IOERR when
 * replies could not be written.
 */
int	bs_session(int infd, int outfd, const char *domain, bs_send_fn send,
	    void *arg);

#endif
