#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "queue.h"
#include "queue_int.h"
#include "t.h"
#include "util.h"

/*
 * The token store (queue_oauth.c): a user's queue in a temporary
 * directory; the system store's slot format directly; the system store
 * itself when run as root (as tests/ci.sh does; tests/oauthstore.bats
 * has an ordinary user's side of it).
 */

static char	 dir[] = "/tmp/test_queue_oauth.XXXXXX";

/* The first record of the tests, as queue_oauth_format() must write
 * it; the checksum computed apart (Python's hashlib). */
static const char rec1[] =
    "postie-oauth 1\n"
    "generation 1\n"
    "client_id cid-123\n"
    "token_url https://auth.example/token\n"
    "refresh_token R-1 x\n"
    "access_token \n"
    "expires 0\n"
    "sha256 3a623657d5ab3b21bfcd6572273eb3ee17dceee7551e9e0ebcfa7625fa6f3ce5\n";

static void
set_rec(struct oauth_record *r, const char *refresh, const char *access,
    long long expires)
{
	oauth_record_release(r);
	buf_addstr(&r->client_id, "cid-123");
	buf_addstr(&r->token_url, "https://auth.example/token");
	buf_addstr(&r->refresh_token, refresh);
	buf_addstr(&r->access_token, access);
	r->expires = expires;
}

static int
read_all(const char *path, struct buf *out)
{
	int	 fd, rc;

	buf_reset(out);
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	rc = queue_read_fd(fd, 1 << 20, out);
	close(fd);
	return rc;
}

static int
write_all(const char *path, const char *p, size_t n)
{
	int	 fd, rc;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return -1;
	rc = write(fd, p, n) == (ssize_t)n ? 0 : -1;
	close(fd);
	return rc;
}

/* The names in `path`, sorted, space-separated. */
static void
list_dir(const char *path, struct buf *out)
{
	struct dirent	**v;
	int		  n, i;

	buf_reset(out);
	if ((n = scandir(path, &v, NULL, alphasort)) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->d_name, ".") != 0 &&
		    strcmp(v[i]->d_name, "..") != 0)
			buf_addf(out, "%s%s", out->len > 0 ? " " : "",
			    v[i]->d_name);
		free(v[i]);
	}
	free(v);
}

static void
test_names(void)
{
	struct queue		 q;
	struct oauth_record	 r;
	struct buf		 err = BUF_INIT, out = BUF_INIT,
				 want = BUF_INIT;
	char			 path[256];
	int			 fd;

	(void)snprintf(path, sizeof(path), "%s/names", dir);
	CHECK_INT(queue_open(&q, path, QUEUE_CREATE, &err), 0);
	queue_oauth_path(&q, "a/b", &out);
	buf_addf(&want, "%s/oauth/a%%2Fb", path);
	CHECK_STR(buf_str(&out), buf_str(&want));
	buf_reset(&out);
	buf_reset(&want);
	queue_oauth_path(&q, ".x", &out);
	buf_addf(&want, "%s/oauth/%%2Ex", path);
	CHECK_STR(buf_str(&out), buf_str(&want));
	buf_reset(&out);
	buf_reset(&want);
	queue_oauth_path(&q, "Me.you_x-1 %\xc3\xbc.", &out);
	buf_addf(&want, "%s/oauth/Me.you_x-1%%20%%25%%C3%%BC.", path);
	CHECK_STR(buf_str(&out), buf_str(&want));

	/* Encoded on disk too; an empty name has no file. */
	oauth_record_init(&r);
	set_rec(&r, "R", "", 0);
	CHECK_INT(queue_oauth_save(&q, "a/b", &r, &err), 0);
	CHECK_INT(queue_oauth_save(&q, ".x", &r, &err), 0);
	CHECK_STR(buf_str(&err), "");
	buf_reset(&want);
	buf_addf(&want, "%s/oauth", path);
	list_dir(buf_str(&want), &out);
	CHECK_STR(buf_str(&out), "%2Ex a%2Fb");
	/* Account "b.lock" is not account "b"'s lock. */
	CHECK_INT(queue_oauth_save(&q, "b.lock", &r, &err), 0);
	CHECK((fd = queue_oauth_lock(&q, "b", 0, &err)) >= 0);
	queue_oauth_unlock(&q, fd);
	CHECK_INT(queue_oauth_remove(&q, "b", &err), 0);
	CHECK_INT(queue_oauth_load(&q, "b.lock", &r, &err), 1);
	list_dir(buf_str(&want), &out);
	CHECK_STR(buf_str(&out), "%2Ex a%2Fb b.lock");
	CHECK_INT(queue_oauth_save(&q, "", &r, &err), -1);
	CHECK_STR(buf_str(&err), "cannot keep a token for an empty account "
	    "name");
	buf_reset(&err);
	CHECK_INT(queue_oauth_load(&q, "", &r, &err), -1);
	CHECK_INT(queue_oauth_lock(&q, "", 10, &err), -1);

	oauth_record_release(&r);
	buf_release(&err);
	buf_release(&out);
	buf_release(&want);
	queue_close(&q);
}

