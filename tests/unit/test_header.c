#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "envelope.h"
#include "exitcode.h"
#include "header.h"
#include "message.h"
#include "strlist.h"
#include "t.h"
#include "util.h"

/*
 * The header parser, then message_spool() and message_envelope() driven
 * with messages given through a pipe or a regular file, reading the spool
 * back to check every byte that would be sent.
 */

struct spooled {
	int		 rc;
	int		 le;
	struct message	 m;
	struct buf	 out;		/* the spool's bytes */
	struct buf	 err;
};

static void	 test_parse(void);
static void	 test_obsolete_and_ends(void);
static void	 test_edit(void);
static void	 test_value_map(void);
static void	 default_opts(struct msg_opts *);
static pid_t	 writer(int, int, const char *, size_t, size_t);
static void	 spool_str(struct spooled *, const char *, size_t,
		    const struct msg_opts *, int);
static void	 spooled_release(struct spooled *);
static size_t	 count_str(const char *, const char *);
static void	 check_spool(const char *, size_t, const struct msg_opts *,
		    const char *, int);
static void	 test_plain(void);
static void	 test_bcc(void);
static void	 test_extract(void);
static void	 test_resent(void);
static void	 test_added(void);
static void	 test_from(void);
static void	 test_qualify(void);
static void	 test_sections(void);
static void	 test_line_endings(void);
static void	 test_cr_extract(void);
static void	 cr_boundary(struct buf *, struct buf *, size_t, int);
static void	 test_cr_only_bound(void);
static void	 test_flags(void);
static void	 test_spool_file(void);
static void	 test_errors(void);
static void	 test_split_reads(void);
static void	 test_big_header(void);
static void	 test_big_body(void);
static void	 test_envelope(void);
static void	 test_aliases(void);

static void
test_parse(void)
{
	struct hdrlist	 h;
	struct buf	 v = BUF_INIT;
	const char	*in = "Subject: hi\nTo: a@b,\n c@d\n\nbody\n";
	size_t		 used;

	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 2);
	CHECK_INT(used, strlen("Subject: hi\nTo: a@b,\n c@d\n"));
	CHECK_STR(h.f[0].name, "Subject");
	CHECK_STR(h.f[0].raw, "Subject: hi\r\n");
	CHECK_STR(h.f[1].name, "To");
	CHECK_STR(h.f[1].raw, "To: a@b,\r\n c@d\r\n");
	hdr_value(&h.f[1], &v);
	CHECK_STR(buf_str(&v), "a@b, c@d");
	hdr_value(hdr_get(&h, "subject", 0), &v);
	CHECK_STR(buf_str(&v), "hi");
	CHECK(hdr_get(&h, "Subject", 1) == NULL);
	CHECK_INT(hdr_count(&h, "TO"), 1);
	hdr_release(&h);

	/* A line that is not a field ends the section. */
	in = "To: a@b\nthis is body text\nX: y\n";
	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 1);
	CHECK_INT(used, 8);
	hdr_release(&h);

	/* A continuation before any field: no header at all. */
	in = " folded\nTo: a@b\n";
	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 0);
	CHECK_INT(used, 0);
	hdr_release(&h);

	/* An empty value, a value of white space, a leading fold. */
	in = "X-Empty:\nX-Blank:   \t\nTo:\n  a@b  \n";
	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 3);
	CHECK_INT(used, strlen(in));
	hdr_value(&h.f[0], &v);
	CHECK_STR(buf_str(&v), "");
	hdr_value(&h.f[1], &v);
	CHECK_STR(buf_str(&v), "");
	hdr_value(&h.f[2], &v);
	CHECK_STR(buf_str(&v), "a@b");
	hdr_release(&h);
	buf_release(&v);
}

static void
test_obsolete_and_ends(void)
{
	struct hdrlist	 h;
	struct buf	 v = BUF_INIT, w = BUF_INIT;
	const char	*in;
	size_t		 used;

	in = "Subject : obs\r\nX-A:1\nX-B: 2\r\n\t3\r\n\r\nbody";
	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 3);
	CHECK_STR(h.f[0].name, "Subject");
	hdr_value(&h.f[0], &v);
	CHECK_STR(buf_str(&v), "obs");
	CHECK_STR(h.f[1].raw, "X-A:1\r\n");
	CHECK_STR(h.f[2].raw, "X-B: 2\r\n\t3\r\n");
	hdr_value(&h.f[2], &v);
	CHECK_STR(buf_str(&v), "2\t3");
	CHECK_INT(used, strlen(in) - strlen("\r\nbody"));
	hdr_write(&h, &w);
	CHECK_STR(buf_str(&w), "Subject : obs\r\nX-A:1\r\nX-B: 2\r\n\t3\r\n");
	hdr_release(&h);

	/* A lone CR is no line end but a space, so it cannot start a field
	 * (a Bcc smuggled into a Subject stays in the Subject). */
	in = "Subject: hi\rBcc: victim@x\nTo: a\r\n\r\nbody";
	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 2);
	CHECK_INT(hdr_count(&h, "Bcc"), 0);
	if (h.n == 2) {
		CHECK_STR(h.f[0].raw, "Subject: hi Bcc: victim@x\r\n");
		hdr_value(&h.f[0], &v);
		CHECK_STR(buf_str(&v), "hi Bcc: victim@x");
		CHECK_STR(h.f[1].raw, "To: a\r\n");
	}
	CHECK_INT(used, strlen(in) - strlen("\r\nbody"));
	hdr_release(&h);

	/* CRs right before an LF are one line end: the header goes on, and
	 * "\r\r\n" alone is the empty line. */
	in = "To: a\r\r\nBcc: s\r\r\r\n\tt\r\r\n\r\r\nbody\r\r\n";
	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 2);
	if (h.n == 2) {
		CHECK_STR(h.f[0].raw, "To: a\r\n");
		CHECK_STR(h.f[1].raw, "Bcc: s\r\n\tt\r\n");
	}
	CHECK_INT(used, strlen("To: a\r\r\nBcc: s\r\r\r\n\tt\r\r\n"));
	hdr_release(&h);

	/* Stray CRs before the colon, at a line start, at the very end. */
	in = "Subject\r: s\nX: 1\n\r2\nY: 3\r";
	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 3);
	if (h.n == 3) {
		CHECK_STR(h.f[0].name, "Subject");
		CHECK_STR(h.f[0].raw, "Subject : s\r\n");
		CHECK_STR(h.f[1].raw, "X: 1\r\n 2\r\n");
		CHECK_STR(h.f[2].raw, "Y: 3 \r\n");
	}
	CHECK_INT(used, strlen(in));
	hdr_release(&h);
	in = "\rTo: a\n";
	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 0);
	CHECK_INT(used, 0);
	hdr_release(&h);
	in = "Sub\rject: s\n";
	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 0);
	hdr_release(&h);

	/* The last line may lack its line ending. */
	in = "A: 1\nB: 2";
	hdr_init(&h);
	CHECK_INT(hdr_parse(&h, in, strlen(in), &used), 2);
	CHECK_INT(used, strlen(in));
	CHECK_STR(h.f[1].raw, "B: 2\r\n");
	hdr_release(&h);

	CHECK(hdr_is_field_start("To:", 3));
	CHECK(hdr_is_field_start("X-Foo \t: v", 10));
	CHECK(!hdr_is_field_start(":v", 2));
	CHECK(!hdr_is_field_start("To", 2));
	CHECK(!hdr_is_field_start("From foo@bar Sun Nov 22", 23));
	CHECK(!hdr_is_field_start("a b: c", 6));
	CHECK(!hdr_is_field_start("T\x80o: x", 6));
	CHECK(!hdr_is_field_start(" To: x", 6));
	CHECK_INT(hdr_field_prefix("Subj", 4), -1);
	CHECK_INT(hdr_field_prefix("Subj  ", 6), -1);
	CHECK_INT(hdr_field_prefix("Subj  x", 7), 0);
	CHECK_INT(hdr_field_prefix("Subj:", 5), 1);
	CHECK_INT(hdr_field_prefix("hello world", 11), 0);
	buf_release(&v);
	buf_release(&w);
}

