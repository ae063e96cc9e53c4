#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "http.h"
#include "util.h"

/*
 * The response parser of http.h: a state machine over the server's
 * bytes.  Lines (status, header fields, chunk sizes, the CRLF after a
 * chunk, trailer fields) are collected in p->line up to their LF, each
 * bounded as it grows, so a server that never sends an LF still hits a
 * limit; body bytes go straight to the response.
 */

enum {
	S_STATUS,
	S_HEADER,
	S_CL_BODY,	/* `left` bytes of Content-Length body to go */
	S_CHUNK_SIZE,
	S_CHUNK_DATA,	/* `left` bytes of this chunk to go */
	S_CHUNK_END,	/* the CRLF after a chunk's data */
	S_TRAILER,
	S_EOF_BODY,	/* up to the end of the connection */
	S_DONE,
	S_BAD
};

static void	response_reset(struct http_response *);
static size_t	line_limit(const struct http_parser *, const char **);
static int	line_done(struct http_parser *, const char **);
static int	status_line(struct http_parser *, const char *, size_t,
		    const char **);
static int	field_check(const char *, size_t, size_t *, const char **);
static int	header_line(struct http_parser *, const char *, size_t,
		    const char **);
static int	keep_field(struct http_parser *, const char *, size_t,
		    const char *, size_t, const char **);
static int	parse_length(const char *, size_t, long long *);
static int	has_token(const char *, size_t, const char *);
static int	head_done(struct http_parser *, const char **);
static int	chunk_size_line(struct http_parser *, const char *, size_t,
		    const char **);
static size_t	body_bytes(struct http_parser *, const char *, size_t,
		    const char **);

void
http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->content_type);
	buf_init(&r->www_authenticate);
	buf_init(&r->location);
	buf_init(&r->body);
}

void
http_response_release(struct http_response *r)
{
	buf_wipe(&r->content_type);
	buf_wipe(&r->www_authenticate);
	buf_wipe(&r->location);
	buf_wipe(&r->body);
	r->status = r->minor = r->close = 0;
}

/* Forget an interim (1xx) response's fields before the final one. */
static void
response_reset(struct http_response *r)
{
	buf_reset(&r->content_type);
	buf_reset(&r->www_authenticate);
	buf_reset(&r->location);
	buf_reset(&r->body);
	r->status = r->minor = r->close = 0;
}

void
http_parser_init(struct http_parser *p, struct http_response *r,
    size_t body_max)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->line);
	p->resp = r;
	p->body_max = body_max;
	p->state = S_STATUS;
	p->clen = -1;
	http_response_release(r);
}

void
http_parser_release(struct http_parser *p)
{
	buf_wipe(&p->line);
}

/* How long the line being read may grow (its CR LF included), and what
 * to say when it grows longer. */
static size_t
line_limit(const struct http_parser *p, const char **why)
{
	switch (p->state) {
	case S_CHUNK_SIZE:
		*why = "chunk size line too long";
		return HTTP_MAX_CHUNK_LINE;
	case S_CHUNK_END:
		*why = "missing CRLF after chunk data";
		return 2;
	case S_TRAILER:
		*why = "trailer section too large";
		return HTTP_MAX_HEAD - p->head_len;
	default:
		*why = "response head too large";
		return HTTP_MAX_HEAD - p->head_len;
	}
}

/* A whole line (LF included) is in p->line: check its CR LF and hand it
 * on.  0, or -1 with *why. */
static int
line_done(struct http_parser *p, const char **why)
{
	const char	*s = p->line.data;
	size_t		 n = p->line.len;

	if (n < 2 || s[n - 2] != '\r') {
		*why = "bare LF in response (lines must end in CR LF)";
		return -1;
	}
	n -= 2;
	if (memchr(s, '\r', n) != NULL) {
		*why = "stray CR in response";
		return -1;
	}
	switch (p->state) {
	case S_STATUS:
		p->head_len += p->line.len;
		return status_line(p, s, n, why);
	case S_HEADER:
		p->head_len += p->line.len;
		return header_line(p, s, n, why);
	case S_CHUNK_SIZE:
		return chunk_size_line(p, s, n, why);
	case S_CHUNK_END:
		if (n != 0) {
			*why = "missing CRLF after chunk data";
			return -1;
		}
		p->state = S_CHUNK_SIZE;
		return 0;
	default:	/* S_TRAILER: checked, counted and dropped */
		p->head_len += p->line.len;
		if (n == 0) {
			p->state = S_DONE;
			return 0;
		}
		if (++p->nheaders > HTTP_MAX_HEADERS) {
			*why = "too many trailer fields";
			return -1;
		}
		return field_check(s, n, NULL, why);
	}
}

/* "HTTP/1.1 200 OK": version, three digits, then a space and a reason
 * (any text) or nothing. */