static void
test_round_trip(void)
{
	struct queue		 q;
	struct oauth_record	 r, got;
	struct buf		 err = BUF_INIT, text = BUF_INIT,
				 p = BUF_INIT;
	struct stat		 st;
	char			 path[256];

	(void)snprintf(path, sizeof(path), "%s/user", dir);
	CHECK_INT(queue_open(&q, path, QUEUE_CREATE, &err), 0);
	oauth_record_init(&r);
	oauth_record_init(&got);

	/* Nothing yet: no record, and no oauth/ made by looking. */
	CHECK_INT(queue_oauth_load(&q, "acct", &got, &err), 0);
	CHECK_STR(buf_str(&err), "");
	buf_addf(&p, "%s/oauth", path);
	CHECK_INT(access(buf_str(&p), F_OK), -1);

	set_rec(&r, "R-1 x", "", 0);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);
	CHECK_STR(buf_str(&err), "");
	CHECK_INT(stat(buf_str(&p), &st), 0);
	CHECK_INT(st.st_mode & 07777, 0700);
	/* Exactly these bytes, owner only, no temporary file left. */
	buf_addstr(&p, "/acct");
	CHECK_INT(read_all(buf_str(&p), &text), 0);
	CHECK_STR(buf_str(&text), rec1);
	CHECK_INT(stat(buf_str(&p), &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK_INT(st.st_uid, geteuid());
	buf_truncate(&p, p.len - strlen("/acct"));
	list_dir(buf_str(&p), &text);
	CHECK_STR(buf_str(&text), "acct");

	CHECK_INT(queue_oauth_load(&q, "acct", &got, &err), 1);
	CHECK_STR(buf_str(&got.client_id), "cid-123");
	CHECK_STR(buf_str(&got.token_url), "https://auth.example/token");
	CHECK_STR(buf_str(&got.refresh_token), "R-1 x");
	CHECK_STR(buf_str(&got.access_token), "");
	CHECK_INT(got.expires, 0);
	CHECK_INT(got.generation, 1);

	/* An update: the next generation, every value back; a load into
	 * a record in use replaces it. */
	set_rec(&r, "R-2", "A-2 ~!", 1700000000);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);
	CHECK_INT(queue_oauth_load(&q, "acct", &got, &err), 1);
	CHECK_STR(buf_str(&got.refresh_token), "R-2");
	CHECK_STR(buf_str(&got.access_token), "A-2 ~!");
	CHECK_INT(got.expires, 1700000000);
	CHECK_INT(got.generation, 2);
	list_dir(buf_str(&p), &text);
	CHECK_STR(buf_str(&text), "acct");

	/* A stale temporary file from a crash is replaced. */
	buf_addstr(&p, "/.acct.tmp");
	CHECK_INT(write_all(buf_str(&p), "junk", 4), 0);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);
	CHECK_INT(access(buf_str(&p), F_OK), -1);
	CHECK_INT(queue_oauth_load(&q, "acct", &got, &err), 1);
	CHECK_INT(got.generation, 3);

	/* Removed: no record; a second removal is no error. */
	CHECK_INT(queue_oauth_remove(&q, "acct", &err), 0);
	CHECK_INT(queue_oauth_load(&q, "acct", &got, &err), 0);
	CHECK_INT(queue_oauth_remove(&q, "acct", &err), 0);
	CHECK_STR(buf_str(&err), "");

	oauth_record_release(&r);
	oauth_record_release(&got);
	buf_release(&err);
	buf_release(&text);
	buf_release(&p);
	queue_close(&q);
}

