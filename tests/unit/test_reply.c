#include "config.h"

#include <string.h>

#include "buf.h"
#include "reply.h"
#include "t.h"

/*
 * Feed `lines` (NULL-terminated, each without CRLF) and return the state
 * after the last one, or REPLY_BAD as soon as a line is refused.
 */
static enum reply_state
feed(struct reply *r, const char *const *lines, const char **why)
{
	enum reply_state st = REPLY_BAD;

	reply_reset(r);
	*why = NULL;
	for (; *lines != NULL; lines++) {
		st = reply_feed(r, *lines, strlen(*lines), why);
		if (st != REPLY_MORE)
			break;
	}
	return st;
}

static enum reply_state
feed1(struct reply *r, const char *line, size_t len)
{
	const char	*why;

	reply_reset(r);
	return reply_feed(r, line, len, &why);
}

static void
test_valid(void)
{
	struct reply	 r;
	struct buf	 b = BUF_INIT;
	const char	*why;
	const char *const one[] = { "250 OK", NULL };
	const char *const multi[] = { "250-mx.example.org hello", "250-SIZE 100",
	    "250 8BITMIME", NULL };
	const char *const empty_cont[] = { "250-", "250 ok", NULL };

	reply_init(&r);
	CHECK_INT(feed(&r, one, &why), REPLY_DONE);
	CHECK_INT(r.code, 250);
	CHECK_STR(buf_str(&r.text), "OK");
	CHECK_INT(r.nlines, 1);
	CHECK_STR(r.ecode, "");

	CHECK_INT(feed(&r, multi, &why), REPLY_DONE);
	CHECK_INT(r.code, 250);
	CHECK_INT(r.nlines, 3);
	CHECK_STR(buf_str(&r.text), "mx.example.org hello\nSIZE 100\n8BITMIME");

	/* A continuation line reports MORE. */
	reply_reset(&r);
	CHECK_INT(reply_feed(&r, "220-a", 5, &why), REPLY_MORE);
	CHECK_INT(reply_feed(&r, "220 b", 5, &why), REPLY_DONE);

	/* "250" alone, and "250 " with empty text. */
	CHECK_INT(feed1(&r, "250", 3), REPLY_DONE);
	CHECK_INT(r.code, 250);
	CHECK_STR(buf_str(&r.text), "");
	CHECK_INT(feed1(&r, "354 ", 4), REPLY_DONE);
	CHECK_INT(r.code, 354);

	CHECK_INT(feed(&r, empty_cont, &why), REPLY_DONE);
	CHECK_INT(r.nlines, 2);

	/* HTAB and 8-bit text are allowed. */
	CHECK_INT(feed1(&r, "550 a\tb \xc3\xa9", 10), REPLY_DONE);

	/* Summary: escapes, joins lines, caps the length. */
	CHECK_INT(feed(&r, multi, &why), REPLY_DONE);
	reply_summary(&r, &b);
	CHECK_STR(buf_str(&b), "250 mx.example.org hello; SIZE 100; 8BITMIME");
	buf_reset(&b);
	CHECK_INT(feed1(&r, "550 a\tb\xc3\xa9\\", 10), REPLY_DONE);
	reply_summary(&r, &b);
	CHECK_STR(buf_str(&b), "550 a b\\xc3\\xa9\\x5c");
	buf_reset(&b);
	{
		char	 line[1000];

		memcpy(line, "550 ", 4);
		memset(line + 4, 'x', sizeof(line) - 4);
		CHECK_INT(feed1(&r, line, sizeof(line)), REPLY_DONE);
		reply_summary(&r, &b);
		CHECK(b.len <= 310);
		CHECK(b.len > 250);
		CHECK(strcmp(b.data + b.len - 3, "...") == 0);
	}
	/* Appends. */
	buf_reset(&b);
	buf_addstr(&b, "x: ");
	CHECK_INT(feed1(&r, "421 bye", 7), REPLY_DONE);
	reply_summary(&r, &b);
	CHECK_STR(buf_str(&b), "x: 421 bye");
	buf_release(&b);
	reply_release(&r);
}

