#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "envelope.h"
#include "outcome.h"
#include "priv.h"
#include "queue.h"
#include "queue_int.h"
#include "spool.h"
#include "strlist.h"
#include "util.h"
#include "xmalloc.h"

/*
 * See queue.h for the layout and the rules.  Every path here is relative
 * to a directory descriptor opened without following symbolic links, so
 * nothing in a queue can point postie somewhere else.
 *
 * The system queue is the one place where postie works with its group
 * raised: each public function is a wrapper (at the end of this file)
 * that raises it, calls the function that does the work, and lowers it.
 * Nothing called in between logs, runs anything or opens a path outside
 * the queue directory.
 */

#define ENV_MAX		 (8 * 1024 * 1024)	/* bytes in one envelope */
#define TMP_MAX_AGE	 (24 * 60 * 60)		/* tmp/ leftovers go after */

static int	 mkdir_p(const char *, mode_t, mode_t, int *);
static int	 open_dir(struct queue *, const char *, int, struct buf *);
static int	 create_entry(struct queue *, struct qentry *, struct spool *,
		    enum local_err *, struct buf *);
static int	 commit_entry(struct queue *, struct qentry *,
		    const struct spool *, int, enum local_err *, struct buf *);
static int	 save_entry(struct queue *, struct qentry *, struct buf *);
static int	 remove_entry(struct queue *, struct qentry *, struct buf *);
static int	 list_ids(struct queue *, struct strlist *, struct buf *,
		    struct buf *);
static int	 has_entries(struct queue *, const char *);
static int	 entry_exists(struct queue *, const char *);
static int	 peek_entry(struct queue *, const char *, struct qentry *,
		    struct buf *);
static int	 lock_entry(struct queue *, const char *, struct qentry *,
		    struct buf *);
static int	 sub_dir(struct queue *, const char *, int, int *,
		    struct buf *);
static mode_t	 dir_mode(const struct queue *);
static mode_t	 file_mode(const struct queue *);
static void	 new_id(char *, size_t);
static int	 read_env(int, struct buf *, struct buf *);
static void	 abandon_entry(struct queue *, struct qentry *);
static void	 remove_tree(int, const char *);
static void	 move_aside(struct queue *, const char *, struct buf *);
static void	 clean_tmp(struct queue *);
static int	 open_entry(struct queue *, const char *, int *, int *,
		    struct buf *);
static int	 load(struct queue *, const char *, int, int,
		    struct qentry *, struct buf *);
static int	 id_cmp(const void *, const void *);

/* ---- the directory -------------------------------------------------------- */

/* mkdir -p: `parents` for the parents it makes, `mode` for `path`
 * itself; *made says whether `path` was made now. */
