/*
 * tlsprobe -- connect to HOST PORT, run tls_handshake() and say what
 * happened; for tests/tls-certs.bats.
 *
 *   tlsprobe HOST PORT [--trust F] [--crl F] [--host NAME]
 *       [--fingerprint X] [--priorities P] [--certcheck 0]
 *       [--cert F --key F] [--timeout SECS] [--describe] [--send TEXT]
 *       [--read N] [--cb]
 *
 * HOST/PORT are where to connect; --host is the name to verify and send
 * as SNI (default HOST).  Prints "ok VERSION" and exits 0, or
 * "error: REASON" and exits 1 (2 for usage or connect errors).
 * --describe prints tls_describe() after "ok"; --send writes TEXT and a
 * CRLF over the session, then says "sent"; --cb prints the channel
 * binding type and its bytes in hex ("channel binding tls-exporter 52a1...").
 * --read N reads at most N lines ("got LINE" each; at the end of the
 * stream "eof: " and tls_last_error()).  Then "client certificate sent" or
 * "... not sent".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "iobuf.h"
#include "net.h"
#include "tls.h"
#include "util.h"

static void	usage(void);
static void	read_lines(struct iobuf *, struct tls *, int, long long);

static void
usage(void)
{
	fputs("usage: tlsprobe HOST PORT [--trust F] [--crl F] [--host NAME] "
	    "[--fingerprint X]\n\t[--priorities P] [--certcheck 0] "
	    "[--cert F --key F] [--timeout SECS]\n\t[--describe] "
	    "[--send TEXT] [--read N] [--cb]\n", stderr);
	exit(2);
}

/* Read at most `max` lines: "got LINE" each, then how the stream ended
 * if it did. */
static void
read_lines(struct iobuf *io, struct tls *t, int max, long long deadline)
{
	const char	*line;
	size_t		 len;
	enum io_result	 ior = IO_OK;

	while (max-- > 0) {
		ior = iobuf_getline(io, &line, &len, 1000, deadline);
		if (ior != IO_OK)
			break;
		printf("got %.*s\n", (int)len, line);
	}
	if (ior == IO_EOF)
		printf("eof: %s\n", tls_last_error(t));
	else if (ior == IO_TIMEOUT)
		printf("read timeout\n");
	else if (ior != IO_OK)
		printf("read error: %s\n", tls_last_error(t));
}

int
main(int argc, char **argv)
{
	struct net_target	 nt;
	struct tls_params	 tp;
	struct buf		 err = BUF_INIT, conn = BUF_INIT, out = BUF_INIT;
	struct iobuf		 io;
	struct tls		*t;
	enum local_err		 le;
	const char		*send = NULL, *cbtype;
	long long		 deadline;
	long			 secs = 10;
	char			*end;
	int			 i, fd, describe = 0, cb = 0, rc = 0, readn = 0;

	if (argc < 3)
		usage();
	memset(&nt, 0, sizeof(nt));
	memset(&tp, 0, sizeof(tp));
	nt.host = argv[1];
	nt.port = (int)strtol(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0' || nt.port <= 0 ||
	    nt.port > 65535)
		usage();
	tp.host = argv[1];
	tp.certcheck = 1;
	for (i = 3; i < argc; i++) {
		const char	*o = argv[i];

		if (strcmp(o, "--describe") == 0) {
			describe = 1;
			continue;
		}
		if (strcmp(o, "--cb") == 0) {
			cb = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(o, "--trust") == 0)
			tp.trust_file = argv[++i];
		else if (strcmp(o, "--crl") == 0)
			tp.crl_file = argv[++i];
		else if (strcmp(o, "--host") == 0)
			tp.host = argv[++i];
		else if (strcmp(o, "--fingerprint") == 0)
			tp.fingerprint = argv[++i];
		else if (strcmp(o, "--priorities") == 0)
			tp.priorities = argv[++i];
		else if (strcmp(o, "--certcheck") == 0)
			tp.certcheck = strcmp(argv[++i], "0") != 0;
		else if (strcmp(o, "--cert") == 0)
			tp.cert_file = argv[++i];
		else if (strcmp(o, "--key") == 0)
			tp.key_file = argv[++i];
		else if (strcmp(o, "--read") == 0) {
			readn = (int)strtol(argv[++i], &end, 10);
			if (*end != '\0' || readn <= 0 || readn > 1000)
				usage();
		} else if (strcmp(o, "--send") == 0)
			send = argv[++i];
		else if (strcmp(o, "--timeout") == 0) {
			secs = strtol(argv[++i], &end, 10);
			if (*end != '\0' || secs <= 0 || secs > 600)
				usage();
		} else
			usage();
	}

	deadline = now_ms() + secs * 1000;
	fd = net_connect(&nt, deadline, &le, &err, &conn);
	if (fd == -1) {
		printf("connect error: %s\n", buf_str(&err));
		return 2;
	}
	iobuf_init(&io, fd);	/* makes the fd non-blocking */
	t = tls_new();
	if (tls_handshake(t, fd, &tp, deadline, &err) != 0) {
		printf("error: %s\n", buf_str(&err));
		rc = 1;
		goto done;
	}
	printf("ok %s\n", tls_version(t));
	if (describe) {
		tls_describe(t, &out);
		fputs(buf_str(&out), stdout);
	}
	if (cb) {
		buf_reset(&out);
		if (tls_channel_binding(t, &out, &cbtype) == 0) {
			printf("channel binding %s ", cbtype);
			for (size_t k = 0; k < out.len; k++)
				printf("%02x", (unsigned char)out.data[k]);
			printf("\n");
		} else
			printf("channel binding none\n");
	}
	(void)iobuf_set_ops(&io, &tls_io_ops, t);
	if (send != NULL) {
		iobuf_queuef(&io, "%s\r\n", send);
		if (iobuf_flush(&io, deadline) == IO_OK)
			printf("sent\n");
		else
			printf("send error: %s\n", tls_last_error(t));
	}
	if (readn > 0)
		read_lines(&io, t, readn, deadline);
	printf("client certificate %s\n", tls_client_cert_sent(t) ?
	    "sent" : "not sent");
	tls_bye(t, deadline);
done:
	tls_free(t);
	iobuf_release(&io);
	close(fd);
	buf_release(&err);
	buf_release(&conn);
	buf_release(&out);
	return rc;
}
