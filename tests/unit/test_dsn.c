#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dsn.h"
#include "dsn_check.h"
#include "t.h"

/*
 * dsn_build(): two whole notifications compared byte for byte, then one
 * property at a time (UTF-8 addresses, ENVID and ORCPT, a hostile
 * diagnostic, a header that holds the boundary, 8-bit and over-long
 * header fields, refused input), then many generated inputs read back
 * with dsn_check() (dsn_check.h).
 */

static const unsigned char rnd[DSN_RANDOM] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17
};

#define BOUNDARY	"=_postie_0c0d0e0f1011121314151617"

/* What the queue spooled: the header section, the empty line, a body
 * that must never come back. */
static const char orig[] =
    "Return-Path: <alice@example.org>\r\n"
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net, carol@example.net,\r\n"
    "\tdave@example.com\r\n"
    "Subject: lunch\r\n"
    "Date: Thu, 09 Nov 2023 22:13:19 +0000\r\n"
    "Message-ID: <20231109221319.5e1f@example.org>\r\n"
    "\r\n"
    "the body, never sent back\r\n";

#define ORIG_HDR \
    "Return-Path: <alice@example.org>\r\n" \
    "From: Alice <alice@example.org>\r\n" \
    "To: bob@example.net, carol@example.net,\r\n" \
    "\tdave@example.com\r\n" \
    "Subject: lunch\r\n" \
    "Date: Thu, 09 Nov 2023 22:13:19 +0000\r\n" \
    "Message-ID: <20231109221319.5e1f@example.org>\r\n"

#define TOP \
    "From: Mail Delivery System <MAILER-DAEMON@mail.example.org>\r\n" \
    "To: <alice@example.org>\r\n" \
    "Subject: Delivery Status Notification (Failure)\r\n" \
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n" \
    "Message-ID: <20231114221320.000102030405060708090a0b" \
    "@mail.example.org>\r\n" \
    "Auto-Submitted: auto-replied\r\n" \
    "MIME-Version: 1.0\r\n" \
    "Content-Type: multipart/report; report-type=delivery-status;\r\n" \
    "\tboundary=\"" BOUNDARY "\"\r\n" \
    "\r\n" \
    "This is a MIME-encapsulated message.\r\n" \
    "\r\n" \
    "--" BOUNDARY "\r\n" \
    "Content-Description: Notification\r\n" \
    "Content-Type: text/plain; charset=us-ascii\r\n" \
    "\r\n" \
    "This is the mail system at mail.example.org.\r\n" \
    "\r\n"

#define BOTTOM \
    "--" BOUNDARY "\r\n" \
    "Content-Description: Undelivered message header\r\n" \
    "Content-Type: text/rfc822-headers\r\n" \
    "\r\n" \
    ORIG_HDR \
    "\r\n" \
    "--" BOUNDARY "--\r\n"

static const char refused_want[] =
    TOP
    "Your message could not be delivered to the recipient below. It was\r\n"
    "refused, so delivery will not be tried again.\r\n"
    "\r\n"
    "<bob@example.net>: smtp.example.com replied:\r\n"
    "    550 5.1.1 <bob@example.net>: Recipient address rejected: User\r\n"
    "    unknown in virtual mailbox table\r\n"
    "\r\n"
    "The header of your message is attached below; its body is not "
    "included.\r\n"
    "\r\n"
    "Queue ID: 4F2A9C01\r\n"
    "\r\n"
    "--" BOUNDARY "\r\n"
    "Content-Description: Delivery report\r\n"
    "Content-Type: message/delivery-status\r\n"
    "\r\n"
    "Reporting-MTA: dns; mail.example.org\r\n"
    "Arrival-Date: Thu, 09 Nov 2023 22:13:20 +0000\r\n"
    "X-Postie-Queue-ID: 4F2A9C01\r\n"
    "\r\n"
    "Final-Recipient: rfc822; bob@example.net\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n"
    "Remote-MTA: dns; smtp.example.com\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address\r\n"
    " rejected: User unknown in virtual mailbox table\r\n"
    "Last-Attempt-Date: Tue, 14 Nov 2023 22:12:20 +0000\r\n"
    "\r\n"
    BOTTOM;

