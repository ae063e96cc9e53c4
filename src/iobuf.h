#ifndef POSTIE_IOBUF_H
#define POSTIE_IOBUF_H

#include <sys/types.h>

#include <stddef.h>

#include "buf.h"

/*
 * Buffered I/O over a connection with swappable transport ops (after
 * qmail's substdio): plain fd now, a GnuTLS session later.  STARTTLS is
 * iobuf_set_ops(), which drops whatever was read ahead and says how much,
 * so the caller can refuse a server that pipelined bytes after its 220.
 *
 * Every wait is bounded by an absolute deadline (now_ms() clock): a server
 * that trickles one byte at a time still hits it.  The fd is non-blocking;
 * ops return -1/EAGAIN when they would block and iobuf polls.
 */

struct io_ops {
	/* As read(2)/write(2); -1 with errno EAGAIN when they would block,
	 * 0 from read at end of stream. */
	ssize_t	(*read)(void *ctx, void *p, size_t n);
	ssize_t	(*write)(void *ctx, const void *p, size_t n);
	/* Bytes already decoded below us (TLS records), readable without
	 * waiting on the fd; NULL means none. */
	size_t	(*pending)(void *ctx);
	/* Which direction the op was waiting for when it said EAGAIN
	 * (TLS may need to write to read): POLLIN or POLLOUT.  NULL means
	 * the obvious one. */
	int	(*direction)(void *ctx);
};

/*
 * Before waiting for the peer's next bytes: acknowledge at once what has
 * arrived instead of letting the kernel delay the ACK (Linux: up to 40
 * ms).  A server that writes twice without reading in between (TLS 1.3
 * session tickets, then its greeting or EHLO reply) holds the second
 * write in Nagle's algorithm until that ACK comes.  Best effort: no
 * effect on a socket that is not TCP.
 */
void	 io_ack_now(int fd);

/* The plain-fd ops; ctx is a pointer to the int fd. */
extern const struct io_ops iobuf_fd_ops;

#define IOBUF_RSIZE	 16384
#define IOBUF_WFLUSH	 65536	/* iobuf_queue_data() flushes past this */

enum io_result {
	IO_OK = 0,
	IO_TIMEOUT,	/* the deadline passed */
	IO_EOF,		/* the peer closed the connection */
	IO_ERROR,	/* errno is set */
	IO_TOOLONG	/* a line longer than the caller's limit */
};

struct iobuf {
	int			 fd;
	const struct io_ops	*ops;
	void			*ctx;
	char			 rbuf[IOBUF_RSIZE];
	size_t			 rpos;
	size_t			 rlen;
	struct buf		 wbuf;
	struct buf		 line;	/* the last line read */
};

/* Set up over a connected fd (made non-blocking here) with plain ops. */
void	iobuf_init(struct iobuf *, int fd);
/* Free the buffers; the fd stays open (the caller closes it). */
void	iobuf_release(struct iobuf *);
/* As iobuf_release(), but first overwrite what was read and written
 * (the exchange held secrets). */
void	iobuf_wipe(struct iobuf *);
/* Swap the transport; returns the number of read-ahead bytes dropped. */
size_t	iobuf_set_ops(struct iobuf *, const struct io_ops *, void *ctx);
/* Bytes read ahead and not yet consumed. */
size_t	iobuf_unread(const struct iobuf *);

/* Append to the output buffer; nothing is written until a flush. */
void	iobuf_queue(struct iobuf *, const void *, size_t);
void	iobuf_queuef(struct iobuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Write everything queued, waiting at most until `deadline`. */
enum io_result iobuf_flush(struct iobuf *, long long deadline);
/* Queue bulk data, flushing whenever IOBUF_WFLUSH bytes are waiting: large
 * writes, never one per line. */
enum io_result iobuf_queue_data(struct iobuf *, const void *, size_t,
	    long long deadline);

/*
 * After what is queued, `len` bytes of the file `fd` from *off straight
 * to a plain connection (sendfile(2): no copy through user space); *off
 * advances by what was written.  IO_ERROR with errno EOPNOTSUPP over
 * other ops (TLS) or without sendfile, so the caller copies instead, and
 * with ENODATA when the file ends before `len` bytes.
 */
enum io_result iobuf_sendfile(struct iobuf *, int fd, off_t *off, size_t len,
	    long long deadline);

/*
 * Whatever bytes have arrived, for a caller that parses a stream itself:
 * those read ahead or, when there are none, those of one read.  On IO_OK
 * *p points at them (valid until the next call) and *n is their count
 * (at least 1); they count as consumed.
 */
enum io_result iobuf_read(struct iobuf *, const char **p, size_t *n,
	    long long deadline);

/*
 * Read one line ending in LF.  On IO_OK *line points at its bytes (CR LF
 * or LF stripped; the pointer is valid until the next call) and *len is
 * its length.  A line longer than `max` is IO_TOOLONG (the rest is not
 * read).  A line that is cut off by EOF is IO_EOF.
 */
enum io_result iobuf_getline(struct iobuf *, const char **line, size_t *len,
	    size_t max, long long deadline);

#endif
