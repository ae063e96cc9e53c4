/*
 * bench-floor - the least a client can do, for tests/bench.py's floor rows.
 *
 *   bench-floor handshake PORT CAFILE NAME
 *	connect to 127.0.0.1:PORT, do one verified TLS handshake with
 *	GnuTLS's defaults, read the greeting, send QUIT.  Its instruction
 *	count and peak RSS are what any GnuTLS client pays for one full
 *	handshake.
 *   bench-floor spool PORT DIR [CAFILE NAME] < MESSAGE
 *	copy stdin into a new file in DIR in 64 KiB writes (a spool, as a
 *	queue must keep one), then send it to 127.0.0.1:PORT as one
 *	pipelined EHLO, MAIL, RCPT, BDAT n LAST: with sendfile(2) in
 *	plain, with gnutls_record_send of 64 KiB reads over implicit TLS
 *	when CAFILE and NAME are given.  No canonicalisation: the bytes
 *	go as they came.
 *
 * Built by bench.py with cc and pkg-config; never part of the product.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#define BLOCK (64 * 1024)

static gnutls_session_t tls;
static int sock = -1;

static void
die(const char *what)
{
	fprintf(stderr, "bench-floor: %s\n", what);
	exit(1);
}

static void
tls_open(const char *cafile, const char *name)
{
	gnutls_certificate_credentials_t cred;

	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_certificate_set_x509_trust_file(cred, cafile,
						   GNUTLS_X509_FMT_PEM) <= 0)
		die("cannot load the trust file");
	if (gnutls_init(&tls, GNUTLS_CLIENT) < 0 ||
	    gnutls_set_default_priority(tls) < 0 ||
	    gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
	    gnutls_server_name_set(tls, GNUTLS_NAME_DNS, name,
				   strlen(name)) < 0)
		die("cannot set up TLS");
	gnutls_session_set_verify_cert(tls, name, 0);
	gnutls_transport_set_int(tls, sock);
	if (gnutls_handshake(tls) < 0)
		die("TLS handshake failed");
}

static void
connect_to(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	sa.sin_port = htons((unsigned short)atoi(port));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("cannot connect");
	/* As postie does: a TLS record smaller than the loopback MSS must
	 * not wait for the ACK of the one before it. */
	int on = 1;
	(void)setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static void
put(const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = tls ? gnutls_record_send(tls, s, n)
				: write(sock, s, n);
		if (w <= 0)
			die("write failed");
		s += w;
		n -= (size_t)w;
	}
}

/* Read until COUNT final reply lines ("nnn text") have arrived. */
static void
replies(int count)
{
	char buf[4096];
	size_t have = 0;

	while (count > 0) {
		ssize_t n = tls ? gnutls_record_recv(tls, buf + have,
						     sizeof buf - have - 1)
				: read(sock, buf + have, sizeof buf - have - 1);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0) {
			fprintf(stderr, "bench-floor: %s\n", n == 0 ?
				"connection closed" : gnutls_strerror((int)n));
			exit(1);
		}
		have += (size_t)n;
		buf[have] = '\0';
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n')) != NULL) {
			if (nl - line >= 4 && line[3] == ' ')
				count--;
			line = nl + 1;
		}
		have = strlen(line);
		memmove(buf, line, have);
	}
}

static off_t
spool(int out)
{
	static char block[BLOCK];
	off_t size = 0;
	ssize_t n;

	while ((n = read(0, block, sizeof block)) > 0) {
		if (write(out, block, (size_t)n) != n)
			die("cannot write the spool");
		size += n;
	}
	if (n < 0)
		die("cannot read stdin");
	return size;
}

static void
send_file(int fd, off_t size)
{
	static char block[BLOCK];
	off_t at = 0;

	while (at < size) {
		if (tls) {
			ssize_t n = pread(fd, block, sizeof block, at);
			if (n <= 0)
				die("cannot read the spool");
			put(block, (size_t)n);
			at += n;
		} else if (sendfile(sock, fd, &at, (size_t)(size - at)) <= 0) {
			die("sendfile failed");
		}
	}
}

static int
spool_and_send(char **argv, int argc)
{
	char path[4096], cmd[256];

	snprintf(path, sizeof path, "%s/floor-spool.%ld", argv[3],
		 (long)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		die("cannot create the spool file");
	off_t size = spool(fd);
	connect_to(argv[2]);
	if (argc == 6)
		tls_open(argv[4], argv[5]);
	replies(1);
	int n = snprintf(cmd, sizeof cmd,
			 "EHLO floor\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
			 "BDAT %lld LAST\r\n", (long long)size);
	put(cmd, (size_t)n);
	send_file(fd, size);
	replies(4);
	put("QUIT\r\n", 6);
	unlink(path);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "handshake") == 0) {
		connect_to(argv[2]);
		tls_open(argv[3], argv[4]);
		replies(1);
		put("QUIT\r\n", 6);
		replies(1);
		return 0;
	}
	if ((argc == 4 || argc == 6) && strcmp(argv[1], "spool") == 0)
		return spool_and_send(argv, argc);
	fprintf(stderr, "usage: bench-floor handshake PORT CAFILE NAME\n"
			"       bench-floor spool PORT DIR [CAFILE NAME]\n");
	return 2;
}
