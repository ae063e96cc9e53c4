#ifndef POSTIE_FUZZ_H
#define POSTIE_FUZZ_H

/*
 * Fuzz harnesses: each tests/fuzz/fuzz_NAME.c defines the libFuzzer entry
 * point below for one parser of untrusted input and calls abort() when an
 * invariant of that parser's header does not hold.  They are built two
 * ways: with driver.c as check programs (seed corpus plus a fixed number
 * of deterministic mutations, any compiler), and by `make fuzz` with
 * clang -fsanitize=fuzzer for real fuzzing.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Abort with a message naming the invariant that failed. */
#define FUZZ_ASSERT(cond) do {						\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond);			\
} while (0)

void	fuzz_fail(const char *, int, const char *)
	    __attribute__((noreturn));

/* Write `n` bytes to a private temporary file (one per process, reused)
 * and return its path; for parsers that take a path. */
const char *fuzz_tmpfile(const uint8_t *, size_t);

#endif
