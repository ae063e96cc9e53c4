#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "deliver.h"
#include "exitcode.h"
#include "queue.h"
#include "smtp.h"
#include "xmalloc.h"

#define BACKOFF_FIRST	 (5 * 60)
#define BACKOFF_MAX	 (60 * 60)

int
outcome_final(const struct smtp_status *st)
{
	int	 c = st->code / 100;

	switch (st->lerr) {
	case LE_DATAERR:
	case LE_TOOBIG:
	case LE_USAGE:
		return 1;
	case LE_NONE:
		return c == 5 && (st->phase == PH_MAIL ||
		    st->phase == PH_RCPT || st->phase == PH_DATA ||
		    st->phase == PH_BODY || st->phase == PH_EOM);
	default:
		return 0;
	}
}

void
verdict_of(const struct smtp_result *res, struct verdict *v)
{
	size_t	 i, n = res->nrcpt > 0 ? res->nrcpt : 1;
	int	 whole_final;

	memset(v, 0, sizeof(*v));
	v->done = xcalloc(n, 1);
	v->final = xcalloc(n, 1);
	v->kept = xcalloc(n, 1);
	whole_final = res->aborted && outcome_final(&res->st);
	if (res->aborted && !whole_final) {
		v->why = &res->st;
		/* Before MAIL: the session, the server or the account. */
		v->account = res->st.phase < PH_MAIL;
	}
	for (i = 0; i < res->nrcpt; i++) {
		switch (res->rcpt[i].state) {
		case RCPT_ACCEPTED:
			v->done[i] = 1;
			v->ndone++;
			break;
		case RCPT_REFUSED:
			v->final[i] = 1;
			v->nfinal++;
			break;
		case RCPT_DEFERRED:
			v->kept[i] = 1;
			v->nkept++;
			break;
		default:
			if (whole_final) {
				v->final[i] = 1;
				v->nfinal++;
			} else {
				v->kept[i] = 1;
				v->nkept++;
			}
			break;
		}
	}
}

void
verdict_release(struct verdict *v)
{
	free(v->done);
	free(v->final);
	free(v->kept);
	memset(v, 0, sizeof(*v));
}

int
verdict_status(const struct smtp_result *res, const struct verdict *v)
{
	size_t	 i;

	if (v->nfinal == 0)
		return EX_OK;
	if (res->aborted && outcome_final(&res->st))
		return exit_status(res->st.phase, res->st.code, res->st.lerr);
	/* Refused one by one (at RCPT, or by LMTP after the data). */
	for (i = 0; i < res->nrcpt; i++)
		if (v->final[i])
			return exit_status(PH_RCPT, res->rcpt[i].code, LE_NONE);
	return EX_SOFTWARE;
}

long long
deliver_backoff(unsigned attempts)
{
	long long	 wait = BACKOFF_FIRST;
	unsigned char	 r = 0;
	unsigned	 i;

	for (i = 1; i < attempts && wait < BACKOFF_MAX; i++)
		wait *= 2;
	if (wait > BACKOFF_MAX)
		wait = BACKOFF_MAX;
	arc4random_buf(&r, 1);
	return wait - wait * r / 2560;
}

static void
next_attempt(struct qentry *e, long long now)
{
	e->attempts++;
	e->last = now;
	e->next = now + deliver_backoff(e->attempts);
}

void
deliver_apply(struct qentry *e, const struct smtp_result *res,
    const struct verdict *v, long long now)
{
	const struct smtp_rcpt	*r;
	size_t			 i, k;

	/* From the end, so that dropping keeps the indexes below valid. */
	for (k = res->nrcpt; k > 0; k--) {
		i = k - 1;
		r = &res->rcpt[i];
		if (!v->kept[i])
			qentry_drop_rcpt(e, i);
		else if (r->state == RCPT_DEFERRED || v->why == NULL)
			qentry_note(e, i, r->code, r->ecode, r->text);
		else
			qentry_note(e, i, v->why->code, v->why->ecode,
			    buf_str(&v->why->text));
	}
	next_attempt(e, now);
}

void
deliver_defer_all(struct qentry *e, const struct smtp_status *why,
    long long now)
{
	size_t	 i;

	for (i = 0; i < e->env.rcpts.n; i++)
		qentry_note(e, i, why->code, why->ecode, buf_str(&why->text));
	next_attempt(e, now);
}
