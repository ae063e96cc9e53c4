/*
 * bs_session() (bs.h), the -bs SMTP server, over a client's byte stream:
 * the input is exactly what the client sends, read from a regular file
 * until its end; the replies go to another file and are checked when the
 * session is over.  The stub delivery reads the message it is handed and
 * picks its outcome from the first byte of the content (low three bits:
 * delivered, EX_TEMPFAIL, EX_OSERR, EX_IOERR, EX_UNAVAILABLE, EX_NOUSER,
 * EX_DATAERR, EX_SOFTWARE; bit 3: recipients refused), so that every
 * kind of reply to the final dot is reached; its reason is "FZ#N " (N
 * counts deliveries) and the content's start, line breaks included.
 *
 * Invariants: the session ends, with 0 or EX_DATAERR; the delivery gets
 * a descriptor at offset 0 holding no more than the input, a sender and
 * 1 to 1000 recipients that pass addr_check_envelope(); the output is
 * nothing but reply lines, each "NNN" (2xx to 5xx) and a space or hyphen,
 * no control character but TAB inside, CRLF at the end, at most 512
 * bytes (RFC 5321 4.5.3.1.5); the first is the 220 greeting; a
 * multi-line reply keeps its code and the output ends with a reply's last
 * line; each delivery gets exactly one reply to its final dot, in order:
 * "250 2.0.0 Ok: delivered", or its reason under a 4xx for the temporary
 * outcomes and a 5xx for the others.  Leaks are the sanitizer build's
 * job.
 */
#include "config.h"
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "addr.h"
#include "bs.h"
#include "buf.h"
#include "log.h"
#include "strlist.h"
#include "fuzz.h"

#define REPLY_LINE_MAX	512	/* RFC 5321 4.5.3.1.5, CRLF included */
#define REASON_CONTENT	600	/* bytes of content in the reason */

struct delivery {
	int		 status;
	int		 rcpt;
};

struct ctx {
	size_t		 insize;
	struct delivery	*d;
	size_t		 n, cap;
	size_t		 next;		/* whose final dot is answered next */
};

static int	 stub_send(void *, const char *, const struct strlist *, int,
		    struct bs_result *);
static void	 check_replies(const char *, size_t, struct ctx *);
static void	 check_verdict(const char *, size_t, struct ctx *);
static int	 out_fd(void);

static const int outcomes[8] = {
	0, EX_TEMPFAIL, EX_OSERR, EX_IOERR, EX_UNAVAILABLE, EX_NOUSER,
	EX_DATAERR, EX_SOFTWARE
};

static int
stub_send(void *arg, const char *from, const struct strlist *rcpts, int fd,
    struct bs_result *res)
{
	struct ctx	*c = arg;
	struct buf	 content = BUF_INIT, e = BUF_INIT;
	struct delivery	*d;
	char		 b[4096];
	ssize_t		 r;
	size_t		 i;
	unsigned char	 first;

	FUZZ_ASSERT(lseek(fd, 0, SEEK_CUR) == 0);
	FUZZ_ASSERT(from != NULL && addr_check_envelope(from, 1, &e) == 0);
	FUZZ_ASSERT(rcpts->n >= 1 && rcpts->n <= 1000);
	for (i = 0; i < rcpts->n; i++) {
		FUZZ_ASSERT(rcpts->v[i][0] != '\0');
		FUZZ_ASSERT(addr_check_envelope(rcpts->v[i], 0, &e) == 0);
	}
	buf_release(&e);
	while ((r = read(fd, b, sizeof(b))) > 0)
		buf_add(&content, b, (size_t)r);
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(content.len <= c->insize);

	if (c->n == c->cap) {
		c->cap = c->cap == 0 ? 16 : c->cap * 2;
		c->d = realloc(c->d, c->cap * sizeof(*c->d));
		FUZZ_ASSERT(c->d != NULL);
	}
	d = &c->d[c->n];
	first = content.len > 0 ? (unsigned char)content.data[0] : 0;
	d->status = outcomes[first & 7];
	d->rcpt = (first & 8) != 0;
	res->status = d->status;
	res->rcpt = d->rcpt;
	buf_addf(&res->reason, "FZ#%zu ", c->n);
	buf_add(&res->reason, content.data,
	    content.len < REASON_CONTENT ? content.len : REASON_CONTENT);
	c->n++;
	buf_release(&content);
	return res->status;
}

/* A reply to a final dot, for the deliveries in order: "250 2.0.0 Ok:
 * delivered", or the stub's reason after an enhanced code.  Any other
 * reply is left alone. */