static void
test_ecode(void)
{
	struct reply	 r;

	reply_init(&r);
	CHECK_INT(feed1(&r, "550 5.1.1 <x@y>: no", 19), REPLY_DONE);
	CHECK_STR(r.ecode, "5.1.1");
	CHECK_STR(buf_str(&r.text), "5.1.1 <x@y>: no");
	CHECK_INT(feed1(&r, "250 2.0.0", 9), REPLY_DONE);
	CHECK_STR(r.ecode, "2.0.0");
	CHECK_INT(feed1(&r, "451 4.123.999 later", 19), REPLY_DONE);
	CHECK_STR(r.ecode, "4.123.999");
	/* Class must match the reply's. */
	CHECK_INT(feed1(&r, "550 4.1.1 no", 12), REPLY_DONE);
	CHECK_STR(r.ecode, "");
	/* Bounded parts, digits only, separated by a space. */
	CHECK_INT(feed1(&r, "550 5.1234.1 no", 15), REPLY_DONE);
	CHECK_STR(r.ecode, "");
	CHECK_INT(feed1(&r, "550 5.1.1234 no", 15), REPLY_DONE);
	CHECK_STR(r.ecode, "");
	CHECK_INT(feed1(&r, "550 5.a.1 no", 12), REPLY_DONE);
	CHECK_STR(r.ecode, "");
	CHECK_INT(feed1(&r, "550 5.1.1x no", 13), REPLY_DONE);
	CHECK_STR(r.ecode, "");
	CHECK_INT(feed1(&r, "550 5..1 no", 11), REPLY_DONE);
	CHECK_STR(r.ecode, "");
	CHECK_INT(feed1(&r, "550 5.1", 7), REPLY_DONE);
	CHECK_STR(r.ecode, "");
	/* Only from the first line. */
	reply_reset(&r);
	{
		const char	*why;

		CHECK_INT(reply_feed(&r, "250-hello", 9, &why), REPLY_MORE);
		CHECK_INT(reply_feed(&r, "250 2.0.0 x", 11, &why),
		    REPLY_DONE);
		CHECK_STR(r.ecode, "");
	}
	reply_release(&r);
}

static void
test_bad(void)
{
	struct reply	 r;
	const char	*why;
	const char *const mismatch[] = { "250-a", "251 b", NULL };
	char		 line[REPLY_MAX_LINE + 2];
	size_t		 i;

	reply_init(&r);
	CHECK_INT(feed(&r, mismatch, &why), REPLY_BAD);
	CHECK(why != NULL && strstr(why, "changed") != NULL);

	CHECK_INT(feed1(&r, "250x ok", 7), REPLY_BAD);	/* separator */
	CHECK_INT(feed1(&r, "250\tok", 6), REPLY_BAD);
	CHECK_INT(feed1(&r, "2500 ok", 7), REPLY_BAD);
	CHECK_INT(feed1(&r, "25a ok", 6), REPLY_BAD);	/* digits */
	CHECK_INT(feed1(&r, "x50 ok", 6), REPLY_BAD);
	CHECK_INT(feed1(&r, " 250 ok", 7), REPLY_BAD);
	CHECK_INT(feed1(&r, "150 ok", 6), REPLY_BAD);	/* range */
	CHECK_INT(feed1(&r, "650 ok", 6), REPLY_BAD);
	CHECK_INT(feed1(&r, "050 ok", 6), REPLY_BAD);
	CHECK_INT(feed1(&r, "", 0), REPLY_BAD);		/* empty */
	CHECK_INT(feed1(&r, "25", 2), REPLY_BAD);
	CHECK_INT(feed1(&r, "250 a\0b", 7), REPLY_BAD);	/* NUL */
	CHECK_INT(feed1(&r, "250 a\rb", 7), REPLY_BAD);	/* CR */
	CHECK_INT(feed1(&r, "250 a\r", 6), REPLY_BAD);
	CHECK_INT(feed1(&r, "250 a\nb", 7), REPLY_BAD);
	CHECK_INT(feed1(&r, "250 a\x1b[m", 8), REPLY_BAD);
	CHECK_INT(feed1(&r, "250 a\x7f", 6), REPLY_BAD);
	CHECK_INT(feed1(&r, "250\0ok", 6), REPLY_BAD);

	/* Too long: REPLY_MAX_LINE is fine, one more is not. */
	memcpy(line, "250 ", 4);
	memset(line + 4, 'a', sizeof(line) - 4);
	CHECK_INT(feed1(&r, line, REPLY_MAX_LINE), REPLY_DONE);
	CHECK_INT(feed1(&r, line, REPLY_MAX_LINE + 1), REPLY_BAD);

	/* Too many lines. */
	reply_reset(&r);
	for (i = 0; i < REPLY_MAX_LINES; i++)
		if (reply_feed(&r, "250-x", 5, &why) != REPLY_MORE)
			break;
	CHECK_INT(i, REPLY_MAX_LINES);
	CHECK_INT(reply_feed(&r, "250 x", 5, &why), REPLY_BAD);
	reply_release(&r);
}

