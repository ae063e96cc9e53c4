#ifndef POSTIE_DSN_H
#define POSTIE_DSN_H

#include <stddef.h>

#include "buf.h"

/*
 * The bytes of a delivery status notification (RFC 3464) for a message
 * the queue gives up on: a multipart/report (RFC 6522) of a short text
 * for people, a message/delivery-status part for programs and the
 * original header section as text/rfc822-headers.  The original body is
 * never included.  Pure code: no I/O, no clock, no randomness of its
 * own; the same inputs give the same bytes.
 */

/* Random bytes dsn_build() needs: 12 for the Message-ID, 12 for the
 * MIME boundary. */
#define DSN_RANDOM	24

/* One recipient the message could not be delivered to. */
struct dsn_rcpt {
	const char	*addr;		/* the envelope recipient (addr-spec) */
	const char	*orcpt;		/* the original recipient as the user
					 * gave it (an addr-spec, not the
					 * ORCPT parameter's xtext), or NULL */
	const char	*status;	/* RFC 3463 code "5.1.1"; NULL or
					 * malformed: derived from `code` */
	int		 code;		/* the last SMTP reply code, 0: none */
	const char	*diagnostic;	/* the last reply's text after its code
					 * (struct reply's text: LF between
					 * lines), or a local reason when
					 * `code` is 0; NULL: none */
	const char	*remote_mta;	/* the smarthost (ASCII), or NULL */
	long long	 last_attempt;	/* seconds since the epoch, 0: none */
};

/* About the message and the notification. */
struct dsn_info {
	const char	*reporting_mta;	/* this host's name (FQDN) */
	const char	*postmaster;	/* From: address, e.g.
					 * MAILER-DAEMON@host */
	const char	*rcpt;		/* To: the original envelope sender */
	const char	*queue_id;
	const char	*envid;		/* the original ENVID (raw, not xtext),
					 * or NULL */
	long long	 arrival;	/* when it was queued, 0: none */
	long long	 now;		/* Date: of the notification */
	int		 expired;	/* 1: its lifetime ended, 0: refused */
	const char	*lifetime;	/* "5 days", for the text when expired,
					 * or NULL */
	const char	*msgid_domain;	/* right side of the Message-ID; NULL
					 * or "": reporting_mta */
	const unsigned char *random;	/* DSN_RANDOM or more bytes from
					 * gnutls_rnd() */
	size_t		 nrandom;
};

/*
 * Append the whole notification to `out`: header and body, CRLF line
 * ends only, ending in CRLF, no line longer than 998 bytes, no NUL.
 *
 * Header: From "Mail Delivery System <postmaster>", To "<rcpt>", a fixed
 * Subject, Date from `now` in UTC (+0000), Message-ID
 * "<YYYYMMDDhhmmss.HEX@msgid_domain>", Auto-Submitted: auto-replied,
 * MIME-Version, and a multipart/report Content-Type whose boundary is
 * made from the random bytes and changed until it occurs nowhere in the
 * parts.
 *
 * Each recipient is reported with Action: failed and a Status: its
 * `status` when that is a well-formed 4.x.x or 5.x.x code, else 5.0.0
 * for a 5xx reply, 4.4.7 when expired with a 4xx reply or none, 4.0.0
 * for a 4xx reply when refused, 5.0.0 for no reply when refused.  An
 * address holding UTF-8 is typed "utf-8" with each non-ASCII character
 * as \x{HEX} (RFC 6533 utf-8-addr-xtext), so the delivery-status part
 * is always ASCII; invalid UTF-8 becomes U+FFFD, and a form longer than
 * its line allows is cut (the text part has it whole).  The diagnostic is
 * made safe: line breaks become "; ", tabs spaces, other control and
 * 8-bit bytes and '\' "\xNN" (as reply_summary() does), cut with "..."
 * after 900 bytes, and folded; it is "smtp; CODE TEXT" with a code,
 * "X-Postie; TEXT" without.  The text part names every recipient with
 * its last reply; it is us-ascii, or utf-8 (8bit) when an address in it
 * is not ASCII.
 *
 * The header section `hdr` (hdrlen bytes, as spooled: canonical CRLF,
 * up to the empty line; a NUL ends it) is split into fields by
 * hdr_parse() and attached field by field, byte for byte, except fields
 * with a line over 998 bytes and fields that would take the attachment
 * past 64 KiB: those are left out, and the text says how many.  With
 * 8-bit bytes in it the part says Content-Transfer-Encoding: 8bit.
 *
 * Returns 0, or -1 with one line in `err` (lowercase, no full stop) and
 * `out` as it was: no recipients, fewer than DSN_RANDOM random bytes,
 * an empty envelope sender (a notification is never sent to <>), a
 * required value missing, a value with a control character, a name or
 * ID that is not printable ASCII without spaces, a Message-ID domain
 * holding an RFC 5322 special, postmaster or rcpt not valid UTF-8, an
 * address over 254 bytes, a reply code outside 200-599, a time before
 * the epoch or after 9999.
 */
int	 dsn_build(const struct dsn_info *, const struct dsn_rcpt *, size_t n,
	    const char *hdr, size_t hdrlen, struct buf *out, struct buf *err);

/*
 * 1 when the notification in `msg` holds bytes >= 0x80, so it must go
 * with BODY=8BITMIME; else 0.  (A UTF-8 address in its To or From needs
 * SMTPUTF8 as well: the caller knows that from the addresses.)
 */
int	 dsn_8bit(const char *msg, size_t len);

#endif
