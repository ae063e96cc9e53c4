#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#ifdef HAVE_SYS_SENDFILE_H
#include <sys/sendfile.h>
#endif

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "iobuf.h"
#include "util.h"

static ssize_t	fd_read(void *, void *, size_t);
static ssize_t	fd_write(void *, const void *, size_t);
static enum io_result wait_for(struct iobuf *, int, long long);
static enum io_result fill(struct iobuf *, long long);
static enum io_result flush_n(struct iobuf *, size_t, long long);

const struct io_ops iobuf_fd_ops = {
	fd_read,
	fd_write,
	NULL,
	NULL
};

static ssize_t
fd_read(void *ctx, void *p, size_t n)
{
	return read(*(int *)ctx, p, n);
}

/*
 * send(2) with MSG_NOSIGNAL so that a peer that went away gives EPIPE
 * even in a program that did not ignore SIGPIPE (the front end does, but
 * the engine should not depend on it).  Not a socket (a pipe in a test):
 * plain write(2).
 */
static ssize_t
fd_write(void *ctx, const void *p, size_t n)
{
	int	 fd = *(int *)ctx;
	ssize_t	 r;

	r = send(fd, p, n, MSG_NOSIGNAL);
	if (r == -1 && errno == ENOTSOCK)
		r = write(fd, p, n);
	return r;
}

