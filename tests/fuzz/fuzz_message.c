/*
 * message_spool() and message_envelope() (message.h) over a whole message
 * read from stdin.  The first byte of the input picks the options (-t,
 * the set_*_header modes, undisclosed recipients, aliases), the second
 * the sender and how the message arrives (a pipe or a regular file); the
 * rest is the message.  The spool must hold canonical CRLF text ending in
 * CRLF, with an empty line ending the header and no Bcc field left; the
 * recipients no CR or LF, no bare local name, no duplicate.
 *
 * Then against a reference written here, byte by byte and independent of
 * canon.c, header.c and the header scan in message.c: the canonical text
 * of the input (canon.h's rule: CR-only input decided once per message,
 * else an LF and the CRs right before it are one line end and any other
 * CR a space) and its header fields, split by RFC 5322's rules as
 * message.h states them.  The spool's body must be the reference body
 * byte for byte, so no field of the real header (a Bcc above all) can
 * have slipped into it, and a CR cannot have been taken for a line end;
 * every -t recipient must come from a To/Cc/Bcc field of the reference
 * header (the Resent- set when it has a Resent- field).  That a Bcc
 * address appears nowhere in the spool cannot be asserted: the same
 * address may stand in a Subject or in the body.
 */
#include "config.h"
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "conf.h"
#include "envelope.h"
#include "exitcode.h"
#include "message.h"
#include "strlist.h"
#include "fuzz.h"

/* message.c's bound on the header section, which also bounds how far
 * it looks for an LF before it takes the input for CR-only. */
#define HDR_MAX		(4 * 1024 * 1024)
/* header.c's longest field name (a longer one is no field). */
#define NAME_MAX_LEN	997

/* A field of the reference header: offsets into the canonical text. */
struct rfield {
	size_t	 off;		/* the name's first byte */
	size_t	 name_len;
	size_t	 len;		/* the whole field, folds and CRLF included */
};

struct ref {
	struct buf	 text;		/* the canonical input */
	struct rfield	*f;
	size_t		 n;
	size_t		 body;		/* where the body starts in text */
};

static int	 input_fd(const uint8_t *, size_t, int);
static void	 check_spool(const struct message *, char **, size_t *);
static void	 ref_canon(const uint8_t *, size_t, struct buf *);
static size_t	 ref_field_start(const char *, size_t);
static void	 ref_parse(const uint8_t *, size_t, struct ref *);
static int	 ref_is(const struct ref *, size_t, const char *);
static int	 is_bcc_line(const char *, size_t);
static void	 check_against(const struct ref *, const struct message *, size_t,
		    const struct msg_opts *, const char *);

static struct aliases	 al;
static int		 al_loaded;

/* The message on a descriptor: a pipe when it fits in the pipe buffer
 * and `pipe_ok`, else an unlinked regular file. */
static int
input_fd(const uint8_t *data, size_t n, int pipe_ok)
{
	const char	*path;
	ssize_t		 w;
	int		 p[2], fd;

	if (pipe_ok && pipe(p) == 0) {
		if (fcntl(p[1], F_SETFL, O_NONBLOCK) == 0 &&
		    (n == 0 || ((w = write(p[1], data, n)) >= 0 &&
		    (size_t)w == n))) {
			close(p[1]);
			return p[0];
		}
		close(p[0]);
		close(p[1]);
	}
	path = fuzz_tmpfile(data, n);
	if ((fd = open(path, O_RDONLY)) == -1)
		fuzz_fail(__FILE__, __LINE__, "open input");
	return fd;
}

/* The spool's bytes go to *out (malloc'd, NUL-terminated), where its
 * body starts to *body. */
