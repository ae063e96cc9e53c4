#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "oauth_json.h"
#include "xmalloc.h"

/*
 * The token endpoint's JSON (oauth_json.h); the only file that includes
 * <jansson.h>.  jansson does the lexing (UTF-8 checked, \u0000 refused,
 * nesting bounded, a key twice refused); this file decides what each
 * member may hold.  A body that is not what the header promises is
 * refused as a whole rather than partly believed.
 *
 * Reasons go to a terminal and to logs: they name members, never quote a
 * value from the answer (only a token_type made of a few safe characters,
 * which is no secret) and never use jansson's own error text, which
 * quotes the input near the error.
 */

#define TOKEN_MAX	 16384		/* access, refresh and device codes */
#define SCOPE_MAX	 16384
#define USER_CODE_MAX	 64
#define URI_MAX		 2048
#define ERROR_MAX	 128		/* an error response's code */
#define DESC_MAX	 200		/* its description, once cleaned */
#define TOKEN_EXPIRES_MAX 315360000LL	/* ten years */
#define DEVICE_EXPIRES_MAX 86400LL	/* a device code: one day */
#define INTERVAL_MAX	 300LL
#define INTERVAL_DEFAULT 5		/* RFC 8628 3.2 */
#define DIGITS_MAX	 12		/* seconds as a string (Azure AD v1) */
#define TYPE_QUOTE_MAX	 32		/* a token_type short enough to show */

/* How a string member must look (text_member()). */
#define M_REQUIRED	 0x1		/* absent, null or "": refused */
#define M_URL		 0x2		/* an https:// URL, no space */

/*
 * Every block jansson allocates carries its size in front, so that
 * jfree() can wipe all of it: tokens pass through jansson's lexer
 * buffers and string values, and free() alone would leave them in the
 * heap.  A union with max_align_t keeps the block after the header as
 * aligned as malloc's.
 */
union jhead {
	size_t		 size;
	max_align_t	 align;
};

/* Member names that may be named in a reason (none is a secret). */
static const char *const known[] = {
	"access_token", "token_type", "expires_in", "refresh_token", "scope",
	"error", "error_description", "device_code", "user_code",
	"verification_uri", "verification_url", "verification_uri_complete",
	"interval",
};

static int	 setup_done;
static void	(*free_hook)(const void *, size_t);

static void	*jalloc(size_t);
static void	 jfree(void *);
static json_t	*load(const char *, size_t, struct buf *);
static void	 load_reason(const char *, size_t, const json_error_t *,
		    struct buf *);
static json_t	*member(const json_t *, const char *);
static int	 text_member(const json_t *, const char *, size_t, int,
		    struct buf *, struct buf *);
static int	 seconds_member(const json_t *, const char *, long long, int,
		    long long *, struct buf *);
static int	 token_type(const json_t *, struct buf *);
static int	 nqschar(const char *, size_t);
static void	 clean_desc(const char *, size_t, struct buf *);

static void *
jalloc(size_t n)
{
	union jhead	*h;

	if (n > SIZE_MAX - sizeof(*h))
		return NULL;		/* jansson reports it */
	h = xmalloc(sizeof(*h) + n);
	h->size = n;
	return h + 1;
}

static void
jfree(void *p)
{
	union jhead	*h;

	if (p == NULL)
		return;
	h = (union jhead *)p - 1;
	explicit_bzero(p, h->size);
	if (free_hook != NULL)
		free_hook(p, h->size);
	explicit_bzero(h, sizeof(*h));
	free(h);
}

/*
 * Idempotent, and called by every parse function as well, so that a
 * caller that forgets it cannot leave a token in freed memory; main()
 * may call it early all the same.  The allocators are installed once,
 * before jansson's first allocation: swapping them while jansson held a
 * block would hand jfree() a block with no header in front.  postie is
 * single-threaded and is jansson's only user in the process.
 */
void
oauth_json_setup(void)
{
	if (setup_done)
		return;
	json_set_alloc_funcs(jalloc, jfree);
	setup_done = 1;
}

void
oauth_json_free_hook(void (*hook)(const void *, size_t))
{
	free_hook = hook;
}

void
oauth_token_reply_init(struct oauth_token_reply *r)
{
	buf_init(&r->access_token);
	buf_init(&r->refresh_token);
	buf_init(&r->scope);
	r->expires_in = -1;
}

