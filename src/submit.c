#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "deliver.h"
#include "exitcode.h"
#include "front.h"
#include "log.h"
#include "priv.h"
#include "queue.h"
#include "report.h"
#include "runq.h"
#include "setup.h"
#include "smtp.h"
#include "spool.h"
#include "xmalloc.h"

/*
 * The front end with the queue: a message goes into a queue entry made
 * durable before a byte goes out, then -od says when it is delivered
 * (at once, by a detached child, or by a later run); and the queue
 * commands (-q, -bp, --queue-delete) on the queue of the configuration
 * in use.
 */

static int	queue_ready(struct run *, int);
static void	fill_entry(struct run *);
static void	detach(void);
static void	flush_after(struct run *, struct smtp_session *);
static int	attempt_now(struct run *);
static int	queue_open_existing(struct run *);

/*
 * The queue this configuration uses, opened (and made, when it is the
 * user's own or `create` allows it; the system queue only by root).
 * Unusable (`queue off`, no home, a directory that is not ours, the
 * system queue without the group): 0, said once unless `queue off`; the
 * message is then sent as with `queue off`.
 */
static int
queue_ready(struct run *r, int create)
{
	struct buf	 dir = BUF_INIT, err = BUF_INIT;
	int		 system = 0, flags;

	if (!r->acct->queue)
		return 0;
	if (setup_queue_dir(&r->su, &dir, &system, &err) == 0) {
		flags = system ? QUEUE_SYSTEM : 0;
		if (create && (!system || geteuid() == 0))
			flags |= QUEUE_CREATE;
		if (queue_open(&r->q, buf_str(&dir), flags, &err) == 0)
			r->have_q = 1;
		else if (system && !priv_held() && geteuid() != 0 &&
		    priv_group_name()[0] != '\0')
			buf_addf(&err, " (postie is not installed setgid '%s')",
			    priv_group_name());
	}
	if (!r->have_q && create)
		log_warn("%s: sending without a queue, as with 'queue off'",
		    buf_str(&err));
	else if (!r->have_q)
		log_error("%s", buf_str(&err));
	buf_release(&dir);
	buf_release(&err);
	return r->have_q;
}

/* The queue entry's envelope: the message's, and where it came from. */
static void
fill_entry(struct run *r)
{
	struct qentry	*e = &r->entry;
	const char	*path = r->su.conf.path;
	char		 real[PATH_MAX];
	size_t		 i;

	e->config = xstrdup(path[0] == '/' || realpath(path, real) == NULL ?
	    path : real);
	e->account = xstrdup(r->acct->name);
	e->uid = (long)getuid();
	e->arrival = e->next = (long long)time(NULL);
	e->env.from = xstrdup(r->env.from);
	for (i = 0; i < r->env.rcpts.n; i++)
		strlist_add(&e->env.rcpts, r->env.rcpts.v[i]);
	e->rcpt = xcalloc(r->env.rcpts.n, sizeof(*e->rcpt));
	e->env.body_8bit = r->env.body_8bit;
	e->env.smtputf8 = r->env.smtputf8;
	e->env.size = r->env.size;
	e->env.body_type = r->env.body_type;
	e->env.request_utf8 = r->env.request_utf8;
	e->notify = r->env.notify != NULL ? xstrdup(r->env.notify) : NULL;
	e->ret = r->env.ret != NULL ? xstrdup(r->env.ret) : NULL;
	e->envid = r->env.envid != NULL ? xstrdup(r->env.envid) : NULL;
	e->env.notify = e->notify;
	e->env.ret = e->ret;
	e->env.envid = e->envid;
	for (i = 0; i < r->opts.overrides.n; i++)
		strlist_add(&e->overrides, r->opts.overrides.v[i]);
}

/*
 * A child on its own: a new session, no terminal, standard descriptors
 * on /dev/null so that a caller waiting for our output or exit is not
 * kept waiting by it.
 */
