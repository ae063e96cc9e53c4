/*
 * oauth_json_token(), oauth_json_error() and oauth_json_device()
 * (oauth_json.h) over a token endpoint's answer: each parses the same
 * bytes.  What is accepted must hold the header's promises (bounds,
 * VSCHARs, https:// URIs, descriptions without controls, cut on a UTF-8
 * boundary); what is refused leaves the outputs empty and a reason fit
 * for a terminal.  Every block jansson frees must come wiped.
 */
#include "config.h"
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "oauth_json.h"
#include "fuzz.h"

static void	on_free(const void *, size_t);
static int	in_range(const struct buf *, unsigned char, unsigned char);
static int	utf8(const struct buf *);
static void	check_reason(const struct buf *);
static int	is_uri(const struct buf *);
static void	run_token(const char *, size_t);
static void	run_error(const char *, size_t);
static void	run_device(const char *, size_t);

/* The wipe of oauth_json_setup(): nothing jansson frees holds a byte. */
static void
on_free(const void *p, size_t n)
{
	const unsigned char *u = p;
	size_t		 i;

	for (i = 0; i < n; i++)
		FUZZ_ASSERT(u[i] == 0);
}

/* Every byte of `b` in lo..hi. */
static int
in_range(const struct buf *b, unsigned char lo, unsigned char hi)
{
	size_t	 i;

	for (i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] < lo ||
		    (unsigned char)b->data[i] > hi)
			return 0;
	return 1;
}

/* Well-formed UTF-8, no C0 or C1 control, no DEL: safe on a terminal. */
static int
utf8(const struct buf *b)
{
	const unsigned char *u = (const unsigned char *)b->data;
	size_t		 i, k, more;

	for (i = 0; i < b->len; i += 1 + more) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return 0;
		more = u[i] < 0x80 ? 0 : u[i] >= 0xf0 ? 3 : u[i] >= 0xe0 ?
		    2 : u[i] >= 0xc2 ? 1 : 9;
		if (more == 9 || more > b->len - i - 1)
			return 0;
		for (k = 1; k <= more; k++)
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
		if (u[i] == 0xc2 && u[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

/* A refusal's reason: one lowercase line of printable ASCII. */
static void
check_reason(const struct buf *err)
{
	FUZZ_ASSERT(err->len > 0);
	FUZZ_ASSERT(in_range(err, 0x20, 0x7e));
	FUZZ_ASSERT(err->data[0] >= 'a' && err->data[0] <= 'z');
}

static int
is_uri(const struct buf *b)
{
	return b->len > 8 && b->len <= 2048 && in_range(b, 0x21, 0x7e) &&
	    strncasecmp(b->data, "https://", 8) == 0;
}

static void
run_token(const char *d, size_t n)
{
	struct oauth_token_reply r;
	struct buf	 err = BUF_INIT;

	oauth_token_reply_init(&r);
	if (oauth_json_token(d, n, &r, &err) == 0) {
		FUZZ_ASSERT(err.len == 0);
		FUZZ_ASSERT(r.access_token.len >= 1 &&
		    r.access_token.len <= 16384);
		FUZZ_ASSERT(in_range(&r.access_token, 0x20, 0x7e));
		FUZZ_ASSERT(r.refresh_token.len <= 16384);
		FUZZ_ASSERT(in_range(&r.refresh_token, 0x20, 0x7e));
		FUZZ_ASSERT(in_range(&r.scope, 0x20, 0x7e));
		FUZZ_ASSERT(r.expires_in == -1 ||
		    (r.expires_in >= 1 && r.expires_in <= 315360000));
	} else {
		check_reason(&err);
		FUZZ_ASSERT(r.access_token.len == 0 &&
		    r.refresh_token.len == 0 && r.scope.len == 0 &&
		    r.expires_in == -1);
	}
	oauth_token_reply_release(&r);
	buf_release(&err);
}

static void
run_error(const char *d, size_t n)
{
	struct buf	 code = BUF_INIT, desc = BUF_INIT;
	size_t		 i;

	if (oauth_json_error(d, n, &code, &desc) == 0) {
		FUZZ_ASSERT(code.len >= 1 && code.len <= 128);
		FUZZ_ASSERT(in_range(&code, 0x20, 0x7e));
		for (i = 0; i < code.len; i++)
			FUZZ_ASSERT(code.data[i] != '"' &&
			    code.data[i] != '\\');
		FUZZ_ASSERT(desc.len <= 200);
		FUZZ_ASSERT(utf8(&desc));
		FUZZ_ASSERT(desc.len == 0 || desc.data[desc.len - 1] != ' ');
	} else
		FUZZ_ASSERT(code.len == 0 && desc.len == 0);
	buf_release(&code);
	buf_release(&desc);
}

static void
run_device(const char *d, size_t n)
{
	struct oauth_device_reply r;
	struct buf	 err = BUF_INIT;

	oauth_device_reply_init(&r);
	if (oauth_json_device(d, n, &r, &err) == 0) {
		FUZZ_ASSERT(err.len == 0);
		FUZZ_ASSERT(r.device_code.len >= 1 &&
		    r.device_code.len <= 16384);
		FUZZ_ASSERT(in_range(&r.device_code, 0x20, 0x7e));
		FUZZ_ASSERT(r.user_code.len >= 1 && r.user_code.len <= 64);
		FUZZ_ASSERT(in_range(&r.user_code, 0x20, 0x7e));
		FUZZ_ASSERT(is_uri(&r.verification_uri));
		FUZZ_ASSERT(r.verification_uri_complete.len == 0 ||
		    is_uri(&r.verification_uri_complete));
		FUZZ_ASSERT(r.expires_in >= 1 && r.expires_in <= 86400);
		FUZZ_ASSERT(r.interval >= 1 && r.interval <= 300);
	} else {
		check_reason(&err);
		FUZZ_ASSERT(r.device_code.len == 0 && r.user_code.len == 0 &&
		    r.verification_uri.len == 0 &&
		    r.verification_uri_complete.len == 0 &&
		    r.expires_in == 0 && r.interval == 5);
	}
	oauth_device_reply_release(&r);
	buf_release(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	oauth_json_setup();
	oauth_json_free_hook(on_free);
	run_token((const char *)data, size);
	run_error((const char *)data, size);
	run_device((const char *)data, size);
	return 0;
}