static const char expired_want[] =
    TOP
    "Your message could not be delivered to the recipients below. Delivery\r\n"
    "was tried for 5 days without success and has been given up.\r\n"
    "\r\n"
    "<carol@example.net>: smtp.example.com replied:\r\n"
    "    451 4.3.0 Temporary lookup failure\r\n"
    "\r\n"
    "<dave@example.com>: no reply from a mail server was recorded.\r\n"
    "\r\n"
    "The header of your message is attached below; its body is not "
    "included.\r\n"
    "\r\n"
    "Queue ID: 4F2A9C01\r\n"
    "\r\n"
    "--" BOUNDARY "\r\n"
    "Content-Description: Delivery report\r\n"
    "Content-Type: message/delivery-status\r\n"
    "\r\n"
    "Reporting-MTA: dns; mail.example.org\r\n"
    "Arrival-Date: Thu, 09 Nov 2023 22:13:20 +0000\r\n"
    "X-Postie-Queue-ID: 4F2A9C01\r\n"
    "\r\n"
    "Final-Recipient: rfc822; carol@example.net\r\n"
    "Action: failed\r\n"
    "Status: 4.4.7\r\n"
    "Remote-MTA: dns; smtp.example.com\r\n"
    "Diagnostic-Code: smtp; 451 4.3.0 Temporary lookup failure\r\n"
    "Last-Attempt-Date: Tue, 14 Nov 2023 21:56:40 +0000\r\n"
    "\r\n"
    "Final-Recipient: rfc822; dave@example.com\r\n"
    "Action: failed\r\n"
    "Status: 4.4.7\r\n"
    "\r\n"
    BOTTOM;

static void	 info_init(struct dsn_info *);
static void	 rcpt_init(struct dsn_rcpt *, const char *);
static int	 build(const struct dsn_info *, const struct dsn_rcpt *, size_t,
		    const char *, size_t, struct buf *);
static void	 check_parses(const struct buf *, size_t);
static const char *part(const struct buf *, int, size_t *);
static int	 has(const struct buf *, const char *);
static void	 test_refused(void);
static void	 test_expired(void);
static void	 test_status(void);
static void	 test_dates(void);
static void	 test_utf8(void);
static void	 test_envid(void);
static void	 test_hostile(void);
static void	 test_boundary(void);
static void	 test_header_8bit(void);
static void	 test_header_long(void);
static void	 test_refuse(void);
static unsigned long long next(void);
static void	 gen_addr(struct buf *);
static void	 gen_bytes(struct buf *, size_t);
static void	 gen_header(struct buf *);
static void	 test_property(void);

static void
info_init(struct dsn_info *in)
{
	memset(in, 0, sizeof(*in));
	in->reporting_mta = "mail.example.org";
	in->postmaster = "MAILER-DAEMON@mail.example.org";
	in->rcpt = "alice@example.org";
	in->queue_id = "4F2A9C01";
	in->arrival = 1699568000;
	in->now = 1700000000;
	in->random = rnd;
	in->nrandom = sizeof(rnd);
}

static void
rcpt_init(struct dsn_rcpt *r, const char *addr)
{
	memset(r, 0, sizeof(*r));
	r->addr = addr;
	r->code = 550;
	r->diagnostic = "5.1.1 no such user";
	r->remote_mta = "smtp.example.com";
	r->last_attempt = 1699999940;
}

/* dsn_build() into a reset `out`; an error is printed, to be seen. */
static int
build(const struct dsn_info *in, const struct dsn_rcpt *r, size_t n,
    const char *hdr, size_t hdrlen, struct buf *out)
{
	struct buf	 err = BUF_INIT;
	int		 rc;

	buf_reset(out);
	if ((rc = dsn_build(in, r, n, hdr, hdrlen, out, &err)) == -1)
		fprintf(stderr, "dsn_build: %s\n", buf_str(&err));
	buf_release(&err);
	return rc;
}

/* A reader finds the structure and one block per recipient. */
static void
check_parses(const struct buf *b, size_t n)
{
	struct dsn_view	 v;
	const char	*why;

	why = dsn_check(b->data, b->len, &v);
	if (why != NULL)
		fprintf(stderr, "dsn_check: %s\n", why);
	CHECK(why == NULL);
	CHECK_INT(v.nrcpt, n);
}

/* Part k's content, through the reader (NULL when it does not parse). */
static const char *
part(const struct buf *b, int k, size_t *len)
{
	static struct dsn_view v;

	if (dsn_check(b->data, b->len, &v) != NULL)
		return NULL;
	*len = v.bodylen[k];
	return v.body[k];
}

static int
has(const struct buf *b, const char *s)
{
	return b->data != NULL && memmem(b->data, b->len, s, strlen(s)) !=
	    NULL;
}