/* Write `text` as the record of "acct" and load it: the message. */
static void
load_bad(struct queue *q, const char *file, const char *text, size_t n,
    const char *reason)
{
	struct oauth_record	 got;
	struct buf		 err = BUF_INIT, want = BUF_INIT;

	oauth_record_init(&got);
	CHECK_INT(write_all(file, text, n), 0);
	CHECK_INT(queue_oauth_load(q, "acct", &got, &err), -1);
	buf_addf(&want, "token file '%s' is not a valid token record (%s): "
	    "run postie --oauth-authorize acct", file, reason);
	CHECK_STR(buf_str(&err), buf_str(&want));
	CHECK_STR(buf_str(&got.refresh_token), "");
	oauth_record_release(&got);
	buf_release(&err);
	buf_release(&want);
}

static void
test_corrupt(void)
{
	struct queue		 q;
	struct oauth_record	 r;
	struct buf		 err = BUF_INIT, t = BUF_INIT,
				 want = BUF_INIT;
	char			 path[256], file[300], *big;

	(void)snprintf(path, sizeof(path), "%s/corrupt", dir);
	(void)snprintf(file, sizeof(file), "%s/oauth/acct", path);
	CHECK_INT(queue_open(&q, path, QUEUE_CREATE, &err), 0);
	oauth_record_init(&r);
	set_rec(&r, "R-1 x", "", 0);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);

	buf_addstr(&t, rec1);
	t.data[strlen("postie-oauth 1\ngeneration 1\nclient_id c")] = 'C';
	load_bad(&q, file, t.data, t.len, "a bad checksum");
	load_bad(&q, file, rec1, strlen(rec1) - 10, "no 'sha256' line");
	buf_reset(&t);
	buf_addstr(&t, rec1);
	memcpy(strstr(t.data, "expires"), "expirez", 7);
	load_bad(&q, file, t.data, t.len, "no 'expires' line");
	t.data[strlen("postie-oauth ")] = '2';
	load_bad(&q, file, t.data, t.len, "unknown version");
	buf_reset(&t);
	buf_addstr(&t, rec1);
	t.data[strlen("postie-oauth 1\ngeneration 1\nclient_id c")] = '\t';
	load_bad(&q, file, t.data, t.len,
	    "a byte outside %x20-7E in its 'client_id' line");
	buf_reset(&t);
	buf_addf(&t, "%s\n\nx", rec1);
	load_bad(&q, file, t.data, t.len, "bytes after its checksum");
	load_bad(&q, file, "\n\n", 2, "empty");
	big = malloc(OAUTH_SLOT_SIZE + 1);
	memset(big, 'x', OAUTH_SLOT_SIZE + 1);
	load_bad(&q, file, big, OAUTH_SLOT_SIZE + 1, "larger than 32768 bytes");
	free(big);

	/* save() refuses what the format cannot hold. */
	set_rec(&r, "R\n", "", 0);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), -1);
	CHECK_STR(buf_str(&err), "cannot store the token of account 'acct': "
	    "its refresh_token holds a byte outside %x20-7E");
	buf_reset(&err);
	set_rec(&r, "R", "\x80", 0);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), -1);
	CHECK_STR(buf_str(&err), "cannot store the token of account 'acct': "
	    "its access_token holds a byte outside %x20-7E");
	buf_reset(&err);
	set_rec(&r, "R", "", 0);
	buf_reset(&r.access_token);
	while (r.access_token.len < OAUTH_SLOT_SIZE - 150)
		buf_addch(&r.access_token, 'a');
	/* The rest of the record is 195 bytes. */
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), -1);
	buf_addf(&want, "cannot store the token of account 'acct': it would "
	    "be %d bytes, more than 32768", OAUTH_SLOT_SIZE - 150 + 195);
	CHECK_STR(buf_str(&err), buf_str(&want));
	buf_reset(&err);
	/* ... and takes one that just fits. */
	buf_truncate(&r.access_token, r.access_token.len - 45);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);
	CHECK_STR(buf_str(&err), "");
	CHECK_INT(read_all(file, &t), 0);
	CHECK_INT(t.len, OAUTH_SLOT_SIZE);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), 1);
	CHECK_INT(r.access_token.len, OAUTH_SLOT_SIZE - 195);

	oauth_record_release(&r);
	buf_release(&err);
	buf_release(&t);
	buf_release(&want);
	queue_close(&q);
}

