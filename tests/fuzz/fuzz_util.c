/*
 * Helpers shared by the harnesses, linked in both builds.
 */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"

static char	 tmp_path[4096];
static int	 tmp_fd = -1;

static void
tmp_cleanup(void)
{
	if (tmp_fd != -1) {
		(void)unlink(tmp_path);
		(void)close(tmp_fd);
		tmp_fd = -1;
	}
}

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
	tmp_cleanup();
	abort();
}

const char *
fuzz_tmpfile(const uint8_t *data, size_t n)
{
	const char	*dir;
	size_t		 off;
	ssize_t		 w;
	int		 r;

	if (tmp_fd == -1) {
		if ((dir = getenv("TMPDIR")) == NULL || *dir == '\0')
			dir = "/tmp";
		r = snprintf(tmp_path, sizeof(tmp_path),
		    "%s/postie-fuzz.XXXXXX", dir);
		if (r < 0 || (size_t)r >= sizeof(tmp_path))
			fuzz_fail(__FILE__, __LINE__, "TMPDIR too long");
		if ((tmp_fd = mkstemp(tmp_path)) == -1) {
			fprintf(stderr, "mkstemp %s: %s\n", tmp_path,
			    strerror(errno));
			abort();
		}
		atexit(tmp_cleanup);
	}
	if (ftruncate(tmp_fd, 0) == -1)
		fuzz_fail(__FILE__, __LINE__, "ftruncate");
	for (off = 0; off < n; off += (size_t)w) {
		w = pwrite(tmp_fd, data + off, n - off, (off_t)off);
		if (w <= 0)
			fuzz_fail(__FILE__, __LINE__, "pwrite");
	}
	return tmp_path;
}