static int
status_line(struct http_parser *p, const char *s, size_t n, const char **why)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	if (n < 8 || memcmp(s, "HTTP/", 5) != 0) {
		*why = "malformed status line";
		return -1;
	}
	if (s[5] != '1' || s[6] != '.' || (s[7] != '0' && s[7] != '1')) {
		*why = "unsupported HTTP version";
		return -1;
	}
	if (n < 12 || s[8] != ' ' || (n > 12 && s[12] != ' ')) {
		*why = "malformed status line";
		return -1;
	}
	for (i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9') {
			*why = "malformed status code";
			return -1;
		}
	p->resp->minor = s[7] - '0';
	p->resp->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 +
	    (s[11] - '0');
	if (p->resp->status < 100 || p->resp->status > 599) {
		*why = "status code out of range";
		return -1;
	}
	for (i = 12; i < n; i++)
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
			*why = u[i] == '\0' ? "NUL byte in status line" :
			    "control character in status line";
			return -1;
		}
	p->state = S_HEADER;
	return 0;
}

/*
 * "name: value": a token, a colon at once, a value without NUL or
 * control characters (HTAB allowed).  *vstart (when not NULL) receives
 * where the value starts after the colon.  0, or -1 with *why.
 */
static int
field_check(const char *s, size_t n, size_t *vstart, const char **why)
{
	static const char	 tchar[] = "!#$%&'*+-.^_`|~";
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	if (memchr(s, '\0', n) != NULL) {
		*why = "NUL byte in header field";
		return -1;
	}
	if (u[0] == ' ' || u[0] == '\t') {
		*why = "obsolete line folding in header field";
		return -1;
	}
	for (i = 0; i < n && s[i] != ':'; i++)
		if (!((u[i] >= 'a' && u[i] <= 'z') ||
		    (u[i] >= 'A' && u[i] <= 'Z') ||
		    (u[i] >= '0' && u[i] <= '9') ||
		    strchr(tchar, u[i]) != NULL)) {
			*why = "malformed header field name";
			return -1;
		}
	if (i == 0 || i == n) {
		*why = "malformed header field";
		return -1;
	}
	if (vstart != NULL)
		*vstart = i + 1;
	for (i++; i < n; i++)
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
			*why = "control character in header field";
			return -1;
		}
	return 0;
}

static int
header_line(struct http_parser *p, const char *s, size_t n, const char **why)
{
	size_t	 v, e, colon;

	if (n == 0)
		return head_done(p, why);
	if (++p->nheaders > HTTP_MAX_HEADERS) {
		*why = "too many header fields";
		return -1;
	}
	if (field_check(s, n, &v, why) == -1)
		return -1;
	colon = v - 1;
	e = n;
	while (v < e && (s[v] == ' ' || s[v] == '\t'))
		v++;
	while (e > v && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	return keep_field(p, s, colon, s + v, e - v, why);
}

/* Act on or keep the fields that matter; ignore the rest. */
static int
keep_field(struct http_parser *p, const char *name, size_t nlen,
    const char *val, size_t vlen, const char **why)
{
	struct http_response	*r = p->resp;
	long long		 len;

#define NAME_IS(lit) (nlen == sizeof(lit) - 1 && \
	strncasecmp(name, lit, sizeof(lit) - 1) == 0)
	if (NAME_IS("content-length")) {
		if (parse_length(val, vlen, &len) == -1) {
			*why = "invalid Content-Length";
			return -1;
		}
		if (p->clen != -1 && p->clen != len) {
			*why = "conflicting Content-Length values";
			return -1;
		}
		p->clen = len;
	} else if (NAME_IS("transfer-encoding")) {
		if (p->chunked || vlen != 7 ||
		    strncasecmp(val, "chunked", 7) != 0) {
			*why = "unsupported Transfer-Encoding";
			return -1;
		}
		p->chunked = 1;
	} else if (NAME_IS("connection")) {
		if (has_token(val, vlen, "close"))
			r->close = 1;
	} else if (NAME_IS("content-type")) {
		if (r->content_type.len == 0)
			buf_add(&r->content_type, val, vlen);
	} else if (NAME_IS("location")) {
		if (r->location.len == 0)
			buf_add(&r->location, val, vlen);
	} else if (NAME_IS("www-authenticate")) {
		if (r->www_authenticate.len > 0)
			buf_addstr(&r->www_authenticate, ", ");
		buf_add(&r->www_authenticate, val, vlen);
	}
#undef NAME_IS
	return 0;
}

/* Digits only (no sign, no list), at most 18 of them so the value fits
 * any long long.  0, or -1. */
