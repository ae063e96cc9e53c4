/*
 * -bs: SMTP on stdin/stdout.  See bs.h.
 */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "bs.h"
#include "buf.h"
#include "log.h"
#include "strlist.h"
#include "xmalloc.h"

#define BS_CMDMAX	2048		/* command line, CRLF included */
#define BS_LINEMAX	(1024 * 1024)	/* content line */
#define BS_RCPTMAX	1000
#define BS_REASONMAX	400

struct bs {
	int		 infd, outfd;
	char		 in[65536];
	size_t		 inpos, inlen;
	int		 eof;
	struct buf	 out;
	int		 outerr;
	struct buf	 line;
	int		 toolong;	/* the line was cut */
	/* transaction */
	int		 have_mail;
	char		*from;
	struct strlist	 rcpts;
};

static int	bs_flush(struct bs *);
static void	bs_reply(struct bs *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	bs_getline(struct bs *, size_t);
static void	bs_reset(struct bs *);
static int	bs_path(const char *, const char *, char **, const char **,
		    struct buf *);
static void	bs_mail(struct bs *, const char *);
static void	bs_rcpt(struct bs *, const char *);
static int	bs_data(struct bs *, bs_send_fn, void *);
static int	bs_tmpfile(void);
static int	bs_write(int, const char *, size_t);
static void	bs_verdict(struct bs *, const struct bs_result *,
		    const char *);

static int
bs_flush(struct bs *s)
{
	const char	*p = buf_str(&s->out);
	size_t		 left = s->out.len;
	ssize_t		 n;

	while (left > 0 && !s->outerr) {
		n = write(s->outfd, p, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->outerr = 1;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	buf_reset(&s->out);
	return s->outerr ? -1 : 0;
}

static void
bs_reply(struct bs *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	buf_vaddf(&s->out, fmt, ap);
	va_end(ap);
	buf_add(&s->out, "\r\n", 2);
}

/*
 * Read one line into s->line, its terminator (LF or CRLF) kept.  Bytes
 * past `max` are dropped up to the end of the line and s->toolong set.
 * Replies are flushed before blocking.  Returns 1, or 0 at end of input
 * (a final unterminated line is returned first).
 */
static int
bs_getline(struct bs *s, size_t max)
{
	char	*nl;
	size_t	 n, take;
	ssize_t	 r;

	buf_reset(&s->line);
	s->toolong = 0;
	for (;;) {
		if (s->inpos == s->inlen) {
			if (s->eof)
				return s->line.len > 0 || s->toolong;
			if (bs_flush(s) == -1)
				return 0;
			r = read(s->infd, s->in, sizeof(s->in));
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				s->eof = 1;
				continue;
			}
			s->inpos = 0;
			s->inlen = (size_t)r;
		}
		nl = memchr(s->in + s->inpos, '\n', s->inlen - s->inpos);
		n = nl != NULL ? (size_t)(nl - (s->in + s->inpos)) + 1 :
		    s->inlen - s->inpos;
		take = n;
		if (s->line.len + take > max) {
			take = max > s->line.len ? max - s->line.len : 0;
			s->toolong = 1;
		}
		buf_add(&s->line, s->in + s->inpos, take);
		s->inpos += n;
		if (nl != NULL)
			return 1;
	}
}

static void
bs_reset(struct bs *s)
{
	s->have_mail = 0;
	free(s->from);
	s->from = NULL;
	strlist_release(&s->rcpts);
	strlist_init(&s->rcpts);
}

/*
 * "FROM:<addr> params" after the verb: the address in *addr (allocated),
 * the parameters in *params.  Returns 0 or -1 with a reason.
 */
static int
bs_path(const char *arg, const char *kw, char **addr, const char **params,
    struct buf *why)
{
	const char	*p = arg, *e;
	size_t		 kl = strlen(kw);

	if (strncasecmp(p, kw, kl) != 0) {
		buf_addf(why, "501 5.5.4 Syntax: %s<address>", kw);
		return -1;
	}
	p += kl;
	while (*p == ' ')
		p++;
	if (*p == '<') {
		if ((e = strchr(p, '>')) == NULL) {
			buf_addstr(why, "501 5.5.4 Syntax: missing '>'");
			return -1;
		}
		*addr = xstrndup(p + 1, (size_t)(e - p - 1));
		e++;
	} else {
		e = p + strcspn(p, " ");
		if (e == p) {
			buf_addf(why, "501 5.5.4 Syntax: %s<address>", kw);
			return -1;
		}
		*addr = xstrndup(p, (size_t)(e - p));
	}
	if (*e != '\0' && *e != ' ') {
		free(*addr);
		*addr = NULL;
		buf_addstr(why, "501 5.5.4 Syntax: junk after the address");
		return -1;
	}
	while (*e == ' ')
		e++;
	*params = e;
	return 0;
}

/* Parameters we can honour: BODY=7BIT/8BITMIME, SIZE=n. */
static int
bs_params_ok(const char *p)
{
	size_t	 n;

	while (*p != '\0') {
		n = strcspn(p, " ");
		if (!((n == 9 && strncasecmp(p, "BODY=7BIT", 9) == 0) ||
		    (n == 13 && strncasecmp(p, "BODY=8BITMIME", 13) == 0) ||
		    (n > 5 && strncasecmp(p, "SIZE=", 5) == 0)))
			return 0;
		p += n;
		while (*p == ' ')
			p++;
	}
	return 1;
}

static void
bs_mail(struct bs *s, const char *arg)
{
	struct buf	 why = BUF_INIT;
	const char	*params;
	char		*addr = NULL;

	if (s->have_mail)
		bs_reply(s, "503 5.5.1 Error: nested MAIL command");
	else if (bs_path(arg, "FROM:", &addr, &params, &why) == -1)
		bs_reply(s, "%s", buf_str(&why));
	else if (!bs_params_ok(params))
		bs_reply(s, "555 5.5.4 Unsupported MAIL parameter");
	else if (addr_check_envelope(addr, 1, &why) == -1)
		bs_reply(s, "553 5.1.7 %s", buf_str(&why));
	else {
		s->have_mail = 1;
		s->from = addr;
		addr = NULL;
		bs_reply(s, "250 2.1.0 Ok");
	}
	free(addr);
	buf_release(&why);
}

static void
bs_rcpt(struct bs *s, const char *arg)
{
	struct buf	 why = BUF_INIT;
	const char	*params;
	char		*addr = NULL;

	if (!s->have_mail)
		bs_reply(s, "503 5.5.1 Error: need MAIL command");
	else if (bs_path(arg, "TO:", &addr, &params, &why) == -1)
		bs_reply(s, "%s", buf_str(&why));
	else if (*params != '\0')
		bs_reply(s, "555 5.5.4 Unsupported RCPT parameter");
	else if (addr[0] == '\0')
		bs_reply(s, "501 5.1.3 Empty recipient");
	else if (addr_check_envelope(addr, 0, &why) == -1)
		bs_reply(s, "553 5.1.3 %s", buf_str(&why));
	else if (s->rcpts.n >= BS_RCPTMAX)
		bs_reply(s, "452 4.5.3 Too many recipients");
	else {
		strlist_add(&s->rcpts, addr);
		bs_reply(s, "250 2.1.5 Ok");
	}
	free(addr);
	buf_release(&why);
}

static int
bs_write(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
bs_tmpfile(void)
{
	struct buf	 path = BUF_INIT;
	const char	*dir = getenv("TMPDIR");
	char		*tmpl;
	int		 fd;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	buf_addf(&path, "%s/postie-bs.XXXXXX", dir);
	tmpl = buf_detach(&path);
	if ((fd = mkstemp(tmpl)) != -1)
		unlink(tmpl);
	free(tmpl);
	return fd;
}

/*
 * Make a reason fit one reply line: a line break, or any other control
 * character but TAB (RFC 5321's textstring), becomes a space.  Reasons
 * quote servers and addresses, which the engine and addr.c escape
 * already; this keeps the reply well-formed whatever they pass on.
 */
static void
bs_oneline(struct buf *out, const char *r)
{
	unsigned char	 c;
	size_t		 i;

	for (i = 0; r[i] != '\0' && i < BS_REASONMAX; i++) {
		c = (unsigned char)r[i];
		buf_addch(out, (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : c);
	}
}

/*
 * The reply to the final dot for a delivery's outcome.  What may go away
 * by itself is 4xx, so that the client keeps the message and retries:
 * EX_TEMPFAIL, and the local failures EX_OSERR (no memory, no process)
 * and EX_IOERR (the spool could not be written or read: a full disk is
 * not the message's fault), the three sendmail itself keeps queued.
 * Only a verdict on the message or its recipients is 5xx.
 */
static void
bs_verdict(struct bs *s, const struct bs_result *res, const char *why)
{
	switch (res->status) {
	case 0:
		bs_reply(s, "250 2.0.0 Ok: delivered");
		break;
	case EX_TEMPFAIL:
		bs_reply(s, res->rcpt ? "450 4.1.0 %s" : "451 4.3.0 %s", why);
		break;
	case EX_OSERR:
	case EX_IOERR:
		bs_reply(s, "451 4.3.0 %s", why);
		break;
	default:
		bs_reply(s, res->rcpt ? "550 5.1.0 %s" : "554 5.3.0 %s", why);
		break;
	}
}

/*
 * DATA to the final dot, then deliver.  Returns 0, or -1 when input ended
 * inside the content.
 */
static int
bs_data(struct bs *s, bs_send_fn send, void *arg)
{
	struct bs_result res;
	struct buf	 rep = BUF_INIT;
	const char	*l;
	size_t		 len;
	int		 fd, bad = 0, ioerr = 0, rc = 0;

	if (!s->have_mail) {
		bs_reply(s, "503 5.5.1 Error: need MAIL command");
		return 0;
	}
	if (s->rcpts.n == 0) {
		bs_reply(s, "503 5.5.1 Error: need RCPT command");
		return 0;
	}
	if ((fd = bs_tmpfile()) == -1) {
		log_error("-bs: cannot create a temporary file: %s",
		    strerror(errno));
		bs_reply(s, "451 4.3.0 Local error: cannot create a "
		    "temporary file");
		return 0;
	}
	bs_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	for (;;) {
		if (!bs_getline(s, BS_LINEMAX)) {
			rc = -1;
			break;
		}
		l = buf_str(&s->line);
		len = s->line.len;
		if (!s->toolong && ((len == 3 && memcmp(l, ".\r\n", 3) == 0) ||
		    (len == 2 && memcmp(l, ".\n", 2) == 0)))
			break;
		if (s->toolong)
			bad = 1;
		if (l[0] == '.') {
			l++;
			len--;
		}
		if (!ioerr && !bad && bs_write(fd, l, len) == -1)
			ioerr = errno != 0 ? errno : EIO;
	}
	if (rc == -1) {
		log_error("-bs: input ended inside DATA; message discarded");
		close(fd);
		bs_reset(s);
		return -1;
	}
	if (bad)
		bs_reply(s, "554 5.6.0 Message refused: a line is longer "
		    "than %d bytes", BS_LINEMAX);
	else if (ioerr) {
		log_error("-bs: cannot write the temporary file: %s",
		    strerror(ioerr));
		bs_reply(s, "451 4.3.0 Local error: cannot write the "
		    "temporary file");
	} else if (lseek(fd, 0, SEEK_SET) == -1)
		bs_reply(s, "451 4.3.0 Local error: cannot rewind");
	else {
		/* Delivery can take a while: let the client see the
		 * replies so far. */
		bs_flush(s);
		memset(&res, 0, sizeof(res));
		buf_init(&res.reason);
		send(arg, s->from, &s->rcpts, fd, &res);
		bs_oneline(&rep, buf_str(&res.reason));
		bs_verdict(s, &res, buf_str(&rep));
		buf_release(&res.reason);
		buf_release(&rep);
	}
	close(fd);
	bs_reset(s);
	return 0;
}

int
bs_session(int infd, int outfd, const char *domain, bs_send_fn send,
    void *arg)
{
	struct bs	 s;
	char		*cmd, *sp;
	const char	*a;
	int		 status = 0;
	size_t		 n;

	memset(&s, 0, sizeof(s));
	s.infd = infd;
	s.outfd = outfd;
	buf_init(&s.out);
	buf_init(&s.line);
	strlist_init(&s.rcpts);

	/* outfd is the client's stream now: "logfile -" must not write
	 * there when it is stdout. */
	log_protocol_fd(outfd);
	bs_reply(&s, "220 %s ESMTP postie", domain);
	while (bs_getline(&s, BS_CMDMAX)) {
		if (s.toolong) {
			bs_reply(&s, "500 5.5.2 Error: line too long");
			continue;
		}
		n = s.line.len;
		cmd = buf_detach(&s.line);
		while (n > 0 && (cmd[n - 1] == '\n' || cmd[n - 1] == '\r'))
			cmd[--n] = '\0';
		if (memchr(cmd, '\0', n) != NULL) {
			bs_reply(&s, "500 5.5.2 Error: bad syntax");
			free(cmd);
			continue;
		}
		if ((sp = strchr(cmd, ' ')) != NULL)
			*sp = '\0';
		a = sp != NULL ? sp + 1 : "";
		if (strcasecmp(cmd, "EHLO") == 0 ||
		    strcasecmp(cmd, "HELO") == 0) {
			bs_reset(&s);
			if (*a == '\0')
				bs_reply(&s, "501 5.5.4 Syntax: %s hostname",
				    cmd);
			else if (strcasecmp(cmd, "HELO") == 0)
				bs_reply(&s, "250 %s", domain);
			else
				bs_reply(&s, "250-%s\r\n250-PIPELINING\r\n"
				    "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES"
				    "\r\n250 HELP", domain);
		} else if (strcasecmp(cmd, "MAIL") == 0)
			bs_mail(&s, a);
		else if (strcasecmp(cmd, "RCPT") == 0)
			bs_rcpt(&s, a);
		else if (strcasecmp(cmd, "DATA") == 0) {
			if (*a != '\0')
				bs_reply(&s, "501 5.5.4 Syntax: DATA");
			else if (bs_data(&s, send, arg) == -1) {
				status = EX_DATAERR;
				free(cmd);
				break;
			}
		} else if (strcasecmp(cmd, "RSET") == 0) {
			bs_reset(&s);
			bs_reply(&s, "250 2.0.0 Ok");
		} else if (strcasecmp(cmd, "NOOP") == 0)
			bs_reply(&s, "250 2.0.0 Ok");
		else if (strcasecmp(cmd, "HELP") == 0)
			bs_reply(&s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT "
			    "DATA RSET NOOP VRFY QUIT");
		else if (strcasecmp(cmd, "VRFY") == 0)
			bs_reply(&s, "252 2.5.2 Cannot VRFY; send some mail "
			    "and postie will try");
		else if (strcasecmp(cmd, "QUIT") == 0) {
			bs_reply(&s, "221 2.0.0 Bye");
			free(cmd);
			break;
		} else
			bs_reply(&s, "500 5.5.2 Error: command not recognized");
		free(cmd);
	}
	if (bs_flush(&s) == -1 && status == 0) {
		log_error("-bs: cannot write the replies: %s",
		    strerror(errno));
		status = EX_IOERR;
	}
	bs_reset(&s);
	buf_release(&s.out);
	buf_release(&s.line);
	log_protocol_fd(-1);
	return status;
}
