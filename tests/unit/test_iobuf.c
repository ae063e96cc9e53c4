#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "iobuf.h"
#include "t.h"
#include "util.h"

/*
 * Stub transport: read returns scripted chunks (NULL data: EAGAIN, or
 * EIO when len is 1; len 0 with data: end of stream; EOF also after the script ends);
 * write takes at most `wmax` bytes per call, says EAGAIN every
 * `wagain`-th call and fails with `werr` once `wfail_after` bytes went.
 * The iobuf's fd is one end of a socketpair whose other end wrote a byte,
 * so poll() always finds it ready and the stub decides what happens.
 */
struct chunk {
	const char	*data;
	size_t		 len;
};

struct stub {
	const struct chunk *script;
	size_t		 n, i;
	size_t		 reads;
	struct buf	 out;
	size_t		 wmax;
	unsigned	 wagain, wcalls;
	size_t		 wfail_after;
	int		 werr;
};

static ssize_t
stub_read(void *ctx, void *p, size_t n)
{
	struct stub		*s = ctx;
	const struct chunk	*c;

	s->reads++;
	if (s->i >= s->n)
		return 0;
	c = &s->script[s->i++];
	if (c->data == NULL) {
		errno = c->len == 0 ? EAGAIN : EIO;
		return -1;
	}
	if (c->len > n)
		abort();	/* scripts stay below IOBUF_RSIZE */
	memcpy(p, c->data, c->len);
	return (ssize_t)c->len;
}

static ssize_t
stub_write(void *ctx, const void *p, size_t n)
{
	struct stub	*s = ctx;

	s->wcalls++;
	if (s->wagain > 0 && s->wcalls % s->wagain == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (s->werr != 0 && s->out.len >= s->wfail_after) {
		errno = s->werr;
		return -1;
	}
	if (s->wmax > 0 && n > s->wmax)
		n = 1 + s->wcalls % s->wmax;	/* 1..wmax bytes */
	buf_add(&s->out, p, n);
	return (ssize_t)n;
}

static const struct io_ops stub_ops = { stub_read, stub_write, NULL, NULL };

static int	 sp[2];

static void
stub_setup(struct iobuf *b, struct stub *s, const struct chunk *script,
    size_t n)
{
	memset(s, 0, sizeof(*s));
	s->script = script;
	s->n = n;
	buf_init(&s->out);
	iobuf_init(b, sp[0]);
	(void)iobuf_set_ops(b, &stub_ops, s);
}

static enum io_result
getline_(struct iobuf *b, const char **l, size_t *len, size_t max)
{
	return iobuf_getline(b, l, len, max, now_ms() + 2000);
}

#define LINE_IS(b, want) do {						\
	const char *l_ = NULL;						\
	size_t n_ = 0;							\
	CHECK_INT(getline_((b), &l_, &n_, 100), IO_OK);			\
	CHECK(l_ != NULL && n_ == strlen(want) &&			\
	    memcmp(l_, (want), n_) == 0);				\
} while (0)

#define C(s)	{ s, sizeof(s) - 1 }
#define AGAIN	{ NULL, 0 }

static void
test_getline(void)
{
	struct iobuf	 b;
	struct stub	 s;
	const char	*l;
	size_t		 n;
	static const struct chunk script[] = {
		C("250-a\r\n25"), C("0 b\r"), AGAIN, C("\n"), AGAIN, AGAIN,
		C("x\n"), C("2"), C("5"), AGAIN, C("0"), C("\r"), C("\n"),
		C("a\rb\r\n"), C("\r\n"), C("one\r\ntwo\r\nthree\r\n"),
		C("tail")
	};

	stub_setup(&b, &s, script, sizeof(script) / sizeof(script[0]));
	LINE_IS(&b, "250-a");
	LINE_IS(&b, "250 b");
	LINE_IS(&b, "x");		/* bare LF ends a line too */
	LINE_IS(&b, "250");		/* 1-byte chunks and EAGAIN */
	LINE_IS(&b, "a\rb");		/* a lone CR is the parser's */
	LINE_IS(&b, "");
	LINE_IS(&b, "one");
	CHECK_INT(iobuf_unread(&b), 12);
	LINE_IS(&b, "two");
	LINE_IS(&b, "three");
	/* EOF in the middle of a line. */
	CHECK_INT(getline_(&b, &l, &n, 100), IO_EOF);
	/* And again at EOF. */
	CHECK_INT(getline_(&b, &l, &n, 100), IO_EOF);
	iobuf_release(&b);
	buf_release(&s.out);
}

/* iobuf_read(): what was read ahead first, then one read at a time;
 * iobuf_wipe() leaves nothing behind. */