static int
parse_length(const char *s, size_t n, long long *out)
{
	long long	 v = 0;
	size_t		 i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* `tok` is one of the comma-separated tokens of s[0..n), any case. */
static int
has_token(const char *s, size_t n, const char *tok)
{
	size_t	 i = 0, b, e, tl = strlen(tok);

	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		b = i;
		while (i < n && s[i] != ',')
			i++;
		e = i;
		while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
			e--;
		if (e - b == tl && strncasecmp(s + b, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/* The empty line after the fields: skip an interim response, or decide
 * how the body is delimited (RFC 9112 6.3). */
static int
head_done(struct http_parser *p, const char **why)
{
	int	 st = p->resp->status;

	if (st == 101) {
		*why = "unexpected 101 Switching Protocols";
		return -1;
	}
	if (st < 200) {
		if (++p->ninterim > HTTP_MAX_INTERIM) {
			*why = "too many interim responses";
			return -1;
		}
		response_reset(p->resp);
		p->head_len = p->nheaders = 0;
		p->clen = -1;
		p->chunked = 0;
		p->state = S_STATUS;
		return 0;
	}
	if (p->clen != -1 && p->chunked) {
		*why = "both Content-Length and Transfer-Encoding";
		return -1;
	}
	if (st == 204 || st == 304)
		p->state = S_DONE;
	else if (p->chunked)
		p->state = S_CHUNK_SIZE;
	else if (p->clen == -1)
		p->state = S_EOF_BODY;
	else if ((unsigned long long)p->clen > p->body_max) {
		*why = "response body too large";
		return -1;
	} else {
		p->left = (unsigned long long)p->clen;
		/* One allocation: no copy of a token left behind in memory
		 * that a growing buffer freed. */
		buf_grow(&p->resp->body, (size_t)p->left);
		p->state = p->left == 0 ? S_DONE : S_CL_BODY;
	}
	return 0;
}

/* HEXDIG+, then optional white space and ";extensions" (ignored). */
static int
chunk_size_line(struct http_parser *p, const char *s, size_t n,
    const char **why)
{
	const unsigned char	*u = (const unsigned char *)s;
	unsigned long long	 v = 0;
	size_t			 i;
	int			 d;

	for (i = 0; i < n && (d = hex_digit(u[i])) != -1; i++) {
		if (v > (ULLONG_MAX >> 4)) {
			*why = "chunk size out of range";
			return -1;
		}
		v = v << 4 | (unsigned)d;
	}
	if (i == 0) {
		*why = "malformed chunk size";
		return -1;
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n && s[i] != ';') {
		*why = "malformed chunk size";
		return -1;
	}
	for (; i < n; i++)
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
			*why = "malformed chunk extension";
			return -1;
		}
	if (v > p->body_max - p->resp->body.len) {
		*why = "response body too large";
		return -1;
	}
	if (v == 0) {
		p->head_len = p->nheaders = 0;
		p->state = S_TRAILER;
	} else {
		p->left = v;
		p->state = S_CHUNK_DATA;
	}
	return 0;
}

/* Take body bytes for the current state; returns how many, or
 * (size_t)-1 with *why. */
static size_t
body_bytes(struct http_parser *p, const char *s, size_t n, const char **why)
{
	if (p->state == S_EOF_BODY) {
		if (n > p->body_max - p->resp->body.len) {
			*why = "response body too large";
			return (size_t)-1;
		}
		buf_add(&p->resp->body, s, n);
		return n;
	}
	if (n > p->left)
		n = (size_t)p->left;
	buf_add(&p->resp->body, s, n);
	p->left -= n;
	if (p->left == 0)
		p->state = p->state == S_CL_BODY ? S_DONE : S_CHUNK_END;
	return n;
}

enum http_state
http_parse(struct http_parser *p, const char *s, size_t n, size_t *used,
    const char **why)
{
	const char	*nl;
	size_t		 off = 0, k, lim;

	*why = NULL;
	while (off < n && p->state != S_DONE && p->state != S_BAD) {
		if (p->state == S_CL_BODY || p->state == S_CHUNK_DATA ||
		    p->state == S_EOF_BODY) {
			if ((k = body_bytes(p, s + off, n - off, why)) ==
			    (size_t)-1)
				goto bad;
			off += k;
			continue;
		}
		nl = memchr(s + off, '\n', n - off);
		k = nl != NULL ? (size_t)(nl - (s + off)) + 1 : n - off;
		lim = line_limit(p, why);
		if (p->line.len + k > lim)
			goto bad;
		buf_add(&p->line, s + off, k);
		off += k;
		if (nl == NULL)
			break;
		if (line_done(p, why) == -1)
			goto bad;
		explicit_bzero(p->line.data, p->line.len);
		buf_reset(&p->line);
	}
	*used = off;
	if (p->state == S_BAD) {
		*why = "response already refused";
		return HTTP_BAD;
	}
	return p->state == S_DONE ? HTTP_DONE : HTTP_MORE;
bad:
	*used = off;
	p->state = S_BAD;
	return HTTP_BAD;
}

enum http_state
http_parse_eof(struct http_parser *p, int clean, const char **why)
{
	*why = NULL;
	switch (p->state) {
	case S_DONE:
		return HTTP_DONE;
	case S_EOF_BODY:
		if (!clean) {
			*why = "connection closed without a TLS close_notify "
			    "(the body may be cut)";
			break;
		}
		p->state = S_DONE;
		return HTTP_DONE;
	case S_STATUS:
		*why = p->line.len == 0 && p->ninterim == 0 ?
		    "connection closed without a response" :
		    "connection closed in the response head";
		break;
	case S_HEADER:
		*why = "connection closed in the response head";
		break;
	case S_CL_BODY:
		*why = "connection closed in the body";
		break;
	case S_BAD:
		*why = "response already refused";
		return HTTP_BAD;
	default:
		*why = "connection closed in the chunked body";
		break;
	}
	p->state = S_BAD;
	return HTTP_BAD;
}