static void
test_edit(void)
{
	struct hdrlist	 h;
	struct buf	 w = BUF_INIT;
	const char	*in = "To: a\nBcc: b\nCc: c\nbcc: d,\n e\nX: y\n";

	hdr_init(&h);
	hdr_parse(&h, in, strlen(in), NULL);
	CHECK_INT(hdr_count(&h, "BCC"), 2);
	CHECK_INT(hdr_remove(&h, "Bcc"), 2);
	CHECK_INT(hdr_remove(&h, "Bcc"), 0);
	hdr_append(&h, "Date", "now");
	hdr_delete(&h, 1);		/* Cc */
	hdr_set(&h, 0, "z@example.org");
	hdr_write(&h, &w);
	CHECK_STR(buf_str(&w), "To: z@example.org\r\nX: y\r\nDate: now\r\n");
	hdr_release(&h);
	CHECK_INT(h.n, 0);
	buf_release(&w);
}

static void
test_value_map(void)
{
	struct hdrlist	 h;
	struct buf	 v = BUF_INIT;
	const char	*in = "To:  a,\r\n\tb \r\n";
	size_t		*map = NULL;

	hdr_init(&h);
	hdr_parse(&h, in, strlen(in), NULL);
	hdr_value_map(&h.f[0], &v, &map);
	CHECK_STR(buf_str(&v), "a,\tb");
	CHECK_INT(map[0], 5);		/* a */
	CHECK_INT(map[1], 6);		/* , */
	CHECK_INT(map[2], 9);		/* tab */
	CHECK_INT(map[3], 10);		/* b */
	free(map);
	hdr_release(&h);
	buf_release(&v);
}

static void
default_opts(struct msg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->env_from = "sender@example.org";
	o->qualify_domain = "example.org";
	o->msgid_domain = "example.org";
	o->set_from = HDR_AUTO;
	o->set_date = HDR_OFF;
	o->set_msgid = HDR_OFF;
	o->set_to = HDR_OFF;
}

/*
 * A child that writes `len` bytes of `s` to `fd`, then `extra` bytes of
 * body lines, and exits: the parent reads at the same time, as postie
 * reads a pipe from its caller.
 */
static pid_t
writer(int fd, int rfd, const char *s, size_t len, size_t extra)
{
	static char	 block[65536];
	size_t		 i, n;
	ssize_t		 w;
	pid_t		 pid;

	if ((pid = fork()) != 0)
		return pid;
	close(rfd);		/* so that the reader going away is seen */
	signal(SIGPIPE, SIG_DFL);
	while (len > 0) {
		if ((w = write(fd, s, len)) <= 0)
			_exit(1);
		s += w;
		len -= (size_t)w;
	}
	for (i = 0; i < sizeof(block); i++)
		block[i] = i % 64 == 63 ? '\n' : 'a' + (char)(i % 26);
	while (extra > 0) {
		n = extra < sizeof(block) ? extra : sizeof(block);
		if (write(fd, block, n) != (ssize_t)n)
			_exit(1);
		extra -= n;
	}
	_exit(0);
}

/* Spool `len` bytes of `in` given through a pipe (via_pipe) or a regular
 * file, and read the spool back. */
static void
spool_str(struct spooled *s, const char *in, size_t len,
    const struct msg_opts *o, int via_pipe)
{
	char		 tmpl[] = "/tmp/test_header.XXXXXX";
	char		 chunk[8192];
	int		 p[2], fd;
	pid_t		 pid = -1;
	ssize_t		 n;

	memset(s, 0, sizeof(*s));
	message_init(&s->m);
	buf_init(&s->out);
	buf_init(&s->err);
	if (via_pipe) {
		if (pipe(p) == -1)
			abort();
		pid = writer(p[1], p[0], in, len, 0);
		close(p[1]);
		fd = p[0];
	} else {
		if ((fd = mkstemp(tmpl)) == -1)
			abort();
		unlink(tmpl);
		if (write(fd, in, len) != (ssize_t)len ||
		    lseek(fd, 0, SEEK_SET) != 0)
			abort();
	}
	s->le = LE_NONE;
	s->rc = message_spool(&s->m, fd, o, NULL, &s->le, &s->err);
	close(fd);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (s->rc == 0) {
		if (lseek(s->m.spool.fd, 0, SEEK_SET) != 0)
			abort();
		while ((n = read(s->m.spool.fd, chunk, sizeof(chunk))) > 0)
			buf_add(&s->out, chunk, (size_t)n);
	}
}

static void
spooled_release(struct spooled *s)
{
	message_release(&s->m);
	buf_release(&s->out);
	buf_release(&s->err);
}