static void
check_spool(const struct message *m, char **out, size_t *body)
{
	char		*s, *blank;
	size_t		 n, i, bo, eol;
	ssize_t		 r;

	FUZZ_ASSERT(m->spool.fd >= 0);
	FUZZ_ASSERT(m->size >= 2);
	n = (size_t)m->size;
	s = malloc(n + 1);
	FUZZ_ASSERT(s != NULL);
	r = pread(m->spool.fd, s, n + 1, 0);
	FUZZ_ASSERT(r >= 0 && (size_t)r == n);
	s[n] = '\0';

	for (i = 0; i < n; i++) {
		if (s[i] == '\r')
			FUZZ_ASSERT(i + 1 < n && s[i + 1] == '\n');
		if (s[i] == '\n')
			FUZZ_ASSERT(i > 0 && s[i - 1] == '\r');
		FUZZ_ASSERT(s[i] != '\0');
	}
	FUZZ_ASSERT(s[n - 2] == '\r' && s[n - 1] == '\n');
	/* The header's fields, then the empty line that ends it. */
	if (memcmp(s, "\r\n", 2) == 0)
		bo = 2;
	else {
		blank = memmem(s, n, "\r\n\r\n", 4);
		FUZZ_ASSERT(blank != NULL);
		bo = (size_t)(blank - s) + 4;
	}
	*body = bo;
	/* No line of the header section starts a Bcc or Resent-Bcc field,
	 * in any case, obsolete white space before the colon included. */
	for (i = 0; i + 2 < bo; i = eol + 2) {
		eol = (size_t)((char *)memchr(s + i, '\n', bo - i) - s) - 1;
		FUZZ_ASSERT(!is_bcc_line(s + i, eol - i));
	}
	*out = s;
}

/* Does the line start a field named Bcc or Resent-Bcc? */
static int
is_bcc_line(const char *l, size_t len)
{
	size_t	 k;

	if (len >= 3 && strncasecmp(l, "bcc", 3) == 0)
		k = 3;
	else if (len >= 10 && strncasecmp(l, "resent-bcc", 10) == 0)
		k = 10;
	else
		return 0;
	while (k < len && (l[k] == ' ' || l[k] == '\t'))
		k++;
	return k < len && l[k] == ':';
}

/*
 * The canonical text by the rule, one byte at a time: NULs go first; the
 * input is CR-only when its first HDR_MAX bytes (or all of it) hold a CR
 * and no LF, and then CR, LF and CRLF each end a line; otherwise an LF
 * with the CRs right before it ends a line and any other CR is a space.
 * A last line without an ending gets one.
 */
static void
ref_canon(const uint8_t *in, size_t n, struct buf *out)
{
	size_t	 i, j, lim = n < HDR_MAX ? n : HDR_MAX;
	int	 cr_only;

	cr_only = memchr(in, '\n', lim) == NULL && memchr(in, '\r', lim) != NULL;
	for (i = 0; i < n; i++) {
		if (in[i] == '\0')
			continue;
		if (in[i] == '\n') {
			buf_add(out, "\r\n", 2);
			continue;
		}
		if (in[i] != '\r') {
			buf_addch(out, in[i]);
			continue;
		}
		/* The next byte that is not NUL. */
		for (j = i + 1; j < n && in[j] == '\0'; j++)
			;
		if (cr_only) {
			buf_add(out, "\r\n", 2);
			if (j < n && in[j] == '\n')
				i = j;
			continue;
		}
		/* Otherwise this CR and the CRs after it end a line when an
		 * LF follows them, else each is a space. */
		while (j < n && (in[j] == '\0' || in[j] == '\r'))
			j++;
		if (j < n && in[j] == '\n') {
			buf_add(out, "\r\n", 2);
			i = j;
			continue;
		}
		for (; i < j; i++)
			if (in[i] == '\r')
				buf_addch(out, ' ');
		i--;
	}
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_add(out, "\r\n", 2);
}

/* The length of the name when the line starts a field, else 0. */
static size_t
ref_field_start(const char *l, size_t len)
{
	size_t	 i, k;

	for (i = 0; i < len && l[i] >= 33 && l[i] <= 126 && l[i] != ':'; i++)
		;
	if (i == 0 || i > NAME_MAX_LEN)
		return 0;
	for (k = i; k < len && (l[k] == ' ' || l[k] == '\t'); k++)
		;
	return k < len && l[k] == ':' ? i : 0;
}

/*
 * Split the canonical input's header section: a first line "From ..."
 * that is no field is an mbox line and skipped; fields and their
 * continuation lines follow; the section ends at an empty line (the
 * body starts after it), at a line that is neither (it starts the
 * body), or at the end of the input.
 */
