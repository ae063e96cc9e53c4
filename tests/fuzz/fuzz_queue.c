/*
 * queue_env_parse() (queue.h) over a queue entry's envelope file: files
 * in a queue are written by postie, but a disk error, an older or newer
 * postie or a hand edit can leave anything there.  A parse either fails
 * with one line, or gives an entry with an ID, a sender and at least one
 * recipient, whose reasons are printable lines; written back with
 * queue_env_write() it parses to the same entry, and writing that gives
 * the same bytes again.
 */
#include "config.h"
#include <string.h>
#include "buf.h"
#include "queue.h"
#include "fuzz.h"

static void	same_entry(const struct qentry *, const struct qentry *);

static void
same_entry(const struct qentry *a, const struct qentry *b)
{
	size_t	 i;

	FUZZ_ASSERT(strcmp(a->id, b->id) == 0);
	FUZZ_ASSERT(strcmp(a->config, b->config) == 0);
	FUZZ_ASSERT(strcmp(a->account, b->account) == 0);
	FUZZ_ASSERT(strcmp(a->env.from, b->env.from) == 0);
	FUZZ_ASSERT(a->arrival == b->arrival && a->next == b->next &&
	    a->last == b->last && a->attempts == b->attempts &&
	    a->uid == b->uid && a->env.size == b->env.size);
	FUZZ_ASSERT(a->env.rcpts.n == b->env.rcpts.n);
	FUZZ_ASSERT(a->overrides.n == b->overrides.n);
	for (i = 0; i < a->env.rcpts.n; i++) {
		FUZZ_ASSERT(strcmp(a->env.rcpts.v[i], b->env.rcpts.v[i]) == 0);
		FUZZ_ASSERT(a->rcpt[i].code == b->rcpt[i].code);
		FUZZ_ASSERT(strcmp(a->rcpt[i].ecode, b->rcpt[i].ecode) == 0);
		FUZZ_ASSERT((a->rcpt[i].reason == NULL) ==
		    (b->rcpt[i].reason == NULL));
		FUZZ_ASSERT(a->rcpt[i].reason == NULL ||
		    strcmp(a->rcpt[i].reason, b->rcpt[i].reason) == 0);
	}
	for (i = 0; i < a->overrides.n; i++)
		FUZZ_ASSERT(strcmp(a->overrides.v[i], b->overrides.v[i]) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qentry	 e, again;
	struct buf	 err = BUF_INIT, out = BUF_INIT, out2 = BUF_INIT;

	qentry_init(&e);
	qentry_init(&again);
	if (queue_env_parse((const char *)data, size, &e, &err) == -1) {
		FUZZ_ASSERT(err.len > 0 &&
		    memchr(err.data, '\n', err.len) == NULL);
		FUZZ_ASSERT(e.env.rcpts.n == 0 && e.config == NULL);
		goto out;
	}
	FUZZ_ASSERT(queue_id_ok(e.id));
	FUZZ_ASSERT(e.env.from != NULL && e.env.rcpts.n > 0);
	FUZZ_ASSERT(e.env.notify == e.notify && e.env.envid == e.envid);
	queue_env_write(&e, &out);
	FUZZ_ASSERT(queue_env_parse(out.data, out.len, &again, &err) == 0);
	same_entry(&e, &again);
	queue_env_write(&again, &out2);
	FUZZ_ASSERT(out.len == out2.len &&
	    memcmp(out.data, out2.data, out.len) == 0);
out:
	qentry_release(&e);
	qentry_release(&again);
	buf_release(&err);
	buf_release(&out);
	buf_release(&out2);
	return 0;
}
