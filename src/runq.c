#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "bounce.h"
#include "buf.h"
#include "conf.h"
#include "deliver.h"
#include "log.h"
#include "outcome.h"
#include "queue.h"
#include "report.h"
#include "route.h"
#include "runq.h"
#include "setup.h"
#include "smtp.h"
#include "spool.h"
#include "strlist.h"
#include "xmalloc.h"

/*
 * A queue run, group by group.  Entries are read without a lock to sort
 * them into groups (configuration file, account, command-line overrides),
 * then each is locked, sent, settled and let go in turn, so a run holds
 * one entry at a time and never sends one that another run holds.
 */

/* One entry to try, and the group it belongs to. */
struct work {
	char	 id[QUEUE_ID_MAX];
	char	*key;		/* config NUL account NUL overrides... */
	size_t	 keylen;
};

/* The group being worked through. */
struct group {
	struct runq	*rq;
	struct setup	 su;
	int		 have_setup;
	const struct setup *use;	/* su, or the one handed over */
	struct smtp_session *s;
	unsigned	 sent;		/* messages over this session */
	size_t		 first_host;	/* where the next session starts */
	unsigned	 timeouts;	/* messages timed out in a row */
	struct smtp_status failed;	/* why the group's entries wait */
	int		 have_failed;
	char		*config;
	char		*account;
	struct strlist	 bounces;	/* entries made during the run */
};

static int	 matches(const struct runq *, const struct qentry *);
static void	 work_key(const struct qentry *, struct work *);
static int	 work_cmp(const void *, const void *);
static int	 same_group(const struct work *, const struct work *);
static void	 run_one(struct group *, const char *);
static void	 run_group(struct runq *, const struct work *, size_t);
static int	 collect(struct runq *, struct work **, size_t *,
		    struct buf *);
static void	 group_begin(struct group *, struct runq *,
		    const struct qentry *);
static void	 group_end(struct group *);
static void	 group_fail(struct group *, const struct smtp_status *);
static struct smtp_session *session(struct group *);
static void	 settle(struct group *, struct qentry *,
		    const struct smtp_result *, const struct verdict *);
static void	 try_entry(struct group *, struct qentry *);
static int	 lifetime(const struct group *);
static void	 bounce(struct group *, struct qentry *,
		    const struct bounce_rcpt *, size_t, int);
