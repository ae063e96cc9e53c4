#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "iobuf.h"
#include "net.h"
#include "outcome.h"
#include "sasl.h"
#include "tls.h"
#include "util.h"

/*
 * The HTTPS client of http.h: one request, one response, then the
 * connection is closed.  Straight-line and blocking like the SMTP
 * engine; every wait is bounded by a step deadline and the overall one.
 */

struct http_conn {
	const struct http_opts	*o;
	const struct http_url	*u;
	long long		 deadline;	/* the overall one */
	int			 fd;
	struct tls		*tls;
	struct iobuf		 io;
};

static int	url_host(struct http_url *, const char *, size_t,
		    struct buf *);
static int	url_port(struct http_url *, const char *, size_t);
static long long step(const struct http_conn *);
static int	conn_open(struct http_conn *, struct buf *);
static void	conn_close(struct http_conn *);
static void	add_request(struct buf *, const char *,
		    const struct http_url *, const struct http_opts *,
		    const struct buf *);
static int	send_request(struct http_conn *, const struct buf *,
		    struct buf *);
static int	read_response(struct http_conn *, struct http_response *,
		    struct buf *);
static int	exchange(const char *, const char *, const struct buf *,
		    const struct http_opts *, struct http_response *,
		    struct buf *);

void
http_form_encode(struct buf *out, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*u = (const unsigned char *)s;

	for (; *u != '\0'; u++) {
		if ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
		    (*u >= '0' && *u <= '9') || strchr("-._*", *u) != NULL)
			buf_addch(out, *u);
		else if (*u == ' ')
			buf_addch(out, '+');
		else {
			buf_addch(out, '%');
			buf_addch(out, hex[*u >> 4]);
			buf_addch(out, hex[*u & 15]);
		}
	}
}

void
http_form_add(struct buf *form, const char *name, const char *value)
{
	/* Reserved once, so no realloc leaves a copy of a secret behind. */
	buf_grow(form, 3 * (strlen(name) + strlen(value)) + 2);
	if (form->len > 0)
		buf_addch(form, '&');
	http_form_encode(form, name);
	buf_addch(form, '=');
	http_form_encode(form, value);
}

void
http_url_release(struct http_url *u)
{
	buf_release(&u->target);
	buf_release(&u->name);
	u->host[0] = '\0';
	u->port = 0;
}

