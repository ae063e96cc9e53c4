#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "oauth_json.h"
#include "t.h"

/* Every token in these answers holds SECRET: no reason may show it. */
#define SECRET	 "SECRET"

/* The last body handed to a parser (exact()). */
static char	*held;

/*
 * `n` bytes of `p` in an exact-size heap copy with no NUL after it, so
 * that a parser's read past `n` is caught under AddressSanitizer; valid
 * until the next call.
 */
static const char *
exact(const char *p, size_t n)
{
	free(held);
	if ((held = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	if (n > 0)
		memcpy(held, p, n);
	return held;
}

/* The reason is exactly `want`, and it shows no token. */
static void
check_reason(const struct buf *err, const char *want)
{
	CHECK_STR(buf_str(err), want);
	CHECK(strstr(buf_str(err), SECRET) == NULL);
}

/* A token answer refused with this reason, the reply left empty. */
static void
tok_bad_n(const char *body, size_t n, const char *want)
{
	struct oauth_token_reply r;
	struct buf	 err = BUF_INIT;

	oauth_token_reply_init(&r);
	CHECK_INT(oauth_json_token(exact(body, n), n, &r, &err), -1);
	check_reason(&err, want);
	CHECK(r.access_token.len == 0 && r.refresh_token.len == 0 &&
	    r.scope.len == 0 && r.expires_in == -1);
	oauth_token_reply_release(&r);
	buf_release(&err);
}

#define TOK_BAD(lit, want)	tok_bad_n(lit, sizeof(lit) - 1, want)

/* A token answer taken: these fields (refresh, scope: "" for none). */
static void
tok_ok_n(const char *body, size_t n, const char *access,
    const char *refresh, const char *scope, long long expires)
{
	struct oauth_token_reply r;
	struct buf	 err = BUF_INIT;

	oauth_token_reply_init(&r);
	CHECK_INT(oauth_json_token(exact(body, n), n, &r, &err), 0);
	CHECK_STR(buf_str(&err), "");
	CHECK_STR(buf_str(&r.access_token), access);
	CHECK_STR(buf_str(&r.refresh_token), refresh);
	CHECK_STR(buf_str(&r.scope), scope);
	CHECK_INT(r.expires_in, expires);
	oauth_token_reply_release(&r);
	buf_release(&err);
}

#define TOK_OK(lit, a, r, s, e)	tok_ok_n(lit, sizeof(lit) - 1, a, r, s, e)

static void
dev_bad_n(const char *body, size_t n, const char *want)
{
	struct oauth_device_reply d;
	struct buf	 err = BUF_INIT;

	oauth_device_reply_init(&d);
	CHECK_INT(oauth_json_device(exact(body, n), n, &d, &err), -1);
	check_reason(&err, want);
	CHECK(d.device_code.len == 0 && d.user_code.len == 0 &&
	    d.verification_uri.len == 0 &&
	    d.verification_uri_complete.len == 0 && d.expires_in == 0 &&
	    d.interval == 5);
	oauth_device_reply_release(&d);
	buf_release(&err);
}

#define DEV_BAD(lit, want)	dev_bad_n(lit, sizeof(lit) - 1, want)

/* An error answer: 0 with this code and description. */
static void
err_ok_n(const char *body, size_t n, const char *code, const char *desc)
{
	struct buf	 c = BUF_INIT, d = BUF_INIT;

	CHECK_INT(oauth_json_error(exact(body, n), n, &c, &d), 0);
	CHECK_STR(buf_str(&c), code);
	CHECK_STR(buf_str(&d), desc);
	buf_release(&c);
	buf_release(&d);
}

#define ERR_OK(lit, c, d)	err_ok_n(lit, sizeof(lit) - 1, c, d)

/* Not an error answer: -1, both outputs empty (even if full before). */
static void
err_bad_n(const char *body, size_t n)
{
	struct buf	 c = BUF_INIT, d = BUF_INIT;

	buf_addstr(&c, "stale");
	buf_addstr(&d, "stale");
	CHECK_INT(oauth_json_error(exact(body, n), n, &c, &d), -1);
	CHECK(c.len == 0 && d.len == 0);
	buf_release(&c);
	buf_release(&d);
}

#define ERR_BAD(lit)		err_bad_n(lit, sizeof(lit) - 1)

static void
test_token_good(void)
{
	/* Google, the authorization code grant. */
	TOK_OK("{\n"
	    "  \"access_token\": \"ya29.a0AfB_" SECRET "\",\n"
	    "  \"expires_in\": 3599,\n"
	    "  \"refresh_token\": \"1//09-" SECRET "\",\n"
	    "  \"scope\": \"https://mail.google.com/\",\n"
	    "  \"token_type\": \"Bearer\"\n"
	    "}", "ya29.a0AfB_" SECRET, "1//09-" SECRET,
	    "https://mail.google.com/", 3599);
	/* Google, a refresh: no new refresh token. */
	TOK_OK("{\"access_token\":\"ya29." SECRET "\",\"expires_in\":3599,"
	    "\"scope\":\"https://mail.google.com/\",\"token_type\":\"Bearer\"}",
	    "ya29." SECRET, "", "https://mail.google.com/", 3599);
	/* Microsoft identity platform v2, with members we ignore. */
	TOK_OK("{\"token_type\":\"Bearer\",\"scope\":"
	    "\"https://outlook.office.com/SMTP.Send\",\"expires_in\":4418,"
	    "\"ext_expires_in\":4418,\"access_token\":\"eyJ0eXAi." SECRET "\","
	    "\"refresh_token\":\"0.ARoA6-" SECRET "\","
	    "\"id_token\":\"eyJ.x.y\"}",
	    "eyJ0eXAi." SECRET, "0.ARoA6-" SECRET,
	    "https://outlook.office.com/SMTP.Send", 4418);
	/* Azure AD v1: numbers as strings. */
	TOK_OK("{\"token_type\":\"Bearer\",\"scope\":\"SMTP.Send\","
	    "\"expires_in\":\"3599\",\"ext_expires_in\":\"3599\","
	    "\"expires_on\":\"1700000000\",\"not_before\":\"1699996100\","
	    "\"resource\":\"https://outlook.office.com\","
	    "\"access_token\":\"eyJ0." SECRET "\","
	    "\"refresh_token\":\"AQABAAAA" SECRET "\"}",
	    "eyJ0." SECRET, "AQABAAAA" SECRET, "SMTP.Send", 3599);
	/* token_type in any case; expires_in optional; null is absent. */
	TOK_OK("{\"access_token\":\"a\",\"token_type\":\"bearer\"}",
	    "a", "", "", -1);
	TOK_OK("{\"access_token\":\"a\",\"token_type\":\"BEARER\","
	    "\"expires_in\":null,\"refresh_token\":null,\"scope\":null}",
	    "a", "", "", -1);
	/* An empty refresh token or scope is none. */
	TOK_OK("{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"refresh_token\":\"\",\"scope\":\"\"}", "a", "", "", -1);
	/* VSCHAR includes the space; escapes decode. */
	TOK_OK("{\"access_token\":\"a b\\u0021\\/\",\"token_type\":\"Bearer\"}",
	    "a b!/", "", "", -1);
	/* The bounds themselves. */
	TOK_OK("{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"expires_in\":315360000}", "a", "", "", 315360000);
	TOK_OK("{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"expires_in\":\"000000000001\"}", "a", "", "", 1);
	/* Unknown members, however nested, are ignored. */
	TOK_OK("{\"x\":{\"y\":[1,2.5,{\"z\":null,\"w\":[true,false]}]},"
	    "\"access_token\":\"a\",\"token_type\":\"Bearer\",\"n\":-1e300,"
	    "\"u\":\"\\u00e9\\ud83d\\ude00\"}", "a", "", "", -1);
	/* The length bounds the read: what follows is not looked at. */
	tok_ok_n("{\"access_token\":\"a\",\"token_type\":\"Bearer\"}garbage",
	    42, "a", "", "", -1);
}

static void
test_token_long(void)
{
	struct buf	 body = BUF_INIT, want = BUF_INIT;
	size_t		 i;

	for (i = 0; i < 16384; i++)
		buf_addch(&want, 'A' + (char)(i % 26));
	buf_addf(&body, "{\"token_type\":\"Bearer\",\"access_token\":\"%s\"}",
	    buf_str(&want));
	tok_ok_n(body.data, body.len, buf_str(&want), "", "", -1);
	buf_reset(&body);
	buf_addf(&body, "{\"token_type\":\"Bearer\",\"access_token\":\"%sx\"}",
	    buf_str(&want));
	tok_bad_n(body.data, body.len,
	    "access_token is longer than 16384 bytes");
	buf_reset(&body);
	buf_addf(&body, "{\"token_type\":\"Bearer\",\"access_token\":\"a\","
	    "\"refresh_token\":\"%sx\"}", buf_str(&want));
	tok_bad_n(body.data, body.len,
	    "refresh_token is longer than 16384 bytes");
	buf_release(&body);
	buf_release(&want);
}

static void
test_token_bad(void)
{
	/* Not JSON, or not an object. */
	TOK_BAD("", "the answer is empty");
	TOK_BAD("<html><body>Bad Gateway</body></html>",
	    "the answer is not JSON (line 1, column 1)");
	TOK_BAD("[{\"access_token\":\"a\",\"token_type\":\"Bearer\"}]",
	    "the answer is not a JSON object");
	TOK_BAD("\"" SECRET "\"", "the answer is not a JSON object");
	TOK_BAD("42", "the answer is not a JSON object");
	TOK_BAD("null", "the answer is not a JSON object");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"Bearer\"} x",
	    "the answer is not JSON (line 1, column 44)");
	TOK_BAD("{\"token_type\":\"Bearer\",\n\"access_token\":\"" SECRET,
	    "the answer is cut short (line 2, column 22)");
	TOK_BAD("{\"access_token\":" SECRET "}",
	    "the answer is not JSON (line 1, column 22)");
	TOK_BAD("{\"access_token\":\"\xff\",\"token_type\":\"Bearer\"}",
	    "the answer is not UTF-8 (line 1, column 17)");
	/* A NUL, raw or escaped, anywhere. */
	TOK_BAD("{\"access_token\":\"a\0b\",\"token_type\":\"Bearer\"}",
	    "the answer holds a NUL byte");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"Bearer\"}\0",
	    "the answer holds a NUL byte");
	TOK_BAD("{\"access_token\":\"a\\u0000b\",\"token_type\":\"Bearer\"}",
	    "the answer holds a NUL character (line 1, column 26)");
	/* A key twice: refused, not guessed at. */
	TOK_BAD("{\"access_token\":\"" SECRET "1\",\"token_type\":\"Bearer\","
	    "\"access_token\":\"" SECRET "2\"}",
	    "the answer has access_token twice (line 1, column 62)");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"token_type\":\"mac\"}",
	    "the answer has token_type twice (line 1, column 54)");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"foo\":1,\"foo\":2}",
	    "the answer has a member twice (line 1, column 55)");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"access_\\u0074oken\":\"b\"}",
	    "the answer has a member twice (line 1, column 61)");
	TOK_BAD("{\"x\":{\"a\":1,\"a\":1},\"access_token\":\"a\","
	    "\"token_type\":\"Bearer\"}",
	    "the answer has a member twice (line 1, column 15)");
	/* Missing, empty, wrong types. */
	TOK_BAD("{\"token_type\":\"Bearer\"}", "no access_token in the answer");
	TOK_BAD("{\"access_token\":null,\"token_type\":\"Bearer\"}",
	    "no access_token in the answer");
	TOK_BAD("{\"error\":\"invalid_grant\"}",
	    "no access_token in the answer");
	TOK_BAD("{\"access_token\":\"\",\"token_type\":\"Bearer\"}",
	    "access_token is empty");
	TOK_BAD("{\"access_token\":12345,\"token_type\":\"Bearer\"}",
	    "access_token is not a string");
	TOK_BAD("{\"access_token\":[\"" SECRET "\"],\"token_type\":\"Bearer\"}",
	    "access_token is not a string");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":true}",
	    "token_type is not a string");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"refresh_token\":{}}", "refresh_token is not a string");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"scope\":[\"a\",\"b\"]}", "scope is not a string");
	/* Control characters, DEL, ESC, non-ASCII in tokens and scope. */
	TOK_BAD("{\"access_token\":\"" SECRET "\\u0001\",\"token_type\":"
	    "\"Bearer\"}",
	    "access_token holds a byte that is not printable ASCII");
	TOK_BAD("{\"access_token\":\"" SECRET "\\t\",\"token_type\":"
	    "\"Bearer\"}",
	    "access_token holds a byte that is not printable ASCII");
	TOK_BAD("{\"access_token\":\"" SECRET "\\u007f\",\"token_type\":"
	    "\"Bearer\"}",
	    "access_token holds a byte that is not printable ASCII");
	TOK_BAD("{\"access_token\":\"" SECRET "\xc3\xa9\",\"token_type\":"
	    "\"Bearer\"}",
	    "access_token holds a byte that is not printable ASCII");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"refresh_token\":\"" SECRET "\\n\"}",
	    "refresh_token holds a byte that is not printable ASCII");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"scope\":\"mail \\u001b[2J\"}",
	    "scope holds a byte that is not printable ASCII");
	/* token_type. */
	TOK_BAD("{\"access_token\":\"a\"}", "no token_type in the answer");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"mac\"}",
	    "token_type 'mac' is not bearer");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"Bearer \"}",
	    "token_type is not bearer");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"\"}",
	    "token_type is not bearer");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":\"\\u001b[31mbearer\"}",
	    "token_type is not bearer");
	TOK_BAD("{\"access_token\":\"a\",\"token_type\":"
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	    "token_type is not bearer");
}

