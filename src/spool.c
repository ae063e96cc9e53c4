#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "outcome.h"
#include "spool.h"

void
spool_init(struct spool *sp)
{
	sp->fd = -1;
	sp->size = 0;
}

/*
 * A full disk, a quota, a descriptor table or memory may all be fine
 * again a minute later: the caller must say "try again" (75), never a
 * permanent failure that makes cron or PHP drop the mail.
 */
enum local_err
spool_errclass(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return LE_RESOURCE;
	default:
		return LE_LOCALIO;
	}
}

int
spool_create(struct spool *sp, const char *dir, enum local_err *le,
    struct buf *err)
{
	struct buf	 path = BUF_INIT;
	int		 fd, e;

	if (dir == NULL || *dir == '\0')
		dir = getenv("TMPDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	buf_addf(&path, "%s/postie.XXXXXX", dir);
	if ((fd = mkstemp(path.data)) == -1) {
		e = errno;
		*le = spool_errclass(e);
		buf_addf(err, "cannot create a spool file in '%s': %s", dir,
		    strerror(e));
		buf_release(&path);
		return -1;
	}
	/* mkstemp makes it 0600 already; the umask cannot widen it. */
	(void)fchmod(fd, S_IRUSR | S_IWUSR);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	(void)unlink(path.data);
	buf_release(&path);
	sp->fd = fd;
	sp->size = 0;
	return 0;
}

int
spool_write(struct spool *sp, const void *p, size_t n, enum local_err *le,
    struct buf *err)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(sp->fd, c, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			*le = spool_errclass(errno);
			buf_addf(err, "cannot write the spool file: %s",
			    strerror(errno));
			return -1;
		}
		c += w;
		n -= (size_t)w;
		sp->size += (off_t)w;
	}
	return 0;
}

int
spool_sync(struct spool *sp, enum local_err *le, struct buf *err)
{
	if (fsync(sp->fd) == 0)
		return 0;
	*le = spool_errclass(errno);
	buf_addf(err, "cannot write the spool file: %s", strerror(errno));
	return -1;
}

ssize_t
spool_read_at(const struct spool *sp, void *p, size_t n, off_t off)
{
	ssize_t	 r;

	do
		r = pread(sp->fd, p, n, off);
	while (r == -1 && errno == EINTR);
	return r;
}

void
spool_release(struct spool *sp)
{
	if (sp->fd != -1)
		close(sp->fd);
	spool_init(sp);
}
