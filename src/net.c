#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "outcome.h"
#include "net.h"
#include "util.h"

/*
 * Happy Eyeballs (RFC 8305): the next address is tried when the last one
 * has not answered within this time, while the earlier attempts go on;
 * the first connection made wins.  An address that drops SYNs then
 * costs 250 ms, not a whole timeout.
 */
#define ATTEMPT_DELAY_MS 250
#define MAX_ATTEMPTS	 16	/* addresses tried at all */

struct attempt {
	int		 fd;
	char		 addr[NI_MAXHOST];
};

static int	wait_connect(int, long long);
static void	note_failure(struct buf *, const char *, int, int);
static int	connect_unix(const struct net_target *, long long,
		    enum local_err *, struct buf *, struct buf *);
static size_t	interleave(struct addrinfo *, struct addrinfo **, size_t);
static int	start_attempt(const struct net_target *,
		    const struct addrinfo *, const struct addrinfo *,
		    struct attempt *, enum local_err *, struct buf *);
static int	race(const struct net_target *, struct addrinfo *,
		    const struct addrinfo *, long long, enum local_err *,
		    struct buf *, struct buf *);

/*
 * Finish a non-blocking connect: 0 when connected, -1 with errno set
 * (ETIMEDOUT when the deadline passed).
 */
static int
wait_connect(int fd, long long deadline)
{
	struct pollfd	 pfd;
	socklen_t	 len;
	int		 r, soerr, ms;

	for (;;) {
		if ((ms = ms_left(deadline)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		r = poll(&pfd, 1, ms);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		break;
	}
	len = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

/* Add "connection refused by ADDR port N" (or the like) to `err`. */
static void
note_failure(struct buf *err, const char *addr, int port, int e)
{
	if (err->len > 0)
		buf_addstr(err, "; ");
	if (e == ECONNREFUSED)
		buf_addf(err, "connection refused by %s port %d", addr, port);
	else if (e == ETIMEDOUT)
		buf_addf(err, "connection to %s port %d timed out", addr, port);
	else
		buf_addf(err, "cannot connect to %s port %d: %s", addr, port,
		    strerror(e));
}

static int
connect_unix(const struct net_target *t, long long deadline,
    enum local_err *le, struct buf *err, struct buf *connected)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(t->socket) >= sizeof(sun.sun_path)) {
		*le = LE_CONFIG;
		buf_addf(err, "socket path '%s' is too long", t->socket);
		return -1;
	}
	memcpy(sun.sun_path, t->socket, strlen(t->socket) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		*le = LE_OSERR;
		buf_addf(err, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    ((errno != EINPROGRESS && errno != EAGAIN && errno != EINTR) ||
	    wait_connect(fd, deadline) == -1)) {
		*le = errno == ETIMEDOUT ? LE_TIMEOUT : LE_CONNECT;
		if (errno == ETIMEDOUT)
			buf_addf(err, "connection to socket '%s' timed out",
			    t->socket);
		else
			buf_addf(err, "cannot connect to socket '%s': %s",
			    t->socket, strerror(errno));
		close(fd);
		return -1;
	}
	buf_addstr(connected, t->socket);
	return fd;
}

/*
 * The resolver's order (RFC 6724), with the families taking turns from
 * the first one's (RFC 8305 section 4): a broken IPv6 path then costs
 * one attempt delay, not every IPv6 address in turn.
 */
static size_t
interleave(struct addrinfo *res, struct addrinfo **out, size_t max)
{
	struct addrinfo	*ai, *fam[2][MAX_ATTEMPTS];
	size_t		 n[2] = { 0, 0 }, i[2] = { 0, 0 }, k = 0;
	int		 f, first = res != NULL ? res->ai_family : 0;

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		f = ai->ai_family != first;
		if (n[f] < MAX_ATTEMPTS)
			fam[f][n[f]++] = ai;
	}
	for (f = 0; k < max && (i[0] < n[0] || i[1] < n[1]); f = !f)
		if (i[f] < n[f])
			out[k++] = fam[f][i[f]++];
	return k;
}

/*
 * Start a non-blocking connect to `ai` in `a`.  1 when it is under way
 * (or already made: a->fd is then writable at once), 0 when this address
 * failed at once (noted in `err`), -1 when no address can work (a bad
 * source_ip: *le and `err` say why).
 */
static int
start_attempt(const struct net_target *t, const struct addrinfo *ai,
    const struct addrinfo *src, struct attempt *a, enum local_err *le,
    struct buf *err)
{
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, a->addr,
	    sizeof(a->addr), NULL, 0, NI_NUMERICHOST) != 0)
		(void)snprintf(a->addr, sizeof(a->addr), "?");
	a->fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (a->fd == -1) {
		note_failure(err, a->addr, t->port, errno);
		return 0;
	}
	if (src != NULL && bind(a->fd, src->ai_addr, src->ai_addrlen) == -1) {
		*le = LE_CONFIG;
		buf_reset(err);
		buf_addf(err, "cannot use source_ip '%s': %s", t->source_ip,
		    strerror(errno));
		close(a->fd);
		a->fd = -1;
		return -1;
	}
	if (connect(a->fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
	    errno == EINPROGRESS || errno == EINTR)
		return 1;
	note_failure(err, a->addr, t->port, errno);
	close(a->fd);
	a->fd = -1;
	return 0;
}

