#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "buf.h"
#include "oauth_loopback.h"
#include "util.h"

/*
 * The browser's side of the authorization code grant: RFC 8252 7.3's
 * loopback redirect.  The listener is on 127.0.0.1 only, but every local
 * user can connect to it, and a web page the user has open can make the
 * browser send it requests too; neither knows the state, so a request
 * without it is refused and the wait goes on, while the one that has it
 * ends the wait.  Browsers open spare connections that never send a
 * request (Chrome's preconnect), so several are read at once, each with
 * a deadline, rather than one after the other.
 */

enum param { P_CODE, P_STATE, P_ERROR, P_DESC, NPARAMS };

static const char *const param_names[NPARAMS] = {
	"code", "state", "error", "error_description"
};

static int	 form_decode(struct buf *, const char *, size_t);
static int	 take_params(const char *, const char *, struct buf *,
		    const char **);
static int	 vschars(const struct buf *, int);
static void	 html_escape(struct buf *, const char *);
static void	 conn_close(struct loopback_conn *);
static void	 send_all(int, const char *, size_t, long long);
static void	 refuse(struct loopback_conn *);
static void	 accept_one(struct loopback *);
static int	 conn_read(struct loopback *, struct loopback_conn *,
		    const char *, struct oauth_redirect *);

void
oauth_redirect_init(struct oauth_redirect *r)
{
	buf_init(&r->code);
	buf_init(&r->error);
	buf_init(&r->error_description);
}

void
oauth_redirect_release(struct oauth_redirect *r)
{
	buf_wipe(&r->code);
	buf_release(&r->error);
	buf_release(&r->error_description);
}

/*
 * application/x-www-form-urlencoded: '+' is a space, %XX a byte.  `out`
 * is made large enough first, so that no copy of a code is left behind
 * in memory a realloc freed.  0, or -1 for a bad escape.
 */
static int
form_decode(struct buf *out, const char *s, size_t n)
{
	size_t	 i;
	int	 hi, lo;

	buf_grow(out, n);
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			buf_addch(out, ' ');
		else if (s[i] != '%')
			buf_addch(out, s[i]);
		else if (n - i < 3 || (hi = hex_digit(s[i + 1])) < 0 ||
		    (lo = hex_digit(s[i + 2])) < 0)
			return -1;
		else {
			buf_addch(out, hi << 4 | lo);
			i += 2;
		}
	}
	return 0;
}

/*
 * The query from `q` to `end`, "&"-separated NAME[=VALUE]s: the values
 * of the parameters we use into v[] (each at most once), the others
 * checked for their escapes and dropped.  0, or -1 with *why.
 */
static int
take_params(const char *q, const char *end, struct buf *v, const char **why)
{
	struct buf	 name = BUF_INIT, other = BUF_INIT;
	const char	*amp, *eq;
	int		 seen[NPARAMS] = { 0 }, k, rc = -1;

	for (;; q = amp + 1) {
		if ((amp = memchr(q, '&', (size_t)(end - q))) == NULL)
			amp = end;
		if ((eq = memchr(q, '=', (size_t)(amp - q))) == NULL)
			eq = amp;
		buf_reset(&name);
		if (form_decode(&name, q, (size_t)(eq - q)) == -1)
			goto bad_escape;
		for (k = 0; k < NPARAMS; k++)
			if (strcmp(buf_str(&name), param_names[k]) == 0 &&
			    name.len == strlen(param_names[k]))
				break;
		if (k < NPARAMS && seen[k]) {
			*why = "a parameter given twice";
			goto out;
		}
		if (k < NPARAMS)
			seen[k] = 1;
		if (eq < amp && form_decode(k < NPARAMS ? &v[k] : &other,
		    eq + 1, (size_t)(amp - eq - 1)) == -1)
			goto bad_escape;
		buf_wipe(&other);
		if (amp == end)
			break;
	}
	rc = 0;
	goto out;
bad_escape:
	*why = "malformed percent-encoding";
out:
	buf_release(&name);
	buf_wipe(&other);
	return rc;
}

/* 1*VSCHAR (%x20-7E), or with `nq` 1*NQSCHAR (RFC 6749 appendix A:
 * neither '"' nor '\'). */
static int
vschars(const struct buf *b, int nq)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < b->len; i++) {
		c = (unsigned char)b->data[i];
		if (c < 0x20 || c > 0x7e || (nq && (c == '"' || c == '\\')))
			return 0;
	}
	return b->len > 0;
}

