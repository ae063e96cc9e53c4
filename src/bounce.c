#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "bounce.h"
#include "buf.h"
#include "dsn.h"
#include "outcome.h"
#include "queue.h"
#include "report.h"
#include "spool.h"
#include "util.h"
#include "xmalloc.h"

/*
 * A bounce is an ordinary queue entry: the notification dsn.c builds,
 * from the null sender to the original sender, through the same account.
 */

#define HDR_READ_MAX	 (256 * 1024)	/* of the original header */

static void	read_header(const struct qentry *, struct buf *);
static const char *reply_text(const struct bounce_rcpt *);
static int	enqueue(struct queue *, const struct qentry *,
		    const struct buf *, char *, struct buf *);

/* The original message's header section, up to its empty line. */
static void
read_header(const struct qentry *e, struct buf *out)
{
	struct spool	 sp;
	char		 chunk[8192];
	const char	*end;
	ssize_t		 n;

	queue_spool(e, &sp);
	while (out->len < HDR_READ_MAX && (n = spool_read_at(&sp, chunk,
	    sizeof(chunk), (off_t)out->len)) > 0) {
		buf_add(out, chunk, (size_t)n);
		if ((end = memmem(out->data, out->len, "\r\n\r\n", 4)) !=
		    NULL) {
			buf_truncate(out, (size_t)(end - out->data) + 2);
			return;
		}
	}
}

/* The reply's text without its code: what dsn.c wants. */
static const char *
reply_text(const struct bounce_rcpt *r)
{
	const char	*t = r->text;

	if (t == NULL || r->code == 0)
		return t;
	if (strlen(t) > 4 && t[0] >= '2' && t[0] <= '5' &&
	    t[1] >= '0' && t[1] <= '9' && t[2] >= '0' && t[2] <= '9' &&
	    t[3] == ' ')
		t += 4;
	return t;
}

/* The notification as a new entry to the original sender. */
static int
enqueue(struct queue *q, const struct qentry *e, const struct buf *msg,
    char *id, struct buf *err)
{
	struct qentry	 b;
	struct spool	 sp;
	enum local_err	 le;
	size_t		 i;
	int		 rc = -1;

	qentry_init(&b);
	if (queue_create(q, &b, &sp, &le, err) == -1)
		goto out;
	if (spool_write(&sp, msg->data, msg->len, &le, err) == -1) {
		spool_release(&sp);
		queue_abandon(q, &b);
		goto out;
	}
	b.config = xstrdup(e->config);
	b.account = xstrdup(e->account);
	b.uid = e->uid;
	b.arrival = b.next = (long long)time(NULL);
	b.env.from = xstrdup("");
	strlist_add(&b.env.rcpts, e->env.from);
	b.rcpt = xcalloc(1, sizeof(*b.rcpt));
	b.env.size = sp.size;
	b.env.body_8bit = dsn_8bit(msg->data, msg->len);
	b.env.smtputf8 = addr_needs_utf8(e->env.from);
	for (i = 0; i < e->overrides.n; i++)
		strlist_add(&b.overrides, e->overrides.v[i]);
	if (queue_commit(q, &b, &sp, 1, &le, err) == 0) {
		(void)snprintf(id, QUEUE_ID_MAX, "%s", b.id);
		rc = 0;
	}
	spool_release(&sp);
out:
	qentry_release(&b);
	return rc;
}

int
bounce_queue(struct queue *q, const struct qentry *e,
    const struct bounce_rcpt *r, size_t n, int expired, int lifetime,
    const char *remote_mta, const struct bounce_from *from, char *id,
    struct buf *err)
{
	struct dsn_info	 info;
	struct dsn_rcpt	*d;
	struct buf	 hdr = BUF_INIT, msg = BUF_INIT, life = BUF_INIT;
	struct buf	 pm = BUF_INIT;
	unsigned char	 rnd[DSN_RANDOM];
	const char	*host = from->host != NULL ? from->host : local_fqdn();
	size_t		 i;
	int		 rc = -1;

	id[0] = '\0';
	/* RFC 5321 6.1: a message from <> is never answered. */
	if (e->env.from[0] == '\0')
		return 0;
	arc4random_buf(rnd, sizeof(rnd));
	if (host == NULL)
		host = "localhost";
	read_header(e, &hdr);
	report_duration(&life, lifetime);
	buf_addf(&pm, "MAILER-DAEMON@%s", from->domain != NULL ?
	    from->domain : host);
	memset(&info, 0, sizeof(info));
	info.reporting_mta = host;
	info.postmaster = pm.data;
	info.rcpt = e->env.from;
	info.queue_id = e->id;
	info.envid = e->envid;
	info.arrival = e->arrival;
	info.now = (long long)time(NULL);
	info.expired = expired;
	info.lifetime = life.data;
	info.random = rnd;
	info.nrandom = sizeof(rnd);
	d = xcalloc(n, sizeof(*d));
	for (i = 0; i < n; i++) {
		d[i].addr = r[i].addr;
		/* Expired: 4.4.7 says it, not the last 4xx's own code. */
		d[i].status = !expired && r[i].ecode != NULL &&
		    r[i].ecode[0] != '\0' ? r[i].ecode : NULL;
		d[i].code = r[i].code;
		d[i].diagnostic = reply_text(&r[i]);
		d[i].remote_mta = r[i].code != 0 ? remote_mta : NULL;
		d[i].last_attempt = e->last;
	}
	if (dsn_build(&info, d, n, hdr.data, hdr.len, &msg, err) == 0)
		rc = enqueue(q, e, &msg, id, err);
	explicit_bzero(rnd, sizeof(rnd));
	free(d);
	buf_release(&hdr);
	buf_release(&msg);
	buf_release(&life);
	buf_release(&pm);
	return rc;
}