static void
caps_of(struct caps *c, const char *const *lines)
{
	struct reply	 r;
	const char	*why;

	reply_init(&r);
	CHECK_INT(feed(&r, lines, &why), REPLY_DONE);
	caps_parse(c, &r);
	reply_release(&r);
}

static void
test_caps(void)
{
	struct caps	 c;
	const char *const all[] = { "250-mx.example.org PIPELINING",
	    "250-pipelining", "250-Size 10240000", "250-8bitmime",
	    "250-SMTPUTF8", "250-STARTTLS", "250-AUTH PLAIN login",
	    "250-AUTH=CRAM-MD5 PLAIN", "250-DSN", "250-CHUNKING",
	    "250-ENHANCEDSTATUSCODES", "250-BINARYMIME", "250-X-UNKNOWN foo",
	    "250 VRFY", NULL };
	const char *const none[] = { "250 mx.example.org SIZE PIPELINING",
	    NULL };
	const char *const size0[] = { "250-mx", "250 SIZE", NULL };
	const char *const sizeovf[] = { "250-mx",
	    "250 SIZE 99999999999999999999999", NULL };
	const char *const sizebad[] = { "250-mx", "250 SIZE 12x", NULL };
	const char *const sizemax[] = { "250-mx",
	    "250 SIZE 18446744073709551615", NULL };
	const char *const sizeneg[] = { "250-mx", "250 SIZE -1", NULL };
	const char *const notsize[] = { "250-mx", "250 SIZEX 10", NULL };
	const char *const authbad[] = { "250-mx", "250 AUTH PL@IN  XOAUTH2 ",
	    NULL };

	caps_of(&c, all);
	CHECK_INT(c.flags, CAP_PIPELINING | CAP_SIZE | CAP_8BITMIME |
	    CAP_SMTPUTF8 | CAP_STARTTLS | CAP_AUTH | CAP_DSN | CAP_CHUNKING |
	    CAP_ENHANCED | CAP_BINARYMIME);
	CHECK_INT(c.size, 10240000);
	CHECK_STR(c.auth, "PLAIN LOGIN CRAM-MD5");

	/* The first line is the greeting, not keywords. */
	caps_of(&c, none);
	CHECK_INT(c.flags, 0);

	caps_of(&c, size0);
	CHECK_INT(c.flags, CAP_SIZE);
	CHECK_INT(c.size, 0);
	caps_of(&c, sizeovf);
	CHECK_INT(c.flags, CAP_SIZE);
	CHECK_INT(c.size, 0);
	caps_of(&c, sizebad);
	CHECK_INT(c.size, 0);
	caps_of(&c, sizeneg);
	CHECK_INT(c.size, 0);
	caps_of(&c, sizemax);
	CHECK(c.size == 18446744073709551615ULL);
	caps_of(&c, notsize);
	CHECK_INT(c.flags, 0);

	caps_of(&c, authbad);
	CHECK_INT(c.flags, CAP_AUTH);
	CHECK_STR(c.auth, "XOAUTH2");
}

int
main(void)
{
	test_valid();
	test_ecode();
	test_bad();
	test_caps();
	return t_done();
}
