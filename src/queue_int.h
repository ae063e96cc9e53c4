#ifndef POSTIE_QUEUE_INT_H
#define POSTIE_QUEUE_INT_H

/*
 * Inside the queue module only: the file helpers that queue.c (entries),
 * queue_tls.c (the TLS session store) and queue_oauth.c (the token
 * store) share, and the token store's record format (queue_oauth_rec.c),
 * which queue_oauth.c and its tests use.  Not a public interface:
 * queue.h is.
 */

#include <sys/types.h>

#include <stddef.h>

#include "buf.h"

struct oauth_record;
struct queue;

/* The group raised (priv_raise()) around work in the system queue, and
 * lowered again; nothing for a user's queue. */
void	queue_up(const struct queue *);
void	queue_down(const struct queue *);

/* Write `b` into a new file `name` in `dfd` (one left there is replaced)
 * with `mode`, fsynced when `sync`; 0, or -1 with errno and no file. */
int	queue_write_file(int dfd, const char *name, const struct buf *b,
	    mode_t mode, int sync);

/* Append what is left to read on `fd` to `out`, at most `max` bytes in
 * all; 0, or -1 with errno (EFBIG: more than `max`).  The bytes pass
 * through no other buffer left unwiped. */
int	queue_read_fd(int fd, size_t max, struct buf *out);

/*
 * The token store's records (queue_oauth_rec.c describes the text).  A
 * record is at most OAUTH_SLOT_SIZE bytes; the system store's file is
 * two slots of that size, each a record padded with newlines.
 */
#define OAUTH_SLOT_SIZE	32768

/* Append `r` as a record of `generation` to `out` (grown once, so that
 * no copy is left by a realloc): 0, or -1 with the reason in `err` (a
 * value with a byte outside %x20-7E, too large). */
int	queue_oauth_format(const struct oauth_record *r,
	    unsigned long long generation, struct buf *out, struct buf *err);

/* Read the record in `len` bytes (after it only padding): 0 with `r`
 * replaced (its generation too), or -1 with the reason in `why` and `r`
 * as it was. */
int	queue_oauth_parse(const char *, size_t len, struct oauth_record *r,
	    struct buf *why);

/* Of the system store's file (`len` must be 2 * OAUTH_SLOT_SIZE): the
 * valid slot with the highest generation, the first on a tie, read into
 * `r`; its index (0 or 1), or -1 with both slots' reasons in `why`. */
int	queue_oauth_pick(const char *, size_t len, struct oauth_record *r,
	    struct buf *why);

#endif
