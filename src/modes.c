#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "bs.h"
#include "buf.h"
#include "conf.h"
#include "exitcode.h"
#include "front.h"
#include "log.h"
#include "message.h"
#include "oauth.h"
#include "priv.h"
#include "queue.h"
#include "report.h"
#include "route.h"
#include "smtp.h"
#include "util.h"

/*
 * The modes other than submitting a message: -bs (SMTP on standard input
 * and output, each message relayed at once), -P (the account in use),
 * -S (what the server offers), -bv (recipients verified by RCPT) and -bi
 * (newaliases).
 */

static int	bs_send(void *, const char *, const struct strlist *, int,
		    struct bs_result *);
static void	show(const char *, const char *, const char *);
static void	show_tls(const struct run *);
static void	show_ehlo(const struct run *);
static void	show_queue(const struct run *);
static void	show_secret(const struct run *);
static void	show_oauth(const struct run *);
static void	add_utc(struct buf *, long long);
static void	route_value(const struct route *, const char *, struct buf *);

/*
 * -bs: one message of the session, through the same path as a message
 * on stdin (-f from MAIL FROM, recipients from RCPT TO).  Refused
 * recipients are named in the reason; when others got the message it says
 * so, since one reply to the final dot cannot say it per recipient.
 */
static int
bs_send(void *arg, const char *from, const struct strlist *rcpts, int fd,
    struct bs_result *out)
{
	struct run		*r = arg;
	struct smtp_result	 res;
	struct report_ctx	 c;
	const char		*sep = "";
	size_t			 i, nfailed = 0, naccepted;

	message_release(&r->msg);
	envelope_release(&r->env);
	free(r->env_from);
	r->env_from = NULL;
	if ((out->status = pick_sender(r, from, 0)) != EX_OK) {
		buf_addstr(&out->reason, "this sender is not allowed");
		return out->status;
	}
	out->status = read_message(r, fd, rcpts, &out->reason, NULL);
	if (out->status != EX_OK)
		return out->status;
	smtp_result_init(&res);
	out->status = deliver(r, &res);
	report_ctx(r, NULL, &c);
	for (i = 0; i < res.nrcpt && !res.aborted; i++)
		nfailed += report_own_verdict(&c, &res, i);
	naccepted = smtp_result_count(&res, RCPT_ACCEPTED);
	if (nfailed > 0) {
		out->rcpt = 1;
		if (naccepted > 0)
			buf_addf(&out->reason, "delivered to %zu of %zu "
			    "recipients; refused: ", naccepted,
			    naccepted + nfailed);
		for (i = 0; i < res.nrcpt; i++) {
			if (!report_own_verdict(&c, &res, i))
				continue;
			buf_addf(&out->reason, "%s<%s>: %s", sep,
			    r->env.rcpts.v[i], res.rcpt[i].text);
			sep = "; ";
		}
	} else
		buf_addstr(&out->reason, buf_str(&res.st.text));
	smtp_result_release(&res);
	return out->status;
}

int
smtp_stdio(struct run *r)
{
	const char	*domain = local_fqdn();
	int		 status;

	if ((status = load_account(r)) != EX_OK)
		return status;
	/* As in sendmail, the envelope is the client's MAIL and RCPT: -t
	 * adds no header recipients (Bcc is still removed). */
	r->opts.extract = 0;
	return bs_session(STDIN_FILENO, STDOUT_FILENO,
	    domain != NULL ? domain : "localhost", bs_send, r);
}

static void
show(const char *key, const char *value, const char *from)
{
	/* At least one blank before "=", however long the keyword. */
	printf("%-21s = %s", key, value != NULL ? value : "(not set)");
	if (from != NULL)
		printf("  (%s)", from);
	putchar('\n');
}

/*
 * The engine's value where the account leaves a choice to route.c: the
 * port follows the protocol, a timeout of "off" is postie's own, unset
 * tls_starttls follows the port, tls_certcheck is on, auth follows
 * `user`.  `v` holds the account's value, replaced here.
 */