static void
detach(void)
{
	int	 fd;

	(void)setsid();
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/*
 * After a delivery that went well, the session is still open: when the
 * queue holds other entries, a detached child sends this account's over
 * it (the queue drains whenever mail flows), and the caller is not kept
 * waiting for them.
 */
static void
flush_after(struct run *r, struct smtp_session *s)
{
	struct runq	 rq;
	struct buf	 err = BUF_INIT;
	pid_t		 pid;

	if (!queue_has_entries(&r->q, NULL)) {
		smtp_close(s);
		return;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) != 0) {
		if (pid == -1)
			smtp_close(s);
		else
			smtp_abandon(s);	/* the child has it now */
		return;
	}
	detach();
	/* The server has just proved itself: the account's waiting
	 * entries go now, not at their backoff's end; those tried in the
	 * last minute wait, so a burst of submissions does not hammer a
	 * recipient's full mailbox. */
	memset(&rq, 0, sizeof(rq));
	rq.q = &r->q;
	rq.skip_recent = 60;
	rq.session = s;
	rq.session_only = 1;
	rq.setup = &r->su;
	rq.config = r->entry.config;
	rq.account = r->entry.account;
	(void)runq_run(&rq, &err);
	_exit(0);
}

/*
 * The first attempt of a queued message: what is delivered or refused
 * for good leaves the entry, the rest waits for the next attempt.  The
 * exit status speaks only of the refused ones.
 */
static int
attempt_now(struct run *r)
{
	struct smtp_session	*s;
	struct smtp_result	 res;
	struct verdict		 v;
	struct report_ctx	 c;
	struct spool		 sp;
	struct buf		 err = BUF_INIT;
	int			 status, done, ok;

	s = smtp_new(&r->su.route, transcript, NULL);
	smtp_set_tls_store(s, &queue_tls_store, &r->q);
	(void)smtp_open(s);
	queue_spool(&r->entry, &sp);
	smtp_result_init(&res);
	(void)smtp_send(s, &r->entry.env, &sp, &res);
	verdict_of(&res, &v);
	status = verdict_status(&res, &v);
	report_ctx(r, s, &c);
	report_attempt(&c, &res, &v, status, r->entry.id,
	    r->acct->queue_lifetime);
	done = v.nkept == 0 && v.nfinal == 0;
	deliver_apply(&r->entry, &res, &v, (long long)time(NULL));
	if (r->entry.env.rcpts.n == 0)
		ok = queue_remove(&r->q, &r->entry, &err) == 0;
	else if (!(ok = queue_save(&r->q, &r->entry, &err) == 0) &&
	    !r->entry.synced)
		/* Not on disk for sure: the caller must keep it. */
		status = EX_TEMPFAIL;
	if (!ok)
		log_error("%s", buf_str(&err));
	verdict_release(&v);
	smtp_result_release(&res);
	buf_release(&err);
	if (done && r->opts.delivery == DELIVER_NOW)
		flush_after(r, s);
	else
		smtp_close(s);
	return status;
}

/*
 * A message with the queue on: into a new entry, made durable before a
 * byte goes to a server, then delivered as -od says.
 */
