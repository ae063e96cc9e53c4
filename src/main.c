#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <idn2.h>

#include "addr.h"
#include "aliases.h"
#include "bs.h"
#include "conf.h"
#include "exitcode.h"
#include "log.h"
#include "message.h"
#include "options.h"
#include "report.h"
#include "route.h"
#include "sasl.h"
#include "secret.h"
#include "smtp.h"
#include "util.h"
#include "xmalloc.h"

struct run {
	struct options		 opts;
	struct conf		 conf;
	const struct account	*acct;
	struct account		 acct_copy;	/* with --keyword overrides */
	int			 have_copy;
	struct route		 route;		/* the account, resolved */
	struct aliases		 aliases;
	int			 have_aliases;
	char			*env_from;
	const char		*qualify_domain;
	struct message		 msg;
	struct envelope		 env;
};

static const char	*base_name(const char *);
static int		 usage_error(const char *);
static int		 print_version(void);
static int		 load_account(struct run *);
static int		 pick_sender(struct run *, const char *, int);
static int		 sender_from_header(struct run *);
static int		 read_message(struct run *, int, const struct strlist *,
			    struct buf *);
static void		 envelope_requests(struct run *);
static void		 report_ctx(const struct run *,
			    const struct smtp_session *, struct report_ctx *);
static int		 deliver(struct run *, struct smtp_result *);
static int		 bs_send(void *, const char *, const struct strlist *,
			    int, struct bs_result *);
static int		 smtp_stdio(struct run *);
static void		 trace(void *, char, const char *, size_t);
static int		 other_mode(struct run *);
static int		 std_fds(void);
static void		 reset_signals(void);
static int		 conf_has_password(const struct conf *);
static int		 apply_overrides(struct run *);
static int		 pretend(const struct run *);
static int		 serverinfo(const struct run *);
static int		 verify_addrs(struct run *);

static const char *
base_name(const char *path)
{
	const char	*s = strrchr(path, '/');

	return s == NULL ? path : s + 1;
}

static int
usage_error(const char *msg)
{
	log_error("%s", msg);
	fprintf(stderr, "Try 'postie --help' for more information.\n");
	return EX_USAGE;
}

/* --version: the build's features, then where the configuration is. */
static int
print_version(void)
{
	char	*path = conf_find_file();
	int	 m;

	printf("postie %s\n", PACKAGE_VERSION);
	printf("TLS: GnuTLS %s (STARTTLS and implicit TLS)\n",
	    gnutls_check_version(NULL));
	printf("SASL mechanisms (built in):");
	for (m = 0; m < SASL_NMECHS; m++)
		printf(" %s", sasl_name((enum sasl_mech)m));
	printf("\n");
	printf("IDN: libidn2 %s (IDNA2008 domains)\n",
	    idn2_check_version(NULL));
	printf("configuration file: %s\n", path != NULL ? path : "(none found)");
	printf("searched: $XDG_CONFIG_HOME/postie/config, ~/.postierc, "
	    "%s/postie.conf, ~/.msmtprc, $XDG_CONFIG_HOME/msmtp/config, "
	    "%s/msmtprc\n", SYSCONFDIR, SYSCONFDIR);
	free(path);
	return EX_OK;
}

/* Any account of the file, not only the one in use, makes it secret. */
static int
conf_has_password(const struct conf *c)
{
	unsigned	 i;

	for (i = 0; i < c->naccounts; i++)
		if (c->accounts[i].password != NULL)
			return 1;
	return 0;
}

static int
load_account(struct run *r)
{
	struct buf	 err = BUF_INIT;
	char		*path;
	int		 rc = EX_CONFIG;

	path = r->opts.config != NULL ? xstrdup(r->opts.config) :
	    conf_find_file();
	if (path == NULL) {
		log_error("no configuration file found (looked for "
		    "$XDG_CONFIG_HOME/postie/config, ~/.postierc, "
		    "%s/postie.conf and msmtp's files)", SYSCONFDIR);
		return EX_CONFIG;
	}
	if (conf_load(&r->conf, path, &err) == -1)
		log_error("%s", buf_str(&err));
	else if ((r->opts.account != NULL || r->opts.from == NULL ||
	    (r->acct = conf_account_for_from(&r->conf,
	    r->opts.from)) == NULL) &&
	    (r->acct = conf_account(&r->conf, r->opts.account)) == NULL)
		log_error("%s: no account '%s'", path,
		    r->opts.account != NULL ? r->opts.account : "default");
	else if (conf_check_supported(r->acct, &err) == -1)
		log_error("%s", buf_str(&err));
	else if (r->acct->host == NULL && r->acct->socket == NULL)
		log_error("%s: account '%s' has no host", path, r->acct->name);
	else if (conf_has_password(&r->conf) &&
	    secret_check_file(path, &err) == -1)
		log_error("%s", buf_str(&err));
	else
		rc = EX_OK;
	free(path);
	buf_release(&err);
	if (rc != EX_OK)
		return rc;

	if ((rc = apply_overrides(r)) != EX_OK)
		return rc;
	log_account(r->acct);
	if (route_from_account(&r->route, r->acct, &err) == -1) {
		log_error("%s", buf_str(&err));
		buf_release(&err);
		return EX_CONFIG;
	}
	if (r->acct->aliases != NULL) {
		if (aliases_load(&r->aliases, r->acct->aliases, &err) == -1) {
			log_error("%s", buf_str(&err));
			buf_release(&err);
			return EX_CONFIG;
		}
		r->have_aliases = 1;
	}
	return EX_OK;
}