static void
route_value(const struct route *rt, const char *name, struct buf *v)
{
	const char	*on;

	if (strcmp(name, "port") == 0 || strcmp(name, "timeout") == 0) {
		buf_reset(v);
		buf_addf(v, "%d", name[0] == 'p' ? rt->port : rt->timeout);
		return;
	}
	if (strcmp(name, "tls_starttls") == 0)
		on = rt->tls_start == RT_STARTTLS ? "on" : "off";
	else if (strcmp(name, "tls_certcheck") == 0)
		on = rt->tlsp.certcheck ? "on" : "off";
	else if (strcmp(name, "auth") == 0 && rt->auth != RA_MECH)
		on = rt->auth == RA_ANY ? "on" : "off";
	else
		return;
	buf_reset(v);
	buf_addstr(v, on);
}

/*
 * The TLS decision for each host as route.c makes it (a name is decided
 * per address once resolved), with where `tls` was set.
 */
static void
show_tls(const struct run *r)
{
	const struct route	*rt = &r->su.route;
	struct buf		 v = BUF_INIT, from = BUF_INIT;
	size_t			 i;

	(void)conf_origin(r->acct, "tls", &from);
	if (rt->socket != NULL) {
		buf_addf(&v, "%s: ", rt->socket);
		(void)route_tls_preview(rt, NULL, &v);
		show("tls_decision", buf_str(&v), buf_str(&from));
	}
	for (i = 0; rt->socket == NULL && i < rt->hosts.n; i++) {
		buf_reset(&v);
		buf_addf(&v, "%s: ", rt->hosts.v[i]);
		(void)route_tls_preview(rt, rt->hosts.v[i], &v);
		show("tls_decision", buf_str(&v), buf_str(&from));
	}
	buf_release(&v);
	buf_release(&from);
}

/* The EHLO name as the session picks it, and why. */
static void
show_ehlo(const struct run *r)
{
	const char	*n = route_helo(&r->su.route);
	struct buf	 from = BUF_INIT;

	if (n != NULL && n == r->su.route.helo) {
		buf_addstr(&from, "domain at ");
		(void)conf_origin(r->acct, "domain", &from);
	} else
		buf_addstr(&from, n != NULL ? "this host's name" :
		    "this host has no name with a dot");
	show("ehlo_name", n != NULL ? n : "the address literal of the "
	    "connection's own end", buf_str(&from));
	buf_release(&from);
}

/* Where the queue is, whose it is; on error, why there is none. */
static void
show_queue(const struct run *r)
{
	struct buf	 dir = BUF_INIT, why = BUF_INIT;
	int		 sys;

	if (setup_queue_dir(&r->su, &dir, &sys, &why) == 0) {
		buf_addstr(&why, sys ? "the system queue" : "your own queue");
		if (r->acct->queue_dir != NULL) {
			buf_addstr(&why, ", queue_dir at ");
			(void)conf_origin(r->acct, "queue_dir", &why);
		}
	}
	show("queue_location", dir.len > 0 ? buf_str(&dir) : NULL,
	    buf_str(&why));
	buf_release(&dir);
	buf_release(&why);
}

/* Where a secret for AUTH comes from, never the secret (secret.h). */
static void
show_secret(const struct run *r)
{
	const struct account	*a = r->acct;
	const char		*kw = a->password != NULL ? "password" :
	    a->passwordeval != NULL ? "passwordeval" : NULL;
	struct buf		 from = BUF_INIT;

	if (!route_needs_secret(&r->su.route))
		show("secret", "none needed", NULL);
	else if (a->oauth_provider != NULL)
		show("secret", "an OAuth access token from the token store, "
		    "refreshed when it is due", NULL);
	else if (kw == NULL)
		show("secret", "looked up when sending: a systemd credential, "
		    "~/.netrc, then a prompt", NULL);
	else {
		(void)conf_origin(a, kw, &from);
		show("secret", kw, buf_str(&from));
	}
	buf_release(&from);
}

