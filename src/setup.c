#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "aliases.h"
#include "buf.h"
#include "conf.h"
#include "priv.h"
#include "oauth.h"
#include "queue.h"
#include "route.h"
#include "secret.h"
#include "setup.h"
#include "strlist.h"
#include "util.h"
#include "xmalloc.h"

/* An OAuth account's token source: the route's secret callback. */
struct oauth_src {
	struct oauth_cfg	 cfg;
	struct queue		 q;
	int			 have_q;
};

static int	oauth_prepare(struct setup *, struct buf *);
static int	oauth_secret(const void *, int, struct buf *, int *,
		    struct buf *, struct buf *);
static int	has_password(const struct conf *);
static int	check_secret(const struct setup *, const char *,
		    struct buf *);
static int	load_system(struct setup *, const char *, struct buf *);
static int	apply_overrides(struct setup *, const struct strlist *,
		    struct buf *);
static void	no_host(const struct account *, const char *, struct buf *);
static int	pick_account(struct setup *, const char *, const char *,
		    const char *, struct buf *);

void
setup_init(struct setup *s)
{
	memset(s, 0, sizeof(*s));
}

void
setup_release(struct setup *s)
{
	if (s->have_aliases)
		aliases_release(&s->aliases);
	if (s->have_copy)
		conf_account_free(&s->copy);
	if (s->oauth != NULL) {
		if (s->oauth->have_q)
			queue_close(&s->oauth->q);
		oauth_cfg_release(&s->oauth->cfg);
		free(s->oauth);
	}
	route_release(&s->route);
	conf_release(&s->conf);
	setup_init(s);
}

/* Any account of the file, not only the one in use, makes it secret. */
static int
has_password(const struct conf *c)
{
	unsigned	 i;

	for (i = 0; i < c->naccounts; i++)
		if (c->accounts[i].password != NULL ||
		    c->accounts[i].oauth_client_secret != NULL)
			return 1;
	return 0;
}

/*
 * The file holds a password: the user's own and private, or SYSCONFDIR's
 * shared with postie's group.  The shared rule goes by the path, not by
 * how the file was reached: -C /etc/postie.conf by root or a member of
 * the group is the same file, which they can read anyway.
 */
static int
check_secret(const struct setup *s, const char *path, struct buf *err)
{
	struct stat	 st;
	gid_t		 g;

	if (!conf_is_system_path(path) || (g = priv_group()) == (gid_t)-1)
		return secret_check_file(path, err);
	if (s->system)
		st = s->st;
	else if (stat(path, &st) == -1) {
		buf_addf(err, "%s: cannot check: %s", path, strerror(errno));
		return -1;
	}
	return secret_check_shared(path, &st, g, priv_group_name(), err);
}

/*
 * The system configuration: opened with the group raised, for that one
 * open, and read with the user's rights.  While the group is held it
 * must be root's regular file, writable by nobody else: what it says
 * (the server, the queue directory) decides what the group is used for.
 * O_NONBLOCK: a FIFO put there must not hang the open.
 */