static void
test_token_expires(void)
{
#define EXP(v)	"{\"access_token\":\"a\",\"token_type\":\"Bearer\"," \
		"\"expires_in\":" v "}"
	TOK_BAD(EXP("-1"), "expires_in is out of range");
	TOK_BAD(EXP("0"), "expires_in is out of range");
	TOK_BAD(EXP("315360001"), "expires_in is out of range");
	TOK_BAD(EXP("9223372036854775807"), "expires_in is out of range");
	TOK_BAD(EXP("-9223372036854775808"), "expires_in is out of range");
	TOK_BAD(EXP("\"0\""), "expires_in is out of range");
	TOK_BAD(EXP("\"315360001\""), "expires_in is out of range");
	TOK_BAD(EXP("\"1234567890123\""), "expires_in is out of range");
	TOK_BAD(EXP("\"99999999999999999999999999999\""),
	    "expires_in is out of range");
	/* Too large for jansson itself: the whole answer is refused. */
	TOK_BAD(EXP("99999999999999999999999"),
	    "the answer holds a number out of range (line 1, column 78)");
	TOK_BAD(EXP("1e999"),
	    "the answer holds a number out of range (line 1, column 60)");
	/* Reals, and anything else that is not an integer or digits. */
	TOK_BAD(EXP("3599.0"), "expires_in is not a number");
	TOK_BAD(EXP("3.599e3"), "expires_in is not a number");
	TOK_BAD(EXP("true"), "expires_in is not a number");
	TOK_BAD(EXP("[3599]"), "expires_in is not a number");
	TOK_BAD(EXP("\"\""), "expires_in is not a number");
	TOK_BAD(EXP("\"-5\""), "expires_in is not a number");
	TOK_BAD(EXP("\"+5\""), "expires_in is not a number");
	TOK_BAD(EXP("\" 5\""), "expires_in is not a number");
	TOK_BAD(EXP("\"3599s\""), "expires_in is not a number");
	TOK_BAD(EXP("\"3599.0\""), "expires_in is not a number");
	TOK_BAD(EXP("\"\\u0663\""), "expires_in is not a number");
#undef EXP
}