static void
test_refused(void)
{
	struct dsn_info	 in;
	struct dsn_rcpt	 r;
	struct buf	 out = BUF_INIT, err = BUF_INIT;

	info_init(&in);
	rcpt_init(&r, "bob@example.net");
	r.status = "5.1.1";
	r.diagnostic = "5.1.1 <bob@example.net>: Recipient address rejected: "
	    "User unknown in virtual mailbox table";
	CHECK_INT(build(&in, &r, 1, orig, sizeof(orig) - 1, &out), 0);
	CHECK_STR(buf_str(&out), refused_want);
	CHECK_INT(out.len, sizeof(refused_want) - 1);
	check_parses(&out, 1);
	CHECK(!has(&out, "never sent back"));
	CHECK_INT(dsn_8bit(out.data, out.len), 0);

	/* Appended, not replacing; the same inputs, the same bytes. */
	buf_reset(&out);
	buf_addstr(&out, "X");
	CHECK_INT(dsn_build(&in, &r, 1, orig, sizeof(orig) - 1, &out, &err),
	    0);
	CHECK(out.len == sizeof(refused_want) &&
	    memcmp(out.data + 1, refused_want, out.len - 1) == 0);
	CHECK_INT(err.len, 0);
	buf_release(&out);
	buf_release(&err);
}

static void
test_expired(void)
{
	struct dsn_info	 in;
	struct dsn_rcpt	 r[2];
	struct buf	 out = BUF_INIT;

	info_init(&in);
	in.expired = 1;
	in.lifetime = "5 days";
	rcpt_init(&r[0], "carol@example.net");
	r[0].code = 451;
	r[0].diagnostic = "4.3.0 Temporary lookup failure";
	r[0].last_attempt = 1699999000;
	memset(&r[1], 0, sizeof(r[1]));
	r[1].addr = "dave@example.com";
	CHECK_INT(build(&in, r, 2, orig, sizeof(orig) - 1, &out), 0);
	CHECK_STR(buf_str(&out), expired_want);
	check_parses(&out, 2);

	/* Without a lifetime the text still says why. */
	in.lifetime = NULL;
	CHECK_INT(build(&in, r, 2, orig, sizeof(orig) - 1, &out), 0);
	CHECK(has(&out, "Delivery\r\nwas tried for as long as the queue "
	    "keeps a message, without success, and\r\nhas been given up."));
	/* A local reason without a reply is an X-Postie diagnostic. */
	r[1].diagnostic = "connect to smtp.example.com: Connection refused";
	CHECK_INT(build(&in, r, 2, orig, sizeof(orig) - 1, &out), 0);
	CHECK(has(&out, "<dave@example.com>:\r\n    connect to "
	    "smtp.example.com: Connection refused\r\n"));
	CHECK(has(&out, "Status: 4.4.7\r\nDiagnostic-Code: X-Postie; connect "
	    "to smtp.example.com: Connection refused\r\n\r\n"));
	check_parses(&out, 2);
	buf_release(&out);
}

static void
test_status(void)
{
	static const struct {
		int		 expired;
		const char	*status;
		int		 code;
		const char	*want;
	} t[] = {
		{ 0, "5.7.1", 554, "5.7.1" },
		{ 1, "4.4.1", 0, "4.4.1" },
		{ 0, NULL, 550, "5.0.0" },
		{ 0, NULL, 0, "5.0.0" },
		{ 0, NULL, 451, "4.0.0" },
		{ 1, NULL, 451, "4.4.7" },
		{ 1, NULL, 0, "4.4.7" },
		{ 1, NULL, 552, "5.0.0" },
		/* Malformed or not a failure: derived instead. */
		{ 0, "2.0.0", 550, "5.0.0" },
		{ 0, "5.1", 550, "5.0.0" },
		{ 0, "5.1.1 ", 550, "5.0.0" },
		{ 0, "5.1234.1", 550, "5.0.0" },
		{ 1, "5..1", 421, "4.4.7" },
		{ 1, "", 421, "4.4.7" },
		{ 0, "5.10.100", 550, "5.10.100" },
	};
	struct dsn_info	 in;
	struct dsn_rcpt	 r;
	struct buf	 out = BUF_INIT, want = BUF_INIT;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		info_init(&in);
		in.expired = t[i].expired;
		rcpt_init(&r, "bob@example.net");
		r.status = t[i].status;
		r.code = t[i].code;
		CHECK_INT(build(&in, &r, 1, NULL, 0, &out), 0);
		buf_reset(&want);
		buf_addf(&want, "Action: failed\r\nStatus: %s\r\n", t[i].want);
		if (!has(&out, buf_str(&want)))
			fprintf(stderr, "status case %zu\n", i);
		CHECK(has(&out, buf_str(&want)));
	}
	buf_release(&out);
	buf_release(&want);
}