void
oauth_token_reply_release(struct oauth_token_reply *r)
{
	buf_wipe(&r->access_token);
	buf_wipe(&r->refresh_token);
	buf_wipe(&r->scope);
	r->expires_in = -1;
}

void
oauth_device_reply_init(struct oauth_device_reply *d)
{
	buf_init(&d->device_code);
	buf_init(&d->user_code);
	buf_init(&d->verification_uri);
	buf_init(&d->verification_uri_complete);
	d->expires_in = 0;
	d->interval = INTERVAL_DEFAULT;
}

void
oauth_device_reply_release(struct oauth_device_reply *d)
{
	buf_wipe(&d->device_code);
	buf_wipe(&d->user_code);
	buf_wipe(&d->verification_uri);
	buf_wipe(&d->verification_uri_complete);
	d->expires_in = 0;
	d->interval = INTERVAL_DEFAULT;
}

/*
 * The body as a JSON object: the object, or NULL with a reason.  The
 * length bounds the read (no NUL needed), and a NUL byte anywhere is
 * refused before jansson sees it.  JSON_DECODE_ANY so that a bare
 * string or number is told "not a JSON object", like an array.
 */
static json_t *
load(const char *body, size_t len, struct buf *err)
{
	json_error_t	 je;
	json_t		*root;

	oauth_json_setup();
	if (len == 0) {
		buf_addstr(err, "the answer is empty");
		return NULL;
	}
	if (memchr(body, '\0', len) != NULL) {
		buf_addstr(err, "the answer holds a NUL byte");
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &je);
	if (root == NULL)
		load_reason(body, len, &je, err);
	else if (!json_is_object(root)) {
		buf_addstr(err, "the answer is not a JSON object");
		json_decref(root);
		root = NULL;
	}
	/* jansson's text quotes the input near an error: maybe a token. */
	explicit_bzero(&je, sizeof(je));
	return root;
}

/* Why jansson refused the body, from its error code and position. */
static void
load_reason(const char *body, size_t len, const json_error_t *je,
    struct buf *err)
{
	const char	*what = "is not JSON";
	size_t		 i, n, pos;

	switch (json_error_code(je)) {
	case json_error_duplicate_key:
		/*
		 * jansson stops right after the second key: name it when it
		 * is one we read (written without escapes).
		 */
		what = "has a member twice";
		pos = je->position > 0 ? (size_t)je->position : 0;
		for (i = 0; pos <= len && i < sizeof(known) / sizeof(known[0]);
		    i++) {
			n = strlen(known[i]);
			if (pos >= n + 2 && body[pos - n - 2] == '"' &&
			    body[pos - 1] == '"' &&
			    memcmp(body + pos - n - 1, known[i], n) == 0) {
				buf_addf(err, "the answer has %s twice "
				    "(line %d, column %d)", known[i], je->line,
				    je->column);
				return;
			}
		}
		break;
	case json_error_invalid_utf8:
		what = "is not UTF-8";
		break;
	case json_error_null_character:
		what = "holds a NUL character";
		break;
	case json_error_numeric_overflow:
		what = "holds a number out of range";
		break;
	case json_error_stack_overflow:
		what = "is nested too deeply";
		break;
	case json_error_premature_end_of_input:
		what = "is cut short";
		break;
	default:
		break;
	}
	buf_addf(err, "the answer %s (line %d, column %d)", what, je->line,
	    je->column);
}

/* The member `name`; NULL when absent or null (null: not given). */
static json_t *
member(const json_t *o, const char *name)
{
	json_t	*v;

	v = json_object_get(o, name);
	return v == NULL || json_is_null(v) ? NULL : v;
}

/*
 * The string member `name` into `out`, which is empty: 1, or 0 when it
 * is optional and absent, null or "", or -1 with a reason.  VSCHARs
 * (%x20-7E), at most `max` bytes; with M_URL an https:// URL of
 * %x21-7E.  `out` is empty on entry, so the copy is its one allocation
 * and buf_wipe() reaches every byte of it.
 */
static int
text_member(const json_t *o, const char *name, size_t max, int flags,
    struct buf *out, struct buf *err)
{
	const json_t	*v;
	const char	*s;
	size_t		 n, i;
	unsigned char	 lo = (flags & M_URL) ? 0x21 : 0x20;