/*
 * Bare local names ("root", "-f fail2ban") get the account's maildomain,
 * else its EHLO domain, else this host's name.  `given` is -f's address
 * (or, with --read-envelope-from, the From header's), or NULL.
 *
 * An account's `from` with wildcards ("*@example.org") picks the account
 * for matching senders; it is never a sender itself.  Without `given` it
 * is EX_CONFIG, unless `provisional` (the From header may still name the
 * sender): then env_from stays NULL for sender_from_header() to settle.
 */
static int
pick_sender(struct run *r, const char *given, int provisional)
{
	const struct account	*a = r->acct;
	const char		*from;
	int			 pattern;

	r->qualify_domain = a->maildomain != NULL ? a->maildomain :
	    a->domain != NULL ? a->domain : local_fqdn();
	if (r->qualify_domain == NULL)
		r->qualify_domain = "localhost";
	pattern = a->from != NULL && !a->auto_from &&
	    conf_from_is_pattern(a->from);

	/* msmtp's allow_from_override off: the account's sender wins (with
	 * a pattern: any sender it names). */
	if (given != NULL && (a->allow_from_override || a->from == NULL ||
	    (pattern && conf_from_match(a->from, given))))
		from = given;
	else if (pattern && given == NULL && provisional)
		return EX_OK;
	else if (pattern) {
		if (given != NULL)
			log_error("account '%s': the sender '%s' does not match "
			    "its from '%s' (allow_from_override is off)",
			    a->name, given, a->from);
		else
			log_error("account '%s': from '%s' is a pattern, not an "
			    "address: give the sender with -f", a->name,
			    a->from);
		return EX_CONFIG;
	} else if (a->from != NULL && !a->auto_from)
		from = a->from;
	else
		from = login_name();
	free(r->env_from);
	if (from[0] == '\0')
		r->env_from = xstrdup("");
	else
		r->env_from = addr_qualify(from, r->qualify_domain);
	return EX_OK;
}

/*
 * --read-envelope-from without -f: once the message is read, its From
 * header's address is the sender (as if given with -f).  A sender still
 * unsettled (a `from` pattern and no From header) is EX_CONFIG.
 */
static int
sender_from_header(struct run *r)
{
	if (r->opts.read_envelope_from && r->opts.from == NULL &&
	    r->msg.hdr_from != NULL)
		return pick_sender(r, r->msg.hdr_from, 0);
	if (r->env_from == NULL)
		return pick_sender(r, NULL, 0);
	return EX_OK;
}

/*
 * DSN, BODY= and SMTPUTF8 requests (-N -R -V -B -U): the command line
 * wins over the account's dsn_notify / dsn_return.  Values were checked
 * by options_parse() and conf_load().
 */
static void
envelope_requests(struct run *r)
{
	const struct account *a = r->acct;
	const char	*ret;

	r->env.notify = r->opts.dsn_notify != NULL ? r->opts.dsn_notify :
	    a->dsn_notify;
	ret = r->opts.dsn_ret != NULL ? r->opts.dsn_ret : a->dsn_return;
	if (ret != NULL)
		r->env.ret = strcmp(ret, "full") == 0 ? "FULL" : "HDRS";
	r->env.envid = r->opts.envid;
	if (r->opts.body_type == NULL)
		r->env.body_type = BODY_AUTO;
	else if (strcmp(r->opts.body_type, "7BIT") == 0)
		r->env.body_type = BODY_7BIT;
	else
		r->env.body_type = BODY_8BITMIME;
	r->env.request_utf8 = r->opts.smtputf8;
}

/*
 * Spool `infd` and build the envelope with `rcpts` as the command-line
 * recipients.  A failure is logged, and its reason also added to `why`
 * when not NULL.
 */
static int
read_message(struct run *r, int infd, const struct strlist *rcpts,
    struct buf *why)
{
	struct msg_opts	 mo;
	struct buf	 err = BUF_INIT;
	const struct account *a = r->acct;
	int		 le = LE_NONE, status;