static void
test_nesting(void)
{
	struct buf	 body = BUF_INIT;
	size_t		 i;

	/* Deeper than jansson's bound (2048): refused, no stack overflow. */
	buf_addstr(&body, "{\"access_token\":\"a\",\"token_type\":\"Bearer\","
	    "\"x\":");
	for (i = 0; i < 100000; i++)
		buf_addch(&body, '[');
	tok_bad_n(body.data, body.len,
	    "the answer is nested too deeply (line 1, column 2094)");
	buf_reset(&body);
	/* Within it: ignored like any other unknown member. */
	buf_addstr(&body, "{\"x\":");
	for (i = 0; i < 1000; i++)
		buf_addch(&body, '[');
	for (i = 0; i < 1000; i++)
		buf_addch(&body, ']');
	buf_addstr(&body, ",\"access_token\":\"a\",\"token_type\":\"Bearer\"}");
	tok_ok_n(body.data, body.len, "a", "", "", -1);
	buf_release(&body);
}

/* The reply is emptied before parsing, so it can be reused. */
static void
test_token_reuse(void)
{
	struct oauth_token_reply r;
	struct buf	 err = BUF_INIT;
	static const char good[] = "{\"access_token\":\"a\",\"refresh_token\":"
	    "\"r\",\"token_type\":\"Bearer\",\"expires_in\":60}";
	static const char other[] = "{\"access_token\":\"b\","
	    "\"token_type\":\"Bearer\"}";

	oauth_token_reply_init(&r);
	CHECK_INT(oauth_json_token(exact(good, sizeof(good) - 1),
	    sizeof(good) - 1, &r, &err), 0);
	CHECK_INT(oauth_json_token(exact(other, sizeof(other) - 1),
	    sizeof(other) - 1, &r, &err), 0);
	CHECK_STR(buf_str(&r.access_token), "b");
	CHECK_INT(r.refresh_token.len, 0);
	CHECK_INT(r.expires_in, -1);
	CHECK_INT(oauth_json_token(exact(good, sizeof(good) - 1),
	    sizeof(good) - 1, &r, &err), 0);
	CHECK_INT(oauth_json_token(exact("{}", 2), 2, &r, &err), -1);
	check_reason(&err, "no access_token in the answer");
	CHECK(r.access_token.len == 0 && r.refresh_token.len == 0 &&
	    r.expires_in == -1);
	oauth_token_reply_release(&r);
	buf_release(&err);
}

