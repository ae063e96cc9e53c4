#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "bs.h"
#include "buf.h"
#include "strlist.h"
#include "t.h"

/*
 * bs_session() with a stub delivery: the client's bytes come from an
 * unlinked temporary file, the replies go to another, and the stub says
 * what the delivery's outcome was.  What is checked is the reply to the
 * final dot for each outcome.
 */

struct stub {
	int		 status;
	int		 rcpt;
	const char	*reason;	/* NULL: "the reason\r\nsecond line" */
	unsigned	 calls;
	struct buf	 content;	/* what the stub read from the fd */
};

static const char session[] =
    "EHLO client.example\r\n"
    "MAIL FROM:<a@example.org>\r\n"
    "RCPT TO:<b@example.net>\r\n"
    "DATA\r\n"
    "Subject: t\r\n"
    "\r\n"
    "..x\r\n"
    ".\r\n"
    "QUIT\r\n";

static int
stub_send(void *arg, const char *from, const struct strlist *rcpts, int fd,
    struct bs_result *res)
{
	struct stub	*s = arg;
	char		 b[512];
	ssize_t		 n;

	s->calls++;
	CHECK_STR(from, "a@example.org");
	CHECK_INT(rcpts->n, 1);
	while ((n = read(fd, b, sizeof(b))) > 0)
		buf_add(&s->content, b, (size_t)n);
	res->status = s->status;
	res->rcpt = s->rcpt;
	buf_addstr(&res->reason, s->reason != NULL ? s->reason :
	    "the reason\r\nsecond line");
	return res->status;
}

static int
tmpfd(void)
{
	char	 path[] = "/tmp/postie-test-bs.XXXXXX";
	int	 fd;

	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		exit(1);
	}
	unlink(path);
	return fd;
}

/* Run the session against a stub that answers `status`; the replies are
 * left in `out`.  Returns bs_session()'s status. */
static int
run(struct stub *st, struct buf *out)
{
	char		 b[4096];
	ssize_t		 n;
	int		 in = tmpfd(), o = tmpfd(), rc;

	if (write(in, session, sizeof(session) - 1) !=
	    (ssize_t)(sizeof(session) - 1) || lseek(in, 0, SEEK_SET) != 0)
		exit(1);
	rc = bs_session(in, o, "mx.example", stub_send, st);
	buf_reset(out);
	if (lseek(o, 0, SEEK_SET) != 0)
		exit(1);
	while ((n = read(o, b, sizeof(b))) > 0)
		buf_add(out, b, (size_t)n);
	close(in);
	close(o);
	return rc;
}

/* The one reply between the 354 and QUIT's 221, without its CRLF. */
static char *
final_dot_reply(const struct buf *out)
{
	const char	*s = buf_str(out), *p, *e;
	static const char go[] = "354 End data with <CR><LF>.<CR><LF>\r\n";

	if ((p = strstr(s, go)) == NULL)
		return NULL;
	p += sizeof(go) - 1;
	if ((e = strstr(p, "\r\n")) == NULL ||
	    strcmp(e, "\r\n221 2.0.0 Bye\r\n") != 0)
		return NULL;
	return strndup(p, (size_t)(e - p));
}

static void
test_final_dot_reply(void)
{
	static const struct {
		int		 status;
		int		 rcpt;
		const char	*reply;
	} cases[] = {
		{ 0,		 0, "250 2.0.0 Ok: delivered" },
		/* Temporary: the client keeps the message. */
		{ EX_TEMPFAIL,	 0, "451 4.3.0 the reason  second line" },
		{ EX_TEMPFAIL,	 1, "450 4.1.0 the reason  second line" },
		/* Local trouble that may pass is temporary too, as in
		 * sendmail: no memory or process, a spool that could not
		 * be written. */
		{ EX_OSERR,	 0, "451 4.3.0 the reason  second line" },
		{ EX_OSERR,	 1, "451 4.3.0 the reason  second line" },
		{ EX_IOERR,	 0, "451 4.3.0 the reason  second line" },
		{ EX_IOERR,	 1, "451 4.3.0 the reason  second line" },
		/* Verdicts on the message or its recipients. */
		{ EX_UNAVAILABLE, 0, "554 5.3.0 the reason  second line" },
		{ EX_NOUSER,	 1, "550 5.1.0 the reason  second line" },
		{ EX_DATAERR,	 0, "554 5.3.0 the reason  second line" },
		{ EX_PROTOCOL,	 0, "554 5.3.0 the reason  second line" },
	};
	struct stub	 st;
	struct buf	 out = BUF_INIT;
	char		*r;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&st, 0, sizeof(st));
		buf_init(&st.content);
		st.status = cases[i].status;
		st.rcpt = cases[i].rcpt;
		CHECK_INT(run(&st, &out), 0);
		CHECK_INT(st.calls, 1);
		/* Dot-unstuffed, byte for byte. */
		CHECK_STR(buf_str(&st.content), "Subject: t\r\n\r\n.x\r\n");
		r = final_dot_reply(&out);
		if (r == NULL)
			fprintf(stderr, "status %d: replies: %s\n",
			    cases[i].status, buf_str(&out));
		CHECK_STR(r, cases[i].reply);
		free(r);
		buf_release(&st.content);
	}
	buf_release(&out);
}

/* A reason becomes one line of RFC 5321 text: no control character but
 * TAB, at most 400 bytes of it. */
static void
test_reason_text(void)
{
	struct stub	 st;
	struct buf	 out = BUF_INIT;
	char		 big[1000];
	char		*r;

	memset(&st, 0, sizeof(st));
	buf_init(&st.content);
	st.status = EX_UNAVAILABLE;
	st.reason = "a\x01" "b\tc\x7f\x1b[2Jd\re\nf\xc3\xa9";
	CHECK_INT(run(&st, &out), 0);
	r = final_dot_reply(&out);
	CHECK_STR(r, "554 5.3.0 a b\tc  [2Jd e f\xc3\xa9");
	free(r);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	st.reason = big;
	CHECK_INT(run(&st, &out), 0);
	r = final_dot_reply(&out);
	CHECK(r != NULL && strlen(r) == 10 + 400);
	free(r);
	buf_release(&st.content);
	buf_release(&out);
}

int
main(void)
{
	test_final_dot_reply();
	test_reason_text();
	return t_done();
}
