#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "queue.h"
#include "queue_int.h"
#include "util.h"

/*
 * The queue module's OAuth2 token store (queue.h): DIR/oauth/NAME, one
 * record per account (its text: queue_oauth_rec.c), opened like every
 * file of the queue relative to the queue's descriptor without
 * following symbolic links, with the group raised only for the system
 * queue and only around the file operations.
 *
 * A user's file is one record.  The system store's file is two slots of
 * OAUTH_SLOT_SIZE bytes, at offsets 0 and OAUTH_SLOT_SIZE, each a record
 * padded with newlines: the valid slot with the highest generation is
 * the record, and an update overwrites the other one.
 *
 * Writers hold the account's lock (queue_oauth_lock()): two updates of
 * a system file at once could pick the same slot.  Readers need no
 * lock: a record being written fails its checksum and the other slot is
 * read.
 */

#define STORE_DIR	"oauth"
#define STORE_FILE	(2 * OAUTH_SLOT_SIZE)	/* a system store's */
#define NAME_LEN_MAX	240	/* encoded; .NAME.lock < NAME_MAX */
#define LOCK_POLL_MS	50

static int	 encode_name(const char *, struct buf *, struct buf *);
static void	 file_path(const struct queue *, const char *, struct buf *);
static int	 trusted(const struct queue *, const struct stat *, gid_t,
		    int);
static void	 refuse(const struct queue *, const char *, const char *,
		    const struct stat *, gid_t, struct buf *);
static int	 open_store(struct queue *, int, int *, gid_t *,
		    struct buf *);
static int	 open_record(struct queue *, int, const char *, const char *,
		    int, gid_t, struct stat *, struct buf *);
static int	 read_record(struct queue *, const char *, const char *,
		    struct oauth_record *, struct buf *);
static void	 no_token(const char *, struct buf *);
static int	 pwrite_all(int, const char *, size_t, off_t);
static void	 add_slot(struct buf *, const struct buf *);
static int	 save_user(struct queue *, const char *, const char *,
		    const struct oauth_record *, struct buf *);
static int	 save_system(struct queue *, const char *, const char *,
		    const struct oauth_record *, struct buf *);
static int	 create_system(struct queue *, int, const char *,
		    const char *, gid_t, const struct oauth_record *,
		    struct buf *);
static int	 open_lock_file(const struct queue *, int, const char *,
		    gid_t);
static int	 wait_lock(int, int, const char *, long long, struct buf *);
static int	 remove_record(struct queue *, const char *, struct buf *);

/* ---- names and checks ---------------------------------------------- */

/* The file name of `account`'s record: bytes outside [A-Za-z0-9._-]
 * and a leading '.' as %XX, so that no name is a path or starts with a
 * dot; the store's own files do (.NAME.tmp, .NAME.lock), and so never
 * collide with a record (NAME.lock would be account "NAME.lock"'s). */
static int
encode_name(const char *account, struct buf *out, struct buf *err)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	int			 c;

	if (account == NULL || account[0] == '\0') {
		buf_addstr(err, "cannot keep a token for an empty account "
		    "name");
		return -1;
	}
	for (p = (const unsigned char *)account; *p != '\0'; p++) {
		c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    (c == '.' && p != (const unsigned char *)account))
			buf_addch(out, c);
		else {
			buf_addch(out, '%');
			buf_addch(out, hex[c >> 4]);
			buf_addch(out, hex[c & 0xf]);
		}
	}
	if (out->len > NAME_LEN_MAX) {
		buf_addf(err, "account name '%s' is too long for a token file",
		    account);
		return -1;
	}
	return 0;
}

/* DIR/oauth/FILE, for messages. */
static void
file_path(const struct queue *q, const char *file, struct buf *out)
{
	buf_addf(out, "%s/%s/%s", q->dir, STORE_DIR, file);
}

/*
 * Whose files may be believed.  A user's: the user's own, closed to
 * everyone else.  The system store's: root's, of the queue directory's
 * group (postie's, checked by queue_open() while the group is held),
 * nothing for others; the record file may be written by the group (it
 * is updated in place), the directory may not (only root makes or
 * replaces files in it).
 */
static int
trusted(const struct queue *q, const struct stat *st, gid_t gid, int dir)
{
	if (q->system)
		return st->st_uid == 0 && st->st_gid == gid &&
		    (st->st_mode & (dir ? 0027 : 0007)) == 0;
	return st->st_uid == geteuid() && (st->st_mode & 0077) == 0;
}