/*
 * Connect to the first of the addresses that answers, starting the next
 * attempt ATTEMPT_DELAY_MS after the last one (or as soon as it failed)
 * while the earlier ones go on.  Returns the connected fd (the others
 * are closed) or -1 with *le and `err` set: LE_TIMEOUT when every
 * address tried was still silent at the deadline.
 */
static int
race(const struct net_target *t, struct addrinfo *res,
    const struct addrinfo *src, long long deadline, enum local_err *le,
    struct buf *err, struct buf *connected)
{
	struct addrinfo	*order[MAX_ATTEMPTS];
	struct attempt	 at[MAX_ATTEMPTS];
	struct pollfd	 pfd[MAX_ATTEMPTS];
	size_t		 n, next = 0, k, nlive, ntried = 0, ntimeout = 0;
	long long	 start_next = 0, now, wake;
	socklen_t	 len;
	int		 fd = -1, r, soerr;

	n = interleave(res, order, MAX_ATTEMPTS);
	for (k = 0; k < n; k++)
		at[k].fd = -1;
	for (;;) {
		now = now_ms();
		/* Start the next address when it is time, or when nothing
		 * is under way any more. */
		nlive = 0;
		for (k = 0; k < next; k++)
			nlive += at[k].fd != -1;
		if (next < n && now < deadline &&
		    (nlive == 0 || now >= start_next)) {
			ntried++;
			r = start_attempt(t, order[next], src, &at[next], le,
			    err);
			next++;
			if (r == -1)
				break;
			start_next = now + ATTEMPT_DELAY_MS;
			continue;
		}
		if (nlive == 0 || now >= deadline)
			break;
		wake = next < n && start_next < deadline ? start_next :
		    deadline;
		for (k = 0; k < next; k++) {
			pfd[k].fd = at[k].fd;	/* -1: poll skips it */
			pfd[k].events = POLLOUT;
			pfd[k].revents = 0;
		}
		r = poll(pfd, (nfds_t)next, wake > now ? (int)(wake - now) :
		    0);
		if (r == -1 && errno != EINTR)
			break;
		for (k = 0; r > 0 && k < next && fd == -1; k++) {
			if (at[k].fd == -1 || pfd[k].revents == 0)
				continue;
			len = sizeof(soerr);
			if (getsockopt(at[k].fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &len) == -1)
				soerr = errno;
			if (soerr == 0) {
				fd = at[k].fd;
				at[k].fd = -1;
				buf_addstr(connected, at[k].addr);
				break;
			}
			note_failure(err, at[k].addr, t->port, soerr);
			ntimeout += soerr == ETIMEDOUT;
			close(at[k].fd);
			at[k].fd = -1;
			/* A failure: the next address need not wait. */
			start_next = now;
		}
		if (fd != -1)
			break;
	}
	for (k = 0; k < next; k++)
		if (at[k].fd != -1) {
			if (fd == -1) {
				note_failure(err, at[k].addr, t->port,
				    ETIMEDOUT);
				ntimeout++;
			}
			close(at[k].fd);
		}
	if (fd == -1 && *le == LE_NONE) {
		if (ntried < n && err->len > 0)
			buf_addstr(err, "; ");
		if (ntried < n)
			buf_addf(err, "%zu more address%s not tried before "
			    "the deadline", n - ntried, n - ntried == 1 ?
			    "" : "es");
		*le = ntried > 0 && ntimeout == ntried ? LE_TIMEOUT :
		    LE_CONNECT;
	}
	return fd;
}

