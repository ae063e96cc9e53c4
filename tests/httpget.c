/*
 * httpget -- one request through http.h's client, for tests/http.bats.
 *
 *   httpget URL [--trust F] [--fingerprint X] [--timeout SECS]
 *       [--step MS] [--cap BYTES] [--basic ID SECRET]
 *       [--form NAME VALUE]...
 *
 * With --form (one or more) it POSTs them with http_post_form(); without,
 * it GETs.  Prints "status N", "content-type: T" when there is one, and
 * "body: " followed by the body and a newline, then exits 0; or prints
 * the error line on stderr, prefixed "httpget: ", and exits 1 (2 for
 * usage).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "tls.h"
#include "util.h"

static void	usage(void) __attribute__((noreturn));
static long	number(const char *, long, long);

static void
usage(void)
{
	fputs("usage: httpget URL [--trust F] [--fingerprint X] "
	    "[--timeout SECS] [--step MS]\n\t[--cap BYTES] "
	    "[--basic ID SECRET] [--form NAME VALUE]...\n", stderr);
	exit(2);
}

static long
number(const char *s, long min, long max)
{
	char	*end;
	long	 v;

	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	struct tls_params	 tp;
	struct http_opts	 o;
	struct http_response	 r;
	struct buf		 form = BUF_INIT, err = BUF_INIT;
	long			 secs = 10;
	int			 i, rc, post = 0;

	if (argc < 2)
		usage();
	memset(&tp, 0, sizeof(tp));
	memset(&o, 0, sizeof(o));
	o.tls = &tp;
	o.body_max = 65536;
	for (i = 2; i < argc; i++) {
		const char	*a = argv[i];

		if (i + 1 >= argc)
			usage();
		if (strcmp(a, "--trust") == 0)
			tp.trust_file = argv[++i];
		else if (strcmp(a, "--fingerprint") == 0)
			tp.fingerprint = argv[++i];
		else if (strcmp(a, "--timeout") == 0)
			secs = number(argv[++i], 1, 600);
		else if (strcmp(a, "--step") == 0)
			o.step_ms = (int)number(argv[++i], 1, 600000);
		else if (strcmp(a, "--cap") == 0)
			o.body_max = (size_t)number(argv[++i], 0, 1L << 30);
		else if (strcmp(a, "--basic") == 0 && i + 2 < argc) {
			o.client_id = argv[++i];
			o.client_secret = argv[++i];
		} else if (strcmp(a, "--form") == 0 && i + 2 < argc) {
			http_form_add(&form, argv[i + 1], argv[i + 2]);
			i += 2;
			post = 1;
		} else
			usage();
	}
	o.deadline = now_ms() + secs * 1000;
	http_response_init(&r);
	if (post)
		rc = http_post_form(argv[1], &form, &o, &r, &err);
	else
		rc = http_get(argv[1], &o, &r, &err);
	buf_wipe(&form);
	if (rc == -1) {
		fprintf(stderr, "httpget: %s\n", buf_str(&err));
		buf_release(&err);
		return 1;
	}
	printf("status %d\n", r.status);
	if (r.content_type.len > 0)
		printf("content-type: %s\n", buf_str(&r.content_type));
	printf("body: ");
	fwrite(r.body.data != NULL ? r.body.data : "", 1, r.body.len, stdout);
	printf("\n");
	http_response_release(&r);
	buf_release(&err);
	return 0;
}