static void
test_read(void)
{
	struct iobuf	 b;
	struct stub	 s;
	const char	*p;
	size_t		 n;
	long long	 dl = now_ms() + 2000;
	static const struct chunk script[] = {
		C("line\r\nrest"), AGAIN, C("more"), C("x")
	};

	stub_setup(&b, &s, script, sizeof(script) / sizeof(script[0]));
	LINE_IS(&b, "line");
	CHECK_INT(iobuf_read(&b, &p, &n, dl), IO_OK);
	CHECK(n == 4 && memcmp(p, "rest", 4) == 0);
	CHECK_INT(iobuf_unread(&b), 0);
	CHECK_INT(iobuf_read(&b, &p, &n, dl), IO_OK);
	CHECK(n == 4 && memcmp(p, "more", 4) == 0);
	CHECK_INT(iobuf_read(&b, &p, &n, dl), IO_OK);
	CHECK(n == 1 && p[0] == 'x');
	CHECK_INT(iobuf_read(&b, &p, &n, dl), IO_EOF);
	iobuf_queue(&b, "secret", 6);
	iobuf_wipe(&b);
	CHECK(b.wbuf.data == NULL && b.line.data == NULL);
	CHECK(memmem(b.rbuf, sizeof(b.rbuf), "rest", 4) == NULL);
	CHECK_INT(iobuf_unread(&b), 0);
	buf_release(&s.out);
}

static void
test_toolong(void)
{
	struct iobuf	 b;
	struct stub	 s;
	const char	*l;
	size_t		 n;
	static const struct chunk ok[] = { C("12345\r\n"), C("12345\n") };
	static const struct chunk bad1[] = { C("123456\r\n") };
	static const struct chunk bad2[] = { C("123"), C("456") , C("789") };
	static const struct chunk bad3[] = { C("12345\r"), C("x\r\n") };

	stub_setup(&b, &s, ok, 2);
	CHECK_INT(getline_(&b, &l, &n, 5), IO_OK);
	CHECK_INT(n, 5);
	CHECK_INT(getline_(&b, &l, &n, 5), IO_OK);
	CHECK_INT(n, 5);
	iobuf_release(&b);

	stub_setup(&b, &s, bad1, 1);
	CHECK_INT(getline_(&b, &l, &n, 5), IO_TOOLONG);
	iobuf_release(&b);

	/* An endless line stops at the limit, without reading it all. */
	stub_setup(&b, &s, bad2, 3);
	CHECK_INT(getline_(&b, &l, &n, 5), IO_TOOLONG);
	CHECK(s.i < 3);
	iobuf_release(&b);

	stub_setup(&b, &s, bad3, 2);
	CHECK_INT(getline_(&b, &l, &n, 5), IO_TOOLONG);
	iobuf_release(&b);
}

static void
test_read_error(void)
{
	struct iobuf	 b;
	struct stub	 s;
	const char	*l;
	size_t		 n;

	static const struct chunk script[] = { C("25"), { NULL, 1 } };

	stub_setup(&b, &s, NULL, 0);
	CHECK_INT(getline_(&b, &l, &n, 5), IO_EOF);
	iobuf_release(&b);

	stub_setup(&b, &s, script, 2);
	errno = 0;
	CHECK_INT(getline_(&b, &l, &n, 5), IO_ERROR);
	CHECK_INT(errno, EIO);
	iobuf_release(&b);
}

static void
test_set_ops(void)
{
	struct iobuf	 b;
	struct stub	 s, s2;
	static const struct chunk script[] = {
		C("220 go ahead\r\n250 injected\r\n")
	};
	static const struct chunk script2[] = { C("220 tls\r\n") };

	stub_setup(&b, &s, script, 1);
	LINE_IS(&b, "220 go ahead");
	CHECK_INT(iobuf_unread(&b), 14);
	memset(&s2, 0, sizeof(s2));
	s2.script = script2;
	s2.n = 1;
	CHECK_INT(iobuf_set_ops(&b, &stub_ops, &s2), 14);
	CHECK_INT(iobuf_unread(&b), 0);
	LINE_IS(&b, "220 tls");		/* from the new ops only */
	CHECK_INT(iobuf_set_ops(&b, &stub_ops, &s2), 0);
	iobuf_release(&b);
	buf_release(&s.out);
}