int
net_connect(const struct net_target *t, long long deadline,
    enum local_err *le, struct buf *err, struct buf *connected)
{
	struct addrinfo		 hints, *res = NULL, *src = NULL;
	char			 port[16];
	int			 fd = -1, r, on = 1;

	*le = LE_NONE;
	if (t->socket != NULL)
		return connect_unix(t, deadline, le, err, connected);
	if (t->host == NULL || t->host[0] == '\0') {
		*le = LE_CONFIG;
		buf_addstr(err, "no host configured");
		return -1;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (t->source_ip != NULL) {
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if (getaddrinfo(t->source_ip, NULL, &hints, &src) != 0) {
			*le = LE_CONFIG;
			buf_addf(err, "invalid source_ip '%s': not a numeric "
			    "address", t->source_ip);
			return -1;
		}
		/* Only destinations of the source's family can work. */
		hints.ai_family = src->ai_family;
	}

	/*
	 * No AI_ADDRCONFIG: glibc ignores loopback when it decides which
	 * families are "configured", so a host with only loopback (a
	 * container, a test) would find no address for localhost.  An
	 * address of a family we cannot reach fails fast (ENETUNREACH).
	 */
	hints.ai_flags = AI_NUMERICSERV;
	(void)snprintf(port, sizeof(port), "%d", t->port);
	r = getaddrinfo(t->host, port, &hints, &res);
	if (r != 0) {
		switch (r) {
		case EAI_NONAME:
#ifdef EAI_NODATA
		case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
		case EAI_ADDRFAMILY:
#endif
			*le = LE_NOHOST;
			if (src != NULL)
				buf_addf(err, "host '%s' not found (for the "
				    "address family of source_ip '%s')",
				    t->host, t->source_ip);
			else
				buf_addf(err, "host '%s' not found", t->host);
			break;
		case EAI_MEMORY:
			*le = LE_OSERR;
			buf_addf(err, "cannot look up '%s': %s", t->host,
			    gai_strerror(r));
			break;
		default:
			/* EAI_AGAIN, EAI_FAIL (SERVFAIL), EAI_SYSTEM: may
			 * go away by itself. */
			*le = LE_DNSTEMP;
			buf_addf(err, "temporary failure looking up '%s': %s",
			    t->host, r == EAI_SYSTEM ? strerror(errno) :
			    gai_strerror(r));
			break;
		}
		if (src != NULL)
			freeaddrinfo(src);
		return -1;
	}

	fd = race(t, res, src, deadline, le, err, connected);
	if (fd != -1) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
		buf_reset(err);
	}
	freeaddrinfo(res);
	if (src != NULL)
		freeaddrinfo(src);
	return fd;
}

void
net_end_gently(int fd)
{
	char	 sink[4096];
	int	 i;

	(void)shutdown(fd, SHUT_WR);
	/* Bounded: a peer that keeps sending is not waited for. */
	for (i = 0; i < 16; i++)
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
}