static void
test_error(void)
{
	struct buf	 body = BUF_INIT, want = BUF_INIT;
	size_t		 i;

	ERR_OK("{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"Bad Request\"}", "invalid_grant", "Bad Request");
	ERR_OK("{\"error\":\"authorization_pending\"}", "authorization_pending",
	    "");
	ERR_OK("{\"error\":\"slow_down\",\"error_description\":null}",
	    "slow_down", "");
	/* A description that is not a string does not lose the code. */
	ERR_OK("{\"error\":\"invalid_client\",\"error_description\":42}",
	    "invalid_client", "");
	/* Microsoft's: line ends become one space; members ignored. */
	ERR_OK("{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"AADSTS70008: The refresh token has expired.\\r\\n"
	    "Trace ID: 0a1b\\r\\nCorrelation ID: 2c3d\\r\\n\",\"error_codes\":"
	    "[70008],\"timestamp\":\"2024-01-01 00:00:00Z\","
	    "\"trace_id\":\"0a1b\",\"correlation_id\":\"2c3d\"}",
	    "invalid_grant", "AADSTS70008: The refresh token has expired. "
	    "Trace ID: 0a1b Correlation ID: 2c3d");
	/* ESC, other controls, DEL and C1 controls are dropped. */
	ERR_OK("{\"error\":\"access_denied\",\"error_description\":"
	    "\"bad\\u001b[2J\\u001b]0;pwned\\u0007 \\u007fthing\\u009b31m\"}",
	    "access_denied", "bad[2J]0;pwned thing31m");
	ERR_OK("{\"error\":\"x\",\"error_description\":\"\\r\\n\\t\"}",
	    "x", "");
	ERR_OK("{\"error\":\"x\",\"error_description\":"
	    "\"caf\xc3\xa9 \\u00e9\"}",
	    "x", "caf\xc3\xa9 \xc3\xa9");
	/* NQSCHAR: the space and '!' are fine. */
	ERR_OK("{\"error\":\"odd code!\"}", "odd code!", "");

	/* Cut to 200 bytes, never inside a UTF-8 sequence. */
	for (i = 0; i < 199; i++)
		buf_addch(&want, 'a');
	buf_addf(&body, "{\"error\":\"x\",\"error_description\":\"%s"
	    "\xc3\xa9tail\"}", buf_str(&want));
	err_ok_n(body.data, body.len, "x", buf_str(&want));
	buf_reset(&body);
	buf_truncate(&want, 198);
	buf_addf(&body, "{\"error\":\"x\",\"error_description\":\"%s"
	    "\xc3\xa9tail\"}", buf_str(&want));
	buf_addstr(&want, "\xc3\xa9");
	err_ok_n(body.data, body.len, "x", buf_str(&want));
	buf_reset(&body);
	buf_truncate(&want, 198);
	buf_addf(&body, "{\"error\":\"x\",\"error_description\":\"%s"
	    "\xe2\x82\xac\"}", buf_str(&want));
	err_ok_n(body.data, body.len, "x", buf_str(&want));
	buf_reset(&body);
	buf_truncate(&want, 197);
	buf_addf(&body, "{\"error\":\"x\",\"error_description\":\"%s"
	    "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"}", buf_str(&want));
	err_ok_n(body.data, body.len, "x", buf_str(&want));
	buf_reset(&body);
	/* Exactly 200, and dropped bytes do not count. */
	buf_truncate(&want, 190);
	buf_addstr(&want, "0123456789");
	buf_addf(&body, "{\"error\":\"x\",\"error_description\":"
	    "\"\\u001b\\u001b%s\"}", buf_str(&want));
	err_ok_n(body.data, body.len, "x", buf_str(&want));
	buf_reset(&body);

	/* Code bounds: 128 bytes. */
	buf_reset(&want);
	for (i = 0; i < 128; i++)
		buf_addch(&want, 'e');
	buf_addf(&body, "{\"error\":\"%s\"}", buf_str(&want));
	err_ok_n(body.data, body.len, buf_str(&want), "");
	buf_reset(&body);
	buf_addf(&body, "{\"error\":\"%se\"}", buf_str(&want));
	err_bad_n(body.data, body.len);

	/* Not an error answer. */
	ERR_BAD("");
	ERR_BAD("<html>");
	ERR_BAD("[\"error\"]");
	ERR_BAD("{\"error_description\":\"no code\"}");
	ERR_BAD("{\"error\":null}");
	ERR_BAD("{\"error\":\"\"}");
	ERR_BAD("{\"error\":400}");
	ERR_BAD("{\"error\":{\"code\":400,\"message\":\"bad\"}}");
	ERR_BAD("{\"error\":\"a\\\"b\"}");
	ERR_BAD("{\"error\":\"a\\\\b\"}");
	ERR_BAD("{\"error\":\"a\\u001bb\"}");
	ERR_BAD("{\"error\":\"a\\nb\"}");
	ERR_BAD("{\"error\":\"caf\xc3\xa9\"}");
	ERR_BAD("{\"error\":\"x\",\"error\":\"y\"}");
	ERR_BAD("{\"error\":\"x\"\0}");
	buf_release(&body);
	buf_release(&want);
}

