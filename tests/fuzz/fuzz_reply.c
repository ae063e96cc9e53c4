/*
 * reply_feed() and caps_parse() (reply.h) over a server's byte stream:
 * the input is split into lines at LF as iobuf_getline() does (a CR
 * before the LF stripped, a line over REPLY_MAX_LINE ends the session),
 * each complete reply is parsed as an EHLO reply and summarised.
 */
#include "config.h"
#include <string.h>
#include "buf.h"
#include "reply.h"
#include "fuzz.h"

static void	check_reply(const struct reply *);

static void
check_reply(const struct reply *r)
{
	struct caps	 c;
	struct buf	 sum = BUF_INIT;
	size_t		 i;

	FUZZ_ASSERT(r->code >= 200 && r->code <= 599);
	FUZZ_ASSERT(r->nlines >= 1 && r->nlines <= REPLY_MAX_LINES);
	FUZZ_ASSERT(memchr(r->ecode, '\0', sizeof(r->ecode)) != NULL);
	FUZZ_ASSERT(r->text.data == NULL ||
	    memchr(r->text.data, '\r', r->text.len) == NULL);

	memset(&c, 0xa5, sizeof(c));
	caps_parse(&c, r);
	FUZZ_ASSERT(memchr(c.auth, '\0', sizeof(c.auth)) != NULL);

	reply_summary(r, &sum);
	FUZZ_ASSERT(sum.len > 0);
	/* Printable ASCII only: everything else is escaped. */
	for (i = 0; i < sum.len; i++)
		FUZZ_ASSERT(sum.data[i] >= 0x20 && sum.data[i] < 0x7f);
	buf_release(&sum);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl, *why;
	struct reply	 r;
	enum reply_state st;
	size_t		 len;

	reply_init(&r);
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;		/* cut off by EOF: IO_EOF */
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > REPLY_MAX_LINE)
			break;		/* IO_TOOLONG */
		why = NULL;
		st = reply_feed(&r, p, len, &why);
		p = nl + 1;
		if (st == REPLY_BAD) {
			FUZZ_ASSERT(why != NULL && *why != '\0');
			break;
		}
		FUZZ_ASSERT(r.nlines <= REPLY_MAX_LINES);
		if (st == REPLY_DONE) {
			check_reply(&r);
			reply_reset(&r);
			FUZZ_ASSERT(r.code == 0 && r.nlines == 0);
		}
	}
	reply_release(&r);
	return 0;
}
