#include "config.h"

#include <string.h>

#include "buf.h"
#include "deliver.h"
#include "envelope.h"
#include "exitcode.h"
#include "log.h"
#include "report.h"
#include "smtp.h"

static size_t	own_failures(const struct report_ctx *,
		    const struct smtp_result *);
static const char *rcpt_text(const struct smtp_rcpt *);

void
report_warnings(const char *w)
{
	const char	*nl;

	for (; *w != '\0'; w = *nl != '\0' ? nl + 1 : nl) {
		if ((nl = strchr(w, '\n')) == NULL)
			nl = w + strlen(w);
		if (nl > w)
			log_warn("%.*s", (int)(nl - w), w);
	}
}

void
report_failure(const struct report_ctx *c, const struct smtp_status *st)
{
	const char	*server = c->s != NULL ? smtp_server(c->s) : "";

	if (*server != '\0')
		log_error("account '%s', server %s, %s: %s", c->account,
		    server, phase_name(st->phase), buf_str(&st->text));
	else
		log_error("account '%s', %s: %s", c->account,
		    phase_name(st->phase), buf_str(&st->text));
}

int
report_own_verdict(const struct report_ctx *c, const struct smtp_result *res,
    size_t i)
{
	const struct smtp_rcpt	*r = &res->rcpt[i];

	if (r->state != RCPT_DEFERRED && r->state != RCPT_REFUSED)
		return 0;
	return r->phase == PH_RCPT || (c->lmtp && r->phase == PH_EOM);
}

static size_t
own_failures(const struct report_ctx *c, const struct smtp_result *res)
{
	size_t	 i, n = 0;

	for (i = 0; i < res->nrcpt; i++)
		n += report_own_verdict(c, res, i);
	return n;
}

static const char *
rcpt_text(const struct smtp_rcpt *r)
{
	return r->text != NULL ? r->text : "";
}

enum phase
report_summary(const struct report_ctx *c, const struct smtp_result *res,
    struct buf *out)
{
	const struct smtp_rcpt	*f;
	const char		*addr, *what;
	size_t			 nfailed, naccepted;
	long			 i;

	if (res->aborted || (i = exit_rcpt_reported(res)) == -1) {
		buf_addstr(out, buf_str(&res->st.text));
		return res->st.phase;
	}
	f = &res->rcpt[i];
	addr = c->env->rcpts.v[i];
	nfailed = own_failures(c, res);
	naccepted = smtp_result_count(res, RCPT_ACCEPTED);
	/* LMTP: refused after the data rather than at RCPT. */
	what = f->phase == PH_EOM ? "delivery to " : "RCPT TO:";
	if (naccepted == 0 && nfailed == 1)
		buf_addf(out, "%s<%s> rejected: %s", what, addr, rcpt_text(f));
	else if (naccepted == 0)
		buf_addf(out, "all %zu recipients rejected", nfailed);
	else if (nfailed == 1)
		buf_addf(out, "%s<%s> rejected (the other recipients got the "
		    "message): %s", what, addr, rcpt_text(f));
	else
		buf_addf(out, "%zu of %zu recipients rejected (the others got "
		    "the message)", nfailed, nfailed + naccepted);
	return f->phase;
}

void
report_delivery(const struct report_ctx *c, const struct smtp_result *res,
    int status)
{
	struct smtp_status	 sum;
	struct buf		 rcpts = BUF_INIT;
	size_t			 i, nfailed = own_failures(c, res);
	long			 rep = exit_rcpt_reported(res);
	int			 code;

	report_warnings(smtp_warnings(c->s));
	/* One refusal is said once, in the summary; several get a line
	 * each so that every address and reply is there. */
	for (i = 0; i < res->nrcpt; i++)
		if (report_own_verdict(c, res, i) &&
		    (res->aborted || nfailed > 1))
			log_error("account '%s', server %s: recipient <%s> %s: "
			    "%s", c->account, smtp_server(c->s),
			    c->env->rcpts.v[i], res->rcpt[i].state ==
			    RCPT_DEFERRED ? "failed temporarily" : "rejected",
			    rcpt_text(&res->rcpt[i]));
	memset(&sum, 0, sizeof(sum));
	buf_init(&sum.text);
	sum.phase = report_summary(c, res, &sum.text);
	if (status != 0)
		report_failure(c, &sum);

	code = rep != -1 ? res->rcpt[rep].code : res->st.code;
	for (i = 0; i < c->env->rcpts.n; i++)
		buf_addf(&rcpts, "%s%s", i > 0 ? "," : "", c->env->rcpts.v[i]);
	log_outcome(status == 0,
	    "account=%s host=%s tls=%s auth=%s from=%s recipients=%s "
	    "mailsize=%lld smtpstatus=%d smtpmsg='%s' exitcode=%s",
	    c->account, smtp_server(c->s), smtp_tls_version(c->s),
	    smtp_auth_mech(c->s), c->env->from, buf_str(&rcpts),
	    (long long)c->env->size, code, status == 0 ? "ok" :
	    buf_str(&sum.text), exit_name(status));
	buf_release(&rcpts);
	buf_release(&sum.text);
}

