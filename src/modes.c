#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "bs.h"
#include "buf.h"
#include "conf.h"
#include "exitcode.h"
#include "front.h"
#include "log.h"
#include "message.h"
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
static void	show(const char *, const char *);

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
show(const char *key, const char *value)
{
	printf("%-22s= %s\n", key, value != NULL ? value : "(not set)");
}

/* -P: the resolved account, as msmtp --pretend shows it; no secret. */
int
pretend(const struct run *r)
{
	const struct account	*a = r->acct;
	char			 num[32];

	printf("configuration file    = %s\n",
	    r->su.conf.path != NULL ? r->su.conf.path : "(none)");
	show("account", a->name);
	show("host", a->host);
	snprintf(num, sizeof(num), "%d", a->port);
	show("port", a->port > 0 ? num : "(default)");
	show("socket", a->socket);
	show("source_ip", a->source_ip);
	if (a->timeout > 0)
		snprintf(num, sizeof(num), "%d", a->timeout);
	else
		snprintf(num, sizeof(num), "(default: %d s)",
		    ROUTE_DEFAULT_TIMEOUT);
	show("timeout", num);
	show("protocol", a->protocol == PROTO_LMTP ? "lmtp" : "smtp");
	show("domain", a->domain);
	show("from", a->from);
	show("maildomain", a->maildomain);
	show("auth", a->auth);
	show("user", a->user);
	show("password", a->password != NULL ? "*" : NULL);
	show("passwordeval", a->passwordeval);
	show("tls", a->tls);
	show("tls_starttls", a->tls_starttls);
	show("tls_trust_file", a->tls_trust_file);
	show("tls_crl_file", a->tls_crl_file);
	show("tls_fingerprint", a->tls_fingerprint);
	show("tls_key_file", a->tls_key_file);
	show("tls_cert_file", a->tls_cert_file);
	show("tls_certcheck", a->tls_certcheck);
	show("tls_priorities", a->tls_priorities);
	show("tls_host_override", a->tls_host_override);
	show("logfile", a->logfile);
	show("syslog", a->syslog_set && a->syslog == NULL ? "off" :
	    a->syslog != NULL ? a->syslog : "LOG_MAIL");
	show("aliases", a->aliases);
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