static void
test_device_good(void)
{
	struct oauth_device_reply d;
	struct buf	 err = BUF_INIT;
	static const char google[] = "{\n"
	    "  \"device_code\": \"AH-1Ng" SECRET "\",\n"
	    "  \"user_code\": \"GQVQ-JKEC\",\n"
	    "  \"verification_url\": \"https://www.google.com/device\",\n"
	    "  \"expires_in\": 1800,\n"
	    "  \"interval\": 5\n"
	    "}";
	static const char microsoft[] = "{\"user_code\":\"DBLFKNYQ9\","
	    "\"device_code\":\"DAQABAAEAAAD" SECRET "\","
	    "\"verification_uri\":\"https://microsoft.com/devicelogin\","
	    "\"expires_in\":900,\"interval\":5,\"message\":\"To sign in, use "
	    "a web browser to open the page https://microsoft.com/devicelogin"
	    " and enter the code DBLFKNYQ9 to authenticate.\\u001b[2J\"}";
	static const char rfc[] = "{\"device_code\":\"GmRhmhcxhwAzkoEqiMEg_"
	    "DnyEysNkuNhszIySk9eS\",\"user_code\":\"WDJB-MJHT\","
	    "\"verification_uri\":\"https://example.com/device\","
	    "\"verification_uri_complete\":"
	    "\"https://example.com/device?user_code=WDJB-MJHT\","
	    "\"expires_in\":1800}";
	static const char both[] = "{\"device_code\":\"d\",\"user_code\":\"u\","
	    "\"verification_url\":\"https://old.example/\","
	    "\"verification_uri\":\"HTTPS://new.example/\","
	    "\"expires_in\":\"600\",\"interval\":\"10\"}";

	oauth_device_reply_init(&d);
	CHECK_INT(oauth_json_device(exact(google, sizeof(google) - 1),
	    sizeof(google) - 1, &d, &err), 0);
	CHECK_STR(buf_str(&err), "");
	CHECK_STR(buf_str(&d.device_code), "AH-1Ng" SECRET);
	CHECK_STR(buf_str(&d.user_code), "GQVQ-JKEC");
	CHECK_STR(buf_str(&d.verification_uri),
	    "https://www.google.com/device");
	CHECK_INT(d.verification_uri_complete.len, 0);
	CHECK_INT(d.expires_in, 1800);
	CHECK_INT(d.interval, 5);

	/* The message (prose, and here an ESC) is ignored. */
	CHECK_INT(oauth_json_device(exact(microsoft, sizeof(microsoft) - 1),
	    sizeof(microsoft) - 1, &d, &err), 0);
	CHECK_STR(buf_str(&err), "");
	CHECK_STR(buf_str(&d.device_code), "DAQABAAEAAAD" SECRET);
	CHECK_STR(buf_str(&d.user_code), "DBLFKNYQ9");
	CHECK_STR(buf_str(&d.verification_uri),
	    "https://microsoft.com/devicelogin");
	CHECK_INT(d.expires_in, 900);
	CHECK_INT(d.interval, 5);

	/* RFC 8628 3.2's example: no interval, so 5. */
	CHECK_INT(oauth_json_device(exact(rfc, sizeof(rfc) - 1),
	    sizeof(rfc) - 1, &d, &err), 0);
	CHECK_STR(buf_str(&d.verification_uri), "https://example.com/device");
	CHECK_STR(buf_str(&d.verification_uri_complete),
	    "https://example.com/device?user_code=WDJB-MJHT");
	CHECK_INT(d.expires_in, 1800);
	CHECK_INT(d.interval, 5);

	/* Both names: the RFC's wins; the scheme in any case; strings. */
	CHECK_INT(oauth_json_device(exact(both, sizeof(both) - 1),
	    sizeof(both) - 1, &d, &err), 0);
	CHECK_STR(buf_str(&d.verification_uri), "HTTPS://new.example/");
	CHECK_INT(d.verification_uri_complete.len, 0);
	CHECK_INT(d.expires_in, 600);
	CHECK_INT(d.interval, 10);
	CHECK_STR(buf_str(&err), "");
	oauth_device_reply_release(&d);
	buf_release(&err);
}

