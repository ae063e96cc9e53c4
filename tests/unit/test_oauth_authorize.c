#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "oauth.h"
#include "oauth_authorize.h"
#include "oauth_loopback.h"
#include "t.h"
#include "util.h"

/*
 * The pure parts of --oauth-authorize: base64url, the PKCE S256
 * challenge (RFC 7636 appendix B), the authorization request URL, the
 * loopback listener's reading of the browser's request (hostile ones
 * included) and its page; then the listener itself over real loopback
 * sockets: a head that never ends, a spare connection that never
 * speaks, a request in pieces.
 */

#define STATE	"s0_-STATE-0123456789abcdefghijklmnopqrstuvw"

static void
test_b64url(void)
{
	/* RFC 7636 appendix B: the verifier's 32 octets. */
	static const unsigned char v[32] = {
		116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216,
		173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5,
		88, 83, 132, 141, 121
	};
	static const unsigned char urlsafe[] = { 0xfb, 0xff, 0xbf };
	struct buf	 b = BUF_INIT;

	oauth_b64url(v, sizeof(v), &b);
	CHECK_STR(buf_str(&b), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	/* RFC 4648 10's vectors, without their padding. */
	buf_reset(&b);
	oauth_b64url("", 0, &b);
	CHECK_STR(buf_str(&b), "");
	buf_reset(&b);
	oauth_b64url("f", 1, &b);
	CHECK_STR(buf_str(&b), "Zg");
	buf_reset(&b);
	oauth_b64url("fo", 2, &b);
	CHECK_STR(buf_str(&b), "Zm8");
	buf_reset(&b);
	oauth_b64url("foo", 3, &b);
	CHECK_STR(buf_str(&b), "Zm9v");
	buf_reset(&b);
	oauth_b64url("foobar", 6, &b);
	CHECK_STR(buf_str(&b), "Zm9vYmFy");
	/* '+' and '/' become '-' and '_'; appended after what was there. */
	buf_reset(&b);
	buf_addstr(&b, "x=");
	oauth_b64url(urlsafe, sizeof(urlsafe), &b);
	CHECK_STR(buf_str(&b), "x=-_-_");
	buf_release(&b);
}

static void
test_s256(void)
{
	struct buf	 b = BUF_INIT;

	/* RFC 7636 appendix B. */
	CHECK_INT(oauth_pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	    &b), 0);
	CHECK_STR(buf_str(&b), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	buf_release(&b);
}

static void
test_auth_request(void)
{
	struct oauth_cfg c;
	struct buf	 b = BUF_INIT;
	char		 au[] = "https://auth.example/authorize";
	char		 aq[] = "https://auth.example/o/authorize?tenant=x";
	char		 sc[] = "mail offline_access";

	memset(&c, 0, sizeof(c));
	c.provider = "custom";
	c.client_id = "cid 1&2";
	c.auth_url = au;
	c.scope = sc;
	oauth_auth_request(&c, "http://127.0.0.1:8080/", "ST", "CH", &b);
	CHECK_STR(buf_str(&b), "https://auth.example/authorize?"
	    "response_type=code&client_id=cid+1%262&"
	    "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F&"
	    "scope=mail+offline_access&state=ST&code_challenge=CH&"
	    "code_challenge_method=S256");
	/* No scope: none sent.  A query in the URL already: '&'. */
	buf_reset(&b);
	c.scope = NULL;
	c.client_id = "abc";
	c.auth_url = aq;
	oauth_auth_request(&c, "http://127.0.0.1:1/", "S", "C", &b);
	CHECK_STR(buf_str(&b), "https://auth.example/o/authorize?tenant=x&"
	    "response_type=code&client_id=abc&"
	    "redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2F&state=S&"
	    "code_challenge=C&code_challenge_method=S256");
	/* Google: offline access, asked again, or no refresh token. */
	buf_reset(&b);
	c.provider = "google";
	c.auth_url = au;
	c.scope = sc;
	oauth_auth_request(&c, "http://127.0.0.1:1/", "S", "C", &b);
	CHECK_STR(buf_str(&b), "https://auth.example/authorize?"
	    "response_type=code&client_id=abc&"
	    "redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2F&"
	    "scope=mail+offline_access&state=S&code_challenge=C&"
	    "code_challenge_method=S256&access_type=offline&prompt=consent");
	buf_release(&b);
}

/* Parse a request line (the head is completed with one header field).
 * 0 with the fields as "code|error|desc" in `got`, else -1 and `why`. */
static int
parse_line(const char *line, struct buf *got, const char **why)
{
	struct oauth_redirect	 r;
	struct buf		 head = BUF_INIT;
	int			 rc;

	buf_reset(got);
	*why = "";
	buf_addf(&head, "%s\r\nHost: 127.0.0.1\r\n\r\n", line);
	oauth_redirect_init(&r);
	rc = oauth_redirect_parse(&r, head.data, head.len, STATE, why);
	if (rc == 0)
		buf_addf(got, "%s|%s|%s", buf_str(&r.code), buf_str(&r.error),
		    buf_str(&r.error_description));
	else
		CHECK(r.code.len == 0 && r.error.len == 0);
	oauth_redirect_release(&r);
	buf_release(&head);
	return rc;
}

/* The request must be refused, for `reason`. */
static void
refused(const char *line, const char *reason, int lineno)
{
	struct buf	 got = BUF_INIT;
	const char	*why;

	if (parse_line(line, &got, &why) != -1 || strcmp(why, reason) != 0) {
		t_fail++;
		fprintf(stderr, "%s:%d: '%s': got %s / '%s', want -1 / '%s'\n",
		    __FILE__, lineno, line, buf_str(&got), why, reason);
	} else
		t_pass++;
	buf_release(&got);
}

/* The request must be taken, its fields "code|error|desc" `want`. */
static void
taken(const char *line, const char *want, int lineno)
{
	struct buf	 got = BUF_INIT;
	const char	*why;

	if (parse_line(line, &got, &why) != 0 ||
	    strcmp(buf_str(&got), want) != 0) {
		t_fail++;
		fprintf(stderr, "%s:%d: '%s': got '%s' (%s), want '%s'\n",
		    __FILE__, lineno, line, buf_str(&got), why, want);
	} else
		t_pass++;
	buf_release(&got);
}

#define REFUSED(l, r)	refused((l), (r), __LINE__)
#define TAKEN(l, w)	taken((l), (w), __LINE__)
#define S		"state=" STATE

static void
test_redirect_parse(void)
{
	struct oauth_redirect	 r;
	struct buf		 line = BUF_INIT, want = BUF_INIT;
	const char		*why;
	static const char	 nul_head[] = "GET /?code=a&" S
	    " HTTP/1.1\r\nX: \0\r\n\r\n";
	size_t			 i;

	/* What a browser brings. */
	TAKEN("GET /?code=abc&" S " HTTP/1.1", "abc||");
	TAKEN("GET /?" S "&code=abc HTTP/1.0", "abc||");
	TAKEN("GET /?" S "&code=abc&scope=mail&authuser=0&iss=x HTTP/1.1",
	    "abc||");
	TAKEN("GET /?error=access_denied&" S " HTTP/1.1", "|access_denied|");
	TAKEN("GET /?error=access_denied&error_description=The+user%20said+"
	    "%22no%22%0A%1B%5B31m&" S " HTTP/1.1",
	    "|access_denied|The user said \"no\"??[31m");
	/* Percent-decoding: codes, names, the state itself. */
	TAKEN("GET /?code=4%2F0Ab%2Bc%3D&" S " HTTP/1.1", "4/0Ab+c=||");
	TAKEN("GET /?c%6Fde=x&" S " HTTP/1.1", "x||");
	TAKEN("GET /?code=x&state=s0%5F-STATE-0123456789abcdefghijklmnopqrstuvw"
	    " HTTP/1.1", "x||");
	TAKEN("GET /?code=a+b&" S " HTTP/1.1", "a b||");
	/* Empty parameters and bare names are nothing. */
	TAKEN("GET /?&&code=abc&x&" S "& HTTP/1.1", "abc||");

	/* Not the redirect, or not from the authorization server. */
	REFUSED("GET /?code=abc HTTP/1.1", "no state");
	REFUSED("GET /?code=abc&state= HTTP/1.1", "no state");
	REFUSED("GET /?code=abc&state=x HTTP/1.1", "state does not match");
	REFUSED("GET /?code=abc&state="
	    "s0_-STATE-0123456789abcdefghijklmnopqrstuvW HTTP/1.1",
	    "state does not match");
	REFUSED("GET /?code=abc&" S "x HTTP/1.1", "state does not match");
	REFUSED("GET /?code=abc&state=s0_-STATE HTTP/1.1",
	    "state does not match");
	/* Each parameter once (RFC 6749 3.1), however spelled. */
	REFUSED("GET /?code=a&code=b&" S " HTTP/1.1",
	    "a parameter given twice");
	REFUSED("GET /?code=a&code=a&" S " HTTP/1.1",
	    "a parameter given twice");
	REFUSED("GET /?code=a&" S "&" S " HTTP/1.1",
	    "a parameter given twice");
	REFUSED("GET /?code=a&state=evil&" S " HTTP/1.1",
	    "a parameter given twice");
	REFUSED("GET /?code=a&c%6fde=b&" S " HTTP/1.1",
	    "a parameter given twice");
	REFUSED("GET /?error=x&error=y&" S " HTTP/1.1",
	    "a parameter given twice");
	REFUSED("GET /?error=x&error_description=a&error_description=b&" S
	    " HTTP/1.1", "a parameter given twice");
	REFUSED("GET /?code&code=a&" S " HTTP/1.1", "a parameter given twice");
	/* Escapes. */
	REFUSED("GET /?code=%zz&" S " HTTP/1.1", "malformed percent-encoding");
	REFUSED("GET /?code=ab%4&" S " HTTP/1.1", "malformed percent-encoding");
	REFUSED("GET /?" S "&code=ab% HTTP/1.1", "malformed percent-encoding");
	REFUSED("GET /?other=%g0&code=a&" S " HTTP/1.1",
	    "malformed percent-encoding");
	REFUSED("GET /?co%d=a&" S " HTTP/1.1", "malformed percent-encoding");
	/* Exactly one of code and error, each of its own characters. */
	REFUSED("GET /?code=a&error=b&" S " HTTP/1.1", "both code and error");
	REFUSED("GET /?" S " HTTP/1.1", "neither code nor error");
	REFUSED("GET /?code=&" S " HTTP/1.1", "neither code nor error");
	REFUSED("GET /?code=a%00b&" S " HTTP/1.1", "malformed code");
	REFUSED("GET /?code=a%0D%0AX&" S " HTTP/1.1", "malformed code");
	REFUSED("GET /?code=%C3%A9&" S " HTTP/1.1", "malformed code");
	REFUSED("GET /?error=a%22b&" S " HTTP/1.1", "malformed error");
	REFUSED("GET /?error=a%5Cb&" S " HTTP/1.1", "malformed error");
	REFUSED("GET /?error=%1B&" S " HTTP/1.1", "malformed error");
	/* The request line. */
	REFUSED("POST /?code=a&" S " HTTP/1.1", "not a GET request");
	REFUSED("get /?code=a&" S " HTTP/1.1", "not a GET request");
	REFUSED("GET", "not a GET request");
	REFUSED("", "not a GET request");
	REFUSED("GET /?code=a&" S " HTTP/2.0", "malformed request line");
	REFUSED("GET /?code=a&" S " HTTP/1.1 ", "malformed request line");
	REFUSED("GET /?code=a&" S "  HTTP/1.1", "malformed request line");
	REFUSED("GET  /?code=a&" S " HTTP/1.1", "malformed request line");
	REFUSED("GET /?code=a&" S, "malformed request line");
	REFUSED("GET /?code=a\x01&" S " HTTP/1.1", "malformed request line");
	REFUSED("GET /?code=\xc3\xa9&" S " HTTP/1.1", "malformed request line");
	REFUSED("GET /?code=a\t&" S " HTTP/1.1", "malformed request line");
	REFUSED("GET /x?code=a&" S " HTTP/1.1", "not the redirect URI");
	REFUSED("GET //?code=a&" S " HTTP/1.1", "not the redirect URI");
	REFUSED("GET / HTTP/1.1", "not the redirect URI");
	REFUSED("GET /favicon.ico HTTP/1.1", "not the redirect URI");
	REFUSED("GET http://127.0.0.1:1/?code=a&" S " HTTP/1.1",
	    "not the redirect URI");
	REFUSED("GET *?code=a&" S " HTTP/1.1", "not the redirect URI");

	/* A head without CRLF; a NUL after the request line is the head's
	 * business, not the request line's. */
	oauth_redirect_init(&r);
	CHECK_INT(oauth_redirect_parse(&r, "GET /?code=a&" S " HTTP/1.1\n\n",
	    strlen("GET /?code=a&" S " HTTP/1.1\n\n"), STATE, &why), -1);
	CHECK_STR(why, "no request line");
	CHECK_INT(oauth_redirect_parse(&r, nul_head, sizeof(nul_head) - 1,
	    STATE, &why), 0);
	CHECK_STR(buf_str(&r.code), "a");
	/* A NUL in the request line ends nothing: refused. */
	CHECK_INT(oauth_redirect_parse(&r, "GET /?code=a\0&" S " HTTP/1.1\r\n",
	    sizeof("GET /?code=a\0&" S " HTTP/1.1\r\n") - 1, STATE, &why), -1);
	CHECK_STR(why, "malformed request line");
	CHECK_INT(r.code.len, 0);
	/* Only `len` bytes are read: the same head cut short has no line. */
	CHECK_INT(oauth_redirect_parse(&r, "GET /?code=a&" S " HTTP/1.1\r\n",
	    10, STATE, &why), -1);
	CHECK_STR(why, "no request line");
	oauth_redirect_release(&r);

	/* A long description: cut to 200 bytes. */
	buf_addstr(&line, "GET /?error=server_error&error_description=");
	for (i = 0; i < 300; i++)
		buf_addch(&line, 'a' + (int)(i % 26));
	buf_addstr(&line, "&" S " HTTP/1.1");
	buf_addstr(&want, "|server_error|");
	for (i = 0; i < LOOPBACK_DESC_MAX; i++)
		buf_addch(&want, 'a' + (int)(i % 26));
	TAKEN(buf_str(&line), buf_str(&want));
	buf_release(&line);
	buf_release(&want);
}

static void
test_page(void)
{
	struct buf	 b = BUF_INIT, want = BUF_INIT;
	const char	*body = "<!DOCTYPE html>\n<html><head><meta "
	    "charset=\"utf-8\"><title>postie</title></head>\n<body><p>"
	    "postie: account &lt;a&gt; &amp; &quot;b&quot; &#39;c&#39; is "
	    "authorized</p></body></html>\n";

	oauth_redirect_page(&b, 200, "postie: account <a> & \"b\" 'c' is "
	    "authorized");
	buf_addf(&want, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n%s", strlen(body), body);
	CHECK_STR(buf_str(&b), buf_str(&want));
	buf_reset(&b);
	oauth_redirect_page(&b, 400, "x");
	CHECK(strncmp(buf_str(&b), "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	buf_release(&b);
	buf_release(&want);
}

/* A client of the listener: connected, `data` sent (may be NULL). */
static int
client(int port, const char *data, size_t n)
{
	struct sockaddr_in	 sin;
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("test client");
		exit(2);
	}
	if (n > 0 && write(fd, data, n) != (ssize_t)n) {
		perror("test client write");
		exit(2);
	}
	return fd;
}

/* What the listener answered `fd`, up to its close (at most 2 s). */
static void
answer(int fd, struct buf *out)
{
	struct pollfd	 p;
	char		 chunk[4096];
	ssize_t		 n;
	long long	 deadline = now_ms() + 2000;

	buf_reset(out);
	p.fd = fd;
	p.events = POLLIN;
	while (poll(&p, 1, ms_left(deadline)) == 1 &&
	    (n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(out, chunk, (size_t)n);
}

static void
test_listener(void)
{
	struct loopback		 lb;
	struct oauth_redirect	 r;
	struct buf		 err = BUF_INIT, got = BUF_INIT;
	struct buf		 big = BUF_INIT;
	const char		*req = "GET /?code=c0de&" S " HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n\r\n";
	long long		 t0;
	int			 idle, fd;

	oauth_redirect_init(&r);
	CHECK_INT(loopback_open(&lb, &err), 0);
	CHECK(lb.port > 0 && lb.port < 65536);

	/* A head that never ends: 400 once LOOPBACK_HEAD_MAX bytes came,
	 * and the wait goes on to its deadline. */
	buf_addstr(&big, "GET /?");
	while (big.len < LOOPBACK_HEAD_MAX)
		buf_addch(&big, 'a');
	fd = client(lb.port, big.data, big.len);
	t0 = now_ms();
	CHECK_INT(loopback_wait(&lb, STATE, now_ms() + 300, &r, &err), 0);
	CHECK(now_ms() - t0 >= 290);
	answer(fd, &got);
	CHECK(strncmp(buf_str(&got), "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	CHECK(strstr(buf_str(&got), "aaaa") == NULL);
	close(fd);

	/* A wrong state: 400, nothing of the request repeated. */
	fd = client(lb.port, "GET /?code=c0de&state=nope HTTP/1.1\r\n\r\n",
	    strlen("GET /?code=c0de&state=nope HTTP/1.1\r\n\r\n"));
	CHECK_INT(loopback_wait(&lb, STATE, now_ms() + 300, &r, &err), 0);
	answer(fd, &got);
	CHECK(strncmp(buf_str(&got), "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	CHECK(strstr(buf_str(&got), "c0de") == NULL);
	CHECK(strstr(buf_str(&got), "nope") == NULL);
	close(fd);

	/* A spare connection that never speaks does not hold up the
	 * redirect, which comes in two pieces, its end split. */
	idle = client(lb.port, NULL, 0);
	fd = client(lb.port, req, strlen(req) - 2);
	CHECK_INT(loopback_wait(&lb, STATE, now_ms() + 300, &r, &err), 0);
	CHECK_INT(write(fd, "\r\n", 2), 2);
	t0 = now_ms();
	CHECK_INT(loopback_wait(&lb, STATE, now_ms() + 5000, &r, &err), 1);
	CHECK(now_ms() - t0 < 1000);
	CHECK_STR(buf_str(&r.code), "c0de");
	CHECK_INT(r.error.len, 0);
	loopback_answer(&lb, "done & <done>");
	answer(fd, &got);
	CHECK(strncmp(buf_str(&got), "HTTP/1.1 200 OK\r\n", 17) == 0);
	CHECK(strstr(buf_str(&got), "<p>done &amp; &lt;done&gt;</p>") != NULL);
	close(fd);
	loopback_close(&lb);
	/* Closed: the idle client sees the end. */
	answer(idle, &got);
	CHECK_INT(got.len, 0);
	close(idle);
	oauth_redirect_release(&r);
	buf_release(&err);
	buf_release(&got);
	buf_release(&big);
}

int
main(void)
{
	test_b64url();
	test_s256();
	test_auth_request();
	test_redirect_parse();
	test_page();
	test_listener();
	return t_done();
}
