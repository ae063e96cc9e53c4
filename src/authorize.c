#include "config.h"

#include <stdio.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "front.h"
#include "log.h"
#include "oauth.h"
#include "oauth_authorize.h"
#include "queue.h"
#include "setup.h"

/*
 * --oauth-authorize [ACCOUNT], the front end of oauth_authorize.h: the
 * account loaded and checked, the grant's instructions shown on standard
 * output as they come, the outcome said and turned into an exit status.
 */

static void	show_line(void *, const char *);
static int	status_of(enum oauth_authz);

/* Shown at once: the user acts on it while postie waits. */
static void
show_line(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
	(void)fflush(stdout);
}

static int
status_of(enum oauth_authz rc)
{
	switch (rc) {
	case OAUTHZ_OK:
		return EX_OK;
	case OAUTHZ_CONFIG:
		return EX_CONFIG;
	case OAUTHZ_DENIED:
		return EX_NOPERM;
	case OAUTHZ_TEMP:
		return EX_TEMPFAIL;
	case OAUTHZ_PROTOCOL:
		return EX_PROTOCOL;
	case OAUTHZ_STORE:
		return EX_IOERR;
	case OAUTHZ_OSERR:
		return EX_OSERR;
	}
	return EX_SOFTWARE;
}

int
authorize(struct run *r)
{
	const struct oauth_cfg	*cfg;
	struct queue		*q;
	struct oauth_say	 say = { show_line, NULL };
	struct buf		 err = BUF_INIT, path = BUF_INIT;
	int			 status;

	if ((status = load_account(r)) != EX_OK)
		return status;
	if (r->acct->oauth_provider == NULL) {
		log_error("account '%s' is not an OAuth account (set "
		    "oauth_provider)", r->acct->name != NULL ? r->acct->name :
		    "default");
		return EX_CONFIG;
	}
	/*
	 * The system store's record is root's (queue.h): whoever authorizes
	 * puts their mailbox behind every user's mail.  Said before anything
	 * is opened or asked of the provider.
	 */
	if (r->su.system && geteuid() != 0) {
		log_error("only root can authorize accounts of the system "
		    "configuration");
		return EX_NOPERM;
	}
	if (setup_oauth(&r->su, &cfg, &q, &err) == -1) {
		log_error("%s", buf_str(&err));
		status = EX_CONFIG;
	} else if ((status = status_of(oauth_authorize(cfg, q, &say,
	    &err))) != EX_OK)
		log_error("%s", buf_str(&err));
	else {
		queue_oauth_path(q, cfg->account, &path);
		printf("authorized account '%s'; token stored in %s\n",
		    cfg->account, buf_str(&path));
		if (fflush(stdout) == EOF)
			status = EX_IOERR;
	}
	buf_release(&err);
	buf_release(&path);
	return status;
}
