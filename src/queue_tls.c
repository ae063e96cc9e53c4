#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "buf.h"
#include "queue.h"
#include "queue_int.h"
#include "tls.h"

/*
 * The queue module's TLS session store (queue.h): DIR/tls/NAME, beside
 * the entries, under the same directory checks.  Like every file of the
 * queue it is opened relative to the queue's descriptor without
 * following symbolic links, with the group raised only for the system
 * queue and only around the file operation.
 */

#define STORE_DIR	"tls"
#define STORE_MAX	(64 * 1024)	/* a session with its peer's chain */

static int	store_get(void *, const char *, struct buf *);
static void	store_put(void *, const char *, const struct buf *);
static int	open_store(struct queue *, int);
static int	trusted_file(const struct queue *, const struct stat *);
static int	read_store(struct queue *, const char *, struct buf *);
static void	write_store(struct queue *, const char *, const struct buf *);

/*
 * Whose files may be believed: in a user's queue the user's own, closed
 * to everyone else; in the system queue root's only, never writable by
 * the group.  A session file an ordinary user owned could be read or
 * rewritten by that user, and a session lets its holder pose as the
 * server: the system account's password would go to them.
 */
static int
trusted_file(const struct queue *q, const struct stat *st)
{
	if (q->system)
		return st->st_uid == 0 && (st->st_mode & 0027) == 0;
	return st->st_uid == geteuid() && (st->st_mode & 0077) == 0;
}

/* DIR/tls, made when `create`; its descriptor, or -1. */
static int
open_store(struct queue *q, int create)
{
	struct stat	 st;
	mode_t		 mode = q->group ? 02750 : 0700;
	int		 fd;

	if (create && mkdirat(q->fd, STORE_DIR, mode) == 0)
		(void)fchmodat(q->fd, STORE_DIR, mode, 0);
	fd = openat(q->fd, STORE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !trusted_file(q, &st)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
read_store(struct queue *q, const char *name, struct buf *out)
{
	struct stat	 st;
	int		 dfd, fd, rc = -1;

	if ((dfd = open_store(q, 0)) == -1)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    trusted_file(q, &st) && st.st_size <= STORE_MAX) {
		/* One allocation: no copy of the session left behind. */
		buf_grow(out, (size_t)st.st_size);
		rc = queue_read_fd(fd, STORE_MAX, out);
	}
	close(fd);
	return rc;
}

/*
 * A new file renamed over the old: a reader sees one whole session or
 * the other.  No fsync: a session lost in a crash costs one full
 * handshake.  In the system queue only root writes (see
 * trusted_file()); empty data removes the session.
 */
static void
write_store(struct queue *q, const char *name, const struct buf *data)
{
	char	 tmp[128];
	int	 dfd;

	if (q->system && geteuid() != 0)
		return;
	if ((dfd = open_store(q, data->len > 0)) == -1)
		return;
	if (data->len == 0)
		(void)unlinkat(dfd, name, 0);
	else if (snprintf(tmp, sizeof(tmp), ".%s.%ld", name,
	    (long)getpid()) < (int)sizeof(tmp) &&
	    queue_write_file(dfd, tmp, data, q->group ? 0640 : 0600, 0) == 0 &&
	    renameat(dfd, tmp, dfd, name) == -1)
		(void)unlinkat(dfd, tmp, 0);
	close(dfd);
}

static int
store_get(void *ctx, const char *name, struct buf *out)
{
	struct queue	*q = ctx;
	int		 rc;

	queue_up(q);
	rc = read_store(q, name, out);
	queue_down(q);
	return rc;
}

static void
store_put(void *ctx, const char *name, const struct buf *data)
{
	struct queue	*q = ctx;

	queue_up(q);
	write_store(q, name, data);
	queue_down(q);
}

const struct tls_store queue_tls_store = {
	store_get,
	store_put
};