	if ((v = member(o, name)) != NULL && !json_is_string(v)) {
		buf_addf(err, "%s is not a string", name);
		return -1;
	}
	n = v != NULL ? json_string_length(v) : 0;
	if (n == 0) {
		if (!(flags & M_REQUIRED))
			return 0;
		if (v == NULL)
			buf_addf(err, "no %s in the answer", name);
		else
			buf_addf(err, "%s is empty", name);
		return -1;
	}
	if (n > max) {
		buf_addf(err, "%s is longer than %zu bytes", name, max);
		return -1;
	}
	s = json_string_value(v);
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < lo || (unsigned char)s[i] > 0x7e) {
			buf_addf(err, "%s holds %s that is not printable "
			    "ASCII", name, (flags & M_URL) ?
			    "a space or a byte" : "a byte");
			return -1;
		}
	}
	if ((flags & M_URL) &&
	    (n <= 8 || strncasecmp(s, "https://", 8) != 0)) {
		buf_addf(err, "%s is not an https:// URL", name);
		return -1;
	}
	buf_grow(out, n);
	buf_add(out, s, n);
	return 1;
}

/*
 * The member `name` as seconds, 1..max: a JSON integer (not a real), or
 * a string of digits (Azure AD v1 quotes its numbers), at most
 * DIGITS_MAX of them.  1 with the value in *out, 0 when it is optional
 * (no M_REQUIRED in `flags`) and absent or null, -1 with a reason.
 */
static int
seconds_member(const json_t *o, const char *name, long long max, int flags,
    long long *out, struct buf *err)
{
	const json_t	*v;
	const char	*s;
	long long	 val = 0;
	size_t		 n, i;

	if ((v = member(o, name)) == NULL) {
		if (!(flags & M_REQUIRED))
			return 0;
		buf_addf(err, "no %s in the answer", name);
		return -1;
	}
	if (json_is_integer(v))
		val = json_integer_value(v);
	else if (json_is_string(v)) {
		s = json_string_value(v);
		n = json_string_length(v);
		for (i = 0; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				break;
		if (n == 0 || i < n) {
			buf_addf(err, "%s is not a number", name);
			return -1;
		}
		if (n > DIGITS_MAX) {
			buf_addf(err, "%s is out of range", name);
			return -1;
		}
		for (i = 0; i < n; i++)
			val = val * 10 + (s[i] - '0');
	} else {
		buf_addf(err, "%s is not a number", name);
		return -1;
	}
	if (val < 1 || val > max) {
		buf_addf(err, "%s is out of range", name);
		return -1;
	}
	*out = val;
	return 1;
}

/* token_type: required, "Bearer" in any case (RFC 6750 4; RFC 6749 5.1
 * says the type is case-insensitive). */
static int
token_type(const json_t *o, struct buf *err)
{
	const json_t	*v;
	const char	*s;
	size_t		 n, i;

	if ((v = member(o, "token_type")) == NULL) {
		buf_addstr(err, "no token_type in the answer");
		return -1;
	}
	if (!json_is_string(v)) {
		buf_addstr(err, "token_type is not a string");
		return -1;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 6 && strcasecmp(s, "bearer") == 0)
		return 0;
	/* Quoted only when it cannot be a secret or drive a terminal. */
	for (i = 0; i < n && n <= TYPE_QUOTE_MAX; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]) == NULL)
			break;
	if (n > 0 && i == n)
		buf_addf(err, "token_type '%s' is not bearer", s);
	else
		buf_addstr(err, "token_type is not bearer");
	return -1;
}

