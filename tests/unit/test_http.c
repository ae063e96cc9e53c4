#include "config.h"

#include <string.h>

#include "buf.h"
#include "http.h"
#include "t.h"

#define CAP	 65536
#define BARE_LF	 "bare LF in response (lines must end in CR LF)"

/*
 * Feed `n` bytes of `in` split after byte `split` (and, when `bytewise`,
 * one byte at a time), then the end of the connection if the parser
 * still wants more.  Returns the final state; *why the reason, *used_all
 * how many bytes were taken in all.
 */
static enum http_state
feed(const char *in, size_t n, size_t cap, size_t split, int bytewise,
    struct http_response *r, const char **why, size_t *used_all)
{
	struct http_parser	 p;
	enum http_state		 st = HTTP_MORE;
	size_t			 off = 0, k, used;

	http_parser_init(&p, r, cap);
	*used_all = 0;
	while (off < n && st == HTTP_MORE) {
		k = bytewise ? 1 : (off < split ? split - off : n - off);
		st = http_parse(&p, in + off, k, &used, why);
		*used_all += used;
		if (st == HTTP_MORE && used != k)
			return HTTP_BAD;	/* MORE must take everything */
		off += k;
	}
	if (st == HTTP_MORE)
		st = http_parse_eof(&p, 1, why);
	http_parser_release(&p);
	return st;
}

/*
 * The response parses the same whole, split at every byte boundary and
 * byte by byte: DONE with this status and body.
 */
static void
ok_cap(const char *in, size_t cap, int status, const char *body,
    size_t body_len)
{
	struct http_response	 r;
	const char		*why;
	size_t			 n = strlen(in), split, used;
	int			 good = 1;

	http_response_init(&r);
	for (split = 0; split <= n + 1; split++) {
		if (feed(in, n, cap, split, split == n + 1, &r, &why,
		    &used) != HTTP_DONE || r.status != status ||
		    r.body.len != body_len ||
		    memcmp(buf_str(&r.body), body, body_len) != 0) {
			good = 0;
			fprintf(stderr, "split %zu: %s\n", split,
			    why != NULL ? why : "(wrong result)");
			break;
		}
	}
	CHECK(good);
	http_response_release(&r);
}

static void
ok(const char *in, int status, const char *body)
{
	ok_cap(in, CAP, status, body, strlen(body));
}

/* Refused with exactly this reason, however it is split. */
static void
bad_n(const char *in, size_t n, size_t cap, const char *want)
{
	struct http_response	 r;
	const char		*why = NULL;
	size_t			 split, used;
	int			 good = 1;

	http_response_init(&r);
	for (split = 0; split <= n + 1; split++) {
		if (feed(in, n, cap, split, split == n + 1, &r, &why,
		    &used) != HTTP_BAD || why == NULL ||
		    strcmp(why, want) != 0) {
			good = 0;
			fprintf(stderr, "split %zu: got \"%s\", want \"%s\"\n",
			    split, why != NULL ? why : "(null)", want);
			break;
		}
	}
	CHECK(good);
	http_response_release(&r);
}

/* A literal that holds NUL bytes. */
#define BAD_LIT(lit, want)	bad_n(lit, sizeof(lit) - 1, CAP, want)

static void
bad(const char *in, const char *want)
{
	bad_n(in, strlen(in), CAP, want);
}

