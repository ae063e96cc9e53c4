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

#define MIN_ATTEMPT_MS	 5000

static int	wait_connect(int, long long);
static void	note_failure(struct buf *, const char *, int, int);
static int	connect_unix(const struct net_target *, long long,
		    enum local_err *, struct buf *, struct buf *);

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

int
net_connect(const struct net_target *t, long long deadline,
    enum local_err *le, struct buf *err, struct buf *connected)
{
	struct addrinfo		 hints, *res = NULL, *src = NULL, *ai;
	char			 port[16], addr[NI_MAXHOST];
	long long		 now, left, slice, attempt;
	unsigned		 naddr = 0, ntimeout = 0, ntried = 0;
	int			 fd = -1, r, on = 1, e;

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

	for (ai = res; ai != NULL; ai = ai->ai_next)
		naddr++;
	for (ai = res; ai != NULL; ai = ai->ai_next, naddr--) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
		    sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
			(void)snprintf(addr, sizeof(addr), "?");
		now = now_ms();
		left = deadline - now;
		if (left <= 0) {
			if (err->len > 0)
				buf_addstr(err, "; ");
			buf_addf(err, "connection to %s port %d timed out",
			    addr, t->port);
			ntimeout++;
			ntried++;
			break;
		}
		/* Give each address a fair share (at least 5 s) so that one
		 * black-holed address cannot eat the whole deadline. */
		slice = left / naddr;
		if (slice < MIN_ATTEMPT_MS)
			slice = MIN_ATTEMPT_MS;
		attempt = now + (slice < left ? slice : left);
		ntried++;

		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd == -1) {
			note_failure(err, addr, t->port, errno);
			continue;
		}
		if (src != NULL &&
		    bind(fd, src->ai_addr, src->ai_addrlen) == -1) {
			*le = LE_CONFIG;
			buf_reset(err);
			buf_addf(err, "cannot use source_ip '%s': %s",
			    t->source_ip, strerror(errno));
			close(fd);
			fd = -1;
			break;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    ((errno == EINPROGRESS || errno == EINTR) &&
		    wait_connect(fd, attempt) == 0))
			break;	/* connected */
		e = errno;
		close(fd);
		fd = -1;
		if (e == ETIMEDOUT)
			ntimeout++;
		note_failure(err, addr, t->port, e);
	}

	if (fd != -1) {
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
			    sizeof(on));
		buf_reset(err);
		buf_addstr(connected, addr);
	} else if (*le == LE_NONE)
		*le = ntried > 0 && ntimeout == ntried ? LE_TIMEOUT :
		    LE_CONNECT;
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