static int
mkdir_p(const char *path, mode_t parents, mode_t mode, int *made)
{
	char	*p = xstrdup(path), *s;
	int	 rc = 0;

	*made = 0;
	for (s = p + 1; rc == 0 && (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, parents) == -1 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, mode) == 0)
		*made = 1;
	else if (rc == 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static mode_t
dir_mode(const struct queue *q)
{
	return q->group ? 02770 : 0700;
}

static mode_t
file_mode(const struct queue *q)
{
	return q->group ? 0640 : 0600;
}

/* Open (making it when `create`) the part `name` of the queue. */
static int
sub_dir(struct queue *q, const char *name, int create, int *fd,
    struct buf *err)
{
	if (create && mkdirat(q->fd, name, dir_mode(q)) == 0)
		/* The umask must not take the group's bits away. */
		(void)fchmodat(q->fd, name, dir_mode(q), 0);
	*fd = openat(q->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (*fd != -1)
		return 0;
	buf_addf(err, "queue directory '%s/%s': %s", q->dir, name,
	    strerror(errno));
	return -1;
}

static int
open_dir(struct queue *q, const char *dir, int flags, struct buf *err)
{
	struct stat	 st;
	gid_t		 g;
	int		 made = 0, parts;

	memset(q, 0, sizeof(*q));
	q->fd = q->qfd = q->tmpfd = q->badfd = -1;
	q->dir = xstrdup(dir);
	q->system = (flags & QUEUE_SYSTEM) != 0;
	if (dir[0] != '/') {
		buf_addf(err, "queue directory '%s' is not an absolute path",
		    dir);
		goto fail;
	}
	/* The system queue's parents are /var/spool's kind: others must
	 * be able to walk through them to reach it. */
	if ((flags & QUEUE_CREATE) && mkdir_p(dir, q->system ? 0755 : 0700,
	    0700, &made) == -1) {
		buf_addf(err, "cannot create queue directory '%s': %s", dir,
		    strerror(errno));
		goto fail;
	}
	q->fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (q->fd == -1 || fstat(q->fd, &st) == -1) {
		buf_addf(err, "cannot open queue directory '%s': %s", dir,
		    strerror(errno));
		goto fail;
	}
	/* Made now by root: shared with the group, as make install does.
	 * The group is looked up only here: through NSS that loads
	 * modules, a cost every submission would otherwise pay. */
	if ((flags & QUEUE_CREATE) && made && q->system && st.st_uid == 0 &&
	    (g = priv_group()) != (gid_t)-1 && (fchown(q->fd, 0, g) == -1 ||
	    fchmod(q->fd, 02770) == -1 || fstat(q->fd, &st) == -1)) {
		buf_addf(err, "cannot give queue directory '%s' to group "
		    "'%s': %s", dir, priv_group_name(), strerror(errno));
		goto fail;
	}
	/*
	 * Mine, or root's (the system queue); nothing for others; group
	 * access only in root's, where the group is postie's own.
	 */
	if ((st.st_uid != geteuid() && st.st_uid != 0) ||
	    (st.st_mode & S_IRWXO) != 0 ||
	    ((st.st_mode & S_IWGRP) && st.st_uid != 0)) {
		buf_addf(err, "queue directory '%s' is owned by uid %ld with "
		    "mode %04o: refused (it must be yours or root's and "
		    "closed to others)", dir, (long)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	/* Worked in with the group: root's, and of the group, only. */
	if (q->system && priv_held() &&
	    (st.st_uid != 0 || st.st_gid != priv_group())) {
		buf_addf(err, "queue directory '%s' is owned by uid %ld, gid "
		    "%ld: refused (the system queue must be root:%s, mode "
		    "2770)", dir, (long)st.st_uid, (long)st.st_gid,
		    priv_group_name());
		goto fail;
	}
	q->group = (st.st_mode & S_IWGRP) != 0;
	parts = (flags & (QUEUE_CREATE | QUEUE_SYSTEM)) != 0;
	if (sub_dir(q, "q", parts, &q->qfd, err) == -1 ||
	    sub_dir(q, "tmp", parts, &q->tmpfd, err) == -1 ||
	    sub_dir(q, "corrupt", parts, &q->badfd, err) == -1)
		goto fail;
	return 0;
fail:
	queue_close(q);
	return -1;
}

void
queue_close(struct queue *q)
{
	if (q->fd != -1)
		close(q->fd);
	if (q->qfd != -1)
		close(q->qfd);
	if (q->tmpfd != -1)
		close(q->tmpfd);
	if (q->badfd != -1)
		close(q->badfd);
	free(q->dir);
	memset(q, 0, sizeof(*q));
	q->fd = q->qfd = q->tmpfd = q->badfd = -1;
}

/*
 * 8 hex digits of the time in seconds, 5 of its microseconds, 3 of
 * randomness: sorted by arrival (entries made one after the other are
 * sent in that order), and two made in the same microsecond still differ
 * (O_EXCL on the directory makes sure).
 */
static void
new_id(char *id, size_t size)
{
	struct timespec	 ts;
	unsigned char	 r[2];

	arc4random_buf(r, sizeof(r));
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)snprintf(id, size, "%08llx%05lx%03x",
	    (unsigned long long)ts.tv_sec & 0xffffffffULL,
	    (long)(ts.tv_nsec / 1000) & 0xfffffL,
	    ((unsigned)r[0] << 8 | r[1]) & 0xfffU);
}

int
queue_write_file(int dfd, const char *name, const struct buf *b, mode_t mode,
    int sync)
{
	const char	*p = buf_str(b);
	size_t		 n = b->len;
	ssize_t		 w;
	int		 fd, e;

	(void)unlinkat(dfd, name, 0);
	if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1)
		return -1;
	/* The caller's umask must not take the group's read away. */
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		n -= (size_t)w;
	}
	if (sync && fsync(fd) == -1)
		goto fail;
	return close(fd);
fail:
	e = errno;
	close(fd);
	(void)unlinkat(dfd, name, 0);
	errno = e;
	return -1;
}

static int
create_entry(struct queue *q, struct qentry *e, struct spool *sp,
    enum local_err *le, struct buf *err)
{
	int	 dfd = -1, fd = -1, tries;

	for (tries = 0; tries < 10; tries++) {
		new_id(e->id, sizeof(e->id));
		if (mkdirat(q->tmpfd, e->id, dir_mode(q)) == 0)
			break;
		if (errno != EEXIST)
			goto fail;
	}
	if (tries == 10) {
		errno = EEXIST;
		goto fail;
	}
	(void)fchmodat(q->tmpfd, e->id, dir_mode(q), 0);
	if ((dfd = openat(q->tmpfd, e->id, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    (fd = openat(dfd, "msg", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, file_mode(q))) == -1 ||
	    fchmod(fd, file_mode(q)) == -1)
		goto fail;
	/* A new file: nobody else can hold it yet. */
	(void)flock(fd, LOCK_EX | LOCK_NB);
	if ((e->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
		goto fail;
	close(dfd);
	spool_init(sp);
	sp->fd = fd;
	return 0;
fail:
	*le = spool_errclass(errno);
	buf_addf(err, "cannot create a queue entry in '%s': %s", q->dir,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (e->id[0] != '\0')
		remove_tree(q->tmpfd, e->id);
	e->id[0] = '\0';
	return -1;
}

static int
commit_entry(struct queue *q, struct qentry *e, const struct spool *sp,
    int sync, enum local_err *le, struct buf *err)
{
	struct buf	 env = BUF_INIT;
	int		 dfd, rc = -1;

	queue_env_write(e, &env);
	e->synced = sync;
	if ((dfd = openat(q->tmpfd, e->id, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    (sync && fsync(sp->fd) == -1) ||
	    queue_write_file(dfd, "env", &env, file_mode(q), sync) == -1 ||
	    (sync && fsync(dfd) == -1) ||
	    renameat(q->tmpfd, e->id, q->qfd, e->id) == -1 ||
	    (sync && fsync(q->qfd) == -1)) {
		*le = spool_errclass(errno);
		buf_addf(err, "cannot queue the message in '%s': %s", q->dir,
		    strerror(errno));
		remove_tree(q->tmpfd, e->id);
	} else
		rc = 0;
	if (dfd != -1)
		close(dfd);
	buf_release(&env);
	return rc;
}

static void
abandon_entry(struct queue *q, struct qentry *e)
{
	if (e->id[0] != '\0')
		remove_tree(q->tmpfd, e->id);
	if (e->fd != -1)
		close(e->fd);
	e->fd = -1;
}

/* The envelope replaced; an entry not yet durable made so (the new
 * envelope, the message, the entry's directory and q/). */
static int
save_entry(struct queue *q, struct qentry *e, struct buf *err)
{
	struct buf	 env = BUF_INIT;
	int		 dfd, rc = -1;

	queue_env_write(e, &env);
	if ((dfd = openat(q->qfd, e->id, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    queue_write_file(dfd, "env.new", &env, file_mode(q), 1) == -1 ||
	    renameat(dfd, "env.new", dfd, "env") == -1 ||
	    (!e->synced && e->fd != -1 && fsync(e->fd) == -1) ||
	    fsync(dfd) == -1 ||
	    (!e->synced && fsync(q->qfd) == -1))
		buf_addf(err, "cannot update queue entry %s: %s", e->id,
		    strerror(errno));
	else {
		e->synced = 1;
		rc = 0;
	}
	if (dfd != -1)
		close(dfd);
	buf_release(&env);
	return rc;
}

/* Remove `name` in `dfd` and what is in it (one level: an entry). */
static void
remove_tree(int dfd, const char *name)
{
	static const char *const parts[] = { "msg", "env", "env.new", NULL };
	const char *const *p;
	int	 fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		for (p = parts; *p != NULL; p++)
			(void)unlinkat(fd, *p, 0);
		close(fd);
	}
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1)
		(void)unlinkat(dfd, name, 0);
}

static int
remove_entry(struct queue *q, struct qentry *e, struct buf *err)
{
	/* Out of q/ first: from then on no run can see it, even if the
	 * files outlive a crash. */
	remove_tree(q->tmpfd, e->id);
	if (renameat(q->qfd, e->id, q->tmpfd, e->id) == -1 ||
	    (e->synced && fsync(q->qfd) == -1)) {
		buf_addf(err, "cannot remove queue entry %s: %s", e->id,
		    strerror(errno));
		return -1;
	}
	remove_tree(q->tmpfd, e->id);
	close(e->fd);
	e->fd = -1;
	return 0;
}

/* corrupt/NAME (or NAME.N when taken), said in `notes`. */
static void
move_aside(struct queue *q, const char *name, struct buf *notes)
{
	char	 to[NAME_MAX + 16];
	int	 i;

	(void)snprintf(to, sizeof(to), "%s", name);
	for (i = 1; i < 100 && faccessat(q->badfd, to, F_OK,
	    AT_SYMLINK_NOFOLLOW) == 0; i++)
		(void)snprintf(to, sizeof(to), "%.200s.%d", name, i);
	if (renameat(q->qfd, name, q->badfd, to) == 0)
		buf_addf(notes, "moved '%s' aside to '%s/corrupt/%s'\n", name,
		    q->dir, to);
	else
		buf_addf(notes, "cannot move '%s' aside: %s\n", name,
		    strerror(errno));
}

/* tmp/ entries a crash left behind, once old and not locked. */
static void
clean_tmp(struct queue *q)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	int		 dfd, fd;
	time_t		 now = time(NULL);

	if ((dfd = fcntl(q->tmpfd, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		if (dfd != -1)
			close(dfd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || fstatat(q->tmpfd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || now - st.st_mtime < TMP_MAX_AGE)
			continue;
		if ((fd = openat(q->tmpfd, de->d_name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) != -1 && S_ISDIR(st.st_mode)) {
			/* A writer that still runs holds msg locked. */
			int	 m = openat(fd, "msg", O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC);

			if (m == -1 || flock(m, LOCK_EX | LOCK_NB) == 0)
				remove_tree(q->tmpfd, de->d_name);
			if (m != -1)
				close(m);
		} else if (!S_ISDIR(st.st_mode))
			(void)unlinkat(q->tmpfd, de->d_name, 0);
		if (fd != -1)
			close(fd);
	}
	closedir(d);
}

static int
id_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
list_ids(struct queue *q, struct strlist *ids, struct buf *notes,
    struct buf *err)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	int		 dfd;

	clean_tmp(q);
	if ((dfd = fcntl(q->qfd, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		buf_addf(err, "cannot read queue directory '%s': %s", q->dir,
		    strerror(errno));
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(q->qfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1)
			continue;	/* removed by another run meanwhile */
		if (queue_id_ok(de->d_name) && S_ISDIR(st.st_mode))
			strlist_add(ids, de->d_name);
		else
			move_aside(q, de->d_name, notes);
	}
	closedir(d);
	if (ids->n > 1)
		qsort(ids->v, ids->n, sizeof(*ids->v), id_cmp);
	return 0;
}

static int
entry_exists(struct queue *q, const char *id)
{
	return faccessat(q->qfd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
has_entries(struct queue *q, const char *except)
{
	DIR		*d;
	struct dirent	*de;
	int		 dfd, found = 0;

	if ((dfd = fcntl(q->qfd, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		if (dfd != -1)
			close(dfd);
		return 0;
	}
	rewinddir(d);
	while (!found && (de = readdir(d)) != NULL)
		found = queue_id_ok(de->d_name) && (except == NULL ||
		    strcmp(de->d_name, except) != 0);
	closedir(d);
	return found;
}

/* q/ID and its msg file: 1, 0 when gone, -1 with `err`. */
static int
open_entry(struct queue *q, const char *id, int *dfd, int *fd,
    struct buf *err)
{
	*fd = -1;
	if ((*dfd = openat(q->qfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		buf_addf(err, "entry %s: %s", id, strerror(errno));
		return -1;
	}
	if ((*fd = openat(*dfd, "msg", O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		/* Removed by another run between the two opens? */
		if (errno == ENOENT && faccessat(q->qfd, id, F_OK,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			close(*dfd);
			*dfd = -1;
			return 0;
		}
		buf_addf(err, "entry %s: its message: %s", id,
		    strerror(errno));
		close(*dfd);
		*dfd = -1;
		return -1;
	}
	return 1;
}

/* Read env (bounded) into `out`. */
static int
read_env(int dfd, struct buf *out, struct buf *err)
{
	int	 fd, rc;

	if ((fd = openat(dfd, "env", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		buf_addf(err, "its envelope: %s", strerror(errno));
		return -1;
	}
	if ((rc = queue_read_fd(fd, ENV_MAX, out)) == -1)
		buf_addf(err, "its envelope: %s", errno == EFBIG ?
		    "too large" : strerror(errno));
	close(fd);
	return rc;
}

int
queue_read_fd(int fd, size_t max, struct buf *out)
{
	char	 chunk[8192];
	ssize_t	 n;
	int	 rc = 0;

	while (rc == 0 && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n != -1 && out->len + (size_t)n > max) {
			errno = EFBIG;
			n = -1;
		}
		if (n == -1)
			rc = -1;
		else
			buf_add(out, chunk, (size_t)n);
	}
	explicit_bzero(chunk, sizeof(chunk));
	return rc;
}

/* The envelope of the entry open as `dfd`/`fd` into `e`. */
static int
load(struct queue *q, const char *id, int dfd, int fd, struct qentry *e,
    struct buf *err)
{
	struct buf	 text = BUF_INIT, why = BUF_INIT;
	struct stat	 st;
	int		 rc = -1;

	if (read_env(dfd, &text, &why) == 0 &&
	    queue_env_parse(buf_str(&text), text.len, e, &why) == 0) {
		if (strcmp(e->id, id) != 0)
			buf_addf(&why, "it names itself %s", e->id);
		else if (q->system && !conf_is_system_path(e->config))
			buf_addf(&why, "it names the configuration '%s': the "
			    "system queue takes only the system "
			    "configuration's mail", e->config);
		else if (q->system && e->overrides.n > 0)
			buf_addf(&why, "it carries per-keyword options: the "
			    "system queue takes only the system "
			    "configuration's mail, as it is");
		else if (fstat(fd, &st) == -1 ||
		    st.st_size != (off_t)e->env.size)
			buf_addf(&why, "its message is %lld bytes, not %lld",
			    (long long)st.st_size, (long long)e->env.size);
		else
			rc = 0;
	}
	if (rc == -1)
		buf_addf(err, "entry %s: %s", id, buf_str(&why));
	buf_release(&text);
	buf_release(&why);
	return rc;
}

static int
peek_entry(struct queue *q, const char *id, struct qentry *e,
    struct buf *err)
{
	int	 dfd, fd, rc;

	qentry_release(e);
	if ((rc = open_entry(q, id, &dfd, &fd, err)) != 1)
		return rc;
	rc = load(q, id, dfd, fd, e, err) == 0 ? 1 : -1;
	close(fd);
	close(dfd);
	if (rc != 1)
		qentry_release(e);
	return rc;
}

static int
lock_entry(struct queue *q, const char *id, struct qentry *e,
    struct buf *err)
{
	struct stat	 held, now;
	struct buf	 notes = BUF_INIT;
	char		 path[QUEUE_ID_MAX + 8];
	int		 dfd, fd, rc;

	qentry_release(e);
	if ((rc = open_entry(q, id, &dfd, &fd, err)) != 1) {
		if (rc == -1) {
			move_aside(q, id, &notes);
			buf_release(&notes);
		}
		return rc;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		rc = 0;		/* another run has it */
		goto out;
	}
	/* Still the entry in q/?  It may have been removed meanwhile. */
	(void)snprintf(path, sizeof(path), "%s/msg", id);
	if (fstat(fd, &held) == -1 ||
	    fstatat(q->qfd, path, &now, AT_SYMLINK_NOFOLLOW) == -1 ||
	    held.st_ino != now.st_ino || held.st_dev != now.st_dev) {
		rc = 0;
		goto out;
	}
	if (load(q, id, dfd, fd, e, err) == -1) {
		qentry_release(e);
		move_aside(q, id, &notes);
		buf_release(&notes);
		rc = -1;
		goto out;
	}
	e->fd = fd;
	fd = -1;
	rc = 1;
out:
	if (fd != -1)
		close(fd);
	close(dfd);
	return rc;
}

void
queue_spool(const struct qentry *e, struct spool *sp)
{
	spool_init(sp);
	sp->fd = e->fd;
	sp->size = (off_t)e->env.size;
}

/* ---- the public functions: the group raised around the system queue ---- */

void
queue_up(const struct queue *q)
{
	if (q->system)
		priv_raise();
}

void
queue_down(const struct queue *q)
{
	if (q->system)
		priv_lower();
}

int
queue_open(struct queue *q, const char *dir, int flags, struct buf *err)
{
	int	 rc;

	if (flags & QUEUE_SYSTEM)
		priv_raise();
	rc = open_dir(q, dir, flags, err);
	if (flags & QUEUE_SYSTEM)
		priv_lower();
	return rc;
}

int
queue_create(struct queue *q, struct qentry *e, struct spool *sp,
    enum local_err *le, struct buf *err)
{
	int	 rc;

	queue_up(q);
	rc = create_entry(q, e, sp, le, err);
	queue_down(q);
	return rc;
}

int
queue_commit(struct queue *q, struct qentry *e, const struct spool *sp,
    int sync, enum local_err *le, struct buf *err)
{
	int	 rc;

	queue_up(q);
	rc = commit_entry(q, e, sp, sync, le, err);
	queue_down(q);
	return rc;
}

void
queue_abandon(struct queue *q, struct qentry *e)
{
	queue_up(q);
	abandon_entry(q, e);
	queue_down(q);
}

int
queue_save(struct queue *q, struct qentry *e, struct buf *err)
{
	int	 rc;

	queue_up(q);
	rc = save_entry(q, e, err);
	queue_down(q);
	return rc;
}

int
queue_remove(struct queue *q, struct qentry *e, struct buf *err)
{
	int	 rc;

	queue_up(q);
	rc = remove_entry(q, e, err);
	queue_down(q);
	return rc;
}

int
queue_list(struct queue *q, struct strlist *ids, struct buf *notes,
    struct buf *err)
{
	int	 rc;

	queue_up(q);
	rc = list_ids(q, ids, notes, err);
	queue_down(q);
	return rc;
}

int
queue_has_entries(struct queue *q, const char *except)
{
	int	 rc;

	queue_up(q);
	rc = has_entries(q, except);
	queue_down(q);
	return rc;
}

int
queue_exists(struct queue *q, const char *id)
{
	int	 rc;

	queue_up(q);
	rc = entry_exists(q, id);
	queue_down(q);
	return rc;
}

int
queue_peek(struct queue *q, const char *id, struct qentry *e,
    struct buf *err)
{
	int	 rc;

	queue_up(q);
	rc = peek_entry(q, id, e, err);
	queue_down(q);
	return rc;
}

int
queue_lock(struct queue *q, const char *id, struct qentry *e,
    struct buf *err)
{
	int	 rc;

	queue_up(q);
	rc = lock_entry(q, id, e, err);
	queue_down(q);
	return rc;
}