static void	 say(const struct runq *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 json_str(FILE *, const char *);
static void	 list_one(FILE *, const struct qentry *, int);

static void
say(const struct runq *rq, const char *fmt, ...)
{
	va_list	 ap;

	if (!rq->verbose)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* -qI, -qR, -qS and --due. */
static int
matches(const struct runq *rq, const struct qentry *e)
{
	size_t	 i;
	int	 ok;

	if (rq->only_id != NULL && strstr(e->id, rq->only_id) == NULL)
		return 0;
	if (rq->only_sender != NULL &&
	    strstr(e->env.from, rq->only_sender) == NULL)
		return 0;
	if (rq->only_rcpt != NULL) {
		for (i = 0, ok = 0; i < e->env.rcpts.n && !ok; i++)
			ok = strstr(e->env.rcpts.v[i], rq->only_rcpt) != NULL;
		if (!ok)
			return 0;
	}
	if (rq->session_only && rq->session != NULL &&
	    (e->overrides.n > 0 || strcmp(e->config, rq->config) != 0 ||
	    strcmp(e->account, rq->account) != 0))
		return 0;
	if (rq->skip_recent > 0 &&
	    e->last > (long long)time(NULL) - rq->skip_recent)
		return 0;
	return !rq->due || e->next <= (long long)time(NULL);
}

/* The group key: configuration, account and overrides, NUL-separated. */
static void
work_key(const struct qentry *e, struct work *w)
{
	struct buf	 k = BUF_INIT;
	size_t		 i;

	buf_add(&k, e->config, strlen(e->config) + 1);
	buf_add(&k, e->account, strlen(e->account) + 1);
	for (i = 0; i < e->overrides.n; i++)
		buf_add(&k, e->overrides.v[i], strlen(e->overrides.v[i]) + 1);
	w->keylen = k.len;
	w->key = buf_detach(&k);
}

static int
work_cmp(const void *a, const void *b)
{
	const struct work	*x = a, *y = b;
	size_t			 n = x->keylen < y->keylen ? x->keylen :
	    y->keylen;
	int			 c;

	if ((c = memcmp(x->key, y->key, n)) != 0)
		return c;
	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The entries this run tries, grouped. */
static int
collect(struct runq *rq, struct work **out, size_t *nout, struct buf *err)
{
	struct strlist	 ids = STRLIST_INIT;
	struct buf	 notes = BUF_INIT, why = BUF_INIT;
	struct qentry	 e;
	struct work	*w = NULL;
	size_t		 i, n = 0;
	int		 rc;

	if (queue_list(rq->q, &ids, &notes, err) == -1)
		return -1;
	report_warnings(buf_str(&notes));
	qentry_init(&e);
	for (i = 0; i < ids.n; i++) {
		buf_reset(&why);
		if ((rc = queue_peek(rq->q, ids.v[i], &e, &why)) == -1) {
			/* Unreadable: locked, it is moved aside (unless a
			 * run that holds it is writing it now). */
			buf_reset(&why);
			if (queue_lock(rq->q, ids.v[i], &e, &why) == -1)
				log_error("queue '%s': %s (moved aside)",
				    rq->q->dir, buf_str(&why));
			qentry_release(&e);
			continue;
		}
		if (rc == 0 || !matches(rq, &e))
			continue;
		w = xreallocarray(w, n + 1, sizeof(*w));
		(void)snprintf(w[n].id, sizeof(w[n].id), "%s", e.id);
		work_key(&e, &w[n]);
		n++;
	}
	qentry_release(&e);
	if (n > 1)
		qsort(w, n, sizeof(*w), work_cmp);
	strlist_release(&ids);
	buf_release(&notes);
	buf_release(&why);
	*out = w;
	*nout = n;
	return 0;
}

/* A new group: the configuration and account of `e`, loaded now. */
static void
group_begin(struct group *g, struct runq *rq, const struct qentry *e)
{
	struct buf	 err = BUF_INIT;
	struct smtp_status st;

	memset(g, 0, sizeof(*g));
	g->rq = rq;
	buf_init(&g->failed.text);
	strlist_init(&g->bounces);
	g->config = xstrdup(e->config);
	g->account = xstrdup(e->account);
	if (rq->session != NULL && e->overrides.n == 0 &&
	    strcmp(e->config, rq->config) == 0 &&
	    strcmp(e->account, rq->account) == 0) {
		/* The submission's own session and setup, handed over. */
		g->use = rq->setup;
		g->s = rq->session;
		rq->session = NULL;
		return;
	}
	setup_init(&g->su);
	/* In the system queue every entry names the system configuration
	 * (queue.c sees to it): read as such, with the group for the open. */
	if (setup_load(&g->su, e->config, rq->q->system, e->account, NULL,
	    &e->overrides, &err) != EX_OK) {
		memset(&st, 0, sizeof(st));
		st.phase = PH_LOCAL;
		st.lerr = LE_CONFIG;
		st.text = err;
		group_fail(g, &st);
		setup_release(&g->su);
		buf_release(&err);
		return;
	}
	g->have_setup = 1;
	g->use = &g->su;
	log_account(g->su.acct);
	buf_release(&err);
}

static void
group_end(struct group *g)
{
	smtp_close(g->s);
	if (g->have_setup)
		setup_release(&g->su);
	buf_release(&g->failed.text);
	strlist_release(&g->bounces);
	free(g->config);
	free(g->account);
	memset(g, 0, sizeof(*g));
}

/*
 * The account cannot be used now (its file, its server, its AUTH): the
 * group's entries wait, and it is said once, loudly, not once per
 * message (and no message bounces for it before its lifetime ends).
 */
static void
group_fail(struct group *g, const struct smtp_status *st)
{
	g->failed.phase = st->phase;
	g->failed.code = st->code;
	g->failed.lerr = st->lerr;
	(void)snprintf(g->failed.ecode, sizeof(g->failed.ecode), "%s",
	    st->ecode);
	buf_reset(&g->failed.text);
	buf_addstr(&g->failed.text, buf_str(&st->text));
	g->have_failed = 1;
	log_error("queue run: account '%s' of '%s' cannot be used now (%s: "
	    "%s); its messages stay queued", g->account, g->config,
	    phase_name(st->phase), buf_str(&st->text));
}

/* The group's session, opened on first use and after a broken one. */
static struct smtp_session *
session(struct group *g)
{
	if (g->have_failed)
		return NULL;
	if (g->s != NULL && (g->sent >= RUNQ_PER_SESSION ||
	    smtp_reset(g->s) == -1)) {
		smtp_close(g->s);
		g->s = NULL;
	}
	if (g->s == NULL) {
		g->s = smtp_new(&g->use->route, g->rq->trace, NULL);
		smtp_set_first_host(g->s, g->first_host);
		smtp_set_tls_store(g->s, &queue_tls_store, g->rq->q);
		g->sent = 0;
		if (smtp_open(g->s) == -1) {
			report_warnings(smtp_warnings(g->s));
			group_fail(g, smtp_failure(g->s));
			smtp_close(g->s);
			g->s = NULL;
			return NULL;
		}
		report_warnings(smtp_warnings(g->s));
		smtp_clear_warnings(g->s);
	}
	return g->s;
}

static int
lifetime(const struct group *g)
{
	return g->use != NULL ? g->use->acct->queue_lifetime :
	    CONF_DEFAULT_LIFETIME;
}

/* A bounce for `n` recipients of `e`, queued and sent in this group. */
static void
bounce(struct group *g, struct qentry *e, const struct bounce_rcpt *r,
    size_t n, int expired)
{
	struct buf	 err = BUF_INIT;
	struct bounce_from from;
	char		 id[QUEUE_ID_MAX];
	const struct account *a = g->use != NULL ? g->use->acct : NULL;

	if (n == 0)
		return;
	/* The account's names when it has them: this host's own name may
	 * be a bare "vm" that means nothing to the sender. */
	from.host = a != NULL && a->domain != NULL &&
	    strchr(a->domain, '.') != NULL ? a->domain : NULL;
	from.domain = a != NULL && a->maildomain != NULL ? a->maildomain :
	    from.host;
	if (bounce_queue(g->rq->q, e, r, n, expired, lifetime(g),
	    g->use != NULL && g->use->route.hosts.n > 0 ?
	    g->use->route.hosts.v[0] : NULL, &from, id, &err) == -1)
		log_error("queue entry %s: cannot queue its bounce: %s",
		    e->id, buf_str(&err));
	else if (id[0] == '\0')
		log_error("queue entry %s: %zu recipient%s failed; no bounce "
		    "for the null sender", e->id, n, n == 1 ? "" : "s");
	else {
		strlist_add(&g->bounces, id);
		say(g->rq, "%s: %zu recipient%s %s; bounce queued as %s",
		    e->id, n, n == 1 ? "" : "s", expired ? "expired" :
		    "refused", id);
	}
	buf_release(&err);
}

/*
 * After an attempt (`res` and `v`, or none: the group's failure): bounce
 * what is refused for good or past its lifetime, then save or remove.
 */
static void
settle(struct group *g, struct qentry *e, const struct smtp_result *res,
    const struct verdict *v)
{
	struct bounce_rcpt	*br;
	struct buf		 err = BUF_INIT;
	long long		 now = (long long)time(NULL);
	size_t			 i, n = 0;
	int			 expired;

	br = xcalloc(e->env.rcpts.n + 1, sizeof(*br));
	for (i = 0; res != NULL && i < res->nrcpt; i++) {
		if (!v->final[i])
			continue;
		br[n].addr = e->env.rcpts.v[i];
		br[n].code = res->rcpt[i].code != 0 ? res->rcpt[i].code :
		    res->st.code;
		br[n].ecode = res->rcpt[i].code != 0 ? res->rcpt[i].ecode :
		    res->st.ecode;
		br[n].text = res->rcpt[i].text != NULL ? res->rcpt[i].text :
		    buf_str(&res->st.text);
		n++;
	}
	bounce(g, e, br, n, 0);
	if (res != NULL)
		deliver_apply(e, res, v, now);
	else
		deliver_defer_all(e, &g->failed, now);
	expired = e->env.rcpts.n > 0 && now >= e->arrival + lifetime(g);
	if (expired) {
		for (i = 0; i < e->env.rcpts.n; i++) {
			br[i].addr = e->env.rcpts.v[i];
			br[i].code = e->rcpt[i].code;
			br[i].ecode = e->rcpt[i].ecode;
			br[i].text = e->rcpt[i].reason;
		}
		bounce(g, e, br, e->env.rcpts.n, 1);
		while (e->env.rcpts.n > 0)
			qentry_drop_rcpt(e, e->env.rcpts.n - 1);
	}
	free(br);
	if (e->env.rcpts.n == 0) {
		if (queue_remove(g->rq->q, e, &err) == -1)
			log_error("%s", buf_str(&err));
		else if (!expired)
			say(g->rq, "%s: done", e->id);
	} else if (queue_save(g->rq->q, e, &err) == -1)
		log_error("%s", buf_str(&err));
	else
		say(g->rq, "%s: %zu recipient%s wait: %s", e->id,
		    e->env.rcpts.n, e->env.rcpts.n == 1 ? "" : "s",
		    e->rcpt[0].reason != NULL ? e->rcpt[0].reason : "");
	buf_release(&err);
}

/* One held entry: send it, or let it wait with the group's failure. */
static void
try_entry(struct group *g, struct qentry *e)
{
	struct smtp_session	*s;
	struct smtp_result	 res;
	struct verdict		 v;
	struct spool		 sp;

	if ((s = session(g)) == NULL) {
		settle(g, e, NULL, NULL);
		return;
	}
	queue_spool(e, &sp);
	smtp_result_init(&res);
	(void)smtp_send(s, &e->env, &sp, &res);
	g->sent++;
	verdict_of(&res, &v);
	report_warnings(smtp_warnings(s));
	smtp_clear_warnings(s);
	settle(g, e, &res, &v);
	/*
	 * One message may stall a server (a recipient lookup that hangs),
	 * so the next goes on a new session; a server that times out on
	 * two in a row would only do it again: the rest of the group waits
	 * for the next run instead of holding this one.
	 */
	g->timeouts = res.aborted && res.st.lerr == LE_TIMEOUT ?
	    g->timeouts + 1 : 0;
	if (g->timeouts >= RUNQ_TIMEOUTS)
		group_fail(g, &res.st);
	/* A host that broke off mid-message: the next session begins with
	 * the host after it (failover), back at the first after the last. */
	else if (res.aborted && !outcome_final(&res.st) && !smtp_usable(s))
		g->first_host = (smtp_host_index(s) + 1) %
		    (g->use->route.hosts.n > 0 ? g->use->route.hosts.n : 1);
	verdict_release(&v);
	smtp_result_release(&res);
}

/* Lock and try entry `id` in group `g`. */
static void
run_one(struct group *g, const char *id)
{
	struct qentry	 e;
	struct buf	 why = BUF_INIT;
	int		 rc;

	qentry_init(&e);
	if ((rc = queue_lock(g->rq->q, id, &e, &why)) == 1)
		try_entry(g, &e);
	else if (rc == -1)
		log_error("queue '%s': %s (moved aside)", g->rq->q->dir,
		    buf_str(&why));
	qentry_release(&e);
	buf_release(&why);
}

/* The entries w[0..n) of one group, then the bounces they made. */
static void
run_group(struct runq *rq, const struct work *w, size_t n)
{
	struct group	 g;
	struct qentry	 e;
	struct buf	 why = BUF_INIT;
	size_t		 i;

	qentry_init(&e);
	if (queue_peek(rq->q, w[0].id, &e, &why) != 1) {
		/* Gone since it was listed: begin with the next. */
		qentry_release(&e);
		buf_release(&why);
		if (n > 1)
			run_group(rq, w + 1, n - 1);
		return;
	}
	group_begin(&g, rq, &e);
	qentry_release(&e);
	for (i = 0; i < n; i++)
		run_one(&g, w[i].id);
	for (i = 0; i < g.bounces.n; i++)
		run_one(&g, g.bounces.v[i]);
	group_end(&g);
	buf_release(&why);
}

static int
same_group(const struct work *a, const struct work *b)
{
	return a->keylen == b->keylen && memcmp(a->key, b->key, a->keylen) ==
	    0;
}

int
runq_run(struct runq *rq, struct buf *err)
{
	struct work	*w = NULL;
	size_t		 i, j, n = 0;

	if (collect(rq, &w, &n, err) == -1)
		return EX_TEMPFAIL;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && same_group(&w[i], &w[j]); j++)
			;
		run_group(rq, w + i, j - i);
	}
	/* A session handed over but not used: no entries for it. */
	smtp_close(rq->session);
	rq->session = NULL;
	for (i = 0; i < n; i++)
		free(w[i].key);
	free(w);
	return EX_OK;
}

/* ---- mailq and --queue-delete ------------------------------------------- */

/* A JSON string: quotes, backslashes and controls escaped (bytes >= 0x80,
 * UTF-8 from addresses, pass as they are). */
static void
json_str(FILE *out, const char *s)
{
	const unsigned char *p;

	putc('"', out);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			putc(*p, out);
	putc('"', out);
}

static void
list_one(FILE *out, const struct qentry *e, int json)
{
	char		 when[32];
	struct tm	 tm;
	time_t		 t = (time_t)e->arrival;
	const char	*last = NULL;
	size_t		 i;

	if (json) {
		fprintf(out, "{\"queue_name\":\"deferred\",\"queue_id\":");
		json_str(out, e->id);
		fprintf(out, ",\"arrival_time\":%lld,\"message_size\":%lld,"
		    "\"attempts\":%u,\"next_attempt\":%lld,\"account\":",
		    e->arrival, (long long)e->env.size, e->attempts, e->next);
		json_str(out, e->account);
		fprintf(out, ",\"sender\":");
		json_str(out, e->env.from);
		fprintf(out, ",\"recipients\":[");
		for (i = 0; i < e->env.rcpts.n; i++) {
			fprintf(out, "%s{\"address\":", i > 0 ? "," : "");
			json_str(out, e->env.rcpts.v[i]);
			if (e->rcpt[i].reason != NULL) {
				fprintf(out, ",\"delay_reason\":");
				json_str(out, e->rcpt[i].reason);
			}
			putc('}', out);
		}
		fprintf(out, "]}\n");
		return;
	}
	localtime_r(&t, &tm);
	if (strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm) == 0)
		when[0] = '\0';
	fprintf(out, "%-16s %8lld %-20s  %s\n", e->id, (long long)e->env.size,
	    when, e->env.from[0] != '\0' ? e->env.from : "MAILER-DAEMON");
	for (i = 0; i < e->env.rcpts.n; i++) {
		/* Each reason once, before the recipients it applies to. */
		if (e->rcpt[i].reason != NULL && (last == NULL ||
		    strcmp(last, e->rcpt[i].reason) != 0))
			fprintf(out, "%48s(%s)\n", "", e->rcpt[i].reason);
		last = e->rcpt[i].reason;
		fprintf(out, "%48s%s\n", "", e->env.rcpts.v[i]);
	}
	putc('\n', out);
}

