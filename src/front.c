#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "exitcode.h"
#include "front.h"
#include "log.h"
#include "message.h"
#include "priv.h"
#include "report.h"
#include "setup.h"
#include "smtp.h"
#include "util.h"
#include "xmalloc.h"

/*
 * What every mode of the front end needs: the configuration and account
 * (with the group privilege of a setgid install handled as priv.h says),
 * the envelope sender, the message read and spooled, and delivery
 * without a queue.  main.c, submit.c and modes.c call these; these call
 * none of them.
 */

static int	choose_config(struct run *, char **, int *);
static int	sender_from_header(struct run *);
static void	say_setup(const struct run *);
static void	say(struct buf *);

/*
 * Which configuration file, decided before any file is read.  Whatever
 * the user names or controls drops the group for good first, so that it
 * is read with the user's own rights: -C; a file in the user's home
 * (HOME and XDG_CONFIG_HOME only say where the user's file is, and are
 * looked at with the user's rights); msmtp's per-keyword options, which
 * over the system configuration would send its password to a server of
 * the user's choosing.  Only the system configuration, as it is, keeps
 * the group (setup_load() raises it to open the file).  EX_OK with the
 * path in *path (allocated) and *system, else a status, said.
 */
static int
choose_config(struct run *r, char **path, int *system)
{
	int	 found_system;

	*system = 0;
	if (r->opts.config != NULL || r->opts.overrides.n > 0)
		priv_drop();
	if (r->opts.config != NULL) {
		*path = xstrdup(r->opts.config);
		return EX_OK;
	}
	if ((*path = conf_find_file(&found_system)) == NULL) {
		log_error("no configuration file found (looked for "
		    "$XDG_CONFIG_HOME/postie/config, ~/.postierc, "
		    "%s/postie.conf and msmtp's files)", SYSCONFDIR);
		return EX_CONFIG;
	}
	if (!found_system)
		priv_drop();
	*system = found_system && r->opts.overrides.n == 0;
	return EX_OK;
}

/* One "*** " line of the -v transcript, then `b` is emptied. */
static void
say(struct buf *b)
{
	log_transcript('*', buf_str(b), b->len);
	buf_reset(b);
}

/*
 * -v: what the transcript is about, before it starts: the file and
 * account, the hosts in the order tried, the TLS decision route.c makes
 * for each (a name is decided again per address once connected), where
 * the logs go.
 */
static void
say_setup(const struct run *r)
{
	const struct route	*rt = &r->su.route;
	struct buf		 b = BUF_INIT;
	size_t			 i;

	buf_addf(&b, "configuration file %s, account '%s'",
	    r->su.conf.path != NULL ? r->su.conf.path : "(none)",
	    rt->name);
	say(&b);
	if (rt->socket != NULL)
		buf_addf(&b, "unix socket %s; TLS ", rt->socket);
	else {
		buf_addstr(&b, "hosts, tried in order: ");
		for (i = 0; i < rt->hosts.n; i++)
			buf_addf(&b, "%s%s", i > 0 ? ", " : "", rt->hosts.v[i]);
		buf_addf(&b, "%s; port %d", rt->hosts.n == 0 ? "(none)" : "",
		    rt->port);
	}
	if (rt->socket != NULL)
		(void)route_tls_preview(rt, NULL, &b);
	say(&b);
	for (i = 0; rt->socket == NULL && i < rt->hosts.n; i++) {
		buf_addf(&b, "TLS for %s: ", rt->hosts.v[i]);
		(void)route_tls_preview(rt, rt->hosts.v[i], &b);
		say(&b);
	}
	buf_addstr(&b, "logs: ");
	log_where(&b);
	say(&b);
	buf_release(&b);
}

int
load_account(struct run *r)
{
	struct buf	 err = BUF_INIT;
	char		*path, *kw, *p;
	int		 rc, system;

	if ((rc = choose_config(r, &path, &system)) != EX_OK)
		return rc;
	rc = setup_load(&r->su, path, system, r->opts.account, r->opts.from,
	    &r->opts.overrides, &err);
	if (rc == EX_OK) {
		r->acct = r->su.acct;
		log_account(r->acct);
		if (r->opts.verbose > 0)
			say_setup(r);
	} else if (priv_setgid() && r->opts.config == NULL &&
	    r->opts.overrides.n > 0 && conf_is_system_path(path) &&
	    access(path, R_OK) == -1) {
		/* The shared system configuration, out of reach now. */
		kw = xstrdup(r->opts.overrides.v[0]);
		for (p = kw; *p != '\0'; p++)
			if (*p == '_')
				*p = '-';
		log_error("%s (with an option such as '--%s' postie reads "
		    "the system configuration with your own rights)",
		    buf_str(&err), kw);
		free(kw);
	} else
		log_error("%s", buf_str(&err));
	/* No queue to work in: nothing needs the group any more.  -P
	 * reads an OAuth account's token store first (pretend()). */
	if (r->opts.mode != MODE_SEND && r->opts.mode != MODE_QUEUE_LIST &&
	    r->opts.mode != MODE_QUEUE_RUN &&
	    r->opts.mode != MODE_QUEUE_DELETE && r->opts.mode != MODE_PRETEND)
		priv_drop();
	free(path);
	buf_release(&err);
	return rc;
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
int
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
void
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
int
read_message(struct run *r, int infd, const struct strlist *rcpts,
    struct buf *why, const struct spool *into)
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
	mo.aliases = r->su.have_aliases ? &r->su.aliases : NULL;
	mo.into = into;

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

void
transcript(void *arg, char dir, const char *line, size_t len)
{
	(void)arg;
	log_transcript(dir, line, len);
}

void
report_ctx(const struct run *r, const struct smtp_session *s,
    struct report_ctx *c)
{
	c->account = r->acct->name;
	c->lmtp = r->su.route.lmtp;
	c->s = s;
	c->env = &r->env;
}

/*
 * Send the spooled message over a session of its own; `res` (initialised
 * by the caller) keeps the outcome.  Returns the exit status.
 */
int
deliver(struct run *r, struct smtp_result *res)
{
	struct smtp_session	*s;
	struct report_ctx	 c;
	int			 status;

	s = smtp_new(&r->su.route, transcript, NULL);
	/* On a session that did not open, smtp_send() reports why. */
	(void)smtp_open(s);
	(void)smtp_send(s, &r->env, &r->msg.spool, res);
	status = exit_for_result(res);
	report_ctx(r, s, &c);
	report_delivery(&c, res, status);
	smtp_close(s);
	return status;
}