void
report_verdicts(const struct report_ctx *c, const struct smtp_result *res,
    struct buf *out)
{
	const struct smtp_rcpt	*r;
	size_t			 i;

	for (i = 0; i < res->nrcpt; i++) {
		r = &res->rcpt[i];
		if (r->phase != PH_RCPT || r->state == RCPT_UNKNOWN)
			continue;
		buf_addf(out, "%s: %s (%s)\n", c->env->rcpts.v[i],
		    r->state == RCPT_ACCEPTED ? "deliverable" :
		    r->state == RCPT_DEFERRED ? "temporary failure" :
		    "rejected", rcpt_text(r));
	}
}

void
report_duration(struct buf *out, int secs)
{
	static const struct { int secs; const char *unit; } u[] = {
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" }
	};
	size_t	 i;

	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (secs >= u[i].secs && secs % u[i].secs == 0) {
			buf_addf(out, "%d %s%s", secs / u[i].secs, u[i].unit,
			    secs / u[i].secs == 1 ? "" : "s");
			return;
		}
	buf_addf(out, "%d second%s", secs, secs == 1 ? "" : "s");
}

void
report_attempt(const struct report_ctx *c, const struct smtp_result *res,
    const struct verdict *v, int status, const char *qid, int lifetime)
{
	struct buf	 why = BUF_INIT, life = BUF_INIT, rcpts = BUF_INIT;
	const char	*server = smtp_server(c->s);
	size_t		 i;

	if (v->nkept == 0) {
		report_delivery(c, res, status);
		return;
	}
	report_warnings(smtp_warnings(c->s));
	for (i = 0; i < res->nrcpt; i++)
		if (v->final[i])
			log_error("account '%s', server %s: recipient <%s> "
			    "rejected: %s", c->account, server,
			    c->env->rcpts.v[i], rcpt_text(&res->rcpt[i]));
	if (v->why != NULL) {
		if (*server != '\0')
			buf_addf(&why, "server %s, ", server);
		buf_addf(&why, "%s: %s", phase_name(v->why->phase),
		    buf_str(&v->why->text));
	} else
		for (i = 0; i < res->nrcpt && why.len == 0; i++)
			if (v->kept[i])
				buf_addf(&why, "server %s: <%s>: %s", server,
				    c->env->rcpts.v[i],
				    rcpt_text(&res->rcpt[i]));
	report_duration(&life, lifetime);
	log_notice("account '%s': queued as %s: %zu of %zu recipient%s "
	    "deferred (%s); retried by 'postie -q', the timer or the next "
	    "submission for up to %s", c->account, qid, v->nkept,
	    res->nrcpt, res->nrcpt == 1 ? "" : "s", buf_str(&why),
	    buf_str(&life));
	for (i = 0; i < c->env->rcpts.n; i++)
		buf_addf(&rcpts, "%s%s", i > 0 ? "," : "", c->env->rcpts.v[i]);
	log_outcome(1, "account=%s host=%s tls=%s auth=%s from=%s "
	    "recipients=%s mailsize=%lld queued=%s deferred=%zu "
	    "smtpmsg='%s' exitcode=%s", c->account, server,
	    smtp_tls_version(c->s), smtp_auth_mech(c->s), c->env->from,
	    buf_str(&rcpts), (long long)c->env->size, qid, v->nkept,
	    buf_str(&why), exit_name(status));
	buf_release(&why);
	buf_release(&life);
	buf_release(&rcpts);
}