static int
load_system(struct setup *s, const char *path, struct buf *err)
{
	int	 fd, e;

	priv_raise();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	e = errno;
	priv_lower();
	if (fd == -1) {
		buf_addf(err, "%s: cannot open: %s", path, strerror(e));
		return -1;
	}
	if (fstat(fd, &s->st) == -1) {
		buf_addf(err, "%s: cannot check: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (priv_held() && !S_ISREG(s->st.st_mode))
		buf_addf(err, "%s: refused as the system configuration: not a "
		    "regular file", path);
	else if (priv_held() && s->st.st_uid != 0)
		buf_addf(err, "%s: refused as the system configuration: owned "
		    "by uid %lu, not by root (run: chown root %s)", path,
		    (unsigned long)s->st.st_uid, path);
	else if (priv_held() && (s->st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		buf_addf(err, "%s: refused as the system configuration: "
		    "writable by group or others (run: chmod go-w %s)", path,
		    path);
	else {
		(void)fcntl(fd, F_SETFL, 0);
		return conf_load_fd(&s->conf, fd, path, err);
	}
	close(fd);
	return -1;
}

/*
 * msmtp-style per-keyword options (--port=2525 ...) replace the account's
 * keyword of the same name, read by conf.c's own parser, on a deep copy:
 * the loaded configuration itself never changes.
 */
static int
apply_overrides(struct setup *s, const struct strlist *ov, struct buf *err)
{
	size_t	 i;

	if (ov == NULL || ov->n == 0)
		return EX_OK;
	conf_account_dup(&s->copy, s->acct);
	s->have_copy = 1;
	s->acct = &s->copy;
	for (i = 0; i + 1 < ov->n; i += 2)
		if (conf_override(&s->copy, ov->v[i], ov->v[i + 1], err) == -1)
			return EX_USAGE;
	return EX_OK;
}

/* The account's own line, where its host belongs. */
static void
no_host(const struct account *a, const char *path, struct buf *err)
{
	if (a->line > 0)
		buf_addf(err, "%s:%d: ", a->file != NULL ? a->file : path,
		    a->line);
	else
		buf_addf(err, "%s: ", path);
	buf_addf(err, "account '%s' has no host (add a 'host' line after "
	    "it, or 'socket' for a local server)", a->name);
}

static int
pick_account(struct setup *s, const char *path, const char *account,
    const char *from, struct buf *err)
{
	if ((account != NULL || from == NULL ||
	    (s->acct = conf_account_for_from(&s->conf, from)) == NULL) &&
	    (s->acct = conf_account(&s->conf, account)) == NULL)
		buf_addf(err, "%s: no account '%s'", path,
		    account != NULL ? account : "default");
	else if (conf_check_supported(s->acct, err) == -1)
		;
	else if (s->acct->host == NULL && s->acct->socket == NULL)
		no_host(s->acct, path, err);
	else if (has_password(&s->conf) && check_secret(s, path, err) == -1)
		;
	else
		return EX_OK;
	return EX_CONFIG;
}

int
setup_load(struct setup *s, const char *path, int system,
    const char *account, const char *from, const struct strlist *overrides,
    struct buf *err)
{
	int	 rc = EX_CONFIG;

	s->system = system;
	if ((system ? load_system(s, path, err) :
	    conf_load(&s->conf, path, err)) == 0)
		rc = pick_account(s, path, account, from, err);
	if (rc == EX_OK)
		rc = apply_overrides(s, overrides, err);
	if (rc == EX_OK && route_from_account(&s->route, s->acct, err) == -1)
		rc = EX_CONFIG;
	if (rc == EX_OK && s->acct->oauth_provider != NULL &&
	    oauth_prepare(s, err) == -1)
		rc = EX_CONFIG;
	if (rc == EX_OK && s->acct->aliases != NULL) {
		if (aliases_load(&s->aliases, s->acct->aliases, err) == -1)
			rc = EX_CONFIG;
		else
			s->have_aliases = 1;
	}
	return rc;
}

/* The account's OAuth settings, checked now: a mistake there is a
 * configuration error before anything is connected. */
static int
oauth_prepare(struct setup *s, struct buf *err)
{
	const struct account	*named;

	s->oauth = xcalloc(1, sizeof(*s->oauth));
	if (oauth_cfg_from_account(&s->oauth->cfg, s->acct, err) == -1)
		return -1;
	/*
	 * "account default : gmail" makes an account named "default" that
	 * is gmail under another name: one mailbox, one token, authorized
	 * as either name.
	 */
	if (s->acct->name != NULL && strcmp(s->acct->name, "default") == 0 &&
	    s->conf.default_name != NULL &&
	    (named = conf_account(&s->conf, s->conf.default_name)) != NULL &&
	    named->oauth_provider != NULL)
		s->oauth->cfg.account = named->name;
	oauth_json_setup();
	s->route.secret = oauth_secret;
	s->route.secret_arg = s;
	return 0;
}

int
setup_oauth(const struct setup *s, const struct oauth_cfg **cfg,
    struct queue **store, struct buf *err)
{
	struct oauth_src	*o = s->oauth;
	struct buf		 dir = BUF_INIT;
	int			 system, rc = 0;

	*cfg = NULL;
	*store = NULL;
	if (o == NULL)
		return 0;
	if (!o->have_q) {
		rc = setup_queue_dir(s, &dir, &system, err);
		if (rc == 0)
			rc = queue_open(&o->q, buf_str(&dir), QUEUE_CREATE |
			    (system ? QUEUE_SYSTEM : 0), err);
		o->have_q = rc == 0;
		buf_release(&dir);
	}
	if (rc == 0) {
		*cfg = &o->cfg;
		*store = &o->q;
	}
	return rc;
}

/* The route's secret for an OAuth account: its access token. */
static int
oauth_secret(const void *arg, int renew, struct buf *out, int *temp,
    struct buf *note, struct buf *err)
{
	const struct oauth_cfg	*cfg;
	struct queue		*q;
	int			 final;

	*temp = 0;
	if (setup_oauth(arg, &cfg, &q, err) == -1)
		return -1;
	if (oauth_access_token(cfg, q, renew, out, &final, note, err) == -1) {
		*temp = !final;
		return -1;
	}
	return 0;
}

int
setup_queue_dir(const struct setup *s, struct buf *dir, int *system,
    struct buf *err)
{
	const char	*state, *home;

	*system = s->system;
	if (s->acct->queue_dir != NULL) {
		buf_addstr(dir, s->acct->queue_dir);
		return 0;
	}
	if (s->system) {
		buf_addstr(dir, SPOOLDIR);
		return 0;
	}
	state = getenv("XDG_STATE_HOME");
	if (state != NULL && state[0] == '/') {
		buf_addf(dir, "%s/postie/queue", state);
		return 0;
	}
	if ((home = home_dir()) == NULL) {
		buf_addstr(err, "no home directory for the queue (set "
		    "queue_dir)");
		return -1;
	}
	buf_addf(dir, "%s/.local/state/postie/queue", home);
	return 0;
}
