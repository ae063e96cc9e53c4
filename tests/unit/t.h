#ifndef POSTIE_T_H
#define POSTIE_T_H

/*
 * A minimal unit-test harness: CHECK() records a failure with file and
 * line and carries on; t_done() prints "N passed, N failed" and returns
 * the exit status for automake's test driver (0 pass, 1 fail).
 */

#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond) do {						\
	if (cond)							\
		t_pass++;						\
	else {								\
		t_fail++;						\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
	}								\
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *t_g = (got), *t_w = (want);				\
	if (t_g != NULL && t_w != NULL && strcmp(t_g, t_w) == 0)	\
		t_pass++;						\
	else {								\
		t_fail++;						\
		fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n",	\
		    __FILE__, __LINE__, t_g ? t_g : "(null)",		\
		    t_w ? t_w : "(null)");				\
	}								\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long t_g = (long long)(got), t_w = (long long)(want);	\
	if (t_g == t_w)							\
		t_pass++;						\
	else {								\
		t_fail++;						\
		fprintf(stderr, "%s:%d: %s = %lld, want %lld\n",	\
		    __FILE__, __LINE__, #got, t_g, t_w);		\
	}								\
} while (0)

static int
t_done(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return t_fail == 0 ? 0 : 1;
}

#endif
