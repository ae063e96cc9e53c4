#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "deliver.h"
#include "queue.h"
#include "report.h"
#include "smtp.h"
#include "spool.h"
#include "t.h"
#include "xmalloc.h"

static char	 dir[] = "/tmp/test_queue.XXXXXX";

/* A committed entry for `rcpt` with `body` as its message. */
static void
make_entry(struct queue *q, struct qentry *e, const char *rcpt,
    const char *body)
{
	struct spool	 sp;
	struct buf	 err = BUF_INIT;
	enum local_err	 le;

	qentry_init(e);
	CHECK_INT(queue_create(q, e, &sp, &le, &err), 0);
	CHECK_INT(spool_write(&sp, body, strlen(body), &le, &err), 0);
	e->config = xstrdup("/etc/postie.conf");
	e->account = xstrdup("default");
	e->arrival = e->next = 1700000000;
	e->env.from = xstrdup("s@example.org");
	strlist_add(&e->env.rcpts, rcpt);
	e->rcpt = xcalloc(1, sizeof(*e->rcpt));
	e->env.size = sp.size;
	CHECK_INT(queue_commit(q, e, &sp, 1, &le, &err), 0);
	spool_release(&sp);
	buf_release(&err);
}

static void
test_directory(void)
{
	struct queue	 q;
	struct buf	 err = BUF_INIT;
	char		 path[256];
	struct stat	 st;

	(void)snprintf(path, sizeof(path), "%s/open", dir);
	CHECK_INT(mkdir(path, 0777), 0);
	CHECK_INT(chmod(path, 0777), 0);
	CHECK_INT(queue_open(&q, path, 0, &err), -1);
	CHECK(strstr(buf_str(&err), "closed to others") != NULL);
	buf_reset(&err);
	CHECK_INT(queue_open(&q, "relative/dir", 1, &err), -1);
	buf_reset(&err);
	(void)snprintf(path, sizeof(path), "%s/made/deep/queue", dir);
	CHECK_INT(queue_open(&q, path, 1, &err), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0700);
	queue_close(&q);
	buf_release(&err);
}

static void
test_entries(void)
{
	struct queue	 q;
	struct qentry	 a, b, got, other;
	struct strlist	 ids = STRLIST_INIT;
	struct buf	 err = BUF_INIT, notes = BUF_INIT;
	char		 path[256];
	int		 fd;
	pid_t		 pid;

	(void)snprintf(path, sizeof(path), "%s/q1", dir);
	CHECK_INT(queue_open(&q, path, 1, &err), 0);
	make_entry(&q, &a, "a@example.org", "Subject: a\r\n\r\na\r\n");
	make_entry(&q, &b, "b@example.org", "Subject: b\r\n\r\nb\r\n");
	CHECK(strcmp(a.id, b.id) < 0);	/* arrival order */
	CHECK_INT(queue_list(&q, &ids, &notes, &err), 0);
	CHECK_INT(ids.n, 2);
	CHECK_STR(ids.v[0], a.id);
	CHECK(queue_has_entries(&q, a.id));

	/* Held by `a`: another open file description cannot lock it. */
	qentry_init(&got);
	CHECK_INT(queue_lock(&q, a.id, &got, &err), 0);
	/* Not held: locked and read back as written. */
	qentry_release(&b);
	CHECK_INT(queue_lock(&q, ids.v[1], &got, &err), 1);
	CHECK_STR(got.env.rcpts.v[0], "b@example.org");
	CHECK_STR(got.config, "/etc/postie.conf");
	CHECK_INT(got.env.size, (off_t)strlen("Subject: b\r\n\r\nb\r\n"));
	/* A child cannot take it while we hold it. */
	if ((pid = fork()) == 0) {
		qentry_init(&other);
		_exit(queue_lock(&q, ids.v[1], &other, &err) == 0 ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &fd, 0) == pid && WIFEXITED(fd) &&
	    WEXITSTATUS(fd) == 0);

	/* An attempt's notes survive a save. */
	qentry_note(&got, 0, 450, "4.2.1", "450 4.2.1 busy");
	got.attempts = 3;
	CHECK_INT(queue_save(&q, &got, &err), 0);
	qentry_release(&got);
	CHECK_INT(queue_peek(&q, ids.v[1], &got, &err), 1);
	CHECK_INT(got.attempts, 3);
	CHECK_INT(got.rcpt[0].code, 450);
	CHECK_STR(got.rcpt[0].ecode, "4.2.1");
	CHECK_STR(got.rcpt[0].reason, "450 4.2.1 busy");
	qentry_release(&got);

	/* Removed: gone from the list, and a lock of it says gone. */
	CHECK_INT(queue_remove(&q, &a, &err), 0);
	CHECK_INT(queue_lock(&q, ids.v[0], &got, &err), 0);
	strlist_release(&ids);
	CHECK_INT(queue_list(&q, &ids, &notes, &err), 0);
	CHECK_INT(ids.n, 1);

	/* A broken envelope is moved aside when locked. */
	(void)snprintf(path, sizeof(path), "%s/q1/q/%s/env", dir, ids.v[0]);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd != -1 && write(fd, "junk\n", 5) == 5);
	close(fd);
	buf_reset(&err);
	CHECK_INT(queue_lock(&q, ids.v[0], &got, &err), -1);
	CHECK(strstr(buf_str(&err), "not a postie queue envelope") != NULL);
	(void)snprintf(path, sizeof(path), "%s/q1/corrupt/%s", dir,
	    ids.v[0]);
	CHECK_INT(access(path, F_OK), 0);
	CHECK(!queue_has_entries(&q, NULL));

	qentry_release(&a);
	qentry_release(&got);
	strlist_release(&ids);
	buf_release(&err);
	buf_release(&notes);
	queue_close(&q);
}