/* Why `path` (a "token file" or "token directory") is not believed,
 * and how to fix it. */
static void
refuse(const struct queue *q, const char *what, const char *path,
    const struct stat *st, gid_t gid, struct buf *err)
{
	int	 dir = S_ISDIR(st->st_mode);

	if (q->system)
		buf_addf(err, "%s '%s' is owned by uid %ld, gid %ld with mode "
		    "%04o: refused (the system store's must be root's, of the "
		    "queue's group and closed to others: chown 0:%ld '%s'; "
		    "chmod %s '%s')", what, path, (long)st->st_uid,
		    (long)st->st_gid, (unsigned)(st->st_mode & 07777),
		    (long)gid, path, dir ? "2750" : "660", path);
	else if (st->st_uid != geteuid())
		buf_addf(err, "%s '%s' is owned by uid %ld: refused (it must "
		    "be yours: chown %ld '%s')", what, path, (long)st->st_uid,
		    (long)geteuid(), path);
	else
		buf_addf(err, "%s '%s' has mode %04o: refused (others could "
		    "read it: chmod %s '%s')", what, path,
		    (unsigned)(st->st_mode & 07777), dir ? "700" : "600", path);
}

static void
no_token(const char *account, struct buf *err)
{
	buf_addf(err, "no token for account '%s' in the system store: root "
	    "must run postie --oauth-authorize %s", account, account);
}

/*
 * DIR/oauth as *dfd, made when `create` (a user's 0700; the system
 * store's root:GROUP 02750, GROUP the queue directory's, in *gid):
 * 1 open, 0 none, -1 with `err`.
 */
static int
open_store(struct queue *q, int create, int *dfd, gid_t *gid,
    struct buf *err)
{
	struct buf	 path = BUF_INIT;
	struct stat	 st;
	mode_t		 mode = q->system ? 02750 : 0700;
	int		 made = 0, rc = -1;

