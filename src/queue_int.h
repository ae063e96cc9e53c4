#ifndef POSTIE_QUEUE_INT_H
#define POSTIE_QUEUE_INT_H

/*
 * Inside the queue module only: the file helpers that queue.c (entries)
 * and queue_tls.c (the TLS session store) share.  Not a public
 * interface: queue.h is.
 */

#include <sys/types.h>

#include <stddef.h>

#include "buf.h"

/* Write `b` into a new file `name` in `dfd` (one left there is replaced)
 * with `mode`, fsynced when `sync`; 0, or -1 with errno and no file. */
int	queue_write_file(int dfd, const char *name, const struct buf *b,
	    mode_t mode, int sync);

/* Append what is left to read on `fd` to `out`, at most `max` bytes in
 * all; 0, or -1 with errno (EFBIG: more than `max`).  The bytes pass
 * through no other buffer left unwiped. */
int	queue_read_fd(int fd, size_t max, struct buf *out);

#endif