static void
test_trust(void)
{
	struct queue		 q;
	struct oauth_record	 r;
	struct buf		 err = BUF_INIT, want = BUF_INIT;
	char			 path[256], file[300], odir[300];

	(void)snprintf(path, sizeof(path), "%s/trust", dir);
	(void)snprintf(odir, sizeof(odir), "%s/oauth", path);
	(void)snprintf(file, sizeof(file), "%s/oauth/acct", path);
	CHECK_INT(queue_open(&q, path, QUEUE_CREATE, &err), 0);
	oauth_record_init(&r);
	set_rec(&r, "R", "", 0);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);

	CHECK_INT(chmod(file, 0640), 0);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), -1);
	buf_addf(&want, "token file '%s' has mode 0640: refused (others could "
	    "read it: chmod 600 '%s')", file, file);
	CHECK_STR(buf_str(&err), buf_str(&want));
	CHECK_INT(chmod(file, 0600), 0);
	CHECK_INT(chmod(odir, 0750), 0);
	buf_reset(&err);
	buf_reset(&want);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), -1);
	buf_addf(&want, "token directory '%s' has mode 0750: refused (others "
	    "could read it: chmod 700 '%s')", odir, odir);
	CHECK_STR(buf_str(&err), buf_str(&want));
	buf_reset(&err);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), -1);
	CHECK_STR(buf_str(&err), buf_str(&want));
	CHECK_INT(chmod(odir, 0700), 0);
	if (geteuid() == 0) {
		/* Someone else's file in my store. */
		CHECK_INT(chown(file, 4321, 4321), 0);
		buf_reset(&err);
		buf_reset(&want);
		CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), -1);
		buf_addf(&want, "token file '%s' is owned by uid 4321: refused "
		    "(it must be yours: chown 0 '%s')", file, file);
		CHECK_STR(buf_str(&err), buf_str(&want));
		CHECK_INT(chown(file, 0, 0), 0);
	}
	/* A symbolic link (to a good record even) is not followed. */
	buf_reset(&want);
	buf_addf(&want, "%s/oauth/other", path);
	CHECK_INT(rename(file, buf_str(&want)), 0);
	CHECK_INT(symlink("other", file), 0);
	buf_reset(&err);
	buf_reset(&want);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), -1);
	buf_addf(&want, "token file '%s' is a symbolic link: refused", file);
	CHECK_STR(buf_str(&err), buf_str(&want));
	/* A save replaces the link, not what it points to. */
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), 1);

	oauth_record_release(&r);
	buf_release(&err);
	buf_release(&want);
	queue_close(&q);
}