int
submit(struct run *r)
{
	struct smtp_result	 res;
	struct spool		 sp;
	struct buf		 err = BUF_INIT;
	enum local_err		 le = LE_NONE;
	int			 status;

	if (!queue_ready(r, 1)) {
		/* Without a queue nothing needs the group any more. */
		priv_drop();
		if ((status = read_message(r, STDIN_FILENO, &r->opts.rcpts,
		    NULL, NULL)) != EX_OK)
			return status;
		smtp_result_init(&res);
		status = deliver(r, &res);
		smtp_result_release(&res);
		return status;
	}
	if (queue_create(&r->q, &r->entry, &sp, &le, &err) == -1) {
		log_error("%s", buf_str(&err));
		buf_release(&err);
		return exit_status(PH_LOCAL, 0, le);
	}
	if ((status = read_message(r, STDIN_FILENO, &r->opts.rcpts, NULL,
	    &sp)) != EX_OK) {
		queue_abandon(&r->q, &r->entry);
		return status;
	}
	fill_entry(r);
	/* Tried at once, the entry needs to be on disk only if the
	 * attempt leaves it queued (queue_save() sees to that): a
	 * submission delivered at once makes no fsync. */
	if (queue_commit(&r->q, &r->entry, &r->msg.spool,
	    r->opts.delivery != DELIVER_NOW, &le, &err) == -1) {
		/* The message is whole in its (now unlinked) file: it can
		 * still go at once, as with `queue off`. */
		log_warn("%s: sending without a queue, as with 'queue off'",
		    buf_str(&err));
		buf_release(&err);
		smtp_result_init(&res);
		status = deliver(r, &res);
		smtp_result_release(&res);
		return status;
	}
	switch (r->opts.delivery) {
	case DELIVER_QUEUE:
		log_outcome(1, "account=%s queued=%s from=%s recipients=%zu "
		    "mailsize=%lld", r->acct->name, r->entry.id, r->env.from,
		    r->env.rcpts.n, (long long)r->env.size);
		log_notice_unlogged("account '%s': queued as %s (-odq); sent "
		    "by 'postie -q' or the timer", r->acct->name, r->entry.id);
		return EX_OK;
	case DELIVER_BACKGROUND:
		fflush(stdout);
		fflush(stderr);
		if (fork() == 0) {
			/* The entry's lock came along: the child holds it. */
			detach();
			(void)attempt_now(r);
			_exit(0);
		}
		return EX_OK;
	default:
		return attempt_now(r);
	}
}

/* The queue for -bp, -q, --queue-delete, if there is one: EX_OK with
 * have_q set or not (no directory: nothing was ever queued), else a
 * status with the reason said. */
static int
queue_open_existing(struct run *r)
{
	struct buf	 dir = BUF_INIT, err = BUF_INIT;
	int		 system, status = EX_OK;

	if (setup_queue_dir(&r->su, &dir, &system, &err) == -1) {
		log_error("%s", buf_str(&err));
		status = EX_CONFIG;
	} else if (access(buf_str(&dir), F_OK) == -1 && errno == ENOENT)
		;
	else if (queue_open(&r->q, buf_str(&dir), system ? QUEUE_SYSTEM : 0,
	    &err) == -1) {
		log_error("%s", buf_str(&err));
		status = EX_TEMPFAIL;
	} else
		r->have_q = 1;
	buf_release(&dir);
	buf_release(&err);
	return status;
}

/* -bp, -q and --queue-delete: the queue of the configuration in use. */
int
queue_mode(struct run *r)
{
	struct runq	 rq;
	struct buf	 err = BUF_INIT;
	int		 status;

	if ((status = load_account(r)) != EX_OK ||
	    (status = queue_open_existing(r)) != EX_OK)
		return status;
	if (!r->have_q) {
		/* Nothing was ever queued here. */
		if (r->opts.mode == MODE_QUEUE_LIST && !r->opts.json)
			printf("Mail queue is empty\n");
		if (r->opts.mode == MODE_QUEUE_DELETE) {
			log_error("no queue entry %s", r->opts.ids.v[0]);
			return EX_NOINPUT;
		}
		return EX_OK;
	}
	switch (r->opts.mode) {
	case MODE_QUEUE_LIST:
		status = runq_list(&r->q, r->opts.json, stdout, &err);
		break;
	case MODE_QUEUE_DELETE:
		status = runq_delete(&r->q, &r->opts.ids, (long)getuid());
		break;
	default:
		memset(&rq, 0, sizeof(rq));
		rq.q = &r->q;
		rq.only_id = r->opts.q_id;
		rq.only_rcpt = r->opts.q_rcpt;
		rq.only_sender = r->opts.q_sender;
		rq.due = r->opts.q_due;
		rq.verbose = r->opts.verbose > 0;
		rq.trace = r->opts.verbose > 1 ? transcript : NULL;
		status = runq_run(&rq, &err);
		break;
	}
	if (status != EX_OK && err.len > 0)
		log_error("%s", buf_str(&err));
	buf_release(&err);
	return status;
}