static void
test_device_bad(void)
{
#define DEV(x)	"{\"device_code\":\"" SECRET "\",\"user_code\":\"ABCD-EFGH\"," \
		"\"expires_in\":900" x "}"
#define URI	",\"verification_uri\":\"https://example.com/device\""
	DEV_BAD(DEV(URI ",\"device_code\":\"" SECRET "\""),
	    "the answer has device_code twice (line 1, column 126)");
	DEV_BAD("{\"user_code\":\"u\",\"expires_in\":900" URI "}",
	    "no device_code in the answer");
	DEV_BAD("{\"device_code\":\"\",\"user_code\":\"u\",\"expires_in\":900"
	    URI "}", "device_code is empty");
	DEV_BAD("{\"device_code\":\"" SECRET "\\n\",\"user_code\":\"u\","
	    "\"expires_in\":900" URI "}",
	    "device_code holds a byte that is not printable ASCII");
	DEV_BAD("{\"device_code\":\"d\",\"expires_in\":900" URI "}",
	    "no user_code in the answer");
	DEV_BAD("{\"device_code\":\"d\",\"user_code\":\"\\u001b[2JABCD\","
	    "\"expires_in\":900" URI "}",
	    "user_code holds a byte that is not printable ASCII");
	DEV_BAD("{\"device_code\":\"d\",\"user_code\":\"\xc3\x89T\xc3\x89\","
	    "\"expires_in\":900" URI "}",
	    "user_code holds a byte that is not printable ASCII");
	DEV_BAD("{\"device_code\":\"d\",\"user_code\":"
	    "\"0123456789012345678901234567890123456789"
	    "0123456789012345678901234\",\"expires_in\":900" URI "}",
	    "user_code is longer than 64 bytes");
	DEV_BAD("{\"device_code\":\"d\",\"user_code\":7,\"expires_in\":900"
	    URI "}", "user_code is not a string");
	/* The verification URI. */
	DEV_BAD(DEV(""), "no verification_uri in the answer");
	DEV_BAD(DEV(",\"verification_uri\":null"),
	    "no verification_uri in the answer");
	DEV_BAD(DEV(",\"verification_uri\":\"http://example.com/device\""),
	    "verification_uri is not an https:// URL");
	DEV_BAD(DEV(",\"verification_url\":\"http://www.google.com/device\""),
	    "verification_url is not an https:// URL");
	DEV_BAD(DEV(",\"verification_uri\":\"https://\""),
	    "verification_uri is not an https:// URL");
	DEV_BAD(DEV(",\"verification_uri\":\"javascript:alert(1)\""),
	    "verification_uri is not an https:// URL");
	DEV_BAD(DEV(",\"verification_uri\":\"https://a.example/ b\""),
	    "verification_uri holds a space or a byte that is not printable "
	    "ASCII");
	DEV_BAD(DEV(",\"verification_uri\":\"https://a.example/\\u001b[2J\""),
	    "verification_uri holds a space or a byte that is not printable "
	    "ASCII");
	DEV_BAD(DEV(",\"verification_uri\":\"https://\xc3\xa9.example/\""),
	    "verification_uri holds a space or a byte that is not printable "
	    "ASCII");
	DEV_BAD(DEV(",\"verification_uri\":[\"https://a.example/\"]"),
	    "verification_uri is not a string");
	DEV_BAD(DEV(",\"verification_uri\":\"\""),
	    "verification_uri is empty");
	DEV_BAD(DEV(URI ",\"verification_uri_complete\":"
	    "\"http://example.com/device?user_code=ABCD-EFGH\""),
	    "verification_uri_complete is not an https:// URL");
	/* expires_in (required) and interval. */
	DEV_BAD("{\"device_code\":\"d\",\"user_code\":\"u\"" URI "}",
	    "no expires_in in the answer");
	DEV_BAD("{\"device_code\":\"d\",\"user_code\":\"u\",\"expires_in\":"
	    "86401" URI "}", "expires_in is out of range");
	DEV_BAD("{\"device_code\":\"d\",\"user_code\":\"u\",\"expires_in\":"
	    "0" URI "}", "expires_in is out of range");
	DEV_BAD("{\"device_code\":\"d\",\"user_code\":\"u\",\"expires_in\":"
	    "900.5" URI "}", "expires_in is not a number");
	DEV_BAD(DEV(URI ",\"interval\":0"), "interval is out of range");
	DEV_BAD(DEV(URI ",\"interval\":301"), "interval is out of range");
	DEV_BAD(DEV(URI ",\"interval\":-5"), "interval is out of range");
	DEV_BAD(DEV(URI ",\"interval\":\"fast\""), "interval is not a number");
	DEV_BAD(DEV(URI ",\"interval\":5.0"), "interval is not a number");
	DEV_BAD("[]", "the answer is not a JSON object");
	DEV_BAD("{\"device_code\":\"" SECRET, "the answer is cut short "
	    "(line 1, column 22)");
#undef URI
#undef DEV
}