void
iobuf_init(struct iobuf *b, int fd)
{
	int	 fl;

	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->ops = &iobuf_fd_ops;
	b->ctx = &b->fd;
	buf_init(&b->wbuf);
	buf_init(&b->line);
	if ((fl = fcntl(fd, F_GETFL)) != -1 && (fl & O_NONBLOCK) == 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void
iobuf_release(struct iobuf *b)
{
	buf_release(&b->wbuf);
	buf_release(&b->line);
	b->rpos = b->rlen = 0;
}

void
iobuf_wipe(struct iobuf *b)
{
	explicit_bzero(b->rbuf, sizeof(b->rbuf));
	buf_wipe(&b->wbuf);
	buf_wipe(&b->line);
	b->rpos = b->rlen = 0;
}

size_t
iobuf_set_ops(struct iobuf *b, const struct io_ops *ops, void *ctx)
{
	size_t	 dropped = b->rlen - b->rpos;

	b->rpos = b->rlen = 0;
	b->ops = ops;
	b->ctx = ctx;
	return dropped;
}

size_t
iobuf_unread(const struct iobuf *b)
{
	return b->rlen - b->rpos;
}

void
io_ack_now(int fd)
{
#ifdef TCP_QUICKACK
	int	 on = 1;

	/* Quick-ACK mode is not sticky: the kernel leaves it again after a
	 * few segments, so it is asked for before every wait. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
#else
	(void)fd;
#endif
}

/* Wait until the transport can go on in direction `dir` (POLLIN or
 * POLLOUT, unless the ops know better) or the deadline passes. */
static enum io_result
wait_for(struct iobuf *b, int dir, long long deadline)
{
	struct pollfd	 pfd;
	int		 ms, r;

	if (b->ops->direction != NULL)
		dir = b->ops->direction(b->ctx);
	if (dir & POLLIN)
		io_ack_now(b->fd);
	for (;;) {
		if ((ms = ms_left(deadline)) == 0)
			return IO_TIMEOUT;
		pfd.fd = b->fd;
		pfd.events = dir;
		pfd.revents = 0;
		r = poll(&pfd, 1, ms);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return IO_ERROR;
		}
		if (r == 0)
			return IO_TIMEOUT;
		/* POLLERR/POLLHUP: let the next read or write report it. */
		return IO_OK;
	}
}

/* Read more bytes into rbuf (at least one, unless an error or EOF). */
static enum io_result
fill(struct iobuf *b, long long deadline)
{
	enum io_result	 ior;
	ssize_t		 n;

	if (b->rpos == b->rlen)
		b->rpos = b->rlen = 0;
	else if (b->rpos > 0) {
		memmove(b->rbuf, b->rbuf + b->rpos, b->rlen - b->rpos);
		b->rlen -= b->rpos;
		b->rpos = 0;
	}
	for (;;) {
		/* Absolute: bytes that keep trickling in do not extend it.
		 * The op is always tried before poll(), so bytes a TLS
		 * layer holds decoded (ops->pending) never wait on it. */
		if (ms_left(deadline) == 0)
			return IO_TIMEOUT;
		n = b->ops->read(b->ctx, b->rbuf + b->rlen,
		    sizeof(b->rbuf) - b->rlen);
		if (n > 0) {
			b->rlen += (size_t)n;
			return IO_OK;
		}
		if (n == 0)
			return IO_EOF;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return IO_ERROR;
		if ((ior = wait_for(b, POLLIN, deadline)) != IO_OK)
			return ior;
	}
}

enum io_result
iobuf_read(struct iobuf *b, const char **p, size_t *n, long long deadline)
{
	enum io_result	 ior;

	if (b->rpos == b->rlen && (ior = fill(b, deadline)) != IO_OK)
		return ior;
	*p = b->rbuf + b->rpos;
	*n = b->rlen - b->rpos;
	b->rpos = b->rlen;
	return IO_OK;
}

enum io_result
iobuf_getline(struct iobuf *b, const char **line, size_t *len, size_t max,
    long long deadline)
{
	enum io_result	 ior;
	const char	*p, *nl;
	size_t		 n;

	buf_reset(&b->line);
	for (;;) {
		p = b->rbuf + b->rpos;
		n = b->rlen - b->rpos;
		nl = n > 0 ? memchr(p, '\n', n) : NULL;
		if (nl != NULL)
			n = (size_t)(nl - p);
		/* max + 1: room for the CR that may precede the LF. */
		if (b->line.len + n > max + 1)
			return IO_TOOLONG;
		buf_add(&b->line, p, n);
		if (nl != NULL) {
			b->rpos += n + 1;
			if (b->line.len > 0 &&
			    b->line.data[b->line.len - 1] == '\r')
				buf_truncate(&b->line, b->line.len - 1);
			if (b->line.len > max)
				return IO_TOOLONG;
			*line = b->line.data != NULL ? b->line.data : "";
			*len = b->line.len;
			return IO_OK;
		}
		b->rpos += n;
		/* Only a CR may still fit past `max`. */
		if (b->line.len > max &&
		    b->line.data[b->line.len - 1] != '\r')
			return IO_TOOLONG;
		if ((ior = fill(b, deadline)) != IO_OK)
			return ior;
	}
}

void
iobuf_queue(struct iobuf *b, const void *p, size_t n)
{
	buf_add(&b->wbuf, p, n);
}

void
iobuf_queuef(struct iobuf *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	buf_vaddf(&b->wbuf, fmt, ap);
	va_end(ap);
}

/* Write the first `limit` queued bytes (all when fewer are queued). */
static enum io_result
flush_n(struct iobuf *b, size_t limit, long long deadline)
{
	enum io_result	 ior = IO_OK;
	size_t		 off = 0, end;
	ssize_t		 n;

	end = b->wbuf.len < limit ? b->wbuf.len : limit;
	while (off < end) {
		n = b->ops->write(b->ctx, b->wbuf.data + off, end - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == 0) {
			/* Nothing written and no error: do not spin. */
			errno = EIO;
			ior = IO_ERROR;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ior = IO_ERROR;
			break;
		}
		if ((ior = wait_for(b, POLLOUT, deadline)) != IO_OK)
			break;
	}
	buf_consume(&b->wbuf, off);
	return ior;
}

enum io_result
iobuf_flush(struct iobuf *b, long long deadline)
{
	return flush_n(b, b->wbuf.len, deadline);
}

enum io_result
iobuf_queue_data(struct iobuf *b, const void *p, size_t n, long long deadline)
{
	enum io_result	 ior;

	buf_add(&b->wbuf, p, n);
	while (b->wbuf.len >= IOBUF_WFLUSH)
		if ((ior = flush_n(b, IOBUF_WFLUSH, deadline)) != IO_OK)
			return ior;
	return IO_OK;
}

enum io_result
iobuf_sendfile(struct iobuf *b, int fd, off_t *off, size_t len,
    long long deadline)
{
#ifdef HAVE_SYS_SENDFILE_H
	enum io_result	 ior;
	ssize_t		 n;

	if (b->ops != &iobuf_fd_ops) {
		errno = EOPNOTSUPP;
		return IO_ERROR;
	}
	if ((ior = iobuf_flush(b, deadline)) != IO_OK)
		return ior;
	while (len > 0) {
		n = sendfile(b->fd, fd, off, len);
		if (n > 0) {
			len -= (size_t)n;
			continue;
		}
		if (n == 0) {
			errno = ENODATA;
			return IO_ERROR;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return IO_ERROR;
		if ((ior = wait_for(b, POLLOUT, deadline)) != IO_OK)
			return ior;
	}
	return IO_OK;
#else
	(void)b;
	(void)fd;
	(void)off;
	(void)len;
	(void)deadline;
	errno = EOPNOTSUPP;
	return IO_ERROR;
#endif
}