/* The host part: a DNS name, an IPv4 literal or "[IPv6]". */
static int
url_host(struct http_url *u, const char *s, size_t n, struct buf *err)
{
	size_t	 i, b = 0, e = n;

	if (n > 0 && s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			goto bad;
		b = 1;
		e = n - 1;
	}
	if (e - b == 0 || e - b >= sizeof(u->host))
		goto bad;
	for (i = b; i < e; i++) {
		if (b == 1 ? hex_digit(s[i]) != -1 || s[i] == ':' ||
		    s[i] == '.' :
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-')
			continue;
		goto bad;
	}
	memcpy(u->host, s + b, e - b);
	u->host[e - b] = '\0';
	return 0;
bad:
	buf_addstr(err, "invalid host name in URL");
	return -1;
}

static int
url_port(struct http_url *u, const char *s, size_t n)
{
	size_t	 i;
	int	 v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	u->port = v;
	return 0;
}

int
http_url_parse(struct http_url *u, const char *url, struct buf *err)
{
	const char	*a, *ae, *colon, *t, *q;
	size_t		 i;

	memset(u, 0, sizeof(*u));
	buf_init(&u->target);
	buf_init(&u->name);
	u->port = 443;
	if (strncasecmp(url, "https://", 8) != 0) {
		buf_addstr(err, strncasecmp(url, "http://", 7) == 0 ?
		    "URL refused: only https is allowed" :
		    "not an https URL");
		return -1;
	}
	a = url + 8;
	ae = a + strcspn(a, "/?#");
	if (memchr(a, '@', (size_t)(ae - a)) != NULL) {
		buf_addstr(err, "URL with user information refused");
		return -1;
	}
	/* The port's colon: the last one, outside an IPv6 literal. */
	colon = NULL;
	for (t = a; t < ae; t++)
		if (*t == ':')
			colon = t;
	if (colon != NULL && a[0] == '[' && colon < ae && colon[-1] != ']')
		colon = NULL;
	if (url_host(u, a, (size_t)((colon != NULL ? colon : ae) - a),
	    err) == -1)
		return -1;
	if (colon != NULL &&
	    url_port(u, colon + 1, (size_t)(ae - colon - 1)) == -1) {
		buf_addstr(err, "invalid port in URL");
		return -1;
	}
	t = ae;
	for (i = 0; t[i] != '\0' && t[i] != '#'; i++)
		if ((unsigned char)t[i] <= 0x20 ||
		    (unsigned char)t[i] >= 0x7f) {
			buf_addstr(err, "invalid character in URL");
			return -1;
		}
	if (i == 0 || t[0] == '?')
		buf_addch(&u->target, '/');
	buf_add(&u->target, t, i);
	q = memchr(t, '?', i);
	buf_addstr(&u->name, "https://");
	buf_add(&u->name, a, (size_t)(ae - a));
	if (q == NULL && i > 0)
		buf_add(&u->name, t, i);
	else if (q != NULL && q > t)
		buf_add(&u->name, t, (size_t)(q - t));
	else
		buf_addch(&u->name, '/');
	return 0;
}

/* The deadline of the next step: step_ms from now, never past the
 * overall one. */
static long long
step(const struct http_conn *c)
{
	long long	 d;

	if (c->o->step_ms <= 0)
		return c->deadline;
	d = now_ms() + c->o->step_ms;
	return d < c->deadline ? d : c->deadline;
}

/* Connect and handshake, verifying as for SMTP (no switch to turn it
 * off: certcheck is forced on). */
static int
conn_open(struct http_conn *c, struct buf *err)
{
	struct net_target	 nt;
	struct tls_params	 tp;
	struct buf		 why = BUF_INIT, addr = BUF_INIT;
	enum local_err		 le;

	memset(&nt, 0, sizeof(nt));
	nt.host = c->u->host;
	nt.port = c->u->port;
	if ((c->fd = net_connect(&nt, step(c), &le, &why, &addr)) == -1) {
		buf_addstr(err, buf_str(&why));
		goto fail;
	}
	iobuf_init(&c->io, c->fd);
	if (c->o->tls != NULL)
		tp = *c->o->tls;
	else
		memset(&tp, 0, sizeof(tp));
	tp.host = c->u->host;
	tp.certcheck = 1;
	tp.store = NULL;
	tp.store_ctx = NULL;
	tp.cache_name = NULL;
	c->tls = tls_new();
	if (tls_handshake(c->tls, c->fd, &tp, step(c), &why) == -1) {
		buf_addf(err, "TLS handshake failed: %s", buf_str(&why));
		goto fail;
	}
	(void)iobuf_set_ops(&c->io, &tls_io_ops, c->tls);
	buf_release(&why);
	buf_release(&addr);
	return 0;
fail:
	buf_release(&why);
	buf_release(&addr);
	return -1;
}

static void
conn_close(struct http_conn *c)
{
	if (c->fd == -1)
		return;
	iobuf_wipe(&c->io);
	if (c->tls != NULL)
		tls_free(c->tls);
	close(c->fd);
	c->fd = -1;
	c->tls = NULL;
}

/* The request head (and body): Basic credentials are encoded in a
 * buffer of their own, wiped here. */
static void
add_request(struct buf *req, const char *method, const struct http_url *u,
    const struct http_opts *o, const struct buf *form)
{
	struct buf	 cred = BUF_INIT, b64 = BUF_INIT;
	int		 v6 = strchr(u->host, ':') != NULL;

	buf_addf(req, "%s %s HTTP/1.1\r\nHost: %s%s%s", method,
	    buf_str(&u->target), v6 ? "[" : "", u->host, v6 ? "]" : "");
	if (u->port != 443)
		buf_addf(req, ":%d", u->port);
	buf_addstr(req, "\r\nUser-Agent: postie/" PACKAGE_VERSION "\r\n"
	    "Accept: application/json\r\nConnection: close\r\n");
	if (o->client_id != NULL) {
		buf_grow(&cred, 3 * (strlen(o->client_id) +
		    strlen(o->client_secret != NULL ? o->client_secret : "")) +
		    1);
		http_form_encode(&cred, o->client_id);
		buf_addch(&cred, ':');
		if (o->client_secret != NULL)
			http_form_encode(&cred, o->client_secret);
		buf_grow(&b64, cred.len / 3 * 4 + 4);
		sasl_b64_encode(cred.data, cred.len, &b64);
		buf_addf(req, "Authorization: Basic %s\r\n", buf_str(&b64));
		buf_wipe(&cred);
		buf_wipe(&b64);
	}
	if (form != NULL) {
		buf_addf(req, "Content-Type: application/x-www-form-urlencoded"
		    "\r\nContent-Length: %zu\r\n\r\n", form->len);
		buf_add(req, form->data, form->len);
	} else
		buf_addstr(req, "\r\n");
}

static int
send_request(struct http_conn *c, const struct buf *req, struct buf *err)
{
	enum io_result	 ior;

	iobuf_queue(&c->io, req->data, req->len);
	if ((ior = iobuf_flush(&c->io, step(c))) == IO_OK)
		return 0;
	if (ior == IO_TIMEOUT)
		buf_addstr(err, "timed out sending the request");
	else
		buf_addf(err, "cannot send the request: %s",
		    tls_last_error(c->tls));
	return -1;
}

static int
read_response(struct http_conn *c, struct http_response *resp,
    struct buf *err)
{
	struct http_parser	 p;
	enum http_state		 st = HTTP_MORE;
	enum io_result		 ior;
	const char		*s, *why = NULL;
	size_t			 n, used;

	http_parser_init(&p, resp, c->o->body_max);
	while (st == HTTP_MORE) {
		ior = iobuf_read(&c->io, &s, &n, step(c));
		if (ior == IO_OK)
			st = http_parse(&p, s, n, &used, &why);
		else if (ior == IO_EOF)
			st = http_parse_eof(&p, tls_eof_clean(c->tls), &why);
		else {
			buf_addstr(err, ior == IO_TIMEOUT ?
			    "timed out waiting for the response" :
			    "cannot read the response: ");
			if (ior != IO_TIMEOUT)
				buf_addstr(err, tls_last_error(c->tls));
			http_parser_release(&p);
			return -1;
		}
	}
	http_parser_release(&p);
	if (st == HTTP_BAD) {
		buf_addstr(err, why);
		return -1;
	}
	return 0;
}

/* One request on its own connection; the error line is prefixed with
 * the URL's name here, once. */
static int
exchange(const char *method, const char *url, const struct buf *form,
    const struct http_opts *o, struct http_response *resp, struct buf *err)
{
	struct http_conn	 c;
	struct http_url		 u;
	struct buf		 req = BUF_INIT, why = BUF_INIT;
	int			 rc = -1;

	http_response_release(resp);
	if (http_url_parse(&u, url, &why) == -1) {
		buf_addf(err, "%s", buf_str(&why));
		http_url_release(&u);
		buf_release(&why);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.u = &u;
	c.fd = -1;
	c.deadline = o->deadline > 0 ? o->deadline : LLONG_MAX / 4;
	if (conn_open(&c, &why) == 0) {
		buf_grow(&req, 512 + (form != NULL ? form->len : 0));
		add_request(&req, method, &u, o, form);
		if (send_request(&c, &req, &why) == 0 &&
		    read_response(&c, resp, &why) == 0)
			rc = 0;
		buf_wipe(&req);
		if (rc == 0)
			tls_bye(c.tls, step(&c));
	}
	conn_close(&c);
	if (rc == -1) {
		http_response_release(resp);
		buf_addf(err, "%s: %s", buf_str(&u.name), buf_str(&why));
	}
	http_url_release(&u);
	buf_release(&why);
	return rc;
}

int
http_post_form(const char *url, const struct buf *form,
    const struct http_opts *o, struct http_response *resp, struct buf *err)
{
	static const struct buf	 empty = BUF_INIT;

	return exchange("POST", url, form != NULL ? form : &empty, o, resp,
	    err);
}

int
http_get(const char *url, const struct http_opts *o,
    struct http_response *resp, struct buf *err)
{
	return exchange("GET", url, NULL, o, resp, err);
}
