/*
 * A main() for the fuzz harnesses when they are not built with libFuzzer
 * (the check programs of `make check`): runs every seed of the harness's
 * corpus, then a fixed number of pseudo-random mutations of them from a
 * fixed PRNG seed, so a run is deterministic and takes well under a
 * second.  Prints "N passed, 0 failed"; an invariant failure aborts, after
 * the input that caused it has been written to ./fuzz-NAME.crash.
 *
 *   fuzz_NAME              seeds from $TOP_SRCDIR/tests/fuzz/corpus/NAME
 *   fuzz_NAME FILE|DIR...  just these inputs (to replay a crash)
 *
 * FUZZ_ITERATIONS overrides the number of mutations (default 2000).
 * NAME is taken from the program's name (fuzz_NAME, lt-fuzz_NAME).
 */
#include "config.h"
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"

#define FUZZ_MAX_LEN	 65536
#define DEF_ITER	 2000

struct input {
	uint8_t	*p;
	size_t	 n;
};

static const char *name;
static char	 crash_path[PATH_MAX];
static const uint8_t *cur;
static size_t	 cur_n;
static unsigned long long rng;

static struct input *seeds;
static size_t	 nseeds;

static void	 save_input(void);
static void	 on_signal(int);
static void	 run_one(const uint8_t *, size_t);
static int	 load_file(const char *, int);
static int	 load_path(const char *, int);
static int	 cmp_str(const void *, const void *);
static unsigned long long next(void);
static size_t	 below(size_t);
static size_t	 mutate(uint8_t *, size_t);

static const char *const dict[] = {
	"\r\n", "\n", "\r", "\0", "\t", " ", ".", "..", "\r\n.\r\n",
	"\"", "\\", "<", ">", "@", ",", ":", ";", "(", ")", "[", "]",
	"=", "#", "-", "\r\n ", "\n\t", "\xc3\xa9", "\xff", "\x80",
	"250-", "250 ", "220 ", "550 5.1.1 ", "SIZE ", "AUTH PLAIN LOGIN",
	"STARTTLS", "To: ", "Cc: ", "Bcc: ", "From: ", "Resent-To: ",
	"From x@y Mon Jan  1 00:00:00 2024\n", "Subject: ",
	"account ", "defaults\n", "account default : ", "host ",
	"port ", "tls ", "auth ", "from ", "~/", "root: ", "default: ",
	"a@b", "\"a b\"@c", "<@r:x@y>", "x@[1.2.3.4]", "g: a@b, c@d;",
	"Name <root>", "undisclosed-recipients:;",
};

/* In a sanitizer build a report ends the process without a signal: the
 * runtime calls this back first (weak, so other builds link without it). */
void	__sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

