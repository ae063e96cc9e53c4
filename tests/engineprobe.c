/*
 * engineprobe: drive the SMTP engine through its public steps, as a queue
 * runner will, for tests/engine.bats (not a test by itself).
 *
 *	engineprobe CONFIG ACCOUNT [first N] STEP...
 *
 * Opens one session over the account's route (with `first N`: starting
 * at host N of its list, smtp_set_first_host()), then runs each STEP on
 * it:
 *
 *	send FROM RCPT[,RCPT...] FILE	smtp_send() of FILE's bytes (already
 *					canonical: CRLF, final CRLF)
 *	verify FROM RCPT[,RCPT...]	smtp_verify()
 *	reset				smtp_reset()
 *	host				smtp_host_index(), smtp_server()
 *
 * and closes it.  Prints one line per step and one per recipient:
 *
 *	open: ok | open: failed PHASE: TEXT
 *	send 1: ok|aborted, 2 transactions, EOM 250
 *	  a@example.org: accepted RCPT 250 2.1.5 (250 2.1.5 ok)
 *	reset: ok | reset: failed PHASE: TEXT
 *	host: 1 127.0.0.1[127.0.0.1]:2525
 *
 * Exit status: 0 when every step ran (whatever its outcome), 2 on usage
 * or setup errors.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "envelope.h"
#include "message.h"
#include "outcome.h"
#include "route.h"
#include "smtp.h"
#include "spool.h"
#include "strlist.h"
#include "xmalloc.h"

static const char *const state_names[] = {
	"unknown", "accepted", "deferred", "refused"
};

static void
print_result(const char *what, int n, const struct envelope *env,
    const struct smtp_result *res)
{
	size_t	 i;

	printf("%s %d: %s, %zu transaction%s, %s %d\n", what, n,
	    res->aborted ? "aborted" : "ok", res->ntxn,
	    res->ntxn == 1 ? "" : "s", phase_name(res->st.phase),
	    res->st.code);
	if (res->aborted)
		printf("  why: %s\n", buf_str(&res->st.text));
	for (i = 0; i < res->nrcpt; i++)
		printf("  %s: %s %s %d %s (%s)\n", env->rcpts.v[i],
		    state_names[res->rcpt[i].state],
		    phase_name(res->rcpt[i].phase), res->rcpt[i].code,
		    res->rcpt[i].ecode[0] != '\0' ? res->rcpt[i].ecode : "-",
		    res->rcpt[i].text != NULL ? res->rcpt[i].text : "");
}

static void
split_rcpts(const char *list, struct strlist *out)
{
	char	*copy = xstrdup(list), *p, *comma;

	for (p = copy; p != NULL; p = comma) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma++ = '\0';
		if (*p != '\0')
			strlist_add(out, p);
	}
	free(copy);
}

static int
load_spool(const char *path, struct spool *sp)
{
	struct buf	 err = BUF_INIT;
	enum local_err	 le;
	char		 chunk[8192];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 ||
	    spool_create(sp, NULL, &le, &err) == -1) {
		fprintf(stderr, "engineprobe: %s: cannot spool\n", path);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (spool_write(sp, chunk, (size_t)n, &le, &err) == -1)
			return -1;
	close(fd);
	buf_release(&err);
	return n == 0 ? 0 : -1;
}

static int
step(struct smtp_session *s, char **argv, int *used, int n)
{
	struct envelope		 env;
	struct smtp_result	 res;
	struct spool		 sp;
	int			 verify = strcmp(argv[0], "verify") == 0;

	if (strcmp(argv[0], "host") == 0) {
		*used = 1;
		printf("host: %zu %s\n", smtp_host_index(s), smtp_server(s));
		return 0;
	}
	if (strcmp(argv[0], "reset") == 0) {
		*used = 1;
		if (smtp_reset(s) == 0)
			printf("reset: ok\n");
		else
			printf("reset: failed %s: %s\n",
			    phase_name(smtp_failure(s)->phase),
			    buf_str(&smtp_failure(s)->text));
		return 0;
	}
	if (argv[1] == NULL || argv[2] == NULL || (!verify && argv[3] == NULL))
		return -1;
	*used = verify ? 3 : 4;
	envelope_init(&env);
	env.from = xstrdup(argv[1]);
	split_rcpts(argv[2], &env.rcpts);
	spool_init(&sp);
	if (!verify && load_spool(argv[3], &sp) == -1)
		return -1;
	env.size = sp.size;
	smtp_result_init(&res);
	if (verify)
		(void)smtp_verify(s, &env, &res);
	else
		(void)smtp_send(s, &env, &sp, &res);
	print_result(argv[0], n, &env, &res);
	smtp_result_release(&res);
	spool_release(&sp);
	envelope_release(&env);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct conf		 conf;
	struct route		 rt;
	struct buf		 err = BUF_INIT;
	const struct account	*a;
	struct smtp_session	*s;
	const char		*errstr;
	size_t			 first = 0;
	int			 i = 3, used, n = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: engineprobe CONFIG ACCOUNT STEP...\n");
		return 2;
	}
	memset(&conf, 0, sizeof(conf));
	if (conf_load(&conf, argv[1], &err) == -1 ||
	    (a = conf_account(&conf, argv[2])) == NULL ||
	    route_from_account(&rt, a, &err) == -1) {
		fprintf(stderr, "engineprobe: %s\n", buf_str(&err));
		return 2;
	}
	if (argc > 4 && strcmp(argv[3], "first") == 0) {
		first = (size_t)strtonum(argv[4], 0, 1000, &errstr);
		if (errstr != NULL) {
			fprintf(stderr, "engineprobe: first '%s': %s\n",
			    argv[4], errstr);
			return 2;
		}
		i = 5;
	}
	s = smtp_new(&rt, NULL, NULL);
	smtp_set_first_host(s, first);
	if (smtp_open(s) == 0)
		printf("open: ok\n");
	else
		printf("open: failed %s: %s\n",
		    phase_name(smtp_failure(s)->phase),
		    buf_str(&smtp_failure(s)->text));
	for (; i < argc; i += used)
		if (step(s, argv + i, &used, ++n) == -1) {
			fprintf(stderr, "engineprobe: bad step '%s'\n",
			    argv[i]);
			smtp_close(s);
			return 2;
		}
	smtp_close(s);
	route_release(&rt);
	conf_release(&conf);
	buf_release(&err);
	fflush(stdout);
	return 0;
}