static size_t
count_str(const char *hay, const char *needle)
{
	size_t	 n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

/* Spool `len` bytes of `in` both ways and compare the spool with `want`. */
static void
check_spool(const char *in, size_t len, const struct msg_opts *o,
    const char *want, int line)
{
	struct spooled	 s;
	int		 via;

	for (via = 0; via < 2; via++) {
		spool_str(&s, in, len, o, via);
		if (s.rc != 0 || strcmp(buf_str(&s.out), want) != 0)
			fprintf(stderr, "line %d (%s): rc %d err '%s'\n", line,
			    via ? "pipe" : "file", s.rc, buf_str(&s.err));
		CHECK_INT(s.rc, 0);
		CHECK_STR(buf_str(&s.out), want);
		CHECK_INT(s.m.size, s.out.len);
		spooled_release(&s);
	}
}

#define SPOOL_IS(in, o, want)	\
	check_spool((in), strlen(in), (o), (want), __LINE__)
/* The same for a string literal that holds NUL bytes. */
#define SPOOL_LIT(in, o, want)	\
	check_spool((in), sizeof(in) - 1, (o), (want), __LINE__)

static void
test_plain(void)
{
	struct msg_opts	 o;
	struct spooled	 s;

	default_opts(&o);
	SPOOL_IS("From: a@example.net\nTo: b@example.net\nSubject: s\n\n"
	    "body\n", &o,
	    "From: a@example.net\r\nTo: b@example.net\r\nSubject: s\r\n\r\n"
	    "body\r\n");

	spool_str(&s, "From: a@x.org\nSubject: s\n\nbody\n", 31, &o, 1);
	CHECK_INT(s.rc, 0);
	CHECK_STR(s.out.data, "From: a@x.org\r\nSubject: s\r\n\r\nbody\r\n");
	CHECK_STR(s.m.hdr_from, "a@x.org");
	CHECK_INT(s.m.nuls, 0);
	CHECK_INT(s.m.body_8bit, 0);
	spooled_release(&s);
}

static void
test_bcc(void)
{
	struct msg_opts	 o;

	default_opts(&o);
	SPOOL_IS("From: a@x.org\nTo: b@x.org\nBcc: c@x.org\nSubject: s\n\n"
	    "Bcc: body text stays\n", &o,
	    "From: a@x.org\r\nTo: b@x.org\r\nSubject: s\r\n\r\n"
	    "Bcc: body text stays\r\n");
	/* Folded, odd case, several, Resent-Bcc too. */
	SPOOL_IS("From: a@x.org\nBCC: c@x.org,\n d@x.org,\n\te@x.org\n"
	    "Subject: s\nbcc:\nResent-Bcc: r@x.org\n\nb\n", &o,
	    "From: a@x.org\r\nSubject: s\r\n\r\nb\r\n");
}

static void
test_extract(void)
{
	struct msg_opts	 o;
	struct spooled	 s;
	const char	*in =
	    "From: a@x.org\n"
	    "To: one@x.org, Two Person <two@x.org>\n"
	    "Cc: three@x.org (a comment), \"quoted local\"@x.org\n"
	    "To: \"Smith, J.\" <four@x.org>,\n"
	    "  five@x.org\n"
	    "Bcc: six@x.org, one@x.org\n"
	    "Cc: team: seven@x.org, eight@x.org;, undisclosed-recipients:;\n"
	    "Subject: s\n"
	    "\n"
	    "To: body@x.org\n";

	default_opts(&o);
	o.extract = 1;
	spool_str(&s, in, strlen(in), &o, 1);
	CHECK_INT(s.rc, 0);
	CHECK_INT(s.m.hdr_rcpts.n, 9);
	if (s.m.hdr_rcpts.n == 9) {
		CHECK_STR(s.m.hdr_rcpts.v[0], "one@x.org");
		CHECK_STR(s.m.hdr_rcpts.v[1], "two@x.org");
		CHECK_STR(s.m.hdr_rcpts.v[2], "three@x.org");
		CHECK_STR(s.m.hdr_rcpts.v[3], "\"quoted local\"@x.org");
		CHECK_STR(s.m.hdr_rcpts.v[4], "four@x.org");
		CHECK_STR(s.m.hdr_rcpts.v[5], "five@x.org");
		CHECK_STR(s.m.hdr_rcpts.v[6], "six@x.org");
		CHECK_STR(s.m.hdr_rcpts.v[7], "seven@x.org");
		CHECK_STR(s.m.hdr_rcpts.v[8], "eight@x.org");
	}
	CHECK(strstr(buf_str(&s.out), "six@x.org") == NULL);
	CHECK(strstr(buf_str(&s.out), "To: \"Smith, J.\" <four@x.org>,\r\n"
	    "  five@x.org\r\n") != NULL);
	spooled_release(&s);

	/* Bare names among them are qualified. */
	in = "To: root, Admin <admin>\n\nb\n";
	spool_str(&s, in, strlen(in), &o, 0);
	CHECK_INT(s.rc, 0);
	CHECK_INT(s.m.hdr_rcpts.n, 2);
	if (s.m.hdr_rcpts.n == 2) {
		CHECK_STR(s.m.hdr_rcpts.v[0], "root@example.org");
		CHECK_STR(s.m.hdr_rcpts.v[1], "admin@example.org");
	}
	spooled_release(&s);

	/* Without -t, nothing is collected. */
	o.extract = 0;
	in = "To: one@x.org\n\nb\n";
	spool_str(&s, in, strlen(in), &o, 0);
	CHECK_INT(s.m.hdr_rcpts.n, 0);
	spooled_release(&s);

	/* A malformed list under -t is bad input, naming the field. */
	o.extract = 1;
	in = "To: one@x.org\nCc: <broken@x.org\n\nb\n";
	spool_str(&s, in, strlen(in), &o, 0);
	CHECK_INT(s.rc, -1);
	CHECK_INT(s.le, LE_DATAERR);
	CHECK(strstr(buf_str(&s.err), "Cc") != NULL);
	spooled_release(&s);
}

static void
test_resent(void)
{
	struct msg_opts	 o;
	struct spooled	 s;
	const char	*in =
	    "Resent-From: fwd@x.org\n"
	    "Resent-To: r1@x.org\n"
	    "Resent-Cc: r2@x.org\n"
	    "Resent-Bcc: r3@x.org\n"
	    "From: a@x.org\n"
	    "To: orig@x.org\n"
	    "Cc: orig2@x.org\n"
	    "Bcc: orig3@x.org\n"
	    "\n"
	    "b\n";

	default_opts(&o);
	o.extract = 1;
	spool_str(&s, in, strlen(in), &o, 1);
	CHECK_INT(s.rc, 0);
	CHECK_INT(s.m.hdr_rcpts.n, 3);
	if (s.m.hdr_rcpts.n == 3) {
		CHECK_STR(s.m.hdr_rcpts.v[0], "r1@x.org");
		CHECK_STR(s.m.hdr_rcpts.v[1], "r2@x.org");
		CHECK_STR(s.m.hdr_rcpts.v[2], "r3@x.org");
	}
	CHECK_STR(buf_str(&s.out), "Resent-From: fwd@x.org\r\n"
	    "Resent-To: r1@x.org\r\nResent-Cc: r2@x.org\r\n"
	    "From: a@x.org\r\nTo: orig@x.org\r\nCc: orig2@x.org\r\n\r\nb\r\n");
	spooled_release(&s);

	/* Any Resent- field selects the set, even one without addresses. */
	in = "Resent-Date: Sun, 22 Nov 2026 10:00:00 +0000\n"
	    "To: orig@x.org\n\nb\n";
	spool_str(&s, in, strlen(in), &o, 0);
	CHECK_INT(s.rc, 0);
	CHECK_INT(s.m.hdr_rcpts.n, 0);
	spooled_release(&s);
}

static int
is_digits(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static void
test_added(void)
{
	struct msg_opts	 o;
	struct spooled	 s;
	const char	*p, *in = "Subject: s\n\nb\n";
	size_t		 i;

	default_opts(&o);
	o.set_date = HDR_AUTO;
	o.set_msgid = HDR_AUTO;
	spool_str(&s, in, strlen(in), &o, 1);
	CHECK_INT(s.rc, 0);
	CHECK_INT(count_str(buf_str(&s.out), "\r\nFrom: "), 1);
	CHECK_INT(count_str(buf_str(&s.out), "\r\nDate: "), 1);
	CHECK_INT(count_str(buf_str(&s.out), "\r\nMessage-ID: "), 1);
	p = "Subject: s\r\nFrom: sender@example.org\r\nDate: ";
	CHECK(strncmp(buf_str(&s.out), p, strlen(p)) == 0);
	/* Date: "Sun, 22 Nov 2026 17:30:00 +0000" */
	if ((p = strstr(buf_str(&s.out), "\r\nDate: ")) != NULL) {
		p += 8;
		CHECK(strchr(p, '\r') - p == 31);
		CHECK(p[3] == ',' && p[4] == ' ' && is_digits(p + 5, 2));
		CHECK(p[7] == ' ' && p[11] == ' ' && is_digits(p + 12, 4));
		CHECK(p[16] == ' ' && is_digits(p + 17, 2) && p[19] == ':');
		CHECK(is_digits(p + 20, 2) && p[22] == ':');
		CHECK(is_digits(p + 23, 2) && p[25] == ' ');
		CHECK((p[26] == '+' || p[26] == '-') && is_digits(p + 27, 4));
	}
	/* Message-ID: "<YYYYMMDDhhmmss.hex@example.org>" */
	if ((p = strstr(buf_str(&s.out), "\r\nMessage-ID: <")) != NULL) {
		p += 15;
		CHECK(is_digits(p, 14) && p[14] == '.');
		for (i = 15; p[i] != '@' && p[i] != '\0'; i++)
			CHECK(strchr("0123456789abcdef", p[i]) != NULL);
		CHECK(i >= 15 + 16);
		CHECK(strncmp(p + i, "@example.org>\r\n", 15) == 0);
	}
	CHECK(strstr(buf_str(&s.out), "\r\n\r\nb\r\n") != NULL);
	spooled_release(&s);

	/* Not when present, whatever their case. */
	in = "date: Sat, 21 Nov 2026 10:00:00 +0100\nMESSAGE-ID: <x@y>\n"
	    "from: a@x.org\n\nb\n";
	SPOOL_IS(in, &o, "date: Sat, 21 Nov 2026 10:00:00 +0100\r\n"
	    "MESSAGE-ID: <x@y>\r\nfrom: a@x.org\r\n\r\nb\r\n");

	/* Off means off. */
	o.set_from = HDR_OFF;
	o.set_date = HDR_OFF;
	o.set_msgid = HDR_OFF;
	SPOOL_IS("Subject: s\n\nb\n", &o, "Subject: s\r\n\r\nb\r\n");

	/* Two Message-IDs differ. */
	o.set_msgid = HDR_AUTO;
	{
		struct spooled	 t;

		spool_str(&s, "\n", 1, &o, 0);
		spool_str(&t, "\n", 1, &o, 0);
		CHECK(s.rc == 0 && t.rc == 0 &&
		    strcmp(buf_str(&s.out), buf_str(&t.out)) != 0);
		spooled_release(&t);
		spooled_release(&s);
	}

	/* set_to_header on: only when there is neither To nor Cc. */
	default_opts(&o);
	o.set_from = HDR_OFF;
	o.set_to = HDR_ON;
	SPOOL_IS("Subject: s\nBcc: x@x.org\n\nb\n", &o,
	    "Subject: s\r\nTo: undisclosed-recipients:;\r\n\r\nb\r\n");
	SPOOL_IS("Cc: c@x.org\n\nb\n", &o, "Cc: c@x.org\r\n\r\nb\r\n");

	/* undisclosed_recipients: To/Cc/Bcc give way to one To; -t still
	 * reads them. */
	default_opts(&o);
	o.set_from = HDR_OFF;
	o.undisclosed = 1;
	o.extract = 1;
	in = "To: a@x.org\nSubject: s\nCc: b@x.org\nBcc: c@x.org\n\nb\n";
	spool_str(&s, in, strlen(in), &o, 0);
	CHECK_STR(buf_str(&s.out),
	    "Subject: s\r\nTo: undisclosed-recipients:;\r\n\r\nb\r\n");
	CHECK_INT(s.m.hdr_rcpts.n, 3);
	spooled_release(&s);
}

static void
test_from(void)
{
	struct msg_opts	 o;
	struct buf	 want = BUF_INIT;

	default_opts(&o);
	o.full_name = "Cron Daemon";
	SPOOL_IS("Subject: s\n\nb\n", &o, "Subject: s\r\n"
	    "From: Cron Daemon <sender@example.org>\r\n\r\nb\r\n");
	o.full_name = "Smith, J. \"Jo\"";
	SPOOL_IS("Subject: s\n\nb\n", &o, "Subject: s\r\n"
	    "From: \"Smith, J. \\\"Jo\\\"\" <sender@example.org>\r\n\r\nb\r\n");
	o.full_name = "Evil\r\nBcc: x@y";
	SPOOL_IS("Subject: s\n\nb\n", &o, "Subject: s\r\n"
	    "From: \"Evil  Bcc: x@y\" <sender@example.org>\r\n\r\nb\r\n");

	/* on: replace every From with one, in the first one's place. */
	o.full_name = NULL;
	o.set_from = HDR_ON;
	SPOOL_IS("X: 1\nFrom: a@x.org\nY: 2\nFrom: b@x.org\n\nb\n", &o,
	    "X: 1\r\nFrom: sender@example.org\r\nY: 2\r\n\r\nb\r\n");
	/* auto leaves a present one alone. */
	o.set_from = HDR_AUTO;
	SPOOL_IS("From: Someone <a@x.org>\n\nb\n", &o,
	    "From: Someone <a@x.org>\r\n\r\nb\r\n");

	/* The null sender shows the user. */
	o.env_from = "";
	buf_addf(&want, "From: %s@example.org\r\n\r\nb\r\n", login_name());
	SPOOL_IS("\nb\n", &o, buf_str(&want));
	/* A bare sender is qualified. */
	o.env_from = "fail2ban";
	SPOOL_IS("\nb\n", &o, "From: fail2ban@example.org\r\n\r\nb\r\n");
	buf_release(&want);
}

static void
test_qualify(void)
{
	struct msg_opts	 o;
	struct spooled	 s;

	default_opts(&o);
	SPOOL_IS("From: root\nTo: Admin <admin>, x@y.org\n"
	    "Cc: root (the boss),\n\t\"odd name\"\nReply-To: a@b.org\n"
	    "Resent-To: ops\nX-Other: root\nSubject: root\n\nroot\n", &o,
	    "From: root@example.org\r\n"
	    "To: Admin <admin@example.org>, x@y.org\r\n"
	    "Cc: root@example.org (the boss),\r\n\t\"odd name\"@example.org\r\n"
	    "Reply-To: a@b.org\r\n"
	    "Resent-To: ops@example.org\r\n"
	    "X-Other: root\r\nSubject: root\r\n\r\nroot\r\n");
	/* A field that does not parse is left as it was. */
	SPOOL_IS("From: root\nTo: <broken\n\nb\n", &o,
	    "From: root@example.org\r\nTo: <broken\r\n\r\nb\r\n");

	spool_str(&s, "From: Root <root>\n\nb\n", 21, &o, 0);
	CHECK_STR(s.m.hdr_from, "root@example.org");
	spooled_release(&s);
}

static void
test_sections(void)
{
	struct msg_opts	 o;

	default_opts(&o);
	o.set_from = HDR_OFF;
	/* A leading mbox line goes; one later is body. */
	SPOOL_IS("From sender@x.org Sun Nov 22 10:00:00 2026\nSubject: s\n\n"
	    "From here on\n", &o, "Subject: s\r\n\r\nFrom here on\r\n");
	SPOOL_IS("Subject: s\nFrom x@y Sun Nov 22 10:00:00 2026\n", &o,
	    "Subject: s\r\n\r\nFrom x@y Sun Nov 22 10:00:00 2026\r\n");
	/* Header without body, with and without the final newline. */
	SPOOL_IS("Subject: s\n", &o, "Subject: s\r\n\r\n");
	SPOOL_IS("Subject: s", &o, "Subject: s\r\n\r\n");
	SPOOL_IS("Subject: s\n\n", &o, "Subject: s\r\n\r\n");
	/* Body without header: an empty line separates the added fields. */
	SPOOL_IS("hi\n", &o, "\r\nhi\r\n");
	SPOOL_IS("\nhi\n", &o, "\r\nhi\r\n");
	SPOOL_IS("", &o, "\r\n");
	SPOOL_IS(" indented first line\n", &o, "\r\n indented first line\r\n");
	o.set_from = HDR_AUTO;
	SPOOL_IS("hi\n", &o, "From: sender@example.org\r\n\r\nhi\r\n");
	SPOOL_IS("hi there: not a header\n", &o,
	    "From: sender@example.org\r\n\r\nhi there: not a header\r\n");
	/* The header ends at the first line that is not a field. */
	SPOOL_IS("Subject: s\nhello world\nX: y\n", &o,
	    "Subject: s\r\nFrom: sender@example.org\r\n\r\nhello world\r\n"
	    "X: y\r\n");
}

static void
test_line_endings(void)
{
	struct msg_opts	 o;

	default_opts(&o);
	o.set_from = HDR_OFF;
	/* An LF in the input: it and the CRs right before it end a line,
	 * any other CR is a space, in the header and in the body. */
	SPOOL_IS("Subject: a\r\nX: b\rY: c\n\r\nl1\rl2\nl3\r\nl4", &o,
	    "Subject: a\r\nX: b Y: c\r\n\r\nl1 l2\r\nl3\r\nl4\r\n");
	SPOOL_IS("S: x\n\r\n\n\r\r", &o, "S: x\r\n\r\n\r\n  \r\n");
	SPOOL_IS("S: x\r\r\nT: y\r\r\r\n\r\r\nb\r\r\n", &o,
	    "S: x\r\nT: y\r\n\r\nb\r\n");
	SPOOL_LIT("S: x\r\0\r\n\r\0\nb\r\0c\n", &o, "S: x\r\n\r\nb c\r\n");
	/* One LF anywhere, even the last byte, decides for the whole
	 * message. */
	SPOOL_IS("S: a\rT: b\r\rbody\n", &o, "S: a T: b  body\r\n\r\n");
	SPOOL_IS("S: a\r\rb\r\nc\r", &o, "S: a  b\r\n\r\nc \r\n");
	/* No LF at all: CR-only input, every CR a line end. */
	SPOOL_IS("S: x\r\rb\r", &o, "S: x\r\n\r\nb\r\n");
	SPOOL_IS("Subject: mac\rTo: a@x.org\r\rbody\r\r.\rend", &o,
	    "Subject: mac\r\nTo: a@x.org\r\n\r\nbody\r\n\r\n.\r\nend\r\n");
	SPOOL_IS("\r", &o, "\r\n");		/* the empty line only */
	SPOOL_LIT("\r\0\r", &o, "\r\n\r\n");
	SPOOL_LIT("S: a\r\0\r\0b\r", &o, "S: a\r\n\r\nb\r\n");
	/* A lone dot is data, never an end; no stuffing in the spool. */
	SPOOL_IS("S: x\n\na\n.\nb\n..\n.", &o,
	    "S: x\r\n\r\na\r\n.\r\nb\r\n..\r\n.\r\n");
}

/* -t sees the fields the rule makes, no more and no fewer. */
static void
test_cr_extract(void)
{
	struct msg_opts	 o;
	struct spooled	 s;
	const char	*in;
	int		 via;

	default_opts(&o);
	o.set_from = HDR_OFF;
	o.extract = 1;
	for (via = 0; via < 2; via++) {
		/* A CR smuggled into a value starts no Bcc. */
		in = "Subject: hi\rBcc: victim@x.org\nTo: a@x.org\n\nb\n";
		spool_str(&s, in, strlen(in), &o, via);
		CHECK_INT(s.rc, 0);
		CHECK_INT(s.m.hdr_rcpts.n, 1);
		if (s.m.hdr_rcpts.n == 1)
			CHECK_STR(s.m.hdr_rcpts.v[0], "a@x.org");
		CHECK_STR(buf_str(&s.out), "Subject: hi Bcc: victim@x.org\r\n"
		    "To: a@x.org\r\n\r\nb\r\n");
		spooled_release(&s);

		/* "\r\r\n" does not end the header early: the Bcc after it
		 * is a real one, a recipient, and removed. */
		in = "To: a@x.org\r\r\nBcc: s@x.org\r\r\n\r\r\nb\r\r\n";
		spool_str(&s, in, strlen(in), &o, via);
		CHECK_INT(s.rc, 0);
		CHECK_INT(s.m.hdr_rcpts.n, 2);
		if (s.m.hdr_rcpts.n == 2) {
			CHECK_STR(s.m.hdr_rcpts.v[0], "a@x.org");
			CHECK_STR(s.m.hdr_rcpts.v[1], "s@x.org");
		}
		CHECK_STR(buf_str(&s.out), "To: a@x.org\r\n\r\nb\r\n");
		spooled_release(&s);

		/* CR-only input: its CRs are line ends, its Bcc real. */
		in = "To: a@x.org\rBcc: s@x.org\r\rb\r";
		spool_str(&s, in, strlen(in), &o, via);
		CHECK_INT(s.rc, 0);
		CHECK_INT(s.m.hdr_rcpts.n, 2);
		CHECK_STR(buf_str(&s.out), "To: a@x.org\r\n\r\nb\r\n");
		spooled_release(&s);
	}
}

/*
 * A message with CRs and no LF in its first `lf_at` bytes, an LF at
 * byte `lf_at`, and what the spool must hold: CR-only when the LF is
 * past the first 4 MiB, else LF line ends and stray CRs made spaces.
 */
static void
cr_boundary(struct buf *in, struct buf *want, size_t lf_at, int cr_only)
{
	size_t	 i;

	buf_reset(in);
	buf_reset(want);
	buf_addstr(in, "no header here\r");
	while (in->len + 16 < lf_at)
		buf_addstr(in, "0123456789abcde\r");
	while (in->len < lf_at)
		buf_addch(in, 'y');	/* at least one: no CR before the LF */
	buf_addstr(in, "\nafter\rend\n");
	buf_addstr(want, "\r\n");
	for (i = 0; i < in->len; i++) {
		if (in->data[i] == '\n' || (cr_only && in->data[i] == '\r'))
			buf_addstr(want, "\r\n");
		else if (in->data[i] == '\r')
			buf_addch(want, ' ');
		else
			buf_addch(want, in->data[i]);
	}
}

/* CR-only is decided on the first 4 MiB: an LF after them is refused. */
static void
test_cr_only_bound(void)
{
	const size_t	 max = 4 * 1024 * 1024;
	struct msg_opts	 o;
	struct spooled	 s;
	struct buf	 in = BUF_INIT, want = BUF_INIT;
	int		 via;

	default_opts(&o);
	o.set_from = HDR_OFF;
	for (via = 0; via < 2; via++) {
		cr_boundary(&in, &want, max - 1, 0);
		spool_str(&s, in.data, in.len, &o, via);
		CHECK_INT(s.rc, 0);
		CHECK_INT(s.out.len, want.len);
		CHECK(s.out.len == want.len &&
		    memcmp(s.out.data, want.data, want.len) == 0);
		spooled_release(&s);

		/* Read as CR-only, then an LF: refused, not guessed at. */
		cr_boundary(&in, &want, max, 1);
		spool_str(&s, in.data, in.len, &o, via);
		CHECK_INT(s.rc, -1);
		CHECK(strstr(buf_str(&s.err), "mixed line endings are "
		    "refused") != NULL);
		spooled_release(&s);

		/* Without that LF it is CR-only throughout. */
		cr_boundary(&in, &want, max, 1);
		buf_truncate(&in, strlen(in.data) - strlen("\nafter\rend\n"));
		buf_addstr(&in, "\rafter\rend\r");
		spool_str(&s, in.data, in.len, &o, via);
		CHECK_INT(s.rc, 0);
		CHECK(s.out.len > max && memcmp(s.out.data + s.out.len - 14,
		    "\r\nafter\r\nend\r\n", 14) == 0);
		spooled_release(&s);
	}
	buf_release(&in);
	buf_release(&want);
}

static void
test_flags(void)
{
	struct msg_opts	 o;
	struct spooled	 s;
	const char	*in;

	default_opts(&o);
	o.set_from = HDR_OFF;
	in = "S: x\n\na\0b\n\0";
	spool_str(&s, in, 11, &o, 1);
	CHECK_INT(s.rc, 0);
	CHECK_STR(buf_str(&s.out), "S: x\r\n\r\nab\r\n");
	CHECK_INT(s.m.nuls, 2);
	CHECK_INT(s.m.body_8bit, 0);
	spooled_release(&s);

	in = "S: x\0y\n\nb\n";
	spool_str(&s, in, 10, &o, 0);
	CHECK_STR(buf_str(&s.out), "S: xy\r\n\r\nb\r\n");
	CHECK_INT(s.m.nuls, 1);
	spooled_release(&s);

	in = "Subject: caf\xc3\xa9\n\nb\n";
	spool_str(&s, in, strlen(in), &o, 0);
	CHECK_INT(s.m.body_8bit, 1);
	spooled_release(&s);
	in = "Subject: s\n\ncaf\xc3\xa9\n";
	spool_str(&s, in, strlen(in), &o, 1);
	CHECK_INT(s.m.body_8bit, 1);
	spooled_release(&s);
	/* An 8-bit Bcc that goes does not count. */
	in = "Bcc: caf\xc3\xa9@x.org\n\nb\n";
	spool_str(&s, in, strlen(in), &o, 1);
	CHECK_INT(s.m.body_8bit, 0);
	spooled_release(&s);
}

static void
test_spool_file(void)
{
	struct msg_opts	 o;
	struct spooled	 s;
	struct stat	 st;
	char		 dir[] = "/tmp/test_header_dir.XXXXXX";

	default_opts(&o);
	if (mkdtemp(dir) == NULL)
		abort();
	o.tmpdir = dir;
	spool_str(&s, "S: x\n\nb\n", 8, &o, 0);
	CHECK_INT(s.rc, 0);
	CHECK(fstat(s.m.spool.fd, &st) == 0);
	CHECK_INT(st.st_nlink, 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK_INT(st.st_size, s.m.size);
	CHECK(fcntl(s.m.spool.fd, F_GETFD) & FD_CLOEXEC);
	spooled_release(&s);
	CHECK(rmdir(dir) == 0);		/* nothing was left in it */

	o.tmpdir = "/nonexistent/postie-test";
	spool_str(&s, "S: x\n\nb\n", 8, &o, 0);
	CHECK_INT(s.rc, -1);
	CHECK_INT(s.le, LE_LOCALIO);
	spooled_release(&s);
}

static void
test_errors(void)
{
	struct msg_opts	 o;
	struct message	 m;
	struct buf	 err = BUF_INIT;
	int		 fd, le = LE_NONE;

	default_opts(&o);
	message_init(&m);
	/* read(2) on a directory fails with EISDIR. */
	if ((fd = open("/", O_RDONLY)) == -1)
		abort();
	CHECK_INT(message_spool(&m, fd, &o, NULL, &le, &err), -1);
	CHECK_INT(le, LE_LOCALIO);
	CHECK(strncmp(buf_str(&err), "cannot read the message: ", 25) == 0);
	CHECK_INT(m.spool.fd, -1);
	close(fd);
	message_release(&m);
	buf_release(&err);
}

/*
 * The end of the header section is found while input arrives: cut each
 * input at every position, with a pause between the two writes so the
 * reader sees two pieces, and compare with reading it whole from a file.
 */
static void
test_split_reads(void)
{
	static const char *const inputs[] = {
		"From a@b Sun Nov 22 10:00:00 2026\nSubj: a\n b\r\n\r\nbody\r\n",
		"From: real@x.org\n\nb",
		"hello: x\nnot a header line\rmore",
		" cont\nX: y\n",
		"S: x\r\r\nb\r",
		"S: a\rT: b\r\rbody\n",
		"S: a\rT: b\r\rbody\r",
		"To: a\r\r\nBcc: s\r\r\n\r\r\nb\r",
		"X: 1\r\r",
		"Fr\nS: x\n",
		"X-Long-Name-Here  : v\nY: w\n\n.\n",
		NULL
	};
	struct msg_opts	 o;
	struct spooled	 whole, s;
	size_t		 i, cut, len;
	int		 p[2], bad;
	pid_t		 pid;

	default_opts(&o);
	o.set_from = HDR_OFF;
	for (i = 0; inputs[i] != NULL; i++) {
		len = strlen(inputs[i]);
		spool_str(&whole, inputs[i], len, &o, 0);
		CHECK_INT(whole.rc, 0);
		bad = 0;
		for (cut = 1; cut < len; cut++) {
			memset(&s, 0, sizeof(s));
			message_init(&s.m);
			if (pipe(p) == -1)
				abort();
			if ((pid = fork()) == 0) {
				close(p[0]);
				if (write(p[1], inputs[i], cut) != (ssize_t)cut)
					_exit(1);
				usleep(3000);
				if (write(p[1], inputs[i] + cut, len - cut) !=
				    (ssize_t)(len - cut))
					_exit(1);
				_exit(0);
			}
			close(p[1]);
			s.rc = message_spool(&s.m, p[0], &o, NULL, &s.le,
			    &s.err);
			close(p[0]);
			waitpid(pid, NULL, 0);
			if (s.rc == 0) {
				char	 chunk[4096];
				ssize_t	 n;

				lseek(s.m.spool.fd, 0, SEEK_SET);
				while ((n = read(s.m.spool.fd, chunk,
				    sizeof(chunk))) > 0)
					buf_add(&s.out, chunk, (size_t)n);
			}
			if (s.rc != 0 ||
			    strcmp(buf_str(&s.out), buf_str(&whole.out)) != 0) {
				fprintf(stderr, "input %zu cut at %zu: \"%s\"\n",
				    i, cut, buf_str(&s.out));
				bad++;
			}
			spooled_release(&s);
		}
		CHECK_INT(bad, 0);
		spooled_release(&whole);
	}
}

static void
test_big_header(void)
{
	struct msg_opts	 o;
	struct spooled	 s;
	struct buf	 in = BUF_INIT;

	default_opts(&o);
	while (in.len <= 4 * 1024 * 1024)
		buf_addstr(&in, "X-Filler: 0123456789012345678901234567890123"
		    "456789012345678901234567890123456789\n");
	buf_addstr(&in, "\nbody\n");
	spool_str(&s, in.data, in.len, &o, 1);
	CHECK_INT(s.rc, -1);
	CHECK_INT(s.le, LE_DATAERR);
	CHECK_STR(buf_str(&s.err), "header section larger than 4 MiB");
	spooled_release(&s);

	/* A long first line that is no field is body, not a long header. */
	buf_reset(&in);
	while (in.len <= 5 * 1024 * 1024)
		buf_addstr(&in, "no header here, just a very long line ");
	spool_str(&s, in.data, in.len, &o, 1);
	CHECK_INT(s.rc, 0);
	CHECK_INT(s.m.size, strlen("From: sender@example.org\r\n\r\n") +
	    in.len + 2);
	spooled_release(&s);
	buf_release(&in);
}

static void
test_big_body(void)
{
	struct msg_opts	 o;
	struct message	 m;
	struct buf	 err = BUF_INIT;
	struct rusage	 before, after;
	const char	*head = "Subject: big\n\n";
	const size_t	 body = (size_t)64 * 1024 * 1024;
	int		 p[2], le = LE_NONE;
	pid_t		 pid;

	default_opts(&o);
	o.set_from = HDR_OFF;
	message_init(&m);
	if (pipe(p) == -1)
		abort();
	getrusage(RUSAGE_SELF, &before);
	pid = writer(p[1], p[0], head, strlen(head), body);
	close(p[1]);
	CHECK_INT(message_spool(&m, p[0], &o, NULL, &le, &err), 0);
	close(p[0]);
	waitpid(pid, NULL, 0);
	getrusage(RUSAGE_SELF, &after);
	/* Every 64th byte is an LF that became CRLF. */
	CHECK_INT(m.size, strlen("Subject: big\r\n\r\n") + body + body / 64);
	/* Streaming: the peak grew by far less than the body (in KiB). */
	CHECK(after.ru_maxrss - before.ru_maxrss < 16 * 1024);
	message_release(&m);
	buf_release(&err);
}

static void
test_envelope(void)
{
	struct msg_opts	 o;
	struct spooled	 s;
	struct envelope	 env;
	struct strlist	 argv = STRLIST_INIT;
	struct buf	 err = BUF_INIT;
	const char	*in = "To: b@x.org, c@x.org\nCc: a@X.ORG, root\n"
	    "Bcc: d@x.org\n\nb\xc3\xa9\n";
	int		 le;

	default_opts(&o);
	o.extract = 1;
	spool_str(&s, in, strlen(in), &o, 1);
	CHECK_INT(s.rc, 0);
	strlist_add(&argv, "a@x.org");
	strlist_add(&argv, "postmaster");
	envelope_init(&env);
	le = LE_NONE;
	CHECK_INT(message_envelope(&s.m, &o, &argv, &env, &le, &err), 0);
	CHECK_STR(env.from, "sender@example.org");
	CHECK_INT(env.rcpts.n, 6);
	if (env.rcpts.n == 6) {
		CHECK_STR(env.rcpts.v[0], "a@x.org");
		CHECK_STR(env.rcpts.v[1], "postmaster@example.org");
		CHECK_STR(env.rcpts.v[2], "b@x.org");
		CHECK_STR(env.rcpts.v[3], "c@x.org");
		CHECK_STR(env.rcpts.v[4], "root@example.org");
		CHECK_STR(env.rcpts.v[5], "d@x.org");
	}
	CHECK_INT(env.body_8bit, 1);
	CHECK_INT(env.smtputf8, 0);
	CHECK_INT(env.size, s.m.size);
	envelope_release(&env);

	/* Without -t the header recipients stay out. */
	o.extract = 0;
	envelope_init(&env);
	CHECK_INT(message_envelope(&s.m, &o, &argv, &env, &le, &err), 0);
	CHECK_INT(env.rcpts.n, 2);
	envelope_release(&env);
	spooled_release(&s);
	strlist_release(&argv);

	/* No recipients at all. */
	spool_str(&s, "S: x\n\nb\n", 8, &o, 0);
	envelope_init(&env);
	buf_reset(&err);
	CHECK_INT(message_envelope(&s.m, &o, &argv, &env, &le, &err), -1);
	CHECK_INT(le, LE_USAGE);
	CHECK_STR(buf_str(&err), "no recipients");
	envelope_release(&env);
	o.extract = 1;
	envelope_init(&env);
	buf_reset(&err);
	CHECK_INT(message_envelope(&s.m, &o, &argv, &env, &le, &err), -1);
	CHECK_INT(le, LE_USAGE);
	CHECK_STR(buf_str(&err),
	    "no recipients found in the message or on the command line");
	envelope_release(&env);
	spooled_release(&s);

	/* Null sender; IDNA domains; a UTF-8 local part needs SMTPUTF8. */
	o.extract = 0;
	o.env_from = "";
	spool_str(&s, "S: x\n\nb\n", 8, &o, 0);
	strlist_add(&argv, "user@b\xc3\xbc" "cher.example");
	envelope_init(&env);
	CHECK_INT(message_envelope(&s.m, &o, &argv, &env, &le, &err), 0);
	CHECK_STR(env.from, "");
	CHECK_INT(env.rcpts.n, 1);
	if (env.rcpts.n == 1)
		CHECK_STR(env.rcpts.v[0], "user@xn--bcher-kva.example");
	CHECK_INT(env.smtputf8, 0);
	envelope_release(&env);
	strlist_add(&argv, "j\xc3\xb8rn@example.org");
	envelope_init(&env);
	CHECK_INT(message_envelope(&s.m, &o, &argv, &env, &le, &err), 0);
	CHECK_INT(env.smtputf8, 1);
	envelope_release(&env);
	strlist_release(&argv);

	/* A header recipient that cannot go into RCPT TO is bad input. */
	spooled_release(&s);
	o.extract = 1;
	o.env_from = "sender@example.org";
	spool_str(&s, "To: -oops@x.org\n\nb\n", 19, &o, 0);
	envelope_init(&env);
	buf_reset(&err);
	CHECK_INT(message_envelope(&s.m, &o, &argv, &env, &le, &err), -1);
	CHECK_INT(le, LE_DATAERR);
	envelope_release(&env);
	spooled_release(&s);
	buf_release(&err);
}

static void
test_aliases(void)
{
	char		 path[] = "/tmp/test_header_aliases.XXXXXX";
	const char	*text = "root: admin@x.org, ops\npostmaster: pm@x.org\n";
	struct aliases	 al;
	struct msg_opts	 o;
	struct spooled	 s;
	struct envelope	 env;
	struct strlist	 argv = STRLIST_INIT;
	struct buf	 err = BUF_INIT;
	int		 fd, le;

	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	memset(&al, 0, sizeof(al));
	CHECK_INT(aliases_load(&al, path, &err), 0);
	unlink(path);
	default_opts(&o);
	o.aliases = &al;
	o.extract = 1;
	spool_str(&s, "To: root, other\n\nb\n", 19, &o, 0);
	CHECK_INT(s.rc, 0);
	/* The header keeps the name (qualified); the envelope expands. */
	CHECK(strstr(buf_str(&s.out), "To: root@example.org, "
	    "other@example.org\r\n") != NULL);
	strlist_add(&argv, "postmaster");
	strlist_add(&argv, "pm@x.org");
	envelope_init(&env);
	CHECK_INT(message_envelope(&s.m, &o, &argv, &env, &le, &err), 0);
	CHECK_INT(env.rcpts.n, 4);
	if (env.rcpts.n == 4) {
		CHECK_STR(env.rcpts.v[0], "pm@x.org");
		CHECK_STR(env.rcpts.v[1], "admin@x.org");
		CHECK_STR(env.rcpts.v[2], "ops@example.org");
		CHECK_STR(env.rcpts.v[3], "other@example.org");
	}
	envelope_release(&env);
	spooled_release(&s);
	strlist_release(&argv);
	aliases_release(&al);
	buf_release(&err);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_parse();
	test_obsolete_and_ends();
	test_edit();
	test_value_map();
	test_plain();
	test_bcc();
	test_extract();
	test_resent();
	test_added();
	test_from();
	test_qualify();
	test_sections();
	test_line_endings();
	test_cr_extract();
	test_cr_only_bound();
	test_flags();
	test_spool_file();
	test_errors();
	test_split_reads();
	test_big_header();
	test_big_body();
	test_envelope();
	test_aliases();
	return t_done();
}