static void
test_backoff(void)
{
	long long	 w;
	unsigned	 n;
	int		 i;

	for (i = 0; i < 200; i++) {
		w = deliver_backoff(1);
		CHECK(w > 300 - 31 && w <= 300);
	}
	CHECK(deliver_backoff(2) > 600 - 61 && deliver_backoff(2) <= 600);
	for (n = 5; n < 40; n++) {
		w = deliver_backoff(n);
		CHECK(w > 3600 - 361 && w <= 3600);
	}
}

static void
test_final(void)
{
	struct smtp_status	 st;

	memset(&st, 0, sizeof(st));
	st.phase = PH_MAIL;
	st.code = 550;
	CHECK_INT(outcome_final(&st), 1);
	st.code = 451;
	CHECK_INT(outcome_final(&st), 0);
	st.phase = PH_AUTH;
	st.code = 535;
	CHECK_INT(outcome_final(&st), 0);	/* the account's, not the message's */
	st.phase = PH_GREETING;
	st.code = 554;
	CHECK_INT(outcome_final(&st), 0);
	st.phase = PH_MAIL;
	st.code = 0;
	st.lerr = LE_TOOBIG;
	CHECK_INT(outcome_final(&st), 1);
	st.lerr = LE_TIMEOUT;
	CHECK_INT(outcome_final(&st), 0);
	st.lerr = LE_CONFIG;
	CHECK_INT(outcome_final(&st), 0);
}

static void
test_verdict(void)
{
	struct smtp_result	 res;
	struct verdict		 v;

	smtp_result_init(&res);
	res.nrcpt = 3;
	res.rcpt = xcalloc(3, sizeof(*res.rcpt));
	res.rcpt[0].state = RCPT_ACCEPTED;
	res.rcpt[1].state = RCPT_REFUSED;
	res.rcpt[1].code = 550;
	res.rcpt[1].phase = PH_RCPT;
	res.rcpt[2].state = RCPT_DEFERRED;
	res.rcpt[2].code = 450;
	verdict_of(&res, &v);
	CHECK_INT(v.ndone, 1);
	CHECK_INT(v.nfinal, 1);
	CHECK_INT(v.nkept, 1);
	CHECK_INT(verdict_status(&res, &v), EX_NOUSER);
	verdict_release(&v);

	/* The session broke: the undecided are kept, the status is 0. */
	res.aborted = 1;
	res.st.phase = PH_EOM;
	res.st.lerr = LE_TIMEOUT;
	res.rcpt[1].state = RCPT_UNKNOWN;
	res.rcpt[0].state = RCPT_UNKNOWN;
	verdict_of(&res, &v);
	CHECK_INT(v.nkept, 3);
	CHECK_INT(v.nfinal, 0);
	CHECK(v.why == &res.st && !v.account);
	CHECK_INT(verdict_status(&res, &v), EX_OK);
	verdict_release(&v);

	/* The message refused as a whole: nothing kept. */
	res.st.lerr = LE_NONE;
	res.st.phase = PH_DATA;
	res.st.code = 554;
	res.rcpt[2].state = RCPT_UNKNOWN;
	verdict_of(&res, &v);
	CHECK_INT(v.nfinal, 3);
	CHECK_INT(verdict_status(&res, &v), EX_UNAVAILABLE);
	verdict_release(&v);
	smtp_result_release(&res);
}

static void
test_duration(void)
{
	struct buf	 b = BUF_INIT;

	report_duration(&b, 5 * 86400);
	CHECK_STR(b.data, "5 days");
	buf_reset(&b);
	report_duration(&b, 3600);
	CHECK_STR(b.data, "1 hour");
	buf_reset(&b);
	report_duration(&b, 90);
	CHECK_STR(b.data, "90 seconds");
	buf_reset(&b);
	report_duration(&b, 1800);
	CHECK_STR(b.data, "30 minutes");
	buf_release(&b);
}

int
main(void)
{
	char	 rm[64];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_directory();
	test_entries();
	test_backoff();
	test_final();
	test_verdict();
	test_duration();
	(void)snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	(void)!system(rm);
	return t_done();
}