	memset(&mo, 0, sizeof(mo));
	mo.extract = r->opts.extract;
	mo.env_from = r->env_from;
	mo.full_name = r->opts.full_name != NULL ? r->opts.full_name :
	    a->from_full_name;
	mo.qualify_domain = r->qualify_domain;
	mo.msgid_domain = r->qualify_domain;
	mo.set_from = a->set_from_header;
	mo.set_date = a->set_date_header;
	mo.set_msgid = a->set_msgid_header;
	mo.set_to = a->set_to_header;
	mo.undisclosed = a->undisclosed_recipients;
	mo.aliases = r->have_aliases ? &r->aliases : NULL;

	if (message_spool(&r->msg, infd, &mo, rcpts, &le, &err) == -1)
		goto fail;
	if ((status = sender_from_header(r)) != EX_OK) {
		if (why != NULL)
			buf_addstr(why, "the sender is not known");
		return status;
	}
	mo.env_from = r->env_from;
	if (message_envelope(&r->msg, &mo, rcpts, &r->env, &le, &err) == -1)
		goto fail;
	envelope_requests(r);
	if (r->msg.nuls > 0)
		log_warn("removed %llu NUL byte%s from the message",
		    r->msg.nuls, r->msg.nuls == 1 ? "" : "s");
	return EX_OK;
fail:
	log_error("%s", buf_str(&err));
	if (why != NULL)
		buf_addstr(why, buf_str(&err));
	buf_release(&err);
	return exit_status(PH_LOCAL, 0, (enum local_err)le);
}

static void
trace(void *arg, char dir, const char *line, size_t len)
{
	(void)arg;
	log_transcript(dir, line, len);
}

static void
report_ctx(const struct run *r, const struct smtp_session *s,
    struct report_ctx *c)
{
	c->account = r->acct->name;
	c->lmtp = r->route.lmtp;
	c->s = s;
	c->env = &r->env;
}

/*
 * Send the spooled message over a session of its own; `res` (initialised
 * by the caller) keeps the outcome.  Returns the exit status.
 */
static int
deliver(struct run *r, struct smtp_result *res)
{
	struct smtp_session	*s;
	struct report_ctx	 c;
	int			 status;

	s = smtp_new(&r->route, trace, NULL);
	/* On a session that did not open, smtp_send() reports why. */
	(void)smtp_open(s);
	(void)smtp_send(s, &r->env, &r->msg.spool, res);
	status = exit_for_result(res);
	report_ctx(r, s, &c);
	report_delivery(&c, res, status);
	smtp_close(s);
	return status;
}

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
	out->status = read_message(r, fd, rcpts, &out->reason);
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

static int
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

/*
 * msmtp-style per-keyword options (--port=2525, --tls-trust-file=F ...)
 * replace the account's keyword of the same name, read by conf.c's own
 * parser.  The account is deep-copied, so the loaded configuration itself
 * never changes.  A bad value is a usage error.
 */
static int
apply_overrides(struct run *r)
{
	const struct strlist	*ov = &r->opts.overrides;
	struct buf		 err = BUF_INIT;
	size_t			 i;

	if (ov->n == 0)
		return EX_OK;
	conf_account_dup(&r->acct_copy, r->acct);
	r->have_copy = 1;
	r->acct = &r->acct_copy;
	for (i = 0; i + 1 < ov->n; i += 2)
		if (conf_override(&r->acct_copy, ov->v[i], ov->v[i + 1],
		    &err) == -1) {
			log_error("%s", buf_str(&err));
			buf_release(&err);
			return EX_USAGE;
		}
	return EX_OK;
}

static void
show(const char *key, const char *value)
{
	printf("%-22s= %s\n", key, value != NULL ? value : "(not set)");
}

