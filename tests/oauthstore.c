/*
 * oauthstore -- the OAuth2 token store (queue_oauth.c) of a system queue,
 * driven the way postie drives it; for tests/oauthstore.bats.
 *
 *   oauthstore save DIR NAME     store the record read from stdin
 *   oauthstore load DIR NAME     print the record
 *   oauthstore lock DIR NAME MS  take the account's lock, waiting at most
 *                                MS ms; print "locked" and hold it until
 *                                stdin ends
 *
 * A record is lines "KEY VALUE" for client_id, token_url, refresh_token,
 * access_token and expires (one missing: empty, or 0); load prints the
 * same lines after "generation N".  save holds the account's lock
 * (waiting at most 5 s) around the save, as a refresh does.
 *
 * Like postie with the system queue: priv_init() first, so that a setgid
 * copy keeps its group only as the saved set-group-ID; the queue opened
 * with QUEUE_SYSTEM (and QUEUE_CREATE for root), so that the group is
 * raised only inside the queue's functions; the group given up for good
 * (priv_drop()) before anything is printed, errors too (a process
 * that still holds it cannot be looked at: LeakSanitizer's check at
 * exit fails in a sanitizer build).
 *
 * Exits 0; load exits 1 with "no record" when there is none; 2 with
 * "oauthstore: ERROR" on stderr for an error or a usage mistake.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "priv.h"
#include "queue.h"
#include "queue_int.h"

#define RECORD_IN_MAX	(64 * 1024)

static void	usage(void) __attribute__((noreturn));
static void	fail(const struct buf *) __attribute__((noreturn));
static long long number(const char *, long long, long long);
static void	read_record(struct oauth_record *);
static void	print_record(const struct oauth_record *);

static void
usage(void)
{
	priv_drop();
	fputs("usage: oauthstore save|load DIR NAME\n"
	    "       oauthstore lock DIR NAME MS\n", stderr);
	exit(2);
}

static void
fail(const struct buf *err)
{
	priv_drop();
	fprintf(stderr, "oauthstore: %s\n", buf_str(err));
	exit(2);
}

static long long
number(const char *s, long long min, long long max)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		usage();
	return v;
}

/* The record on stdin, "KEY VALUE" lines. */
static void
read_record(struct oauth_record *r)
{
	struct buf	 in = BUF_INIT;
	struct buf	*to;
	char		*line, *next, *sp;

	buf_grow(&in, RECORD_IN_MAX);
	if (queue_read_fd(0, RECORD_IN_MAX, &in) == -1) {
		perror("oauthstore: stdin");
		exit(2);
	}
	for (line = in.data; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			usage();
		*sp++ = '\0';
		if (strcmp(line, "expires") == 0) {
			r->expires = number(sp, 0, LLONG_MAX);
			continue;
		}
		if (strcmp(line, "client_id") == 0)
			to = &r->client_id;
		else if (strcmp(line, "token_url") == 0)
			to = &r->token_url;
		else if (strcmp(line, "refresh_token") == 0)
			to = &r->refresh_token;
		else if (strcmp(line, "access_token") == 0)
			to = &r->access_token;
		else
			usage();
		buf_reset(to);
		buf_addstr(to, sp);
	}
	buf_wipe(&in);
}

static void
print_record(const struct oauth_record *r)
{
	printf("generation %llu\n", r->generation);
	printf("client_id %s\n", buf_str(&r->client_id));
	printf("token_url %s\n", buf_str(&r->token_url));
	printf("refresh_token %s\n", buf_str(&r->refresh_token));
	printf("access_token %s\n", buf_str(&r->access_token));
	printf("expires %lld\n", r->expires);
}

int
main(int argc, char **argv)
{
	struct queue		 q;
	struct oauth_record	 r;
	struct buf		 err = BUF_INIT;
	const char		*cmd, *dir, *name;
	char			 c;
	ssize_t			 n;
	int			 flags = QUEUE_SYSTEM, fd, rc = 0, ms = 0;

	priv_init();
	if (argc < 4)
		usage();
	cmd = argv[1];
	dir = argv[2];
	name = argv[3];
	if (strcmp(cmd, "lock") == 0 && argc == 5)
		ms = (int)number(argv[4], 0, INT_MAX);
	else if ((strcmp(cmd, "save") != 0 && strcmp(cmd, "load") != 0) ||
	    argc != 4)
		usage();
	/* As postie makes the system queue: root only. */
	if (geteuid() == 0)
		flags |= QUEUE_CREATE;
	if (queue_open(&q, dir, flags, &err) == -1)
		fail(&err);
	oauth_record_init(&r);
	if (strcmp(cmd, "save") == 0) {
		read_record(&r);
		if ((fd = queue_oauth_lock(&q, name, 5000, &err)) == -1 ||
		    queue_oauth_save(&q, name, &r, &err) == -1)
			fail(&err);
		queue_oauth_unlock(&q, fd);
		priv_drop();
	} else if (strcmp(cmd, "load") == 0) {
		rc = queue_oauth_load(&q, name, &r, &err);
		priv_drop();
		if (rc == -1)
			fail(&err);
		if (rc == 0)
			printf("no record\n");
		else
			print_record(&r);
		rc = rc == 0 ? 1 : 0;
	} else {
		if ((fd = queue_oauth_lock(&q, name, ms, &err)) == -1)
			fail(&err);
		priv_drop();
		printf("locked\n");
		fflush(stdout);
		while ((n = read(0, &c, 1)) > 0 || (n == -1 && errno == EINTR))
			;
		queue_oauth_unlock(&q, fd);
	}
	oauth_record_release(&r);
	queue_close(&q);
	buf_release(&err);
	return rc;
}