/* "expires 2026-12-04 08:41:00 UTC" */
static void
add_utc(struct buf *out, long long when)
{
	struct tm	 tm;
	time_t		 t = (time_t)when;
	char		 s[32];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		buf_addf(out, "expires at %lld", when);
	else
		buf_addf(out, "expires %s", s);
}

/*
 * An OAuth account: the endpoints in use (presets filled in), the token
 * store and what it holds, never a token.
 */
static void
show_oauth(const struct run *r)
{
	const struct oauth_cfg	*c;
	struct queue		*q;
	struct oauth_record	 rec;
	struct buf		 v = BUF_INIT, err = BUF_INIT;
	long long		 left;
	int			 got;

	if (r->acct->oauth_provider == NULL)
		return;
	if (setup_oauth(&r->su, &c, &q, &err) == -1) {
		show("oauth_token_store", NULL, buf_str(&err));
		buf_release(&err);
		return;
	}
	show("oauth_token_endpoint", c->token_url, NULL);
	show("oauth_auth_endpoint", c->auth_url, NULL);
	show("oauth_device_endpoint", c->device_url, NULL);
	show("oauth_scopes", c->scope, NULL);
	show("oauth_grant", c->device_url != NULL ? "device authorization "
	    "(RFC 8628)" : "authorization code with PKCE and a loopback "
	    "redirect (RFC 7636, RFC 8252)", "--oauth-authorize");
	queue_oauth_path(q, c->account, &v);
	show("oauth_token_store", buf_str(&v), NULL);
	buf_reset(&v);
	oauth_record_init(&rec);
	got = queue_oauth_load(q, c->account, &rec, &err);
	left = rec.expires - (long long)time(NULL);
	if (got == -1)
		buf_addstr(&v, buf_str(&err));
	else if (got == 0)
		buf_addf(&v, "none: run postie --oauth-authorize %s",
		    c->account);
	else if (rec.access_token.len == 0)
		buf_addstr(&v, "none cached: refreshed at the next message");
	else if (rec.expires == 0)
		buf_addstr(&v, "cached, expiry unknown: used until refused");
	else {
		add_utc(&v, rec.expires);
		if (left > 0)
			buf_addf(&v, " (in %lld s)", left);
		else
			buf_addf(&v, " (%lld s ago: refreshed at the next "
			    "message)", -left);
	}
	show("oauth_access_token", buf_str(&v), NULL);
	oauth_record_release(&rec);
	buf_release(&v);
	buf_release(&err);
}

/*
 * -P: the resolved account, as msmtp --pretend shows it, with every
 * keyword the parser accepts (so none can be left out), where each value
 * came from, and what postie decides from them; never a secret.
 */
int
pretend(const struct run *r)
{
	const struct account	*a = r->acct;
	const char		*name;
	struct buf		 v = BUF_INIT, from = BUF_INIT;
	size_t			 i;

	show("configuration file", r->su.conf.path != NULL ?
	    r->su.conf.path : "(none)", NULL);
	buf_addf(&from, "%s:%d", a->file != NULL ? a->file : "(config)",
	    a->line);
	show("account", a->name, a->line > 0 ? buf_str(&from) : "default");
	for (i = 0;; i++) {
		buf_reset(&v);
		buf_reset(&from);
		if (conf_show(a, i, &name, &v, &from) == -1)
			break;
		route_value(&r->su.route, name, &v);
		show(name, buf_str(&v), buf_str(&from));
	}
	/* What postie decides from them, from the functions it acts on. */
	show_tls(r);
	show_ehlo(r);
	show_queue(r);
	buf_reset(&v);
	log_where(&v);
	show("logs", buf_str(&v), NULL);
	show_secret(r);
	/* The system store is read with the group (queue.c raises it
	 * around the read); then nothing needs it. */
	show_oauth(r);
	priv_drop();
	buf_release(&v);
	buf_release(&from);
	return ferror(stdout) ? EX_IOERR : EX_OK;
}