static void
ref_parse(const uint8_t *in, size_t n, struct ref *r)
{
	const char	*t;
	size_t		 pos = 0, eol, len, nl, cap = 0;

	ref_canon(in, n, &r->text);
	t = buf_str(&r->text);
	r->f = NULL;
	r->n = 0;
	r->body = r->text.len;
	while (pos < r->text.len) {
		eol = (size_t)((const char *)memchr(t + pos, '\n',
		    r->text.len - pos) - t);
		len = eol - 1 - pos;
		if (len == 0) {
			r->body = eol + 1;
			break;
		}
		if (pos == 0 && len >= 5 && memcmp(t, "From ", 5) == 0 &&
		    ref_field_start(t, len) == 0) {
			pos = eol + 1;
			continue;
		}
		if (t[pos] == ' ' || t[pos] == '\t') {
			if (r->n == 0) {
				r->body = pos;
				break;
			}
			r->f[r->n - 1].len += len + 2;
		} else if ((nl = ref_field_start(t + pos, len)) > 0) {
			if (r->n == cap) {
				cap = cap == 0 ? 8 : cap * 2;
				r->f = realloc(r->f, cap * sizeof(*r->f));
				FUZZ_ASSERT(r->f != NULL);
			}
			r->f[r->n].off = pos;
			r->f[r->n].name_len = nl;
			r->f[r->n].len = len + 2;
			r->n++;
		} else {
			r->body = pos;
			break;
		}
		pos = eol + 1;
	}
}

/* Is field `i` named `name` (any case)? */
static int
ref_is(const struct ref *r, size_t i, const char *name)
{
	return r->f[i].name_len == strlen(name) &&
	    strncasecmp(r->text.data + r->f[i].off, name, r->f[i].name_len) == 0;
}

