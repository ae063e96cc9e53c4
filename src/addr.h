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
 * Parse a header value (unfolded; leftover CRLF folds are taken as white
 * space) and append each mailbox's addr-spec to `out`, in order, with
 * strlist_add() (duplicates kept).  Returns 0, or -1 with a reason in
 * `err` (lowercase, no full stop, e.g. "missing '>'", "unterminated
 * comment", "unexpected 'Doe'") when the list is malformed; mailboxes
 * completed before the error are still appended.
 *
 * What comes out: comments, white space and display names are dropped;
 * obs-routes ("<@a,@b:x@y>") are dropped; groups yield their members and
 * an empty group ("undisclosed-recipients:;") yields nothing (a group
 * missing its ';' at the very end is accepted); empty list elements
 * (",,") are skipped.  A local part that is one quoted string stays
 * quoted, with folds removed and quoted-pairs reduced to the ones needed
 * (\" and \\); a local part mixing quoted strings and atoms becomes one
 * quoted string.  Domain literals lose their white space.  A mailbox
 * without '@' ("root", "Root User <root>") comes out as the bare local
 * name: callers qualify it.  "<>" is an error.  Control characters
 * (other than tab inside quotes) are an error, so no CR or LF ever comes
 * out.  UTF-8 is accepted in atoms (RFC 6532).
 *
 * When `ends` is not NULL it receives a malloc'd array (never NULL, even
 * when nothing was appended; free it) with, for each address appended by
 * this call, in order, the offset in `value` just past its addr-spec
 * (just past the local name for a bare name, so pointing at the '>' of
 * "Root User <root>"), so a caller can insert "@domain" there without
 * re-rendering the field.  ends[i] belongs to out->v[n0 + i], where n0
 * is out->n before the call.
 */
int	 addr_parse_list(const char *value, struct strlist *out,
	    size_t **ends, struct buf *err);

/*
 * Check an address given on the command line or via -f for use in the
 * envelope: not empty (except `allow_empty`, for the sender's <>; then
 * "<>" itself passes too), no leading '-', no CR, LF, space, tab or other
 * control character (even inside quotes), no angle brackets, at most one
 * unquoted '@', balanced quotes, no empty local part or domain around the
 * '@', local part at most 64 octets and the whole at most 254.  A bare
 * local name passes.  Returns 0 or -1 with a reason in `err` naming the
 * address as "sender" (allow_empty) or "address", quoted, with control
 * characters escaped (\r \n \t \xNN) and cut after 100 bytes:
 *   address 'a b@x' contains white space
 *   sender '-oQ/tmp' starts with '-'
 */
int	 addr_check_envelope(const char *addr, int allow_empty,
	    struct buf *err);

/*
 * As addr_check_envelope() for an address that came out of
 * addr_parse_list() (a -t header recipient): white space inside a quoted
 * local part ("john doe"@x) is legal there and allowed.
 */
int	 addr_check_parsed(const char *addr, struct buf *err);

/*
 * Split a command-line recipient argument on commas outside quotes and
 * angle brackets (cron passes MAILTO=a@x,b@y as one argument), trimming
 * spaces and tabs around each item and skipping empty items.  Accepts
 * "Name <addr>" and "<addr>" items too, keeping addr.  Each item must
 * pass addr_check_envelope() (named "recipient" in messages: "recipient
 * '-oQ/tmp' starts with '-'"); returns -1 at the first that does not,
 * after appending the good items before it, else 0.
 */
int	 addr_split_arg(const char *arg, struct strlist *out, struct buf *err);

/* Append "@domain" to a bare local name; leave anything else alone
 * (an address with '@', "" for the null sender, or a NULL or empty
 * domain).  Returns an allocated string. */
char	*addr_qualify(const char *addr, const char *domain);

/* Does the address hold a non-ASCII byte? */
int	 addr_needs_utf8(const char *addr);

/*
 * For the envelope: when only the domain is non-ASCII, return the address
 * with the domain as an IDNA2008 A-label (libidn2), so no SMTPUTF8 is
 * needed; an ASCII address comes back unchanged; a non-ASCII local part
 * comes back unchanged (the caller then needs SMTPUTF8), and so do bare
 * local names and address literals ([...]).  Conversion is
 * idn2_to_ascii_8z() nontransitional with NFC input, retried
 * transitional when that finds a disallowed character (as curl does).
 * Returns an allocated string, or NULL with a reason in `err` for a
 * domain IDNA refuses: "cannot convert domain 'D' to ASCII: REASON"
 */
char	*addr_envelope_form(const char *addr, struct buf *err);

/* Is this a bare local name (no unquoted '@')? */
int	 addr_is_local(const char *addr);

/* Append 's' to a message: in single quotes, control characters escaped
 * (\r \n \t \xNN), cut after 100 bytes with "...". */
void	 addr_quote(struct buf *, const char *s);

#endif
