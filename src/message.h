#ifndef POSTIE_MESSAGE_H
#define POSTIE_MESSAGE_H

#include <sys/types.h>

#include "aliases.h"
#include "buf.h"
#include "envelope.h"
#include "spool.h"
#include "strlist.h"

/*
 * Reading the message and building the envelope.
 *
 * message_spool() reads the whole of stdin (pipe or regular file) before
 * anything is sent.  The spool is an unlinked 0600 file in $TMPDIR (later
 * the durable queue keeps exactly this file) holding the message as it
 * will be sent, minus dot-stuffing: the rewritten header section, then the
 * body, every line ending CRLF and the last line terminated.  A lone "."
 * line is ordinary content: postie always reads to end of input.
 *
 * Header work done here: a leading mbox "From " line is dropped; Bcc and
 * Resent-Bcc are removed; Date, Message-ID and From are added when missing
 * (per the set_*_header options); bare local names in From/To/Cc are
 * qualified.  With -t the recipients come from To/Cc/Bcc, or from the
 * Resent-To/Cc/Bcc fields when any Resent- field exists.
 *
 * Line endings (canon.h), decided once per message: an LF and any CRs
 * right before it are one line end; a CR anywhere else is a stray CR and
 * becomes a space, in the header and in the body, so it can never end a
 * header line or start a field.  Only CR-only input (a CR and no LF in
 * its first 4 MiB, or in all of it when shorter) has every CR as a line
 * end, and CRLF and LF too.  Until that is decided the raw input is held
 * in memory (at most 4 MiB and a read).
 *
 * The header section ends at the empty line or at the first line that is
 * neither a field nor a continuation; that line then starts the body and
 * an empty line is put before it, so the spool always has one.  Header
 * fields postie does not change go out byte for byte (line endings made
 * CRLF); a qualified field only gains "@domain" after each bare name,
 * folding kept.  Memory: the header section is held (at most 4 MiB, else
 * LE_DATAERR), the body streams through in 64 KiB pieces.  NUL bytes are
 * dropped and counted in `nuls`.  A full disk, quota or descriptor table
 * is LE_RESOURCE (the caller says "try again"), other spool errors
 * LE_LOCALIO.
 */

struct msg_opts {
	int		 extract;	/* -t */
	const char	*env_from;	/* envelope sender decided so far, or NULL */
	const char	*full_name;	/* -F, or NULL */
	const char	*qualify_domain;/* for bare local names */
	const char	*msgid_domain;	/* right side of generated Message-IDs */
	int		 set_from;	/* enum hdr_mode from conf.h */
	int		 set_date;
	int		 set_msgid;
	int		 set_to;	/* add "To: undisclosed-recipients:;" when no To/Cc */
	int		 undisclosed;	/* replace To/Cc/Bcc with undisclosed */
	const struct aliases *aliases;	/* or NULL */
	const char	*tmpdir;	/* NULL: $TMPDIR or /tmp */
	/* An empty spool to write into (a queue entry's file), which the
	 * message takes over; NULL: a temporary one in tmpdir. */
	const struct spool *into;
};

struct message {
	struct spool	 spool;		/* the message as it will be sent */
	off_t		 size;		/* bytes in the spool */
	unsigned long long nuls;	/* NUL bytes stripped from the input */
	int		 body_8bit;
	struct strlist	 hdr_rcpts;	/* -t recipients, aliases applied
					 * and bare names qualified */
	char		*hdr_from;	/* From header's first addr-spec or NULL */
};

void	message_init(struct message *);
void	message_release(struct message *);	/* closes the spool */

/*
 * Read `infd` to its end into the spool, rewriting headers as above.
 * `argv_rcpts` are the command-line recipients (already split and
 * checked).  Returns 0, or -1 with *le (LE_LOCALIO on read/write errors,
 * LE_RESOURCE when the spool's disk or descriptors run out, LE_DATAERR on
 * bad input) and a one-line reason in `err`.
 */
int	message_spool(struct message *, int infd, const struct msg_opts *,
	    const struct strlist *argv_rcpts, int *le, struct buf *err);

/*
 * Build the envelope: sender opts->env_from; recipients = argv ∪ header recipients (-t),
 * duplicates removed, aliases applied, bare names qualified.  Returns 0 or
 * -1 with LE_DATAERR / LE_USAGE (no recipients) and a reason.
 */
int	message_envelope(const struct message *, const struct msg_opts *,
	    const struct strlist *argv_rcpts, struct envelope *env,
	    int *le, struct buf *err);


#endif
