#ifndef POSTIE_NET_H
#define POSTIE_NET_H

#include "buf.h"
#include "outcome.h"

struct net_target {
	const char	*host;		/* name or address literal */
	int		 port;
	const char	*socket;	/* unix socket path: host/port unused */
	const char	*source_ip;	/* bind here first, or NULL */
};

/*
 * Connect to every address of the host in turn (IPv6 and IPv4, in the
 * resolver's order) until one answers, each attempt bounded by the
 * deadline.  Sets TCP_NODELAY.  Returns the fd, or -1 with *le set
 * (LE_NOHOST when the name does not exist, LE_DNSTEMP, LE_CONNECT,
 * LE_TIMEOUT, LE_CONFIG for a bad source_ip) and a one-line reason in
 * `err` naming what was tried ("connection refused by 192.0.2.1 port 25").
 * `connected` receives the numeric address actually used.
 */
int	net_connect(const struct net_target *, long long deadline,
	    enum local_err *le, struct buf *err, struct buf *connected);

/*
 * The last bytes are written and no reply will be read: send FIN after
 * them (shutdown) and take in what the peer has already sent, so that the
 * close() that follows sends FIN, not a reset that could discard what is
 * still unsent.  Never waits.
 */
void	net_end_gently(int fd);

#endif