static void
check_verdict(const char *l, size_t len, struct ctx *c)
{
	static const char ok[] = "250 2.0.0 Ok: delivered";
	const char	*p;
	size_t		 k;
	int		 st;

	if (len == sizeof(ok) - 1 && memcmp(l, ok, len) == 0) {
		FUZZ_ASSERT(c->next < c->n && c->d[c->next].status == 0);
		c->next++;
		return;
	}
	/* "NNN D.D.D FZ#" */
	if (len < 14 || l[5] != '.' || l[7] != '.' || l[9] != ' ' ||
	    memcmp(l + 10, "FZ#", 3) != 0)
		return;
	for (k = 0, p = l + 13; p < l + len && *p >= '0' && *p <= '9'; p++)
		k = k * 10 + (size_t)(*p - '0');
	FUZZ_ASSERT(p > l + 13 && p < l + len && *p == ' ');
	FUZZ_ASSERT(k == c->next && k < c->n);
	c->next++;
	st = c->d[k].status;
	FUZZ_ASSERT(st != 0);
	/* The class is the enhanced code's too. */
	FUZZ_ASSERT(l[4] == l[0]);
	if (st == EX_TEMPFAIL || st == EX_OSERR || st == EX_IOERR)
		FUZZ_ASSERT(l[0] == '4');
	else
		FUZZ_ASSERT(l[0] == '5');
}

static void
check_replies(const char *out, size_t n, struct ctx *c)
{
	const char	*p = out, *end = out + n, *e;
	char		 code[3];
	size_t		 len, i;
	int		 more = 0;

	FUZZ_ASSERT(n >= 6 && memcmp(out, "220 ", 4) == 0);
	while (p < end) {
		for (e = p; e + 1 < end && !(e[0] == '\r' && e[1] == '\n');
		    e++)
			;
		FUZZ_ASSERT(e + 1 < end);	/* every line ends in CRLF */
		len = (size_t)(e - p);
		FUZZ_ASSERT(len + 2 <= REPLY_LINE_MAX);
		/* RFC 5321's textstring: no control character but TAB
		 * (bytes over 127 pass: addresses may be UTF-8). */
		for (i = 0; i < len; i++)
			FUZZ_ASSERT(p[i] == '\t' ||
			    ((unsigned char)p[i] >= 0x20 && p[i] != 0x7f));
		FUZZ_ASSERT(len >= 4);
		FUZZ_ASSERT(p[0] >= '2' && p[0] <= '5');
		FUZZ_ASSERT(p[1] >= '0' && p[1] <= '9');
		FUZZ_ASSERT(p[2] >= '0' && p[2] <= '9');
		FUZZ_ASSERT(p[3] == ' ' || p[3] == '-');
		if (more)
			FUZZ_ASSERT(memcmp(p, code, 3) == 0);
		memcpy(code, p, 3);
		more = p[3] == '-';
		check_verdict(p, len, c);
		p = e + 2;
	}
	FUZZ_ASSERT(!more);
	FUZZ_ASSERT(c->next == c->n);	/* every delivery got its reply */
}

/* The replies' file: private, unlinked, emptied for each input. */
static int
out_fd(void)
{
	static int	 fd = -1;
	const char	*dir;
	char		 path[4096];
	int		 r;

	if (fd == -1) {
		if ((dir = getenv("TMPDIR")) == NULL || *dir == '\0')
			dir = "/tmp";
		r = snprintf(path, sizeof(path), "%s/postie-fuzz-bs.XXXXXX",
		    dir);
		FUZZ_ASSERT(r > 0 && (size_t)r < sizeof(path));
		fd = mkstemp(path);
		FUZZ_ASSERT(fd != -1);
		(void)unlink(path);
	}
	FUZZ_ASSERT(ftruncate(fd, 0) == 0);
	FUZZ_ASSERT(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx	 c;
	struct buf	 out = BUF_INIT;
	char		 b[65536];
	ssize_t		 r;
	int		 in, o, rc;

	/* bs.c logs "input ended inside DATA" for most inputs. */
	log_mute(1);
	memset(&c, 0, sizeof(c));
	c.insize = size;
	in = open(fuzz_tmpfile(data, size), O_RDONLY);
	FUZZ_ASSERT(in != -1);
	o = out_fd();

	rc = bs_session(in, o, "fuzz.example", stub_send, &c);
	FUZZ_ASSERT(rc == 0 || rc == EX_DATAERR);
	close(in);

	FUZZ_ASSERT(lseek(o, 0, SEEK_SET) == 0);
	while ((r = read(o, b, sizeof(b))) > 0)
		buf_add(&out, b, (size_t)r);
	FUZZ_ASSERT(r == 0);
	check_replies(out.data, out.len, &c);
	buf_release(&out);
	free(c.d);
	return 0;
}