/* -P: the resolved account, as msmtp --pretend shows it; no secret. */
static int
pretend(const struct run *r)
{
	const struct account	*a = r->acct;
	char			 num[32];

	printf("configuration file    = %s\n",
	    r->conf.path != NULL ? r->conf.path : "(none)");
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
static int
serverinfo(const struct run *r)
{
	struct route		 rt = r->route;
	struct smtp_session	*s;
	struct report_ctx	 c;
	struct buf		 out = BUF_INIT;
	int			 status = EX_OK, open_rc;

	/* What the server offers, to anybody: no AUTH, no secret. */
	rt.auth = RA_OFF;
	s = smtp_new(&rt, trace, NULL);
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
static int
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
	mo.aliases = r->have_aliases ? &r->aliases : NULL;
	if (message_envelope(&r->msg, &mo, &r->opts.rcpts, &r->env, &le,
	    &err) == -1) {
		log_error("%s", buf_str(&err));
		buf_release(&err);
		return exit_status(PH_LOCAL, 0, (enum local_err)le);
	}
	envelope_requests(r);
	s = smtp_new(&r->route, trace, NULL);
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

/* Modes other than sending. */
static int
other_mode(struct run *r)
{
	int	 status;

	switch (r->opts.mode) {
	case MODE_HELP:
		fputs(options_usage(), stdout);
		return EX_OK;
	case MODE_VERSION:
		return print_version();
	case MODE_QUEUE_LIST:
		printf("postie: mail queue is empty (postie keeps no queue "
		    "yet: every message is sent at once)\n");
		return EX_OK;
	case MODE_QUEUE_RUN:
		printf("postie: no queue to run (postie keeps no queue yet)\n");
		return EX_OK;
	case MODE_NEWALIASES:
		/* Loading the account loads and checks its aliases file. */
		return load_account(r);
	case MODE_SMTP_STDIO:
		return smtp_stdio(r);
	case MODE_PRETEND:
		if ((status = load_account(r)) != EX_OK)
			return status;
		return pretend(r);
	case MODE_SERVERINFO:
		if ((status = load_account(r)) != EX_OK)
			return status;
		return serverinfo(r);
	case MODE_VERIFY:
		return verify_addrs(r);
	default:
		log_error("internal error: unknown mode %d", (int)r->opts.mode);
		return EX_SOFTWARE;
	}
}

/*
 * Where a message on a regular file starts, or -1.  When postie cannot
 * send it, stdin goes back there: a caller that hands over its own
 * temporary file and, on failure, saves "the rest" of it (bsd-mailx's
 * dead.letter) then saves the whole message instead of nothing.  Until
 * postie has a queue this is what keeps such mail from being lost.
 */
static off_t
stdin_start(void)
{
	struct stat	 st;

	if (fstat(STDIN_FILENO, &st) == -1 || !S_ISREG(st.st_mode))
		return -1;
	return lseek(STDIN_FILENO, 0, SEEK_CUR);
}

/*
 * Make sure descriptors 0, 1 and 2 are open (on /dev/null), so that no
 * file or socket postie opens later becomes "stdin" or "stderr".  Returns
 * 1 when stdin was closed (not an empty message: a read error).
 */
static int
std_fds(void)
{
	int	 fd, closed0 = 0;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (fd == 0)
			closed0 = 1;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(EX_OSERR);
	}
	return closed0;
}

/*
 * Signal state is inherited through exec, and callers leave odd states
 * behind: with SIGCHLD ignored the kernel reaps children itself, so the
 * wait for passwordeval fails ("No child processes") and the mail is
 * lost; a blocked mask would hold back the signals a timeout or an admin
 * sends.  Start from the defaults, except SIGPIPE: a server that closes
 * early must not kill us before we report.
 */
static void
reset_signals(void)
{
	sigset_t	 none;

	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGCHLD, SIG_DFL);
	(void)signal(SIGPIPE, SIG_IGN);
}

int
main(int argc, char *argv[])
{
	struct run	 r;
	struct smtp_result res;
	struct buf	 err = BUF_INIT;
	off_t		 in_start;
	int		 status, stdin_closed = std_fds();

	reset_signals();
	/* Passwords may be read below: no core dumps, no peeking. */
	secret_protect_process();
	log_init("postie");
	memset(&r, 0, sizeof(r));
	options_init(&r.opts);
	message_init(&r.msg);
	envelope_init(&r.env);

	if (options_parse(&r.opts, argc, argv,
	    base_name(argc > 0 ? argv[0] : "postie"), &err) == -1) {
		status = usage_error(buf_str(&err));
		goto out;
	}
	log_verbose(r.opts.verbose);
	if (r.opts.mode != MODE_SEND) {
		status = other_mode(&r);
		goto out;
	}
	if ((status = load_account(&r)) != EX_OK ||
	    (status = pick_sender(&r, r.opts.from,
	    r.opts.read_envelope_from)) != EX_OK)
		goto out;
	if (stdin_closed) {
		log_error("cannot read the message: standard input is closed");
		status = EX_IOERR;
		goto out;
	}
	in_start = stdin_start();
	if ((status = read_message(&r, STDIN_FILENO, &r.opts.rcpts,
	    NULL)) == EX_OK) {
		smtp_result_init(&res);
		status = deliver(&r, &res);
		smtp_result_release(&res);
	}
	if (status != EX_OK && in_start != -1)
		(void)lseek(STDIN_FILENO, in_start, SEEK_SET);
out:
	buf_release(&err);
	envelope_release(&r.env);
	message_release(&r.msg);
	if (r.have_aliases)
		aliases_release(&r.aliases);
	if (r.have_copy)
		conf_account_free(&r.acct_copy);
	route_release(&r.route);
	conf_release(&r.conf);
	options_release(&r.opts);
	free(r.env_from);
	return status;
}