/* NQSCHAR (%x20-21 / %x23-5B / %x5D-7E): printable ASCII but '"', '\'. */
static int
nqschar(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ||
		    s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

/*
 * An error_description fit for a terminal (s: UTF-8, jansson checked
 * it): tabs and line ends become one space (Microsoft's end in
 * "\r\nTrace ID: ..."), other control characters, DEL and C1 controls
 * (U+0080-U+009F, which some terminals obey like ESC [) are dropped,
 * and the result is cut to DESC_MAX bytes at a character boundary.
 */
static void
clean_desc(const char *s, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		 i, cut;

	for (i = 0; i < n && out->len <= DESC_MAX; i++) {
		if (u[i] == '\t' || u[i] == '\r' || u[i] == '\n') {
			if (out->len > 0 && out->data[out->len - 1] != ' ')
				buf_addch(out, ' ');
		} else if (u[i] < 0x20 || u[i] == 0x7f)
			continue;
		else if (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 &&
		    u[i + 1] <= 0x9f)
			i++;
		else
			buf_addch(out, u[i]);
	}
	if (out->len > DESC_MAX) {
		/* out->data[cut] starts a character, or cut is 0. */
		for (cut = DESC_MAX; cut > 0 &&
		    ((unsigned char)out->data[cut] & 0xc0) == 0x80; cut--)
			;
		buf_truncate(out, cut);
	}
	while (out->len > 0 && out->data[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
}

int
oauth_json_token(const char *body, size_t len, struct oauth_token_reply *r,
    struct buf *err)
{
	json_t	*root;
	int	 rc = -1;

	oauth_token_reply_release(r);
	if ((root = load(body, len, err)) == NULL)
		return -1;
	if (text_member(root, "access_token", TOKEN_MAX, M_REQUIRED,
	    &r->access_token, err) == -1 ||
	    token_type(root, err) == -1 ||
	    seconds_member(root, "expires_in", TOKEN_EXPIRES_MAX, 0,
	    &r->expires_in, err) == -1 ||
	    text_member(root, "refresh_token", TOKEN_MAX, 0,
	    &r->refresh_token, err) == -1 ||
	    text_member(root, "scope", SCOPE_MAX, 0, &r->scope, err) == -1)
		oauth_token_reply_release(r);
	else
		rc = 0;
	json_decref(root);
	return rc;
}

/*
 * The error code is at most ERROR_MAX bytes: codes are short words
 * (RFC 6749 5.2, RFC 8628 3.5), and a longer one is not an answer the
 * caller can act on or should print.  A description that is not a
 * string is ignored rather than losing the code.
 */
int
oauth_json_error(const char *body, size_t len, struct buf *error,
    struct buf *desc)
{
	struct buf	 why = BUF_INIT;
	const json_t	*v;
	json_t		*root;
	const char	*s;
	size_t		 n;
	int		 rc = -1;

	buf_reset(error);
	buf_reset(desc);
	root = load(body, len, &why);
	buf_release(&why);
	if (root == NULL)
		return -1;
	if ((v = member(root, "error")) != NULL && json_is_string(v)) {
		s = json_string_value(v);
		n = json_string_length(v);
		if (n > 0 && n <= ERROR_MAX && nqschar(s, n)) {
			buf_add(error, s, n);
			rc = 0;
		}
	}
	if (rc == 0 && (v = member(root, "error_description")) != NULL &&
	    json_is_string(v))
		clean_desc(json_string_value(v), json_string_length(v), desc);
	json_decref(root);
	return rc;
}

/*
 * Google names the URL "verification_url" (its older draft of RFC
 * 8628); when both are there, the RFC's name wins.  A "message" member
 * (Microsoft's instructions, with the URL and code in prose) is ignored:
 * the caller prints its own.
 */
int
oauth_json_device(const char *body, size_t len, struct oauth_device_reply *d,
    struct buf *err)
{
	json_t		*root;
	const char	*uri_name = "verification_uri";
	int		 rc = -1;

	oauth_device_reply_release(d);
	if ((root = load(body, len, err)) == NULL)
		return -1;
	if (member(root, "verification_uri") == NULL &&
	    member(root, "verification_url") != NULL)
		uri_name = "verification_url";
	if (text_member(root, "device_code", TOKEN_MAX, M_REQUIRED,
	    &d->device_code, err) == -1 ||
	    text_member(root, "user_code", USER_CODE_MAX, M_REQUIRED,
	    &d->user_code, err) == -1 ||
	    text_member(root, uri_name, URI_MAX, M_REQUIRED | M_URL,
	    &d->verification_uri, err) == -1 ||
	    text_member(root, "verification_uri_complete", URI_MAX, M_URL,
	    &d->verification_uri_complete, err) == -1 ||
	    seconds_member(root, "expires_in", DEVICE_EXPIRES_MAX, M_REQUIRED,
	    &d->expires_in, err) == -1 ||
	    seconds_member(root, "interval", INTERVAL_MAX, 0, &d->interval,
	    err) == -1)
		oauth_device_reply_release(d);
	else
		rc = 0;
	json_decref(root);
	return rc;
}