static void
save_input(void)
{
	int	 fd;

	if (cur != NULL && crash_path[0] != '\0' &&
	    (fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1) {
		(void)!write(fd, cur, cur_n);
		(void)close(fd);
		(void)!write(2, "input written to ", 17);
		(void)!write(2, crash_path, strlen(crash_path));
		(void)!write(2, "\n", 1);
		cur = NULL;
	}
}

static void
on_signal(int sig)
{
	save_input();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Run the harness on an exact-size heap copy, so reading past the end is
 * caught by the sanitizers. */
static void
run_one(const uint8_t *p, size_t n)
{
	uint8_t	*copy;

	if ((copy = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	if (n > 0)
		memcpy(copy, p, n);
	cur = copy;
	cur_n = n;
	(void)LLVMFuzzerTestOneInput(copy, n);
	cur = NULL;
	free(copy);
}

static int
load_file(const char *path, int run)
{
	struct input	 in;
	struct stat	 st;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1) {
		fprintf(stderr, "fuzz_%s: cannot open '%s': %s\n", name, path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	in.n = st.st_size > FUZZ_MAX_LEN ? FUZZ_MAX_LEN : (size_t)st.st_size;
	if ((in.p = malloc(in.n > 0 ? in.n : 1)) == NULL)
		abort();
	if (in.n > 0 && ((r = read(fd, in.p, in.n)) < 0 ||
	    (size_t)r != in.n)) {
		fprintf(stderr, "fuzz_%s: cannot read '%s'\n", name, path);
		close(fd);
		free(in.p);
		return -1;
	}
	close(fd);
	if (run)
		run_one(in.p, in.n);
	if ((seeds = realloc(seeds, (nseeds + 1) * sizeof(*seeds))) == NULL)
		abort();
	seeds[nseeds++] = in;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every file of a directory in name order. */
static int
load_path(const char *path, int run)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		**names = NULL, full[PATH_MAX];
	size_t		 n = 0, i;
	int		 rc = 0, w;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "fuzz_%s: cannot open '%s': %s\n", name, path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(path, run);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof(*names))) == NULL ||
		    (names[n] = strdup(de->d_name)) == NULL)
			abort();
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		w = snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		if (w < 0 || (size_t)w >= sizeof(full) ||
		    load_file(full, run) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

/* xorshift64*: fixed seed, same sequence on every platform. */
static unsigned long long
next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static size_t
below(size_t n)
{
	return n == 0 ? 0 : (size_t)(next() % n);
}

/* Apply one to eight random edits to b[0..n) (room for FUZZ_MAX_LEN). */
static size_t
mutate(uint8_t *b, size_t n)
{
	const struct input *o;
	const char	*tok;
	size_t		 k, edits, pos, len, tl, op;

	edits = 1 + below(8);
	for (k = 0; k < edits; k++) {
		switch ((op = below(9))) {
		case 0:		/* flip a bit */
			if (n > 0)
				b[below(n)] ^= (uint8_t)(1u << below(8));
			break;
		case 1:		/* set a byte */
			if (n > 0)
				b[below(n)] = (uint8_t)next();
			break;
		case 2:		/* insert a byte */
		case 3:		/* insert a token */
			if (op == 2) {
				if (n < FUZZ_MAX_LEN) {
					pos = below(n + 1);
					memmove(b + pos + 1, b + pos, n - pos);
					b[pos] = (uint8_t)next();
					n++;
				}
				break;
			}
			tok = dict[below(sizeof(dict) / sizeof(dict[0]))];
			tl = tok[0] == '\0' ? 1 : strlen(tok);
			if (n + tl > FUZZ_MAX_LEN)
				break;
			pos = below(n + 1);
			memmove(b + pos + tl, b + pos, n - pos);
			memcpy(b + pos, tok, tl);
			n += tl;
			break;
		case 4:		/* delete a range */
			if (n > 0) {
				pos = below(n);
				len = 1 + below(n - pos < 16 ? n - pos : 16);
				memmove(b + pos, b + pos + len, n - pos - len);
				n -= len;
			}
			break;
		case 5:		/* duplicate a range */
			if (n > 0) {
				pos = below(n);
				len = 1 + below(n - pos);
				if (n + len > FUZZ_MAX_LEN)
					break;
				memmove(b + pos + len, b + pos, n - pos);
				n += len;
			}
			break;
		case 6:		/* splice in part of another seed */
			o = &seeds[below(nseeds)];
			if (o->n == 0)
				break;
			pos = below(o->n);
			len = 1 + below(o->n - pos);
			tl = below(n + 1);
			if (below(2) == 0) {	/* replace the tail */
				if (tl + len > FUZZ_MAX_LEN)
					break;
				memcpy(b + tl, o->p + pos, len);
				n = tl + len;
			} else {
				if (n + len > FUZZ_MAX_LEN)
					break;
				memmove(b + tl + len, b + tl, n - tl);
				memcpy(b + tl, o->p + pos, len);
				n += len;
			}
			break;
		case 7:		/* a line ending or NUL somewhere */
			if (n < FUZZ_MAX_LEN) {
				static const uint8_t le[] = "\r\n\0";
				pos = below(n + 1);
				memmove(b + pos + 1, b + pos, n - pos);
				b[pos] = le[below(3)];
				n++;
			}
			break;
		default:	/* truncate */
			n = below(n + 1);
			break;
		}
	}
	return n;
}

int
main(int argc, char *argv[])
{
	const char	*p, *top, *s;
	char		 dir[PATH_MAX];
	uint8_t		*b;
	unsigned long	 iter = DEF_ITER, i, ran;
	size_t		 n, k;
	int		 w;

	p = strrchr(argv[0], '/');
	p = p != NULL ? p + 1 : argv[0];
	if (strncmp(p, "lt-", 3) == 0)
		p += 3;
	name = strncmp(p, "fuzz_", 5) == 0 ? p + 5 : p;
	(void)snprintf(crash_path, sizeof(crash_path), "fuzz-%s.crash", name);
	signal(SIGABRT, on_signal);
	signal(SIGSEGV, on_signal);
	signal(SIGBUS, on_signal);
	signal(SIGFPE, on_signal);
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(save_input);

	if (argc > 1) {
		for (w = 1; w < argc; w++)
			if (load_path(argv[w], 1) == -1)
				return 1;
		printf("fuzz_%s: %zu passed, 0 failed\n", name, nseeds);
		return 0;
	}

	if ((top = getenv("TOP_SRCDIR")) == NULL || *top == '\0')
		top = ".";
	w = snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top, name);
	if (w < 0 || (size_t)w >= sizeof(dir))
		return 1;
	if (load_path(dir, 1) == -1 || nseeds == 0) {
		fprintf(stderr, "fuzz_%s: no seeds in '%s'\n", name, dir);
		return 1;
	}
	ran = nseeds;

	if ((s = getenv("FUZZ_ITERATIONS")) != NULL && *s != '\0')
		iter = strtoul(s, NULL, 10);
	rng = 0x9e3779b97f4a7c15ULL;
	for (p = name; *p != '\0'; p++)
		rng = (rng ^ (unsigned char)*p) * 0x100000001b3ULL;
	if (rng == 0)
		rng = 1;
	if ((b = malloc(FUZZ_MAX_LEN)) == NULL)
		abort();
	for (i = 0; i < iter; i++) {
		k = below(nseeds);
		n = seeds[k].n;
		if (n > 0)
			memcpy(b, seeds[k].p, n);
		n = mutate(b, n);
		run_one(b, n);
		ran++;
	}
	free(b);
	for (k = 0; k < nseeds; k++)
		free(seeds[k].p);
	free(seeds);
	printf("fuzz_%s: %lu passed, 0 failed\n", name, ran);
	return 0;
}