static void
test_write(void)
{
	struct iobuf	 b;
	struct stub	 s;
	char		*big;
	size_t		 i, total = 3 * IOBUF_WFLUSH + 1234;
	int		 same;

	big = malloc(total);
	for (i = 0; i < total; i++)
		big[i] = (char)('a' + i % 26);

	/* Short writes of 1..7 bytes and EAGAIN every 5th call. */
	stub_setup(&b, &s, NULL, 0);
	s.wmax = 7;
	s.wagain = 5;
	iobuf_queue(&b, "MAIL FROM:<a@b>\r\n", 17);
	iobuf_queuef(&b, "RCPT TO:<%s>\r\n", "c@d");
	CHECK_INT(iobuf_flush(&b, now_ms() + 5000), IO_OK);
	CHECK_STR(buf_str(&s.out), "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
	CHECK_INT(b.wbuf.len, 0);
	/* Nothing queued: no write at all. */
	i = s.wcalls;
	CHECK_INT(iobuf_flush(&b, now_ms() + 5000), IO_OK);
	CHECK_INT(s.wcalls, i);
	iobuf_release(&b);
	buf_release(&s.out);

	/* Bulk data: flushed in IOBUF_WFLUSH pieces, the rest waits. */
	stub_setup(&b, &s, NULL, 0);
	for (i = 0; i < total; i += 1000)
		CHECK_INT(iobuf_queue_data(&b, big + i, total - i < 1000 ?
		    total - i : 1000, now_ms() + 5000), IO_OK);
	CHECK(b.wbuf.len < IOBUF_WFLUSH);
	CHECK_INT(s.out.len, 3 * IOBUF_WFLUSH);
	CHECK_INT(s.wcalls, 3);		/* large writes, not one per call */
	CHECK_INT(iobuf_flush(&b, now_ms() + 5000), IO_OK);
	same = s.out.len == total && memcmp(s.out.data, big, total) == 0;
	CHECK(same);
	iobuf_release(&b);
	buf_release(&s.out);

	/* The same with short writes. */
	stub_setup(&b, &s, NULL, 0);
	s.wmax = 4000;
	s.wagain = 3;
	CHECK_INT(iobuf_queue_data(&b, big, total, now_ms() + 5000), IO_OK);
	CHECK_INT(iobuf_flush(&b, now_ms() + 5000), IO_OK);
	same = s.out.len == total && memcmp(s.out.data, big, total) == 0;
	CHECK(same);
	iobuf_release(&b);
	buf_release(&s.out);

	/* A write error: IO_ERROR, errno kept, the unsent rest kept. */
	stub_setup(&b, &s, NULL, 0);
	s.wmax = 10;
	s.werr = EPIPE;
	s.wfail_after = 20;
	iobuf_queue(&b, big, 100);
	errno = 0;
	CHECK_INT(iobuf_flush(&b, now_ms() + 5000), IO_ERROR);
	CHECK_INT(errno, EPIPE);
	CHECK_INT(s.out.len + b.wbuf.len, 100);
	iobuf_release(&b);
	buf_release(&s.out);
	free(big);
}

/* Real fds: deadlines are absolute. */
static void
test_deadline(void)
{
	struct iobuf	 b;
	int		 p[2], i;
	long long	 t0, el;
	const char	*l;
	size_t		 n;
	pid_t		 pid;
	char		*big;

	/* Nobody writes: IO_TIMEOUT near the deadline. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0);
	iobuf_init(&b, p[0]);
	t0 = now_ms();
	CHECK_INT(iobuf_getline(&b, &l, &n, 100, t0 + 300), IO_TIMEOUT);
	el = now_ms() - t0;
	CHECK(el >= 290 && el < 1000);

	/* A deadline already past. */
	CHECK_INT(iobuf_getline(&b, &l, &n, 100, now_ms() - 1), IO_TIMEOUT);

	/* A peer that trickles a byte every 20 ms never completes a line:
	 * the deadline is not extended by each byte. */
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		for (i = 0; i < 200; i++) {
			if (write(p[1], "x", 1) != 1)
				_exit(0);
			usleep(20000);
		}
		_exit(0);
	}
	t0 = now_ms();
	CHECK_INT(iobuf_getline(&b, &l, &n, 10000, t0 + 400), IO_TIMEOUT);
	el = now_ms() - t0;
	CHECK(el >= 390 && el < 1200);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	/* Nobody reads: a large flush times out. */
	big = calloc(1, 8 << 20);
	iobuf_queue(&b, big, 8 << 20);
	t0 = now_ms();
	CHECK_INT(iobuf_flush(&b, t0 + 300), IO_TIMEOUT);
	el = now_ms() - t0;
	CHECK(el >= 290 && el < 1000);
	CHECK(b.wbuf.len > 0 && b.wbuf.len < (8 << 20));
	free(big);

	/* The peer closes: EOF; writing then: an error (EPIPE) rather than
	 * a signal, even with SIGPIPE at its default. */
	close(p[1]);
	while (iobuf_getline(&b, &l, &n, 100000, now_ms() + 1000) == IO_OK)
		;
	CHECK_INT(iobuf_getline(&b, &l, &n, 100, now_ms() + 1000), IO_EOF);
	iobuf_queue(&b, "QUIT\r\n", 6);
	errno = 0;
	CHECK_INT(iobuf_flush(&b, now_ms() + 1000), IO_ERROR);
	CHECK(errno == EPIPE || errno == ECONNRESET);
	iobuf_release(&b);
	close(p[0]);
}

int
main(void)
{
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	CHECK(write(sp[1], "r", 1) == 1);	/* sp[0] always readable */
	test_getline();
	test_read();
	test_toolong();
	test_read_error();
	test_set_ops();
	test_write();
	test_deadline();
	return t_done();
}