int
oauth_redirect_parse(struct oauth_redirect *r, const char *head, size_t len,
    const char *state, const char **why)
{
	struct buf	 v[NPARAMS];
	const char	*eol, *target, *sp, *p;
	size_t		 i, n = strlen(state);
	int		 k, rc = -1;

	oauth_redirect_release(r);
	for (k = 0; k < NPARAMS; k++)
		buf_init(&v[k]);
	if ((eol = memmem(head, len, "\r\n", 2)) == NULL) {
		*why = "no request line";
		goto out;
	}
	if (eol - head < 4 || memcmp(head, "GET ", 4) != 0) {
		*why = "not a GET request";
		goto out;
	}
	target = head + 4;
	sp = memchr(target, ' ', (size_t)(eol - target));
	if (sp == NULL || eol - sp != 9 ||
	    (memcmp(sp + 1, "HTTP/1.1", 8) != 0 &&
	    memcmp(sp + 1, "HTTP/1.0", 8) != 0)) {
		*why = "malformed request line";
		goto out;
	}
	for (p = target; p < sp; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			*why = "malformed request line";
			goto out;
		}
	if (sp - target < 2 || target[0] != '/' || target[1] != '?') {
		*why = "not the redirect URI";
		goto out;
	}
	if (take_params(target + 2, sp, v, why) == -1)
		goto out;
	/* The state first: without it nothing else may be believed. */
	if (v[P_STATE].len == 0)
		*why = "no state";
	else if (v[P_STATE].len != n ||
	    gnutls_memcmp(v[P_STATE].data, state, n) != 0)
		*why = "state does not match";
	else if (v[P_CODE].len > 0 && v[P_ERROR].len > 0)
		*why = "both code and error";
	else if (v[P_CODE].len == 0 && v[P_ERROR].len == 0)
		*why = "neither code nor error";
	else if (v[P_CODE].len > 0 && !vschars(&v[P_CODE], 0))
		*why = "malformed code";
	else if (v[P_ERROR].len > 0 && !vschars(&v[P_ERROR], 1))
		*why = "malformed error";
	else
		rc = 0;
	if (rc == -1)
		goto out;
	buf_add(&r->code, v[P_CODE].data, v[P_CODE].len);
	buf_add(&r->error, v[P_ERROR].data, v[P_ERROR].len);
	for (i = 0; i < v[P_DESC].len && i < LOOPBACK_DESC_MAX; i++)
		buf_addch(&r->error_description,
		    v[P_DESC].data[i] >= 0x20 && v[P_DESC].data[i] <= 0x7e ?
		    v[P_DESC].data[i] : '?');
out:
	for (k = 0; k < NPARAMS; k++)
		buf_wipe(&v[k]);
	return rc;
}

static void
html_escape(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&':
			buf_addstr(out, "&amp;");
			break;
		case '<':
			buf_addstr(out, "&lt;");
			break;
		case '>':
			buf_addstr(out, "&gt;");
			break;
		case '"':
			buf_addstr(out, "&quot;");
			break;
		case '\'':
			buf_addstr(out, "&#39;");
			break;
		default:
			buf_addch(out, *s);
		}
}

void
oauth_redirect_page(struct buf *out, int status, const char *text)
{
	struct buf	 body = BUF_INIT;

	buf_addstr(&body, "<!DOCTYPE html>\n<html><head>"
	    "<meta charset=\"utf-8\"><title>postie</title></head>\n<body><p>");
	html_escape(&body, text);
	buf_addstr(&body, "</p></body></html>\n");
	buf_addf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", status,
	    status == 200 ? "OK" : "Bad Request", body.len);
	buf_add(out, body.data, body.len);
	buf_release(&body);
}

int
loopback_open(struct loopback *lb, struct buf *err)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	size_t			 i;

	memset(lb, 0, sizeof(*lb));
	lb->fd = lb->answer_fd = -1;
	for (i = 0; i < LOOPBACK_CONNS; i++)
		lb->conns[i].fd = -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lb->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1 ||
	    bind(lb->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lb->fd, 16) == -1 ||
	    getsockname(lb->fd, (struct sockaddr *)&sin, &sl) == -1) {
		buf_addf(err, "cannot listen on 127.0.0.1: %s",
		    strerror(errno));
		return -1;
	}
	lb->port = ntohs(sin.sin_port);
	return 0;
}

static void
conn_close(struct loopback_conn *c)
{
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	buf_wipe(&c->head);
}

/* Best effort within `deadline`: the peer may be gone. */
static void
send_all(int fd, const char *p, size_t n, long long deadline)
{
	struct pollfd	 pfd;
	ssize_t		 w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w == -1 && errno != EAGAIN && errno != EINTR)
			return;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (ms_left(deadline) == 0 ||
		    (poll(&pfd, 1, ms_left(deadline)) == -1 && errno != EINTR))
			return;
	}
}