static void
test_dates(void)
{
	struct dsn_info	 in;
	struct dsn_rcpt	 r;
	struct buf	 out = BUF_INIT;

	info_init(&in);
	rcpt_init(&r, "bob@example.net");
	in.now = 0;
	in.arrival = 951782400;		/* a leap day */
	r.last_attempt = 253402300799LL;	/* the last second of 9999 */
	CHECK_INT(build(&in, &r, 1, NULL, 0, &out), 0);
	CHECK(has(&out, "\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
	CHECK(has(&out, "\r\nMessage-ID: <19700101000000."
	    "000102030405060708090a0b@mail.example.org>\r\n"));
	CHECK(has(&out, "\r\nArrival-Date: Tue, 29 Feb 2000 00:00:00 "
	    "+0000\r\n"));
	CHECK(has(&out, "\r\nLast-Attempt-Date: Fri, 31 Dec 9999 23:59:59 "
	    "+0000\r\n"));

	/* 0 is "none" for the optional times. */
	in.now = 1700000000;
	in.arrival = 0;
	r.last_attempt = 0;
	CHECK_INT(build(&in, &r, 1, NULL, 0, &out), 0);
	CHECK(!has(&out, "Arrival-Date"));
	CHECK(!has(&out, "Last-Attempt-Date"));

	in.msgid_domain = "[192.0.2.1]";
	CHECK_INT(build(&in, &r, 1, NULL, 0, &out), 0);
	CHECK(has(&out, ".000102030405060708090a0b@[192.0.2.1]>\r\n"));
	buf_release(&out);
}

static void
test_utf8(void)
{
	struct dsn_info	 in;
	struct dsn_rcpt	 r[3];
	struct buf	 out = BUF_INIT, big = BUF_INIT;
	const char	*p;
	size_t		 len, i;

	info_init(&in);
	rcpt_init(&r[0], "j\xc3\xb6rg@b\xc3\xbc" "cher.example");
	r[0].orcpt = "\"\xc3\xb6 +=\\\"@x.example";
	rcpt_init(&r[1], "\xe7\x94\xa8\xf0\x9f\x98\x80@x.example");
	rcpt_init(&r[2], "a\xff\xc3(@x.example");	/* not UTF-8 */
	CHECK_INT(build(&in, r, 3, NULL, 0, &out), 0);
	check_parses(&out, 3);
	CHECK(has(&out, "\r\nOriginal-Recipient: utf-8; "
	    "\"\\x{F6}\\x{20}\\x{2B}\\x{3D}\\x{5C}\"@x.example\r\n"
	    "Final-Recipient: utf-8; j\\x{F6}rg@b\\x{FC}cher.example\r\n"));
	CHECK(has(&out, "\r\nFinal-Recipient: utf-8; "
	    "\\x{7528}\\x{1F600}@x.example\r\n"));
	CHECK(has(&out, "\r\nFinal-Recipient: utf-8; "
	    "a\\x{FFFD}\\x{FFFD}(@x.example\r\n"));
	/* People read the address as it is, in a text that says utf-8. */
	CHECK(has(&out, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"));
	CHECK(has(&out, "\r\n<j\xc3\xb6rg@b\xc3\xbc" "cher.example>: "));
	CHECK(has(&out, "\r\n<a\xef\xbf\xbd\xef\xbf\xbd(@x.example>: "));
	CHECK_INT(dsn_8bit(out.data, out.len), 1);
	p = part(&out, 1, &len);
	CHECK(p != NULL && !dsn_8bit(p, len));

	/* 8 bytes for each of 254: the machine-readable form is cut to
	 * its line, the text has every byte. */
	for (i = 0; i < 254; i++)
		buf_addch(&big, i % 2 ? '+' : '\xff');
	rcpt_init(&r[0], big.data);
	CHECK_INT(build(&in, r, 1, NULL, 0, &out), 0);
	check_parses(&out, 1);
	CHECK(has(&out, "\r\nFinal-Recipient: utf-8; \\x{FFFD}\\x{2B}"));
	CHECK(has(&out, "\\x{FFFD}\\x{2B}\\x{FFFD}\r\nAction: failed"));
	CHECK(has(&out, "\xef\xbf\xbd+\xef\xbf\xbd+>:\r\n"
	    "smtp.example.com replied:"));

	/* A UTF-8 sender and postmaster go into To and From as they are. */
	in.rcpt = "\xc3\xa9lise@example.org";
	in.postmaster = "MAILER-DAEMON@\xc3\xa9.example";
	rcpt_init(&r[0], "bob@example.net");
	CHECK_INT(build(&in, r, 1, NULL, 0, &out), 0);
	check_parses(&out, 1);
	CHECK(has(&out, "\r\nTo: <\xc3\xa9lise@example.org>\r\n"));
	CHECK(has(&out, "Content-Type: text/plain; charset=us-ascii\r\n"));
	CHECK_INT(dsn_8bit(out.data, out.len), 1);
	buf_release(&out);
	buf_release(&big);
}

static void
test_envid(void)
{
	struct dsn_info	 in;
	struct dsn_rcpt	 r;
	struct buf	 out = BUF_INIT;

	info_init(&in);
	in.envid = "QWERTY.42+x";
	rcpt_init(&r, "bob@example.net");
	r.orcpt = "list@example.org";
	CHECK_INT(build(&in, &r, 1, NULL, 0, &out), 0);
	check_parses(&out, 1);
	/* RFC 3464's order: the ENVID first, ORCPT before the final
	 * recipient. */
	CHECK(has(&out, "\r\n\r\nOriginal-Envelope-Id: QWERTY.42+x\r\n"
	    "Reporting-MTA: dns; mail.example.org\r\n"));
	CHECK(has(&out, "\r\n\r\nOriginal-Recipient: rfc822; "
	    "list@example.org\r\nFinal-Recipient: rfc822; "
	    "bob@example.net\r\n"));
	in.envid = "";
	r.orcpt = "";
	CHECK_INT(build(&in, &r, 1, NULL, 0, &out), 0);
	CHECK(!has(&out, "Original-"));
	buf_release(&out);
}

static void
test_hostile(void)
{
	static const char evil[] = "5.7.1 bad\r\nX-Injected: yes\rmore\x1b"
	    "[31mred\t\\\x7f\xc3\xa9\n\n";
	struct dsn_info	 in;
	struct dsn_rcpt	 r;
	struct buf	 out = BUF_INIT, d = BUF_INIT;
	size_t		 i;

	info_init(&in);
	rcpt_init(&r, "bob@example.net");
	buf_addstr(&d, evil);
	for (i = 0; i < 5000; i++)
		buf_addch(&d, 'A' + i % 26);
	/* A NUL ends a C string: what follows is not seen at all. */
	buf_add(&d, "\0tail", 5);
	r.diagnostic = d.data;
	CHECK_INT(build(&in, &r, 1, NULL, 0, &out), 0);
	check_parses(&out, 1);
	CHECK(!has(&out, "tail"));
	CHECK(memchr(out.data, '\x1b', out.len) == NULL);
	CHECK(memchr(out.data, '\x7f', out.len) == NULL);
	CHECK_INT(dsn_8bit(out.data, out.len), 0);
	CHECK(!has(&out, "\nX-Injected"));
	CHECK(has(&out, "Diagnostic-Code: smtp; 550 5.7.1 bad; X-Injected: "
	    "yes more\\x1b[31mred\r\n \\x5c\\x7f\\xc3\\xa9;\r\n ABCDEF"));
	CHECK(has(&out, "    550 5.7.1 bad; X-Injected: yes more\\x1b[31mred "
	    "\\x5c\\x7f\\xc3\\xa9;\r\n    ABCDEF"));
	/* Cut after 900 bytes, marked: 61 of them before the letters. */
	buf_reset(&d);
	buf_addstr(&d, "\r\n ");
	for (i = 0; i < 900 - 61; i++)
		buf_addch(&d, 'A' + i % 26);
	buf_addstr(&d, "...\r\nLast-Attempt-Date: ");
	CHECK(has(&out, buf_str(&d)));
	buf_release(&d);
	buf_release(&out);
}

static void
test_boundary(void)
{
	static const char one[] = "Subject: x\r\n"
	    "X-Trap: --" BOUNDARY "\r\n";
	static const char two[] = "Subject: x\r\n"
	    "X-Trap: " BOUNDARY "\r\n"
	    "X-Trap: " BOUNDARY "_1\r\n";
	struct dsn_info	 in;
	struct dsn_rcpt	 r;
	struct buf	 out = BUF_INIT;
	struct dsn_view	 v;
	const char	*p;
	size_t		 len;

	info_init(&in);
	rcpt_init(&r, "bob@example.net");
	CHECK_INT(build(&in, &r, 1, one, sizeof(one) - 1, &out), 0);
	check_parses(&out, 1);
	CHECK(dsn_check(out.data, out.len, &v) == NULL &&
	    strcmp(v.boundary, BOUNDARY "_1") == 0);
	p = part(&out, 2, &len);
	CHECK(p != NULL && len == sizeof(one) - 1 &&
	    memcmp(p, one, len) == 0);

	CHECK_INT(build(&in, &r, 1, two, sizeof(two) - 1, &out), 0);
	CHECK(dsn_check(out.data, out.len, &v) == NULL &&
	    strcmp(v.boundary, BOUNDARY "_2") == 0);

	/* In a diagnostic too: the parts are searched, not only the
	 * header. */
	r.diagnostic = "--" BOUNDARY "--";
	CHECK_INT(build(&in, &r, 1, NULL, 0, &out), 0);
	CHECK(dsn_check(out.data, out.len, &v) == NULL &&
	    strcmp(v.boundary, BOUNDARY "_1") == 0);
	buf_release(&out);
}

static void
test_header_8bit(void)
{
	static const char h[] = "Subject: Gr\xc3\xbc\xc3\x9f" "e\r\n"
	    "To: bob@example.net\r\n";
	struct dsn_info	 in;
	struct dsn_rcpt	 r;
	struct buf	 out = BUF_INIT;
	const char	*p;
	size_t		 len;

	info_init(&in);
	rcpt_init(&r, "bob@example.net");
	CHECK_INT(build(&in, &r, 1, h, sizeof(h) - 1, &out), 0);
	check_parses(&out, 1);
	CHECK(has(&out, "Content-Type: text/rfc822-headers\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n" "Subject: Gr\xc3\xbc"));
	CHECK(has(&out, "Content-Type: text/plain; charset=us-ascii\r\n"));
	CHECK_INT(dsn_8bit(out.data, out.len), 1);
	p = part(&out, 2, &len);
	CHECK(p != NULL && len == sizeof(h) - 1 && memcmp(p, h, len) == 0);

	/* LF line ends, a stray CR and a NUL from a careless caller still
	 * come out as CRLF, and the NUL ends the section. */
	CHECK_INT(build(&in, &r, 1, "A: 1\nB: 2\rx\nC: 3\0D: 4\n", 22, &out),
	    0);
	check_parses(&out, 1);
	p = part(&out, 2, &len);
	CHECK(p != NULL && len == 20 &&
	    memcmp(p, "A: 1\r\nB: 2 x\r\nC: 3\r\n", 20) == 0);
	buf_release(&out);
}

static void
test_header_long(void)
{
	struct dsn_info	 in;
	struct dsn_rcpt	 r;
	struct buf	 out = BUF_INIT, h = BUF_INIT;
	const char	*p;
	size_t		 len, i;

	info_init(&in);
	rcpt_init(&r, "bob@example.net");
	/* 998 bytes is a line; 999 is not, and that field stays out. */
	buf_addstr(&h, "Subject: ok\r\nX-Long: ");
	for (i = strlen("X-Long: "); i < 998; i++)
		buf_addch(&h, 'a');
	buf_addstr(&h, "\r\nX-Longer: ");
	for (i = strlen("X-Longer: "); i < 999; i++)
		buf_addch(&h, 'b');
	buf_addstr(&h, "\r\n\tfolded\r\nTo: bob@example.net\r\n");
	CHECK_INT(build(&in, &r, 1, h.data, h.len, &out), 0);
	check_parses(&out, 1);
	p = part(&out, 2, &len);
	CHECK(p != NULL && len == 13 + 1000 + 21 &&
	    memcmp(p, h.data, 13 + 1000) == 0 &&
	    memcmp(p + 1013, "To: bob@example.net\r\n", 21) == 0);
	CHECK(has(&out, "included.\r\n1 header field was left out for its "
	    "size.\r\n"));

	/* Folded fields of 1000 bytes each: 64 KiB of them, the rest
	 * counted as left out. */
	buf_reset(&h);
	for (i = 0; i < 100; i++) {
		buf_addf(&h, "X-F%02zu: ", i);
		while (h.len % 1000 != 998)
			buf_addstr(&h, h.len % 100 == 0 ? "\r\n\t" : "x");
		buf_addstr(&h, "\r\n");
	}
	CHECK(h.len == 100 * 1000);
	CHECK_INT(build(&in, &r, 1, h.data, h.len, &out), 0);
	check_parses(&out, 1);
	p = part(&out, 2, &len);
	CHECK(p != NULL && len == 65 * 1000 && memcmp(p, h.data, len) == 0);
	CHECK(has(&out, "included.\r\n35 header fields were left out for "
	    "their size.\r\n"));
	buf_release(&h);
	buf_release(&out);
}

/* Refused input: -1, one line in err, `out` as it was. */
static void
test_refuse(void)
{
	struct dsn_info	 in;
	struct dsn_rcpt	 r;
	struct buf	 out = BUF_INIT, err = BUF_INIT, big = BUF_INIT;
	size_t		 i, k;

	for (i = 0; i < 255; i++)
		buf_addch(&big, 'a');
	for (k = 0; ; k++) {
		info_init(&in);
		rcpt_init(&r, "bob@example.net");
		switch (k) {
		case 0:	in.nrandom = DSN_RANDOM - 1; break;
		case 1:	in.random = NULL; break;
		case 2:	in.rcpt = ""; break;
		case 3:	in.rcpt = "<>"; break;
		case 4:	in.rcpt = NULL; break;
		case 5:	in.reporting_mta = "mail.example.org\r\nBcc: x"; break;
		case 6:	in.reporting_mta = "mail example"; break;
		case 7:	in.reporting_mta = "m\xc3\xa9.example"; break;
		case 8:	in.queue_id = NULL; break;
		case 9:	in.postmaster = "a@b\n"; break;
		case 10: in.postmaster = "a@\xff"; break;
		case 11: in.envid = "a b"; break;
		case 12: in.lifetime = "5\tdays"; break;
		case 13: in.msgid_domain = "a>b"; break;
		case 14: in.now = -1; break;
		case 15: in.arrival = 253402300800LL; break;
		case 16: r.addr = "bob@example.net\n"; break;
		case 17: r.addr = big.data; break;
		case 18: r.addr = NULL; break;
		case 19: r.orcpt = "x\x1b@y"; break;
		case 20: r.remote_mta = "smtp example"; break;
		case 21: r.code = 600; break;
		case 22: r.code = 199; break;
		case 23: r.last_attempt = -5; break;
		default: goto done;
		}
		buf_reset(&out);
		buf_reset(&err);
		buf_addstr(&out, "kept");
		CHECK_INT(dsn_build(&in, &r, 1, orig, sizeof(orig) - 1, &out,
		    &err), -1);
		CHECK_STR(buf_str(&out), "kept");
		CHECK(err.len > 0 && memchr(err.data, '\n', err.len) == NULL &&
		    memchr(err.data, '\r', err.len) == NULL);
	}
done:
	info_init(&in);
	rcpt_init(&r, "bob@example.net");
	buf_reset(&err);
	CHECK_INT(dsn_build(&in, &r, 0, orig, sizeof(orig) - 1, &out, &err),
	    -1);
	CHECK_STR(buf_str(&err), "no recipients to report");
	buf_reset(&err);
	in.reporting_mta = "mail.example.org\r\nBcc: x";
	CHECK_INT(dsn_build(&in, &r, 1, NULL, 0, &out, &err), -1);
	CHECK_STR(buf_str(&err), "reporting MTA 'mail.example.org\\r\\nBcc: x' "
	    "holds a control character");
	/* 254 bytes is an address still. */
	buf_truncate(&big, 254);
	info_init(&in);
	r.addr = big.data;
	CHECK_INT(build(&in, &r, 1, NULL, 0, &out), 0);
	buf_release(&big);
	buf_release(&out);
	buf_release(&err);
}

/* ---- generated inputs ------------------------------------------------- */

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: the same sequence on every run and platform. */
static unsigned long long
next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* An address as the queue could hold one: ASCII, UTF-8, broken UTF-8,
 * quoted with spaces, up to 254 bytes (4 + 236 + 3 + 1 + 10). */
static void
gen_addr(struct buf *b)
{
	static const char *const pieces[] = {
		"a", "bob", ".", "-", "+tag", "\xc3\xa9", "\xe7\x94\xa8",
		"\xf0\x9f\x98\x80", "\xff", "\xc3", "=", "\\", "x", "0",
	};
	size_t	 n = 1 + next() % 120, i;

	buf_reset(b);
	if (next() % 8 == 0)
		buf_addstr(b, "\"q ");
	for (i = 0; i < n && b->len < 237; i++)
		buf_addstr(b, pieces[next() % (sizeof(pieces) /
		    sizeof(pieces[0]))]);
	if (b->data[0] == '"')
		buf_addch(b, '"');
	buf_addstr(b, "@example.");
	buf_addstr(b, next() % 2 ? "org" : "\xc3\xa9");
}

/* Any bytes but NUL, weighted towards line breaks, spaces and the
 * boundary's prefix. */
static void
gen_bytes(struct buf *b, size_t max)
{
	static const char *const pieces[] = {
		"\r\n", "\n", "\r", " ", "\t", "--", "=_postie_", "\x1b",
		"\xc3\xa9", "\xff", "550 ", "\r\n ", ";", "\\",
	};
	size_t	 n = next() % max;

	buf_reset(b);
	while (b->len < n) {
		if (next() % 4 == 0)
			buf_addstr(b, pieces[next() % (sizeof(pieces) /
			    sizeof(pieces[0]))]);
		else
			buf_addch(b, (int)(1 + next() % 255));
	}
}

/* A header section: fields, folds, long lines, 8-bit bytes, lines that
 * look like a boundary built from the test's random bytes. */
static void
gen_header(struct buf *b)
{
	size_t	 n = next() % 12, i, k, len;

	buf_reset(b);
	for (i = 0; i < n; i++) {
		switch (next() % 6) {
		case 0:
			buf_addstr(b, "X-Trap: --" BOUNDARY "\r\n");
			break;
		case 1:
			buf_addf(b, "X-Trap: " BOUNDARY "_%llu\r\n",
			    next() % 3 + 1);
			break;
		case 2:
			len = 900 + next() % 200;
			buf_addstr(b, "X-Long: ");
			for (k = 8; k < len; k++)
				buf_addch(b, 'L');
			buf_addstr(b, "\r\n");
			break;
		case 3:
			buf_addstr(b, "Subject: caf\xc3\xa9\r\n\tfolded\r\n");
			break;
		case 4:
			buf_addstr(b, "Received: from x\n by y\r\r\n");
			break;
		default:
			buf_addstr(b, "To: bob@example.net\r\n");
			break;
		}
	}
	if (next() % 3 == 0)
		buf_addstr(b, "\r\nbody --" BOUNDARY "\r\n");
}

static void
test_property(void)
{
	struct dsn_info	 in;
	struct dsn_rcpt	 r[4];
	struct buf	 a[4], o[4], d[4], h = BUF_INIT, out = BUF_INIT;
	struct dsn_view	 v;
	const char	*why;
	size_t		 n, i, k, fails = 0;
	int		 eight;

	for (i = 0; i < 4; i++) {
		buf_init(&a[i]);
		buf_init(&o[i]);
		buf_init(&d[i]);
	}
	for (k = 0; k < 3000; k++) {
		info_init(&in);
		in.expired = (int)(next() % 2);
		in.lifetime = next() % 2 ? "5 days" : NULL;
		in.envid = next() % 2 ? "ENV-1" : NULL;
		n = 1 + next() % 4;
		eight = 0;
		for (i = 0; i < n; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			gen_addr(&a[i]);
			r[i].addr = a[i].data;
			eight |= dsn_8bit(a[i].data, a[i].len);
			if (next() % 3 == 0) {
				gen_addr(&o[i]);
				r[i].orcpt = o[i].data;
			}
			r[i].code = next() % 3 == 0 ? 0 :
			    (int)(400 + next() % 200);
			if (next() % 4 != 0) {
				gen_bytes(&d[i], next() % 8 == 0 ? 6000 : 200);
				r[i].diagnostic = d[i].data;
			}
			r[i].remote_mta = next() % 2 ? "smtp.example.com" :
			    NULL;
			r[i].last_attempt = (long long)(next() % 2000000000);
			r[i].status = next() % 4 == 0 ? "5.2.2" : NULL;
		}
		gen_header(&h);
		if (build(&in, r, n, h.data, h.len, &out) == -1) {
			fails++;
			continue;
		}
		if ((why = dsn_check(out.data, out.len, &v)) != NULL ||
		    v.nrcpt != n) {
			if (fails++ < 5)
				fprintf(stderr, "case %zu: %s\n", k,
				    why != NULL ? why : "recipient count");
			continue;
		}
		/* 8-bit only from an address or the attached header. */
		if (dsn_8bit(out.data, out.len) !=
		    (eight || dsn_8bit(v.body[2], v.bodylen[2])))
			fails++;
	}
	CHECK_INT(fails, 0);
	for (i = 0; i < 4; i++) {
		buf_release(&a[i]);
		buf_release(&o[i]);
		buf_release(&d[i]);
	}
	buf_release(&h);
	buf_release(&out);
}

int
main(void)
{
	test_refused();
	test_expired();
	test_status();
	test_dates();
	test_utf8();
	test_envid();
	test_hostile();
	test_boundary();
	test_header_8bit();
	test_header_long();
	test_refuse();
	test_property();
	return t_done();
}