int
runq_list(struct queue *q, int json, FILE *out, struct buf *err)
{
	struct strlist	 ids = STRLIST_INIT;
	struct buf	 notes = BUF_INIT, why = BUF_INIT;
	struct qentry	 e;
	long long	 bytes = 0;
	size_t		 i, n = 0;

	if (queue_list(q, &ids, &notes, err) == -1)
		return EX_TEMPFAIL;
	report_warnings(buf_str(&notes));
	qentry_init(&e);
	for (i = 0; i < ids.n; i++) {
		buf_reset(&why);
		if (queue_peek(q, ids.v[i], &e, &why) != 1) {
			/* Unless another run removed it meanwhile. */
			if (why.len > 0 && queue_exists(q, ids.v[i]))
				log_warn("queue '%s': %s", q->dir,
				    buf_str(&why));
			continue;
		}
		if (n == 0 && !json)
			fprintf(out, "%-16s %8s %-20s  %s\n", "-Queue ID-",
			    "--Size--", "----Arrival Time----",
			    "-Sender/Recipient-------");
		list_one(out, &e, json);
		bytes += (long long)e.env.size;
		n++;
	}
	qentry_release(&e);
	if (!json && n == 0)
		fprintf(out, "Mail queue is empty\n");
	else if (!json)
		fprintf(out, "-- %lld Kbytes in %zu Request%s.\n",
		    (bytes + 1023) / 1024, n, n == 1 ? "" : "s");
	strlist_release(&ids);
	buf_release(&notes);
	buf_release(&why);
	return fflush(out) == EOF ? EX_IOERR : EX_OK;
}

