#ifndef POSTIE_SPOOL_H
#define POSTIE_SPOOL_H

#include <sys/types.h>

#include "buf.h"
#include "outcome.h"

/*
 * The spool file: the one owner of the file that holds a message exactly
 * as it will be sent (canonical CRLF, minus dot-stuffing).  message.c
 * writes it, the engine reads it back with spool_read_at(), and the
 * durable queue will name it in its directory instead of leaving it
 * unlinked.
 *
 * Errors are one line in `err` and a local error class in *le: running
 * out of a resource that can come back (disk space, quota, descriptors,
 * memory) is LE_RESOURCE, so the caller keeps the message and retries;
 * anything else is LE_LOCALIO.
 */

struct spool {
	int	 fd;		/* -1 when there is none */
	off_t	 size;		/* bytes written so far */
};

void	spool_init(struct spool *);

/*
 * A new, empty spool in `dir` (NULL or "": $TMPDIR, else /tmp): a 0600
 * file created and unlinked at once, so that nothing is left behind
 * whatever happens to the process and nobody else can open it.  Close-
 * on-exec.  0, or -1 with *le and `err` set.
 */
int	spool_create(struct spool *, const char *dir, enum local_err *le,
	    struct buf *err);

/* Append `n` bytes: 0, or -1 with *le and `err` set. */
int	spool_write(struct spool *, const void *, size_t n,
	    enum local_err *le, struct buf *err);

/* Make what was written durable (fsync): 0, or -1 as spool_write(). */
int	spool_sync(struct spool *, enum local_err *le, struct buf *err);

/*
 * Read up to `n` bytes at offset `off` (the file position is not used,
 * so a caller's stdin offset never matters): the count, 0 at the end, or
 * -1 with errno set.  EINTR is retried.
 */
ssize_t	spool_read_at(const struct spool *, void *, size_t n, off_t off);

/* Close the file; the spool is empty again (spool_init()). */
void	spool_release(struct spool *);

/* The local error class of an errno from a spool operation. */
enum local_err spool_errclass(int err);

#endif