static void
test_content_length(void)
{
	struct http_response	 r;
	const char		*why, *in;
	size_t			 used;

	ok("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello");
	ok("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, "");
	ok("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", 200, "hi");
	/* Repeated, agreeing values; a status line without a reason. */
	ok("HTTP/1.1 400\r\ncontent-LENGTH: 2\r\nContent-Length:  2 \r\n"
	    "\r\n{}", 400, "{}");
	ok("HTTP/1.1 204 No Content\r\n\r\n", 204, "");
	ok("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", 304, "");

	/* Bytes after the body are not the response's. */
	in = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiEXTRA";
	http_response_init(&r);
	CHECK_INT(feed(in, strlen(in), CAP, strlen(in), 0, &r, &why, &used),
	    HTTP_DONE);
	CHECK_INT(used, strlen(in) - 5);
	CHECK_STR(buf_str(&r.body), "hi");
	http_response_release(&r);

	bad("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    "conflicting Content-Length values");
	bad("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "invalid Content-Length");
	bad("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n",
	    "invalid Content-Length");
	bad("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n",
	    "invalid Content-Length");
	bad("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
	    "invalid Content-Length");
	bad("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
	    "invalid Content-Length");
	bad("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n"
	    "\r\n", "invalid Content-Length");
	bad("HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\n",
	    "response body too large");
	bad("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
	    "connection closed in the body");
	bad("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n", "both Content-Length and Transfer-Encoding");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length:"
	    " 5\r\n\r\n", "both Content-Length and Transfer-Encoding");
}

static void
test_chunked(void)
{
	ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 200, "hello world");
	/* Extensions ignored, trailers skipped, hex in either case. */
	ok("HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\n\r\n"
	    "a;name=value;x=\"q\"\r\n0123456789\r\nA ; ext\r\nabcdefghij\r\n"
	    "0;last\r\nX-Trailer: 1\r\nOther: two\r\n\r\n", 200,
	    "0123456789abcdefghij");
	ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	    200, "");
	ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0000000000000000000003\r\nabc\r\n0\r\n\r\n", 200, "abc");

	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "malformed chunk size");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
	    "malformed chunk size");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
	    "malformed chunk size");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n",
	    "malformed chunk size");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "1ffffffffffffffff\r\n", "chunk size out of range");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "fffffffffffffff\r\n", "response body too large");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "1;a\001b\r\nx\r\n", "malformed chunk extension");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nabc\r\n", "missing CRLF after chunk data");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nab\n0\r\n\r\n", BARE_LF);
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhel", "connection closed in the chunked body");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\nTrailer: x\r\n", "connection closed in the chunked body");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\nBad Trailer: x\r\n\r\n", "malformed header field name");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	    "unsupported Transfer-Encoding");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    "unsupported Transfer-Encoding");
	bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
	    "unsupported Transfer-Encoding");
}

static void
test_to_eof(void)
{
	ok("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it\n",
	    200, "all of it\n");
	ok("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close", 200,
	    "until close");
	ok("HTTP/1.0 500 Oops\r\n\r\n", 500, "");
}

/* A body that ends with the connection needs a clean end; one with a
 * length does not care. */
static void
test_unclean_eof(void)
{
	struct http_parser	 p;
	struct http_response	 r;
	const char		*why;
	size_t			 used;
	const char		*eof = "HTTP/1.0 200 OK\r\n\r\nbody";
	const char		*len = "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n"
	    "\r\nbody";

	http_response_init(&r);
	http_parser_init(&p, &r, CAP);
	CHECK_INT(http_parse(&p, eof, strlen(eof), &used, &why), HTTP_MORE);
	CHECK_INT(http_parse_eof(&p, 0, &why), HTTP_BAD);
	CHECK_STR(why, "connection closed without a TLS close_notify "
	    "(the body may be cut)");
	http_parser_release(&p);
	http_parser_init(&p, &r, CAP);
	CHECK_INT(http_parse(&p, len, strlen(len), &used, &why), HTTP_DONE);
	CHECK_INT(http_parse_eof(&p, 0, &why), HTTP_DONE);
	CHECK_STR(buf_str(&r.body), "body");
	http_parser_release(&p);
	http_parser_init(&p, &r, CAP);
	CHECK_INT(http_parse(&p, len, strlen(len) - 2, &used, &why),
	    HTTP_MORE);
	CHECK_INT(http_parse_eof(&p, 0, &why), HTTP_BAD);
	CHECK_STR(why, "connection closed in the body");
	http_parser_release(&p);
	http_response_release(&r);
}

