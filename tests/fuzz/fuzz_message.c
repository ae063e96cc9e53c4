/*
 * message_spool() and message_envelope() (message.h) over a whole message
 * read from stdin.  The first byte of the input picks the options (-t,
 * the set_*_header modes, undisclosed recipients, aliases), the second
 * the sender and how the message arrives (a pipe or a regular file); the
 * rest is the message.  The spool must hold canonical CRLF text ending in
 * CRLF, with the empty line before body_off and no Bcc field left; the
 * recipients no CR or LF, no bare local name, no duplicate.
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

static int	 input_fd(const uint8_t *, size_t, int);
static void	 check_spool(const struct message *);

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

static void
check_spool(const struct message *m)
{
	char		*s;
	size_t		 n, i, bo;
	ssize_t		 r;

	FUZZ_ASSERT(m->fd >= 0);
	FUZZ_ASSERT(m->size >= 2);
	FUZZ_ASSERT(m->body_off >= 2 && m->body_off <= m->size);
	n = (size_t)m->size;
	bo = (size_t)m->body_off;
	s = malloc(n + 1);
	FUZZ_ASSERT(s != NULL);
	r = pread(m->fd, s, n + 1, 0);
	FUZZ_ASSERT(r >= 0 && (size_t)r == n);

	for (i = 0; i < n; i++) {
		if (s[i] == '\r')
			FUZZ_ASSERT(i + 1 < n && s[i + 1] == '\n');
		if (s[i] == '\n')
			FUZZ_ASSERT(i > 0 && s[i - 1] == '\r');
		FUZZ_ASSERT(s[i] != '\0');
	}
	FUZZ_ASSERT(s[n - 2] == '\r' && s[n - 1] == '\n');
	/* The empty line just before the body. */
	FUZZ_ASSERT(memcmp(s + bo - 2, "\r\n", 2) == 0);
	FUZZ_ASSERT(bo == 2 || (bo >= 4 && memcmp(s + bo - 4, "\r\n", 2) == 0));
	/* No Bcc or Resent-Bcc left in the header section. */
	for (i = 0; i < bo; i++) {
		if (i > 0 && s[i - 1] != '\n')
			continue;
		if (bo - i >= 4 && strncasecmp(s + i, "bcc:", 4) == 0)
			FUZZ_ASSERT(!"Bcc field left in the spool");
		if (bo - i >= 11 && strncasecmp(s + i, "resent-bcc:", 11) == 0)
			FUZZ_ASSERT(!"Resent-Bcc field left in the spool");
	}
	free(s);
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
	uint8_t		 b0, b1;
	size_t		 i;
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
		check_spool(&m);
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