int
runq_delete(struct queue *q, const struct strlist *ids, long uid)
{
	struct qentry	 e;
	struct buf	 why = BUF_INIT;
	size_t		 i;
	int		 status = EX_OK, st, rc;

	qentry_init(&e);
	for (i = 0; i < ids->n; i++) {
		buf_reset(&why);
		st = EX_OK;
		if (!queue_id_ok(ids->v[i])) {
			log_error("'%s' is not a queue ID", ids->v[i]);
			st = EX_USAGE;
		} else if ((rc = queue_lock(q, ids->v[i], &e, &why)) == 0) {
			if (queue_peek(q, ids->v[i], &e, &why) == 1) {
				log_error("queue entry %s is being delivered; "
				    "try again", ids->v[i]);
				st = EX_TEMPFAIL;
			} else {
				log_error("no queue entry %s", ids->v[i]);
				st = EX_NOINPUT;
			}
		} else if (rc == -1) {
			log_error("queue entry %s: %s (moved aside)", ids->v[i],
			    buf_str(&why));
			st = EX_DATAERR;
		} else if (uid != 0 && e.uid != uid) {
			log_error("queue entry %s is not yours", ids->v[i]);
			st = EX_NOPERM;
		} else if (queue_remove(q, &e, &why) == -1) {
			log_error("%s", buf_str(&why));
			st = EX_TEMPFAIL;
		} else
			printf("postie: queue entry %s deleted\n", ids->v[i]);
		qentry_release(&e);
		if (status == EX_OK)
			status = st;
	}
	buf_release(&why);
	return fflush(stdout) == EOF && status == EX_OK ? EX_IOERR : status;
}