static void
check_against(const struct ref *r, const struct message *m, size_t body,
    const struct msg_opts *o, const char *spool)
{
	static const char *const resent[] = {
		"Resent-From", "Resent-Date", "Resent-To", "Resent-Cc",
		"Resent-Bcc", "Resent-Message-ID", "Resent-Sender", NULL
	};
	static const char *const plain_set[] = { "To", "Cc", "Bcc", NULL };
	static const char *const resent_set[] = {
		"Resent-To", "Resent-Cc", "Resent-Bcc", NULL
	};
	const char *const *set = plain_set, *const *k;
	struct strlist	 addrs = STRLIST_INIT, exp = STRLIST_INIT;
	struct strlist	 ok = STRLIST_INIT;
	struct buf	 v = BUF_INIT, e = BUF_INIT;
	const char	*raw;
	size_t		 i, j, body_len;
	char		*q;

	/* The body, exactly. */
	body_len = (size_t)m->size - body;
	FUZZ_ASSERT(body_len == r->text.len - r->body);
	FUZZ_ASSERT(body_len == 0 || memcmp(spool + body,
	    r->text.data + r->body, body_len) == 0);

	if (!o->extract)
		return;
	for (i = 0; i < r->n; i++)
		for (k = resent; *k != NULL; k++)
			if (ref_is(r, i, *k))
				set = resent_set;
	/* The addresses those fields hold, as -t turns them into
	 * recipients: aliases applied, bare names qualified. */
	for (i = 0; i < r->n; i++) {
		for (k = set; *k != NULL && !ref_is(r, i, *k); k++)
			;
		if (*k == NULL)
			continue;
		/* The value: past the colon, CR and LF dropped, trimmed. */
		raw = r->text.data + r->f[i].off;
		buf_reset(&v);
		for (j = r->f[i].name_len; raw[j] != ':'; j++)
			;
		for (j++; j < r->f[i].len; j++)
			if (raw[j] != '\r' && raw[j] != '\n' &&
			    (v.len > 0 || (raw[j] != ' ' && raw[j] != '\t')))
				buf_addch(&v, raw[j]);
		while (v.len > 0 && (v.data[v.len - 1] == ' ' ||
		    v.data[v.len - 1] == '\t'))
			v.data[--v.len] = '\0';
		buf_reset(&e);
		(void)addr_parse_list(buf_str(&v), &addrs, NULL, &e);
	}
	for (i = 0; i < addrs.n; i++) {
		if (o->aliases != NULL)
			aliases_expand(o->aliases, addrs.v[i], &exp);
		else
			strlist_add(&exp, addrs.v[i]);
	}
	for (i = 0; i < exp.n; i++) {
		q = addr_qualify(exp.v[i], o->qualify_domain);
		strlist_add(&ok, q);
		free(q);
	}
	for (i = 0; i < m->hdr_rcpts.n; i++)
		if (strlist_find(&ok, m->hdr_rcpts.v[i]) < 0)
			fuzz_fail(__FILE__, __LINE__, "a -t recipient that no "
			    "To, Cc or Bcc field of the header holds");
	strlist_release(&addrs);
	strlist_release(&exp);
	strlist_release(&ok);
	buf_release(&v);
	buf_release(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char al_text[] =
	    "root: admin@example.org, \"Post Master\" <pm@example.org>\n"
	    "team: a@example.org, b\n"
	    "default: catchall@example.org\n";
	static const char *const senders[] = {
		"sender@example.org", "", "bare", NULL
	};
	struct msg_opts	 o;
	struct message	 m;
	struct envelope	 env;
	struct strlist	 argv = STRLIST_INIT;
	struct buf	 err = BUF_INIT;
	struct ref	 ref;
	char		*spool = NULL;
	uint8_t		 b0, b1;
	size_t		 i, body;
	int		 fd, le, rc;

	if (size < 2)
		return 0;
	b0 = data[0];
	b1 = data[1];
	data += 2;
	size -= 2;

	if (!al_loaded) {
		struct buf	 e = BUF_INIT;

		if (aliases_load(&al, fuzz_tmpfile((const uint8_t *)al_text,
		    sizeof(al_text) - 1), &e) == -1)
			fuzz_fail(__FILE__, __LINE__, buf_str(&e));
		al_loaded = 1;
	}

	memset(&o, 0, sizeof(o));
	o.extract = b0 & 1;
	o.set_from = (b0 >> 1) % 3 == 0 ? HDR_AUTO :
	    (b0 >> 1) % 3 == 1 ? HDR_ON : HDR_OFF;
	o.set_date = b0 & 0x08 ? HDR_OFF : HDR_AUTO;
	o.set_msgid = b0 & 0x10 ? HDR_OFF : HDR_AUTO;
	o.set_to = b0 & 0x20 ? HDR_OFF : HDR_ON;
	o.undisclosed = (b0 & 0x40) != 0;
	o.aliases = b0 & 0x80 ? &al : NULL;
	o.env_from = senders[b1 & 3];
	o.full_name = b1 & 4 ? "Fuzz \"Q\" User (x)" : NULL;
	o.qualify_domain = "example.org";
	o.msgid_domain = "example.org";
	if (b1 & 8)
		strlist_add(&argv, "argv@example.org");
	if (b1 & 16)
		strlist_add(&argv, "root");

	fd = input_fd(data, size, (b1 & 32) != 0);
	message_init(&m);
	le = LE_NONE;
	rc = message_spool(&m, fd, &o, &argv, &le, &err);
	close(fd);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_ASSERT(err.len > 0 && le != LE_NONE);
		FUZZ_ASSERT(strchr(buf_str(&err), '\n') == NULL);
	} else {
		check_spool(&m, &spool, &body);
		memset(&ref, 0, sizeof(ref));
		ref_parse(data, size, &ref);
		check_against(&ref, &m, body, &o, spool);
		buf_release(&ref.text);
		free(ref.f);
		free(spool);
		/* Aliases applied and bare names qualified. */
		for (i = 0; i < m.hdr_rcpts.n; i++) {
			FUZZ_ASSERT(strpbrk(m.hdr_rcpts.v[i], "\r\n") == NULL);
			FUZZ_ASSERT(!addr_is_local(m.hdr_rcpts.v[i]));
		}
		if (!o.extract)
			FUZZ_ASSERT(m.hdr_rcpts.n == 0);

		envelope_init(&env);
		buf_reset(&err);
		le = LE_NONE;
		rc = message_envelope(&m, &o, &argv, &env, &le, &err);
		FUZZ_ASSERT(rc == 0 ? err.len == 0 : err.len > 0);
		if (rc == 0) {
			FUZZ_ASSERT(env.from != NULL);
			FUZZ_ASSERT(env.rcpts.n > 0);
			/* No duplicates, nothing unqualified. */
			for (i = 0; i < env.rcpts.n; i++) {
				FUZZ_ASSERT(strpbrk(env.rcpts.v[i],
				    "\r\n") == NULL);
				FUZZ_ASSERT(!addr_is_local(env.rcpts.v[i]));
				FUZZ_ASSERT(strlist_find(&env.rcpts,
				    env.rcpts.v[i]) == (long)i);
			}
		}
		envelope_release(&env);
	}
	message_release(&m);
	strlist_release(&argv);
	buf_release(&err);
	return 0;
}