/* What the free hook saw. */
static size_t	 hook_blocks, hook_bytes, hook_dirty, hook_misaligned;
static size_t	 hook_largest;

static void
hook(const void *p, size_t n)
{
	const unsigned char *u = p;
	size_t		 i;

	hook_blocks++;
	hook_bytes += n;
	if (n > hook_largest)
		hook_largest = n;
	if ((uintptr_t)p % _Alignof(max_align_t) != 0)
		hook_misaligned++;
	for (i = 0; i < n; i++)
		if (u[i] != 0) {
			hook_dirty++;
			break;
		}
}

/*
 * Every block jansson frees goes through the wipe: the hook runs after
 * it and finds only zeros, in blocks large enough to have held the
 * token, aligned as malloc's are.  Without the explicit_bzero() in the
 * free function, the blocks that held the token would be dirty.
 */
static void
test_wipe(void)
{
	struct oauth_token_reply r;
	struct oauth_device_reply d;
	struct buf	 body = BUF_INIT, tok = BUF_INIT, err = BUF_INIT;
	size_t		 i;

	oauth_json_setup();
	oauth_json_setup();		/* idempotent */
	for (i = 0; i < 1000; i++)
		buf_addch(&tok, "SECRET-token."[i % 13]);
	buf_addf(&body, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\","
	    "\"refresh_token\":\"%s\",\"expires_in\":3599}", buf_str(&tok),
	    buf_str(&tok));

	oauth_json_free_hook(hook);
	oauth_token_reply_init(&r);
	CHECK_INT(oauth_json_token(exact(body.data, body.len), body.len,
	    &r, &err), 0);
	CHECK_INT(r.access_token.len, 1000);
	oauth_token_reply_release(&r);
	CHECK(hook_blocks > 0);
	CHECK(hook_largest >= 1000);
	CHECK(hook_bytes >= 2000);
	CHECK_INT(hook_dirty, 0);
	CHECK_INT(hook_misaligned, 0);

	/* A refused answer (jansson's error text quotes near the error). */
	hook_blocks = hook_largest = 0;
	buf_reset(&body);
	buf_addf(&body, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",",
	    buf_str(&tok));
	buf_addstr(&body, "\"refresh_token\":SECRET}");
	CHECK_INT(oauth_json_token(exact(body.data, body.len), body.len,
	    &r, &err), -1);
	check_reason(&err, "the answer is not JSON (line 1, column 1063)");
	CHECK(hook_blocks > 0);
	CHECK(hook_largest >= 1000);
	CHECK_INT(hook_dirty, 0);

	/* The device code too. */
	hook_blocks = hook_largest = 0;
	buf_reset(&body);
	buf_addf(&body, "{\"device_code\":\"%s\",\"user_code\":\"A-B\","
	    "\"verification_uri\":\"https://a.example/\",\"expires_in\":60}",
	    buf_str(&tok));
	oauth_device_reply_init(&d);
	CHECK_INT(oauth_json_device(exact(body.data, body.len), body.len,
	    &d, &err), 0);
	CHECK_INT(d.device_code.len, 1000);
	oauth_device_reply_release(&d);
	CHECK(hook_largest >= 1000);
	CHECK_INT(hook_dirty, 0);
	CHECK_INT(hook_misaligned, 0);
	oauth_json_free_hook(NULL);

	buf_release(&body);
	buf_release(&tok);
	buf_release(&err);
}

int
main(void)
{
	test_token_good();
	test_token_long();
	test_token_bad();
	test_token_expires();
	test_nesting();
	test_token_reuse();
	test_error();
	test_device_good();
	test_device_bad();
	test_wipe();
	free(held);
	return t_done();
}