/* A request that is not the redirect: 400, and nothing of it repeated. */
static void
refuse(struct loopback_conn *c)
{
	struct buf	 page = BUF_INIT;

	oauth_redirect_page(&page, 400, "postie: this is not the answer to "
	    "postie's authorization request.");
	send_all(c->fd, page.data, page.len, now_ms() + LOOPBACK_CONN_MS);
	(void)shutdown(c->fd, SHUT_WR);
	buf_release(&page);
	conn_close(c);
}

static void
accept_one(struct loopback *lb)
{
	size_t	 i;
	int	 fd;

	if ((fd = accept4(lb->fd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) == -1)
		return;		/* gone already, or EMFILE: next time */
	for (i = 0; i < LOOPBACK_CONNS; i++)
		if (lb->conns[i].fd == -1)
			break;
	if (i == LOOPBACK_CONNS) {
		(void)close(fd);
		return;
	}
	lb->conns[i].fd = fd;
	lb->conns[i].deadline = now_ms() + LOOPBACK_CONN_MS;
	/* All of it at once: a realloc would leave a copy of a code in
	 * freed memory. */
	buf_grow(&lb->conns[i].head, LOOPBACK_HEAD_MAX);
}

/* Read what `c` has: 1 when it completed the redirect, else 0. */
static int
conn_read(struct loopback *lb, struct loopback_conn *c, const char *state,
    struct oauth_redirect *r)
{
	const char	*end, *why;
	size_t		 from;
	ssize_t		 n;

	n = read(c->fd, c->head.data + c->head.len,
	    LOOPBACK_HEAD_MAX - c->head.len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_close(c);
		return 0;
	}
	from = c->head.len > 3 ? c->head.len - 3 : 0;
	c->head.len += (size_t)n;
	c->head.data[c->head.len] = '\0';
	end = memmem(c->head.data + from, c->head.len - from, "\r\n\r\n", 4);
	if (end == NULL) {
		if (c->head.len == LOOPBACK_HEAD_MAX)
			refuse(c);
		return 0;
	}
	if (oauth_redirect_parse(r, c->head.data,
	    (size_t)(end + 4 - c->head.data), state, &why) == -1) {
		refuse(c);
		return 0;
	}
	lb->answer_fd = c->fd;
	c->fd = -1;
	conn_close(c);
	return 1;
}

int
loopback_wait(struct loopback *lb, const char *state, long long deadline,
    struct oauth_redirect *r, struct buf *err)
{
	struct pollfd		 pfd[1 + LOOPBACK_CONNS];
	struct loopback_conn	*which[1 + LOOPBACK_CONNS];
	long long		 now, next;
	size_t			 i, n, free_slots;
	int			 k;

	for (;;) {
		if ((now = now_ms()) >= deadline)
			return 0;
		next = deadline;
		n = free_slots = 0;
		for (i = 0; i < LOOPBACK_CONNS; i++) {
			if (lb->conns[i].fd != -1 &&
			    lb->conns[i].deadline <= now)
				conn_close(&lb->conns[i]);
			if (lb->conns[i].fd == -1) {
				free_slots++;
				continue;
			}
			if (lb->conns[i].deadline < next)
				next = lb->conns[i].deadline;
			pfd[n].fd = lb->conns[i].fd;
			pfd[n].events = POLLIN;
			which[n++] = &lb->conns[i];
		}
		if (free_slots > 0) {
			pfd[n].fd = lb->fd;
			pfd[n].events = POLLIN;
			which[n++] = NULL;
		}
		if ((k = poll(pfd, n, ms_left(next))) == -1) {
			if (errno == EINTR)
				continue;
			buf_addf(err, "cannot wait for the browser: %s",
			    strerror(errno));
			return -1;
		}
		for (i = 0; k > 0 && i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (which[i] == NULL)
				accept_one(lb);
			else if (conn_read(lb, which[i], state, r))
				return 1;
		}
	}
}

void
loopback_answer(struct loopback *lb, const char *text)
{
	struct buf	 page = BUF_INIT;

	if (lb->answer_fd == -1)
		return;
	oauth_redirect_page(&page, 200, text);
	send_all(lb->answer_fd, page.data, page.len,
	    now_ms() + LOOPBACK_CONN_MS);
	(void)shutdown(lb->answer_fd, SHUT_WR);
	(void)close(lb->answer_fd);
	lb->answer_fd = -1;
	buf_release(&page);
}

void
loopback_close(struct loopback *lb)
{
	size_t	 i;

	for (i = 0; i < LOOPBACK_CONNS; i++)
		conn_close(&lb->conns[i]);
	if (lb->answer_fd != -1)
		(void)close(lb->answer_fd);
	if (lb->fd != -1)
		(void)close(lb->fd);
	lb->fd = lb->answer_fd = -1;
}
