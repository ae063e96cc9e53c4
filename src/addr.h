#ifndef POSTIE_ADDR_H
#define POSTIE_ADDR_H

#include <stddef.h>

#include "buf.h"
#include "strlist.h"

/*
 * RFC 5322 address lists (3.4): mailboxes, `Name <addr>`, groups
 * (`undisclosed-recipients:;`, `team: a@x, b@y;`), comments anywhere,
 * quoted strings and quoted local parts, obsolete routes.  What comes out
 * is the bare addr-spec of each mailbox, as it would go into RCPT TO
 * (quoted local parts stay quoted, comments and display names dropped).
 */

/*
 * Parse a header value (unfolded) and append each mailbox's addr-spec to
 * `out`.  Returns 0, or -1 with a reason in `err` when the list is
 * malformed (mailboxes parsed before the error are still appended).
 * When `ends` is not NULL it receives a malloc'd array with, for each
 * address appended, the offset in `value` just past its addr-spec, so a
 * caller can insert "@domain" after a bare local name without
 * re-rendering the field.
 */
int	 addr_parse_list(const char *value, struct strlist *out,
	    size_t **ends, struct buf *err);

/*
 * Check an address given on the command line or via -f for use in the
 * envelope: not empty (except `allow_empty`, for the sender's <>), no
 * leading '-', no CR, LF, NUL, space or tab, no angle brackets, at most
 * one unquoted '@', within SMTP's length limits.  Returns 0 or -1 with a
 * reason in `err`.
 */
int	 addr_check_envelope(const char *addr, int allow_empty,
	    struct buf *err);

/*
 * Split a command-line recipient argument on commas (cron passes
 * MAILTO=a@x,b@y as one argument), trimming spaces around each item and
 * skipping empty items.  Accepts "Name <addr>" items too, keeping addr.
 */
int	 addr_split_arg(const char *arg, struct strlist *out, struct buf *err);

/* Append "@domain" to a bare local name; leave anything else alone.
 * Returns an allocated string. */
char	*addr_qualify(const char *addr, const char *domain);

/* Does the address hold a non-ASCII byte? */
int	 addr_needs_utf8(const char *addr);

/*
 * For the envelope: when only the domain is non-ASCII, return the address
 * with the domain as an IDNA2008 A-label (libidn2), so no SMTPUTF8 is
 * needed; an ASCII address comes back unchanged; a non-ASCII local part
 * comes back unchanged (the caller then needs SMTPUTF8).  Returns an
 * allocated string, or NULL with a reason in `err` for a domain IDNA
 * refuses.
 */
char	*addr_envelope_form(const char *addr, struct buf *err);

/* Is this a bare local name (no unquoted '@')? */
int	 addr_is_local(const char *addr);

#endif