	*dfd = -1;
	buf_addf(&path, "%s/%s", q->dir, STORE_DIR);
	if (fstat(q->fd, &st) == -1) {
		buf_addf(err, "cannot read queue directory '%s': %s", q->dir,
		    strerror(errno));
		goto out;
	}
	*gid = st.st_gid;
	if (create && mkdirat(q->fd, STORE_DIR, mode) == 0)
		made = 1;
	if ((*dfd = openat(q->fd, STORE_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !create)
			rc = 0;
		else if (errno == ELOOP || errno == ENOTDIR)
			buf_addf(err, "token directory '%s' is not a "
			    "directory: refused", buf_str(&path));
		else
			buf_addf(err, "cannot open token directory '%s': %s",
			    buf_str(&path), strerror(errno));
		goto out;
	}
	/* The umask must not take the group's bits away; the group is the
	 * queue's whoever made it.  Durable before a record is in it. */
	if (made && ((q->system && fchown(*dfd, 0, *gid) == -1) ||
	    fchmod(*dfd, mode) == -1 || fsync(q->fd) == -1)) {
		buf_addf(err, "cannot set up token directory '%s': %s",
		    buf_str(&path), strerror(errno));
		goto out;
	}
	if (fstat(*dfd, &st) == -1) {
		buf_addf(err, "cannot open token directory '%s': %s",
		    buf_str(&path), strerror(errno));
		goto out;
	}
	if (!trusted(q, &st, *gid, 1)) {
		refuse(q, "token directory", buf_str(&path), &st, *gid, err);
		goto out;
	}
	rc = 1;
out:
	if (rc != 1 && *dfd != -1) {
		close(*dfd);
		*dfd = -1;
	}
	buf_release(&path);
	return rc;
}

/*
 * The record file `name` in `dfd` opened with `flags`, a regular file
 * we may believe (its stat in *st): its descriptor, -2 when there is
 * none, -3 when it is there but not to be believed (the reason in
 * `err`), -1 for any other error (in `err`).
 */
static int
open_record(struct queue *q, int dfd, const char *name, const char *path,
    int flags, gid_t gid, struct stat *st, struct buf *err)
{
	int	 fd;

	if ((fd = openat(dfd, name, flags | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return -2;
		if (errno == ELOOP) {
			buf_addf(err, "token file '%s' is a symbolic link: "
			    "refused", path);
			return -3;
		}
		buf_addf(err, "cannot open token file '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1) {
		buf_addf(err, "cannot open token file '%s': %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		buf_addf(err, "token file '%s' is not a regular file: refused",
		    path);
		close(fd);
		return -3;
	}
	if (!trusted(q, st, gid, 0)) {
		refuse(q, "token file", path, st, gid, err);
		close(fd);
		return -3;
	}
	return fd;
}

/* ---- reading ------------------------------------------------------- */

/* The work of queue_oauth_load(). */
static int
read_record(struct queue *q, const char *account, const char *name,
    struct oauth_record *r, struct buf *err)
{
	struct buf	 path = BUF_INIT, text = BUF_INIT, why = BUF_INIT;
	struct stat	 st;
	size_t		 max = q->system ? STORE_FILE : OAUTH_SLOT_SIZE;
	gid_t		 gid;
	int		 dfd, fd, rc;

	if ((rc = open_store(q, 0, &dfd, &gid, err)) != 1)
		return rc;
	file_path(q, name, &path);
	fd = open_record(q, dfd, name, buf_str(&path), O_RDONLY, gid, &st, err);
	close(dfd);
	if (fd < 0) {
		rc = fd == -2 ? 0 : -1;
		goto out;
	}
	/* One allocation for the largest file read: the bytes pass
	 * through no buffer left unwiped. */
	buf_grow(&text, max);
	rc = -1;
	if (queue_read_fd(fd, max, &text) == -1) {
		if (errno == EFBIG)
			buf_addf(&why, "larger than %zu bytes", max);
		else
			buf_addf(err, "cannot read token file '%s': %s",
			    buf_str(&path), strerror(errno));
	} else if (q->system) {
		if (queue_oauth_pick(text.data, text.len, r, &why) != -1)
			rc = 1;
	} else if (queue_oauth_parse(text.data, text.len, r, &why) == 0)
		rc = 1;
	close(fd);
	if (why.len > 0)
		buf_addf(err, "token file '%s' %s valid token record (%s): "
		    "%srun postie --oauth-authorize %s", buf_str(&path),
		    q->system ? "holds no" : "is not a", buf_str(&why),
		    q->system ? "root must " : "", account);
out:
	buf_wipe(&text);
	buf_release(&why);
	buf_release(&path);
	return rc;
}

int
queue_oauth_load(struct queue *q, const char *account,
    struct oauth_record *r, struct buf *err)
{
	struct buf	 name = BUF_INIT;
	int		 rc;

	oauth_record_release(r);
	if (encode_name(account, &name, err) == -1) {
		buf_release(&name);
		return -1;
	}
	/* GnuTLS started before the group is raised (it reads files). */
	if (crypto_ready() == -1) {
		buf_addstr(err, "cannot check token records: GnuTLS did not "
		    "start");
		buf_release(&name);
		return -1;
	}
	queue_up(q);
	rc = read_record(q, account, buf_str(&name), r, err);
	queue_down(q);
	if (rc != 1)
		oauth_record_release(r);
	buf_release(&name);
	return rc;
}

/* ---- writing ------------------------------------------------------- */

static int
pwrite_all(int fd, const char *p, size_t n, off_t off)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = pwrite(fd, p, n, off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		off += w;
		n -= (size_t)w;
	}
	return 0;
}

/* `record` padded with newlines to a whole slot, appended to `out`. */
static void
add_slot(struct buf *out, const struct buf *record)
{
	size_t	 n;

	buf_add(out, record->data, record->len);
	for (n = record->len; n < OAUTH_SLOT_SIZE; n++)
		buf_addch(out, '\n');
}

/*
 * A user's store: .NAME.tmp written (O_EXCL, 0600, a stale one
 * removed first), fsynced, renamed over NAME, the directory fsynced: a
 * crash leaves the old record or the new one.
 */
static int
save_user(struct queue *q, const char *account, const char *name,
    const struct oauth_record *r, struct buf *err)
{
	struct oauth_record	 cur;
	struct buf		 text = BUF_INIT, tmp = BUF_INIT,
				 path = BUF_INIT, why = BUF_INIT;
	unsigned long long	 gen = r->generation;
	gid_t			 gid;
	int			 dfd = -1, rc = -1;

	oauth_record_init(&cur);
	if (read_record(q, account, name, &cur, &why) == 1 &&
	    cur.generation > gen)
		gen = cur.generation;
	oauth_record_release(&cur);
	buf_reset(&why);
	buf_grow(&text, OAUTH_SLOT_SIZE + 64);
	if (queue_oauth_format(r, gen + 1, &text, &why) == -1) {
		buf_addf(err, "cannot store the token of account '%s': %s",
		    account, buf_str(&why));
		goto out;
	}
	if (open_store(q, 1, &dfd, &gid, err) != 1)
		goto out;
	buf_addf(&tmp, ".%s.tmp", name);
	file_path(q, name, &path);
	if (queue_write_file(dfd, buf_str(&tmp), &text, 0600, 1) == -1 ||
	    renameat(dfd, buf_str(&tmp), dfd, name) == -1 ||
	    fsync(dfd) == -1) {
		buf_addf(err, "cannot write token file '%s': %s",
		    buf_str(&path), strerror(errno));
		(void)unlinkat(dfd, buf_str(&tmp), 0);
		goto out;
	}
	rc = 0;
out:
	if (dfd != -1)
		close(dfd);
	buf_wipe(&text);
	buf_release(&tmp);
	buf_release(&path);
	buf_release(&why);
	return rc;
}

/*
 * The system store's record file made anew by root, both slots holding
 * the record: written as .NAME.tmp (root:GROUP 0660), fsynced, renamed
 * over NAME (root's own rename: the file stays root's), the lock file
 * made beside it when missing, the directory fsynced.
 */
static int
create_system(struct queue *q, int dfd, const char *name, const char *path,
    gid_t gid, const struct oauth_record *r, struct buf *err)
{
	struct buf	 text = BUF_INIT, image = BUF_INIT, tmp = BUF_INIT,
			 lock = BUF_INIT, why = BUF_INIT;
	int		 fd = -1, lfd = -1, rc = -1;

	buf_grow(&text, OAUTH_SLOT_SIZE + 64);
	if (queue_oauth_format(r, r->generation + 1, &text, &why) == -1) {
		buf_addf(err, "cannot store the token in '%s': %s", path,
		    buf_str(&why));
		goto out;
	}
	buf_grow(&image, STORE_FILE);
	add_slot(&image, &text);
	add_slot(&image, &text);
	buf_addf(&tmp, ".%s.tmp", name);
	buf_addf(&lock, ".%s.lock", name);
	(void)unlinkat(dfd, buf_str(&tmp), 0);
	if ((fd = openat(dfd, buf_str(&tmp), O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 ||
	    fchown(fd, 0, gid) == -1 || fchmod(fd, 0660) == -1 ||
	    pwrite_all(fd, image.data, image.len, 0) == -1 ||
	    fsync(fd) == -1 ||
	    renameat(dfd, buf_str(&tmp), dfd, name) == -1 ||
	    (lfd = open_lock_file(q, dfd, buf_str(&lock), gid)) == -1) {
		buf_addf(err, "cannot write token file '%s': %s", path,
		    strerror(errno));
		(void)unlinkat(dfd, buf_str(&tmp), 0);
		goto out;
	}
	close(lfd);
	if (fsync(dfd) == -1) {
		buf_addf(err, "cannot write token file '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	buf_wipe(&text);
	buf_wipe(&image);
	buf_release(&tmp);
	buf_release(&lock);
	buf_release(&why);
	return rc;
}

/*
 * The system store.  No rename here, unlike a user's store: the new
 * file would belong to whichever user's postie refreshed the token, and
 * the owner of a file can read it (and chmod it) whatever its mode,
 * while the refresh token is the system account's credential, not
 * theirs.  So root alone makes the file, root:GROUP 0660 in a directory
 * the group cannot write, and everyone's postie, root's included,
 * updates it in place with the group raised: the slot that is not the
 * record (the older or the invalid one) is overwritten and fdatasynced.
 * A crash in the middle spoils that slot only; the reader takes the
 * other.  generation = the highest + 1.
 */
static int
save_system(struct queue *q, const char *account, const char *name,
    const struct oauth_record *r, struct buf *err)
{
	struct oauth_record	 cur, next;
	struct buf		 path = BUF_INIT, text = BUF_INIT,
				 slot = BUF_INIT, why = BUF_INIT;
	struct stat		 st;
	int			 root = geteuid() == 0, dfd, fd, rc, best;
	gid_t			 gid;

	if ((rc = open_store(q, root, &dfd, &gid, err)) != 1) {
		if (rc == 0)
			no_token(account, err);
		return -1;
	}
	rc = -1;
	oauth_record_init(&cur);
	file_path(q, name, &path);
	fd = open_record(q, dfd, name, buf_str(&path), O_RDWR, gid, &st,
	    &why);
	/* Root makes anew what is missing, not to be believed or not two
	 * slots; anyone else only updates the file root made. */
	if (fd >= 0 && st.st_size != STORE_FILE) {
		buf_addf(&why, "token file '%s' is not a two-slot token file: "
		    "root must run postie --oauth-authorize %s",
		    buf_str(&path), account);
		close(fd);
		fd = -3;
	}
	if (root && (fd == -2 || fd == -3)) {
		rc = create_system(q, dfd, name, buf_str(&path), gid, r, err);
		goto out;
	}
	if (fd == -2)
		no_token(account, err);
	if (fd < 0) {
		buf_addstr(err, buf_str(&why));
		goto out;
	}
	buf_grow(&text, STORE_FILE);
	if (queue_read_fd(fd, STORE_FILE, &text) == -1) {
		buf_addf(err, "cannot read token file '%s': %s",
		    buf_str(&path), strerror(errno));
		goto out;
	}
	/* The slot that is not the record gets the next generation. */
	best = queue_oauth_pick(text.data, text.len, &cur, &why);
	next = *r;
	if (cur.generation > next.generation)
		next.generation = cur.generation;
	buf_reset(&why);
	buf_grow(&slot, OAUTH_SLOT_SIZE + 64);
	if (queue_oauth_format(&next, next.generation + 1, &slot, &why) ==
	    -1) {
		buf_addf(err, "cannot store the token of account '%s': %s",
		    account, buf_str(&why));
		goto out;
	}
	buf_reset(&text);
	add_slot(&text, &slot);
	if (pwrite_all(fd, text.data, text.len,
	    (off_t)(best == 0 ? OAUTH_SLOT_SIZE : 0)) == -1 ||
	    fdatasync(fd) == -1) {
		buf_addf(err, "cannot write token file '%s': %s",
		    buf_str(&path), strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	oauth_record_release(&cur);
	buf_wipe(&text);
	buf_wipe(&slot);
	buf_release(&why);
	buf_release(&path);
	return rc;
}

int
queue_oauth_save(struct queue *q, const char *account,
    const struct oauth_record *r, struct buf *err)
{
	struct buf	 name = BUF_INIT;
	int		 rc = -1;

	if (encode_name(account, &name, err) == -1)
		goto out;
	if (crypto_ready() == -1) {
		buf_addstr(err, "cannot check token records: GnuTLS did not "
		    "start");
		goto out;
	}
	queue_up(q);
	if (q->system)
		rc = save_system(q, account, buf_str(&name), r, err);
	else
		rc = save_user(q, account, buf_str(&name), r, err);
	queue_down(q);
out:
	buf_release(&name);
	return rc;
}

/* ---- the lock ------------------------------------------------------ */

/*
 * .NAME.lock in `dfd`.  A user's: made on demand, 0600.  The system
 * store's: made by root (root:GROUP 0660, with the record), opened
 * read-only by everyone else, which is all flock(2) needs.
 */
static int
open_lock_file(const struct queue *q, int dfd, const char *lock, gid_t gid)
{
	const int	 base = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	int		 fd, e;

	if (!q->system)
		return openat(dfd, lock, O_RDWR | O_CREAT | base, 0600);
	if (geteuid() != 0)
		return openat(dfd, lock, O_RDONLY | base);
	if ((fd = openat(dfd, lock, O_RDWR | O_CREAT | O_EXCL | base,
	    0600)) == -1)
		return errno == EEXIST ? openat(dfd, lock, O_RDONLY | base) :
		    -1;
	if (fchown(fd, 0, gid) == -1 || fchmod(fd, 0660) == -1) {
		e = errno;
		close(fd);
		(void)unlinkat(dfd, lock, 0);
		errno = e;
		return -1;
	}
	return fd;
}

/* flock(fd) retried every LOCK_POLL_MS until `deadline`: 0, or -1 with
 * `err`. */
static int
wait_lock(int fd, int timeout_ms, const char *account, long long deadline,
    struct buf *err)
{
	struct timespec	 ts;
	int		 left;

	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			buf_addf(err, "cannot take the token lock of account "
			    "'%s': %s", account, strerror(errno));
			return -1;
		}
		if ((left = ms_left(deadline)) == 0) {
			buf_addf(err, "another postie has held the token lock "
			    "of account '%s' for %d s", account,
			    timeout_ms / 1000 + (timeout_ms % 1000 != 0));
			return -1;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = (left < LOCK_POLL_MS ? left : LOCK_POLL_MS) *
		    1000000L;
		(void)nanosleep(&ts, NULL);
	}
	return 0;
}

int
queue_oauth_lock(struct queue *q, const char *account, int timeout_ms,
    struct buf *err)
{
	struct buf	 name = BUF_INIT, lock = BUF_INIT, path = BUF_INIT;
	struct stat	 held, now;
	long long	 deadline;
	gid_t		 gid;
	int		 dfd = -1, fd = -1, rc, same, e;

	if (timeout_ms < 0)
		timeout_ms = 0;
	deadline = now_ms() + timeout_ms;
	if (encode_name(account, &name, err) == -1)
		goto fail;
	buf_addf(&lock, ".%s.lock", buf_str(&name));
	file_path(q, buf_str(&lock), &path);
	queue_up(q);
	rc = open_store(q, !q->system || geteuid() == 0, &dfd, &gid, err);
	queue_down(q);
	if (rc != 1) {
		if (rc == 0)
			no_token(account, err);
		goto fail;
	}
	/* The group raised for the opens only, never while waiting. */
	for (;;) {
		queue_up(q);
		fd = open_lock_file(q, dfd, buf_str(&lock), gid);
		e = errno;
		queue_down(q);
		if (fd == -1) {
			if (e == ENOENT && q->system)
				no_token(account, err);
			else
				buf_addf(err, "cannot open token lock '%s': %s",
				    buf_str(&path), strerror(e));
			goto fail;
		}
		if (fstat(fd, &held) == -1 || !S_ISREG(held.st_mode)) {
			buf_addf(err, "token lock '%s' is not a regular file: "
			    "refused", buf_str(&path));
			goto fail;
		}
		if (wait_lock(fd, timeout_ms, account, deadline, err) == -1)
			goto fail;
		/* Still the file of that name?  A removal of the record
		 * takes a user's lock file with it. */
		queue_up(q);
		same = fstatat(dfd, buf_str(&lock), &now,
		    AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == held.st_ino &&
		    now.st_dev == held.st_dev;
		queue_down(q);
		if (same)
			break;
		close(fd);
		fd = -1;
	}
	close(dfd);
	buf_release(&name);
	buf_release(&lock);
	buf_release(&path);
	return fd;
fail:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	buf_release(&name);
	buf_release(&lock);
	buf_release(&path);
	return -1;
}

void
queue_oauth_unlock(struct queue *q, int fd)
{
	(void)q;
	if (fd >= 0)
		close(fd);
}

/* ---- path and removal ---------------------------------------------- */

void
queue_oauth_path(const struct queue *q, const char *account,
    struct buf *out)
{
	struct buf	 name = BUF_INIT, err = BUF_INIT;

	(void)encode_name(account, &name, &err);
	file_path(q, buf_str(&name), out);
	buf_release(&name);
	buf_release(&err);
}

/* The work of queue_oauth_remove(): NAME, and in a user's store the
 * lock and a stale temporary file.  The system store's lock stays: it
 * is root's, made once, and others may be waiting on it. */
static int
remove_record(struct queue *q, const char *name, struct buf *err)
{
	struct buf	 path = BUF_INIT, other = BUF_INIT;
	gid_t		 gid;
	int		 dfd, rc;

	if ((rc = open_store(q, 0, &dfd, &gid, err)) != 1)
		return rc;
	rc = 0;
	if (unlinkat(dfd, name, 0) == -1 && errno != ENOENT) {
		file_path(q, name, &path);
		buf_addf(err, "cannot remove token file '%s': %s",
		    buf_str(&path), strerror(errno));
		rc = -1;
	}
	if (rc == 0 && !q->system) {
		buf_addf(&other, ".%s.lock", name);
		(void)unlinkat(dfd, buf_str(&other), 0);
		buf_reset(&other);
		buf_addf(&other, ".%s.tmp", name);
		(void)unlinkat(dfd, buf_str(&other), 0);
	}
	if (rc == 0)
		(void)fsync(dfd);
	close(dfd);
	buf_release(&path);
	buf_release(&other);
	return rc;
}

int
queue_oauth_remove(struct queue *q, const char *account, struct buf *err)
{
	struct buf	 name = BUF_INIT;
	int		 rc = -1;

	if (encode_name(account, &name, err) == 0) {
		queue_up(q);
		rc = remove_record(q, buf_str(&name), err);
		queue_down(q);
	}
	buf_release(&name);
	return rc;
}