static void
test_status_line(void)
{
	bad("", "connection closed without a response");
	bad("HTTP/1.1 200 OK\r\n", "connection closed in the response head");
	bad("HTTP/1.1 200 OK\r\nA: b",
	    "connection closed in the response head");
	bad("HTTP/1.1 20", "connection closed in the response head");
	bad("HTTP/2 200 OK\r\n\r\n", "unsupported HTTP version");
	bad("HTTP/1.2 200 OK\r\n\r\n", "unsupported HTTP version");
	bad("HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version");
	bad("http/1.1 200 OK\r\n\r\n", "malformed status line");
	bad("SSH-2.0-OpenSSH_9.2\r\n", "malformed status line");
	bad("HTTP/1.1  200 OK\r\n\r\n", "malformed status line");
	bad("HTTP/1.1 2000 OK\r\n\r\n", "malformed status line");
	bad("HTTP/1.1 20x OK\r\n\r\n", "malformed status code");
	bad("HTTP/1.1 099 OK\r\n\r\n", "status code out of range");
	bad("HTTP/1.1 600 OK\r\n\r\n", "status code out of range");
	BAD_LIT("HTTP/1.1 200 O\0K\r\n\r\n", "NUL byte in status line");
	bad("HTTP/1.1 200 O\033K\r\n\r\n", "control character in status line");
	bad("HTTP/1.1 101 Switching Protocols\r\n\r\n",
	    "unexpected 101 Switching Protocols");
	/* Bare LF and lone CR: refused (see http.h). */
	bad("HTTP/1.1 200 OK\n\n", BARE_LF);
	bad("HTTP/1.1 200 OK\r\nA: b\n\r\n", BARE_LF);
	bad("HTTP/1.1 200 OK\r\n\n", BARE_LF);
	bad("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "stray CR in response");
}

static void
test_interim(void)
{
	struct http_response	 r;
	const char		*why, *in;
	size_t			 used;
	struct buf		 b = BUF_INIT;
	int			 i;

	ok("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1"
	    "\r\n\r\nx", 200, "x");
	/* An interim response's fields do not leak into the final one. */
	in = "HTTP/1.1 103 Early Hints\r\nLocation: /a\r\nContent-Length: 9\r\n"
	    "\r\nHTTP/1.1 200 OK\r\n\r\nbody";
	http_response_init(&r);
	CHECK_INT(feed(in, strlen(in), CAP, 0, 0, &r, &why, &used), HTTP_DONE);
	CHECK_STR(buf_str(&r.location), "");
	CHECK_STR(buf_str(&r.body), "body");
	http_response_release(&r);

	for (i = 0; i <= HTTP_MAX_INTERIM; i++)
		buf_addstr(&b, "HTTP/1.1 100 Continue\r\n\r\n");
	buf_addstr(&b, "HTTP/1.1 200 OK\r\n\r\n");
	bad(buf_str(&b), "too many interim responses");
	buf_release(&b);
}

static void
test_headers(void)
{
	struct http_response	 r;
	const char		*why, *in;
	struct buf		 b = BUF_INIT;
	size_t			 used;
	int			 i;

	in = "HTTP/1.1 401 Unauthorized\r\n"
	    "content-type:application/json; charset=utf-8  \r\n"
	    "Content-Type: text/html\r\n"
	    "WWW-Authenticate: Bearer realm=\"a\"\r\n"
	    "www-authenticate:\tBasic realm=\"b\"\r\n"
	    "LOCATION: https://example.test/x\r\n"
	    "Connection: keep-alive, Close\r\n"
	    "X-Other: \xc3\xa9t\xc3\xa9\r\n"
	    "Empty:\r\n"
	    "Content-Length: 2\r\n\r\n{}";
	http_response_init(&r);
	CHECK_INT(feed(in, strlen(in), CAP, 0, 0, &r, &why, &used), HTTP_DONE);
	CHECK_INT(r.status, 401);
	CHECK_INT(r.minor, 1);
	CHECK_INT(r.close, 1);
	CHECK_STR(buf_str(&r.content_type), "application/json; charset=utf-8");
	CHECK_STR(buf_str(&r.www_authenticate),
	    "Bearer realm=\"a\", Basic realm=\"b\"");
	CHECK_STR(buf_str(&r.location), "https://example.test/x");
	CHECK_STR(buf_str(&r.body), "{}");
	http_response_release(&r);
	CHECK(r.body.data == NULL);

	bad("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
	    "obsolete line folding in header field");
	bad("HTTP/1.1 200 OK\r\n\tfolded: x\r\n\r\n",
	    "obsolete line folding in header field");
	BAD_LIT("HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n",
	    "NUL byte in header field");
	BAD_LIT("HTTP/1.1 200 OK\r\nA\0: bc\r\n\r\n",
	    "NUL byte in header field");
	bad("HTTP/1.1 200 OK\r\nA: b\001c\r\n\r\n",
	    "control character in header field");
	bad("HTTP/1.1 200 OK\r\nA : b\r\n\r\n", "malformed header field name");
	bad("HTTP/1.1 200 OK\r\nA(b): c\r\n\r\n",
	    "malformed header field name");
	bad("HTTP/1.1 200 OK\r\n: c\r\n\r\n", "malformed header field");
	bad("HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
	    "malformed header field name");
	bad("HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", "malformed header field");

	/* HTTP_MAX_HEADERS fields are fine, one more is not. */
	buf_addstr(&b, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS; i++)
		buf_addf(&b, "X-%d: %d\r\n", i, i);
	buf_addstr(&b, "\r\n");
	ok(buf_str(&b), 200, "");
	buf_truncate(&b, b.len - 2);
	buf_addstr(&b, "X-last: 1\r\n\r\n");
	bad(buf_str(&b), "too many header fields");

	/* The head: HTTP_MAX_HEAD bytes exactly, then one more. */
	buf_reset(&b);
	buf_addstr(&b, "HTTP/1.1 200 OK\r\nX: ");
	while (b.len < HTTP_MAX_HEAD - 4)
		buf_addch(&b, 'v');
	buf_addstr(&b, "\r\n\r\n");
	CHECK_INT(b.len, HTTP_MAX_HEAD);
	ok(buf_str(&b), 200, "");
	buf_truncate(&b, b.len - 4);
	buf_addstr(&b, "w\r\n\r\n");
	bad(buf_str(&b), "response head too large");
	/* A line that never ends hits the limit too. */
	buf_truncate(&b, b.len - 4);
	buf_addstr(&b, "vvvv");
	bad(buf_str(&b), "response head too large");
	buf_release(&b);
}

static void
test_caps(void)
{
	struct buf	 b = BUF_INIT, body = BUF_INIT;
	size_t		 cap = 100, i;

	for (i = 0; i < cap; i++)
		buf_addch(&body, 'a' + (int)(i % 26));
	/* Exactly the cap: by length, chunked, to EOF. */
	buf_addf(&b, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", cap,
	    buf_str(&body));
	ok_cap(buf_str(&b), cap, 200, buf_str(&body), cap);
	buf_reset(&b);
	buf_addf(&b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "32\r\n%.50s\r\n32\r\n%s\r\n0\r\n\r\n", buf_str(&body),
	    buf_str(&body) + 50);
	ok_cap(buf_str(&b), cap, 200, buf_str(&body), cap);
	buf_reset(&b);
	buf_addf(&b, "HTTP/1.0 200 OK\r\n\r\n%s", buf_str(&body));
	ok_cap(buf_str(&b), cap, 200, buf_str(&body), cap);

	/* One more byte: refused every way. */
	buf_addch(&body, 'z');
	buf_reset(&b);
	buf_addf(&b, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
	    cap + 1, buf_str(&body));
	bad_n(buf_str(&b), b.len, cap, "response body too large");
	buf_reset(&b);
	buf_addf(&b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "32\r\n%.50s\r\n33\r\n%s\r\n0\r\n\r\n", buf_str(&body),
	    buf_str(&body) + 50);
	bad_n(buf_str(&b), b.len, cap, "response body too large");
	buf_reset(&b);
	buf_addf(&b, "HTTP/1.0 200 OK\r\n\r\n%s", buf_str(&body));
	bad_n(buf_str(&b), b.len, cap, "response body too large");

	/* A chunk-size line that never ends. */
	buf_reset(&b);
	buf_addstr(&b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "1;");
	for (i = 0; i < HTTP_MAX_CHUNK_LINE; i++)
		buf_addch(&b, 'x');
	bad(buf_str(&b), "chunk size line too long");
	buf_release(&b);
	buf_release(&body);
}

/* After DONE nothing more is taken; after BAD the parser stays BAD. */
static void
test_after_end(void)
{
	struct http_parser	 p;
	struct http_response	 r;
	const char		*why;
	size_t			 used;
	const char		*done = "HTTP/1.1 204 No\r\n\r\n";

	http_response_init(&r);
	http_parser_init(&p, &r, CAP);
	CHECK_INT(http_parse(&p, done, strlen(done), &used, &why), HTTP_DONE);
	CHECK_INT(http_parse(&p, "x", 1, &used, &why), HTTP_DONE);
	CHECK_INT(used, 0);
	CHECK_INT(http_parse_eof(&p, 1, &why), HTTP_DONE);
	http_parser_release(&p);

	http_parser_init(&p, &r, CAP);
	CHECK_INT(http_parse(&p, "XTTP", 4, &used, &why), HTTP_MORE);
	CHECK_INT(http_parse(&p, "\r\n", 2, &used, &why), HTTP_BAD);
	CHECK_INT(http_parse(&p, "HTTP/1.1 200 OK\r\n", 17, &used, &why),
	    HTTP_BAD);
	CHECK_INT(http_parse_eof(&p, 1, &why), HTTP_BAD);
	http_parser_release(&p);
	http_response_release(&r);
}

static void
test_form(void)
{
	struct buf	 b = BUF_INIT;

	/* RFC 6749 appendix B's example value. */
	http_form_encode(&b, " %&+\xc2\xa3\xe2\x82\xac");
	CHECK_STR(buf_str(&b), "+%25%26%2B%C2%A3%E2%82%AC");
	buf_reset(&b);
	http_form_encode(&b, "AZaz09-._*~/=:?#@!$'()");
	CHECK_STR(buf_str(&b),
	    "AZaz09-._*%7E%2F%3D%3A%3F%23%40%21%24%27%28%29");
	buf_reset(&b);
	http_form_encode(&b, "\x01\x7f\xff\n");
	CHECK_STR(buf_str(&b), "%01%7F%FF%0A");
	buf_reset(&b);

	http_form_add(&b, "grant_type", "refresh_token");
	CHECK_STR(buf_str(&b), "grant_type=refresh_token");
	http_form_add(&b, "refresh_token", "1//a+b/c=");
	http_form_add(&b, "scope", "https://mail.google.com/ x");
	http_form_add(&b, "", "");
	CHECK_STR(buf_str(&b), "grant_type=refresh_token"
	    "&refresh_token=1%2F%2Fa%2Bb%2Fc%3D"
	    "&scope=https%3A%2F%2Fmail.google.com%2F+x&=");
	buf_wipe(&b);
}

static void
url_ok(const char *url, const char *host, int port, const char *target,
    const char *name)
{
	struct http_url	 u;
	struct buf	 err = BUF_INIT;

	CHECK_INT(http_url_parse(&u, url, &err), 0);
	CHECK_STR(u.host, host);
	CHECK_INT(u.port, port);
	CHECK_STR(buf_str(&u.target), target);
	CHECK_STR(buf_str(&u.name), name);
	http_url_release(&u);
	buf_release(&err);
}

static void
url_bad(const char *url, const char *want)
{
	struct http_url	 u;
	struct buf	 err = BUF_INIT;

	CHECK_INT(http_url_parse(&u, url, &err), -1);
	CHECK_STR(buf_str(&err), want);
	http_url_release(&u);
	buf_release(&err);
}

static void
test_url(void)
{
	url_ok("https://oauth2.googleapis.com/token", "oauth2.googleapis.com",
	    443, "/token", "https://oauth2.googleapis.com/token");
	url_ok("HTTPS://h.example", "h.example", 443, "/",
	    "https://h.example/");
	url_ok("https://127.0.0.1:8443/a/b?secret=x&y=z#frag", "127.0.0.1",
	    8443, "/a/b?secret=x&y=z", "https://127.0.0.1:8443/a/b");
	url_ok("https://[::1]:99?q=1", "::1", 99, "/?q=1", "https://[::1]:99/");
	url_ok("https://[::1]/t", "::1", 443, "/t", "https://[::1]/t");

	url_bad("http://h.example/token", "URL refused: only https is allowed");
	url_bad("ftp://h.example/", "not an https URL");
	url_bad("h.example", "not an https URL");
	url_bad("https://user:pw@h.example/",
	    "URL with user information refused");
	url_bad("https:///token", "invalid host name in URL");
	url_bad("https://h_x.example/", "invalid host name in URL");
	url_bad("https://[::1/", "invalid host name in URL");
	url_bad("https://[h.example]/", "invalid host name in URL");
	url_bad("https://h.example:0/", "invalid port in URL");
	url_bad("https://h.example:65536/", "invalid port in URL");
	url_bad("https://h.example:/", "invalid port in URL");
	url_bad("https://h.example:8x/", "invalid port in URL");
	url_bad("https://h.example/a b", "invalid character in URL");
	url_bad("https://h.example/a\r\nX: y", "invalid character in URL");
}

int
main(void)
{
	test_content_length();
	test_chunked();
	test_to_eof();
	test_unclean_eof();
	test_status_line();
	test_interim();
	test_headers();
	test_caps();
	test_after_end();
	test_form();
	test_url();
	return t_done();
}