/* -S: what the server offers, printed even when the session fails. */
int
serverinfo(const struct run *r)
{
	struct route		 rt = r->su.route;
	struct smtp_session	*s;
	struct report_ctx	 c;
	struct buf		 out = BUF_INIT;
	int			 status = EX_OK, open_rc;

	/* What the server offers, to anybody: no AUTH, no secret. */
	rt.auth = RA_OFF;
	s = smtp_new(&rt, transcript, NULL);
	open_rc = smtp_open(s);
	/* Hosts passed over on the way, TLS not verified. */
	report_warnings(smtp_warnings(s));
	if (open_rc == -1) {
		report_ctx(r, s, &c);
		report_failure(&c, smtp_failure(s));
		status = exit_status(smtp_failure(s)->phase,
		    smtp_failure(s)->code, smtp_failure(s)->lerr);
	}
	smtp_describe(s, &out);
	smtp_close(s);
	fputs(buf_str(&out), stdout);
	if (fflush(stdout) == EOF && status == EX_OK)
		status = EX_IOERR;
	buf_release(&out);
	return status;
}

/*
 * -bv: the argv recipients, qualified and alias-expanded as for mail,
 * probed with RCPT (no message is read); one verdict a line on stdout.
 */
int
verify_addrs(struct run *r)
{
	struct msg_opts		 mo;
	struct smtp_session	*s;
	struct smtp_result	 res;
	struct report_ctx	 c;
	struct buf		 out = BUF_INIT, err = BUF_INIT;
	int			 status, le = LE_NONE;

	if ((status = load_account(r)) != EX_OK ||
	    (status = pick_sender(r, r->opts.from, 0)) != EX_OK)
		return status;
	memset(&mo, 0, sizeof(mo));
	mo.env_from = r->env_from;
	mo.qualify_domain = r->qualify_domain;
	mo.aliases = r->su.have_aliases ? &r->su.aliases : NULL;
	if (message_envelope(&r->msg, &mo, &r->opts.rcpts, &r->env, &le,
	    &err) == -1) {
		log_error("%s", buf_str(&err));
		buf_release(&err);
		return exit_status(PH_LOCAL, 0, (enum local_err)le);
	}
	envelope_requests(r);
	s = smtp_new(&r->su.route, transcript, NULL);
	smtp_result_init(&res);
	(void)smtp_open(s);
	(void)smtp_verify(s, &r->env, &res);
	status = exit_for_result(&res);
	report_ctx(r, s, &c);
	report_warnings(smtp_warnings(s));
	report_verdicts(&c, &res, &out);
	if (res.aborted)
		report_failure(&c, &res.st);
	smtp_close(s);
	fputs(buf_str(&out), stdout);
	if (fflush(stdout) == EOF && status == EX_OK)
		status = EX_IOERR;
	smtp_result_release(&res);
	buf_release(&out);
	return status;
}

/*
 * -bi, newaliases: postie keeps no alias database, so there is nothing
 * to rebuild; loading the account reads and checks its aliases file.
 * Scripts and package hooks run newaliases after editing aliases, and a
 * silent success tells their user nothing: one line says what was done.
 */
int
newaliases(struct run *r)
{
	const char	*conf;
	size_t		 n;
	int		 status;

	if ((status = load_account(r)) != EX_OK)
		return status;
	conf = r->su.conf.path != NULL ? r->su.conf.path : "(none)";
	printf("postie: no alias database to rebuild; ");
	if (r->su.have_aliases) {
		n = r->su.aliases.names.n;
		printf("%s is fine (%zu alias%s), account '%s' of %s\n",
		    r->acct->aliases, n, n == 1 ? "" : "es", r->acct->name,
		    conf);
	} else
		printf("account '%s' of %s has no aliases file\n",
		    r->acct->name, conf);
	return fflush(stdout) == EOF ? EX_IOERR : EX_OK;
}