static void
test_lock(void)
{
	struct queue	 q;
	struct buf	 err = BUF_INIT, p = BUF_INIT;
	struct stat	 st;
	char		 path[256], c;
	int		 held[2], go[2], fd, status;
	long long	 t0;
	pid_t		 pid;

	(void)snprintf(path, sizeof(path), "%s/lock", dir);
	CHECK_INT(queue_open(&q, path, QUEUE_CREATE, &err), 0);
	buf_addf(&p, "%s/oauth/.acct.lock", path);
	CHECK(pipe(held) == 0 && pipe(go) == 0);
	if ((pid = fork()) == 0) {
		fd = queue_oauth_lock(&q, "acct", 1000, &err);
		c = fd >= 0 ? 'y' : 'n';
		(void)write(held[1], &c, 1);
		(void)read(go[0], &c, 1);
		queue_oauth_unlock(&q, fd);
		_exit(0);
	}
	CHECK(pid > 0 && read(held[0], &c, 1) == 1 && c == 'y');
	CHECK_INT(stat(buf_str(&p), &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);

	/* Held by the child: given up after the timeout. */
	t0 = now_ms();
	CHECK_INT(queue_oauth_lock(&q, "acct", 1000, &err), -1);
	CHECK(now_ms() - t0 >= 1000 && now_ms() - t0 < 1500);
	CHECK_STR(buf_str(&err), "another postie has held the token lock of "
	    "account 'acct' for 1 s");
	/* Another account's lock is another lock. */
	CHECK((fd = queue_oauth_lock(&q, "other", 0, &err)) >= 0);
	queue_oauth_unlock(&q, fd);
	/* Released while we wait: ours. */
	(void)write(go[1], "x", 1);
	t0 = now_ms();
	CHECK((fd = queue_oauth_lock(&q, "acct", 3000, &err)) >= 0);
	CHECK(now_ms() - t0 < 1000);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	/* Its lock file removed with the record: a new one is a new
	 * lock, and the old one is not taken for it. */
	buf_reset(&err);
	CHECK_INT(queue_oauth_remove(&q, "acct", &err), 0);
	CHECK_INT(access(buf_str(&p), F_OK), -1);
	status = queue_oauth_lock(&q, "acct", 0, &err);
	CHECK(status >= 0);
	CHECK_STR(buf_str(&err), "");
	queue_oauth_unlock(&q, status);
	queue_oauth_unlock(&q, fd);
	close(held[0]);
	close(held[1]);
	close(go[0]);
	close(go[1]);
	buf_release(&err);
	buf_release(&p);
	queue_close(&q);
}

/* A system store's file: `a` in the first slot, `b` in the second (NULL:
 * newlines only). */
static void
make_image(struct buf *img, const struct buf *a, const struct buf *b)
{
	const struct buf	*s[2] = { a, b };
	int			 i;

	buf_reset(img);
	for (i = 0; i < 2; i++) {
		if (s[i] != NULL)
			buf_add(img, s[i]->data, s[i]->len);
		while (img->len < (size_t)(i + 1) * OAUTH_SLOT_SIZE)
			buf_addch(img, '\n');
	}
}

static void
test_slots(void)
{
	struct oauth_record	 r, got;
	struct buf		 a = BUF_INIT, b = BUF_INIT, img = BUF_INIT,
				 why = BUF_INIT;

	oauth_record_init(&r);
	oauth_record_init(&got);
	set_rec(&r, "R-3", "A-3", 3);
	CHECK_INT(queue_oauth_format(&r, 3, &a, &why), 0);
	set_rec(&r, "R-4 newer", "A-4", 4);
	CHECK_INT(queue_oauth_format(&r, 4, &b, &why), 0);

	/* The highest generation wins, wherever it is. */
	make_image(&img, &a, &b);
	CHECK_INT(queue_oauth_pick(img.data, img.len, &got, &why), 1);
	CHECK_INT(got.generation, 4);
	CHECK_STR(buf_str(&got.refresh_token), "R-4 newer");
	make_image(&img, &b, &a);
	CHECK_INT(queue_oauth_pick(img.data, img.len, &got, &why), 0);
	CHECK_INT(got.generation, 4);

	/* A write of generation 4 over 2 cut short: its start, then the
	 * old record's end.  The older slot is taken. */
	set_rec(&r, "R-2 the old one", "A-2", 2);
	buf_reset(&why);
	buf_reset(&img);
	CHECK_INT(queue_oauth_format(&r, 2, &img, &why), 0);
	memcpy(img.data, b.data, 40);
	buf_reset(&b);
	buf_add(&b, img.data, img.len);
	make_image(&img, &a, &b);
	CHECK_INT(queue_oauth_pick(img.data, img.len, &got, &why), 0);
	CHECK_INT(got.generation, 3);
	CHECK_STR(buf_str(&got.refresh_token), "R-3");
	CHECK_STR(buf_str(&got.access_token), "A-3");
	CHECK_INT(got.expires, 3);

	/* Nothing valid: both reasons, the record left alone. */
	make_image(&img, &b, NULL);
	buf_reset(&why);
	CHECK_INT(queue_oauth_pick(img.data, img.len, &got, &why), -1);
	CHECK_STR(buf_str(&why), "first slot: a bad checksum; second slot: "
	    "empty");
	CHECK_INT(got.generation, 3);
	/* The second slot alone; a tie goes to the first. */
	make_image(&img, NULL, &a);
	CHECK_INT(queue_oauth_pick(img.data, img.len, &got, &why), 1);
	make_image(&img, &a, &a);
	CHECK_INT(queue_oauth_pick(img.data, img.len, &got, &why), 0);
	buf_reset(&why);
	CHECK_INT(queue_oauth_pick(img.data, 100, &got, &why), -1);
	CHECK_STR(buf_str(&why), "it is 100 bytes, not 65536");

	oauth_record_release(&r);
	oauth_record_release(&got);
	buf_release(&a);
	buf_release(&b);
	buf_release(&img);
	buf_release(&why);
}

/* The generation in slot `i` of the system store's file, -1: invalid. */
static long long
slot_generation(const char *file, int i)
{
	struct oauth_record	 r;
	struct buf		 t = BUF_INIT, why = BUF_INIT;
	long long		 g = -1;

	oauth_record_init(&r);
	if (read_all(file, &t) == 0 && t.len == 2 * OAUTH_SLOT_SIZE &&
	    queue_oauth_parse(t.data + i * OAUTH_SLOT_SIZE, OAUTH_SLOT_SIZE,
	    &r, &why) == 0)
		g = (long long)r.generation;
	oauth_record_release(&r);
	buf_release(&t);
	buf_release(&why);
	return g;
}

/* The system store as root makes and updates it (an ordinary user's
 * side needs the setgid program: tests/oauthstore.bats). */
static void
test_system(void)
{
	struct queue		 q;
	struct oauth_record	 r;
	struct buf		 err = BUF_INIT, want = BUF_INIT;
	struct stat		 st, qst, first;
	char			 path[256], file[300];
	int			 fd;

	if (geteuid() != 0) {
		printf("test_system: skipped (not root)\n");
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/system", dir);
	(void)snprintf(file, sizeof(file), "%s/oauth/acct", path);
	CHECK_INT(queue_open(&q, path, QUEUE_CREATE | QUEUE_SYSTEM, &err), 0);
	CHECK_INT(stat(path, &qst), 0);
	oauth_record_init(&r);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), 0);

	set_rec(&r, "R-1", "", 0);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);
	CHECK_STR(buf_str(&err), "");
	CHECK_INT(stat(file, &first), 0);
	CHECK_INT(first.st_mode & 07777, 0660);
	CHECK_INT(first.st_uid, 0);
	CHECK_INT(first.st_gid, qst.st_gid);
	CHECK_INT(first.st_size, 2 * OAUTH_SLOT_SIZE);
	buf_addf(&want, "%s/oauth/.acct.lock", path);
	CHECK_INT(stat(buf_str(&want), &st), 0);
	CHECK_INT(st.st_mode & 07777, 0660);
	CHECK_INT(st.st_gid, qst.st_gid);
	buf_reset(&want);
	buf_addf(&want, "%s/oauth", path);
	CHECK_INT(stat(buf_str(&want), &st), 0);
	CHECK_INT(st.st_mode & 07777, 02750);
	CHECK_INT(st.st_gid, qst.st_gid);
	/* Both slots the record; then the generations alternate, in
	 * place. */
	CHECK_INT(slot_generation(file, 0), 1);
	CHECK_INT(slot_generation(file, 1), 1);
	set_rec(&r, "R-2", "A-2", 2);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);
	CHECK_INT(slot_generation(file, 0), 1);
	CHECK_INT(slot_generation(file, 1), 2);
	set_rec(&r, "R-3", "A-3", 3);
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);
	CHECK_INT(slot_generation(file, 0), 3);
	CHECK_INT(slot_generation(file, 1), 2);
	CHECK_INT(stat(file, &st), 0);
	CHECK_INT(st.st_ino, first.st_ino);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), 1);
	CHECK_INT(r.generation, 3);
	CHECK_STR(buf_str(&r.refresh_token), "R-3");

	/* The newest slot torn: the other one is the record, and the next
	 * write goes over the torn one. */
	CHECK((fd = open(file, O_WRONLY)) != -1 &&
	    pwrite(fd, "XXXX", 4, 60) == 4 && close(fd) == 0);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), 1);
	CHECK_INT(r.generation, 2);
	CHECK_STR(buf_str(&r.refresh_token), "R-2");
	CHECK_STR(buf_str(&r.access_token), "A-2");
	set_rec(&r, "R-4", "", 4);
	r.generation = 2;
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);
	CHECK_INT(slot_generation(file, 0), 3);
	CHECK_INT(slot_generation(file, 1), 2);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), 1);
	CHECK_STR(buf_str(&r.refresh_token), "R-4");

	/* Both torn: nothing to take. */
	CHECK((fd = open(file, O_WRONLY)) != -1 &&
	    pwrite(fd, "XXXX", 4, OAUTH_SLOT_SIZE + 60) == 4 &&
	    pwrite(fd, "XXXX", 4, 60) == 4 && close(fd) == 0);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), -1);
	buf_reset(&want);
	buf_addf(&want, "token file '%s' holds no valid token record (first "
	    "slot: a bad checksum; second slot: a bad checksum): root must "
	    "run postie --oauth-authorize acct", file);
	CHECK_STR(buf_str(&err), buf_str(&want));
	buf_reset(&err);

	/* Open to others, or someone else's: not believed. */
	CHECK_INT(chmod(file, 0664), 0);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), -1);
	buf_reset(&want);
	buf_addf(&want, "token file '%s' is owned by uid 0, gid %ld with mode "
	    "0664: refused (the system store's must be root's, of the "
	    "queue's group and closed to others: chown 0:%ld '%s'; chmod 660 "
	    "'%s')", file, (long)qst.st_gid, (long)qst.st_gid, file, file);
	CHECK_STR(buf_str(&err), buf_str(&want));
	/* Root makes it anew. */
	buf_reset(&err);
	set_rec(&r, "R-5", "", 5);
	r.generation = 0;
	CHECK_INT(queue_oauth_save(&q, "acct", &r, &err), 0);
	CHECK_STR(buf_str(&err), "");
	CHECK_INT(stat(file, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0660);
	CHECK(st.st_ino != first.st_ino);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), 1);
	CHECK_STR(buf_str(&r.refresh_token), "R-5");
	CHECK_INT(r.generation, 1);

	/* Removed: the record, not the lock others may wait on. */
	CHECK_INT(queue_oauth_remove(&q, "acct", &err), 0);
	CHECK_INT(access(file, F_OK), -1);
	buf_reset(&want);
	buf_addf(&want, "%s/oauth/.acct.lock", path);
	CHECK_INT(access(buf_str(&want), F_OK), 0);
	CHECK_INT(queue_oauth_load(&q, "acct", &r, &err), 0);

	oauth_record_release(&r);
	buf_release(&err);
	buf_release(&want);
	queue_close(&q);
}

int
main(void)
{
	char	 cmd[300];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_names();
	test_round_trip();
	test_corrupt();
	test_trust();
	test_lock();
	test_slots();
	test_system();
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return t_done();
}
